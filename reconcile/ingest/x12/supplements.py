"""Segments kept whole in ``extra``: TS3, TS2, MIA and MOA, checked element by element.

Their amounts are money like any other (at most 2 decimals, kept as cents), their
counts are numbers and their dates are dates; anything else is kept as text.
"""

from __future__ import annotations

import enum
from typing import Any

from reconcile.ingest.x12.problems import ProblemLog
from reconcile.ingest.x12.values import (
    AmountFormatError,
    amount_problem,
    cents,
    is_number,
    iso_date,
    shown,
)


class Kind(enum.Enum):
    """How an element's text is read."""

    AMOUNT = "amount"
    NUMBER = "number"
    DATE = "date"


def _kinds(
    amounts: tuple[int, ...], numbers: tuple[int, ...] = (), dates: tuple[int, ...] = ()
) -> dict[int, Kind]:
    kinds = dict.fromkeys(amounts, Kind.AMOUNT)
    kinds.update(dict.fromkeys(numbers, Kind.NUMBER))
    kinds.update(dict.fromkeys(dates, Kind.DATE))
    return kinds


#: Element positions by kind, from the 5010 map.
LAYOUTS: dict[str, dict[int, Kind]] = {
    "TS3": _kinds((*range(5, 23), 24), numbers=(4, 23), dates=(3,)),
    "TS2": _kinds(
        (1, 2, 3, 4, 5, 6, 8, 9, 15, 17, 18, 19), (7, 10, 11, 12, 13, 14, 16)
    ),
    "MIA": _kinds((2, 4, *range(6, 15), 16, 17, 18, 19, 24), numbers=(1, 3, 15)),
    "MOA": _kinds((2, 8, 9), numbers=(1,)),
}

#: MIA/MOA elements holding remark codes (RARCs), in order.
REMARK_POSITIONS = {"MIA": (5, 20, 21, 22, 23), "MOA": (3, 4, 5, 6, 7)}


def read_supplement(
    elements: list[str], *, log: ProblemLog, number: int
) -> dict[str, Any]:
    """Return the segment's non-empty elements by name (``TS305``), checked.

    Raises:
        TooManyProblems: the problem list filled up (see :class:`ProblemLog`).
    """
    segment_id = elements[0]
    kinds = LAYOUTS[segment_id]
    values: dict[str, Any] = {}
    for index, text in enumerate(elements[1:], start=1):
        if not text:
            continue
        name = f"{segment_id}{index:02d}"
        kind = kinds.get(index)
        if kind is Kind.AMOUNT:
            try:
                values[name] = cents(text)
            except AmountFormatError as error:
                log.reject(number, segment_id, amount_problem(name, text, error))
        elif kind is Kind.NUMBER:
            if is_number(text) and len(text) <= 20:
                values[name] = text
            else:
                log.reject(number, segment_id, f"{name} {shown(text)} is not a number")
        elif kind is Kind.DATE:
            iso = iso_date(text)
            if iso is None:
                log.reject(number, segment_id, f"{name} {shown(text)} is not a date")
            values[name] = iso
        else:
            values[name] = text
    return values
