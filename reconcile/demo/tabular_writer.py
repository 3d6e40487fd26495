"""Synthetic practice files: CSV and XLSX written the way a source's settings read.

Rows are mappings from canonical column names (``claim_id``, ``service_date``,
``billed_amount`` …) to values: text, ``datetime.date`` for dates, integer cents for
amounts, ``None`` for empty. The header is each column's configured name, dates use
the configured format (or Excel serial numbers), amounts the configured format, so a
file written with a column map reads back through the same map.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from reconcile.money import format_dollars, to_decimal
from reconcile.settings import CANONICAL_COLUMNS, AmountFormat, SourceSettings

Row = Mapping[str, object]
_AMOUNT_SUFFIX = "_amount"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel counts 1900 as a leap year, so from March 1900 day 0 is 1899-12-30.
_EXCEL_DAY_ZERO = dt.date(1899, 12, 30)
_FIRST_EXACT_SERIAL = dt.date(1900, 3, 1)


def _is_amount(column: str) -> bool:
    return column == "amount" or column.endswith(_AMOUNT_SUFFIX)


def format_amount(cents: int, *, amount_format: AmountFormat) -> str:
    """Write cents as dollars: ``-12.50``, or accounting ``$1,234.56``/``($12.50)``."""
    if amount_format is AmountFormat.PLAIN:
        return format_dollars(cents)
    whole, frac = divmod(abs(cents), 100)
    text = f"${whole:,}.{frac:02d}"
    return f"({text})" if cents < 0 else text


def excel_serial(day: dt.date) -> int:
    """The Excel (1900 date system) serial number of a day from March 1900 on.

    Raises:
        ValueError: the day is before March 1900 (Excel's serials are off there).
    """
    if day < _FIRST_EXACT_SERIAL:
        raise ValueError("Excel serials before March 1900 are off by a day")
    return (day - _EXCEL_DAY_ZERO).days


def format_date(day: dt.date, *, date_format: str) -> str:
    """Write a date as the source writes dates (strptime format or Excel serial)."""
    if date_format == "excel":
        return str(excel_serial(day))
    return day.strftime(date_format)


def _cell_text(column: str, value: object, settings: SourceSettings) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return format_date(value, date_format=settings.date_format)
    if _is_amount(column) and isinstance(value, int):
        return format_amount(value, amount_format=settings.amount_format)
    return str(value)


def headers(source: str, settings: SourceSettings) -> list[str]:
    """The header row of a source's file under ``settings``."""
    return [settings.header_for(c) for c in CANONICAL_COLUMNS[source]]


def write_csv(
    *,
    path: Path,
    source: str,
    rows: Iterable[Row],
    settings: SourceSettings | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
    quote_all: bool = False,
) -> int:
    """Write a source's rows as CSV; return how many rows were written.

    ``encoding`` may be ``"utf-8-sig"`` (with a byte-order mark) or ``"cp1252"``;
    ``quote_all`` quotes every field, as some systems do.
    """
    settings = settings or SourceSettings()
    columns = CANONICAL_COLUMNS[source]
    count = 0
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = (
            csv.writer(handle, delimiter=delimiter, quoting=csv.QUOTE_ALL)
            if quote_all
            else csv.writer(handle, delimiter=delimiter)
        )
        writer.writerow(headers(source, settings))
        for row in rows:
            writer.writerow([_cell_text(c, row.get(c), settings) for c in columns])
            count += 1
    return count


@dataclass(frozen=True)
class Sheet:
    """One worksheet of a workbook: a source's rows under a title."""

    title: str
    source: str
    rows: Sequence[Row]
    settings: SourceSettings = field(default_factory=SourceSettings)


def _xlsx_cell(
    sheet: WriteOnlyWorksheet, column: str, value: object, settings: SourceSettings
) -> object:
    if isinstance(value, dt.date):
        if settings.date_format == "excel":
            return excel_serial(value)
        cell = WriteOnlyCell(sheet)
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
        return cell
    if _is_amount(column) and isinstance(value, int):
        cell = WriteOnlyCell(sheet)
        cell.value = to_decimal(value)
        cell.number_format = "#,##0.00"
        return cell
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        # Text is never a formula, whatever it starts with.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    if isinstance(value, Decimal | float):
        raise TypeError(f"{column}: give amounts as integer cents")
    return value


def write_xlsx(*, path: Path, sheets: Sequence[Sheet]) -> Path:
    """Write a workbook with one worksheet per :class:`Sheet`; return its path.

    Dates are date cells (Excel serial numbers when the settings say ``excel``),
    amounts are exact decimal number cells.

    Raises:
        TypeError: an amount given as a Decimal or float instead of integer cents.
    """
    workbook = Workbook(write_only=True)
    for spec in sheets:
        sheet = workbook.create_sheet(spec.title)
        columns = CANONICAL_COLUMNS[spec.source]
        sheet.append(headers(spec.source, spec.settings))
        for row in spec.rows:
            sheet.append(
                [_xlsx_cell(sheet, c, row.get(c), spec.settings) for c in columns]
            )
    workbook.save(path)
    return path
