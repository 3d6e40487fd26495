"""The source files a run could see, for the audit trail on the "Run info" sheet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, select

from reconcile.categories import SourceStatus
from reconcile.db.tables import SourceFile
from reconcile.report.scope import ReportScope

_YIELD_PER = 2_000


@dataclass(frozen=True, slots=True)
class SourceFileRow:
    """One loaded file: what it was and the hash that proves which bytes it held."""

    id: int
    kind: str
    name: str
    sha256: str
    size_bytes: int
    imported_at: dt.datetime
    rows: str


def source_file_rows(
    conn: Connection, *, scope: ReportScope
) -> Iterator[SourceFileRow]:
    """Files loaded before the run started, oldest first."""
    f = SourceFile
    statement = (
        select(f.id, f.kind, f.name, f.sha256, f.size_bytes, f.imported_at, f.counts)
        .where(f.status == SourceStatus.LOADED, f.imported_at <= scope.run.started_at)
        .order_by(f.id)
        .execution_options(yield_per=_YIELD_PER)
    )
    for row in conn.execute(statement):
        counts = row.counts or {}
        yield SourceFileRow(
            id=row.id,
            kind=str(row.kind),
            name=row.name,
            sha256=row.sha256,
            size_bytes=row.size_bytes,
            imported_at=row.imported_at,
            rows=", ".join(f"{table} {n}" for table, n in counts.items()),
        )
