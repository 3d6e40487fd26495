"""Any mutation of a valid 835 is read completely or rejected with FileRejected.

No other exception escapes the reader, whatever the bytes: a truncated file, a
deleted, doubled or swapped segment, a changed character, random bytes inserted.
"""

from __future__ import annotations

import io

from hypothesis import example, given
from hypothesis import strategies as st

from reconcile.ingest import FileRejected
from reconcile.ingest.x12.reader import read_remittance
from tests.unit.ingest.x12.test_validation import BASE
from tests.x12_scenarios import SCENARIOS
from tests.x12_support import Collector

SOURCES = [BASE.encode()] + [
    SCENARIOS[name].render()
    for name in (
        "reversal_then_repay",
        "several_interchanges",
        "bom_crlf",
        "delimiters_pipe_newline",
        "forwarding_balance_fb",
    )
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid file with a few random edits."""
    data = bytearray(draw(st.sampled_from(SOURCES)))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(
                ["flip", "insert", "delete", "truncate", "duplicate", "swap"]
            )
        )
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] = draw(st.sampled_from(b"*~:^|>0123456789.-AZ \r\n\xc3\xff"))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "truncate":
            del data[at:]
        else:
            end = data.find(b"~", at)
            start = data.rfind(b"~", 0, at) + 1
            if end == -1:
                continue
            segment = bytes(data[start : end + 1])
            if kind == "duplicate":
                data[start:start] = segment
            else:
                following = data.find(b"~", end + 1)
                if following != -1:
                    data[start : following + 1] = (
                        data[end + 1 : following + 1] + segment
                    )
    return bytes(data)


class TestFuzz:
    @given(mutated())
    @example(b"")
    @example(b"ISA")
    @example(BASE.encode()[:200])
    def test_read_completely_or_rejected(self, data: bytes) -> None:
        """The reader returns (every payment closed) or raises FileRejected only."""
        sink = Collector()
        try:
            result = read_remittance(io.BytesIO(data), sink=sink, chunk_size=97)
        except FileRejected as rejected:
            problems = rejected.problems
        else:
            assert result.transactions >= 1
            assert all(p.end is not None for p in sink.payments)
            return
        assert problems
