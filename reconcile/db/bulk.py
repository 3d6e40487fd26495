"""Bulk writes: COPY on PostgreSQL, ``executemany`` of tuples on SQLite.

Loading a million rows through ORM objects or Core inserts of dicts is 5-10x slower
than these paths (STYLE.md, measured here). Callers hold one write transaction
(:func:`write_transaction`) for a whole file, reserve primary keys up front
(:func:`reserve_ids`) so child rows can reference their parents without a round trip,
and stream tuples in.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain, islice
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Engine, text

if TYPE_CHECKING:
    import psycopg

#: Serialises writers of source data on PostgreSQL (imports), so id reservation and
#: duplicate checks see a stable table. SQLite's BEGIN IMMEDIATE does the same there.
IMPORT_LOCK_KEY = 0x696D706F7274  # "import"

_SQLITE_CHUNK = 5_000
#: Values bound in one SQLite statement, at most (SQLite's limit before 3.32 was 999;
#: the groups this allows already pay most of what grouping saves).
_SQLITE_VARIABLES = 999


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """Open one transaction that holds the writers' lock until it ends."""
    with (
        engine.connect().execution_options(begin_immediate=True) as conn,
        conn.begin(),
    ):
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY}
            )
        yield conn


def reserve_ids(conn: Connection, table: str, count: int) -> int:
    """Reserve ``count`` consecutive primary keys of ``table``; return the first.

    Must run inside :func:`write_transaction` (which keeps other writers out).
    """
    if count <= 0:
        raise ValueError("count must be positive")
    if conn.dialect.name == "sqlite":
        highest = conn.exec_driver_sql(f"SELECT max(id) FROM {table}").scalar()  # noqa: S608 (table names are ours)
        return int(highest or 0) + 1
    sequence = conn.execute(
        text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table}
    ).scalar_one()
    first = int(conn.execute(text("SELECT nextval(:s)"), {"s": sequence}).scalar_one())
    if count > 1:
        conn.execute(
            text("SELECT setval(:s, :v)"), {"s": sequence, "v": first + count - 1}
        )
    return first


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("refusing to store a naive datetime")
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _pg_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def copy_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    prepared: bool = False,
) -> int:
    """Write ``rows`` (tuples in ``columns`` order) into ``table``; return how many.

    Dates, aware datetimes and JSON values (dicts and lists) are converted here, unless
    the caller says the rows are ``prepared``: then dates are already ISO strings, JSON
    is already text, and the tuples go to the driver untouched (the hot path).
    """
    column_list = ", ".join(columns)
    written = 0
    if conn.dialect.name == "postgresql":
        raw = cast("psycopg.Connection[Any]", conn.connection.dbapi_connection)
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row if prepared else [_pg_value(v) for v in row])
                written += 1
        return written
    # Several rows per INSERT: SQLite's per-statement work (reset, step, the
    # driver's call) is paid once per group rather than once per row.
    per_statement = max(1, _SQLITE_VARIABLES // len(columns))
    iterator = iter(rows)
    while chunk := list(islice(iterator, _SQLITE_CHUNK)):
        if not prepared:
            chunk = [tuple(_sqlite_value(v) for v in row) for row in chunk]
        whole = len(chunk) - len(chunk) % per_statement
        if whole:
            conn.exec_driver_sql(
                _sqlite_insert(table, column_list, len(columns), per_statement),
                [
                    tuple(chain.from_iterable(chunk[start : start + per_statement]))
                    for start in range(0, whole, per_statement)
                ],
            )
        if whole < len(chunk):
            rest = chunk[whole:]
            conn.exec_driver_sql(
                _sqlite_insert(table, column_list, len(columns), len(rest)),
                tuple(chain.from_iterable(rest)),
            )
        written += len(chunk)
    return written


def _sqlite_insert(table: str, column_list: str, width: int, rows: int) -> str:
    """``INSERT … VALUES (?, …), (?, …)`` for ``rows`` rows of ``width`` values."""
    group = f"({', '.join('?' * width)})"
    values = ", ".join([group] * rows)
    return f"INSERT INTO {table} ({column_list}) VALUES {values}"  # noqa: S608 (names are ours)


def analyze(conn: Connection, tables: Iterable[str]) -> None:
    """Refresh the planner's statistics after a bulk load (a stale plan costs 100x)."""
    if conn.dialect.name == "sqlite":
        # Sample rather than scan: enough for the planner, cheap on big tables.
        conn.exec_driver_sql("PRAGMA analysis_limit = 2000")
    for table in tables:
        conn.exec_driver_sql(f"ANALYZE {table}")
