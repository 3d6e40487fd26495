"""`reconcile demo` end to end: every planted pattern shows where it should, and
what is fine shows nowhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from reconcile.cli import main
from reconcile.demo.dataset import Pattern
from reconcile.demo.tour import DemoFolderError, run_demo

#: Pattern → the exception kind its claim must show (None: the claim shows nothing).
EXPECTED_KIND: dict[Pattern, str | tuple[str, ...] | None] = {
    Pattern.PAID: None,
    Pattern.UNDERPAID: "underpaid",
    Pattern.OVERPAID: "overpaid",
    Pattern.DENIED: "denied",
    Pattern.UNPAID: "unpaid_claim",
    Pattern.DUPLICATE: "duplicate_payment",
    Pattern.REVERSAL_CORRECTED: "underpaid",
    # Before the correction wait is over, the money taken shows as a recoupment.
    Pattern.REVERSAL_ALONE: ("reversal_uncorrected", "recoupment"),
    Pattern.WO_DEFERRED: "underpaid",
    Pattern.FB_CARRIED: ("reversal_uncorrected", "recoupment"),
    Pattern.WO_OFFSET: "recoupment",
    Pattern.REFUND_ACKNOWLEDGED: None,
    Pattern.INTEREST: None,
    Pattern.SECONDARY: None,
    Pattern.COB_OVERLAP: "cob_overlap",
    Pattern.PATIENT_OVERPAID: "patient_overpaid",
    Pattern.NOT_POSTED: "not_posted",
    Pattern.MISPOSTED: "posting_mismatch",
}
#: Patterns whose money is a refund or a recoupment queue entry.
REFUNDS = {Pattern.OVERPAID, Pattern.DUPLICATE, Pattern.COB_OVERLAP,
           Pattern.PATIENT_OVERPAID}  # fmt: skip
RECOUPMENTS = {Pattern.REVERSAL_CORRECTED, Pattern.REVERSAL_ALONE, Pattern.WO_DEFERRED,
               Pattern.FB_CARRIED, Pattern.WO_OFFSET}  # fmt: skip


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, str, dict[str, list[str]]]:
    """Run the demo once (through the CLI) for every test of this module."""
    folder = tmp_path_factory.mktemp("demo") / "practice"
    result = CliRunner().invoke(main, ["demo", "--dir", str(folder), "--claims", "400"])
    assert result.exit_code == 0, result.output
    config = str(folder / "reconcile.toml")
    examples = json.loads((folder / "planted.json").read_text())
    return folder, config, examples


def _cli(config: str, *args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(main, ["--config", config, *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _workbook_claims(folder: Path) -> dict[str, set[str]]:
    """Claim ids per sheet of the demo's workbook."""
    [path] = (folder / "reports").glob("*.xlsx")
    book = load_workbook(path, read_only=True)
    found: dict[str, set[str]] = {}
    for sheet in book.worksheets:
        rows = sheet.iter_rows(values_only=True)
        header = None
        for row in rows:
            if row and "Claim ID" in row:
                header = list(row)
                break
        if header is None:
            continue
        index = header.index("Claim ID")
        found[sheet.title] = {str(r[index]) for r in rows if r and r[index]}
    return found


class TestDemo:
    def test_every_pattern_is_where_it_should_be(self, demo) -> None:  # type: ignore[no-untyped-def]
        """Planted claims show their kind in lists and workbook; fine ones nowhere."""
        folder, config, examples = demo
        exceptions = _cli(config, "exceptions", "list")
        by_claim: dict[str, set[str]] = {}
        for item in exceptions:
            by_claim.setdefault(str(item["claim_id"]), set()).add(str(item["kind"]))
        workbook = _workbook_claims(folder)
        in_workbook = {claim for claims in workbook.values() for claim in claims}
        for pattern, kind in EXPECTED_KIND.items():
            claims = examples[pattern]
            assert claims, f"no claim planted for {pattern}"
            for claim in claims:
                found = by_claim.get(claim, set())
                if kind is None:
                    assert not found, (pattern, claim, found)
                    assert claim not in in_workbook, (pattern, claim)
                else:
                    kinds = (kind,) if isinstance(kind, str) else kind
                    assert found & set(kinds), (pattern, claim, found)
                    assert claim in in_workbook, (pattern, claim)

    def test_queues_hold_the_money(self, demo) -> None:  # type: ignore[no-untyped-def]
        """Overpayments are refunds; money taken back is a recoupment entry."""
        _, config, examples = demo
        refunds = {str(r["claim_id"]) for r in _cli(config, "refunds", "list")}
        recoupments = {str(r["claim_id"]) for r in _cli(config, "recoupments", "list")}
        for pattern in REFUNDS:
            assert set(examples[pattern]) <= refunds, pattern
        for pattern in RECOUPMENTS:
            assert set(examples[pattern]) <= recoupments, pattern
        acknowledged = set(examples[Pattern.REFUND_ACKNOWLEDGED])
        assert not acknowledged & (refunds | recoupments)

    def test_summary_lists_the_planted_kinds(self, demo) -> None:  # type: ignore[no-untyped-def]
        """The run's JSON summary counts every kind the demo plants."""
        _, config, _ = demo
        [run] = _cli(config, "runs", "list")
        kinds = set(run["summary"]["exceptions"])  # type: ignore[index]
        expected = {k for k in EXPECTED_KIND.values() if isinstance(k, str)} | {
            "deposit_amount_mismatch", "deposit_without_era", "era_without_deposit",
            "unmatched_remittance", "posting_without_payment",
        }  # fmt: skip
        assert expected <= kinds

    def test_same_seed_same_numbers(self, tmp_path: Path) -> None:
        """Two demos with the same options give the same summary."""
        first = run_demo(folder=tmp_path / "a", claims=60)
        second = run_demo(folder=tmp_path / "b", claims=60)
        strip = {"report"}
        assert {k: v for k, v in first.run.summary.items() if k not in strip} == {
            k: v for k, v in second.run.summary.items() if k not in strip
        }

    def test_refuses_a_folder_with_files(self, tmp_path: Path) -> None:
        """The demo never writes into a folder that holds files."""
        (tmp_path / "keep.txt").write_text("mine")
        with pytest.raises(DemoFolderError):
            run_demo(folder=tmp_path)
        result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path)])
        assert result.exit_code == 2
        assert "already holds files" in result.stderr
