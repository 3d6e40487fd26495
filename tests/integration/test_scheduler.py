"""The APScheduler setup in-process: job options, start-up catch-up, retries, stop."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import apscheduler.executors.base
import apscheduler.schedulers.base
import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Engine, select

from jobs.nightly import practice_today
from jobs.scheduler import (
    NIGHTLY_JOB_ID,
    RETRY_JOB_ID,
    NightlyService,
    StoppableScheduler,
    build_scheduler,
    retry_job_id,
)
from jobs.signals import StopRequested
from jobs.trigger import nightly_trigger
from reconcile import pipeline
from reconcile.classify import classify as classify_stage
from reconcile.clock import FixedClock, SystemClock
from reconcile.db.engine import make_engine
from reconcile.db.locks import RunLockHeld, run_lock
from reconcile.db.tables import ReconRun
from reconcile.settings import ScheduleSettings, Settings
from tests.factories import make_run

NY = "America/New_York"
#: 06:20 EST on 2024-01-15: twenty minutes after the default 06:00 run time.
CLOCK = FixedClock(dt.datetime(2024, 1, 15, 11, 20, tzinfo=dt.UTC))


def settings(**schedule: Any) -> Settings:
    return replace(Settings(), schedule=replace(ScheduleSettings(), **schedule))


@contextmanager
def running(scheduler: StoppableScheduler, *, paused: bool) -> Iterator[None]:
    """Run the blocking scheduler in a thread for the block."""
    thread = threading.Thread(target=scheduler.start, kwargs={"paused": paused})
    thread.start()
    deadline = time.monotonic() + 10
    while not scheduler.running and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield
    finally:
        scheduler.request_stop()
        thread.join(timeout=30)
        assert not thread.is_alive()


class TestJobOptions:
    def test_deliberate_apscheduler_options(self, fresh_engine: Engine) -> None:
        """coalesce, one instance, misfire grace from config, memory job store only."""
        scheduler, _ = build_scheduler(
            engine=fresh_engine,
            settings=settings(misfire_grace_minutes=90),
            clock=CLOCK,
        )
        with running(scheduler, paused=True):
            job = scheduler.get_job(NIGHTLY_JOB_ID)
            assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (
                True,
                1,
                90 * 60,
            )
            assert [j.id for j in scheduler.get_jobs()] == [NIGHTLY_JOB_ID]
            # No public accessor lists job stores; the one store must be in memory.
            assert list(scheduler._jobstores) == ["default"]
            assert type(scheduler._jobstores["default"]) is MemoryJobStore
            assert str(job.trigger) == f"daily at 06:00 {NY}"

    def test_started_within_the_grace_catches_up_at_once(
        self, fresh_engine: Engine
    ) -> None:
        """Started 20 minutes after today's time: the first run is that missed time."""
        scheduler, _ = build_scheduler(
            engine=fresh_engine,
            settings=settings(misfire_grace_minutes=30),
            clock=CLOCK,
        )
        with running(scheduler, paused=True):
            first = scheduler.get_job(NIGHTLY_JOB_ID).next_run_time
        assert first.astimezone(dt.UTC) == dt.datetime(2024, 1, 15, 11, tzinfo=dt.UTC)

    def test_started_after_the_grace_waits_for_the_next_time(
        self, fresh_engine: Engine
    ) -> None:
        """Started later than the grace: no run now, the next time catches up."""
        scheduler, _ = build_scheduler(
            engine=fresh_engine,
            settings=settings(misfire_grace_minutes=10),
            clock=CLOCK,
        )
        trigger = nightly_trigger(Settings())
        with running(scheduler, paused=True):
            started = dt.datetime.now(dt.UTC)
            first = scheduler.get_job(NIGHTLY_JOB_ID).next_run_time
        # Without a catch-up, APScheduler takes the next time after the real clock.
        assert first == trigger.get_next_fire_time(None, started)


