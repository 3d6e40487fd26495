"""Every table, importable from one place (and registered on ``Base.metadata``)."""

from reconcile.db.tables.files import SourceFile
from reconcile.db.tables.practice import (
    BankDeposit,
    ExpectedClaim,
    ExpectedClaimVersion,
    LedgerEntry,
    PatientPayment,
)
from reconcile.db.tables.queues import AuditEvent, Recoupment, Refund
from reconcile.db.tables.recon import ReconException, ReconLock, ReconMatch, ReconRun
from reconcile.db.tables.x12 import (
    X12Adjustment,
    X12ClaimPayment,
    X12Payment,
    X12ProviderAdjustment,
    X12ServiceLine,
)

__all__ = [
    "AuditEvent",
    "BankDeposit",
    "ExpectedClaim",
    "ExpectedClaimVersion",
    "LedgerEntry",
    "PatientPayment",
    "ReconException",
    "ReconLock",
    "ReconMatch",
    "ReconRun",
    "Recoupment",
    "Refund",
    "SourceFile",
    "X12Adjustment",
    "X12ClaimPayment",
    "X12Payment",
    "X12ProviderAdjustment",
    "X12ServiceLine",
]
