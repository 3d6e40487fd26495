"""Near misses per matching rule: a pair that just matches and one that just does not.

Each class takes one rule and sits on its edges: the last day or cent that still
matches next to the first that does not, another payer, and two candidates for one
row (left unmatched, counted by the rule, and reported as exceptions by the run).
The happy paths live in the neighbouring files; this file is about the edges.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine, select, update

from reconcile.categories import LedgerKind, Pairing, RecoupmentStatus, RefundStatus
from reconcile.db.tables import ReconMatch, ReconRun, Refund
from reconcile.matching import apply_rules
from reconcile.matching.rules import (
    claim_remit_clp01,
    claim_remit_icn,
    era_deposit_amount,
    era_deposit_trace,
    patient_posting_amount,
    patient_posting_exact,
    patient_posting_reference,
    recoupment_posting,
    refund_posting,
    remit_posting_exact,
    remit_posting_reference,
    remit_posting_unreferenced,
)
from reconcile.periods import RunWindow
from reconcile.settings import MatchingSettings, Settings
from tests.factories import (
    make_claim,
    make_claim_payment,
    make_deposit,
    make_ledger_entry,
    make_patient_payment,
    make_payment,
    make_recoupment,
    make_refund,
    make_run,
)
from tests.helpers import open_exceptions, pairs, run, run_context

D = dt.date
MAY = RunWindow(D(2024, 5, 1), D(2024, 5, 31))


def _matched(conn: Connection, pairing: Pairing) -> set[tuple[int, int]]:
    m = ReconMatch
    return {
        (row.left_id, row.right_id)
        for row in conn.execute(
            select(m.left_id, m.right_id).where(m.pairing == pairing)
        )
    }


def _rule_counts(engine: Engine, run_id: int) -> dict[str, dict[str, int]]:
    with engine.connect() as conn:
        counts = conn.execute(
            select(ReconRun.counts).where(ReconRun.id == run_id)
        ).scalar_one()
    rules: dict[str, dict[str, int]] = counts["rules"]
    return rules


class TestClaimRemitClp01Edges:
    def test_paid_on_the_as_of_day_groups_the_day_after_does_not(
        self, connection: Connection
    ) -> None:
        """BPR16 on the window's last day is visible; the next day is not yet."""
        claim = make_claim(connection, claim_id="E1")
        on_day = make_payment(connection, paid_on=D(2024, 3, 31))
        after = make_payment(connection, paid_on=D(2024, 4, 1))
        seen = make_claim_payment(connection, payment_id=on_day, claim_id="E1")
        make_claim_payment(connection, payment_id=after, claim_id="E1")
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, claim_remit_clp01) == {(claim, seen)}

    def test_claim_submitted_on_the_as_of_day_is_visible(
        self, connection: Connection
    ) -> None:
        """A claim submitted on as-of groups; one submitted a day later does not."""
        on_day = make_claim(connection, claim_id="E2", submitted_on=D(2024, 3, 31))
        make_claim(connection, claim_id="E3", submitted_on=D(2024, 4, 1))
        payment = make_payment(connection, paid_on=D(2024, 3, 20))
        cp = make_claim_payment(connection, payment_id=payment, claim_id="E2")
        make_claim_payment(connection, payment_id=payment, claim_id="E3")
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, claim_remit_clp01) == {(on_day, cp)}

    def test_clp01_differs_by_case_or_padding(self, connection: Connection) -> None:
        """CLP01 must equal the claim id exactly: no case folding, no trimming."""
        make_claim(connection, claim_id="ABC1")
        payment = make_payment(connection)
        make_claim_payment(connection, payment_id=payment, claim_id="abc1")
        make_claim_payment(connection, payment_id=payment, claim_id="ABC1 ")
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, claim_remit_clp01) == set()


