"""Shared helpers for 835 load tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, func, select

from reconcile.categories import SourceKind
from reconcile.clock import FixedClock
from reconcile.db.tables import (
    X12Adjustment,
    X12ClaimPayment,
    X12Payment,
    X12ProviderAdjustment,
    X12ServiceLine,
)
from reconcile.ingest import FileOutcome
from reconcile.ingest.driver import import_files
from reconcile.ingest.x12.load import era_checker, era_loader
from reconcile.ingest.x12.rows import TABLES

CLOCK = FixedClock(dt.datetime(2024, 4, 1, 12, tzinfo=dt.UTC))
MODELS = {
    "payments": X12Payment,
    "claims": X12ClaimPayment,
    "service_lines": X12ServiceLine,
    "adjustments": X12Adjustment,
    "provider_adjustments": X12ProviderAdjustment,
}


def import_era(
    engine: Engine, *paths: Path, allow_unbalanced: bool = False, check: bool = False
) -> list[FileOutcome]:
    """Run the import driver with the 835 loader, as the CLI does."""
    return import_files(
        engine,
        kind=SourceKind.ERA,
        paths=list(paths),
        clock=CLOCK,
        load=era_loader(allow_unbalanced=allow_unbalanced),
        check=era_checker(allow_unbalanced=allow_unbalanced),
        check_only=check,
        tables=TABLES,
    )


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in each 835 table, by count key."""
    with engine.connect() as conn:
        return {
            key: conn.execute(select(func.count()).select_from(model)).scalar_one()
            for key, model in MODELS.items()
        }
