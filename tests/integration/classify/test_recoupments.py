"""Reversals and recoupments: what payers take back, linked to what they paid."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine, select

from reconcile.db.tables import ReconException as E
from reconcile.db.tables import ReconRun, Recoupment, Refund
from reconcile.periods import RunWindow
from reconcile.queues import recoupment_action
from reconcile.queues.notices import add_notice
from reconcile.settings import PayerKind, PayerProfile, PlbReferenceLayout, Settings
from tests.factories import (
    make_adjustment,
    make_claim,
    make_claim_payment,
    make_payment,
    make_plb,
    make_service_line,
)
from tests.helpers import CLOCK, claim_kinds, open_exceptions, run

D = dt.date
APRIL = RunWindow(D(2024, 4, 1), D(2024, 4, 30))
MAY = RunWindow(D(2024, 5, 1), D(2024, 5, 31))


def _remit(
    conn: Connection,
    *,
    on: dt.date,
    trace: str,
    lines: list[tuple[str, str, int, str | None]],
    amount: int = 0,
) -> int:
    """One 835: (claim, CLP02, CLP04, CLP07) per claim payment."""
    payment = make_payment(conn, paid_on=on, trace_number=trace, amount_cents=amount)
    for claim_id, status, paid, control in lines:
        make_claim_payment(
            conn, payment_id=payment, claim_id=claim_id, status_code=status,
            paid_cents=paid, payer_control=control,
        )  # fmt: skip
    return payment


def _recoupments(engine: Engine) -> list[tuple[str, str | None, int, str]]:
    r = Recoupment
    with engine.connect() as conn:
        rows = conn.execute(
            select(r.reason, r.claim_id, r.amount_cents, r.status).order_by(r.id)
        ).all()
    return [(str(a), b, c, str(d)) for a, b, c, d in rows]


class TestReversals:
    def test_correction_in_same_835_for_less_is_one_offset(
        self, fresh_engine: Engine
    ) -> None:
        """Paid 100, reversed −100 and corrected 80 in one 835: 20 taken there."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="R1")
            _remit(
                conn, on=D(2024, 2, 5), trace="T1", lines=[("R1", "1", 10_000, "ICN1")]
            )
            _remit(
                conn, on=D(2024, 3, 5), trace="T2",
                lines=[("R1", "22", -10_000, "ICN1"), ("R1", "1", 8_000, "ICN2")],
            )  # fmt: skip
        run(fresh_engine)
        assert _recoupments(fresh_engine) == [("reversal", "R1", 2_000, "offset")]
        # The shortfall is explained by the underpaid claim: no recoupment exception.
        assert claim_kinds(fresh_engine) == {("underpaid", "R1"): 2_000}
        assert "recoupment" not in {
            v["kind"] for v in open_exceptions(fresh_engine).values()
        }

    def test_later_correction_settles_the_recoupment(
        self, fresh_engine: Engine
    ) -> None:
        """Reversed in March, re-paid in full in April: the recoupment closes."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="R2")
            _remit(
                conn, on=D(2024, 2, 5), trace="T1", lines=[("R2", "1", 10_000, "ICN1")]
            )
            _remit(
                conn,
                on=D(2024, 3, 20),
                trace="T2",
                lines=[("R2", "22", -10_000, "ICN1")],
            )
        result = run(fresh_engine)
        assert _recoupments(fresh_engine) == [("reversal", "R2", 10_000, "offset")]
        assert result.summary["pending"]["reversals_awaiting_correction"] == 1
        assert claim_kinds(fresh_engine) == {}  # waiting for the correction
        with fresh_engine.begin() as conn:
            _remit(
                conn, on=D(2024, 4, 3), trace="T3", lines=[("R2", "1", 10_000, "ICN2")]
            )
        run(fresh_engine, window=APRIL)
        assert _recoupments(fresh_engine) == [("reversal", "R2", 10_000, "closed")]

    def test_uncorrected_reversal_suggests_by_carc(self, fresh_engine: Engine) -> None:
        """After the wait: eligibility CARC → bill another payer; else resubmit."""
        with fresh_engine.begin() as conn:
            for claim_id, carc in (("E1", "27"), ("E2", "16")):
                make_claim(conn, claim_id=claim_id)
                _remit(conn, on=D(2024, 1, 5), trace=f"A{claim_id}",
                       lines=[(claim_id, "1", 10_000, f"I{claim_id}")])  # fmt: skip
                payment = make_payment(
                    conn, paid_on=D(2024, 2, 20), trace_number=f"B{claim_id}"
                )
                reversal = make_claim_payment(
                    conn, payment_id=payment, claim_id=claim_id, status_code="22",
                    paid_cents=-10_000, payer_control=f"I{claim_id}",
                )  # fmt: skip
                make_adjustment(
                    conn,
                    claim_payment_id=reversal,
                    reason_code=carc,
                    amount_cents=-5_000,
                )
        run(fresh_engine)
        found = {
            v["claim"]: v for v in open_exceptions(fresh_engine).values()
            if v["kind"] == "reversal_uncorrected"
        }  # fmt: skip
        assert set(found) == {"E1", "E2"}
        with fresh_engine.connect() as conn:
            actions = dict(
                conn.execute(
                    select(E.claim_id, E.suggested_action).where(
                        E.kind == "reversal_uncorrected"
                    )
                ).all()
            )
        assert actions["E1"].startswith("Bill the other payer")
        assert actions["E2"].startswith("Correct and resubmit")
        assert [r[3] for r in _recoupments(fresh_engine)] == ["offset", "offset"]


def _paid_then_taken_by_wo(engine: Engine) -> None:
    """Claim W1 paid 100.00 in January; in March a WO +30.00 names its CLP01 and
    CLP07."""
    with engine.begin() as conn:
        make_claim(conn, claim_id="W1")
        _remit(conn, on=D(2024, 1, 10), trace="T0", lines=[("W1", "1", 10_000, "ICNW")])
        payment = make_payment(conn, paid_on=D(2024, 3, 8), trace_number="T9")
        make_plb(
            conn,
            payment_id=payment,
            reason_code="WO",
            reference="W1 ICNW",
            amount_cents=3_000,
        )


class TestPlb:
    def test_wo_immediate_links_to_the_claim(self, fresh_engine: Engine) -> None:
        """A WO +X naming a known CLP01 is a recoupment of that claim, offset now."""
        _paid_then_taken_by_wo(fresh_engine)
        run(fresh_engine)
        assert _recoupments(fresh_engine) == [("plb_offset", "W1", 3_000, "offset")]
        kinds = {v["kind"] for v in open_exceptions(fresh_engine).values()}
        assert "recoupment" in kinds

    def test_rerun_of_a_wo_that_starts_a_recoupment_changes_nothing(
        self, fresh_engine: Engine
    ) -> None:
        """The recoupment a WO +X started is planned the same way on a re-run: the
        second run neither rewrites its exception nor counts it as updated."""
        _paid_then_taken_by_wo(fresh_engine)
        e = E.__table__
        seen = (e.c.fingerprint, e.c.kind, e.c.detail, e.c.amount_cents, e.c.status)

        def exceptions() -> list[tuple[object, ...]]:
            with fresh_engine.connect() as conn:
                return [tuple(r) for r in conn.execute(select(*seen).order_by(e.c.id))]

        run(fresh_engine)
        first = exceptions()
        again = run(fresh_engine)
        assert exceptions() == first
        assert ("overpayment recovery (PLB WO +)",) in {(r[2],) for r in first}
        with fresh_engine.connect() as conn:
            counts = conn.execute(
                select(ReconRun.counts).where(ReconRun.id == again.run_id)
            ).scalar_one()
        assert counts["exceptions"]["updated"] == 0
        assert _recoupments(fresh_engine) == [("plb_offset", "W1", 3_000, "offset")]

    def test_deferred_then_taken_is_one_recoupment(self, fresh_engine: Engine) -> None:
        """Reversal netting −X plus WO −X: pending; the later WO +X offsets it."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="P1")
            _remit(
                conn, on=D(2024, 1, 10), trace="T0", lines=[("P1", "1", 10_000, "ICNP")]
            )
            first = _remit(
                conn, on=D(2024, 3, 5), trace="TA",
                lines=[("P1", "22", -10_000, "ICNP"), ("P1", "1", 6_000, "ICNQ")],
            )  # fmt: skip
            make_plb(
                conn,
                payment_id=first,
                reason_code="WO",
                reference="ICNP",
                amount_cents=-4_000,
            )
        run(fresh_engine)
        assert _recoupments(fresh_engine) == [("reversal", "P1", 4_000, "pending")]
        with fresh_engine.begin() as conn:
            later = make_payment(conn, paid_on=D(2024, 4, 5), trace_number="TB")
            make_plb(
                conn,
                payment_id=later,
                reason_code="WO",
                reference="ICNP",
                amount_cents=4_000,
            )
        run(fresh_engine, window=APRIL)
        assert _recoupments(fresh_engine) == [("reversal", "P1", 4_000, "offset")]
        with fresh_engine.connect() as conn:
            row = conn.execute(
                select(Recoupment.offset_trace, Recoupment.pending_payment_id)
            ).one()
        assert row == ("TB", first)

    def test_forward_balance_counts_once(self, fresh_engine: Engine) -> None:
        """FB −X carries the take; the FB +X citing the first TRN02 takes it, once."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="F1")
            _remit(
                conn, on=D(2024, 1, 10), trace="T0", lines=[("F1", "1", 10_000, "ICNF")]
            )
            first = _remit(
                conn,
                on=D(2024, 3, 5),
                trace="TRNA",
                lines=[("F1", "22", -10_000, "ICNF")],
            )
            make_plb(
                conn,
                payment_id=first,
                reason_code="FB",
                reference="TRNA",
                amount_cents=-10_000,
            )
        run(fresh_engine)
        assert _recoupments(fresh_engine) == [("reversal", "F1", 10_000, "pending")]
        with fresh_engine.begin() as conn:
            later = make_payment(conn, paid_on=D(2024, 4, 5), trace_number="TRNB")
            make_plb(
                conn,
                payment_id=later,
                reason_code="FB",
                reference="TRNA",
                amount_cents=10_000,
            )
        run(fresh_engine, window=APRIL)
        assert _recoupments(fresh_engine) == [("reversal", "F1", 10_000, "offset")]

    def test_wo_72_pair_acknowledges_a_repayment(self, fresh_engine: Engine) -> None:
        """WO +X with 72 −X is no new recoupment; it closes the repaid one."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="K1")
            add_notice(
                conn, settings=Settings(), payer_id="AETNA", claim_id="K1",
                amount_cents=2_500, notice_on=D(2024, 2, 1), reference="FCN7",
                actor="ann", at=CLOCK.now(),
            )  # fmt: skip
            item = conn.execute(select(Recoupment.id)).scalar_one()
            recoupment_action(
                conn, recoupment_id=item, action="repay", actor="ann", at=CLOCK.now(),
                reference="CHK1",
            )  # fmt: skip
            payment = make_payment(conn, paid_on=D(2024, 4, 12), trace_number="TK")
            make_plb(
                conn,
                payment_id=payment,
                reason_code="WO",
                reference="FCN7",
                amount_cents=2_500,
            )
            make_plb(
                conn,
                payment_id=payment,
                reason_code="72",
                reference="FCN7",
                amount_cents=-2_500,
            )
        run(fresh_engine, window=APRIL)  # repaid on April 1, acknowledged April 12
        assert _recoupments(fresh_engine) == [("notice", "K1", 2_500, "closed")]

    def test_letter_first_then_offset_links(self, fresh_engine: Engine) -> None:
        """A noticed recoupment moves to offset when the WO cites its reference."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="L1")
            add_notice(
                conn, settings=Settings(), payer_id="AETNA", claim_id="L1",
                amount_cents=7_000, notice_on=D(2024, 2, 1), reference="FCN9",
                actor="ann", at=CLOCK.now(),
            )  # fmt: skip
            payment = make_payment(conn, paid_on=D(2024, 3, 14), trace_number="TL")
            make_plb(
                conn,
                payment_id=payment,
                reason_code="WO",
                reference="FCN9",
                amount_cents=7_000,
            )
        run(fresh_engine)
        assert _recoupments(fresh_engine) == [("notice", "L1", 7_000, "offset")]

    def test_medicare_layout_and_lump_sum(self, fresh_engine: Engine) -> None:
        """Positions 20–39 name the claim; an unknown reference stays unlinked."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="MCR1", payer_id="MCR")
            payment = make_payment(
                conn, paid_on=D(2024, 3, 8), trace_number="TM", payer_ref_2u="MCR"
            )
            make_plb(
                conn, payment_id=payment, reason_code="WO",
                reference="ICN123456789012345 MCR1", amount_cents=1_500,
            )  # fmt: skip
            make_plb(
                conn,
                payment_id=payment,
                reason_code="WO",
                reference="LUMPSUM",
                amount_cents=900,
            )
        settings = Settings(
            payers=(PayerProfile(id="MCR", kind=PayerKind.MEDICARE,
                                 plb_reference_layout=PlbReferenceLayout.MEDICARE),)
        )  # fmt: skip
        run(fresh_engine, settings=settings)
        assert sorted(_recoupments(fresh_engine), key=str) == [
            ("plb_offset", "MCR1", 1_500, "offset"),
            ("plb_offset", None, 900, "offset"),
        ]
        # The claim already has an exception (unpaid); the lump sum is reported alone.
        with fresh_engine.connect() as conn:
            lump = conn.execute(
                select(E.claim_id, E.detail).where(E.kind == "recoupment")
            ).all()
        assert len(lump) == 1
        assert lump[0].claim_id is None
        assert "original not identified" in lump[0].detail


