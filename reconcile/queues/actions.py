"""Apply a workflow action to one refund, recoupment or exception (or one run action
to many refunds or recoupments), with its audit events, inside the caller's
transaction. Refused actions change nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select, update

from reconcile.categories import AuditEntity, Decision, ExceptionStatus, PayeeKind
from reconcile.db.tables import ReconException, Recoupment, Refund
from reconcile.errors import ReconcileError
from reconcile.queues.audit import Event, append_events
from reconcile.queues.rules import refund_due
from reconcile.queues.workflow import (
    RECOUPMENT,
    REFUND,
    SUSPENDABLE_REFUND,
    Transition,
    TransitionRefused,
    exception_refusal,
    refusal,
)
from reconcile.settings import Settings

_CHUNK = 1_000


class UnknownItemError(ReconcileError):
    """An id that names no refund, recoupment or exception."""


def _locked_row(conn: Connection, table: Any, item_id: int, noun: str) -> Any:
    row = conn.execute(
        select(table).where(table.id == item_id).with_for_update()
    ).first()
    if row is None:
        raise UnknownItemError(f"there is no {noun} {item_id}")
    return row


def _transition(
    conn: Connection,
    *,
    table: Any,
    machine: dict[str, Transition],
    noun: str,
    entity: AuditEntity,
    item_id: int,
    action: str,
    actor: str,
    at: dt.datetime,
    reason: str | None,
    values: dict[str, Any],
    run_id: int | None,
    system: bool,
) -> str:
    row = _locked_row(conn, table, item_id, noun)
    status = str(row.status)
    transition = machine.get(action)
    if system:
        if transition is None or status not in transition.sources:
            raise TransitionRefused(f"{noun} {item_id} is {status}; cannot {action}")
    else:
        why = refusal(machine, noun=noun, item_id=item_id, action=action, status=status)
        if why:
            raise TransitionRefused(why)
    assert transition is not None
    conn.execute(
        update(table)
        .where(table.id == item_id)
        .values(status=transition.target, updated_at=at, **values)
    )
    details = {k: v for k, v in values.items() if v is not None}
    append_events(
        conn,
        [
            Event(
                entity=entity, entity_id=item_id, action=action, actor=actor,
                occurred_at=at, from_status=status, to_status=transition.target,
                reason=reason, details=details, run_id=run_id,
            )
        ],
    )  # fmt: skip
    return transition.target


def transition_many(
    conn: Connection,
    *,
    entity: AuditEntity,
    item_ids: Sequence[int],
    action: str,
    at: dt.datetime,
    reason: str,
    run_id: int | None,
    values: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> list[int]:
    """Apply one of the run's actions to many refunds or recoupments at once.

    Set-based: per chunk of ids one locking read of those whose status allows the
    action, one UPDATE, and one audit event each (all appended together). Items whose
    status does not allow it are left as they are. Returns the ids moved.
    """
    if entity is AuditEntity.REFUND:
        table: Any = Refund
        machine = REFUND
    else:
        table, machine = Recoupment, RECOUPMENT
    transition = machine[action]
    wanted = sorted(set(item_ids))
    events: list[Event] = []
    moved: list[int] = []
    for start in range(0, len(wanted), _CHUNK):
        rows = conn.execute(
            select(table.id, table.status)
            .where(
                table.id.in_(wanted[start : start + _CHUNK]),
                table.status.in_(sorted(transition.sources)),
            )
            .order_by(table.id)
            .with_for_update()
        ).all()
        if not rows:
            continue
        ids = [row.id for row in rows]
        conn.execute(
            update(table)
            .where(table.id.in_(ids))
            .values(status=transition.target, updated_at=at, **(values or {}))
        )
        moved += ids
        events += [
            Event(
                entity=entity, entity_id=row.id, action=action, actor="run",
                occurred_at=at, from_status=str(row.status),
                to_status=transition.target, reason=reason,
                details={**{k: v for k, v in (values or {}).items() if v is not None},
                         **(details or {})},
                run_id=run_id,
            )
            for row in rows
        ]  # fmt: skip
    append_events(conn, events)
    return moved


def refund_action(
    conn: Connection,
    *,
    refund_id: int,
    action: str,
    actor: str,
    at: dt.datetime,
    reason: str | None = None,
    reference: str | None = None,
    run_id: int | None = None,
    system: bool = False,
) -> str:
    """Move a refund through its workflow; return its new status.

    Raises:
        UnknownItemError: no such refund.
        TransitionRefused: the refund's status does not allow ``action``, or a
            required reference or reason is missing.
    """
    values: dict[str, Any] = {}
    if action == "issue":
        if not reference:
            raise TransitionRefused("issuing a refund needs --reference (check or EFT)")
        values["reference"] = reference
    if action in ("cancel", "auto_cancel"):
        if not reason:
            raise TransitionRefused("cancelling a refund needs a --reason")
        values["cancel_reason"] = reason
    return _transition(
        conn, table=Refund, machine=REFUND, noun="refund", entity=AuditEntity.REFUND,
        item_id=refund_id, action=action, actor=actor, at=at, reason=reason,
        values=values, run_id=run_id, system=system,
    )  # fmt: skip


def suspend_refund(
    conn: Connection,
    *,
    refund_id: int,
    until: dt.date,
    reason: str,
    actor: str,
    at: dt.datetime,
    settings: Settings,
) -> dt.date:
    """Record an investigation suspension of a Medicare/Medicaid refund's 60 days.

    The clock stops while the overpayment is investigated in good faith, for at most
    ``[refunds] max_suspension_days`` (180) from identification; the refund is then
    due 60 days after the suspension ends. Returns the new due date.

    Raises:
        UnknownItemError: no such refund.
        TransitionRefused: not a queued or approved Medicare/Medicaid refund, the date
            is before identification or beyond the limit, or no reason was given.
    """
    row = _locked_row(conn, Refund, refund_id, "refund")
    status = str(row.status)
    if status not in SUSPENDABLE_REFUND:
        raise TransitionRefused(
            f"refund {refund_id} is {status}; only a queued or approved refund "
            "can be suspended"
        )
    if not str(row.due_rule).startswith("medicare_medicaid"):
        raise TransitionRefused(
            f"refund {refund_id} is not a Medicare or Medicaid overpayment; only those "
            "have a 60-day clock to suspend"
        )
    if not reason:
        raise TransitionRefused("a suspension needs a --reason")
    max_days = settings.refunds.max_suspension_days
    limit = row.identified_on + dt.timedelta(days=max_days)
    if not row.identified_on <= until <= limit:
        raise TransitionRefused(
            f"a suspension of refund {refund_id} must end between {row.identified_on} "
            f"and {limit} ({max_days} days after it was identified)"
        )
    due = refund_due(
        settings=settings, payee_kind=PayeeKind(row.payee_kind),
        identified_on=row.identified_on, government=True, suspended_until=until,
    )  # fmt: skip
    conn.execute(
        update(Refund)
        .where(Refund.id == refund_id)
        .values(
            suspended_until=until,
            suspension_reason=reason,
            due_on=due.due_on,
            due_rule=due.rule,
            updated_at=at,
        )
    )
    append_events(
        conn,
        [
            Event(
                entity=AuditEntity.REFUND, entity_id=refund_id, action="suspend",
                actor=actor, occurred_at=at, from_status=status, to_status=status,
                reason=reason,
                details={"suspended_until": until.isoformat(),
                         "due_on": due.due_on.isoformat()},
            )
        ],
    )  # fmt: skip
    return due.due_on


def recoupment_action(
    conn: Connection,
    *,
    recoupment_id: int,
    action: str,
    actor: str,
    at: dt.datetime,
    reason: str | None = None,
    reference: str | None = None,
    run_id: int | None = None,
    system: bool = False,
) -> str:
    """Move a recoupment through its workflow; return its new status.

    Raises:
        UnknownItemError: no such recoupment.
        TransitionRefused: the status does not allow ``action``, or a required
            reason or reference is missing.
    """
    values: dict[str, Any] = {}
    if action == "dispute" and not reason:
        raise TransitionRefused("disputing a recoupment needs a --reason")
    if action == "repay":
        if not reference:
            raise TransitionRefused("a repayment needs --reference (check number)")
        values["reference"] = reference
    return _transition(
        conn, table=Recoupment, machine=RECOUPMENT, noun="recoupment",
        entity=AuditEntity.RECOUPMENT, item_id=recoupment_id, action=action,
        actor=actor, at=at, reason=reason, values=values, run_id=run_id, system=system,
    )  # fmt: skip


def decide_exception(
    conn: Connection,
    *,
    exception_id: int,
    decision: str,
    note: str | None,
    actor: str,
    at: dt.datetime,
) -> None:
    """Record a person's decision on an open exception (it becomes resolved).

    Raises:
        UnknownItemError: no such exception.
        TransitionRefused: not an open exception, or not a known decision.
    """
    row = _locked_row(conn, ReconException, exception_id, "exception")
    why = exception_refusal(
        item_id=exception_id, status=str(row.status), decision=decision
    )
    if why:
        raise TransitionRefused(why)
    conn.execute(
        update(ReconException)
        .where(ReconException.id == exception_id)
        .values(
            status=ExceptionStatus.RESOLVED,
            decision=Decision(decision),
            decision_note=note,
            decided_by=actor,
            decided_at=at,
            decided_amount_cents=row.amount_cents,
        )
    )
    append_events(
        conn,
        [
            Event(
                entity=AuditEntity.EXCEPTION, entity_id=exception_id,
                action=f"decide:{decision}", actor=actor, occurred_at=at,
                from_status=str(row.status), to_status=ExceptionStatus.RESOLVED,
                reason=note, details={"amount_cents": row.amount_cents},
            )
        ],
    )  # fmt: skip
