"""Property: every cent of every source row is accounted for exactly once.

For random small data sets (with deliberate collisions: shared traces, amounts and
claim ids), after a run each row is in exactly one of: matched, the subject of an
exception, or still inside its grace period (pending) — per dimension:

- 835 claim payments ↔ claims: grouped, or ``unmatched_remittance``;
- 835 claim payments ↔ ledger (money moved): posted, ``not_posted``, or pending;
- 835 payments ↔ deposits (money moved): deposited, ``era_without_deposit``, pending;
- deposits: tied to an 835, ``deposit_without_era``, or pending;
- patient payments: posted, ``not_posted``, or pending;
- payment postings: tied to a payment, ``posting_without_payment``, or pending.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, select

from reconcile.categories import LedgerKind, Pairing
from reconcile.context import latest_day_past
from reconcile.db.engine import make_engine
from reconcile.db.tables import (
    BankDeposit,
    LedgerEntry,
    PatientPayment,
    ReconException,
    ReconMatch,
    X12ClaimPayment,
    X12Payment,
)
from reconcile.periods import RunWindow
from tests.factories import (
    make_claim,
    make_claim_payment,
    make_deposit,
    make_ledger_entry,
    make_patient_payment,
    make_payment,
)
from tests.helpers import run

CLAIMS = ["C0", "C1", "C2", "C3"]
TRACES = ["T0", "T1", "T2"]
AMOUNTS = [0, 500, 1_000, 10_000, -1_000]
PAYERS = ["AETNA", "CIGNA"]
ACCOUNTS = ["A0", "A1"]
KINDS = [LedgerKind.INSURANCE_PAYMENT, LedgerKind.PATIENT_PAYMENT]
days = st.dates(min_value=dt.date(2024, 2, 20), max_value=dt.date(2024, 4, 5))

dataset = st.fixed_dictionaries(
    {
        "claims": st.lists(
            st.tuples(st.sampled_from(CLAIMS), st.sampled_from(PAYERS), days),
            max_size=4,
            unique_by=lambda t: t[0],
        ),
        "payments": st.lists(
            st.tuples(
                st.sampled_from(TRACES), st.sampled_from([*PAYERS, "OTHER"]), days,
                st.lists(
                    st.tuples(
                        st.sampled_from([*CLAIMS, "ZZ"]), st.sampled_from(AMOUNTS),
                        st.sampled_from(["1", "2", "4", "22"]),
                    ),
                    min_size=1, max_size=3,
                ),
            ),
            max_size=4,
        ),
        "deposits": st.lists(
            st.tuples(st.sampled_from([*TRACES, None]), st.sampled_from(AMOUNTS), days),
            max_size=4,
        ),
        "patient": st.lists(
            st.tuples(st.sampled_from(ACCOUNTS), st.sampled_from(AMOUNTS), days),
            max_size=3,
        ),
        "ledger": st.lists(
            st.tuples(
                st.sampled_from(list(KINDS)),
                st.sampled_from([*CLAIMS, None]), st.sampled_from([*TRACES, None]),
                st.sampled_from(AMOUNTS), days, st.sampled_from(ACCOUNTS),
            ),
            max_size=5,
        ),
        "as_of": st.sampled_from(
            [dt.date(2024, 3, 10), dt.date(2024, 3, 31), dt.date(2024, 4, 3)]
        ),
    }
)  # fmt: skip


def _load(conn: Connection, data: dict[str, Any]) -> None:
    for claim_id, payer, submitted in data["claims"]:
        make_claim(
            conn, claim_id=claim_id, payer_id=payer, submitted_on=submitted,
            patient_account="A0",
        )  # fmt: skip
    for index, (trace, payer, paid_on, lines) in enumerate(data["payments"]):
        total = sum(amount for _, amount, _ in lines)
        payment = make_payment(
            conn, trace_number=trace, payer_ref_2u=payer, paid_on=paid_on,
            amount_cents=max(total, 0), originator_id=f"1{index:09d}",
        )  # fmt: skip
        for claim_id, amount, status in lines:
            make_claim_payment(
                conn, payment_id=payment, claim_id=claim_id, paid_cents=amount,
                status_code=status,
            )  # fmt: skip
    for trace, amount, deposit_on in data["deposits"]:
        make_deposit(
            conn, trace_number=trace, amount_cents=amount, deposit_on=deposit_on
        )
    for account, amount, received in data["patient"]:
        make_patient_payment(
            conn, patient_account=account, amount_cents=amount, received_on=received,
            reference=None, claim_id=None,
        )  # fmt: skip
    for kind, claim_id, reference, amount, posted, account in data["ledger"]:
        make_ledger_entry(
            conn, kind=kind, claim_id=claim_id, reference=reference,
            amount_cents=amount, posted_on=posted, patient_account=account,
            payer_id="AETNA" if kind == LedgerKind.INSURANCE_PAYMENT else None,
        )  # fmt: skip


def _matched(conn: Connection, pairing: Pairing, side: str) -> set[int]:
    column = ReconMatch.left_id if side == "left" else ReconMatch.right_id
    return set(
        conn.execute(select(column).where(ReconMatch.pairing == pairing)).scalars()
    )


def _subjects(conn: Connection, kind: str, table: str) -> list[int]:
    e = ReconException
    return list(
        conn.execute(
            select(e.subject_id).where(
                e.kind == kind, e.status == "open", e.subject_table == table
            )
        ).scalars()
    )


def _check(
    rows: dict[int, dt.date], matched: set[int], excepted: list[int], cutoff: dt.date
) -> None:
    """Each visible row in exactly one bucket: matched, excepted, or pending (which
    only a row still inside its grace period may be)."""
    counts = Counter(excepted)
    assert all(n == 1 for n in counts.values()), "a row has two exceptions"
    assert set(counts) <= set(rows), "an exception about an invisible row"
    for row_id, day in rows.items():
        is_matched, is_excepted = row_id in matched, row_id in counts
        assert not (is_matched and is_excepted), (row_id, "matched and excepted")
        if not is_matched:
            assert is_excepted == (day <= cutoff), (row_id, day, cutoff, is_excepted)


@settings(max_examples=40, deadline=None)
@given(data=dataset)
def test_every_cent_is_accounted_for_once(scratch, data: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    """Each source row lands in exactly one of matched / exception / pending."""
    engine: Engine = make_engine(scratch.new_url())
    try:
        with engine.begin() as conn:
            _load(conn, data)
        as_of = data["as_of"]
        run(engine, window=RunWindow(as_of.replace(day=1), as_of))
        era_cutoff = latest_day_past(as_of, 3)
        posting_cutoff = as_of - dt.timedelta(days=5)
        with engine.connect() as conn:
            cp, p = X12ClaimPayment, X12Payment
            remits = conn.execute(
                select(cp.id, cp.paid_cents, p.paid_on)
                .join(p, p.id == cp.payment_id)
                .where(p.paid_on <= as_of)
            ).all()
            # Claim dimension: no grace period.
            _check(
                {r.id: as_of for r in remits},
                _matched(conn, Pairing.CLAIM_REMIT, "right"),
                _subjects(conn, "unmatched_remittance", "x12_claim_payment"),
                as_of,
            )
            _check(
                {r.id: r.paid_on for r in remits if r.paid_cents != 0},
                _matched(conn, Pairing.REMIT_POSTING, "left"),
                _subjects(conn, "not_posted", "x12_claim_payment"),
                posting_cutoff,
            )
            eras = conn.execute(
                select(p.id, p.paid_on).where(
                    p.paid_on <= as_of, p.amount_cents > 0, p.handling_code != "H"
                )
            ).all()
            _check(
                {r.id: r.paid_on for r in eras},
                _matched(conn, Pairing.ERA_DEPOSIT, "left"),
                _subjects(conn, "era_without_deposit", "x12_payment"),
                era_cutoff,
            )
            d = BankDeposit
            deposits = conn.execute(
                select(d.id, d.deposit_on).where(d.deposit_on <= as_of)
            ).all()
            _check(
                {r.id: r.deposit_on for r in deposits},
                _matched(conn, Pairing.ERA_DEPOSIT, "right"),
                _subjects(conn, "deposit_without_era", "bank_deposit"),
                era_cutoff,
            )
            pay = PatientPayment
            patients = conn.execute(
                select(pay.id, pay.received_on).where(
                    pay.received_on <= as_of, pay.amount_cents != 0
                )
            ).all()
            _check(
                {r.id: r.received_on for r in patients},
                _matched(conn, Pairing.PATIENT_POSTING, "left"),
                _subjects(conn, "not_posted", "patient_payment"),
                posting_cutoff,
            )
            le = LedgerEntry
            postings = conn.execute(
                select(le.id, le.posted_on).where(
                    le.posted_on <= as_of, le.amount_cents != 0
                )
            ).all()
            _check(
                {r.id: r.posted_on for r in postings},
                _matched(conn, Pairing.REMIT_POSTING, "right")
                | _matched(conn, Pairing.PATIENT_POSTING, "right"),
                _subjects(conn, "posting_without_payment", "ledger_entry"),
                posting_cutoff,
            )
    finally:
        engine.dispose()
