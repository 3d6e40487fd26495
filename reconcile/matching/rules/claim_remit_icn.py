"""A correction or reversal whose CLP01 changed joins its claim through the ICN.

Business rule: when the practice changed CLM01 on a replacement claim, the payer's
correction carries the new CLP01, with REF*F8 naming the original payer claim control
number (RFI 2150); a reversal carries the original CLP07 (RFI 578). Such a claim
payment joins the claim group of the claim payment it refers to, when both come from
the same payer: REF*F8 = that payment's CLP07, or a reversal (CLP02 22) with the same
CLP07. Applied repeatedly, it follows chains of corrections.

Fields: REF*F8 (``original_ref``), CLP07 (``payer_control``), CLP02, the 835's payer
tie (both 835s tied to the same payer code), BPR16 of both payments ≤ as-of. Only
claim payments no rule has grouped yet are considered.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased

from reconcile.categories import Pairing
from reconcile.codes import REVERSAL_STATUS
from reconcile.context import RunContext
from reconcile.db.tables import ReconMatch, X12ClaimPayment, X12Payment
from reconcile.matching.rule import CandidateQuery

RULE_ID = "claim_remit_icn"
PAIRING = Pairing.CLAIM_REMIT
RIGHT_TABLE = "x12_claim_payment"
ONE_TO_ONE = False


def candidates(*, ctx: RunContext) -> CandidateQuery:
    """Pairs (claim of the referred payment, referring claim payment)."""
    cp, old = X12ClaimPayment, aliased(X12ClaimPayment)
    new_pay, old_pay = X12Payment, aliased(X12Payment)
    new_payer = ctx.payment_payer
    old_payer = ctx.payment_payer.alias("old_payer")
    m, grouped = ReconMatch, aliased(ReconMatch)
    # The few claim payments no rule has grouped yet that refer to another payment,
    # each with the CLP07 it refers to: REF*F8, or a reversal's own CLP07. The equal
    # join on that reference lets the planner start from this small set and look the
    # referred payment up on its indexed CLP07, instead of walking every match.
    ungrouped = ~exists(
        select(grouped.id).where(
            grouped.right_table == RIGHT_TABLE, grouped.right_id == cp.id
        )
    )
    referring = (
        select(cp.id, cp.payment_id, cp.paid_cents, cp.original_ref.label("ref"))
        .where(cp.original_ref.is_not(None), ungrouped)
        .union_all(
            select(
                cp.id, cp.payment_id, cp.paid_cents, cp.payer_control.label("ref")
            ).where(cp.status_code == REVERSAL_STATUS, ungrouped)
        )
    )
    new = referring.subquery("ungrouped")
    return (
        select(
            m.left_id.label("left_id"),
            new.c.id.label("right_id"),
            m.left_cents.label("left_cents"),
            new.c.paid_cents.label("right_cents"),
        )
        .select_from(new)
        .join(new_pay, new_pay.id == new.c.payment_id)
        .join(new_payer, new_payer.c.payment_id == new_pay.id)
        .join(old, old.payer_control == new.c.ref)
        .join(
            m,
            and_(
                m.pairing == PAIRING,
                m.right_table == RIGHT_TABLE,
                m.right_id == old.id,
            ),
        )
        .join(old_pay, old_pay.id == old.payment_id)
        .join(old_payer, old_payer.c.payment_id == old_pay.id)
        .where(
            new.c.id != old.id,
            new_payer.c.payer_id == old_payer.c.payer_id,
            new_pay.paid_on <= ctx.as_of,
            old_pay.paid_on <= ctx.as_of,
        )
    )
