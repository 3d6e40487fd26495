"""Exceptions about an 835 payment carry its BPR02 amount in their fingerprint.

An 835 payment is identified by TRN03, TRN02, BPR02 and its date (the load's
duplicate key), but the fingerprints of the exceptions about it named only TRN03,
TRN02 and the date: two payments reusing a trace collided and the run failed. Since
the code puts the amount after the trace, this revision rewrites the exceptions
already stored the same way, so that the next run finds them under the name it now
computes and their decisions, notes and history stay with them. Without it, each
would be resolved as gone and reopened as a new, undecided exception.

The kinds concerned and the payment each names: ``era_without_deposit``,
``deposit_amount_mismatch`` and ``unbalanced_remittance`` (the subject payment);
``unmatched_remittance`` and ``not_posted`` of a remittance (the subject claim
payment's 835); ``duplicate_payment`` (the claim's 835 whose TRN03, TRN02 and date
the fingerprint names). The downgrade takes the amount out again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 22:50:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAYMENT_KINDS = (
    "era_without_deposit",
    "deposit_amount_mismatch",
    "unbalanced_remittance",
)
_CLAIM_PAYMENT_KINDS = ("unmatched_remittance", "not_posted")

_exception = sa.table(
    "recon_exception",
    sa.column("id", sa.BigInteger),
    sa.column("kind", sa.String),
    sa.column("fingerprint", sa.String),
    sa.column("subject_table", sa.String),
    sa.column("subject_id", sa.BigInteger),
)
_payment = sa.table(
    "x12_payment",
    sa.column("id", sa.BigInteger),
    sa.column("originator_id", sa.String),
    sa.column("trace_number", sa.String),
    sa.column("amount_cents", sa.BigInteger),
    sa.column("paid_on", sa.Date),
)
_claim_payment = sa.table(
    "x12_claim_payment",
    sa.column("id", sa.BigInteger),
    sa.column("payment_id", sa.BigInteger),
)
_match = sa.table(
    "recon_match",
    sa.column("pairing", sa.String),
    sa.column("left_id", sa.BigInteger),
    sa.column("right_id", sa.BigInteger),
)


def _named_payments(conn: sa.Connection) -> sa.CursorResult[Any]:
    """(exception id, fingerprint, TRN03, TRN02, BPR02, date) of each payment an
    exception of the concerned kinds may name."""
    e, p, cp, m = _exception, _payment, _claim_payment, _match
    fields = (
        e.c.id,
        e.c.fingerprint,
        p.c.originator_id,
        p.c.trace_number,
        p.c.amount_cents,
        p.c.paid_on,
    )
    of_payment = (
        sa.select(*fields)
        .join(p, p.c.id == e.c.subject_id)
        .where(e.c.kind.in_(_PAYMENT_KINDS), e.c.subject_table == "x12_payment")
    )
    of_claim_payment = (
        sa.select(*fields)
        .join(cp, cp.c.id == e.c.subject_id)
        .join(p, p.c.id == cp.c.payment_id)
        .where(
            e.c.kind.in_(_CLAIM_PAYMENT_KINDS),
            e.c.subject_table == "x12_claim_payment",
        )
    )
    of_claim = (
        sa.select(*fields)
        .join(m, sa.and_(m.c.pairing == "claim_remit", m.c.left_id == e.c.subject_id))
        .join(cp, cp.c.id == m.c.right_id)
        .join(p, p.c.id == cp.c.payment_id)
        .where(e.c.kind == "duplicate_payment", e.c.subject_table == "expected_claim")
    )
    return conn.execute(sa.union_all(of_payment, of_claim_payment, of_claim))


def _rewrite(*, with_amount: bool) -> None:
    conn = op.get_bind()
    renamed: dict[int, str] = {}
    for row in _named_payments(conn):
        exception_id, fingerprint, originator, trace, amount, paid_on = tuple(row)
        if exception_id in renamed:
            continue
        day = paid_on.isoformat() if hasattr(paid_on, "isoformat") else str(paid_on)
        without, with_ = (
            f":{originator}:{trace}:{day}",
            f":{originator}:{trace}:{amount}:{day}",
        )
        old, new = (without, with_) if with_amount else (with_, without)
        text = str(fingerprint)
        at = text.find(old + ":")
        if at < 0 and text.endswith(old):
            at = len(text) - len(old)
        if at >= 0:
            renamed[int(str(exception_id))] = text[:at] + new + text[at + len(old) :]
    if renamed:
        conn.execute(
            _exception.update()
            .where(_exception.c.id == sa.bindparam("exception_id"))
            .values(fingerprint=sa.bindparam("new_fingerprint")),
            [{"exception_id": k, "new_fingerprint": v} for k, v in renamed.items()],
        )


def upgrade() -> None:
    """Apply this revision."""
    _rewrite(with_amount=True)


def downgrade() -> None:
    """Undo this revision: the fingerprints without the amount."""
    _rewrite(with_amount=False)
