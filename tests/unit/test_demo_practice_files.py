"""Synthetic practice files: deterministic data, formats the readers accept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reconcile.demo import practice_data
from reconcile.demo.tabular_writer import (
    Sheet,
    excel_serial,
    format_amount,
    format_date,
    write_csv,
    write_xlsx,
)
from reconcile.ingest.practice.specs import CLAIMS, LEDGER, npi_problem
from reconcile.ingest.tabular import ProblemLog, bind_header, open_table, stage_rows
from reconcile.settings import AmountFormat, SourceSettings

DAY = dt.date(2024, 1, 1)


class TestFormats:
    @pytest.mark.parametrize(
        ("cents", "plain", "accounting"),
        [
            (123_456, "1234.56", "$1,234.56"),
            (-1200, "-12.00", "($12.00)"),
            (5, "0.05", "$0.05"),
        ],
    )
    def test_amounts(self, cents: int, plain: str, accounting: str) -> None:
        """Cents are written as dollars in either format."""
        assert format_amount(cents, amount_format=AmountFormat.PLAIN) == plain
        assert format_amount(cents, amount_format=AmountFormat.ACCOUNTING) == accounting

    def test_dates(self) -> None:
        """Dates follow the format; 'excel' writes serial day numbers."""
        day = dt.date(2024, 3, 1)
        assert format_date(day, date_format="%m/%d/%Y") == "03/01/2024"
        assert format_date(day, date_format="excel") == "45352"
        assert excel_serial(dt.date(1900, 3, 1)) == 61
        with pytest.raises(ValueError, match="before March 1900"):
            excel_serial(dt.date(1900, 2, 1))


class TestSyntheticData:
    def test_same_seed_same_data(self) -> None:
        """Generation is deterministic for a seed and differs between seeds."""
        first = list(practice_data.claims(count=20, seed=7, first_day=DAY))
        assert first == list(practice_data.claims(count=20, seed=7, first_day=DAY))
        assert first != list(practice_data.claims(count=20, seed=8, first_day=DAY))

    def test_claims_are_consistent(self) -> None:
        """Claims have valid NPIs, expected ≤ billed, submission after service."""
        for claim in practice_data.claims(count=200, seed=1, first_day=DAY):
            assert npi_problem(str(claim["provider_npi"])) is None
            assert 0 <= claim["expected_amount"] <= claim["billed_amount"]  # type: ignore[operator]
            assert claim["submitted_on"] > claim["service_date"]  # type: ignore[operator]

    def test_ledger_signs_follow_kinds(self) -> None:
        """Refunds and recoupments are negative; patient money has no payer."""
        for entry in practice_data.ledger(count=100, seed=1, first_day=DAY):
            if entry["kind"] in ("refund", "recoupment"):
                assert entry["amount"] < 0  # type: ignore[operator]
            if entry["kind"] == "patient_payment":
                assert entry["payer_id"] is None


def read_back(path: Path, settings: SourceSettings, spec=CLAIMS):  # type: ignore[no-untyped-def]
    log = ProblemLog()
    with open_table(path=path, sheet=None) as table:
        columns = bind_header(spec=spec, settings=settings, table=table)
        rows = list(stage_rows(spec=spec, columns=columns, table=table, log=log))
    return rows, log.problems


class TestRoundTrip:
    @pytest.mark.parametrize(
        "settings",
        [
            SourceSettings(),
            SourceSettings(
                columns={"claim_id": "Claim #", "billed_amount": "Charges"},
                date_format="%m/%d/%Y",
                amount_format=AmountFormat.ACCOUNTING,
            ),
            SourceSettings(date_format="excel"),
        ],
        ids=["canonical", "mapped", "excel-dates"],
    )
    def test_csv_and_xlsx_read_back_the_same_rows(
        self, tmp_path: Path, settings: SourceSettings
    ) -> None:
        """What the writers write under a map, the reader reads under it, exactly."""
        claims = list(practice_data.claims(count=50, seed=3, first_day=DAY))
        csv_path = tmp_path / "c.csv"
        write_csv(path=csv_path, source="claims", rows=claims, settings=settings)
        xlsx_path = write_xlsx(
            path=tmp_path / "c.xlsx",
            sheets=[Sheet("Claims", "claims", claims, settings)],
        )
        from_csv, csv_problems = read_back(csv_path, settings)
        from_xlsx, xlsx_problems = read_back(xlsx_path, settings)
        assert csv_problems == xlsx_problems == []
        assert [r[2:] for r in from_csv] == [r[2:] for r in from_xlsx]
        assert from_csv[0][2] == claims[0]["claim_id"]
        assert from_csv[0][8] == claims[0]["billed_amount"]
        assert from_csv[0][7] == claims[0]["service_date"].isoformat()  # type: ignore[union-attr]

    def test_text_that_looks_like_a_formula_stays_text(self, tmp_path: Path) -> None:
        """Text starting with '=' or '-' is written as text, never as a formula."""
        entry = {
            "entry_id": "=1+1", "posted_on": DAY, "kind": "adjustment",
            "amount": -500, "reference": "-REF",
        }  # fmt: skip
        path = write_xlsx(
            path=tmp_path / "l.xlsx", sheets=[Sheet("L", "ledger", [entry])]
        )
        rows, problems = read_back(path, SourceSettings(), LEDGER)
        assert problems == []
        assert rows[0][2] == "=1+1"
        assert rows[0][9] == "-REF"
