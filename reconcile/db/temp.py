"""Temporary tables for one run's intermediate sets (scope, states, candidates).

They live in the run's own connection and transaction: a rollback (or a killed
process) leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, Connection, Index, MetaData, Table


def create_temp(
    conn: Connection,
    name: str,
    columns: Sequence[Column[object]],
    *,
    indexes: Sequence[Sequence[str]] = (),
) -> Table:
    """Create (or re-create) the temporary table ``name`` and return it."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    metadata = MetaData()
    table = Table(name, metadata, *columns, prefixes=["TEMPORARY"])
    for number, cols in enumerate(indexes):
        Index(f"{name}_i{number}", *(table.c[c] for c in cols))
    metadata.create_all(conn)
    return table


def drop_temp(conn: Connection, *tables: Table) -> None:
    """Drop temporary tables created by :func:`create_temp`."""
    for table in tables:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")
