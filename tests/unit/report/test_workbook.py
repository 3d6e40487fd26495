"""The workbook builder: sheets, headers, cell types and formats, reviewer columns,
highlighting, the chart, the row-limit split and patient names — read back with
openpyxl, never compared as bytes."""

from __future__ import annotations

import datetime as dt
import inspect
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.cell_range import MultiCellRange

from reconcile.categories import ExceptionKind as K
from reconcile.report.columns import DATE_FORMAT, MONEY_FORMAT
from reconcile.report.content import ReportContent
from reconcile.report.sheets import part_title
from reconcile.report.sources import SourceFileRow
from reconcile.report.workbook import build_workbook
from tests.report_data import (
    WRITTEN,
    content,
    exception_row,
    recoupment_row,
    refund_row,
    run_facts,
    with_patient,
)


def save(
    built: ReportContent, tmp_path: Path, *, max_rows: int | None = None
) -> Workbook:
    """Build, save and load the workbook (charts survive only outside read-only)."""
    kwargs = {"max_rows": max_rows} if max_rows else {}
    path = tmp_path / "book.xlsx"
    build_workbook(content=built, **kwargs).save(path)
    return load_workbook(path)


def header_of(ws) -> list[str]:  # type: ignore[no-untyped-def]
    """The header row (row 2) of an item sheet."""
    return [c.value for c in ws[2] if c.value is not None]


def column(ws, header: str) -> str:  # type: ignore[no-untyped-def]
    """The letter of the column with ``header``."""
    for cell in ws[2]:
        if cell.value == header:
            return str(cell.column_letter)
    raise KeyError(header)


@pytest.fixture
def book(tmp_path: Path) -> Workbook:
    """A workbook with two kinds, a refund and a recoupment."""
    built = content(
        exceptions={
            K.UNDERPAID: [
                exception_row(),
                exception_row(id=2, new=False, fingerprint="underpaid:AETNA:C9"),
            ],
            K.DENIED: [exception_row(id=3, kind="denied", amount=Decimal("150.00"))],
        },
        refunds=[refund_row()],
        recoupments=[recoupment_row()],
    )
    return save(built, tmp_path)


class TestSheets:
    def test_sheet_order(self, book: Workbook) -> None:
        """Summary, one sheet per kind with items (kinds.py order), queues, Run info."""
        assert book.sheetnames == [
            "Summary",
            "Underpaid claims",
            "Denials",
            "Refunds",
            "Recoupments",
            "Run info",
        ]

    def test_kind_sheet_never_takes_a_queue_sheet_title(self, tmp_path: Path) -> None:
        """The `recoupment` kind's sheet does not collide with the Recoupments queue."""
        built = content(exceptions={K.RECOUPMENT: [exception_row(kind="recoupment")]})
        names = save(built, tmp_path).sheetnames
        assert "Recoupments (exceptions)" in names
        assert "Recoupments" in names

    def test_item_sheet_headers(self, book: Workbook) -> None:
        """The reviewer's columns, then Decision and Note, then identity columns."""
        headers = header_of(book["Underpaid claims"])
        assert headers[:4] == ["New", "Exception ID", "Claim ID", "Patient account"]
        for needed in (
            "Payer",
            "Service date",
            "Paid on",
            "Expected",
            "Paid",
            "Variance",
            "At stake",
            "Adjustment codes",
            "Age (days)",
            "Status",
            "Decision",
            "Note",
            "Fingerprint",
            "Version",
        ):
            assert needed in headers
        assert "Patient" not in headers

    def test_queue_sheets_have_their_reviewer_columns(self, book: Workbook) -> None:
        """Refunds take a Reference and a suspension date; recoupments a Reference."""
        refunds, recoupments = (
            header_of(book["Refunds"]),
            header_of(book["Recoupments"]),
        )
        assert {"Decision", "Note", "Reference", "Suspend until"} <= set(refunds)
        assert {"Due on", "Days left", "Suspended until"} <= set(refunds)
        assert {"Decision", "Note", "Reference", "Response due", "Days left"} <= set(
            recoupments
        )
        assert "Suspend until" not in recoupments

    def test_empty_queues_still_have_their_sheets(self, tmp_path: Path) -> None:
        """With nothing open, Refunds and Recoupments are there with their headers."""
        wb = save(content(), tmp_path)
        assert wb.sheetnames == ["Summary", "Refunds", "Recoupments", "Run info"]
        assert header_of(wb["Refunds"])[1] == "Refund ID"
        assert wb["Refunds"].max_row == 2


