"""Deposits (CSV, XLSX, BAI2), patient payments and ledger postings: dedupe by id."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine

from reconcile.categories import SourceKind
from reconcile.db.tables import BankDeposit, LedgerEntry, PatientPayment
from reconcile.demo import practice_data
from reconcile.demo.bai2_writer import (
    BaiAccount,
    BaiDetail,
    BaiFile,
    BaiGroup,
    ccd_addenda,
    write_bai2,
)
from reconcile.demo.tabular_writer import Sheet, write_csv, write_xlsx
from reconcile.ingest import ImportStatus
from reconcile.settings import SourceSettings
from tests.practice_factories import (
    count_of,
    rows_of,
    run_import,
    settings_with,
    write_lines,
)

DEPOSITS_HEADER = "deposit_id,deposit_date,amount,trace_number,payer_name,account"
PAYMENTS_HEADER = (
    "payment_id,received_on,patient_account,claim_id,amount,method,reference"
)
LEDGER_HEADER = (
    "entry_id,posted_on,claim_id,patient_account,payer_id,kind,amount,reference"
)


def bank(*details: BaiDetail, as_of: dt.date = dt.date(2024, 3, 1)) -> BaiFile:
    return BaiFile(
        sender="121000248",
        receiver="PRACTICE1",
        created_at=dt.datetime(2024, 3, 2, 6, 0, tzinfo=dt.UTC),
        groups=[BaiGroup(as_of=as_of, accounts=[BaiAccount("4411", details=details)])],
    )


def eft(cents: int, reference: str, trace: str) -> BaiDetail:
    return BaiDetail(
        amount_cents=cents,
        bank_reference=reference,
        text=["HCCLAIMPMT", ccd_addenda(trace=trace, originator="1066033492")],
    )


class TestCsvDeposits:
    def test_loads_then_skips_known_ids(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """A later file repeating a deposit skips it and loads the new ones."""
        first = write_lines(
            tmp_path / "a.csv",
            DEPOSITS_HEADER,
            ["D1,2024-03-01,1500.00,EFT1,AETNA,OPER", "D2,2024-03-01,20.00,,,"],
        )
        second = write_lines(
            tmp_path / "b.csv",
            DEPOSITS_HEADER,
            ["D2,2024-03-01,20.00,,,", "D3,2024-03-04,7.50,CHK 101,,OPER"],
        )
        [one] = run_import(fresh_engine, SourceKind.DEPOSITS, first)
        [two] = run_import(fresh_engine, SourceKind.DEPOSITS, second)
        assert (one.counts, one.skipped) == ({"deposits": 2}, 0)
        assert (two.counts, two.skipped, two.warnings) == ({"deposits": 1}, 1, [])
        assert rows_of(
            fresh_engine, BankDeposit, "deposit_id", "amount_cents", "trace_number",
            "originator_id", "line_number",
        ) == [
            ("D1", 150_000, "EFT1", None, 2),
            ("D2", 2_000, None, None, 3),
            ("D3", 750, "CHK 101", None, 3),
        ]  # fmt: skip

    def test_known_id_with_other_values_warns(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """A known deposit with another amount is skipped and reported."""
        run_import(
            fresh_engine,
            SourceKind.DEPOSITS,
            write_lines(tmp_path / "a.csv", DEPOSITS_HEADER, ["D1,2024-03-01,15,,,"]),
        )
        [outcome] = run_import(
            fresh_engine,
            SourceKind.DEPOSITS,
            write_lines(tmp_path / "b.csv", DEPOSITS_HEADER, ["D1,2024-03-01,16,,,"]),
        )
        assert outcome.status is ImportStatus.LOADED
        assert (outcome.counts, outcome.skipped) == ({"deposits": 0}, 1)
        assert [str(w) for w in outcome.warnings] == [
            "line 2: this deposit_id was already imported with other values (a.csv "
            "line 2); those are kept, this row is skipped"
        ]
        assert rows_of(fresh_engine, BankDeposit, "amount_cents") == [(1_500,)]

    def test_repeated_id_in_a_file_rejects_it(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """The same deposit id twice in one file is a problem; nothing loads."""
        path = write_lines(
            tmp_path / "a.csv",
            DEPOSITS_HEADER,
            ["D1,2024-03-01,15,,,", "D2,2024-03-01,15,,,", "D1,2024-03-02,9,,,"],
        )
        [outcome] = run_import(fresh_engine, SourceKind.DEPOSITS, path)
        assert outcome.status is ImportStatus.REJECTED
        assert [(p.line, p.column) for p in outcome.reason] == [(4, "deposit_id")]
        assert count_of(fresh_engine, BankDeposit) == 0

    def test_xlsx_deposits_with_a_map(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Workbook deposits load through the column map."""
        settings = SourceSettings(
            columns={"deposit_id": "Deposit #", "amount": "Total"}
        )
        rows = list(
            practice_data.deposits(count=12, seed=5, first_day=dt.date(2024, 1, 2))
        )
        path = write_xlsx(
            path=tmp_path / "d.xlsx",
            sheets=[Sheet("Deposits", "deposits", rows, settings)],
        )
        [outcome] = run_import(
            fresh_engine,
            SourceKind.DEPOSITS,
            path,
            settings=settings_with({"deposits": settings}),
        )
        assert outcome.counts == {"deposits": 12}
        first = rows_of(fresh_engine, BankDeposit, "deposit_id", "amount_cents")[0]
        assert first == (rows[0]["deposit_id"], rows[0]["amount"])


