"""Property: every cent of every source row is accounted for exactly once.

For random small data sets (with deliberate collisions: shared traces, references,
amounts and claim ids), after a run each row is in exactly one of: matched, the
subject of an exception for its whole amount, or still inside its grace period
(pending, and counted so in the run summary) — per dimension, so that per dimension
the cents in equal matched + excepted + pending cents:

- 835 claim payments ↔ claims: grouped, or ``unmatched_remittance``;
- 835 claim payments ↔ ledger (money moved): posted, ``not_posted``, or pending;
- 835 payments ↔ deposits (money moved): deposited, ``era_without_deposit``, pending;
- deposits: tied to an 835, ``deposit_without_era``, or pending;
- patient payments: posted, ``not_posted``, or pending;
- payment postings: tied to a payment, ``posting_without_payment``, or pending.

Across dimensions: no row is matched twice; a match records its rows' own cents; a
matched pair whose amounts differ is explained by exactly one mismatch exception for
the difference (``deposit_amount_mismatch``, ``posting_mismatch``) and a pair that
agrees by none. A second run of the same window changes no derived row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, func, select

from reconcile.categories import LedgerKind, Pairing
from reconcile.context import latest_day_past
from reconcile.db.engine import make_engine
from reconcile.db.tables import (
    AuditEvent,
    BankDeposit,
    ExpectedClaim,
    LedgerEntry,
    PatientPayment,
    ReconException,
    ReconMatch,
    ReconRun,
    Recoupment,
    Refund,
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
#: Patient-payment references, also found on ledger postings (None: the factory
#: gives the payment a reference of its own that no posting carries).
RECEIPTS = ["R0", "R1", None]
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
            st.tuples(
                st.sampled_from(ACCOUNTS), st.sampled_from(AMOUNTS), days,
                st.sampled_from(RECEIPTS), st.sampled_from([*CLAIMS[:2], None]),
            ),
            max_size=3,
        ),
        "ledger": st.lists(
            st.tuples(
                st.sampled_from(list(KINDS)),
                st.sampled_from([*CLAIMS, None]),
                st.sampled_from([*TRACES, "R0", "R1", None]),
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
    for account, amount, received, reference, claim_id in data["patient"]:
        make_patient_payment(
            conn, patient_account=account, amount_cents=amount, received_on=received,
            reference=reference, claim_id=claim_id,
        )  # fmt: skip
    for kind, claim_id, reference, amount, posted, account in data["ledger"]:
        make_ledger_entry(
            conn, kind=kind, claim_id=claim_id, reference=reference,
            amount_cents=amount, posted_on=posted, patient_account=account,
            payer_id="AETNA" if kind == LedgerKind.INSURANCE_PAYMENT else None,
        )  # fmt: skip


#: Derived tables a re-run must leave identical in content.
DERIVED = (ReconMatch, ReconException, Refund, Recoupment, AuditEvent)
#: Bookkeeping columns a re-run may move (DESIGN.md: last-seen run, timestamps).
BOOKKEEPING = {"last_seen_run_id", "seen_as_of", "updated_at"}


def _matched(conn: Connection, pairing: Pairing, side: str) -> set[int]:
    column = ReconMatch.left_id if side == "left" else ReconMatch.right_id
    return set(
        conn.execute(select(column).where(ReconMatch.pairing == pairing)).scalars()
    )


def _subjects(conn: Connection, kind: str, table: str) -> dict[int, list[int]]:
    """Open exceptions of ``kind`` about rows of ``table``: row id → amounts."""
    e = ReconException
    found: dict[int, list[int]] = defaultdict(list)
    for subject_id, amount in conn.execute(
        select(e.subject_id, e.amount_cents).where(
            e.kind == kind, e.status == "open", e.subject_table == table
        )
    ):
        found[subject_id].append(amount)
    return found


def _check(
    rows: dict[int, tuple[dt.date, int]],
    matched: set[int],
    excepted: dict[int, list[int]],
    cutoff: dt.date,
) -> int:
    """Each visible row in exactly one bucket: matched, excepted for its whole
    amount, or pending (which only a row still inside its grace period may be).

    Returns the number of pending rows, and checks that the row's cents in equal the
    cents matched + excepted + pending.
    """
    assert all(len(a) == 1 for a in excepted.values()), "a row has two exceptions"
    assert set(excepted) <= set(rows), "an exception about an invisible row"
    money_in = sum(abs(cents) for _, cents in rows.values())
    matched_cents = excepted_cents = pending_cents = pending = 0
    for row_id, (day, cents) in rows.items():
        is_matched, is_excepted = row_id in matched, row_id in excepted
        assert not (is_matched and is_excepted), (row_id, "matched and excepted")
        if is_matched:
            matched_cents += abs(cents)
            continue
        assert is_excepted == (day <= cutoff), (row_id, day, cutoff, is_excepted)
        if is_excepted:
            [amount] = excepted[row_id]
            assert amount == abs(cents), (row_id, "excepted for another amount")
            excepted_cents += amount
        else:
            pending += 1
            pending_cents += abs(cents)
    assert money_in == matched_cents + excepted_cents + pending_cents
    return pending


def _no_row_matched_twice(conn: Connection) -> None:
    """Each right row once per table; each left row once per one-to-one pairing."""
    m = ReconMatch
    twice_right = conn.execute(
        select(m.right_table, m.right_id)
        .group_by(m.right_table, m.right_id)
        .having(func.count() > 1)
    ).all()
    twice_left = conn.execute(
        select(m.pairing, m.left_id)
        .where(m.one_to_one)
        .group_by(m.pairing, m.left_id)
        .having(func.count() > 1)
    ).all()
    assert twice_right == []
    assert twice_left == []


#: Per pairing: the left and right tables' money columns.
PAIR_CENTS = {
    Pairing.CLAIM_REMIT: (ExpectedClaim.expected_cents, X12ClaimPayment.paid_cents),
    Pairing.ERA_DEPOSIT: (X12Payment.amount_cents, BankDeposit.amount_cents),
    Pairing.REMIT_POSTING: (X12ClaimPayment.paid_cents, LedgerEntry.amount_cents),
    Pairing.PATIENT_POSTING: (PatientPayment.amount_cents, LedgerEntry.amount_cents),
}


def _pairs_with_cents(
    conn: Connection, pairing: Pairing
) -> list[tuple[int, int, int, int]]:
    """(left id, right id, left cents, right cents) of each match, checking that the
    cents recorded on the match are the rows' own."""
    m = ReconMatch
    left_cents, right_cents = PAIR_CENTS[pairing]
    left, right = left_cents.class_, right_cents.class_
    rows = conn.execute(
        select(
            m.left_id, m.right_id, m.left_cents, m.right_cents, left_cents, right_cents
        )
        .join(left, left.id == m.left_id)
        .join(right, right.id == m.right_id)
        .where(m.pairing == pairing)
    ).all()
    total = conn.execute(
        select(func.count()).select_from(m).where(m.pairing == pairing)
    ).scalar_one()
    assert len(rows) == total, "a match names a row that does not exist"
    for row in rows:
        assert (row[2], row[3]) == (row[4], row[5]), (pairing, row)
    return [(row[0], row[1], row[4], row[5]) for row in rows]


