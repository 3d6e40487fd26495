"""Engines for SQLite (the embedded default) and PostgreSQL, chosen only by URL.

SQLite: WAL journal, foreign keys on, a busy timeout, and SQLAlchemy's documented
recipe for pysqlite transactions (the driver's own transaction handling is switched off
and every transaction starts with an explicit ``BEGIN``, so a ``SELECT`` is inside it
too). A connection with the execution option ``begin_immediate=True`` starts with
``BEGIN IMMEDIATE`` instead, taking SQLite's write lock at once.

SQLite's page cache stays at its default (about 2 MB per database) except on the
connection of a run: the execution option ``large_cache=True`` (what
``pipeline.run`` sets, :data:`RUN_OPTIONS`) raises it to :data:`SQLITE_CACHE_KIB`
for main and temp, and the next transaction without it on the same pooled
connection lowers it again. Imports stream a file through a temporary table and
``INSERT … SELECT``, where a big cache only grows the process (every page it reads
stays cached); a run joins million-row tables again and again, where it pays.

PostgreSQL: psycopg 3 (``postgresql://`` URLs are read as ``postgresql+psycopg://``).
Every connection may keep up to :data:`POSTGRES_TEMP_BUFFERS` of temporary-table
pages in memory (the server's default, 8 MB, is set before a session first touches a
temporary table, and a run's temporary tables of a million claims are a hundred times
that: every join on them read the pages back from the operating system). The same
``large_cache`` option gives a run's transaction :data:`POSTGRES_RUN_SETTINGS`: memory
for its sorts and hashes, and no JIT compilation (compiling each of a run's few
hundred statements cost more than it saved).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from reconcile.errors import UsageError

SQLITE_BUSY_TIMEOUT_MS = 30_000


class DatabaseUrlError(UsageError):
    """A database URL that ``reconcile`` cannot use."""


class DatabaseUnavailableError(UsageError):
    """The database could not be reached or opened."""


def normalise_url(url: str) -> URL:
    """Parse ``url``, choosing psycopg 3 for PostgreSQL.

    Raises:
        DatabaseUrlError: not a URL, or a database other than SQLite and PostgreSQL.
    """
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise DatabaseUrlError(
            f"{url!r} is not a database URL; use sqlite:///FILE or "
            "postgresql+psycopg://USER@HOST/DB"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgresql" and driver in ("", "psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return parsed
    raise DatabaseUrlError(
        f"unsupported database URL {redact(url)!r}: use sqlite:///FILE or "
        "postgresql+psycopg://USER@HOST/DB"
    )


#: Page cache per SQLite database (main and temp) of a run's connection, in KiB.
SQLITE_CACHE_KIB = 131_072
#: Execution options of the connection a run works on (see the module docstring).
RUN_OPTIONS = {"large_cache": True}
_CACHE_SCHEMAS = ("main", "temp")
#: ``connection.info`` key: the cache size the connection has now.
_CACHE_KEY = "reconcile_cache_size"
#: ``connection.info`` key: the cache size SQLite gave the connection.
_DEFAULT_CACHE_KEY = "reconcile_default_cache_size"


def redact(url: str | URL) -> str:
    """Return the URL with its password hidden, for messages and reports."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except exc.ArgumentError:
        return "<invalid URL>"
    return parsed.render_as_string(hide_password=True)


def _on_sqlite_connect(
    dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry
) -> None:
    # Hand transaction control to SQLAlchemy (see the "begin" listener).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA cache_size")
    row = cursor.fetchone()
    cursor.close()
    default = int(row[0]) if row else -2000
    record.info[_DEFAULT_CACHE_KEY] = record.info[_CACHE_KEY] = default


def _set_cache(conn: Any, *, large: bool) -> None:
    """Give the connection a run's page cache, or SQLite's default again."""
    info = conn.connection.info
    wanted = -SQLITE_CACHE_KIB if large else info.get(_DEFAULT_CACHE_KEY, -2000)
    if info.get(_CACHE_KEY) == wanted:
        return
    # A run joins tables of a million rows and builds temporary tables as large
    # (the temp database has its own cache); lowering the size frees the pages.
    for schema in _CACHE_SCHEMAS:
        conn.exec_driver_sql(f"PRAGMA {schema}.cache_size = {wanted}")
    info[_CACHE_KEY] = wanted


#: Temporary-table pages a PostgreSQL session may keep in memory (allocated only as
#: its temporary tables grow; the server's default is 8 MB).
POSTGRES_TEMP_BUFFERS = "512MB"
#: Settings of a run's transaction on PostgreSQL (``SET LOCAL``: they end with it).
POSTGRES_RUN_SETTINGS = {"work_mem": "64MB", "jit": "off"}


def _on_postgresql_connect(
    dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry
) -> None:
    cursor = dbapi_connection.cursor()
    # Only valid before the session's first temporary table: hence at connect.
    cursor.execute(f"SET temp_buffers = '{POSTGRES_TEMP_BUFFERS}'")
    cursor.close()
    # psycopg opened a transaction for the SET: end it, so the pool sees none.
    dbapi_connection.commit()


def _on_postgresql_begin(conn: Any) -> None:
    if conn.get_execution_options().get("large_cache", False):
        _set_local(conn, POSTGRES_RUN_SETTINGS)


@contextmanager
def postgres_settings(conn: Connection, **settings: str) -> Iterator[None]:
    """Give the statements in the block these PostgreSQL settings, then put back
    what the transaction had (nothing happens on SQLite).

    Only a block that ends normally puts them back: after an error the transaction
    (or the savepoint around the block) is rolled back, and that undoes them too.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    before = {
        name: conn.exec_driver_sql(
            "SELECT current_setting(%(name)s)", {"name": name}
        ).scalar_one()
        for name in settings
    }
    _set_local(conn, settings)
    yield
    _set_local(conn, before)


def _set_local(conn: Connection, settings: Mapping[str, str]) -> None:
    for name, value in settings.items():
        conn.exec_driver_sql(
            "SELECT set_config(%(name)s, %(value)s, true)",
            {"name": name, "value": value},
        )


def _on_sqlite_begin(conn: Any) -> None:
    options = conn.get_execution_options()
    _set_cache(conn, large=bool(options.get("large_cache", False)))
    immediate = options.get("begin_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL.

    Raises:
        DatabaseUrlError: the URL is not one ``reconcile`` supports.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    engine = create_engine(parsed, pool_pre_ping=True, **kwargs)
    event.listen(engine, "connect", _on_postgresql_connect)
    event.listen(engine, "begin", _on_postgresql_begin)
    return engine


def check_connection(engine: Engine) -> None:
    """Open and close one connection, translating failures into one sentence.

    Raises:
        DatabaseUnavailableError: the server is unreachable, the file cannot be
            opened, or the credentials are refused.
    """
    try:
        with engine.connect():
            pass
    except exc.DBAPIError as error:
        raise DatabaseUnavailableError(describe_connect_error(engine, error)) from None


def describe_connect_error(engine: Engine, error: exc.DBAPIError) -> str:
    """Turn a driver's connection error into one readable sentence."""
    original = str(error.orig).strip().splitlines()
    reason = original[0] if original else type(error.orig).__name__
    return f"cannot open the database {redact(engine.url)}: {reason}"
