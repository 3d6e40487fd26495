"""The shared import loop: whole files or nothing, idempotent, rejects recorded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, func, insert, select

from reconcile.categories import SourceKind, SourceStatus
from reconcile.clock import FixedClock
from reconcile.db.bulk import copy_rows, reserve_ids, write_transaction
from reconcile.db.tables import BankDeposit, SourceFile
from reconcile.ingest import FileRejected, ImportStatus, LoadResult, Problem
from reconcile.ingest.driver import import_files

CLOCK = FixedClock(dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC))
COLUMNS = (
    "id",
    "source_file_id",
    "line_number",
    "deposit_id",
    "deposit_on",
    "amount_cents",
)


def _load(conn: Connection, path: Path, file_id: int) -> LoadResult:
    """A toy source: one deposit per line 'id,amount'; 'BAD' anywhere rejects."""
    lines = path.read_text().splitlines()
    first = reserve_ids(conn, "bank_deposit", len(lines))
    rows = []
    for number, line in enumerate(lines, start=1):
        deposit_id, amount = line.split(",")
        rows.append(
            (
                first + number - 1,
                file_id,
                number,
                deposit_id,
                dt.date(2024, 3, 1),
                int(amount),
            )
        )
    copy_rows(conn, "bank_deposit", COLUMNS, rows)
    problems = [
        Problem("bad row", line=n) for n, line in enumerate(lines, 1) if "BAD" in line
    ]
    if problems:
        raise FileRejected(problems)
    return LoadResult(counts={"deposits": len(rows)})


def _check(path: Path) -> LoadResult:
    if "BAD" in path.read_text():
        raise FileRejected([Problem("bad row")])
    return LoadResult(counts={"deposits": len(path.read_text().splitlines())})


def _run(engine: Engine, *paths: Path, check_only: bool = False):  # type: ignore[no-untyped-def]
    return import_files(
        engine, kind=SourceKind.DEPOSITS, paths=list(paths), clock=CLOCK,
        load=_load, check=_check, check_only=check_only, tables=["bank_deposit"],
    )  # fmt: skip


def _count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


class TestImportDriver:
    def test_loads_then_reports_already_imported(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """A file loads once; the same bytes again are already imported."""
        good = tmp_path / "a.csv"
        good.write_text("D1,100\nD2,250\n")
        [first] = _run(fresh_engine, good)
        assert first.status is ImportStatus.LOADED
        assert first.counts == {"deposits": 2}
        [again] = _run(fresh_engine, good)
        assert again.status is ImportStatus.ALREADY_IMPORTED
        assert _count(fresh_engine, BankDeposit) == 2

    def test_rejected_file_leaves_nothing_and_others_load(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """A bad file is rolled back whole and recorded; the next file still loads."""
        bad = tmp_path / "bad.csv"
        bad.write_text("D1,100\nBAD,5\n")
        good = tmp_path / "good.csv"
        good.write_text("D3,300\n")
        outcomes = _run(fresh_engine, bad, good)
        assert [o.status for o in outcomes] == [
            ImportStatus.REJECTED,
            ImportStatus.LOADED,
        ]
        assert outcomes[0].reason[0].line == 2
        assert _count(fresh_engine, BankDeposit) == 1
        with fresh_engine.connect() as conn:
            statuses = conn.execute(select(SourceFile.name, SourceFile.status)).all()
        assert ("bad.csv", SourceStatus.REJECTED) in statuses
        # A rejected file may be imported again (it is not "already imported").
        [retry] = _run(fresh_engine, bad)
        assert retry.status is ImportStatus.REJECTED

    def test_check_only_writes_nothing(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """--check validates and reports without touching the database."""
        good = tmp_path / "a.csv"
        good.write_text("D1,100\n")
        [outcome] = _run(fresh_engine, good, check_only=True)
        assert outcome.status is ImportStatus.VALID
        assert _count(fresh_engine, SourceFile) == 0

    def test_missing_files_and_folders(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Folders expand to their files; a missing path is a rejected outcome."""
        folder = tmp_path / "in"
        folder.mkdir()
        (folder / "x.csv").write_text("D9,1\n")
        (folder / ".hidden").write_text("BAD\n")
        outcomes = _run(fresh_engine, folder, tmp_path / "nope.csv")
        assert [o.status for o in outcomes] == [
            ImportStatus.LOADED,
            ImportStatus.REJECTED,
        ]
        assert outcomes[1].reason[0].reason == "the file does not exist"

    def test_outcome_json_shape(self, fresh_engine: Engine, tmp_path: Path) -> None:
        """The JSON object has exactly the DESIGN.md keys."""
        bad = tmp_path / "bad.csv"
        bad.write_text("BAD,1\n")
        [outcome] = _run(fresh_engine, bad)
        data = outcome.to_json()
        assert set(data) == {
            "file",
            "status",
            "reason",
            "counts",
            "skipped",
            "warnings",
        }
        assert data["reason"] == [{"place": "line 1", "line": 1, "reason": "bad row"}]


@pytest.mark.postgres
def test_copy_rows_uses_copy_on_postgres(fresh_engine: Engine) -> None:
    """On PostgreSQL copy_rows streams through COPY and ids are reserved in a block."""
    with write_transaction(fresh_engine) as conn:
        file_id = reserve_ids(conn, "source_file", 1)
        conn.exec_driver_sql(
            "INSERT INTO source_file (id, kind, name, path, sha256, size_bytes, status,"
            " imported_at, counts, skipped, warnings, allowed_unbalanced) VALUES"
            f" ({file_id}, 'deposits', 'x', 'x', 'c', 1, 'loaded', now(), '{{}}', 0,"
            " '[]', false)"
        )
        first = reserve_ids(conn, "bank_deposit", 3)
        rows = [
            (first + i, file_id, i, f"D{i}", dt.date(2024, 1, 1), i) for i in range(3)
        ]
        assert copy_rows(conn, "bank_deposit", COLUMNS, rows) == 3
        assert reserve_ids(conn, "bank_deposit", 1) == first + 3


@pytest.mark.parametrize("count", [0, 1, 165, 166, 167, 5_000, 5_001, 12_345])
def test_copy_rows_writes_every_row_once(fresh_engine: Engine, count: int) -> None:
    """Whatever the count (on SQLite: 166 rows of six values per INSERT, chunks of
    5,000, a remainder), every row lands once with its own values."""
    with write_transaction(fresh_engine) as conn:
        file_id = conn.execute(
            insert(SourceFile)
            .values(
                kind=SourceKind.DEPOSITS, name="d.csv", path="d.csv", sha256="h",
                size_bytes=1, status=SourceStatus.LOADED, imported_at=CLOCK.now(),
                counts={}, skipped=0, warnings=[], allowed_unbalanced=False,
            )
            .returning(SourceFile.id)
        ).scalar_one()  # fmt: skip
        first = reserve_ids(conn, "bank_deposit", max(count, 1))
        rows = [
            (first + n, file_id, n + 1, f"D{n}", dt.date(2024, 3, 1 + n % 28), n * 7)
            for n in range(count)
        ]
        assert copy_rows(conn, "bank_deposit", COLUMNS, rows) == count
    d = BankDeposit
    with fresh_engine.connect() as conn:
        stored = conn.execute(
            select(
                d.id, d.source_file_id, d.line_number, d.deposit_id, d.deposit_on,
                d.amount_cents,
            ).order_by(d.id)
        ).all()  # fmt: skip
    assert [tuple(row) for row in stored] == rows
