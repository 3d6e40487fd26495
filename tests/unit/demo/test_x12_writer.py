"""The 835 writer: balanced, countable, readable by construction."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.demo.x12_writer import (
    Adjustment,
    Claim,
    Group,
    Interchange,
    Line,
    Payment,
    ProviderAdjustment,
    Separators,
    render_835,
    reversal_of,
    single,
)
from tests.x12_support import read

cents = st.integers(-(10**7), 10**7)
positive = st.integers(1, 10**7)
codes = st.sampled_from(["45", "2", "3", "1", "23", "253", "A2"])
adjustments = st.builds(
    Adjustment,
    group=st.sampled_from(["CO", "OA", "PI", "PR"]),
    reason=codes,
    amount_cents=cents,
)
lines = st.builds(
    Line,
    procedure=st.sampled_from(["99213", "36415", "J3420"]),
    charge_cents=positive,
    adjustments=st.lists(adjustments, max_size=8).map(tuple),
    modifiers=st.lists(st.sampled_from(["25", "59", "GT"]), max_size=4).map(tuple),
    service_on=st.just(dt.date(2024, 1, 5)),
    line_control=st.one_of(st.none(), st.text("ABC123", min_size=1, max_size=10)),
    allowed_cents=st.one_of(st.none(), positive),
)
claims = st.builds(
    Claim,
    claim_id=st.text("PCN0123456789", min_size=1, max_size=20),
    lines=st.lists(lines, min_size=1, max_size=3).map(tuple),
    adjustments=st.lists(adjustments, max_size=7).map(tuple),
    status=st.sampled_from(["1", "2", "3", "4", "19", "22", "23"]),
    payer_control=st.one_of(st.none(), st.just("ICN1")),
)
plbs = st.builds(
    ProviderAdjustment,
    reason=st.sampled_from(["WO", "FB", "72", "L6", "CS", "90"]),
    amount_cents=cents.filter(bool),
    reference=st.one_of(st.none(), st.just("REF1")),
)


@st.composite
def balanced_payments(draw: st.DrawFn) -> Payment:
    """A payment whose BPR02 is not negative (FB makes up any shortfall)."""
    payment_claims = tuple(draw(st.lists(claims, min_size=1, max_size=4)))
    plb = draw(st.lists(plbs, max_size=8))
    total = sum(c.paid for c in payment_claims) - sum(p.amount_cents for p in plb)
    if total < 0:
        plb.append(ProviderAdjustment("FB", total, "CARRY"))
    return Payment(
        "EFT1",
        dt.date(2024, 2, 1),
        claims=payment_claims,
        provider_adjustments=tuple(plb),
        method=draw(st.sampled_from(["ACH", "CHK", "NON"])),
    )


separators = st.sampled_from(
    [
        Separators(),
        Separators("|", ">", "!", "\n", ""),
        Separators(newline="\r\n"),
        Separators("^", "\\", "{", "~", ""),
        Separators("*", ":", "^", "~", ""),
    ]
)


class TestBalancedByConstruction:
    @given(st.lists(balanced_payments(), min_size=1, max_size=3), separators)
    def test_any_payment_reads_back_without_a_problem(
        self, payments: list[Payment], chosen: Separators
    ) -> None:
        """Whatever the amounts and delimiters, the file loads and sums agree."""
        numbered = [
            Payment(**{**p.__dict__, "trace_number": f"EFT{i}"})
            for i, p in enumerate(payments)
        ]
        sink, result = read(render_835(single(*numbered), separators=chosen))
        assert result.warnings == []
        assert [p.header.amount_cents for p in sink.payments] == [
            p.amount for p in numbered
        ]
        assert [c.paid_cents for c in sink.claims] == [
            c.paid for p in numbered for c in p.claims
        ]
        assert sink.counts["adjustments"] == sum(
            len(c.all_adjustments) for p in numbered for c in p.claims
        )
        assert sink.counts["provider_adjustments"] == sum(
            len(p.provider_adjustments) for p in numbered
        )


class TestAmounts:
    def test_defaults_are_computed(self) -> None:
        """Line and claim payments, patient share and BPR02 follow the equations."""
        claim = Claim(
            "C1",
            adjustments=(Adjustment("OA", "23", 100),),
            lines=(
                Line(
                    "99213",
                    10000,
                    (Adjustment("CO", "45", 3000), Adjustment("PR", "2", 1000)),
                ),
            ),
        )
        payment = Payment(
            "T",
            dt.date(2024, 1, 1),
            claims=(claim,),
            provider_adjustments=(ProviderAdjustment("L6", -50),),
        )
        assert (claim.lines[0].paid, claim.charge, claim.paid) == (6000, 10000, 5900)
        assert claim.patient_resp == 1000
        assert payment.amount == 5950

    def test_explicit_amounts_are_written_as_given(self) -> None:
        """A given amount is not corrected: tests can write faulty files."""
        claim = Claim("C1", charge_cents=100, paid_cents=999)
        text = render_835(single(Payment("T", dt.date(2024, 1, 1), claims=(claim,))))
        assert "CLP*C1*1*1.00*9.99**12*ICNC1~" in text

    def test_claim_without_lines_needs_a_charge(self) -> None:
        """A claim with neither lines nor a charge cannot be written."""
        with pytest.raises(ValueError, match="needs charge_cents or lines"):
            _ = Claim("C1").charge

    def test_reversal_negates_every_amount(self) -> None:
        """reversal_of: status 22, charge, payment, CAS and lines all negated."""
        original = Claim(
            "C1",
            payer_control="ICN1",
            adjustments=(Adjustment("OA", "23", 100),),
            lines=(
                Line(
                    "99213", 10000, (Adjustment("PR", "2", 1000),), allowed_cents=9000
                ),
            ),
        )
        reversal = reversal_of(original)
        assert reversal.status == "22"
        assert (reversal.charge, reversal.paid, reversal.patient_resp) == (
            -10000,
            -8900,
            -1000,
        )
        assert [a.amount_cents for a in reversal.all_adjustments] == [-100, -1000]
        assert reversal.lines[0].paid == -9000
        assert reversal.payer_control == "ICN1"
        assert reversal.charge + original.charge == 0


class TestEnvelopes:
    def test_counts_and_control_numbers(self) -> None:
        """SE01, GE01, IEA01 count what was written; control numbers pair."""
        payment = Payment(
            "T",
            dt.date(2024, 1, 1),
            claims=(Claim("C1", charge_cents=100, paid_cents=100),),
        )
        text = render_835(
            [
                Interchange(
                    groups=(
                        Group(payments=(payment, payment), control=7),
                        Group(payments=(payment,)),
                    ),
                    control=42,
                )
            ]
        )
        segments = text.split("~\n")
        assert "SE*14*0001" in segments
        assert "GE*2*7" in segments
        assert "GE*1*8" in segments
        assert "IEA*2*000000042" in segments
        assert len(segments[0]) == 105  # the fixed-width ISA, without terminator

    def test_long_cas_and_plb_are_split(self) -> None:
        """More than six triplets or PLB pairs continue in another segment."""
        claim = Claim(
            "C1",
            charge_cents=700,
            adjustments=tuple(Adjustment("CO", "45", 100) for _ in range(7)),
        )
        payment = Payment(
            "T",
            dt.date(2024, 1, 1),
            claims=(claim,),
            provider_adjustments=tuple(ProviderAdjustment("CS", 1) for _ in range(7)),
        )
        text = render_835(single(payment))
        assert text.count("CAS*CO") == 2
        assert text.count("PLB*") == 2

    def test_missing_payment_date(self) -> None:
        """paid_on None writes no BPR16 (and needs a production date for DTM*405)."""
        payment = Payment(
            "T",
            None,
            method="CHK",
            production_on=dt.date(2024, 1, 2),
            claims=(Claim("C1", charge_cents=100, paid_cents=100),),
        )
        text = render_835(single(payment))
        assert "BPR*I*1.00*C*CHK~" in text
        assert "DTM*405*20240102~" in text
