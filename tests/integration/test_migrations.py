"""Alembic owns the schema: one head, reversible, no drift, never silent upgrades."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, insert, inspect, select, text
from sqlalchemy.orm import Session

from reconcile.categories import Pairing, SourceKind, SourceStatus
from reconcile.db import schema
from reconcile.db.engine import make_engine
from reconcile.db.schema import (
    SchemaRevisionError,
    alembic_config,
    current_revision,
    downgrade,
    ensure_schema,
    head_revision,
    upgrade,
)
from reconcile.db.tables import AuditEvent, ReconException, ReconMatch, SourceFile
from reconcile.queues.actions import decide_exception
from tests.factories import make_claim, make_claim_payment, make_payment, make_run
from tests.helpers import run

NOW = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)
MARCH_4 = dt.date(2024, 3, 4)


def _add_file(
    engine: Engine,
    sha: str = "a" * 64,
    *,
    kind: SourceKind = SourceKind.CLAIMS,
    sheet: str = "",
) -> None:
    with Session(engine) as db, db.begin():
        db.add(
            SourceFile(
                kind=kind,
                name="claims.csv",
                path="/tmp/claims.csv",
                sha256=sha,
                sheet=sheet,
                size_bytes=10,
                status=SourceStatus.LOADED,
                imported_at=NOW,
            )
        )


def _add_file_before_0003(engine: Engine, sha: str) -> None:
    """A loaded file as revisions before 0003 wrote it (no ``sheet`` column)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO source_file (kind, name, path, sha256, size_bytes, "
                "status, imported_at, counts, skipped, warnings, allowed_unbalanced) "
                "VALUES ('claims', 'c.csv', '/tmp/c.csv', :sha, 1, 'loaded', "
                ":at, '{}', 0, '[]', false)"
            ),
            {"sha": sha, "at": NOW},
        )


