"""What each claim was paid, and the claim-level exceptions that follow from it.

For every claim visible as of the run (``submitted_on`` ≤ as-of) this builds one row of
state from the claim's group of 835 claim payments (matching tied them):

- the claim's **own payer** (its ``payer_id``) decides what was paid: originals,
  reversals (negative) and corrections add up to ``own_paid``;
- other payers paying as secondary/tertiary (CLP02 2, 3, 20, 21) are coordination of
  benefits (``cob_paid``); another payer paying as primary (1, 19) is counted for
  ``cob_overlap``;
- expected reductions (CARC 253 sequestration and ``[matching]
  expected_reduction_carcs``) are added back before comparing with the contract;
- a denial is CLP02 4 with nothing paid, or a claim or line paid $0 under a CO denial
  CARC that leaves the claim short beyond tolerance.

Then the classification, one condition per claim (precedence in
:mod:`reconcile.kinds`): ``denied``, ``unpaid_claim`` (nothing from its payer N days
after submission; before that it is pending), ``underpaid`` and ``overpaid`` (beyond
``max(tolerance_cents, tolerance_percent × expected)``, per payer).

A run evaluates a claim when it has activity in the window (submitted, or paid in
it) or is unsettled (no payment from its payer, nothing net paid, or an open
exception).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Date,
    Integer,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)

from reconcile.categories import ExceptionKind, ExceptionStatus, Pairing
from reconcile.classify.candidates import add, columns, kind_literal
from reconcile.codes import (
    DENIAL_CARCS,
    DENIED_STATUS,
    PRIMARY_STATUSES,
    REVERSAL_STATUS,
    SECONDARY_STATUSES,
)
from reconcile.context import RunContext
from reconcile.db.base import CentsType, IdType
from reconcile.db.tables import (
    ExpectedClaim,
    ReconException,
    ReconMatch,
    X12Adjustment,
    X12ClaimPayment,
    X12Payment,
    X12ServiceLine,
)
from reconcile.db.temp import create_temp, drop_temp


def _state_columns() -> list[Column[Any]]:
    """Fresh column objects of the claim state table (a Column belongs to one table)."""
    return [
        Column("claim_pk", IdType, primary_key=True),
        Column("claim_id", String(38), nullable=False),
        Column("payer_id", String(80), nullable=False),
        Column("patient_account", String(80)),
        Column("service_on", Date, nullable=False),
        Column("submitted_on", Date, nullable=False),
        Column("expected_cents", CentsType, nullable=False),
        Column("expected_patient_cents", CentsType),
        Column("own_count", Integer, nullable=False),
        Column("own_paid_cents", CentsType, nullable=False),
        Column("own_denied_count", Integer, nullable=False),
        Column("own_reversal_count", Integer, nullable=False),
        Column("own_patient_resp_cents", CentsType, nullable=False),
        Column("cob_paid_cents", CentsType, nullable=False),
        Column("other_primary_count", Integer, nullable=False),
        Column("other_primary_paid_cents", CentsType, nullable=False),
        Column("first_own_paid_on", Date),
        Column("last_own_paid_on", Date),
        Column("window_activity", Integer, nullable=False),
        Column("reductions_cents", CentsType, nullable=False),
        Column("denial_count", Integer, nullable=False),
        Column("in_scope", Boolean, nullable=False),
    ]


def _claim_payments(ctx: RunContext) -> Any:
    """Visible 835 claim payments of each claim, with whether they are its payer's."""
    m, cp, p, c, pp = (
        ReconMatch, X12ClaimPayment, X12Payment, ExpectedClaim, ctx.payment_payer,
    )  # fmt: skip
    return (
        select(
            m.left_id.label("claim_pk"),
            cp.id.label("claim_payment_id"),
            cp.status_code,
            cp.paid_cents,
            cp.patient_resp_cents,
            p.paid_on,
            (pp.c.payer_id == c.payer_id).label("own"),
        )
        .select_from(m)
        .join(cp, cp.id == m.right_id)
        .join(p, p.id == cp.payment_id)
        .join(pp, pp.c.payment_id == p.id)
        .join(c, c.id == m.left_id)
        .where(m.pairing == Pairing.CLAIM_REMIT, p.paid_on <= ctx.as_of)
        .subquery("claim_payments")
    )