class TestClaimRemitIcnEdges:
    def _original(self, conn: Connection, *, icn: str = "ICN-1") -> int:
        claim = make_claim(conn, claim_id="ORIG")
        first = make_payment(conn, paid_on=D(2024, 3, 1))
        make_claim_payment(conn, payment_id=first, claim_id="ORIG", payer_control=icn)
        return claim

    def test_reversal_with_changed_clp01_joins_by_clp07(
        self, connection: Connection
    ) -> None:
        """A CLP02 22 reversal carrying the original CLP07 joins that claim."""
        claim = self._original(connection)
        later = make_payment(connection, paid_on=D(2024, 3, 12))
        reversal = make_claim_payment(
            connection, payment_id=later, claim_id="RENAMED", status_code="22",
            paid_cents=-10_000, payer_control="ICN-1",
        )  # fmt: skip
        with run_context(connection, run_id=make_run(connection)) as ctx:
            apply_rules(connection, ctx)
        assert (claim, reversal) in _matched(connection, Pairing.CLAIM_REMIT)

    def test_near_misses(self, connection: Connection) -> None:
        """An ICN one character off, a non-reversal sharing CLP07, a correction paid
        after as-of, and another payer's reversal: none joins."""
        self._original(connection)
        later = make_payment(connection, paid_on=D(2024, 3, 12))
        make_claim_payment(
            connection, payment_id=later, claim_id="N1", original_ref="ICN-2"
        )
        make_claim_payment(
            connection, payment_id=later, claim_id="N2", payer_control="ICN-1"
        )
        late = make_payment(connection, paid_on=D(2024, 4, 1))
        make_claim_payment(
            connection, payment_id=late, claim_id="N3", original_ref="ICN-1"
        )
        make_claim(connection, claim_id="CIG", payer_id="CIGNA")
        theirs = make_payment(connection, payer_ref_2u="CIGNA", originator_id="1888")
        make_claim_payment(
            connection, payment_id=theirs, claim_id="N4", status_code="22",
            paid_cents=-10_000, payer_control="ICN-1",
        )  # fmt: skip
        with run_context(connection, run_id=make_run(connection)) as ctx:
            results = apply_rules(connection, ctx)
            assert pairs(connection, ctx, claim_remit_icn) == set()
        assert results["claim_remit_icn"].matched == 0


class TestEraDepositTraceEdges:
    def test_early_settlement_two_days_not_three(self, connection: Connection) -> None:
        """An EFT may post up to 2 calendar days before BPR16, not 3."""
        make_claim(connection)
        ok = make_payment(connection, trace_number="E2", paid_on=D(2024, 3, 6))
        early = make_deposit(connection, trace_number="E2", deposit_on=D(2024, 3, 4))
        make_payment(connection, trace_number="E3", paid_on=D(2024, 3, 6))
        make_deposit(connection, trace_number="E3", deposit_on=D(2024, 3, 3))
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, era_deposit_trace) == {(ok, early)}

    def test_deadline_skips_a_federal_reserve_holiday(
        self, connection: Connection
    ) -> None:
        """Paid Fri May 24 2024: Memorial Day does not count, Thu 30 is day 3, Fri 31
        one business day outside."""
        make_claim(connection)
        ok = make_payment(connection, trace_number="MEM1", paid_on=D(2024, 5, 24))
        in_time = make_deposit(
            connection, trace_number="MEM1", deposit_on=D(2024, 5, 30)
        )
        make_payment(connection, trace_number="MEM2", paid_on=D(2024, 5, 24))
        make_deposit(connection, trace_number="MEM2", deposit_on=D(2024, 5, 31))
        with run_context(connection, window=MAY) as ctx:
            assert pairs(connection, ctx, era_deposit_trace) == {(ok, in_time)}

    def test_configured_business_days_move_the_edge(
        self, connection: Connection
    ) -> None:
        """With ``deposit_business_days = 4`` the 4th business day matches."""
        make_claim(connection)
        payment = make_payment(connection, trace_number="E4", paid_on=D(2024, 3, 1))
        deposit = make_deposit(connection, trace_number="E4", deposit_on=D(2024, 3, 7))
        four = Settings(matching=MatchingSettings(deposit_business_days=4))
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, era_deposit_trace) == set()
        with run_context(connection, settings=four) as ctx:
            assert pairs(connection, ctx, era_deposit_trace) == {(payment, deposit)}

    def test_deposit_after_as_of_is_invisible(self, connection: Connection) -> None:
        """A deposit dated after the window's last day does not exist for the run."""
        make_claim(connection)
        make_payment(connection, trace_number="E5", paid_on=D(2024, 3, 29))
        make_deposit(connection, trace_number="E5", deposit_on=D(2024, 4, 1))
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, era_deposit_trace) == set()

    def test_two_835s_for_one_deposit_stay_unmatched_and_reported(
        self, fresh_engine: Engine
    ) -> None:
        """Two 835s share a trace and payer (a re-issued payment of another amount):
        the deposit is ambiguous, nothing is matched, the rule counts it, and the
        run reports all three rows."""
        with fresh_engine.begin() as conn:
            make_claim(conn)
            for amount in (10_000, 9_000):  # the key (TRN, BPR02, BPR16) differs
                make_payment(
                    conn, trace_number="TWICE", amount_cents=amount,
                    paid_on=D(2024, 3, 4),
                )  # fmt: skip
            make_deposit(conn, trace_number="TWICE", deposit_on=D(2024, 3, 5))
        result = run(fresh_engine)
        with fresh_engine.connect() as conn:
            assert _matched(conn, Pairing.ERA_DEPOSIT) == set()
        assert _rule_counts(fresh_engine, result.run_id)["era_deposit_trace"] == {
            "matched": 0,
            "ambiguous": 2,
        }
        assert result.summary["exceptions"]["era_without_deposit"]["count"] == 2
        assert result.summary["exceptions"]["deposit_without_era"]["count"] == 1


