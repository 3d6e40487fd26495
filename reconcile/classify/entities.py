"""Writing the run's new queue items in bulk, and recording which run saw them.

A run may create tens of thousands of refunds or recoupments at once (a first run
over a year of data): one ``INSERT … RETURNING`` per item would dominate the run, so
new items get reserved ids and are copied in together, and the run's bookkeeping
(``last_seen_run_id``, ``seen_as_of``) is one update per thousand items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, update

from reconcile.context import RunContext
from reconcile.db.bulk import copy_rows, reserve_ids

_CHUNK = 1_000


def create_all(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> list[int]:
    """Insert ``rows`` (dicts of column values, same keys) and return their new ids."""
    if not rows:
        return []
    columns = ["id", *rows[0]]
    first = reserve_ids(conn, table.name, len(rows))
    ids = list(range(first, first + len(rows)))
    copy_rows(
        conn,
        table.name,
        columns,
        [(new_id, *row.values()) for new_id, row in zip(ids, rows, strict=True)],
    )
    return ids


def mark_seen(
    conn: Connection, table: Table, ids: Sequence[int], ctx: RunContext
) -> None:
    """Record that this run confirmed the items ``ids``."""
    for start in range(0, len(ids), _CHUNK):
        conn.execute(
            update(table)
            .where(table.c.id.in_(ids[start : start + _CHUNK]))
            .values(last_seen_run_id=ctx.run_id, seen_as_of=ctx.as_of)
        )
