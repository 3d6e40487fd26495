"""The public sample 835s (../shared/samples/835): five load with their independently
counted figures, three are rejected for the reasons their README gives.

The samples are not part of the project; these tests skip when the folder is absent
(set RECONCILE_SAMPLES_835 to point elsewhere).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from reconcile.db.tables import X12ClaimPayment, X12Payment, X12ProviderAdjustment
from reconcile.ingest import ImportStatus
from tests.integration.ingest.era_helpers import import_era

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = Path(
    os.environ.get("RECONCILE_SAMPLES_835", ROOT.parent / "shared" / "samples" / "835")
)
pytestmark = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"public 835 samples not found at {SAMPLES}"
)

# file: (ST, claims, ΣCLP04, ΣPLB, ΣBPR02 in cents, paid_on, warnings' words)
LOADS = {
    "lfh__medicare-part-a.835": (
        1,
        2,
        14999873,
        -127,
        15000000,
        dt.date(2002, 9, 13),
        [],
    ),
    "lfh__managed-care.835": (
        1,
        2,
        94500,
        0,
        94500,
        dt.date(2002, 3, 14),
        ["BPR16 (payment date) '20002316' is not a date", "2002-03-14"],
    ),
    "lfh__secondary-payment.835": (
        1,
        2,
        122200,
        0,
        122200,
        dt.date(2005, 4, 12),
        ["BPR16 (payment date) is missing", "2005-04-12", "SVC01 is written with '>'"],
    ),
    "lfh__cob-contractural-adjustment.835": (
        1,
        1,
        3400,
        0,
        3400,
        dt.date(2005, 3, 18),
        ["BPR16 (payment date) is missing", "2005-03-18", "SVC01 is written with '>'"],
    ),
    "pyx12__835_mult_loops.835": (1, 1, 0, 0, 0, dt.date(2004, 10, 28), []),
}

# file: [(segment number, segment id, words of the reason)]
REJECTS = {
    "lfh__tertiary-payment.835": [
        (20, "SVC", "SVC01 has no procedure code"),
        (20, "SVC", "the service line does not balance"),
    ],
    "dbx__sample.835": [
        (43, "SE", "SE01 says 29 segments but the transaction set has 19"),
        (66, "SE", "SE01 says 12 segments but the transaction set has 23"),
        (
            68,
            "IEA",
            "IEA02 control number '100000301' does not match ISA13 '000001508'",
        ),
    ],
    "dbx__sample_services.835": [
        (34, "GE", "GE01 says 3 transaction sets but the group has 1"),
        (35, "IEA", "IEA02 control number '100000301' does not match ISA13"),
    ],
}


class TestPublicSamples:
    @pytest.mark.parametrize("name", sorted(LOADS))
    def test_sample_loads_with_its_figures(
        self, fresh_engine: Engine, name: str
    ) -> None:
        """The sample loads; ST, claims and the three sums equal the README's."""
        transactions, claims, paid, plb, total, paid_on, words = LOADS[name]
        [outcome] = import_era(fresh_engine, SAMPLES / name)
        assert outcome.status is ImportStatus.LOADED, outcome.reason
        with fresh_engine.connect() as conn:
            figures = tuple(
                conn.execute(select(value)).scalar_one()
                for value in (
                    func.count(X12Payment.id),
                    select(func.count(X12ClaimPayment.id)).scalar_subquery(),
                    select(func.sum(X12ClaimPayment.paid_cents)).scalar_subquery(),
                    select(
                        func.coalesce(func.sum(X12ProviderAdjustment.amount_cents), 0)
                    ).scalar_subquery(),
                    func.sum(X12Payment.amount_cents),
                )
            )
            stored_date = conn.execute(select(X12Payment.paid_on)).scalar_one()
        assert figures == (transactions, claims, paid, plb, total)
        assert stored_date == paid_on
        warnings = " | ".join(str(w) for w in outcome.warnings)
        assert all(word in warnings for word in words), warnings
        assert bool(words) == bool(outcome.warnings)

    @pytest.mark.parametrize("name", sorted(REJECTS))
    def test_sample_is_rejected_for_its_faults(
        self, fresh_engine: Engine, name: str
    ) -> None:
        """The invalid sample is rejected, naming each faulty segment and rule."""
        [outcome] = import_era(fresh_engine, SAMPLES / name)
        assert outcome.status is ImportStatus.REJECTED
        found = [(p.segment, p.segment_id, p.reason) for p in outcome.reason]
        for segment, segment_id, words in REJECTS[name]:
            assert any(
                s == segment and i == segment_id and words in r for s, i, r in found
            ), found
        with fresh_engine.connect() as conn:
            assert (
                conn.execute(select(func.count()).select_from(X12Payment)).scalar_one()
                == 0
            )
