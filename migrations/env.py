"""Alembic environment: runs migrations on the connection ``reconcile`` hands over, or
on the configured database when the ``alembic`` command is used directly."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import JSON, Connection, text

import reconcile.db.tables  # noqa: F401  (registers every table on the metadata)
from reconcile.db.base import Base, UTCDateTime
from reconcile.db.engine import make_engine
from reconcile.settings import load_settings

#: Serialises concurrent schema creation on PostgreSQL (two first commands at once).
SCHEMA_LOCK_KEY = 0x7265636F6E  # "recon"


def render_item(
    type_: str, obj: Any, autogen_context: AutogenContext
) -> str | Literal[False]:
    """Render our column types as plain SQLAlchemy types in migration files."""
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, JSON) and "postgresql" in obj._variant_mapping:
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    return False


def run_on(connection: Connection) -> None:
    """Configure Alembic on ``connection`` and run the requested migrations."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY}
            )
        context.run_migrations()


def main() -> None:
    """Entry point Alembic calls when it loads this file."""
    if context.is_offline_mode():
        raise SystemExit("reconcile migrations run online only")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    settings = load_settings()
    engine = make_engine(settings.database.url)
    with engine.connect() as conn:
        run_on(conn)
        conn.commit()


main()