class TestRevisions:
    def test_single_head(self) -> None:
        """The migrations form one line with one head."""
        script = ScriptDirectory.from_config(alembic_config())
        assert len(script.get_heads()) == 1

    def test_no_drift_between_models_and_migrations(self, fresh_engine: Engine) -> None:
        """`alembic check` finds nothing to generate at head."""
        with fresh_engine.connect() as connection:
            command.check(alembic_config(connection))

    def test_upgrade_downgrade_upgrade_with_rows(self, scratch) -> None:  # type: ignore[no-untyped-def]
        """The whole chain goes down and up again on a database holding rows."""
        engine = make_engine(scratch.empty_url())
        try:
            upgrade(engine)
            _add_file(engine)
            script = ScriptDirectory.from_config(alembic_config())
            revisions = [r.revision for r in script.walk_revisions()]  # newest first
            for target in [*revisions[1:], "base"]:
                downgrade(engine, target)
                upgrade(engine, head_revision())
                _add_file(engine, sha=f"{target:0>64}"[-64:])
                downgrade(engine, target)
            upgrade(engine)
            with engine.connect() as conn:
                assert current_revision(conn) == head_revision()
                assert not [
                    n for n in inspect(conn).get_table_names() if "_alembic_tmp" in n
                ]
        finally:
            engine.dispose()

    def test_match_fingerprints_come_back_on_downgrade(self, scratch) -> None:  # type: ignore[no-untyped-def]
        """Going below 0002 rebuilds each match's fingerprint; going up drops it."""
        engine = make_engine(scratch.empty_url())
        try:
            upgrade(engine)
            with engine.begin() as conn:
                run_id = make_run(conn)
                conn.execute(
                    insert(ReconMatch).values(
                        pairing=Pairing.ERA_DEPOSIT, rule_id="era_deposit_trace",
                        left_id=3, right_table="bank_deposit", right_id=7,
                        one_to_one=True, first_run_id=run_id, last_seen_run_id=run_id,
                    )
                )  # fmt: skip
            downgrade(engine, "0001")
            with engine.connect() as conn:
                assert conn.execute(
                    text("SELECT fingerprint FROM recon_match")
                ).scalars().all() == ["era_deposit:3:7"]
            upgrade(engine)
            with engine.connect() as conn:
                columns = {c["name"] for c in inspect(conn).get_columns("recon_match")}
                assert "fingerprint" not in columns
                assert (
                    conn.execute(
                        select(func.count()).select_from(ReconMatch)
                    ).scalar_one()
                    == 1
                )
        finally:
            engine.dispose()

    def test_file_identity_gains_the_sheet(self, scratch) -> None:  # type: ignore[no-untyped-def]
        """0003 keeps earlier files (sheet empty) and makes (kind, sha256, sheet)
        the identity; downgrading restores the SHA-256 index."""
        engine = make_engine(scratch.empty_url())
        try:
            upgrade(engine, "0002")
            _add_file_before_0003(engine, "c" * 64)
            upgrade(engine, "0003")
            with engine.connect() as conn:
                assert conn.execute(
                    select(SourceFile.kind, SourceFile.sheet)
                ).all() == [(SourceKind.CLAIMS, "")]
            _add_file(engine, "c" * 64, kind=SourceKind.LEDGER)
            _add_file(engine, "c" * 64, sheet="April")
            with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
                _add_file(engine, "c" * 64, sheet="April")
            with engine.begin() as conn:
                conn.execute(
                    text("DELETE FROM source_file WHERE kind = 'ledger' OR sheet <> ''")
                )
            downgrade(engine, "0002")
            with engine.connect() as conn:
                columns = {c["name"] for c in inspect(conn).get_columns("source_file")}
                assert "sheet" not in columns
            with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
                _add_file_before_0003(engine, "c" * 64)
        finally:
            engine.dispose()

    def test_downgrade_refuses_files_only_0003_can_hold(self, scratch) -> None:  # type: ignore[no-untyped-def]
        """Below 0003 one SHA-256 loads once: a downgrade says why it cannot go."""
        engine = make_engine(scratch.empty_url())
        try:
            upgrade(engine)
            _add_file(engine, "d" * 64)
            _add_file(engine, "d" * 64, kind=SourceKind.LEDGER)
            with pytest.raises(RuntimeError, match="more than one kind or sheet"):
                downgrade(engine, "0002")
            with engine.connect() as conn:
                assert current_revision(conn) == head_revision()
                assert not [
                    n for n in inspect(conn).get_table_names() if "_alembic_tmp" in n
                ]
        finally:
            engine.dispose()

    def test_upgrade_twice_is_a_no_op(self, fresh_engine: Engine) -> None:
        """A database at head stays where it is."""
        before, after = upgrade(fresh_engine)
        assert before == after == head_revision()


