"""Which days a nightly pass runs: from the watermark up to yesterday, capped."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.plan import CatchUp, plan_catch_up

TODAY = dt.date(2024, 3, 10)
DAY = dt.timedelta(days=1)


def days(first: dt.date, last: dt.date) -> tuple[dt.date, ...]:
    return tuple(first + n * DAY for n in range((last - first).days + 1))


class TestPlanCatchUp:
    def test_no_run_yet_runs_yesterday_only(self) -> None:
        """A new database runs yesterday only, not all of history."""
        plan = plan_catch_up(last_successful=None, today=TODAY, max_catch_up_days=14)
        assert plan == CatchUp(days=(dt.date(2024, 3, 9),))

    def test_nothing_missed_runs_nothing(self) -> None:
        """With yesterday done there is nothing to do."""
        plan = plan_catch_up(
            last_successful=dt.date(2024, 3, 9), today=TODAY, max_catch_up_days=14
        )
        assert plan == CatchUp(days=())
        assert plan.missed == 0

    def test_one_missed_night(self) -> None:
        """One missed night runs that one day."""
        plan = plan_catch_up(
            last_successful=dt.date(2024, 3, 8), today=TODAY, max_catch_up_days=14
        )
        assert plan.days == (dt.date(2024, 3, 9),)
        assert plan.skipped is None

    def test_seven_missed_nights_run_oldest_first(self) -> None:
        """A week down: seven runs, one per day, oldest first."""
        plan = plan_catch_up(
            last_successful=dt.date(2024, 3, 2), today=TODAY, max_catch_up_days=14
        )
        assert plan.days == days(dt.date(2024, 3, 3), dt.date(2024, 3, 9))
        assert plan.skipped is None
        assert plan.missed == 7

    def test_exactly_the_limit_skips_nothing(self) -> None:
        """max_catch_up_days missed days all run."""
        plan = plan_catch_up(
            last_successful=dt.date(2024, 3, 2), today=TODAY, max_catch_up_days=7
        )
        assert len(plan.days) == 7
        assert plan.skipped is None

    def test_one_beyond_the_limit_skips_the_oldest(self) -> None:
        """One day more than the limit: the oldest day is recorded as skipped."""
        plan = plan_catch_up(
            last_successful=dt.date(2024, 3, 1), today=TODAY, max_catch_up_days=7
        )
        assert plan.days == days(dt.date(2024, 3, 3), dt.date(2024, 3, 9))
        assert plan.skipped == (dt.date(2024, 3, 2), dt.date(2024, 3, 2))
        assert plan.missed == 8

    def test_long_outage_runs_the_most_recent_days(self) -> None:
        """Months down: the most recent days run, the rest is one skipped range."""
        plan = plan_catch_up(
            last_successful=dt.date(2023, 12, 31), today=TODAY, max_catch_up_days=14
        )
        assert plan.days == days(dt.date(2024, 2, 25), dt.date(2024, 3, 9))
        assert plan.skipped == (dt.date(2024, 1, 1), dt.date(2024, 2, 24))

    def test_watermark_after_yesterday_runs_nothing(self) -> None:
        """A manual run reaching today or later leaves nothing for the nightly job."""
        plan = plan_catch_up(
            last_successful=dt.date(2024, 3, 20), today=TODAY, max_catch_up_days=14
        )
        assert plan.days == ()

    def test_limit_below_one_is_refused(self) -> None:
        """A cap of zero days would never run anything: refused."""
        with pytest.raises(ValueError):
            plan_catch_up(last_successful=None, today=TODAY, max_catch_up_days=0)

    @given(
        gap=st.integers(min_value=-5, max_value=400),
        limit=st.integers(min_value=1, max_value=60),
    )
    def test_every_missed_day_is_run_or_skipped_once(
        self, gap: int, limit: int
    ) -> None:
        """Run and skipped days are disjoint, consecutive and cover every missed day."""
        last = TODAY - dt.timedelta(days=gap)
        plan = plan_catch_up(last_successful=last, today=TODAY, max_catch_up_days=limit)
        covered = list(days(*plan.skipped)) if plan.skipped else []
        covered += plan.days
        expected = list(days(last + DAY, TODAY - DAY)) if gap > 1 else []
        assert covered == expected
        assert len(plan.days) <= limit
        assert plan.missed == len(expected)
