"""Overpayments that create refunds: duplicate payments, two primary payers, and
patients who paid more than they owe (``overpaid`` itself comes from the claims).

- ``duplicate_payment``: the claim's payer paid the same lines twice, for the same
  amounts, with no reversal of the first payment — same REF*6R line control number, or
  the same procedure code and service date (an 835 without lines: the same charge,
  paid amount and statement date). A line paid $0 earlier (pended, CARC 133) and paid
  later is not a duplicate, nor is a supplemental payment of a different amount.
  CARC 18/B13 on the later payment are named in the detail as context.
- ``cob_overlap``: another payer paid the claim as primary (CLP02 1/19) while the
  claim's payer also paid it: the money of the one that should not have paid is owed
  back to it.
- ``patient_overpaid``: the patient paid more than their final responsibility — the
  patient responsibility (CLP05) of the last payer to process the claim, after
  coordination of benefits (primary PR 100, secondary pays 60 and reports CLP05 20:
  the patient owes 20) — or, for money not tied to a claim, a credit balance remains
  on the account. A claim whose payment was reversed and not re-paid waits: its
  responsibility is not final.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Date,
    String,
    Table,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from reconcile.categories import ExceptionKind, Pairing
from reconcile.classify.candidates import add, columns, fingerprint, kind_literal
from reconcile.codes import (
    DUPLICATE_CARCS,
    REVERSAL_STATUS,
    SECONDARY_STATUSES,
    describe_carc,
)
from reconcile.context import RunContext
from reconcile.db.base import CentsType, IdType
from reconcile.db.tables import (
    PatientPayment,
    ReconMatch,
    X12Adjustment,
    X12ClaimPayment,
    X12Payment,
    X12ServiceLine,
)
from reconcile.db.temp import create_temp, drop_temp


def _own_paid_payments(conn: Connection, ctx: RunContext, state: Table) -> Table:
    """Own-payer payments (not reversals, paid > 0) of claims paid more than once."""
    table = create_temp(
        conn,
        "tmp_own_paid",
        [
            Column("claim_pk", IdType, nullable=False),
            Column("cp_id", IdType, primary_key=True),
            Column("payment_id", IdType, nullable=False),
            Column("paid_on", Date, nullable=False),
            Column("seq", IdType, nullable=False),
            Column("paid_cents", CentsType, nullable=False),
            Column("charge_cents", CentsType, nullable=False),
            Column("payer_control", String(50)),
            Column("statement_from_on", Date),
            Column("trace", String(50), nullable=False),
            Column("originator", String(10), nullable=False),
            Column("payment_cents", CentsType, nullable=False),
        ],
        indexes=[("claim_pk",)],
    )
    m, cp, p, pp = ReconMatch, X12ClaimPayment, X12Payment, ctx.payment_payer
    conn.execute(
        insert(table).from_select(
            [c.name for c in table.columns],
            select(
                state.c.claim_pk,
                cp.id,
                cp.payment_id,
                p.paid_on,
                cp.seq,
                cp.paid_cents,
                cp.charge_cents,
                cp.payer_control,
                cp.statement_from_on,
                p.trace_number,
                p.originator_id,
                p.amount_cents,
            )
            .select_from(state)
            .join(
                m, and_(m.pairing == Pairing.CLAIM_REMIT, m.left_id == state.c.claim_pk)
            )
            .join(cp, cp.id == m.right_id)
            .join(p, p.id == cp.payment_id)
            .join(pp, pp.c.payment_id == p.id)
            .where(
                state.c.in_scope,
                state.c.own_count >= 2,
                pp.c.payer_id == state.c.payer_id,
                p.paid_on <= ctx.as_of,
                cp.status_code != REVERSAL_STATUS,
                cp.paid_cents > 0,
            ),
        )
    )
    return table


def add_duplicate_candidates(
    conn: Connection,
    ctx: RunContext,
    *,
    state: Table,
    reversals: Table,
    candidates: Table,
) -> int:
    """Insert ``duplicate_payment`` candidates (see the module docstring).

    ``reversals`` (from :mod:`reconcile.classify.reversals`) tells which payments were
    reversed: a reversed payment has no duplicate.
    """
    own = _own_paid_payments(conn, ctx, state)
    first, dup = own.alias("first"), own.alias("dup")
    r = reversals
    reversed_first = exists(
        select(r.c.reversal_id).where(r.c.original_id == first.c.cp_id)
    )
    # The payer reversed the second payment itself: nothing to refund.
    reversed_dup = exists(select(r.c.reversal_id).where(r.c.original_id == dup.c.cp_id))
    l1, l2 = X12ServiceLine, aliased(X12ServiceLine)
    same_lines = exists(
        select(l1.id)
        .join(l2, l2.claim_payment_id == dup.c.cp_id)
        .where(
            l1.claim_payment_id == first.c.cp_id,
            l1.paid_cents > 0,
            l2.paid_cents == l1.paid_cents,
            or_(
                and_(l1.line_control.is_not(None), l1.line_control == l2.line_control),
                and_(
                    l1.procedure_code == l2.procedure_code,
                    l1.service_from_on == l2.service_from_on,
                ),
            ),
        )
    )
    no_lines = ~exists(
        select(l1.id).where(l1.claim_payment_id.in_([first.c.cp_id, dup.c.cp_id]))
    )
    same_claim_level = and_(
        no_lines,
        first.c.charge_cents == dup.c.charge_cents,
        first.c.paid_cents == dup.c.paid_cents,
        or_(
            first.c.statement_from_on.is_(None),
            first.c.statement_from_on == dup.c.statement_from_on,
        ),
    )
    later = or_(
        dup.c.paid_on > first.c.paid_on,
        and_(dup.c.paid_on == first.c.paid_on, dup.c.cp_id > first.c.cp_id),
    )
    s = state
    duplicates_earlier = exists(
        select(first.c.cp_id).where(
            first.c.claim_pk == dup.c.claim_pk,
            first.c.cp_id != dup.c.cp_id,
            later,
            ~reversed_first,
            or_(same_lines, same_claim_level),
        )
    )
    added = add(
        conn,
        candidates,
        select(
            *columns(
                fingerprint=fingerprint(
                    ExceptionKind.DUPLICATE_PAYMENT,
                    s.c.payer_id,
                    s.c.claim_id,
                    dup.c.originator,
                    dup.c.trace,
                    dup.c.payment_cents,
                    dup.c.paid_on,
                    dup.c.seq,
                ),
                kind=kind_literal(ExceptionKind.DUPLICATE_PAYMENT),
                claim_id=s.c.claim_id,
                payer_id=s.c.payer_id,
                patient_account=s.c.patient_account,
                subject_table="expected_claim",
                subject_id=s.c.claim_pk,
                amount_cents=dup.c.paid_cents,
                expected_cents=s.c.expected_cents,
                paid_cents=s.c.own_paid_cents,
                variance_cents=s.c.own_paid_cents - s.c.expected_cents,
                detail="paid again in the 835 of "
                + cast(dup.c.paid_on, String)
                + " (TRN "
                + dup.c.trace
                + ")"
                + _duplicate_context(dup.c.cp_id),
                service_on=s.c.service_on,
                paid_on=dup.c.paid_on,
                age_from_on=dup.c.paid_on,
            )
        )
        .select_from(dup)
        .join(s, s.c.claim_pk == dup.c.claim_pk)
        .where(~reversed_dup, duplicates_earlier),
    )
    drop_temp(conn, own)
    return added


def _duplicate_context(claim_payment_id: ColumnElement[int]) -> ColumnElement[str]:
    """``"; the payer coded it 18 Exact duplicate …"`` when its CAS says so, or ``""``.

    CARC 18 and B13 on the later payment are context for a reviewer (the payer itself
    marked the claim a duplicate), not part of the test.
    """
    a = X12Adjustment
    code = (
        select(func.min(a.reason_code))
        .where(
            a.claim_payment_id == claim_payment_id,
            a.reason_code.in_(sorted(DUPLICATE_CARCS)),
        )
        .scalar_subquery()
    )
    return case(
        *(
            (code == carc, literal(f"; the payer coded it {describe_carc(carc)}"))
            for carc in sorted(DUPLICATE_CARCS)
        ),
        else_=literal(""),
    )


def add_cob_candidates(
    conn: Connection, ctx: RunContext, *, state: Table, candidates: Table
) -> int:
    """Insert ``cob_overlap`` candidates: two payers both paid as primary."""
    s = state
    return add(
        conn,
        candidates,
        select(
            *columns(
                fingerprint=fingerprint(
                    ExceptionKind.COB_OVERLAP, s.c.other_primary_payer, s.c.claim_id
                ),
                kind=kind_literal(ExceptionKind.COB_OVERLAP),
                claim_id=s.c.claim_id,
                payer_id=s.c.other_primary_payer,
                patient_account=s.c.patient_account,
                subject_table="expected_claim",
                subject_id=s.c.claim_pk,
                amount_cents=s.c.other_primary_paid_cents,
                expected_cents=s.c.expected_cents,
                paid_cents=s.c.own_paid_cents + s.c.other_primary_paid_cents,
                variance_cents=s.c.own_paid_cents
                + s.c.other_primary_paid_cents
                - s.c.expected_cents,
                detail="paid as primary by "
                + s.c.other_primary_payer
                + " and by "
                + s.c.payer_id,
                service_on=s.c.service_on,
                paid_on=s.c.other_primary_last_paid_on,
                age_from_on=s.c.other_primary_last_paid_on,
            )
        ).where(
            s.c.in_scope,
            s.c.own_count > 0,
            s.c.own_paid_cents > 0,
            s.c.other_primary_count > 0,
            s.c.other_primary_paid_cents > 0,
        ),
    )


def _last_payer_responsibility(
    conn: Connection, ctx: RunContext, state: Table
) -> Table:
    """Per claim with a coordination-of-benefits payer: the patient responsibility
    (CLP05) the **last** payer to process it reported — the patient's final share.

    A payer's CLP05 is netted over its own reversals; a payer whose every
    secondary payment was reversed is no longer in the chain. ``None`` when that
    payer did not report CLP05.
    """
    table = create_temp(
        conn,
        "tmp_last_payer_resp",
        [
            Column("claim_pk", IdType, primary_key=True),
            Column("patient_resp_cents", CentsType),
        ],
    )
    m, cp, p, pp, s = ReconMatch, X12ClaimPayment, X12Payment, ctx.payment_payer, state
    secondary = cp.status_code.in_(sorted(SECONDARY_STATUSES))
    per_payer = (
        select(
            s.c.claim_pk,
            func.sum(func.coalesce(cp.patient_resp_cents, 0)).label("resp"),
            func.count(case((secondary & cp.patient_resp_cents.is_(None), 1))).label(
                "unknown"
            ),
            func.max(case((secondary, p.paid_on))).label("last_on"),
            func.max(case((secondary, cp.id))).label("last_id"),
        )
        .select_from(s)
        .join(m, and_(m.pairing == Pairing.CLAIM_REMIT, m.left_id == s.c.claim_pk))
        .join(cp, cp.id == m.right_id)
        .join(p, p.id == cp.payment_id)
        .join(pp, pp.c.payment_id == p.id)
        .where(
            s.c.patient_account.is_not(None),
            s.c.own_count > 0,
            pp.c.payer_id != s.c.payer_id,
            p.paid_on <= ctx.as_of,
            or_(secondary, cp.status_code == REVERSAL_STATUS),
        )
        .group_by(s.c.claim_pk, pp.c.payer_id)
        .having(
            func.count(case((secondary, 1)))
            > func.count(case((cp.status_code == REVERSAL_STATUS, 1)))
        )
        .subquery("per_payer")
    )
    ranked = select(
        per_payer.c.claim_pk,
        case(
            (per_payer.c.unknown > 0, literal(None, CentsType)), else_=per_payer.c.resp
        ).label("resp"),
        func.row_number()
        .over(
            partition_by=per_payer.c.claim_pk,
            order_by=(per_payer.c.last_on.desc(), per_payer.c.last_id.desc()),
        )
        .label("rank"),
    ).subquery("ranked")
    conn.execute(
        insert(table).from_select(
            ["claim_pk", "patient_resp_cents"],
            select(ranked.c.claim_pk, ranked.c.resp).where(ranked.c.rank == 1),
        )
    )
    return table


def _final_responsibility(state: Table, last: Table) -> ColumnElement[int]:
    """What the patient owes for the claim, if known (``state`` outer-joined ``last``).

    The last payer's CLP05 after coordination of benefits; with no other payer (or
    none that reported CLP05) the claim payer's CLP05 less what other payers paid;
    before the claim payer has paid, the claims file's expected patient amount.
    """
    s = state
    return case(
        (
            (s.c.own_count > 0) & last.c.patient_resp_cents.is_not(None),
            last.c.patient_resp_cents,
        ),
        (s.c.own_count > 0, s.c.own_patient_resp_cents - s.c.cob_paid_cents),
        else_=s.c.expected_patient_cents,
    )


def add_patient_candidates(
    conn: Connection, ctx: RunContext, *, state: Table, candidates: Table
) -> int:
    """Insert ``patient_overpaid`` candidates, per claim and per account."""
    s = state
    last = _last_payer_responsibility(conn, ctx, state)
    tolerance = ctx.settings.matching.tolerance_cents
    known_resp = _final_responsibility(s, last)
    responsibility = case((known_resp < 0, literal(0)), else_=known_resp)
    over = s.c.patient_paid_cents - responsibility
    added = add(
        conn,
        candidates,
        select(
            *columns(
                fingerprint=fingerprint(
                    ExceptionKind.PATIENT_OVERPAID, s.c.patient_account, s.c.claim_id
                ),
                kind=kind_literal(ExceptionKind.PATIENT_OVERPAID),
                claim_id=s.c.claim_id,
                patient_account=s.c.patient_account,
                subject_table="expected_claim",
                subject_id=s.c.claim_pk,
                amount_cents=over,
                expected_cents=responsibility,
                paid_cents=s.c.patient_paid_cents,
                variance_cents=over,
                detail=literal("the patient paid more than their responsibility"),
                service_on=s.c.service_on,
                paid_on=s.c.last_patient_paid_on,
                age_from_on=s.c.last_patient_paid_on,
            )
        )
        .select_from(s)
        .outerjoin(last, last.c.claim_pk == s.c.claim_pk)
        .where(
            s.c.in_scope,
            s.c.patient_account.is_not(None),
            known_resp.is_not(None),
            over > tolerance,
            # A claim reversed and not re-paid has no final responsibility yet.
            ~((s.c.own_reversal_count > 0) & (s.c.own_paid_cents <= 0)),
        ),
    )
    added += _add_account_credits(
        conn, ctx, state=state, last=last, candidates=candidates
    )
    drop_temp(conn, last)
    return added


def _add_account_credits(
    conn: Connection, ctx: RunContext, *, state: Table, last: Table, candidates: Table
) -> int:
    """A credit balance: payments not tied to a claim exceed what the account owes."""
    s, pay = state, PatientPayment
    tolerance = ctx.settings.matching.tolerance_cents
    known_resp = _final_responsibility(s, last)
    remaining = case(
        (known_resp - s.c.patient_paid_cents > 0, known_resp - s.c.patient_paid_cents),
        else_=literal(0),
    )
    owed = (
        select(
            s.c.patient_account.label("account"),
            func.sum(remaining).label("owed"),
            func.count(case((known_resp.is_(None), 1))).label("unknown"),
        )
        .select_from(s)
        .outerjoin(last, last.c.claim_pk == s.c.claim_pk)
        .where(s.c.patient_account.is_not(None))
        .group_by(s.c.patient_account)
        .subquery("owed")
    )
    unallocated = (
        select(
            pay.patient_account.label("account"),
            func.sum(pay.amount_cents).label("paid"),
            func.min(pay.id).label("first_id"),
            func.max(pay.received_on).label("last_on"),
        )
        .where(pay.claim_id.is_(None), pay.received_on <= ctx.as_of)
        .group_by(pay.patient_account)
        .subquery("unallocated")
    )
    credit = unallocated.c.paid - func.coalesce(owed.c.owed, 0)
    return add(
        conn,
        candidates,
        select(
            *columns(
                fingerprint=fingerprint(
                    ExceptionKind.PATIENT_OVERPAID,
                    unallocated.c.account,
                    literal("credit"),
                ),
                kind=kind_literal(ExceptionKind.PATIENT_OVERPAID),
                patient_account=unallocated.c.account,
                subject_table="patient_payment",
                subject_id=unallocated.c.first_id,
                amount_cents=credit,
                expected_cents=func.coalesce(owed.c.owed, 0),
                paid_cents=unallocated.c.paid,
                variance_cents=credit,
                detail=literal("credit balance on the patient's account"),
                paid_on=unallocated.c.last_on,
                age_from_on=unallocated.c.last_on,
            )
        )
        .select_from(unallocated)
        .outerjoin(owed, owed.c.account == unallocated.c.account)
        .where(func.coalesce(owed.c.unknown, 0) == 0, credit > tolerance),
    )
