"""Which run a workbook is about, and which items it lists.

A run's own workbook lists every item open as of the run's as-of date, the rule of
``pipeline.open_summary``: an exception identified on or before that day that is still
open or was resolved by a later run; a refund or recoupment identified by then whose
workflow is not finished.

A workbook rewritten later (``reconcile report RUN_ID``) shows those items in their
**current** state, so it also lists the ones that were open when the run finished and
have been decided, closed or cancelled since.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, or_, select

from reconcile.categories import ExceptionStatus
from reconcile.db.tables import ReconException, ReconRun, Recoupment, Refund
from reconcile.errors import ReconcileError
from reconcile.queues.workflow import OPEN_RECOUPMENT, OPEN_REFUND


class UnknownRunError(ReconcileError):
    """A run id that names no run."""


class RunNotFinishedError(ReconcileError):
    """A run whose results were never committed has no workbook."""


@dataclass(frozen=True)
class RunFacts:
    """The run record a workbook describes."""

    run_id: int
    trigger: str
    status: str
    first: dt.date
    last: dt.date
    as_of: dt.date
    started_at: dt.datetime
    finished_at: dt.datetime | None
    host: str
    config_hash: str
    counts: dict[str, Any]
    skipped: tuple[dt.date, dt.date] | None
    #: The run committed its reconciliation (its summary was stored).
    committed: bool


@dataclass(frozen=True)
class ReportScope:
    """The run, and whether states are shown as the run left them or as they are now.

    ``current_at`` is None for the run's own workbook; for a rewritten workbook it is
    the instant the current states were read.
    """

    run: RunFacts
    current_at: dt.datetime | None = None

    @property
    def as_of(self) -> dt.date:
        """The day ages and deadlines count from."""
        return self.run.as_of

    @property
    def current(self) -> bool:
        """True when the workbook shows the items' current states."""
        return self.current_at is not None


def load_run(conn: Connection, *, run_id: int) -> RunFacts:
    """Read the run record.

    Raises:
        UnknownRunError: there is no such run.
    """
    row = conn.execute(select(ReconRun.__table__).where(ReconRun.id == run_id)).first()
    if row is None:
        raise UnknownRunError(f"there is no run {run_id}")
    skipped = (
        (row.skipped_first, row.skipped_last)
        if row.skipped_first is not None and row.skipped_last is not None
        else None
    )
    return RunFacts(
        run_id=row.id,
        trigger=str(row.trigger),
        status=str(row.status),
        first=row.window_first,
        last=row.window_last,
        as_of=row.as_of,
        started_at=row.started_at,
        finished_at=row.finished_at,
        host=row.host,
        config_hash=row.config_hash,
        counts=dict(row.counts or {}),
        skipped=skipped,
        committed=row.summary is not None,
    )


def require_results(run: RunFacts) -> None:
    """Refuse a run whose reconciliation never committed.

    Raises:
        RunNotFinishedError: the run is running, or was abandoned or failed before
            its results were committed.
    """
    if not run.committed:
        raise RunNotFinishedError(
            f"run {run.run_id} is {run.status} and never committed its results, "
            "so it has no workbook"
        )


def _changed_since_run(scope: ReportScope, column: Any) -> ColumnElement[bool] | None:
    if not scope.current or scope.run.finished_at is None:
        return None
    changed: ColumnElement[bool] = column > scope.run.finished_at
    return changed


def listed_exceptions(scope: ReportScope) -> ColumnElement[bool]:
    """The exceptions a workbook lists (see the module docstring)."""
    e = ReconException
    as_of = scope.as_of
    open_then: ColumnElement[bool] = or_(
        e.status == ExceptionStatus.OPEN, e.resolved_on > as_of
    )
    decided_since = _changed_since_run(scope, e.decided_at)
    if decided_since is not None:
        open_then = or_(open_then, decided_since)
    return and_(e.identified_on <= as_of, open_then)


def listed_refunds(scope: ReportScope) -> ColumnElement[bool]:
    """The refunds a workbook lists: unfinished ones identified by the as-of date."""
    r = Refund
    open_now: ColumnElement[bool] = r.status.in_(sorted(OPEN_REFUND))
    changed = _changed_since_run(scope, r.updated_at)
    if changed is not None:
        open_now = or_(open_now, changed)
    return and_(r.identified_on <= scope.as_of, open_now)


def listed_recoupments(scope: ReportScope) -> ColumnElement[bool]:
    """The recoupments a workbook lists: unfinished, identified by the as-of date."""
    c = Recoupment
    open_now: ColumnElement[bool] = c.status.in_(sorted(OPEN_RECOUPMENT))
    changed = _changed_since_run(scope, c.updated_at)
    if changed is not None:
        open_now = or_(open_now, changed)
    return and_(c.identified_on <= scope.as_of, open_now)
