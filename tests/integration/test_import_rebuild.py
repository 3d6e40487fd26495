"""Large loads rebuild indexes (and PostgreSQL foreign keys) once; nothing drifts."""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, exc, func, insert, inspect, select

from reconcile.categories import SourceKind
from reconcile.db.schema import alembic_config
from reconcile.db.tables import ExpectedClaim, ExpectedClaimVersion, LedgerEntry
from reconcile.ingest import ImportStatus, rebuild
from reconcile.ingest.practice import claims
from reconcile.ingest.practice.staging import table_of
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
    """Each table's indexes, foreign keys, unique constraints and primary key (names
    and columns) and its columns' nullability."""
    found = inspect(engine)
    schema: dict[str, tuple[object, ...]] = {}
    for table in _TABLES:
        primary = found.get_pk_constraint(table)
        schema[table] = (
            sorted(
                (str(i["name"]), tuple(i["column_names"]), bool(i["unique"]))
                for i in found.get_indexes(table)
            ),
            sorted(
                (str(k["name"]), tuple(k["constrained_columns"]), k["referred_table"])
                for k in found.get_foreign_keys(table)
            ),
            sorted(
                (str(u["name"]), tuple(u["column_names"]))
                for u in found.get_unique_constraints(table)
            ),
            (str(primary["name"]), tuple(primary["constrained_columns"])),
            sorted(
                (str(c["name"]), bool(c["nullable"])) for c in found.get_columns(table)
            ),
        )
    return schema


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rebuild from the first row, so small files take the large-load path."""
    monkeypatch.setattr(rebuild, "REBUILD_FROM_ROWS", 1)


def _spy(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """Record the table of every call to ``rebuild.<name>(conn, table)``."""
    names: list[str] = []
    original = getattr(rebuild, name)

    def spy(conn, table):  # type: ignore[no-untyped-def]
        names.append(table.name)
        return original(conn, table)

    monkeypatch.setattr(rebuild, name, spy)
    return names


@pytest.fixture
def dropped(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables whose indexes a load dropped and built again, in order."""
    return _spy(monkeypatch, "_indexes_rebuilt")


@pytest.fixture
def rechecked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables whose unique keys a load dropped and added back, in order."""
    return _spy(monkeypatch, "_unique_keys_rechecked")


def _claim_rows(engine: Engine) -> list[tuple[object, ...]]:
    """Each claim's id, claim id, version and its version's id and line."""
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                select(
                    ExpectedClaim.id,
                    ExpectedClaim.claim_id,
                    ExpectedClaim.version,
                    ExpectedClaimVersion.id,
                    ExpectedClaimVersion.line_number,
                )
                .join(
                    ExpectedClaimVersion,
                    ExpectedClaimVersion.id == ExpectedClaim.version_id,
                )
                .order_by(ExpectedClaim.id)
            )
        ]


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

    def test_claim_keys_are_rebuilt_on_postgres_only(
        self, fresh_engine: Engine, tmp_path: Path, rechecked: list[str]
    ) -> None:
        """PostgreSQL drops both claim tables' unique keys for the load; SQLite
        cannot, and keeps them."""
        path = write_lines(
            tmp_path / "c.csv",
            CLAIMS_HEADER,
            [claim_line(claim_id=f"C{n}") for n in range(5)],
        )
        run_import(fresh_engine, SourceKind.CLAIMS, path)
        expected = ["expected_claim_version", "expected_claim"]
        assert rechecked == (
            expected if fresh_engine.dialect.name == "postgresql" else []
        )

    def test_new_claims_are_numbered_in_file_order_after_a_rebuild(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """A first load (every claim new) and a later mixed one both number new
        claims in version order, each pointing at its own version."""
        first = write_lines(
            tmp_path / "a.csv",
            CLAIMS_HEADER,
            [claim_line(claim_id=f"C{n}") for n in range(4)],
        )
        run_import(fresh_engine, SourceKind.CLAIMS, first)
        assert _claim_rows(fresh_engine) == [
            (n + 1, f"C{n}", 1, n + 1, n + 2) for n in range(4)
        ]
        second = write_lines(
            tmp_path / "b.csv",
            CLAIMS_HEADER,
            [
                claim_line(claim_id="N1"),
                claim_line(claim_id="C1"),  # unchanged: skipped
                claim_line(claim_id="C2", expected="1.00"),  # changed: version 2
                claim_line(claim_id="N2"),
                *(claim_line(claim_id=f"N{n}") for n in range(3, 9)),
            ],
        )
        [outcome] = run_import(fresh_engine, SourceKind.CLAIMS, second)
        assert outcome.counts == {"claims": 9}
        rows = _claim_rows(fresh_engine)
        # Versions of b.csv: ids 5 (line 2) to 14 (line 11), the unchanged one a gap.
        assert rows[2] == (3, "C2", 2, 7, 4)
        assert rows[4:] == [
            (5, "N1", 1, 5, 2),
            (6, "N2", 1, 8, 5),
            *((n + 4, f"N{n}", 1, n + 6, n + 3) for n in range(3, 9)),
        ]

    def test_a_failed_rebuilding_load_restores_everything(
        self, fresh_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An error after the drop rolls back the rows and brings the indexes back."""
        before = _schema(fresh_engine)
        real = claims.rebuilt

        @contextmanager
        def failing(conn, table, **options):  # type: ignore[no-untyped-def]
            with real(conn, table, **options):
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
@pytest.mark.parametrize(
    ("ids", "claim_ids"), [((1, 2), ("C1", "C1")), ((1, 1), ("C1", "C2"))],
    ids=["unique claim_id", "primary key"],
)  # fmt: skip
def test_a_key_broken_in_the_load_rolls_everything_back(
    fresh_engine: Engine, ids: tuple[int, int], claim_ids: tuple[str, str]
) -> None:
    """A row that breaks a unique key dropped for the load fails when the key comes
    back, and the rollback restores the schema with no row written."""
    before = _schema(fresh_engine)
    claims_table = table_of(ExpectedClaim)
    rows = [
        {"id": id_, "claim_id": claim_id, "version": 1, "version_id": 1,
         "payer_id": "P", "service_on": dt.date(2024, 3, 1), "billed_cents": 1,
         "expected_cents": 1, "submitted_on": dt.date(2024, 3, 2)}
        for id_, claim_id in zip(ids, claim_ids, strict=True)
    ]  # fmt: skip
    with (
        pytest.raises(exc.IntegrityError),
        fresh_engine.begin() as conn,
        rebuild.rebuilt(conn, claims_table, rebuild=True, unique=True),
    ):
        conn.execute(insert(claims_table), rows)
    assert _schema(fresh_engine) == before
    assert count_of(fresh_engine, ExpectedClaim) == 0


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
