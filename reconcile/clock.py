"""Clocks: the one place the wall clock is read.

Only ``cli.py`` and ``jobs/`` construct a :class:`SystemClock`; everything else
receives a :class:`Clock` and an explicit ``as_of`` date, so a run is a pure function
of its inputs.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """Something that tells the current time as a timezone-aware UTC datetime."""

    def now(self) -> dt.datetime:
        """Return the current instant, aware, in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        """Return the wall-clock time in UTC."""
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that only moves when told to; for tests and reproducible demos."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        """Return the frozen instant."""
        return self._at

    def advance(self, delta: dt.timedelta) -> None:
        """Move the frozen instant forward by ``delta``."""
        self._at += delta


def local_date(instant: dt.datetime, time_zone: str) -> dt.date:
    """Return the calendar day of ``instant`` in the practice's ``time_zone``."""
    return instant.astimezone(ZoneInfo(time_zone)).date()
