"""A refund posted in the ledger is the refund the queue issued.

Business rule: a ledger posting of kind ``refund`` (money out, negative) for exactly the
refund's amount, on the same claim (or, for an account credit, the same patient
account), carrying the refund's check or EFT reference (or no reference), is the
posting of an issued refund. Matched after the run has updated the queue, so a refund
issued today is matched by today's run.

Fields: refund status (issued, acknowledged or closed), amount, claim_id,
patient_account, reference; posting kind, amount, claim_id, patient_account,
reference, posted_on ≤ as-of.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from reconcile.categories import LedgerKind, Pairing, RefundStatus
from reconcile.context import RunContext
from reconcile.db.tables import LedgerEntry, Refund
from reconcile.matching.rule import CandidateQuery

RULE_ID = "refund_posting"
PAIRING = Pairing.REFUND_POSTING
RIGHT_TABLE = "ledger_entry"
ONE_TO_ONE = True

SENT = (RefundStatus.ISSUED, RefundStatus.ACKNOWLEDGED, RefundStatus.CLOSED)


def candidates(*, ctx: RunContext) -> CandidateQuery:
    """Pairs (refund sent, refund posting) equal in amount, claim and reference."""
    f, le = Refund, LedgerEntry
    return (
        select(
            f.id.label("left_id"),
            le.id.label("right_id"),
            f.amount_cents.label("left_cents"),
            le.amount_cents.label("right_cents"),
        )
        .select_from(f)
        .join(
            le,
            and_(
                # Each branch is an indexed lookup: by claim, else by patient account.
                or_(
                    le.claim_id == f.claim_id,
                    and_(
                        f.claim_id.is_(None),
                        le.patient_account == f.patient_account,
                    ),
                ),
                le.kind == LedgerKind.REFUND,
                le.amount_cents == -f.amount_cents,
                or_(le.reference.is_(None), le.reference == f.reference),
            ),
        )
        .where(f.status.in_(SENT), le.posted_on <= ctx.as_of)
    )
