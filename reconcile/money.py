"""Money: integer cents inside, ``Decimal`` dollars at the edges, never ``float``.

Sign convention: a positive amount is money to the provider. Source amounts keep the
sign their source gives them: 835 CLP/SVC amounts as sent (a reversal is negative), CAS
amounts as sent (positive reduces the payment), PLB amounts as sent (**a positive PLB
amount reduces the payment**), ledger amounts as the ledger signs them (money out is
negative). Amounts shown to people (JSON ``amount``) are magnitudes: the kind of the
item says the direction.

An amount that is not an exact number of cents (``1.005``) is an input error; it is
never rounded. Trailing zeros are not lost precision, so ``1.50`` and ``1.500`` are the
same 150 cents.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import NewType

from reconcile.errors import ReconcileError

Cents = NewType("Cents", int)

_HUNDRED = Decimal(100)
#: Larger amounts are input errors (a BIGINT holds 9.2e18; no claim is that big).
MAX_CENTS = 10**17
_CENT = Decimal("0.01")


class AmountFormatError(ReconcileError):
    """Text or a number that is not an exact amount of money in dollars and cents."""


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def parse_amount(text: str) -> Cents:
    """Parse a plain dollar amount (``-12``, ``12.5``, ``.50``, ``-1234.56``) to cents.

    This is the X12 ``R`` format and the canonical CSV format: an optional leading
    minus, digits, an optional decimal point with digits. It is on the 835 reader's hot
    path, so it works on the string with integer arithmetic (exact, like ``Decimal``).

    Raises:
        AmountFormatError: not a number in that form, or finer than a cent.
    """
    s = text.strip()
    negative = s.startswith("-")
    if negative or s.startswith("+"):
        s = s[1:]
    whole, _, frac = s.partition(".")
    if not ((whole == "" or _digits(whole)) and (frac == "" or _digits(frac))):
        raise AmountFormatError(f"{text!r} is not an amount")
    if whole == "" and frac == "":
        raise AmountFormatError(f"{text!r} is not an amount")
    significant = frac.rstrip("0")
    if len(significant) > 2:
        raise AmountFormatError(f"{text!r} has more than 2 decimals")
    if len(whole) > 15:
        raise AmountFormatError(f"{text!r} is too large an amount")
    cents = int(whole or "0") * 100 + int(significant.ljust(2, "0"))
    return Cents(-cents if negative else cents)


def parse_accounting_amount(text: str) -> Cents:
    """Parse an amount as accountants type it: ``$1,234.56``, ``(12.00)``, ``-$5``.

    Parentheses mean a negative amount; a currency sign and thousands separators are
    ignored. Whatever remains must be a plain amount (see :func:`parse_amount`).

    Raises:
        AmountFormatError: not an amount, or finer than a cent.
    """
    s = text.strip()
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    if s.startswith("-"):
        if negative:
            raise AmountFormatError(f"{text!r} is not an amount")
        negative, s = True, s[1:].strip()
    s = s.replace("$", "", 1).strip()
    whole, _, _ = s.partition(".")
    if "," in whole:
        groups = whole.split(",")
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
            raise AmountFormatError(f"{text!r} has misplaced thousands separators")
        s = s.replace(",", "")
    if s.startswith(("-", "+")):
        raise AmountFormatError(f"{text!r} is not an amount")
    cents = parse_amount(s)
    return Cents(-cents if negative else cents)


def dollars_to_cents(value: Decimal | int) -> Cents:
    """Convert an exact ``Decimal`` (or integer) number of dollars to cents.

    Raises:
        AmountFormatError: not finite, or finer than a cent.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise AmountFormatError(f"{value!r} is not an exact amount")
    if isinstance(value, int):
        value = Decimal(value)
    if not value.is_finite():
        raise AmountFormatError(f"{value} is not a finite amount")
    try:
        exact = value.quantize(_CENT)
    except InvalidOperation as exc:  # too many digits for the context
        raise AmountFormatError(f"{value} is too large an amount") from exc
    if exact != value:
        raise AmountFormatError(f"{value} has more than 2 decimals")
    cents = int(exact * _HUNDRED)
    if abs(cents) >= MAX_CENTS:
        raise AmountFormatError(f"{value} is too large an amount")
    return Cents(cents)


def to_decimal(cents: int) -> Decimal:
    """Return dollars as an exact two-place ``Decimal`` (``12345`` → ``123.45``)."""
    return (Decimal(cents) / _HUNDRED).quantize(_CENT)


def format_dollars(cents: int) -> str:
    """Format signed cents as dollars with 2 decimals (``-1250`` → ``"-12.50"``)."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def format_magnitude(cents: int) -> str:
    """Format the money at stake, always ≥ 0, as the JSON contract shows it."""
    return format_dollars(abs(cents))
