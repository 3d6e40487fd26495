"""The practice's four tabular sources: columns, what is required, and row rules.

Required columns are what the reconciliation cannot work without; the others may be
missing from the file or empty in a row. See ``docs/file-formats.md``.

- **claims** — required: ``claim_id``, ``payer_id``, ``service_date``,
  ``billed_amount``, ``expected_amount``, ``submitted_on``. Amounts may be zero (a
  no-charge visit, a service the contract does not pay) but not negative;
  ``provider_npi`` must be a valid NPI; a claim is not submitted before its service.
- **deposits** — required: ``deposit_id``, ``deposit_date``, ``amount`` (more than
  zero: a deposit is money in).
- **patient_payments** — required: ``payment_id``, ``received_on``,
  ``patient_account``, ``amount`` (more than zero); ``claim_id`` is optional.
- **ledger** — required: ``entry_id``, ``posted_on``, ``kind``, ``amount``. Amounts
  are signed as in the ledger, money out negative: patient payments are not negative,
  refunds and recoupments are; insurance payments are negative when they post a
  payer's reversal (CLP02 22) and adjustments go either way. Insurance payments and
  recoupments name their payer; patient payments have none.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterator, Mapping, Sequence

from reconcile.categories import LedgerKind
from reconcile.ingest.tabular.spec import Column, ColumnType, TableSpec

_TEXT, _DATE, _AMOUNT = ColumnType.TEXT, ColumnType.DATE, ColumnType.AMOUNT
_NOT_NEGATIVE = "must not be negative"
_POSITIVE = "must be more than zero"

# Lengths are the table columns' (reconcile/db/tables/practice.py): PostgreSQL refuses
# longer text, so the reader does too, with the line and column.
_CLAIM_ID, _ID, _NAME, _KEY, _REFERENCE = 38, 80, 120, 64, 50


@functools.lru_cache(maxsize=4096)  # a practice has few providers; rows repeat them
def npi_problem(npi: str) -> str | None:
    """Why ``npi`` is not a National Provider Identifier (10 digits, Luhn check)."""
    if len(npi) != 10 or not (npi.isascii() and npi.isdigit()):
        return "is not an NPI: it must be 10 digits"
    # The NPI check digit is the Luhn digit of "80840" + the first nine digits.
    total = 0
    for position, char in enumerate(reversed("80840" + npi)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return None if total % 10 == 0 else "is not an NPI: its check digit is wrong"


def _text(
    name: str, length: int, *, target: str | None = None, required: bool = False
) -> Column:
    return Column(
        name=name,
        target=target or name,
        type=_TEXT,
        required=required,
        max_length=length,
    )


def _amount(
    name: str, target: str, *, required: bool, minimum: int | None, reason: str = ""
) -> Column:
    return Column(
        name=name,
        target=target,
        type=_AMOUNT,
        required=required,
        minimum_cents=minimum,
        below_minimum=reason,
    )


_CLAIM_COLUMNS = (
    _text("claim_id", _CLAIM_ID, required=True),
    _text("payer_id", _ID, required=True),
    _text("payer_name", _NAME),
    _text("patient_account", _ID),
    Column(
        name="provider_npi",
        target="provider_npi",
        type=_TEXT,
        max_length=10,
        check=npi_problem,
    ),
    Column(name="service_date", target="service_on", type=_DATE, required=True),
    _amount(
        "billed_amount", "billed_cents", required=True, minimum=0, reason=_NOT_NEGATIVE
    ),
    _amount(
        "expected_amount",
        "expected_cents",
        required=True,
        minimum=0,
        reason=_NOT_NEGATIVE,
    ),
    _amount(
        "expected_patient_amount",
        "expected_patient_cents",
        required=False,
        minimum=0,
        reason=_NOT_NEGATIVE,
    ),
    Column(name="submitted_on", target="submitted_on", type=_DATE, required=True),
)


def _submitted_after_service(
    rows: Mapping[str, Sequence[object]],
) -> Iterator[tuple[int, str, str]]:
    """A claim cannot be submitted before its service (ISO dates compare as text)."""
    service, submitted = rows["service_date"], rows["submitted_on"]
    # Both are required, so ISO text; one C-level pass finds whether to look closer.
    if not any(map(operator.lt, submitted, service)):  # type: ignore[arg-type]
        return
    for index, (day, sent) in enumerate(zip(service, submitted, strict=True)):
        if sent < day:  # type: ignore[operator]
            yield index, "submitted_on", "is before the service date"


CLAIMS = TableSpec(
    source="claims",
    columns=_CLAIM_COLUMNS,
    key="claim_id",
    rules=(_submitted_after_service,),
)

DEPOSITS = TableSpec(
    source="deposits",
    columns=(
        _text("deposit_id", _KEY, required=True),
        Column(name="deposit_date", target="deposit_on", type=_DATE, required=True),
        _amount(
            "amount",
            "amount_cents",
            required=True,
            minimum=1,
            reason=f"{_POSITIVE}: a deposit is money in",
        ),
        _text("trace_number", _REFERENCE),
        _text("payer_name", _NAME),
        _text("account", 35),
    ),
    key="deposit_id",
)

PATIENT_PAYMENTS = TableSpec(
    source="patient_payments",
    columns=(
        _text("payment_id", _KEY, required=True),
        Column(name="received_on", target="received_on", type=_DATE, required=True),
        _text("patient_account", _ID, required=True),
        _text("claim_id", _CLAIM_ID),
        _amount(
            "amount",
            "amount_cents",
            required=True,
            minimum=1,
            reason=f"{_POSITIVE}: a payment is money in",
        ),
        _text("method", 20),
        _text("reference", _REFERENCE),
    ),
    key="payment_id",
)

_LEDGER_COLUMNS = (
    _text("entry_id", _KEY, required=True),
    Column(name="posted_on", target="posted_on", type=_DATE, required=True),
    _text("claim_id", _CLAIM_ID),
    _text("patient_account", _ID),
    _text("payer_id", _ID),
    Column(
        name="kind", target="kind", type=ColumnType.CHOICE, required=True, max_length=32
    ),
    _amount("amount", "amount_cents", required=True, minimum=None),
    _text("reference", _REFERENCE),
)

# An insurance payment may be negative: the posting of a payer's reversal.
_MONEY_IN = {LedgerKind.PATIENT_PAYMENT.value}
_MONEY_OUT = {LedgerKind.REFUND.value, LedgerKind.RECOUPMENT.value}
_PAYER_REQUIRED = {LedgerKind.INSURANCE_PAYMENT.value, LedgerKind.RECOUPMENT.value}


def _signed_by_kind(
    rows: Mapping[str, Sequence[object]],
) -> Iterator[tuple[int, str, str]]:
    """Patient money in is not negative; refunds and recoupments are negative."""
    for index, (kind, amount) in enumerate(
        zip(rows["kind"], rows["amount"], strict=True)
    ):
        if kind in _MONEY_IN and amount < 0:  # type: ignore[operator]  # required
            yield index, "amount", f"must not be negative: {kind} is money in"
        elif kind in _MONEY_OUT and amount >= 0:  # type: ignore[operator]
            yield index, "amount", f"must be negative: {kind} is money out"


def _payer_by_kind(
    rows: Mapping[str, Sequence[object]],
) -> Iterator[tuple[int, str, str]]:
    """Insurance money names its payer; patient money has none."""
    for index, (kind, payer) in enumerate(
        zip(rows["kind"], rows["payer_id"], strict=True)
    ):
        if kind in _PAYER_REQUIRED and payer is None:
            yield index, "payer_id", f"is empty; {kind} needs the payer"
        elif kind == LedgerKind.PATIENT_PAYMENT.value and payer is not None:
            yield (
                index,
                "payer_id",
                "must be empty for patient money (kind patient_payment)",
            )


LEDGER = TableSpec(
    source="ledger",
    columns=_LEDGER_COLUMNS,
    key="entry_id",
    rules=(_signed_by_kind, _payer_by_kind),
)