def _deposit_mismatches(conn: Connection) -> None:
    """``deposit_amount_mismatch`` is exactly the 835 ↔ deposit pairs whose amounts
    differ, each for the difference (variance = deposit − BPR02)."""
    e = ReconException
    found = {
        subject: (amount, variance)
        for subject, amount, variance in conn.execute(
            select(e.subject_id, e.amount_cents, e.variance_cents).where(
                e.kind == "deposit_amount_mismatch",
                e.status == "open",
                e.subject_table == "x12_payment",
            )
        )
    }
    expected = {}
    for left_id, _, left_cents, right_cents in _pairs_with_cents(
        conn, Pairing.ERA_DEPOSIT
    ):
        if left_cents != right_cents:
            variance = right_cents - left_cents
            expected[left_id] = (abs(variance), variance)
    assert found == expected, (found, expected)


def _posting_mismatches(conn: Connection) -> None:
    """``posting_mismatch`` is exactly the mismatched pairs of both posting pairings."""
    e = ReconException
    found = {
        subject: (amount, variance)
        for subject, amount, variance in conn.execute(
            select(e.subject_id, e.amount_cents, e.variance_cents).where(
                e.kind == "posting_mismatch",
                e.status == "open",
                e.subject_table == "ledger_entry",
            )
        )
    }
    expected = {}
    for pairing in (Pairing.REMIT_POSTING, Pairing.PATIENT_POSTING):
        for _, right_id, left_cents, right_cents in _pairs_with_cents(conn, pairing):
            if left_cents != right_cents:
                variance = right_cents - left_cents
                expected[right_id] = (abs(variance), variance)
    assert found == expected, (found, expected)


