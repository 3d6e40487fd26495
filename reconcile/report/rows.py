"""The rows of the item sheets: streaming queries → frozen dataclasses.

Each generator reads its rows with ``yield_per`` (a server-side cursor on
PostgreSQL), so memory does not grow with the number of items. Money becomes
``Decimal`` dollars here, at the edge; ages and days left count from the run's as-of
date. Patient names and member ids are read only when the caller asks for them.

Every row carries a ``version``: the state a decision typed into the workbook is
based on. ``reconcile review import`` refuses a decision when the item's version has
changed since the workbook was written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Select, func, select

from reconcile.categories import ExceptionKind
from reconcile.codes import describe_adjustments
from reconcile.db.tables import ReconException, Recoupment, Refund, X12ClaimPayment
from reconcile.money import to_decimal
from reconcile.report.deadlines import recoupment_days_left, refund_days_left
from reconcile.report.scope import (
    ReportScope,
    listed_exceptions,
    listed_recoupments,
    listed_refunds,
)

#: Rows fetched per round trip while streaming.
YIELD_PER = 5_000


def exception_version(
    *, status: str, decision: str | None, amount_cents: int, reopened_count: int
) -> str:
    """The state of an exception a decision is based on."""
    return f"{status}:{decision or ''}:{amount_cents}:{reopened_count}"


def refund_version(
    *,
    status: str,
    amount_cents: int,
    due_on: dt.date,
    suspended_until: dt.date | None,
) -> str:
    """The state of a refund a decision is based on."""
    return f"{status}:{amount_cents}:{due_on}:{suspended_until or ''}"


def recoupment_version(
    *, status: str, amount_cents: int, response_due_on: dt.date | None
) -> str:
    """The state of a recoupment a decision is based on."""
    return f"{status}:{amount_cents}:{response_due_on or ''}"


@dataclass(frozen=True, slots=True)
class Patient:
    """Who a claim is for, as the 835 names them (shown only when allowed)."""

    name: str | None
    member_id: str | None


NO_PATIENT = Patient(name=None, member_id=None)


@dataclass(frozen=True, slots=True)
class ExceptionRow:
    """One exception on its kind's sheet."""

    id: int
    fingerprint: str
    kind: str
    new: bool
    status: str
    outcome: str | None
    claim_id: str | None
    patient_account: str | None
    patient: Patient
    payer_id: str | None
    service_on: dt.date | None
    paid_on: dt.date | None
    expected: Decimal | None
    paid: Decimal | None
    variance: Decimal | None
    amount: Decimal
    codes: str | None
    detail: str | None
    suggested_action: str | None
    identified_on: dt.date
    age_days: int | None
    version: str


@dataclass(frozen=True, slots=True)
class RefundRow:
    """One refund on the Refunds sheet."""

    id: int
    fingerprint: str
    new: bool
    status: str
    reason: str
    payee_kind: str
    claim_id: str | None
    patient_account: str | None
    patient: Patient
    payer_id: str | None
    amount: Decimal
    identified_on: dt.date
    due_on: dt.date
    due_rule: str
    suspended_until: dt.date | None
    days_left: int | None
    reference: str | None
    age_days: int
    version: str


@dataclass(frozen=True, slots=True)
class RecoupmentRow:
    """One recoupment on the Recoupments sheet."""

    id: int
    fingerprint: str
    new: bool
    status: str
    reason: str
    claim_id: str | None
    patient: Patient
    payer_id: str | None
    amount: Decimal
    original_paid_on: dt.date | None
    offset_on: dt.date | None
    offset_trace: str | None
    notice_on: dt.date | None
    reference: str | None
    identified_on: dt.date
    response_due_on: dt.date | None
    days_left: int | None
    lookback: str
    original_identified: bool
    age_days: int
    version: str


