"""The refund queue: detection, legal due dates, never paying twice, re-runs."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select, update

from reconcile.db.tables import (
    AuditEvent,
    ReconException,
    Recoupment,
    Refund,
    X12ClaimPayment,
)
from reconcile.periods import RunWindow
from reconcile.queues import (
    TransitionRefused,
    refund_action,
    suspend_refund,
    verify_chain,
)
from reconcile.settings import PayerKind, PayerProfile, PracticeSettings, Settings
from tests.factories import (
    make_adjustment,
    make_claim,
    make_claim_payment,
    make_patient_payment,
    make_payment,
    make_plb,
    make_service_line,
)
from tests.helpers import CLOCK, open_exceptions, run

D = dt.date
APRIL = RunWindow(D(2024, 4, 1), D(2024, 4, 30))


def _refunds(engine: Engine) -> list[tuple[str, str, int, str, dt.date, dt.date]]:
    f = Refund
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                f.reason,
                f.payee_kind,
                f.amount_cents,
                f.status,
                f.identified_on,
                f.due_on,
            ).order_by(f.id)
        ).all()
    return [(str(a), str(b), c, str(d), e, g) for a, b, c, d, e, g in rows]


def _overpay(engine: Engine, *, claim: str = "O1", payer: str = "AETNA", **kw) -> int:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        make_claim(conn, claim_id=claim, payer_id=payer)
        payment = make_payment(conn, paid_on=D(2024, 3, 6), payer_ref_2u=payer, **kw)
        return make_claim_payment(
            conn, payment_id=payment, claim_id=claim, paid_cents=12_500
        )


class TestDetection:
    def test_overpaid_refund_default_due(self, fresh_engine: Engine) -> None:
        """A commercial overpayment is due 60 days after the payment that showed it."""
        _overpay(fresh_engine)
        run(fresh_engine)
        assert _refunds(fresh_engine) == [
            ("overpaid", "payer", 2_500, "queued", D(2024, 3, 6), D(2024, 5, 5))
        ]

    def test_medicare_by_payer_kind_or_filing_indicator(
        self, fresh_engine: Engine
    ) -> None:
        """Medicare by payer kind and Medicaid by CLP06 MC both get the 60-day rule."""
        _overpay(fresh_engine, claim="M1", payer="MCR", originator_id="1000000001")
        cp = _overpay(
            fresh_engine, claim="M2", payer="STATE", originator_id="1000000002"
        )
        with fresh_engine.begin() as conn:
            conn.execute(
                update(X12ClaimPayment)
                .where(X12ClaimPayment.id == cp)
                .values(filing_indicator="MC")
            )
        settings = Settings(payers=(PayerProfile(id="MCR", kind=PayerKind.MEDICARE),))
        run(fresh_engine, settings=settings)
        with fresh_engine.connect() as conn:
            rules = set(conn.execute(select(Refund.due_rule)).scalars())
        assert rules == {"medicare_medicaid"}

    def test_duplicate_payment_by_line_control(self, fresh_engine: Engine) -> None:
        """The same REF*6R line paid twice is a duplicate; a pended line is not."""
        with fresh_engine.begin() as conn:
            for claim_id, first_paid in (("DUP", 10_000), ("PEND", 0)):
                make_claim(conn, claim_id=claim_id)
                for day, paid in ((5, first_paid), (20, 10_000)):
                    payment = make_payment(conn, paid_on=D(2024, 3, day))
                    cp = make_claim_payment(
                        conn, payment_id=payment, claim_id=claim_id, paid_cents=paid
                    )
                    make_service_line(
                        conn,
                        claim_payment_id=cp,
                        paid_cents=paid,
                        line_control=f"{claim_id}-L1",
                    )
                    if paid == 0:
                        make_adjustment(
                            conn,
                            claim_payment_id=cp,
                            group_code="OA",
                            reason_code="133",
                            amount_cents=20_000,
                        )
        run(fresh_engine)
        found = {
            (v["kind"], v["claim"]) for v in open_exceptions(fresh_engine).values()
        }
        assert ("duplicate_payment", "DUP") in found
        pend = {kind for kind, claim in found if claim == "PEND"}
        assert pend <= {"not_posted", "era_without_deposit"}
        assert [r[:4] for r in _refunds(fresh_engine)] == [
            ("duplicate_payment", "payer", 10_000, "queued")
        ]

    def test_cob_overlap_refunds_the_other_payer(self, fresh_engine: Engine) -> None:
        """Two payers both paid as primary: the other payer's money goes back."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="X", payer_id="CIGNA")
            make_claim(conn, claim_id="BOTH")
            mine = make_payment(conn, paid_on=D(2024, 3, 5))
            make_claim_payment(
                conn, payment_id=mine, claim_id="BOTH", paid_cents=10_000
            )
            theirs = make_payment(
                conn, paid_on=D(2024, 3, 9), payer_ref_2u="CIGNA", originator_id="1888"
            )
            make_claim_payment(
                conn, payment_id=theirs, claim_id="BOTH", paid_cents=6_000
            )
        run(fresh_engine)
        with fresh_engine.connect() as conn:
            refund = conn.execute(
                select(Refund.reason, Refund.payer_id, Refund.amount_cents)
            ).one()
        assert tuple(refund) == ("cob_overlap", "CIGNA", 6_000)

    def test_patient_overpaid_and_texas_deadline(self, fresh_engine: Engine) -> None:
        """Owed 20 (PR), 15 after a secondary paid 5, paid 40: refund 25 in 30 days."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="Y", payer_id="CIGNA")
            make_claim(conn, claim_id="PAT")
            mine = make_payment(conn, paid_on=D(2024, 3, 5))
            make_claim_payment(
                conn,
                payment_id=mine,
                claim_id="PAT",
                paid_cents=10_000,
                patient_resp_cents=2_000,
            )
            secondary = make_payment(
                conn, paid_on=D(2024, 3, 9), payer_ref_2u="CIGNA", originator_id="1888"
            )
            make_claim_payment(
                conn,
                payment_id=secondary,
                claim_id="PAT",
                status_code="2",
                paid_cents=500,
                patient_resp_cents=1_500,
            )
            make_patient_payment(
                conn, claim_id="PAT", amount_cents=4_000, received_on=D(2024, 3, 12)
            )
        run(fresh_engine, settings=Settings(practice=PracticeSettings(state="TX")))
        assert _refunds(fresh_engine) == [
            (
                "patient_overpaid",
                "patient",
                2_500,
                "queued",
                D(2024, 3, 12),
                D(2024, 4, 11),
            )
        ]

    def test_account_credit_balance(self, fresh_engine: Engine) -> None:
        """Money not tied to a claim beyond what the account owes is a credit."""
        with fresh_engine.begin() as conn:
            make_claim(
                conn,
                claim_id="CB",
                expected_patient_cents=1_000,
                submitted_on=D(2024, 3, 20),
            )
            make_patient_payment(
                conn, claim_id=None, amount_cents=3_000, received_on=D(2024, 3, 21)
            )
        run(fresh_engine)
        assert [r[:4] for r in _refunds(fresh_engine)] == [
            ("patient_overpaid", "patient", 2_000, "queued")
        ]


class TestQueue:
    def test_identified_date_never_slides(self, fresh_engine: Engine) -> None:
        """Re-runs months later keep the identified and due dates."""
        _overpay(fresh_engine)
        run(fresh_engine)
        first = _refunds(fresh_engine)
        run(fresh_engine, window=APRIL)
        run(fresh_engine, window=RunWindow(D(2024, 6, 1), D(2024, 6, 30)))
        assert _refunds(fresh_engine) == first

    def test_suspension_moves_the_medicare_due_date(self, fresh_engine: Engine) -> None:
        """A 90-day investigation: due 60 days after it ends."""
        _overpay(fresh_engine, claim="M1", payer="MCR", originator_id="1000000001")
        settings = Settings(payers=(PayerProfile(id="MCR", kind=PayerKind.MEDICARE),))
        run(fresh_engine, settings=settings)
        with fresh_engine.begin() as conn:
            refund = conn.execute(select(Refund.id)).scalar_one()
            due = suspend_refund(
                conn,
                refund_id=refund,
                until=D(2024, 6, 4),
                reason="audit",
                actor="ann",
                at=CLOCK.now(),
                settings=settings,
            )
        assert due == D(2024, 8, 3)
        run(fresh_engine, settings=settings, window=APRIL)
        assert _refunds(fresh_engine)[0][5] == D(2024, 8, 3)

    def test_commercial_refund_cannot_be_suspended(self, fresh_engine: Engine) -> None:
        """Only a Medicare/Medicaid clock can be suspended."""
        _overpay(fresh_engine)
        run(fresh_engine)
        with (
            fresh_engine.begin() as conn,
            pytest.raises(TransitionRefused, match="Medicare"),
        ):
            suspend_refund(
                conn,
                refund_id=1,
                until=D(2024, 4, 1),
                reason="x",
                actor="a",
                at=CLOCK.now(),
                settings=Settings(),
            )

    @pytest.mark.parametrize(
        ("status_path", "expected"),
        [
            ([], "cancelled"),
            (["approve"], "cancelled"),
            (["approve", "issue"], "issued"),
        ],
    )
    def test_payer_recoupment_never_pays_twice(
        self, fresh_engine: Engine, status_path: list[str], expected: str
    ) -> None:
        """Recouped before issue: cancelled; after issue: refund_recouped."""
        _overpay(fresh_engine)
        run(fresh_engine)
        with fresh_engine.begin() as conn:
            for action in status_path:
                refund_action(
                    conn,
                    refund_id=1,
                    action=action,
                    actor="ann",
                    at=CLOCK.now(),
                    reference="CHK7",
                )
            payment = make_payment(conn, paid_on=D(2024, 4, 10), trace_number="TAKE")
            make_plb(
                conn,
                payment_id=payment,
                reason_code="WO",
                reference="O1",
                amount_cents=2_500,
            )
        run(fresh_engine, window=APRIL)
        assert _refunds(fresh_engine)[0][3] == expected
        kinds = {v["kind"] for v in open_exceptions(fresh_engine).values()}
        assert ("refund_recouped" in kinds) == (expected == "issued")
        if expected == "cancelled":
            with fresh_engine.connect() as conn:
                reason = conn.execute(select(Refund.cancel_reason)).scalar_one()
            assert reason == "recouped by payer"

    def test_vanished_overpayment_cancels_queued_refund(
        self, fresh_engine: Engine
    ) -> None:
        """The payer took the excess back by a reversal and correction: cancelled."""
        _overpay(fresh_engine)
        run(fresh_engine)
        with fresh_engine.begin() as conn:
            payment = make_payment(conn, paid_on=D(2024, 4, 3), trace_number="FIX")
            make_claim_payment(
                conn, payment_id=payment, claim_id="O1", paid_cents=-2_500
            )
        run(fresh_engine, window=APRIL)
        assert _refunds(fresh_engine)[0][3] == "cancelled"
        with fresh_engine.connect() as conn:
            assert conn.execute(select(Refund.cancel_reason)).scalar_one() == (
                "overpayment no longer found"
            )

    def test_72_acknowledges_an_issued_refund(self, fresh_engine: Engine) -> None:
        """The payer's WO/72 pair for the refund's amount acknowledges it."""
        _overpay(fresh_engine)
        run(fresh_engine)
        with fresh_engine.begin() as conn:
            for action in ("approve", "issue"):
                refund_action(
                    conn,
                    refund_id=1,
                    action=action,
                    actor="ann",
                    at=CLOCK.now(),
                    reference="CHK9",
                )
            payment = make_payment(conn, paid_on=D(2024, 4, 15), trace_number="ACK")
            make_plb(
                conn,
                payment_id=payment,
                reason_code="WO",
                reference="CHK9",
                amount_cents=2_500,
            )
            make_plb(
                conn,
                payment_id=payment,
                reason_code="72",
                reference="CHK9",
                amount_cents=-2_500,
            )
        run(fresh_engine, window=APRIL)
        assert _refunds(fresh_engine)[0][3] == "acknowledged"
        with fresh_engine.connect() as conn:
            assert verify_chain(conn).ok
            actions = (
                conn.execute(select(AuditEvent.action).order_by(AuditEvent.id))
                .scalars()
                .all()
            )
        assert actions == ["create", "approve", "issue", "acknowledge"]
        with fresh_engine.connect() as conn:
            assert (
                conn.execute(
                    select(ReconException.kind).where(
                        ReconException.kind == "recoupment"
                    )
                ).first()
                is None
            )


def _issue(engine: Engine, refund_id: int, reference: str) -> None:
    with engine.begin() as conn:
        for action in ("approve", "issue"):
            refund_action(
                conn, refund_id=refund_id, action=action, actor="ann", at=CLOCK.now(),
                reference=reference,
            )  # fmt: skip


class TestOnlyThisOverpaymentsMoney:
    def test_an_older_recoupment_does_not_cancel_a_later_refund(
        self, fresh_engine: Engine
    ) -> None:
        """$30 taken in February is not the $25 overpaid in March; the $25 taken
        in April is, and cancels the refund."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="O1")
            first = make_payment(conn, paid_on=D(2024, 1, 10), trace_number="JAN")
            make_claim_payment(conn, payment_id=first, claim_id="O1", paid_cents=10_000)
            old = make_payment(conn, paid_on=D(2024, 2, 10), trace_number="FEBWO")
            make_plb(
                conn, payment_id=old, reason_code="WO", reference="O1",
                amount_cents=3_000,
            )  # fmt: skip
            extra = make_payment(conn, paid_on=D(2024, 3, 6), trace_number="MAR")
            make_claim_payment(conn, payment_id=extra, claim_id="O1", paid_cents=2_500)
        run(fresh_engine, window=RunWindow(D(2024, 2, 1), D(2024, 2, 29)))
        with fresh_engine.connect() as conn:
            taken = conn.execute(
                select(Recoupment.claim_id, Recoupment.amount_cents, Recoupment.status)
            ).all()
        assert [tuple(t) for t in taken] == [("O1", 3_000, "offset")]
        run(fresh_engine)
        assert _refunds(fresh_engine) == [
            ("overpaid", "payer", 2_500, "queued", D(2024, 3, 6), D(2024, 5, 5))
        ]
        with fresh_engine.begin() as conn:
            take = make_payment(conn, paid_on=D(2024, 4, 10), trace_number="APRWO")
            make_plb(
                conn, payment_id=take, reason_code="WO", reference="O1",
                amount_cents=2_500,
            )  # fmt: skip
        run(fresh_engine, window=APRIL)
        assert _refunds(fresh_engine)[0][2:4] == (2_500, "cancelled")
        with fresh_engine.connect() as conn:
            assert conn.execute(select(Refund.cancel_reason)).scalar_one() == (
                "recouped by payer"
            )


