"""Column specs of the item sheets: header, width, number format, getter.

The workbook builder is driven entirely by these tuples. Reviewer columns (Decision,
Note, Reference, Suspend until) have no getter: the reviewer fills them in, and
``reconcile review import`` reads them back by header, so the headers here are the
contract between the two.

Headers say what each value is on that sheet. An exception's two amounts compare
different things per kind (:data:`KIND_HEADERS`: the 835 with the deposit, a payment
with the ledger …), and the three "identified" dates differ on purpose: an exception
was *first flagged* by the run of that as-of date, while a refund's identified date
is when the overpayment became visible in the data (the BPR16 of the payment that
made it, or the patient's payment), which starts its legal due-date clock.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import Any, Generic, TypeVar

from reconcile.categories import ExceptionKind
from reconcile.queues.workflow import EXCEPTION_DECISIONS, RECOUPMENT, REFUND
from reconcile.report.rows import ExceptionRow, RecoupmentRow, RefundRow

R = TypeVar("R")

#: Accounting format: thousands separators, 2 decimals, negatives red in parentheses.
MONEY_FORMAT = "#,##0.00_);[Red](#,##0.00);0.00_)"
DATE_FORMAT = "yyyy-mm-dd"

DECISION = "Decision"
NOTE = "Note"
REFERENCE = "Reference"
SUSPEND_UNTIL = "Suspend until"
VERSION = "Version"

#: Longest note and reference the database keeps for a decision.
NOTE_MAX = 500
REFERENCE_MAX = 50


class Entity(enum.StrEnum):
    """What the rows of an item sheet are."""

    EXCEPTION = "exception"
    REFUND = "refund"
    RECOUPMENT = "recoupment"


class Shape(enum.Enum):
    """How a column's values are written."""

    TEXT = "text"  # strings, possibly from files: never evaluated by Excel
    NUMBER = "number"  # whole numbers (ids, days)
    MONEY = "money"  # Decimal dollars, accounting format
    DATE = "date"
    FLAG = "flag"  # True → the header's word ("New"), False → empty
    INPUT = "input"  # a reviewer column, written empty
    INPUT_DATE = "input_date"  # a reviewer column for a date


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column of an item sheet."""

    header: str
    width: float
    shape: Shape
    getter: Callable[[R], Any] | None = None
    hidden: bool = False

    @property
    def number_format(self) -> str | None:
        """The Excel number format of the column's cells."""
        if self.shape in (Shape.MONEY,):
            return MONEY_FORMAT
        if self.shape in (Shape.DATE, Shape.INPUT_DATE):
            return DATE_FORMAT
        return None


@dataclass(frozen=True)
class SheetSpec(Generic[R]):
    """An item sheet: what its rows are, its columns, and the decisions it takes."""

    entity: Entity
    id_header: str
    columns: tuple[Column[R], ...]
    decisions: tuple[str, ...]
    #: The column whose negative values mean overdue (highlighted), if any.
    days_left_header: str | None = None

    def index(self, header: str) -> int:
        """The 1-based position of the column with ``header``."""
        for position, column in enumerate(self.columns, start=1):
            if column.header == header:
                return position
        raise KeyError(header)


def _c(
    header: str,
    width: float,
    shape: Shape,
    getter: Callable[[R], Any] | str | None = None,
    *,
    hidden: bool = False,
) -> Column[R]:
    get = attrgetter(getter) if isinstance(getter, str) else getter
    return Column(header, width, shape, get, hidden)


T, N, M, D, F = Shape.TEXT, Shape.NUMBER, Shape.MONEY, Shape.DATE, Shape.FLAG

REFUND_DECISIONS = (*(a for a, t in REFUND.items() if t.by_person), "suspend")
RECOUPMENT_DECISIONS = tuple(a for a, t in RECOUPMENT.items() if t.by_person)


