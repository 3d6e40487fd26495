"""BAI2 records: parsed by the ``bai2`` library, each with the line it starts on.

The library checks a file's structure and integrity (record counts and control
totals at account, group and file level) but knows no line numbers: it strips and
joins lines as it goes. Here lines are numbered first, grouped into records (a
``88`` continuation belongs to the record above), and the library's iterator is
counted, so a refusal names the line of the record at fault, in a sentence without
the field's text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bai2.constants import RecordCode
from bai2.exceptions import (
    IntegrityException,
    NotSupportedYetException,
    ParsingException,
)
from bai2.helpers import IteratorHelper
from bai2.parsers import Bai2FileParser

from reconcile.ingest.outcome import MAX_PROBLEMS, FileRejected, Problem

_CODES = {code.value: code for code in RecordCode}
_RECORD_NAME = re.compile(r"RecordCode\.(\w+)")
_QUOTED = re.compile(r"'[^']*'")


def looks_like_bai2(path: Path) -> bool:
    """Whether the file starts like a BAI2 file (a ``01,`` file header record)."""
    with path.open("rb") as handle:
        start = handle.read(64)
    return start.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"01,")


@dataclass(frozen=True)
class _Line:
    number: int  # physical line in the file
    text: str


def _lines(path: Path) -> list[_Line]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines = text.splitlines()
    nul = next((n for n, raw in enumerate(lines, start=1) if "\x00" in raw), None)
    if nul is not None:
        # BAI2 is text; no database text column can hold a NUL character.
        raise FileRejected(
            [
                Problem(
                    "contains a NUL character (byte 0): not a BAI2 text file", line=nul
                )
            ]
        )
    return [
        _Line(number, raw.strip())
        for number, raw in enumerate(lines, start=1)
        if raw.strip()
    ]


def _record_starts(lines: Sequence[_Line]) -> list[int]:
    """The line each record starts on (continuations belong to the record above).

    Raises:
        FileRejected: a line that is not a BAI2 record, or a continuation first.
    """
    problems: list[Problem] = []
    starts: list[int] = []
    for line in lines:
        code = line.text[:2]
        if code not in _CODES or line.text[2:3] != ",":
            problems.append(
                Problem(
                    "is not a BAI2 record: it must start with a record code (01, 02, "
                    "03, 16, 49, 88, 98 or 99) and a comma",
                    line=line.number,
                )
            )
        elif _CODES[code] is RecordCode.continuation:
            if not starts:
                problems.append(
                    Problem("a continuation (88) record has no record to continue",
                            line=line.number)
                )  # fmt: skip
        else:
            starts.append(line.number)
    if problems:
        raise FileRejected(problems[:MAX_PROBLEMS])
    return starts


class _Cursor(IteratorHelper):  # type: ignore[misc]
    """The library's record iterator, counting the records it has moved past."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.index = -1
        self.exhausted = False
        super().__init__(iter(lines))

    def advance(self) -> None:
        try:
            super().advance()
        except StopIteration:
            self.exhausted = True
            raise
        self.index += 1


_RECORD_NAMES = {
    "01": "file header",
    "02": "group header",
    "03": "account identifier",
    "16": "transaction detail",
    "49": "account trailer",
    "88": "continuation",
    "98": "group trailer",
    "99": "file trailer",
}


def _explain(error: Exception, record: str) -> str:
    """One sentence for a library error at a record (its text starts with a code)."""

    def readable(match: re.Match[str]) -> str:
        code = RecordCode[match.group(1)].value
        return f"{_RECORD_NAMES[code]} ({code})"

    message = _RECORD_NAME.sub(readable, str(error))
    name = _RECORD_NAMES.get(record[:2], "BAI2")
    if isinstance(error, IntegrityException):
        return f"the BAI2 counts or control totals do not add up: {message}"
    if isinstance(error, NotSupportedYetException) and "Type code" in message:
        return (
            f"{message}: bank-specific BAI2 type codes cannot be read; ask the bank "
            "for standard codes"
        )
    if isinstance(error, ParsingException | NotSupportedYetException):
        return f"the BAI2 structure is broken here: {message}"
    if isinstance(error, IndexError):
        return f"the {name} record has too few fields"
    # The library quotes the field's text; the reason names the place instead.
    detail = _QUOTED.sub("a value", message)
    return f"the {name} record has a field that cannot be read ({detail})"


def _parse(lines: Sequence[_Line], starts: Sequence[int]) -> Any:
    """Parse with the library; a failure names the record it happened at.

    Raises:
        FileRejected: the library refused the file.
    """
    cursor = _Cursor([line.text for line in lines])
    try:
        parsed = Bai2FileParser(cursor, check_integrity=True).parse()
    except Exception as error:  # the library raises bare ValueErrors and its own
        at = cursor.index
        if isinstance(error, IntegrityException) or "not allowed" in str(error):
            # Raised after a section's trailer was read: the trailer is at fault.
            at = at if cursor.exhausted else at - 1
        line = starts[min(max(at, 0), len(starts) - 1)]
        record = next(x.text for x in lines if x.number == line)
        raise FileRejected([Problem(_explain(error, record), line=line)]) from None
    if not cursor.exhausted:
        raise FileRejected(
            [Problem("records follow the file trailer (99)", line=starts[cursor.index])]
        )
    return parsed


@dataclass(frozen=True)
class Bai2File:
    """A parsed BAI2 file and the line each of its records starts on."""

    parsed: Any  # bai2.models.Bai2File (the library has no type hints)
    #: Record starts in file order: file header, group header, account, details …
    starts: Sequence[int]


def parse_bai2(*, path: Path) -> Bai2File:
    """Read and parse a BAI2 file, checking its structure, counts and totals.

    Raises:
        FileRejected: a line that is not a record, or a record the library refuses
            (the problem names the line of the record at fault).
    """
    lines = _lines(path)
    starts = _record_starts(lines)
    return Bai2File(parsed=_parse(lines, starts), starts=starts)
