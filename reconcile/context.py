"""What every stage of one run needs: the window, the as-of date, the configuration,
and small run-scoped tables derived from the configuration (payer rules, which payer
each 835 is from, deposit deadlines).

Ages, grace periods and deadlines are computed here, once, from ``as_of`` (never from
the wall clock) and handed to SQL as dates, so every rule compares dates only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    Integer,
    String,
    Table,
    distinct,
    func,
    insert,
    literal,
    select,
)

from reconcile.db.base import IdType
from reconcile.db.tables import ExpectedClaim, X12Payment
from reconcile.db.temp import create_temp, drop_temp
from reconcile.periods import RunWindow, add_business_days
from reconcile.settings import PayerProfile, Settings

DAY = dt.timedelta(days=1)
_T = TypeVar("_T")


@dataclass(frozen=True)
class RunContext:
    """The inputs of one run, and its run-scoped helper tables."""

    run_id: int
    window: RunWindow
    settings: Settings
    at: dt.datetime  # when the run started (for timestamps only)
    payer_rule: Table
    payment_payer: Table
    deposit_calendar: Table
    deposit_name: Table
    #: 835 payments paid on or before this day are past their deposit grace period.
    era_cutoff_on: dt.date
    #: Deposits made on or before this day are past their 835 grace period.
    deposit_cutoff_on: dt.date
    #: Payments paid/received and postings posted on or before this day are past
    #: their posting grace period.
    posting_cutoff_on: dt.date

    @property
    def as_of(self) -> dt.date:
        """The window's last day: what the run sees and measures time from."""
        return self.window.as_of

    def drop(self, conn: Connection) -> None:
        """Drop the run-scoped tables."""
        drop_temp(
            conn,
            self.payer_rule,
            self.payment_payer,
            self.deposit_calendar,
            self.deposit_name,
        )


def latest_day_past(as_of: dt.date, business_days: int) -> dt.date:
    """Return the latest day whose grace of ``business_days`` ended before ``as_of``.

    A day ``d`` is past its grace when ``add_business_days(d, n) < as_of``.
    """
    day = as_of - DAY
    while add_business_days(day, business_days) >= as_of:
        day -= DAY
    return day


def _or(value: _T | None, default: _T) -> _T:
    """A payer profile's override, or the global value when it has none."""
    return default if value is None else value


def _payer_rule_table(
    conn: Connection, ctx_settings: Settings, as_of: dt.date
) -> Table:
    table = create_temp(
        conn,
        "tmp_payer_rule",
        [
            Column("payer_id", String(80), primary_key=True),
            Column("tolerance_cents", Integer, nullable=False),
            Column("tolerance_bp", Integer, nullable=False),  # basis points of expected
            Column("unpaid_cutoff_on", Date, nullable=False),
            Column("correction_cutoff_on", Date, nullable=False),
            Column("response_days", Integer, nullable=False),
            Column("kind", String(16), nullable=False),
            Column("state", String(2), nullable=False),
            Column("exempt", Boolean, nullable=False),
            Column("layout", String(16), nullable=False),
        ],
    )
    m = ctx_settings.matching
    payer_ids = {p.id for p in ctx_settings.payers}
    payer_ids.update(
        conn.execute(select(ExpectedClaim.payer_id).distinct()).scalars().all()
    )
    rows = []
    for payer_id in sorted(payer_ids):
        profile = ctx_settings.payer(payer_id) or PayerProfile(id=payer_id)
        percent = _or(profile.tolerance_percent, m.tolerance_percent)
        rows.append(
            {
                "payer_id": payer_id,
                "tolerance_cents": _or(profile.tolerance_cents, m.tolerance_cents),
                "tolerance_bp": int(percent * 100),
                "unpaid_cutoff_on": as_of
                - dt.timedelta(
                    days=_or(profile.unpaid_after_days, m.unpaid_after_days)
                ),
                "correction_cutoff_on": as_of
                - dt.timedelta(
                    days=_or(profile.correction_wait_days, m.correction_wait_days)
                ),
                "response_days": _or(
                    profile.response_days, ctx_settings.recoupments.response_days
                ),
                "kind": profile.kind.value,
                "state": profile.state or ctx_settings.practice.state,
                "exempt": profile.exempt_from_state_rules,
                "layout": profile.plb_reference_layout.value,
            }
        )
    if rows:
        conn.execute(insert(table), rows)
    return table


