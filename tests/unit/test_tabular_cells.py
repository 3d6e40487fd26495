"""Cell converters: exact cents, dates in any configured format, bounded text."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH

from reconcile.ingest.tabular.cells import (
    AmountCells,
    CellError,
    ChoiceCells,
    DateCells,
    TextCells,
)
from reconcile.settings import AmountFormat

PLAIN = AmountCells(amount_format=AmountFormat.PLAIN)
ACCOUNTING = AmountCells(amount_format=AmountFormat.ACCOUNTING)


class TestText:
    def test_trims_and_empty_is_none(self) -> None:
        """Text is trimmed; blank text is an empty cell."""
        convert = TextCells(max_length=10)
        assert convert("  C1 ") == "C1"
        assert convert("   ") is None
        assert convert(None) is None

    def test_too_long_is_an_error(self) -> None:
        """Text longer than its column is refused, not cut."""
        with pytest.raises(CellError, match="longer than 3 characters"):
            TextCells(max_length=3)("ABCD")

    def test_xlsx_numbers_become_their_text(self) -> None:
        """A numeric id cell (12345.0) reads as '12345'."""
        convert = TextCells(max_length=20)
        assert convert(12345.0) == "12345"
        assert convert(1234567893) == "1234567893"
        assert convert(12.5) == "12.5"

    @pytest.mark.parametrize("cell", [True, dt.date(2024, 3, 1), dt.time(10, 0)])
    def test_other_cell_types_are_errors(self, cell: object) -> None:
        """Booleans and date cells are not text."""
        with pytest.raises(CellError, match="not text"):
            TextCells(max_length=20)(cell)

    def test_nul_character_is_refused(self) -> None:
        """A NUL byte cannot be stored in PostgreSQL text."""
        with pytest.raises(CellError, match="NUL"):
            TextCells(max_length=20)("A\x00B")


class TestDates:
    @pytest.mark.parametrize(
        ("date_format", "text"),
        [
            ("%Y-%m-%d", "2024-03-01"),
            ("%m/%d/%Y", "03/01/2024"),
            ("%m/%d/%y", "3/1/24"),
            ("%d.%m.%Y", "01.03.2024"),
            ("%Y%m%d", "20240301"),
            ("%m/%d/%Y %H:%M", "03/01/2024 14:30"),
        ],
    )
    def test_text_in_the_configured_format(self, date_format: str, text: str) -> None:
        """Dates are read in the source's format and staged as ISO text."""
        convert = DateCells(date_format=date_format, epoch=WINDOWS_EPOCH)
        assert convert(text) == "2024-03-01"

    def test_wrong_format_names_the_expected_one(self) -> None:
        """The reason shows what a date should look like, not the cell's text."""
        convert = DateCells(date_format="%m/%d/%Y", epoch=WINDOWS_EPOCH)
        with pytest.raises(CellError) as error:
            convert("2024-03-01")
        assert str(error.value) == "is not a date like 03/31/2024 (%m/%d/%Y)"

    @pytest.mark.parametrize("text", ["2024-02-30", "2024-13-01", "yesterday", "0"])
    def test_impossible_dates_are_errors(self, text: str) -> None:
        """A date that does not exist is an error."""
        convert = DateCells(date_format="%Y-%m-%d", epoch=WINDOWS_EPOCH)
        with pytest.raises(CellError):
            convert(text)

    def test_memo_returns_the_same_answer(self) -> None:
        """Repeated dates come from the memo with the same value."""
        convert = DateCells(date_format="%m/%d/%Y", epoch=WINDOWS_EPOCH)
        assert [convert("12/31/2023") for _ in range(3)] == ["2023-12-31"] * 3

    def test_xlsx_date_cells_are_dates_whatever_the_format(self) -> None:
        """Date cells need no format; a time of day is dropped."""
        convert = DateCells(date_format="%m/%d/%Y", epoch=WINDOWS_EPOCH)
        # openpyxl hands date cells over as naive datetimes.
        assert convert(dt.datetime(2024, 3, 1, 15, 45)) == "2024-03-01"  # noqa: DTZ001
        assert convert(dt.date(2024, 3, 1)) == "2024-03-01"

    def test_excel_serials_as_numbers_and_text(self) -> None:
        """With "excel", serial day numbers are dates (45352 = 2024-03-01)."""
        convert = DateCells(date_format="excel", epoch=WINDOWS_EPOCH)
        assert convert(45352) == "2024-03-01"
        assert convert(45352.75) == "2024-03-01"
        assert convert("45352") == "2024-03-01"

    def test_excel_serials_follow_the_workbook_epoch(self) -> None:
        """A 1904-system workbook counts from 1904-01-01."""
        convert = DateCells(date_format="excel", epoch=MAC_EPOCH)
        assert convert(43890) == "2024-03-01"

    @pytest.mark.parametrize("cell", [0, -5, 3_000_000, "abc", float("nan")])
    def test_bad_excel_serials(self, cell: object) -> None:
        """Serials outside Excel's calendar are errors."""
        convert = DateCells(date_format="excel", epoch=WINDOWS_EPOCH)
        with pytest.raises(CellError, match="Excel date serial"):
            convert(cell)

    def test_number_without_excel_format_is_an_error(self) -> None:
        """A number in a date column needs date_format = "excel"."""
        convert = DateCells(date_format="%Y-%m-%d", epoch=WINDOWS_EPOCH)
        with pytest.raises(CellError, match="is a number"):
            convert(45352)