def build_claim_state(conn: Connection, ctx: RunContext) -> Table:
    """Compute the state of every visible claim (see the module docstring)."""
    window = ctx.window
    cps = _claim_payments(ctx)
    own = cps.c.own
    remit = create_temp(
        conn,
        "tmp_claim_remit",
        [c for c in _state_columns() if c.name in ("claim_pk", *_REMIT_NAMES)],
    )
    zero = literal(0)
    conn.execute(
        insert(remit).from_select(
            ["claim_pk", *_REMIT_NAMES],
            select(
                cps.c.claim_pk,
                func.count(case((own, 1))),
                func.coalesce(func.sum(case((own, cps.c.paid_cents), else_=zero)), 0),
                func.count(case((own & (cps.c.status_code == DENIED_STATUS), 1))),
                func.count(case((own & (cps.c.status_code == REVERSAL_STATUS), 1))),
                func.coalesce(
                    func.sum(
                        case(
                            (own, func.coalesce(cps.c.patient_resp_cents, 0)),
                            else_=zero,
                        )
                    ),
                    0,
                ),
                func.coalesce(
                    func.sum(
                        case(
                            (
                                ~own & cps.c.status_code.in_(SECONDARY_STATUSES),
                                cps.c.paid_cents,
                            ),
                            else_=zero,
                        )
                    ),
                    0,
                ),
                func.count(
                    case(
                        (
                            ~own
                            & cps.c.status_code.in_(PRIMARY_STATUSES)
                            & (cps.c.paid_cents > 0),
                            1,
                        )
                    )
                ),
                func.coalesce(
                    func.sum(
                        case(
                            (
                                ~own & cps.c.status_code.in_(PRIMARY_STATUSES),
                                cps.c.paid_cents,
                            ),
                            else_=zero,
                        )
                    ),
                    0,
                ),
                func.min(case((own, cps.c.paid_on))),
                func.max(case((own, cps.c.paid_on))),
                func.count(case((cps.c.paid_on.between(window.first, window.last), 1))),
            ).group_by(cps.c.claim_pk),
        )
    )
    adjustments = _adjustment_state(conn, ctx)
    columns = _state_columns()
    state = create_temp(conn, "tmp_claim_state", columns)
    c = ExpectedClaim
    open_exception = exists(
        select(ReconException.id).where(
            ReconException.claim_id == c.claim_id,
            ReconException.status == ExceptionStatus.OPEN,
        )
    )
    own_count = func.coalesce(remit.c.own_count, 0)
    own_paid = func.coalesce(remit.c.own_paid_cents, 0)
    in_scope = or_(
        c.submitted_on.between(window.first, window.last),
        func.coalesce(remit.c.window_activity, 0) > 0,
        own_count == 0,
        own_paid <= 0,
        open_exception,
    )
    conn.execute(
        insert(state).from_select(
            [col.name for col in columns],
            select(
                c.id,
                c.claim_id,
                c.payer_id,
                c.patient_account,
                c.service_on,
                c.submitted_on,
                c.expected_cents,
                c.expected_patient_cents,
                own_count,
                own_paid,
                func.coalesce(remit.c.own_denied_count, 0),
                func.coalesce(remit.c.own_reversal_count, 0),
                func.coalesce(remit.c.own_patient_resp_cents, 0),
                func.coalesce(remit.c.cob_paid_cents, 0),
                func.coalesce(remit.c.other_primary_count, 0),
                func.coalesce(remit.c.other_primary_paid_cents, 0),
                remit.c.first_own_paid_on,
                remit.c.last_own_paid_on,
                func.coalesce(remit.c.window_activity, 0),
                func.coalesce(adjustments.c.reductions_cents, 0),
                func.coalesce(adjustments.c.denial_count, 0),
                in_scope,
            )
            .select_from(c)
            .outerjoin(remit, remit.c.claim_pk == c.id)
            .outerjoin(adjustments, adjustments.c.claim_pk == c.id)
            .where(c.submitted_on <= ctx.as_of),
        )
    )
    drop_temp(conn, remit, adjustments)
    return state


_REMIT_NAMES = [
    "own_count", "own_paid_cents", "own_denied_count", "own_reversal_count",
    "own_patient_resp_cents", "cob_paid_cents", "other_primary_count",
    "other_primary_paid_cents", "first_own_paid_on", "last_own_paid_on",
    "window_activity",
]  # fmt: skip


