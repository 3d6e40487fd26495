"""Cell styles, and turning values into cells fast and safely.

**Safety.** Text from files (claim ids, payer names, notes) is never written where
Excel would evaluate it: a string that starts with ``=``, ``+``, ``-``, ``@``, tab or
CR — or looks like an error value (``#N/A``) — becomes a plain string cell
(``data_type 's'``) with the *quote prefix* set, so Excel shows it as typed and does
not evaluate it even when the cell is edited. Characters XML cannot hold are replaced
by U+FFFD.

**Speed.** Styles are registered once per workbook as named styles; each styled
column gets one template cell that is reused for every row (openpyxl's write-only
sheet serialises a row's cells before the next row is appended), so no cell style is
computed per cell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeAlias

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from reconcile.report.columns import DATE_FORMAT, MONEY_FORMAT, Column, Shape

#: A write-only worksheet. Typed ``Any`` on purpose: the types-openpyxl stub of
#: ``WriteOnlyWorksheet`` lacks the attributes it shares with ``Worksheet`` at run time
#: (column_dimensions, data_validations, conditional_formatting, auto_filter, …).
Sheet: TypeAlias = Any

AMOUNT = "Amount"
DATE = "Day"
LITERAL = "Literal text"
HEADER = "Column header"
INPUT_HEADER = "Reviewer column header"
SHEET_TITLE = "Sheet title"
SECTION = "Section title"
NEW_ITEM = "New item"
EMPHASIS = "Emphasis"
DATETIME = "Timestamp"
COUNT = "Whole number"
TOTAL = "Total amount"

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
INPUT_FILL = PatternFill(fill_type="solid", start_color="FFF2CC", end_color="FFF2CC")
_HEADER_FILL = PatternFill(fill_type="solid", start_color="D9E1F2", end_color="D9E1F2")
_RULE = Border(bottom=Side(style="thin", color="808080"))

#: First characters that make Excel (or a user editing the cell) evaluate text.
_RISKY_FIRST = frozenset("=+-@\t\r#")


class _PreparedRows(WriteOnlyWorksheet):
    """A write-only sheet whose rows may hold prepared (styled) cells.

    openpyxl's own ``_values_to_row`` first binds every value to a fresh cell; for a
    prepared cell that fails with an exception whose message formats the cell, and
    it then allocates another cell — about a fifth of the time of an item sheet.
    This override of that (private, openpyxl 3.1) hook passes prepared cells straight
    through; a test checks the hook is still there. Item rows carry no hyperlinks.
    """

    def _values_to_row(self, values: Iterable[Any], row_idx: int) -> Iterator[Cell]:
        plain = WriteOnlyCell(self)
        for col_idx, value in enumerate(values, 1):
            if value is None:
                continue
            if isinstance(value, Cell):
                cell = value
            else:
                plain.value = value
                cell = plain
            cell.column = col_idx
            cell.row = row_idx
            yield cell


def item_sheet(workbook: Workbook, title: str) -> Sheet:
    """A new write-only sheet for item rows (see :class:`_PreparedRows`)."""
    sheet = _PreparedRows(parent=workbook, title=title)
    workbook._add_sheet(sheet)  # type: ignore[attr-defined]  # what create_sheet calls
    return sheet


def _font(**attributes: Any) -> Font:
    """The workbook's own font (Calibri 11), so every style looks the same."""
    return Font(**{"name": "Calibri", "size": 11, **attributes})


def _named(name: str, **attributes: Any) -> NamedStyle:
    style = NamedStyle(name=name, font=_font())
    for key, value in attributes.items():
        setattr(style, key, value)
    return style


def register_styles(workbook: Workbook) -> None:
    """Add the named styles every sheet uses to ``workbook`` (once)."""
    wrap = Alignment(wrap_text=True, vertical="top")
    left = Alignment(horizontal="left")
    bold = _font(bold=True)
    centre = Alignment(horizontal="center")
    for style in (
        _named(AMOUNT, number_format=MONEY_FORMAT),
        _named(DATE, number_format=DATE_FORMAT, alignment=left),
        _named(DATETIME, number_format=DATETIME_FORMAT, alignment=left),
        _named(LITERAL),
        _named(HEADER, font=bold, fill=_HEADER_FILL, border=_RULE, alignment=wrap),
        _named(INPUT_HEADER, font=bold, fill=INPUT_FILL, border=_RULE, alignment=wrap),
        _named(COUNT, alignment=centre),
        _named(TOTAL, number_format=MONEY_FORMAT, font=bold, fill=_HEADER_FILL),
        _named(SHEET_TITLE, font=_font(bold=True, size=13)),
        _named(SECTION, font=_font(bold=True, color="1F3864")),
        _named(NEW_ITEM, font=_font(bold=True, color="00703C")),
        _named(EMPHASIS, font=_font(bold=True, color="9C0006")),
    ):  # fmt: skip
        workbook.add_named_style(style)


def styled(ws: Sheet, value: Any, style: str) -> Cell:
    """One cell with a named style (for the few cells outside the item rows)."""
    cell = WriteOnlyCell(ws, value=value)
    cell.style = style
    return cell


def _literal(cell: Cell, text: str) -> Cell:
    cell.value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    cell.data_type = "s"  # never a formula or an error value
    return cell


def text(ws: Sheet) -> Callable[[Any], Any]:
    """A converter for text that may come from files (see the module docstring)."""
    protected = WriteOnlyCell(ws)
    protected.style = LITERAL
    protected.quotePrefix = True

    def convert(value: Any) -> Any:
        if value is None or value == "":
            return None
        if value[0] in _RISKY_FIRST or not value.isprintable():
            return _literal(protected, value)
        return value

    return convert


def safe(ws: Sheet, value: Any) -> Any:
    """``value`` as a cell or plain value that Excel will not evaluate."""
    return text(ws)(value) if isinstance(value, str) else value


def _template(ws: Sheet, style: str) -> Callable[[Any], Any]:
    cell = WriteOnlyCell(ws)
    cell.style = style

    def convert(value: Any) -> Any:
        if value is None:
            return None
        cell.value = value
        return cell

    return convert


def _flag(ws: Sheet, word: str) -> Callable[[Any], Any]:
    cell = styled(ws, word, NEW_ITEM)

    def convert(value: Any) -> Any:
        return cell if value else None

    return convert


def _nothing(value: Any) -> None:
    return None


def converter(ws: Sheet, column: Column[Any]) -> Callable[[Any], Any]:
    """How the values of ``column`` become cells on ``ws``."""
    shape = column.shape
    if shape is Shape.TEXT:
        return text(ws)
    if shape is Shape.MONEY:
        return _template(ws, AMOUNT)
    if shape is Shape.DATE:
        return _template(ws, DATE)
    if shape is Shape.FLAG:
        return _flag(ws, column.header)
    if shape is Shape.NUMBER:
        return _as_is
    return _nothing


def _as_is(value: Any) -> Any:
    return value