class TestEnsureSchema:
    def test_creates_an_empty_database(self, scratch) -> None:  # type: ignore[no-untyped-def]
        """A database with no tables is created at head automatically."""
        engine = make_engine(scratch.empty_url())
        try:
            ensure_schema(engine)
            with engine.connect() as conn:
                assert current_revision(conn) == head_revision()
        finally:
            engine.dispose()

    def test_refuses_an_older_revision(
        self, fresh_engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A database behind this version is not migrated silently."""
        monkeypatch.setattr(schema, "head_revision", lambda: "9999")
        with pytest.raises(SchemaRevisionError, match="reconcile db upgrade") as error:
            ensure_schema(fresh_engine)
        assert error.value.exit_code == 2

    def test_refuses_an_unknown_revision(self, fresh_engine: Engine) -> None:
        """A database from a newer reconcile is refused."""
        with fresh_engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
        with pytest.raises(SchemaRevisionError, match="does not know"):
            ensure_schema(fresh_engine)


class TestConstraints:
    def test_loaded_identity_is_unique_but_rejects_may_repeat(
        self, fresh_engine: Engine
    ) -> None:
        """Only one loaded file per (kind, hash, sheet); rejected attempts repeat."""
        _add_file(fresh_engine)
        with Session(fresh_engine) as db, db.begin():
            for _ in range(2):
                db.add(
                    SourceFile(
                        kind=SourceKind.CLAIMS, name="c", path="c", sha256="a" * 64,
                        size_bytes=1, status=SourceStatus.REJECTED, imported_at=NOW,
                    )
                )  # fmt: skip
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            _add_file(fresh_engine)
        with Session(fresh_engine) as db:
            assert db.scalar(select(func.count()).select_from(SourceFile)) == 3

    def test_audit_events_are_append_only(self, fresh_engine: Engine) -> None:
        """The database refuses to update or delete an audit event."""
        with Session(fresh_engine) as db, db.begin():
            db.add(
                AuditEvent(
                    entity="refund", entity_id=1, action="create", actor="run",
                    occurred_at=NOW, prev_hash="0" * 64, hash="1" * 64,
                )
            )  # fmt: skip
        for statement in (
            "UPDATE audit_event SET actor = 'x'",
            "DELETE FROM audit_event",
        ):
            with (
                pytest.raises(Exception, match="append-only"),
                fresh_engine.begin() as conn,
            ):
                conn.execute(text(statement))

    def test_timestamps_come_back_aware_utc(self, fresh_engine: Engine) -> None:
        """Aware datetimes round-trip as aware UTC on every database."""
        local = NOW.astimezone(dt.timezone(dt.timedelta(hours=-5)))
        with Session(fresh_engine) as db, db.begin():
            db.add(
                SourceFile(
                    kind=SourceKind.ERA, name="x", path="x", sha256="b" * 64,
                    size_bytes=1, status=SourceStatus.LOADED, imported_at=local,
                )
            )  # fmt: skip
        with Session(fresh_engine) as db:
            stored = db.scalars(select(SourceFile.imported_at)).one()
        assert stored == NOW
        assert stored.tzinfo is not None
        assert stored.utcoffset() == dt.timedelta(0)


def _fingerprints(engine: Engine) -> dict[int, str]:
    table = ReconException.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.id, table.c.fingerprint)).all()
    return {int(i): str(f) for i, f in rows}


class TestPaymentAmountInFingerprints:
    """Revision 0005 renames stored exceptions as the code now names them."""

    def test_decisions_survive_the_rename(self, scratch) -> None:  # type: ignore[no-untyped-def]
        """Exceptions stored before 0005 (fingerprints without BPR02) are found by
        the next run under their new names: same ids, decisions kept."""
        engine = make_engine(scratch.new_url())
        try:
            with engine.begin() as conn:
                make_claim(conn, claim_id="K1", submitted_on=dt.date(2024, 3, 1))
                make_claim(conn, claim_id="K2", expected_cents=10_000)
                payment = make_payment(
                    conn,
                    trace_number="T1",
                    amount_cents=700,
                    paid_on=dt.date(2024, 3, 4),
                )
                make_claim_payment(
                    conn, payment_id=payment, claim_id="NOPE", paid_cents=300
                )
                for _ in range(2):
                    make_claim_payment(
                        conn, payment_id=payment, claim_id="K2", paid_cents=200
                    )
            run(engine)
            table = ReconException.__table__
            before = _fingerprints(engine)
            renamed = {i: f for i, f in before.items() if ":T1:700:" in f}
            kinds = {f.split(":")[0] for f in renamed.values()}
            assert {
                "era_without_deposit",
                "unmatched_remittance",
                "not_posted",
            } <= kinds
            decided = min(renamed)
            with engine.begin() as conn:
                decide_exception(
                    conn, exception_id=decided, decision="dismissed", note="known",
                    actor="ana", at=NOW,
                )  # fmt: skip

            downgrade(engine, "0004")
            old = _fingerprints(engine)
            for exception_id, fingerprint in renamed.items():
                assert old[exception_id] == fingerprint.replace(":T1:700:", ":T1:")

            upgrade(engine)
            assert _fingerprints(engine) == before
            run(engine)
            with engine.connect() as conn:
                after = {
                    r.id: r
                    for r in conn.execute(
                        select(table.c.id, table.c.fingerprint, table.c.decision)
                    )
                }
            assert {i: r.fingerprint for i, r in after.items()} == before
            assert after[decided].decision == "dismissed"
        finally:
            engine.dispose()
