"""One condition, one exception: drop candidates a more important one explains,
then attach the adjustment codes a reviewer needs."""

from __future__ import annotations

from sqlalchemy import Connection, Table, delete, exists, select, update

from reconcile.categories import Pairing
from reconcile.context import RunContext
from reconcile.db.sqlfuncs import distinct_list
from reconcile.db.tables import (
    ExpectedClaim,
    ReconMatch,
    X12Adjustment,
    X12ClaimPayment,
    X12Payment,
)
from reconcile.kinds import CLAIM_PRECEDENCE


def apply_precedence(conn: Connection, candidates: Table) -> int:
    """Delete claim candidates outranked by another candidate on the same claim."""
    removed = 0
    other = candidates.alias("other")
    for rank, kind in enumerate(CLAIM_PRECEDENCE[1:], start=1):
        higher = [str(k) for k in CLAIM_PRECEDENCE[:rank]]
        result = conn.execute(
            delete(candidates)
            .where(
                candidates.c.kind == str(kind),
                exists(
                    select(other.c.fingerprint).where(
                        other.c.subject_table == candidates.c.subject_table,
                        other.c.subject_id == candidates.c.subject_id,
                        other.c.kind.in_(higher),
                    )
                ),
            )
            .execution_options(preserve_rowcount=True)
        )
        removed += max(result.rowcount, 0)
    return removed


def attach_codes(conn: Connection, ctx: RunContext, candidates: Table) -> None:
    """Fill ``codes`` (``CO-45,PR-2``) from the CAS adjustments behind each candidate.

    For a claim: every adjustment of its payer's claim payments (claim and line
    level). For an 835 claim payment: its own adjustments.
    """
    a, cp, p, m, c = (
        X12Adjustment,
        X12ClaimPayment,
        X12Payment,
        ReconMatch,
        ExpectedClaim,
    )
    pp = ctx.payment_payer
    code = a.group_code + "-" + a.reason_code
    claim_codes = (
        select(distinct_list(code))
        .select_from(m)
        .join(cp, cp.id == m.right_id)
        .join(p, p.id == cp.payment_id)
        .join(pp, pp.c.payment_id == p.id)
        .join(c, c.id == m.left_id)
        .join(a, a.claim_payment_id == cp.id)
        .where(
            m.pairing == Pairing.CLAIM_REMIT,
            m.left_id == candidates.c.subject_id,
            pp.c.payer_id == c.payer_id,
            p.paid_on <= ctx.as_of,
        )
        .scalar_subquery()
    )
    conn.execute(
        update(candidates)
        .where(candidates.c.subject_table == "expected_claim")
        .values(codes=claim_codes)
    )
    remit_codes = (
        select(distinct_list(code))
        .where(a.claim_payment_id == candidates.c.subject_id)
        .scalar_subquery()
    )
    conn.execute(
        update(candidates)
        .where(candidates.c.subject_table == "x12_claim_payment")
        .values(codes=remit_codes)
    )
