"""Keys repeated inside a file: screened while staging, placed by one query.

Each source has a key that may appear once in a file (``claim_id``, ``deposit_id``,
…). The second and later rows with a key are problems naming the line that had it
first. :func:`repeated_keys` finds them exactly with one ``GROUP BY`` over the
stage (memory flat however large the file), but that pass costs as much as a
second look at every row (a million claims: 0.8 s on PostgreSQL, 0.55 s on SQLite)
and almost never finds anything. So :class:`RepeatScreen` watches the keys as they
stream into the stage, and the query runs only when it saw a candidate.

The screen is used on PostgreSQL only, where the query (0.8 s per million rows, its
hash table spilling to disk) costs twice the screen's hashing (0.4 s, while the
rows are copied). On SQLite the two cost the same, so the screen would only add its
memory (about 75 MB per million keys), and the query runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import Connection, Table, func, select

from reconcile.ingest.practice.copy_text import Columns


class RepeatScreen:
    """Screens a file's keys for repeats while they stream into the stage.

    It keeps the hash of each key, not the key (a million keys: about 75 MB): equal
    keys have equal hashes, so while every hash is new no key has repeated, and
    :func:`repeated_keys` would find nothing. A hash seen before (a repeated key,
    or very rarely two keys with one hash) only says that the query must run: it
    finds and places the repeats exactly. From then on nothing more is kept.
    """

    def __init__(self, *, active: bool = True) -> None:
        """Start screening; an inactive screen keeps nothing and always says
        "maybe" (the query decides)."""
        self._hashes: set[int] | None = set() if active else None

    @classmethod
    def for_connection(cls, conn: Connection) -> RepeatScreen:
        """A screen where it pays: active on PostgreSQL (see the module docstring)."""
        return cls(active=conn.dialect.name == "postgresql")

    def add(self, keys: Sequence[object]) -> None:
        """Screen the next keys of the file."""
        hashes = self._hashes
        if hashes is None:  # inactive, or a candidate already seen
            return
        before = len(hashes)
        hashes.update(map(hash, keys))
        if len(hashes) - before < len(keys):
            self._hashes = None

    def watch(self, chunks: Iterable[Columns], *, key: int) -> Iterator[Columns]:
        """Pass ``chunks`` on, screening their column number ``key``."""
        if self._hashes is None:
            yield from chunks
            return
        for chunk in chunks:
            self.add(chunk[key])
            yield chunk

    @property
    def maybe_repeated(self) -> bool:
        """Whether some key may repeat (the query decides)."""
        return self._hashes is None


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