class TestCells:
    def test_money_is_a_number_with_the_accounting_format(self, book: Workbook) -> None:
        """Expected, paid, variance and at stake are numbers, never text."""
        ws = book["Underpaid claims"]
        for header, value in (("Expected", 100), ("Variance", -30), ("At stake", 30)):
            cell = ws[f"{column(ws, header)}3"]
            assert cell.data_type == "n"
            assert cell.value == value
            assert cell.number_format == MONEY_FORMAT

    def test_cents_survive_exactly(self, tmp_path: Path) -> None:
        """12.34 is written as 12.34 (Decimal in, no binary rounding visible)."""
        row = exception_row(amount=Decimal("12.34"), expected=Decimal("1234567.89"))
        ws = save(content(exceptions={K.UNDERPAID: [row]}), tmp_path)[
            "Underpaid claims"
        ]
        assert ws[f"{column(ws, 'At stake')}3"].value == pytest.approx(12.34, abs=1e-9)
        assert str(ws[f"{column(ws, 'Expected')}3"].value) == "1234567.89"

    def test_dates_are_dates(self, book: Workbook) -> None:
        """Service and payment dates are date cells in yyyy-mm-dd."""
        ws = book["Underpaid claims"]
        cell = ws[f"{column(ws, 'Service date')}3"]
        assert cell.is_date
        assert cell.value.date() == dt.date(2024, 2, 1)
        assert cell.number_format == DATE_FORMAT

    def test_ids_and_ages_are_whole_numbers(self, book: Workbook) -> None:
        """Ids and ages are numbers, so they sort and filter as numbers."""
        ws = book["Underpaid claims"]
        assert ws[f"{column(ws, 'Exception ID')}3"].value == 1
        assert ws[f"{column(ws, 'Age (days)')}3"].value == 27

    def test_new_marks_items_first_found_by_the_run(self, book: Workbook) -> None:
        """`New` on a first-found item, empty on an older one."""
        ws = book["Underpaid claims"]
        assert ws["A3"].value == "New"
        assert ws["A4"].value is None

    def test_empty_values_are_empty_cells(self, tmp_path: Path) -> None:
        """A missing payment date is an empty cell, not a zero or a text 'None'."""
        row = exception_row(paid_on=None, paid=None)
        ws = save(content(exceptions={K.UNDERPAID: [row]}), tmp_path)[
            "Underpaid claims"
        ]
        assert ws[f"{column(ws, 'Paid on')}3"].value is None
        assert ws[f"{column(ws, 'Paid')}3"].value is None


class TestLayout:
    def test_frozen_header_and_filter(self, book: Workbook) -> None:
        """Title, header, New, ID and claim stay in view; every column filters."""
        ws = book["Underpaid claims"]
        assert ws.freeze_panes == "D3"
        last = column(ws, "Fingerprint")
        assert ws.auto_filter.ref == f"A2:{last}4"

    def test_widths_and_hidden_version(self, book: Workbook) -> None:
        """Columns have set widths; the Version column is hidden."""
        ws = book["Underpaid claims"]
        assert ws.column_dimensions[column(ws, "Claim ID")].width == 16
        assert ws.column_dimensions[column(ws, "Adjustment codes")].width >= 40
        assert ws.column_dimensions[column(ws, "Version")].hidden

    def test_first_row_says_what_the_sheet_lists(self, book: Workbook) -> None:
        """Row 1 is a bold title."""
        ws = book["Underpaid claims"]
        assert ws["A1"].value.startswith("Underpaid claims")
        assert ws["A1"].font.b


class TestReviewerColumns:
    def test_decision_drop_down_per_sheet(self, book: Workbook) -> None:
        """Each sheet's Decision column lists exactly that sheet's decisions."""
        expected = {
            "Underpaid claims": '"resolved,write_off,appeal,dismissed"',
            "Refunds": '"approve,issue,close,cancel,suspend"',
            "Recoupments": '"dispute,accept,repay,close"',
        }
        for title, choices in expected.items():
            ws = book[title]
            letter = column(ws, "Decision")
            lists = [
                dv for dv in ws.data_validations.dataValidation if dv.type == "list"
            ]
            assert len(lists) == 1
            assert lists[0].formula1 == choices
            assert lists[0].sqref == MultiCellRange(f"{letter}3:{letter}{ws.max_row}")
            assert lists[0].showErrorMessage

    def test_note_and_reference_lengths_are_validated(self, book: Workbook) -> None:
        """Notes and references longer than the database keeps are refused in Excel."""
        ws = book["Refunds"]
        limits = {
            str(dv.sqref).split(":")[0][0]: dv.formula1
            for dv in ws.data_validations.dataValidation
            if dv.type == "textLength"
        }
        assert limits == {column(ws, "Note"): "500", column(ws, "Reference"): "50"}

    def test_reviewer_headers_stand_out(self, book: Workbook) -> None:
        """Decision and Note headers use the reviewer style."""
        ws = book["Underpaid claims"]
        assert ws[f"{column(ws, 'Decision')}2"].style == "Reviewer column header"
        assert ws[f"{column(ws, 'Claim ID')}2"].style == "Column header"


