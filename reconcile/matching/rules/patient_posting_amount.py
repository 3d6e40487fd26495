"""A patient payment posted without its reference matches by account and amount.

Business rule: a ``patient_payment`` posting with no reference, on the same account
(and the same claim when both name one), for exactly the amount, posted on or after the
day the money was received (and on or before the run's as-of date), is that payment,
when the pair is unique on both sides.

Fields: patient payment account, claim_id, amount, received_on; posting kind
``patient_payment``, patient_account, claim_id, amount, empty reference, posted_on.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from reconcile.categories import Pairing
from reconcile.context import RunContext
from reconcile.db.tables import LedgerEntry, PatientPayment
from reconcile.matching.rule import CandidateQuery
from reconcile.matching.rules._postings import patient_postable

RULE_ID = "patient_posting_amount"
PAIRING = Pairing.PATIENT_POSTING
RIGHT_TABLE = "ledger_entry"
ONE_TO_ONE = True


def candidates(*, ctx: RunContext) -> CandidateQuery:
    """Pairs (patient payment, unreferenced posting) equal in account and amount."""
    pay, le = PatientPayment, LedgerEntry
    return (
        select(
            pay.id.label("left_id"),
            le.id.label("right_id"),
            pay.amount_cents.label("left_cents"),
            le.amount_cents.label("right_cents"),
        )
        .select_from(pay)
        .join(le, le.amount_cents == pay.amount_cents)
        .where(
            patient_postable(ctx),
            le.reference.is_(None),
            le.posted_on >= pay.received_on,
            or_(
                le.claim_id.is_(None),
                pay.claim_id.is_(None),
                le.claim_id == pay.claim_id,
            ),
        )
    )
