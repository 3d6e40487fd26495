"""The scenario files in tests/data/835: current, documented, and read as golden.

``RECONCILE_REGENERATE=1`` rewrites the files, their README and the golden
expectations from ``tests/x12_scenarios.py`` (then review the diff).
"""

from __future__ import annotations

import json
import os

import pytest

from reconcile.ingest import FileRejected
from tests.x12_scenarios import DATA, SCENARIOS, Scenario, readme, write_files
from tests.x12_support import read, summary

REGENERATE = os.environ.get("RECONCILE_REGENERATE") == "1"
GOLDEN = DATA / "golden"
NAMES = sorted(SCENARIOS)


@pytest.fixture(scope="module", autouse=True)
def _regenerate() -> None:
    if REGENERATE:
        write_files()
        GOLDEN.mkdir(exist_ok=True)
        for scenario in SCENARIOS.values():
            data = summary(scenario.path, allow_unbalanced=not scenario.valid)
            (GOLDEN / f"{scenario.name}.json").write_text(
                json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
            )


def _scenario(name: str) -> Scenario:
    return SCENARIOS[name]


class TestFiles:
    @pytest.mark.parametrize("name", NAMES)
    def test_file_is_current(self, name: str) -> None:
        """The committed file is exactly what the scenario builds."""
        scenario = _scenario(name)
        assert scenario.path.read_bytes() == scenario.render()

    def test_readme_lists_every_scenario(self) -> None:
        """The folder's README explains every file."""
        assert (DATA / "README.md").read_text(encoding="utf-8") == readme()

    def test_no_stray_files(self) -> None:
        """Every .835 in the folder is a known scenario."""
        assert sorted(p.stem for p in DATA.glob("*.835")) == NAMES


class TestGolden:
    @pytest.mark.parametrize("name", NAMES)
    def test_reader_output_matches_golden(self, name: str) -> None:
        """Every record the reader hands out equals the reviewed expectation."""
        scenario = _scenario(name)
        expected = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
        assert summary(scenario.path, allow_unbalanced=not scenario.valid) == expected


class TestFigures:
    @pytest.mark.parametrize("name", [n for n in NAMES if SCENARIOS[n].valid])
    def test_sums_equal_the_writer_model(self, name: str) -> None:
        """Claim, PLB and BPR02 sums read back equal the model's (computed apart)."""
        scenario = _scenario(name)
        sink, _ = read(scenario.path.read_bytes())
        payments = scenario.payments
        assert [p.header.amount_cents for p in sink.payments] == [
            p.amount for p in payments
        ]
        assert [sum(c.paid_cents for c in p.claims) for p in sink.payments] == [
            sum(c.paid for c in p.claims) for p in payments
        ]
        assert [
            sum(a.amount_cents for a in p.provider_adjustments) for p in sink.payments
        ] == [sum(a.amount_cents for a in p.provider_adjustments) for p in payments]
        assert [len(p.claims) for p in sink.payments] == [
            len(p.claims) for p in payments
        ]

    def test_reversal_nets_to_the_difference(self) -> None:
        """Reversal −120.00 and correction +100.00 of one claim net to −20.00."""
        sink, _ = read(_scenario("reversal_then_repay").path.read_bytes())
        pcn = [c for c in sink.claims if c.claim_id == "PCN2001"]
        assert [(c.status_code, c.paid_cents) for c in pcn] == [
            ("22", -12000),
            ("1", 10000),
        ]
        reversal = pcn[0]
        assert reversal.charge_cents == -20000
        assert reversal.payer_control == "ICN-OLD"
        assert [a.amount_cents for a in reversal.lines[0].adjustments] == [-5000, -3000]

    def test_forwarding_balance_brings_bpr02_to_zero(self) -> None:
        """A negative net is carried forward by FB and the payment is 0.00."""
        sink, _ = read(_scenario("forwarding_balance_fb").path.read_bytes())
        payment = sink.payments[0]
        assert payment.header.amount_cents == 0
        assert [
            (a.reason_code, a.amount_cents) for a in payment.provider_adjustments
        ] == [("FB", -380500)]

    def test_notification_only_payment(self) -> None:
        """BPR*H*0*C*NON reads as a zero, no-money payment."""
        sink, _ = read(_scenario("notification_only_h_non").path.read_bytes())
        header = sink.payments[0].header
        assert (header.handling_code, header.amount_cents, header.method) == (
            "H", 0, "NON",
        )  # fmt: skip
        assert sink.claims[0].status_code == "4"

    def test_duplicate_in_file_is_skipped(self) -> None:
        """The second copy of a payment in the same file is counted as skipped."""
        sink, _ = read(_scenario("duplicate_payment_in_file").path.read_bytes())
        assert (sink.counts["payments"], sink.skipped) == (2, 1)

    def test_unbalanced_scenario_is_rejected(self) -> None:
        """The unbalanced scenario is rejected at its CLP by default."""
        with pytest.raises(FileRejected) as rejected:
            read(_scenario("unbalanced_claim").path.read_bytes())
        assert [(p.segment, p.segment_id) for p in rejected.value.problems] == [
            (14, "CLP")
        ]
