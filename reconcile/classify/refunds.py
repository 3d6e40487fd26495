"""The refund queue, kept in step with what the run found.

One refund per claim (or patient account), payee and reason, keyed by fingerprint.
A run:

- creates a ``queued`` refund for each ``overpaid``, ``duplicate_payment``,
  ``cob_overlap`` and ``patient_overpaid`` exception it holds, with its legal due date
  (:func:`reconcile.queues.rules.refund_due`); ``identified_on`` is the payment date
  that made the overpayment visible, stored once and never moved;
- refreshes the amount and due date of refunds still ``queued``;
- cancels a queued refund whose overpayment is gone (its exception resolved by this
  run);
- never pays the same money back twice (:mod:`reconcile.classify.recouped`): a
  queued or approved refund the payer recouped in full, after the overpayment was
  identified, is cancelled ("recouped by payer"); recouped in part, it is reduced to
  the rest (an issued one raises ``refund_recouped`` instead);
- acknowledges an issued payer refund when an 835 carries a ``72``/``WO`` pair for it
  (:mod:`reconcile.classify.acknowledgements`: each pair at most once, on or after
  the issue date, reference before amount).

Only this run's candidates and the queue's open payer refunds are read. Every change
writes an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, select, update

from reconcile.categories import (
    AuditEntity,
    ExceptionKind,
    ExceptionStatus,
    PayeeKind,
    RefundReason,
    RefundStatus,
)
from reconcile.classify.acknowledgements import REFUND, close_acknowledged
from reconcile.classify.entities import create_all, mark_seen
from reconcile.classify.recouped import (
    Owed,
    Recouped,
    open_payer_refunds,
    recouped_cents,
    recouped_takes,
    share_out,
)
from reconcile.classify.recoupment_plan import Plan
from reconcile.classify.recoupment_queue import QueueCounts, chunks, find_exception_ids
from reconcile.context import RunContext
from reconcile.db.tables import ReconException, Refund
from reconcile.money import format_dollars
from reconcile.queues import Event, append_events, transition_many
from reconcile.queues.rules import GOVERNMENT, refund_due
from reconcile.settings import PayerKind

REFUND_KINDS = {
    ExceptionKind.OVERPAID: RefundReason.OVERPAID,
    ExceptionKind.DUPLICATE_PAYMENT: RefundReason.DUPLICATE_PAYMENT,
    ExceptionKind.COB_OVERLAP: RefundReason.COB_OVERLAP,
    ExceptionKind.PATIENT_OVERPAID: RefundReason.PATIENT_OVERPAID,
}


def refund_fingerprint(reason: RefundReason, payee: str, subject: str) -> str:
    """One refund per claim (or account), payee and reason."""
    return f"refund:{reason}:{payee}:{subject}"


def _desired(
    conn: Connection, ctx: RunContext, candidates: Table, state: Table
) -> list[dict[str, Any]]:
    """The refunds this run's exceptions call for."""
    c, s, rule = candidates, state, ctx.payer_rule
    rows = conn.execute(
        select(
            c.c.fingerprint,
            c.c.kind,
            c.c.claim_id,
            c.c.payer_id,
            c.c.patient_account,
            c.c.amount_cents,
            c.c.paid_on,
            s.c.own_government_count,
            rule.c.kind,
        )
        .select_from(c)
        .outerjoin(
            s,
            (c.c.subject_table == "expected_claim") & (s.c.claim_pk == c.c.subject_id),
        )
        .outerjoin(rule, rule.c.payer_id == c.c.payer_id)
        .where(c.c.kind.in_([str(k) for k in REFUND_KINDS]))
    ).all()
    desired: dict[str, dict[str, Any]] = {}
    for row in rows:
        kind = ExceptionKind(row[1])
        reason = REFUND_KINDS[kind]
        patient = kind is ExceptionKind.PATIENT_OVERPAID
        payee = row.patient_account if patient else row.payer_id
        if payee is None or row.amount_cents <= 0:
            continue
        government = not patient and (
            (row[8] is not None and PayerKind(row[8]) in GOVERNMENT)
            or (row.own_government_count or 0) > 0
        )
        fingerprint = refund_fingerprint(
            reason, payee, row.claim_id or f"account:{row.patient_account}"
        )
        identified = row.paid_on or ctx.as_of
        same = desired.get(fingerprint)
        if same is not None:  # one refund per claim, payee and reason: add them up
            same["amount_cents"] += row.amount_cents
            same["identified_on"] = min(same["identified_on"], identified)
            continue
        desired[fingerprint] = {
            "fingerprint": fingerprint,
            "exception_fingerprint": row.fingerprint,
            "reason": reason,
            "payee_kind": PayeeKind.PATIENT if patient else PayeeKind.PAYER,
            "claim_id": row.claim_id,
            "payer_id": None if patient else row.payer_id,
            "patient_account": row.patient_account,
            "amount_cents": row.amount_cents,
            "identified_on": identified,
            "government": government,
        }
    return sorted(desired.values(), key=lambda d: str(d["fingerprint"]))


