"""Large loads rebuild a table's secondary indexes and checks instead of paying per row.

Inserting a million rows into a table with indexes in random key order (patient
accounts, dates) costs a page lookup per row and index; building each index once,
sorted, after the load is several times faster (SQLite: 10 s → 2 s for a million
claims). On PostgreSQL every inserted row also fires a foreign-key trigger (about
4 s per million rows and key); adding the constraint back after the load checks
all rows with one join instead. The PostgreSQL manual gives both pieces of advice
("Populating a Database"). Unique constraints stay in place and guard the load.

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

from sqlalchemy import Connection, Table, exc, func, select, text
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


@contextmanager
def rebuilt(conn: Connection, table: Table, *, rebuild: bool) -> Iterator[None]:
    """Load ``table`` in the block without its secondary indexes (and, on
    PostgreSQL, foreign keys), then create them again; with ``rebuild`` false the
    block runs with everything in place."""
    with ExitStack() as stack:
        if rebuild:
            stack.enter_context(_indexes_rebuilt(conn, table))
            if conn.dialect.name == "postgresql":
                stack.enter_context(_foreign_keys_revalidated(conn, table))
        yield
