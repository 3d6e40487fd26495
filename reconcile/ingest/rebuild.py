"""Large loads rebuild a table's secondary indexes and checks instead of paying per row.

Inserting a million rows into a table with indexes in random key order (patient
accounts, dates) costs a page lookup per row and index; building each index once,
sorted, after the load is several times faster (SQLite: 10 s → 2 s for a million
claims). On PostgreSQL every inserted row also fires a foreign-key trigger (about
4 s per million rows and key); adding the constraint back after the load checks
all rows with one join instead. The PostgreSQL manual gives both pieces of advice
("Populating a Database"). Unique keys (the primary key, unique constraints and
indexes) stay in place and guard the load, unless the loading code guarantees them
itself and says so (``unique=True``, PostgreSQL only): then they go too, with the
foreign keys of other tables that point at them, and come back after the load. Each
index is then built once from sorted keys instead of a B-tree descent and its WAL
per row (a million claim versions: 3.1 s with both keys in place; 1.3 s without,
plus 0.3 s and 0.4 s to add them back), and adding a key back checks every row
again, in the same transaction: a violation still rolls the whole load back.

The drop and the rebuild happen inside the import's one transaction, so a rejected
or failed import rolls both back, and other sessions never see the table without
them: on SQLite readers keep their snapshot; on PostgreSQL ``DROP INDEX`` and
``DROP CONSTRAINT`` make them wait for the import's commit, which is why only a
load that at least doubles the table (a first import, a large backfill) does it,
and only when its tables are not in use (:func:`lock_for_rebuild`).
The definitions come from the models, so the schema afterwards is the migrated one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager

from sqlalchemy import (
    Connection,
    Constraint,
    ForeignKeyConstraint,
    Table,
    UniqueConstraint,
    exc,
    func,
    select,
    text,
)
from sqlalchemy.schema import AddConstraint, DropConstraint

log = logging.getLogger(__name__)

#: Below this many new rows, per-row index updates and checks are cheap enough.
REBUILD_FROM_ROWS = 50_000
_LOCK_NOT_AVAILABLE = "55P03"

#: PostgreSQL memory for this transaction's sorts and hashes (finding repeated keys
#: in a million staged rows) and index builds; the defaults (4 MB, 64 MB) spill a
#: million-row sort to disk. Server memory, for the import's one transaction only.
_POSTGRES_LOCAL_SETTINGS = {"work_mem": "64MB", "maintenance_work_mem": "256MB"}


def tune_for_bulk_load(conn: Connection) -> None:
    """Give the import's transaction room for large sorts (PostgreSQL only)."""
    if conn.dialect.name != "postgresql":
        return
    for name, value in _POSTGRES_LOCAL_SETTINGS.items():
        conn.execute(
            text("SELECT set_config(:name, :value, true)"),
            {"name": name, "value": value},
        )


def worth_rebuilding(conn: Connection, table: Table, *, new_rows: int) -> bool:
    """Whether ``new_rows`` more rows are enough to rebuild ``table``'s indexes.

    They are when there are at least :data:`REBUILD_FROM_ROWS` of them and more
    than the table holds already (its highest id: an upper bound of its rows, found
    in the primary key without counting).
    """
    if new_rows < REBUILD_FROM_ROWS:
        return False
    highest = conn.execute(select(func.max(table.c.id))).scalar_one()
    return new_rows > int(highest or 0)


def lock_for_rebuild(conn: Connection, tables: Sequence[Table]) -> bool:
    """Take the locks a rebuild of ``tables`` needs, now or not at all.

    On PostgreSQL dropping an index or a constraint needs an ``ACCESS EXCLUSIVE``
    lock. Waiting for it while a run reads the tables could deadlock (each holding
    a table the other wants), so all are locked at once with ``NOWAIT``, inside a
    savepoint: if any table is busy, nothing is locked and the load simply keeps
    its indexes (slower, never stuck). SQLite needs nothing: the import already
    holds the database's write lock and readers keep their snapshot.
    """
    if conn.dialect.name != "postgresql":
        return True
    names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in tables)
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE NOWAIT")
    except exc.OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
            raise
        log.info("tables in use: loading %s with their indexes in place", names)
        return False
    return True


@contextmanager
def _indexes_rebuilt(conn: Connection, table: Table) -> Iterator[None]:
    secondary = sorted(
        (index for index in table.indexes if not index.unique),
        key=lambda index: str(index.name),
    )
    for index in secondary:
        index.drop(conn)
    yield
    for index in secondary:
        index.create(conn)


@contextmanager
def _foreign_keys_revalidated(conn: Connection, table: Table) -> Iterator[None]:
    keys = sorted(table.foreign_key_constraints, key=lambda fk: str(fk.name))
    for key in keys:
        conn.execute(DropConstraint(key))
    yield
    for key in keys:
        conn.execute(AddConstraint(key))


def _referencing(table: Table) -> list[ForeignKeyConstraint]:
    """Other tables' foreign keys that point at ``table`` (in the same metadata)."""
    return sorted(
        (
            key
            for other in table.metadata.tables.values()
            if other is not table
            for key in other.foreign_key_constraints
            if key.referred_table is table
        ),
        key=lambda key: str(key.name),
    )


@contextmanager
def _unique_keys_rechecked(conn: Connection, table: Table) -> Iterator[None]:
    referencing = _referencing(table)
    keys: list[Constraint] = [table.primary_key] if table.primary_key.columns else []
    keys += sorted(
        (c for c in table.constraints if isinstance(c, UniqueConstraint)),
        key=lambda key: str(key.name),
    )
    indexes = sorted(
        (index for index in table.indexes if index.unique),
        key=lambda index: str(index.name),
    )
    # Foreign keys pointing here depend on the keys: they go first, come back last.
    for foreign in referencing:
        conn.execute(DropConstraint(foreign))
    for key in keys:
        conn.execute(DropConstraint(key))
    for index in indexes:
        index.drop(conn)
    yield
    for key in keys:
        conn.execute(AddConstraint(key))
    for index in indexes:
        index.create(conn)
    for foreign in referencing:
        conn.execute(AddConstraint(foreign))


@contextmanager
def rebuilt(
    conn: Connection, table: Table, *, rebuild: bool, unique: bool = False
) -> Iterator[None]:
    """Load ``table`` in the block without its secondary indexes (and, on
    PostgreSQL, foreign keys), then create them again; with ``rebuild`` false the
    block runs with everything in place.

    With ``unique`` (PostgreSQL only: SQLite cannot drop a table's primary key or
    ``UNIQUE`` constraints) the primary key, unique constraints and unique indexes
    go too, with other tables' foreign keys that point at them, and are added back,
    checking every row. Ask for it only when the block's statements guarantee those
    keys themselves and look nothing up through them, and after locking the tables
    whose foreign keys point at ``table`` too (:func:`lock_for_rebuild`).

    Raises:
        sqlalchemy.exc.IntegrityError: a row breaks a unique key added back (the
            caller's transaction then rolls back the whole load).
    """
    with ExitStack() as stack:
        if rebuild:
            stack.enter_context(_indexes_rebuilt(conn, table))
            if conn.dialect.name == "postgresql":
                stack.enter_context(_foreign_keys_revalidated(conn, table))
                if unique:
                    stack.enter_context(_unique_keys_rechecked(conn, table))
        yield
