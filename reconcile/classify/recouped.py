"""How much of each open payer refund the payer has already taken back.

Never pay the same money back twice — but only money taken *for this overpayment*
counts. A refund is covered by the payer's recoupments of its claim (same payer and
claim, money actually taken: an offset date, and not settled by a correction) that
were taken on or after the day its overpayment was identified — and, for a refund
already issued, on or after the day it was issued. Each take is shared out once:
takes oldest first, to the claim's open refunds oldest identified first, each cent to
one refund only. A $5 recoupment in February therefore covers nothing of a $40
overpayment identified in April.

What the queues make of it (docs/queues.md): a queued or approved refund covered in
full is cancelled ("recouped by payer"); covered in part, it is reduced to the rest
(``details.recouped_cents`` says how much the payer took); an issued refund with any
cover raises ``refund_recouped`` for the covered amount.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from reconcile.categories import (
    AuditEntity,
    PayeeKind,
    RecoupmentStatus,
    RefundStatus,
)
from reconcile.classify.recoupment_plan import Plan
from reconcile.clock import local_date
from reconcile.context import RunContext
from reconcile.db.tables import Recoupment, Refund
from reconcile.queues import last_event_at

_CHUNK = 2_000


@dataclass(frozen=True)
class Taken:
    """Money a payer took back for a claim, on a day."""

    fingerprint: str
    payer_id: str | None
    claim_id: str
    amount_cents: int
    offset_on: dt.date


@dataclass(frozen=True)
class Owed:
    """An open payer refund, as sharing out needs it."""

    fingerprint: str
    payer_id: str | None
    claim_id: str
    amount_cents: int  # what the overpayment is, before any recoupment
    identified_on: dt.date
    issued_on: dt.date | None = None  # set for an issued refund

    @property
    def counts_from(self) -> dt.date:
        """The first day a recoupment can be for this refund's money."""
        return max(self.identified_on, self.issued_on or self.identified_on)


@dataclass(frozen=True)
class Recouped:
    """How much of a refund the payer took back, and when it last did."""

    cents: int
    last_on: dt.date


def share_out(owed: Iterable[Owed], takes: Iterable[Taken]) -> dict[str, Recouped]:
    """Share each take out to the refunds it can cover (see the module docstring)."""
    by_claim: dict[tuple[str | None, str], list[Taken]] = {}
    for take in takes:
        by_claim.setdefault((take.payer_id, take.claim_id), []).append(take)
    left = {t.fingerprint: t.amount_cents for ts in by_claim.values() for t in ts}
    found: dict[str, Recouped] = {}
    for refund in sorted(owed, key=lambda o: (o.identified_on, o.fingerprint)):
        need = refund.amount_cents
        got, last = 0, None
        candidates = by_claim.get((refund.payer_id, refund.claim_id), [])
        for take in sorted(candidates, key=lambda t: (t.offset_on, t.fingerprint)):
            if need <= 0:
                break
            if take.offset_on < refund.counts_from or left[take.fingerprint] <= 0:
                continue
            used = min(need, left[take.fingerprint])
            left[take.fingerprint] -= used
            need -= used
            got += used
            last = take.offset_on
        if got and last is not None:
            found[refund.fingerprint] = Recouped(got, last)
    return found


def recouped_takes(
    conn: Connection, ctx: RunContext, plan: Plan, claim_ids: Iterable[str]
) -> list[Taken]:
    """The takes of these claims as of the run: this run's plan, and what earlier
    runs recorded (less what this run settles, and what corrections gave back)."""
    claims = set(claim_ids)
    wanted = sorted(claims)
    takes = [
        Taken(t.fingerprint, t.payer_id, t.claim_id, t.amount_cents, t.offset_on)
        for t in plan.takes.values()
        if t.status is RecoupmentStatus.OFFSET
        and t.claim_id in claims
        and t.offset_on is not None
        and t.amount_cents > 0
    ]
    r = Recoupment
    rows: list[Any] = []
    for start in range(0, len(wanted), _CHUNK):
        rows += conn.execute(
            select(
                r.id, r.fingerprint, r.reason, r.status, r.created_by, r.payer_id,
                r.claim_id, r.amount_cents, r.offset_on, r.pending_payment_id,
                r.offset_payment_id, r.seen_as_of,
            ).where(
                r.claim_id.in_(wanted[start : start + _CHUNK]),
                r.offset_on.is_not(None),
                r.offset_on <= ctx.as_of,
                r.amount_cents > 0,
            )
        ).all()  # fmt: skip
    closed = [row.id for row in rows if row.status == RecoupmentStatus.CLOSED]
    settled = last_event_at(
        conn, entity=AuditEntity.RECOUPMENT, action="settle", ids=closed
    )
    for row in rows:
        if row.fingerprint in plan.takes or row.id in settled:
            continue
        if settles_now(row, plan, ctx):
            continue
        takes.append(
            Taken(
                row.fingerprint,
                row.payer_id,
                row.claim_id,
                row.amount_cents,
                row.offset_on,
            )
        )
    return takes


def settles_now(row: Any, plan: Plan, ctx: RunContext) -> bool:
    """True when this run settles the recorded recoupment ``row``: the run created
    it, the plan re-derived what created it, and the plan no longer takes it."""
    return (
        row.fingerprint not in plan.takes
        and row.created_by == "run"
        and row.status in (RecoupmentStatus.PENDING, RecoupmentStatus.OFFSET)
        and not (row.seen_as_of and row.seen_as_of > ctx.as_of)
        and plan.rederives(
            reason=str(row.reason),
            claim_id=row.claim_id,
            payments=(row.pending_payment_id, row.offset_payment_id),
        )
    )


def open_payer_refunds(
    conn: Connection, ctx: RunContext, *, statuses: Iterable[RefundStatus]
) -> list[tuple[Any, dt.date | None]]:
    """Open payer refunds with a claim (few: the queue's open work), and for issued
    ones the day they were issued (``issued_on``, from the audit log)."""
    f = Refund
    rows = conn.execute(
        select(
            f.id, f.fingerprint, f.status, f.payer_id, f.claim_id, f.amount_cents,
            f.identified_on, f.details, f.reference, f.seen_as_of, f.updated_at,
        )
        .where(
            f.status.in_([str(s) for s in statuses]),
            f.payee_kind == PayeeKind.PAYER,
            f.claim_id.is_not(None),
        )
        .order_by(f.id)
    ).all()  # fmt: skip
    issued_at = last_event_at(
        conn,
        entity=AuditEntity.REFUND,
        action="issue",
        ids=[row.id for row in rows if row.status == RefundStatus.ISSUED],
    )
    zone = ctx.settings.practice.time_zone
    found: list[tuple[Any, dt.date | None]] = []
    for row in rows:
        issued_on = None
        if row.status == RefundStatus.ISSUED:
            issued_on = local_date(issued_at.get(row.id, row.updated_at), zone)
        found.append((row, issued_on))
    return found


def recouped_cents(details: Any) -> int:
    """What an earlier run recorded as already taken back by the payer."""
    return int((details or {}).get("recouped_cents", 0))
