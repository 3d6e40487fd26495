"""Without a trace on the deposit, the payer, the exact amount and the date decide.

Business rule: some banks do not pass the CCD+ addenda on (or a check was deposited
without its number). A deposit with no trace number matches an unmatched 835 payment
of exactly the same amount (BPR02, to the cent: deposits have no tolerance), deposited
inside the payment's deposit window (the trace rule's: N business days after BPR16,
2 calendar days before it, or any day after a check's issue date), when the deposit
carries a payer name that fits the 835's payer (profile ``deposit_names`` or the
N1*PR name); a deposit without a payer name never matches here. Only a unique pair
matches; two candidates on either side stay unmatched and are reported. Both rows
must be dated on or before the run's as-of date.

Fields: BPR02, BPR16, BPR04, N1*PR; deposit amount, date, payer name.
"""

from __future__ import annotations

from sqlalchemy import select

from reconcile.categories import Pairing
from reconcile.context import RunContext
from reconcile.db.tables import BankDeposit, X12Payment
from reconcile.matching.rule import CandidateQuery
from reconcile.matching.rules._deposits import (
    depositable,
    in_deposit_window,
    payer_name_fits,
)

RULE_ID = "era_deposit_amount"
PAIRING = Pairing.ERA_DEPOSIT
RIGHT_TABLE = "bank_deposit"
ONE_TO_ONE = True


def candidates(*, ctx: RunContext) -> CandidateQuery:
    """Pairs (835 payment, untraced deposit) with equal amounts in the window."""
    p, d, cal = X12Payment, BankDeposit, ctx.deposit_calendar
    return (
        select(
            p.id.label("left_id"),
            d.id.label("right_id"),
            p.amount_cents.label("left_cents"),
            d.amount_cents.label("right_cents"),
        )
        .select_from(p)
        .join(d, d.amount_cents == p.amount_cents)
        .join(cal, cal.c.paid_on == p.paid_on)
        .where(
            d.trace_number.is_(None),
            d.payer_name.is_not(None),
            depositable(ctx),
            d.deposit_on <= ctx.as_of,
            in_deposit_window(ctx),
            payer_name_fits(ctx, require_evidence=True),
        )
    )
