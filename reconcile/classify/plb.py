"""Provider-level adjustments (PLB): netting entries that belong together, and reading
the reference a payer writes in PLB03-2.

Netting (835 reference §1.6), per 835 payment and reference:

- ``WO`` +X with ``72`` −X acknowledges a refund the practice sent: net 0, not a new
  recoupment;
- ``WO`` +X otherwise is money taken now; ``WO`` −X hands a reversal's debit back until
  later (deferred recovery);
- ``FB`` −X carries a negative balance forward (the money is taken later, by the ``FB``
  +X that references this 835's TRN02); ``FB`` +X with ``B2`` −X nets to 0;
- ``72`` −X left over acknowledges a refund against a reversal in the same 835.

Amounts keep the 835 sign: positive reduces the payment.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from reconcile.settings import PlbReferenceLayout


@dataclass(frozen=True)
class PlbEntry:
    """One PLB reason/reference/amount of a visible 835 payment."""

    payment_id: int
    paid_on: dt.date
    trace: str
    originator: str
    payer_id: str | None
    reason: str
    reference: str | None
    amount_cents: int


@dataclass(frozen=True)
class NettedReference:
    """The PLB entries of one payment and one reference, netted (all ≥ 0)."""

    payment_id: int
    paid_on: dt.date
    trace: str
    originator: str
    payer_id: str | None
    reference: str
    taken_cents: int  # WO +X not acknowledging a refund: money taken now
    deferred_cents: int  # WO −X: recovery handed back until later
    acknowledged_cents: int  # WO +X paired with 72 −X: a refund acknowledged
    refund_returned_cents: int  # 72 −X left over: acknowledges a reversal's take
    carried_cents: int  # FB −X: negative balance carried to a later 835
    applied_cents: int  # FB +X (net of B2 −X): a carried balance taken now


def net_entries(entries: Iterable[PlbEntry]) -> list[NettedReference]:
    """Net the entries of each (payment, reference), in payment order."""
    groups: dict[tuple[int, str], list[PlbEntry]] = {}
    for entry in entries:
        groups.setdefault((entry.payment_id, entry.reference or ""), []).append(entry)
    netted = []
    for (_, reference), group in groups.items():

        def total(reason: str, sign: int, group: list[PlbEntry] = group) -> int:
            return sum(
                e.amount_cents
                for e in group
                if e.reason == reason and (e.amount_cents > 0) == (sign > 0)
            )

        wo_plus, wo_minus = total("WO", 1), -total("WO", -1)
        returned = -(total("72", -1) + total("72", 1))  # 72 is normally negative
        fb_plus, fb_minus = total("FB", 1), -total("FB", -1)
        b2 = -(total("B2", -1) + total("B2", 1))
        acknowledged = min(wo_plus, max(returned, 0))
        first = group[0]
        netted.append(
            NettedReference(
                payment_id=first.payment_id,
                paid_on=first.paid_on,
                trace=first.trace,
                originator=first.originator,
                payer_id=first.payer_id,
                reference=reference,
                taken_cents=wo_plus - acknowledged,
                deferred_cents=wo_minus,
                acknowledged_cents=acknowledged,
                refund_returned_cents=max(returned - acknowledged, 0),
                carried_cents=fb_minus,
                applied_cents=max(fb_plus - max(b2, 0), 0),
            )
        )
    return sorted(netted, key=lambda n: (n.paid_on, n.payment_id, n.reference))


@dataclass(frozen=True)
class ReferenceParts:
    """What a PLB reference may name: a payer claim control number and/or a claim."""

    control_numbers: tuple[str, ...]
    claim_ids: tuple[str, ...]


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]*")


def parse_reference(reference: str, layout: PlbReferenceLayout) -> ReferenceParts:
    """Read a PLB03-2 reference by the payer's layout.

    - ``medicare`` (CR7499): positions 1–19 the FCN or claim control number, 20–39 the
      patient control number;
    - ``medicare_dme``: 1–14 the FCN, 15–29 the adjustment claim control number;
    - ``generic``: every token may be a CLP01 or a CLP07 (X12 recommends CLP01, CLP07
      and TRN02 in that order, RFI 2370); the caller looks them up.
    """
    tokens = tuple(_TOKEN.findall(reference))
    if layout is PlbReferenceLayout.MEDICARE:
        control = reference[:19].strip()
        claim = reference[19:39].strip()
        return ReferenceParts(
            control_numbers=(control,) if control else (),
            claim_ids=(claim,) if claim else (),
        )
    if layout is PlbReferenceLayout.MEDICARE_DME:
        fcn, control = reference[:14].strip(), reference[14:29].strip()
        return ReferenceParts(
            control_numbers=tuple(c for c in (control, fcn) if c), claim_ids=()
        )
    return ReferenceParts(control_numbers=tokens, claim_ids=tokens)