@lru_cache(maxsize=4096)
def describe_codes(codes: str | None) -> str | None:
    """Adjustment codes (``"CO-45,PR-2"``) with their meanings, or None."""
    if not codes:
        return None
    return describe_adjustments(sorted(codes.split(","))) or None


def _stream(conn: Connection, statement: Select[Any]) -> Iterator[Any]:
    yield from conn.execute(statement.execution_options(yield_per=YIELD_PER))


def _with_patients(statement: Select[Any], claim_id: Any, names: bool) -> Select[Any]:
    """Add the patient's name and member id by claim, from the 835s, when allowed.

    The member id is the subscriber's (NM1*IL NM109) when the 835 names one, else the
    patient's own (NM1*QC NM109: the usual case, the patient being the subscriber),
    else REF*1W.
    """
    if not names:
        return statement
    cp = X12ClaimPayment
    member = func.coalesce(cp.insured_identifier, cp.patient_identifier, cp.member_id)
    per_claim = (
        select(
            cp.claim_id.label("claim_id"),
            func.max(cp.patient_last_name).label("last_name"),
            func.max(cp.patient_first_name).label("first_name"),
            func.max(member).label("member_id"),
        )
        .group_by(cp.claim_id)
        .subquery("patient")
    )
    return statement.outerjoin(per_claim, per_claim.c.claim_id == claim_id).add_columns(
        per_claim.c.last_name, per_claim.c.first_name, per_claim.c.member_id
    )


def _patient(last: str | None, first: str | None, member: str | None) -> Patient:
    name = ", ".join(part for part in (last, first) if part)
    if not name and not member:
        return NO_PATIENT
    return Patient(name=name or None, member_id=member)


def _patient_of(row: Any, names: bool) -> Patient:
    if not names:
        return NO_PATIENT
    return _patient(row.last_name, row.first_name, row.member_id)


def _outcome(
    decision: str | None,
    decided_by: str | None,
    resolved_by_run_id: int | None,
    resolved_on: dt.date | None,
) -> str | None:
    if decision is not None:
        by = f" by {decided_by}" if decided_by else ""
        return f"{decision}{by}"
    if resolved_by_run_id is not None:
        return f"condition gone (run {resolved_by_run_id}, {resolved_on})"
    return None


#: What the exception sheets show (``details`` and other JSON are left in the database).
_EXCEPTION_COLUMNS = (
    "id", "fingerprint", "kind", "status", "decision", "decided_by",
    "resolved_by_run_id", "resolved_on", "first_run_id", "claim_id",
    "patient_account", "payer_id", "service_on", "paid_on", "expected_cents",
    "paid_cents", "variance_cents", "amount_cents", "codes", "detail",
    "suggested_action", "identified_on", "age_from_on", "reopened_count",
)  # fmt: skip


def exception_rows(
    conn: Connection, *, scope: ReportScope, kind: ExceptionKind, names: bool
) -> Iterator[ExceptionRow]:
    """The listed exceptions of one kind, most money first."""
    e = ReconException
    statement = _with_patients(
        select(*(e.__table__.c[name] for name in _EXCEPTION_COLUMNS))
        .where(listed_exceptions(scope), e.kind == kind)
        .order_by(e.amount_cents.desc(), e.id),
        e.claim_id,
        names,
    )
    run_id, as_of = scope.run.run_id, scope.as_of
    # The hot loop of the workbook: unpack each row by position (attribute access on
    # SQLAlchemy rows costs more than the rest of the loop together).
    for row in _stream(conn, statement):
        (
            id_, fingerprint, kind_, status, decision, decided_by, resolved_by,
            resolved_on, first_run_id, claim_id, account, payer_id, service_on,
            paid_on, expected, paid, variance, amount, codes, detail, action,
            identified_on, age_from, reopened, *patient,
        ) = row  # fmt: skip
        yield ExceptionRow(
            id=id_,
            fingerprint=fingerprint,
            kind=str(kind_),
            new=first_run_id == run_id,
            status=str(status),
            outcome=_outcome(decision, decided_by, resolved_by, resolved_on),
            claim_id=claim_id,
            patient_account=account,
            patient=_patient(*patient) if names else NO_PATIENT,
            payer_id=payer_id,
            service_on=service_on,
            paid_on=paid_on,
            expected=None if expected is None else to_decimal(expected),
            paid=None if paid is None else to_decimal(paid),
            variance=None if variance is None else to_decimal(variance),
            amount=to_decimal(amount),
            codes=describe_codes(codes),
            detail=detail,
            suggested_action=action,
            identified_on=identified_on,
            age_days=(as_of - age_from).days if age_from is not None else None,
            version=exception_version(
                status=str(status),
                decision=decision,
                amount_cents=amount,
                reopened_count=reopened,
            ),
        )


