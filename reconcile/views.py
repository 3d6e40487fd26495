"""Read-only views for the command line: runs and exceptions as plain dictionaries
(the ``--json`` objects of DESIGN.md), money as dollar strings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select
from sqlalchemy.orm import QueryableAttribute

from reconcile.categories import (
    ExceptionStatus,
    RecoupmentStatus,
    RefundStatus,
    RunStatus,
    RunTrigger,
)
from reconcile.codes import describe_adjustments
from reconcile.db.tables import ReconException, ReconRun, Recoupment, Refund
from reconcile.errors import ReconcileError
from reconcile.money import format_dollars, format_magnitude
from reconcile.queues.workflow import OPEN_RECOUPMENT, OPEN_REFUND


class NotFoundError(ReconcileError):
    """An id that names nothing."""


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def run_view(row: Any) -> dict[str, Any]:
    """One run as its JSON object."""
    return {
        "id": row.id,
        "trigger": str(row.trigger),
        "status": str(row.status),
        "window": {"from": _iso(row.window_first), "to": _iso(row.window_last)},
        "as_of": _iso(row.as_of),
        "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
        "host": row.host,
        "pid": row.pid,
        "config_hash": row.config_hash,
        "report": row.report_path,
        "error": row.error,
        "skipped": (
            {"from": _iso(row.skipped_first), "to": _iso(row.skipped_last)}
            if row.skipped_first
            else None
        ),
        "counts": row.counts,
        "timings": row.timings,
        "summary": row.summary,
    }


def list_runs(conn: Connection, *, limit: int = 50) -> list[dict[str, Any]]:
    """The newest runs first."""
    rows = conn.execute(
        select(ReconRun.__table__).order_by(ReconRun.id.desc()).limit(limit)
    ).all()
    return [run_view(row) for row in rows]


def get_run(conn: Connection, run_id: int) -> dict[str, Any]:
    """One run.

    Raises:
        NotFoundError: no such run.
    """
    row = conn.execute(select(ReconRun.__table__).where(ReconRun.id == run_id)).first()
    if row is None:
        raise NotFoundError(f"there is no run {run_id}")
    return run_view(row)


def latest_as_of(conn: Connection) -> dt.date | None:
    """The as-of date of the newest succeeded run, if any."""
    return conn.execute(
        select(ReconRun.as_of)
        .where(ReconRun.status == RunStatus.SUCCEEDED)
        .order_by(ReconRun.as_of.desc(), ReconRun.id.desc())
        .limit(1)
    ).scalar()


def _signed(cents: int | None) -> str | None:
    return format_dollars(cents) if cents is not None else None


def exception_view(row: Any, *, as_of: dt.date) -> dict[str, Any]:
    """One exception as its JSON object; its age counts from ``age_from_on``."""
    codes = row.codes.split(",") if row.codes else []
    age = (as_of - row.age_from_on).days if row.age_from_on else None
    return {
        "id": row.id,
        "fingerprint": row.fingerprint,
        "kind": str(row.kind),
        "status": str(row.status),
        "decision": str(row.decision) if row.decision else None,
        "claim_id": row.claim_id,
        "payer_id": row.payer_id,
        "patient_account": row.patient_account,
        "amount": format_magnitude(row.amount_cents),
        "expected": _signed(row.expected_cents),
        "paid": _signed(row.paid_cents),
        "variance": _signed(row.variance_cents),
        "codes": describe_adjustments(sorted(codes)) or None,
        "detail": row.detail,
        "service_on": _iso(row.service_on),
        "paid_on": _iso(row.paid_on),
        "identified_on": _iso(row.identified_on),
        "age_days": age,
        "first_run_id": row.first_run_id,
        "last_seen_run_id": row.last_seen_run_id,
        "resolved_by_run_id": row.resolved_by_run_id,
        "resolved_on": _iso(row.resolved_on),
        "note": row.decision_note,
    }


def list_exceptions(
    conn: Connection,
    *,
    as_of: dt.date,
    run_id: int | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Exceptions, newest first: by default every open one.

    With ``run_id``: the items open as of that run's as-of date (what its workbook
    lists). ``status`` filters on ``open`` or ``resolved``.

    Raises:
        NotFoundError: ``run_id`` names no run.
    """
    e = ReconException
    query = select(e.__table__)
    if run_id is not None:
        run = get_run(conn, run_id)
        as_of = dt.date.fromisoformat(run["as_of"])
        query = query.where(
            e.identified_on <= as_of,
            or_(e.status == ExceptionStatus.OPEN, e.resolved_on > as_of),
        )
    if status is not None:
        query = query.where(e.status == status)
    elif run_id is None:
        query = query.where(e.status == ExceptionStatus.OPEN)
    if kind is not None:
        query = query.where(e.kind == kind)
    rows = conn.execute(query.order_by(e.kind, e.id)).all()
    return [exception_view(row, as_of=as_of) for row in rows]


