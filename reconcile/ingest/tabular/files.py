"""Opening a practice's tabular file, whatever it is: CSV text or an XLSX workbook.

The file's first bytes decide, not its name: a ZIP container is an XLSX workbook, an
OLE2 container an old ``.xls`` workbook (refused: save it as ``.xlsx`` or CSV), and
anything else is read as CSV text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reconcile.ingest.outcome import FileRejected, Problem
from reconcile.ingest.tabular.csv_table import open_csv
from reconcile.ingest.tabular.table import Table
from reconcile.ingest.tabular.xlsx_table import open_xlsx

_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0"


def sheet_identity(*, path: Path, sheet: str | None) -> str:
    """The worksheet part of a file's identity: ``sheet`` for an XLSX workbook read
    with ``--sheet``, else empty (CSV, BAI2, or a workbook's first sheet).

    The name is kept as given, not looked up in the workbook (that would read the
    workbook twice): naming the first sheet is another identity than omitting
    ``--sheet``, whose rows are then already known and skipped, not written twice.
    """
    if sheet is None:
        return ""
    try:
        with path.open("rb") as handle:
            start = handle.read(len(_ZIP))
    except OSError:
        return ""
    return sheet if start == _ZIP else ""


@contextmanager
def open_table(*, path: Path, sheet: str | None) -> Iterator[Table]:
    """Open a CSV file or XLSX workbook (its first sheet, or ``sheet``).

    Raises:
        FileRejected: the file is empty, an old .xls workbook, not a readable
            workbook, not text in UTF-8 or Windows-1252, or has no such sheet.
    """
    with path.open("rb") as handle:
        start = handle.read(8)
    if start.startswith(_OLE2):
        raise FileRejected(
            [
                Problem(
                    "is an old Excel .xls workbook; save it as .xlsx or CSV and "
                    "import that"
                )
            ]
        )
    if start.startswith(_ZIP):
        with open_xlsx(path=path, sheet=sheet) as table:
            yield table
        return
    with open_csv(path=path) as table:
        if sheet is not None:
            table.warnings.append(
                Problem("--sheet applies to XLSX workbooks; ignored for this CSV file")
            )
        yield table
