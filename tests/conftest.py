"""Shared fixtures: scratch databases on SQLite (default) or PostgreSQL.

Set ``RECONCILE_TEST_DATABASE_URL`` to a PostgreSQL server URL to run the ``db`` tests
there: the session creates its own scratch databases on that server (from a template
at the newest schema) and drops them at the end. Without it, databases are SQLite
files under pytest's ``tmp_path``. Tests that use a database fixture are marked ``db``
automatically; ``postgres`` tests are skipped on SQLite.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from reconcile.db.engine import make_engine
from reconcile.db.schema import upgrade

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TEST_URL_ENV = "RECONCILE_TEST_DATABASE_URL"
DB_FIXTURES = {
    "connection",
    "scratch",
    "database_url",
    "engine",
    "session",
    "fresh_url",
    "fresh_engine",
}


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    on_postgres = _server_url() is not None
    skip_pg = pytest.mark.skip(reason=f"PostgreSQL only: set {TEST_URL_ENV}")
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
        if "postgres" in item.keywords:
            item.add_marker(pytest.mark.db)
            if not on_postgres:
                item.add_marker(skip_pg)


def _server_url() -> str | None:
    url = os.environ.get(TEST_URL_ENV)
    if not url:
        return None
    if not make_url(url).get_backend_name().startswith("postgresql"):
        raise pytest.UsageError(f"{TEST_URL_ENV} must be a PostgreSQL URL")
    return url


class ScratchDatabases:
    """Creates databases at the newest schema, quickly, for one test session."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.server = _server_url()
        self.created: list[str] = []
        self.template = self._make_template()

    def _admin(self) -> Engine:
        assert self.server
        url = make_url(self.server).set(drivername="postgresql+psycopg")
        return create_engine(url, isolation_level="AUTOCOMMIT")

    def _pg_url(self, name: str) -> str:
        assert self.server
        url = make_url(self.server).set(drivername="postgresql+psycopg", database=name)
        return url.render_as_string(hide_password=False)

    def _make_template(self) -> str:
        if self.server is None:
            path = self.tmp / "template.db"
            engine = make_engine(f"sqlite:///{path}")
            upgrade(engine)
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            return str(path)
        name = f"reconcile_tmpl_{uuid.uuid4().hex[:10]}"
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        engine = make_engine(self._pg_url(name))
        upgrade(engine)
        engine.dispose()
        return name

    def new_url(self) -> str:
        """Return the URL of a new database at the newest schema."""
        if self.server is None:
            path = self.tmp / f"db-{uuid.uuid4().hex[:10]}.db"
            shutil.copyfile(self.template, path)
            return f"sqlite:///{path}"
        name = f"reconcile_test_{uuid.uuid4().hex[:10]}"
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        admin.dispose()
        self.created.append(name)
        return self._pg_url(name)

    def empty_url(self) -> str:
        """Return the URL of a new, empty database (no schema)."""
        if self.server is None:
            return f"sqlite:///{self.tmp / f'empty-{uuid.uuid4().hex[:10]}.db'}"
        name = f"reconcile_empty_{uuid.uuid4().hex[:10]}"
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return self._pg_url(name)

    def drop_all(self) -> None:
        if self.server is None:
            return
        admin = self._admin()
        with admin.connect() as conn:
            for name in reversed(self.created):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(autouse=True)
def _scratch_working_directory(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run every test in a folder of its own: runs write their workbooks to the
    ``[reports]`` folder, which is relative to the working directory."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture(scope="session")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchDatabases]:
    """The session's database factory (SQLite files or PostgreSQL databases)."""
    databases = ScratchDatabases(tmp_path_factory.mktemp("databases"))
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def database_url(scratch: ScratchDatabases) -> str:
    """A database at the newest schema shared by the session (use ``session``)."""
    return scratch.new_url()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the shared session database."""
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (savepoint recipe)."""
    with engine.connect() as connection:
        transaction = connection.begin()
        db = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield db
        finally:
            db.close()
            transaction.rollback()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection whose transaction is rolled back after the test."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield conn
        finally:
            transaction.rollback()


@pytest.fixture
def fresh_url(scratch: ScratchDatabases) -> str:
    """The URL of a database of the test's own, at the newest schema."""
    return scratch.new_url()


@pytest.fixture
def fresh_engine(fresh_url: str) -> Iterator[Engine]:
    """An engine on a database of the test's own (commits are fine)."""
    eng = make_engine(fresh_url)
    yield eng
    eng.dispose()