def refund_view(row: Any) -> dict[str, Any]:
    """One refund as its JSON object."""
    return {
        "id": row.id,
        "fingerprint": row.fingerprint,
        "reason": str(row.reason),
        "status": str(row.status),
        "payee": str(row.payee_kind),
        "claim_id": row.claim_id,
        "payer_id": row.payer_id,
        "patient_account": row.patient_account,
        "amount": format_magnitude(row.amount_cents),
        "identified_on": _iso(row.identified_on),
        "due_on": _iso(row.due_on),
        "due_rule": row.due_rule,
        "suspended_until": _iso(row.suspended_until),
        "reference": row.reference,
        "cancel_reason": row.cancel_reason,
        "exception_id": row.exception_id,
    }


def list_refunds(
    conn: Connection, *, status: str | None = None, due_before: dt.date | None = None
) -> list[dict[str, Any]]:
    """Refunds by due date (default: every open one)."""
    f = Refund
    query = select(f.__table__)
    if status is not None:
        query = query.where(f.status == status)
    else:
        query = query.where(f.status.in_(OPEN_REFUND))
    if due_before is not None:
        query = query.where(f.due_on < due_before)
    rows = conn.execute(query.order_by(f.due_on, f.id)).all()
    return [refund_view(row) for row in rows]


def recoupment_view(row: Any) -> dict[str, Any]:
    """One recoupment as its JSON object."""
    return {
        "id": row.id,
        "fingerprint": row.fingerprint,
        "reason": str(row.reason),
        "status": str(row.status),
        "claim_id": row.claim_id,
        "payer_id": row.payer_id,
        "amount": format_magnitude(row.amount_cents),
        "original_paid_on": _iso(row.original_paid_on),
        "original_identified": row.original_identified,
        "identified_on": _iso(row.identified_on),
        "notice_on": _iso(row.notice_on),
        "offset_on": _iso(row.offset_on),
        "offset_trace": row.offset_trace,
        "reference": row.reference,
        "response_due_on": _iso(row.response_due_on),
        "lookback": row.lookback_status,
        "lookback_note": row.lookback_note,
    }


def list_recoupments(
    conn: Connection, *, status: str | None = None
) -> list[dict[str, Any]]:
    """Recoupments by response deadline (default: every open one)."""
    r = Recoupment
    query = select(r.__table__)
    if status is not None:
        query = query.where(r.status == status)
    else:
        query = query.where(r.status.in_(OPEN_RECOUPMENT))
    rows = conn.execute(query.order_by(r.response_due_on, r.id)).all()
    return [recoupment_view(row) for row in rows]


# --------------------------------------------------------------------------- status


def last_successful_day(conn: Connection) -> dt.date | None:
    """The nightly job's watermark: the latest last day of any succeeded run."""
    return conn.execute(
        select(func.max(ReconRun.window_last)).where(
            ReconRun.status == RunStatus.SUCCEEDED
        )
    ).scalar()


def last_run(conn: Connection) -> dict[str, Any] | None:
    """The newest run, whatever its status, or None before the first run."""
    row = conn.execute(
        select(ReconRun.__table__).order_by(ReconRun.id.desc()).limit(1)
    ).first()
    return run_view(row) if row is not None else None


