"""Payments and the ledger: what was posted, for how much, and what was not.

- ``posting_mismatch``: a payment (835 claim payment or patient payment) and its
  posting (tied by identity) for different amounts; variance = posted − paid.
- ``not_posted``: a payment that moved money, with no posting ``posting_grace_days``
  after it was paid or received; before that it is pending.
- ``posting_without_payment``: an ``insurance_payment`` or ``patient_payment`` posting
  with no payment behind it after the same grace. ``adjustment`` postings are
  informational; ``refund`` and ``recoupment`` postings are the queues' business.

Precedence: a posting for the wrong amount is a mismatch, never also "not posted".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Exists,
    String,
    Table,
    case,
    cast,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.orm import aliased

from reconcile.categories import ExceptionKind, LedgerKind, Pairing
from reconcile.classify.candidates import (
    add,
    columns,
    fingerprint,
    kind_literal,
    payment_identity,
)
from reconcile.context import RunContext
from reconcile.db.tables import (
    LedgerEntry,
    PatientPayment,
    ReconMatch,
    X12ClaimPayment,
    X12Payment,
)

PAYMENT_KINDS = (LedgerKind.INSURANCE_PAYMENT, LedgerKind.PATIENT_PAYMENT)


def _magnitude(value: Any) -> ColumnElement[int]:
    return case((value < 0, -value), else_=value)


def _posted(ctx: RunContext, pairing: Pairing, left: Any) -> ColumnElement[bool]:
    m, le = ReconMatch, LedgerEntry
    return exists(
        select(m.id)
        .join(le, le.id == m.right_id)
        .where(m.pairing == pairing, m.left_id == left, le.posted_on <= ctx.as_of)
    )


def add_posting_candidates(
    conn: Connection, ctx: RunContext, *, candidates: Table
) -> int:
    """Insert the three posting kinds' candidates."""
    cp, p, pay, le, m = (
        X12ClaimPayment,
        X12Payment,
        PatientPayment,
        LedgerEntry,
        ReconMatch,
    )
    payer = ctx.payment_payer.alias("payer")
    added = 0
    # Mismatches: 835 claim payments, then patient payments.
    variance = le.amount_cents - cp.paid_cents
    added += add(
        conn,
        candidates,
        select(
            *columns(
                fingerprint=fingerprint(ExceptionKind.POSTING_MISMATCH, le.entry_id),
                kind=kind_literal(ExceptionKind.POSTING_MISMATCH),
                claim_id=cp.claim_id,
                payer_id=le.payer_id,
                patient_account=le.patient_account,
                subject_table="ledger_entry",
                subject_id=le.id,
                amount_cents=_magnitude(variance),
                expected_cents=cp.paid_cents,
                paid_cents=le.amount_cents,
                variance_cents=variance,
                detail="posted amount differs from the 835 payment (TRN "
                + p.trace_number
                + ")",
                paid_on=p.paid_on,
                age_from_on=le.posted_on,
            )
        )
        .select_from(m)
        .join(cp, cp.id == m.left_id)
        .join(p, p.id == cp.payment_id)
        .join(le, le.id == m.right_id)
        .where(
            m.pairing == Pairing.REMIT_POSTING,
            p.paid_on <= ctx.as_of,
            le.posted_on <= ctx.as_of,
            le.amount_cents != cp.paid_cents,
        ),
    )
    variance = le.amount_cents - pay.amount_cents
    added += add(
        conn,
        candidates,
        select(
            *columns(
                fingerprint=fingerprint(ExceptionKind.POSTING_MISMATCH, le.entry_id),
                kind=kind_literal(ExceptionKind.POSTING_MISMATCH),
                claim_id=pay.claim_id,
                patient_account=pay.patient_account,
                subject_table="ledger_entry",
                subject_id=le.id,
                amount_cents=_magnitude(variance),
                expected_cents=pay.amount_cents,
                paid_cents=le.amount_cents,
                variance_cents=variance,
                detail="posted amount differs from patient payment " + pay.payment_id,
                paid_on=pay.received_on,
                age_from_on=le.posted_on,
            )
        )
        .select_from(m)
        .join(pay, pay.id == m.left_id)
        .join(le, le.id == m.right_id)
        .where(
            m.pairing == Pairing.PATIENT_POSTING,
            pay.received_on <= ctx.as_of,
            le.posted_on <= ctx.as_of,
            le.amount_cents != pay.amount_cents,
        ),
    )
    # Not posted: 835 claim payments that moved money, then patient payments.
    added += add(
        conn,
        candidates,
        select(
            *columns(
                fingerprint=fingerprint(
                    ExceptionKind.NOT_POSTED,
                    literal("remit"),
                    *payment_identity(p),
                    cp.seq,
                    cp.claim_id,
                ),
                kind=kind_literal(ExceptionKind.NOT_POSTED),
                claim_id=cp.claim_id,
                payer_id=payer.c.payer_id,
                subject_table="x12_claim_payment",
                subject_id=cp.id,
                amount_cents=_magnitude(cp.paid_cents),
                expected_cents=cp.paid_cents,
                detail="835 payment (TRN " + p.trace_number + ") has no ledger posting",
                service_on=cp.statement_from_on,
                paid_on=p.paid_on,
                age_from_on=p.paid_on,
            )
        )
        .select_from(cp)
        .join(p, p.id == cp.payment_id)
        .outerjoin(payer, payer.c.payment_id == p.id)
        .where(
            cp.paid_cents != 0,
            p.paid_on <= ctx.posting_cutoff_on,
            ~_posted(ctx, Pairing.REMIT_POSTING, cp.id),
        ),
    )
    added += add(
        conn,
        candidates,
        select(
            *columns(
                fingerprint=fingerprint(
                    ExceptionKind.NOT_POSTED, literal("patient"), pay.payment_id
                ),
                kind=kind_literal(ExceptionKind.NOT_POSTED),
                claim_id=pay.claim_id,
                patient_account=pay.patient_account,
                subject_table="patient_payment",
                subject_id=pay.id,
                amount_cents=_magnitude(pay.amount_cents),
                expected_cents=pay.amount_cents,
                detail=literal("patient payment has no ledger posting"),
                paid_on=pay.received_on,
                age_from_on=pay.received_on,
            )
        )
        .select_from(pay)
        .where(
            pay.amount_cents != 0,
            pay.received_on <= ctx.posting_cutoff_on,
            ~_posted(ctx, Pairing.PATIENT_POSTING, pay.id),
        ),
    )
    added += add(
        conn,
        candidates,
        select(
            *columns(
                fingerprint=fingerprint(
                    ExceptionKind.POSTING_WITHOUT_PAYMENT, le.entry_id
                ),
                kind=kind_literal(ExceptionKind.POSTING_WITHOUT_PAYMENT),
                claim_id=le.claim_id,
                payer_id=le.payer_id,
                patient_account=le.patient_account,
                subject_table="ledger_entry",
                subject_id=le.id,
                amount_cents=_magnitude(le.amount_cents),
                paid_cents=le.amount_cents,
                detail="no payment behind this " + cast(le.kind, String) + " posting",
                paid_on=le.posted_on,
                age_from_on=le.posted_on,
            )
        )
        .select_from(le)
        .where(
            le.kind.in_(PAYMENT_KINDS),
            le.amount_cents != 0,
            le.posted_on <= ctx.posting_cutoff_on,
            ~_has_payment(ctx),
        ),
    )
    return added


