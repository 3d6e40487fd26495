"""Which refund or repaid recoupment each ``WO`` +X / ``72`` −X pair acknowledges.

A pair is the payer's receipt of a check the practice sent. It closes **at most one**
item — an issued payer refund or a recoupment the practice repaid — of the same payer,
issued (or repaid) on or before the 835's date (BPR16). Matching is one-to-one and
deterministic, pairs oldest first:

1. by reference: the pair cites the item's reference (the check number); among
   several such items, the one for the same amount, then the one issued first;
2. then, for the pairs left, by amount: the item issued first.

Ties go to refunds before recoupments, then the lower id. A pair that an earlier run
used (recorded on the item it closed: ``acknowledged_payment_id`` and
``details.acknowledged_reference``) is never used again.

:func:`close_acknowledged` applies the matches to one queue: an issued refund becomes
``acknowledged``, a repaid recoupment ``closed``, each with its audit event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from reconcile.categories import (
    AuditEntity,
    PayeeKind,
    RecoupmentStatus,
    RefundStatus,
)
from reconcile.classify.recoupment_plan import (
    AckMatch,
    Acknowledgement,
    Plan,
    tokens,
)
from reconcile.clock import local_date
from reconcile.context import RunContext
from reconcile.db.tables import Recoupment, Refund
from reconcile.queues import last_event_at, transition_many

REFUND = "refund"
RECOUPMENT = "recoupment"
_CHUNK = 1_000


@dataclass(frozen=True)
class _Queue:
    """How an acknowledgement closes an item of one queue."""

    table: Any
    audit: AuditEntity
    reason: str  # formatted with the 835's date
    #: Refunds keep the acknowledging 835 in a column; recoupments in ``details``.
    payment_column: bool


_QUEUES = {
    REFUND: _Queue(
        Refund, AuditEntity.REFUND,
        "acknowledged by the 835 of {paid_on} (PLB 72/WO)", payment_column=True,
    ),
    RECOUPMENT: _Queue(
        Recoupment, AuditEntity.RECOUPMENT,
        "835 of {paid_on} acknowledged the repayment (PLB WO/72)",
        payment_column=False,
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Awaiting:
    """An item waiting for the payer's acknowledgement."""

    entity: str  # REFUND before RECOUPMENT in ties
    item_id: int
    payer_id: str | None
    reference: str | None
    amount_cents: int
    since: dt.date  # issued (refund) or repaid (recoupment) on


def match(
    acks: Iterable[Acknowledgement],
    awaiting: Iterable[Awaiting],
    used: set[tuple[int, str]],
) -> list[AckMatch]:
    """Match acknowledgements to items (see the module docstring)."""
    free = sorted(
        (a for a in acks if (a.payment_id, a.reference) not in used),
        key=lambda a: (a.paid_on, a.payment_id, a.reference),
    )
    items = list(awaiting)
    taken: set[tuple[str, int]] = set()
    found: list[AckMatch] = []

    def eligible(a: Acknowledgement) -> list[Awaiting]:
        return [
            i
            for i in items
            if (i.entity, i.item_id) not in taken
            and a.payer_id is not None
            and i.payer_id == a.payer_id
            and i.since <= a.paid_on
        ]

    left = []
    for a in free:
        cited = tokens(a.reference)
        by_reference = [i for i in eligible(a) if i.reference and i.reference in cited]
        if not by_reference:
            left.append(a)
            continue
        best = min(
            by_reference,
            key=lambda i: (
                i.amount_cents != a.amount_cents,
                i.since,
                i.entity,
                i.item_id,
            ),
        )
        taken.add((best.entity, best.item_id))
        found.append(AckMatch(a, best.entity, best.item_id, "reference"))
    for a in left:
        by_amount = [i for i in eligible(a) if i.amount_cents == a.amount_cents]
        if by_amount:
            best = min(by_amount, key=lambda i: (i.since, i.entity, i.item_id))
            taken.add((best.entity, best.item_id))
            found.append(AckMatch(a, best.entity, best.item_id, "amount"))
    return found


def acknowledgement_matches(
    conn: Connection, ctx: RunContext, plan: Plan
) -> list[AckMatch]:
    """This run's matches, computed once and kept on the plan for both queues."""
    if plan.matches is None:
        acks = plan.acknowledgements
        payers = sorted({a.payer_id for a in acks if a.payer_id})
        awaiting = _awaiting(conn, ctx, payers) if payers else []
        used = _used(conn, acks) if acks else set()
        plan.matches = match(acks, awaiting, used)
    return plan.matches


