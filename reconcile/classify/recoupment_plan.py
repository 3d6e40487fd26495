"""Which recoupments the data shows: a pure plan from reversals, netted PLB entries
and the recoupments already known (no database here).

A recoupment is money a payer takes back. It is counted **once**, from what created
it, and followed through time:

1. a reversal the payer re-paid less than it took (or not at all) — taken in the
   reversal's 835, unless that 835 deferred it (``FB`` −X for the whole 835, or ``WO``
   −X referring to the claim), in which case it is ``pending`` until the ``FB`` +X that
   references that 835's TRN02, or the ``WO`` +X with the same reference;
2. a ``WO`` +X not acknowledging a refund (letter first, offset later) — it moves a
   recoupment already ``noticed`` or ``pending`` that its reference cites (the whole
   reference, or a control number the payer's layout places in it, such as
   Medicare's FCN in positions 1–19) to ``offset``; failing that, a ``noticed`` one for
   the claim the reference names; otherwise it is a new one;
3. a ``WO`` −X that refers to no reversal of its 835 — a deferred recovery, ``pending``.

A ``72`` −X in the reversal's 835 for the same amount means the practice had refunded
by check: the reversal takes nothing new.

The plan covers what can change in this run: the reversals of the claims it was
given and the PLB entries of the 835s it was given. Anything else it needs is in
``known`` (the recoupments already recorded): a later ``WO`` +X or ``FB`` +X moves a
known ``pending`` or ``noticed`` recoupment even when what created it is out of the
run's scope. Every take carries the original claim payment — from the reversal, from
the known recoupment, or else the claim's latest payment on or before the offset —
so the state look-back can be judged on the offset.

A notice linked only by its claim keeps its own amount and reference (the letter's);
with a layout that places the FCN explicitly (Medicare), a notice whose reference is
a different FCN is a different demand and is not linked by claim.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from reconcile.categories import RecoupmentReason, RecoupmentStatus
from reconcile.classify.plb import NettedReference, parse_reference
from reconcile.classify.reversals import Reversal
from reconcile.money import format_dollars
from reconcile.settings import PlbReferenceLayout

_OPEN_TARGETS = (RecoupmentStatus.NOTICED, RecoupmentStatus.PENDING)


@dataclass(frozen=True)
class Known:
    """A recoupment already in the database, as planning needs it."""

    fingerprint: str
    reason: str
    payer_id: str | None
    claim_id: str | None
    reference: str | None
    status: str
    amount_cents: int
    identified_on: dt.date
    original_claim_payment_id: int | None
    original_paid_on: dt.date | None
    pending_payment_id: int | None
    pending_trace: str | None  # TRN02 of the 835 that deferred it
    offset_payment_id: int | None


@dataclass(frozen=True)
class Citation:
    """What one PLB reference names."""

    keys: tuple[str, ...]  # the whole reference, then the control numbers in it
    claim_id: str | None  # the claim it names, if known
    explicit: bool = False  # the layout places the FCN at fixed positions


@dataclass(frozen=True)
class Take:
    """The state one recoupment should have after this run.

    ``None`` in a link field (reference, original, pending or offset 835) means "not
    known from this run": it never erases what the recoupment already records.
    """

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


@dataclass(frozen=True)
class AckMatch:
    """An acknowledgement used for one refund or one repaid recoupment."""

    ack: Acknowledgement
    entity: str  # "refund" or "recoupment"
    item_id: int
    by: str  # "reference" or "amount"


@dataclass
class Plan:
    """Everything the run should make of recoupments, and what it re-derived."""

    takes: dict[str, Take] = field(default_factory=dict)
    acknowledgements: list[Acknowledgement] = field(default_factory=list)
    #: Claims whose reversals the plan re-derived (their other reversal takes are gone).
    claims: frozenset[str] = frozenset()
    #: 835 payments whose PLB entries the plan re-derived.
    payments: frozenset[int] = frozenset()
    #: The acknowledgements matched to refunds and repaid recoupments, once per run
    #: (both queues compete for the same pairs); see ``classify.acknowledgements``.
    matches: list[AckMatch] | None = None

    def rederives(
        self, *, reason: str, claim_id: str | None, payments: Iterable[int | None]
    ) -> bool:
        """True when what created a recoupment of this kind is inside the plan, so
        a recoupment missing from ``takes`` is really gone (money given back)."""
        if reason == RecoupmentReason.REVERSAL:
            return claim_id in self.claims
        if reason == RecoupmentReason.PLB_OFFSET:
            return any(p in self.payments for p in payments if p is not None)
        return False  # a notice is a person's record


#: A claim's own positive payments, (paid on, claim payment id), oldest first.
Originals = dict[str, list[tuple[dt.date, int]]]


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


@lru_cache(maxsize=65_536)  # a reference is read for every reversal of its 835
def tokens(reference: str | None) -> frozenset[str]:
    """The whole-word tokens of a reference (a claim ``C1`` never matches ``C10``)."""
    if not reference:
        return frozenset()
    parts = parse_reference(reference, PlbReferenceLayout.GENERIC).control_numbers
    return frozenset((reference, *parts))


def cite(reference: str, layout: PlbReferenceLayout, claim_id: str | None) -> Citation:
    """The keys a reference cites under the payer's layout."""
    parts = parse_reference(reference, layout)
    keys = dict.fromkeys(
        (reference, *parts.control_numbers, *sorted(tokens(reference)))
    )
    return Citation(
        keys=tuple(k for k in keys if k),
        claim_id=claim_id,
        explicit=layout is not PlbReferenceLayout.GENERIC,
    )


