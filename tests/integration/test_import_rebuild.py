"""Large loads rebuild indexes (and PostgreSQL foreign keys) once; nothing drifts."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, func, inspect, select

from reconcile.categories import SourceKind
from reconcile.db.schema import alembic_config
from reconcile.db.tables import ExpectedClaim, ExpectedClaimVersion, LedgerEntry
from reconcile.ingest import ImportStatus, rebuild
from reconcile.ingest.practice import claims
from reconcile.ingest.x12 import load as era_load
from tests.integration.ingest.era_helpers import import_era, row_counts
from tests.practice_factories import (
    CLAIMS_HEADER,
    claim_line,
    count_of,
    run_import,
    write_lines,
)
from tests.x12_scenarios import SCENARIOS

_TABLES = (
    "expected_claim",
    "expected_claim_version",
    "ledger_entry",
    "x12_payment",
    "x12_claim_payment",
    "x12_service_line",
    "x12_adjustment",
)


def _schema(engine: Engine) -> dict[str, tuple[object, ...]]:
    found = inspect(engine)
    return {
        table: (
            sorted(str(i["name"]) for i in found.get_indexes(table)),
            sorted(str(k["name"]) for k in found.get_foreign_keys(table)),
        )
        for table in _TABLES
    }


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rebuild from the first row, so small files take the large-load path."""
    monkeypatch.setattr(rebuild, "REBUILD_FROM_ROWS", 1)


