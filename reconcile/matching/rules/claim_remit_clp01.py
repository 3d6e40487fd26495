"""An 835 claim payment belongs to the claim whose id it echoes in CLP01.

Business rule: the practice sends its claim id as CLM01 in the 837 and payers echo it
as CLP01 (the patient control number). Every claim payment whose CLP01 equals a
claim's ``claim_id`` joins that claim's group, whatever its CLP02 status: originals,
reversals (22), corrections, denials, and other payers' coordination-of-benefits
payments. The 835 must be tied to one of the practice's payers (payer profiles or
REF*2U/TRN03 = payer code); an 835 from an unrecognised payer is left unmatched and
reported, so it is never counted as some claim's payment by mistake.

Fields: CLP01 (``x12_claim_payment.claim_id``), the 835's payer tie, BPR16/DTM*405
(``x12_payment.paid_on``) ≤ as-of, claim ``submitted_on`` ≤ as-of.
"""

from __future__ import annotations

from sqlalchemy import select

from reconcile.categories import Pairing
from reconcile.context import RunContext
from reconcile.db.tables import ExpectedClaim, X12ClaimPayment, X12Payment
from reconcile.matching.rule import CandidateQuery

RULE_ID = "claim_remit_clp01"
PAIRING = Pairing.CLAIM_REMIT
RIGHT_TABLE = "x12_claim_payment"
ONE_TO_ONE = False


def candidates(*, ctx: RunContext) -> CandidateQuery:
    """Pairs (claim, 835 claim payment) with the same claim id."""
    c, cp, p, pp = ExpectedClaim, X12ClaimPayment, X12Payment, ctx.payment_payer
    return (
        select(
            c.id.label("left_id"),
            cp.id.label("right_id"),
            c.expected_cents.label("left_cents"),
            cp.paid_cents.label("right_cents"),
        )
        .select_from(cp)
        .join(c, c.claim_id == cp.claim_id)
        .join(p, p.id == cp.payment_id)
        .join(pp, pp.c.payment_id == p.id)
        .where(p.paid_on <= ctx.as_of, c.submitted_on <= ctx.as_of)
    )
