"""A match is identified by the row it uses: drop recon_match.fingerprint.

The fingerprint repeated ``pairing:left_id:right_id`` as text. Every match already has a
unique key on the right-hand row it uses (``uq_recon_match_right``) and, when one-to-one,
on its left row. Nothing read the text, yet every run built and indexed one string per
match: work a run at a million matches paid for nothing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 13:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("recon_match", schema=None) as batch_op:
        batch_op.drop_constraint("uq_recon_match_fingerprint", type_="unique")
        batch_op.drop_column("fingerprint")


def downgrade() -> None:
    """Undo this revision: rebuild each match's fingerprint from its identity."""
    with op.batch_alter_table("recon_match", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fingerprint", sa.String(length=200), nullable=True)
        )
    match = sa.table(
        "recon_match",
        sa.column("fingerprint", sa.String),
        sa.column("pairing", sa.String),
        sa.column("left_id", sa.BigInteger),
        sa.column("right_id", sa.BigInteger),
    )
    op.execute(
        match.update().values(
            fingerprint=match.c.pairing
            + ":"
            + sa.cast(match.c.left_id, sa.String)
            + ":"
            + sa.cast(match.c.right_id, sa.String)
        )
    )
    with op.batch_alter_table("recon_match", schema=None) as batch_op:
        batch_op.alter_column(
            "fingerprint", existing_type=sa.String(length=200), nullable=False
        )
        batch_op.create_unique_constraint("uq_recon_match_fingerprint", ["fingerprint"])
