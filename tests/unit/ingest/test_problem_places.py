"""Every problem reads as one compiler-style line naming its file and place."""

from __future__ import annotations

import pytest

from reconcile.ingest import Problem


class TestLocated:
    @pytest.mark.parametrize(
        ("problem", "expected"),
        [
            (
                Problem("has more than 2 decimals", line=5, column="Billed"),
                "claims.csv:5: Billed: has more than 2 decimals",
            ),
            (
                Problem("has 3 fields but the header has 4", line=7),
                "claims.csv:7: has 3 fields but the header has 4",
            ),
            (
                Problem("is not a claim status", segment=15, segment_id="CLP"),
                "claims.csv: segment 15 (CLP): is not a claim status",
            ),
            (Problem("the file is empty"), "claims.csv: the file is empty"),
        ],
    )
    def test_file_line_column_reason(self, problem: Problem, expected: str) -> None:
        """Tabular problems read file:line: column: reason; others name their place."""
        assert problem.located("claims.csv") == expected

    def test_warning_label_goes_before_the_reason(self) -> None:
        """A warning keeps the place first, then says it is a warning."""
        problem = Problem("a zero credit is not a deposit", line=9)
        assert (
            problem.located("bank.bai", label="warning")
            == "bank.bai:9: warning: a zero credit is not a deposit"
        )
