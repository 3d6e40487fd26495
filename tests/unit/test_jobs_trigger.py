"""The nightly trigger with a frozen clock: one fire per calendar day, DST or not."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from jobs.trigger import DailyTrigger, last_fire_time, nightly_trigger
from reconcile.settings import PracticeSettings, ScheduleSettings, Settings

NEW_YORK = "America/New_York"
NY = ZoneInfo(NEW_YORK)
UTC = dt.UTC


def fire_times(
    trigger: BaseTrigger, *, start: dt.datetime, end: dt.datetime
) -> list[dt.datetime]:
    """Fire times the way APScheduler asks for them: previous fire, then "now"."""
    times: list[dt.datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire < end:
        times.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    return times


def local(instant: dt.datetime, zone: ZoneInfo = NY) -> str:
    return f"{instant.astimezone(zone):%Y-%m-%d %H:%M %Z}"


class TestSpringForward:
    """2024-03-10 in New York: clocks jump from 02:00 EST to 03:00 EDT."""

    START = dt.datetime(2024, 3, 8, 12, tzinfo=NY)
    END = dt.datetime(2024, 3, 13, tzinfo=NY)

    def test_a_missing_time_runs_at_the_next_valid_time(self) -> None:
        """02:30 does not exist that night: the job fires once, at 03:00 EDT."""
        trigger = DailyTrigger(at=dt.time(2, 30), time_zone=NEW_YORK)
        times = fire_times(trigger, start=self.START, end=self.END)
        assert [local(t) for t in times] == [
            "2024-03-09 02:30 EST",
            "2024-03-10 03:00 EDT",
            "2024-03-11 02:30 EDT",
            "2024-03-12 02:30 EDT",
        ]
        assert times[1] == dt.datetime(2024, 3, 10, 7, tzinfo=UTC)

    def test_plain_cron_fires_an_hour_after_the_jump(self) -> None:
        """Why CronTrigger is not used: it fires at 02:30 EST = 03:30 EDT."""
        cron = CronTrigger(hour=2, minute=30, timezone=NY)
        times = fire_times(cron, start=self.START, end=self.END)
        assert times[1].astimezone(UTC) == dt.datetime(2024, 3, 10, 7, 30, tzinfo=UTC)

    def test_an_ordinary_time_keeps_its_wall_clock(self) -> None:
        """06:00 stays 06:00 local on both sides of the change (the UTC hour moves)."""
        trigger = DailyTrigger(at=dt.time(6, 0), time_zone=NEW_YORK)
        times = fire_times(trigger, start=self.START, end=self.END)
        assert [local(t) for t in times] == [
            "2024-03-09 06:00 EST",
            "2024-03-10 06:00 EDT",
            "2024-03-11 06:00 EDT",
            "2024-03-12 06:00 EDT",
        ]
        assert [t.astimezone(UTC).hour for t in times] == [11, 10, 10, 10]

    def test_midnight_fires_every_day(self) -> None:
        """00:00 fires on 03-10 and again on 03-11 (no day lost after the jump)."""
        trigger = DailyTrigger(at=dt.time(0, 0), time_zone=NEW_YORK)
        times = fire_times(trigger, start=self.START, end=self.END)
        assert [local(t) for t in times] == [
            "2024-03-09 00:00 EST",
            "2024-03-10 00:00 EST",
            "2024-03-11 00:00 EDT",
            "2024-03-12 00:00 EDT",
        ]

    def test_plain_cron_skips_the_day_after_the_jump(self) -> None:
        """Why CronTrigger is not used: after 03-10 00:00 it next fires on 03-12."""
        cron = CronTrigger(hour=0, minute=0, timezone=NY)
        times = fire_times(cron, start=self.START, end=self.END)
        assert dt.date(2024, 3, 11) not in {t.astimezone(NY).date() for t in times}

    def test_a_half_hour_jump(self) -> None:
        """Lord Howe Island jumps 02:00 → 02:30: 02:15 fires once, at 02:30."""
        zone = "Australia/Lord_Howe"
        trigger = DailyTrigger(at=dt.time(2, 15), time_zone=zone)
        times = fire_times(
            trigger,
            start=dt.datetime(2024, 10, 5, 12, tzinfo=ZoneInfo(zone)),
            end=dt.datetime(2024, 10, 8, tzinfo=ZoneInfo(zone)),
        )
        assert [f"{t.astimezone(ZoneInfo(zone)):%m-%d %H:%M}" for t in times] == [
            "10-06 02:30",
            "10-07 02:15",
        ]


class TestFallBack:
    """2024-11-03 in New York: clocks fall back from 02:00 EDT to 01:00 EST."""

    START = dt.datetime(2024, 11, 1, 12, tzinfo=NY)
    END = dt.datetime(2024, 11, 6, tzinfo=NY)

    def test_a_repeated_time_runs_once(self) -> None:
        """01:30 occurs twice that night: the job fires only at the first, EDT."""
        trigger = DailyTrigger(at=dt.time(1, 30), time_zone=NEW_YORK)
        times = fire_times(trigger, start=self.START, end=self.END)
        assert [local(t) for t in times] == [
            "2024-11-02 01:30 EDT",
            "2024-11-03 01:30 EDT",
            "2024-11-04 01:30 EST",
            "2024-11-05 01:30 EST",
        ]

    def test_plain_cron_fires_twice(self) -> None:
        """Why CronTrigger is not used: it fires at 01:30 EDT and at 01:30 EST."""
        cron = CronTrigger(hour=1, minute=30, timezone=NY)
        times = fire_times(cron, start=self.START, end=self.END)
        per_day = Counter(t.astimezone(NY).date() for t in times)
        assert per_day[dt.date(2024, 11, 3)] == 2

    def test_asked_between_the_two_occurrences(self) -> None:
        """After firing at 01:30 EDT, the next fire is the next day, not 01:30 EST."""
        trigger = DailyTrigger(at=dt.time(1, 30), time_zone=NEW_YORK)
        first = dt.datetime(2024, 11, 3, 5, 30, tzinfo=UTC)  # 01:30 EDT
        between = dt.datetime(2024, 11, 3, 6, 0, tzinfo=UTC)  # 01:00 EST
        assert local(trigger.get_next_fire_time(first, between)) == (
            "2024-11-04 01:30 EST"
        )


class TestEveryDayOfAYear:
    @pytest.mark.parametrize(
        "at", [dt.time(0, 0), dt.time(1, 30), dt.time(2, 30), dt.time(6, 0)]
    )
    @pytest.mark.parametrize("zone", [NEW_YORK, "Europe/London", "UTC"])
    def test_exactly_one_fire_per_calendar_day(self, at: dt.time, zone: str) -> None:
        """Through all of 2024, every local calendar day has exactly one fire."""
        tz = ZoneInfo(zone)
        trigger = DailyTrigger(at=at, time_zone=zone)
        times = fire_times(
            trigger,
            start=dt.datetime(2024, 1, 1, tzinfo=tz),
            end=dt.datetime(2025, 1, 1, tzinfo=tz),
        )
        per_day = Counter(t.astimezone(tz).date() for t in times)
        assert len(per_day) == 366
        assert set(per_day.values()) == {1}
        assert all(t.astimezone(tz).time() >= at for t in times)


class TestFirstFire:
    def test_at_the_fire_time_it_is_now(self) -> None:
        """Asked exactly at the time, the first fire is that instant."""
        trigger = DailyTrigger(at=dt.time(6, 0), time_zone=NEW_YORK)
        now = dt.datetime(2024, 1, 15, 6, tzinfo=NY)
        assert trigger.get_next_fire_time(None, now) == now

    def test_after_the_fire_time_it_is_tomorrow(self) -> None:
        """A second late, the first fire is tomorrow's."""
        trigger = DailyTrigger(at=dt.time(6, 0), time_zone=NEW_YORK)
        now = dt.datetime(2024, 1, 15, 6, 0, 1, tzinfo=NY)
        assert trigger.get_next_fire_time(None, now) == dt.datetime(
            2024, 1, 16, 6, tzinfo=NY
        )

    def test_missed_fire_times_are_walked_one_per_day(self) -> None:
        """From a fire three days ago, APScheduler walks one missed time per day."""
        trigger = DailyTrigger(at=dt.time(6, 0), time_zone=NEW_YORK)
        previous = dt.datetime(2024, 1, 12, 6, tzinfo=NY)
        now = dt.datetime(2024, 1, 15, 12, tzinfo=NY)
        walked = [trigger.get_next_fire_time(previous, now)]
        while (after := trigger.get_next_fire_time(walked[-1], now)) <= now:
            walked.append(after)
        assert [t.day for t in walked] == [13, 14, 15]


