"""COPY text: values, NULLs and escapes read back as PostgreSQL reads them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.ingest.practice import copy_text
from reconcile.ingest.practice.copy_text import CopyText
from reconcile.ingest.practice.specs import CLAIMS, DEPOSITS
from reconcile.ingest.practice.staging import stage_table

# seq, line_number, then the claims columns: text ×5, date, cents ×3, date.
CLAIM_ROW = (0, 2, "C1", "AETNA", "Aetna", "PA1", "1234567893", "2024-03-01",
             10_000, 8_000, None, "2024-03-02")  # fmt: skip


def _unescape(field: str) -> str | None:
    """Read one field of COPY's text format back, as PostgreSQL does."""
    if field == "\\N":
        return None
    out, chars = [], iter(field)
    for char in chars:
        if char == "\\":
            following = next(chars)
            out.append({"t": "\t", "n": "\n", "r": "\r"}.get(following, following))
        else:
            out.append(char)
    return "".join(out)


def _read_copy(text: str) -> list[list[str | None]]:
    assert text.endswith("\n")
    return [[_unescape(f) for f in line.split("\t")] for line in text[:-1].split("\n")]


def _columns(*rows: tuple[object, ...]) -> list[tuple[object, ...]]:
    return list(zip(*rows, strict=True))


class TestCopyText:
    def test_a_plain_chunk_is_tab_separated_lines(self) -> None:
        """Values become text, None becomes \\N, each row one line."""
        text = CopyText(stage_table(CLAIMS))(_columns(CLAIM_ROW))
        assert text == (
            "0\t2\tC1\tAETNA\tAetna\tPA1\t1234567893\t2024-03-01\t10000\t8000\t\\N\t"
            "2024-03-02\n"
        )

    def test_special_characters_in_text_are_escaped(self) -> None:
        """Backslash, tab, line breaks and a literal \\N in text read back as is."""
        names = ["a\tb", "line\nbreak", "cr\r\nlf", "back\\slash", "\\N", None, "x"]
        rows = [(n, n + 2, f"C{n}", "P", name, *CLAIM_ROW[5:])
                for n, name in enumerate(names)]  # fmt: skip
        text = CopyText(stage_table(CLAIMS))(_columns(*rows))
        assert [row[4] for row in _read_copy(text)] == names

    def test_numbers_and_dates_read_back_from_the_memo(self) -> None:
        """Repeated cents and dates are written the same from the memo as without."""
        copy = CopyText(stage_table(CLAIMS))
        rows = [(n, n + 2, *CLAIM_ROW[2:8], n % 3 * 100, -5, None, "2024-03-02")
                for n in range(10)]  # fmt: skip
        first, again = copy(_columns(*rows)), copy(_columns(*rows))
        assert first == again
        assert [line[8:11] for line in _read_copy(first)][:4] == [
            ["0", "-5", None], ["100", "-5", None], ["200", "-5", None],
            ["0", "-5", None],
        ]  # fmt: skip

    @given(
        st.lists(
            st.one_of(st.none(), st.text(st.characters(exclude_characters="\x00"))),
            min_size=1,
            max_size=20,
        )
    )
    def test_any_text_round_trips(self, names: list[str | None]) -> None:
        """Whatever a text value holds, COPY reads back exactly that value."""
        rows = [(n, n + 2, f"C{n}", "P", name, *CLAIM_ROW[5:])
                for n, name in enumerate(names)]  # fmt: skip
        text = CopyText(stage_table(CLAIMS))(_columns(*rows))
        assert [row[4] for row in _read_copy(text)] == names

    def test_the_memo_is_bounded(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A full memo starts again, and NULL stays \\N."""
        monkeypatch.setattr(copy_text, "_MEMO_LIMIT", 3)
        copy = CopyText(stage_table(CLAIMS))
        rows = [(n, n + 2, *CLAIM_ROW[2:8], n, n, None, "2024-03-02")
                for n in range(10)]  # fmt: skip
        lines = _read_copy(copy(_columns(*rows)))
        assert [line[8:11] for line in lines] == [[str(n), str(n), None]
                                                   for n in range(10)]  # fmt: skip

    def test_text_columns_are_the_string_columns(self) -> None:
        """A deposit stage's extra originator column is text too."""
        copy = CopyText(stage_table(DEPOSITS, extra=[("originator_id", 10)]))
        row = (0, 2, "D1", "2024-03-01", 100, "T\\1", None, None, "1\t2")
        assert _read_copy(copy(_columns(row))) == [
            ["0", "2", "D1", "2024-03-01", "100", "T\\1", None, None, "1\t2"]
        ]
