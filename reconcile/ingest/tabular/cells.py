"""Cells to values: text, dates (as ISO strings) and amounts (as integer cents).

A cell reader is built once per column from the source's settings. Called on one
cell, it returns the value as it is staged (``str`` text, ``"YYYY-MM-DD"`` dates,
``int`` cents) or ``None`` for an empty cell, and raises :class:`CellError` with a
reason otherwise; it also applies the column's own rules (required, smallest amount,
a check of the text). Reasons never repeat the cell's text: problems end up in logs,
and a misplaced column could hold a patient's name.

``column(cells)`` reads a whole column of a chunk of rows at once, with C-level
``map``/``max``/``in`` instead of a Python call per cell (a million rows are ten
million cells). It returns ``None`` as soon as anything is not plainly right; the
caller then reads those rows cell by cell to find and name each problem.

Cells come from CSV files (always ``str``) or XLSX sheets (``str``, ``int``,
``float``, ``datetime``, ``bool``). XLSX numbers are binary floats: an amount is
converted through its shortest decimal spelling (``repr``) to ``Decimal`` and must then
be an exact number of cents; nothing is rounded. Dates and amounts repeat a lot in
practice exports (a few hundred service dates over a million claims), so their
readers memoise what they parsed in a bounded table (an optional column's empty
cells too), and a chunk whose cells are all known is looked up in one call.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Protocol, cast

from openpyxl.utils.datetime import from_excel

from reconcile.money import (
    AmountFormatError,
    dollars_to_cents,
    parse_accounting_amount,
    parse_amount,
)
from reconcile.settings import AmountFormat

EXCEL = "excel"
_MEMO_LIMIT = 50_000
#: Excel's largest date serial (9999-12-31).
_MAX_SERIAL = 2_958_465

#: The reason an empty required cell gives.
REQUIRED = "is empty; a value is required"

# A column's cells are joined to find spaces at any cell's edge in one pass: the
# regex starts at each separator (a literal, so the scan is fast) and looks at the
# characters on either side of it.
_SEPARATOR = "\x01"
_SPACE_AT_SEPARATOR = re.compile(r"\x01(?:\s|(?<=\s\x01))")


class CellError(Exception):
    """A cell that cannot be read as its column's type; the message says why."""


class CellReader(Protocol):
    """Reads one column's cells (see the module docstring)."""

    def __call__(self, raw: object) -> object:
        """Read one cell.

        Raises:
            CellError: the cell is not a value of the column.
        """
        ...

    def column(self, cells: Sequence[object]) -> list[object] | None:
        """Read a column of cells at once; None if any needs a closer look."""
        ...


def _empty(required: bool) -> None:
    if required:
        raise CellError(REQUIRED)


def _number_as_text(value: int | float) -> str:
    """Spell an XLSX number as text, the way the sheet shows it."""
    if isinstance(value, float):
        # A numeric id cell (12345) arrives as 12345.0; keep it an integer.
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _not_text(raw: object) -> CellError:
    if isinstance(raw, bool):
        return CellError("is a TRUE/FALSE cell, not text")
    if isinstance(raw, dt.date | dt.time | dt.timedelta):
        return CellError("is a date or time cell, not text")
    return CellError(f"is a {type(raw).__name__} cell, not text")


def _has_edge_space(joined: str) -> bool:
    """Whether a cell of a joined column starts or ends with whitespace."""
    return bool(
        joined[:1].isspace()
        or joined[-1:].isspace()
        or _SPACE_AT_SEPARATOR.search(joined)
    )


def _remember(memo: dict[object, object], key: object, value: object) -> None:
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[key] = value


def _each(reader: CellReader, cells: Sequence[object]) -> list[object] | None:
    try:
        return [reader(cell) for cell in cells]
    except CellError:
        return None


