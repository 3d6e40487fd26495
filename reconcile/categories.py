"""The product's vocabulary: every category stored in the database, as ``StrEnum``.

Values are stable identifiers (stored, printed in JSON, used as workbook sheet keys):
add new ones, never rename one.
"""

from __future__ import annotations

import enum


class SourceKind(enum.StrEnum):
    """What an imported file holds."""

    ERA = "era"
    CLAIMS = "claims"
    DEPOSITS = "deposits"
    PATIENT_PAYMENTS = "patient_payments"
    LEDGER = "ledger"


class SourceStatus(enum.StrEnum):
    """Whether an imported file's rows are in the database."""

    LOADED = "loaded"
    REJECTED = "rejected"


class RunTrigger(enum.StrEnum):
    """Who started a run."""

    MANUAL = "manual"
    NIGHTLY = "nightly"


class RunStatus(enum.StrEnum):
    """Where a run is in its life."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABANDONED = "abandoned"


class ExceptionKind(enum.StrEnum):
    """A condition accounting must look at (DESIGN.md, exception kinds)."""

    UNDERPAID = "underpaid"
    OVERPAID = "overpaid"
    DUPLICATE_PAYMENT = "duplicate_payment"
    COB_OVERLAP = "cob_overlap"
    PATIENT_OVERPAID = "patient_overpaid"
    DENIED = "denied"
    REVERSAL_UNCORRECTED = "reversal_uncorrected"
    RECOUPMENT = "recoupment"
    REFUND_RECOUPED = "refund_recouped"
    UNMATCHED_REMITTANCE = "unmatched_remittance"
    UNPAID_CLAIM = "unpaid_claim"
    ERA_WITHOUT_DEPOSIT = "era_without_deposit"
    DEPOSIT_WITHOUT_ERA = "deposit_without_era"
    DEPOSIT_AMOUNT_MISMATCH = "deposit_amount_mismatch"
    NOT_POSTED = "not_posted"
    POSTING_MISMATCH = "posting_mismatch"
    POSTING_WITHOUT_PAYMENT = "posting_without_payment"
    UNBALANCED_REMITTANCE = "unbalanced_remittance"


class ExceptionStatus(enum.StrEnum):
    """An exception is open until a run finds its condition gone or a person decides."""

    OPEN = "open"
    RESOLVED = "resolved"


class Decision(enum.StrEnum):
    """What a person decided about an exception."""

    RESOLVED = "resolved"
    WRITE_OFF = "write_off"
    APPEAL = "appeal"
    DISMISSED = "dismissed"


class PayeeKind(enum.StrEnum):
    """Who a refund goes to."""

    PAYER = "payer"
    PATIENT = "patient"


class RefundReason(enum.StrEnum):
    """Why the practice owes money back."""

    OVERPAID = "overpaid"
    DUPLICATE_PAYMENT = "duplicate_payment"
    COB_OVERLAP = "cob_overlap"
    PATIENT_OVERPAID = "patient_overpaid"


class RefundStatus(enum.StrEnum):
    """The refund workflow (DESIGN.md)."""

    QUEUED = "queued"
    APPROVED = "approved"
    ISSUED = "issued"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class RecoupmentReason(enum.StrEnum):
    """How a payer takes money back."""

    REVERSAL = "reversal"  # reversal netted against a smaller correction, or none
    PLB_OFFSET = "plb_offset"  # PLB WO (letter first, offset later)
    NOTICE = "notice"  # a notice of intent entered by hand before money moves


class RecoupmentStatus(enum.StrEnum):
    """The recoupment workflow (DESIGN.md)."""

    NOTICED = "noticed"
    PENDING = "pending"
    OFFSET = "offset"
    DISPUTED = "disputed"
    ACCEPTED = "accepted"
    REPAID = "repaid"
    CLOSED = "closed"


class Pairing(enum.StrEnum):
    """What two things a match row ties together (left ↔ right)."""

    CLAIM_REMIT = "claim_remit"  # expected_claim ↔ x12_claim_payment (grouping)
    ERA_DEPOSIT = "era_deposit"  # x12_payment ↔ bank_deposit
    REMIT_POSTING = "remit_posting"  # x12_claim_payment ↔ ledger_entry
    PATIENT_POSTING = "patient_posting"  # patient_payment ↔ ledger_entry
    REFUND_POSTING = "refund_posting"  # refund ↔ ledger_entry
    RECOUPMENT_POSTING = "recoupment_posting"  # recoupment ↔ ledger_entry


#: Pairings where a left row may match many right rows (all others are one-to-one).
GROUPING_PAIRINGS = frozenset({Pairing.CLAIM_REMIT})


class LedgerKind(enum.StrEnum):
    """What a ledger posting records."""

    INSURANCE_PAYMENT = "insurance_payment"
    PATIENT_PAYMENT = "patient_payment"
    ADJUSTMENT = "adjustment"
    REFUND = "refund"
    RECOUPMENT = "recoupment"


class AuditEntity(enum.StrEnum):
    """What an audit event is about."""

    EXCEPTION = "exception"
    REFUND = "refund"
    RECOUPMENT = "recoupment"
