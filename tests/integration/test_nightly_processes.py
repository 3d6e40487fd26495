"""Real ``reconcile nightly`` and ``reconcile scheduler`` processes: two at once,
and SIGTERM in the middle of a run's transaction."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import Engine, select

from reconcile.clock import SystemClock, local_date
from reconcile.db.engine import make_engine
from reconcile.db.tables import ReconRun
from tests.factories import make_run, make_scenario
from tests.integration.test_runs import snapshot

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2024, 3, 21)
DAY = dt.timedelta(days=1)

#: A nightly time that has always passed, within a day's grace: a scheduler catches
#: up as soon as it starts, whatever the real time of day.
CATCH_UP_AT_START = """\
[schedule]
time = "00:00"
misfire_grace_minutes = 1440
"""


class Process:
    """A ``python -m reconcile`` child whose stderr goes to a file we can poll."""

    def __init__(
        self,
        tmp_path: Path,
        url: str,
        *args: str,
        config: Path | None = None,
        fault: str | None = None,
    ) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("RECONCILE_FAULT", None)
        env.pop("RECONCILE_CONFIG", None)
        if fault:
            env["RECONCILE_FAULT"] = fault
        self.log = tmp_path / f"stderr-{time.monotonic_ns()}.log"
        self._stderr: IO[str] = self.log.open("w")
        options = ["--config", str(config)] if config else []
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "reconcile", "--database-url", url, *options, *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )

    @property
    def stderr(self) -> str:
        return self.log.read_text()

    def signal(self, signum: int) -> None:
        self.popen.send_signal(signum)

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        """Wait for the exit: (exit code, stdout, stderr)."""
        try:
            out, _ = self.popen.communicate(timeout=timeout)
        finally:
            if self.popen.poll() is None:
                self.popen.kill()
                self.popen.wait()
            self._stderr.close()
        return self.popen.returncode, out, self.stderr


def wait_for(condition: Callable[[], bool], *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the condition")
        time.sleep(0.1)


def records(engine: Engine) -> list[tuple[dt.date, dt.date, str, str]]:
    """(first, last, trigger, status) of every run, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                ReconRun.window_first,
                ReconRun.window_last,
                ReconRun.trigger,
                ReconRun.status,
            ).order_by(ReconRun.id)
        ).all()
    return [(r[0], r[1], str(r[2]), str(r[3])) for r in rows]


def running(engine: Engine) -> bool:
    return any(status == "running" for *_, status in records(engine))


def succeeded_nightly(engine: Engine) -> list[dt.date]:
    return [
        first
        for first, _, trigger, status in records(engine)
        if trigger == "nightly" and status == "succeeded"
    ]


def ran(engine: Engine, day: dt.date) -> bool:
    return day in succeeded_nightly(engine)


def practice_today() -> dt.date:
    """The practice's today as the child processes see it (the real clock)."""
    return local_date(SystemClock().now(), "America/New_York")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "reconcile.toml"
    path.write_text(CATCH_UP_AT_START)
    return path


class TestTwoProcesses:
    def test_two_nightly_passes_run_each_day_once(
        self, tmp_path: Path, fresh_url: str, fresh_engine: Engine
    ) -> None:
        """The second pass is refused in one sentence (exit 1); each day runs once."""
        with fresh_engine.begin() as conn:
            make_run(conn, first=TODAY - 4 * DAY, last=TODAY - 4 * DAY)
        args = ("nightly", "--today", TODAY.isoformat())
        first = Process(tmp_path, fresh_url, *args, fault="stage:prepare:sleep:2")
        wait_for(lambda: running(fresh_engine))
        second = Process(tmp_path, fresh_url, *args, fault="stage:prepare:sleep:2")
        code2, out2, err2 = second.finish()
        code1, out1, err1 = first.finish()
        assert code1 == 0, err1
        assert out1.count("succeeded for") == 3
        assert code2 == 1, err2
        assert "Traceback" not in err2
        last_line = err2.strip().splitlines()[-1]
        assert last_line.startswith("Error: another nightly pass is running on ")
        assert last_line.endswith("; it runs the same days.")
        assert out2 == ""
        assert succeeded_nightly(fresh_engine) == [
            TODAY - 3 * DAY,
            TODAY - 2 * DAY,
            TODAY - DAY,
        ]
        assert [r for r in records(fresh_engine) if r[3] != "succeeded"] == []

    def test_two_schedulers_run_each_day_once(
        self, tmp_path: Path, fresh_url: str, fresh_engine: Engine, config: Path
    ) -> None:
        """Two schedulers catch up at once: one runs the days, the other logs and
        waits; both stop cleanly on SIGTERM."""
        start = practice_today() - 4 * DAY
        with fresh_engine.begin() as conn:
            make_run(conn, first=start, last=start)
        first = Process(
            tmp_path,
            fresh_url,
            "scheduler",
            config=config,
            fault="stage:prepare:sleep:2",
        )
        wait_for(lambda: running(fresh_engine))
        second = Process(
            tmp_path,
            fresh_url,
            "scheduler",
            config=config,
            fault="stage:prepare:sleep:2",
        )
        wait_for(lambda: "nightly pass not run" in second.stderr)
        wait_for(lambda: len(succeeded_nightly(fresh_engine)) >= 3)
        # The loser is still up, waiting for the next time.
        assert second.popen.poll() is None
        for process in (first, second):
            process.signal(signal.SIGTERM)
        results = [process.finish(timeout=30) for process in (first, second)]
        for code, _, err in results:
            assert code == 0, err
            assert "Traceback" not in err
            assert "scheduler stopped" in err
        loser = results[1][2]
        assert loser.count("nightly pass not run: another nightly pass is running") == 1
        days = succeeded_nightly(fresh_engine)
        assert days == [start + n * DAY for n in range(1, len(days) + 1)]
        assert len(days) in (3, 4)  # 4 if the real date moved on meanwhile
        assert [r for r in records(fresh_engine) if r[3] != "succeeded"] == []


