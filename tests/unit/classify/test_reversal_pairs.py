"""Pairing reversals: the result does not depend on the order rows arrive in."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from reconcile.classify.reversals import OwnPayment, pair_reversals

D = dt.date


def _payment(row: tuple[int, int, int, dt.date, int, str, int, str]) -> OwnPayment:
    """(id, claim, 835, its date, place in it, CLP02, CLP04, CLP07) → a payment."""
    id_, claim, payment_id, on, seq, status, cents, control = row
    return OwnPayment(
        id=id_, claim_pk=claim, claim_id=f"C{claim}", payer_id="P",
        payment_id=payment_id, paid_on=on, trace=f"T{payment_id}", originator="1",
        seq=seq, status=status, paid_cents=cents, payer_control=control,
    )  # fmt: skip


#: Three claims paid in January; in March one 835 reverses two of them (the later
#: claim first in the 835) and corrects one; in April another reverses the third.
PAYMENTS = [
    _payment(row)
    for row in [
        (1, 1, 10, D(2024, 1, 5), 1, "1", 10_000, "A1"),
        (2, 2, 10, D(2024, 1, 5), 2, "1", 8_000, "B1"),
        (3, 3, 11, D(2024, 1, 9), 1, "1", 5_000, "C1"),
        (4, 2, 20, D(2024, 3, 1), 1, "22", -8_000, "B1"),
        (5, 1, 20, D(2024, 3, 1), 2, "22", -10_000, "A1"),
        (6, 1, 20, D(2024, 3, 1), 3, "1", 9_000, "A2"),
        (7, 3, 30, D(2024, 4, 2), 1, "22", -5_000, "C1"),
    ]
]


class TestPairReversals:
    @given(st.permutations(PAYMENTS))
    def test_any_order_gives_the_same_pairs_oldest_first(
        self, payments: list[OwnPayment]
    ) -> None:
        """Rows in any order: the same reversals, by their 835 and place in it."""
        found = pair_reversals(payments)
        assert found == pair_reversals(PAYMENTS)
        assert [r.reversal.id for r in found] == [4, 5, 7]
        assert [(r.original and r.original.id) for r in found] == [2, 1, 3]
        assert [(r.correction and r.correction.id) for r in found] == [None, 6, None]