class TestAmounts:
    @pytest.mark.parametrize(
        ("text", "cents"),
        [("12", 1200), ("12.5", 1250), ("-12.50", -1250), (".05", 5), ("0", 0)],
    )
    def test_plain(self, text: str, cents: int) -> None:
        """Plain amounts are exact cents."""
        assert PLAIN(text) == cents

    @pytest.mark.parametrize(
        ("text", "cents"),
        [
            ("$1,234.56", 123_456),
            ("(12.00)", -1200),
            ("($1,000.00)", -100_000),
            ("-$5", -500),
            ("1,234,567.89", 123_456_789),
        ],
    )
    def test_accounting(self, text: str, cents: int) -> None:
        """Accounting amounts: currency sign, thousands, parentheses."""
        assert ACCOUNTING(text) == cents

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("12.345", "has more than 2 decimals"),
            ("12,34", "is not an amount"),
            ("$12", "is not an amount"),
            ("1e5", "is not an amount"),
        ],
    )
    def test_plain_errors_without_the_text(self, text: str, reason: str) -> None:
        """Errors say why and never repeat the cell's text."""
        with pytest.raises(CellError) as error:
            PLAIN(text)
        assert str(error.value) == reason

    def test_accounting_misplaced_separator(self) -> None:
        """Thousands separators must group by three."""
        with pytest.raises(CellError, match="misplaced thousands separators"):
            ACCOUNTING("1,23.00")

    def test_xlsx_numbers_are_exact_or_refused(self) -> None:
        """Floats go through their shortest spelling; anything finer is refused."""
        assert PLAIN(1234.56) == 123_456
        assert PLAIN(0.1) == 10
        assert PLAIN(100) == 10_000
        with pytest.raises(CellError, match="not an exact amount in cents"):
            PLAIN(0.1 + 0.2)
        with pytest.raises(CellError, match="not an exact amount in cents"):
            PLAIN(float("inf"))

    @given(st.integers(min_value=-(10**13), max_value=10**13))
    def test_cents_round_trip_through_xlsx_floats(self, cents: int) -> None:
        """Any whole-cent amount Excel stores as a float reads back to its cents."""
        as_float = cents / 100  # what a spreadsheet stores for the typed amount
        assert PLAIN(as_float) == cents

    @pytest.mark.parametrize("cell", [True, dt.date(2024, 1, 1), 10**20])
    def test_other_cells_are_errors(self, cell: object) -> None:
        """Booleans, dates and absurd numbers are not amounts."""
        with pytest.raises(CellError):
            PLAIN(cell)


