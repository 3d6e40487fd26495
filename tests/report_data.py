"""Hand-made report content for workbook tests that need no database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from reconcile.categories import ExceptionKind
from reconcile.kinds import KINDS
from reconcile.report.columns import exception_sheet, recoupment_sheet, refund_sheet
from reconcile.report.content import (
    RECOUPMENTS,
    REFUNDS,
    Header,
    ItemSheet,
    ReportContent,
    kind_sheet_title,
)
from reconcile.report.figures import KindFigure, QueueFigure, Tally
from reconcile.report.rows import (
    NO_PATIENT,
    ExceptionRow,
    Patient,
    RecoupmentRow,
    RefundRow,
)
from reconcile.report.scope import ReportScope, RunFacts
from reconcile.report.sources import SourceFileRow

AS_OF = dt.date(2024, 3, 31)
WRITTEN = dt.datetime(2024, 4, 1, 10, 30, tzinfo=dt.UTC)


def run_facts(**changes: Any) -> RunFacts:
    """A run of March 2024."""
    values: dict[str, Any] = {
        "run_id": 7,
        "trigger": "nightly",
        "status": "succeeded",
        "first": dt.date(2024, 3, 1),
        "last": AS_OF,
        "as_of": AS_OF,
        "started_at": dt.datetime(2024, 4, 1, 10, tzinfo=dt.UTC),
        "finished_at": dt.datetime(2024, 4, 1, 10, 5, tzinfo=dt.UTC),
        "host": "billing-1",
        "config_hash": "c" * 64,
        "counts": {
            "rules": {"claim_remit_clp01": {"matched": 5, "ambiguous": 1}},
            "found": {"underpaid": 2},
            "exceptions": {"created": 2, "reopened": 0, "resolved": 1, "updated": 0},
            "pending": {"claims_awaiting_payment": 3},
        },
        "skipped": None,
        "committed": True,
    }
    values.update(changes)
    return RunFacts(**values)


def exception_row(**changes: Any) -> ExceptionRow:
    """An underpaid claim."""
    values: dict[str, Any] = {
        "id": 1,
        "fingerprint": "underpaid:AETNA:C1",
        "kind": "underpaid",
        "new": True,
        "status": "open",
        "outcome": None,
        "claim_id": "C1",
        "patient_account": "A1",
        "patient": NO_PATIENT,
        "payer_id": "AETNA",
        "service_on": dt.date(2024, 2, 1),
        "paid_on": dt.date(2024, 3, 4),
        "expected": Decimal("100.00"),
        "paid": Decimal("70.00"),
        "variance": Decimal("-30.00"),
        "amount": Decimal("30.00"),
        "codes": "CO-45 Charge exceeds fee schedule",
        "detail": "paid less than the contract",
        "suggested_action": None,
        "identified_on": AS_OF,
        "age_days": 27,
        "version": "open::3000:0",
    }
    values.update(changes)
    return ExceptionRow(**values)


def refund_row(**changes: Any) -> RefundRow:
    """A queued payer refund, overdue by 11 days."""
    values: dict[str, Any] = {
        "id": 1,
        "fingerprint": "refund:C2",
        "new": False,
        "status": "queued",
        "reason": "overpaid",
        "payee_kind": "payer",
        "claim_id": "C2",
        "patient_account": "A2",
        "patient": NO_PATIENT,
        "payer_id": "AETNA",
        "amount": Decimal("123.45"),
        "identified_on": dt.date(2024, 1, 20),
        "due_on": dt.date(2024, 3, 20),
        "due_rule": "default",
        "suspended_until": None,
        "days_left": -11,
        "reference": None,
        "age_days": 71,
        "version": "queued:12345:2024-03-20:",
    }
    values.update(changes)
    return RefundRow(**values)


def recoupment_row(**changes: Any) -> RecoupmentRow:
    """A noticed recoupment due in 5 days."""
    values: dict[str, Any] = {
        "id": 1,
        "fingerprint": "recoupment:C3",
        "new": True,
        "status": "noticed",
        "reason": "notice",
        "claim_id": "C3",
        "patient": NO_PATIENT,
        "payer_id": "AETNA",
        "amount": Decimal("90.00"),
        "original_paid_on": dt.date(2023, 12, 1),
        "offset_on": None,
        "offset_trace": None,
        "notice_on": dt.date(2024, 3, 6),
        "reference": "L-1",
        "identified_on": dt.date(2024, 3, 6),
        "response_due_on": dt.date(2024, 4, 5),
        "days_left": 5,
        "lookback": "ok",
        "original_identified": True,
        "age_days": 25,
        "version": "noticed:9000:2024-04-05",
    }
    values.update(changes)
    return RecoupmentRow(**values)


def tally(count: int = 0, amount: str = "0.00") -> Tally:
    """A count and an amount."""
    return Tally(count=count, amount=Decimal(amount))


def queue(listed: Tally | None = None, overdue: Tally | None = None) -> QueueFigure:
    """Queue figures (nothing due ahead)."""
    return QueueFigure(
        listed=listed or tally(),
        overdue=overdue or tally(),
        due_within={7: tally(), 30: tally()},
    )


def figure(kind: ExceptionKind, count: int, amount: str) -> KindFigure:
    """One kind on the Summary."""
    info = KINDS[kind]
    return KindFigure(
        kind=kind,
        title=info.title,
        how_to_work=info.how_to_work,
        count=count,
        new=count,
        still_open=count,
        oldest_days=27,
        amount=Decimal(amount),
    )


def content(
    *,
    exceptions: Mapping[ExceptionKind, Iterable[ExceptionRow]] | None = None,
    refunds: Iterable[RefundRow] = (),
    recoupments: Iterable[RecoupmentRow] = (),
    names: bool = False,
    current: bool = False,
    run: RunFacts | None = None,
    sources: Iterable[SourceFileRow] = (),
) -> ReportContent:
    """Report content from rows (lists are materialised to compute the figures)."""
    facts = run or run_facts()
    header = Header(
        scope=ReportScope(run=facts, current_at=WRITTEN if current else None),
        database="postgresql+psycopg://recon:***@db/recon",
        written_at=WRITTEN,
        time_zone="America/New_York",
        show_patient_names=names,
    )
    by_kind = {kind: list(rows) for kind, rows in (exceptions or {}).items()}
    kinds = [
        figure(kind, len(rows), str(sum((r.amount for r in rows), Decimal("0.00"))))
        for kind, rows in by_kind.items()
    ]
    spec = exception_sheet(names=names, current=current)
    return ReportContent(
        header=header,
        kinds=kinds,
        refunds=queue(),
        recoupments=queue(),
        exception_sheets=[
            ItemSheet(
                title=kind_sheet_title(fig),
                heading=f"{fig.title}",
                spec=spec,
                rows=by_kind[fig.kind],
            )
            for fig in kinds
        ],
        queue_sheets=[
            ItemSheet(REFUNDS, "Refunds", refund_sheet(names=names), list(refunds)),
            ItemSheet(
                RECOUPMENTS,
                "Recoupments",
                recoupment_sheet(names=names),
                list(recoupments),
            ),
        ],
        source_files=list(sources),
    )


def with_patient(row: ExceptionRow, name: str, member: str) -> ExceptionRow:
    """The row with a patient's name and member id."""
    return replace(row, patient=Patient(name=name, member_id=member))