def close_acknowledged(
    conn: Connection, ctx: RunContext, plan: Plan, *, entity: str
) -> int:
    """Close the items of one queue (``REFUND`` or ``RECOUPMENT``) that this run's
    ``WO``/``72`` pairs acknowledge; return how many moved.

    Each records the pair it used (the 835 and the reference), so that no later run
    uses it again. The matches are few (one per pair in the run's 835s).
    """
    queue = _QUEUES[entity]
    table = queue.table
    done = 0
    for found in acknowledgement_matches(conn, ctx, plan):
        if found.entity != entity:
            continue
        ack = found.ack
        payment: dict[str, Any] = {"acknowledged_payment_id": ack.payment_id}
        event: dict[str, Any] = {"reference": ack.reference, "matched_by": found.by}
        if not queue.payment_column:
            event = {"payment_id": ack.payment_id, **event}
        moved = transition_many(
            conn, entity=queue.audit, item_ids=[found.item_id], action="acknowledge",
            at=ctx.at, run_id=ctx.run_id,
            reason=queue.reason.format(paid_on=ack.paid_on),
            values=payment if queue.payment_column else None, details=event,
        )  # fmt: skip
        if not moved:
            continue
        details = conn.execute(
            select(table.details).where(table.id == found.item_id)
        ).scalar()
        recorded: dict[str, Any] = {"acknowledged_reference": ack.reference}
        if not queue.payment_column:
            recorded = {**payment, **recorded}
        conn.execute(
            update(table)
            .where(table.id == found.item_id)
            .values(details={**(details or {}), **recorded})
        )
        done += 1
    return done


def _awaiting(
    conn: Connection, ctx: RunContext, payers: Sequence[str]
) -> list[Awaiting]:
    """Issued payer refunds and repaid recoupments of these payers (open items)."""
    f, r = Refund, Recoupment
    refunds = conn.execute(
        select(f.id, f.payer_id, f.reference, f.amount_cents, f.updated_at).where(
            f.status == RefundStatus.ISSUED,
            f.payee_kind == PayeeKind.PAYER,
            f.payer_id.in_(payers),
        )
    ).all()
    repaid = conn.execute(
        select(r.id, r.payer_id, r.reference, r.amount_cents, r.updated_at).where(
            r.status == RecoupmentStatus.REPAID, r.payer_id.in_(payers)
        )
    ).all()
    zone = ctx.settings.practice.time_zone
    found: list[Awaiting] = []
    for entity, audit, action, rows in (
        (REFUND, AuditEntity.REFUND, "issue", refunds),
        (RECOUPMENT, AuditEntity.RECOUPMENT, "repay", repaid),
    ):
        at = last_event_at(conn, entity=audit, action=action, ids=[x.id for x in rows])
        found += [
            Awaiting(
                entity, x.id, x.payer_id, x.reference, x.amount_cents,
                local_date(at.get(x.id, x.updated_at), zone),
            )
            for x in rows
        ]  # fmt: skip
    return found


def _used(conn: Connection, acks: Sequence[Acknowledgement]) -> set[tuple[int, str]]:
    """The pairs of these 835s that earlier runs already used."""
    f, r = Refund, Recoupment
    payments = sorted({a.payment_id for a in acks})
    rows: list[Any] = []
    for start in range(0, len(payments), _CHUNK):
        chunk = payments[start : start + _CHUNK]
        rows += conn.execute(
            select(
                f.acknowledged_payment_id, f.details, f.reference, f.amount_cents
            ).where(
                f.status == RefundStatus.ACKNOWLEDGED,
                f.acknowledged_payment_id.in_(chunk),
            )
        ).all()
        rows += conn.execute(
            select(
                r.details["acknowledged_payment_id"].as_integer(),
                r.details,
                r.reference,
                r.amount_cents,
            ).where(
                r.status == RecoupmentStatus.CLOSED,
                r.details["acknowledged_payment_id"].as_integer().in_(chunk),
            )
        ).all()
    used: set[tuple[int, str]] = set()
    for payment_id, details, reference, amount in rows:
        recorded = (details or {}).get("acknowledged_reference")
        if recorded is not None:
            used.add((payment_id, recorded))
            continue
        # Recorded before the reference was kept: the pair its rule would have used.
        here = [a for a in acks if a.payment_id == payment_id]
        pick = next((a for a in here if a.reference == reference), None) or next(
            (a for a in here if a.amount_cents == amount), None
        )
        if pick is not None:
            used.add((payment_id, pick.reference))
    return used