class TestHighlighting:
    @pytest.mark.parametrize("title", ["Refunds", "Recoupments"])
    def test_overdue_and_due_soon_rules(self, book: Workbook, title: str) -> None:
        """Rows with negative Days left turn red, 0-7 days amber, over the whole row."""
        ws = book[title]
        days = column(ws, "Days left")
        ranges = list(ws.conditional_formatting)
        assert len(ranges) == 1
        assert str(ranges[0].sqref) == f"A3:{column(ws, 'Fingerprint')}3"
        formulas = [rule.formula[0] for rule in ranges[0].rules]
        assert formulas == [
            f"AND(ISNUMBER(${days}3),${days}3<0)",
            f"AND(ISNUMBER(${days}3),${days}3>=0,${days}3<=7)",
        ]
        assert ranges[0].rules[0].dxf.fill.fgColor.rgb.endswith("FFC7CE")

    def test_overdue_refund_has_negative_days_left(self, book: Workbook) -> None:
        """The value the red rule tests is there."""
        ws = book["Refunds"]
        assert ws[f"{column(ws, 'Days left')}3"].value == -11


class TestInjection:
    @pytest.mark.parametrize(
        "text",
        [
            '=HYPERLINK("http://evil","x")',
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "#N/A",
            "=",
        ],
    )
    def test_text_from_files_is_never_evaluated(
        self, tmp_path: Path, text: str
    ) -> None:
        """A formula-like claim id is a quote-prefixed string cell, exactly as sent."""
        row = exception_row(claim_id=text, detail=text, fingerprint=text)
        ws = save(content(exceptions={K.UNDERPAID: [row]}), tmp_path)[
            "Underpaid claims"
        ]
        for header in ("Claim ID", "Detail", "Fingerprint"):
            cell = ws[f"{column(ws, header)}3"]
            assert cell.data_type == "s", header
            assert cell.value == text
            assert cell.quotePrefix

    def test_characters_xml_cannot_hold_are_replaced(self, tmp_path: Path) -> None:
        """A control character does not break the file; it becomes U+FFFD."""
        row = exception_row(detail="bad\x01byte")
        ws = save(content(exceptions={K.UNDERPAID: [row]}), tmp_path)[
            "Underpaid claims"
        ]
        assert ws[f"{column(ws, 'Detail')}3"].value == "bad\ufffdbyte"

    def test_ordinary_text_is_plain(self, book: Workbook) -> None:
        """Ordinary text carries no quote prefix."""
        ws = book["Underpaid claims"]
        cell = ws[f"{column(ws, 'Claim ID')}3"]
        assert cell.value == "C1"
        assert not cell.quotePrefix

    def test_summary_and_run_info_text_is_safe_too(self, tmp_path: Path) -> None:
        """A file name that looks like a formula is text on Run info."""
        source = SourceFileRow(
            id=1,
            kind="era",
            name="=cmd|'/c calc'!A1",
            sha256="a" * 64,
            size_bytes=10,
            imported_at=WRITTEN,
            rows="payments 1",
        )
        ws = save(content(sources=[source]), tmp_path)["Run info"]
        names = [c for c in ws["A"] if c.value == "=cmd|'/c calc'!A1"]
        assert names
        assert names[0].data_type == "s"


