"""An 835 claim payment was posted when the ledger shows it to the cent.

Business rule: a posting of kind ``insurance_payment`` for the same claim (CLP01), the
same payer (the 835's payer tie = the posting's ``payer_id``), carrying the payment's
EFT trace or check number (TRN02) as its reference, for exactly the amount paid
(CLP04, signed: a reversal is posted negative). Claim payments of $0 (denials) need no
posting. Each payment and each posting is used once; a payment posted twice (two
candidates) stays unmatched and is reported. The 835 (BPR16) and the posting must be
dated on or before the run's as-of date.

Fields: CLP01, CLP04, TRN02, BPR16, the 835's payer tie; posting claim_id, payer_id,
reference, amount, kind, posted_on.
"""

from __future__ import annotations

from sqlalchemy import select

from reconcile.categories import Pairing
from reconcile.context import RunContext
from reconcile.db.tables import LedgerEntry, X12ClaimPayment, X12Payment
from reconcile.matching.rule import CandidateQuery
from reconcile.matching.rules._postings import remit_postable

RULE_ID = "remit_posting_exact"
PAIRING = Pairing.REMIT_POSTING
RIGHT_TABLE = "ledger_entry"
ONE_TO_ONE = True


def candidates(*, ctx: RunContext) -> CandidateQuery:
    """Pairs (claim payment, posting) equal in claim, payer, reference and amount."""
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
            & (le.reference == p.trace_number)
            & (le.amount_cents == cp.paid_cents),
        )
        .where(remit_postable(ctx))
    )
