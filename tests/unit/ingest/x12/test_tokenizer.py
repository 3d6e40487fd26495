"""The tokenizer: delimiters from ISA, line breaks, BOM, chunks, interchanges."""

from __future__ import annotations

import io

import pytest

from reconcile.ingest.x12.tokenizer import (
    MAX_SEGMENT_LENGTH,
    Delimiters,
    Tokenizer,
    X12SyntaxError,
    read_delimiters,
)

ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    "*240301*1200*^*00501*000000001*0*P*:"
)


def isa(element: str = "*", component: str = ":", repetition: str = "^") -> str:
    """The ISA above, written with other delimiters."""
    text = ISA.replace("*", element)
    return (
        text[:-1].replace(f"{element}^{element}", f"{element}{repetition}{element}")
        + component
    )


def segments(data: bytes, *, chunk_size: int = 1 << 20) -> list[str]:
    """The non-blank segment texts of ``data``."""
    tokenizer = Tokenizer(io.BytesIO(data), chunk_size=chunk_size)
    return [text for _, batch in tokenizer.batches() for text in batch if text]


def delimiters_seen(data: bytes) -> list[Delimiters]:
    """The delimiters of each batch."""
    return [d for d, _ in Tokenizer(io.BytesIO(data)).batches()]


BODY = [
    "GS*HP*A*B*20240301*1200*1*X*005010X221A1",
    "ST*835*0001",
    "SE*2*0001",
    "GE*1*1",
    "IEA*1*000000001",
]


def document(terminator: str = "~", newline: str = "\n") -> str:
    """A small interchange with the given terminator and line break."""
    return "".join(s + terminator + newline for s in [ISA, *BODY])


class TestReadDelimiters:
    def test_standard_delimiters(self) -> None:
        """The element separator follows ISA; ISA11, ISA16 and the terminator follow."""
        found = read_delimiters(ISA + "~GS")
        assert found == Delimiters("*", ":", "^", "~")

    def test_other_delimiters(self) -> None:
        """Any punctuation may serve, and is read from where ISA puts it."""
        found = read_delimiters(isa("|", ">", "!") + "\nGS")
        assert found == Delimiters("|", ">", "!", "\n")

    def test_4010_repetition_field_is_not_a_separator(self) -> None:
        """In 4010, ISA11 is the letter U (a standards id), not a separator."""
        found = read_delimiters(ISA.replace("*^*", "*U*") + "~")
        assert found.repetition is None

    def test_line_wrapped_after_isa16(self) -> None:
        """A line break right after ISA16 followed by the terminator is wrapping."""
        assert read_delimiters(ISA + "\n~GS").segment == "~"

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("GS*HP", "does not start with an ISA"),
            ("ISA*00*", "incomplete"),
            (ISA, "no segment terminator"),
            (ISA.replace("*", "A"), "element separator"),
            (ISA[:-1] + "Z~", "not letters, digits or spaces"),
            (ISA[:-1] + "*~", "same character"),
            (ISA + " ", "space as the segment terminator"),
        ],
    )
    def test_unusable_isa(self, text: str, reason: str) -> None:
        """An ISA that declares no usable delimiters is a syntax error."""
        with pytest.raises(X12SyntaxError, match=reason):
            read_delimiters(text)


