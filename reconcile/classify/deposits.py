"""835 payments and bank deposits: what arrived, what did not, what differs.

- ``deposit_amount_mismatch``: an 835 payment and its deposit (tied by trace or by the
  fallback rule) for different amounts; the variance is deposit − BPR02.
- ``era_without_deposit``: an 835 that moved money (not BPR01 H / BPR04 NON, BPR02 > 0)
  with no deposit, once N Federal Reserve business days have passed since BPR16 as of
  the run's as-of date; before that it is pending.
- ``deposit_without_era``: a deposit with no 835 after the same grace.

Precedence: a matched pair is never also reported as missing its partner.
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    case,
    exists,
    func,
    literal,
    select,
)

from reconcile.categories import ExceptionKind, Pairing
from reconcile.classify.candidates import (
    add,
    columns,
    fingerprint,
    kind_literal,
    payment_identity,
)
from reconcile.context import RunContext
from reconcile.db.tables import BankDeposit, ReconMatch, X12Payment

NO_MONEY_HANDLING = "H"
NO_MONEY_METHOD = "NON"


def _money_moving(ctx: RunContext) -> ColumnElement[bool]:
    """An 835 that moved money to the practice, visible as of the run."""
    p = X12Payment
    return (
        (p.paid_on <= ctx.as_of)
        & (p.handling_code != NO_MONEY_HANDLING)
        & (p.method != NO_MONEY_METHOD)
        & (p.credit_debit == "C")
        & (p.amount_cents > 0)
    )


def add_deposit_candidates(
    conn: Connection, ctx: RunContext, *, candidates: Table
) -> int:
    """Insert the three deposit kinds' candidates."""
    p, d, m, pp = X12Payment, BankDeposit, ReconMatch, ctx.payment_payer
    payer = pp.alias("payer")
    variance = d.amount_cents - p.amount_cents
    added = add(
        conn,
        candidates,
        select(
            *columns(
                fingerprint=fingerprint(
                    ExceptionKind.DEPOSIT_AMOUNT_MISMATCH,
                    *payment_identity(p),
                    d.deposit_id,
                ),
                kind=kind_literal(ExceptionKind.DEPOSIT_AMOUNT_MISMATCH),
                payer_id=payer.c.payer_id,
                subject_table="x12_payment",
                subject_id=p.id,
                amount_cents=case((variance < 0, -variance), else_=variance),
                expected_cents=p.amount_cents,
                paid_cents=d.amount_cents,
                variance_cents=variance,
                detail=literal("the deposit differs from the 835's BPR02 total"),
                paid_on=p.paid_on,
                age_from_on=d.deposit_on,
            )
        )
        .select_from(m)
        .join(p, p.id == m.left_id)
        .join(d, d.id == m.right_id)
        .outerjoin(payer, payer.c.payment_id == p.id)
        .where(
            m.pairing == Pairing.ERA_DEPOSIT,
            d.deposit_on <= ctx.as_of,
            p.paid_on <= ctx.as_of,
            d.amount_cents != p.amount_cents,
        ),
    )
    deposited = exists(
        select(m.id)
        .join(d, d.id == m.right_id)
        .where(
            m.pairing == Pairing.ERA_DEPOSIT,
            m.left_id == p.id,
            d.deposit_on <= ctx.as_of,
        )
    )
    added += add(
        conn,
        candidates,
        select(
            *columns(
                fingerprint=fingerprint(
                    ExceptionKind.ERA_WITHOUT_DEPOSIT,
                    *payment_identity(p),
                ),
                kind=kind_literal(ExceptionKind.ERA_WITHOUT_DEPOSIT),
                payer_id=payer.c.payer_id,
                subject_table="x12_payment",
                subject_id=p.id,
                amount_cents=p.amount_cents,
                expected_cents=p.amount_cents,
                detail="no deposit with trace " + p.trace_number,
                paid_on=p.paid_on,
                age_from_on=p.paid_on,
            )
        )
        .select_from(p)
        .outerjoin(payer, payer.c.payment_id == p.id)
        .where(_money_moving(ctx), p.paid_on <= ctx.era_cutoff_on, ~deposited),
    )
    has_era = exists(
        select(m.id)
        .join(p, p.id == m.left_id)
        .where(
            m.pairing == Pairing.ERA_DEPOSIT,
            m.right_table == "bank_deposit",
            m.right_id == d.id,
            p.paid_on <= ctx.as_of,
        )
    )
    added += add(
        conn,
        candidates,
        select(
            *columns(
                fingerprint=fingerprint(
                    ExceptionKind.DEPOSIT_WITHOUT_ERA, d.deposit_id
                ),
                kind=kind_literal(ExceptionKind.DEPOSIT_WITHOUT_ERA),
                subject_table="bank_deposit",
                subject_id=d.id,
                amount_cents=case(
                    (d.amount_cents < 0, -d.amount_cents), else_=d.amount_cents
                ),
                paid_cents=d.amount_cents,
                detail=literal("no 835 for this deposit"),
                paid_on=d.deposit_on,
                age_from_on=d.deposit_on,
            )
        )
        .select_from(d)
        .where(d.deposit_on <= ctx.deposit_cutoff_on, ~has_era),
    )
    return added


def pending_counts(conn: Connection, ctx: RunContext) -> dict[str, int]:
    """835s and deposits still inside their grace period (not yet exceptions)."""
    p, d, m = X12Payment, BankDeposit, ReconMatch
    deposited = exists(
        select(m.id)
        .join(d, d.id == m.right_id)
        .where(
            m.pairing == Pairing.ERA_DEPOSIT,
            m.left_id == p.id,
            d.deposit_on <= ctx.as_of,
        )
    )
    has_era = exists(
        select(m.id)
        .join(p, p.id == m.left_id)
        .where(
            m.pairing == Pairing.ERA_DEPOSIT,
            m.right_table == "bank_deposit",
            m.right_id == d.id,
            p.paid_on <= ctx.as_of,
        )
    )
    eras = conn.execute(
        select(func.count()).where(
            _money_moving(ctx), p.paid_on > ctx.era_cutoff_on, ~deposited
        )
    ).scalar_one()
    deposits = conn.execute(
        select(func.count()).where(
            d.deposit_on <= ctx.as_of, d.deposit_on > ctx.deposit_cutoff_on, ~has_era
        )
    ).scalar_one()
    return {
        "remittances_awaiting_deposit": eras,
        "deposits_awaiting_remittance": deposits,
    }
