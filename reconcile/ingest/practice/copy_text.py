"""``COPY`` text for a stage: chunks of rows written column by column.

PostgreSQL's ``COPY … FROM STDIN`` text format is a line per row, a tab between
values, ``\\N`` for NULL, and a backslash before a backslash, tab, line feed or
carriage return inside a value. psycopg's ``write_row`` dumps a row value by value
(about 1.5 µs per claims row, the largest cost of staging a million rows after
reading them); :class:`CopyText` builds the same text for a whole chunk with a few
C-level passes per column and one join per row (about 0.6 µs per row).
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import cast

from sqlalchemy import String, Table

#: Rows of a chunk, column-wise, in the stage's order (``seq``, ``line_number``, …).
Columns = Sequence[Sequence[object]]

_NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
#: Texts of dates and cents remembered (few distinct values: a year of dates, prices).
_MEMO_LIMIT = 50_000


class CopyText:
    """Writes chunks of a stage's rows in ``COPY``'s text format.

    A column at a time: text columns are only escaped when a chunk holds a
    backslash, tab or line break (one C-level look at all their text); ``seq`` and
    ``line_number`` (each value new) go through ``str``; the other columns (ISO
    dates, cents: few distinct values) through a bounded memo of their text.
    """

    def __init__(self, table: Table) -> None:
        self._text = [isinstance(c.type, String) for c in table.columns]
        self._memo: dict[object, str] = {None: _NULL}

    def __call__(self, columns: Columns) -> str:
        """Return the chunk's rows, each a line ending in a newline."""
        texts = [
            self._texts(values)
            if is_text
            else list(map(str, values))
            if position < 2
            else self._memoised(values)
            for position, (values, is_text) in enumerate(
                zip(columns, self._text, strict=True)
            )
        ]
        return "\n".join(map("\t".join, zip(*texts, strict=True))) + "\n"

    @staticmethod
    def _texts(values: Sequence[object]) -> Sequence[str]:
        strings = cast("Sequence[str | None]", values)
        try:
            joined = "".join(cast("Sequence[str]", strings))
            empty = False
        except TypeError:  # empty values (None) among them
            joined = "".join(filter(None, strings))
            empty = True
        if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
            return [_NULL if s is None else s.translate(_ESCAPES) for s in strings]
        if empty:
            return [_NULL if s is None else s for s in strings]
        return cast("Sequence[str]", strings)

    def _memoised(self, values: Sequence[object]) -> list[str]:
        memo = self._memo
        if len(values) > 1:
            try:
                return list(itemgetter(*values)(memo))
            except KeyError:
                pass
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
            memo[None] = _NULL
        texts = []
        for value in values:
            text = memo.get(value)
            if text is None:
                text = memo[value] = str(value)
            texts.append(text)
        return texts
