"""Every practice source rejects a file that repeats its key, in CSV and XLSX alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from reconcile.categories import SourceKind
from reconcile.db.tables import ExpectedClaim
from reconcile.demo import practice_data
from reconcile.demo.bai2_writer import (
    BaiAccount,
    BaiDetail,
    BaiFile,
    BaiGroup,
    write_bai2,
)
from reconcile.demo.tabular_writer import Sheet, write_csv, write_xlsx
from reconcile.ingest import MAX_PROBLEMS, ImportStatus
from reconcile.ingest.practice import SOURCES, importer, repeats
from reconcile.ingest.tabular.rows import CHUNK_ROWS
from reconcile.settings import SourceSettings
from tests.practice_factories import count_of, run_import, settings_with

DAY = dt.date(2024, 1, 1)
Rows = Callable[..., Iterator[dict[str, object]]]
GENERATORS: dict[SourceKind, Rows] = {
    SourceKind.CLAIMS: practice_data.claims,
    SourceKind.DEPOSITS: practice_data.deposits,
    SourceKind.PATIENT_PAYMENTS: practice_data.patient_payments,
    SourceKind.LEDGER: practice_data.ledger,
}


def _rows_repeating_a_key(kind: SourceKind) -> tuple[list[dict[str, object]], str]:
    """Five good rows whose fourth takes the key of the second."""
    key = SOURCES[kind].spec.key
    rows = list(GENERATORS[kind](count=5, seed=4, first_day=DAY))
    rows[3] = {**rows[3], key: rows[1][key]}
    return rows, key


def _write(kind: SourceKind, fmt: str, path: Path, rows: list[dict[str, object]],
           settings: SourceSettings | None = None) -> Path:  # fmt: skip
    source = SOURCES[kind].spec.source
    if fmt == "csv":
        write_csv(path=path, source=source, rows=rows, settings=settings)
        return path
    return write_xlsx(
        path=path,
        sheets=[Sheet("Data", source, rows, settings=settings or SourceSettings())],
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", list(GENERATORS))
def test_a_repeated_key_rejects_the_file(
    fresh_engine: Engine, tmp_path: Path, kind: SourceKind, fmt: str
) -> None:
    """The second row with a key is a problem naming the first; nothing loads."""
    rows, key = _rows_repeating_a_key(kind)
    path = _write(kind, fmt, tmp_path / f"data.{fmt}", rows)
    [outcome] = run_import(fresh_engine, kind, path)
    assert outcome.status is ImportStatus.REJECTED
    assert [p.located(path.name) for p in outcome.reason] == [
        f"data.{fmt}:5: {key}: repeats the {key} of line 3; each {key} may appear "
        "once in a file"
    ]
    written = SOURCES[kind].target
    assert count_of(fresh_engine, ExpectedClaim if written is None else written) == 0


@pytest.mark.parametrize("kind", list(GENERATORS))
def test_the_problem_names_the_files_own_header(
    fresh_engine: Engine, tmp_path: Path, kind: SourceKind
) -> None:
    """Under a column map the problem names the column as the file writes it."""
    rows, key = _rows_repeating_a_key(kind)
    source = SOURCES[kind].spec.source
    settings = SourceSettings(columns={key: "Our Id"})
    path = _write(kind, "csv", tmp_path / "mapped.csv", rows, settings)
    [outcome] = run_import(
        fresh_engine, kind, path, settings=settings_with({source: settings})
    )
    assert [(p.line, p.column) for p in outcome.reason] == [(5, "Our Id")]


def test_repeats_are_capped(fresh_engine: Engine, tmp_path: Path) -> None:
    """A file that repeats one key on every row lists MAX_PROBLEMS and stops."""
    rows = list(practice_data.deposits(count=1, seed=4, first_day=DAY)) * (
        MAX_PROBLEMS + 30
    )
    path = _write(SourceKind.DEPOSITS, "csv", tmp_path / "d.csv", rows)
    [outcome] = run_import(fresh_engine, SourceKind.DEPOSITS, path)
    assert len(outcome.reason) == MAX_PROBLEMS + 1
    assert outcome.reason[-1].reason.startswith(f"stopped after {MAX_PROBLEMS}")


def test_bai2_warnings_are_capped(fresh_engine: Engine, tmp_path: Path) -> None:
    """A bank file of prenotes loads with MAX_PROBLEMS warnings and a count."""
    prenotes = [
        BaiDetail(amount_cents=0, bank_reference=f"PN{n}")
        for n in range(MAX_PROBLEMS + 20)
    ]
    path = write_bai2(
        path=tmp_path / "b.bai",
        bai=BaiFile(
            sender="121000248",
            receiver="PRACTICE1",
            created_at=dt.datetime(2024, 3, 2, 6, 0, tzinfo=dt.UTC),
            groups=[
                BaiGroup(
                    as_of=dt.date(2024, 3, 1),
                    accounts=[BaiAccount("4411", details=prenotes)],
                )
            ],
        ),
    )
    [outcome] = run_import(fresh_engine, SourceKind.DEPOSITS, path)
    assert outcome.status is ImportStatus.LOADED
    assert len(outcome.warnings) == MAX_PROBLEMS + 2  # and "holds no deposits"
    assert outcome.warnings[MAX_PROBLEMS].reason == (
        f"20 more warnings like these (only {MAX_PROBLEMS} are listed)"
    )


@pytest.fixture
def queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stage tables the exact repeated-keys query ran on."""
    tables: list[str] = []
    real = importer.repeated_keys

    def spy(conn, table, **options):  # type: ignore[no-untyped-def]
        tables.append(table.name)
        return real(conn, table, **options)

    monkeypatch.setattr(importer, "repeated_keys", spy)
    return tables


