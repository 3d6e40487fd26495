"""A file's identity is (kind, SHA-256, sheet): the same bytes read another way load."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, select

from reconcile.categories import SourceKind, SourceStatus
from reconcile.db.tables import BankDeposit, ExpectedClaim, LedgerEntry, SourceFile
from reconcile.demo import practice_data
from reconcile.demo.tabular_writer import Sheet, write_xlsx
from reconcile.ingest import FileOutcome, ImportStatus
from tests.practice_factories import count_of, run_import, write_lines

DAY = dt.date(2024, 3, 1)
#: A file that is both a deposits export and a ledger export (extra columns are
#: ignored), as happens when one spreadsheet is exported for two purposes.
BOTH_HEADER = "deposit_id,deposit_date,entry_id,posted_on,kind,amount"
BOTH_LINE = "D1,2024-03-01,E1,2024-03-01,patient_payment,25.00"


def _statuses(outcomes: list[FileOutcome]) -> list[ImportStatus]:
    return [o.status for o in outcomes]


class TestKindIsPartOfTheIdentity:
    def test_same_bytes_as_another_kind_load(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """One file imported as deposits, then as ledger, loads both times."""
        path = write_lines(tmp_path / "both.csv", BOTH_HEADER, [BOTH_LINE])
        first = run_import(fresh_engine, SourceKind.DEPOSITS, path)
        second = run_import(fresh_engine, SourceKind.LEDGER, path)
        assert _statuses(first + second) == [ImportStatus.LOADED] * 2
        assert count_of(fresh_engine, BankDeposit) == 1
        assert count_of(fresh_engine, LedgerEntry) == 1

    def test_same_kind_again_is_already_imported(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """The identity still recognises the file imported as the same kind."""
        path = write_lines(tmp_path / "both.csv", BOTH_HEADER, [BOTH_LINE])
        run_import(fresh_engine, SourceKind.DEPOSITS, path)
        run_import(fresh_engine, SourceKind.LEDGER, path)
        again = run_import(fresh_engine, SourceKind.LEDGER, path)
        assert _statuses(again) == [ImportStatus.ALREADY_IMPORTED]
        with fresh_engine.connect() as conn:
            rows = conn.execute(
                select(SourceFile.kind, SourceFile.sheet).order_by(SourceFile.id)
            ).all()
        assert rows == [(SourceKind.DEPOSITS, ""), (SourceKind.LEDGER, "")]


class TestSheetIsPartOfTheIdentity:
    def _workbook(self, tmp_path: Path) -> Path:
        claims = list(practice_data.claims(count=6, seed=3, first_day=DAY))
        return write_xlsx(
            path=tmp_path / "claims.xlsx",
            sheets=[
                Sheet("March", "claims", claims[:3]),
                Sheet("April", "claims", claims[3:]),
            ],
        )

    def test_each_sheet_loads_then_is_already_imported(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Two sheets of one workbook are two imports; each again is a no-op."""
        path = self._workbook(tmp_path)
        march = run_import(fresh_engine, SourceKind.CLAIMS, path, sheet="March")
        april = run_import(fresh_engine, SourceKind.CLAIMS, path, sheet="April")
        assert [(o.status, o.counts) for o in march + april] == [
            (ImportStatus.LOADED, {"claims": 3}),
            (ImportStatus.LOADED, {"claims": 3}),
        ]
        assert count_of(fresh_engine, ExpectedClaim) == 6
        again = run_import(fresh_engine, SourceKind.CLAIMS, path, sheet="April")
        assert _statuses(again) == [ImportStatus.ALREADY_IMPORTED]
        with fresh_engine.connect() as conn:
            sheets = conn.execute(
                select(SourceFile.sheet).order_by(SourceFile.id)
            ).scalars()
            assert list(sheets) == ["March", "April"]

    def test_first_sheet_named_or_not_writes_nothing_twice(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """Naming the first sheet after omitting --sheet reads the same rows: all
        of them are already known and skipped."""
        path = self._workbook(tmp_path)
        run_import(fresh_engine, SourceKind.CLAIMS, path)
        [named] = run_import(fresh_engine, SourceKind.CLAIMS, path, sheet="March")
        assert (named.status, named.counts, named.skipped) == (
            ImportStatus.LOADED,
            {"claims": 0},
            3,
        )
        assert count_of(fresh_engine, ExpectedClaim) == 3

    def test_sheet_means_nothing_to_a_csv(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """--sheet on a CSV is ignored, so it is no new identity either."""
        path = write_lines(
            tmp_path / "c.csv",
            "claim_id,payer_id,service_date,billed_amount,expected_amount,submitted_on",
            ["C1,AETNA,2024-03-01,100.00,80.00,2024-03-02"],
        )
        run_import(fresh_engine, SourceKind.CLAIMS, path)
        again = run_import(fresh_engine, SourceKind.CLAIMS, path, sheet="Claims")
        assert _statuses(again) == [ImportStatus.ALREADY_IMPORTED]

    def test_rejected_sheet_does_not_block_a_good_one(
        self, fresh_engine: Engine, tmp_path: Path
    ) -> None:
        """A sheet that does not exist is rejected; the real one still loads."""
        path = self._workbook(tmp_path)
        missing = run_import(fresh_engine, SourceKind.CLAIMS, path, sheet="May")
        good = run_import(fresh_engine, SourceKind.CLAIMS, path, sheet="March")
        assert _statuses(missing + good) == [
            ImportStatus.REJECTED,
            ImportStatus.LOADED,
        ]
        with fresh_engine.connect() as conn:
            rows = conn.execute(
                select(SourceFile.sheet, SourceFile.status).order_by(SourceFile.id)
            ).all()
        assert rows == [("May", SourceStatus.REJECTED), ("March", SourceStatus.LOADED)]