RECOUPED = "recouped by payer"


@dataclass
class _Pass:
    """What one sync collects before writing it."""

    events: list[Event] = field(default_factory=list)
    updated: int = 0
    cancel: set[str] = field(default_factory=set)  # fingerprints recouped in full


def sync_refunds(
    conn: Connection,
    ctx: RunContext,
    *,
    candidates: Table,
    state: Table,
    plan: Plan,
) -> QueueCounts:
    """Bring the refund queue in step with this run (see the module docstring)."""
    f = Refund
    table: Any = f.__table__
    desired = _desired(conn, ctx, candidates, state)
    wanted = {d["fingerprint"]: d for d in desired}
    existing: dict[str, Any] = {}
    for chunk in chunks(wanted):
        existing.update(
            (row.fingerprint, row)
            for row in conn.execute(select(table).where(table.c.fingerprint.in_(chunk)))
        )
    exception_ids = find_exception_ids(
        conn, {d["exception_fingerprint"] for d in desired}
    )
    recouped = _coverage(conn, ctx, plan, wanted, existing)
    work = _Pass()
    new_rows: list[dict[str, Any]] = []
    confirmed: list[int] = []
    for want in desired:
        row = existing.get(want["fingerprint"])
        cover = recouped.get(want["fingerprint"])
        if row is None:
            new_rows.append(_new_row(ctx, want, cover, exception_ids, work))
            continue
        if row.seen_as_of and row.seen_as_of > ctx.as_of:
            continue
        changes: dict[str, Any] = {}
        if row.status == RefundStatus.QUEUED:
            due = refund_due(
                settings=ctx.settings, payee_kind=PayeeKind(row.payee_kind),
                identified_on=row.identified_on, government=want["government"],
                suspended_until=row.suspended_until,
            )  # fmt: skip
            changes.update(_owed_changes(row, want["amount_cents"], cover, work))
            for key, value in (("due_on", due.due_on), ("due_rule", due.rule)):
                if getattr(row, key) != value:
                    changes[key] = value
        exception_id = exception_ids.get(want["exception_fingerprint"])
        if exception_id and row.exception_id != exception_id:
            changes["exception_id"] = exception_id
        _update(conn, ctx, row, changes, work)
        confirmed.append(row.id)
    _recouped_open(conn, ctx, recouped, set(wanted), work)
    mark_seen(conn, table, confirmed, ctx)
    new_ids = create_all(conn, table, new_rows)
    work.events += [
        Event(
            entity=AuditEntity.REFUND, entity_id=new_id, action="create", actor="run",
            occurred_at=ctx.at, to_status=str(RefundStatus.QUEUED),
            reason=f"{row['reason']} found", run_id=ctx.run_id,
            details={"amount_cents": row["amount_cents"],
                     "due_on": row["due_on"].isoformat()},
        )
        for new_id, row in zip(new_ids, new_rows, strict=True)
    ]  # fmt: skip
    append_events(conn, work.events)
    closed = _cancel_vanished(conn, ctx, set(wanted))
    closed += _cancel_recouped(conn, ctx, work.cancel)
    closed += close_acknowledged(conn, ctx, plan, entity=REFUND)
    return QueueCounts(created=len(new_ids), updated=work.updated, closed=closed)


def _coverage(
    conn: Connection,
    ctx: RunContext,
    plan: Plan,
    wanted: dict[str, dict[str, Any]],
    existing: dict[str, Any],
) -> dict[str, Recouped]:
    """How much of each open payer refund (and of each new one) the payer took."""
    owed: list[Owed] = []
    statuses = (RefundStatus.QUEUED, RefundStatus.APPROVED, RefundStatus.ISSUED)
    for row, issued_on in open_payer_refunds(conn, ctx, statuses=statuses):
        want = wanted.get(row.fingerprint)
        base = (
            want["amount_cents"]
            if want and row.status == RefundStatus.QUEUED
            else row.amount_cents + recouped_cents(row.details)
        )
        owed.append(
            Owed(
                row.fingerprint, row.payer_id, row.claim_id, base,
                row.identified_on, issued_on,
            )
        )  # fmt: skip
    owed += [
        Owed(
            d["fingerprint"], d["payer_id"], d["claim_id"], d["amount_cents"],
            d["identified_on"],
        )
        for d in wanted.values()
        if d["fingerprint"] not in existing
        and d["payee_kind"] is PayeeKind.PAYER
        and d["claim_id"]
    ]  # fmt: skip
    takes = recouped_takes(conn, ctx, plan, {o.claim_id for o in owed})
    return share_out(owed, takes)


