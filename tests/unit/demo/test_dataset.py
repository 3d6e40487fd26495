"""The demo's synthetic practice: its 835s balance, nothing pays below zero outside a
reversal, and what it says it planted is what its files hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.demo.dataset import (
    MIN_CLAIMS,
    DatasetFiles,
    Pattern,
    build_dataset,
    describe,
)
from reconcile.demo.tour import DEFAULT_TODAY, demo_window, today_help
from reconcile.ingest.x12.balance import claim_fault, line_fault, transaction_fault
from tests.x12_support import Collector, PaymentRecords, read

WINDOW = demo_window(DEFAULT_TODAY)
REVERSAL = "22"


def build(folder: Path, claims: int, seed: int = 7) -> DatasetFiles:
    """A data set over the demo's default period."""
    return build_dataset(
        folder=folder, claims=claims, seed=seed, first=WINDOW.first, last=WINDOW.last
    )


def remittances(files: DatasetFiles) -> list[Collector]:
    """Every 835 of the data set, read (and validated) by the importer's reader."""
    return [read(path.read_bytes())[0] for path in sorted(files.remittances.iterdir())]


def total(adjustments: Iterable[Any]) -> int:
    """The sum of CAS or PLB amounts."""
    return sum(a.amount_cents for a in adjustments)


def faults(payment: PaymentRecords) -> Iterator[str]:
    """Every balancing equation the payment's lines, claims or total break."""
    for claim in payment.claims:
        for line in claim.lines:
            fault = line_fault(
                charge=line.charge_cents,
                adjustments=total(line.adjustments),
                paid=line.paid_cents,
            )
            if fault:
                yield f"{claim.claim_id}: {fault}"
        fault = claim_fault(
            charge=claim.charge_cents,
            claim_adjustments=total(claim.adjustments),
            line_adjustments=sum(total(line.adjustments) for line in claim.lines),
            paid=claim.paid_cents,
        )
        if fault:
            yield f"{claim.claim_id}: {fault}"
    fault = transaction_fault(
        claims_paid=sum(c.paid_cents for c in payment.claims),
        provider_adjustments=total(payment.provider_adjustments),
        total=payment.header.amount_cents,
    )
    if fault:
        yield fault


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> DatasetFiles:
    """A mid-sized data set: every pattern several times over."""
    return build(tmp_path_factory.mktemp("dataset"), 600)


class TestRemittances:
    def test_every_claim_line_and_payment_balances(self, dataset: DatasetFiles) -> None:
        """SVC03 = SVC02 − ΣCAS, CLP04 = CLP03 − ΣCAS, BPR02 = ΣCLP04 − ΣPLB."""
        for sink in remittances(dataset):
            for payment in sink.payments:
                assert payment.end is not None
                assert not payment.end.balance_problems
                assert not list(faults(payment)), payment.header.trace_number

    def test_nothing_pays_below_zero_outside_reversals(
        self, dataset: DatasetFiles
    ) -> None:
        """No CLP04 or SVC03 is negative, and no line's CAS exceeds its charge,
        unless the claim is a reversal (CLP02 = 22); no BPR02 is negative."""
        claims = 0
        for sink in remittances(dataset):
            for payment in sink.payments:
                assert payment.header.amount_cents >= 0, payment.header.trace_number
                for claim in payment.claims:
                    if claim.status_code == REVERSAL:
                        continue
                    claims += 1
                    assert claim.paid_cents >= 0, claim.claim_id
                    for line in claim.lines:
                        assert line.paid_cents >= 0, claim.claim_id
                        assert total(line.adjustments) <= line.charge_cents
        assert claims > 400

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_cheap_claims_are_short_paid_not_negative(
        self, tmp_path: Path, seed: int
    ) -> None:
        """Whatever the seed, an underpaid or re-corrected cheap claim pays ≥ 0."""
        files = build(tmp_path, 300, seed=seed)
        for sink in remittances(files):
            for claim in sink.claims:
                if claim.status_code != REVERSAL:
                    assert claim.paid_cents >= 0, claim.claim_id
                    assert all(line.paid_cents >= 0 for line in claim.lines)