class TestLookBackAndDecisions:
    def test_state_lookback_violation_and_exemption(self, fresh_engine: Engine) -> None:
        """SC allows 18 months; an exempt (ERISA) payer is not checked."""
        with fresh_engine.begin() as conn:
            for payer in ("SCPLAN", "ERISA"):
                make_claim(conn, claim_id=f"O-{payer}", payer_id=payer)
                _remit_payer(conn, payer, D(2022, 1, 5), f"O-{payer}", 10_000)
                _remit_payer(
                    conn, payer, D(2024, 3, 5), f"O-{payer}", -10_000, status="22"
                )
        settings = Settings(
            payers=(
                PayerProfile(id="SCPLAN", state="SC"),
                PayerProfile(id="ERISA", state="SC", exempt_from_state_rules=True),
            )
        )
        run(fresh_engine, settings=settings)
        with fresh_engine.connect() as conn:
            verdicts = dict(
                conn.execute(
                    select(Recoupment.payer_id, Recoupment.lookback_status)
                ).all()
            )
            note = conn.execute(
                select(Recoupment.lookback_note).where(Recoupment.payer_id == "SCPLAN")
            ).scalar_one()
        assert verdicts == {"SCPLAN": "outside", "ERISA": "exempt"}
        assert "SC allows 18 months" in note

    def test_reruns_keep_a_dispute(self, fresh_engine: Engine) -> None:
        """A disputed recoupment stays disputed through re-runs."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="D1")
            _remit(
                conn, on=D(2024, 1, 10), trace="T0", lines=[("D1", "1", 10_000, "ICND")]
            )
            payment = make_payment(conn, paid_on=D(2024, 3, 8), trace_number="T9")
            make_plb(
                conn,
                payment_id=payment,
                reason_code="WO",
                reference="D1",
                amount_cents=1_000,
            )
        run(fresh_engine)
        with fresh_engine.begin() as conn:
            item = conn.execute(select(Recoupment.id)).scalar_one()
            recoupment_action(
                conn, recoupment_id=item, action="dispute", actor="ann", at=CLOCK.now(),
                reason="documentation supports the service",
            )  # fmt: skip
        run(fresh_engine)
        run(fresh_engine, window=APRIL)
        assert _recoupments(fresh_engine) == [("plb_offset", "D1", 1_000, "disputed")]


def _remit_payer(
    conn: Connection,
    payer: str,
    on: dt.date,
    claim: str,
    paid: int,
    *,
    status: str = "1",
) -> None:
    payment = make_payment(
        conn, paid_on=on, payer_ref_2u=payer, trace_number=f"{payer}{on:%Y%m%d}",
        originator_id=f"1{abs(hash(payer)) % 10**9:09d}",
    )  # fmt: skip
    make_claim_payment(
        conn, payment_id=payment, claim_id=claim, status_code=status, paid_cents=paid,
        payer_control=f"ICN-{claim}",
    )  # fmt: skip


def _lookback(engine: Engine) -> list[tuple[str, str, str | None, dt.date | None]]:
    r = Recoupment
    with engine.connect() as conn:
        rows = conn.execute(
            select(r.status, r.lookback_status, r.lookback_note, r.offset_on).order_by(
                r.id
            )
        ).all()
    return [(str(a), str(b), c, d) for a, b, c, d in rows]


def _wo(
    conn: Connection, payer: str, on: dt.date, *, trace: str, reference: str, cents: int
) -> None:
    """One 835 of ``payer`` carrying only a PLB WO."""
    payment = make_payment(
        conn, paid_on=on, trace_number=trace, payer_ref_2u=payer, payer_name=payer
    )
    make_plb(
        conn, payment_id=payment, reason_code="WO", reference=reference,
        amount_cents=cents,
    )  # fmt: skip


class TestStateRulesOnOffset:
    def test_texas_notice_is_checked_again_when_offset(
        self, fresh_engine: Engine
    ) -> None:
        """A TX notice is fine when recorded; an offset on day 19 breaks day 45."""
        settings = Settings(payers=(PayerProfile(id="TXPLAN", state="TX"),))
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="TX1", payer_id="TXPLAN")
            _remit_payer(conn, "TXPLAN", D(2024, 2, 5), "TX1", 10_000)
            add_notice(
                conn, settings=settings, payer_id="TXPLAN", claim_id="TX1",
                amount_cents=4_000, notice_on=D(2024, 3, 1), reference="FCNTX",
                actor="ann", at=CLOCK.now(),
            )  # fmt: skip
        assert _lookback(fresh_engine) == [("noticed", "ok", None, None)]
        with fresh_engine.begin() as conn:
            _wo(
                conn,
                "TXPLAN",
                D(2024, 3, 20),
                trace="TXOFF",
                reference="FCNTX",
                cents=4_000,
            )
        run(fresh_engine, settings=settings)
        assert _lookback(fresh_engine) == [
            (
                "offset",
                "outside",
                "notice rule: TX allows no offset before day 45 after the notice "
                "(2024-04-15); offset on 2024-03-20 — disputable",
                D(2024, 3, 20),
            )
        ]
        assert _recoupments(fresh_engine) == [("notice", "TX1", 4_000, "offset")]

    def test_month_limit_is_judged_on_the_deferred_offset(
        self, fresh_engine: Engine
    ) -> None:
        """SC 18 months: deferred at 17 months is fine, taken at 19 months is not."""
        settings = Settings(payers=(PayerProfile(id="SCPLAN", state="SC"),))
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="SC1", payer_id="SCPLAN")
            _remit_payer(conn, "SCPLAN", D(2022, 10, 3), "SC1", 10_000)
            deferring = make_payment(
                conn, paid_on=D(2024, 3, 5), trace_number="SCDEFER",
                payer_ref_2u="SCPLAN", payer_name="SCPLAN",
            )  # fmt: skip
            make_claim_payment(
                conn, payment_id=deferring, claim_id="SC1", status_code="22",
                paid_cents=-10_000, payer_control="ICN-SC1",
            )  # fmt: skip
            make_plb(
                conn, payment_id=deferring, reason_code="WO", reference="ICN-SC1",
                amount_cents=-10_000,
            )  # fmt: skip
        run(fresh_engine, settings=settings)
        assert _lookback(fresh_engine) == [("pending", "ok", None, None)]
        with fresh_engine.begin() as conn:
            _wo(
                conn,
                "SCPLAN",
                D(2024, 5, 10),
                trace="SCTAKE",
                reference="ICN-SC1",
                cents=10_000,
            )
        run(fresh_engine, settings=settings, window=MAY)
        assert _lookback(fresh_engine) == [
            (
                "offset",
                "outside",
                "outside look-back: disputable — SC allows 18 months from the payment "
                "of 2022-10-03; recovered on 2024-05-10",
                D(2024, 5, 10),
            )
        ]


class TestNoticeLabels:
    def test_medicare_notice_deadlines(self, fresh_engine: Engine) -> None:
        """Medicare: respond (redetermination) by day 30, offset from day 41, and
        no state limit applies to a government program."""
        settings = Settings(
            payers=(PayerProfile(id="MCR", kind=PayerKind.MEDICARE, state="SC"),)
        )
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="MN1", payer_id="MCR")
            new_id = add_notice(
                conn, settings=settings, payer_id="MCR", claim_id="MN1",
                amount_cents=6_000, notice_on=D(2024, 3, 4), reference="FCNM",
                actor="ann", at=CLOCK.now(),
            )  # fmt: skip
            row = conn.execute(
                select(
                    Recoupment.response_due_on, Recoupment.details,
                    Recoupment.lookback_status, Recoupment.lookback_note,
                ).where(Recoupment.id == new_id)
            ).one()  # fmt: skip
        assert tuple(row) == (
            D(2024, 4, 3),
            {"offset_from": "2024-04-14"},
            "exempt",
            "government program: state limits do not apply",
        )

    def test_texas_offset_without_notice_is_a_notice_rule_breach(
        self, fresh_engine: Engine
    ) -> None:
        """TX: an offset with no notice recorded is labelled a notice-rule breach,
        not a look-back one."""
        settings = Settings(payers=(PayerProfile(id="TXPLAN", state="TX"),))
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="TX2", payer_id="TXPLAN")
            _remit_payer(conn, "TXPLAN", D(2024, 2, 5), "TX2", 10_000)
            _wo(
                conn,
                "TXPLAN",
                D(2024, 3, 20),
                trace="TXWO",
                reference="TX2",
                cents=1_500,
            )
        run(fresh_engine, settings=settings)
        assert _lookback(fresh_engine) == [
            (
                "offset",
                "outside",
                "notice rule: TX requires notice before an offset; none recorded "
                "— disputable",
                D(2024, 3, 20),
            )
        ]
        with fresh_engine.connect() as conn:
            due = conn.execute(select(Recoupment.response_due_on)).scalar_one()
        assert due == D(2024, 4, 19)  # commercial: first seen + 30 days


class TestDuplicateReversed:
    def test_payer_reversing_its_own_duplicate_takes_nothing(
        self, fresh_engine: Engine
    ) -> None:
        """Paid 100 twice, the second reversed without correction: nothing is
        recouped, nothing is owed back, no correction is awaited."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="DR1")
            for on, trace, paid, status, control in (
                (D(2024, 3, 5), "TD1", 10_000, "1", "ICN1"),
                (D(2024, 3, 12), "TD2", 10_000, "1", "ICN2"),
                (D(2024, 3, 20), "TD3", -10_000, "22", "ICN2"),
            ):
                payment = make_payment(conn, paid_on=on, trace_number=trace)
                cp = make_claim_payment(
                    conn, payment_id=payment, claim_id="DR1", status_code=status,
                    paid_cents=paid, payer_control=control,
                )  # fmt: skip
                make_service_line(
                    conn, claim_payment_id=cp, paid_cents=paid, line_control="DR1-L1"
                )
        march = run(fresh_engine)
        assert march.summary["pending"]["reversals_awaiting_correction"] == 0
        run(fresh_engine, window=APRIL)  # past the 30-day correction wait
        assert _recoupments(fresh_engine) == []
        assert claim_kinds(fresh_engine) == {}
        kinds = {v["kind"] for v in open_exceptions(fresh_engine).values()}
        assert kinds.isdisjoint(
            {"recoupment", "duplicate_payment", "reversal_uncorrected", "overpaid"}
        )
        with fresh_engine.connect() as conn:
            assert conn.execute(select(Refund.id)).first() is None
