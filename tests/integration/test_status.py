"""reconcile status: watermark, next run, locks, last run, skips and queue deadlines."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, update

from jobs.nightly import run_pass
from jobs.status import status_report
from reconcile import pipeline
from reconcile.categories import RecoupmentStatus, RefundStatus, RunStatus, RunTrigger
from reconcile.cli import main
from reconcile.clock import FixedClock
from reconcile.db.locks import nightly_lock, run_lock
from reconcile.db.tables import ReconRun, Recoupment, Refund
from reconcile.periods import RunWindow
from reconcile.settings import ScheduleSettings, Settings
from tests.factories import make_recoupment, make_refund, make_run

#: 07:00 EDT on Sunday 2024-03-10, the morning clocks sprang forward in New York.
CLOCK = FixedClock(dt.datetime(2024, 3, 10, 11, tzinfo=dt.UTC))
TODAY = dt.date(2024, 3, 10)
DAY = dt.timedelta(days=1)


def report(engine: Engine, settings: Settings | None = None) -> dict[str, Any]:
    with engine.connect() as conn:
        return status_report(
            conn=conn, settings=settings or Settings(), now=CLOCK.now()
        )


ZERO = {"count": 0, "amount": "0.00"}
NO_QUEUE = {"overdue": ZERO, "due_within_7_days": ZERO, "due_within_30_days": ZERO}


class TestSchedule:
    def test_empty_database(self, fresh_engine: Engine) -> None:
        """Before any run: nothing successful, yesterday pending, nothing held."""
        status = report(fresh_engine)
        assert status["today"] == "2024-03-10"
        assert status["last_successful_day"] is None
        assert status["pending"] == {
            "from": "2024-03-09", "to": "2024-03-09", "days": 1, "will_skip": None
        }  # fmt: skip
        assert status["lock"] is None
        assert status["nightly_pass"] is None
        assert status["last_run"] is None
        assert status["skipped"] is None
        assert status["refunds"] == NO_QUEUE
        assert status["recoupments"] == NO_QUEUE

    def test_next_run_is_local_time_from_the_trigger(
        self, fresh_engine: Engine
    ) -> None:
        """At 07:00 EDT the next 06:00 run is tomorrow, in EDT."""
        status = report(fresh_engine)
        assert status["next_run"] == "2024-03-11T06:00:00-04:00"
        assert status["schedule"] == {"time": "06:00", "time_zone": "America/New_York"}

    def test_schedule_time_zone_is_used(self, fresh_engine: Engine) -> None:
        """A [schedule] time_zone shows the next run in that zone."""
        settings = replace(
            Settings(), schedule=ScheduleSettings(time="12:00", time_zone="UTC")
        )
        status = report(fresh_engine, settings)
        assert status["next_run"] == "2024-03-10T12:00:00+00:00"

    def test_after_a_pass(self, fresh_engine: Engine) -> None:
        """After a pass: the watermark is yesterday, nothing pending, last run shown."""
        run_pass(engine=fresh_engine, settings=Settings(), clock=CLOCK)
        status = report(fresh_engine)
        assert status["last_successful_day"] == "2024-03-09"
        assert status["pending"] is None
        last = status["last_run"]
        assert (last["trigger"], last["status"], last["error"]) == (
            "nightly", "succeeded", None
        )  # fmt: skip
        assert last["window"] == {"from": "2024-03-09", "to": "2024-03-09"}

    def test_last_run_failed_shows_its_error(self, fresh_engine: Engine) -> None:
        """A failed last run shows its status and error."""
        with fresh_engine.begin() as conn:
            run_id = make_run(conn, status=RunStatus.FAILED)
            conn.execute(
                update(ReconRun)
                .where(ReconRun.id == run_id)
                .values(error="RuntimeError: disk full")
            )
        last = report(fresh_engine)["last_run"]
        assert (last["id"], last["status"], last["error"]) == (
            run_id, "failed", "RuntimeError: disk full"
        )  # fmt: skip


class TestLocks:
    def test_run_lock_holder_is_shown(self, fresh_engine: Engine) -> None:
        """A held run lock names its host and pid, and the holder is alive."""
        with run_lock(fresh_engine, at=CLOCK.now()) as lock:
            status = report(fresh_engine)
        holder = status["lock"]
        assert (holder["host"], holder["pid"], holder["alive"]) == (
            lock.host, lock.pid, True
        )  # fmt: skip
        assert report(fresh_engine)["lock"] is None

    def test_nightly_pass_holder_is_shown(self, fresh_engine: Engine) -> None:
        """A nightly pass in progress is shown apart from the run lock."""
        with nightly_lock(fresh_engine, at=CLOCK.now()):
            status = report(fresh_engine)
        assert status["nightly_pass"]["alive"] is True
        assert status["lock"] is None


class TestSkipped:
    def test_skipped_range_is_shown(self, fresh_engine: Engine) -> None:
        """A pass beyond max_catch_up_days: status shows the skipped range."""
        with fresh_engine.begin() as conn:
            make_run(conn, first=dt.date(2024, 2, 20), last=dt.date(2024, 2, 20))
        settings = replace(Settings(), schedule=ScheduleSettings(max_catch_up_days=3))
        assert report(fresh_engine, settings)["pending"]["will_skip"] == {
            "from": "2024-02-21", "to": "2024-03-06", "days": 15
        }  # fmt: skip
        run_pass(engine=fresh_engine, settings=settings, clock=CLOCK)
        skipped = report(fresh_engine, settings)["skipped"]
        assert {k: skipped[k] for k in ("from", "to", "days")} == {
            "from": "2024-02-21", "to": "2024-03-06", "days": 15
        }  # fmt: skip
        # Later nights without a gap do not hide it: the days are still unrun.
        run_pass(engine=fresh_engine, settings=settings, clock=CLOCK, today=TODAY + DAY)
        assert report(fresh_engine, settings)["skipped"] == skipped

    def test_a_run_over_the_range_clears_it(self, fresh_engine: Engine) -> None:
        """Once someone runs the skipped days, status stops showing them."""
        with fresh_engine.begin() as conn:
            make_run(conn, first=dt.date(2024, 2, 20), last=dt.date(2024, 2, 20))
        settings = replace(Settings(), schedule=ScheduleSettings(max_catch_up_days=3))
        run_pass(engine=fresh_engine, settings=settings, clock=CLOCK)
        pipeline.run(
            engine=fresh_engine,
            settings=settings,
            window=RunWindow(dt.date(2024, 2, 21), dt.date(2024, 3, 6)),
            clock=CLOCK,
        )
        assert report(fresh_engine, settings)["skipped"] is None


def _due(engine: Engine, model: Any, item_id: int, column: str, day: dt.date) -> None:
    with engine.begin() as conn:
        conn.execute(update(model).where(model.id == item_id).values({column: day}))


class TestDueSoon:
    @pytest.fixture
    def queues(self, fresh_engine: Engine) -> Engine:
        """Refunds and recoupments due at various distances from 2024-03-10."""
        plan = [
            (RefundStatus.QUEUED, 1_000, TODAY - 2 * DAY),  # overdue
            (RefundStatus.APPROVED, 2_000, TODAY),  # due today
            (RefundStatus.QUEUED, 4_000, TODAY + 7 * DAY),  # within 7
            (RefundStatus.QUEUED, 8_000, TODAY + 20 * DAY),  # within 30
            (RefundStatus.QUEUED, 16_000, TODAY + 31 * DAY),  # later
            (RefundStatus.ISSUED, 32_000, TODAY - 5 * DAY),  # sent: not due
            (RefundStatus.CANCELLED, 64_000, TODAY),  # not owed
        ]
        for status, cents, due in plan:
            with fresh_engine.begin() as conn:
                refund_id = make_refund(conn, status=status, amount_cents=cents)
            _due(fresh_engine, Refund, refund_id, "due_on", due)
        recoupments = [
            (RecoupmentStatus.NOTICED, 500, TODAY - DAY),  # overdue
            (RecoupmentStatus.OFFSET, 700, TODAY + 3 * DAY),  # within 7
            (RecoupmentStatus.PENDING, 900, TODAY + 29 * DAY),  # within 30
            (RecoupmentStatus.DISPUTED, 1_100, TODAY),  # answered
            (RecoupmentStatus.CLOSED, 1_300, TODAY),  # done
            (RecoupmentStatus.NOTICED, 1_500, None),  # no deadline
        ]
        for rstatus, cents, rdue in recoupments:
            with fresh_engine.begin() as conn:
                item_id = make_recoupment(conn, status=rstatus, amount_cents=cents)
            if rdue is not None:
                _due(fresh_engine, Recoupment, item_id, "response_due_on", rdue)
        return fresh_engine

    def test_refunds_not_yet_issued_by_due_date(self, queues: Engine) -> None:
        """Overdue, within 7 and within 30 days (cumulative), not issued ones."""
        assert report(queues)["refunds"] == {
            "overdue": {"count": 1, "amount": "10.00"},
            "due_within_7_days": {"count": 2, "amount": "60.00"},
            "due_within_30_days": {"count": 3, "amount": "140.00"},
        }

    def test_recoupments_awaiting_a_response(self, queues: Engine) -> None:
        """Recoupments not yet answered, by response due date."""
        assert report(queues)["recoupments"] == {
            "overdue": {"count": 1, "amount": "5.00"},
            "due_within_7_days": {"count": 1, "amount": "7.00"},
            "due_within_30_days": {"count": 2, "amount": "16.00"},
        }


def record_skip(
    engine: Engine,
    *,
    day: dt.date,
    skipped: tuple[dt.date, dt.date],
    status: RunStatus = RunStatus.SUCCEEDED,
) -> int:
    """A nightly run for ``day`` whose pass recorded ``skipped``."""
    with engine.begin() as conn:
        run_id = make_run(conn, first=day, last=day, status=status)
        conn.execute(
            update(ReconRun)
            .where(ReconRun.id == run_id)
            .values(
                trigger=RunTrigger.NIGHTLY,
                skipped_first=skipped[0],
                skipped_last=skipped[1],
            )
        )
    return run_id


def manual_run(engine: Engine, first: dt.date, last: dt.date) -> None:
    with engine.begin() as conn:
        make_run(conn, first=first, last=last)


def ranges(status: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(s["from"], s["to"], s["days"]) for s in status["skipped_ranges"]]


class TestSkippedRanges:
    def test_every_unrun_range_is_listed_oldest_first(
        self, fresh_engine: Engine
    ) -> None:
        """Two outages, two skips: both stay listed, not only the newest."""
        older = record_skip(fresh_engine, day=D(1, 20), skipped=(D(1, 1), D(1, 10)))
        newer = record_skip(fresh_engine, day=D(3, 1), skipped=(D(2, 1), D(2, 14)))
        status = report(fresh_engine)
        assert ranges(status) == [
            ("2024-01-01", "2024-01-10", 10),
            ("2024-02-01", "2024-02-14", 14),
        ]
        assert [s["run_id"] for s in status["skipped_ranges"]] == [older, newer]
        assert status["skipped"] == status["skipped_ranges"][-1]

    def test_several_runs_together_cover_a_range(self, fresh_engine: Engine) -> None:
        """Two manual runs filling the range between them clear it."""
        record_skip(fresh_engine, day=D(3, 1), skipped=(D(2, 1), D(2, 14)))
        manual_run(fresh_engine, D(2, 1), D(2, 7))
        manual_run(fresh_engine, D(2, 8), D(2, 14))
        status = report(fresh_engine)
        assert status["skipped_ranges"] == []
        assert status["skipped"] is None

    def test_a_partly_covered_range_shows_the_days_left(
        self, fresh_engine: Engine
    ) -> None:
        """A manual run over the middle of the range leaves both ends listed."""
        run_id = record_skip(fresh_engine, day=D(3, 1), skipped=(D(2, 1), D(2, 14)))
        manual_run(fresh_engine, D(2, 5), D(2, 9))
        status = report(fresh_engine)
        assert ranges(status) == [
            ("2024-02-01", "2024-02-04", 4),
            ("2024-02-10", "2024-02-14", 5),
        ]
        assert {s["run_id"] for s in status["skipped_ranges"]} == {run_id}

    def test_a_failed_run_over_the_range_does_not_clear_it(
        self, fresh_engine: Engine
    ) -> None:
        """Only succeeded runs fill skipped days."""
        record_skip(fresh_engine, day=D(3, 1), skipped=(D(2, 1), D(2, 14)))
        with fresh_engine.begin() as conn:
            make_run(conn, first=D(2, 1), last=D(2, 14), status=RunStatus.FAILED)
        assert ranges(report(fresh_engine)) == [("2024-02-01", "2024-02-14", 14)]

    def test_a_skip_recorded_by_a_failed_run_is_only_pending(
        self, fresh_engine: Engine
    ) -> None:
        """The pass whose first run failed did not move the watermark: not skipped
        yet, the next pass plans the same skip (pending.will_skip)."""
        manual_run(fresh_engine, D(2, 20), D(2, 20))
        record_skip(
            fresh_engine,
            day=D(3, 7),
            skipped=(D(2, 21), D(3, 6)),
            status=RunStatus.FAILED,
        )
        settings = replace(Settings(), schedule=ScheduleSettings(max_catch_up_days=3))
        status = report(fresh_engine, settings)
        assert status["skipped_ranges"] == []
        assert status["pending"]["will_skip"] == {
            "from": "2024-02-21", "to": "2024-03-06", "days": 15
        }  # fmt: skip


class TestStatusText:
    def test_each_unrun_range_gets_a_line_with_its_command(
        self, fresh_url: str, fresh_engine: Engine
    ) -> None:
        """reconcile status prints every skipped range, each with its remedy."""
        record_skip(fresh_engine, day=D(1, 20), skipped=(D(1, 1), D(1, 10)))
        record_skip(fresh_engine, day=D(3, 1), skipped=(D(2, 1), D(2, 14)))
        result = CliRunner().invoke(
            main, ["--database-url", fresh_url, "status"], catch_exceptions=False
        )
        assert result.exit_code == 0, result.stderr
        lines = result.stdout.splitlines()
        at = next(i for i, ln in enumerate(lines) if ln.startswith("Skipped by"))
        assert [ln[22:].split(";")[1] for ln in lines[at : at + 2]] == [
            " reconcile them with: reconcile run --from 2024-01-01 --to 2024-01-10",
            " reconcile them with: reconcile run --from 2024-02-01 --to 2024-02-14",
        ]
        assert lines[at + 1][:22].strip() == ""


class TestLastRunError:
    def test_only_the_first_line_of_a_database_error(
        self, fresh_engine: Engine
    ) -> None:
        """A database error's SQL and parameters stay in the run record only."""
        error = (
            "IntegrityError: (sqlite3.IntegrityError) UNIQUE constraint failed: t.a\n"
            "[SQL: insert into t values (?)]\n[parameters: ('ACCT-1',)]"
        )
        with fresh_engine.begin() as conn:
            run_id = make_run(conn, status=RunStatus.FAILED)
            conn.execute(
                update(ReconRun).where(ReconRun.id == run_id).values(error=error)
            )
        assert report(fresh_engine)["last_run"]["error"] == (
            "IntegrityError: (sqlite3.IntegrityError) UNIQUE constraint failed: t.a"
        )


def D(month: int, day: int) -> dt.date:
    """A day of 2024 (reads like a date literal)."""
    return dt.date(2024, month, day)
