"""Reading files into the source tables: 835 remittances, claims, deposits, patient
payments and ledger postings. Each file loads whole or not at all."""

from reconcile.ingest.outcome import (
    MAX_PROBLEMS,
    FileOutcome,
    FileRejected,
    ImportStatus,
    LoadResult,
    Problem,
)

__all__ = [
    "MAX_PROBLEMS",
    "FileOutcome",
    "FileRejected",
    "ImportStatus",
    "LoadResult",
    "Problem",
]
