"""``reconcile scheduler``: a blocking APScheduler 3 scheduler for the nightly job.

Every choice here is deliberate (docs/operations.md explains them to operators):

- **No persistent job store** (a ``MemoryJobStore``): the schedule comes from the
  configuration and the database watermark is the memory. Nothing to migrate, nothing
  for two schedulers to double-run, nothing that contends with the run lock.
- **The job runs in the main thread** (``DebugExecutor`` runs it inline): a pass is
  never concurrent with another pass of the same process, and SIGTERM/SIGINT reach the
  run in progress, which rolls back (see :mod:`jobs.signals`).
- ``coalesce=True`` and ``max_instances=1``: fire times missed together run **one**
  pass. Nothing is lost by that, because the pass runs every day after the watermark,
  not "the day of this fire time".
- ``misfire_grace_time = [schedule] misfire_grace_minutes``: a fire time noticed late
  (the machine slept, a long pass ran past it, the scheduler started after today's
  time) still runs within the grace; APScheduler's default of one second would skip it
  silently. Later than that, the miss is logged and the next fire time's pass catches
  the days up.
- At start, the most recent fire time is given as the first run time, so a scheduler
  (re)started within the grace after today's time runs at once instead of tomorrow.
- A failed pass schedules a one-shot retry job ``retry_delay_minutes`` later, up to
  ``retry_attempts`` times; another process holding a lock is not a failure: the pass
  logs one line and waits for the next fire time.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, cast

from apscheduler.executors.debug import DebugExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Engine

from jobs.nightly import NightlyRunFailed, Runner, run_pass
from jobs.signals import StopRequested, stop_on_signals
from jobs.trigger import DailyTrigger, last_fire_time, nightly_trigger
from reconcile import pipeline
from reconcile.clock import Clock
from reconcile.db.locks import RunLockHeld
from reconcile.settings import Settings

log = logging.getLogger(__name__)

NIGHTLY_JOB_ID = "nightly"
RETRY_JOB_ID = "nightly-retry"


def retry_job_id(attempt: int) -> str:
    """The id of the one-shot job that makes ``attempt`` (2 and up).

    Each attempt gets its own id: when a one-shot job returns, APScheduler removes
    the job *by id*, so a retry that reused the running retry's id would be removed
    as soon as it was added, and only the first retry would ever run.
    """
    return f"{RETRY_JOB_ID}-{attempt}"


class StoppableScheduler(BlockingScheduler):  # type: ignore[misc]  # no types
    """A ``BlockingScheduler`` that a job running inline can ask to stop.

    ``shutdown()`` empties the memory job store, which breaks APScheduler's own
    bookkeeping of a job that is still running inline; so a stop asked for while a
    job runs takes effect when the job has returned.
    """

    stop_requested = False

    def request_stop(self) -> None:
        """Stop once the job in progress (if any) has returned."""
        self.stop_requested = True
        self.wakeup()

    def _process_jobs(self) -> float | None:
        wait_seconds = cast("float | None", super()._process_jobs())
        if self.stop_requested and self.running:
            self.shutdown(wait=False)
        return wait_seconds


class NightlyService:
    """The scheduler's job: one catch-up pass per fire time, retried on failure."""

    def __init__(
        self,
        *,
        engine: Engine,
        settings: Settings,
        clock: Clock,
        scheduler: StoppableScheduler,
        trigger: DailyTrigger,
        runner: Runner = pipeline.run,
        retry_delay: dt.timedelta | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.scheduler = scheduler
        self.trigger = trigger
        self.runner = runner
        self.retry_delay = retry_delay or dt.timedelta(
            minutes=settings.schedule.retry_delay_minutes
        )

    def tick(self, attempt: int = 1) -> None:
        """Run one pass; on failure schedule the next attempt. Never raises.

        (An exception escaping a job would only become a traceback in APScheduler's
        log.)
        """
        try:
            self._pass(attempt)
        except StopRequested:
            # The signal handler asked the scheduler to stop; the pass logged the run.
            return

    def _pass(self, attempt: int) -> None:
        try:
            run_pass(
                engine=self.engine,
                settings=self.settings,
                clock=self.clock,
                runner=self.runner,
            )
        except RunLockHeld as held:
            log.warning(
                "nightly pass not run: %s; waiting for the next time, %s",
                held,
                self.next_time(),
                extra={"event": "nightly_lock_held"},
            )
        except NightlyRunFailed as failed:
            self._retry_or_give_up(failed, attempt)
        except Exception as error:  # the database went away, …: retry, stay up
            self._retry_or_give_up(NightlyRunFailed(day=None, error=error), attempt)

    def _retry_or_give_up(self, failed: NightlyRunFailed, attempt: int) -> None:
        attempts = self.settings.schedule.retry_attempts + 1
        if attempt >= attempts:
            log.error(
                "nightly pass failed, attempt %d of %d, giving up until %s: %s",
                attempt,
                attempts,
                self.next_time(),
                failed,
                extra={"event": "nightly_failed", "attempt": attempt},
            )
            return
        at = self.clock.now() + self.retry_delay
        self._drop_pending_retries(running=attempt)
        self.scheduler.add_job(
            self.tick,
            DateTrigger(run_date=at, timezone=self.trigger.zone),
            kwargs={"attempt": attempt + 1},
            id=retry_job_id(attempt + 1),
            name="nightly retry",
            replace_existing=True,
        )
        log.warning(
            "nightly pass failed, attempt %d of %d; retrying at %s: %s",
            attempt,
            attempts,
            _local(at, self.trigger),
            failed,
            extra={"event": "nightly_retry", "attempt": attempt},
        )

    def _drop_pending_retries(self, *, running: int) -> None:
        """Remove retries still waiting from an earlier failure (one series at a
        time), but not the one running now: APScheduler removes that itself."""
        for job in self.scheduler.get_jobs():
            if job.id.startswith(f"{RETRY_JOB_ID}-") and job.id != retry_job_id(
                running
            ):
                job.remove()

    def next_time(self) -> str:
        """The next regular fire time, in the schedule's time zone."""
        return _local(
            self.trigger.get_next_fire_time(None, self.clock.now()), self.trigger
        )


def _local(instant: dt.datetime, trigger: DailyTrigger) -> str:
    return f"{instant.astimezone(trigger.zone):%Y-%m-%d %H:%M %Z}"


def build_scheduler(
    *,
    engine: Engine,
    settings: Settings,
    clock: Clock,
    runner: Runner = pipeline.run,
    retry_delay: dt.timedelta | None = None,
) -> tuple[StoppableScheduler, NightlyService]:
    """Configure (not start) the scheduler and its nightly job."""
    trigger = nightly_trigger(settings)
    grace = dt.timedelta(minutes=settings.schedule.misfire_grace_minutes)
    scheduler = StoppableScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": DebugExecutor()},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(grace.total_seconds()),
        },
        timezone=trigger.zone,
    )
    service = NightlyService(
        engine=engine,
        settings=settings,
        clock=clock,
        scheduler=scheduler,
        trigger=trigger,
        runner=runner,
        retry_delay=retry_delay,
    )
    now = clock.now()
    options: dict[str, Any] = {}
    last = last_fire_time(trigger, now=now)
    if now - last <= grace:
        options["next_run_time"] = last
        log.info(
            "the nightly time %s passed %s ago, within misfire_grace_minutes: "
            "catching up now",
            _local(last, trigger),
            str(now - last).split(".")[0],
            extra={"event": "scheduler_catch_up"},
        )
    scheduler.add_job(
        service.tick, trigger, id=NIGHTLY_JOB_ID, name="nightly", **options
    )
    return scheduler, service


def serve(
    *,
    engine: Engine,
    settings: Settings,
    clock: Clock,
    runner: Runner = pipeline.run,
) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT."""
    scheduler, service = build_scheduler(
        engine=engine, settings=settings, clock=clock, runner=runner
    )

    schedule = settings.schedule
    log.info(
        "scheduler started: nightly pass %s, next at %s; %d retr%s %d minute(s) "
        "apart; misfire grace %d minute(s)",
        service.trigger,
        service.next_time(),
        schedule.retry_attempts,
        "y" if schedule.retry_attempts == 1 else "ies",
        schedule.retry_delay_minutes,
        schedule.misfire_grace_minutes,
        extra={"event": "scheduler_started"},
    )
    with stop_on_signals(on_stop=scheduler.request_stop):
        try:
            scheduler.start()
        except StopRequested:
            # Raised while no job ran (a job catches its own): stop right away.
            if scheduler.running:
                scheduler.shutdown(wait=False)
    log.info("scheduler stopped", extra={"event": "scheduler_stopped"})