class TestAcknowledgementClosesOne:
    def test_one_pair_acknowledges_one_of_two_equal_refunds(
        self, fresh_engine: Engine
    ) -> None:
        """Two issued $25 refunds to one payer, one WO/72 pair for $25 citing
        neither check: the first issued is acknowledged, the other stays issued,
        also after a re-run."""
        _overpay(fresh_engine, claim="O1")
        _overpay(fresh_engine, claim="O2")
        run(fresh_engine)
        _issue(fresh_engine, 1, "CHK1")
        _issue(fresh_engine, 2, "CHK2")
        with fresh_engine.begin() as conn:
            payment = make_payment(conn, paid_on=D(2024, 4, 15), trace_number="ACK")
            for code, cents in (("WO", 2_500), ("72", -2_500)):
                make_plb(
                    conn, payment_id=payment, reason_code=code, reference="BATCH9",
                    amount_cents=cents,
                )  # fmt: skip
        run(fresh_engine, window=APRIL)
        run(fresh_engine, window=APRIL)
        with fresh_engine.connect() as conn:
            rows = conn.execute(
                select(
                    Refund.id, Refund.amount_cents, Refund.status,
                    Refund.acknowledged_payment_id,
                ).order_by(Refund.id)
            ).all()  # fmt: skip
        assert [tuple(r) for r in rows] == [
            (1, 2_500, "acknowledged", payment),
            (2, 2_500, "issued", None),
        ]
        kinds = {v["kind"] for v in open_exceptions(fresh_engine).values()}
        assert kinds.isdisjoint({"recoupment", "refund_recouped"})


