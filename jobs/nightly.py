"""The nightly job: one catch-up pass, each day through the same ``pipeline.run``.

A pass holds the nightly lock while it reads the watermark (the last successful day,
from the database), plans the days (:mod:`jobs.plan`) and runs them oldest first, one
run per calendar day, with ``trigger = nightly``. Each run takes the run lock and is
recorded like a manual run; the first run of a pass that had to skip days records the
skipped range. A day that fails stops the pass: later days wait, so the watermark
never jumps over a failed day, and the next pass starts again from it.

``reconcile nightly`` calls :func:`run_nightly` (one pass, retried in place after a
delay); the scheduler calls :func:`run_pass` and schedules its retries itself.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine

from jobs.plan import CatchUp, plan_catch_up
from jobs.signals import StopRequested
from reconcile import pipeline, views
from reconcile.categories import RunTrigger
from reconcile.clock import Clock, local_date
from reconcile.db.locks import RunLockHeld, nightly_lock
from reconcile.errors import ReconcileError, describe_error
from reconcile.periods import RunWindow
from reconcile.settings import Settings

log = logging.getLogger(__name__)


class Runner(Protocol):
    """The signature of :func:`reconcile.pipeline.run` that a pass relies on."""

    def __call__(
        self,
        *,
        engine: Engine,
        settings: Settings,
        window: RunWindow,
        clock: Clock,
        trigger: RunTrigger,
        skipped: tuple[dt.date, dt.date] | None,
    ) -> pipeline.RunResult: ...


class NightlyRunFailed(ReconcileError):
    """A day of a nightly pass failed; its run record holds the error."""

    def __init__(self, *, day: dt.date | None, error: BaseException) -> None:
        what = f"the nightly run for {day}" if day else "the nightly pass"
        super().__init__(f"{what} failed: {describe_error(error)}")
        self.day = day
        self.error = error
        #: The days the pass completed before this one failed.
        self.completed: tuple[DayRun, ...] = ()
        #: The range of days the pass skipped (recorded on its first run), if any.
        self.skipped: tuple[dt.date, dt.date] | None = None


class NightlyStopped(ReconcileError):
    """A stop signal ended ``reconcile nightly`` before its pass finished."""


@dataclass(frozen=True)
class DayRun:
    """One day a pass ran."""

    day: dt.date
    run_id: int
    summary: dict[str, Any]


@dataclass(frozen=True)
class NightlyOutcome:
    """What ``reconcile nightly`` did over all its attempts."""

    runs: tuple[DayRun, ...]
    #: The range recorded as skipped, if a pass had to skip days.
    skipped: tuple[dt.date, dt.date] | None
    #: The watermark after the last attempt's planning.
    last_successful: dt.date | None


@dataclass(frozen=True)
class PassResult:
    """What a pass found and did."""

    today: dt.date
    last_successful: dt.date | None
    plan: CatchUp
    runs: tuple[DayRun, ...]


def practice_today(*, settings: Settings, clock: Clock) -> dt.date:
    """Today's date in the practice's time zone, by ``clock``."""
    return local_date(clock.now(), settings.practice.time_zone)


def run_pass(
    *,
    engine: Engine,
    settings: Settings,
    clock: Clock,
    today: dt.date | None = None,
    runner: Runner = pipeline.run,
) -> PassResult:
    """Run every day due before ``today`` (default: the practice's today by clock).

    Raises:
        NightlyLockHeld: another process is running a nightly pass.
        RunLockHeld: another run (a manual one) holds the run lock; later days wait.
        NightlyRunFailed: a day's run failed (recorded ``failed``; later days wait),
            or the database failed outside a run (taking the lock, reading the
            watermark).
        StopRequested: a stop signal arrived; the run in progress was rolled back.
    """
    today = today or practice_today(settings=settings, clock=clock)
    try:
        with nightly_lock(engine, at=clock.now()):
            result = _catch_up(
                engine=engine,
                settings=settings,
                clock=clock,
                today=today,
                runner=runner,
            )
    except ReconcileError:
        raise
    except Exception as error:  # the database failed outside a run: lock, watermark
        raise NightlyRunFailed(day=None, error=error) from error
    if result.runs:
        log.info(
            "nightly pass done: %d day(s) run, last successful day now %s",
            len(result.runs),
            result.runs[-1].day,
            extra={"event": "nightly_done", "days": len(result.runs)},
        )
    return result


def _catch_up(
    *,
    engine: Engine,
    settings: Settings,
    clock: Clock,
    today: dt.date,
    runner: Runner,
) -> PassResult:
    """Plan from the watermark and run the days; the caller holds the nightly lock."""
    with engine.connect() as conn:
        last = views.last_successful_day(conn)
    plan = plan_catch_up(
        last_successful=last,
        today=today,
        max_catch_up_days=settings.schedule.max_catch_up_days,
    )
    _log_plan(plan, last)
    runs: list[DayRun] = []
    for index, day in enumerate(plan.days):
        try:
            done = _run_day(
                engine=engine,
                settings=settings,
                clock=clock,
                runner=runner,
                day=day,
                skipped=plan.skipped if index == 0 else None,
            )
        except NightlyRunFailed as failed:
            failed.completed = tuple(runs)
            failed.skipped = plan.skipped
            raise
        runs.append(done)
    return PassResult(today=today, last_successful=last, plan=plan, runs=tuple(runs))


def _log_plan(plan: CatchUp, last: dt.date | None) -> None:
    since = f"last successful day {last}" if last else "no successful run yet"
    if not plan.days:
        log.info(
            "nightly pass: nothing to do (%s)", since, extra={"event": "nightly_idle"}
        )
        return
    if plan.skipped is not None:
        first, final = plan.skipped
        log.warning(
            "nightly pass: %d day(s) missed, more than max_catch_up_days; skipping "
            "%s..%s (recorded on the first run)",
            plan.missed,
            first,
            final,
            extra={
                "event": "nightly_skipped",
                "skipped_from": str(first),
                "skipped_to": str(final),
            },
        )
    log.info(
        "nightly pass: %d day(s) to run, %s..%s (%s)",
        len(plan.days),
        plan.days[0],
        plan.days[-1],
        since,
        extra={
            "event": "nightly_plan",
            "from": str(plan.days[0]),
            "to": str(plan.days[-1]),
        },
    )


def _run_day(
    *,
    engine: Engine,
    settings: Settings,
    clock: Clock,
    runner: Runner,
    day: dt.date,
    skipped: tuple[dt.date, dt.date] | None,
) -> DayRun:
    try:
        result = runner(
            engine=engine,
            settings=settings,
            window=RunWindow(day, day),
            clock=clock,
            trigger=RunTrigger.NIGHTLY,
            skipped=skipped,
        )
    except RunLockHeld:
        raise
    except StopRequested as stop:
        log.warning(
            "%s stopped the nightly run for %s: its work was rolled back; the next "
            "pass runs the day again",
            stop.signal_name,
            day,
            extra={"event": "nightly_stopped", "day": str(day)},
        )
        raise
    except Exception as error:
        raise NightlyRunFailed(day=day, error=error) from error
    return DayRun(day=day, run_id=result.run_id, summary=result.summary)


def run_nightly(
    *,
    engine: Engine,
    settings: Settings,
    clock: Clock,
    today: dt.date | None = None,
    sleep: Callable[[float], None],
    runner: Runner = pipeline.run,
) -> NightlyOutcome:
    """One catch-up pass for ``reconcile nightly``, retried in place on failure.

    A failed pass is tried again ``retry_attempts`` times, ``retry_delay_minutes``
    apart (``sleep`` waits); each attempt starts from the watermark again.

    Raises:
        NightlyRunFailed: the last attempt still failed.
        RunLockHeld: another run or nightly pass holds a lock (not retried: the
            other process is doing the work, or the next pass will).
        NightlyStopped: a stop signal arrived (the run in progress rolled back).
    """
    schedule = settings.schedule
    attempts = schedule.retry_attempts + 1
    done: list[DayRun] = []
    skipped: tuple[dt.date, dt.date] | None = None
    attempt = 1
    while True:
        try:
            result = run_pass(
                engine=engine,
                settings=settings,
                clock=clock,
                today=today,
                runner=runner,
            )
        except NightlyRunFailed as failed:
            done.extend(failed.completed)
            skipped = skipped or failed.skipped
            if attempt >= attempts:
                log.error(
                    "nightly pass failed, attempt %d of %d, giving up: %s",
                    attempt,
                    attempts,
                    failed,
                    extra={"event": "nightly_failed", "attempt": attempt},
                )
                raise
            log.warning(
                "nightly pass failed, attempt %d of %d; retrying in %d minute(s): %s",
                attempt,
                attempts,
                schedule.retry_delay_minutes,
                failed,
                extra={"event": "nightly_retry", "attempt": attempt},
            )
            try:
                sleep(schedule.retry_delay_minutes * 60)
            except StopRequested as stop:
                raise _stopped(stop) from None
            attempt += 1
        except StopRequested as stop:
            raise _stopped(stop) from None
        else:
            done.extend(result.runs)
            last = result.runs[-1].day if result.runs else result.last_successful
            return NightlyOutcome(
                runs=tuple(done),
                skipped=skipped or result.plan.skipped,
                last_successful=last,
            )


def _stopped(stop: StopRequested) -> NightlyStopped:
    return NightlyStopped(
        f"{stop.signal_name} stopped the nightly pass; a run in progress was rolled "
        "back and the next pass runs its day again"
    )
