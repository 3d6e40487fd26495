"""Staging chunks: rows numbered across chunks, rows turned into columns."""

from __future__ import annotations

import pytest

from reconcile.ingest.practice import staging
from reconcile.ingest.practice.staging import chunks_of, numbered


class TestChunks:
    def test_numbered_counts_rows_across_chunks(self) -> None:
        """seq numbers the rows from 0 on, chunk after chunk."""
        chunks = [[(2, 3), ("a", "b")], [(5,), ("c",)]]
        assert [[list(c) for c in chunk] for chunk in numbered(chunks)] == [
            [[0, 1], [2, 3], ["a", "b"]],
            [[2], [5], ["c"]],
        ]

    def test_chunks_of_rows(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Rows become column-wise chunks of CHUNK_ROWS rows."""
        monkeypatch.setattr(staging, "CHUNK_ROWS", 2)
        rows = [(n, n + 2, f"D{n}") for n in range(5)]
        assert list(chunks_of(rows)) == [
            [(0, 1), (2, 3), ("D0", "D1")],
            [(2, 3), (4, 5), ("D2", "D3")],
            [(4,), (6,), ("D4",)],
        ]
