"""Split an X12 byte stream into segments, in bounded memory.

The delimiters come from each interchange's ISA segment: the element separator is the
character right after ``ISA``, the repetition separator is ISA11, the component
separator is ISA16 and the segment terminator is the character right after ISA16.
Every ISA may declare other delimiters, so they are read again at each interchange.

What senders do and this module accepts:

- a UTF-8 byte-order mark; bytes that are not UTF-8 are read as Latin-1 from the first
  such byte on (see :attr:`Tokenizer.latin1_from`);
- CR/LF after each terminator, or lines wrapped at any width: when the terminator is
  not a line break, every CR and LF is dropped;
- a line break as the terminator (CR, LF or CRLF); the other line-break character is
  then dropped;
- blank segments (``~~``, trailing newlines), which are skipped by the reader.

The file is read in chunks; each chunk is split with ``str.split`` and handed to the
reader as a batch, so no per-segment Python work happens here and at most about two
chunks are held at once, whatever the file's size.
"""

from __future__ import annotations

import codecs
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from reconcile.errors import ReconcileError

#: Bytes read at a time.
CHUNK_SIZE = 1 << 20
#: No 835 segment comes near this; a longer run without a terminator means the
#: terminator is not what the ISA declared (or the file is not X12).
MAX_SEGMENT_LENGTH = 100_000

_BOM = b"\xef\xbb\xbf"
_LINE_BREAKS = "\r\n"
_BETWEEN_SEGMENTS = " \t\r\n"
#: Characters read before deciding that an ISA segment is incomplete.
_ISA_PROBE = 512


class X12SyntaxError(ReconcileError):
    """The bytes cannot be split into X12 segments at all."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The separators an ISA segment declares."""

    element: str
    component: str
    repetition: str | None
    segment: str


def read_delimiters(text: str) -> Delimiters:
    """Read the delimiters from ``text``, which must start with a whole ISA segment.

    Raises:
        X12SyntaxError: ``text`` does not start with ``ISA``, the segment is
            incomplete, or the delimiters are unusable (letters, digits, repeated).
    """
    if not text.startswith("ISA") or len(text) < 4:
        raise X12SyntaxError("the file does not start with an ISA segment")
    element = text[3]
    if element.isalnum() or element.isspace():
        raise X12SyntaxError(f"ISA declares {element!r} as the element separator")
    position = 3
    for _ in range(15):
        position = text.find(element, position + 1)
        if position == -1:
            raise X12SyntaxError("the ISA segment is incomplete (it needs 16 elements)")
    if len(text) < position + 3:
        raise X12SyntaxError("the ISA segment is incomplete (no segment terminator)")
    component = text[position + 1]
    segment = text[position + 2]
    if segment in _LINE_BREAKS:
        # A line break right after ISA16 is the terminator, unless the text was
        # wrapped there and the real terminator follows the break.
        following = text[position + 2 :].lstrip(_LINE_BREAKS)[:1]
        if following and not (following.isalnum() or following.isspace()):
            segment = following
    repetition_field = text[: position + 1].split(element)[11]
    repetition = (
        repetition_field
        if len(repetition_field) == 1 and not repetition_field.isalnum()
        else None
    )
    chosen = [element, component, segment]
    if component.isalnum() or component.isspace() or segment.isalnum():
        raise X12SyntaxError(
            "ISA16 and the character after it must be the component separator and "
            "the segment terminator, not letters, digits or spaces"
        )
    if segment == " ":
        raise X12SyntaxError("ISA declares a space as the segment terminator")
    if len(set(chosen)) != len(chosen):
        raise X12SyntaxError(
            "ISA declares the same character for two delimiters "
            f"(element {element!r}, component {component!r}, segment {segment!r})"
        )
    return Delimiters(element, component, repetition, segment)


