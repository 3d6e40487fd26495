"""A patient payment and a posting with its reference but another amount mismatch.

Business rule: after exact matches, the one remaining patient payment and the one
remaining ``patient_payment`` posting of the same account carrying its reference (or
payment id) are the same money posted for a wrong amount: they match, and the
difference is reported as ``posting_mismatch``.

Fields: patient payment account, reference, payment_id, received_on ≤ as-of;
posting kind ``patient_payment``, patient_account, reference, posted_on ≤ as-of.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from reconcile.categories import Pairing
from reconcile.context import RunContext
from reconcile.db.tables import LedgerEntry, PatientPayment
from reconcile.matching.rule import CandidateQuery
from reconcile.matching.rules._postings import patient_postable

RULE_ID = "patient_posting_reference"
PAIRING = Pairing.PATIENT_POSTING
RIGHT_TABLE = "ledger_entry"
ONE_TO_ONE = True


def candidates(*, ctx: RunContext) -> CandidateQuery:
    """Pairs (patient payment, posting) equal in account and reference."""
    pay, le = PatientPayment, LedgerEntry
    return (
        select(
            pay.id.label("left_id"),
            le.id.label("right_id"),
            pay.amount_cents.label("left_cents"),
            le.amount_cents.label("right_cents"),
        )
        .select_from(pay)
        .join(
            le,
            or_(le.reference == pay.reference, le.reference == pay.payment_id),
        )
        .where(patient_postable(ctx))
    )