class TestBai2Deposits:
    def test_credits_load_with_trace_and_originator(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """BAI2 credits load as deposits with TRN02/TRN03 for reassociation."""
        path = write_bai2(
            path=tmp_path / "prior-day.bai",
            bai=bank(
                eft(150_000, "BR001", "EFT0001"),
                BaiDetail(amount_cents=999, type_code="475", bank_reference="CHK9"),
                eft(2_500, "BR002", "EFT0002"),
            ),
        )
        [outcome] = run_import(fresh_engine, SourceKind.DEPOSITS, path)
        assert (outcome.status, outcome.counts) == (
            ImportStatus.LOADED,
            {"deposits": 2},
        )
        assert rows_of(
            fresh_engine, BankDeposit, "deposit_id", "amount_cents", "trace_number",
            "originator_id", "account", "line_number",
        ) == [
            ("4411:20240301:BR001", 150_000, "EFT0001", "1066033492", "4411", 4),
            ("4411:20240301:BR002", 2_500, "EFT0002", "1066033492", "4411", 8),
        ]  # fmt: skip

    def test_intraday_then_prior_day_report_skips_known_credits(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """The same credit in a later bank file is the same deposit: skipped."""
        intraday = write_bai2(
            path=tmp_path / "intraday.bai", bai=bank(eft(100, "BR001", "T1"))
        )
        prior_day = write_bai2(
            path=tmp_path / "prior.bai",
            bai=bank(eft(100, "BR001", "T1"), eft(200, "BR002", "T2")),
        )
        run_import(fresh_engine, SourceKind.DEPOSITS, intraday)
        [outcome] = run_import(fresh_engine, SourceKind.DEPOSITS, prior_day)
        assert (outcome.counts, outcome.skipped) == ({"deposits": 1}, 1)
        assert count_of(fresh_engine, BankDeposit) == 2

    def test_repeated_bank_reference_rejects_the_file(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Two credits with one bank reference on one day are ambiguous."""
        path = write_bai2(
            path=tmp_path / "b.bai",
            bai=bank(eft(100, "BR001", "T1"), eft(200, "BR001", "T2")),
        )
        [outcome] = run_import(fresh_engine, SourceKind.DEPOSITS, path)
        assert outcome.status is ImportStatus.REJECTED
        assert [str(p) for p in outcome.reason] == [
            "line 7: deposit_id: repeats the deposit_id of line 4; each deposit_id "
            "may appear once in a file"
        ]

    def test_broken_totals_reject_with_the_line(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """A BAI2 file whose totals do not add up is rejected, naming the record."""
        path = write_bai2(path=tmp_path / "b.bai", bai=bank(eft(100, "BR001", "T1")))
        path.write_text(path.read_text().replace("49,100,", "49,101,"))
        [outcome] = run_import(fresh_engine, SourceKind.DEPOSITS, path)
        assert outcome.status is ImportStatus.REJECTED
        assert outcome.reason[0].line == 7
        assert count_of(fresh_engine, BankDeposit) == 0

    def test_sheet_option_is_ignored_with_a_warning(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """--sheet means nothing to a BAI2 file: it loads, with a warning."""
        path = write_bai2(path=tmp_path / "b.bai", bai=bank(eft(5, "R", "T")))
        [outcome] = run_import(fresh_engine, SourceKind.DEPOSITS, path, sheet="Data")
        assert outcome.counts == {"deposits": 1}
        assert "ignored for this BAI2 file" in outcome.warnings[0].reason

    def test_prenote_is_a_warning_of_the_outcome(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """A zero credit loads nothing and says so."""
        path = write_bai2(
            path=tmp_path / "b.bai",
            bai=bank(BaiDetail(amount_cents=0, bank_reference="PN"), eft(5, "R", "T")),
        )
        [outcome] = run_import(fresh_engine, SourceKind.DEPOSITS, path)
        assert outcome.counts == {"deposits": 1}
        assert [w.line for w in outcome.warnings] == [4]


class TestPatientPaymentsAndLedger:
    def test_patient_payments_dedupe(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Patient payments load once; an optional claim may be empty."""
        lines = [
            "P1,2024-03-01,PA1,C1,25.00,card,",
            "P2,2024-03-02,PA2,,40.00,check,1044",
        ]
        first = write_lines(tmp_path / "a.csv", PAYMENTS_HEADER, lines)
        second = write_lines(tmp_path / "b.csv", PAYMENTS_HEADER, [*lines, ""])
        [one] = run_import(fresh_engine, SourceKind.PATIENT_PAYMENTS, first)
        [two] = run_import(fresh_engine, SourceKind.PATIENT_PAYMENTS, second)
        assert one.counts == {"patient_payments": 2}
        assert (two.counts, two.skipped) == ({"patient_payments": 0}, 2)
        assert rows_of(
            fresh_engine, PatientPayment, "payment_id", "claim_id", "amount_cents",
            "reference",
        ) == [("P1", "C1", 2_500, None), ("P2", None, 4_000, "1044")]  # fmt: skip

    def test_ledger_postings_signed_and_counted(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Ledger postings keep the ledger's sign; the count key is 'postings'."""
        path = write_lines(
            tmp_path / "l.csv",
            LEDGER_HEADER,
            [
                "E1,2024-03-08,C1,PA1,MCR,insurance_payment,102.30,EFT1",
                "E2,2024-03-08,C1,PA1,MCR,Adjustment,-37.12,EFT1",
                "E3,2024-03-20,C1,PA1,,refund,-10.00,CHK 2201",
                "E4,2024-03-01,,PA1,,patient_payment,25.00,",
            ],
        )
        [outcome] = run_import(fresh_engine, SourceKind.LEDGER, path)
        assert outcome.counts == {"postings": 4}
        assert rows_of(
            fresh_engine, LedgerEntry, "entry_id", "kind", "amount_cents"
        ) == [
            ("E1", "insurance_payment", 10_230),
            ("E2", "adjustment", -3_712),
            ("E3", "refund", -1_000),
            ("E4", "patient_payment", 2_500),
        ]

    def test_many_ledger_postings(self, fresh_engine: Engine, tmp_path: Path) -> None:
        """Synthetic ledgers of every kind load whole."""
        entries = list(
            practice_data.ledger(count=500, seed=2, first_day=dt.date(2024, 1, 1))
        )
        path = tmp_path / "l.csv"
        write_csv(path=path, source="ledger", rows=entries, delimiter="|")
        [outcome] = run_import(fresh_engine, SourceKind.LEDGER, path)
        assert outcome.counts == {"postings": 500}
