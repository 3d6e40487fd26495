"""Row layouts: every 835 record field has its column, in table order."""

from __future__ import annotations

import pytest

import reconcile.db.tables  # noqa: F401  (registers the tables on the metadata)
from reconcile.db.base import Base
from reconcile.ingest.x12.rows import COLUMNS, COUNT_KEYS, PAYMENT_END_AT, TABLES


class TestColumns:
    @pytest.mark.parametrize("table", TABLES)
    def test_columns_are_the_tables(self, table: str) -> None:
        """A row names exactly the table's columns (none missing, none unknown)."""
        columns = COLUMNS[table]
        assert sorted(columns) == sorted(Base.metadata.tables[table].columns.keys())
        assert len(set(columns)) == len(columns)

    def test_parents_come_first(self) -> None:
        """Tables are written parents before children (foreign keys)."""
        order = {table: position for position, table in enumerate(TABLES)}
        for table in TABLES:
            for key in Base.metadata.tables[table].foreign_keys:
                parent = key.column.table.name
                if parent in order:
                    assert order[parent] < order[table]

    def test_payment_end_fields_close_the_row(self) -> None:
        """What SE completes (extra, counts, balance) ends the payment row."""
        assert COLUMNS["x12_payment"][PAYMENT_END_AT:] == (
            "extra", "claim_count", "unbalanced", "balance_problems",
        )  # fmt: skip

    def test_count_keys_are_the_contract(self) -> None:
        """The import's counts use the DESIGN.md names."""
        assert sorted(COUNT_KEYS.values()) == [
            "adjustments", "claims", "payments", "provider_adjustments",
            "service_lines",
        ]  # fmt: skip
