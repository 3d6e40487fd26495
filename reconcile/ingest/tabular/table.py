"""An opened tabular file: its header and a stream of numbered rows.

Rows are streamed, never held in memory. Line numbers are what the user sees: the
physical line a CSV record starts on (line 1 is the first line of the file), or the
sheet's row number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import cast

from openpyxl.utils.datetime import WINDOWS_EPOCH

from reconcile.ingest.outcome import FileRejected, Problem

#: A row as read: its line (or sheet row) number and its cells.
NumberedRow = tuple[int, Sequence[object]]


def is_blank(cells: Sequence[object]) -> bool:
    """Whether a row holds nothing but empty cells (skipped everywhere)."""
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def is_blank_text(cells: Sequence[object]) -> bool:
    """:func:`is_blank` for rows of text only (CSV), in one C-level pass."""
    return not "".join(cast("Sequence[str]", cells)).strip()


class RowsUnreadable(Exception):
    """Reading stopped: the rest of the file cannot be read (bad quoting, bad XML)."""

    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


@dataclass
class Table:
    """A tabular file opened for reading."""

    header: Sequence[object]
    header_line: int
    #: The data rows after the header, lazily; may raise :class:`RowsUnreadable`.
    rows: Iterator[NumberedRow]
    #: CSV: every row must have as many fields as the header.
    fixed_width: bool = False
    #: The workbook's date system, for Excel serial dates.
    epoch: dt.datetime = WINDOWS_EPOCH
    warnings: list[Problem] = field(default_factory=list)
    #: Whether a row (or a slice of one) holds only empty cells.
    blank: Callable[[Sequence[object]], bool] = field(default=is_blank)


def split_header(rows: Iterator[NumberedRow]) -> tuple[int, Sequence[object]]:
    """Take the header: the first row that is not blank.

    Raises:
        FileRejected: the file has no header row.
        RowsUnreadable: the file cannot be read up to its header.
    """
    for line, cells in rows:
        if not is_blank(cells):
            return line, cells
    raise FileRejected([Problem("the file is empty: it has no header row")])
