"""Run windows and Federal Reserve business days."""

from __future__ import annotations

import datetime as dt

import pytest

from reconcile.periods import (
    DateFormatError,
    InvalidWindowError,
    RunWindow,
    add_business_days,
    add_months,
    federal_reserve_holidays,
    is_business_day,
    parse_iso_date,
)

D = dt.date


class TestRunWindow:
    def test_inclusive_days_and_as_of(self) -> None:
        """A window holds both its ends; as_of is the last day."""
        window = RunWindow(D(2024, 3, 1), D(2024, 3, 31))
        assert window.days == 31
        assert window.as_of == D(2024, 3, 31)
        assert D(2024, 3, 31) in window
        assert D(2024, 4, 1) not in window
        assert list(RunWindow(D(2024, 1, 1), D(2024, 1, 2))) == [
            D(2024, 1, 1),
            D(2024, 1, 2),
        ]

    def test_rejects_reversed_window(self) -> None:
        """A window that ends before it starts is a usage error."""
        with pytest.raises(InvalidWindowError):
            RunWindow(D(2024, 3, 2), D(2024, 3, 1))

    def test_parse_iso_date(self) -> None:
        """Only YYYY-MM-DD days that exist parse."""
        assert parse_iso_date("2024-02-29") == D(2024, 2, 29)
        for bad in ("2023-02-29", "2024-2-1", "20240201", "yesterday"):
            with pytest.raises(DateFormatError):
                parse_iso_date(bad)


class TestBusinessDays:
    def test_2024_federal_reserve_holidays(self) -> None:
        """The 2024 schedule, including Juneteenth and Sunday→Monday observance."""
        assert federal_reserve_holidays(2024) == {
            D(2024, 1, 1), D(2024, 1, 15), D(2024, 2, 19), D(2024, 5, 27),
            D(2024, 6, 19), D(2024, 7, 4), D(2024, 9, 2), D(2024, 10, 14),
            D(2024, 11, 11), D(2024, 11, 28), D(2024, 12, 25),
        }  # fmt: skip

    def test_saturday_holiday_is_not_moved(self) -> None:
        """July 4th 2026 is a Saturday: the Fed is open Friday the 3rd."""
        assert D(2026, 7, 4) in federal_reserve_holidays(2026)
        assert is_business_day(D(2026, 7, 3))

    def test_sunday_holiday_moves_to_monday(self) -> None:
        """Juneteenth 2022 fell on a Sunday: Monday the 20th was closed."""
        assert not is_business_day(D(2022, 6, 20))

    def test_add_business_days_skips_weekends_and_holidays(self) -> None:
        """Friday + 1 is Monday; across Thanksgiving the Thursday does not count."""
        assert add_business_days(D(2024, 3, 1), 1) == D(2024, 3, 4)
        assert add_business_days(D(2024, 11, 27), 1) == D(2024, 11, 29)
        assert add_business_days(D(2024, 3, 2), 0) == D(2024, 3, 4)

    def test_add_months_clamps(self) -> None:
        """Month arithmetic clamps to the last day of a shorter month."""
        assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
        assert add_months(D(2024, 8, 31), -18) == D(2023, 2, 28)
        assert add_months(D(2024, 3, 15), 12) == D(2025, 3, 15)