class TestEraDepositAmountEdges:
    def test_last_business_day_matches_next_one_does_not(
        self, connection: Connection
    ) -> None:
        """Untraced: Wed Mar 6 (day 3 after Fri Mar 1) matches; Thu Mar 7 does not."""
        make_claim(connection)
        ok = make_payment(
            connection, amount_cents=31_000, paid_on=D(2024, 3, 1), payer_name="AETNA"
        )
        in_time = make_deposit(
            connection, amount_cents=31_000, deposit_on=D(2024, 3, 6),
            payer_name="AETNA",
        )  # fmt: skip
        make_payment(
            connection, amount_cents=32_000, paid_on=D(2024, 3, 1), payer_name="AETNA"
        )
        make_deposit(
            connection, amount_cents=32_000, deposit_on=D(2024, 3, 7),
            payer_name="AETNA",
        )  # fmt: skip
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, era_deposit_amount) == {(ok, in_time)}

    def test_a_cent_over_does_not_match(self, connection: Connection) -> None:
        """One cent more than BPR02 is another amount (no tolerance on deposits)."""
        make_claim(connection)
        make_payment(connection, amount_cents=40_000, payer_name="AETNA")
        make_deposit(connection, amount_cents=40_001, payer_name="AETNA")
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, era_deposit_amount) == set()

    def test_untraced_deposit_without_payer_name_never_matches(
        self, connection: Connection
    ) -> None:
        """Without a trace the payer name is the only identity: none, no match."""
        make_claim(connection)
        make_payment(connection, amount_cents=41_000, payer_name="AETNA")
        make_deposit(connection, amount_cents=41_000, payer_name=None)
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, era_deposit_amount) == set()

    def test_two_equal_deposits_stay_unmatched_and_reported(
        self, fresh_engine: Engine
    ) -> None:
        """Two untraced deposits of the same amount and payer: ambiguous, counted,
        and reported (one 835 without deposit, two deposits without 835)."""
        with fresh_engine.begin() as conn:
            make_claim(conn)
            make_payment(
                conn, amount_cents=27_500, paid_on=D(2024, 3, 4), payer_name="AETNA"
            )
            for _ in range(2):
                make_deposit(
                    conn, amount_cents=27_500, deposit_on=D(2024, 3, 5),
                    payer_name="AETNA",
                )  # fmt: skip
        result = run(fresh_engine)
        assert _rule_counts(fresh_engine, result.run_id)["era_deposit_amount"] == {
            "matched": 0,
            "ambiguous": 1,
        }
        found = result.summary["exceptions"]
        assert found["era_without_deposit"] == {"count": 1, "amount": "275.00"}
        assert found["deposit_without_era"] == {"count": 2, "amount": "550.00"}


def _remit(
    conn: Connection, *, paid: int = 10_000, trace: str = "TR1", claim: str = "P1"
) -> int:
    make_claim(conn, claim_id=claim)
    payment = make_payment(conn, trace_number=trace, paid_on=D(2024, 3, 4))
    return make_claim_payment(conn, payment_id=payment, claim_id=claim, paid_cents=paid)


