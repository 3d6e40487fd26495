"""Workflows of refunds, recoupments and exception decisions, and the audit chain."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, Engine, select

from reconcile.categories import AuditEntity, RecoupmentStatus, RefundStatus
from reconcile.cli import main
from reconcile.db.tables import AuditEvent, ReconException, Recoupment, Refund
from reconcile.queues import (
    Event,
    TransitionRefused,
    UnknownItemError,
    append_events,
    decide_exception,
    recoupment_action,
    refund_action,
    suspend_refund,
    verify_chain,
)
from reconcile.settings import Settings
from tests.factories import (
    make_exception,
    make_recoupment,
    make_refund,
    make_run,
)

AT = dt.datetime(2024, 4, 1, 9, tzinfo=dt.UTC)


def _status(conn: Connection, table: type, item_id: int) -> str:
    return str(
        conn.execute(select(table.status).where(table.id == item_id)).scalar_one()
    )


def _created(conn: Connection, entity: AuditEntity, item_id: int, status: str) -> None:
    append_events(
        conn,
        [Event(entity=entity, entity_id=item_id, action="create", actor="run",
               occurred_at=AT, to_status=status)],
    )  # fmt: skip


class TestRefundWorkflow:
    def test_happy_path_writes_an_event_per_step(self, fresh_engine: Engine) -> None:
        """queued → approved → issued → closed, one audit event each."""
        with fresh_engine.begin() as conn:
            refund = make_refund(conn)
            _created(conn, AuditEntity.REFUND, refund, "queued")
            refund_action(conn, refund_id=refund, action="approve", actor="ann", at=AT)
            refund_action(
                conn,
                refund_id=refund,
                action="issue",
                actor="ann",
                at=AT,
                reference="CHK100",
            )
            refund_action(conn, refund_id=refund, action="close", actor="bob", at=AT)
            assert _status(conn, Refund, refund) == RefundStatus.CLOSED
            events = conn.execute(
                select(
                    AuditEvent.action, AuditEvent.from_status, AuditEvent.to_status
                ).order_by(AuditEvent.id)
            ).all()
            assert events[1:] == [
                ("approve", "queued", "approved"),
                ("issue", "approved", "issued"),
                ("close", "issued", "closed"),
            ]
            assert verify_chain(conn).ok

    @pytest.mark.parametrize(
        ("status", "action", "message"),
        [
            (RefundStatus.QUEUED, "issue", "needs it to be approved"),
            (RefundStatus.ISSUED, "approve", "needs it to be queued"),
            (RefundStatus.ISSUED, "cancel", "needs it to be approved or queued"),
            (RefundStatus.CANCELLED, "close", "needs it to be issued"),
            (RefundStatus.QUEUED, "acknowledge", "is not a refund action"),
            (RefundStatus.QUEUED, "explode", "is not a refund action"),
        ],
    )
    def test_invalid_transitions_change_nothing(
        self, fresh_engine: Engine, status: RefundStatus, action: str, message: str
    ) -> None:
        """A refused action says why and leaves status and log untouched."""
        with fresh_engine.begin() as conn:
            refund = make_refund(conn, status=status)
            with pytest.raises(TransitionRefused, match=message):
                refund_action(
                    conn, refund_id=refund, action=action, actor="ann", at=AT,
                    reference="R", reason="why",
                )  # fmt: skip
            assert _status(conn, Refund, refund) == status
            assert conn.execute(select(AuditEvent.id)).first() is None

    def test_issue_needs_reference_and_cancel_needs_reason(
        self, fresh_engine: Engine
    ) -> None:
        """Issuing without a reference or cancelling without a reason is refused."""
        with fresh_engine.begin() as conn:
            refund = make_refund(conn, status=RefundStatus.APPROVED)
            with pytest.raises(TransitionRefused, match="reference"):
                refund_action(conn, refund_id=refund, action="issue", actor="a", at=AT)
            with pytest.raises(TransitionRefused, match="reason"):
                refund_action(conn, refund_id=refund, action="cancel", actor="a", at=AT)

    def test_unknown_refund(self, fresh_engine: Engine) -> None:
        """An id that names nothing is refused with one sentence."""
        with (
            fresh_engine.begin() as conn,
            pytest.raises(UnknownItemError, match="no refund 999"),
        ):
            refund_action(conn, refund_id=999, action="approve", actor="a", at=AT)

    def test_suspension_limits(self, fresh_engine: Engine) -> None:
        """A suspension ends within 180 days of identification and needs a reason."""
        with fresh_engine.begin() as conn:
            refund = make_refund(
                conn, identified_on=dt.date(2024, 3, 1), due_rule="medicare_medicaid"
            )
            with pytest.raises(TransitionRefused, match="must end between"):
                suspend_refund(
                    conn, refund_id=refund, until=dt.date(2024, 9, 1), reason="audit",
                    actor="a", at=AT, settings=Settings(),
                )  # fmt: skip
            with pytest.raises(TransitionRefused, match="needs a --reason"):
                suspend_refund(
                    conn, refund_id=refund, until=dt.date(2024, 8, 28), reason="",
                    actor="a", at=AT, settings=Settings(),
                )  # fmt: skip
            due = suspend_refund(
                conn, refund_id=refund, until=dt.date(2024, 8, 28), reason="audit",
                actor="a", at=AT, settings=Settings(),
            )  # fmt: skip
            row = conn.execute(select(Refund.suspended_until, Refund.due_on)).one()
            assert tuple(row) == (dt.date(2024, 8, 28), dt.date(2024, 10, 27))
            assert due == dt.date(2024, 10, 27)


class TestRecoupmentWorkflow:
    def test_dispute_then_accept_then_close(self, fresh_engine: Engine) -> None:
        """A person disputes, accepts and closes a noticed recoupment."""
        with fresh_engine.begin() as conn:
            item = make_recoupment(conn)
            recoupment_action(
                conn, recoupment_id=item, action="dispute", actor="a", at=AT,
                reason="outside look-back",
            )  # fmt: skip
            recoupment_action(
                conn, recoupment_id=item, action="accept", actor="a", at=AT
            )
            recoupment_action(
                conn, recoupment_id=item, action="close", actor="a", at=AT
            )
            assert _status(conn, Recoupment, item) == RecoupmentStatus.CLOSED

    @pytest.mark.parametrize(
        ("status", "action"),
        [
            (RecoupmentStatus.OFFSET, "repay"),
            (RecoupmentStatus.CLOSED, "dispute"),
            (RecoupmentStatus.NOTICED, "close"),
            (RecoupmentStatus.PENDING, "offset"),
        ],
    )
    def test_invalid_transitions(
        self, fresh_engine: Engine, status: RecoupmentStatus, action: str
    ) -> None:
        """Moves the workflow does not allow are refused."""
        with fresh_engine.begin() as conn:
            item = make_recoupment(conn, status=status)
            with pytest.raises(TransitionRefused):
                recoupment_action(
                    conn, recoupment_id=item, action=action, actor="a", at=AT,
                    reason="r", reference="CHK1",
                )  # fmt: skip
            assert _status(conn, Recoupment, item) == status

    def test_system_moves(self, fresh_engine: Engine) -> None:
        """The run defers and then offsets; a person cannot."""
        with fresh_engine.begin() as conn:
            item = make_recoupment(conn)
            recoupment_action(
                conn,
                recoupment_id=item,
                action="defer",
                actor="run",
                at=AT,
                system=True,
            )
            recoupment_action(
                conn,
                recoupment_id=item,
                action="offset",
                actor="run",
                at=AT,
                system=True,
            )
            assert _status(conn, Recoupment, item) == RecoupmentStatus.OFFSET


C = RecoupmentStatus
#: DESIGN.md: a person moves any open status → disputed → accepted or closed,
#: noticed/pending → repaid, and offset/accepted/repaid → closed.
DESIGNED = {
    "dispute": ({C.NOTICED, C.PENDING, C.OFFSET, C.ACCEPTED, C.REPAID}, C.DISPUTED),
    "accept": ({C.DISPUTED}, C.ACCEPTED),
    "repay": ({C.NOTICED, C.PENDING}, C.REPAID),
    "close": ({C.DISPUTED, C.OFFSET, C.ACCEPTED, C.REPAID}, C.CLOSED),
}


class TestRecoupmentTransitionsAsDesigned:
    @pytest.mark.parametrize("action", sorted(DESIGNED))
    @pytest.mark.parametrize("status", list(RecoupmentStatus))
    def test_every_person_move(
        self, fresh_engine: Engine, status: RecoupmentStatus, action: str
    ) -> None:
        """Each person's action moves exactly the statuses DESIGN.md lists; any
        other is refused in one sentence, with nothing changed or logged."""
        sources, target = DESIGNED[action]
        with fresh_engine.begin() as conn:
            item = make_recoupment(conn, status=status)
            if status in sources:
                moved = recoupment_action(
                    conn, recoupment_id=item, action=action, actor="ann", at=AT,
                    reason="r", reference="CHK1",
                )  # fmt: skip
                assert moved == target
                events = conn.execute(
                    select(AuditEvent.action, AuditEvent.from_status,
                           AuditEvent.to_status)
                ).all()  # fmt: skip
                assert [tuple(e) for e in events] == [
                    (action, str(status), str(target))
                ]
                return
            allowed = " or ".join(sorted(sources))
            with pytest.raises(TransitionRefused) as refused:
                recoupment_action(
                    conn, recoupment_id=item, action=action, actor="ann", at=AT,
                    reason="r", reference="CHK1",
                )  # fmt: skip
            assert str(refused.value) == (
                f"recoupment {item} is {status}; {action} needs it to be {allowed}"
            )
            assert _status(conn, Recoupment, item) == status
            assert conn.execute(select(AuditEvent.id)).first() is None

    def test_cli_refuses_accept_unless_disputed(
        self, fresh_engine: Engine, fresh_url: str
    ) -> None:
        """`recoupments accept` on an offset recoupment: exit 1, one sentence on
        stderr, status unchanged; after a dispute it is accepted."""
        with fresh_engine.begin() as conn:
            item = make_recoupment(conn, status=RecoupmentStatus.OFFSET)

        def cli(*args: str) -> tuple[int, str, str]:
            result = CliRunner().invoke(
                main,
                ["--database-url", fresh_url, "recoupments", *args, "--by", "ann"],
                catch_exceptions=False,
            )
            return result.exit_code, result.stdout, result.stderr

        code, out, err = cli("accept", str(item))
        assert (code, out) == (1, "")
        assert err == (
            f"Error: recoupment {item} is offset; accept needs it to be disputed.\n"
        )
        with fresh_engine.connect() as conn:
            assert _status(conn, Recoupment, item) == RecoupmentStatus.OFFSET
            assert conn.execute(select(AuditEvent.id)).first() is None
        assert cli("dispute", str(item), "--reason", "no overpayment")[0] == 0
        code, out, _ = cli("accept", str(item))
        assert (code, out) == (0, f"Recoupment {item} is now accepted.\n")


class TestExceptionDecisions:
    def test_decision_resolves_and_is_audited(self, fresh_engine: Engine) -> None:
        """A decision resolves an open exception and records the amount decided."""
        with fresh_engine.begin() as conn:
            run = make_run(conn)
            item = make_exception(conn, run_id=run, amount_cents=1234)
            decide_exception(
                conn, exception_id=item, decision="write_off", note="small",
                actor="ann", at=AT,
            )  # fmt: skip
            row = conn.execute(select(ReconException)).one()
            assert (str(row.status), str(row.decision), row.decided_amount_cents) == (
                "resolved", "write_off", 1234,
            )  # fmt: skip
            with pytest.raises(TransitionRefused, match="already resolved"):
                decide_exception(
                    conn,
                    exception_id=item,
                    decision="appeal",
                    note=None,
                    actor="a",
                    at=AT,
                )
            with pytest.raises(TransitionRefused, match="not an exception decision"):
                decide_exception(
                    conn, exception_id=make_exception(conn, run_id=run),
                    decision="approve", note=None, actor="a", at=AT,
                )  # fmt: skip


def _drop_triggers(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")
    else:
        conn.exec_driver_sql("DROP TRIGGER audit_event_no_update")
        conn.exec_driver_sql("DROP TRIGGER audit_event_no_delete")


class TestAuditChain:
    def _history(self, conn: Connection) -> int:
        refund = make_refund(conn)
        _created(conn, AuditEntity.REFUND, refund, "queued")
        refund_action(conn, refund_id=refund, action="approve", actor="a", at=AT)
        refund_action(
            conn, refund_id=refund, action="issue", actor="a", at=AT, reference="C"
        )
        return refund

    def test_intact_chain_verifies(self, fresh_engine: Engine) -> None:
        """An untouched log verifies with its event count."""
        with fresh_engine.begin() as conn:
            self._history(conn)
            report = verify_chain(conn)
        assert report.ok
        assert report.events == 3

    def test_edited_event_is_found(self, fresh_engine: Engine) -> None:
        """Changing an event's content breaks its hash."""
        with fresh_engine.begin() as conn:
            self._history(conn)
            _drop_triggers(conn)
            second = conn.execute(select(AuditEvent.id).order_by(AuditEvent.id)).all()[
                1
            ][0]
            conn.exec_driver_sql(
                f"UPDATE audit_event SET actor = 'mallory' WHERE id = {second}"
            )
            report = verify_chain(conn)
        assert report.problems == [
            f"event {second}: its content was changed after it was written"
        ]

    def test_deleted_middle_event_is_found(self, fresh_engine: Engine) -> None:
        """Deleting an event breaks the link of the one after it."""
        with fresh_engine.begin() as conn:
            self._history(conn)
            _drop_triggers(conn)
            ids = [
                r[0]
                for r in conn.execute(select(AuditEvent.id).order_by(AuditEvent.id))
            ]
            conn.exec_driver_sql(f"DELETE FROM audit_event WHERE id = {ids[1]}")
            report = verify_chain(conn)
        assert any("does not follow" in p for p in report.problems)

    def test_deleted_last_event_is_found(self, fresh_engine: Engine) -> None:
        """Deleting the newest event leaves the refund's status unexplained."""
        with fresh_engine.begin() as conn:
            refund = self._history(conn)
            _drop_triggers(conn)
            last = conn.execute(
                select(AuditEvent.id).order_by(AuditEvent.id.desc())
            ).first()
            assert last is not None
            conn.exec_driver_sql(f"DELETE FROM audit_event WHERE id = {last[0]}")
            report = verify_chain(conn)
        assert report.problems == [
            f"refund {refund}: is issued but its last audit event says approved "
            "(an event is missing)"
        ]