class TestSplit:
    def test_sheet_splits_at_the_row_limit(self, tmp_path: Path) -> None:
        """With room for 3 items per sheet, 7 items fill 'X', 'X (2)' and 'X (3)'."""
        rows = [exception_row(id=i, fingerprint=f"f{i}") for i in range(1, 8)]
        wb = save(content(exceptions={K.UNDERPAID: rows}), tmp_path, max_rows=5)
        parts = ["Underpaid claims", "Underpaid claims (2)", "Underpaid claims (3)"]
        assert [n for n in wb.sheetnames if n.startswith("Underpaid")] == parts
        ids = [
            wb[name].cell(row=r, column=2).value
            for name in parts
            for r in range(3, wb[name].max_row + 1)
        ]
        assert ids == list(range(1, 8))
        assert [wb[name].max_row for name in parts] == [5, 5, 3]
        for name in parts:  # each part is complete on its own
            assert header_of(wb[name])[1] == "Exception ID"
            assert wb[name].freeze_panes == "D3"
            assert wb[name].data_validations.dataValidation
        assert "continued from 'Underpaid claims (2)'" in wb[parts[2]]["A1"].value

    def test_exactly_full_sheet_does_not_split(self, tmp_path: Path) -> None:
        """Items that exactly fill a sheet need no second part."""
        rows = [exception_row(id=i) for i in range(1, 4)]
        wb = save(content(exceptions={K.UNDERPAID: rows}), tmp_path, max_rows=5)
        assert "Underpaid claims (2)" not in wb.sheetnames

    def test_limit_without_room_is_refused(self) -> None:
        """A limit that leaves no row for items is a programming error."""
        with pytest.raises(ValueError, match="no room"):
            build_workbook(
                content=content(exceptions={K.UNDERPAID: [exception_row()]}), max_rows=2
            )

    def test_part_titles_fit_excels_31_characters(self) -> None:
        """A long title is shortened to keep its part number."""
        title = part_title("Reversals without correction", 12)
        assert title == "Reversals without correcti (12)"
        assert len(title) <= 31
        assert part_title("Denials", 1) == "Denials"


class TestPatientNames:
    def test_names_hidden_by_default(self, tmp_path: Path) -> None:
        """Without show_patient_names there is no Patient or Member ID column."""
        row = with_patient(exception_row(), "DOE, JANE", "M123")
        wb = save(content(exceptions={K.UNDERPAID: [row]}), tmp_path)
        for title in wb.sheetnames:
            values = {c.value for r in wb[title].iter_rows() for c in r}
            assert "DOE, JANE" not in values
            assert "M123" not in values

    def test_names_shown_when_allowed(self, tmp_path: Path) -> None:
        """With show_patient_names the patient's name and member id are there."""
        row = with_patient(exception_row(), "DOE, JANE", "M123")
        wb = save(content(exceptions={K.UNDERPAID: [row]}, names=True), tmp_path)
        ws = wb["Underpaid claims"]
        assert ws[f"{column(ws, 'Patient')}3"].value == "DOE, JANE"
        assert ws[f"{column(ws, 'Member ID')}3"].value == "M123"
        assert "Patient" in header_of(wb["Refunds"])


