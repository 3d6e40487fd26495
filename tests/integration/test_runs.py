"""Runs: repeatable, one at a time across processes, and crash-safe under SIGKILL."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from reconcile.categories import RunStatus
from reconcile.db.engine import make_engine
from reconcile.db.locks import RunLockHeld, run_lock
from reconcile.db.tables import (
    AuditEvent,
    BankDeposit,
    ReconException,
    ReconLock,
    ReconMatch,
    ReconRun,
    Recoupment,
    Refund,
    SourceFile,
    X12ClaimPayment,
    X12Payment,
)
from reconcile.periods import RunWindow
from tests.factories import (
    make_claim,
    make_claim_payment,
    make_deposit,
    make_payment,
    make_run,
    make_scenario,
)
from tests.helpers import CLOCK, MARCH, run

ROOT = Path(__file__).resolve().parents[2]

#: Columns that are bookkeeping, not content: which run saw an item last, row ids
#: (PostgreSQL sequences advance even when a transaction rolls back) and run ids.
BOOKKEEPING = {
    "id", "last_seen_run_id", "seen_as_of", "first_run_id", "resolved_by_run_id",
    "run_id", "exception_id", "created_at", "updated_at", "occurred_at", "hash",
    "prev_hash", "entity_id",
}  # fmt: skip
DERIVED = (ReconMatch, ReconException, Refund, Recoupment, AuditEvent)


def snapshot(
    engine: Engine, *, keep_ids: bool = False, drop: frozenset[str] = frozenset()
) -> dict[str, list[tuple[Any, ...]]]:
    """Every derived row's content, sorted, without bookkeeping columns (nor the
    columns in ``drop``)."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for model in DERIVED:
            table = model.__table__
            columns = [
                c for c in table.columns
                if c.name not in drop
                and (c.name not in BOOKKEEPING or (keep_ids and c.name == "id"))
            ]  # fmt: skip
            rows = conn.execute(select(*columns)).all()
            result[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return result


def open_set(engine: Engine) -> dict[str, tuple[Any, ...]]:
    """Open exceptions by fingerprint with their money."""
    with engine.connect() as conn:
        e = ReconException
        return {
            row.fingerprint: (str(row.kind), row.amount_cents, row.variance_cents)
            for row in conn.execute(
                select(e.fingerprint, e.kind, e.amount_cents, e.variance_cents).where(
                    e.status == "open"
                )
            )
        }


class TestRepeatable:
    def test_rerun_changes_no_derived_row(self, fresh_engine: Engine) -> None:
        """Re-running a window on unchanged data leaves every derived row identical."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
        run(fresh_engine)
        before = snapshot(fresh_engine, keep_ids=True)
        again = run(fresh_engine)
        assert snapshot(fresh_engine, keep_ids=True) == before
        counts = again.summary
        assert counts["exceptions"]  # the scenario has open items
        with fresh_engine.connect() as conn:
            recorded = conn.execute(
                select(ReconRun.counts).where(ReconRun.id == again.run_id)
            ).scalar_one()
        assert recorded["exceptions"] == {
            "created": 0, "reopened": 0, "resolved": 0, "updated": 0
        }  # fmt: skip
        assert all(r["matched"] == 0 for r in recorded["rules"].values())

    def test_overlapping_windows_agree(self, fresh_engine: Engine) -> None:
        """A day re-run inside the month, then the month again: same open items."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
        run(fresh_engine)
        month = open_set(fresh_engine)
        month_rows = snapshot(fresh_engine)
        day = run(
            fresh_engine,
            window=RunWindow(MARCH.first.replace(day=15), MARCH.first.replace(day=15)),
        )
        # What the day run sees as open is open in the month view too, or newer.
        for kind in day.summary["exceptions"]:
            assert kind in month or kind in {v[0] for v in month.values()}
        run(fresh_engine)
        assert open_set(fresh_engine) == month
        # Only transient conditions the day run saw (and the month run resolved)
        # were added; nothing the month run found changed.
        after = snapshot(fresh_engine)
        for table, rows in month_rows.items():
            if table != "recon_exception":
                assert after[table] == rows
        e = ReconException.__table__
        with fresh_engine.connect() as conn:
            extra = (
                conn.execute(
                    select(e.c.status).where(
                        e.c.identified_on == MARCH.first.replace(day=15)
                    )
                )
                .scalars()
                .all()
            )
        assert all(str(s) == "resolved" for s in extra)

    def test_rerun_of_a_claim_paid_short_before_the_window(
        self, fresh_engine: Engine
    ) -> None:
        """A claim paid $5 of $100 in February, never posted: the first March run and
        its re-run find the same exceptions."""
        with fresh_engine.begin() as conn:
            make_claim(conn, claim_id="FEB", submitted_on=dt.date(2024, 2, 24))
            payment = make_payment(conn, paid_on=dt.date(2024, 2, 27), amount_cents=500)
            make_claim_payment(conn, payment_id=payment, claim_id="FEB", paid_cents=500)
        run(fresh_engine)
        first = open_set(fresh_engine)
        run(fresh_engine)
        assert open_set(fresh_engine) == first

    def test_windows_agree_with_a_fresh_database(
        self,
        fresh_engine: Engine,
        scratch,  # type: ignore[no-untyped-def]
    ) -> None:
        """A day re-run inside a month keeps what the month found and adds only what
        a database that ran just that day finds; the month run again then has
        exactly the open items of a database that only ran the month."""
        other = make_engine(scratch.new_url())
        day = RunWindow(dt.date(2024, 3, 15), dt.date(2024, 3, 15))
        try:
            for engine in (fresh_engine, other):
                with engine.begin() as conn:
                    make_scenario(conn)
            run(fresh_engine)
            month = open_set(fresh_engine)
            run(fresh_engine, window=day)
            after_day = open_set(fresh_engine)
            run(other, window=day)
            day_only = open_set(other)
            # docs/runs.md: a run never changes what a later as-of date has seen.
            assert {k: after_day[k] for k in month} == month
            assert set(after_day) - set(month) <= set(day_only)
            run(fresh_engine)
            run(other)
            assert open_set(fresh_engine) == open_set(other) == month
        finally:
            other.dispose()

    def test_new_data_updates_the_window(self, fresh_engine: Engine) -> None:
        """A deposit imported later resolves the missing-deposit exception on re-run."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
        run(fresh_engine)
        assert any(
            k.startswith("era_without_deposit") and "EFT300" in k
            for k in open_set(fresh_engine)
        )
        with fresh_engine.begin() as conn:
            make_deposit(
                conn,
                trace_number="EFT300",
                amount_cents=4_400,
                deposit_on=dt.date(2024, 3, 19),
            )
        run(fresh_engine)
        assert not any("EFT300" in k for k in open_set(fresh_engine))


def _reconcile(url: str, *args: str, fault: str | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RECONCILE_FAULT", None)
    if fault:
        env["RECONCILE_FAULT"] = fault
    return subprocess.Popen(
        [sys.executable, "-m", "reconcile", "--database-url", url, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


MARCH_ARGS = ("run", "--from", "2024-03-01", "--to", "2024-03-31")


class TestOneAtATime:
    def test_two_processes_one_runs_the_other_is_refused(
        self, fresh_url: str, fresh_engine: Engine
    ) -> None:
        """Two real processes at once: one runs, the other names the holder, exit 1."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
        first = _reconcile(fresh_url, *MARCH_ARGS, fault="stage:prepare:sleep:4")
        time.sleep(1.5)
        second = _reconcile(fresh_url, *MARCH_ARGS)
        _, err2 = second.communicate(timeout=60)
        _, err1 = first.communicate(timeout=60)
        assert first.returncode == 0, err1
        assert second.returncode == 1, err2
        # The holder as DESIGN.md lists it: run id, host, pid, since.
        assert (
            f"another reconcile run holds the lock: run 1 on {socket.gethostname()} "
            f"(pid {first.pid}) since 20"
        ) in err2
        assert "UTC" in err2
        assert "Traceback" not in err2
        with fresh_engine.connect() as conn:
            statuses = conn.execute(select(ReconRun.status)).scalars().all()
        assert [str(s) for s in statuses] == ["succeeded"]  # the refused one: no record

    def test_lock_of_a_dead_process_is_taken_over(
        self, fresh_url: str, fresh_engine: Engine
    ) -> None:
        """A run killed while holding the lock does not block the next one."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
        killed = _reconcile(fresh_url, *MARCH_ARGS, fault="run:started:kill")
        killed.communicate(timeout=60)
        assert killed.returncode == -9
        nxt = _reconcile(fresh_url, *MARCH_ARGS)
        _, err = nxt.communicate(timeout=60)
        assert nxt.returncode == 0, err
        with fresh_engine.connect() as conn:
            statuses = (
                conn.execute(select(ReconRun.status).order_by(ReconRun.id))
                .scalars()
                .all()
            )
        assert [str(s) for s in statuses] == ["abandoned", "succeeded"]

    def test_stale_lock_row_of_a_dead_pid_is_taken_over(
        self, fresh_engine: Engine
    ) -> None:
        """A lock row naming a process of this host that no longer runs (and a run
        record it left running) does not block: the run takes the lock over and
        marks the record abandoned."""
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait(timeout=30)
        with fresh_engine.begin() as conn:
            make_scenario(conn)
            stale = make_run(conn, status=RunStatus.RUNNING)
            conn.execute(
                insert(ReconLock).values(
                    name="run", run_id=stale, host=socket.gethostname(),
                    pid=dead.pid, acquired_at=CLOCK.now(),
                )
            )  # fmt: skip
        result = run(fresh_engine)
        with fresh_engine.connect() as conn:
            statuses = dict(conn.execute(select(ReconRun.id, ReconRun.status)).all())
            assert conn.execute(select(ReconLock.name)).all() == []
        assert {k: str(v) for k, v in statuses.items()} == {
            stale: "abandoned",
            result.run_id: "succeeded",
        }

    def test_holder_on_another_host_is_respected(self, fresh_engine: Engine) -> None:
        """SQLite cannot see a process on another host: its lock row refuses the
        run, naming it. On PostgreSQL the advisory lock is the truth, and a row
        whose holder holds no advisory lock is a leftover that the run replaces."""
        with fresh_engine.begin() as conn:
            make_scenario(conn)
            conn.execute(
                insert(ReconLock).values(
                    name="run", run_id=None, host="elsewhere.example", pid=4242,
                    acquired_at=CLOCK.now(),
                )
            )  # fmt: skip
        if fresh_engine.dialect.name == "postgresql":
            assert run(fresh_engine).summary["status"] == "succeeded"
            return
        with pytest.raises(RunLockHeld, match=r"on elsewhere\.example \(pid 4242\)"):
            run(fresh_engine)
        with fresh_engine.connect() as conn:
            assert (
                conn.execute(select(func.count()).select_from(ReconRun)).scalar() == 0
            )

    def test_in_process_lock_error(self, fresh_engine: Engine) -> None:
        """The library raises RunLockHeld while another holder is alive."""
        with (
            run_lock(fresh_engine, at=CLOCK.now()),
            pytest.raises(RunLockHeld),
            run_lock(fresh_engine, at=CLOCK.now()),
        ):
            pass


CHECKPOINTS = [
    "run:started",
    "stage:prepare",
    "rule:claim_remit_icn",
    "rule:era_deposit_trace",
    "classify:candidates",
    "classify:merged",
    "classify:queues",
    "rule:recoupment_posting",
    "run:before_commit",
    "run:committed",
    "stage:report",
]
#: Checkpoints after the run's transaction committed: its results stay, only its
#: record (still ``running``) and its workbook are left unfinished.
COMMITTED = {"run:committed", "stage:report"}


class TestCrashSafety:
    @pytest.mark.parametrize("checkpoint", CHECKPOINTS)
    def test_sigkill_then_rerun_equals_uninterrupted(
        self,
        checkpoint: str,
        scratch,  # type: ignore[no-untyped-def]
    ) -> None:
        """Killed at any point, the next run gives exactly the uninterrupted result."""
        reference_url, crashed_url = scratch.new_url(), scratch.new_url()
        reference, crashed = make_engine(reference_url), make_engine(crashed_url)
        try:
            for engine in (reference, crashed):
                with engine.begin() as conn:
                    make_scenario(conn)
            # An earlier day's results, which the crash must leave intact.
            early = ("run", "--from", "2024-03-05", "--to", "2024-03-05")
            for url in (reference_url, crashed_url):
                done = _reconcile(url, *early)
                assert done.wait(timeout=60) == 0
            before_crash = snapshot(crashed)
            killed = _reconcile(crashed_url, *MARCH_ARGS, fault=f"{checkpoint}:kill")
            killed.communicate(timeout=60)
            assert killed.returncode == -9
            if checkpoint not in COMMITTED:
                assert snapshot(crashed) == before_crash
            for url in (reference_url, crashed_url):
                done = _reconcile(url, *MARCH_ARGS)
                _, err = done.communicate(timeout=60)
                assert done.returncode == 0, err
            assert snapshot(crashed) == snapshot(reference)
            with crashed.connect() as conn:
                statuses = [
                    str(s) for s in conn.execute(
                        select(ReconRun.status).order_by(ReconRun.id)
                    ).scalars()
                ]  # fmt: skip
            assert statuses == ["succeeded", "abandoned", "succeeded"]
        finally:
            reference.dispose()
            crashed.dispose()

    def test_sigkill_during_import_loads_nothing(
        self, fresh_url: str, tmp_path: Path
    ) -> None:
        """An import killed before commit leaves no row; importing again loads it."""
        csv = tmp_path / "deposits.csv"
        csv.write_text(
            "deposit_id,deposit_date,amount,trace_number,payer_name,account\n"
            "D1,2024-03-04,100.00,T1,AETNA,OPER\n"
        )
        killed = _reconcile(
            fresh_url, "import", "deposits", str(csv), fault="import:loaded:kill"
        )
        killed.communicate(timeout=60)
        assert killed.returncode == -9
        engine = make_engine(fresh_url)
        try:
            with engine.connect() as conn:
                assert (
                    conn.execute(select(func.count()).select_from(SourceFile)).scalar()
                    == 0
                )
                assert (
                    conn.execute(select(func.count()).select_from(BankDeposit)).scalar()
                    == 0
                )
            done = _reconcile(fresh_url, "import", "deposits", str(csv))
            _, err = done.communicate(timeout=60)
            assert done.returncode == 0, err
            with engine.connect() as conn:
                assert (
                    conn.execute(select(func.count()).select_from(BankDeposit)).scalar()
                    == 1
                )
        finally:
            engine.dispose()

    def test_sigkill_during_835_import_then_run_equals_uninterrupted(
        self,
        scratch,  # type: ignore[no-untyped-def]
    ) -> None:
        """An 835 import killed before its commit loads nothing; importing it again
        and running gives exactly what one clean import and run give."""
        era = ROOT / "tests" / "data" / "835" / "ach_two_claims.835"
        reference_url, crashed_url = scratch.new_url(), scratch.new_url()
        reference, crashed = make_engine(reference_url), make_engine(crashed_url)
        try:
            killed = _reconcile(
                crashed_url, "import", "era", str(era), fault="import:loaded:kill"
            )
            killed.communicate(timeout=60)
            assert killed.returncode == -9
            with crashed.connect() as conn:
                assert (
                    conn.execute(select(func.count()).select_from(X12Payment)).scalar()
                    == 0
                )
            for url in (reference_url, crashed_url):
                for args in (("import", "era", str(era)), MARCH_ARGS):
                    done = _reconcile(url, *args)
                    _, err = done.communicate(timeout=60)
                    assert done.returncode == 0, err
            # The killed import's rolled-back inserts still advanced PostgreSQL's
            # sequences: source rows have other ids, so references to them differ.
            source_ids = frozenset({"subject_id", "left_id", "right_id"})
            assert snapshot(crashed, drop=source_ids) == snapshot(
                reference, drop=source_ids
            )
            assert snapshot(crashed)["recon_exception"]  # the run found something
            for table in (X12Payment, X12ClaimPayment, SourceFile):
                counts = []
                for engine in (reference, crashed):
                    with engine.connect() as conn:
                        counts.append(
                            conn.execute(
                                select(func.count()).select_from(table)
                            ).scalar()
                        )
                assert counts[0] == counts[1] > 0, table
        finally:
            reference.dispose()
            crashed.dispose()
