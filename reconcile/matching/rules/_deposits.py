"""Conditions the two 835 ↔ deposit rules share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from reconcile.context import RunContext
from reconcile.db.tables import BankDeposit, X12Payment

NO_MONEY_HANDLING = "H"  # BPR01: notification only
NO_MONEY_METHOD = "NON"  # BPR04: no payment
CHECK_METHOD = "CHK"


def depositable(ctx: RunContext) -> ColumnElement[Any]:
    """An 835 payment that moved money to the practice, visible as of the run."""
    p = X12Payment
    return and_(
        p.paid_on <= ctx.as_of,
        p.handling_code != NO_MONEY_HANDLING,
        p.method != NO_MONEY_METHOD,
        p.credit_debit == "C",
        p.amount_cents > 0,
    )


def in_deposit_window(ctx: RunContext) -> ColumnElement[Any]:
    """The deposit date fits the payment: an EFT within its business-day window, a
    check on or after its issue date."""
    p, d, cal = X12Payment, BankDeposit, ctx.deposit_calendar
    return or_(
        and_(p.method == CHECK_METHOD, d.deposit_on >= p.paid_on),
        and_(
            p.method != CHECK_METHOD,
            d.deposit_on >= cal.c.earliest_on,
            d.deposit_on <= cal.c.deadline_on,
        ),
    )


def payer_name_fits(
    ctx: RunContext, *, require_evidence: bool = False
) -> ColumnElement[Any]:
    """The deposit's payer name fits the 835's payer.

    A name fits when it contains one of the payer profile's ``deposit_names`` or the
    835's N1*PR name. Without ``require_evidence`` a deposit without a payer name, or a
    payer without configured deposit names, does not count against a match.
    """
    p, d, names, pp = X12Payment, BankDeposit, ctx.deposit_name, ctx.payment_payer
    deposit_name = func.upper(d.payer_name)
    profile_name = exists(
        select(names.c.name)
        .join(pp, pp.c.payer_id == names.c.payer_id)
        .where(pp.c.payment_id == p.id, deposit_name.contains(names.c.name))
    )
    n1_name = and_(
        p.payer_name.is_not(None), deposit_name.contains(func.upper(p.payer_name))
    )
    positive = or_(profile_name, n1_name)
    if require_evidence:
        return positive
    no_profile_names = ~exists(
        select(names.c.name)
        .join(pp, pp.c.payer_id == names.c.payer_id)
        .where(pp.c.payment_id == p.id)
    )
    return or_(d.payer_name.is_(None), no_profile_names, positive)
