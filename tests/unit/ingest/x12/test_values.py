"""Element values: amounts (exact, like money.parse_amount), dates, composites."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.ingest.x12 import values
from reconcile.ingest.x12.values import (
    cents,
    is_number,
    iso_date,
    shown,
    split_composite,
)
from reconcile.money import AmountFormatError, parse_amount


def _outcome(function, text: str):  # type: ignore[no-untyped-def]
    try:
        return function(text)
    except AmountFormatError:
        return "error"


class TestCents:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("123.45", 12345),
            ("-36.00", -3600),
            ("100", 10000),
            ("127.8", 12780),
            (".5", 50),
            ("-.5", -50),
            ("1.500", 150),
            ("0", 0),
            ("-0.01", -1),
            ("007.10", 710),
            ("5.", 500),
        ],
    )
    def test_amounts(self, text: str, expected: int) -> None:
        """X12 R amounts become exact cents."""
        assert cents(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "-",
            ".",
            "1.005",
            "12,00",
            "1_000",
            "+-1",
            "1e3",
            "١٢",
            "1-2",
            "--1",
            "1.-5",
            "nan",
            "9" * 17,
        ],
    )
    def test_not_amounts(self, text: str) -> None:
        """Anything else is an AmountFormatError, never a silent rounding."""
        with pytest.raises(AmountFormatError):
            cents(text)

    @given(
        st.one_of(
            st.text(alphabet="0123456789.-+ _e", max_size=20),
            st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
            st.text(max_size=8),
        )
    )
    def test_agrees_with_parse_amount(self, text: str) -> None:
        """The fast path gives exactly what money.parse_amount gives, or both fail."""
        values._AMOUNTS.clear()
        assert _outcome(cents, text) == _outcome(parse_amount, text)
        assert _outcome(cents, text) == _outcome(parse_amount, text)  # memoised

    def test_memo_is_bounded(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Only the first amounts seen are remembered."""
        monkeypatch.setattr(values, "_AMOUNTS", {})
        monkeypatch.setattr(values, "_MAX_CACHED_AMOUNTS", 3)
        for number in range(10):
            cents(f"{number}.00")
        assert len(values._AMOUNTS) == 3


class TestDates:
    def test_valid_date(self) -> None:
        """CCYYMMDD becomes an ISO date string."""
        assert iso_date("20240229") == "2024-02-29"

    @pytest.mark.parametrize(
        "text",
        [
            "20230229",
            "20002316",
            "2024-03-01",
            "240301",
            "2024030",
            "２０２４０３０１",
            "",
        ],
    )
    def test_invalid_dates(self, text: str) -> None:
        """Impossible or malformed dates are None."""
        assert iso_date(text) is None


class TestNumbers:
    @pytest.mark.parametrize(
        ("text", "ok"),
        [
            ("1", True),
            ("2.5", True),
            ("-1", True),
            (".75", True),
            ("1.", True),
            ("", False),
            ("1e2", False),
            ("１", False),
            ("-", False),
        ],
    )
    def test_is_number(self, text: str, ok: bool) -> None:
        """X12 R numbers: digits, an optional sign and decimal point."""
        assert is_number(text) is ok


class TestComposites:
    def test_declared_separator(self) -> None:
        """A composite splits at ISA16."""
        assert split_composite("HC:99213:25", ":") == (["HC", "99213", "25"], None)

    def test_other_separator_is_kept_as_written(self) -> None:
        """Written with another separator, it splits there and says which."""
        assert split_composite("HC>99213>26", ":") == (["HC", "99213", "26"], ">")

    def test_single_component(self) -> None:
        """No separator at all: one component."""
        assert split_composite("HC", ":") == (["HC"], None)
        assert split_composite("HC99213", ":") == (["HC99213"], None)


class TestShown:
    @pytest.mark.parametrize("text", ["12.005", "20241399", "-1", "ZZ", "A1", "5"])
    def test_numbers_and_short_codes_are_quoted(self, text: str) -> None:
        """Values that look like numbers, dates or codes appear in reasons."""
        assert shown(text) == repr(text)

    @pytest.mark.parametrize("text", ["SMITH", "JOHN DOE", "MBR12345", "A B"])
    def test_free_text_is_not(self, text: str) -> None:
        """Anything that could be a name or an id is described by its length."""
        assert shown(text) == f"(a value of {len(text)} characters)"