@pytest.mark.parametrize("kind", list(GENERATORS))
def test_distinct_keys_skip_the_query_on_postgres(
    fresh_engine: Engine, tmp_path: Path, kind: SourceKind, queries: list[str]
) -> None:
    """On PostgreSQL keys are screened while staging: all different, no GROUP BY
    over the stage. SQLite runs the query."""
    rows = list(GENERATORS[kind](count=5, seed=4, first_day=DAY))
    path = _write(kind, "csv", tmp_path / "data.csv", rows)
    [outcome] = run_import(fresh_engine, kind, path)
    assert outcome.status is ImportStatus.LOADED
    postgres = fresh_engine.dialect.name == "postgresql"
    assert queries == ([] if postgres else [f"stage_{SOURCES[kind].spec.source}"])


@pytest.mark.postgres
@pytest.mark.parametrize("kind", list(GENERATORS))
def test_keys_sharing_a_hash_are_not_repeats(
    fresh_engine: Engine,
    tmp_path: Path,
    kind: SourceKind,
    queries: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the screen sees a hash twice the exact query decides: different keys
    with one hash load."""
    monkeypatch.setattr(repeats, "hash", lambda key: 0, raising=False)
    rows = list(GENERATORS[kind](count=5, seed=4, first_day=DAY))
    path = _write(kind, "csv", tmp_path / "data.csv", rows)
    [outcome] = run_import(fresh_engine, kind, path)
    assert outcome.status is ImportStatus.LOADED
    assert queries == [f"stage_{SOURCES[kind].spec.source}"]


def test_a_repeat_chunks_later_names_its_first_line(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    """A claim repeated thousands of rows after its first line (in another chunk)
    is found and placed like any other."""
    rows = list(practice_data.claims(count=3 * CHUNK_ROWS, seed=4, first_day=DAY))
    rows[-1] = {**rows[-1], "claim_id": rows[2]["claim_id"]}
    path = _write(SourceKind.CLAIMS, "csv", tmp_path / "data.csv", rows)
    [outcome] = run_import(fresh_engine, SourceKind.CLAIMS, path)
    assert [str(p) for p in outcome.reason] == [
        f"line {3 * CHUNK_ROWS + 1}: claim_id: repeats the claim_id of line 4; each "
        "claim_id may appear once in a file"
    ]
    assert count_of(fresh_engine, ExpectedClaim) == 0
