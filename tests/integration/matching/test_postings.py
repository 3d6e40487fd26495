"""Payments ↔ ledger postings: identity first, then amounts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from reconcile.categories import LedgerKind
from reconcile.matching.rules import (
    patient_posting_amount,
    patient_posting_exact,
    patient_posting_reference,
    remit_posting_exact,
    remit_posting_reference,
    remit_posting_unreferenced,
)
from tests.factories import (
    make_claim,
    make_claim_payment,
    make_ledger_entry,
    make_patient_payment,
    make_payment,
)
from tests.helpers import pairs, run_context


def _remit(conn: Connection, *, paid: int = 10_000, trace: str = "TR1") -> int:
    make_claim(conn, claim_id="P1")
    payment = make_payment(conn, trace_number=trace)
    return make_claim_payment(conn, payment_id=payment, claim_id="P1", paid_cents=paid)


class TestRemitPostings:
    def test_exact(self, connection: Connection) -> None:
        """Claim, payer, TRN02 reference and amount all agree."""
        cp = _remit(connection)
        entry = make_ledger_entry(connection, claim_id="P1", reference="TR1")
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, remit_posting_exact) == {(cp, entry)}

    def test_exact_near_misses(self, connection: Connection) -> None:
        """A cent off, another payer, another reference, a patient posting: none."""
        _remit(connection)
        make_ledger_entry(
            connection, claim_id="P1", reference="TR1", amount_cents=9_999
        )
        make_ledger_entry(connection, claim_id="P1", reference="TR1", payer_id="CIGNA")
        make_ledger_entry(connection, claim_id="P1", reference="TR2")
        make_ledger_entry(
            connection, claim_id="P1", reference="TR1", kind=LedgerKind.PATIENT_PAYMENT
        )
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, remit_posting_exact) == set()

    def test_reference_match_ignores_amount(self, connection: Connection) -> None:
        """Same claim, payer and reference but a mis-keyed amount still pairs."""
        cp = _remit(connection)
        entry = make_ledger_entry(
            connection, claim_id="P1", reference="TR1", amount_cents=1_000
        )
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, remit_posting_reference) == {(cp, entry)}

    def test_unreferenced_posting(self, connection: Connection) -> None:
        """A posting without reference pairs by claim, payer and exact amount."""
        cp = _remit(connection)
        entry = make_ledger_entry(connection, claim_id="P1", reference=None)
        other = make_ledger_entry(
            connection, claim_id="P1", reference=None, amount_cents=5
        )
        with run_context(connection) as ctx:
            found = pairs(connection, ctx, remit_posting_unreferenced)
        assert found == {(cp, entry)}
        assert (cp, other) not in found

    def test_denials_need_no_posting(self, connection: Connection) -> None:
        """A $0 claim payment is never paired with a posting."""
        _remit(connection, paid=0)
        make_ledger_entry(connection, claim_id="P1", reference="TR1", amount_cents=0)
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, remit_posting_exact) == set()


class TestPatientPostings:
    def test_exact_by_reference(self, connection: Connection) -> None:
        """Account, reference and amount agree."""
        pay = make_patient_payment(connection, reference="RCPT9")
        entry = make_ledger_entry(
            connection, kind=LedgerKind.PATIENT_PAYMENT, payer_id=None,
            amount_cents=2_000, reference="RCPT9",
        )  # fmt: skip
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, patient_posting_exact) == {(pay, entry)}

    def test_reference_pairs_wrong_amount(self, connection: Connection) -> None:
        """The same reference on another account does not pair; same account does."""
        pay = make_patient_payment(connection, reference="RCPT8")
        make_ledger_entry(
            connection, kind=LedgerKind.PATIENT_PAYMENT, payer_id=None,
            patient_account="OTHER", reference="RCPT8",
        )  # fmt: skip
        entry = make_ledger_entry(
            connection, kind=LedgerKind.PATIENT_PAYMENT, payer_id=None,
            amount_cents=200, reference="RCPT8",
        )  # fmt: skip
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, patient_posting_reference) == {(pay, entry)}

    def test_amount_fallback(self, connection: Connection) -> None:
        """No reference: account, amount and a posting on or after receipt."""
        pay = make_patient_payment(connection, received_on=dt.date(2024, 3, 3))
        entry = make_ledger_entry(
            connection, kind=LedgerKind.PATIENT_PAYMENT, payer_id=None,
            amount_cents=2_000, reference=None, posted_on=dt.date(2024, 3, 4),
        )  # fmt: skip
        make_ledger_entry(
            connection, kind=LedgerKind.PATIENT_PAYMENT, payer_id=None,
            amount_cents=2_000, reference=None, posted_on=dt.date(2024, 3, 1),
            patient_account="ACCT1", claim_id="C1",
        )  # fmt: skip
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, patient_posting_amount) == {(pay, entry)}