def _adjustment_state(conn: Connection, ctx: RunContext) -> Table:
    """Per claim: expected reductions, and CO denials of $0 claims or lines."""
    table = create_temp(
        conn,
        "tmp_claim_adjustment",
        [
            Column("claim_pk", IdType, primary_key=True),
            Column("reductions_cents", CentsType, nullable=False),
            Column("denial_count", Integer, nullable=False),
        ],
    )
    reductions = ctx.settings.matching.expected_reduction_carcs
    a, cp, sl = X12Adjustment, X12ClaimPayment, X12ServiceLine
    cps = _claim_payments(ctx)
    denial = and_(
        a.group_code == "CO",
        a.reason_code.in_(DENIAL_CARCS),
        cps.c.status_code != REVERSAL_STATUS,
        or_(
            and_(a.service_line_id.is_(None), cp.paid_cents == 0),
            sl.paid_cents == 0,
        ),
    )
    conn.execute(
        insert(table).from_select(
            ["claim_pk", "reductions_cents", "denial_count"],
            select(
                cps.c.claim_pk,
                func.coalesce(
                    func.sum(
                        case((a.reason_code.in_(reductions), a.amount_cents), else_=0)
                    ),
                    0,
                ),
                func.count(case((denial, 1))),
            )
            .select_from(a)
            .join(cps, cps.c.claim_payment_id == a.claim_payment_id)
            .join(cp, cp.id == a.claim_payment_id)
            .outerjoin(sl, sl.id == a.service_line_id)
            .where(cps.c.own, a.reason_code.in_([*reductions, *DENIAL_CARCS]))
            .group_by(cps.c.claim_pk),
        )
    )
    return table


def tolerance_exceeded(
    variance: ColumnElement[int], expected: ColumnElement[int], rule: Table
) -> ColumnElement[bool]:
    """|variance| > max(tolerance_cents, tolerance_bp/10000 × expected), in integers."""
    magnitude = func.abs(variance)
    return and_(
        magnitude > rule.c.tolerance_cents,
        magnitude * 10_000 > rule.c.tolerance_bp * func.abs(expected),
    )


def add_claim_candidates(
    conn: Connection, ctx: RunContext, *, state: Table, candidates: Table
) -> int:
    """Insert denied / unpaid / underpaid / overpaid candidates for claims in scope."""
    rule = ctx.payer_rule
    s = state
    variance = s.c.own_paid_cents + s.c.reductions_cents - s.c.expected_cents
    shortfall = -variance
    exceeded = tolerance_exceeded(variance, s.c.expected_cents, rule)
    denied = and_(
        s.c.own_count > 0,
        or_(
            and_(s.c.own_denied_count > 0, s.c.own_paid_cents <= 0),
            and_(s.c.denial_count > 0, shortfall > 0, exceeded),
        ),
    )
    unpaid = and_(s.c.own_count == 0, s.c.submitted_on <= rule.c.unpaid_cutoff_on)
    under = and_(s.c.own_count > 0, shortfall > 0, exceeded)
    over = and_(s.c.own_count > 0, variance > 0, exceeded)
    kind = case(
        (denied, kind_literal(ExceptionKind.DENIED)),
        (unpaid, kind_literal(ExceptionKind.UNPAID_CLAIM)),
        (under, kind_literal(ExceptionKind.UNDERPAID)),
        (over, kind_literal(ExceptionKind.OVERPAID)),
    )
    classified = (
        select(
            s.c.claim_pk,
            s.c.claim_id,
            s.c.payer_id,
            s.c.patient_account,
            s.c.service_on,
            s.c.submitted_on,
            s.c.expected_cents,
            s.c.own_paid_cents,
            s.c.own_count,
            s.c.last_own_paid_on,
            variance.label("variance"),
            kind.label("kind"),
        )
        .select_from(s)
        .join(rule, rule.c.payer_id == s.c.payer_id)
        .where(s.c.in_scope)
        .subquery("classified")
    )
    k = classified.c
    is_unpaid = k.kind == str(ExceptionKind.UNPAID_CLAIM)
    amount = case(
        (is_unpaid, k.expected_cents),
        (k.variance < 0, -k.variance),
        else_=k.variance,
    )
    detail = case(
        (is_unpaid, literal("no payment from the claim's payer yet")),
        (
            k.kind == str(ExceptionKind.DENIED),
            literal("denied by the claim's payer"),
        ),
        else_=literal("paid differs from the contracted amount beyond tolerance"),
    )
    return add(
        conn,
        candidates,
        select(
            *columns(
                fingerprint=k.kind + ":" + k.payer_id + ":" + k.claim_id,
                kind=k.kind,
                claim_id=k.claim_id,
                payer_id=k.payer_id,
                patient_account=k.patient_account,
                subject_table="expected_claim",
                subject_id=k.claim_pk,
                amount_cents=amount,
                expected_cents=k.expected_cents,
                paid_cents=case(
                    (is_unpaid, literal(None, CentsType)), else_=k.own_paid_cents
                ),
                variance_cents=case(
                    (is_unpaid, literal(None, CentsType)), else_=k.variance
                ),
                detail=detail,
                service_on=k.service_on,
                paid_on=k.last_own_paid_on,
                age_from_on=case((is_unpaid, k.submitted_on), else_=k.last_own_paid_on),
            )
        ).where(k.kind.is_not(None)),
    )
