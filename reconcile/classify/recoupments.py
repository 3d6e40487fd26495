"""Recoupments: read what the plan needs, and raise the ``recoupment`` and
``refund_recouped`` exceptions.

The plan itself (which recoupments the data shows) is the pure
:mod:`reconcile.classify.recoupment_plan`; the queue is brought up to date by
:mod:`reconcile.classify.recoupment_queue`. Only what can change in this run is read:

- the reversals :func:`reconcile.classify.reversals.load_reversals` paired (claims in
  scope);
- the PLB entries of the 835s paid in the window, of the 835s of those reversals, and
  of every 835 since the oldest open item that a later 835 may settle (a ``noticed``,
  ``pending`` or ``repaid`` recoupment, an issued refund) — so an 835 imported late
  still moves it;
- the recoupments those entries may move (``noticed``/``pending``, or already moved
  by one of them), and the recorded rows of this run's takes.

A recoupment that the run does not re-derive keeps its row; its open ``recoupment``
exception is re-confirmed as it stands.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, func, insert, or_, select
from sqlalchemy.orm import aliased

from reconcile.categories import (
    ExceptionKind,
    ExceptionStatus,
    Pairing,
    RecoupmentStatus,
    RefundStatus,
)
from reconcile.classify.candidates import COLUMNS
from reconcile.classify.plb import NettedReference, PlbEntry, net_entries
from reconcile.classify.plb import parse_reference as _parse
from reconcile.classify.recouped import (
    Owed,
    open_payer_refunds,
    recouped_cents,
    recouped_takes,
    settles_now,
    share_out,
)
from reconcile.classify.recoupment_plan import (
    Citation,
    Known,
    Originals,
    Plan,
    cite,
    plan_recoupments,
    reversal_fingerprint,
)
from reconcile.classify.recoupment_queue import (
    QueueCounts,
    chunks,
    lookup,
    sync_recoupments,
)
from reconcile.classify.reversals import Reversal
from reconcile.codes import REVERSAL_STATUS
from reconcile.context import RunContext
from reconcile.db.tables import (
    ExpectedClaim,
    ReconException,
    ReconMatch,
    Recoupment,
    Refund,
    X12ClaimPayment,
    X12Payment,
    X12ProviderAdjustment,
)
from reconcile.kinds import CLAIM_PRECEDENCE
from reconcile.money import format_dollars
from reconcile.settings import PlbReferenceLayout

__all__ = [
    "QueueCounts",
    "add_recoupment_candidates",
    "load_plan",
    "sync_recoupments",
]

_PLB_REASONS = ["WO", "FB", "72", "B2"]


def load_plan(conn: Connection, ctx: RunContext, reversals: Sequence[Reversal]) -> Plan:
    """Read the PLB entries and recoupments this run can change, and plan."""
    rules = {row.payer_id: row for row in conn.execute(select(ctx.payer_rule))}
    netted = net_entries(_plb_entries(conn, ctx, reversals))
    known = _known(
        conn,
        payments={n.payment_id for n in netted},
        fingerprints={reversal_fingerprint(r) for r in reversals},
    )
    citations = _citations(conn, netted, rules)
    claims = {c.claim_id for c in citations.values() if c.claim_id}
    claims |= {k.claim_id for k in known if k.claim_id and k.original_paid_on is None}
    return plan_recoupments(
        reversals=reversals,
        netted=netted,
        known=known,
        citations=citations,
        originals=_originals(conn, ctx, claims),
    )


def _plb_entries(
    conn: Connection, ctx: RunContext, reversals: Sequence[Reversal]
) -> list[PlbEntry]:
    """The netting-relevant PLB entries of the 835s this run can change."""
    plb, p, pp = X12ProviderAdjustment, X12Payment, ctx.payment_payer
    since = min(ctx.window.first, _oldest_open_item(conn) or ctx.window.first)
    columns = (
        plb.id, plb.payment_id, p.paid_on, p.trace_number, p.originator_id,
        pp.c.payer_id, plb.reason_code, plb.reference, plb.amount_cents, plb.seq,
    )  # fmt: skip

    def read(*conditions: Any) -> list[Any]:
        return list(
            conn.execute(
                select(*columns)
                .join(p, p.id == plb.payment_id)
                .outerjoin(pp, pp.c.payment_id == p.id)
                .where(
                    p.paid_on <= ctx.as_of,
                    plb.reason_code.in_(_PLB_REASONS),
                    *conditions,
                )
            )
        )

    rows = read(p.paid_on >= since)
    for chunk in chunks(r.reversal.payment_id for r in reversals):
        rows += read(p.paid_on < since, plb.payment_id.in_(chunk))
    rows.sort(key=lambda row: (row.paid_on, row.payment_id, row.seq))
    return [PlbEntry(*row[1:9]) for row in rows]


def _oldest_open_item(conn: Connection) -> dt.date | None:
    """The first day of the oldest item a later 835 may still settle."""
    r, f = Recoupment, Refund
    waiting = (RecoupmentStatus.NOTICED, RecoupmentStatus.PENDING,
               RecoupmentStatus.REPAID)  # fmt: skip
    days = [
        conn.execute(
            select(func.min(r.identified_on)).where(r.status.in_(waiting))
        ).scalar(),
        conn.execute(
            select(func.min(f.identified_on)).where(f.status == RefundStatus.ISSUED)
        ).scalar(),
    ]
    found = [d for d in days if d is not None]
    return min(found) if found else None


def _known(
    conn: Connection, *, payments: set[int], fingerprints: set[str]
) -> list[Known]:
    """Recoupments a PLB entry of these 835s may move, or a reversal re-derives."""
    r = Recoupment
    pending = aliased(X12Payment)
    columns = (
        r.fingerprint, r.reason, r.payer_id, r.claim_id, r.reference, r.status,
        r.amount_cents, r.identified_on, r.original_claim_payment_id,
        r.original_paid_on, r.pending_payment_id,
        pending.trace_number.label("pending_trace"), r.offset_payment_id,
    )  # fmt: skip
    query = select(*columns).outerjoin(pending, pending.id == r.pending_payment_id)
    conditions: list[Any] = [
        r.status.in_([RecoupmentStatus.NOTICED, RecoupmentStatus.PENDING])
    ]
    conditions += [
        or_(r.offset_payment_id.in_(chunk), r.pending_payment_id.in_(chunk))
        for chunk in chunks(payments)
    ]
    conditions += [r.fingerprint.in_(chunk) for chunk in chunks(fingerprints)]
    found: dict[str, Known] = {}
    for condition in conditions:
        for row in conn.execute(query.where(condition)):
            found.setdefault(row.fingerprint, Known(**row._mapping))
    return list(found.values())


def _citations(
    conn: Connection, netted: Sequence[NettedReference], rules: dict[str, Any]
) -> dict[str, Citation]:
    """What each PLB reference names: its keys, and the claim (CLP01, or a CLP07 →
    its CLP01) as the payer's layout reads it."""
    layouts: dict[str, PlbReferenceLayout] = {}
    for n in netted:
        if n.reference and n.reference not in layouts:
            rule = rules.get(n.payer_id or "")
            layouts[n.reference] = (
                PlbReferenceLayout(rule.layout) if rule else PlbReferenceLayout.GENERIC
            )
    parts = {ref: _parse(ref, layout) for ref, layout in layouts.items()}
    claim_ids = {c for part in parts.values() for c in part.claim_ids}
    controls = {c for part in parts.values() for c in part.control_numbers}
    known_claims: set[str] = set()
    for chunk in chunks(claim_ids):
        known_claims.update(
            conn.execute(
                select(ExpectedClaim.claim_id).where(ExpectedClaim.claim_id.in_(chunk))
            ).scalars()
        )
    claim_of_control: dict[str, str] = {}
    for chunk in chunks(controls):
        for control, claim_id in conn.execute(
            select(X12ClaimPayment.payer_control, X12ClaimPayment.claim_id)
            .where(X12ClaimPayment.payer_control.in_(chunk))
            .order_by(X12ClaimPayment.id)
        ):
            if control is not None:
                claim_of_control.setdefault(control, claim_id)
    found: dict[str, Citation] = {}
    for reference, part in parts.items():
        claim = next((c for c in part.claim_ids if c in known_claims), None)
        if claim is None:
            claim = next(
                (
                    claim_of_control[c]
                    for c in part.control_numbers
                    if c in claim_of_control
                ),
                None,
            )
        found[reference] = cite(reference, layouts[reference], claim)
    return found


