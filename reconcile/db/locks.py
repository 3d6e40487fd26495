"""One run at a time per database, across processes and machines.

PostgreSQL: a session-level advisory lock held on a dedicated connection for the whole
run (it vanishes with the connection, so a dead process never holds it); the
``recon_lock`` row only tells others who holds it.

SQLite: the ``recon_lock`` row *is* the lock, read and written under ``BEGIN
IMMEDIATE`` so two processes cannot both take it. A row left by a process that died
(same host, pid no longer running) is taken over.
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


class RunLockHeld(ReconcileError):
    """Another process is running a reconciliation on this database."""


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
        since = f"{self.since:%Y-%m-%d %H:%M:%S} UTC"
        return f"{run} on {self.host} (pid {self.pid}) since {since}"


def process_alive(pid: int) -> bool:
    """Tell whether a process with this pid runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current_holder(conn: Connection) -> Holder | None:
    """Return who the ``recon_lock`` row says holds the run lock, if anyone."""
    row = conn.execute(select(ReconLock).where(ReconLock.name == LOCK_NAME)).first()
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

    def set_run(self, run_id: int) -> None:
        """Store which run holds the lock, for ``status`` and refused runs."""
        with self.engine.begin() as conn:
            conn.execute(
                update(ReconLock)
                .where(ReconLock.name == LOCK_NAME, ReconLock.pid == self.pid)
                .values(run_id=run_id)
            )


def _write_holder(conn: Connection, host: str, pid: int, at: dt.datetime) -> None:
    conn.execute(delete(ReconLock).where(ReconLock.name == LOCK_NAME))
    conn.execute(
        insert(ReconLock).values(
            name=LOCK_NAME, run_id=None, host=host, pid=pid, acquired_at=at
        )
    )


@contextmanager
def run_lock(engine: Engine, *, at: dt.datetime) -> Iterator[LockHandle]:
    """Hold the run lock for the ``with`` block.

    Raises:
        RunLockHeld: another live process holds it (the message names the holder).
    """
    host, pid = socket.gethostname(), os.getpid()
    handle = LockHandle(engine, host, pid)
    if engine.dialect.name == "postgresql":
        with engine.connect() as lock_conn:
            got = lock_conn.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": RUN_LOCK_KEY}
            ).scalar_one()
            lock_conn.commit()
            if not got:
                with engine.connect() as conn:
                    holder = current_holder(conn)
                raise RunLockHeld(_held_message(holder))
            try:
                with engine.begin() as conn:
                    _write_holder(conn, host, pid, at)
                yield handle
            finally:
                _release_row(engine, pid)
                lock_conn.execute(
                    text("SELECT pg_advisory_unlock(:k)"), {"k": RUN_LOCK_KEY}
                )
                lock_conn.commit()
        return
    # Look first without taking SQLite's write lock: a run in progress holds that lock
    # for its whole transaction, and a second run must be told at once, not wait.
    with engine.connect() as conn:
        holder = current_holder(conn)
    if holder is not None and holder_alive(holder):
        raise RunLockHeld(_held_message(holder))
    with engine.connect().execution_options(begin_immediate=True) as conn, conn.begin():
        holder = current_holder(conn)
        if holder is not None and holder_alive(holder):
            raise RunLockHeld(_held_message(holder))
        _write_holder(conn, host, pid, at)
    try:
        yield handle
    finally:
        _release_row(engine, pid)


def _release_row(engine: Engine, pid: int) -> None:
    with engine.connect().execution_options(begin_immediate=True) as conn, conn.begin():
        conn.execute(
            delete(ReconLock).where(ReconLock.name == LOCK_NAME, ReconLock.pid == pid)
        )


def _held_message(holder: Holder | None) -> str:
    if holder is None:
        return "another reconcile run holds the lock on this database; try again later"
    return f"another reconcile run holds the lock: {holder.describe()}; try again later"
