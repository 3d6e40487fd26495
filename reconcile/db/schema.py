"""The schema's revision: create an empty database at head, refuse an old one.

Alembic owns the schema. Any command that needs the database calls
:func:`ensure_schema`: a database with no ``reconcile`` tables is created at the newest
revision; one at an older revision is never migrated silently (``reconcile db
upgrade`` does that); one at a revision this version does not know is refused.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from reconcile.errors import UsageError


class SchemaRevisionError(UsageError):
    """The database's schema revision is not the one this version works with."""


def migrations_path() -> Path:
    """Return the folder of the packaged ``migrations``."""
    spec = importlib.util.find_spec("migrations")
    locations = spec.submodule_search_locations if spec else None
    if not locations:
        raise RuntimeError("the reconcile migrations package is not installed")
    path = Path(next(iter(locations)))
    if not (path / "env.py").is_file():
        raise RuntimeError(f"{path} is not the reconcile migrations package")
    return path


def alembic_config(connection: Connection | None = None) -> Config:
    """Return an Alembic configuration for the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(migrations_path()))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """Return the newest revision this version of ``reconcile`` knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the migrations have no head revision")
    return head


def current_revision(connection: Connection) -> str | None:
    """Return the revision the database is at (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def _locked(engine: Engine) -> Connection:
    return engine.connect().execution_options(begin_immediate=True)


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Migrate the database to ``revision`` in one transaction; return (from, to)."""
    with _locked(engine) as connection, connection.begin():
        before = current_revision(connection)
        command.upgrade(alembic_config(connection), revision)
        after = current_revision(connection)
    assert after is not None
    return before, after


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database down to ``revision`` (for tests and operators)."""
    with _locked(engine) as connection, connection.begin():
        command.downgrade(alembic_config(connection), revision)


def ensure_schema(engine: Engine) -> None:
    """Create an empty database at head; refuse one at another revision.

    Raises:
        SchemaRevisionError: the database is at an older or unknown revision, or
            holds ``reconcile`` tables without a revision.
    """
    head = head_revision()
    with engine.connect() as connection:
        current = current_revision(connection)
        has_tables = inspect(connection).has_table("source_file")
    if current == head:
        return
    if current is None:
        if has_tables:
            raise SchemaRevisionError(
                "the database holds reconcile tables but no schema revision; "
                "it was not created by reconcile db upgrade"
            )
        upgrade(engine)
        return
    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if current in known:
        raise SchemaRevisionError(
            f"the database schema is at revision {current}, older than this version "
            f"of reconcile ({head}); run `reconcile db upgrade` first"
        )
    raise SchemaRevisionError(
        f"the database schema is at revision {current}, which this version of "
        "reconcile does not know; upgrade reconcile"
    )