class TestRemitPostingExactEdges:
    def test_posted_on_as_of_matches_a_day_later_does_not(
        self, connection: Connection
    ) -> None:
        """A posting dated after the window's last day is invisible to the run."""
        cp = _remit(connection)
        make_ledger_entry(
            connection, claim_id="P1", reference="TR1", posted_on=D(2024, 4, 1)
        )
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, remit_posting_exact) == set()
        on_day = make_ledger_entry(
            connection, claim_id="P1", reference="TR1", posted_on=D(2024, 3, 31)
        )
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, remit_posting_exact) == {(cp, on_day)}

    def test_a_cent_over_and_another_claim(self, connection: Connection) -> None:
        """One cent more, or the right money on another claim: no exact pair."""
        _remit(connection)
        make_ledger_entry(
            connection, claim_id="P1", reference="TR1", amount_cents=10_001
        )
        make_ledger_entry(connection, claim_id="P2", reference="TR1")
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, remit_posting_exact) == set()

    def test_reversal_posted_negative_matches(self, connection: Connection) -> None:
        """A CLP04 of −100.00 matches a −100.00 posting, not a +100.00 one."""
        make_claim(connection, claim_id="RV")
        payment = make_payment(connection, trace_number="TRV")
        reversal = make_claim_payment(
            connection, payment_id=payment, claim_id="RV", status_code="22",
            paid_cents=-10_000,
        )  # fmt: skip
        negative = make_ledger_entry(
            connection, claim_id="RV", reference="TRV", amount_cents=-10_000
        )
        make_ledger_entry(
            connection, claim_id="RV", reference="TRV", amount_cents=10_000
        )
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, remit_posting_exact) == {(reversal, negative)}

    def test_posting_twice_leaves_both_unmatched_and_reported(
        self, fresh_engine: Engine
    ) -> None:
        """The same payment posted twice: ambiguous, counted, and reported as one
        payment not posted and two postings without payment."""
        with fresh_engine.begin() as conn:
            _remit(conn)
            for entry in ("L-A", "L-B"):
                make_ledger_entry(
                    conn, claim_id="P1", reference="TR1", entry_id=entry,
                    posted_on=D(2024, 3, 5),
                )  # fmt: skip
        result = run(fresh_engine)
        counts = _rule_counts(fresh_engine, result.run_id)
        assert counts["remit_posting_exact"] == {"matched": 0, "ambiguous": 1}
        assert counts["remit_posting_reference"] == {"matched": 0, "ambiguous": 1}
        found = result.summary["exceptions"]
        assert found["not_posted"] == {"count": 1, "amount": "100.00"}
        assert found["posting_without_payment"] == {"count": 2, "amount": "200.00"}


class TestRemitPostingReferenceEdges:
    def test_near_misses(self, connection: Connection) -> None:
        """Another payer, another claim, another reference, a patient posting."""
        _remit(connection)
        make_ledger_entry(
            connection, claim_id="P1", reference="TR1", payer_id="CIGNA",
            amount_cents=1,
        )  # fmt: skip
        make_ledger_entry(connection, claim_id="P9", reference="TR1", amount_cents=1)
        make_ledger_entry(connection, claim_id="P1", reference="TR9", amount_cents=1)
        make_ledger_entry(
            connection, claim_id="P1", reference="TR1", amount_cents=1,
            kind=LedgerKind.PATIENT_PAYMENT, payer_id=None,
        )  # fmt: skip
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, remit_posting_reference) == set()

    def test_exact_twin_is_taken_first(self, connection: Connection) -> None:
        """An exact and a mis-keyed posting with one reference: the exact one wins,
        the other is left for ``posting_without_payment`` (not ambiguous)."""
        cp = _remit(connection)
        exact = make_ledger_entry(connection, claim_id="P1", reference="TR1")
        make_ledger_entry(
            connection, claim_id="P1", reference="TR1", amount_cents=1_000
        )
        with run_context(connection, run_id=make_run(connection)) as ctx:
            results = apply_rules(connection, ctx)
        assert _matched(connection, Pairing.REMIT_POSTING) == {(cp, exact)}
        assert results["remit_posting_reference"].ambiguous == 0


