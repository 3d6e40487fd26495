"""Reversals (CLP02 22): paired with what they reverse and with their correction.

A reversal negates an earlier payment of the same claim by the same payer: it carries
the original's CLP07 (RFI 578), or else it reverses the latest payment not reversed
yet. Its correction is the claim's next payment by that payer, in the same 835 or a
later one, under a new CLP07. A reversal that cancels a duplicate — another payment
for the same amount still stands and no correction came in its 835 — leaves the claim
correctly paid: it needs no correction and takes nothing to recoup. Without a
correction ``correction_wait_days`` (per payer) after the reversal, the claim is
``reversal_uncorrected``, whose suggested action follows the CARCs: eligibility or
coordination of benefits (22, 26, 27, 109, 200 …) → bill the other payer or the
patient; otherwise correct and resubmit. While the correction may still come, the
claim's other claim-level findings wait.

Pairing walks the payments of the claims that have a reversal and can change in
this run — claims in scope, and claims with a reversal whose correction wait ends in
the window or later — in payment order; that set is small (a few percent of claims),
so it is done in Python on rows the database selected, and the result goes back into
a temporary table for SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    String,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)

from reconcile.categories import ExceptionKind, Pairing
from reconcile.classify.candidates import add, columns, fingerprint, kind_literal
from reconcile.classify.postings import remit_matched
from reconcile.codes import ELIGIBILITY_COB_CARCS, REVERSAL_STATUS
from reconcile.context import RunContext
from reconcile.db.base import CentsType, IdType
from reconcile.db.tables import (
    ExpectedClaim,
    ReconMatch,
    X12Adjustment,
    X12ClaimPayment,
    X12Payment,
)
from reconcile.db.temp import create_temp

BILL_OTHER = (
    "Bill the other payer or the patient (eligibility or coordination of benefits)."
)
RESUBMIT = "Correct and resubmit the claim."


@dataclass(frozen=True)
class OwnPayment:
    """One of a claim's payments by its own payer, as pairing needs it."""

    id: int
    claim_pk: int
    claim_id: str
    payer_id: str
    payment_id: int
    paid_on: dt.date
    trace: str
    originator: str
    seq: int
    status: str
    paid_cents: int
    payer_control: str | None


@dataclass(frozen=True)
class Reversal:
    """A reversal with what it reversed and what corrected it (if anything yet)."""

    reversal: OwnPayment
    original: OwnPayment | None
    correction: OwnPayment | None
    #: The payment still standing that the reversed one duplicated (nothing taken).
    duplicate_of: OwnPayment | None = None

    @property
    def corrected(self) -> bool:
        """True when nothing is left to correct: re-paid, or a duplicate cancelled."""
        return self.correction is not None or self.duplicate_of is not None

    @property
    def taken_cents(self) -> int:
        """What the reversal took back (positive)."""
        return -self.reversal.paid_cents

    @property
    def net_taken_cents(self) -> int:
        """What the payer kept after re-paying with the correction (may be ≤ 0)."""
        if self.duplicate_of is not None:
            return 0
        repaid = self.correction.paid_cents if self.correction else 0
        return self.taken_cents - repaid


def pair_reversals(payments: Iterable[OwnPayment]) -> list[Reversal]:
    """Pair every reversal with its original and its correction.

    ``payments`` are one payer's payments of claims, in any order. The reversals come
    back oldest first (by their 835 and place in it): recoupment planning lets the
    first of two reversals claim a PLB entry both could use, so this order, not the
    order a database happened to return rows in, must decide.
    """
    by_claim: dict[int, list[OwnPayment]] = {}
    for payment in payments:
        by_claim.setdefault(payment.claim_pk, []).append(payment)
    found: list[Reversal] = []
    for claim_payments in by_claim.values():
        found.extend(_pair_claim(sorted(claim_payments, key=_in_order)))
    return sorted(found, key=lambda r: _in_order(r.reversal))


def _in_order(payment: OwnPayment) -> tuple[dt.date, int, int]:
    """A payment's place: its 835's date, the 835, its place in the 835."""
    return payment.paid_on, payment.payment_id, payment.seq


