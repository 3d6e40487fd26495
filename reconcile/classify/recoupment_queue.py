"""The recoupment queue, kept in step with the run's plan.

The run only moves a recoupment forward (noticed → pending → offset), records where
the money moved, and closes ("settles") one it created whose money came back (a
correction re-paid it, or the payer withdrew a deferred recovery). A person's
statuses (disputed, accepted, repaid, closed) are never moved by a run, except
repaid → closed when a payer's 835 acknowledges the check (``WO``/``72``).

Links are never erased: a take that does not know the claim, the reference, the
original claim payment or the 835 that deferred or took the money leaves what the
recoupment records. The response deadline and the state look-back verdict are then
judged on the recoupment as it stands — its notice date, original payment and offset
date — so a notice offset by an 835 is checked on the offset too.

Only the rows of this run's takes, the rows it may settle and the repaid ones an 835
acknowledges are read. Every change writes an audit event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, or_, select, update

from reconcile.categories import AuditEntity, RecoupmentReason, RecoupmentStatus
from reconcile.classify.acknowledgements import RECOUPMENT, close_acknowledged
from reconcile.classify.entities import create_all, mark_seen
from reconcile.classify.recouped import settles_now
from reconcile.classify.recoupment_plan import Plan, Take
from reconcile.context import RunContext
from reconcile.db.tables import ReconException, Recoupment
from reconcile.queues import Event, append_events, recoupment_action, transition_many
from reconcile.queues.rules import lookback_verdict, recoupment_deadline
from reconcile.settings import PayerKind

ORDER = {
    RecoupmentStatus.NOTICED: 0,
    RecoupmentStatus.PENDING: 1,
    RecoupmentStatus.OFFSET: 2,
}
#: Fields a take may not know; ``None`` there never erases a recorded value.
_LINKS = frozenset(
    {
        "claim_id", "reference", "original_claim_payment_id", "original_paid_on",
        "pending_payment_id", "offset_payment_id", "offset_trace", "offset_on",
    }
)  # fmt: skip
#: Fields that record where the money moved; a person's status keeps them as they are.
_MOVES = frozenset(
    {"offset_payment_id", "offset_trace", "offset_on", "pending_payment_id"}
)
_CHUNK = 2_000


@dataclass(frozen=True)
class QueueCounts:
    """What the run changed in a queue."""

    created: int
    updated: int
    closed: int


def chunks(values: Iterable[Any], size: int = _CHUNK) -> list[list[Any]]:
    """``values`` without repeats, sorted, in lists of at most ``size`` (one ``IN``
    list each, so that no statement grows with the run)."""
    ordered = sorted(set(values))
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def lookup(
    conn: Connection, key: Any, value: Any, keys: Iterable[Any]
) -> dict[Any, Any]:
    """``{key: value}`` for the rows whose ``key`` column is one of ``keys`` (keys
    found nowhere are left out), reading a chunk of keys at a time."""
    found: dict[Any, Any] = {}
    for chunk in chunks(keys):
        found.update(conn.execute(select(key, value).where(key.in_(chunk))).all())
    return found


def find_exception_ids(conn: Connection, fingerprints: Iterable[str]) -> dict[str, int]:
    """The ids of the exceptions with these fingerprints."""
    e = ReconException
    return lookup(conn, e.fingerprint, e.id, fingerprints)


def sync_recoupments(conn: Connection, ctx: RunContext, plan: Plan) -> QueueCounts:
    """Create, move forward, update and settle recoupments to match the plan."""
    r = Recoupment
    table: Any = r.__table__
    existing: dict[str, Any] = {}
    for chunk in chunks(plan.takes):
        existing.update(
            (row.fingerprint, row)
            for row in conn.execute(select(table).where(table.c.fingerprint.in_(chunk)))
        )
    rules = {row.payer_id: row for row in conn.execute(select(ctx.payer_rule))}
    exception_ids = find_exception_ids(conn, plan.takes)
    events: list[Event] = []
    updated = 0
    new_rows: list[dict[str, Any]] = []
    new_takes: list[Take] = []
    confirmed: list[int] = []
    for take in plan.takes.values():
        rule = rules.get(take.payer_id or "")
        row = existing.get(take.fingerprint)
        if row is None:
            content = _content(take)
            derived, offset_from = _derived(
                ctx, rule, content, notice_on=None, identified_on=take.identified_on
            )
            new_rows.append(
                {
                    "fingerprint": take.fingerprint,
                    "reason": str(take.reason),
                    "status": str(take.status),
                    "payer_id": take.payer_id,
                    "created_by": "run",
                    "identified_on": take.identified_on,
                    "original_identified": take.claim_id is not None,
                    "first_run_id": ctx.run_id,
                    "last_seen_run_id": ctx.run_id,
                    "seen_as_of": ctx.as_of,
                    "created_at": ctx.at,
                    "updated_at": ctx.at,
                    "exception_id": exception_ids.get(take.fingerprint),
                    "details": (
                        {"offset_from": offset_from.isoformat()} if offset_from else {}
                    ),
                    **content,
                    **derived,
                }
            )
            new_takes.append(take)
            continue
        if row.seen_as_of and row.seen_as_of > ctx.as_of:
            continue  # a run with a later as-of date already saw it
        changes = _changes(row, take)
        stands = {k: changes.get(k, getattr(row, k)) for k in _content(take)}
        derived, _ = _derived(
            ctx, rule, stands, notice_on=row.notice_on, identified_on=row.identified_on
        )
        changes.update({k: v for k, v in derived.items() if getattr(row, k) != v})
        exception_id = exception_ids.get(take.fingerprint)
        if exception_id and row.exception_id != exception_id:
            changes["exception_id"] = exception_id
        current = RecoupmentStatus(row.status)
        after = current
        if current in ORDER and ORDER[take.status] > ORDER[current]:
            action = "offset" if take.status is RecoupmentStatus.OFFSET else "defer"
            after = RecoupmentStatus(
                recoupment_action(
                    conn, recoupment_id=row.id, action=action, actor="run", at=ctx.at,
                    reason=take.detail, run_id=ctx.run_id, system=True,
                )
            )  # fmt: skip
            updated += 1
        if changes:
            conn.execute(
                update(r).where(r.id == row.id).values(updated_at=ctx.at, **changes)
            )
            events.append(
                Event(
                    entity=AuditEntity.RECOUPMENT, entity_id=row.id, action="update",
                    actor="run", occurred_at=ctx.at, from_status=str(after),
                    to_status=str(after), run_id=ctx.run_id,
                    details={k: str(v) for k, v in changes.items()},
                )
            )  # fmt: skip
            updated += 1
        confirmed.append(row.id)
    mark_seen(conn, table, confirmed, ctx)
    new_ids = create_all(conn, table, new_rows)
    events += [
        Event(
            entity=AuditEntity.RECOUPMENT, entity_id=new_id, action="create",
            actor="run", occurred_at=ctx.at, to_status=str(take.status),
            reason=take.detail, run_id=ctx.run_id,
            details={"amount_cents": take.amount_cents},
        )
        for new_id, take in zip(new_ids, new_takes, strict=True)
    ]  # fmt: skip
    append_events(conn, events)
    closed = _settle_vanished(conn, ctx, plan)
    closed += close_acknowledged(conn, ctx, plan, entity=RECOUPMENT)
    return QueueCounts(created=len(new_ids), updated=updated, closed=closed)


def _content(take: Take) -> dict[str, Any]:
    return {
        "amount_cents": take.amount_cents,
        "claim_id": take.claim_id,
        "reference": take.reference,
        "original_claim_payment_id": take.original_claim_payment_id,
        "original_paid_on": take.original_paid_on,
        "pending_payment_id": take.pending_payment_id,
        "offset_payment_id": take.offset_payment_id,
        "offset_trace": take.offset_trace,
        "offset_on": take.offset_on,
    }


def _changes(row: Any, take: Take) -> dict[str, Any]:
    """What the take changes in the recorded row (links are never erased)."""
    changes: dict[str, Any] = {}
    for key, value in _content(take).items():
        if value is None and key in _LINKS:
            continue
        if key in _MOVES and row.status not in ORDER:
            continue
        if getattr(row, key) != value:
            changes[key] = value
    if "claim_id" in changes:
        changes["original_identified"] = True
    return changes


def _derived(
    ctx: RunContext,
    rule: Any,
    stands: dict[str, Any],
    *,
    notice_on: dt.date | None,
    identified_on: dt.date,
) -> tuple[dict[str, Any], dt.date | None]:
    """Response deadline and look-back verdict of the recoupment as it stands (a pure
    function of its dates and the rules), and for Medicare the first offset day."""
    kind = PayerKind(rule.kind) if rule else PayerKind.COMMERCIAL
    deadline = recoupment_deadline(
        settings=ctx.settings,
        kind=kind,
        response_days=(
            rule.response_days if rule else ctx.settings.recoupments.response_days
        ),
        start=notice_on or identified_on,
    )
    state = (rule.state if rule else "") or ctx.settings.practice.state
    verdict = lookback_verdict(
        state=state,
        rule=ctx.settings.recoupments.state_rules.get(state),
        kind=kind,
        exempt=bool(rule.exempt) if rule else False,
        original_paid_on=stands["original_paid_on"],
        notice_on=notice_on,
        offset_on=stands["offset_on"],
    )
    derived = {
        "response_due_on": deadline.respond_by,
        "lookback_status": verdict.status,
        "lookback_note": verdict.note,
    }
    return derived, deadline.offset_from


def _settle_vanished(conn: Connection, ctx: RunContext, plan: Plan) -> int:
    """Close recoupments the run created whose money came back: what created them is
    inside the plan, and the plan no longer takes them."""
    r = Recoupment
    query = select(
        r.id, r.fingerprint, r.reason, r.created_by, r.status, r.claim_id,
        r.pending_payment_id, r.offset_payment_id, r.seen_as_of,
    ).where(
        r.created_by == "run",
        r.status.in_([RecoupmentStatus.PENDING, RecoupmentStatus.OFFSET]),
    )  # fmt: skip
    rows: dict[int, Any] = {}
    for chunk in chunks(plan.claims):
        rows.update(
            (row.id, row)
            for row in conn.execute(
                query.where(
                    r.reason == RecoupmentReason.REVERSAL, r.claim_id.in_(chunk)
                )
            )
        )
    for chunk in chunks(plan.payments):
        rows.update(
            (row.id, row)
            for row in conn.execute(
                query.where(
                    r.reason == RecoupmentReason.PLB_OFFSET,
                    or_(
                        r.pending_payment_id.in_(chunk), r.offset_payment_id.in_(chunk)
                    ),
                )
            )
        )
    gone = [row.id for row in rows.values() if settles_now(row, plan, ctx)]
    return len(
        transition_many(
            conn, entity=AuditEntity.RECOUPMENT, item_ids=gone, action="settle",
            at=ctx.at, run_id=ctx.run_id,
            reason="no longer taken: re-paid by a correction or withdrawn by the payer",
        )
    )  # fmt: skip
