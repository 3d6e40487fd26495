"""The repeated-key screen: never misses a repeat, lets distinct keys through."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.ingest.practice.repeats import RepeatScreen


class TestRepeatScreen:
    def test_distinct_keys_need_no_query(self) -> None:
        """Keys all different, across chunks: nothing to look for."""
        screen = RepeatScreen()
        screen.add(["A", "B"])
        screen.add(["C"])
        assert not screen.maybe_repeated

    @pytest.mark.parametrize(
        "chunks", [[["A", "B", "A"]], [["A", "B"], ["C", "B"]]], ids=["in", "across"]
    )
    def test_a_repeat_in_or_across_chunks_is_seen(
        self, chunks: list[list[str]]
    ) -> None:
        """A key seen before, in the same chunk or an earlier one, calls the query."""
        screen = RepeatScreen()
        for keys in chunks:
            screen.add(keys)
        assert screen.maybe_repeated

    def test_watch_screens_the_key_column_and_passes_chunks_on(self) -> None:
        """Chunks go through unchanged; their key column is screened."""
        screen = RepeatScreen()
        chunks = [[(0, 1), (2, 3), ("K1", "K2")], [(2,), (4,), ("K1",)]]
        assert list(screen.watch(chunks, key=2)) == chunks
        assert screen.maybe_repeated

    def test_an_inactive_screen_always_calls_the_query(self) -> None:
        """Without screening (SQLite) every file goes to the query; chunks pass."""
        screen = RepeatScreen(active=False)
        chunks = [[(0,), (2,), ("K1",)]]
        assert list(screen.watch(chunks, key=2)) == chunks
        assert screen.maybe_repeated

    @given(st.lists(st.lists(st.text(max_size=3), min_size=1), max_size=6))
    def test_never_misses_a_repeat(self, chunks: list[list[str]]) -> None:
        """Every file with a repeated key is sent to the query."""
        screen = RepeatScreen()
        for keys in chunks:
            screen.add(keys)
        keys = [key for chunk in chunks for key in chunk]
        if len(set(keys)) < len(keys):
            assert screen.maybe_repeated
