"""The work queues: refunds the practice owes, recoupments payers take, and the
append-only, hash-chained audit log of every change to them and to exceptions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from reconcile.categories import (
    AuditEntity,
    PayeeKind,
    RecoupmentReason,
    RecoupmentStatus,
    RefundReason,
    RefundStatus,
)
from reconcile.db.base import Base, CentsType, IdType, JsonType, UTCDateTime, text_enum

_FINGERPRINT = String(200)


class Refund(Base):
    """An overpayment the practice must give back, with its legal due date.

    One refund per claim, payee and reason (the fingerprint). ``identified_on`` is
    stored when first detected and never slides on re-runs.
    """

    __tablename__ = "refund"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(_FINGERPRINT, unique=True)
    reason: Mapped[RefundReason] = mapped_column(text_enum(RefundReason, "reason"))
    status: Mapped[RefundStatus] = mapped_column(text_enum(RefundStatus, "status"))
    payee_kind: Mapped[PayeeKind] = mapped_column(text_enum(PayeeKind, "payee_kind"))
    claim_id: Mapped[str | None] = mapped_column(String(38))
    payer_id: Mapped[str | None] = mapped_column(String(80))
    patient_account: Mapped[str | None] = mapped_column(String(80))
    amount_cents: Mapped[int] = mapped_column(CentsType)  # owed, > 0
    identified_on: Mapped[dt.date]
    due_on: Mapped[dt.date]
    #: Which rule set ``due_on``: ``medicare_medicaid``, ``patient_state:TX``, …
    due_rule: Mapped[str] = mapped_column(String(40))
    suspended_until: Mapped[dt.date | None]
    suspension_reason: Mapped[str | None] = mapped_column(String(500))
    #: Check number or EFT trace of the refund once issued.
    reference: Mapped[str | None] = mapped_column(String(50))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    exception_id: Mapped[int | None] = mapped_column(ForeignKey("recon_exception.id"))
    #: The 835 whose PLB 72 acknowledged the refund.
    acknowledged_payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("x12_payment.id")
    )
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("recon_run.id"))
    last_seen_run_id: Mapped[int | None] = mapped_column(ForeignKey("recon_run.id"))
    #: As-of date of the last run that confirmed it; earlier as-of runs leave it be.
    seen_as_of: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_refund_status_due_on", "status", "due_on"),
        Index("ix_refund_claim_id", "claim_id"),
    )


class Recoupment(Base):
    """Money a payer takes back (or says it will), linked to what it paid."""

    __tablename__ = "recoupment"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(_FINGERPRINT, unique=True)
    reason: Mapped[RecoupmentReason] = mapped_column(
        text_enum(RecoupmentReason, "reason")
    )
    status: Mapped[RecoupmentStatus] = mapped_column(
        text_enum(RecoupmentStatus, "status")
    )
    payer_id: Mapped[str | None] = mapped_column(String(80))
    claim_id: Mapped[str | None] = mapped_column(String(38))  # null: not identified
    original_claim_payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("x12_claim_payment.id")
    )
    original_paid_on: Mapped[dt.date | None]
    amount_cents: Mapped[int] = mapped_column(CentsType)  # taken or to be taken, > 0
    #: The 835 that deferred the recovery (WO −X / FB −X), if any.
    pending_payment_id: Mapped[int | None] = mapped_column(ForeignKey("x12_payment.id"))
    #: The 835 that took the money (netting, WO +X, FB +X).
    offset_payment_id: Mapped[int | None] = mapped_column(ForeignKey("x12_payment.id"))
    offset_trace: Mapped[str | None] = mapped_column(String(50))
    offset_on: Mapped[dt.date | None]
    notice_on: Mapped[dt.date | None]
    reference: Mapped[str | None] = mapped_column(String(50))
    identified_on: Mapped[dt.date]
    response_due_on: Mapped[dt.date | None]
    lookback_status: Mapped[str] = mapped_column(String(24))  # ok, outside, exempt, …
    lookback_note: Mapped[str | None] = mapped_column(String(300))
    original_identified: Mapped[bool]
    exception_id: Mapped[int | None] = mapped_column(ForeignKey("recon_exception.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_by: Mapped[str] = mapped_column(String(120))  # "run" or a person
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("recon_run.id"))
    last_seen_run_id: Mapped[int | None] = mapped_column(ForeignKey("recon_run.id"))
    #: As-of date of the last run that confirmed it; earlier as-of runs leave it be.
    seen_as_of: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_recoupment_status", "status"),
        Index("ix_recoupment_claim_id", "claim_id"),
        Index("ix_recoupment_reference", "reference"),
    )


class AuditEvent(Base):
    """One change to an exception, refund or recoupment: who, when, from → to, why.

    Append-only (database triggers refuse UPDATE and DELETE). Each event stores the
    hash of the previous one; ``prev_hash`` is unique, so the chain cannot fork, and
    ``reconcile audit verify`` recomputes it to find an edited or missing event.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    entity: Mapped[AuditEntity] = mapped_column(text_enum(AuditEntity, "entity"))
    entity_id: Mapped[int] = mapped_column(IdType)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(String(2000))
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("recon_run.id"))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_audit_event_entity_entity_id", "entity", "entity_id"),)