def _originals(conn: Connection, ctx: RunContext, claims: set[str]) -> Originals:
    """The own payments (paid > 0, not reversals) of these claims, oldest first."""
    c, m, cp, p, pp = (
        ExpectedClaim, ReconMatch, X12ClaimPayment, X12Payment, ctx.payment_payer,
    )  # fmt: skip
    found: Originals = {}
    for chunk in chunks(claims):
        rows = conn.execute(
            select(c.claim_id, p.paid_on, cp.id)
            .join(m, (m.left_id == c.id) & (m.pairing == Pairing.CLAIM_REMIT))
            .join(cp, cp.id == m.right_id)
            .join(p, p.id == cp.payment_id)
            .join(pp, pp.c.payment_id == p.id)
            .where(
                c.claim_id.in_(chunk),
                pp.c.payer_id == c.payer_id,
                cp.paid_cents > 0,
                cp.status_code != REVERSAL_STATUS,
                p.paid_on <= ctx.as_of,
            )
        )
        for claim_id, paid_on, cp_id in rows:
            found.setdefault(claim_id, []).append((paid_on, cp_id))
    for paid in found.values():
        paid.sort()
    return found


def add_recoupment_candidates(
    conn: Connection, ctx: RunContext, *, plan: Plan, candidates: Table
) -> int:
    """``recoupment`` where no claim-level exception explains the money, and
    ``refund_recouped`` where the payer took back money already refunded."""
    claim_level = [str(k) for k in CLAIM_PRECEDENCE]
    explained = set(
        conn.execute(
            select(candidates.c.claim_id).where(candidates.c.kind.in_(claim_level))
        ).scalars()
    )
    takes = [t for t in plan.takes.values() if t.amount_cents > 0]
    claim_pks = _claim_pks(conn, {t.claim_id for t in takes if t.claim_id})
    rows = []
    for take in takes:
        if take.claim_id in explained:
            continue
        pk = claim_pks.get(take.claim_id) if take.claim_id else None
        payment = take.offset_payment_id or take.pending_payment_id
        if pk is None and payment is None:
            continue
        detail = take.detail + (
            "" if take.claim_id else "; original not identified (lump sum or unknown)"
        )
        rows.append(
            _row(
                fingerprint=take.fingerprint,
                kind=ExceptionKind.RECOUPMENT,
                claim_id=take.claim_id,
                payer_id=take.payer_id,
                subject_table="expected_claim" if pk else "x12_payment",
                subject_id=pk or payment,
                amount_cents=take.amount_cents,
                detail=detail,
                paid_on=take.offset_on or take.identified_on,
                age_from_on=take.identified_on,
            )
        )
    rows += _refund_recouped(conn, ctx, plan)
    if rows:
        conn.execute(insert(candidates), rows)
    return len(rows) + _reconfirm_unchanged(conn, ctx, plan, candidates, explained)