def original_before(
    originals: Originals, claim_id: str | None, on: dt.date
) -> tuple[int, dt.date] | None:
    """The claim's latest own payment on or before ``on`` (what is being recouped)."""
    if claim_id is None:
        return None
    paid = originals.get(claim_id, [])
    index = bisect.bisect_right(paid, on, key=lambda item: item[0])
    if index == 0:
        return None
    paid_on, payment_id = paid[index - 1]
    return payment_id, paid_on


def _refers_to(reference: str, r: Reversal) -> bool:
    ids = {r.reversal.claim_id, r.reversal.payer_control}
    if r.original:
        ids.add(r.original.payer_control)
    return bool(tokens(reference) & {i for i in ids if i})


class _Planner:
    """One planning pass; state shared by the steps of :func:`plan_recoupments`."""

    def __init__(
        self,
        known: Iterable[Known],
        citations: dict[str, Citation],
        originals: Originals,
    ) -> None:
        self.plan = Plan()
        self.known = sorted(known, key=lambda k: (k.identified_on, k.fingerprint))
        self.by_fingerprint = {k.fingerprint: k for k in self.known}
        self.citations = citations
        self.originals = originals
        self.pending_by_ref: dict[tuple[str | None, str], str] = {}
        self.offset_here: set[str] = set()  # taken by an entry of this plan
        # For FB +X entries, which look for what an earlier 835 deferred: the takes
        # each 835 deferred in this plan, and the known ones by the trace that
        # deferred them (looking through every take for each entry was quadratic).
        self.deferred_by: dict[int, list[str]] = {}
        self.known_by_pending_trace: dict[str, list[Known]] = {}
        for k in self.known:
            if k.pending_trace:
                self.known_by_pending_trace.setdefault(k.pending_trace, []).append(k)

    def add(self, take: Take) -> None:
        """Put ``take`` in the plan (noting what its 835 deferred)."""
        self.plan.takes[take.fingerprint] = take
        if take.status is RecoupmentStatus.PENDING and take.pending_payment_id:
            self.deferred_by.setdefault(take.pending_payment_id, []).append(
                take.fingerprint
            )

    def citation(self, reference: str) -> Citation:
        return self.citations.get(reference) or Citation(
            keys=(reference,), claim_id=None
        )

    def index_pending(self) -> None:
        """Recoupments a later ``WO`` +X may offset, by (payer, reference)."""
        for take in self.plan.takes.values():
            row = self.by_fingerprint.get(take.fingerprint)
            if row is not None and row.status == RecoupmentStatus.OFFSET:
                continue  # an earlier run saw it taken, by an 835 out of this scope
            if take.status is RecoupmentStatus.PENDING and take.reference:
                self.pending_by_ref[(take.payer_id, take.reference)] = take.fingerprint
        for k in self.known:
            if k.status in _OPEN_TARGETS and k.reference:
                self.pending_by_ref.setdefault((k.payer_id, k.reference), k.fingerprint)

    def original(
        self, claim_id: str | None, on: dt.date
    ) -> tuple[int | None, dt.date | None]:
        found = original_before(self.originals, claim_id, on)
        return found if found else (None, None)

    def from_known(self, k: Known, n: NettedReference, *, cited: bool) -> Take:
        """The take of a known recoupment that this 835 offsets."""
        notice = k.reason == RecoupmentReason.NOTICE
        # A notice the 835 cites takes what the 835 took; linked only by its claim,
        # it keeps the letter's amount (the 835 may belong to another demand).
        amount = n.taken_cents if notice and cited else k.amount_cents
        how = "cites it" if cited else "names its claim"
        known = Take(
            fingerprint=k.fingerprint,
            reason=RecoupmentReason(k.reason),
            payer_id=k.payer_id,
            claim_id=k.claim_id or self.citation(n.reference).claim_id,
            amount_cents=amount,
            status=RecoupmentStatus(k.status),
            identified_on=k.identified_on,
            reference=k.reference,
            original_claim_payment_id=k.original_claim_payment_id,
            original_paid_on=k.original_paid_on,
            pending_payment_id=k.pending_payment_id,
            detail=(
                f"taken by the 835 of {n.paid_on} (PLB WO + "
                f"{format_dollars(n.taken_cents)}), whose reference {how}"
            ),
        )
        return self.taken_by(known, n)

    def offset(self, fingerprint: str, n: NettedReference) -> None:
        """Mark a take of this plan as taken by ``n``'s 835."""
        self.plan.takes[fingerprint] = self.taken_by(self.plan.takes[fingerprint], n)

    def taken_by(self, take: Take, n: NettedReference) -> Take:
        """``take`` as offset by ``n``'s 835, with the original claim payment it
        recovers (if not known yet, the claim's latest payment before the offset)."""
        original_id, original_on = take.original_claim_payment_id, take.original_paid_on
        if original_id is None:
            original_id, original_on = self.original(take.claim_id, n.paid_on)
        self.offset_here.add(take.fingerprint)
        return replace(
            take,
            status=RecoupmentStatus.OFFSET,
            original_claim_payment_id=original_id,
            original_paid_on=original_on,
            offset_payment_id=n.payment_id,
            offset_trace=n.trace,
            offset_on=n.paid_on,
        )


