"""Staging: a file's rows bulk-copied into a temporary table, checked there as a set.

Every practice file is first copied into a temporary table of its own connection,
inside the file's one write transaction, in column-wise chunks of rows: on
PostgreSQL each chunk becomes one block of ``COPY`` text
(:mod:`~reconcile.ingest.practice.copy_text`), on SQLite one ``executemany`` of
tuples. Keys repeated inside the file are then found in the stage (on PostgreSQL
only if a screen of the keys streaming past saw a candidate:
:mod:`~reconcile.ingest.practice.repeats`). The rows are then written to the source
tables with ``INSERT … SELECT`` against what is already there
(:mod:`~reconcile.ingest.practice.claims`, :mod:`~reconcile.ingest.practice.keyed`).
On PostgreSQL the table disappears at commit or rollback; on SQLite it is dropped
explicitly, or with the rollback of a rejected file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    String,
    Table,
)
from sqlalchemy.types import TypeEngine

from reconcile.db.base import Base
from reconcile.ingest.practice.copy_text import Columns, CopyText
from reconcile.ingest.tabular.spec import ColumnType, TableSpec

if TYPE_CHECKING:
    import psycopg

#: Rows per chunk when rows come one by one (BAI2 files).
CHUNK_ROWS = 500

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


def numbered(chunks: Iterable[Columns]) -> Iterator[Columns]:
    """Put ``seq`` before each chunk's columns: the rows numbered from 0."""
    seq = 0
    for chunk in chunks:
        rows = len(chunk[0])
        yield [range(seq, seq + rows), *chunk]
        seq += rows


def chunks_of(rows: Iterable[Sequence[object]]) -> Iterator[Columns]:
    """Turn rows (tuples in the stage's column order) into column-wise chunks."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, CHUNK_ROWS)):
        yield list(zip(*chunk, strict=True))


def fill_stage(conn: Connection, table: Table, chunks: Iterable[Columns]) -> int:
    """Bulk-copy column-wise chunks of prepared values (``seq``, ``line_number``,
    … in the table's column order: text, ISO dates, integers or None); return how
    many rows."""
    names = [c.name for c in table.columns]
    written = 0
    if conn.dialect.name == "postgresql":
        text = CopyText(table)
        raw = cast("psycopg.Connection[Any]", conn.connection.dbapi_connection)
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy,
        ):
            for chunk in chunks:
                copy.write(text(chunk))
                written += len(chunk[0])
        return written
    marks = ", ".join("?" for _ in names)
    statement = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"  # noqa: S608 (names are ours)
    for chunk in chunks:
        conn.exec_driver_sql(statement, list(zip(*chunk, strict=True)))
        written += len(chunk[0])
    return written
