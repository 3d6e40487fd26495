"""Deposits, patient payments and ledger postings: rows deduplicated by their ids.

A row whose id is already in the table is skipped (source data is immutable: the
first import stands); the others are written with one ``INSERT … SELECT … WHERE NOT
EXISTS``. A known id that now comes with *different* values is still skipped, but
reported as a warning with the file and line that hold the kept values, so nobody
silently believes the newer figure was taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Table, exists, insert, literal, or_, select

from reconcile.db.tables import SourceFile
from reconcile.ingest.rebuild import (
    lock_for_rebuild,
    rebuilt,
    worth_rebuilding,
)


@dataclass(frozen=True)
class KnownButDifferent:
    """A staged row whose id is known with other values."""

    line: int  # in the file being imported
    kept_file: str  # the file whose values stand
    kept_line: int


def known_but_different(
    conn: Connection,
    *,
    stage: Table,
    target: Table,
    key: str,
    columns: Sequence[str],
    limit: int,
) -> list[KnownButDifferent]:
    """Return up to ``limit`` staged rows whose ``key`` is known with other values."""
    s, t = stage.c, target.c
    query = (
        select(s.line_number, SourceFile.name, t.line_number)
        .join(target, t[key] == s[key])
        .join(SourceFile, SourceFile.id == t.source_file_id)
        .where(or_(*(s[name].is_distinct_from(t[name]) for name in columns)))
        .order_by(s.line_number)
        .limit(limit)
    )
    return [
        KnownButDifferent(line=int(line), kept_file=str(name), kept_line=int(kept))
        for line, name, kept in conn.execute(query)
    ]


def insert_new(
    conn: Connection,
    *,
    stage: Table,
    target: Table,
    key: str,
    columns: Sequence[str],
    source_file_id: int,
    staged: int,
) -> int:
    """Write the staged rows whose ``key`` is not in ``target``; return how many.

    The stage holds ``staged`` rows: a load that at least doubles ``target``
    rebuilds its indexes once (:mod:`~reconcile.ingest.rebuild`).
    """
    s, t = stage.c, target.c
    rows = select(
        literal(source_file_id), s.line_number, *(s[name] for name in columns)
    ).where(~exists().where(t[key] == s[key]))
    rebuild = worth_rebuilding(conn, target, new_rows=staged) and lock_for_rebuild(
        conn, [target]
    )
    with rebuilt(conn, target, rebuild=rebuild):
        result = conn.execute(
            insert(target).from_select(
                ["source_file_id", "line_number", *columns], rows
            ),
            execution_options={"preserve_rowcount": True},
        )
    return int(result.rowcount)
