"""A recoupment posted in the ledger is the money the queue says the payer took.

Business rule: a ledger posting of kind ``recoupment`` (negative) by the same payer,
for exactly the amount taken, on the same claim (any claim when the recoupment's
original is not identified, the posting must then carry the offsetting 835's
TRN02), with no reference or the offsetting 835's TRN02 or the recoupment's
reference, is the posting of that recoupment. Matched after the run has
updated the queue.

Fields: recoupment status (offset, accepted, repaid or closed: money taken), amount,
payer_id, claim_id, offset_trace, reference; posting kind, amount, payer_id,
claim_id, reference, posted_on ≤ as-of.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from reconcile.categories import LedgerKind, Pairing, RecoupmentStatus
from reconcile.context import RunContext
from reconcile.db.tables import LedgerEntry, Recoupment
from reconcile.matching.rule import CandidateQuery

RULE_ID = "recoupment_posting"
PAIRING = Pairing.RECOUPMENT_POSTING
RIGHT_TABLE = "ledger_entry"
ONE_TO_ONE = True

TAKEN = (
    RecoupmentStatus.OFFSET,
    RecoupmentStatus.ACCEPTED,
    RecoupmentStatus.REPAID,
    RecoupmentStatus.CLOSED,
)


def candidates(*, ctx: RunContext) -> CandidateQuery:
    """Pairs (recoupment taken, recoupment posting) equal in payer, claim, amount."""
    r, le = Recoupment, LedgerEntry
    return (
        select(
            r.id.label("left_id"),
            le.id.label("right_id"),
            r.amount_cents.label("left_cents"),
            le.amount_cents.label("right_cents"),
        )
        .select_from(r)
        .join(
            le,
            and_(
                # Each branch is an indexed lookup of the posting: by claim when the
                # recoupment names one, else by the offsetting 835's trace.
                or_(
                    le.claim_id == r.claim_id,
                    and_(r.claim_id.is_(None), le.reference == r.offset_trace),
                ),
                le.kind == LedgerKind.RECOUPMENT,
                le.amount_cents == -r.amount_cents,
                le.payer_id == r.payer_id,
                or_(
                    le.reference.is_(None),
                    le.reference == r.offset_trace,
                    le.reference == r.reference,
                ),
            ),
        )
        .where(r.status.in_(TAKEN), r.amount_cents > 0, le.posted_on <= ctx.as_of)
    )