def _payment_payer_table(conn: Connection, settings: Settings) -> Table:
    """Tie each 835 payment to one of the practice's payer codes.

    Priority: a profile's REF*2U, then its TRN03, then its N1*PR name; without a
    profile, REF*2U or TRN03 equal to a payer code used by the claims. A payment that
    ties to two payers at the same priority is left untied (ambiguous).
    """
    alias = create_temp(
        conn,
        "tmp_payer_alias",
        [
            Column("field", String(8), nullable=False),
            Column("value", String(120), nullable=False),
            Column("payer_id", String(80), nullable=False),
            Column("priority", Integer, nullable=False),
        ],
        indexes=[("field", "value")],
    )
    rows = []
    for profile in settings.payers:
        for field, priority, values in (
            ("ref_2u", 1, profile.ref_2u),
            ("trn03", 2, profile.trn03),
            ("name", 3, tuple(name.upper() for name in profile.names)),
        ):
            rows += [
                {
                    "field": field,
                    "value": v,
                    "payer_id": profile.id,
                    "priority": priority,
                }
                for v in values
            ]
    if rows:
        conn.execute(insert(alias), rows)
    claims_payer = (
        select(ExpectedClaim.payer_id.label("payer_id")).distinct().subquery()
    )
    for field, priority in (("ref_2u", 4), ("trn03", 5)):
        conn.execute(
            insert(alias).from_select(
                ["field", "value", "payer_id", "priority"],
                select(
                    literal(field, String),
                    claims_payer.c.payer_id,
                    claims_payer.c.payer_id,
                    literal(priority, Integer),
                ),
            )
        )
    candidate = create_temp(
        conn,
        "tmp_payment_payer_candidate",
        [
            Column("payment_id", IdType, nullable=False),
            Column("payer_id", String(80), nullable=False),
            Column("priority", Integer, nullable=False),
        ],
        indexes=[("payment_id",)],
    )
    p = X12Payment.__table__
    for field, column in (
        ("ref_2u", p.c.payer_ref_2u),
        ("trn03", p.c.originator_id),
        ("name", func.upper(p.c.payer_name)),
    ):
        conn.execute(
            insert(candidate).from_select(
                ["payment_id", "payer_id", "priority"],
                select(p.c.id, alias.c.payer_id, alias.c.priority).join(
                    alias, (alias.c.field == field) & (alias.c.value == column)
                ),
            )
        )
    table = create_temp(
        conn,
        "tmp_payment_payer",
        [
            Column("payment_id", IdType, primary_key=True),
            Column("payer_id", String(80), nullable=False),
        ],
        indexes=[("payer_id",)],
    )
    best = (
        select(candidate.c.payment_id, func.min(candidate.c.priority).label("priority"))
        .group_by(candidate.c.payment_id)
        .subquery()
    )
    conn.execute(
        insert(table).from_select(
            ["payment_id", "payer_id"],
            select(candidate.c.payment_id, func.min(candidate.c.payer_id))
            .join(
                best,
                (best.c.payment_id == candidate.c.payment_id)
                & (best.c.priority == candidate.c.priority),
            )
            .group_by(candidate.c.payment_id)
            .having(func.count(distinct(candidate.c.payer_id)) == 1),
        )
    )
    drop_temp(conn, alias, candidate)
    return table


#: An EFT may show on the statement a little before its BPR16 (early settlement).
EARLY_DEPOSIT_DAYS = 2


def _deposit_calendar(conn: Connection, days: int, as_of: dt.date) -> Table:
    """Each 835 payment date → the days its EFT deposit may arrive on."""
    table = create_temp(
        conn,
        "tmp_deposit_calendar",
        [
            Column("paid_on", Date, primary_key=True),
            Column("earliest_on", Date, nullable=False),
            Column("deadline_on", Date, nullable=False),
        ],
    )
    dates = conn.execute(
        select(X12Payment.paid_on).distinct().where(X12Payment.paid_on <= as_of)
    ).scalars()
    rows = [
        {
            "paid_on": d,
            "earliest_on": d - dt.timedelta(days=EARLY_DEPOSIT_DAYS),
            "deadline_on": add_business_days(d, days),
        }
        for d in dates
    ]
    if rows:
        conn.execute(insert(table), rows)
    return table


def _deposit_names(conn: Connection, settings: Settings) -> Table:
    """How each payer appears on bank deposits (profile ``deposit_names``)."""
    table = create_temp(
        conn,
        "tmp_deposit_name",
        [
            Column("payer_id", String(80), nullable=False),
            Column("name", String(120), nullable=False),
        ],
        indexes=[("payer_id",)],
    )
    rows = [
        {"payer_id": profile.id, "name": name.upper()}
        for profile in settings.payers
        for name in profile.deposit_names
    ]
    if rows:
        conn.execute(insert(table), rows)
    return table


def prepare_context(
    conn: Connection,
    *,
    run_id: int,
    window: RunWindow,
    settings: Settings,
    at: dt.datetime,
) -> RunContext:
    """Build the run-scoped tables inside the run's transaction."""
    as_of = window.as_of
    m = settings.matching
    return RunContext(
        run_id=run_id,
        window=window,
        settings=settings,
        at=at,
        payer_rule=_payer_rule_table(conn, settings, as_of),
        payment_payer=_payment_payer_table(conn, settings),
        deposit_calendar=_deposit_calendar(conn, m.deposit_business_days, as_of),
        deposit_name=_deposit_names(conn, settings),
        era_cutoff_on=latest_day_past(as_of, m.deposit_business_days),
        deposit_cutoff_on=latest_day_past(as_of, m.deposit_business_days),
        posting_cutoff_on=as_of - dt.timedelta(days=m.posting_grace_days),
    )
