"""`reconcile demo` end to end: every planted pattern shows where it should — on its
own kind's sheet, in the exception list, in the queue it belongs to — and what is
fine shows nowhere."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from reconcile.categories import ExceptionKind
from reconcile.cli import main
from reconcile.demo.dataset import MIN_CLAIMS, Pattern
from reconcile.demo.tour import DemoFolderError, run_demo
from reconcile.kinds import KINDS
from reconcile.report.content import RECOUPMENTS, REFUNDS, sheet_title_of

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
REFUND_PATTERNS = {Pattern.OVERPAID, Pattern.DUPLICATE, Pattern.COB_OVERLAP,
                   Pattern.PATIENT_OVERPAID}  # fmt: skip
RECOUPMENT_PATTERNS = {Pattern.REVERSAL_CORRECTED, Pattern.REVERSAL_ALONE,
                       Pattern.WO_DEFERRED, Pattern.FB_CARRIED,
                       Pattern.WO_OFFSET}  # fmt: skip
#: One-off items with no claim of their own → their kind; planted.json holds what
#: identifies each (a trace or deposit id, found in the fingerprint, or a claim id).
ONE_OFF_KIND = {
    "missing_deposit": "era_without_deposit",
    "short_deposit": "deposit_amount_mismatch",
    "deposit_without_era": "deposit_without_era",
    "posting_without_payment": "posting_without_payment",
    "unmatched_remittance": "unmatched_remittance",
}
#: Patterns that must appear nowhere: paid as expected, or netted inside one 835.
SHOWS_NOTHING = {Pattern.PAID, Pattern.REFUND_ACKNOWLEDGED}
ID_HEADERS = ("Exception ID", "Refund ID", "Recoupment ID")


@dataclass(frozen=True)
class Demo:
    """One demo run: its folder, configuration, planted examples and tour."""

    folder: Path
    config: str
    examples: dict[str, list[str]]
    tour: str


def _cli(config: str, *args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(main, ["--config", config, *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _sheets(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Rows (header → value) of every item sheet of the demo's workbook."""
    [path] = (folder / "reports").glob("*.xlsx")
    book = load_workbook(path, read_only=True)
    found: dict[str, list[dict[str, Any]]] = {}
    for sheet in book.worksheets:
        rows = sheet.iter_rows(values_only=True)
        header = next(
            (list(r) for r in rows if r and any(h in r for h in ID_HEADERS)), None
        )
        if header is not None:
            found[sheet.title] = [dict(zip(header, r, strict=False)) for r in rows]
    book.close()
    return found