class TestPlanted:
    def test_the_smallest_data_set_plants_every_pattern(self, tmp_path: Path) -> None:
        """With MIN_CLAIMS claims, every pattern and one-off item is planted."""
        files = build(tmp_path, MIN_CLAIMS)
        patterns = files.planted.claim_patterns
        for pattern in Pattern:
            if pattern is not Pattern.PAID:
                assert patterns[pattern] >= 1, pattern
                assert files.planted.examples[pattern], pattern
        for extra in (
            "missing_deposit",
            "short_deposit",
            "deposit_without_era",
            "posting_without_payment",
            "unmatched_remittance",
        ):
            assert files.planted.extras[extra] == 1, extra
            assert files.planted.examples[extra], extra

    def test_fewer_claims_are_refused(self, tmp_path: Path) -> None:
        """Below the minimum a data set cannot show every pattern."""
        with pytest.raises(ValueError, match=f"at least {MIN_CLAIMS} claims"):
            build(tmp_path, MIN_CLAIMS - 1)

    def test_counts_are_what_the_835s_hold(self, dataset: DatasetFiles) -> None:
        """A reversal is counted only when one was written: no pattern is counted
        for a claim paid too late for its reversal, duplicate or offset."""
        reversed_claims: set[str] = set()
        paid: dict[str, int] = {}
        for sink in remittances(dataset):
            for claim in sink.claims:
                if claim.status_code == REVERSAL:
                    reversed_claims.add(claim.claim_id)
                elif claim.status_code == "1":
                    paid[claim.claim_id] = paid.get(claim.claim_id, 0) + 1
        patterns = dataset.planted.claim_patterns
        reversing = (
            Pattern.REVERSAL_CORRECTED,
            Pattern.REVERSAL_ALONE,
            Pattern.WO_DEFERRED,
            Pattern.FB_CARRIED,
        )
        assert len(reversed_claims) == sum(patterns[p] for p in reversing)
        # Paid twice by its own payer as primary: duplicates, and corrections
        # (a reversal then a correction), and the COB overlap's other primary.
        twice = sum(count > 1 for count in paid.values())
        expected_twice = sum(
            patterns[p]
            for p in (
                Pattern.DUPLICATE,
                Pattern.REVERSAL_CORRECTED,
                Pattern.WO_DEFERRED,
                Pattern.COB_OVERLAP,
            )
        )
        assert twice == expected_twice

    def test_the_tour_lists_patterns_and_one_off_items(
        self, dataset: DatasetFiles
    ) -> None:
        """describe() names each pattern and each one-off item with its count."""
        planted = dataset.planted
        lines = [line.split() for line in describe(planted)]
        counted = {" ".join(words[1:]): words[0] for words in lines[1:]}
        corrected = planted.claim_patterns[Pattern.REVERSAL_CORRECTED]
        assert counted["reversal corrected"] == f"{corrected:,}"
        assert counted["missing deposit"] == "1"
        assert counted["deposit without 835"] == "1"
        assert "deposits" not in counted  # a tally, not a planted item

    def test_same_seed_same_files(self, tmp_path: Path) -> None:
        """Everything is a function of the seed, the size and the period."""
        first = build(tmp_path / "a", 60)
        second = build(tmp_path / "b", 60)
        for path in sorted(first.folder.rglob("*.*")):
            twin = second.folder / path.relative_to(first.folder)
            if path.suffix != ".toml":  # names its own folder
                assert path.read_bytes() == twin.read_bytes(), path.name


class TestToday:
    def test_window_and_help_agree(self) -> None:
        """--today's help says exactly which days a mid-month today reconciles."""
        window = demo_window(dt.date(2024, 6, 15))
        assert (window.first, window.last) == (
            dt.date(2024, 3, 1),
            dt.date(2024, 6, 14),
        )
        assert "2024-06-15 runs 2024-03-01 to 2024-06-14" in today_help()
        assert f"{DEFAULT_TODAY} runs 2024-01-01 to 2024-03-31" in today_help()
