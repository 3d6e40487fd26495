"""Declarative table specs: which columns a source has, their types and their rules.

A :class:`TableSpec` says, for one source (claims, deposits, …), each canonical column
(its type, whether it is required, its length limit, its smallest allowed amount), the
column that must be unique inside a file, and row rules that look at several columns
at once. The reader (:mod:`reconcile.ingest.tabular.rows`) does the rest, the same way
for every source (in the spirit of beangulp's ``csvbase`` column specs).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass


class ColumnType(enum.Enum):
    """How a column's cells are read."""

    TEXT = "text"
    DATE = "date"  # staged as an ISO string
    AMOUNT = "amount"  # staged as integer cents
    CHOICE = "choice"  # one of a set of words (ledger kinds), staged canonical


#: Checks a text value; returns the reason it is wrong, or None.
TextCheck = Callable[[str], str | None]

#: A rule over whole rows, given column-wise: the values of a chunk of good rows by
#: canonical column name (None when empty). Yields (row index in the chunk,
#: canonical column, reason) for each problem.
RowRule = Callable[[Mapping[str, Sequence[object]]], Iterable[tuple[int, str, str]]]


@dataclass(frozen=True)
class Column:
    """One canonical column of a source."""

    name: str  # canonical name: the header, unless the column map renames it
    target: str  # the table column it is stored in
    type: ColumnType
    required: bool = False
    max_length: int = 0  # TEXT and CHOICE: the table column's length
    #: AMOUNT: the smallest value allowed, in cents, and the reason below it.
    minimum_cents: int | None = None
    below_minimum: str = ""
    check: TextCheck | None = None


@dataclass(frozen=True)
class TableSpec:
    """A tabular source: its columns (in staging order), key and row rules."""

    source: str  # key of [sources.<source>] in the configuration
    columns: tuple[Column, ...]
    key: str  # the canonical column that is unique inside one file
    rules: tuple[RowRule, ...] = ()

    def index(self, name: str) -> int:
        """Return the position of a canonical column in the staged values."""
        for position, column in enumerate(self.columns):
            if column.name == name:
                return position
        raise KeyError(name)

    def column(self, name: str) -> Column:
        """Return the canonical column called ``name``."""
        return self.columns[self.index(name)]