def _every_cell_text(folder: Path) -> str:
    """Every cell of every sheet of the workbook, as one text."""
    [path] = (folder / "reports").glob("*.xlsx")
    book = load_workbook(path, read_only=True)
    cells = [
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    book.close()
    return "\n".join(cells)


def _kind_sheet(kind: str) -> str:
    return sheet_title_of(KINDS[ExceptionKind(kind)].title)


def _claims_on(sheets: dict[str, list[dict[str, Any]]], title: str) -> set[str]:
    return {str(r["Claim ID"]) for r in sheets.get(title, []) if r.get("Claim ID")}


@pytest.fixture(scope="module", params=[400, MIN_CLAIMS], ids=["400", "smallest"])
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Demo:
    """Run the demo once per size (through the CLI) for every test of this module;
    the smallest size must show every pattern too."""
    folder = tmp_path_factory.mktemp("demo") / "practice"
    result = CliRunner().invoke(
        main, ["demo", "--dir", str(folder), "--claims", str(request.param)]
    )
    assert result.exit_code == 0, result.output
    examples = json.loads((folder / "planted.json").read_text())
    return Demo(folder, str(folder / "reconcile.toml"), examples, result.stdout)


class TestDemo:
    def test_every_pattern_is_on_its_own_kinds_sheet(self, demo: Demo) -> None:
        """A planted claim has its kind in the exception list, and sits on that
        kind's sheet of the workbook."""
        by_claim: dict[str, set[str]] = {}
        for item in _cli(demo.config, "exceptions", "list"):
            by_claim.setdefault(str(item["claim_id"]), set()).add(str(item["kind"]))
        sheets = _sheets(demo.folder)
        for pattern, kind in EXPECTED_KIND.items():
            if kind is None:
                continue
            kinds = {kind} if isinstance(kind, str) else set(kind)
            claims = demo.examples.get(pattern)
            assert claims, f"no claim planted for {pattern}"
            for claim in claims:
                shown = by_claim.get(claim, set()) & kinds
                assert shown, (pattern, claim, by_claim.get(claim))
                for found in shown:
                    title = _kind_sheet(found)
                    assert claim in _claims_on(sheets, title), (pattern, claim, title)

    def test_queue_entries_are_listed_and_on_their_sheets(self, demo: Demo) -> None:
        """Overpayments are refunds, money taken back is a recoupment entry: in the
        queue listings and on the Refunds and Recoupments sheets."""
        refunds = {str(r["claim_id"]) for r in _cli(demo.config, "refunds", "list")}
        recoupments = {
            str(r["claim_id"]) for r in _cli(demo.config, "recoupments", "list")
        }
        sheets = _sheets(demo.folder)
        for patterns, listed, title in (
            (REFUND_PATTERNS, refunds, REFUNDS),
            (RECOUPMENT_PATTERNS, recoupments, RECOUPMENTS),
        ):
            on_sheet = _claims_on(sheets, title)
            for pattern in patterns:
                claims = set(demo.examples[pattern])
                assert claims, pattern
                assert claims <= listed, (pattern, claims - listed)
                assert claims <= on_sheet, (pattern, claims - on_sheet)

    def test_items_without_a_claim_are_listed_and_on_their_sheets(
        self, demo: Demo
    ) -> None:
        """A missing and a short deposit, a deposit with no 835, a posting with no
        payment and a payment for an unknown claim: each on its kind's sheet."""
        exceptions = _cli(demo.config, "exceptions", "list")
        sheets = _sheets(demo.folder)

        def names(row: dict[str, Any], identity: str) -> bool:
            fingerprint = str(row.get("Fingerprint") or row.get("fingerprint"))
            claim = row.get("Claim ID", row.get("claim_id"))
            return identity == claim or identity in fingerprint.split(":")

        for item, kind in ONE_OFF_KIND.items():
            [identity] = demo.examples[item]
            listed = [e for e in exceptions if e["kind"] == kind]
            assert any(names(e, identity) for e in listed), (item, identity)
            rows = sheets.get(_kind_sheet(kind), [])
            assert any(names(r, identity) for r in rows), (item, identity)

    def test_what_is_fine_shows_nowhere(self, demo: Demo) -> None:
        """Claims paid as expected and netted refund acknowledgements (WO/72 in one
        835) are in no sheet, no exception list and no refund or recoupment list."""
        fine = {c for p in SHOWS_NOTHING for c in demo.examples.get(p, [])}
        assert set(demo.examples[Pattern.REFUND_ACKNOWLEDGED])
        listings = json.dumps(
            [
                _cli(demo.config, "exceptions", "list"),
                _cli(demo.config, "refunds", "list"),
                _cli(demo.config, "recoupments", "list"),
            ]
        )
        workbook = _every_cell_text(demo.folder)
        for claim in fine:
            assert claim not in listings, claim
            assert claim not in workbook, claim
        # The acknowledgement's PLB reference (RFND + claim id) shows nowhere either.
        assert "RFND" not in listings
        assert "RFND" not in workbook

    def test_summary_lists_the_planted_kinds(self, demo: Demo) -> None:
        """The run's JSON summary counts every kind the demo plants."""
        [run] = _cli(demo.config, "runs", "list")
        kinds = set(run["summary"]["exceptions"])
        expected = {k for k in EXPECTED_KIND.values() if isinstance(k, str)}
        assert expected | set(ONE_OFF_KIND.values()) <= kinds

    def test_tour_table_stays_aligned(self, demo: Demo) -> None:
        """Every row of the tour's exception table ends its count and amount columns
        where the heading does, however long the kind's title."""
        lines = demo.tour.splitlines()
        start = next(i for i, line in enumerate(lines) if "Open exceptions" in line)
        heading = lines[start]
        count_end = heading.index("count") + len("count")
        rows = []
        for line in lines[start + 1 :]:
            if not re.search(r"\(\w+\)\s+\d+\s+[\d,]+\.\d\d$", line):
                break
            rows.append(line)
        assert len(rows) >= len(ONE_OFF_KIND) + 8
        assert any(len(line.split("  ")[1]) > 44 for line in rows)  # long titles
        for line in rows:
            assert len(line) == len(heading), line
            assert line[count_end - 1].isdigit(), line
            assert line[count_end] == " ", line

    def test_tour_counts_are_what_was_planted(self, demo: Demo) -> None:
        """The tour counts a pattern once per claim that really shows it."""
        counted = {
            " ".join(words[1:]): int(words[0].replace(",", ""))
            for words in (line.split() for line in demo.tour.splitlines())
            if len(words) >= 2 and words[0].replace(",", "").isdigit()
        }
        for pattern in Pattern:
            if pattern is not Pattern.PAID:
                assert counted[pattern.replace("_", " ")] >= 1, pattern


class TestDemoRuns:
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

    def test_fewer_claims_than_the_minimum_are_refused(self, tmp_path: Path) -> None:
        """Below the size that shows every pattern, the demo says so (exit 2)."""
        result = CliRunner().invoke(
            main,
            ["demo", "--dir", str(tmp_path / "d"), "--claims", str(MIN_CLAIMS - 1)],
        )
        assert result.exit_code == 2
        assert str(MIN_CLAIMS) in result.stderr
