"""A sink that counts what a file would load, skipping payments seen before.

The duplicate key of a payment is (TRN03, TRN02, BPR02, payment date). A payment
whose key appeared earlier in the same file is skipped and counted in ``skipped``;
the loader also skips keys already in the database (:meth:`CountingSink.known`).
``--check`` uses this sink as it is.
"""

from __future__ import annotations

from reconcile.ingest.outcome import LoadResult, Problem
from reconcile.ingest.x12.reader import ReadResult
from reconcile.ingest.x12.records import (
    ClaimPayment,
    PaymentEnd,
    PaymentHeader,
    ProviderAdjustment,
)
from reconcile.ingest.x12.rows import COUNT_KEYS

DedupeKey = tuple[str, str, int, str]


class CountingSink:
    """Counts payments, claims, lines and adjustments; skips duplicate payments."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(COUNT_KEYS.values(), 0)
        self.skipped = 0
        #: Whether the current payment is being kept (not a duplicate).
        self.keeping = False
        #: Whether a payment with balancing faults was kept.
        self.kept_unbalanced = False
        self._seen: set[DedupeKey] = set()

    def known(self, key: DedupeKey) -> bool:
        """Whether a payment with this key was loaded before (by another file)."""
        return False

    def begin_payment(self, header: PaymentHeader) -> None:
        """Keep the payment unless its key was seen before."""
        key = header.dedupe_key
        if key in self._seen or self.known(key):
            self.skipped += 1
            self.keeping = False
            return
        self._seen.add(key)
        self.keeping = True
        self.counts["payments"] += 1

    def claim(self, claim: ClaimPayment) -> None:
        """Count a claim of a kept payment, with its lines and adjustments."""
        if not self.keeping:
            return
        counts = self.counts
        lines = claim.lines
        adjustments = len(claim.adjustments)
        for line in lines:
            adjustments += len(line.adjustments)
        counts["claims"] += 1
        counts["service_lines"] += len(lines)
        counts["adjustments"] += adjustments

    def provider_adjustment(self, adjustment: ProviderAdjustment) -> None:
        """Count a PLB pair of a kept payment."""
        if self.keeping:
            self.counts["provider_adjustments"] += 1

    def end_payment(self, end: PaymentEnd) -> None:
        """Note whether a kept payment was let through unbalanced."""
        if self.keeping and end.balance_problems:
            self.kept_unbalanced = True
        self.keeping = False

    def result(self, read: ReadResult) -> LoadResult:
        """The outcome of a file read through this sink."""
        warnings = list(read.warnings)
        warnings.extend(
            Problem(
                f"loaded although unbalanced (--allow-unbalanced): {p.reason}",
                segment=p.segment,
                segment_id=p.segment_id,
            )
            for p in read.unbalanced
        )
        return LoadResult(
            counts=dict(self.counts),
            skipped=self.skipped,
            warnings=warnings,
            allowed_unbalanced=self.kept_unbalanced,
        )
