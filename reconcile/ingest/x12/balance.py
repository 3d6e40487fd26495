"""The 835 balancing equations (835 reference §1.4), as sentences when they fail.

- line: SVC02 − ΣCAS(2110) = SVC03
- claim: CLP03 − ΣCAS(2100) − ΣCAS(2110) = CLP04
- transaction: ΣCLP04 − ΣPLB = BPR02

AMT and QTY are outside the balance. Amounts are cents with the 835's sign.
"""

from __future__ import annotations

from reconcile.money import format_dollars


def line_fault(*, charge: int, adjustments: int, paid: int) -> str | None:
    """Return why a service line does not balance, or None when it does."""
    if charge - adjustments == paid:
        return None
    return (
        "the service line does not balance: SVC02 − ΣCAS = "
        f"{format_dollars(charge)} − {format_dollars(adjustments)} = "
        f"{format_dollars(charge - adjustments)}, but SVC03 is {format_dollars(paid)}"
    )


def claim_fault(
    *, charge: int, claim_adjustments: int, line_adjustments: int, paid: int
) -> str | None:
    """Return why a claim does not balance, or None when it does."""
    expected = charge - claim_adjustments - line_adjustments
    if expected == paid:
        return None
    return (
        "the claim does not balance: CLP03 − ΣCAS(claim) − ΣCAS(lines) = "
        f"{format_dollars(charge)} − {format_dollars(claim_adjustments)} − "
        f"{format_dollars(line_adjustments)} = {format_dollars(expected)}, "
        f"but CLP04 is {format_dollars(paid)}"
    )


def transaction_fault(
    *, claims_paid: int, provider_adjustments: int, total: int
) -> str | None:
    """Return why a payment does not balance, or None when it does."""
    expected = claims_paid - provider_adjustments
    if expected == total:
        return None
    return (
        "the payment does not balance: ΣCLP04 − ΣPLB = "
        f"{format_dollars(claims_paid)} − {format_dollars(provider_adjustments)} = "
        f"{format_dollars(expected)}, but BPR02 is {format_dollars(total)}"
    )
