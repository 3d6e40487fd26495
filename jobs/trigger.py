"""When the nightly job fires: once per calendar day at ``[schedule] time``.

APScheduler 3.11's ``CronTrigger`` does its arithmetic on wall-clock fields and goes
wrong around daylight-saving changes (measured here, America/New_York, 2024; the tests
keep showing it):

- a time that does not exist that night (02:30 when clocks jump from 02:00 to 03:00)
  fires at 02:30 of the old offset, 03:30 of the new one;
- a time that occurs twice (01:30 when clocks fall back from 02:00 to 01:00) fires
  twice, once per offset;
- a time before the jump (00:00) on the spring night computes the following fire an
  hour late, finds it past midnight's hour and skips a whole day (03-10, then 03-12).

:class:`DailyTrigger` therefore works by calendar day: the next fire after a previous
one is on the following local date, at ``time`` on that date; a time missing that
night fires at the first valid instant after it (03:00 on the spring night), and a
repeated time fires at its first occurrence. Exactly one fire per calendar day. The
job works from the database watermark, so even an extra firing would find nothing to
do.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from reconcile.settings import Settings

DAY = dt.timedelta(days=1)


class DailyTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 has no types
    """Fire once per calendar day at ``at`` in the IANA ``time_zone``."""

    def __init__(self, *, at: dt.time, time_zone: str) -> None:
        self.at = at
        self.zone = ZoneInfo(time_zone)

    def get_next_fire_time(
        self, previous_fire_time: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime:
        """Return the next fire time.

        After a previous fire: the fire of the next calendar day (APScheduler walks
        missed fire times this way). Without one: the first fire at or after ``now``.
        """
        if previous_fire_time is not None:
            return self.fire_on(self._day(previous_fire_time) + DAY)
        day = self._day(now)
        while (fire := self.fire_on(day)) < now:
            day += DAY
        return fire

    def fire_on(self, day: dt.date) -> dt.datetime:
        """The instant the job fires on local calendar ``day``."""
        wall = dt.datetime.combine(day, self.at)
        first = wall.replace(tzinfo=self.zone, fold=0)  # the earlier of a repeated time
        instant = first.astimezone(dt.UTC).astimezone(self.zone)
        if instant.replace(tzinfo=None) == wall:
            return instant
        return _first_instant_at_or_after(wall, self.zone)

    def _day(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.zone).date()

    def __str__(self) -> str:
        return f"daily at {self.at:%H:%M} {self.zone.key}"

    def __repr__(self) -> str:
        return f"<DailyTrigger at={self.at:%H:%M} time_zone={self.zone.key!r}>"


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


def last_fire_time(trigger: DailyTrigger, *, now: dt.datetime) -> dt.datetime:
    """The most recent time the trigger fired (or would have) at or before ``now``."""
    today = now.astimezone(trigger.zone).date()
    fire = trigger.fire_on(today)
    return fire if fire <= now else trigger.fire_on(today - DAY)
