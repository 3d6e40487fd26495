"""Which recoupments the data shows: a pure plan from reversals, netted PLB entries
and the recoupments already known (no database here).

A recoupment is money a payer takes back. It is counted **once**, from what created
it, and followed through time:

1. a reversal the payer re-paid less than it took (or not at all) — taken in the
   reversal's 835, unless that 835 deferred it (``FB`` −X for the whole 835, or ``WO``
   −X referring to the claim), in which case it is ``pending`` until the ``FB`` +X that
   references that 835's TRN02, or the ``WO`` +X with the same reference;
2. a ``WO`` +X not acknowledging a refund (letter first, offset later) — it moves a
   recoupment already ``noticed`` or ``pending`` with that reference (or for that
   claim) to ``offset``, or is a new one;
3. a ``WO`` −X that refers to no reversal of its 835 — a deferred recovery, ``pending``.

A ``72`` −X in the reversal's 835 for the same amount means the practice had refunded
by check: the reversal takes nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from reconcile.categories import RecoupmentReason, RecoupmentStatus
from reconcile.classify.plb import NettedReference
from reconcile.classify.reversals import Reversal


@dataclass(frozen=True)
class Known:
    """A recoupment already in the database, as planning needs it."""

    fingerprint: str
    payer_id: str | None
    claim_id: str | None
    reference: str | None
    status: str
    offset_payment_id: int | None


@dataclass(frozen=True)
class Take:
    """The state one recoupment should have after this run."""

    fingerprint: str
    reason: RecoupmentReason
    payer_id: str | None
    claim_id: str | None
    amount_cents: int
    status: RecoupmentStatus  # pending or offset
    identified_on: dt.date
    reference: str | None = None
    original_claim_payment_id: int | None = None
    original_paid_on: dt.date | None = None
    pending_payment_id: int | None = None
    offset_payment_id: int | None = None
    offset_trace: str | None = None
    offset_on: dt.date | None = None
    detail: str = ""


@dataclass(frozen=True)
class Acknowledgement:
    """A ``WO`` +X / ``72`` −X pair: the payer acknowledges a refund it received."""

    payment_id: int
    paid_on: dt.date
    payer_id: str | None
    reference: str
    amount_cents: int


@dataclass
class Plan:
    """Everything the run should make of recoupments."""

    takes: dict[str, Take] = field(default_factory=dict)
    acknowledgements: list[Acknowledgement] = field(default_factory=list)


def reversal_fingerprint(r: Reversal) -> str:
    """Business identity of the recoupment a reversal creates."""
    rev = r.reversal
    return (
        f"recoupment:reversal:{rev.payer_id}:{rev.claim_id}:{rev.originator}:"
        f"{rev.trace}:{rev.paid_on.isoformat()}:{rev.seq}"
    )


def plb_fingerprint(n: NettedReference) -> str:
    """Business identity of a recoupment a PLB entry creates."""
    return (
        f"recoupment:plb:{n.payer_id or ''}:{n.originator}:{n.trace}:"
        f"{n.paid_on.isoformat()}:{n.reference}"
    )


def _refers_to(reference: str, r: Reversal) -> bool:
    ids = {r.reversal.claim_id}
    if r.reversal.payer_control:
        ids.add(r.reversal.payer_control)
    if r.original and r.original.payer_control:
        ids.add(r.original.payer_control)
    return any(i and i in reference for i in ids)


def plan_recoupments(
    *,
    reversals: Sequence[Reversal],
    netted: Sequence[NettedReference],
    known: Iterable[Known],
    claims_by_reference: dict[str, str],
) -> Plan:
    """Plan the recoupments (see the module docstring).

    ``claims_by_reference`` maps a PLB reference to the claim id it names, as the
    payer's reference layout and the known CLP01/CLP07 values resolved it.
    """
    plan = Plan()
    known_list = list(known)
    by_payment: dict[int, list[NettedReference]] = {}
    for n in netted:
        by_payment.setdefault(n.payment_id, []).append(n)
    carried = {n.payment_id for n in netted if n.carried_cents > 0}
    trace_of = {n.payment_id: n.trace for n in netted}
    consumed: set[tuple[int, str]] = set()  # PLB (payment, reference) already used

    # 1. Reversals.
    for r in reversals:
        amount = r.net_taken_cents
        if amount <= 0:
            continue
        rev = r.reversal
        here = by_payment.get(rev.payment_id, [])
        returned = next((n for n in here if n.refund_returned_cents == amount), None)
        if returned is not None:
            consumed.add((returned.payment_id, returned.reference))
            continue
        wo_defer = next(
            (n for n in here if n.deferred_cents > 0 and _refers_to(n.reference, r)),
            None,
        )
        take = Take(
            fingerprint=reversal_fingerprint(r),
            reason=RecoupmentReason.REVERSAL,
            payer_id=rev.payer_id,
            claim_id=rev.claim_id,
            amount_cents=amount,
            status=RecoupmentStatus.OFFSET,
            identified_on=rev.paid_on,
            reference=rev.payer_control,
            original_claim_payment_id=r.original.id if r.original else None,
            original_paid_on=r.original.paid_on if r.original else None,
            offset_payment_id=rev.payment_id,
            offset_trace=rev.trace,
            offset_on=rev.paid_on,
            detail=(
                "reversal (CLP02 22) not re-paid"
                if r.correction is None
                else "reversal re-paid for less by its correction"
            ),
        )
        if wo_defer is not None or rev.payment_id in carried:
            take = replace(
                take,
                status=RecoupmentStatus.PENDING,
                pending_payment_id=rev.payment_id,
                offset_payment_id=None,
                offset_trace=None,
                offset_on=None,
                reference=wo_defer.reference if wo_defer else rev.payer_control,
            )
            if wo_defer is not None:
                consumed.add((wo_defer.payment_id, wo_defer.reference))
        plan.takes[take.fingerprint] = take

    pending_by_ref: dict[tuple[str | None, str], str] = {}
    for take in plan.takes.values():
        if take.status is RecoupmentStatus.PENDING and take.reference:
            pending_by_ref[(take.payer_id, take.reference)] = take.fingerprint
    for k in known_list:
        if (
            k.status in (RecoupmentStatus.PENDING, RecoupmentStatus.NOTICED)
            and k.reference
        ):
            pending_by_ref.setdefault((k.payer_id, k.reference), k.fingerprint)

    # 2./3. PLB entries, oldest first.
    for n in netted:
        key = (n.payment_id, n.reference)
        if n.acknowledged_cents:
            plan.acknowledgements.append(
                Acknowledgement(
                    n.payment_id,
                    n.paid_on,
                    n.payer_id,
                    n.reference,
                    n.acknowledged_cents,
                )
            )
        if n.applied_cents:
            _apply_forward_balance(plan, n, trace_of)
        if key in consumed:
            continue
        if n.taken_cents:
            _take(plan, n, known_list, pending_by_ref, claims_by_reference)
        if n.deferred_cents:
            fingerprint = plb_fingerprint(n)
            plan.takes[fingerprint] = Take(
                fingerprint=fingerprint,
                reason=RecoupmentReason.PLB_OFFSET,
                payer_id=n.payer_id,
                claim_id=claims_by_reference.get(n.reference),
                amount_cents=n.deferred_cents,
                status=RecoupmentStatus.PENDING,
                identified_on=n.paid_on,
                reference=n.reference or None,
                pending_payment_id=n.payment_id,
                detail="recovery deferred (PLB WO -)",
            )
            if n.reference:
                pending_by_ref[(n.payer_id, n.reference)] = fingerprint
    return plan


def _apply_forward_balance(
    plan: Plan, n: NettedReference, trace_of: dict[int, str]
) -> None:
    """``FB`` +X referencing an earlier 835's TRN02: its pending takes are taken now."""
    carried_from = {
        pid for pid, trace in trace_of.items() if trace and trace in n.reference
    }
    for fingerprint, take in list(plan.takes.items()):
        if (
            take.status is RecoupmentStatus.PENDING
            and take.pending_payment_id in carried_from
        ):
            plan.takes[fingerprint] = replace(
                take,
                status=RecoupmentStatus.OFFSET,
                offset_payment_id=n.payment_id,
                offset_trace=n.trace,
                offset_on=n.paid_on,
            )