@pytest.fixture
def dropped(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables whose indexes a load dropped and built again, in order."""
    names: list[str] = []
    original = rebuild._indexes_rebuilt

    def spy(conn, table):  # type: ignore[no-untyped-def]
        names.append(table.name)
        return original(conn, table)

    monkeypatch.setattr(rebuild, "_indexes_rebuilt", spy)
    return names


@pytest.mark.usefixtures("small_threshold")
class TestRebuild:
    def test_first_claims_load_rebuilds_and_keeps_the_schema(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """After a rebuilding load the schema is the migrated one, to the name."""
        before = _schema(fresh_engine)
        path = write_lines(
            tmp_path / "c.csv",
            CLAIMS_HEADER,
            [claim_line(claim_id=f"C{n}") for n in range(20)],
        )
        [outcome] = run_import(fresh_engine, SourceKind.CLAIMS, path)
        assert outcome.counts == {"claims": 20}
        assert _schema(fresh_engine) == before
        with fresh_engine.connect() as connection:
            command.check(alembic_config(connection))

    def test_a_failed_rebuilding_load_restores_everything(
        self, fresh_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An error after the drop rolls back the rows and brings the indexes back."""
        before = _schema(fresh_engine)
        real = claims.rebuilt

        @contextmanager
        def failing(conn, table, *, rebuild):  # type: ignore[no-untyped-def]
            with real(conn, table, rebuild=rebuild):
                if table.name == "expected_claim":
                    raise RuntimeError("disk full")
                yield

        monkeypatch.setattr(claims, "rebuilt", failing)
        path = write_lines(tmp_path / "c.csv", CLAIMS_HEADER, [claim_line()])
        with pytest.raises(RuntimeError, match="disk full"):
            run_import(fresh_engine, SourceKind.CLAIMS, path)
        assert _schema(fresh_engine) == before
        assert count_of(fresh_engine, ExpectedClaimVersion) == 0
        assert count_of(fresh_engine, ExpectedClaim) == 0

    def test_ledger_load_rebuilds_too(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Keyed sources take the same path and keep their schema."""
        before = _schema(fresh_engine)
        path = write_lines(
            tmp_path / "l.csv",
            "entry_id,posted_on,kind,amount,payer_id",
            [f"E{n},2024-03-01,insurance_payment,{n}.00,MCR" for n in range(30)],
        )
        [outcome] = run_import(fresh_engine, SourceKind.LEDGER, path)
        assert outcome.status is ImportStatus.LOADED
        assert count_of(fresh_engine, LedgerEntry) == 30
        assert _schema(fresh_engine) == before

    def test_a_small_load_into_a_big_table_keeps_the_indexes(
        self, fresh_engine: Engine, tmp_path: Path, dropped: list[str]
    ) -> None:
        """Only a load at least doubling the table rebuilds."""
        first = write_lines(
            tmp_path / "a.csv",
            CLAIMS_HEADER,
            [claim_line(claim_id=f"C{n}") for n in range(10)],
        )
        run_import(fresh_engine, SourceKind.CLAIMS, first)
        dropped.clear()
        second = write_lines(
            tmp_path / "b.csv", CLAIMS_HEADER, [claim_line(claim_id="X")]
        )
        run_import(fresh_engine, SourceKind.CLAIMS, second)
        assert dropped == []


@pytest.mark.usefixtures("small_threshold")
class TestRebuild835:
    """An 835 that at least doubles the claim table (guessed from its size) loads
    without the claim, line and CAS tables' secondary indexes and foreign keys."""

    @pytest.fixture(autouse=True)
    def _bytes_per_claim(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # Scenario claims are short: guess one per 200 bytes (4,273 bytes: 21 for
        # the six of several_interchanges; interest_l6's one claim: 3, not > 6).
        monkeypatch.setattr(era_load, "BYTES_PER_CLAIM", 200)

    def test_first_load_rebuilds_and_keeps_the_schema(
        self, fresh_engine: Engine, dropped: list[str]
    ) -> None:
        """Every row lands, and the schema afterwards is the migrated one."""
        before = _schema(fresh_engine)
        [outcome] = import_era(fresh_engine, SCENARIOS["ach_two_claims"].path)
        assert outcome.status is ImportStatus.LOADED
        assert dropped == ["x12_claim_payment", "x12_service_line", "x12_adjustment"]
        assert row_counts(fresh_engine) == {
            key: outcome.counts.get(key, 0) for key in row_counts(fresh_engine)
        }
        assert _schema(fresh_engine) == before
        with fresh_engine.connect() as connection:
            command.check(alembic_config(connection))

    def test_a_rejected_rebuilding_load_restores_everything(
        self, fresh_engine: Engine, tmp_path: Path, dropped: list[str]
    ) -> None:
        """A fault found after rows were written rolls back rows and drops alike."""
        before = _schema(fresh_engine)
        good = SCENARIOS["several_interchanges"].path
        bad = tmp_path / "bad.835"
        bad.write_text(good.read_text().replace("IEA*1*000000702", "IEA*1*1"))
        [outcome] = import_era(fresh_engine, bad)
        assert outcome.status is ImportStatus.REJECTED
        assert dropped  # the rebuilding path was taken
        assert _schema(fresh_engine) == before
        assert set(row_counts(fresh_engine).values()) == {0}

    def test_a_small_file_into_a_big_table_keeps_the_indexes(
        self, fresh_engine: Engine, dropped: list[str]
    ) -> None:
        """A file guessed smaller than the claims already loaded changes no index."""
        import_era(fresh_engine, SCENARIOS["several_interchanges"].path)
        dropped.clear()
        [outcome] = import_era(fresh_engine, SCENARIOS["interest_l6"].path)
        assert outcome.status is ImportStatus.LOADED
        assert dropped == []


@pytest.mark.postgres
@pytest.mark.usefixtures("small_threshold")
def test_tables_in_use_are_loaded_without_a_rebuild(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    """While a run reads the claims, a large load keeps the indexes and never waits."""
    path = write_lines(
        tmp_path / "c.csv",
        CLAIMS_HEADER,
        [claim_line(claim_id=f"C{n}") for n in range(9)],
    )
    outcomes: list[object] = []
    with fresh_engine.connect() as reader:
        reader.execute(select(func.count()).select_from(ExpectedClaim)).scalar_one()
        # The reader's transaction stays open: it holds its lock on expected_claim.
        worker = threading.Thread(
            target=lambda: outcomes.extend(
                run_import(fresh_engine, SourceKind.CLAIMS, path)
            )
        )
        worker.start()
        worker.join(timeout=60)
        waited = worker.is_alive()
        reader.rollback()
    worker.join()
    assert not waited
    [outcome] = outcomes
    assert outcome.counts == {"claims": 9}  # type: ignore[attr-defined]
    assert _schema(fresh_engine)["expected_claim"][0]  # indexes still there
