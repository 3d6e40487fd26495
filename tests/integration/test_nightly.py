"""The nightly pass on a real database: catch-up, exactly once, failure, retries."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, exc, select

from jobs.nightly import NightlyRunFailed, run_nightly, run_pass
from reconcile import pipeline
from reconcile.categories import RunStatus
from reconcile.classify import classify as classify_stage
from reconcile.cli import main
from reconcile.clock import FixedClock
from reconcile.db.engine import make_engine
from reconcile.db.locks import NightlyLockHeld, RunLockHeld, nightly_lock, run_lock
from reconcile.db.tables import ReconRun
from reconcile.periods import RunWindow
from reconcile.settings import ScheduleSettings, Settings
from tests.factories import make_run

#: 07:00 EDT on 2024-03-10 in New York (the practice's default time zone).
CLOCK = FixedClock(dt.datetime(2024, 3, 10, 11, tzinfo=dt.UTC))
TODAY = dt.date(2024, 3, 10)
DAY = dt.timedelta(days=1)


def settings(**schedule: Any) -> Settings:
    return replace(Settings(), schedule=replace(ScheduleSettings(), **schedule))


def runs(engine: Engine) -> list[dict[str, Any]]:
    """Every run record, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(ReconRun.__table__).order_by(ReconRun.id)).all()
    return [
        {
            "first": r.window_first,
            "last": r.window_last,
            "status": str(r.status),
            "trigger": str(r.trigger),
            "skipped": (r.skipped_first, r.skipped_last) if r.skipped_first else None,
            "error": r.error,
        }
        for r in rows
    ]


def nightly_days(engine: Engine, status: str = "succeeded") -> list[dt.date]:
    """The days of nightly runs with ``status``, in the order they ran."""
    return [
        r["first"]
        for r in runs(engine)
        if r["trigger"] == "nightly" and r["status"] == status
    ]


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + n * DAY for n in range((last - first).days + 1)]


def seed_watermark(engine: Engine, last: dt.date) -> None:
    """A succeeded manual run whose last day is ``last``."""
    with engine.begin() as conn:
        make_run(conn, first=last, last=last)


def failing_classify(
    monkeypatch: pytest.MonkeyPatch, *, fail_calls: set[int]
) -> list[int]:
    """Make the pipeline's classify stage raise on the given (1-based) calls."""
    calls: list[int] = []
    real = classify_stage

    def classify(conn: Any, ctx: Any) -> Any:
        calls.append(len(calls) + 1)
        if len(calls) in fail_calls:
            raise RuntimeError("injected failure")
        return real(conn, ctx)

    monkeypatch.setattr(pipeline, "classify", classify)
    return calls


