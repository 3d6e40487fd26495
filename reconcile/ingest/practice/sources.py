"""The four practice sources: what each reads, where it writes, how it counts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table

from reconcile.categories import SourceKind
from reconcile.db.tables import (
    BankDeposit,
    ExpectedClaim,
    ExpectedClaimVersion,
    LedgerEntry,
    PatientPayment,
)
from reconcile.ingest.practice.specs import CLAIMS, DEPOSITS, LEDGER, PATIENT_PAYMENTS
from reconcile.ingest.practice.staging import table_of
from reconcile.ingest.tabular.spec import TableSpec


@dataclass(frozen=True)
class PracticeSource:
    """One kind of practice file."""

    kind: SourceKind
    spec: TableSpec
    #: The key of the outcome's ``counts`` (DESIGN.md).
    count_key: str
    #: The table written; claims write versions and current values instead.
    target: Table | None
    #: Tables to ANALYZE after a load.
    tables: tuple[str, ...]
    #: Staged text columns that only some formats fill: (name, length).
    extra: tuple[tuple[str, int], ...] = ()

    @property
    def key_target(self) -> str:
        """The table column holding the key unique inside a file."""
        return self.spec.column(self.spec.key).target


CLAIMS_SOURCE = PracticeSource(
    kind=SourceKind.CLAIMS,
    spec=CLAIMS,
    count_key="claims",
    target=None,
    tables=(ExpectedClaimVersion.__tablename__, ExpectedClaim.__tablename__),
)
DEPOSITS_SOURCE = PracticeSource(
    kind=SourceKind.DEPOSITS,
    spec=DEPOSITS,
    count_key="deposits",
    target=table_of(BankDeposit),
    tables=(BankDeposit.__tablename__,),
    extra=(("originator_id", 10),),
)
PATIENT_PAYMENTS_SOURCE = PracticeSource(
    kind=SourceKind.PATIENT_PAYMENTS,
    spec=PATIENT_PAYMENTS,
    count_key="patient_payments",
    target=table_of(PatientPayment),
    tables=(PatientPayment.__tablename__,),
)
LEDGER_SOURCE = PracticeSource(
    kind=SourceKind.LEDGER,
    spec=LEDGER,
    count_key="postings",
    target=table_of(LedgerEntry),
    tables=(LedgerEntry.__tablename__,),
)

SOURCES = {
    source.kind: source
    for source in (
        CLAIMS_SOURCE,
        DEPOSITS_SOURCE,
        PATIENT_PAYMENTS_SOURCE,
        LEDGER_SOURCE,
    )
}
