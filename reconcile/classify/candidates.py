"""The run's candidate exceptions: what each classification rule found, before
precedence and before merging into the persistent ``recon_exception`` rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Date,
    Select,
    String,
    Table,
    cast,
    func,
    insert,
    literal,
)

from reconcile.categories import ExceptionKind
from reconcile.db.base import CentsType, IdType
from reconcile.db.temp import create_temp

#: Columns every candidate carries, in insert order.
COLUMNS = (
    "fingerprint", "kind", "claim_id", "payer_id", "patient_account", "subject_table",
    "subject_id", "amount_cents", "expected_cents", "paid_cents", "variance_cents",
    "codes", "detail", "suggested_action", "service_on", "paid_on", "age_from_on",
)  # fmt: skip


def create_candidates(conn: Connection) -> Table:
    """Create the empty candidate table for this run."""
    return create_temp(
        conn,
        "tmp_exception",
        [
            Column("fingerprint", String(200), primary_key=True),
            Column("kind", String(32), nullable=False),
            Column("claim_id", String(38)),
            Column("payer_id", String(80)),
            Column("patient_account", String(80)),
            Column("subject_table", String(32), nullable=False),
            Column("subject_id", IdType, nullable=False),
            Column("amount_cents", CentsType, nullable=False),
            Column("expected_cents", CentsType),
            Column("paid_cents", CentsType),
            Column("variance_cents", CentsType),
            Column("codes", String(500)),
            Column("detail", String(500)),
            Column("suggested_action", String(200)),
            Column("service_on", Date),
            Column("paid_on", Date),
            Column("age_from_on", Date),
        ],
        indexes=[("subject_table", "subject_id"), ("kind",)],
    )


def fingerprint(kind: ExceptionKind, *parts: Any) -> ColumnElement[str]:
    """``kind:part:part…`` from business identity (never from a run id)."""
    expression: ColumnElement[str] = literal(str(kind), String)
    for part in parts:
        expression = expression + ":" + func.coalesce(cast(part, String), "")
    return expression


def payment_identity(payment: Any) -> tuple[ColumnElement[Any], ...]:
    """The business identity of one 835 payment (ST…SE) inside a fingerprint.

    The same as the load's duplicate key: TRN03 originator, TRN02 trace, BPR02 amount
    and payment date. A payer may reuse a trace for a second payment of another amount
    (a re-issued check, a split EFT); each must keep its own exception.
    """
    return (
        payment.originator_id,
        payment.trace_number,
        payment.amount_cents,
        payment.paid_on,
    )


_TYPES: dict[str, Any] = {
    "subject_id": IdType,
    "amount_cents": CentsType,
    "expected_cents": CentsType,
    "paid_cents": CentsType,
    "variance_cents": CentsType,
    "service_on": Date,
    "paid_on": Date,
    "age_from_on": Date,
}


def columns(**values: Any) -> list[ColumnElement[Any]]:
    """The select list of a candidate: ``values`` by column name, NULL elsewhere.

    Unknown names are refused, so a typo cannot silently drop a value.
    """
    unknown = set(values) - set(COLUMNS)
    if unknown:
        raise ValueError(f"not candidate columns: {sorted(unknown)}")
    selected: list[ColumnElement[Any]] = []
    for name in COLUMNS:
        value = values.get(name)
        if value is None:
            value = literal(None, _TYPES.get(name, String))
        elif isinstance(value, str):
            value = literal(value, String)
        selected.append(value.label(name))
    return selected


def add(conn: Connection, table: Table, statement: Select[*tuple[Any, ...]]) -> int:
    """Insert one rule's candidates (``statement`` selects :func:`columns`)."""
    result = conn.execute(
        insert(table)
        .from_select(list(COLUMNS), statement)
        .execution_options(preserve_rowcount=True)
    )
    return max(result.rowcount, 0)


def kind_literal(kind: ExceptionKind) -> ColumnElement[str]:
    """The kind as a SQL string literal."""
    return literal(str(kind), String)