def remit_matched(
    *,
    pairing: Pairing,
    remit_on_left: bool,
    where: Callable[[Any, Any, Any], Iterable[ColumnElement[bool]]],
) -> Exists:
    """EXISTS a match of ``pairing`` whose 835 claim payment (on the match's left or
    right side) and its 835 meet ``where(match, claim_payment, payment)``.

    The three tables are fresh aliases, so the test nests inside a query over the
    same tables and correlates only what ``where`` names from outside.
    """
    m, cp, p = aliased(ReconMatch), aliased(X12ClaimPayment), aliased(X12Payment)
    remit_id = m.left_id if remit_on_left else m.right_id
    return exists(
        select(m.id)
        .join(cp, cp.id == remit_id)
        .join(p, p.id == cp.payment_id)
        .where(m.pairing == pairing, *where(m, cp, p))
    )


def _has_payment(ctx: RunContext) -> ColumnElement[bool]:
    """The posting is matched to a payment visible as of the run."""
    m, le, pay = ReconMatch, LedgerEntry, PatientPayment
    remit = remit_matched(
        pairing=Pairing.REMIT_POSTING,
        remit_on_left=True,
        where=lambda match, _remit, payment: (
            match.right_table == "ledger_entry",
            match.right_id == le.id,
            payment.paid_on <= ctx.as_of,
        ),
    )
    patient = exists(
        select(m.id)
        .join(pay, pay.id == m.left_id)
        .where(
            m.pairing == Pairing.PATIENT_POSTING,
            m.right_table == "ledger_entry",
            m.right_id == le.id,
            pay.received_on <= ctx.as_of,
        )
    )
    return remit | patient


def pending_counts(conn: Connection, ctx: RunContext) -> dict[str, int]:
    """Payments and postings still inside the posting grace period."""
    cp, p, pay, le = X12ClaimPayment, X12Payment, PatientPayment, LedgerEntry
    remits = conn.execute(
        select(func.count())
        .select_from(cp)
        .join(p, p.id == cp.payment_id)
        .where(
            cp.paid_cents != 0,
            p.paid_on <= ctx.as_of,
            p.paid_on > ctx.posting_cutoff_on,
            ~_posted(ctx, Pairing.REMIT_POSTING, cp.id),
        )
    ).scalar_one()
    patients = conn.execute(
        select(func.count()).where(
            pay.amount_cents != 0,
            pay.received_on <= ctx.as_of,
            pay.received_on > ctx.posting_cutoff_on,
            ~_posted(ctx, Pairing.PATIENT_POSTING, pay.id),
        )
    ).scalar_one()
    postings = conn.execute(
        select(func.count()).where(
            le.kind.in_(PAYMENT_KINDS),
            le.amount_cents != 0,
            le.posted_on <= ctx.as_of,
            le.posted_on > ctx.posting_cutoff_on,
            ~_has_payment(ctx),
        )
    ).scalar_one()
    return {
        "payments_awaiting_posting": remits + patients,
        "postings_awaiting_payment": postings,
    }