def _patient_columns(names: bool) -> list[Column[Any]]:
    if not names:
        return []
    return [
        _c("Patient", 24, T, "patient.name"),
        _c("Member ID", 14, T, "patient.member_id"),
    ]


def _review_columns(*extra: Column[Any]) -> list[Column[Any]]:
    return [
        _c(DECISION, 12, Shape.INPUT),
        _c(NOTE, 34, Shape.INPUT),
        *extra,
    ]


def _tail() -> list[Column[Any]]:
    return [
        # Hidden, and before the fingerprint: a long fingerprint may run on screen.
        _c(VERSION, 10, T, "version", hidden=True),
        _c("Fingerprint", 60, T, "fingerprint"),
    ]


@dataclass(frozen=True)
class AmountHeaders:
    """What an exception sheet's date and two amounts are, for its kind."""

    paid_on: str = "Paid on"
    expected: str = "Expected"
    paid: str = "Paid"


#: The claim kinds compare the contract (Expected) with what the payer paid.
CLAIM_HEADERS = AmountHeaders()
_POSTING = AmountHeaders(expected="Payment received", paid="Ledger posted")
_DEPOSIT = AmountHeaders(expected="835 amount", paid="Deposit")
#: Kinds whose amounts (or date) are not the contract and the 835 payment.
KIND_HEADERS: Mapping[ExceptionKind, AmountHeaders] = {
    ExceptionKind.COB_OVERLAP: AmountHeaders(paid="Paid (both payers)"),
    ExceptionKind.PATIENT_OVERPAID: AmountHeaders(
        paid_on="Patient paid on", expected="Patient owes", paid="Patient paid"
    ),
    ExceptionKind.RECOUPMENT: AmountHeaders(paid_on="835 or notice date"),
    ExceptionKind.REFUND_RECOUPED: AmountHeaders(paid_on="Recouped on"),
    ExceptionKind.UNMATCHED_REMITTANCE: AmountHeaders(paid="835 paid"),
    ExceptionKind.UNBALANCED_REMITTANCE: AmountHeaders(paid="835 amount (BPR02)"),
    ExceptionKind.NOT_POSTED: _POSTING,
    ExceptionKind.POSTING_MISMATCH: _POSTING,
    ExceptionKind.POSTING_WITHOUT_PAYMENT: replace(_POSTING, paid_on="Posted on"),
    ExceptionKind.DEPOSIT_AMOUNT_MISMATCH: _DEPOSIT,
    ExceptionKind.ERA_WITHOUT_DEPOSIT: _DEPOSIT,
    ExceptionKind.DEPOSIT_WITHOUT_ERA: replace(_DEPOSIT, paid_on="Deposited on"),
}
#: The date the run that first found an exception was as of.
FIRST_FLAGGED = "First flagged"
#: When an overpayment became visible in the data: its refund's due date counts from it.
REFUND_IDENTIFIED = "Identified (refund clock)"
#: The 835 (or the notice letter) that first showed a recoupment.
RECOUPMENT_IDENTIFIED = "First seen (835 or notice)"


def exception_sheet(
    *, names: bool, current: bool, kind: ExceptionKind | None = None
) -> SheetSpec[ExceptionRow]:
    """Columns of an exception kind's sheet (headers as the claim kinds say them when
    no ``kind`` is given)."""
    amounts = CLAIM_HEADERS if kind is None else KIND_HEADERS.get(kind, CLAIM_HEADERS)
    columns: list[Column[ExceptionRow]] = [
        _c("New", 6, F, "new"),
        _c("Exception ID", 11, N, "id"),
        _c("Claim ID", 16, T, "claim_id"),
        _c("Patient account", 14, T, "patient_account"),
        *_patient_columns(names),
        _c("Payer", 12, T, "payer_id"),
        _c("Service date", 11, D, "service_on"),
        _c(amounts.paid_on, 11, D, "paid_on"),
        _c(amounts.expected, 13, M, "expected"),
        _c(amounts.paid, 13, M, "paid"),
        _c("Variance", 13, M, "variance"),
        _c("At stake", 13, M, "amount"),
        _c("Adjustment codes", 44, T, "codes"),
        _c("Detail", 40, T, "detail"),
        _c("Suggested action", 30, T, "suggested_action"),
        _c(FIRST_FLAGGED, 11, D, "identified_on"),
        _c("Age (days)", 8, N, "age_days"),
        _c("Status", 9, T, "status"),
        *([_c("Outcome", 26, T, "outcome")] if current else []),
        *_review_columns(),
        *_tail(),
    ]
    return SheetSpec(
        entity=Entity.EXCEPTION,
        id_header="Exception ID",
        columns=tuple(columns),
        decisions=EXCEPTION_DECISIONS,
    )


