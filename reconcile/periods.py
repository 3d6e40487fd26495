"""Calendar arithmetic: run windows, ISO dates and Federal Reserve business days.

A :class:`RunWindow` holds inclusive first and last days; ``as_of`` is the last day.
Business days (used for deposit timing: an EFT settles within N business days of the
835's BPR16) follow the Federal Reserve Banks' holiday schedule, because that is when
ACH money moves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from reconcile.errors import ReconcileError, UsageError


class InvalidWindowError(UsageError):
    """A run window whose first day is after its last day, or a malformed date."""


class DateFormatError(ReconcileError):
    """Text that is not a calendar date in the expected format."""


def parse_iso_date(text: str) -> dt.date:
    """Parse ``YYYY-MM-DD``.

    Raises:
        DateFormatError: anything else, or a day that does not exist.
    """
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DateFormatError(f"{text!r} is not a date in YYYY-MM-DD form") from None


@dataclass(frozen=True, slots=True)
class RunWindow:
    """An inclusive range of days a run evaluates; ``as_of`` is its last day."""

    first: dt.date
    last: dt.date

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise InvalidWindowError(
                f"the window starts on {self.first} after it ends on {self.last}"
            )

    @property
    def as_of(self) -> dt.date:
        """The day the run's ages, due dates and grace periods are computed from."""
        return self.last

    @property
    def end_exclusive(self) -> dt.date:
        """The day after the last day, for half-open comparisons in SQL."""
        return self.last + dt.timedelta(days=1)

    @property
    def days(self) -> int:
        """How many calendar days the window holds."""
        return (self.last - self.first).days + 1

    def __iter__(self) -> Iterator[dt.date]:
        day = self.first
        while day <= self.last:
            yield day
            day += dt.timedelta(days=1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.first <= day <= self.last

    def __str__(self) -> str:
        return f"{self.first}..{self.last}"


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """Return the ``n``-th ``weekday`` (Mon=0) of a month; ``n = -1`` is the last."""
    if n > 0:
        first = dt.date(year, month, 1)
        offset = (weekday - first.weekday()) % 7
        return first + dt.timedelta(days=offset + 7 * (n - 1))
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last = next_month - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


@lru_cache(maxsize=256)
def federal_reserve_holidays(year: int) -> frozenset[dt.date]:
    """Return the days the Federal Reserve Banks are closed in ``year``.

    A holiday on a Sunday closes the banks the following Monday; a holiday on a
    Saturday does not move (the banks are open the Friday before). Juneteenth is a
    Federal Reserve holiday from 2022.
    """
    mon, thu = 0, 3
    fixed = [
        dt.date(year, 1, 1),
        dt.date(year, 7, 4),
        dt.date(year, 11, 11),
        dt.date(year, 12, 25),
    ]
    if year >= 2022:
        fixed.append(dt.date(year, 6, 19))
    days = {
        _nth_weekday(year, 1, mon, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, mon, 3),  # Washington's Birthday
        _nth_weekday(year, 5, mon, -1),  # Memorial Day
        _nth_weekday(year, 9, mon, 1),  # Labor Day
        _nth_weekday(year, 10, mon, 2),  # Columbus Day
        _nth_weekday(year, 11, thu, 4),  # Thanksgiving Day
    }
    for day in fixed:
        days.add(day + dt.timedelta(days=1) if day.weekday() == 6 else day)
    return frozenset(days)


def is_business_day(day: dt.date) -> bool:
    """Tell whether ACH money can settle on ``day``."""
    return day.weekday() < 5 and day not in federal_reserve_holidays(day.year)


def add_business_days(day: dt.date, count: int) -> dt.date:
    """Return the business day ``count`` business days after ``day`` (count ≥ 0).

    With ``count = 0`` a non-business day rolls forward to the next business day.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    current = day
    while not is_business_day(current):
        current += dt.timedelta(days=1)
    while count:
        current += dt.timedelta(days=1)
        if is_business_day(current):
            count -= 1
    return current


def add_months(day: dt.date, months: int) -> dt.date:
    """Add calendar months, clamping to the month's last day (Jan 31 + 1 → Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))
