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
    func,
    insert,
    literal,
    or_,
    select,
    union,
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
from reconcile.db.bulk import analyze
from reconcile.db.tables import (
    ExpectedClaim,
    PatientPayment,
    ReconException,
    ReconMatch,
    Refund,
    X12Adjustment,
    X12ClaimPayment,
    X12Payment,
    X12ServiceLine,
)
from reconcile.db.temp import create_temp, drop_temp
from reconcile.queues.workflow import OPEN_REFUND


def _state_columns() -> list[Column[Any]]:
    """Fresh column objects of the claim state table (a Column belongs to one table)."""
    dates = ("first_own_paid_on", "last_own_paid_on", "other_primary_last_paid_on",
             "last_patient_paid_on")  # fmt: skip
    return [
        Column("claim_pk", IdType, primary_key=True),
        Column("claim_id", String(38), nullable=False),
        Column("payer_id", String(80), nullable=False),
        Column("patient_account", String(80)),
        Column("service_on", Date, nullable=False),
        Column("submitted_on", Date, nullable=False),
        Column("expected_cents", CentsType, nullable=False),
        Column("expected_patient_cents", CentsType),
        *(Column(name, Integer, nullable=False) for name in _COUNTS),
        *(Column(name, CentsType, nullable=False) for name in _SUMS),
        *(Column(name, Date) for name in dates),
        Column("other_primary_payer", String(80)),
        Column("in_scope", Boolean, nullable=False),
    ]


#: Per-claim counts and sums over its visible 835 claim payments.
_COUNTS = (
    "own_count", "own_denied_count", "own_reversal_count", "own_government_count",
    "other_primary_count", "window_activity", "denial_count",
)  # fmt: skip
_SUMS = (
    "own_paid_cents", "own_patient_resp_cents", "cob_paid_cents",
    "other_primary_paid_cents", "reductions_cents", "patient_paid_cents",
)  # fmt: skip
#: CLP06 filing indicators of Medicare Part A/B and Medicaid claims.
GOVERNMENT_FILING = ("MA", "MB", "MC")


def _claim_payment_table(conn: Connection, ctx: RunContext) -> Table:
    """Visible 835 claim payments of each claim, with whether they are its payer's.

    Materialised once (and analysed) for the per-claim aggregates: as a subquery,
    "is this the claim's own payer" is a join condition across two tables whose
    selectivity no planner can estimate, and PostgreSQL then chose index lookups
    a million times where one hash join does.
    """
    m, cp, p, c, pp = (
        ReconMatch, X12ClaimPayment, X12Payment, ExpectedClaim, ctx.payment_payer,
    )  # fmt: skip
    table = create_temp(
        conn,
        "tmp_claim_payment",
        [
            Column("claim_payment_id", IdType, primary_key=True),
            Column("claim_pk", IdType, nullable=False),
            Column("status_code", cp.status_code.type, nullable=False),
            Column("paid_cents", CentsType, nullable=False),
            Column("patient_resp_cents", CentsType),
            Column("filing_indicator", cp.filing_indicator.type),
            Column("paid_on", Date, nullable=False),
            Column("payer_id", String(80), nullable=False),
            Column("own", Boolean, nullable=False),
        ],
    )
    conn.execute(
        insert(table).from_select(
            [
                "claim_payment_id", "claim_pk", "status_code", "paid_cents",
                "patient_resp_cents", "filing_indicator", "paid_on", "payer_id",
                "own",
            ],
            select(
                cp.id,
                m.left_id,
                cp.status_code,
                cp.paid_cents,
                cp.patient_resp_cents,
                cp.filing_indicator,
                p.paid_on,
                pp.c.payer_id,
                pp.c.payer_id == c.payer_id,
            )
            .select_from(m)
            .join(cp, cp.id == m.right_id)
            .join(p, p.id == cp.payment_id)
            .join(pp, pp.c.payment_id == p.id)
            .join(c, c.id == m.left_id)
            .where(m.pairing == Pairing.CLAIM_REMIT, p.paid_on <= ctx.as_of),
        )
    )  # fmt: skip
    analyze(conn, [table.name])
    return table


def _sum(condition: ColumnElement[bool], value: Any) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, value), else_=literal(0))), 0)


def _remit_state(conn: Connection, ctx: RunContext, cps: Table) -> Table:
    """Per claim: what its payer and other payers paid, as of the run."""
    window = ctx.window
    own, status, paid = cps.c.own, cps.c.status_code, cps.c.paid_cents
    other_primary = ~own & status.in_(PRIMARY_STATUSES) & (paid > 0)
    values: dict[str, ColumnElement[Any]] = {
        "claim_pk": cps.c.claim_pk,
        "own_count": func.count(case((own, 1))),
        "own_denied_count": func.count(case((own & (status == DENIED_STATUS), 1))),
        "own_reversal_count": func.count(case((own & (status == REVERSAL_STATUS), 1))),
        "own_government_count": func.count(
            case((own & cps.c.filing_indicator.in_(GOVERNMENT_FILING), 1))
        ),
        "other_primary_count": func.count(case((other_primary, 1))),
        "window_activity": func.count(
            case((cps.c.paid_on.between(window.first, window.last), 1))
        ),
        "own_paid_cents": _sum(own, paid),
        "own_patient_resp_cents": _sum(own, func.coalesce(cps.c.patient_resp_cents, 0)),
        "cob_paid_cents": _sum(~own & status.in_(SECONDARY_STATUSES), paid),
        "other_primary_paid_cents": _sum(other_primary, paid),
        "first_own_paid_on": func.min(case((own, cps.c.paid_on))),
        "last_own_paid_on": func.max(case((own, cps.c.paid_on))),
        "other_primary_last_paid_on": func.max(case((other_primary, cps.c.paid_on))),
        "other_primary_payer": func.min(case((other_primary, cps.c.payer_id))),
    }
    table = create_temp(
        conn,
        "tmp_claim_remit",
        [c for c in _state_columns() if c.name in values],
    )
    conn.execute(
        insert(table).from_select(
            list(values), select(*values.values()).group_by(cps.c.claim_pk)
        )
    )
    return table


