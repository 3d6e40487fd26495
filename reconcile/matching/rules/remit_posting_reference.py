"""An 835 claim payment and a posting for another amount are a posting mismatch.

Business rule: after exact matches, the one remaining claim payment and the one
remaining posting with the same claim (CLP01), payer and reference (TRN02) are the same
payment posted for a wrong amount: they match, and the difference is reported as
``posting_mismatch`` rather than as a payment not posted plus a posting without
payment. More than one candidate on either side stays unmatched (ambiguous).

Fields: CLP01, CLP04, TRN02, BPR16 ≤ as-of, the 835's payer tie; posting kind
``insurance_payment``, claim_id, payer_id, reference, amount, posted_on ≤ as-of.
"""

from __future__ import annotations

from sqlalchemy import select

from reconcile.categories import Pairing
from reconcile.context import RunContext
from reconcile.db.tables import LedgerEntry, X12ClaimPayment, X12Payment
from reconcile.matching.rule import CandidateQuery
from reconcile.matching.rules._postings import remit_postable

RULE_ID = "remit_posting_reference"
PAIRING = Pairing.REMIT_POSTING
RIGHT_TABLE = "ledger_entry"
ONE_TO_ONE = True


def candidates(*, ctx: RunContext) -> CandidateQuery:
    """Pairs (claim payment, posting) equal in claim, payer and reference."""
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
            & (le.reference == p.trace_number),
        )
        .where(remit_postable(ctx))
    )
