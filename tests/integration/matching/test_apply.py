"""Writing matches: once per row, ambiguity left alone, permanent across runs."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, Engine, func, insert, select

from reconcile.categories import Pairing
from reconcile.db.tables import ReconMatch
from reconcile.matching import apply_rules
from tests.factories import (
    make_claim,
    make_claim_payment,
    make_deposit,
    make_payment,
    make_run,
)
from tests.helpers import run_context


def _matches(conn: Connection, pairing: Pairing) -> set[tuple[int, int]]:
    m = ReconMatch
    return {
        (row.left_id, row.right_id)
        for row in conn.execute(
            select(m.left_id, m.right_id).where(m.pairing == pairing)
        )
    }


class TestApply:
    def test_ambiguous_candidates_stay_unmatched(self, connection: Connection) -> None:
        """Two deposits with one trace: neither is matched, the ambiguity is counted."""
        make_claim(connection)
        run_id = make_run(connection)
        make_payment(connection, trace_number="DUP")
        make_deposit(connection, trace_number="DUP")
        make_deposit(connection, trace_number="DUP")
        with run_context(connection, run_id=run_id) as ctx:
            results = apply_rules(connection, ctx)
        assert results["era_deposit_trace"].matched == 0
        assert results["era_deposit_trace"].ambiguous == 1
        assert _matches(connection, Pairing.ERA_DEPOSIT) == set()

    def test_reapplying_adds_nothing(self, connection: Connection) -> None:
        """A second pass finds every pair already matched."""
        claim = make_claim(connection)
        run_id = make_run(connection)
        payment = make_payment(connection, trace_number="ONCE")
        cp = make_claim_payment(connection, payment_id=payment)
        deposit = make_deposit(connection, trace_number="ONCE")
        with run_context(connection, run_id=run_id) as ctx:
            first = apply_rules(connection, ctx)
            second = apply_rules(connection, ctx)
        assert first["claim_remit_clp01"].matched == 1
        assert first["era_deposit_trace"].matched == 1
        assert all(r.matched == 0 for r in second.values())
        assert _matches(connection, Pairing.CLAIM_REMIT) == {(claim, cp)}
        assert _matches(connection, Pairing.ERA_DEPOSIT) == {(payment, deposit)}

    def test_database_refuses_a_second_match_of_a_row(
        self, fresh_engine: Engine
    ) -> None:
        """The unique indexes, not only the rules, keep each row matched once."""
        with fresh_engine.begin() as conn:
            run_id = make_run(conn)
        row = {
            "pairing": Pairing.ERA_DEPOSIT, "rule_id": "test", "left_id": 1,
            "right_table": "bank_deposit", "right_id": 7, "one_to_one": True,
            "first_run_id": run_id, "last_seen_run_id": run_id,
        }  # fmt: skip
        with fresh_engine.begin() as conn:
            conn.execute(insert(ReconMatch).values(**row))
        with (
            pytest.raises(Exception, match=r"(?i)unique|duplicate"),
            fresh_engine.begin() as c,
        ):
            c.execute(insert(ReconMatch).values(**{**row, "left_id": 2}))
        with (
            pytest.raises(Exception, match=r"(?i)unique|duplicate"),
            fresh_engine.begin() as c,
        ):
            c.execute(insert(ReconMatch).values(**{**row, "right_id": 8}))
        with fresh_engine.connect() as conn:
            assert (
                conn.execute(select(func.count()).select_from(ReconMatch)).scalar() == 1
            )
