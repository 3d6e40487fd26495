"""Builders for practice-data tests: files on disk, imports, and reading back rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from reconcile.categories import SourceKind
from reconcile.clock import FixedClock
from reconcile.ingest import FileOutcome
from reconcile.ingest.driver import import_files
from reconcile.ingest.practice import practice_importer
from reconcile.settings import Settings

CLOCK = FixedClock(dt.datetime(2024, 4, 1, 12, tzinfo=dt.UTC))

CLAIMS_HEADER = (
    "claim_id,payer_id,payer_name,patient_account,provider_npi,service_date,"
    "billed_amount,expected_amount,expected_patient_amount,submitted_on"
)
VALID_NPI = "1234567893"


def claim_line(
    *,
    claim_id: str = "C1",
    payer_id: str = "AETNA",
    payer_name: str = "Aetna",
    patient_account: str = "PA1",
    provider_npi: str = VALID_NPI,
    service_date: str = "2024-03-01",
    billed: str = "100.00",
    expected: str = "80.00",
    expected_patient: str = "20.00",
    submitted_on: str = "2024-03-02",
) -> str:
    """One canonical claims CSV line."""
    return ",".join(
        (claim_id, payer_id, payer_name, patient_account, provider_npi, service_date,
         billed, expected, expected_patient, submitted_on)
    )  # fmt: skip


def write_lines(path: Path, header: str, lines: Sequence[str]) -> Path:
    """Write a CSV file from a header and lines (UTF-8, LF)."""
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def run_import(
    engine: Engine,
    kind: SourceKind,
    *paths: Path,
    settings: Settings | None = None,
    sheet: str | None = None,
    check_only: bool = False,
) -> list[FileOutcome]:
    """Import files of one practice source the way the CLI does."""
    importer = practice_importer(
        kind=kind, settings=settings or Settings(), sheet=sheet
    )
    return import_files(
        engine,
        kind=kind,
        paths=list(paths),
        clock=CLOCK,
        load=importer.load,
        check=importer.check,
        check_only=check_only,
        tables=importer.tables,
        identify=importer.identify,
    )


def rows_of(
    engine: Engine, table: Any, *columns: str, order_by: str = "id"
) -> list[tuple[Any, ...]]:
    """Read some columns of a table, in ``order_by`` order."""
    t = table.__table__
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(*(t.c[c] for c in columns)).order_by(t.c[order_by])
            )
        ]


def count_of(engine: Engine, table: Any) -> int:
    """Count a table's rows."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def settings_with(sources: Mapping[str, Any]) -> Settings:
    """Default settings with some sources replaced."""
    base = Settings()
    return replace(base, sources={**base.sources, **sources})
