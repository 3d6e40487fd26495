"""An 835 payment and a bank deposit with the same trace number are the same money.

Business rule (CAQH CORE 370 reassociation): the EFT's CCD+ addenda carry the 835's
TRN segment, so TRN02 (EFT trace or check number) identifies the deposit; TRN03 (the
payer's id) must agree when the bank passed it on, and otherwise the deposit's payer
name must fit the payer's profile. An EFT settles within N Federal Reserve business
days of BPR16 (``[matching] deposit_business_days``; weekends and Fed holidays do not
count), and may show on the statement up to 2 calendar days before it (early
settlement); a check (BPR04 CHK) is deposited on or after its issue date. Only a
pair unique on both sides matches (two 835s reusing a trace stay unmatched). Both
rows must be dated on or before the run's as-of date. Identity first: a deposit for a
different amount still matches, and the difference is reported as
``deposit_amount_mismatch``, not as two orphans. Notification-only 835s (BPR01 H,
BPR04 NON) and $0 payments never match.

Fields: TRN02, TRN03, BPR01, BPR04, BPR02, BPR16 (``paid_on``); deposit trace,
originator, payer name, date.
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

RULE_ID = "era_deposit_trace"
PAIRING = Pairing.ERA_DEPOSIT
RIGHT_TABLE = "bank_deposit"
ONE_TO_ONE = True


def candidates(*, ctx: RunContext) -> CandidateQuery:
    """Pairs (835 payment, deposit) with equal traces inside the deposit window."""
    p, d, cal = X12Payment, BankDeposit, ctx.deposit_calendar
    return (
        select(
            p.id.label("left_id"),
            d.id.label("right_id"),
            p.amount_cents.label("left_cents"),
            d.amount_cents.label("right_cents"),
        )
        .select_from(p)
        .join(d, d.trace_number == p.trace_number)
        .join(cal, cal.c.paid_on == p.paid_on)
        .where(
            depositable(ctx),
            d.deposit_on <= ctx.as_of,
            in_deposit_window(ctx),
            (d.originator_id == p.originator_id)
            | (d.originator_id.is_(None) & payer_name_fits(ctx)),
        )
    )
