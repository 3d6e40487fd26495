"""Recoupments: load what the plan needs, raise the ``recoupment`` and
``refund_recouped`` exceptions, and bring the recoupment queue up to date.

The plan itself (which recoupments the data shows) is the pure
:mod:`reconcile.classify.recoupment_plan`; PLB entries, reversals and recoupments are
small sets, so they are read into Python. Each change to a recoupment writes an audit
event; the run only moves a recoupment forward (noticed → pending → offset), and
closes one a correction made whole ("settle"). A person's statuses (disputed,
accepted, repaid, closed) are never moved by a run, except repaid → closed when the
payer's 835 acknowledges the check (``WO``/``72``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, insert, select, update

from reconcile.categories import (
    AuditEntity,
    ExceptionKind,
    PayeeKind,
    RecoupmentStatus,
    RefundStatus,
)
from reconcile.classify.candidates import COLUMNS
from reconcile.classify.entities import create_all, mark_seen
from reconcile.classify.plb import PlbEntry, net_entries, parse_reference
from reconcile.classify.recoupment_plan import Known, Plan, Take, plan_recoupments
from reconcile.classify.reversals import Reversal
from reconcile.context import RunContext
from reconcile.db.tables import (
    ExpectedClaim,
    ReconException,
    Recoupment,
    Refund,
    X12ClaimPayment,
    X12Payment,
    X12ProviderAdjustment,
)
from reconcile.kinds import CLAIM_PRECEDENCE
from reconcile.queues import Event, append_events, recoupment_action
from reconcile.queues.rules import lookback_verdict, recoupment_deadline
from reconcile.settings import PayerKind, PlbReferenceLayout

ORDER = {
    RecoupmentStatus.NOTICED: 0,
    RecoupmentStatus.PENDING: 1,
    RecoupmentStatus.OFFSET: 2,
}


def _payer_rules(conn: Connection, ctx: RunContext) -> dict[str, Any]:
    return {row.payer_id: row for row in conn.execute(select(ctx.payer_rule))}


def load_plan(conn: Connection, ctx: RunContext, reversals: Sequence[Reversal]) -> Plan:
    """Read PLB entries and known recoupments, resolve references, and plan."""
    plb, p, pp = X12ProviderAdjustment, X12Payment, ctx.payment_payer
    rows = conn.execute(
        select(
            plb.payment_id,
            p.paid_on,
            p.trace_number,
            p.originator_id,
            pp.c.payer_id,
            plb.reason_code,
            plb.reference,
            plb.amount_cents,
        )
        .join(p, p.id == plb.payment_id)
        .outerjoin(pp, pp.c.payment_id == p.id)
        .where(
            p.paid_on <= ctx.as_of,
            plb.reason_code.in_(["WO", "FB", "72", "B2"]),
        )
        .order_by(p.paid_on, p.id, plb.seq)
    ).all()
    entries = [PlbEntry(*row) for row in rows]
    netted = net_entries(entries)
    r = Recoupment
    known = [
        Known(*row)
        for row in conn.execute(
            select(
                r.fingerprint,
                r.payer_id,
                r.claim_id,
                r.reference,
                r.status,
                r.offset_payment_id,
            )
        )
    ]
    rules = _payer_rules(conn, ctx)
    return plan_recoupments(
        reversals=reversals,
        netted=netted,
        known=known,
        claims_by_reference=_resolve_references(conn, netted, rules),
    )


def _resolve_references(
    conn: Connection, netted: Sequence[Any], rules: dict[str, Any]
) -> dict[str, str]:
    """Map each PLB reference to the claim it names (CLP01, or a CLP07 → its CLP01)."""
    parts = {}
    for n in netted:
        if not n.reference or n.reference in parts:
            continue
        rule = rules.get(n.payer_id)
        layout = PlbReferenceLayout(rule.layout) if rule else PlbReferenceLayout.GENERIC
        parts[n.reference] = parse_reference(n.reference, layout)
    claim_ids = {c for part in parts.values() for c in part.claim_ids}
    controls = {c for part in parts.values() for c in part.control_numbers}
    known_claims: set[str] = set()
    for chunk in _chunks(sorted(claim_ids)):
        known_claims.update(
            conn.execute(
                select(ExpectedClaim.claim_id).where(ExpectedClaim.claim_id.in_(chunk))
            ).scalars()
        )
    claim_of_control: dict[str, str] = {}
    for chunk in _chunks(sorted(controls)):
        for control, claim_id in conn.execute(
            select(X12ClaimPayment.payer_control, X12ClaimPayment.claim_id).where(
                X12ClaimPayment.payer_control.in_(chunk)
            )
        ):
            if control is not None:
                claim_of_control.setdefault(control, claim_id)
    resolved: dict[str, str] = {}
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
        if claim is not None:
            resolved[reference] = claim
    return resolved


def _chunks(values: list[str], size: int = 2_000) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def add_recoupment_candidates(
    conn: Connection, ctx: RunContext, *, plan: Plan, candidates: Table
) -> int:
    """``recoupment`` where no claim-level exception explains the money, and
    ``refund_recouped`` where the payer took back money already refunded."""
    takes = [t for t in plan.takes.values() if t.amount_cents > 0]
    if not takes:
        return 0
    claim_level = [str(k) for k in CLAIM_PRECEDENCE]
    explained = set(
        conn.execute(
            select(candidates.c.claim_id).where(candidates.c.kind.in_(claim_level))
        ).scalars()
    )
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
    offsets = [t for t in takes if t.status is RecoupmentStatus.OFFSET and t.claim_id]
    if offsets:
        f = Refund
        issued = conn.execute(
            select(
                f.id, f.fingerprint, f.claim_id, f.payer_id, f.amount_cents, f.reference
            ).where(
                f.status == RefundStatus.ISSUED,
                f.payee_kind == PayeeKind.PAYER,
                f.claim_id.in_({t.claim_id for t in offsets}),
            )
        ).all()
        for refund in issued:
            recouped = next(
                (
                    t
                    for t in offsets
                    if t.claim_id == refund.claim_id and t.payer_id == refund.payer_id
                ),
                None,
            )
            if recouped is None:
                continue
            rows.append(
                _row(
                    fingerprint=f"refund_recouped:{refund.fingerprint}",
                    kind=ExceptionKind.REFUND_RECOUPED,
                    claim_id=refund.claim_id,
                    payer_id=refund.payer_id,
                    subject_table="refund",
                    subject_id=refund.id,
                    amount_cents=min(refund.amount_cents, recouped.amount_cents),
                    detail=(
                        f"refund {refund.reference or refund.id} was issued and the "
                        f"payer also recouped on {recouped.offset_on}"
                    ),
                    paid_on=recouped.offset_on,
                    age_from_on=recouped.offset_on,
                )
            )
    if rows:
        conn.execute(insert(candidates), rows)
    return len(rows)


def _row(**values: Any) -> dict[str, Any]:
    row = dict.fromkeys(COLUMNS)
    row.update(values)
    row["kind"] = str(row["kind"])
    return row


def _claim_pks(conn: Connection, claim_ids: set[str | None]) -> dict[str, int]:
    ids = sorted(c for c in claim_ids if c)
    found: dict[str, int] = {}
    for chunk in _chunks(ids):
        found.update(
            conn.execute(
                select(ExpectedClaim.claim_id, ExpectedClaim.id).where(
                    ExpectedClaim.claim_id.in_(chunk)
                )
            ).all()
        )
    return found


@dataclass(frozen=True)
class QueueCounts:
    """What the run changed in a queue."""

    created: int
    updated: int
    closed: int


def sync_recoupments(conn: Connection, ctx: RunContext, plan: Plan) -> QueueCounts:
    """Create, move forward, update and settle recoupments to match the plan."""
    r = Recoupment
    table: Any = r.__table__
    existing = {row.fingerprint: row for row in conn.execute(select(table)).all()}
    rules = _payer_rules(conn, ctx)
    exception_ids = _exception_ids(conn, list(plan.takes))
    events: list[Event] = []
    updated = closed = 0
    new_rows: list[dict[str, Any]] = []
    new_takes: list[Take] = []
    confirmed: list[int] = []
    for take in plan.takes.values():
        rule = rules.get(take.payer_id or "")
        derived = _derived(ctx, take, rule, existing.get(take.fingerprint))
        row = existing.get(take.fingerprint)
        if row is None:
            new_rows.append(
                {
                    "fingerprint": take.fingerprint,
                    "reason": str(take.reason),
                    "status": str(take.status),
                    "payer_id": take.payer_id,
                    "claim_id": take.claim_id,
                    "created_by": "run",
                    "identified_on": take.identified_on,
                    "original_identified": take.claim_id is not None,
                    "first_run_id": ctx.run_id,
                    "last_seen_run_id": ctx.run_id,
                    "seen_as_of": ctx.as_of,
                    "created_at": ctx.at,
                    "updated_at": ctx.at,
                    "exception_id": exception_ids.get(take.fingerprint),
                    "details": {},
                    **_content(take),
                    **derived,
                }
            )
            new_takes.append(take)
            continue
        if row.seen_as_of and row.seen_as_of > ctx.as_of:
            continue  # a run with a later as-of date already saw it
        changes = {
            k: v
            for k, v in {**_content(take), **derived}.items()
            if getattr(row, k) != v and not (row.status not in ORDER and k in _MOVES)
        }
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
    created = len(new_ids)
    closed += _settle_vanished(conn, ctx, plan, existing)
    closed += _acknowledge_repaid(conn, ctx, plan)
    append_events(conn, events)
    return QueueCounts(created=created, updated=updated, closed=closed)


#: Fields that record where the money moved; a person's status keeps them as they are.
_MOVES = {"offset_payment_id", "offset_trace", "offset_on", "pending_payment_id"}


def _content(take: Take) -> dict[str, Any]:
    return {
        "amount_cents": take.amount_cents,
        "reference": take.reference,
        "original_claim_payment_id": take.original_claim_payment_id,
        "original_paid_on": take.original_paid_on,
        "pending_payment_id": take.pending_payment_id,
        "offset_payment_id": take.offset_payment_id,
        "offset_trace": take.offset_trace,
        "offset_on": take.offset_on,
    }


def _derived(ctx: RunContext, take: Take, rule: Any, row: Any) -> dict[str, Any]:
    """Response deadline and look-back verdict (a pure function of dates and rules)."""
    kind = PayerKind(rule.kind) if rule else PayerKind.COMMERCIAL
    notice_on = row.notice_on if row is not None else None
    start = notice_on or take.identified_on
    deadline = recoupment_deadline(
        settings=ctx.settings,
        kind=kind,
        response_days=rule.response_days
        if rule
        else ctx.settings.recoupments.response_days,
        start=start,
    )
    state = (rule.state if rule else "") or ctx.settings.practice.state
    verdict = lookback_verdict(
        state=state,
        rule=ctx.settings.recoupments.state_rules.get(state),
        kind=kind,
        exempt=bool(rule.exempt) if rule else False,
        original_paid_on=take.original_paid_on,
        notice_on=notice_on,
        offset_on=take.offset_on,
    )
    return {
        "response_due_on": deadline.respond_by,
        "lookback_status": verdict.status,
        "lookback_note": verdict.note,
    }


def _exception_ids(conn: Connection, fingerprints: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(fingerprints)):
        found.update(
            conn.execute(
                select(ReconException.fingerprint, ReconException.id).where(
                    ReconException.fingerprint.in_(chunk)
                )
            ).all()
        )
    return found


def _settle_vanished(
    conn: Connection, ctx: RunContext, plan: Plan, existing: dict[str, Any]
) -> int:
    """Close recoupments the run created whose money came back (e.g. a correction)."""
    settled = 0
    for fingerprint, row in existing.items():
        if (
            fingerprint in plan.takes
            or row.created_by != "run"
            or row.status not in ORDER
            or (row.seen_as_of and row.seen_as_of > ctx.as_of)
        ):
            continue
        recoupment_action(
            conn, recoupment_id=row.id, action="settle", actor="run", at=ctx.at,
            reason="no longer taken: re-paid by a correction or withdrawn by the payer",
            run_id=ctx.run_id, system=True,
        )  # fmt: skip
        settled += 1
    return settled


def _acknowledge_repaid(conn: Connection, ctx: RunContext, plan: Plan) -> int:
    """A ``WO``/``72`` pair acknowledges the check of a repaid recoupment."""
    closed = 0
    r = Recoupment
    for ack in plan.acknowledgements:
        row = conn.execute(
            select(r.id)
            .where(
                r.status == RecoupmentStatus.REPAID,
                r.payer_id == ack.payer_id,
                (r.reference == ack.reference) | (r.amount_cents == ack.amount_cents),
            )
            .order_by(r.id)
            .limit(1)
        ).first()
        if row is None:
            continue
        recoupment_action(
            conn, recoupment_id=row.id, action="acknowledge", actor="run", at=ctx.at,
            reason=f"835 of {ack.paid_on} acknowledged the repayment (PLB WO/72)",
            run_id=ctx.run_id, system=True,
        )  # fmt: skip
        closed += 1
    return closed