def _take(
    plan: Plan,
    n: NettedReference,
    known: list[Known],
    pending_by_ref: dict[tuple[str | None, str], str],
    claims_by_reference: dict[str, str],
) -> None:
    """A ``WO`` +X: offset a pending or noticed recoupment, or start a new one."""
    claim_id = claims_by_reference.get(n.reference)
    already = next(
        (
            k.fingerprint
            for k in known
            if k.offset_payment_id == n.payment_id
            and k.payer_id == n.payer_id
            and (k.reference == n.reference or (claim_id and k.claim_id == claim_id))
        ),
        None,
    )
    target = already or pending_by_ref.pop((n.payer_id, n.reference), None)
    if target is None and claim_id:
        target = next(
            (
                k.fingerprint
                for k in known
                if k.status == RecoupmentStatus.NOTICED
                and k.payer_id == n.payer_id
                and k.claim_id == claim_id
                and k.fingerprint not in plan.takes
            ),
            None,
        )
    offset = {
        "status": RecoupmentStatus.OFFSET,
        "offset_payment_id": n.payment_id,
        "offset_trace": n.trace,
        "offset_on": n.paid_on,
    }
    if target is not None and target in plan.takes:
        plan.takes[target] = replace(plan.takes[target], **offset)  # type: ignore[arg-type]
        return
    fingerprint = target or plb_fingerprint(n)
    plan.takes[fingerprint] = Take(
        fingerprint=fingerprint,
        reason=RecoupmentReason.PLB_OFFSET,
        payer_id=n.payer_id,
        claim_id=claim_id,
        amount_cents=n.taken_cents,
        identified_on=n.paid_on,
        reference=n.reference or None,
        detail="overpayment recovery (PLB WO +)",
        **offset,  # type: ignore[arg-type]
    )