def _owed_changes(
    row: Any, base: int, cover: Recouped | None, work: _Pass
) -> dict[str, Any]:
    """Amount and recorded recoupment of a refund not yet issued, owing ``base``."""
    taken = cover.cents if cover else 0
    if taken >= base > 0:
        work.cancel.add(row.fingerprint)
        taken = 0  # cancelled for the whole amount; nothing to take off it
    changes: dict[str, Any] = {}
    if row.amount_cents != base - taken:
        changes["amount_cents"] = base - taken
    if recouped_cents(row.details) != taken:
        details = {
            k: v for k, v in (row.details or {}).items() if k != "recouped_cents"
        }
        changes["details"] = {**details, "recouped_cents": taken} if taken else details
    return changes


def _update(
    conn: Connection, ctx: RunContext, row: Any, changes: dict[str, Any], work: _Pass
) -> None:
    if not changes:
        return
    f = Refund
    conn.execute(update(f).where(f.id == row.id).values(updated_at=ctx.at, **changes))
    taken = changes.get("details", {}).get("recouped_cents")
    reason = (
        f"partly recouped by payer: {format_dollars(taken)} taken; refund the rest"
        if taken
        else None
    )
    work.events.append(
        Event(
            entity=AuditEntity.REFUND, entity_id=row.id, action="update",
            actor="run", occurred_at=ctx.at, from_status=str(row.status),
            to_status=str(row.status), run_id=ctx.run_id, reason=reason,
            details={k: str(v) for k, v in changes.items()},
        )
    )  # fmt: skip
    work.updated += 1


def _new_row(
    ctx: RunContext,
    want: dict[str, Any],
    cover: Recouped | None,
    exception_ids: dict[str, int],
    work: _Pass,
) -> dict[str, Any]:
    due = refund_due(
        settings=ctx.settings, payee_kind=want["payee_kind"],
        identified_on=want["identified_on"], government=want["government"],
    )  # fmt: skip
    amount, taken = want["amount_cents"], cover.cents if cover else 0
    if taken >= amount:
        work.cancel.add(want["fingerprint"])  # created, then cancelled: recouped
        taken = 0
    return {
        "fingerprint": want["fingerprint"],
        "reason": str(want["reason"]),
        "status": str(RefundStatus.QUEUED),
        "payee_kind": str(want["payee_kind"]),
        "claim_id": want["claim_id"],
        "payer_id": want["payer_id"],
        "patient_account": want["patient_account"],
        "amount_cents": amount - taken,
        "identified_on": want["identified_on"],
        "due_on": due.due_on,
        "due_rule": due.rule,
        "exception_id": exception_ids.get(want["exception_fingerprint"]),
        "details": {"recouped_cents": taken} if taken else {},
        "first_run_id": ctx.run_id,
        "last_seen_run_id": ctx.run_id,
        "seen_as_of": ctx.as_of,
        "created_at": ctx.at,
        "updated_at": ctx.at,
    }


def _recouped_open(
    conn: Connection,
    ctx: RunContext,
    recouped: dict[str, Recouped],
    wanted: set[str],
    work: _Pass,
) -> None:
    """Approved refunds, and queued ones this run has no candidate for: the part the
    payer recouped comes off what they owe (all of it cancels them)."""
    statuses = (RefundStatus.QUEUED, RefundStatus.APPROVED)
    for row, _ in open_payer_refunds(conn, ctx, statuses=statuses):
        if row.status == RefundStatus.QUEUED and row.fingerprint in wanted:
            continue  # refreshed with its candidate
        if row.seen_as_of and row.seen_as_of > ctx.as_of:
            continue
        base = row.amount_cents + recouped_cents(row.details)
        changes = _owed_changes(row, base, recouped.get(row.fingerprint), work)
        _update(conn, ctx, row, changes, work)


def _cancel_vanished(conn: Connection, ctx: RunContext, seen: set[str]) -> int:
    """Queued refunds whose overpayment this run no longer finds are cancelled."""
    f, e = Refund, ReconException
    rows = conn.execute(
        select(f.id, f.fingerprint)
        .join(e, e.id == f.exception_id)
        .where(
            f.status == RefundStatus.QUEUED,
            e.resolved_by_run_id == ctx.run_id,
            e.status == ExceptionStatus.RESOLVED,
        )
    ).all()
    gone = [row.id for row in rows if row.fingerprint not in seen]
    return len(
        transition_many(
            conn, entity=AuditEntity.REFUND, item_ids=gone, action="auto_cancel",
            at=ctx.at, run_id=ctx.run_id, reason="overpayment no longer found",
            values={"cancel_reason": "overpayment no longer found"},
        )
    )  # fmt: skip


def _cancel_recouped(conn: Connection, ctx: RunContext, fingerprints: set[str]) -> int:
    """Never pay the same money back twice: the payer recouped all of it first."""
    f = Refund
    ids: list[int] = []
    for chunk in chunks(fingerprints):
        ids += conn.execute(select(f.id).where(f.fingerprint.in_(chunk))).scalars()
    return len(
        transition_many(
            conn, entity=AuditEntity.REFUND, item_ids=ids, action="auto_cancel",
            at=ctx.at, run_id=ctx.run_id, reason=RECOUPED,
            values={"cancel_reason": RECOUPED},
        )
    )  # fmt: skip
