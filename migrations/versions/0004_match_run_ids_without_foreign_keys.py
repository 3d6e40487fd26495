"""A match's run ids are bookkeeping: drop their foreign keys to recon_run.

``recon_match.first_run_id`` and ``last_seen_run_id`` name the run that found a match
and the last run that saw it. Run records are never deleted, so the references cannot
dangle; checking them cost PostgreSQL two referential-integrity trigger lookups (and
row locks on ``recon_run``) per inserted match: on a first run at 200,000 claims, the
match inserts took 6.4 s with the keys and 3.4 s without (benchmarks/bench_run.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 22:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = (
    ("fk_recon_match_first_run_id_recon_run", "first_run_id"),
    ("fk_recon_match_last_seen_run_id_recon_run", "last_seen_run_id"),
)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("recon_match", schema=None) as batch_op:
        for name, _column in _KEYS:
            batch_op.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    """Undo this revision: the foreign keys again."""
    with op.batch_alter_table("recon_match", schema=None) as batch_op:
        for name, column in _KEYS:
            batch_op.create_foreign_key(name, "recon_run", [column], ["id"])