def plan_recoupments(
    *,
    reversals: Sequence[Reversal],
    netted: Sequence[NettedReference],
    known: Iterable[Known],
    citations: dict[str, Citation],
    originals: Originals,
) -> Plan:
    """Plan the recoupments (see the module docstring).

    ``citations`` tells what each PLB reference names, as the payer's reference layout
    and the known CLP01/CLP07 values resolved it; ``originals`` holds the own payments
    of the claims those references name.
    """
    p = _Planner(known, citations, originals)
    plan = p.plan
    plan.claims = frozenset(r.reversal.claim_id for r in reversals)
    plan.payments = frozenset(n.payment_id for n in netted)
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
        p.add(take)

    p.index_pending()

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
            _apply_forward_balance(p, n, trace_of)
        if key in consumed:
            continue
        if n.taken_cents:
            _take(p, n)
        if n.deferred_cents:
            claim_id = p.citation(n.reference).claim_id
            deferred = _new_take(p, n, claim_id, deferred=True)
            p.add(deferred)
            if n.reference:
                p.pending_by_ref[(n.payer_id, n.reference)] = deferred.fingerprint
    return plan


def _apply_forward_balance(
    p: _Planner, n: NettedReference, trace_of: dict[int, str]
) -> None:
    """``FB`` +X citing an earlier 835's TRN02: what that 835 deferred is taken now."""
    cited = tokens(n.reference)
    carried_from = {pid for pid, trace in trace_of.items() if trace in cited}
    takes = p.plan.takes
    for payment_id in carried_from:
        for fingerprint in p.deferred_by.get(payment_id, ()):
            if takes[fingerprint].status is RecoupmentStatus.PENDING:
                p.offset(fingerprint, n)
    for trace in cited:
        for k in p.known_by_pending_trace.get(trace, ()):
            if k.fingerprint in takes or not (
                k.status == RecoupmentStatus.PENDING
                or k.offset_payment_id == n.payment_id
            ):
                continue
            take = p.from_known(k, n, cited=True)
            p.plan.takes[k.fingerprint] = replace(
                take, detail=f"forward balance applied by the 835 of {n.paid_on} (FB +)"
            )


