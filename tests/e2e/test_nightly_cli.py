"""reconcile nightly and reconcile status from the command line."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconcile import pipeline
from reconcile.cli import main
from reconcile.db.engine import make_engine
from reconcile.db.locks import run_lock
from tests.factories import NOW, make_scenario


def run(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, ["--database-url", url, *args], catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


@pytest.fixture
def capped(tmp_path: Path) -> Path:
    """A configuration that catches up at most two days."""
    path = tmp_path / "capped.toml"
    path.write_text("[schedule]\nmax_catch_up_days = 2\nretry_attempts = 1\n")
    return path


class TestNightlyCommand:
    def test_runs_each_day_then_has_nothing_to_do(self, fresh_url: str) -> None:
        """One line per day run; a second invocation says there is nothing to do."""
        code, out, err = run(
            fresh_url, "run", "--from", "2024-03-18", "--to", "2024-03-18"
        )
        assert code == 0, err
        code, out, err = run(fresh_url, "nightly", "--today", "2024-03-21")
        assert code == 0, err
        assert out.splitlines() == [
            "Run 2 succeeded for 2024-03-19: 0 open exceptions.",
            "Run 3 succeeded for 2024-03-20: 0 open exceptions.",
        ]
        code, out, _ = run(fresh_url, "nightly", "--today", "2024-03-21")
        assert code == 0
        assert out == "Nothing to do: the last successful day is 2024-03-20.\n"

    def test_skipped_days_are_named_with_the_command_to_run_them(
        self, fresh_url: str, capped: Path
    ) -> None:
        """Beyond max_catch_up_days the skipped range and its remedy are printed."""
        run(fresh_url, "run", "--from", "2024-03-01", "--to", "2024-03-01")
        code, out, err = run(
            fresh_url, "--config", str(capped), "nightly", "--today", "2024-03-10"
        )
        assert code == 0, err
        assert out.splitlines()[0] == (
            "Skipped 2024-03-02 to 2024-03-07: more than 2 days were missed. To "
            "reconcile them: reconcile run --from 2024-03-02 --to 2024-03-07"
        )
        assert len(out.splitlines()) == 3

    def test_failure_after_retries_is_one_sentence_and_exit_1(
        self, fresh_url: str, capped: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A day that keeps failing: retried, then one error sentence, exit 1."""

        def broken(conn: Any, ctx: Any) -> Any:
            raise RuntimeError("injected failure")

        slept: list[float] = []
        monkeypatch.setattr(pipeline, "classify", broken)
        monkeypatch.setattr(time, "sleep", slept.append)
        code, out, err = run(
            fresh_url, "--config", str(capped), "nightly", "--today", "2024-03-21"
        )
        assert code == 1
        assert slept == [15 * 60]
        assert last_line(err) == (
            "Error: the nightly run for 2024-03-20 failed: RuntimeError: injected "
            "failure."
        )
        assert "Traceback" not in err
        assert out == ""

    def test_lock_held_exits_1(self, fresh_url: str) -> None:
        """Another run holding the lock: one sentence naming it, exit 1."""
        engine = make_engine(fresh_url)
        run(fresh_url, "db", "upgrade")
        try:
            with run_lock(engine, at=NOW):
                code, _, err = run(fresh_url, "nightly", "--today", "2024-03-21")
        finally:
            engine.dispose()
        assert code == 1
        assert last_line(err).startswith("Error: another reconcile run holds the lock")

    def test_bad_today_is_a_usage_error(self, fresh_url: str) -> None:
        """--today must be a date: exit 2."""
        code, _, err = run(fresh_url, "nightly", "--today", "2024-02-30")
        assert code == 2
        assert "is not a date in YYYY-MM-DD form" in err

    def test_json_logs_one_object_per_line_without_patient_data(
        self, fresh_url: str
    ) -> None:
        """--log-format json: every log line is a JSON object; no patient account."""
        engine = make_engine(fresh_url)
        with engine.begin() as conn:
            make_scenario(conn)
        engine.dispose()
        code, _, err = run(
            fresh_url, "--log-format", "json", "nightly", "--today", "2024-03-21"
        )
        assert code == 0, err
        events = [json.loads(line) for line in err.splitlines()]
        assert {"nightly_plan", "nightly_done"} <= {e.get("event") for e in events}
        plan = next(e for e in events if e.get("event") == "nightly_plan")
        assert (plan["from"], plan["to"]) == ("2024-03-20", "2024-03-20")
        assert "ACCT" not in err


class TestStatusCommand:
    def test_empty_database(self, fresh_url: str) -> None:
        """Before any run: labelled lines, nothing held, exit 0."""
        code, out, err = run(fresh_url, "status")
        assert code == 0, err
        lines = dict(
            (line[:22].strip(), line[22:]) for line in out.splitlines() if line[:22]
        )
        assert lines["Last successful day"] == "none yet"
        assert lines["Run lock"] == "free"
        assert lines["Last run"] == "none yet"
        assert lines["Next scheduled run"].endswith("(daily at 06:00 America/New_York)")
        assert lines["Refunds due"].startswith("overdue 0 (0.00)")

    def test_json_after_a_skipping_pass(self, fresh_url: str, capped: Path) -> None:
        """status --json shows the watermark, the last run and the skipped range."""
        run(fresh_url, "run", "--from", "2024-03-01", "--to", "2024-03-01")
        run(fresh_url, "--config", str(capped), "nightly", "--today", "2024-03-10")
        code, out, err = run(fresh_url, "--config", str(capped), "status", "--json")
        assert code == 0, err
        status = json.loads(out)
        assert status["last_successful_day"] == "2024-03-09"
        assert status["last_run"]["trigger"] == "nightly"
        assert {k: status["skipped"][k] for k in ("from", "to", "days")} == {
            "from": "2024-03-02", "to": "2024-03-07", "days": 6
        }  # fmt: skip
        code, out, _ = run(fresh_url, "--config", str(capped), "status")
        assert (
            "reconcile them with: reconcile run --from 2024-03-02 --to 2024-03-07"
            in out
        )