class TestSummary:
    def test_counts_and_amounts_per_kind(self, book: Workbook) -> None:
        """Each kind: title, id, items, new, open, oldest, at stake, how to work it."""
        ws = book["Summary"]
        rows = {
            r[1]: r
            for r in ws.iter_rows(values_only=True)
            if r[1] in ("underpaid", "denied")
        }
        assert rows["underpaid"][:7] == (
            "Underpaid claims",
            "underpaid",
            2,
            2,
            2,
            27,
            60,
        )
        assert rows["underpaid"][7].startswith("Compare the payment")
        assert rows["denied"][6] == 150

    def test_money_on_summary_is_formatted(self, book: Workbook) -> None:
        """The amounts on the Summary use the accounting format."""
        ws = book["Summary"]
        cells = [r[6] for r in ws.iter_rows() if r[1].value == "underpaid"]
        assert cells[0].number_format == MONEY_FORMAT

    def test_kind_titles_link_to_their_sheets(self, book: Workbook) -> None:
        """Clicking a kind's title opens its sheet."""
        ws = book["Summary"]
        cell = next(r[0] for r in ws.iter_rows() if r[1].value == "denied")
        assert cell.hyperlink.location == "'Denials'!A1"

    def test_labelled_bar_chart(self, book: Workbook) -> None:
        """A bar chart of money at stake by kind, with a title and data labels."""
        charts = book["Summary"]._charts
        assert len(charts) == 1
        chart = charts[0]
        assert isinstance(chart, BarChart)
        title = chart.title.tx.rich.p[0].r[0].t
        assert title == "Money at stake by exception kind"
        assert chart.dataLabels.showVal
        kind_rows = [
            row[0].row
            for row in book["Summary"].iter_rows()
            if row[1].value in ("underpaid", "denied")
        ]
        first, last = min(kind_rows), max(kind_rows)
        series = chart.series[0]
        assert series.val.numRef.f == f"'Summary'!$G${first}:$G${last}"
        categories = series.cat.numRef or series.cat.strRef
        assert categories.f == f"'Summary'!$A${first}:$A${last}"

    def test_no_chart_without_exceptions(self, tmp_path: Path) -> None:
        """Nothing to chart: the Summary says so instead."""
        ws = save(content(), tmp_path)["Summary"]
        assert not ws._charts
        assert "No open exceptions." in [r[0] for r in ws.iter_rows(values_only=True)]

    def test_facts_and_database_without_password(self, book: Workbook) -> None:
        """Run id, window dates, when, and the database URL with its password hidden."""
        facts = {
            r[0]: r[1] for r in book["Summary"].iter_rows(values_only=True) if r[0]
        }
        assert facts["Run"] == "7 (nightly)"
        assert facts["Window from"].date() == dt.date(2024, 3, 1)
        assert facts["As of"].date() == dt.date(2024, 3, 31)
        assert facts["Run started (America/New_York)"] == dt.datetime(2024, 4, 1, 6, 0)  # noqa: DTZ001 - Excel times are naive local
        assert facts["Database"] == "postgresql+psycopg://recon:***@db/recon"

    def test_skipped_catch_up_range_is_shown(self, tmp_path: Path) -> None:
        """A catch-up that skipped days says which, and how to run them."""
        run = run_facts(skipped=(dt.date(2024, 1, 1), dt.date(2024, 1, 14)))
        ws = save(content(run=run), tmp_path)["Summary"]
        lines = {r[0]: r[1] for r in ws.iter_rows(values_only=True) if r[0]}
        assert (
            "reconcile run --from 2024-01-01 --to 2024-01-14"
            in lines["Days not reconciled"]
        )

    def test_current_state_title(self, tmp_path: Path) -> None:
        """A rewritten workbook says it shows the current state."""
        wb = save(content(current=True), tmp_path)
        assert "current state" in wb["Summary"]["A1"].value
        assert "current state" in wb.properties.title

    def test_outcome_column_only_when_current(self, tmp_path: Path) -> None:
        """The Outcome column (decision or resolution) is in rewritten workbooks."""
        rows = {K.UNDERPAID: [exception_row(outcome="write_off by ana")]}
        assert "Outcome" not in header_of(
            save(content(exceptions=rows), tmp_path)["Underpaid claims"]
        )
        current = save(content(exceptions=rows, current=True), tmp_path)
        ws = current["Underpaid claims"]
        assert ws[f"{column(ws, 'Outcome')}3"].value == "write_off by ana"


class TestRunInfo:
    def test_rule_counts_config_hash_and_files(self, tmp_path: Path) -> None:
        """Run info lists rules with counts, the config hash and each file's hash."""
        source = SourceFileRow(
            id=4,
            kind="era",
            name="aetna-0301.835",
            sha256="ab" * 32,
            size_bytes=2048,
            imported_at=WRITTEN,
            rows="payments 2, claims 9",
        )
        ws = save(content(sources=[source]), tmp_path)["Run info"]
        rows = list(ws.iter_rows(values_only=True))
        assert rows[[r[0] for r in rows].index("claim_remit_clp01")][:3] == (
            "claim_remit_clp01",
            5,
            1,
        )
        assert next(r[:2] for r in rows if r[0] == "Configuration hash") == (
            "Configuration hash",
            "c" * 64,
        )
        file_row = next(r for r in rows if r[0] == "aetna-0301.835")
        assert file_row[:5] == ("aetna-0301.835", "era", 4, "ab" * 32, 2048)
        assert file_row[6] == "payments 2, claims 9"


class TestOpenpyxlHook:
    def test_the_private_hooks_the_item_sheets_use_still_exist(self) -> None:
        """openpyxl still sends rows through _values_to_row (else no speed-up)."""
        source = inspect.getsource(WriteOnlyWorksheet._write_rows)
        assert "self._values_to_row(row, row_idx)" in source
        assert callable(Workbook._add_sheet)

    def test_item_sheets_write_prepared_and_plain_values(self, tmp_path: Path) -> None:
        """A styled template reused row after row keeps each row's own value."""
        rows = [exception_row(id=i, amount=Decimal(i)) for i in (1, 2, 3)]
        ws = save(content(exceptions={K.UNDERPAID: rows}), tmp_path)["Underpaid claims"]
        stake = column(ws, "At stake")
        assert [ws[f"{stake}{r}"].value for r in (3, 4, 5)] == [1, 2, 3]
        assert [ws[f"B{r}"].value for r in (3, 4, 5)] == [1, 2, 3]