class TextCells:
    """Text: trimmed, empty is None, at most ``max_length`` characters.

    XLSX numbers become their text (``12345.0`` → ``"12345"``); other cell types
    are errors. ``check`` returns why a value is wrong (or None).
    """

    def __init__(
        self,
        *,
        max_length: int,
        required: bool = False,
        check: Callable[[str], str | None] | None = None,
    ) -> None:
        self.max_length = max_length
        self.required = required
        self.check = check

    def __call__(self, raw: object) -> object:
        """Read one cell (see the class docstring).

        Raises:
            CellError: the cell is not a value of the column.
        """
        if type(raw) is str:
            text = raw.strip()
        elif raw is None:
            _empty(self.required)
            return None
        elif isinstance(raw, int | float) and not isinstance(raw, bool):
            text = _number_as_text(raw)
        else:
            raise _not_text(raw)
        if not text:
            _empty(self.required)
            return None
        if len(text) > self.max_length:
            raise CellError(f"is longer than {self.max_length} characters")
        if "\x00" in text:
            raise CellError("contains a NUL character")
        if self.check is not None:
            reason = self.check(text)
            if reason is not None:
                raise CellError(reason)
        return text

    def column(self, cells: Sequence[object]) -> list[object] | None:
        """Read a column of text cells at once; None if any needs a closer look."""
        try:
            joined = _SEPARATOR.join(cells)  # type: ignore[arg-type]
        except TypeError:  # not all text: an XLSX column
            return _each(self, cells)
        # Most exports have no spaces around values: strip only when one does.
        texts = (
            list(map(str.strip, cells))  # type: ignore[arg-type]
            if _has_edge_space(joined)
            else cast("list[str]", list(cells))
        )
        if not texts:
            return []
        if max(map(len, texts)) > self.max_length or "\x00" in joined:
            return None
        values = cast("list[object]", texts)
        if "" in texts:
            if self.required:
                return None
            values = [text or None for text in texts]
        if self.check is not None:
            check = self.check
            if any(check(text) for text in set(texts) if text):
                return None
        return values


def normalise_word(text: str) -> str:
    """Fold a word for lenient matching: ``"Ins_Pmt "`` → ``"ins pmt"``."""
    return " ".join(text.replace("_", " ").replace("-", " ").lower().split())


class ChoiceCells:
    """One of a fixed set of words, matched ignoring case, spaces, ``-`` and ``_``.

    ``choices`` maps each accepted word to its canonical value; ``expected`` is the
    phrase that tells the user what to write instead.
    """

    def __init__(
        self, *, choices: Mapping[str, str], expected: str, required: bool = False
    ) -> None:
        self.normalised = {normalise_word(w): v for w, v in choices.items()}
        self.expected = expected
        self.required = required
        self.memo: dict[object, object] = {}

    def __call__(self, raw: object) -> object:
        """Read one cell (see the class docstring).

        Raises:
            CellError: the cell is not a value of the column.
        """
        if raw is None:
            _empty(self.required)
            return None
        if not isinstance(raw, str):
            raise _not_text(raw)
        if not raw.strip():
            _empty(self.required)
            return None
        value = self.normalised.get(normalise_word(raw))
        if value is None:
            raise CellError(f"is not {self.expected}")
        _remember(self.memo, raw, value)
        return value

    def column(self, cells: Sequence[object]) -> list[object] | None:
        """Read a column of words at once; None if any needs a closer look."""
        return _memoised_column(self, self.memo, cells)


def _memoised_column(
    reader: CellReader, memo: Mapping[object, object], cells: Sequence[object]
) -> list[object] | None:
    """Look every cell up in ``memo`` (C-level); read the misses one by one."""
    if len(cells) > 1:
        try:
            # All known (the usual chunk): one call, no scan for misses.
            return list(itemgetter(*cells)(memo))
        except KeyError:
            pass
    values = list(map(memo.get, cells))
    if None in values:
        try:
            for index, value in enumerate(values):
                if value is None:
                    values[index] = reader(cells[index])
        except CellError:
            return None
    return values


def _serial_date(serial: int | float | Decimal, epoch: dt.datetime) -> str:
    """An Excel serial day number (its whole part) as an ISO date."""
    day = int(serial)
    if not 1 <= day <= _MAX_SERIAL:
        raise CellError("is not an Excel date serial number (1 to 2958465)")
    moment: dt.datetime = from_excel(day, epoch=epoch)
    return moment.date().isoformat()