def service(engine: Engine, runner: Any, **schedule: Any) -> NightlyService:
    """A service on a scheduler that is not started (added jobs stay pending)."""
    config = settings(**schedule)
    trigger = nightly_trigger(config)
    return NightlyService(
        engine=engine,
        settings=config,
        clock=CLOCK,
        scheduler=StoppableScheduler(timezone=trigger.zone),
        trigger=trigger,
        runner=runner,
    )


def retries(scheduler: StoppableScheduler) -> list[Any]:
    """The one-shot retry jobs waiting in ``scheduler``."""
    return [j for j in scheduler.get_jobs() if j.id.startswith(f"{RETRY_JOB_ID}-")]


def failing_runner(**_: Any) -> Any:
    raise RuntimeError("injected failure")


class TestTick:
    def test_failure_schedules_a_one_shot_retry(
        self, fresh_engine: Engine, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A failed pass adds a retry job retry_delay_minutes later, attempt 2."""
        nightly = service(fresh_engine, failing_runner, retry_delay_minutes=15)
        with caplog.at_level(logging.INFO, logger="jobs"):
            nightly.tick()
        [retry] = retries(nightly.scheduler)
        assert retry.id == retry_job_id(2)
        assert isinstance(retry.trigger, DateTrigger)
        assert retry.trigger.run_date == CLOCK.now() + dt.timedelta(minutes=15)
        assert retry.kwargs == {"attempt": 2}
        assert any(
            "attempt 1 of 3; retrying at 2024-01-15 06:35 EST" in m
            for m in caplog.messages
        )

    def test_a_new_series_replaces_a_pending_retry(self, fresh_engine: Engine) -> None:
        """The regular time failing while an older retry waits: one retry waits,
        the new series' attempt 2."""
        nightly = service(fresh_engine, failing_runner)
        nightly.tick(attempt=2)
        assert [j.id for j in retries(nightly.scheduler)] == [retry_job_id(3)]
        nightly.tick()
        assert [j.id for j in retries(nightly.scheduler)] == [retry_job_id(2)]

    def test_last_attempt_gives_up_until_the_next_time(
        self, fresh_engine: Engine, caplog: pytest.LogCaptureFixture
    ) -> None:
        """After retry_attempts retries no retry is scheduled; the error is logged."""
        nightly = service(fresh_engine, failing_runner, retry_attempts=2)
        with caplog.at_level(logging.INFO, logger="jobs"):
            nightly.tick(attempt=3)
        assert retries(nightly.scheduler) == []
        assert any(
            "attempt 3 of 3, giving up until 2024-01-16 06:00 EST" in m
            and "injected failure" in m
            for m in caplog.messages
        )

    def test_lock_held_waits_for_the_next_time(
        self, fresh_engine: Engine, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Another run holding the lock: one warning line, no retry, no error."""
        nightly = service(fresh_engine, pipeline.run)
        with (
            caplog.at_level(logging.INFO, logger="jobs"),
            run_lock(fresh_engine, at=CLOCK.now()),
        ):
            nightly.tick()
        assert retries(nightly.scheduler) == []
        held = [r for r in caplog.records if "not run" in r.getMessage()]
        assert len(held) == 1
        assert held[0].levelno == logging.WARNING
        assert "waiting for the next time, 2024-01-16 06:00 EST" in held[0].getMessage()

    @pytest.mark.parametrize("attempt", [1, 3])
    def test_lock_held_is_no_failed_attempt(
        self, fresh_engine: Engine, caplog: pytest.LogCaptureFixture, attempt: int
    ) -> None:
        """Even on the last retry, a held lock records no failed run and logs no
        failure or giving up: the next time starts a full set of attempts."""
        nightly = service(fresh_engine, pipeline.run, retry_attempts=2)
        with (
            caplog.at_level(logging.INFO, logger="jobs"),
            run_lock(fresh_engine, at=CLOCK.now()),
        ):
            nightly.tick(attempt=attempt)
        assert statuses(fresh_engine) == []
        assert not any("failed" in m or "giving up" in m for m in caplog.messages)
        nightly.tick()
        assert statuses(fresh_engine) == ["succeeded"]

    def test_an_unreachable_database_is_retried(
        self, tmp_path: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A database error before any run is a failed pass too: retried, no crash."""
        engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'r.db'}")
        nightly = service(engine, pipeline.run)
        with caplog.at_level(logging.INFO, logger="jobs"):
            nightly.tick()
        assert len(retries(nightly.scheduler)) == 1
        assert any("the nightly pass failed" in m for m in caplog.messages)

    def test_a_stop_is_not_a_failure(self, fresh_engine: Engine) -> None:
        """A stop signal during the pass ends the tick quietly, without a retry."""

        def stopped(**_: Any) -> Any:
            raise StopRequested("SIGTERM")

        nightly = service(fresh_engine, stopped)
        nightly.tick()
        assert retries(nightly.scheduler) == []


class TestRunningScheduler:
    def test_failing_run_is_retried_by_the_scheduler_then_succeeds(
        self,
        fresh_url: str,
        fresh_engine: Engine,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Start-up catch-up fails, the one-shot retry job runs it again: succeeded."""
        real = classify_stage
        calls: list[int] = []

        def classify(conn: Any, ctx: Any) -> Any:
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("injected failure")
            return real(conn, ctx)

        monkeypatch.setattr(pipeline, "classify", classify)
        # A time that has always passed within a day's grace: catch up at start.
        config = settings(time="00:00", misfire_grace_minutes=1440)
        engine = make_engine(fresh_url)
        scheduler, _ = build_scheduler(
            engine=engine,
            settings=config,
            clock=SystemClock(),
            retry_delay=dt.timedelta(seconds=0.5),
        )
        with (
            caplog.at_level(logging.INFO, logger="jobs"),
            running(scheduler, paused=False),
        ):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and statuses(fresh_engine) != [
                "failed",
                "succeeded",
            ]:
                time.sleep(0.1)
        engine.dispose()
        assert statuses(fresh_engine) == ["failed", "succeeded"]
        today = practice_today(settings=config, clock=SystemClock())
        with fresh_engine.connect() as conn:
            windows = set(
                conn.execute(select(ReconRun.window_first, ReconRun.window_last)).all()
            )
        # Both runs were for the day before the practice's today (a midnight may
        # have passed since).
        assert len(windows) == 1
        first, last = windows.pop()
        assert first == last
        assert (today - last).days in (1, 2)
        assert any("retrying at" in m for m in caplog.messages)


def statuses(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [
            str(s)
            for s in conn.execute(
                select(ReconRun.status).order_by(ReconRun.id)
            ).scalars()
        ]


# ------------------------------------------------- the scheduler under a frozen clock


@pytest.fixture
def frozen_apscheduler(monkeypatch: pytest.MonkeyPatch) -> FixedClock:
    """A clock that APScheduler reads too (its job loop and its executor's misfire
    check), moved only by the test."""
    clock = FixedClock(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Any:  # type: ignore[override]
            now = clock.now()
            return now.astimezone(tz) if tz else now.replace(tzinfo=None)

    monkeypatch.setattr(apscheduler.schedulers.base, "datetime", Frozen)
    monkeypatch.setattr(apscheduler.executors.base, "datetime", Frozen)
    return clock


def recording(seen: list[tuple[str, dt.date]], clock: FixedClock) -> Any:
    """pipeline.run, noting when (local time) and for which day each run ended,
    failed or not (a run refused by the lock is no run)."""

    def run(**kwargs: Any) -> Any:
        when = f"{clock.now().astimezone(ZoneInfo(NY)):%Y-%m-%d %H:%M %Z}"
        try:
            result = pipeline.run(**kwargs)
        except RunLockHeld:
            raise
        except Exception:
            seen.append((when, kwargs["window"].first))
            raise
        seen.append((when, kwargs["window"].first))
        return result

    return run


def drive(
    scheduler: StoppableScheduler,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    *,
    until: dt.datetime,
    step: dt.timedelta = dt.timedelta(minutes=5),
) -> None:
    """Run the scheduler's own job loop, one round per ``step`` of the clock."""
    monkeypatch.setattr(scheduler, "_main_loop", lambda: None)
    scheduler.start()
    try:
        while clock.now() < until:
            scheduler._process_jobs()
            clock.advance(step)
    finally:
        scheduler.shutdown(wait=False)


class TestFrozenClock:
    @pytest.mark.parametrize(
        ("at", "start", "fires"),
        [
            pytest.param(
                "02:30",
                dt.datetime(2024, 3, 8, 12, tzinfo=ZoneInfo(NY)),
                [
                    "2024-03-09 02:30 EST",
                    "2024-03-10 03:00 EDT",  # 02:30 does not exist that night
                    "2024-03-11 02:30 EDT",
                    "2024-03-12 02:30 EDT",
                ],
                id="spring-02:30",
            ),
            pytest.param(
                "01:30",
                dt.datetime(2024, 3, 8, 12, tzinfo=ZoneInfo(NY)),
                [
                    "2024-03-09 01:30 EST",
                    "2024-03-10 01:30 EST",
                    "2024-03-11 01:30 EDT",
                    "2024-03-12 01:30 EDT",
                ],
                id="spring-01:30",
            ),
            pytest.param(
                "01:30",
                dt.datetime(2024, 11, 1, 12, tzinfo=ZoneInfo(NY)),
                [
                    "2024-11-02 01:30 EDT",
                    "2024-11-03 01:30 EDT",  # not again at 01:30 EST
                    "2024-11-04 01:30 EST",
                    "2024-11-05 01:30 EST",
                ],
                id="autumn-01:30",
            ),
            pytest.param(
                "02:30",
                dt.datetime(2024, 11, 1, 12, tzinfo=ZoneInfo(NY)),
                [
                    "2024-11-02 02:30 EDT",
                    "2024-11-03 02:30 EST",
                    "2024-11-04 02:30 EST",
                    "2024-11-05 02:30 EST",
                ],
                id="autumn-02:30",
            ),
        ],
    )
    def test_one_pass_per_calendar_day_across_dst(  # noqa: PLR0917  # pytest
        self,
        fresh_engine: Engine,
        frozen_apscheduler: FixedClock,
        monkeypatch: pytest.MonkeyPatch,
        at: str,
        start: dt.datetime,
        fires: list[str],
    ) -> None:
        """APScheduler's loop with the DST night inside: one run per day, each for
        the day before, at the times docs/operations.md lists."""
        clock = frozen_apscheduler
        clock.advance(start - clock.now())
        seen: list[tuple[str, dt.date]] = []
        scheduler, _ = build_scheduler(
            engine=fresh_engine,
            settings=settings(time=at, misfire_grace_minutes=60),
            clock=clock,
            runner=recording(seen, clock),
        )
        drive(
            scheduler, clock, monkeypatch, until=start + dt.timedelta(days=4, hours=12)
        )
        assert [when for when, _ in seen] == fires
        days = [day for _, day in seen]
        assert days == [
            dt.date.fromisoformat(when[:10]) - dt.timedelta(days=1) for when in fires
        ]
        assert statuses(fresh_engine) == ["succeeded"] * 4

    @pytest.mark.parametrize("missed", [0, 1, 7])
    def test_a_suspended_machine_catches_up_in_one_pass(
        self,
        fresh_engine: Engine,
        frozen_apscheduler: FixedClock,
        monkeypatch: pytest.MonkeyPatch,
        missed: int,
    ) -> None:
        """Asleep over ``missed`` fire times (a suspended VM) and woken just after the
        next: coalesce makes one pass, which runs yesterday and every missed day,
        oldest first; the next morning runs one day as usual."""
        clock = frozen_apscheduler
        start = dt.datetime(2024, 1, 10, 5, 55, tzinfo=ZoneInfo(NY))
        clock.advance(start - clock.now())
        with fresh_engine.begin() as conn:
            make_run(conn, first=dt.date(2024, 1, 8), last=dt.date(2024, 1, 8))
        seen: list[tuple[str, dt.date]] = []
        scheduler, _ = build_scheduler(
            engine=fresh_engine,
            settings=settings(time="06:00"),
            clock=clock,
            runner=recording(seen, clock),
        )
        monkeypatch.setattr(scheduler, "_main_loop", lambda: None)
        scheduler.start()
        try:
            # Asleep from 05:55 on the 10th until 06:10 ``missed`` days later.
            clock.advance(dt.timedelta(days=missed, minutes=15))
            scheduler._process_jobs()
            woke = [day for _, day in seen]
            # The next morning runs one day, as usual.
            clock.advance(dt.timedelta(days=1))
            scheduler._process_jobs()
        finally:
            scheduler.shutdown(wait=False)
        first = dt.date(2024, 1, 9)
        assert woke == [first + dt.timedelta(days=n) for n in range(missed + 1)]
        assert len({when for when, _ in seen[: missed + 1]}) == 1  # one pass
        assert [day for _, day in seen[missed + 1 :]] == [
            first + dt.timedelta(days=missed + 1)
        ]

    def test_lock_held_at_the_fire_time_the_next_time_runs_the_day(
        self,
        fresh_engine: Engine,
        frozen_apscheduler: FixedClock,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A manual run holds the lock at 06:00: no run, no failure, no retry; the
        next morning's pass runs both days, each once."""
        clock = frozen_apscheduler
        start = dt.datetime(2024, 1, 10, 5, 55, tzinfo=ZoneInfo(NY))
        clock.advance(start - clock.now())
        with fresh_engine.begin() as conn:
            make_run(conn, first=dt.date(2024, 1, 8), last=dt.date(2024, 1, 8))
        seen: list[tuple[str, dt.date]] = []
        scheduler, _ = build_scheduler(
            engine=fresh_engine,
            settings=settings(time="06:00"),
            clock=clock,
            runner=recording(seen, clock),
        )
        monkeypatch.setattr(scheduler, "_main_loop", lambda: None)
        scheduler.start()
        try:
            clock.advance(dt.timedelta(minutes=10))
            with (
                caplog.at_level(logging.INFO, logger="jobs"),
                run_lock(fresh_engine, at=clock.now()),
            ):
                scheduler._process_jobs()
            assert seen == []
            assert retries(scheduler) == []
            clock.advance(dt.timedelta(days=1))
            scheduler._process_jobs()
        finally:
            scheduler.shutdown(wait=False)
        assert [day for _, day in seen] == [dt.date(2024, 1, 9), dt.date(2024, 1, 10)]
        assert statuses(fresh_engine) == ["succeeded"] * 3
        assert not any("failed" in m for m in caplog.messages)

    def test_a_failed_pass_is_retried_after_the_delay(
        self,
        fresh_engine: Engine,
        frozen_apscheduler: FixedClock,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """06:00 fails twice; the retries run at 06:15 and 06:30 (the second
        succeeds), and the next morning runs only its own day."""
        clock = frozen_apscheduler
        start = dt.datetime(2024, 1, 10, 5, 55, tzinfo=ZoneInfo(NY))
        clock.advance(start - clock.now())
        real = classify_stage
        calls: list[int] = []

        def classify(conn: Any, ctx: Any) -> Any:
            calls.append(1)
            if len(calls) <= 2:
                raise RuntimeError("injected failure")
            return real(conn, ctx)

        monkeypatch.setattr(pipeline, "classify", classify)
        seen: list[tuple[str, dt.date]] = []
        scheduler, _ = build_scheduler(
            engine=fresh_engine,
            settings=settings(time="06:00", retry_attempts=2, retry_delay_minutes=15),
            clock=clock,
            runner=recording(seen, clock),
        )
        drive(
            scheduler,
            clock,
            monkeypatch,
            until=start + dt.timedelta(days=1, hours=1),
        )
        assert seen == [
            ("2024-01-10 06:00 EST", dt.date(2024, 1, 9)),
            ("2024-01-10 06:15 EST", dt.date(2024, 1, 9)),
            ("2024-01-10 06:30 EST", dt.date(2024, 1, 9)),
            ("2024-01-11 06:00 EST", dt.date(2024, 1, 10)),
        ]
        assert statuses(fresh_engine) == ["failed", "failed", "succeeded", "succeeded"]
