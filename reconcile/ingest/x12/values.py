"""Element values: amounts, dates, quantities and composites, checked and converted.

These run for nearly every segment, so each takes the common form by a short path
and falls back to the exact general rule for anything else.
"""

from __future__ import annotations

import datetime as dt
import re

from reconcile.money import AmountFormatError, Cents, parse_amount

__all__ = [
    "AmountFormatError",
    "amount_problem",
    "cents",
    "is_number",
    "iso_date",
    "shown",
    "split_composite",
]

_AMOUNT_CHARACTERS = "0123456789.-"
#: Amount texts already parsed (bounded: the first ones seen are the frequent ones).
_AMOUNTS: dict[str, Cents] = {}
_MAX_CACHED_AMOUNTS = 16_384
_DATES: dict[str, str | None] = {}
_MAX_CACHED_DATES = 20_000
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)")


def cents(text: str) -> Cents:
    """Parse an X12 ``R`` amount exactly as :func:`reconcile.money.parse_amount` does.

    Remittances repeat their amounts (fee schedules, contracted rates, copays), so
    the first :data:`_MAX_CACHED_AMOUNTS` distinct texts are remembered. Others take
    a short path for the common forms (``123.45``, ``-5``, ``.5``, ``127.8``) that
    only slices and calls ``int`` on ASCII digits; everything else, and every error,
    goes through ``parse_amount`` itself, so both always agree (a property test
    checks it).

    Raises:
        AmountFormatError: not an amount, finer than a cent, or too large.
    """
    value = _AMOUNTS.get(text)
    if value is None:
        value = _parse(text)
        if len(_AMOUNTS) < _MAX_CACHED_AMOUNTS:
            _AMOUNTS[text] = value
    return value


def _parse(text: str) -> Cents:
    if text.strip(_AMOUNT_CHARACTERS) or len(text) > 16:
        return parse_amount(text)
    whole, _, fraction = text.partition(".")
    size = len(fraction)
    try:
        if size == 2:
            return Cents(int(whole + fraction))
        if size == 0 and whole and whole != "-":
            return Cents(int(whole) * 100)
        if size == 1:
            return Cents(int(whole + fraction + "0"))
    except ValueError:
        pass
    return parse_amount(text)


def iso_date(text: str) -> str | None:
    """Return the X12 date ``CCYYMMDD`` as ``YYYY-MM-DD``, or None if it is not one."""
    try:
        return _DATES[text]
    except KeyError:
        pass
    iso: str | None = None
    if len(text) == 8 and text.isascii() and text.isdigit():
        try:
            iso = dt.date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
        except ValueError:
            iso = None
    if len(_DATES) >= _MAX_CACHED_DATES:
        _DATES.clear()
    _DATES[text] = iso
    return iso


def is_number(text: str) -> bool:
    """Whether ``text`` is an X12 ``R`` number (``1``, ``-2.5``, ``.75``)."""
    return text.isascii() and _NUMBER.fullmatch(text) is not None


def split_composite(text: str, separator: str) -> tuple[list[str], str | None]:
    """Split a composite element; return its components and any other separator used.

    Senders sometimes write a composite with another separator than ISA16 declares
    (``HC>99213>26`` under ``:``). When ``separator`` does not occur and the third
    character (after a two-character qualifier) is punctuation, the composite is
    split there as written, and that character is returned so the reader can warn.
    """
    if separator in text:
        return text.split(separator), None
    if len(text) > 3 and text[:2].isalnum():
        other = text[2]
        if not (other.isalnum() or other.isspace()):
            return text.split(other), other
    return [text], None


_PLAIN_CHARACTERS = frozenset("0123456789.-+:")


def shown(text: str) -> str:
    """How an element's value appears in a problem's reason.

    Quoted when it looks like a number, a date or a short code; otherwise only its
    length is given. An element out of place may hold a patient's name or member
    id, and problems are logged, and logs never carry patient data.
    """
    if len(text) <= 15 and (
        set(text) <= _PLAIN_CHARACTERS or (len(text) <= 3 and text.isalnum())
    ):
        return repr(text)
    return f"(a value of {len(text)} characters)"


def amount_problem(element: str, text: str, error: AmountFormatError) -> str:
    """The reason for an amount that did not parse, without echoing free text."""
    if not text:
        return f"{element} is missing"
    if shown(text) == repr(text):
        return f"{element}: {error}"
    return f"{element} {shown(text)} is not an amount"
