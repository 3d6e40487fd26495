"""Which calendar days a nightly catch-up pass runs: a pure function of dates.

The database is the memory (DESIGN.md): the last successful day is the latest last
day of any succeeded run, manual or nightly. A pass runs one window per calendar day
after it, oldest first, up to yesterday. With no run yet it runs yesterday only. When
more days were missed than ``max_catch_up_days``, it runs only the most recent ones and
reports the older ones as skipped, so the gap is recorded rather than silently lost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class CatchUp:
    """The days one pass runs, oldest first, and the older days it skips."""

    days: tuple[dt.date, ...]
    skipped: tuple[dt.date, dt.date] | None = None

    @property
    def missed(self) -> int:
        """How many days were due: the ones to run plus the skipped ones."""
        if self.skipped is None:
            return len(self.days)
        first, last = self.skipped
        return len(self.days) + (last - first).days + 1


def plan_catch_up(
    *, last_successful: dt.date | None, today: dt.date, max_catch_up_days: int
) -> CatchUp:
    """Return the days to run before ``today`` (practice-local), oldest first.

    Raises:
        ValueError: ``max_catch_up_days`` is less than 1.
    """
    if max_catch_up_days < 1:
        raise ValueError("max_catch_up_days must be at least 1")
    yesterday = today - DAY
    if last_successful is None:
        return CatchUp(days=(yesterday,))
    first = last_successful + DAY
    if first > yesterday:
        return CatchUp(days=())
    skipped: tuple[dt.date, dt.date] | None = None
    earliest_run = yesterday - (max_catch_up_days - 1) * DAY
    if first < earliest_run:
        skipped = (first, earliest_run - DAY)
        first = earliest_run
    count = (yesterday - first).days + 1
    return CatchUp(days=tuple(first + n * DAY for n in range(count)), skipped=skipped)
