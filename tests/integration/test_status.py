"""reconcile status: watermark, next run, locks, last run, skips and queue deadlines."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, update

from jobs.nightly import run_pass
from jobs.status import status_report
from reconcile import pipeline
from reconcile.categories import RecoupmentStatus, RefundStatus, RunStatus
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