class TestRemitPostingUnreferencedEdges:
    def test_near_misses(self, connection: Connection) -> None:
        """A cent short, another payer, another claim: no pair."""
        _remit(connection)
        make_ledger_entry(connection, claim_id="P1", reference=None, amount_cents=9_999)
        make_ledger_entry(connection, claim_id="P1", reference=None, payer_id="CIGNA")
        make_ledger_entry(connection, claim_id="P2", reference=None)
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, remit_posting_unreferenced) == set()

    def test_two_unreferenced_postings_are_ambiguous(
        self, connection: Connection
    ) -> None:
        """Two equal postings without reference for one payment: neither matches."""
        _remit(connection)
        for _ in range(2):
            make_ledger_entry(connection, claim_id="P1", reference=None)
        with run_context(connection, run_id=make_run(connection)) as ctx:
            results = apply_rules(connection, ctx)
        assert results["remit_posting_unreferenced"].matched == 0
        assert results["remit_posting_unreferenced"].ambiguous == 1
        assert _matched(connection, Pairing.REMIT_POSTING) == set()


def _patient_posting(conn: Connection, **kw: object) -> int:
    values: dict[str, object] = {
        "kind": LedgerKind.PATIENT_PAYMENT, "payer_id": None, "amount_cents": 2_000,
        "posted_on": D(2024, 3, 4),
    }  # fmt: skip
    values.update(kw)
    return make_ledger_entry(conn, **values)  # type: ignore[arg-type]


class TestPatientPostingExactEdges:
    def test_payment_id_as_reference(self, connection: Connection) -> None:
        """The posting may carry the payment id instead of the receipt reference."""
        pay = make_patient_payment(connection, payment_id="PP77", reference="R77")
        entry = _patient_posting(connection, reference="PP77")
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, patient_posting_exact) == {(pay, entry)}

    def test_near_misses(self, connection: Connection) -> None:
        """A cent off, another account, an insurance posting, posted after as-of."""
        make_patient_payment(connection, reference="R1")
        _patient_posting(connection, reference="R1", amount_cents=1_999)
        _patient_posting(connection, reference="R1", patient_account="ACCT2")
        make_ledger_entry(
            connection, kind=LedgerKind.INSURANCE_PAYMENT, reference="R1",
            amount_cents=2_000,
        )  # fmt: skip
        _patient_posting(connection, reference="R1", posted_on=D(2024, 4, 1))
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, patient_posting_exact) == set()

    def test_received_after_as_of_is_invisible(self, connection: Connection) -> None:
        """A payment received after the window's last day cannot be posted yet."""
        make_patient_payment(connection, reference="R2", received_on=D(2024, 4, 1))
        _patient_posting(connection, reference="R2")
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, patient_posting_exact) == set()


class TestPatientPostingReferenceEdges:
    def test_reference_one_character_off(self, connection: Connection) -> None:
        """``R10`` is not ``R1``: no pair, whatever the amount."""
        make_patient_payment(connection, reference="R1")
        _patient_posting(connection, reference="R10", amount_cents=200)
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, patient_posting_reference) == set()


class TestPatientPostingAmountEdges:
    def test_posted_on_receipt_day_matches_day_before_does_not(
        self, connection: Connection
    ) -> None:
        """Posted the day the money came in: fine; the day before: not this money."""
        pay = make_patient_payment(connection, received_on=D(2024, 3, 6))
        same_day = _patient_posting(connection, reference=None, posted_on=D(2024, 3, 6))
        _patient_posting(
            connection, reference=None, posted_on=D(2024, 3, 5), entry_id="EARLY"
        )
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, patient_posting_amount) == {(pay, same_day)}

    def test_near_misses(self, connection: Connection) -> None:
        """A cent off, another account, another claim: no pair."""
        make_patient_payment(connection, claim_id="C1")
        _patient_posting(connection, reference=None, amount_cents=2_001)
        _patient_posting(connection, reference=None, patient_account="ACCT2")
        _patient_posting(connection, reference=None, claim_id="C2")
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, patient_posting_amount) == set()

    def test_two_equal_payments_for_one_posting_are_ambiguous(
        self, connection: Connection
    ) -> None:
        """Two $20 payments on one account and one $20 posting: nothing matches."""
        for _ in range(2):
            make_patient_payment(connection, claim_id=None)
        _patient_posting(connection, reference=None, claim_id=None)
        with run_context(connection, run_id=make_run(connection)) as ctx:
            results = apply_rules(connection, ctx)
        assert results["patient_posting_amount"].matched == 0
        assert results["patient_posting_amount"].ambiguous == 2
        assert _matched(connection, Pairing.PATIENT_POSTING) == set()


