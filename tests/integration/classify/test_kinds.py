"""Every exception kind of the matching issue, with near misses, precedence,
sequestration, tolerances, coordination of benefits and grace periods."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Engine, update

from reconcile.categories import LedgerKind
from reconcile.db.tables import X12Payment
from reconcile.periods import RunWindow
from reconcile.settings import MatchingSettings, PayerProfile, Settings
from tests.factories import (
    make_adjustment,
    make_claim,
    make_claim_payment,
    make_deposit,
    make_ledger_entry,
    make_patient_payment,
    make_payment,
    make_service_line,
)
from tests.helpers import claim_kinds, open_exceptions, run

D = dt.date


def _paid(  # type: ignore[no-untyped-def]
    conn, *, claim: str = "C1", paid: int, expected: int = 10_000, status: str = "1"
):
    make_claim(conn, claim_id=claim, expected_cents=expected)
    payment = make_payment(conn, paid_on=D(2024, 3, 4))
    return make_claim_payment(
        conn, payment_id=payment, claim_id=claim, paid_cents=paid, status_code=status
    )


class TestClaimKinds:
    def test_underpaid_beyond_tolerance(self, fresh_engine: Engine) -> None:
        """$98.99 paid on $100 expected is $1.01 short: beyond the $1.00 tolerance."""
        with fresh_engine.begin() as conn:
            _paid(conn, claim="U1", paid=9_899)
            _paid(conn, claim="U2", paid=9_900)  # exactly at tolerance: fine
        run(fresh_engine)
        assert claim_kinds(fresh_engine) == {("underpaid", "U1"): 101}

    def test_overpaid(self, fresh_engine: Engine) -> None:
        """Paid more than the contract beyond tolerance is overpaid."""
        with fresh_engine.begin() as conn:
            _paid(conn, claim="O1", paid=12_000)
        run(fresh_engine)
        assert claim_kinds(fresh_engine) == {("overpaid", "O1"): 2_000}

    def test_percent_tolerance_per_payer(self, fresh_engine: Engine) -> None:
        """A payer profile's 5% tolerance absorbs a $4 shortfall on $100."""
        with fresh_engine.begin() as conn:
            _paid(conn, claim="T1", paid=9_600)
        settings = Settings(
            payers=(PayerProfile(id="AETNA", tolerance_percent=Decimal(5)),)
        )
        run(fresh_engine, settings=settings)
        assert claim_kinds(fresh_engine) == {}

    def test_sequestration_is_not_underpayment(self, fresh_engine: Engine) -> None:
        """CARC 253 (2% sequestration) is added back before comparing."""
        with fresh_engine.begin() as conn:
            cp = _paid(conn, claim="S1", paid=9_800)
            make_adjustment(
                conn, claim_payment_id=cp, reason_code="253", amount_cents=200
            )
            cp2 = _paid(conn, claim="S2", paid=9_700)
            make_adjustment(
                conn, claim_payment_id=cp2, reason_code="253", amount_cents=200
            )
        run(
            fresh_engine,
            settings=Settings(matching=MatchingSettings(tolerance_cents=0)),
        )
        assert claim_kinds(fresh_engine) == {("underpaid", "S2"): 100}

    def test_denied_claim_and_denied_line(self, fresh_engine: Engine) -> None:
        """CLP02 4 and a $0 line under CO-50 are denials, with their codes."""
        with fresh_engine.begin() as conn:
            cp = _paid(conn, claim="D1", paid=0, status="4")
            make_adjustment(
                conn, claim_payment_id=cp, reason_code="50", amount_cents=20_000
            )
            cp2 = _paid(conn, claim="D2", paid=6_000)
            line = make_service_line(conn, claim_payment_id=cp2, paid_cents=0)
            make_adjustment(
                conn, claim_payment_id=cp2, service_line_id=line, reason_code="50",
                amount_cents=4_000,
            )  # fmt: skip
        run(fresh_engine)
        found = open_exceptions(fresh_engine)
        assert claim_kinds(fresh_engine) == {
            ("denied", "D1"): 10_000,
            ("denied", "D2"): 4_000,
        }
        d1 = next(v for k, v in found.items() if k.endswith(":D1"))
        assert d1["kind"] == "denied"

    def test_zero_paid_to_deductible_is_not_a_denial(
        self, fresh_engine: Engine
    ) -> None:
        """Nothing paid because of the PR-1 deductible is no denial."""
        with fresh_engine.begin() as conn:
            cp = _paid(conn, claim="P1", paid=0, expected=0)
            make_adjustment(
                conn, claim_payment_id=cp, group_code="PR", reason_code="1",
                amount_cents=20_000,
            )  # fmt: skip
        run(fresh_engine)
        assert claim_kinds(fresh_engine) == {}

    def test_unpaid_after_n_days_per_payer(self, fresh_engine: Engine) -> None:
        """No payment 45 days after submission is unpaid; day 44 is still pending."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="N1", submitted_on=D(2024, 2, 16))  # 44 days
            make_claim(conn, claim_id="N2", submitted_on=D(2024, 2, 15))  # 45 days
        result = run(fresh_engine)
        assert claim_kinds(fresh_engine) == {("unpaid_claim", "N2"): 10_000}
        assert result.summary["pending"]["claims_awaiting_payment"] == 1
        slow = Settings(payers=(PayerProfile(id="AETNA", unpaid_after_days=60),))
        run(fresh_engine, settings=slow)
        assert claim_kinds(fresh_engine) == {}

    def test_cob_payment_does_not_count_as_the_payers(
        self, fresh_engine: Engine
    ) -> None:
        """A secondary payer's CLP02 2 payment does not pay the primary's claim."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="X1", payer_id="CIGNA")  # gives CIGNA a code
            make_claim(conn, claim_id="COB1", submitted_on=D(2024, 1, 2))
            secondary = make_payment(conn, payer_ref_2u="CIGNA", originator_id="1888")
            make_claim_payment(
                conn, payment_id=secondary, claim_id="COB1", status_code="2",
                paid_cents=3_000,
            )  # fmt: skip
            primary = make_payment(conn)
            make_claim_payment(
                conn, payment_id=primary, claim_id="COB1", paid_cents=7_000
            )
        run(fresh_engine)
        found = claim_kinds(fresh_engine)
        assert found[("underpaid", "COB1")] == 3_000
        assert ("unpaid_claim", "X1") in found

    def test_reversal_and_correction_net(self, fresh_engine: Engine) -> None:
        """Original 100, reversal −100, correction 80: net paid 80 (underpaid 20)."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="R1")
            first = make_payment(conn, paid_on=D(2024, 3, 1))
            make_claim_payment(conn, payment_id=first, claim_id="R1", paid_cents=10_000)
            later = make_payment(conn, paid_on=D(2024, 3, 15))
            make_claim_payment(
                conn,
                payment_id=later,
                claim_id="R1",
                status_code="22",
                paid_cents=-10_000,
            )
            make_claim_payment(conn, payment_id=later, claim_id="R1", paid_cents=8_000)
        run(fresh_engine)
        assert claim_kinds(fresh_engine) == {("underpaid", "R1"): 2_000}


class TestRemittanceKinds:
    def test_unmatched_remittance_unknown_claim_and_unknown_payer(
        self, fresh_engine: Engine
    ) -> None:
        """A CLP01 no claim has, and an 835 from an unrecognised payer."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="K1", submitted_on=D(2024, 3, 1))
            known = make_payment(conn)
            make_claim_payment(conn, payment_id=known, claim_id="NOPE", paid_cents=500)
            stranger = make_payment(conn, payer_ref_2u="WHO", originator_id="1666")
            make_claim_payment(conn, payment_id=stranger, claim_id="K1", paid_cents=700)
        run(fresh_engine)
        details = {
            v["claim"]: v for v in open_exceptions(fresh_engine).values()
            if v["kind"] == "unmatched_remittance"
        }  # fmt: skip
        assert set(details) == {"NOPE", "K1"}
        assert details["K1"]["amount"] == 700

    def test_same_trace_different_amounts_are_two_payments(
        self, fresh_engine: Engine
    ) -> None:
        """A payer reusing a trace for a second payment of another BPR02 amount (a
        re-issued check) gives two 835 payments: each keeps its own exceptions."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="K1", submitted_on=D(2024, 3, 1))
            for amount in (500, 900):
                payment = make_payment(
                    conn,
                    trace_number="CHK77",
                    amount_cents=amount,
                    paid_on=D(2024, 3, 4),
                )
                make_claim_payment(
                    conn, payment_id=payment, claim_id="NOPE", paid_cents=amount, seq=1
                )
        run(fresh_engine)
        found = sorted(
            (v["kind"], v["amount"]) for v in open_exceptions(fresh_engine).values()
            if v["kind"] in {"unmatched_remittance", "era_without_deposit"}
        )  # fmt: skip
        assert found == [
            ("era_without_deposit", 500),
            ("era_without_deposit", 900),
            ("unmatched_remittance", 500),
            ("unmatched_remittance", 900),
        ]

    def test_unbalanced_remittance_in_its_window(self, fresh_engine: Engine) -> None:
        """An unbalanced 835 is reported by the runs whose window holds its date."""
        with fresh_engine.begin() as conn:
            make_claim(conn)
            payment = make_payment(conn, paid_on=D(2024, 3, 4))
            conn.execute(
                update(X12Payment)
                .where(X12Payment.id == payment)
                .values(unbalanced=True)
            )
        run(fresh_engine, window=RunWindow(D(2024, 2, 1), D(2024, 2, 29)))
        assert "unbalanced_remittance" not in {
            v["kind"] for v in open_exceptions(fresh_engine).values()
        }
        run(fresh_engine)
        assert "unbalanced_remittance" in {
            v["kind"] for v in open_exceptions(fresh_engine).values()
        }


class TestDepositKinds:
    def test_era_without_deposit_only_after_grace(self, fresh_engine: Engine) -> None:
        """Paid Tue Mar 26: pending on Mar 29 (3rd business day), missing after it."""
        with fresh_engine.begin() as conn:
            make_claim(conn)
            make_payment(conn, paid_on=D(2024, 3, 26), trace_number="LOST")
        early = run(fresh_engine, window=RunWindow(D(2024, 3, 29), D(2024, 3, 29)))
        assert early.summary["pending"]["remittances_awaiting_deposit"] == 1
        assert "era_without_deposit" not in early.summary["exceptions"]
        late = run(fresh_engine, window=RunWindow(D(2024, 4, 1), D(2024, 4, 1)))
        assert late.summary["exceptions"]["era_without_deposit"]["count"] == 1

    def test_notification_only_is_never_missing_a_deposit(
        self, fresh_engine: Engine
    ) -> None:
        """BPR H / NON moves no money: no deposit expected."""
        with fresh_engine.begin() as conn:
            make_claim(conn)
            make_payment(conn, handling_code="H", method="NON", amount_cents=0)
        result = run(fresh_engine)
        assert "era_without_deposit" not in result.summary["exceptions"]

    def test_deposit_amount_mismatch_wins_over_missing(
        self, fresh_engine: Engine
    ) -> None:
        """A short deposit with the right trace is a mismatch, not two orphans."""
        with fresh_engine.begin() as conn:
            make_claim(conn)
            make_payment(conn, trace_number="SHORT", amount_cents=10_000)
            make_deposit(conn, trace_number="SHORT", amount_cents=9_000)
            make_deposit(conn, trace_number="ALONE", deposit_on=D(2024, 3, 5))
        result = run(fresh_engine)
        found = result.summary["exceptions"]
        assert found["deposit_amount_mismatch"] == {"count": 1, "amount": "10.00"}
        assert found["deposit_without_era"] == {"count": 1, "amount": "100.00"}
        assert "era_without_deposit" not in found


class TestPostingKinds:
    def test_not_posted_mismatch_and_orphan_posting(self, fresh_engine: Engine) -> None:
        """Unposted payment, wrong-amount posting, posting without a payment."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="A")
            make_claim(conn, claim_id="B")
            payment = make_payment(conn, trace_number="TRX", paid_on=D(2024, 3, 4))
            make_claim_payment(
                conn, payment_id=payment, claim_id="A", paid_cents=10_000
            )
            make_claim_payment(
                conn, payment_id=payment, claim_id="B", paid_cents=10_000
            )
            make_ledger_entry(conn, claim_id="B", reference="TRX", amount_cents=1_000)
            make_ledger_entry(conn, claim_id="Z", reference="NONE", amount_cents=4_200)
            make_deposit(conn, trace_number="TRX", amount_cents=10_000)
        result = run(fresh_engine)
        found = {
            (v["kind"], v["claim"]): v["amount"]
            for v in open_exceptions(fresh_engine).values()
            if v["kind"]
            in ("not_posted", "posting_mismatch", "posting_without_payment")
        }
        assert found == {
            ("not_posted", "A"): 10_000,
            ("posting_mismatch", "B"): 9_000,
            ("posting_without_payment", "Z"): 4_200,
        }
        assert result.summary["pending"]["payments_awaiting_posting"] == 0

    def test_patient_payment_not_posted_after_grace(self, fresh_engine: Engine) -> None:
        """A patient payment received 6 days before as-of without posting."""
        with fresh_engine.begin() as conn:
            make_claim(conn)
            make_patient_payment(conn, received_on=D(2024, 3, 25), amount_cents=3_000)
            make_patient_payment(conn, received_on=D(2024, 3, 29), amount_cents=1_000)
            make_ledger_entry(
                conn, kind=LedgerKind.ADJUSTMENT, reference=None, amount_cents=-500
            )
        result = run(fresh_engine)
        assert result.summary["exceptions"]["not_posted"] == {
            "count": 1,
            "amount": "30.00",
        }
        assert result.summary["pending"]["payments_awaiting_posting"] == 1
        assert "posting_without_payment" not in result.summary["exceptions"]