def _pair_claim(ordered: Sequence[OwnPayment]) -> list[Reversal]:
    active: list[OwnPayment] = []  # paid, not reversed yet
    used_as_correction: set[int] = set()
    pairs: list[Reversal] = []
    for index, payment in enumerate(ordered):
        if payment.status != REVERSAL_STATUS:
            active.append(payment)
            continue
        original = next(
            (p for p in reversed(active) if p.payer_control == payment.payer_control),
            active[-1] if active else None,
        )
        if original is not None:
            active.remove(original)

        def correcting(p: OwnPayment, payment: OwnPayment = payment) -> bool:
            return (
                p.status != REVERSAL_STATUS
                and p.id not in used_as_correction
                and (
                    p.payer_control is None or p.payer_control != payment.payer_control
                )
            )

        later = ordered[index + 1 :]
        duplicate_of = None
        if original is not None and not any(
            correcting(p) and p.payment_id == payment.payment_id for p in later
        ):
            duplicate_of = next(
                (p for p in reversed(active) if p.paid_cents == original.paid_cents),
                None,
            )
        correction = (
            None if duplicate_of else next((p for p in later if correcting(p)), None)
        )
        if correction is not None:
            used_as_correction.add(correction.id)
        pairs.append(Reversal(payment, original, correction, duplicate_of))
    return pairs


