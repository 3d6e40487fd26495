"""Records → prepared row tuples for :func:`reconcile.db.bulk.copy_rows`.

Column lists follow the 835 tables; a record's leading fields are already in column
order (see :mod:`reconcile.ingest.x12.records`), so each row is the record's columns
behind its surrogate keys. Values are prepared: dates are ISO text, JSON is text.
"""

from __future__ import annotations

from reconcile.ingest.x12.records import (
    CLAIM_COLUMNS,
    SERVICE_LINE_COLUMNS,
    Adjustment,
    ClaimPayment,
    PaymentHeader,
    ProviderAdjustment,
    ServiceLine,
)

PAYMENT_TABLE = "x12_payment"
CLAIM_TABLE = "x12_claim_payment"
LINE_TABLE = "x12_service_line"
ADJUSTMENT_TABLE = "x12_adjustment"
PROVIDER_ADJUSTMENT_TABLE = "x12_provider_adjustment"

#: Parents before children: the order rows must be written in.
TABLES = (
    PAYMENT_TABLE,
    CLAIM_TABLE,
    LINE_TABLE,
    ADJUSTMENT_TABLE,
    PROVIDER_ADJUSTMENT_TABLE,
)

PAYMENT_COLUMNS = (
    "id",
    "source_file_id",
    *PaymentHeader._fields,
    "extra",
    "claim_count",
    "unbalanced",
    "balance_problems",
)
#: Where the fields known only at SE start in a payment row.
PAYMENT_END_AT = PAYMENT_COLUMNS.index("extra")
CLAIM_COLUMN_NAMES = ("id", "payment_id", "seq", *ClaimPayment._fields[:CLAIM_COLUMNS])
LINE_COLUMN_NAMES = (
    "id",
    "claim_payment_id",
    "seq",
    *ServiceLine._fields[:SERVICE_LINE_COLUMNS],
)
ADJUSTMENT_COLUMNS = (
    "id",
    "claim_payment_id",
    "service_line_id",
    "seq",
    *Adjustment._fields,
)
PROVIDER_ADJUSTMENT_COLUMNS = ("id", "payment_id", "seq", *ProviderAdjustment._fields)

COLUMNS: dict[str, tuple[str, ...]] = {
    PAYMENT_TABLE: PAYMENT_COLUMNS,
    CLAIM_TABLE: CLAIM_COLUMN_NAMES,
    LINE_TABLE: LINE_COLUMN_NAMES,
    ADJUSTMENT_TABLE: ADJUSTMENT_COLUMNS,
    PROVIDER_ADJUSTMENT_TABLE: PROVIDER_ADJUSTMENT_COLUMNS,
}

#: The counts an import reports, by table.
COUNT_KEYS = {
    PAYMENT_TABLE: "payments",
    CLAIM_TABLE: "claims",
    LINE_TABLE: "service_lines",
    ADJUSTMENT_TABLE: "adjustments",
    PROVIDER_ADJUSTMENT_TABLE: "provider_adjustments",
}