def _take(p: _Planner, n: NettedReference) -> None:
    """A ``WO`` +X: offset a pending or noticed recoupment, or start a new one."""
    citation = p.citation(n.reference)
    keys = set(citation.keys)
    claim_id = citation.claim_id
    targets = p.plan.takes

    def cites(k: Known) -> bool:
        return k.reference is not None and k.reference in keys

    # An earlier run already applied this entry: the recoupment it offset.
    earlier = [
        k
        for k in p.known
        if k.offset_payment_id == n.payment_id
        and k.payer_id == n.payer_id
        and k.fingerprint not in p.offset_here
    ]
    already = next((k for k in earlier if cites(k)), None) or next(
        (k for k in earlier if claim_id and k.claim_id == claim_id), None
    )
    if already is not None and already.fingerprint in targets:
        p.offset(already.fingerprint, n)
        return
    if already is not None and already.fingerprint == plb_fingerprint(n):
        # The recoupment this entry started on an earlier run: planned as then, so
        # a re-run changes nothing (not as a known recoupment this entry offsets).
        targets[already.fingerprint] = _new_take(p, n, claim_id)
        return
    if already is not None:
        targets[already.fingerprint] = p.from_known(already, n, cited=cites(already))
        return
    target = next(
        (
            p.pending_by_ref.pop((n.payer_id, key))
            for key in citation.keys
            if (n.payer_id, key) in p.pending_by_ref
        ),
        None,
    )
    if target is not None and target in targets:
        p.offset(target, n)
        return
    if target is not None:
        k = p.by_fingerprint[target]
        targets[target] = p.from_known(k, n, cited=True)
        return
    if claim_id:
        by_claim = next(
            (
                k
                for k in p.known
                if k.status == RecoupmentStatus.NOTICED
                and k.payer_id == n.payer_id
                and k.claim_id == claim_id
                and k.fingerprint not in targets
                and k.fingerprint not in p.offset_here
                and not (citation.explicit and k.reference and not cites(k))
            ),
            None,
        )
        if by_claim is not None:
            targets[by_claim.fingerprint] = p.from_known(by_claim, n, cited=False)
            return
    targets[plb_fingerprint(n)] = _new_take(p, n, claim_id)


def _new_take(
    p: _Planner, n: NettedReference, claim_id: str | None, *, deferred: bool = False
) -> Take:
    """The recoupment a ``WO`` entry starts: taken now by a ``WO`` +X that offsets
    nothing known, or, ``deferred``, announced by a ``WO`` -X."""
    original_id, original_on = p.original(claim_id, n.paid_on)
    take = Take(
        fingerprint=plb_fingerprint(n),
        reason=RecoupmentReason.PLB_OFFSET,
        payer_id=n.payer_id,
        claim_id=claim_id,
        amount_cents=n.taken_cents,
        status=RecoupmentStatus.OFFSET,
        identified_on=n.paid_on,
        reference=n.reference or None,
        original_claim_payment_id=original_id,
        original_paid_on=original_on,
        offset_payment_id=n.payment_id,
        offset_trace=n.trace,
        offset_on=n.paid_on,
        detail="overpayment recovery (PLB WO +)",
    )
    if not deferred:
        return take
    return replace(
        take,
        amount_cents=n.deferred_cents,
        status=RecoupmentStatus.PENDING,
        offset_payment_id=None,
        offset_trace=None,
        offset_on=None,
        pending_payment_id=n.payment_id,
        detail="recovery deferred (PLB WO -)",
    )
