"""Generate a large, valid, balanced 835 file for benchmarks.

N claims of 1-3 service lines each, with CAS at claim and line level, reversals
(CLP02 = 22) followed by their corrections, and PLB pairs (WO/72, L6 interest, FB
forwarding). Deterministic for a seed. Streams through the product's writer, so
memory stays flat for any N::

    python -m benchmarks.generate_835 --claims 100000 --out benchmarks/out/b.835
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

from reconcile.demo.x12_writer import (
    Adjustment,
    Claim,
    Line,
    Patient,
    Payment,
    ProviderAdjustment,
    X12Writer,
    reversal_of,
)

#: (procedure, charge in cents): a small fee schedule, as practices have.
FEES = [
    ("99211", 4500), ("99212", 7800), ("99213", 12500), ("99214", 18500),
    ("99215", 24800), ("99203", 16000), ("99204", 24000), ("36415", 1500),
    ("80053", 4800), ("85025", 3200), ("93000", 6500), ("71046", 11000),
    ("90686", 3800), ("90471", 2900), ("81002", 1200), ("87880", 3300),
    ("97110", 9000), ("97140", 8500), ("20610", 21000), ("11721", 9500),
]  # fmt: skip
PAYERS = [
    ("1512345678", "DEMO HEALTH PLAN", "DEMO01"),
    ("1987654321", "SAMPLE MUTUAL", "SMPL02"),
    ("1555000111", "EXAMPLE CARE", "EXMP03"),
]
LAST_NAMES = ["SMITH", "JONES", "GARCIA", "NGUYEN", "BROWN", "MILLER", "DAVIS"]
FIRST_NAMES = ["ALEX", "SAM", "JORDAN", "TAYLOR", "CASEY", "RILEY", "DREW"]
CLAIMS_PER_PAYMENT = (50, 400)


def _line(rng: random.Random, day: dt.date, control: str) -> Line:
    procedure, charge = rng.choice(FEES)
    allowed = charge * rng.randint(55, 85) // 100
    adjustments = [Adjustment("CO", "45", charge - allowed)]
    patient = 0
    roll = rng.random()
    if roll < 0.3:
        patient = rng.choice((1000, 2000, 3000))
        adjustments.append(Adjustment("PR", "3", min(patient, allowed)))
    elif roll < 0.6:
        patient = allowed * 20 // 100
        adjustments.append(Adjustment("PR", "2", patient))
    elif roll < 0.65:
        adjustments.append(Adjustment("CO", "253", allowed * 2 // 100))
    return Line(
        procedure=procedure,
        charge_cents=charge,
        adjustments=tuple(adjustments),
        modifiers=("25",) if rng.random() < 0.1 else (),
        service_on=day,
        line_control=control,
        allowed_cents=allowed,
        remark_codes=("N130",) if rng.random() < 0.05 else (),
    )


def _claim(rng: random.Random, number: int, day: dt.date) -> Claim:
    lines = tuple(
        _line(rng, day, f"{number}L{i}") for i in range(1, rng.randint(1, 3) + 1)
    )
    adjustments: tuple[Adjustment, ...] = ()
    if rng.random() < 0.2:
        adjustments = (Adjustment("OA", "23", rng.randint(1, 900)),)
    return Claim(
        claim_id=f"PCN{number:09d}",
        lines=lines,
        adjustments=adjustments,
        status="1" if rng.random() < 0.9 else "2",
        payer_control=f"ICN{number:011d}",
        patient=Patient(
            rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES), f"M{number:08d}"
        ),
        statement_from=day,
        statement_to=day,
    )


def payments(claims: int, *, seed: int) -> Iterator[Payment]:
    """Yield balanced payments holding ``claims`` claims in all."""
    rng = random.Random(seed)
    made = 0
    paid_on = dt.date(2024, 1, 2)
    serial = 0
    while made < claims:
        serial += 1
        size = min(claims - made, rng.randint(*CLAIMS_PER_PAYMENT))
        batch: list[Claim] = []
        while len(batch) < size:
            made += 1
            day = paid_on - dt.timedelta(days=rng.randint(10, 60))
            claim = _claim(rng, made, day)
            if rng.random() < 0.03 and len(batch) + 2 <= size:
                # A reversal of an earlier payment, then its correction.
                batch.append(reversal_of(claim, payer_control=f"ICNOLD{made:08d}"))
                made += 1
            batch.append(claim)
        plb: list[ProviderAdjustment] = []
        if rng.random() < 0.3:
            amount = rng.randint(100, 5000)
            reference = f"FCN{serial:08d}"
            plb += [
                ProviderAdjustment("WO", amount, reference),
                ProviderAdjustment("72", -amount, reference),
            ]
        if rng.random() < 0.2:
            plb.append(ProviderAdjustment("L6", -rng.randint(1, 999)))
        total = sum(c.paid for c in batch) - sum(p.amount_cents for p in plb)
        if total < 0:
            plb.append(ProviderAdjustment("FB", total, f"TRN{serial:08d}"))
        originator, payer, payer_id = rng.choice(PAYERS)
        yield Payment(
            trace_number=f"EFT{serial:010d}",
            paid_on=paid_on,
            claims=tuple(batch),
            provider_adjustments=tuple(plb),
            originator_id=originator,
            payer_name=payer,
            payer_id=payer_id,
            method="ACH" if rng.random() < 0.8 else "CHK",
        )
        paid_on += dt.timedelta(days=1 if rng.random() < 0.5 else 0)


def generate(path: Path, *, claims: int, seed: int = 835) -> None:
    """Write an 835 file with ``claims`` claims (two interchanges) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="ascii", newline="") as out:
        writer = X12Writer(out, st03=False)
        interchange = 0
        for payment in payments(claims, seed=seed):
            if interchange == 0 or (
                interchange == 1 and payment.trace_number.endswith("00")
            ):
                if interchange:
                    writer.end_group()
                    writer.end_interchange()
                interchange += 1
                writer.begin_interchange()
                writer.begin_group()
            writer.payment(payment)
        writer.end_group()
        writer.end_interchange()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, required=True)
    parser.add_argument("--seed", type=int, default=835)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    generate(args.out, claims=args.claims, seed=args.seed)


if __name__ == "__main__":
    main()
