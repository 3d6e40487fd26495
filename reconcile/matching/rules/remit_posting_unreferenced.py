"""A posting without a reference matches by claim, payer and exact amount.

Business rule: some practice-management systems do not store the EFT trace or check
number on a posting. Such a posting (empty reference) matches the claim payment of the
same claim (CLP01) and payer for exactly its amount (CLP04), when that pair is unique
on both sides.

Fields: CLP01, CLP04, BPR16 ≤ as-of, the 835's payer tie; posting kind
``insurance_payment``, claim_id, payer_id, amount, empty reference, posted_on ≤ as-of.
"""

from __future__ import annotations

from sqlalchemy import select

from reconcile.categories import Pairing
from reconcile.context import RunContext
from reconcile.db.tables import LedgerEntry, X12ClaimPayment, X12Payment
from reconcile.matching.rule import CandidateQuery
from reconcile.matching.rules._postings import remit_postable

RULE_ID = "remit_posting_unreferenced"
PAIRING = Pairing.REMIT_POSTING
RIGHT_TABLE = "ledger_entry"
ONE_TO_ONE = True


def candidates(*, ctx: RunContext) -> CandidateQuery:
    """Pairs (claim payment, unreferenced posting) equal in claim, payer, amount."""
    cp, p, le, pp = X12ClaimPayment, X12Payment, LedgerEntry, ctx.payment_payer
    return (
        select(
            cp.id.label("left_id"),
            le.id.label("right_id"),
            cp.paid_cents.label("left_cents"),
            le.amount_cents.label("right_cents"),
        )
        .select_from(cp)
        .join(p, p.id == cp.payment_id)
        .join(pp, pp.c.payment_id == p.id)
        .join(
            le,
            (le.claim_id == cp.claim_id)
            & (le.payer_id == pp.c.payer_id)
            & (le.amount_cents == cp.paid_cents),
        )
        .where(remit_postable(ctx), le.reference.is_(None))
    )
