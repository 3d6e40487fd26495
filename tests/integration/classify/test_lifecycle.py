"""Exceptions as persistent entities: created once, refreshed, resolved by a run,
reopened on the same row, decisions kept, and never undone by a re-run of the past."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from reconcile.categories import AuditEntity
from reconcile.db.tables import AuditEvent, ReconException
from reconcile.periods import RunWindow
from reconcile.queues import decide_exception
from tests.factories import make_claim, make_claim_payment, make_payment
from tests.helpers import CLOCK, run

D = dt.date
APRIL = RunWindow(D(2024, 4, 1), D(2024, 4, 30))


def _underpaid(engine: Engine, *, paid: int = 8_000) -> None:
    with engine.begin() as conn:
        make_claim(conn, claim_id="L1")
        payment = make_payment(conn, paid_on=D(2024, 3, 4))
        make_claim_payment(conn, payment_id=payment, claim_id="L1", paid_cents=paid)


APRIL_10 = D(2024, 4, 10)


def _pay_more(engine: Engine, cents: int, on: dt.date = APRIL_10) -> None:
    with engine.begin() as conn:
        payment = make_payment(conn, paid_on=on)
        make_claim_payment(conn, payment_id=payment, claim_id="L1", paid_cents=cents)


def _row(engine: Engine) -> ReconException:
    with engine.connect() as conn:
        table = ReconException.__table__
        return conn.execute(  # type: ignore[return-value]
            select(table).where(table.c.kind == "underpaid")
        ).one()


class TestLifecycle:
    def test_resolved_by_the_run_that_no_longer_finds_it(
        self, fresh_engine: Engine
    ) -> None:
        """A later payment makes the claim whole: the run resolves the exception."""
        _underpaid(fresh_engine)
        first = run(fresh_engine)
        _pay_more(fresh_engine, 2_000)
        second = run(fresh_engine, window=APRIL)
        row = _row(fresh_engine)
        assert (str(row.status), row.resolved_by_run_id, row.resolved_on) == (
            "resolved", second.run_id, D(2024, 4, 30),
        )  # fmt: skip
        assert row.first_run_id == first.run_id

    def test_reappearing_condition_reopens_the_same_row(
        self, fresh_engine: Engine
    ) -> None:
        """Resolved, then short again: the same id reopens and counts it."""
        _underpaid(fresh_engine)
        run(fresh_engine)
        original_id = _row(fresh_engine).id
        _pay_more(fresh_engine, 2_000)
        run(fresh_engine, window=APRIL)
        _pay_more(fresh_engine, -3_000, on=D(2024, 5, 2))
        run(fresh_engine, window=RunWindow(D(2024, 5, 1), D(2024, 5, 31)))
        row = _row(fresh_engine)
        assert (row.id, str(row.status), row.reopened_count, row.amount_cents) == (
            original_id, "open", 1, 3_000,
        )  # fmt: skip

    def test_decision_survives_reruns_until_the_amount_changes(
        self, fresh_engine: Engine
    ) -> None:
        """A write-off stays decided on re-runs; a new amount reopens it, audited."""
        _underpaid(fresh_engine)
        run(fresh_engine)
        with fresh_engine.begin() as conn:
            decide_exception(
                conn, exception_id=_row(fresh_engine).id, decision="write_off",
                note="small payer", actor="ann", at=CLOCK.now(),
            )  # fmt: skip
        run(fresh_engine)
        run(fresh_engine, window=APRIL)
        row = _row(fresh_engine)
        assert (str(row.status), str(row.decision)) == ("resolved", "write_off")
        _pay_more(fresh_engine, 1_000, on=D(2024, 4, 20))
        run(fresh_engine, window=APRIL)
        row = _row(fresh_engine)
        assert (str(row.status), row.decision, row.amount_cents) == (
            "open",
            None,
            1_000,
        )
        with fresh_engine.connect() as conn:
            actions = (
                conn.execute(
                    select(AuditEvent.action).where(
                        AuditEvent.entity == AuditEntity.EXCEPTION
                    )
                )
                .scalars()
                .all()
            )
        assert actions == ["decide:write_off", "reopen"]

    def test_rerunning_the_past_does_not_undo_the_present(
        self, fresh_engine: Engine
    ) -> None:
        """March re-run after April resolved it: the exception stays resolved."""
        _underpaid(fresh_engine)
        run(fresh_engine)
        _pay_more(fresh_engine, 2_000)
        run(fresh_engine, window=APRIL)
        before = _row(fresh_engine)
        run(fresh_engine)  # as of March 31 the claim was still short
        after = _row(fresh_engine)
        assert after == before

    def test_content_refreshes_only_when_it_changes(self, fresh_engine: Engine) -> None:
        """A partial payment updates the amount of the same open exception."""
        _underpaid(fresh_engine, paid=5_000)
        run(fresh_engine)
        _pay_more(fresh_engine, 3_000)
        run(fresh_engine, window=APRIL)
        row = _row(fresh_engine)
        assert (str(row.status), row.amount_cents, row.paid_cents) == (
            "open",
            2_000,
            8_000,
        )
