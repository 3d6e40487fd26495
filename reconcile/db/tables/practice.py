"""The practice's own data: expected claims, bank deposits, patient payments, ledger.

Every row records the file and line it came from. Deposits, patient payments and
ledger postings are deduplicated by their ids (a unique key). Claims have versions: a
newer export of a known claim adds an ``expected_claim_version`` row and moves the
claim's current values in ``expected_claim``; the versions keep which file said what.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reconcile.categories import LedgerKind
from reconcile.db.base import Base, CentsType, IdType, text_enum

_KEY = String(64)
_ID = String(80)
_NAME = String(120)


class _ClaimValues:
    """The columns a claims export gives for one claim."""

    payer_id: Mapped[str] = mapped_column(_ID)  # the practice's own payer code
    payer_name: Mapped[str | None] = mapped_column(_NAME)
    patient_account: Mapped[str | None] = mapped_column(_ID)
    provider_npi: Mapped[str | None] = mapped_column(String(10))
    service_on: Mapped[dt.date]
    billed_cents: Mapped[int] = mapped_column(CentsType)
    expected_cents: Mapped[int] = mapped_column(CentsType)  # this payer, by contract
    expected_patient_cents: Mapped[int | None] = mapped_column(CentsType)
    submitted_on: Mapped[dt.date]


class ExpectedClaimVersion(_ClaimValues, Base):
    """What one claims file said about one claim (immutable history)."""

    __tablename__ = "expected_claim_version"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    source_file_id: Mapped[int] = mapped_column(ForeignKey("source_file.id"))
    line_number: Mapped[int]
    claim_id: Mapped[str] = mapped_column(String(38))  # CLM01, echoed in CLP01
    version: Mapped[int]  # 1 for the first file that named the claim

    __table_args__ = (UniqueConstraint("claim_id", "version"),)


class ExpectedClaim(_ClaimValues, Base):
    """A claim the practice billed, with the values of its newest version."""

    __tablename__ = "expected_claim"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(38), unique=True)
    version: Mapped[int]
    version_id: Mapped[int] = mapped_column(ForeignKey("expected_claim_version.id"))

    __table_args__ = (
        Index("ix_expected_claim_payer_id", "payer_id"),
        Index("ix_expected_claim_submitted_on", "submitted_on"),
        Index("ix_expected_claim_patient_account", "patient_account"),
    )


class BankDeposit(Base):
    """A credit to the practice's bank account (BAI2 detail, or a row of a CSV/XLSX)."""

    __tablename__ = "bank_deposit"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    source_file_id: Mapped[int] = mapped_column(ForeignKey("source_file.id"))
    line_number: Mapped[int]
    deposit_id: Mapped[str] = mapped_column(_KEY, unique=True)
    deposit_on: Mapped[dt.date]
    amount_cents: Mapped[int] = mapped_column(CentsType)
    #: EFT trace (TRN02 from the CCD+ addenda) or check number.
    trace_number: Mapped[str | None] = mapped_column(String(50))
    #: TRN03 from the CCD+ addenda (1 + payer EIN), when the bank passed it on.
    originator_id: Mapped[str | None] = mapped_column(String(10))
    payer_name: Mapped[str | None] = mapped_column(_NAME)
    account: Mapped[str | None] = mapped_column(String(35))

    __table_args__ = (
        Index("ix_bank_deposit_trace_number", "trace_number"),
        Index("ix_bank_deposit_deposit_on", "deposit_on"),
    )


class PatientPayment(Base):
    """Money a patient paid the practice."""

    __tablename__ = "patient_payment"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    source_file_id: Mapped[int] = mapped_column(ForeignKey("source_file.id"))
    line_number: Mapped[int]
    payment_id: Mapped[str] = mapped_column(_KEY, unique=True)
    received_on: Mapped[dt.date]
    patient_account: Mapped[str] = mapped_column(_ID)
    claim_id: Mapped[str | None] = mapped_column(String(38))
    amount_cents: Mapped[int] = mapped_column(CentsType)
    method: Mapped[str | None] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(50))

    __table_args__ = (
        Index("ix_patient_payment_patient_account", "patient_account"),
        Index("ix_patient_payment_claim_id", "claim_id"),
        Index("ix_patient_payment_received_on", "received_on"),
    )


class LedgerEntry(Base):
    """A posting in the practice-management system's ledger, signed as there."""

    __tablename__ = "ledger_entry"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    source_file_id: Mapped[int] = mapped_column(ForeignKey("source_file.id"))
    line_number: Mapped[int]
    entry_id: Mapped[str] = mapped_column(_KEY, unique=True)
    posted_on: Mapped[dt.date]
    claim_id: Mapped[str | None] = mapped_column(String(38))
    patient_account: Mapped[str | None] = mapped_column(_ID)
    payer_id: Mapped[str | None] = mapped_column(_ID)  # empty for patient money
    kind: Mapped[LedgerKind] = mapped_column(text_enum(LedgerKind, "kind"))
    amount_cents: Mapped[int] = mapped_column(CentsType)  # money out is negative
    reference: Mapped[str | None] = mapped_column(String(50))

    __table_args__ = (
        Index("ix_ledger_entry_claim_id", "claim_id"),
        Index("ix_ledger_entry_posted_on", "posted_on"),
        # Refund and recoupment postings are few among a million payment postings.
        Index("ix_ledger_entry_kind_posted_on", "kind", "posted_on"),
        Index("ix_ledger_entry_reference", "reference"),
        Index("ix_ledger_entry_patient_account", "patient_account"),
    )
