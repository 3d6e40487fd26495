"""Keyword-only builders of database rows with sensible defaults (synthetic data only).

Each ``make_*`` inserts one row through the given connection and returns its id.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy import Connection, func, insert, select

from reconcile.categories import (
    ExceptionKind,
    ExceptionStatus,
    LedgerKind,
    PayeeKind,
    RecoupmentReason,
    RecoupmentStatus,
    RefundReason,
    RefundStatus,
    RunStatus,
    RunTrigger,
    SourceKind,
    SourceStatus,
)
from reconcile.db.tables import (
    BankDeposit,
    ExpectedClaim,
    ExpectedClaimVersion,
    LedgerEntry,
    PatientPayment,
    ReconException,
    ReconRun,
    Recoupment,
    Refund,
    SourceFile,
    X12Adjustment,
    X12ClaimPayment,
    X12Payment,
    X12ProviderAdjustment,
    X12ServiceLine,
)

NOW = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)
_seq = itertools.count(1)


def _insert(conn: Connection, table: Any, values: dict[str, Any]) -> int:
    return int(
        conn.execute(insert(table).values(**values).returning(table.id)).scalar_one()
    )


def make_source_file(
    conn: Connection, *, kind: SourceKind = SourceKind.ERA, **kw: Any
) -> int:
    n = next(_seq)
    values = {
        "kind": kind, "name": f"file{n}", "path": f"/data/file{n}",
        "sha256": f"{n:064x}", "size_bytes": 100, "status": SourceStatus.LOADED,
        "imported_at": NOW, "counts": {}, "skipped": 0, "warnings": [],
        "allowed_unbalanced": False,
    }  # fmt: skip
    values.update(kw)
    return _insert(conn, SourceFile, values)


def make_payment(
    conn: Connection,
    *,
    amount_cents: int = 10_000,
    paid_on: dt.date = dt.date(2024, 3, 1),
    trace_number: str | None = None,
    originator_id: str = "1999999999",
    payer_ref_2u: str | None = "AETNA",
    payer_name: str | None = "AETNA",
    method: str = "ACH",
    handling_code: str = "I",
    **kw: Any,
) -> int:
    n = next(_seq)
    values = {
        "source_file_id": kw.pop("source_file_id", None) or make_source_file(conn),
        "file_seq": 1, "interchange_control": f"{n:09d}", "interchange_sender": "PAYER",
        "interchange_receiver": "PRACTICE", "group_control": str(n),
        "transaction_control": f"{n:04d}", "version": "005010X221A1",
        "handling_code": handling_code, "amount_cents": amount_cents,
        "credit_debit": "C", "method": method, "effective_on": paid_on,
        "paid_on": paid_on, "paid_on_source": "BPR16", "trace_type": "1",
        "trace_number": trace_number or f"TRC{n:06d}", "originator_id": originator_id,
        "payer_name": payer_name, "payer_ref_2u": payer_ref_2u, "payee_name": "CLINIC",
        "extra": {}, "claim_count": 1, "unbalanced": False, "balance_problems": [],
    }  # fmt: skip
    values.update(kw)
    return _insert(conn, X12Payment, values)


def make_claim_payment(
    conn: Connection,
    *,
    payment_id: int,
    claim_id: str = "C1",
    status_code: str = "1",
    charge_cents: int = 20_000,
    paid_cents: int = 10_000,
    patient_resp_cents: int | None = 0,
    payer_control: str | None = None,
    original_ref: str | None = None,
    filing_indicator: str | None = "12",
    **kw: Any,
) -> int:
    n = next(_seq)
    values = {
        "payment_id": payment_id, "claim_id": claim_id,
        "seq": conn.execute(
            select(func.count()).where(X12ClaimPayment.payment_id == payment_id)
        ).scalar_one() + 1,
        "status_code": status_code, "charge_cents": charge_cents,
        "paid_cents": paid_cents, "patient_resp_cents": patient_resp_cents,
        "filing_indicator": filing_indicator,
        "payer_control": payer_control or f"ICN{n:06d}", "original_ref": original_ref,
        "extra": {},
    }  # fmt: skip
    values.update(kw)
    return _insert(conn, X12ClaimPayment, values)


def make_service_line(conn: Connection, *, claim_payment_id: int, **kw: Any) -> int:
    values = {
        "claim_payment_id": claim_payment_id, "seq": next(_seq),
        "procedure_qualifier": "HC", "procedure_code": "99213", "charge_cents": 20_000,
        "paid_cents": 10_000, "service_from_on": dt.date(2024, 2, 1),
        "service_to_on": dt.date(2024, 2, 1), "extra": {},
    }  # fmt: skip
    values.update(kw)
    return _insert(conn, X12ServiceLine, values)


def make_adjustment(
    conn: Connection,
    *,
    claim_payment_id: int,
    group_code: str = "CO",
    reason_code: str = "45",
    amount_cents: int = 10_000,
    service_line_id: int | None = None,
) -> int:
    return _insert(
        conn,
        X12Adjustment,
        {
            "claim_payment_id": claim_payment_id, "service_line_id": service_line_id,
            "seq": next(_seq), "group_code": group_code, "reason_code": reason_code,
            "amount_cents": amount_cents,
        },
    )  # fmt: skip


def make_plb(
    conn: Connection,
    *,
    payment_id: int,
    reason_code: str = "WO",
    reference: str | None = None,
    amount_cents: int = 1_000,
) -> int:
    return _insert(
        conn,
        X12ProviderAdjustment,
        {
            "payment_id": payment_id, "seq": next(_seq),
            "provider_identifier": "1234567893",
            "fiscal_period_on": dt.date(2024, 12, 31), "reason_code": reason_code,
            "reference": reference, "amount_cents": amount_cents,
        },
    )  # fmt: skip


def make_claim(
    conn: Connection,
    *,
    claim_id: str = "C1",
    payer_id: str = "AETNA",
    expected_cents: int = 10_000,
    billed_cents: int = 20_000,
    submitted_on: dt.date = dt.date(2024, 2, 5),
    service_on: dt.date = dt.date(2024, 2, 1),
    patient_account: str = "ACCT1",
    expected_patient_cents: int | None = 2_000,
    **kw: Any,
) -> int:
    file_id = kw.pop("source_file_id", None) or make_source_file(
        conn, kind=SourceKind.CLAIMS
    )
    values = {
        "claim_id": claim_id, "payer_id": payer_id, "payer_name": payer_id,
        "patient_account": patient_account, "provider_npi": "1234567893",
        "service_on": service_on, "billed_cents": billed_cents,
        "expected_cents": expected_cents,
        "expected_patient_cents": expected_patient_cents,
        "submitted_on": submitted_on,
    }  # fmt: skip
    values.update(kw)
    version_id = _insert(
        conn,
        ExpectedClaimVersion,
        {**values, "source_file_id": file_id, "line_number": 2, "version": 1},
    )
    return _insert(
        conn, ExpectedClaim, {**values, "version": 1, "version_id": version_id}
    )


def make_deposit(
    conn: Connection,
    *,
    amount_cents: int = 10_000,
    deposit_on: dt.date = dt.date(2024, 3, 1),
    trace_number: str | None = None,
    originator_id: str | None = None,
    payer_name: str | None = None,
    deposit_id: str | None = None,
) -> int:
    n = next(_seq)
    return _insert(
        conn,
        BankDeposit,
        {
            "source_file_id": make_source_file(conn, kind=SourceKind.DEPOSITS),
            "line_number": 2, "deposit_id": deposit_id or f"DEP{n}",
            "deposit_on": deposit_on, "amount_cents": amount_cents,
            "trace_number": trace_number, "originator_id": originator_id,
            "payer_name": payer_name, "account": "OPERATING",
        },
    )  # fmt: skip


def make_patient_payment(
    conn: Connection,
    *,
    amount_cents: int = 2_000,
    received_on: dt.date = dt.date(2024, 3, 1),
    patient_account: str = "ACCT1",
    claim_id: str | None = "C1",
    reference: str | None = None,
    payment_id: str | None = None,
) -> int:
    n = next(_seq)
    return _insert(
        conn,
        PatientPayment,
        {
            "source_file_id": make_source_file(conn, kind=SourceKind.PATIENT_PAYMENTS),
            "line_number": 2, "payment_id": payment_id or f"PP{n}",
            "received_on": received_on, "patient_account": patient_account,
            "claim_id": claim_id, "amount_cents": amount_cents, "method": "card",
            "reference": reference or f"REF{n}",
        },
    )  # fmt: skip


def make_ledger_entry(
    conn: Connection,
    *,
    kind: LedgerKind = LedgerKind.INSURANCE_PAYMENT,
    amount_cents: int = 10_000,
    posted_on: dt.date = dt.date(2024, 3, 2),
    claim_id: str | None = "C1",
    payer_id: str | None = "AETNA",
    patient_account: str | None = "ACCT1",
    reference: str | None = None,
    entry_id: str | None = None,
) -> int:
    n = next(_seq)
    return _insert(
        conn,
        LedgerEntry,
        {
            "source_file_id": make_source_file(conn, kind=SourceKind.LEDGER),
            "line_number": 2, "entry_id": entry_id or f"L{n}", "posted_on": posted_on,
            "claim_id": claim_id, "patient_account": patient_account,
            "payer_id": payer_id, "kind": kind, "amount_cents": amount_cents,
            "reference": reference,
        },
    )  # fmt: skip


def make_run(
    conn: Connection,
    *,
    first: dt.date = dt.date(2024, 3, 1),
    last: dt.date = dt.date(2024, 3, 31),
    status: RunStatus = RunStatus.SUCCEEDED,
) -> int:
    return _insert(
        conn,
        ReconRun,
        {
            "trigger": RunTrigger.MANUAL, "status": status, "window_first": first,
            "window_last": last, "as_of": last, "started_at": NOW, "host": "test",
            "pid": 1, "config_hash": "0" * 64, "counts": {}, "timings": {},
        },
    )  # fmt: skip


def make_exception(
    conn: Connection,
    *,
    run_id: int,
    kind: ExceptionKind = ExceptionKind.UNDERPAID,
    amount_cents: int = 1_000,
    claim_id: str | None = "C1",
    fingerprint: str | None = None,
    identified_on: dt.date = dt.date(2024, 3, 31),
) -> int:
    return _insert(
        conn,
        ReconException,
        {
            "fingerprint": fingerprint or f"{kind}:{claim_id}:{next(_seq)}",
            "kind": kind, "status": ExceptionStatus.OPEN, "claim_id": claim_id,
            "payer_id": "AETNA", "amount_cents": amount_cents, "details": {},
            "identified_on": identified_on, "seen_as_of": identified_on,
            "first_run_id": run_id, "last_seen_run_id": run_id,
        },
    )  # fmt: skip


def make_refund(
    conn: Connection,
    *,
    status: RefundStatus = RefundStatus.QUEUED,
    amount_cents: int = 1_000,
    identified_on: dt.date = dt.date(2024, 3, 1),
    claim_id: str = "C1",
    due_rule: str = "default",
) -> int:
    return _insert(
        conn,
        Refund,
        {
            "fingerprint": f"refund:{claim_id}:{next(_seq)}",
            "reason": RefundReason.OVERPAID, "status": status,
            "payee_kind": PayeeKind.PAYER, "claim_id": claim_id, "payer_id": "AETNA",
            "amount_cents": amount_cents, "identified_on": identified_on,
            "due_on": identified_on + dt.timedelta(days=60), "due_rule": due_rule,
            "details": {}, "created_at": NOW, "updated_at": NOW,
        },
    )  # fmt: skip


def make_recoupment(
    conn: Connection,
    *,
    status: RecoupmentStatus = RecoupmentStatus.NOTICED,
    amount_cents: int = 1_000,
    claim_id: str | None = "C1",
) -> int:
    return _insert(
        conn,
        Recoupment,
        {
            "fingerprint": f"recoupment:{claim_id}:{next(_seq)}",
            "reason": RecoupmentReason.NOTICE, "status": status, "payer_id": "AETNA",
            "claim_id": claim_id, "amount_cents": amount_cents,
            "identified_on": dt.date(2024, 3, 1), "lookback_status": "ok",
            "original_identified": claim_id is not None, "details": {},
            "created_by": "test", "created_at": NOW, "updated_at": NOW,
        },
    )  # fmt: skip


def make_scenario(conn: Connection) -> None:
    """A small month of realistic activity covering every kind of this stage.

    Paid as expected and posted; underpaid; overpaid; denied; unpaid; a reversal with
    its correction; a payment for an unknown claim; a short deposit; a late deposit;
    an 835 with no deposit; a deposit with no 835; a mis-keyed posting; a patient
    payment posted and one not; a posting without payment.
    """
    d = dt.date
    for claim_id, expected, submitted in (
        ("OK1", 10_000, d(2024, 2, 20)),
        ("UNDER", 10_000, d(2024, 2, 20)),
        ("OVER", 10_000, d(2024, 2, 21)),
        ("DENY", 15_000, d(2024, 2, 22)),
        ("UNPAID", 9_000, d(2024, 1, 10)),
        ("REV", 10_000, d(2024, 1, 15)),
        ("WAIT", 5_000, d(2024, 3, 20)),
    ):
        make_claim(
            conn, claim_id=claim_id, expected_cents=expected, submitted_on=submitted
        )
    first = make_payment(
        conn, trace_number="EFT100", amount_cents=38_000, paid_on=d(2024, 3, 4)
    )
    make_claim_payment(conn, payment_id=first, claim_id="OK1", paid_cents=10_000)
    make_claim_payment(conn, payment_id=first, claim_id="UNDER", paid_cents=7_000)
    make_claim_payment(conn, payment_id=first, claim_id="OVER", paid_cents=12_000)
    make_claim_payment(conn, payment_id=first, claim_id="REV", paid_cents=9_000)
    denied = make_claim_payment(
        conn, payment_id=first, claim_id="DENY", status_code="4", paid_cents=0
    )
    make_adjustment(
        conn, claim_payment_id=denied, reason_code="50", amount_cents=15_000
    )
    make_deposit(
        conn,
        deposit_id="D100",
        trace_number="EFT100",
        amount_cents=37_000,
        deposit_on=d(2024, 3, 5),
    )
    second = make_payment(
        conn, trace_number="EFT200", amount_cents=10_500, paid_on=d(2024, 3, 11)
    )
    make_claim_payment(
        conn, payment_id=second, claim_id="REV", status_code="22", paid_cents=-9_000
    )
    make_claim_payment(conn, payment_id=second, claim_id="REV", paid_cents=10_000)
    make_claim_payment(conn, payment_id=second, claim_id="GHOST", paid_cents=9_500)
    make_deposit(
        conn,
        deposit_id="D200",
        trace_number="EFT200",
        amount_cents=10_500,
        deposit_on=d(2024, 3, 20),
    )
    make_payment(
        conn, trace_number="EFT300", amount_cents=4_400, paid_on=d(2024, 3, 18)
    )
    make_deposit(
        conn,
        deposit_id="D999",
        trace_number="MYSTERY",
        amount_cents=1_234,
        deposit_on=d(2024, 3, 8),
    )
    for claim_id, amount, reference in (
        ("OK1", 10_000, "EFT100"),
        ("UNDER", 7_000, "EFT100"),
        ("OVER", 1_200, "EFT100"),
        ("REV", 9_000, "EFT100"),
        ("ZZZ", 5_000, "NOPE"),
    ):
        make_ledger_entry(
            conn,
            claim_id=claim_id,
            amount_cents=amount,
            reference=reference,
            entry_id=f"L-{claim_id}",
        )
    make_patient_payment(
        conn, payment_id="PP1", reference="R1", received_on=d(2024, 3, 6)
    )
    make_patient_payment(
        conn, payment_id="PP2", reference="R2", received_on=d(2024, 3, 7)
    )
    make_ledger_entry(
        conn, kind=LedgerKind.PATIENT_PAYMENT, payer_id=None, claim_id=None,
        amount_cents=2_000, reference="R1", posted_on=d(2024, 3, 6), entry_id="L-PP1",
    )  # fmt: skip
