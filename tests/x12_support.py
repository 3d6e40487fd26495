"""Helpers for 835 tests: a sink that keeps every record, and reading shortcuts."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconcile.ingest.x12.counting import CountingSink
from reconcile.ingest.x12.reader import ReadResult, read_remittance
from reconcile.ingest.x12.records import (
    ClaimPayment,
    PaymentEnd,
    PaymentHeader,
    ProviderAdjustment,
)


@dataclass
class PaymentRecords:
    """What the reader handed out for one payment."""

    header: PaymentHeader
    claims: list[ClaimPayment] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)
    end: PaymentEnd | None = None


class Collector(CountingSink):
    """Keeps every record (and counts like the loader would)."""

    def __init__(self) -> None:
        super().__init__()
        self.payments: list[PaymentRecords] = []

    def begin_payment(self, header: PaymentHeader) -> None:
        super().begin_payment(header)
        self.payments.append(PaymentRecords(header))

    def claim(self, claim: ClaimPayment) -> None:
        super().claim(claim)
        self.payments[-1].claims.append(claim)

    def provider_adjustment(self, adjustment: ProviderAdjustment) -> None:
        super().provider_adjustment(adjustment)
        self.payments[-1].provider_adjustments.append(adjustment)

    def end_payment(self, end: PaymentEnd) -> None:
        super().end_payment(end)
        self.payments[-1].end = end

    @property
    def claims(self) -> list[ClaimPayment]:
        """Every claim handed out, in order."""
        return [c for p in self.payments for c in p.claims]


def read(
    data: bytes | str,
    *,
    allow_unbalanced: bool = False,
    chunk_size: int = 1 << 20,
) -> tuple[Collector, ReadResult]:
    """Read 835 bytes (or text, as UTF-8); raise FileRejected like the reader."""
    raw = data.encode() if isinstance(data, str) else data
    sink = Collector()
    result = read_remittance(
        io.BytesIO(raw),
        sink=sink,
        allow_unbalanced=allow_unbalanced,
        chunk_size=chunk_size,
    )
    return sink, result


def _plain(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def summary(path: Path, *, allow_unbalanced: bool = False) -> dict[str, Any]:
    """Everything the reader hands out for a file, as plain JSON data (golden)."""
    sink, result = read(path.read_bytes(), allow_unbalanced=allow_unbalanced)
    outcome = sink.result(result)
    return {
        "counts": outcome.counts,
        "skipped": outcome.skipped,
        "warnings": [str(w) for w in outcome.warnings],
        "payments": [
            {
                "header": _plain(p.header),
                "claims": [
                    {**_plain(c), "extra": json.loads(c.extra)} for c in p.claims
                ],
                "provider_adjustments": _plain(p.provider_adjustments),
                "end": _plain(p.end),
            }
            for p in sink.payments
        ],
    }
