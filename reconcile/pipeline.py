"""One reconciliation run: the use case both the CLI and the nightly job call.

``run`` takes the run lock, records the run, and then, in **one** database
transaction, matches, classifies and updates the queues for the window, and stores
the run's counts and summary. A run that fails or is killed leaves the results of
earlier runs exactly as they were; its record is marked ``failed`` (or, if the
process died, ``abandoned`` by the next run), and the next run redoes the work.

Everything is a function of the source data, the window (its last day is ``as_of``)
and the configuration; the clock only stamps the run record.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, or_, select, update

from reconcile.categories import ExceptionStatus, RunStatus, RunTrigger
from reconcile.classify import classify
from reconcile.clock import Clock
from reconcile.context import prepare_context
from reconcile.db.bulk import analyze
from reconcile.db.engine import RUN_OPTIONS
from reconcile.db.locks import RunLockHeld, run_lock
from reconcile.db.tables import ReconException, ReconRun, Recoupment, Refund
from reconcile.errors import describe_error
from reconcile.faults import checkpoint
from reconcile.matching import QUEUE_RULES, apply_rules
from reconcile.money import format_magnitude
from reconcile.periods import RunWindow
from reconcile.queues.workflow import OPEN_RECOUPMENT, OPEN_REFUND
from reconcile.report import write_report
from reconcile.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

#: Tables a run writes in bulk.
DERIVED_TABLES = (
    "recon_match",
    "recon_exception",
    "refund",
    "recoupment",
    "audit_event",
)

__all__ = ["RunLockHeld", "RunResult", "open_summary", "run"]


@dataclass(frozen=True)
class RunResult:
    """The outcome of a completed run."""

    run_id: int
    window: RunWindow
    summary: dict[str, Any]
    report_path: Path | None


class _Timer:
    def __init__(self, progress: Progress | None) -> None:
        self.timings: dict[str, float] = {}
        self.progress = progress

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.progress:
            self.progress(name)
        started = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - started, 3)
        checkpoint(f"stage:{name}")


def _abandon_stale(engine: Engine, *, at: dt.datetime) -> int:
    """Mark runs still recorded as running as abandoned (we hold the lock now)."""
    with engine.begin() as conn:
        result = conn.execute(
            update(ReconRun)
            .where(ReconRun.status == RunStatus.RUNNING)
            .values(
                status=RunStatus.ABANDONED,
                finished_at=at,
                error="the process stopped before the run finished",
            )
            .execution_options(preserve_rowcount=True)
        )
    count = max(result.rowcount, 0)
    if count:
        log.warning("marked %d interrupted run(s) as abandoned", count)
    return count


def _start_record(
    engine: Engine,
    *,
    window: RunWindow,
    trigger: RunTrigger,
    settings: Settings,
    at: dt.datetime,
    skipped: tuple[dt.date, dt.date] | None,
) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                insert(ReconRun)
                .values(
                    trigger=trigger,
                    status=RunStatus.RUNNING,
                    window_first=window.first,
                    window_last=window.last,
                    as_of=window.as_of,
                    started_at=at,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    config_hash=settings.config_hash(),
                    counts={},
                    timings={},
                    skipped_first=skipped[0] if skipped else None,
                    skipped_last=skipped[1] if skipped else None,
                )
                .returning(ReconRun.id)
            ).scalar_one()
        )


def _fail_record(
    engine: Engine, run_id: int, error: BaseException, at: dt.datetime
) -> None:
    message = f"{type(error).__name__}: {error}"[:2000]
    with engine.begin() as conn:
        conn.execute(
            update(ReconRun)
            .where(ReconRun.id == run_id)
            .values(status=RunStatus.FAILED, finished_at=at, error=message)
        )


def open_summary(conn: Connection, *, as_of: dt.date) -> dict[str, dict[str, Any]]:
    """Open exceptions as of ``as_of`` per kind: ``{kind: {count, amount}}``.

    Open as of a day: identified on or before it, and still open, or resolved by a
    run only after it.
    """
    e = ReconException
    rows = conn.execute(
        select(e.kind, func.count(), func.coalesce(func.sum(e.amount_cents), 0))
        .where(
            e.identified_on <= as_of,
            or_(e.status == ExceptionStatus.OPEN, e.resolved_on > as_of),
        )
        .group_by(e.kind)
        .order_by(e.kind)
    ).all()
    return {
        str(kind): {"count": int(count), "amount": format_magnitude(int(amount))}
        for kind, count, amount in rows
    }


def _queue_summary(
    conn: Connection, table: Any, open_statuses: frozenset[str], created: int
) -> dict[str, Any]:
    """``{created, open, amount}`` of a queue; amount is the open amount."""
    count, amount = conn.execute(
        select(func.count(), func.coalesce(func.sum(table.amount_cents), 0)).where(
            table.status.in_(open_statuses)
        )
    ).one()
    return {
        "created": created,
        "open": int(count),
        "amount": format_magnitude(int(amount)),
    }


def _transaction(engine: Engine) -> Connection:
    # A run's own SQLite page cache (imports keep the default: flat memory).
    options: dict[str, Any] = {"begin_immediate": True, **RUN_OPTIONS}
    if engine.dialect.name == "postgresql":
        # One consistent snapshot for the whole run, even while files are imported.
        options["isolation_level"] = "REPEATABLE READ"
    return engine.connect().execution_options(**options)


def run(
    *,
    engine: Engine,
    settings: Settings,
    window: RunWindow,
    clock: Clock,
    trigger: RunTrigger = RunTrigger.MANUAL,
    progress: Progress | None = None,
    skipped: tuple[dt.date, dt.date] | None = None,
    report_path: Path | None = None,
) -> RunResult:
    """Reconcile ``window`` (as of its last day), write its workbook, record the run.

    The workbook goes to ``report_path``, or where ``[reports]`` says. It is written
    after the results are committed: when it cannot be written, the results stay and
    the run is recorded as failed with the reason.

    Raises:
        RunLockHeld: another run holds the lock on this database.
        ReportWriteError: the workbook could not be written.
    """
    started = clock.now()
    with run_lock(engine, at=started) as lock:
        _abandon_stale(engine, at=started)
        run_id = _start_record(
            engine, window=window, trigger=trigger, settings=settings, at=started,
            skipped=skipped,
        )  # fmt: skip
        lock.set_run(run_id)
        log.info("run %d started for %s", run_id, window)
        checkpoint("run:started")
        timer = _Timer(progress)
        try:
            with _transaction(engine) as conn, conn.begin():
                with timer.stage("prepare"):
                    ctx = prepare_context(
                        conn,
                        run_id=run_id,
                        window=window,
                        settings=settings,
                        at=started,
                    )
                with timer.stage("matching"):
                    matched = apply_rules(conn, ctx)
                with timer.stage("classify"):
                    classified = classify(conn, ctx)
                with timer.stage("queue_postings"):
                    matched.update(apply_rules(conn, ctx, QUEUE_RULES))
                with timer.stage("summary"):
                    counts = {
                        "rules": {
                            rule_id: {"matched": r.matched, "ambiguous": r.ambiguous}
                            for rule_id, r in matched.items()
                        },
                        "found": classified.found,
                        "exceptions": {
                            "created": classified.merge.created,
                            "reopened": classified.merge.reopened,
                            "resolved": classified.merge.resolved,
                            "updated": classified.merge.updated,
                        },
                        "pending": classified.pending,
                        "refunds": vars(classified.refunds),
                        "recoupments": vars(classified.recoupments),
                    }
                    summary = {
                        "run_id": run_id,
                        "window": {
                            "from": window.first.isoformat(),
                            "to": window.last.isoformat(),
                        },
                        "as_of": window.as_of.isoformat(),
                        "status": str(RunStatus.SUCCEEDED),
                        "report": None,
                        "exceptions": open_summary(conn, as_of=window.as_of),
                        "refunds": _queue_summary(
                            conn, Refund, OPEN_REFUND, classified.refunds.created
                        ),
                        "recoupments": _queue_summary(
                            conn,
                            Recoupment,
                            OPEN_RECOUPMENT,
                            classified.recoupments.created,
                        ),
                        "pending": classified.pending,
                    }
                    ctx.drop(conn)
                    # The run bulk-loaded the derived tables: fresh statistics keep
                    # the next run's plans good (a stale "empty table" costs 100x).
                    analyze(conn, DERIVED_TABLES)
                    conn.execute(
                        update(ReconRun)
                        .where(ReconRun.id == run_id)
                        .values(counts=counts, summary=summary, timings=timer.timings)
                    )
                checkpoint("run:before_commit")
            checkpoint("run:committed")
            # The workbook: after the commit, so it shows the committed results.
            with timer.stage("report"):
                written = write_report(
                    engine=engine, settings=settings, run_id=run_id,
                    written_at=clock.now(), path=report_path,
                )  # fmt: skip
            summary["report"] = str(written)
            finished = clock.now()
            with engine.begin() as conn:
                conn.execute(
                    update(ReconRun)
                    .where(ReconRun.id == run_id)
                    .values(
                        status=RunStatus.SUCCEEDED,
                        finished_at=finished,
                        timings=timer.timings,
                        summary=summary,
                        report_path=str(written),
                    )
                )
        except BaseException as error:
            _fail_record(engine, run_id, error, clock.now())
            log.error("run %d failed: %s", run_id, describe_error(error))
            raise
    log.info(
        "run %d succeeded: %d exception(s) created, %d resolved",
        run_id,
        classified.merge.created,
        classified.merge.resolved,
    )
    return RunResult(run_id=run_id, window=window, summary=summary, report_path=written)
