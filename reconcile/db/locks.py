"""One run at a time per database, across processes and machines.

PostgreSQL: a session-level advisory lock held on a dedicated connection for the whole
run (it vanishes with the connection, so a dead process never holds it); the
``recon_lock`` row only tells others who holds it.

SQLite: the ``recon_lock`` row *is* the lock, read and written under ``BEGIN
IMMEDIATE`` so two processes cannot both take it. A row left by a process that died
(same host, pid no longer running) is taken over.

A second lock, ``nightly``, works the same way and is held for a whole nightly
catch-up pass (deciding which days to run, then running them), so two schedulers
cannot both decide to run the same day; each run inside the pass still takes the run
lock.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, insert, select, text, update

from reconcile.db.tables import ReconLock
from reconcile.errors import ReconcileError

RUN_LOCK_KEY = 0x72756E6C6F636B  # "runlock"
LOCK_NAME = "run"
NIGHTLY_LOCK_KEY = 0x6E696768746C79  # "nightly"
NIGHTLY_LOCK_NAME = "nightly"


class RunLockHeld(ReconcileError):
    """Another process is running a reconciliation on this database."""


class NightlyLockHeld(RunLockHeld):
    """Another process is running a nightly catch-up pass on this database."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) the run lock."""

    run_id: int | None
    host: str
    pid: int
    since: dt.datetime

    def describe(self) -> str:
        """One phrase for messages and ``reconcile status``."""
        run = f"run {self.run_id}" if self.run_id else "a run"
        return f"{run} {self.where()}"

    def where(self) -> str:
        """Where and since when: ``on HOST (pid N) since …``."""
        since = f"{self.since:%Y-%m-%d %H:%M:%S} UTC"
        return f"on {self.host} (pid {self.pid}) since {since}"


def process_alive(pid: int) -> bool:
    """Tell whether a process with this pid runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current_holder(conn: Connection, *, name: str = LOCK_NAME) -> Holder | None:
    """Return who the ``recon_lock`` row says holds the lock ``name``, if anyone."""
    row = conn.execute(select(ReconLock).where(ReconLock.name == name)).first()
    if row is None:
        return None
    return Holder(row.run_id, row.host, row.pid, row.acquired_at)


def holder_alive(holder: Holder) -> bool:
    """A holder on another host is assumed alive; on this host its pid must run."""
    return holder.host != socket.gethostname() or process_alive(holder.pid)


@dataclass
class LockHandle:
    """The held lock; record the run id once the run record exists."""

    engine: Engine
    host: str
    pid: int
    name: str = LOCK_NAME

    def set_run(self, run_id: int) -> None:
        """Store which run holds the lock, for ``status`` and refused runs."""
        with self.engine.begin() as conn:
            conn.execute(
                update(ReconLock)
                .where(ReconLock.name == self.name, ReconLock.pid == self.pid)
                .values(run_id=run_id)
            )


def _write_holder(
    conn: Connection, name: str, host: str, pid: int, at: dt.datetime
) -> None:
    conn.execute(delete(ReconLock).where(ReconLock.name == name))
    conn.execute(
        insert(ReconLock).values(
            name=name, run_id=None, host=host, pid=pid, acquired_at=at
        )
    )


@contextmanager
def run_lock(engine: Engine, *, at: dt.datetime) -> Iterator[LockHandle]:
    """Hold the run lock for the ``with`` block.

    Raises:
        RunLockHeld: another live process holds it (the message names the holder).
    """
    with _hold(engine, name=LOCK_NAME, key=RUN_LOCK_KEY, at=at) as handle:
        yield handle


@contextmanager
def nightly_lock(engine: Engine, *, at: dt.datetime) -> Iterator[LockHandle]:
    """Hold the nightly-pass lock for the ``with`` block (not the run lock).

    Raises:
        NightlyLockHeld: another live process is running a nightly pass.
        RunLockHeld: on SQLite, a run is in progress (taking the nightly row would
            wait for that run's transaction to end).
    """
    with _hold(engine, name=NIGHTLY_LOCK_NAME, key=NIGHTLY_LOCK_KEY, at=at) as handle:
        yield handle


@contextmanager
def _hold(
    engine: Engine, *, name: str, key: int, at: dt.datetime
) -> Iterator[LockHandle]:
    host, pid = socket.gethostname(), os.getpid()
    handle = LockHandle(engine, host, pid, name)
    if engine.dialect.name == "postgresql":
        with engine.connect() as lock_conn:
            got = lock_conn.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": key}
            ).scalar_one()
            lock_conn.commit()
            if not got:
                with engine.connect() as conn:
                    holder = current_holder(conn, name=name)
                raise _held(name, holder)
            try:
                with engine.begin() as conn:
                    _write_holder(conn, name, host, pid, at)
                yield handle
            finally:
                _release_row(engine, name, pid)
                lock_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                lock_conn.commit()
        return
    # Look first without taking SQLite's write lock: a run in progress holds that lock
    # for its whole transaction, and a second run must be told at once, not wait. The
    # nightly row is written under the same write lock, so it looks at the run too.
    with engine.connect() as conn:
        for one in dict.fromkeys((name, LOCK_NAME)):
            holder = current_holder(conn, name=one)
            if holder is not None and holder_alive(holder):
                raise _held(one, holder)
    with engine.connect().execution_options(begin_immediate=True) as conn, conn.begin():
        holder = current_holder(conn, name=name)
        if holder is not None and holder_alive(holder):
            raise _held(name, holder)
        _write_holder(conn, name, host, pid, at)
    try:
        yield handle
    finally:
        _release_row(engine, name, pid)


def _release_row(engine: Engine, name: str, pid: int) -> None:
    with engine.connect().execution_options(begin_immediate=True) as conn, conn.begin():
        conn.execute(
            delete(ReconLock).where(ReconLock.name == name, ReconLock.pid == pid)
        )


def _held(name: str, holder: Holder | None) -> RunLockHeld:
    if name == NIGHTLY_LOCK_NAME:
        if holder is None:
            return NightlyLockHeld(
                "another nightly pass is running on this database; it runs the "
                "same days"
            )
        return NightlyLockHeld(
            f"another nightly pass is running {holder.where()}; it runs the same days"
        )
    if holder is None:
        return RunLockHeld(
            "another reconcile run holds the lock on this database; try again later"
        )
    return RunLockHeld(
        f"another reconcile run holds the lock: {holder.describe()}; try again later"
    )
