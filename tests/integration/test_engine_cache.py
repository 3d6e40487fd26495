"""A run's connection gets its own memory settings (SQLite's page cache,
PostgreSQL's work_mem and JIT); imports and reads keep the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, exc, text

from reconcile.db.engine import (
    POSTGRES_RUN_SETTINGS,
    POSTGRES_TEMP_BUFFERS,
    RUN_OPTIONS,
    SQLITE_CACHE_KIB,
    make_engine,
    postgres_settings,
)

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


@pytest.mark.postgres
class TestPostgresSettings:
    def test_run_transactions_get_memory_and_no_jit(self, database_url: str) -> None:
        """Every session may keep 512 MB of temporary-table pages; only a run's
        transaction gets the run's work_mem and no JIT, and only until it ends."""
        engine = make_engine(database_url, pool_size=1)

        def shown(conn: Connection) -> tuple[str, str, str]:
            return (
                conn.execute(text("SHOW temp_buffers")).scalar_one(),
                conn.execute(text("SHOW work_mem")).scalar_one(),
                conn.execute(text("SHOW jit")).scalar_one(),
            )

        try:
            with engine.begin() as conn:
                plain = shown(conn)
            with (
                engine.connect().execution_options(**RUN_OPTIONS) as conn,
                conn.begin(),
            ):
                assert shown(conn) == (
                    POSTGRES_TEMP_BUFFERS,
                    POSTGRES_RUN_SETTINGS["work_mem"],
                    "off",
                )
            with engine.begin() as conn:
                assert shown(conn) == plain
            assert plain[0] == POSTGRES_TEMP_BUFFERS
        finally:
            engine.dispose()

    def test_postgres_settings_last_for_the_block(self, database_url: str) -> None:
        """A block's settings apply inside it and the transaction's come back after;
        a savepoint rolled back over a failed block undoes them too."""
        engine = make_engine(database_url, pool_size=1)
        show = text("SHOW enable_nestloop")
        try:
            with engine.begin() as conn:
                with postgres_settings(conn, enable_nestloop="off"):
                    assert conn.execute(show).scalar_one() == "off"
                assert conn.execute(show).scalar_one() == "on"
                with (
                    pytest.raises(exc.DBAPIError),
                    conn.begin_nested(),
                    postgres_settings(conn, enable_nestloop="off"),
                ):
                    conn.execute(text("SELECT 1 / 0"))
                assert conn.execute(show).scalar_one() == "on"
        finally:
            engine.dispose()