class TestLastFireTime:
    def test_most_recent_fire_at_or_before_now(self) -> None:
        """At 07:00 EST the last fire of a 06:00 schedule was an hour ago."""
        trigger = DailyTrigger(at=dt.time(6, 0), time_zone=NEW_YORK)
        now = dt.datetime(2024, 1, 15, 7, tzinfo=NY)
        assert last_fire_time(trigger, now=now) == dt.datetime(
            2024, 1, 15, 6, tzinfo=NY
        )

    def test_before_todays_time_it_is_yesterdays(self) -> None:
        """At 05:00 the last fire of a 06:00 schedule was yesterday's."""
        trigger = DailyTrigger(at=dt.time(6, 0), time_zone=NEW_YORK)
        now = dt.datetime(2024, 1, 15, 5, tzinfo=NY)
        assert last_fire_time(trigger, now=now) == dt.datetime(
            2024, 1, 14, 6, tzinfo=NY
        )

    def test_on_the_fall_back_night_it_is_the_first_occurrence(self) -> None:
        """Between the two 01:30s, the last fire is the first (EDT) one."""
        trigger = DailyTrigger(at=dt.time(1, 30), time_zone=NEW_YORK)
        now = dt.datetime(2024, 11, 3, 6, 45, tzinfo=UTC)  # 01:45 EST
        last = last_fire_time(trigger, now=now)
        assert last.astimezone(UTC) == dt.datetime(2024, 11, 3, 5, 30, tzinfo=UTC)


class TestFromSettings:
    def test_schedule_time_zone_defaults_to_the_practice(self) -> None:
        """An empty [schedule] time_zone means the practice's time zone."""
        settings = replace(
            Settings(),
            practice=PracticeSettings(time_zone="America/Chicago"),
            schedule=ScheduleSettings(time="05:45"),
        )
        trigger = nightly_trigger(settings)
        assert trigger.zone.key == "America/Chicago"
        assert trigger.at == dt.time(5, 45)
        assert str(trigger) == "daily at 05:45 America/Chicago"

    def test_schedule_time_zone_overrides(self) -> None:
        """[schedule] time_zone wins over the practice's."""
        settings = replace(
            Settings(), schedule=ScheduleSettings(time="23:10", time_zone="UTC")
        )
        fire = nightly_trigger(settings).get_next_fire_time(
            None, dt.datetime(2024, 5, 1, 23, 11, tzinfo=UTC)
        )
        assert fire == dt.datetime(2024, 5, 2, 23, 10, tzinfo=UTC)
