"""When the nightly job fires: once per calendar day at ``[schedule] time``.

APScheduler's ``CronTrigger`` counts wall-clock fields, which goes wrong twice a year
in a time zone with daylight saving time:

- a time that does not exist that night (02:30 when clocks jump from 02:00 to 03:00)
  fires at ``02:30`` of the old offset, an hour after the jump;
- a time that occurs twice (01:30 when clocks fall back from 02:00 to 01:00) fires
  twice, once per offset.

:class:`DailyTrigger` keeps the cron arithmetic and corrects both: a missing time fires
at the first valid instant after it (03:00 on the spring night), and a repeated time
fires only at its first occurrence, so there is exactly one fire per calendar day. The
job works from the database watermark, so even a second firing would find nothing to
do; the trigger simply does not ask.
"""

from __future__ import annotations

import datetime as dt
from typing import cast
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from reconcile.settings import Settings


class DailyTrigger(CronTrigger):  # type: ignore[misc]  # APScheduler 3 has no types
    """Fire once per calendar day at ``at`` in the IANA ``time_zone``."""

    def __init__(self, *, at: dt.time, time_zone: str) -> None:
        zone = ZoneInfo(time_zone)
        super().__init__(hour=at.hour, minute=at.minute, second=0, timezone=zone)
        self.at = at
        self.zone = zone

    def get_next_fire_time(
        self, previous_fire_time: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime | None:
        """Return the next fire time after ``previous_fire_time`` / ``now``.

        Never a second time on the calendar day of ``previous_fire_time``.
        """
        candidate = self._cron_next(previous_fire_time, now)
        while candidate is not None:
            fire = self._valid(candidate)
            if previous_fire_time is None or self._day(fire) != self._day(
                previous_fire_time
            ):
                return fire
            candidate = self._cron_next(candidate, candidate)
        return None

    def _cron_next(
        self, previous: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime | None:
        return cast("dt.datetime | None", super().get_next_fire_time(previous, now))

    def _day(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.zone).date()

    def _valid(self, candidate: dt.datetime) -> dt.datetime:
        """The cron candidate as a real instant; a missing wall time moves forward."""
        instant = candidate.astimezone(dt.UTC).astimezone(self.zone)
        wall = dt.datetime.combine(candidate.date(), self.at)
        if instant.replace(tzinfo=None) == wall:
            return instant
        return _first_instant_at_or_after(wall, self.zone)

    def __str__(self) -> str:
        return f"daily at {self.at:%H:%M} {self.zone.key}"


def _first_instant_at_or_after(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The first instant whose local time in ``zone`` is at or after ``wall``.

    ``wall`` falls in a gap (clocks jumped over it); the answer is the end of the
    gap. Its two readings (old and new offset) bracket the jump; bisect in seconds.
    """
    readings = sorted(
        int(wall.replace(tzinfo=zone, fold=fold).timestamp()) for fold in (0, 1)
    )
    before, after = readings
    while after - before > 1:
        middle = (before + after) // 2
        local = dt.datetime.fromtimestamp(middle, zone).replace(tzinfo=None)
        if local >= wall:
            after = middle
        else:
            before = middle
    return dt.datetime.fromtimestamp(after, zone)


def nightly_trigger(settings: Settings) -> DailyTrigger:
    """The trigger for ``[schedule] time`` in the schedule's time zone."""
    hour, minute = (int(part) for part in settings.schedule.time.split(":"))
    return DailyTrigger(at=dt.time(hour, minute), time_zone=settings.schedule_time_zone)


def last_fire_time(trigger: DailyTrigger, *, now: dt.datetime) -> dt.datetime | None:
    """The most recent time the trigger fired (or would have) at or before ``now``."""
    fire = trigger.get_next_fire_time(None, now - dt.timedelta(days=2))
    last = None
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire)
    return last