class TestCatchUp:
    def test_no_run_yet_runs_yesterday_only(self, fresh_engine: Engine) -> None:
        """A new database: one nightly run, for yesterday."""
        result = run_pass(engine=fresh_engine, settings=Settings(), clock=CLOCK)
        assert [r.day for r in result.runs] == [TODAY - DAY]
        assert runs(fresh_engine) == [
            {
                "first": TODAY - DAY, "last": TODAY - DAY, "status": "succeeded",
                "trigger": "nightly", "skipped": None, "error": None,
            }
        ]  # fmt: skip

    def test_zero_missed_nights_runs_nothing(self, fresh_engine: Engine) -> None:
        """Yesterday already done: no run is recorded at all."""
        seed_watermark(fresh_engine, TODAY - DAY)
        result = run_pass(engine=fresh_engine, settings=Settings(), clock=CLOCK)
        assert result.runs == ()
        assert len(runs(fresh_engine)) == 1

    def test_one_missed_night(self, fresh_engine: Engine) -> None:
        """One missed night: that day runs."""
        seed_watermark(fresh_engine, TODAY - 2 * DAY)
        run_pass(engine=fresh_engine, settings=Settings(), clock=CLOCK)
        assert nightly_days(fresh_engine) == [TODAY - DAY]

    def test_seven_missed_nights_one_run_each_oldest_first(
        self, fresh_engine: Engine
    ) -> None:
        """A week down: seven one-day windows, oldest first, none skipped."""
        seed_watermark(fresh_engine, TODAY - 8 * DAY)
        run_pass(engine=fresh_engine, settings=Settings(), clock=CLOCK)
        nightly = [r for r in runs(fresh_engine) if r["trigger"] == "nightly"]
        assert [r["first"] for r in nightly] == days(TODAY - 7 * DAY, TODAY - DAY)
        assert all(r["first"] == r["last"] for r in nightly)
        assert all(r["skipped"] is None for r in nightly)

    def test_beyond_max_catch_up_records_the_skipped_range(
        self, fresh_engine: Engine
    ) -> None:
        """More missed than allowed: recent days run, the first records the gap."""
        seed_watermark(fresh_engine, dt.date(2024, 2, 20))
        run_pass(
            engine=fresh_engine, settings=settings(max_catch_up_days=3), clock=CLOCK
        )
        nightly = [r for r in runs(fresh_engine) if r["trigger"] == "nightly"]
        assert [r["first"] for r in nightly] == days(TODAY - 3 * DAY, TODAY - DAY)
        assert [r["skipped"] for r in nightly] == [
            (dt.date(2024, 2, 21), dt.date(2024, 3, 6)),
            None,
            None,
        ]

    def test_a_manual_run_advances_the_watermark(self, fresh_engine: Engine) -> None:
        """A manual run up to the day before yesterday leaves only yesterday."""
        seed_watermark(fresh_engine, TODAY - 6 * DAY)
        pipeline.run(
            engine=fresh_engine,
            settings=Settings(),
            window=RunWindow(TODAY - 5 * DAY, TODAY - 2 * DAY),
            clock=CLOCK,
        )
        run_pass(engine=fresh_engine, settings=Settings(), clock=CLOCK)
        assert nightly_days(fresh_engine) == [TODAY - DAY]

    def test_failed_and_abandoned_runs_do_not_count(self, fresh_engine: Engine) -> None:
        """Only succeeded runs move the watermark."""
        seed_watermark(fresh_engine, TODAY - 4 * DAY)
        with fresh_engine.begin() as conn:
            for status in (RunStatus.FAILED, RunStatus.ABANDONED, RunStatus.RUNNING):
                make_run(conn, first=TODAY - 3 * DAY, last=TODAY - DAY, status=status)
        run_pass(engine=fresh_engine, settings=Settings(), clock=CLOCK)
        assert nightly_days(fresh_engine) == days(TODAY - 3 * DAY, TODAY - DAY)

    def test_a_second_pass_finds_nothing_to_do(self, fresh_engine: Engine) -> None:
        """Exactly once: a pass right after another runs no day again."""
        seed_watermark(fresh_engine, TODAY - 3 * DAY)
        run_pass(engine=fresh_engine, settings=Settings(), clock=CLOCK)
        second = run_pass(engine=fresh_engine, settings=Settings(), clock=CLOCK)
        assert second.runs == ()
        assert nightly_days(fresh_engine) == days(TODAY - 2 * DAY, TODAY - DAY)

    def test_today_can_be_given(self, fresh_engine: Engine) -> None:
        """--today overrides the clock's date."""
        seed_watermark(fresh_engine, dt.date(2024, 1, 1))
        run_pass(
            engine=fresh_engine,
            settings=Settings(),
            clock=CLOCK,
            today=dt.date(2024, 1, 4),
        )
        assert nightly_days(fresh_engine) == days(
            dt.date(2024, 1, 2), dt.date(2024, 1, 3)
        )

    def test_today_is_the_practice_calendar_day(self, fresh_engine: Engine) -> None:
        """At 02:00 UTC it is still the previous day in New York."""
        late_evening = FixedClock(dt.datetime(2024, 3, 10, 2, tzinfo=dt.UTC))
        run_pass(engine=fresh_engine, settings=Settings(), clock=late_evening)
        assert nightly_days(fresh_engine) == [dt.date(2024, 3, 8)]


