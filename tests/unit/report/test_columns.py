"""Column specs: each sheet's headers say what its dates and amounts are."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import load_workbook

from reconcile.categories import ExceptionKind as K
from reconcile.report.columns import (
    DECISION,
    FIRST_FLAGGED,
    NOTE,
    RECOUPMENT_IDENTIFIED,
    REFUND_IDENTIFIED,
    VERSION,
    exception_sheet,
    recoupment_sheet,
    refund_sheet,
)
from reconcile.report.review import read_review
from reconcile.report.workbook import build_workbook
from tests.report_data import content, exception_row


def headers(kind: K | None = None, *, names: bool = False) -> list[str]:
    """The headers of an exception sheet."""
    return [
        c.header for c in exception_sheet(names=names, current=False, kind=kind).columns
    ]


class TestExceptionHeaders:
    @pytest.mark.parametrize("kind", list(K))
    def test_every_kind_keeps_the_review_columns(self, kind: K) -> None:
        """Whatever its amounts are called, a sheet keeps the columns review reads."""
        found = headers(kind, names=True)
        assert len(found) == len(set(found))
        for needed in ("Exception ID", DECISION, NOTE, VERSION, "Claim ID"):
            assert needed in found
        assert "Identified on" not in found
        assert FIRST_FLAGGED in found

    @pytest.mark.parametrize(
        "kind",
        [K.UNDERPAID, K.OVERPAID, K.DENIED, K.DUPLICATE_PAYMENT, K.UNPAID_CLAIM,
         K.REVERSAL_UNCORRECTED],
    )  # fmt: skip
    def test_claim_kinds_compare_the_contract_with_the_payment(self, kind: K) -> None:
        """Claim kinds: Expected (contract) and Paid (the payer's 835)."""
        assert {"Paid on", "Expected", "Paid"} <= set(headers(kind))

    @pytest.mark.parametrize(
        "kind", [K.NOT_POSTED, K.POSTING_MISMATCH, K.POSTING_WITHOUT_PAYMENT]
    )
    def test_posting_kinds_compare_the_payment_with_the_ledger(self, kind: K) -> None:
        """Posting kinds: the money received, and what the ledger shows."""
        found = headers(kind)
        assert {"Payment received", "Ledger posted"} <= set(found)
        assert "Expected" not in found
        assert "Paid" not in found

    @pytest.mark.parametrize(
        "kind",
        [K.DEPOSIT_AMOUNT_MISMATCH, K.ERA_WITHOUT_DEPOSIT, K.DEPOSIT_WITHOUT_ERA],
    )
    def test_deposit_kinds_compare_the_835_with_the_deposit(self, kind: K) -> None:
        """Deposit kinds: the 835's BPR02 and the bank deposit."""
        found = headers(kind)
        assert {"835 amount", "Deposit"} <= set(found)
        assert "Expected" not in found

    def test_dates_are_named_for_what_they_are(self) -> None:
        """A posting without payment shows its posting date, a deposit its date."""
        assert "Posted on" in headers(K.POSTING_WITHOUT_PAYMENT)
        assert "Deposited on" in headers(K.DEPOSIT_WITHOUT_ERA)
        assert "Patient paid on" in headers(K.PATIENT_OVERPAID)

    def test_no_kind_means_the_claim_headers(self) -> None:
        """Without a kind, the sheet reads like a claim kind's."""
        assert headers() == headers(K.UNDERPAID)


class TestIdentifiedDates:
    def test_each_sheet_says_which_identified_date_it_shows(self) -> None:
        """First flagged (exceptions) is not the refund's due-date clock."""
        refunds = [c.header for c in refund_sheet(names=False).columns]
        recoupments = [c.header for c in recoupment_sheet(names=False).columns]
        assert REFUND_IDENTIFIED in refunds
        assert RECOUPMENT_IDENTIFIED in recoupments
        assert FIRST_FLAGGED not in refunds + recoupments
        assert len({FIRST_FLAGGED, REFUND_IDENTIFIED, RECOUPMENT_IDENTIFIED}) == 3


class TestPerKindSheets:
    def test_per_kind_headers_are_written_and_read_back(self, tmp_path: Path) -> None:
        """A not-posted sheet has its own headers, and its decisions read back."""
        built = content(exceptions={K.NOT_POSTED: [exception_row(kind="not_posted")]})
        [sheet] = list(built.exception_sheets)
        spec = exception_sheet(names=False, current=False, kind=K.NOT_POSTED)
        built = replace(built, exception_sheets=[replace(sheet, spec=spec)])
        path = tmp_path / "book.xlsx"
        build_workbook(content=built).save(path)
        wb = load_workbook(path)
        ws = wb["Payments not posted"]
        found = [c.value for c in ws[2]]
        assert {"Payment received", "Ledger posted", FIRST_FLAGGED} <= set(found)
        ws.cell(row=3, column=found.index(DECISION) + 1, value="resolved")
        ws.cell(row=3, column=found.index(NOTE) + 1, value="posted by hand")
        wb.save(path)
        [row] = read_review(path).rows
        assert (row.decision, row.note, row.item_id) == (
            "resolved",
            "posted by hand",
            1,
        )