def refund_sheet(*, names: bool) -> SheetSpec[RefundRow]:
    """Columns of the Refunds sheet."""
    columns: list[Column[RefundRow]] = [
        _c("New", 6, F, "new"),
        _c("Refund ID", 9, N, "id"),
        _c("Claim ID", 16, T, "claim_id"),
        _c("Patient account", 14, T, "patient_account"),
        *_patient_columns(names),
        _c("Payer", 12, T, "payer_id"),
        _c("Payee", 9, T, "payee_kind"),
        _c("Reason", 17, T, "reason"),
        _c("Amount", 13, M, "amount"),
        _c(REFUND_IDENTIFIED, 14, D, "identified_on"),
        _c("Due on", 11, D, "due_on"),
        _c("Due rule", 16, T, "due_rule"),
        _c("Suspended until", 11, D, "suspended_until"),
        _c("Days left", 8, N, "days_left"),
        _c("Age (days)", 8, N, "age_days"),
        _c("Status", 11, T, "status"),
        _c("Issued reference", 14, T, "reference"),
        *_review_columns(
            _c(REFERENCE, 14, Shape.INPUT), _c(SUSPEND_UNTIL, 12, Shape.INPUT_DATE)
        ),
        *_tail(),
    ]
    return SheetSpec(
        entity=Entity.REFUND,
        id_header="Refund ID",
        columns=tuple(columns),
        decisions=REFUND_DECISIONS,
        days_left_header="Days left",
    )


def recoupment_sheet(*, names: bool) -> SheetSpec[RecoupmentRow]:
    """Columns of the Recoupments sheet."""
    columns: list[Column[RecoupmentRow]] = [
        _c("New", 6, F, "new"),
        _c("Recoupment ID", 12, N, "id"),
        _c("Claim ID", 16, T, "claim_id"),
        *_patient_columns(names),
        _c("Payer", 12, T, "payer_id"),
        _c("Reason", 11, T, "reason"),
        _c("Amount", 13, M, "amount"),
        _c("Original paid on", 11, D, "original_paid_on"),
        _c("Offset on", 11, D, "offset_on"),
        _c("Offset trace", 16, T, "offset_trace"),
        _c("Notice on", 11, D, "notice_on"),
        _c("Reference on file", 16, T, "reference"),
        _c(RECOUPMENT_IDENTIFIED, 13, D, "identified_on"),
        _c("Response due", 11, D, "response_due_on"),
        _c("Days left", 8, N, "days_left"),
        _c("Look-back", 32, T, "lookback"),
        _c("Original found", 9, T, lambda r: "yes" if r.original_identified else "no"),
        _c("Age (days)", 8, N, "age_days"),
        _c("Status", 10, T, "status"),
        *_review_columns(_c(REFERENCE, 14, Shape.INPUT)),
        *_tail(),
    ]
    return SheetSpec(
        entity=Entity.RECOUPMENT,
        id_header="Recoupment ID",
        columns=tuple(columns),
        decisions=RECOUPMENT_DECISIONS,
        days_left_header="Days left",
    )
