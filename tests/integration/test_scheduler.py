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
)
from jobs.signals import StopRequested
from jobs.trigger import nightly_trigger
from reconcile import pipeline
from reconcile.classify import classify as classify_stage
from reconcile.clock import FixedClock, SystemClock
from reconcile.db.engine import make_engine
from reconcile.db.locks import run_lock
from reconcile.db.tables import ReconRun
from reconcile.settings import ScheduleSettings, Settings

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
        retry = nightly.scheduler.get_job(RETRY_JOB_ID)
        assert isinstance(retry.trigger, DateTrigger)
        assert retry.trigger.run_date == CLOCK.now() + dt.timedelta(minutes=15)
        assert retry.kwargs == {"attempt": 2}
        assert any(
            "attempt 1 of 3; retrying at 2024-01-15 06:35 EST" in m
            for m in caplog.messages
        )

    def test_last_attempt_gives_up_until_the_next_time(
        self, fresh_engine: Engine, caplog: pytest.LogCaptureFixture
    ) -> None:
        """After retry_attempts retries no retry is scheduled; the error is logged."""
        nightly = service(fresh_engine, failing_runner, retry_attempts=2)
        with caplog.at_level(logging.INFO, logger="jobs"):
            nightly.tick(attempt=3)
        assert nightly.scheduler.get_job(RETRY_JOB_ID) is None
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
        assert nightly.scheduler.get_job(RETRY_JOB_ID) is None
        held = [r for r in caplog.records if "not run" in r.getMessage()]
        assert len(held) == 1
        assert held[0].levelno == logging.WARNING
        assert "waiting for the next time, 2024-01-16 06:00 EST" in held[0].getMessage()

    def test_an_unreachable_database_is_retried(
        self, tmp_path: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A database error before any run is a failed pass too: retried, no crash."""
        engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'r.db'}")
        nightly = service(engine, pipeline.run)
        with caplog.at_level(logging.INFO, logger="jobs"):
            nightly.tick()
        assert nightly.scheduler.get_job(RETRY_JOB_ID) is not None
        assert any("the nightly pass failed" in m for m in caplog.messages)

    def test_a_stop_is_not_a_failure(self, fresh_engine: Engine) -> None:
        """A stop signal during the pass ends the tick quietly, without a retry."""

        def stopped(**_: Any) -> Any:
            raise StopRequested("SIGTERM")

        nightly = service(fresh_engine, stopped)
        nightly.tick()
        assert nightly.scheduler.get_job(RETRY_JOB_ID) is None


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
