"""A file's identity is (kind, SHA-256, sheet), not its SHA-256 alone.

With ``sha256`` unique among loaded files, the same bytes imported as another kind
(a CSV that is both a deposits and a ledger export by mistake, then by intent), or
another worksheet of the same XLSX workbook (``--sheet Deposits`` after ``--sheet
Claims``), were wrongly "already imported" and never read. ``source_file`` gains
``sheet`` (the worksheet read; empty for CSV, BAI2 and 835 files, and for every row
already there: before this revision only one sheet per workbook could load), and the
unique index among loaded files covers (kind, sha256, sheet).

Downgrading restores the old index; it refuses, saying why, while two loaded files
share a SHA-256 (the old schema cannot hold them).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LOADED = sa.text("status = 'loaded'")


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("source_file", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sheet", sa.String(length=255), server_default="", nullable=False)
        )
        batch_op.drop_index(
            "uq_source_file_sha256_loaded",
            sqlite_where=_LOADED,
            postgresql_where=_LOADED,
        )
        batch_op.create_index(
            "uq_source_file_identity_loaded",
            ["kind", "sha256", "sheet"],
            unique=True,
            sqlite_where=_LOADED,
            postgresql_where=_LOADED,
        )


def downgrade() -> None:
    """Undo this revision.

    Raises:
        RuntimeError: two loaded files share a SHA-256 (as two kinds or sheets).
    """
    shared = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT sha256 FROM source_file WHERE status = 'loaded' "
                "GROUP BY sha256 HAVING count(*) > 1"
            )
        )
        .scalars()
        .first()
    )
    if shared is not None:
        raise RuntimeError(
            f"cannot downgrade below revision 0003: the same file (SHA-256 {shared}) "
            "was loaded as more than one kind or sheet, which older revisions cannot "
            "record"
        )
    with op.batch_alter_table("source_file", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_source_file_identity_loaded",
            sqlite_where=_LOADED,
            postgresql_where=_LOADED,
        )
        batch_op.create_index(
            "uq_source_file_sha256_loaded",
            ["sha256"],
            unique=True,
            sqlite_where=_LOADED,
            postgresql_where=_LOADED,
        )
        batch_op.drop_column("sheet")