def _refund_recouped(conn: Connection, ctx: RunContext, plan: Plan) -> list[Any]:
    """Issued refunds whose money the payer took back after they were issued."""
    refunds = open_payer_refunds(
        conn,
        ctx,
        statuses=(RefundStatus.QUEUED, RefundStatus.APPROVED, RefundStatus.ISSUED),
    )
    issued = [(row, on) for row, on in refunds if row.status == RefundStatus.ISSUED]
    if not issued:
        return []
    claims = {row.claim_id for row, _ in issued}
    owed = [
        Owed(
            row.fingerprint, row.payer_id, row.claim_id,
            row.amount_cents + recouped_cents(row.details), row.identified_on, on,
        )
        for row, on in refunds
        if row.claim_id in claims
    ]  # fmt: skip
    covered = share_out(owed, recouped_takes(conn, ctx, plan, claims))
    rows = []
    for refund, _ in issued:
        found = covered.get(refund.fingerprint)
        if found is None:
            continue
        rows.append(
            _row(
                fingerprint=f"refund_recouped:{refund.fingerprint}",
                kind=ExceptionKind.REFUND_RECOUPED,
                claim_id=refund.claim_id,
                payer_id=refund.payer_id,
                subject_table="refund",
                subject_id=refund.id,
                amount_cents=min(refund.amount_cents, found.cents),
                detail=(
                    f"refund {refund.reference or refund.id} was issued and the payer "
                    f"also recouped {format_dollars(found.cents)} (last on "
                    f"{found.last_on})"
                ),
                paid_on=found.last_on,
                age_from_on=found.last_on,
            )
        )
    return rows


def _reconfirm_unchanged(
    conn: Connection,
    ctx: RunContext,
    plan: Plan,
    candidates: Table,
    explained: set[str],
) -> int:
    """Open ``recoupment`` exceptions of recoupments this run did not re-derive (and
    does not settle) stand as they are: their condition has not changed."""
    e, r = ReconException, Recoupment
    rows = conn.execute(
        select(
            e.id, e.claim_id.label("exception_claim"), r.fingerprint, r.reason,
            r.created_by, r.status, r.claim_id, r.pending_payment_id,
            r.offset_payment_id, r.seen_as_of,
        )
        .join(r, r.fingerprint == e.fingerprint)
        .where(
            e.kind == ExceptionKind.RECOUPMENT,
            e.status == ExceptionStatus.OPEN,
            e.seen_as_of <= ctx.as_of,
        )
    ).all()  # fmt: skip
    keep = [
        row.id
        for row in rows
        if row.fingerprint not in plan.takes
        and row.exception_claim not in explained
        and not settles_now(row, plan, ctx)
    ]
    table: Any = ReconException.__table__
    for chunk in chunks(keep):
        conn.execute(
            insert(candidates).from_select(
                list(COLUMNS),
                select(*(table.c[name] for name in COLUMNS)).where(
                    table.c.id.in_(chunk)
                ),
            )
        )
    return len(keep)


def _row(**values: Any) -> dict[str, Any]:
    row = dict.fromkeys(COLUMNS)
    row.update(values)
    row["kind"] = str(row["kind"])
    return row


def _claim_pks(conn: Connection, claim_ids: Iterable[str | None]) -> dict[str, int]:
    c = ExpectedClaim
    return lookup(conn, c.claim_id, c.id, (i for i in claim_ids if i))
