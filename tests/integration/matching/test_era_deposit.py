"""835 payment ↔ bank deposit: trace first, then payer + exact amount + date."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from reconcile.matching.rules import era_deposit_amount, era_deposit_trace
from reconcile.settings import PayerProfile, Settings
from tests.factories import make_claim, make_deposit, make_payment
from tests.helpers import pairs, run_context

D = dt.date


class TestEraDepositTrace:
    def test_same_trace_within_business_days(self, connection: Connection) -> None:
        """TRN02 = deposit trace, deposited 3 business days after BPR16 (Fri → Wed)."""
        make_claim(connection)
        payment = make_payment(connection, trace_number="EFT1", paid_on=D(2024, 3, 1))
        deposit = make_deposit(
            connection, trace_number="EFT1", deposit_on=D(2024, 3, 6)
        )
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, era_deposit_trace) == {(payment, deposit)}

    def test_amount_may_differ_identity_decides(self, connection: Connection) -> None:
        """A short deposit still matches by trace (the mismatch is reported later)."""
        make_claim(connection)
        payment = make_payment(connection, trace_number="EFT2", amount_cents=10_000)
        deposit = make_deposit(connection, trace_number="EFT2", amount_cents=9_999)
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, era_deposit_trace) == {(payment, deposit)}

    def test_near_misses(self, connection: Connection) -> None:
        """Too late, another payer's TRN03, notification-only, or a zero payment."""
        make_claim(connection)
        make_payment(connection, trace_number="LATE", paid_on=D(2024, 3, 1))
        make_deposit(connection, trace_number="LATE", deposit_on=D(2024, 3, 7))
        make_payment(connection, trace_number="REUSED", originator_id="1111111111")
        make_deposit(connection, trace_number="REUSED", originator_id="1222222222")
        make_payment(connection, trace_number="NOTE", handling_code="H", method="NON")
        make_deposit(connection, trace_number="NOTE")
        make_payment(connection, trace_number="ZERO", amount_cents=0)
        make_deposit(connection, trace_number="ZERO", amount_cents=0)
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, era_deposit_trace) == set()

    def test_checks_deposit_any_day_after_issue(self, connection: Connection) -> None:
        """A check (BPR04 CHK) may be deposited weeks after its issue date."""
        make_claim(connection)
        payment = make_payment(
            connection, trace_number="CHK123", method="CHK", paid_on=D(2024, 3, 1)
        )
        deposit = make_deposit(
            connection, trace_number="CHK123", deposit_on=D(2024, 3, 25)
        )
        before = make_deposit(
            connection, trace_number="CHK123", deposit_on=D(2024, 2, 25)
        )
        with run_context(connection) as ctx:
            found = pairs(connection, ctx, era_deposit_trace)
        assert (payment, deposit) in found
        assert (payment, before) not in found

    def test_deposit_payer_name_must_fit_the_profile(
        self, connection: Connection
    ) -> None:
        """Without TRN03 on the deposit, a configured deposit name must fit."""
        make_claim(connection)
        payment = make_payment(connection, trace_number="EFT9")
        make_deposit(connection, trace_number="EFT9", payer_name="UNITED HEALTHCARE")
        settings = Settings(
            payers=(PayerProfile(id="AETNA", deposit_names=("AETNA",)),)
        )
        with run_context(connection, settings=settings) as ctx:
            assert pairs(connection, ctx, era_deposit_trace) == set()
        good = make_deposit(
            connection, trace_number="EFT9", payer_name="AETNA HCCLAIMPMT"
        )
        with run_context(connection, settings=settings) as ctx:
            assert pairs(connection, ctx, era_deposit_trace) == {(payment, good)}


class TestEraDepositAmount:
    def test_untraced_deposit_matches_payer_and_amount(
        self, connection: Connection
    ) -> None:
        """No trace: the payer's name, the exact amount and the window decide."""
        make_claim(connection)
        payment = make_payment(connection, amount_cents=12_345, payer_name="AETNA")
        deposit = make_deposit(connection, amount_cents=12_345, payer_name="AETNA INC")
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, era_deposit_amount) == {(payment, deposit)}

    def test_near_misses(self, connection: Connection) -> None:
        """A cent off, a traced deposit, or no payer evidence: no pair."""
        make_claim(connection)
        make_payment(connection, amount_cents=50_000, payer_name="AETNA")
        make_deposit(connection, amount_cents=49_999, payer_name="AETNA")
        make_deposit(
            connection, amount_cents=50_000, payer_name="AETNA", trace_number="X"
        )
        make_deposit(connection, amount_cents=50_000, payer_name="CIGNA")
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, era_deposit_amount) == set()
