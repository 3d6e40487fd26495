"""Grouping a claim with its 835 claim payments: CLP01, then the ICN chain."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine, select

from reconcile.db.tables import ReconMatch
from reconcile.matching.rules import claim_remit_clp01, claim_remit_icn
from reconcile.settings import PayerProfile, Settings
from tests.factories import make_claim, make_claim_payment, make_payment
from tests.helpers import pairs, run, run_context


class TestClaimRemitClp01:
    def test_groups_every_payment_with_the_claim_id(
        self, connection: Connection
    ) -> None:
        """Original, reversal and a COB payment with the same CLP01 join the claim."""
        claim = make_claim(connection, claim_id="PCN1")
        own = make_payment(connection)
        other = make_payment(connection, payer_ref_2u="CIGNA", originator_id="1888")
        make_claim(connection, claim_id="C-CIGNA", payer_id="CIGNA")
        original = make_claim_payment(connection, payment_id=own, claim_id="PCN1")
        reversal = make_claim_payment(
            connection,
            payment_id=own,
            claim_id="PCN1",
            status_code="22",
            paid_cents=-10_000,
        )
        cob = make_claim_payment(
            connection, payment_id=other, claim_id="PCN1", status_code="2"
        )
        with run_context(connection) as ctx:
            found = pairs(connection, ctx, claim_remit_clp01)
        assert {(claim, original), (claim, reversal), (claim, cob)} <= found

    def test_near_misses(self, connection: Connection) -> None:
        """A different CLP01, a payment after as-of, an unknown payer: no pair."""
        make_claim(connection, claim_id="PCN2")
        payment = make_payment(connection)
        late = make_payment(connection, paid_on=dt.date(2024, 4, 1))
        unknown = make_payment(connection, payer_ref_2u="NOBODY", originator_id="1777")
        make_claim_payment(connection, payment_id=payment, claim_id="PCN2X")
        make_claim_payment(connection, payment_id=late, claim_id="PCN2")
        make_claim_payment(connection, payment_id=unknown, claim_id="PCN2")
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, claim_remit_clp01) == set()

    def test_claim_submitted_after_as_of_is_invisible(
        self, connection: Connection
    ) -> None:
        """A claim dated after the window's last day does not exist yet."""
        make_claim(connection, claim_id="PCN3", submitted_on=dt.date(2024, 4, 2))
        payment = make_payment(connection)
        make_claim_payment(connection, payment_id=payment, claim_id="PCN3")
        with run_context(connection) as ctx:
            assert pairs(connection, ctx, claim_remit_clp01) == set()

    def test_payer_profile_ties_by_name(self, connection: Connection) -> None:
        """A profile's N1*PR name ties an 835 whose REF*2U says something else."""
        claim = make_claim(connection, claim_id="PCN4", payer_id="BCBS")
        payment = make_payment(
            connection, payer_ref_2u="00590", payer_name="Blue Cross Blue Shield"
        )
        cp = make_claim_payment(connection, payment_id=payment, claim_id="PCN4")
        settings = Settings(
            payers=(PayerProfile(id="BCBS", names=("BLUE CROSS BLUE SHIELD",)),)
        )
        with run_context(connection, settings=settings) as ctx:
            assert pairs(connection, ctx, claim_remit_clp01) == {(claim, cp)}


class TestClaimRemitIcn:
    def test_correction_with_new_clp01_follows_ref_f8(
        self, fresh_engine: Engine
    ) -> None:
        """A correction whose CLP01 changed joins its claim through REF*F8 = CLP07."""
        with fresh_engine.begin() as conn:
            claim = make_claim(conn, claim_id="OLD1")
            first = make_payment(conn, paid_on=dt.date(2024, 3, 1))
            make_claim_payment(
                conn, payment_id=first, claim_id="OLD1", payer_control="ICN-A"
            )
            later = make_payment(conn, paid_on=dt.date(2024, 3, 10))
            correction = make_claim_payment(
                conn, payment_id=later, claim_id="NEW1", original_ref="ICN-A",
                payer_control="ICN-B",
            )  # fmt: skip
            chained = make_claim_payment(
                conn, payment_id=later, claim_id="NEWER", original_ref="ICN-B"
            )
        result = run(fresh_engine)
        assert result.summary["exceptions"].get("unmatched_remittance") is None
        with fresh_engine.connect() as conn:
            grouped = {
                (row.left_id, row.right_id, row.rule_id)
                for row in conn.execute(
                    select(ReconMatch.left_id, ReconMatch.right_id, ReconMatch.rule_id)
                )
            }
            assert (claim, correction, "claim_remit_icn") in grouped
            assert (claim, chained, "claim_remit_icn") in grouped
            with run_context(conn) as ctx:
                # Once grouped, the rule proposes nothing more.
                assert pairs(conn, ctx, claim_remit_icn) == set()

    def test_other_payer_same_icn_is_not_joined(self, connection: Connection) -> None:
        """An ICN reused by another payer does not join the claim."""
        make_claim(connection, claim_id="OLD2")
        make_claim(connection, claim_id="X", payer_id="CIGNA")
        mine = make_payment(connection)
        make_claim_payment(
            connection, payment_id=mine, claim_id="OLD2", payer_control="ICN-Z"
        )
        theirs = make_payment(connection, payer_ref_2u="CIGNA", originator_id="1888")
        make_claim_payment(
            connection, payment_id=theirs, claim_id="NEW2", original_ref="ICN-Z"
        )
        with run_context(connection) as ctx:
            # Nothing is grouped yet in this transaction, so nothing can chain.
            assert pairs(connection, ctx, claim_remit_icn) == set()
