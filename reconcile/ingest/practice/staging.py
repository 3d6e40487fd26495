"""Staging: a file's rows bulk-copied into a temporary table, checked there as a set.

Every practice file is first copied into a temporary table of its own connection
(``COPY`` on PostgreSQL, ``executemany`` of tuples on SQLite), inside the file's one
write transaction. Keys repeated inside the file are then found with one ``GROUP
BY`` (memory stays flat however large the file), and the rows are written to the
source tables with ``INSERT … SELECT`` against what is already there
(:mod:`~reconcile.ingest.practice.claims`, :mod:`~reconcile.ingest.practice.keyed`).
On PostgreSQL the table disappears at commit or rollback; on SQLite it is dropped
explicitly, or with the rollback of a rejected file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    func,
    select,
)
from sqlalchemy.types import TypeEngine

from reconcile.db.base import Base
from reconcile.db.bulk import copy_rows
from reconcile.ingest.tabular.spec import ColumnType, TableSpec

_TYPES: dict[ColumnType, TypeEngine[Any]] = {
    ColumnType.DATE: Date(),
    ColumnType.AMOUNT: BigInteger(),
}


def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class (typed as a ``Table``, not a ``FromClause``)."""
    return Base.metadata.tables[model.__tablename__]


def stage_table(spec: TableSpec, *, extra: Sequence[tuple[str, int]] = ()) -> Table:
    """Describe the temporary table for one source: ``seq``, ``line_number``, then
    the spec's columns under their target names, then ``extra`` text columns
    (name, length) that only some formats fill (BAI2's originator id)."""
    columns = [
        Column(
            column.target,
            _TYPES.get(column.type) or String(column.max_length),
            nullable=not column.required,
        )
        for column in spec.columns
    ]
    columns += [Column(name, String(length)) for name, length in extra]
    return Table(
        f"stage_{spec.source}",
        MetaData(),
        Column("seq", BigInteger(), nullable=False),
        Column("line_number", Integer(), nullable=False),
        *columns,
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


def _schema(conn: Connection) -> str:
    return "pg_temp" if conn.dialect.name == "postgresql" else "temp"


def create_stage(conn: Connection, table: Table) -> None:
    """Create the temporary table (replacing one left on this connection)."""
    drop_stage(conn, table)
    table.create(conn)


def drop_stage(conn: Connection, table: Table) -> None:
    """Drop the temporary table if it exists."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_schema(conn)}.{table.name}")


def fill_stage(conn: Connection, table: Table, rows: Iterable[Sequence[object]]) -> int:
    """Bulk-copy prepared rows (``seq, line_number, …`` in column order)."""
    return copy_rows(
        conn, table.name, [c.name for c in table.columns], rows, prepared=True
    )


def repeated_keys(
    conn: Connection, table: Table, *, key: str, limit: int
) -> list[tuple[int, int]]:
    """Return ``(line, first line)`` for rows whose ``key`` an earlier row has.

    At most ``limit`` of them, by line.
    """
    column = table.c[key]
    firsts = (
        select(column.label("key"), func.min(table.c.line_number).label("first"))
        .group_by(column)
        .having(func.count() > 1)
        .subquery()
    )
    query = (
        select(table.c.line_number, firsts.c.first)
        .join(firsts, firsts.c.key == column)
        .where(table.c.line_number > firsts.c.first)
        .order_by(table.c.line_number)
        .limit(limit)
    )
    return [(int(line), int(first)) for line, first in conn.execute(query)]
