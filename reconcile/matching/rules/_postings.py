"""Selections the posting rules share: 835 claim payments and patient payments that
moved money, and ledger postings of the matching kind, all visible as of the run."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_

from reconcile.categories import LedgerKind
from reconcile.context import RunContext
from reconcile.db.tables import LedgerEntry, PatientPayment, X12ClaimPayment, X12Payment


def remit_postable(ctx: RunContext) -> ColumnElement[Any]:
    """An 835 claim payment that moved money, and an insurance posting, both visible."""
    return and_(
        X12ClaimPayment.paid_cents != 0,
        X12Payment.paid_on <= ctx.as_of,
        LedgerEntry.kind == LedgerKind.INSURANCE_PAYMENT,
        LedgerEntry.posted_on <= ctx.as_of,
    )


def patient_postable(ctx: RunContext) -> ColumnElement[Any]:
    """A patient payment and a patient-payment posting of the same account, visible."""
    return and_(
        PatientPayment.received_on <= ctx.as_of,
        LedgerEntry.kind == LedgerKind.PATIENT_PAYMENT,
        LedgerEntry.posted_on <= ctx.as_of,
        LedgerEntry.patient_account == PatientPayment.patient_account,
    )
