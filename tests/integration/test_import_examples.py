"""The shipped example column maps read the exports they were written for."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine

from reconcile.categories import SourceKind
from reconcile.db.tables import BankDeposit, ExpectedClaim, LedgerEntry, PatientPayment
from reconcile.ingest import ImportStatus
from reconcile.settings import Settings, load_settings
from tests.practice_factories import rows_of, run_import

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "examples"


def example(name: str) -> Settings:
    return load_settings(
        config_path=ROOT / "config" / "examples" / f"{name}.toml", environ={}
    )


class TestAdvancedMd:
    @pytest.mark.parametrize(
        ("kind", "file", "counts"),
        [
            (SourceKind.CLAIMS, "claims.csv", {"claims": 4}),
            (SourceKind.DEPOSITS, "deposits.csv", {"deposits": 3}),
            (
                SourceKind.PATIENT_PAYMENTS,
                "patient_payments.csv",
                {"patient_payments": 2},
            ),
            (SourceKind.LEDGER, "ledger.csv", {"postings": 5}),
        ],
    )
    def test_every_report_loads(
        self, fresh_engine: Engine, kind: SourceKind, file: str, counts: dict[str, int]
    ) -> None:
        """Each sample report loads whole through the AdvancedMD map."""
        [outcome] = run_import(
            fresh_engine,
            kind,
            DATA / "advancedmd" / file,
            settings=example("advancedmd"),
        )
        assert outcome.status is ImportStatus.LOADED, outcome.reason
        assert outcome.counts == counts

    def test_values_are_read_exactly(self, fresh_engine: Engine) -> None:
        """US dates, '$1,250.00', '(37.12)' and transaction words read exactly."""
        settings = example("advancedmd")
        run_import(
            fresh_engine,
            SourceKind.CLAIMS,
            DATA / "advancedmd" / "claims.csv",
            settings=settings,
        )
        run_import(
            fresh_engine,
            SourceKind.LEDGER,
            DATA / "advancedmd" / "ledger.csv",
            settings=settings,
        )
        claims = rows_of(
            fresh_engine, ExpectedClaim, "claim_id", "patient_account", "service_on",
            "billed_cents", "expected_cents", "expected_patient_cents", "provider_npi",
        )  # fmt: skip
        assert claims[2][0] == "AMD-10003"
        assert str(claims[2][2]) == "2024-03-02"
        assert claims[2][3:6] == (125_000, 85_000, 4_000)
        assert claims[3][5:] == (None, None)
        assert rows_of(
            fresh_engine, LedgerEntry, "entry_id", "kind", "amount_cents", "payer_id"
        ) == [
            ("T-90001", "insurance_payment", 10_230, "MCR"),
            ("T-90002", "adjustment", -3_712, "MCR"),
            ("T-90003", "patient_payment", 2_558, None),
            ("T-90004", "refund", -1_000, None),
            ("T-90005", "recoupment", -8_520, "AETNA"),
        ]

    def test_canonical_headers_do_not_fit_the_map(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Under the map, a canonical-header file misses the mapped columns."""
        path = tmp_path / "d.csv"
        path.write_text("deposit_id,deposit_date,amount\nD1,2024-03-01,5.00\n")
        [outcome] = run_import(
            fresh_engine, SourceKind.DEPOSITS, path, settings=example("advancedmd")
        )
        assert outcome.status is ImportStatus.REJECTED
        assert [p.column for p in outcome.reason[1:]] == [
            "Deposit #",
            "Deposit Date",
            "Deposit Amount",
        ]


class TestTebra:
    def test_claims_csv_with_two_digit_years(self, fresh_engine: Engine) -> None:
        """Tebra's CSV claims report (03/01/24) loads through its map."""
        [outcome] = run_import(
            fresh_engine, SourceKind.CLAIMS, DATA / "tebra" / "claims.csv",
            settings=example("tebra"),
        )  # fmt: skip
        assert outcome.counts == {"claims": 2}
        assert rows_of(
            fresh_engine, ExpectedClaim, "claim_id", "billed_cents", "submitted_on"
        )[1][:2] == ("T-77002", 102_000)

    def test_workbook_with_typed_cells_and_a_sheet(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """A Tebra workbook: report sheets, date and number cells, words as kinds."""
        workbook = openpyxl.Workbook()
        summary = workbook.active
        summary.title = "Summary"
        summary.append(["Transaction Detail", "generated for practice 001"])
        sheet = workbook.create_sheet("Transactions")
        sheet.append(
            ["Transaction ID", "Post Date", "Claim Number", "Patient ID",
             "Insurance Plan ID", "Transaction Type", "Amount", "Reference Number"]
        )  # fmt: skip
        sheet.append(
            [5001, dt.date(2024, 3, 8), "T-77001", "P-000101", "MCR",
             "Payment - Insurance", 102.3, "EFT0000123456"]
        )  # fmt: skip
        sheet.append(
            [5002, "03/09/24", "T-77001", "P-000101", None,
             "Payment - Patient", "$25.58", None]
        )  # fmt: skip
        sheet.append(
            [5003, dt.date(2024, 3, 20), "T-77002", "P-000102", "AETNA",
             "INSURANCE TAKEBACK", -714, "EFT0000999111"]
        )  # fmt: skip
        path = tmp_path / "transactions.xlsx"
        workbook.save(path)
        [outcome] = run_import(
            fresh_engine, SourceKind.LEDGER, path, settings=example("tebra"),
            sheet="Transactions",
        )  # fmt: skip
        assert outcome.status is ImportStatus.LOADED, outcome.reason
        assert rows_of(
            fresh_engine, LedgerEntry, "entry_id", "posted_on", "kind", "amount_cents",
            "line_number",
        ) == [
            ("5001", dt.date(2024, 3, 8), "insurance_payment", 10_230, 2),
            ("5002", dt.date(2024, 3, 9), "patient_payment", 2_558, 3),
            ("5003", dt.date(2024, 3, 20), "recoupment", -71_400, 4),
        ]  # fmt: skip

    def test_other_reports_load(self, fresh_engine: Engine, tmp_path: Path) -> None:
        """Deposits and patient payments in Tebra's layout load too."""
        deposits = tmp_path / "deposits.csv"
        deposits.write_text(
            "Deposit ID,Deposit Date,Payer Name,Reference Number,Deposit Total,"
            "Bank Account\n"
            'TD-1,03/08/24,MEDICARE PART B,EFT0000123456,"$1,102.30",OPERATING\n'
        )
        payments = tmp_path / "payments.csv"
        payments.write_text(
            "Payment ID,Payment Date,Patient ID,Claim Number,Payment Amount,"
            "Payment Method,Reference Number\n"
            "TP-1,03/01/24,P-000101,T-77001,$25.58,Card,\n"
        )
        settings = example("tebra")
        [d] = run_import(fresh_engine, SourceKind.DEPOSITS, deposits, settings=settings)
        [p] = run_import(
            fresh_engine, SourceKind.PATIENT_PAYMENTS, payments, settings=settings
        )
        assert (d.counts, p.counts) == ({"deposits": 1}, {"patient_payments": 1})
        assert rows_of(fresh_engine, BankDeposit, "amount_cents") == [(110_230,)]
        assert rows_of(fresh_engine, PatientPayment, "claim_id") == [("T-77001",)]