def _snapshot(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    """Every derived row, ids included, without bookkeeping columns."""
    result = {}
    with engine.connect() as conn:
        for model in DERIVED:
            table = model.__table__
            columns = [c for c in table.columns if c.name not in BOOKKEEPING]
            rows = conn.execute(select(*columns)).all()
            result[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return result


@settings(deadline=None)  # examples: the Hypothesis profile's (ci: 40)
@given(data=dataset)
def test_every_cent_is_accounted_for_once(scratch, data: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    """Each source row lands in exactly one of matched / exception / pending, for
    its whole amount, and the summary counts the pending ones."""
    engine: Engine = make_engine(scratch.new_url())
    try:
        with engine.begin() as conn:
            _load(conn, data)
        as_of = data["as_of"]
        result = run(engine, window=RunWindow(as_of.replace(day=1), as_of))
        era_cutoff = latest_day_past(as_of, 3)
        posting_cutoff = as_of - dt.timedelta(days=5)
        with engine.connect() as conn:
            _no_row_matched_twice(conn)
            cp, p = X12ClaimPayment, X12Payment
            remits = conn.execute(
                select(cp.id, cp.paid_cents, p.paid_on)
                .join(p, p.id == cp.payment_id)
                .where(p.paid_on <= as_of)
            ).all()
            # Claim dimension: no grace period.
            _check(
                {r.id: (as_of, r.paid_cents) for r in remits},
                _matched(conn, Pairing.CLAIM_REMIT, "right"),
                _subjects(conn, "unmatched_remittance", "x12_claim_payment"),
                as_of,
            )
            pending_remits = _check(
                {r.id: (r.paid_on, r.paid_cents) for r in remits if r.paid_cents != 0},
                _matched(conn, Pairing.REMIT_POSTING, "left"),
                _subjects(conn, "not_posted", "x12_claim_payment"),
                posting_cutoff,
            )
            eras = conn.execute(
                select(p.id, p.paid_on, p.amount_cents).where(
                    p.paid_on <= as_of, p.amount_cents > 0, p.handling_code != "H"
                )
            ).all()
            pending_eras = _check(
                {r.id: (r.paid_on, r.amount_cents) for r in eras},
                _matched(conn, Pairing.ERA_DEPOSIT, "left"),
                _subjects(conn, "era_without_deposit", "x12_payment"),
                era_cutoff,
            )
            d = BankDeposit
            deposits = conn.execute(
                select(d.id, d.deposit_on, d.amount_cents).where(d.deposit_on <= as_of)
            ).all()
            pending_deposits = _check(
                {r.id: (r.deposit_on, r.amount_cents) for r in deposits},
                _matched(conn, Pairing.ERA_DEPOSIT, "right"),
                _subjects(conn, "deposit_without_era", "bank_deposit"),
                era_cutoff,
            )
            pay = PatientPayment
            patients = conn.execute(
                select(pay.id, pay.received_on, pay.amount_cents).where(
                    pay.received_on <= as_of, pay.amount_cents != 0
                )
            ).all()
            pending_patients = _check(
                {r.id: (r.received_on, r.amount_cents) for r in patients},
                _matched(conn, Pairing.PATIENT_POSTING, "left"),
                _subjects(conn, "not_posted", "patient_payment"),
                posting_cutoff,
            )
            le = LedgerEntry
            postings = conn.execute(
                select(le.id, le.posted_on, le.amount_cents).where(
                    le.posted_on <= as_of, le.amount_cents != 0
                )
            ).all()
            pending_postings = _check(
                {r.id: (r.posted_on, r.amount_cents) for r in postings},
                _matched(conn, Pairing.REMIT_POSTING, "right")
                | _matched(conn, Pairing.PATIENT_POSTING, "right"),
                _subjects(conn, "posting_without_payment", "ledger_entry"),
                posting_cutoff,
            )
            _pairs_with_cents(conn, Pairing.CLAIM_REMIT)
            _deposit_mismatches(conn)
            _posting_mismatches(conn)
        assert result.summary["pending"] == {
            **result.summary["pending"],
            "remittances_awaiting_deposit": pending_eras,
            "deposits_awaiting_remittance": pending_deposits,
            "payments_awaiting_posting": pending_remits + pending_patients,
            "postings_awaiting_payment": pending_postings,
        }
    finally:
        engine.dispose()


#: The smallest data set Hypothesis found for the re-run bug below: a claim paid
#: (short) before the window, whose payment is not posted.
PAID_BEFORE_THE_WINDOW = {
    "claims": [("C0", "AETNA", dt.date(2024, 2, 24))],
    "payments": [("T0", "AETNA", dt.date(2024, 2, 27), [("C0", 500, "1")])],
    "deposits": [], "patient": [], "ledger": [], "as_of": dt.date(2024, 3, 31),
}  # fmt: skip


# Two runs per example: half the profile's examples.
@settings(max_examples=max(settings.default.max_examples // 2, 1), deadline=None)
@given(data=dataset)
@example(data=PAID_BEFORE_THE_WINDOW)
def test_rerunning_a_window_changes_no_derived_row(
    scratch, data: dict[str, Any]
) -> None:  # type: ignore[no-untyped-def]
    """A second run of the same window on the same data leaves every derived row
    (ids included) as the first run left it."""
    engine: Engine = make_engine(scratch.new_url())
    try:
        with engine.begin() as conn:
            _load(conn, data)
        as_of = data["as_of"]
        window = RunWindow(as_of.replace(day=1), as_of)
        run(engine, window=window)
        first = _snapshot(engine)
        again = run(engine, window=window)
        assert _snapshot(engine) == first
        with engine.connect() as conn:
            counts = conn.execute(
                select(ReconRun.counts).where(ReconRun.id == again.run_id)
            ).scalar_one()
        assert all(r["matched"] == 0 for r in counts["rules"].values())
        assert counts["exceptions"] == {
            "created": 0, "reopened": 0, "resolved": 0, "updated": 0
        }  # fmt: skip
    finally:
        engine.dispose()
