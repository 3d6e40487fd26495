"""SQLite's page cache is large only on a run's connection: imports stay flat."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, text

from reconcile.db.engine import RUN_OPTIONS, SQLITE_CACHE_KIB, make_engine

DEFAULT_KIB = 2000  # SQLite's compiled-in default page cache, -2000 = 2000 KiB


def _cache(conn: Connection) -> tuple[int, int]:
    return (
        conn.execute(text("PRAGMA main.cache_size")).scalar_one(),
        conn.execute(text("PRAGMA temp.cache_size")).scalar_one(),
    )


class TestSqliteCache:
    def test_only_a_run_connection_has_the_large_cache(self, tmp_path: Path) -> None:
        """Imports and reads get the default; RUN_OPTIONS the large cache; the
        pooled connection is back to the default for the next import."""
        engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}", pool_size=1)
        try:
            with engine.begin() as conn:
                # temp reads 0 ("the default") until it is set
                assert _cache(conn) in ((-DEFAULT_KIB, 0), (-DEFAULT_KIB, -DEFAULT_KIB))
            with (
                engine.connect().execution_options(**RUN_OPTIONS) as conn,
                conn.begin(),
            ):
                assert _cache(conn) == (-SQLITE_CACHE_KIB, -SQLITE_CACHE_KIB)
            with (
                engine.connect().execution_options(begin_immediate=True) as conn,
                conn.begin(),
            ):
                assert _cache(conn) == (-DEFAULT_KIB, -DEFAULT_KIB)
        finally:
            engine.dispose()