class TestLastPayersShare:
    def test_patient_owes_the_last_payers_responsibility(
        self, fresh_engine: Engine
    ) -> None:
        """Primary: patient owes $40; secondary pays $20 and says $10; the patient
        paid $40: $30 is owed back (not $20, nor nothing)."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="Z", payer_id="CIGNA")
            make_claim(conn, claim_id="COB")
            primary = make_payment(conn, paid_on=D(2024, 3, 5))
            make_claim_payment(
                conn, payment_id=primary, claim_id="COB", paid_cents=10_000,
                patient_resp_cents=4_000,
            )  # fmt: skip
            secondary = make_payment(
                conn, paid_on=D(2024, 3, 9), payer_ref_2u="CIGNA", payer_name="CIGNA",
                originator_id="1888",
            )  # fmt: skip
            make_claim_payment(
                conn, payment_id=secondary, claim_id="COB", status_code="2",
                paid_cents=2_000, patient_resp_cents=1_000,
            )  # fmt: skip
            make_patient_payment(
                conn, claim_id="COB", amount_cents=4_000, received_on=D(2024, 3, 12)
            )
        run(fresh_engine)
        with fresh_engine.connect() as conn:
            refund = conn.execute(
                select(
                    Refund.reason, Refund.payee_kind, Refund.patient_account,
                    Refund.amount_cents, Refund.identified_on,
                )
            ).one()  # fmt: skip
        assert tuple(refund) == (
            "patient_overpaid", "patient", "ACCT1", 3_000, D(2024, 3, 12)
        )  # fmt: skip