def load_reversals(conn: Connection, ctx: RunContext, state: Table) -> list[Reversal]:
    """Read the own-payer payments of claims with a reversal that can change in this
    run, and pair them.

    Those are the claims in scope, and the claims with a reversal whose correction
    wait ends in the window or later (``reversal_uncorrected`` is raised the day the
    wait ends, whether or not anything else happened to the claim). A reversal whose
    wait ended earlier either raised its exception then (the open exception keeps the
    claim in scope) or was corrected.
    """
    m, cp, p, c, pp = (
        ReconMatch, X12ClaimPayment, X12Payment, ExpectedClaim, ctx.payment_payer,
    )  # fmt: skip
    settings = ctx.settings
    longest_wait = max(
        [settings.matching.correction_wait_days]
        + [w.correction_wait_days for w in settings.payers if w.correction_wait_days]
    )
    since = ctx.window.first - dt.timedelta(days=longest_wait)
    recent_reversal = remit_matched(
        pairing=Pairing.CLAIM_REMIT,
        remit_on_left=False,
        where=lambda match, remit, payment: (
            match.left_id == state.c.claim_pk,
            remit.status_code == REVERSAL_STATUS,
            payment.paid_on >= since,
        ),
    )
    # The claims first, on their own (a few percent of them have a reversal):
    # joined with the rest, PostgreSQL expected a thousand rows from the match,
    # payment and payer joins where a million came, and looked each one up in the
    # claim state afterwards.
    reversed_claims = (
        select(state.c.claim_pk)
        .where(state.c.own_reversal_count > 0, or_(state.c.in_scope, recent_reversal))
        .cte("reversed_claims")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    rows = conn.execute(
        select(
            cp.id.label("id"),
            m.left_id.label("claim_pk"),
            c.claim_id.label("claim_id"),
            c.payer_id.label("payer_id"),
            cp.payment_id.label("payment_id"),
            p.paid_on.label("paid_on"),
            p.trace_number.label("trace"),
            p.originator_id.label("originator"),
            cp.seq.label("seq"),
            cp.status_code.label("status"),
            cp.paid_cents.label("paid_cents"),
            cp.payer_control.label("payer_control"),
        )
        .select_from(reversed_claims)
        .join(
            m,
            and_(
                m.pairing == Pairing.CLAIM_REMIT,
                m.left_id == reversed_claims.c.claim_pk,
            ),
        )
        .join(cp, cp.id == m.right_id)
        .join(p, p.id == cp.payment_id)
        .join(pp, pp.c.payment_id == p.id)
        .join(c, c.id == m.left_id)
        .where(pp.c.payer_id == c.payer_id, p.paid_on <= ctx.as_of)
    )
    return pair_reversals(OwnPayment(**row._mapping) for row in rows)


def reversal_table(
    conn: Connection, ctx: RunContext, reversals: Sequence[Reversal]
) -> Table:
    """Write the pairs into ``tmp_reversal`` with each reversal's suggested action."""
    table = create_temp(
        conn,
        "tmp_reversal",
        [
            Column("reversal_id", IdType, primary_key=True),
            Column("claim_pk", IdType, nullable=False),
            Column("claim_id", String(38), nullable=False),
            Column("payer_id", String(80), nullable=False),
            Column("paid_on", Date, nullable=False),
            Column("trace", String(50), nullable=False),
            Column("originator", String(10), nullable=False),
            Column("seq", IdType, nullable=False),
            Column("taken_cents", CentsType, nullable=False),
            Column("original_id", IdType),
            Column("original_paid_on", Date),
            Column("corrected", Boolean, nullable=False),
            Column("suggested_action", String(200), nullable=False),
        ],
        # claim_pk: the claim's reversals; original_id: "was this payment reversed?"
        indexes=[("claim_pk",), ("original_id",)],
    )
    if not reversals:
        return table
    ids = [r.reversal.id for r in reversals]
    codes: dict[int, set[str]] = {}
    for chunk_start in range(0, len(ids), 5_000):
        chunk = ids[chunk_start : chunk_start + 5_000]
        for payment_id, reason in conn.execute(
            select(X12Adjustment.claim_payment_id, X12Adjustment.reason_code).where(
                X12Adjustment.claim_payment_id.in_(chunk)
            )
        ):
            codes.setdefault(payment_id, set()).add(reason)
    conn.execute(
        insert(table),
        [
            {
                "reversal_id": r.reversal.id,
                "claim_pk": r.reversal.claim_pk,
                "claim_id": r.reversal.claim_id,
                "payer_id": r.reversal.payer_id,
                "paid_on": r.reversal.paid_on,
                "trace": r.reversal.trace,
                "originator": r.reversal.originator,
                "seq": r.reversal.seq,
                "taken_cents": r.taken_cents,
                "original_id": r.original.id if r.original else None,
                "original_paid_on": r.original.paid_on if r.original else None,
                "corrected": r.corrected,
                "suggested_action": (
                    BILL_OTHER
                    if codes.get(r.reversal.id, set()) & ELIGIBILITY_COB_CARCS
                    else RESUBMIT
                ),
            }
            for r in reversals
        ],
    )
    return table


def add_reversal_candidates(
    conn: Connection,
    ctx: RunContext,
    *,
    reversals: Table,
    state: Table,
    candidates: Table,
) -> int:
    """``reversal_uncorrected`` for reversals past their wait; hold the claim's
    underpaid/overpaid/unpaid findings while a correction may still come."""
    r, s, rule = reversals, state, ctx.payer_rule
    waited = r.c.paid_on <= rule.c.correction_cutoff_on
    added = add(
        conn,
        candidates,
        select(
            *columns(
                fingerprint=fingerprint(
                    ExceptionKind.REVERSAL_UNCORRECTED,
                    r.c.payer_id,
                    r.c.claim_id,
                    r.c.originator,
                    r.c.trace,
                    r.c.paid_on,
                    r.c.seq,
                ),
                kind=kind_literal(ExceptionKind.REVERSAL_UNCORRECTED),
                claim_id=r.c.claim_id,
                payer_id=r.c.payer_id,
                patient_account=s.c.patient_account,
                subject_table="expected_claim",
                subject_id=r.c.claim_pk,
                amount_cents=r.c.taken_cents,
                expected_cents=s.c.expected_cents,
                paid_cents=s.c.own_paid_cents,
                variance_cents=s.c.own_paid_cents - s.c.expected_cents,
                detail=literal("payment reversed (CLP02 22) with no correction"),
                suggested_action=r.c.suggested_action,
                service_on=s.c.service_on,
                paid_on=r.c.paid_on,
                age_from_on=r.c.paid_on,
            )
        )
        .select_from(r)
        .join(s, s.c.claim_pk == r.c.claim_pk)
        .join(rule, rule.c.payer_id == r.c.payer_id)
        .where(~r.c.corrected, waited, r.c.taken_cents > 0),
    )
    waiting = exists(
        select(r.c.reversal_id)
        .join(rule, rule.c.payer_id == r.c.payer_id)
        .where(
            r.c.claim_pk == candidates.c.subject_id,
            ~r.c.corrected,
            r.c.paid_on > rule.c.correction_cutoff_on,
        )
    )
    conn.execute(
        delete(candidates).where(
            candidates.c.subject_table == "expected_claim",
            candidates.c.kind.in_(
                [
                    str(ExceptionKind.UNDERPAID),
                    str(ExceptionKind.OVERPAID),
                    str(ExceptionKind.UNPAID_CLAIM),
                ]
            ),
            waiting,
        )
    )
    return added


def awaiting_correction(conn: Connection, ctx: RunContext, reversals: Table) -> int:
    """Reversals still inside their correction wait."""
    r, rule = reversals, ctx.payer_rule
    return int(
        conn.execute(
            select(func.count())
            .select_from(r)
            .join(rule, rule.c.payer_id == r.c.payer_id)
            .where(~r.c.corrected, r.c.paid_on > rule.c.correction_cutoff_on)
        ).scalar_one()
    )
