"""Money parsing and formatting: exact cents, never floats, never rounded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.money import (
    AmountFormatError,
    dollars_to_cents,
    format_dollars,
    format_magnitude,
    parse_accounting_amount,
    parse_amount,
    to_decimal,
)

cents = st.integers(min_value=-(10**15), max_value=10**15)


class TestParseAmount:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("0", 0),
            ("12", 1200),
            ("12.5", 1250),
            ("12.50", 1250),
            ("12.500", 1250),
            (".5", 50),
            ("5.", 500),
            ("-120", -12000),
            ("-0.01", -1),
            (" 7.07 ", 707),
            ("+3", 300),
        ],
    )
    def test_accepts_plain_amounts(self, text: str, expected: int) -> None:
        """Plain X12/CSV amounts become exact cents."""
        assert parse_amount(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "-",
            ".",
            "1.005",
            "1e2",
            "NaN",
            "inf",
            "1,000",
            "$5",
            "1.2.3",
            "١٢",
            "--1",
        ],
    )
    def test_rejects_anything_else(self, text: str) -> None:
        """Text that is not an exact cent amount is an input error."""
        with pytest.raises(AmountFormatError):
            parse_amount(text)

    @given(cents)
    def test_round_trips_through_formatting(self, value: int) -> None:
        """format_dollars and parse_amount are inverses."""
        assert parse_amount(format_dollars(value)) == value

    @given(st.decimals(min_value=-(10**14), max_value=10**14, places=4))
    def test_agrees_with_decimal(self, value: Decimal) -> None:
        """The integer parser gives what exact Decimal arithmetic gives."""
        text = format(value, "f")
        exact = value == value.quantize(Decimal("0.01"))
        if exact:
            assert parse_amount(text) == int(value * 100)
        else:
            with pytest.raises(AmountFormatError):
                parse_amount(text)


class TestAccountingAmounts:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("$1,234.56", 123456),
            ("(12.00)", -1200),
            ("($1,000)", -100000),
            ("-$5", -500),
            ("-12.00", -1200),
            ("1234.56", 123456),
            ("$0.99", 99),
        ],
    )
    def test_accepts_what_accountants_type(self, text: str, expected: int) -> None:
        """Currency signs, thousands separators and parentheses are understood."""
        assert parse_accounting_amount(text) == expected

    @pytest.mark.parametrize(
        "text", ["(-5)", "1,23.00", "12,3456", "$1.234", "()", "(5"]
    )
    def test_rejects_malformed(self, text: str) -> None:
        """Misplaced separators, double negatives and sub-cent values are errors."""
        with pytest.raises(AmountFormatError):
            parse_accounting_amount(text)

    @given(cents)
    def test_round_trips_with_separators(self, value: int) -> None:
        """An amount written with $ and separators reads back exactly."""
        whole, frac = divmod(abs(value), 100)
        text = f"${whole:,}.{frac:02d}"
        written = f"({text})" if value < 0 else text
        assert parse_accounting_amount(written) == value


class TestDecimalEdges:
    @given(cents)
    def test_decimal_round_trip(self, value: int) -> None:
        """Cents → Decimal dollars → cents is the identity."""
        assert dollars_to_cents(to_decimal(value)) == value

    def test_rejects_sub_cent_and_non_finite(self) -> None:
        """Decimals finer than a cent, NaN and floats are refused."""
        bad_values = (Decimal("0.001"), Decimal("NaN"), Decimal("Infinity"), 1.5, True)
        for bad in (*bad_values, Decimal(10**16)):
            with pytest.raises(AmountFormatError):
                dollars_to_cents(bad)  # type: ignore[arg-type]

    def test_formats(self) -> None:
        """Dollars have two decimals; magnitudes drop the sign."""
        assert format_dollars(-1250) == "-12.50"
        assert format_dollars(5) == "0.05"
        assert format_magnitude(-1250) == "12.50"
        assert str(to_decimal(-1)) == "-0.01"
