"""The refund queue, kept in step with what the run found.

One refund per claim (or patient account), payee and reason, keyed by fingerprint.
A run:

- creates a ``queued`` refund for each ``overpaid``, ``duplicate_payment``,
  ``cob_overlap`` and ``patient_overpaid`` exception it holds, with its legal due date
  (:func:`reconcile.queues.rules.refund_due`); ``identified_on`` is the payment date
  that made the overpayment visible, stored once and never moved;
- refreshes the amount and due date of refunds still ``queued``;
- cancels a queued refund whose overpayment is gone (its exception resolved by this
  run), and a queued or approved one the payer has recouped ("recouped by payer" —
  never pay the same money back twice; an issued one raises ``refund_recouped``);
- acknowledges an issued payer refund when an 835 carries the ``72``/``WO`` pair for
  its amount or reference.

Every change writes an audit event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, select, update

from reconcile.categories import (
    AuditEntity,
    ExceptionKind,
    ExceptionStatus,
    PayeeKind,
    RecoupmentStatus,
    RefundReason,
    RefundStatus,
)
from reconcile.classify.entities import create_all, mark_seen
from reconcile.classify.recoupment_plan import Plan
from reconcile.classify.recoupments import QueueCounts
from reconcile.context import RunContext
from reconcile.db.tables import ReconException, Refund
from reconcile.queues import Event, append_events, refund_action
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
    existing = {row.fingerprint: row for row in conn.execute(select(table)).all()}
    exception_ids: dict[str, int] = dict(
        conn.execute(
            select(ReconException.fingerprint, ReconException.id).where(
                ReconException.kind.in_(list(REFUND_KINDS))
            )
        ).all()
    )
    events: list[Event] = []
    updated = closed = 0
    seen: set[str] = set()
    new_rows: list[dict[str, Any]] = []
    confirmed: list[int] = []
    for want in _desired(conn, ctx, candidates, state):
        seen.add(want["fingerprint"])
        row = existing.get(want["fingerprint"])
        if row is None:
            due = refund_due(
                settings=ctx.settings, payee_kind=want["payee_kind"],
                identified_on=want["identified_on"], government=want["government"],
            )  # fmt: skip
            new_rows.append(
                {
                    "fingerprint": want["fingerprint"],
                    "reason": str(want["reason"]),
                    "status": str(RefundStatus.QUEUED),
                    "payee_kind": str(want["payee_kind"]),
                    "claim_id": want["claim_id"],
                    "payer_id": want["payer_id"],
                    "patient_account": want["patient_account"],
                    "amount_cents": want["amount_cents"],
                    "identified_on": want["identified_on"],
                    "due_on": due.due_on,
                    "due_rule": due.rule,
                    "exception_id": exception_ids.get(want["exception_fingerprint"]),
                    "details": {},
                    "first_run_id": ctx.run_id,
                    "last_seen_run_id": ctx.run_id,
                    "seen_as_of": ctx.as_of,
                    "created_at": ctx.at,
                    "updated_at": ctx.at,
                }
            )
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
            for key, value in (
                ("amount_cents", want["amount_cents"]),
                ("due_on", due.due_on),
                ("due_rule", due.rule),
            ):
                if getattr(row, key) != value:
                    changes[key] = value
        exception_id = exception_ids.get(want["exception_fingerprint"])
        if exception_id and row.exception_id != exception_id:
            changes["exception_id"] = exception_id
        if changes:
            conn.execute(
                update(f).where(f.id == row.id).values(updated_at=ctx.at, **changes)
            )
            events.append(
                Event(
                    entity=AuditEntity.REFUND, entity_id=row.id, action="update",
                    actor="run", occurred_at=ctx.at, from_status=str(row.status),
                    to_status=str(row.status), run_id=ctx.run_id,
                    details={k: str(v) for k, v in changes.items()},
                )
            )  # fmt: skip
            updated += 1
        confirmed.append(row.id)
    mark_seen(conn, table, confirmed, ctx)
    new_ids = create_all(conn, table, new_rows)
    events += [
        Event(
            entity=AuditEntity.REFUND, entity_id=new_id, action="create", actor="run",
            occurred_at=ctx.at, to_status=str(RefundStatus.QUEUED),
            reason=f"{row['reason']} found", run_id=ctx.run_id,
            details={"amount_cents": row["amount_cents"],
                     "due_on": row["due_on"].isoformat()},
        )
        for new_id, row in zip(new_ids, new_rows, strict=True)
    ]  # fmt: skip
    created = len(new_ids)
    append_events(conn, events)
    closed += _cancel_vanished(conn, ctx, existing, seen)
    closed += _cancel_recouped(conn, ctx, plan)
    closed += _acknowledge(conn, ctx, plan)
    return QueueCounts(created=created, updated=updated, closed=closed)


def _cancel_vanished(
    conn: Connection, ctx: RunContext, existing: dict[str, Any], seen: set[str]
) -> int:
    """Queued refunds whose overpayment this run no longer finds are cancelled."""
    e = ReconException
    gone = set(
        conn.execute(
            select(e.id).where(
                e.resolved_by_run_id == ctx.run_id,
                e.status == ExceptionStatus.RESOLVED,
            )
        ).scalars()
    )
    cancelled = 0
    for fingerprint, row in existing.items():
        if (
            fingerprint in seen
            or row.status != RefundStatus.QUEUED
            or row.exception_id not in gone
        ):
            continue
        refund_action(
            conn, refund_id=row.id, action="auto_cancel", actor="run", at=ctx.at,
            reason="overpayment no longer found", run_id=ctx.run_id, system=True,
        )  # fmt: skip
        cancelled += 1
    return cancelled


def _cancel_recouped(conn: Connection, ctx: RunContext, plan: Plan) -> int:
    """Never pay the same money back twice: the payer recouped it first."""
    taken = {
        (t.payer_id, t.claim_id)
        for t in plan.takes.values()
        if t.status is RecoupmentStatus.OFFSET and t.claim_id
    }
    if not taken:
        return 0
    f = Refund
    rows = conn.execute(
        select(f.id, f.payer_id, f.claim_id).where(
            f.status.in_([RefundStatus.QUEUED, RefundStatus.APPROVED]),
            f.payee_kind == PayeeKind.PAYER,
            f.claim_id.in_({claim for _, claim in taken}),
        )
    ).all()
    cancelled = 0
    for row in rows:
        if (row.payer_id, row.claim_id) not in taken:
            continue
        refund_action(
            conn, refund_id=row.id, action="auto_cancel", actor="run", at=ctx.at,
            reason="recouped by payer", run_id=ctx.run_id, system=True,
        )  # fmt: skip
        cancelled += 1
    return cancelled


def _acknowledge(conn: Connection, ctx: RunContext, plan: Plan) -> int:
    """An 835's ``72``/``WO`` pair for an issued refund's amount or reference."""
    f = Refund
    done = 0
    for ack in plan.acknowledgements:
        row = conn.execute(
            select(f.id)
            .where(
                f.status == RefundStatus.ISSUED,
                f.payee_kind == PayeeKind.PAYER,
                f.payer_id == ack.payer_id,
                (f.reference == ack.reference) | (f.amount_cents == ack.amount_cents),
            )
            .order_by(f.id)
            .limit(1)
        ).first()
        if row is None:
            continue
        refund_action(
            conn, refund_id=row.id, action="acknowledge", actor="run", at=ctx.at,
            reason=f"acknowledged by the 835 of {ack.paid_on} (PLB 72/WO)",
            run_id=ctx.run_id, system=True,
        )  # fmt: skip
        conn.execute(
            update(f)
            .where(f.id == row.id)
            .values(acknowledged_payment_id=ack.payment_id)
        )
        done += 1
    return done
