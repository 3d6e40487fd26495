"""Runs: repeatable, one at a time across processes, and crash-safe under SIGKILL."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from reconcile.db.engine import make_engine
from reconcile.db.locks import RunLockHeld, run_lock
from reconcile.db.tables import (
    AuditEvent,
    BankDeposit,
    ReconException,
    ReconMatch,
    ReconRun,
    Recoupment,
    Refund,
    SourceFile,
)
from reconcile.periods import RunWindow
from tests.factories import make_deposit, make_scenario
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
    engine: Engine, *, keep_ids: bool = False
) -> dict[str, list[tuple[Any, ...]]]:
    """Every derived row's content, sorted, without bookkeeping columns."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for model in DERIVED:
            table = model.__table__
            columns = [
                c for c in table.columns
                if c.name not in BOOKKEEPING or (keep_ids and c.name == "id")
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
        assert "another reconcile run holds the lock: run 1 on" in err2
        assert "Traceback" not in err2

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
    "rule:era_deposit_trace",
    "classify:candidates",
    "classify:merged",
    "run:before_commit",
    "run:committed",
]


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
            if checkpoint != "run:committed":
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