class TestTokenizer:
    @pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64, 1 << 20])
    def test_chunk_boundaries_do_not_matter(self, chunk_size: int) -> None:
        """Segments come out the same whatever the chunk size."""
        data = document().encode() * 3
        assert segments(data, chunk_size=chunk_size) == [ISA, *BODY] * 3

    @pytest.mark.parametrize(
        ("terminator", "newline"),
        [("~", ""), ("~", "\n"), ("~", "\r\n"), ("\n", ""), ("\r\n", ""), ("\r", "")],
        ids=["tilde", "tilde-lf", "tilde-crlf", "lf", "crlf", "cr"],
    )
    def test_line_breaks_and_terminators(self, terminator: str, newline: str) -> None:
        """CR/LF between segments, or a line break as the terminator, all read."""
        data = document(terminator, newline).encode()
        assert segments(data, chunk_size=5) == [ISA, *BODY]

    def test_byte_order_mark_is_skipped(self) -> None:
        """A UTF-8 BOM before ISA is not part of the first segment."""
        data = b"\xef\xbb\xbf" + document().encode()
        assert segments(data, chunk_size=2)[0] == ISA

    def test_wrapped_lines_are_joined(self) -> None:
        """Text wrapped at a fixed width reads as if it were one line."""
        flat = document(newline="")
        wrapped = "\n".join(flat[i : i + 80] for i in range(0, len(flat), 80))
        assert segments(wrapped.encode(), chunk_size=33) == [ISA, *BODY]

    def test_each_interchange_declares_its_delimiters(self) -> None:
        """A second interchange may use other delimiters than the first."""
        second = "".join(s.replace("*", "|") + "\n" for s in [isa("|", ">"), *BODY])
        data = (document() + second).encode()
        found = delimiters_seen(data)
        assert found[0] == Delimiters("*", ":", "^", "~")
        assert found[-1] == Delimiters("|", ">", "^", "\n")
        assert segments(data, chunk_size=9)[-1] == "IEA|1|000000001"

    def test_iea_inside_data_is_not_an_interchange_end(self) -> None:
        """'IEA*' inside an element does not end the interchange early."""
        text = document().replace("ST*835*0001", "ST*835*0001~N1*PR*GIEA*X")
        assert "N1*PR*GIEA*X" in segments(text.encode(), chunk_size=4)

    def test_last_segment_without_terminator(self) -> None:
        """The file may end without a terminator after its last segment."""
        data = document(newline="").rstrip("~").encode()
        assert segments(data)[-1] == "IEA*1*000000001"

    def test_not_utf8_is_read_as_latin1(self) -> None:
        """Bytes that are not UTF-8 read as Latin-1 from there on, and are noted."""
        data = (
            document()
            .replace("ST*835*0001", "ST*835*0001~N1*PR*JOS\xc9")
            .encode("latin-1")
        )
        tokenizer = Tokenizer(io.BytesIO(data), chunk_size=16)
        texts = [t for _, batch in tokenizer.batches() for t in batch if t]
        assert "N1*PR*JOSÉ" in texts
        assert tokenizer.latin1_from == data.index(b"\xc9")

    def test_utf8_names_read_as_utf8(self) -> None:
        """Multi-byte UTF-8 split across chunks reads back whole."""
        data = document().replace("ST*835*0001", "ST*835*0001~N1*PR*JOSÉ").encode()
        tokenizer = Tokenizer(io.BytesIO(data), chunk_size=3)
        texts = [t for _, batch in tokenizer.batches() for t in batch if t]
        assert "N1*PR*JOSÉ" in texts
        assert tokenizer.latin1_from is None

    def test_empty_file_has_no_segments(self) -> None:
        """An empty (or blank) file yields nothing."""
        assert segments(b"") == []
        assert segments(b" \r\n") == []

    def test_text_that_is_not_x12(self) -> None:
        """A file that does not start with ISA is a syntax error."""
        with pytest.raises(X12SyntaxError, match="does not start with an ISA"):
            segments(b"claim_id,amount\nA1,12.00\n")

    def test_garbage_after_the_interchange(self) -> None:
        """After IEA only another ISA may follow."""
        with pytest.raises(X12SyntaxError, match="after an IEA"):
            segments((document() + "GS*HP~").encode())

    def test_missing_terminator_is_bounded(self) -> None:
        """A run without the declared terminator stops at the length limit."""
        data = (ISA + "~" + "GS*" + "X" * (MAX_SEGMENT_LENGTH + 10)).encode()
        with pytest.raises(X12SyntaxError, match="no segment terminator"):
            segments(data, chunk_size=4096)