class TestChoice:
    def test_words_match_loosely(self) -> None:
        """Case, spaces, '-' and '_' do not matter."""
        convert = ChoiceCells(
            choices={"insurance_payment": "insurance_payment", "Ins Pmt": "x"},
            expected="a kind",
        )
        assert convert("Insurance Payment") == "insurance_payment"
        assert convert(" ins-PMT ") == "x"
        assert convert("") is None

    def test_unknown_word(self) -> None:
        """An unknown word says what is expected."""
        convert = ChoiceCells(choices={"a": "a"}, expected="a kind (a)")
        with pytest.raises(CellError, match=r"is not a kind \(a\)"):
            convert("b")


class TestColumns:
    """Whole columns read at once agree with cell-by-cell reading."""

    def test_text_column(self) -> None:
        """Trimmed text, empties as None, a failed check sends it to a closer look."""
        reader = TextCells(max_length=10, check=lambda t: None if t != "BAD" else "x")
        assert reader.column([" a ", "", "b"]) == ["a", None, "b"]
        assert reader.column(["a", "BAD"]) is None
        assert reader.column(["a", "x" * 11]) is None
        assert reader.column(["a\x00"]) is None

    def test_required_text_column_with_an_empty_cell(self) -> None:
        """An empty required cell is not plainly right."""
        assert TextCells(max_length=5, required=True).column(["a", " "]) is None

    def test_xlsx_text_column_falls_back_to_cells(self) -> None:
        """Numbers in a text column are read cell by cell."""
        assert TextCells(max_length=10).column([12345.0, None, "x"]) == [
            "12345",
            None,
            "x",
        ]

    def test_date_and_amount_columns_use_their_memo(self) -> None:
        """Repeated values are looked up; new ones (and empty cells of an optional
        column) are parsed once."""
        dates = DateCells(date_format="%m/%d/%Y", epoch=WINDOWS_EPOCH)
        assert dates.column(["03/01/2024", "03/01/2024", ""]) == [
            "2024-03-01",
            "2024-03-01",
            None,
        ]
        assert dates.memo == {"03/01/2024": "2024-03-01", "": None}
        assert dates.column(["", "03/01/2024"]) == [None, "2024-03-01"]
        assert dates.column(["13/01/2024"]) is None

    def test_a_required_columns_empty_cell_is_never_remembered(self) -> None:
        """An empty cell of a required column stays a problem, chunk after chunk."""
        amounts = AmountCells(amount_format=AmountFormat.PLAIN, required=True)
        assert amounts.column(["1.00", ""]) is None
        assert amounts.memo == {"1.00": 100}
        assert amounts.column(["1.00", ""]) is None
        with pytest.raises(CellError, match="value is required"):
            amounts("")

    def test_amount_column_minimum(self) -> None:
        """An amount below the minimum anywhere in the column needs a closer look."""
        amounts = AmountCells(amount_format=AmountFormat.PLAIN, minimum=1)
        assert amounts.column(["1.00", "", "2"]) == [100, None, 200]
        assert amounts.column(["1.00", "0"]) is None
        assert amounts.column(["1.001"]) is None

    @given(st.lists(st.sampled_from(["1", "2.5", "-3", "", "x", "1.005", " 7 "])))
    def test_column_equals_cells_when_it_answers(self, cells: list[str]) -> None:
        """Column reading gives exactly the cell-by-cell values, or defers."""
        reader = AmountCells(amount_format=AmountFormat.PLAIN, minimum=0)
        values = reader.column(cells)
        try:
            expected: list[object] | None = [reader(cell) for cell in cells]
        except CellError:
            expected = None
        assert values == expected
