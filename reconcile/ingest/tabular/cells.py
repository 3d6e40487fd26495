"""Cells to values: text, dates (as ISO strings) and amounts (as integer cents).

A converter is built once per column from the source's settings and called once per
cell. It returns the value as it is staged (``str`` text, ``"YYYY-MM-DD"`` dates,
``int`` cents) or ``None`` for an empty cell, and raises :class:`CellError` with a
reason otherwise. Reasons never repeat the cell's text: problems end up in logs, and
a misplaced column could hold a patient's name.

Cells come from CSV files (always ``str``) or XLSX sheets (``str``, ``int``,
``float``, ``datetime``, ``bool``). XLSX numbers are binary floats: an amount is
converted through its shortest decimal spelling (``repr``) to ``Decimal`` and must then
be an exact number of cents; nothing is rounded. Dates and amounts repeat a lot in
practice exports (a few hundred service dates over a million claims), so their
converters memoise what they parsed in a bounded table.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation

from openpyxl.utils.datetime import from_excel

from reconcile.money import (
    AmountFormatError,
    dollars_to_cents,
    parse_accounting_amount,
    parse_amount,
)
from reconcile.settings import AmountFormat

#: A converter: a cell in, the staged value (or None when empty) out.
Converter = Callable[[object], object]

EXCEL = "excel"
_MEMO_LIMIT = 50_000
#: Excel's largest date serial (9999-12-31).
_MAX_SERIAL = 2_958_465


class CellError(Exception):
    """A cell that cannot be read as its column's type; the message says why."""


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


def text_converter(*, max_length: int) -> Converter:
    """Text: trimmed, empty is None, at most ``max_length`` characters.

    XLSX numbers become their text (``12345.0`` → ``"12345"``); other cell types
    are errors.
    """

    def convert(raw: object) -> object:
        if raw is None:
            return None
        if isinstance(raw, str):
            text = raw.strip()
        elif isinstance(raw, int | float) and not isinstance(raw, bool):
            text = _number_as_text(raw)
        else:
            raise _not_text(raw)
        if not text:
            return None
        if len(text) > max_length:
            raise CellError(f"is longer than {max_length} characters")
        if "\x00" in text:
            raise CellError("contains a NUL character")
        return text

    return convert


def choice_converter(*, choices: Mapping[str, str], expected: str) -> Converter:
    """One of a fixed set of words, matched ignoring case, spaces, ``-`` and ``_``.

    ``choices`` maps each accepted word to its canonical value; ``expected`` is the
    phrase that tells the user what to write instead.
    """
    normalised = {normalise_word(word): value for word, value in choices.items()}

    def convert(raw: object) -> object:
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise _not_text(raw)
        if not raw.strip():
            return None
        value = normalised.get(normalise_word(raw))
        if value is None:
            raise CellError(f"is not {expected}")
        return value

    return convert


def normalise_word(text: str) -> str:
    """Fold a word for lenient matching: ``"Ins_Pmt "`` → ``"ins pmt"``."""
    return " ".join(text.replace("_", " ").replace("-", " ").lower().split())


def _serial_date(serial: int | float | Decimal, epoch: dt.datetime) -> str:
    """An Excel serial day number (its whole part) as an ISO date."""
    day = int(serial)
    if not 1 <= day <= _MAX_SERIAL:
        raise CellError("is not an Excel date serial number (1 to 2958465)")
    moment: dt.datetime = from_excel(day, epoch=epoch)
    return moment.date().isoformat()


def date_converter(*, date_format: str, epoch: dt.datetime) -> Converter:
    """A date in ``date_format`` (strptime), or Excel serial numbers for ``"excel"``.

    XLSX date cells are dates whatever the format says; their time of day, if any,
    is dropped. ``epoch`` is the workbook's date system (1900 or 1904).
    """
    memo: dict[str, str] = {}
    if date_format == EXCEL:
        wanted = "an Excel date serial number"
    else:
        sample = dt.date(2024, 3, 31).strftime(date_format)
        wanted = f"a date like {sample} ({date_format})"

    def parse_text(text: str) -> str:
        if date_format == EXCEL:
            try:
                number = Decimal(text)
            except InvalidOperation:
                raise CellError(f"is not {wanted}") from None
            if not number.is_finite():
                raise CellError(f"is not {wanted}")
            return _serial_date(number, epoch)
        try:
            # Only the calendar date is kept: no time zone is involved.
            return dt.datetime.strptime(text, date_format).date().isoformat()  # noqa: DTZ007
        except ValueError:
            raise CellError(f"is not {wanted}") from None

    def convert(raw: object) -> object:
        if raw is None:
            return None
        if isinstance(raw, str):
            text = raw.strip()
            if not text:
                return None
            hit = memo.get(text)
            if hit is None:
                hit = parse_text(text)
                if len(memo) >= _MEMO_LIMIT:
                    memo.clear()
                memo[text] = hit
            return hit
        if isinstance(raw, dt.datetime):
            return raw.date().isoformat()
        if isinstance(raw, dt.date):
            return raw.isoformat()
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            if date_format != EXCEL:
                raise CellError(f"is a number, not {wanted}")
            if not math.isfinite(raw):
                raise CellError(f"is not {wanted}")
            return _serial_date(raw, epoch)
        raise CellError(f"is not {wanted}")

    return convert


def _amount_reason(error: AmountFormatError, text: str) -> str:
    """The reason of a money error without the text itself (``has more than …``)."""
    return str(error).removeprefix(repr(text)).strip() or "is not an amount"


def amount_converter(*, amount_format: AmountFormat) -> Converter:
    """Dollars to integer cents, exactly; finer than a cent is an error.

    Text uses the source's format (plain ``-1234.56``, or accounting ``$1,234.56`` and
    ``(12.00)``); XLSX numbers are exact or refused.
    """
    parse = (
        parse_accounting_amount
        if amount_format is AmountFormat.ACCOUNTING
        else parse_amount
    )
    memo: dict[str, int] = {}

    def convert(raw: object) -> object:
        if raw is None:
            return None
        if isinstance(raw, str):
            text = raw.strip()
            if not text:
                return None
            hit = memo.get(text)
            if hit is None:
                try:
                    hit = parse(text)
                except AmountFormatError as error:
                    raise CellError(_amount_reason(error, text)) from None
                if len(memo) >= _MEMO_LIMIT:
                    memo.clear()
                memo[text] = hit
            return hit
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

    return convert
