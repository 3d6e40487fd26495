"""Refund and recoupment postings are tied to their queue items in the same run."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from reconcile.categories import LedgerKind, Pairing
from reconcile.db.tables import ReconMatch
from reconcile.periods import RunWindow
from reconcile.queues import refund_action
from tests.factories import (
    make_claim,
    make_claim_payment,
    make_ledger_entry,
    make_payment,
    make_plb,
)
from tests.helpers import CLOCK, run

D = dt.date


def _pairs(engine: Engine, pairing: Pairing) -> int:
    with engine.connect() as conn:
        return len(
            conn.execute(
                select(ReconMatch.id).where(ReconMatch.pairing == pairing)
            ).all()
        )


class TestQueuePostings:
    def test_issued_refund_matches_its_posting(self, fresh_engine: Engine) -> None:
        """A refund check posted as a negative refund entry with its number."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="O1")
            payment = make_payment(conn, paid_on=D(2024, 3, 4))
            make_claim_payment(
                conn, payment_id=payment, claim_id="O1", paid_cents=15_000
            )
        run(fresh_engine)
        with fresh_engine.begin() as conn:
            for action in ("approve", "issue"):
                refund_action(
                    conn,
                    refund_id=1,
                    action=action,
                    actor="ann",
                    at=CLOCK.now(),
                    reference="CHK55",
                )
            make_ledger_entry(
                conn,
                kind=LedgerKind.REFUND,
                claim_id="O1",
                amount_cents=-4_999,
                reference="CHK55",
                posted_on=D(2024, 4, 2),
            )
            make_ledger_entry(
                conn,
                kind=LedgerKind.REFUND,
                claim_id="O1",
                amount_cents=-5_000,
                reference="CHK55",
                posted_on=D(2024, 4, 2),
            )
        run(fresh_engine, window=RunWindow(D(2024, 4, 1), D(2024, 4, 30)))
        assert _pairs(fresh_engine, Pairing.REFUND_POSTING) == 1

    def test_recoupment_matches_its_posting_the_same_run(
        self, fresh_engine: Engine
    ) -> None:
        """A WO offset and its negative recoupment posting are tied in one run."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="W1")
            first = make_payment(conn, paid_on=D(2024, 1, 10))
            make_claim_payment(conn, payment_id=first, claim_id="W1")
            payment = make_payment(conn, paid_on=D(2024, 3, 8), trace_number="T9")
            make_plb(
                conn,
                payment_id=payment,
                reason_code="WO",
                reference="W1",
                amount_cents=3_000,
            )
            make_ledger_entry(
                conn,
                kind=LedgerKind.RECOUPMENT,
                claim_id="W1",
                amount_cents=-3_000,
                reference="T9",
                posted_on=D(2024, 3, 9),
            )
        run(fresh_engine)
        assert _pairs(fresh_engine, Pairing.RECOUPMENT_POSTING) == 1
        run(fresh_engine)
        assert _pairs(fresh_engine, Pairing.RECOUPMENT_POSTING) == 1