def _merge(spans: list[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """Merge overlapping or adjacent inclusive day ranges, sorted by first day."""
    merged: list[tuple[dt.date, dt.date]] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1] + dt.timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _subtract(
    span: tuple[dt.date, dt.date], covered: list[tuple[dt.date, dt.date]]
) -> list[tuple[dt.date, dt.date]]:
    """The parts of ``span`` outside the merged, sorted ``covered`` ranges."""
    first, last = span
    left: list[tuple[dt.date, dt.date]] = []
    for cover_first, cover_last in covered:
        if cover_last < first or cover_first > last:
            continue
        if cover_first > first:
            left.append((first, cover_first - dt.timedelta(days=1)))
        first = cover_last + dt.timedelta(days=1)
        if first > last:
            return left
    left.append((first, last))
    return left


def unrun_skips(conn: Connection) -> list[dict[str, Any]]:
    """The days nightly passes skipped that no succeeded run has covered since.

    A nightly pass that finds more days missed than it may catch up records the older
    ones as skipped on its first run; once that run succeeded, the watermark has
    jumped over them and only a manual run (``reconcile run --from … --to …``) fills
    them. Every such range stays listed, oldest first, until succeeded runs cover it
    (one run or several, together); a range partly covered lists the days left.
    Skips recorded by runs that did not succeed are not listed: the watermark did
    not move, and the next pass plans them again (``status`` shows that as
    ``pending.will_skip``).
    """
    r = ReconRun
    records = conn.execute(
        select(r.id, r.skipped_first, r.skipped_last, r.started_at)
        .where(
            r.trigger == RunTrigger.NIGHTLY,
            r.status == RunStatus.SUCCEEDED,
            r.skipped_first.is_not(None),
            r.skipped_last.is_not(None),
        )
        .order_by(r.skipped_first, r.id)
    ).all()
    if not records:
        return []
    spans = _merge([(row.skipped_first, row.skipped_last) for row in records])
    low, high = spans[0][0], spans[-1][1]
    windows = conn.execute(
        select(r.window_first, r.window_last).where(
            r.status == RunStatus.SUCCEEDED,
            r.window_last >= low,
            r.window_first <= high,
        )
    ).all()
    covered = _merge([(row.window_first, row.window_last) for row in windows])
    skips: list[dict[str, Any]] = []
    for span in spans:
        # The run that first recorded a skip inside this span, for "runs show".
        recorder = min(
            (row for row in records if span[0] <= row.skipped_first <= span[1]),
            key=lambda row: row.id,
        )
        for first, last in _subtract(span, covered):
            skips.append(
                {
                    "from": _iso(first),
                    "to": _iso(last),
                    "days": (last - first).days + 1,
                    "run_id": recorder.id,
                    "recorded_at": _iso(recorder.started_at),
                }
            )
    return skips


#: Refunds not yet sent: their legal due date still has to be met.
REFUNDS_AWAITING_ISSUE = (RefundStatus.QUEUED, RefundStatus.APPROVED)
#: Recoupments the practice has not answered yet (dispute, accept or repay).
RECOUPMENTS_AWAITING_RESPONSE = (
    RecoupmentStatus.NOTICED,
    RecoupmentStatus.PENDING,
    RecoupmentStatus.OFFSET,
)
#: How far ahead ``due_soon`` looks, in days; each window includes the shorter ones.
DUE_SOON_DAYS = (7, 30)


def _due_buckets(
    conn: Connection,
    *,
    due: QueryableAttribute[dt.date | None],
    amount: QueryableAttribute[int],
    where: ColumnElement[bool],
    today: dt.date,
) -> dict[str, dict[str, Any]]:
    buckets: dict[str, ColumnElement[bool]] = {"overdue": due < today}
    for days in DUE_SOON_DAYS:
        buckets[f"due_within_{days}_days"] = and_(
            due >= today, due <= today + dt.timedelta(days=days)
        )
    columns = []
    for condition in buckets.values():
        columns.append(func.coalesce(func.sum(case((condition, 1), else_=0)), 0))
        columns.append(func.coalesce(func.sum(case((condition, amount), else_=0)), 0))
    row = conn.execute(select(*columns).where(where)).one()
    return {
        name: {
            "count": int(row[2 * index]),
            "amount": format_magnitude(int(row[2 * index + 1])),
        }
        for index, name in enumerate(buckets)
    }


def due_soon(conn: Connection, *, today: dt.date) -> dict[str, dict[str, Any]]:
    """Refunds and recoupment responses overdue or due within 7 and 30 days.

    Refunds count while not yet issued (``due_on``); recoupments while not yet
    answered (``response_due_on``). Amounts are dollar strings; the 30-day figures
    include the 7-day ones.
    """
    return {
        "refunds": _due_buckets(
            conn,
            due=Refund.due_on,
            amount=Refund.amount_cents,
            where=Refund.status.in_(REFUNDS_AWAITING_ISSUE),
            today=today,
        ),
        "recoupments": _due_buckets(
            conn,
            due=Recoupment.response_due_on,
            amount=Recoupment.amount_cents,
            where=and_(
                Recoupment.status.in_(RECOUPMENTS_AWAITING_RESPONSE),
                Recoupment.response_due_on.is_not(None),
            ),
            today=today,
        ),
    }