class DateCells:
    """A date in ``date_format`` (strptime), or Excel serial numbers for ``"excel"``.

    XLSX date cells are dates whatever the format says; their time of day, if any,
    is dropped. ``epoch`` is the workbook's date system (1900 or 1904).
    """

    def __init__(
        self, *, date_format: str, epoch: dt.datetime, required: bool = False
    ) -> None:
        self.date_format = date_format
        self.epoch = epoch
        self.required = required
        self.memo: dict[object, object] = {}
        if date_format == EXCEL:
            self.wanted = "an Excel date serial number"
        else:
            sample = dt.date(2024, 3, 31).strftime(date_format)
            self.wanted = f"a date like {sample} ({date_format})"

    def _parse(self, text: str) -> str:
        if self.date_format == EXCEL:
            try:
                number = Decimal(text)
            except InvalidOperation:
                raise CellError(f"is not {self.wanted}") from None
            if not number.is_finite():
                raise CellError(f"is not {self.wanted}")
            return _serial_date(number, self.epoch)
        try:
            # Only the calendar date is kept: no time zone is involved.
            moment = dt.datetime.strptime(text, self.date_format)  # noqa: DTZ007
        except ValueError:
            raise CellError(f"is not {self.wanted}") from None
        return moment.date().isoformat()

    def __call__(self, raw: object) -> object:
        """Read one cell (see the class docstring).

        Raises:
            CellError: the cell is not a value of the column.
        """
        if type(raw) is str:
            hit = self.memo.get(raw)
            if hit is not None:
                return hit
            text = raw.strip()
            if not text:
                _empty(self.required)
                _remember(self.memo, raw, None)
                return None
            value = self._parse(text)
            _remember(self.memo, raw, value)
            return value
        if raw is None:
            _empty(self.required)
            return None
        if isinstance(raw, dt.datetime):
            return raw.date().isoformat()
        if isinstance(raw, dt.date):
            return raw.isoformat()
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            if self.date_format != EXCEL:
                raise CellError(f"is a number, not {self.wanted}")
            if not math.isfinite(raw):
                raise CellError(f"is not {self.wanted}")
            return _serial_date(raw, self.epoch)
        raise CellError(f"is not {self.wanted}")

    def column(self, cells: Sequence[object]) -> list[object] | None:
        """Read a column of dates at once; None if any needs a closer look."""
        return _memoised_column(self, self.memo, cells)


def _amount_reason(error: AmountFormatError, text: str) -> str:
    """The reason of a money error without the text itself (``has more than …``)."""
    return str(error).removeprefix(repr(text)).strip() or "is not an amount"


def _number_cents(raw: object) -> int | None:
    """Cents of a cell that is not text (an XLSX number), exactly."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise CellError("is a TRUE/FALSE cell, not an amount")
    if isinstance(raw, int):
        try:
            return dollars_to_cents(raw)
        except AmountFormatError:
            raise CellError("is too large an amount") from None
    if isinstance(raw, float):
        try:
            # repr is the shortest spelling that reads back as the same float.
            return dollars_to_cents(Decimal(repr(raw)))
        except (AmountFormatError, InvalidOperation):
            raise CellError(
                "is not an exact amount in cents (round the cell to 2 decimals)"
            ) from None
    if isinstance(raw, dt.date | dt.time | dt.timedelta):
        raise CellError("is a date or time cell, not an amount")
    raise CellError("is not an amount")


class AmountCells:
    """Dollars to integer cents, exactly; finer than a cent is an error.

    Text uses the source's format (plain ``-1234.56``, or accounting ``$1,234.56`` and
    ``(12.00)``); XLSX numbers are exact or refused. An amount below ``minimum``
    cents is an error with the reason ``below_minimum``.
    """

    def __init__(
        self,
        *,
        amount_format: AmountFormat,
        required: bool = False,
        minimum: int | None = None,
        below_minimum: str = "",
    ) -> None:
        self.parse = (
            parse_accounting_amount
            if amount_format is AmountFormat.ACCOUNTING
            else parse_amount
        )
        self.required = required
        self.minimum = minimum
        self.below_minimum = below_minimum
        self.memo: dict[object, object] = {}

    def __call__(self, raw: object) -> object:
        """Read one cell (see the class docstring).

        Raises:
            CellError: the cell is not a value of the column.
        """
        value: object
        if type(raw) is str:
            value = self.memo.get(raw)
            if value is None:
                text = raw.strip()
                if not text:
                    _empty(self.required)
                    _remember(self.memo, raw, None)
                    return None
                try:
                    value = self.parse(text)
                except AmountFormatError as error:
                    raise CellError(_amount_reason(error, text)) from None
                _remember(self.memo, raw, value)
        else:
            value = _number_cents(raw)
            if value is None:
                _empty(self.required)
                return None
        minimum = self.minimum
        if minimum is not None and isinstance(value, int) and value < minimum:
            raise CellError(self.below_minimum)
        return value

    def column(self, cells: Sequence[object]) -> list[object] | None:
        """Read a column of amounts at once; None if any needs a closer look."""
        values = _memoised_column(self, self.memo, cells)
        if values is None or self.minimum is None or not values:
            return values
        try:
            below = min(cast("Sequence[int]", values)) < self.minimum
        except TypeError:  # empty cells (None) among them
            present = cast("list[int]", [v for v in values if v is not None])
            below = bool(present) and min(present) < self.minimum
        return None if below else values


class AbsentCells:
    """An optional column the file does not have: every cell is empty."""

    def __call__(self, raw: object) -> object:
        """Read one cell: always empty."""
        return None

    def column(self, cells: Sequence[object]) -> list[object] | None:
        """Read a column: all empty."""
        return [None] * len(cells)