class TestRefundPostingEdges:
    def _issued(self, conn: Connection, *, status: RefundStatus) -> int:
        refund = make_refund(conn, status=status, amount_cents=5_000, claim_id="R1")
        conn.execute(update(Refund).where(Refund.id == refund).values(reference="CK1"))
        return refund

    def test_near_misses(self, connection: Connection) -> None:
        """A cent off, another check number, a positive entry, another claim."""
        self._issued(connection, status=RefundStatus.ISSUED)
        for amount, reference, claim in (
            (-5_001, "CK1", "R1"),
            (-5_000, "CK2", "R1"),
            (5_000, "CK1", "R1"),
            (-5_000, "CK1", "R2"),
        ):
            make_ledger_entry(
                connection, kind=LedgerKind.REFUND, amount_cents=amount,
                reference=reference, claim_id=claim,
            )  # fmt: skip
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, refund_posting) == set()

    def test_only_a_sent_refund_matches(self, connection: Connection) -> None:
        """An approved refund not yet sent has no posting; once issued it has."""
        queued = self._issued(connection, status=RefundStatus.APPROVED)
        entry = make_ledger_entry(
            connection, kind=LedgerKind.REFUND, amount_cents=-5_000,
            reference="CK1", claim_id="R1",
        )  # fmt: skip
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, refund_posting) == set()
        connection.execute(
            update(Refund).where(Refund.id == queued).values(status=RefundStatus.ISSUED)
        )
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, refund_posting) == {(queued, entry)}


class TestRecoupmentPostingEdges:
    def test_taken_recoupment_matches_near_misses_do_not(
        self, connection: Connection
    ) -> None:
        """The exact negative amount by the same payer on the claim matches; a cent
        off, another payer, or a recoupment not yet taken does not."""
        taken = make_recoupment(
            connection, status=RecoupmentStatus.OFFSET, amount_cents=3_000,
            claim_id="W1",
        )  # fmt: skip
        make_recoupment(
            connection, status=RecoupmentStatus.NOTICED, amount_cents=3_000,
            claim_id="W2",
        )  # fmt: skip
        entry = make_ledger_entry(
            connection, kind=LedgerKind.RECOUPMENT, amount_cents=-3_000, claim_id="W1"
        )
        for amount, payer, claim in (
            (-2_999, "AETNA", "W1"),
            (-3_000, "CIGNA", "W1"),
            (-3_000, "AETNA", "W2"),
        ):
            make_ledger_entry(
                connection, kind=LedgerKind.RECOUPMENT, amount_cents=amount,
                payer_id=payer, claim_id=claim,
            )  # fmt: skip
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, recoupment_posting) == {(taken, entry)}


class TestAmbiguityIsReported:
    def test_counted_rows_are_exactly_the_reported_ones(
        self, fresh_engine: Engine
    ) -> None:
        """An ambiguous deposit pair leaves no row silently dropped: every row the
        rule skipped is the subject of an exception once its grace has passed."""
        with fresh_engine.begin() as conn:
            make_claim(conn)
            payment = make_payment(
                conn, trace_number="AMB", amount_cents=5_000, paid_on=D(2024, 3, 4)
            )
            deposits = [
                make_deposit(
                    conn, trace_number="AMB", amount_cents=5_000,
                    deposit_on=D(2024, 3, 5), deposit_id=deposit_id,
                )
                for deposit_id in ("DA", "DB")
            ]  # fmt: skip
        run(fresh_engine)
        subjects = sorted(
            (v["kind"], v["subject"])
            for v in open_exceptions(fresh_engine).values()
            if v["subject"][0] in {"x12_payment", "bank_deposit"}
        )
        assert subjects == [
            ("deposit_without_era", ("bank_deposit", deposits[0])),
            ("deposit_without_era", ("bank_deposit", deposits[1])),
            ("era_without_deposit", ("x12_payment", payment)),
        ]