def refund_rows(
    conn: Connection, *, scope: ReportScope, names: bool
) -> Iterator[RefundRow]:
    """The listed refunds, soonest due first."""
    r = Refund
    statement = _with_patients(
        select(r.__table__)
        .where(listed_refunds(scope))
        .order_by(r.due_on, r.id),
        r.claim_id,
        names,
    )  # fmt: skip
    run_id, as_of = scope.run.run_id, scope.as_of
    for row in _stream(conn, statement):
        status = str(row.status)
        yield RefundRow(
            id=row.id,
            fingerprint=row.fingerprint,
            new=row.first_run_id == run_id,
            status=status,
            reason=str(row.reason),
            payee_kind=str(row.payee_kind),
            claim_id=row.claim_id,
            patient_account=row.patient_account,
            patient=_patient_of(row, names),
            payer_id=row.payer_id,
            amount=to_decimal(row.amount_cents),
            identified_on=row.identified_on,
            due_on=row.due_on,
            due_rule=row.due_rule,
            suspended_until=row.suspended_until,
            days_left=refund_days_left(
                status=status,
                due_on=row.due_on,
                suspended_until=row.suspended_until,
                as_of=as_of,
            ),
            reference=row.reference,
            age_days=(as_of - row.identified_on).days,
            version=refund_version(
                status=status,
                amount_cents=row.amount_cents,
                due_on=row.due_on,
                suspended_until=row.suspended_until,
            ),
        )


def recoupment_rows(
    conn: Connection, *, scope: ReportScope, names: bool
) -> Iterator[RecoupmentRow]:
    """The listed recoupments, soonest response deadline first."""
    c = Recoupment
    statement = _with_patients(
        select(c.__table__)
        .where(listed_recoupments(scope))
        .order_by(c.response_due_on.is_(None), c.response_due_on, c.id),
        c.claim_id,
        names,
    )
    run_id, as_of = scope.run.run_id, scope.as_of
    for row in _stream(conn, statement):
        status = str(row.status)
        note = f" ({row.lookback_note})" if row.lookback_note else ""
        yield RecoupmentRow(
            id=row.id,
            fingerprint=row.fingerprint,
            new=row.first_run_id == run_id,
            status=status,
            reason=str(row.reason),
            claim_id=row.claim_id,
            patient=_patient_of(row, names),
            payer_id=row.payer_id,
            amount=to_decimal(row.amount_cents),
            original_paid_on=row.original_paid_on,
            offset_on=row.offset_on,
            offset_trace=row.offset_trace,
            notice_on=row.notice_on,
            reference=row.reference,
            identified_on=row.identified_on,
            response_due_on=row.response_due_on,
            days_left=recoupment_days_left(
                status=status, response_due_on=row.response_due_on, as_of=as_of
            ),
            lookback=f"{row.lookback_status}{note}",
            original_identified=bool(row.original_identified),
            age_days=(as_of - row.identified_on).days,
            version=recoupment_version(
                status=status,
                amount_cents=row.amount_cents,
                response_due_on=row.response_due_on,
            ),
        )
