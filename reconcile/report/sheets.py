"""Item sheets: one row per item, driven by a column spec (``SheetSpec``).

Layout: row 1 says what the sheet lists, row 2 holds the headers, items start on
row 3. The header and the first three columns (New, ID, claim) stay frozen; every
column has a filter; the Decision column offers the sheet's decisions as a drop-down;
Days left is highlighted red when overdue and amber within a week. A sheet that
reaches ``max_rows`` continues on ``Title (2)``, ``Title (3)``…
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Font, PatternFill
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties

from reconcile.report.cells import (
    HEADER,
    INPUT_FILL,
    INPUT_HEADER,
    SHEET_TITLE,
    Sheet,
    converter,
    item_sheet,
    styled,
)
from reconcile.report.columns import (
    DECISION,
    NOTE,
    NOTE_MAX,
    REFERENCE,
    REFERENCE_MAX,
    SUSPEND_UNTIL,
    Shape,
    SheetSpec,
)
from reconcile.report.content import ItemSheet

#: Excel's limit of rows per sheet.
EXCEL_MAX_ROWS = 1_048_576
#: Rows above the first item: what the sheet lists, and the headers.
HEADER_ROWS = 2
FIRST_ROW = HEADER_ROWS + 1
_TITLE_MAX = 31  # Excel's limit on sheet names
_FREEZE = f"D{FIRST_ROW}"
_INPUT = (Shape.INPUT, Shape.INPUT_DATE)

_RED = (
    PatternFill(fill_type="solid", start_color="FFC7CE", end_color="FFC7CE"),
    "9C0006",
)
_AMBER = (
    PatternFill(fill_type="solid", start_color="FFEB9C", end_color="FFEB9C"),
    "9C5700",
)


def part_title(base: str, part: int) -> str:
    """The title of part ``part`` (from 1) of a sheet, within Excel's 31 characters."""
    if part == 1:
        return base[:_TITLE_MAX]
    suffix = f" ({part})"
    return base[: _TITLE_MAX - len(suffix)] + suffix


def _none(row: Any) -> None:
    return None


def _start(wb: Workbook, sheet: ItemSheet[Any], part: int) -> Sheet:
    ws = item_sheet(wb, part_title(sheet.title, part))
    spec = sheet.spec
    # Write-only sheets write their column widths, panes and page properties when
    # the first row is appended: set them all first.
    for position, column in enumerate(spec.columns, start=1):
        dimension = ws.column_dimensions[get_column_letter(position)]
        dimension.width = column.width
        dimension.hidden = column.hidden
        if column.shape in _INPUT:
            dimension.fill = INPUT_FILL
            if column.number_format:
                dimension.number_format = column.number_format
    ws.freeze_panes = _FREEZE
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = f"1:{HEADER_ROWS}"
    # Printed grid lines keep a right-aligned number apart from the text beside it.
    ws.print_options.gridLines = True
    ws.row_dimensions[HEADER_ROWS].height = 30
    heading = sheet.heading
    if part > 1:
        heading = f"{heading} (continued from '{part_title(sheet.title, part - 1)}')"
    # Reviewer columns are tinted as a whole; keep the title row above them plain.
    ws.append(
        [
            styled(ws, heading, SHEET_TITLE),
            *(
                styled(ws, None, SHEET_TITLE) if column.shape in _INPUT else None
                for column in spec.columns[1:]
            ),
        ]
    )
    ws.append(
        [
            styled(
                ws,
                column.header,
                INPUT_HEADER if column.shape in _INPUT else HEADER,
            )
            for column in spec.columns
        ]
    )
    return ws


def _validations(ws: Sheet, spec: SheetSpec[Any], last_row: int) -> None:
    def cells(header: str) -> str:
        letter = get_column_letter(spec.index(header))
        return f"{letter}{FIRST_ROW}:{letter}{last_row}"

    choices = ", ".join(spec.decisions)
    decision = DataValidation(
        type="list",
        formula1='"' + ",".join(spec.decisions) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Not a decision",
        error=f"Choose one of: {choices}.",
        showInputMessage=True,
        promptTitle="Decision",
        prompt="Pick a decision, add a Note, then run reconcile review import.",
    )
    decision.add(cells(DECISION))
    ws.data_validations.append(decision)
    limits = [(NOTE, NOTE_MAX)]
    headers = {column.header for column in spec.columns}
    if REFERENCE in headers:
        limits.append((REFERENCE, REFERENCE_MAX))
    for header, limit in limits:
        length = DataValidation(
            type="textLength",
            operator="lessThanOrEqual",
            formula1=str(limit),
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Too long",
            error=f"{header} holds at most {limit} characters.",
        )
        length.add(cells(header))
        ws.data_validations.append(length)
    if SUSPEND_UNTIL in headers:
        until = DataValidation(
            type="date",
            operator="greaterThan",
            formula1="36526",  # 2000-01-01: any real date
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Not a date",
            error="Type the day the suspension ends, e.g. 2024-06-30.",
        )
        until.add(cells(SUSPEND_UNTIL))
        ws.data_validations.append(until)


def _highlight(ws: Sheet, spec: SheetSpec[Any], last_row: int) -> None:
    if spec.days_left_header is None:
        return
    days = f"${get_column_letter(spec.index(spec.days_left_header))}{FIRST_ROW}"
    area = f"A{FIRST_ROW}:{get_column_letter(len(spec.columns))}{last_row}"
    for condition, (fill, color) in (
        (f"AND(ISNUMBER({days}),{days}<0)", _RED),
        (f"AND(ISNUMBER({days}),{days}>=0,{days}<=7)", _AMBER),
    ):
        rule = Rule(
            type="expression",
            formula=[condition],
            stopIfTrue=True,
            dxf=DifferentialStyle(fill=fill, font=Font(color=color)),
        )
        ws.conditional_formatting.add(area, rule)


def _finish(ws: Sheet, spec: SheetSpec[Any], count: int) -> None:
    last_row = HEADER_ROWS + count
    last_column = get_column_letter(len(spec.columns))
    ws.auto_filter.ref = f"A{HEADER_ROWS}:{last_column}{last_row}"
    if count:
        _validations(ws, spec, last_row)
        _highlight(ws, spec, last_row)


def write_item_sheet(
    wb: Workbook, sheet: ItemSheet[Any], *, max_rows: int = EXCEL_MAX_ROWS
) -> list[str]:
    """Write ``sheet``'s rows, in as many parts as ``max_rows`` needs; return titles.

    Raises:
        ValueError: ``max_rows`` leaves no room for a single item.
    """
    capacity = max_rows - HEADER_ROWS
    if capacity < 1:
        raise ValueError(f"a sheet of {max_rows} rows has no room for items")
    titles: list[str] = []
    ws: Sheet | None = None
    count = 0
    cells: list[tuple[Callable[[Any], Any], Callable[[Any], Any]]] = []
    for row in sheet.rows:
        if ws is None or count == capacity:
            if ws is not None:
                _finish(ws, sheet.spec, count)
            ws = _start(wb, sheet, len(titles) + 1)
            titles.append(ws.title)
            cells = [(c.getter or _none, converter(ws, c)) for c in sheet.spec.columns]
            count = 0
        ws.append([convert(get(row)) for get, convert in cells])
        count += 1
    if ws is None:
        ws = _start(wb, sheet, 1)
        titles.append(ws.title)
    _finish(ws, sheet.spec, count)
    return titles
