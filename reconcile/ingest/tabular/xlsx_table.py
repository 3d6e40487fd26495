"""XLSX workbooks: one sheet's rows, streamed by openpyxl in read-only mode.

Formulas are read as the values Excel last calculated (``data_only``); a formula
that was never calculated reads as empty. Cells arrive typed: text, numbers (floats,
converted exactly or refused by :mod:`reconcile.ingest.tabular.cells`), date cells
and booleans. Row numbers are the sheet's.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from reconcile.ingest.outcome import FileRejected, Problem
from reconcile.ingest.tabular.table import (
    NumberedRow,
    RowsUnreadable,
    Table,
    split_header,
)


def _choose_sheet(workbook: Any, sheet: str | None) -> ReadOnlyWorksheet:
    """The first worksheet, or the one named (exactly, else ignoring case).

    Raises:
        FileRejected: no such sheet (the problem lists the sheets there are).
    """
    worksheets = [ws for ws in workbook.worksheets if isinstance(ws, ReadOnlyWorksheet)]
    names = [ws.title for ws in worksheets]
    if sheet is None:
        if not worksheets:
            raise FileRejected([Problem("the workbook has no worksheet")])
        return worksheets[0]
    if sheet in names:
        return worksheets[names.index(sheet)]
    folded = [n for n in names if n.casefold() == sheet.casefold()]
    if len(folded) == 1:
        return worksheets[names.index(folded[0])]
    listed = ", ".join(repr(n) for n in names) or "none"
    raise FileRejected(
        [Problem(f"the workbook has no sheet {sheet!r}; its sheets are: {listed}")]
    )


def _rows(sheet: ReadOnlyWorksheet) -> Iterator[NumberedRow]:
    number = 0
    try:
        # types-openpyxl declares iter_rows for Worksheet only; ReadOnlyWorksheet
        # borrows the same method.
        values_rows = sheet.iter_rows(min_row=1, values_only=True)  # type: ignore[misc]
        for number, values in enumerate(values_rows, start=1):
            yield number, values
    except Exception as error:  # openpyxl raises many kinds on a damaged sheet
        raise RowsUnreadable(
            number + 1,
            f"the sheet cannot be read from here on ({type(error).__name__})",
        ) from None


@contextmanager
def open_xlsx(*, path: Path, sheet: str | None) -> Iterator[Table]:
    """Open a workbook's sheet: header and streamed rows.

    Raises:
        FileRejected: not a readable workbook, no such sheet, or no header row.
    """
    with warnings.catch_warnings():
        # openpyxl warns on stderr about styles and extensions it ignores.
        warnings.simplefilter("ignore")
        try:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception:  # a damaged or foreign ZIP fails in many ways
            raise FileRejected([Problem("is not a readable XLSX workbook")]) from None
        try:
            worksheet = _choose_sheet(workbook, sheet)
            rows = _rows(worksheet)
            try:
                header_line, header = split_header(rows)
            except RowsUnreadable as error:
                raise FileRejected([Problem(error.reason, line=error.line)]) from None
            yield Table(
                header=header,
                header_line=header_line,
                rows=rows,
                epoch=workbook.epoch,
            )
        finally:
            workbook.close()
