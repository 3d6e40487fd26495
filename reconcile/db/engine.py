"""Engines for SQLite (the embedded default) and PostgreSQL, chosen only by URL.

SQLite: WAL journal, foreign keys on, a busy timeout, and SQLAlchemy's documented
recipe for pysqlite transactions (the driver's own transaction handling is switched off
and every transaction starts with an explicit ``BEGIN``, so a ``SELECT`` is inside it
too). A connection with the execution option ``begin_immediate=True`` starts with
``BEGIN IMMEDIATE`` instead, taking SQLite's write lock at once.

PostgreSQL: psycopg 3 (``postgresql://`` URLs are read as ``postgresql+psycopg://``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
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


#: Page cache per SQLite database (main and temp), in KiB.
SQLITE_CACHE_KIB = 131_072


def redact(url: str | URL) -> str:
    """Return the URL with its password hidden, for messages and reports."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except exc.ArgumentError:
        return "<invalid URL>"
    return parsed.render_as_string(hide_password=True)


def _on_sqlite_connect(
    dbapi_connection: DBAPIConnection, _: ConnectionPoolEntry
) -> None:
    # Hand transaction control to SQLAlchemy (see the "begin" listener).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    # SQLite's default page cache is 2 MB; a run joins tables of a million rows and
    # builds temporary tables as large (the temp database has its own cache).
    for schema in ("main", "temp"):
        cursor.execute(f"PRAGMA {schema}.cache_size = -{SQLITE_CACHE_KIB}")
    cursor.close()


def _on_sqlite_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get("begin_immediate", False)
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
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


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