def _patient_state(conn: Connection, ctx: RunContext) -> Table:
    """Per claim id: what the patient paid for it, as of the run."""
    pay = PatientPayment
    table = create_temp(
        conn,
        "tmp_claim_patient",
        [
            Column("claim_id", String(38), primary_key=True),
            Column("patient_paid_cents", CentsType, nullable=False),
            Column("last_patient_paid_on", Date),
            Column("window_activity", Integer, nullable=False),
        ],
    )
    window = ctx.window
    conn.execute(
        insert(table).from_select(
            [
                "claim_id",
                "patient_paid_cents",
                "last_patient_paid_on",
                "window_activity",
            ],
            select(
                pay.claim_id,
                func.sum(pay.amount_cents),
                func.max(pay.received_on),
                func.count(
                    case((pay.received_on.between(window.first, window.last), 1))
                ),
            )
            .where(pay.claim_id.is_not(None), pay.received_on <= ctx.as_of)
            .group_by(pay.claim_id),
        )
    )
    return table


def _open_claims(conn: Connection) -> Table:
    """Claims with an open claim-level exception or an open refund (unsettled, so in
    scope).

    Only exceptions about the claim itself count: an 835 or posting exception that
    merely names the claim (``not_posted``, ``unmatched_remittance`` …) says nothing
    about its settlement, and counting it would put the claim in scope only from the
    second run of a window on, so that a re-run on unchanged data changed results.

    A table joined once, rather than two correlated lookups per claim, keeps the
    plan good whatever the planner's statistics say about these tables.
    """
    table = create_temp(
        conn, "tmp_open_claim", [Column("claim_id", String(38), primary_key=True)]
    )
    e, f = ReconException, Refund
    conn.execute(
        insert(table).from_select(
            ["claim_id"],
            union(
                select(e.claim_id).where(
                    e.status == ExceptionStatus.OPEN,
                    e.subject_table == ExpectedClaim.__tablename__,
                    e.claim_id.is_not(None),
                ),
                select(f.claim_id).where(
                    f.status.in_(OPEN_REFUND), f.claim_id.is_not(None)
                ),
            ),
        )
    )
    return table


def build_claim_state(conn: Connection, ctx: RunContext) -> Table:
    """Compute the state of every visible claim (see the module docstring)."""
    window = ctx.window
    payments = _claim_payment_table(conn, ctx)
    remit = _remit_state(conn, ctx, payments)
    adjustments = _adjustment_state(conn, ctx, payments)
    patient = _patient_state(conn, ctx)
    columns = _state_columns()
    state = create_temp(conn, "tmp_claim_state", columns)
    c = ExpectedClaim
    open_claims = _open_claims(conn)

    def zero(column: Any) -> ColumnElement[int]:
        return func.coalesce(column, 0)

    values: dict[str, Any] = {
        "claim_pk": c.id,
        "claim_id": c.claim_id,
        "payer_id": c.payer_id,
        "patient_account": c.patient_account,
        "service_on": c.service_on,
        "submitted_on": c.submitted_on,
        "expected_cents": c.expected_cents,
        "expected_patient_cents": c.expected_patient_cents,
        **{name: zero(remit.c[name]) for name in _COUNTS if name in remit.c},
        **{name: zero(remit.c[name]) for name in _SUMS if name in remit.c},
        "window_activity": zero(remit.c.window_activity)
        + zero(patient.c.window_activity),
        "denial_count": zero(adjustments.c.denial_count),
        "reductions_cents": zero(adjustments.c.reductions_cents),
        "patient_paid_cents": zero(patient.c.patient_paid_cents),
        "first_own_paid_on": remit.c.first_own_paid_on,
        "last_own_paid_on": remit.c.last_own_paid_on,
        "other_primary_last_paid_on": remit.c.other_primary_last_paid_on,
        "last_patient_paid_on": patient.c.last_patient_paid_on,
        "other_primary_payer": remit.c.other_primary_payer,
        "in_scope": or_(
            c.submitted_on.between(window.first, window.last),
            zero(remit.c.window_activity) + zero(patient.c.window_activity) > 0,
            zero(remit.c.own_count) == 0,
            zero(remit.c.own_paid_cents) <= 0,
            open_claims.c.claim_id.is_not(None),
        ),
    }
    conn.execute(
        insert(state).from_select(
            list(values),
            select(*values.values())
            .select_from(c)
            .outerjoin(remit, remit.c.claim_pk == c.id)
            .outerjoin(adjustments, adjustments.c.claim_pk == c.id)
            .outerjoin(patient, patient.c.claim_id == c.claim_id)
            .outerjoin(open_claims, open_claims.c.claim_id == c.claim_id)
            .where(c.submitted_on <= ctx.as_of),
        )
    )
    drop_temp(conn, payments, remit, adjustments, patient, open_claims)
    return state


def _adjustment_state(conn: Connection, ctx: RunContext, cps: Table) -> Table:
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
    a, sl = X12Adjustment, X12ServiceLine
    denial = and_(
        a.group_code == "CO",
        a.reason_code.in_(DENIAL_CARCS),
        cps.c.status_code != REVERSAL_STATUS,
        or_(
            and_(a.service_line_id.is_(None), cps.c.paid_cents == 0),
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