class Tokenizer:
    """Turns a binary stream into batches of segment texts.

    Iterate over :meth:`batches`; each batch is ``(delimiters, texts)`` where ``texts``
    are the segments of one stretch of one interchange, without terminators (some may
    be blank). Splitting a text on ``delimiters.element`` gives its elements.
    """

    def __init__(self, stream: BinaryIO, *, chunk_size: int = CHUNK_SIZE) -> None:
        self._stream = stream
        self._chunk_size = chunk_size
        #: Byte offset of the first byte that is not UTF-8 (read as Latin-1 from
        #: there on), or None.
        self.latin1_from: int | None = None

    def _texts(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")()
        head = self._stream.read(len(_BOM))
        offset = 0
        if head == _BOM:
            head, offset = b"", len(_BOM)
        while chunk := head + self._stream.read(self._chunk_size):
            head = b""
            if self.latin1_from is None:
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as error:
                    pending, _ = decoder.getstate()
                    data = pending + chunk
                    self.latin1_from = offset - len(pending) + error.start
                    text = data[: error.start].decode() + data[error.start :].decode(
                        "latin-1"
                    )
            else:
                text = chunk.decode("latin-1")
            offset += len(chunk)
            if text:
                yield text
        if self.latin1_from is None:
            pending, _ = decoder.getstate()
            if pending:
                self.latin1_from = offset - len(pending)
                yield pending.decode("latin-1")

    def batches(self) -> Iterator[tuple[Delimiters, list[str]]]:
        """Yield ``(delimiters, segment texts)`` batches in file order.

        Raises:
            X12SyntaxError: no ISA where an interchange must start, unusable
                delimiters, or a run of text without a segment terminator.
        """
        texts = self._texts()
        buffer = ""
        exhausted = False
        first = True
        while True:
            buffer = buffer.lstrip(_BETWEEN_SEGMENTS)
            while not exhausted and len(buffer) < _ISA_PROBE:
                more = next(texts, None)
                if more is None:
                    exhausted = True
                else:
                    buffer = (buffer + more).lstrip(_BETWEEN_SEGMENTS)
            if not buffer:
                return
            if not buffer.startswith("ISA"):
                raise X12SyntaxError(
                    "the file does not start with an ISA segment (it is not an X12 "
                    "file)"
                    if first
                    else "after an IEA, only another interchange (ISA) may follow"
                )
            first = False
            delimiters = read_delimiters(buffer)
            buffer, exhausted = yield from self._interchange(
                buffer, texts, delimiters, exhausted=exhausted
            )

    def _interchange(
        self,
        buffer: str,
        texts: Iterator[str],
        delimiters: Delimiters,
        *,
        exhausted: bool,
    ) -> Generator[tuple[Delimiters, list[str]], None, tuple[str, bool]]:
        """Yield one interchange's batches; return the text after its IEA."""
        terminator = delimiters.segment
        if terminator in _LINE_BREAKS:
            dropped = "\n" if terminator == "\r" else "\r"

            def clean(text: str) -> str:
                return text.replace(dropped, "")
        else:

            def clean(text: str) -> str:
                return text.replace("\r", "").replace("\n", "")

        marker = "IEA" + delimiters.element
        searched = 0  # buffer[:searched] holds no IEA segment start
        while True:
            start = _segment_start(buffer, marker, terminator, searched)
            if start != -1:
                end = buffer.find(terminator, start)
                if end == -1 and not exhausted:
                    buffer, exhausted = _read_more(buffer, texts)
                    searched = start
                    continue
                if end == -1:
                    end = len(buffer)
                yield delimiters, _split(clean(buffer[:end]), terminator)
                return buffer[end + 1 :], exhausted
            cut = buffer.rfind(terminator)
            if cut != -1:
                yield delimiters, _split(clean(buffer[:cut]), terminator)
                buffer = buffer[cut + 1 :]
            elif len(buffer) > MAX_SEGMENT_LENGTH:
                raise X12SyntaxError(
                    f"no segment terminator {terminator!r} within "
                    f"{MAX_SEGMENT_LENGTH:,} characters"
                )
            if exhausted:
                if buffer.strip(_BETWEEN_SEGMENTS):
                    yield delimiters, _split(clean(buffer), terminator)
                return "", True
            # An IEA may straddle the chunk boundary: search again from a little
            # before the new text.
            searched = max(0, len(buffer) - len(marker) - 4)
            buffer, exhausted = _read_more(buffer, texts)


def _split(text: str, terminator: str) -> list[str]:
    if "\x00" in text:
        # No database text column can hold a NUL character.
        raise X12SyntaxError("the file contains a NUL character (byte 0)")
    return text.split(terminator)


def _read_more(buffer: str, texts: Iterator[str]) -> tuple[str, bool]:
    more = next(texts, None)
    if more is None:
        return buffer, True
    return buffer + more, False


def _segment_start(text: str, marker: str, terminator: str, start: int) -> int:
    """Return where a segment starting with ``marker`` begins in ``text``, or -1.

    ``marker`` must sit at a segment start: at the beginning of ``text`` or after the
    terminator (and any line breaks or spaces), not inside another segment's data.
    """
    position = text.find(marker, start)
    while position != -1:
        before = position - 1
        while (
            before >= 0
            and text[before] in _BETWEEN_SEGMENTS
            and text[before] != terminator
        ):
            before -= 1
        if before < 0 or text[before] == terminator:
            return position
        position = text.find(marker, position + 1)
    return -1