class TestFailure:
    def test_a_failed_day_stops_the_pass(
        self, fresh_engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Day 2 of 3 fails: it is recorded failed, day 3 waits, the watermark holds."""
        seed_watermark(fresh_engine, TODAY - 4 * DAY)
        failing_classify(monkeypatch, fail_calls={2})
        with pytest.raises(NightlyRunFailed) as caught:
            run_pass(engine=fresh_engine, settings=Settings(), clock=CLOCK)
        assert caught.value.day == TODAY - 2 * DAY
        assert [r.day for r in caught.value.completed] == [TODAY - 3 * DAY]
        nightly = [r for r in runs(fresh_engine) if r["trigger"] == "nightly"]
        assert [(r["first"], r["status"]) for r in nightly] == [
            (TODAY - 3 * DAY, "succeeded"),
            (TODAY - 2 * DAY, "failed"),
        ]
        assert nightly[1]["error"] == "RuntimeError: injected failure"

    def test_the_next_pass_starts_at_the_failed_day(
        self, fresh_engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """After a failure, the next pass runs the failed day, then the rest."""
        seed_watermark(fresh_engine, TODAY - 4 * DAY)
        failing_classify(monkeypatch, fail_calls={2})
        with pytest.raises(NightlyRunFailed):
            run_pass(engine=fresh_engine, settings=Settings(), clock=CLOCK)
        result = run_pass(engine=fresh_engine, settings=Settings(), clock=CLOCK)
        assert [r.day for r in result.runs] == [TODAY - 2 * DAY, TODAY - DAY]

    def test_failed_run_is_retried_then_succeeds(
        self,
        fresh_engine: Engine,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """reconcile nightly: a failure waits retry_delay_minutes, then succeeds."""
        seed_watermark(fresh_engine, TODAY - 3 * DAY)
        failing_classify(monkeypatch, fail_calls={1})
        slept: list[float] = []
        with caplog.at_level(logging.INFO, logger="jobs"):
            outcome = run_nightly(
                engine=fresh_engine,
                settings=settings(retry_attempts=2, retry_delay_minutes=15),
                clock=CLOCK,
                sleep=slept.append,
            )
        assert slept == [900]
        assert [r.day for r in outcome.runs] == [TODAY - 2 * DAY, TODAY - DAY]
        nightly = [r for r in runs(fresh_engine) if r["trigger"] == "nightly"]
        assert [(r["first"], r["status"]) for r in nightly] == [
            (TODAY - 2 * DAY, "failed"),
            (TODAY - 2 * DAY, "succeeded"),
            (TODAY - DAY, "succeeded"),
        ]
        assert any(
            "attempt 1 of 3; retrying in 15 minute(s)" in m for m in caplog.messages
        )

    def test_gives_up_after_retry_attempts(
        self,
        fresh_engine: Engine,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Still failing after the retries: the error is raised and logged."""
        seed_watermark(fresh_engine, TODAY - 2 * DAY)
        failing_classify(monkeypatch, fail_calls={1, 2, 3})
        slept: list[float] = []
        with (
            caplog.at_level(logging.INFO, logger="jobs"),
            pytest.raises(NightlyRunFailed, match="injected failure"),
        ):
            run_nightly(
                engine=fresh_engine,
                settings=settings(retry_attempts=2, retry_delay_minutes=5),
                clock=CLOCK,
                sleep=slept.append,
            )
        assert slept == [300, 300]
        assert nightly_days(fresh_engine, "failed") == [TODAY - DAY] * 3
        assert nightly_days(fresh_engine) == []
        assert any("attempt 3 of 3, giving up" in m for m in caplog.messages)

    def test_a_database_failure_outside_a_run_is_retried(self, tmp_path: Any) -> None:
        """Cannot even take the nightly lock: retried like a failed run, then raised."""
        engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'r.db'}")
        slept: list[float] = []
        with pytest.raises(NightlyRunFailed, match="the nightly pass failed"):
            run_nightly(
                engine=engine, settings=Settings(), clock=CLOCK, sleep=slept.append
            )
        assert slept == [900, 900]

    def test_completed_days_of_failed_attempts_are_kept(
        self, fresh_engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Days done before a failure count in the outcome of the retried pass."""
        seed_watermark(fresh_engine, TODAY - 4 * DAY)
        failing_classify(monkeypatch, fail_calls={2})
        outcome = run_nightly(
            engine=fresh_engine, settings=Settings(), clock=CLOCK, sleep=lambda _: None
        )
        assert [r.day for r in outcome.runs] == days(TODAY - 3 * DAY, TODAY - DAY)


def database_error() -> exc.IntegrityError:
    """A database error whose message goes on with SQL and bound parameters."""
    return exc.IntegrityError(
        "INSERT INTO recon_exception (patient_account) VALUES (?)",
        ("ACCT-0042",),
        Exception("UNIQUE constraint failed: recon_exception.fingerprint"),
    )


class TestFailureMessage:
    def test_one_line_without_sql_or_parameters(
        self,
        fresh_engine: Engine,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A database error: the error and the job's log lines are one line each,
        without the statement or its parameters; the run record keeps them."""

        def broken(conn: Any, ctx: Any) -> Any:
            raise database_error()

        monkeypatch.setattr(pipeline, "classify", broken)
        seed_watermark(fresh_engine, TODAY - 2 * DAY)
        with (
            caplog.at_level(logging.INFO, logger="jobs"),
            pytest.raises(NightlyRunFailed) as caught,
        ):
            run_nightly(
                engine=fresh_engine,
                settings=settings(retry_attempts=1),
                clock=CLOCK,
                sleep=lambda _: None,
            )
        assert str(caught.value) == (
            f"the nightly run for {TODAY - DAY} failed: IntegrityError: (builtins."
            "Exception) UNIQUE constraint failed: recon_exception.fingerprint"
        )
        jobs_lines = [
            r.getMessage() for r in caplog.records if r.name == "jobs.nightly"
        ]
        assert len(jobs_lines) >= 2
        for message in jobs_lines:
            assert "\n" not in message
            assert "ACCT-0042" not in message
            assert "[SQL" not in message
        [error] = {r["error"] for r in runs(fresh_engine) if r["status"] == "failed"}
        assert "ACCT-0042" in error  # the record keeps the whole error

    def test_a_long_message_is_cut(self) -> None:
        """An error message is cut to a bounded length."""
        failed = NightlyRunFailed(day=TODAY, error=RuntimeError("x" * 1000))
        assert len(str(failed)) < 400
        assert str(failed).endswith("x…")

    def test_nightly_command_exits_1_with_one_sentence(
        self, fresh_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """reconcile nightly: a day still failing after its retries exits 1 with one
        sentence on stderr, no traceback, nothing on stdout."""

        def broken(conn: Any, ctx: Any) -> Any:
            raise database_error()

        monkeypatch.setattr(pipeline, "classify", broken)
        monkeypatch.setattr(time, "sleep", lambda _: None)
        config = tmp_path / "reconcile.toml"
        config.write_text("[schedule]\nretry_attempts = 1\n")
        result = CliRunner().invoke(
            main,
            ["--database-url", fresh_url, "--config", str(config), "nightly",
             "--today", TODAY.isoformat()],
            catch_exceptions=False,
        )  # fmt: skip
        assert result.exit_code == 1
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        assert result.stderr.splitlines()[-1] == (
            f"Error: the nightly run for {TODAY - DAY} failed: IntegrityError: "
            "(builtins.Exception) UNIQUE constraint failed: "
            "recon_exception.fingerprint."
        )


def _no_sleep(_: float) -> None:
    raise AssertionError("a held lock must not wait for a retry")


class TestOtherHolders:
    def test_run_lock_held_is_not_retried(self, fresh_engine: Engine) -> None:
        """A run in progress elsewhere: the pass gives way at once, no retry."""
        seed_watermark(fresh_engine, TODAY - 2 * DAY)
        slept: list[float] = []
        with run_lock(fresh_engine, at=CLOCK.now()), pytest.raises(RunLockHeld):
            run_nightly(
                engine=fresh_engine,
                settings=Settings(),
                clock=CLOCK,
                sleep=slept.append,
            )
        assert slept == []
        assert nightly_days(fresh_engine) == []

    def test_the_next_invocation_runs_the_day_with_all_its_retries(
        self, fresh_engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A held lock is no failed attempt: no run record, and the next
        reconcile nightly runs the day, still with every retry."""
        seed_watermark(fresh_engine, TODAY - 2 * DAY)
        with run_lock(fresh_engine, at=CLOCK.now()), pytest.raises(RunLockHeld):
            run_nightly(
                engine=fresh_engine, settings=Settings(), clock=CLOCK, sleep=_no_sleep
            )
        assert [r for r in runs(fresh_engine) if r["trigger"] == "nightly"] == []
        failing_classify(monkeypatch, fail_calls={1, 2})
        slept: list[float] = []
        outcome = run_nightly(
            engine=fresh_engine,
            settings=settings(retry_attempts=2),
            clock=CLOCK,
            sleep=slept.append,
        )
        assert [r.day for r in outcome.runs] == [TODAY - DAY]
        assert len(slept) == 2

    def test_nightly_lock_held_runs_nothing(self, fresh_engine: Engine) -> None:
        """Another nightly pass in progress: refused, naming it, nothing run."""
        seed_watermark(fresh_engine, TODAY - 2 * DAY)
        with (
            nightly_lock(fresh_engine, at=CLOCK.now()),
            pytest.raises(NightlyLockHeld, match="another nightly pass is running on"),
        ):
            run_pass(engine=fresh_engine, settings=Settings(), clock=CLOCK)
        assert nightly_days(fresh_engine) == []

    def test_the_nightly_lock_is_released(self, fresh_engine: Engine) -> None:
        """After a pass, another pass can take the nightly lock."""
        run_pass(engine=fresh_engine, settings=Settings(), clock=CLOCK)
        with nightly_lock(fresh_engine, at=CLOCK.now()):
            pass


def _counting(runner: Callable[..., Any], seen: list[dt.date]) -> Callable[..., Any]:
    def run(**kwargs: Any) -> Any:
        seen.append(kwargs["window"].first)
        return runner(**kwargs)

    return run


class TestSameRunner:
    def test_each_day_goes_through_pipeline_run_as_nightly(
        self, fresh_engine: Engine
    ) -> None:
        """The pass calls the runner once per day with trigger nightly."""
        seed_watermark(fresh_engine, TODAY - 3 * DAY)
        seen: list[dt.date] = []
        run_pass(
            engine=fresh_engine,
            settings=Settings(),
            clock=CLOCK,
            runner=_counting(pipeline.run, seen),
        )
        assert seen == days(TODAY - 2 * DAY, TODAY - DAY)
