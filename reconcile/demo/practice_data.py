"""Synthetic practice data: claims, deposits, patient payments and ledger postings.

Deterministic for a seed, realistic in shape (a few payers with their own contract
rates, a fee schedule, service dates over a year, submission a few days after
service), and free of real people: accounts, names and NPIs are made up (the NPIs
carry a valid check digit so the reader accepts them). Rows are mappings of
canonical columns, as :mod:`reconcile.demo.tabular_writer` writes them.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from reconcile.categories import LedgerKind


@dataclass(frozen=True)
class Payer:
    """A payer as the practice codes it, and its contract rate (percent of billed)."""

    id: str
    name: str
    rate_percent: int
    originator: str  # TRN03 of its EFTs: 1 + EIN


PAYERS = (
    Payer("MCR", "MEDICARE PART B", 62, "1999999991"),
    Payer("AETNA", "AETNA", 71, "1066033492"),
    Payer("BCBS", "BLUE CROSS BLUE SHIELD", 68, "1570000001"),
    Payer("UHC", "UNITEDHEALTHCARE", 70, "1411289245"),
    Payer("MCD", "STATE MEDICAID", 48, "1646000001"),
)

#: Charges in cents of common office services (E/M visits, injections, labs).
FEE_SCHEDULE = (7_500, 12_000, 16_500, 22_000, 3_000, 4_500, 1_800, 25_000)


def npi(nine_digits: str) -> str:
    """Return the NPI made of ``nine_digits`` and its Luhn check digit.

    Raises:
        ValueError: ``nine_digits`` is not nine digits.
    """
    if len(nine_digits) != 9 or not nine_digits.isdigit():
        raise ValueError("an NPI starts with nine digits")
    total = 0
    # Luhn over "80840" + the nine digits, as if the check digit followed them.
    for position, char in enumerate(reversed("80840" + nine_digits)):
        digit = int(char)
        if position % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return nine_digits + str((10 - total % 10) % 10)


PROVIDERS = tuple(npi(f"1{n:08d}") for n in (1, 20, 333, 4_444, 55_555))


def claims(*, count: int, seed: int, first_day: dt.date) -> Iterator[dict[str, object]]:
    """Yield ``count`` claims with service dates over the year from ``first_day``."""
    rng = random.Random(seed)
    for number in range(1, count + 1):
        payer = rng.choice(PAYERS)
        billed = rng.choice(FEE_SCHEDULE)
        expected = billed * payer.rate_percent // 100
        patient = (billed - expected) // 5
        service = first_day + dt.timedelta(days=rng.randrange(365))
        yield {
            "claim_id": f"CLM{seed:03d}{number:08d}",
            "payer_id": payer.id,
            "payer_name": payer.name,
            "patient_account": f"PA{rng.randrange(1, 10**7):07d}",
            "provider_npi": rng.choice(PROVIDERS),
            "service_date": service,
            "billed_amount": billed,
            "expected_amount": expected,
            "expected_patient_amount": patient,
            "submitted_on": service + dt.timedelta(days=rng.randrange(1, 8)),
        }


def deposits(
    *, count: int, seed: int, first_day: dt.date
) -> Iterator[dict[str, object]]:
    """Yield ``count`` EFT deposits, one per business-like day, with their traces."""
    rng = random.Random(seed)
    for number in range(1, count + 1):
        payer = rng.choice(PAYERS)
        yield {
            "deposit_id": f"DEP{seed:03d}{number:07d}",
            "deposit_date": first_day + dt.timedelta(days=number // 3),
            "amount": rng.randrange(5_000, 2_500_000),
            "trace_number": f"EFT{seed:03d}{number:09d}",
            "payer_name": payer.name,
            "account": "4411223344",
        }


def patient_payments(
    *, count: int, seed: int, first_day: dt.date
) -> Iterator[dict[str, object]]:
    """Yield ``count`` patient payments, some tied to a claim."""
    rng = random.Random(seed)
    methods = ("card", "cash", "check", "portal")
    for number in range(1, count + 1):
        method = rng.choice(methods)
        yield {
            "payment_id": f"PP{seed:03d}{number:07d}",
            "received_on": first_day + dt.timedelta(days=rng.randrange(365)),
            "patient_account": f"PA{rng.randrange(1, 10**7):07d}",
            "claim_id": f"CLM{seed:03d}{number:08d}" if rng.random() < 0.7 else None,
            "amount": rng.choice((2_000, 2_500, 4_000, 5_000, 12_345)),
            "method": method,
            "reference": f"CHK{number:06d}" if method == "check" else None,
        }


def ledger(*, count: int, seed: int, first_day: dt.date) -> Iterator[dict[str, object]]:
    """Yield ``count`` ledger postings of every kind, signed as a ledger signs them."""
    rng = random.Random(seed)
    kinds = tuple(LedgerKind)
    for number in range(1, count + 1):
        kind = kinds[number % len(kinds)]
        payer = rng.choice(PAYERS)
        amount = rng.randrange(100, 50_000)
        money_out = kind in (LedgerKind.REFUND, LedgerKind.RECOUPMENT)
        if money_out or (kind is LedgerKind.ADJUSTMENT and rng.random() < 0.5):
            amount = -amount
        patient_money = kind is LedgerKind.PATIENT_PAYMENT
        yield {
            "entry_id": f"LE{seed:03d}{number:08d}",
            "posted_on": first_day + dt.timedelta(days=rng.randrange(365)),
            "claim_id": f"CLM{seed:03d}{number:08d}",
            "patient_account": f"PA{rng.randrange(1, 10**7):07d}",
            "payer_id": None if patient_money else payer.id,
            "kind": kind.value,
            "amount": amount,
            "reference": f"EFT{seed:03d}{number:09d}",
        }
