"""Reading decisions back from a returned workbook (no database)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from reconcile.categories import ExceptionKind as K
from reconcile.report.columns import Entity
from reconcile.report.review import ReviewFileError, read_review
from reconcile.report.workbook import build_workbook
from tests.report_data import content, exception_row, recoupment_row, refund_row


def write_book(tmp_path: Path) -> Path:
    """A workbook as reconcile writes it: two exceptions, a refund, a recoupment."""
    path = tmp_path / "returned.xlsx"
    built = content(
        exceptions={K.UNDERPAID: [exception_row(), exception_row(id=2)]},
        refunds=[refund_row(id=5)],
        recoupments=[recoupment_row(id=9)],
    )
    build_workbook(content=built).save(path)
    return path


def type_in(path: Path, sheet: str, row: int, **values: Any) -> None:
    """Type values into a sheet by header, as a reviewer would, and save."""
    wb = load_workbook(path)
    ws = wb[sheet]
    headers = {cell.value: cell.column for cell in ws[2]}
    for header, value in values.items():
        ws.cell(row=row, column=headers[header.replace("_", " ")], value=value)
    wb.save(path)


class TestReading:
    def test_rows_with_a_decision_are_read(self, tmp_path: Path) -> None:
        """Decision, Note, Reference and Version come back with sheet and row."""
        path = write_book(tmp_path)
        type_in(path, "Underpaid claims", 4, Decision="write_off", Note="small")
        type_in(path, "Refunds", 3, Decision="issue", Reference=10234)
        read = read_review(path)
        assert read.problems == []
        exception, refund = read.rows
        assert (exception.sheet, exception.row, exception.entity) == (
            "Underpaid claims",
            4,
            Entity.EXCEPTION,
        )
        assert (exception.item_id, exception.decision, exception.note) == (
            2,
            "write_off",
            "small",
        )
        assert exception.version == "open::3000:0"
        assert (refund.item_id, refund.decision, refund.reference) == (
            5,
            "issue",
            "10234",
        )

    def test_decisions_are_normalised(self, tmp_path: Path) -> None:
        """'Write off' typed by hand is the write_off decision."""
        path = write_book(tmp_path)
        type_in(path, "Underpaid claims", 3, Decision="  Write off ")
        assert read_review(path).rows[0].decision == "write_off"

    def test_suspension_date_as_date_or_iso_text(self, tmp_path: Path) -> None:
        """Suspend until may be a date cell or ISO text."""
        path = write_book(tmp_path)
        type_in(
            path, "Refunds", 3, Decision="suspend", Suspend_until=dt.date(2024, 6, 1)
        )
        assert read_review(path).rows[0].until == dt.date(2024, 6, 1)
        type_in(path, "Refunds", 3, Suspend_until="2024-06-02")
        assert read_review(path).rows[0].until == dt.date(2024, 6, 2)

    def test_sheets_are_found_by_header_not_name(self, tmp_path: Path) -> None:
        """A renamed sheet is still read."""
        path = write_book(tmp_path)
        wb = load_workbook(path)
        wb["Recoupments"].title = "Payer takebacks"
        wb.save(path)
        type_in(path, "Payer takebacks", 3, Decision="accept")
        rows = read_review(path).rows
        assert [(r.sheet, r.entity, r.item_id) for r in rows] == [
            ("Payer takebacks", Entity.RECOUPMENT, 9)
        ]

    def test_notes_without_a_decision_are_counted(self, tmp_path: Path) -> None:
        """A note alone applies nothing but is reported."""
        path = write_book(tmp_path)
        type_in(path, "Underpaid claims", 3, Note="looked at it")
        read = read_review(path)
        assert read.rows == []
        assert read.notes_without_decision == 1


class TestProblems:
    def test_an_id_that_is_not_a_number(self, tmp_path: Path) -> None:
        """A mangled ID is a problem with its sheet and row."""
        path = write_book(tmp_path)
        type_in(path, "Underpaid claims", 3, Decision="appeal", **{"Exception ID": "x"})
        problem = read_review(path).problems[0]
        assert (
            str(problem)
            == "'Underpaid claims' row 3: the Exception ID 'x' is not an id"
        )

    def test_a_date_that_is_not_a_date(self, tmp_path: Path) -> None:
        """An unreadable suspension date is a problem."""
        path = write_book(tmp_path)
        type_in(path, "Refunds", 3, Decision="suspend", Suspend_until="next week")
        problem = read_review(path).problems[0]
        assert problem.row == 3
        assert "'next week' is not a date" in problem.message

    def test_a_deleted_column(self, tmp_path: Path) -> None:
        """A sheet whose Version column was deleted cannot be checked."""
        path = write_book(tmp_path)
        wb = load_workbook(path)
        ws = wb["Refunds"]
        version = next(c.column for c in ws[2] if c.value == "Version")
        ws.delete_cols(version)
        wb.save(path)
        problem = read_review(path).problems[0]
        assert problem.sheet == "Refunds"
        assert "'Version'" in problem.message

    def test_missing_file(self, tmp_path: Path) -> None:
        """A file that is not there is one sentence."""
        with pytest.raises(ReviewFileError, match="there is no file"):
            read_review(tmp_path / "nope.xlsx")

    def test_not_a_workbook(self, tmp_path: Path) -> None:
        """A text file named .xlsx is refused."""
        path = tmp_path / "fake.xlsx"
        path.write_text("claim_id,amount\n")
        with pytest.raises(ReviewFileError, match="is not an Excel workbook"):
            read_review(path)

    def test_a_workbook_reconcile_did_not_write(self, tmp_path: Path) -> None:
        """A workbook without item sheets is refused."""
        path = tmp_path / "other.xlsx"
        wb = Workbook()
        wb.active.append(["claim", "amount"])
        wb.save(path)
        with pytest.raises(ReviewFileError, match="not a reconcile workbook"):
            read_review(path)
