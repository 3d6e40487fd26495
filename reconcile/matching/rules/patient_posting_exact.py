"""A patient payment was posted when the ledger shows it by reference, to the cent.

Business rule: a posting of kind ``patient_payment`` on the same patient account,
whose reference is the payment's reference (receipt, check or card authorisation) or
its payment id, for exactly the amount received. Both dated on or before the run's
as-of date; a pair not unique on both sides stays unmatched and is reported.

Fields: patient payment account, reference, payment_id, amount, received_on; posting
patient_account, reference, amount, kind, posted_on.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from reconcile.categories import Pairing
from reconcile.context import RunContext
from reconcile.db.tables import LedgerEntry, PatientPayment
from reconcile.matching.rule import CandidateQuery
from reconcile.matching.rules._postings import patient_postable

RULE_ID = "patient_posting_exact"
PAIRING = Pairing.PATIENT_POSTING
RIGHT_TABLE = "ledger_entry"
ONE_TO_ONE = True


def candidates(*, ctx: RunContext) -> CandidateQuery:
    """Pairs (patient payment, posting) equal in account, reference and amount."""
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
            or_(le.reference == pay.reference, le.reference == pay.payment_id),
        )
    )
