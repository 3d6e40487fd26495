"""835 claim payments that belong to no known claim, and 835s that do not balance.

- ``unmatched_remittance``: a visible 835 claim payment that matching tied to no claim,
  because no claim has its CLP01 (nor a related ICN), or because the 835's payer is
  not recognised (no payer profile and no REF*2U/TRN03 equal to a payer code).
- ``unbalanced_remittance``: an 835 loaded with ``--allow-unbalanced``, reported by
  every run whose window holds its payment date and kept open until a person decides.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, and_, case, exists, literal, or_, select

from reconcile.categories import ExceptionKind, ExceptionStatus, Pairing
from reconcile.classify.candidates import (
    add,
    columns,
    fingerprint,
    kind_literal,
    payment_identity,
)
from reconcile.context import RunContext
from reconcile.db.tables import ReconException, ReconMatch, X12ClaimPayment, X12Payment


def add_remittance_candidates(
    conn: Connection, ctx: RunContext, *, candidates: Table
) -> int:
    """Insert ``unmatched_remittance`` and ``unbalanced_remittance`` candidates."""
    cp, p, m = X12ClaimPayment, X12Payment, ReconMatch
    payer = ctx.payment_payer.alias("payer")
    grouped = exists(
        select(m.id).where(
            m.pairing == Pairing.CLAIM_REMIT,
            m.right_table == "x12_claim_payment",
            m.right_id == cp.id,
        )
    )
    detail = case(
        (
            payer.c.payer_id.is_(None),
            literal("the 835's payer is not recognised (add a payer profile)"),
        ),
        else_=literal("no claim with this patient control number (CLP01)"),
    )
    added = add(
        conn,
        candidates,
        select(
            *columns(
                fingerprint=fingerprint(
                    ExceptionKind.UNMATCHED_REMITTANCE,
                    *payment_identity(p),
                    cp.seq,
                    cp.claim_id,
                ),
                kind=kind_literal(ExceptionKind.UNMATCHED_REMITTANCE),
                claim_id=cp.claim_id,
                payer_id=payer.c.payer_id,
                subject_table="x12_claim_payment",
                subject_id=cp.id,
                amount_cents=case(
                    (cp.paid_cents < 0, -cp.paid_cents), else_=cp.paid_cents
                ),
                paid_cents=cp.paid_cents,
                detail=detail,
                service_on=cp.statement_from_on,
                paid_on=p.paid_on,
                age_from_on=p.paid_on,
            )
        )
        .select_from(cp)
        .join(p, p.id == cp.payment_id)
        .outerjoin(payer, payer.c.payment_id == p.id)
        .where(p.paid_on <= ctx.as_of, ~grouped),
    )
    open_exception = exists(
        select(ReconException.id).where(
            ReconException.subject_table == "x12_payment",
            ReconException.subject_id == p.id,
            ReconException.kind == ExceptionKind.UNBALANCED_REMITTANCE,
            ReconException.status == ExceptionStatus.OPEN,
        )
    )
    added += add(
        conn,
        candidates,
        select(
            *columns(
                fingerprint=fingerprint(
                    ExceptionKind.UNBALANCED_REMITTANCE,
                    *payment_identity(p),
                ),
                kind=kind_literal(ExceptionKind.UNBALANCED_REMITTANCE),
                payer_id=payer.c.payer_id,
                subject_table="x12_payment",
                subject_id=p.id,
                amount_cents=p.amount_cents,
                paid_cents=p.amount_cents,
                detail=literal(
                    "the 835 does not balance; loaded with --allow-unbalanced"
                ),
                paid_on=p.paid_on,
                age_from_on=p.paid_on,
            )
        )
        .select_from(p)
        .outerjoin(payer, payer.c.payment_id == p.id)
        .where(
            p.unbalanced,
            p.paid_on <= ctx.as_of,
            or_(
                and_(p.paid_on >= ctx.window.first, p.paid_on <= ctx.window.last),
                open_exception,
            ),
        ),
    )
    return added