class TestSigterm:
    @pytest.fixture
    def pair(self, scratch: Any) -> Any:
        """Two databases holding the same scenario: one to stop, one for reference."""
        urls = (scratch.new_url(), scratch.new_url())
        engines = tuple(make_engine(url) for url in urls)
        for engine in engines:
            with engine.begin() as conn:
                make_scenario(conn)
        yield urls, engines
        for engine in engines:
            engine.dispose()

    def test_scheduler_stopped_mid_run_rolls_back_and_restarts_clean(
        self, tmp_path: Path, pair: Any, config: Path
    ) -> None:
        """SIGTERM before commit: nothing of the run is kept, the process exits 0,
        and the restarted scheduler completes the day exactly as an untroubled one."""
        (url, reference_url), (engine, reference) = pair
        before = snapshot(engine)
        stopped = Process(
            tmp_path,
            url,
            "scheduler",
            config=config,
            fault="run:before_commit:sleep:60",
        )
        wait_for(lambda: "started for" in stopped.stderr)
        # Most likely inside the 60 s pause, every row written and uncommitted; but
        # wherever before the commit the signal lands, the outcome must be the same.
        time.sleep(2)
        stopped.signal(signal.SIGTERM)
        code, _, err = stopped.finish(timeout=20)
        assert code == 0, err
        assert "Traceback" not in err
        assert "received SIGTERM: stopping" in err
        assert "SIGTERM stopped the nightly run for" in err
        assert snapshot(engine) == before
        [(day, _, _, status)] = records(engine)
        assert status == "failed"
        with engine.connect() as conn:
            error = conn.execute(select(ReconRun.error)).scalar_one()
        assert error == "StopRequested: SIGTERM"

        for target, target_engine in ((url, engine), (reference_url, reference)):
            restarted = Process(tmp_path, target, "scheduler", config=config)
            wait_for(partial(ran, target_engine, day))
            restarted.signal(signal.SIGTERM)
            code, _, err = restarted.finish(timeout=30)
            assert code == 0, err
        assert snapshot(engine) == snapshot(reference)
        assert snapshot(engine) != before
        assert [r[3] for r in records(engine)] == ["failed", "succeeded"]

    def test_nightly_stopped_mid_run_says_so_and_the_next_pass_completes(
        self, tmp_path: Path, pair: Any
    ) -> None:
        """reconcile nightly on SIGTERM: one sentence, exit 1, nothing committed;
        running it again completes the day exactly as an untroubled run."""
        (url, reference_url), (engine, reference) = pair
        before = snapshot(engine)
        args = ("nightly", "--today", TODAY.isoformat())
        stopped = Process(tmp_path, url, *args, fault="run:before_commit:sleep:60")
        wait_for(lambda: "started for" in stopped.stderr)
        time.sleep(2)
        stopped.signal(signal.SIGTERM)
        code, out, err = stopped.finish(timeout=20)
        assert code == 1, err
        assert "Traceback" not in err
        assert err.strip().splitlines()[-1] == (
            "Error: SIGTERM stopped the nightly pass; a run in progress was rolled "
            "back and the next pass runs its day again."
        )
        assert out == ""
        assert snapshot(engine) == before
        for target in (url, reference_url):
            code, out, err = Process(tmp_path, target, *args).finish()
            assert code == 0, err
            assert f"succeeded for {TODAY - DAY}" in out
        assert snapshot(engine) == snapshot(reference)
        assert [r[3] for r in records(engine)] == ["failed", "succeeded"]
