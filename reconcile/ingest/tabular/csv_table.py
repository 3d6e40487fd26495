"""CSV files: encoding, dialect and numbered records, streamed.

- **Encoding:** UTF-8 (a byte-order mark is dropped), else Windows-1252, the two that
  practice-management systems and Excel write. The whole file is checked first, in
  chunks, so a stray byte on line 900,000 cannot turn up after rows were read.
- **Dialect:** :class:`csv.Sniffer` on the first 64 KiB picks the delimiter (``,``
  ``;`` ``|`` or tab) and quote character; quotes inside quoted fields are always
  doubled (``""``), as every spreadsheet writes them.
- **Lines:** a record that spans several physical lines (a quoted line break) is
  numbered by the line it starts on.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from reconcile.ingest.outcome import FileRejected, Problem
from reconcile.ingest.tabular.table import (
    NumberedRow,
    RowsUnreadable,
    Table,
    is_blank_text,
    split_header,
)

DELIMITERS = ",;|\t"
_SAMPLE_CHARS = 64 * 1024
_CHUNK = 1 << 20


def _decodes_as(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def detect_encoding(path: Path) -> str:
    """Return ``"utf-8-sig"`` or ``"cp1252"``, whichever decodes the whole file.

    Raises:
        FileRejected: neither does (a binary file, or another encoding).
    """
    for encoding in ("utf-8-sig", "cp1252"):
        if _decodes_as(path, encoding):
            return encoding
    raise FileRejected(
        [
            Problem(
                "is not a CSV text file in UTF-8 or Windows-1252 (nor an XLSX workbook)"
            )
        ]
    )


class _Dialect(csv.Dialect):
    """The sniffed delimiter and quote character, with standard quoting rules."""

    delimiter = ","
    quotechar = '"'
    doublequote = True
    skipinitialspace = False
    lineterminator = "\r\n"
    quoting = csv.QUOTE_MINIMAL
    strict = False


def sniff_dialect(sample: str) -> type[csv.Dialect]:
    """Choose the delimiter and quote character from the start of the file."""
    lines = [line for line in sample.splitlines() if line.strip()]
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS)
        delimiter, quotechar = sniffed.delimiter, sniffed.quotechar or '"'
        skip_space = bool(sniffed.skipinitialspace)
    except csv.Error:
        # One column, or too few lines to compare: count delimiters in the header.
        first = lines[0] if lines else ""
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        delimiter = best if counts[best] else ","
        quotechar, skip_space = '"', False
    if quotechar not in "\"'":
        quotechar = '"'

    class Sniffed(_Dialect):
        pass

    Sniffed.delimiter = delimiter
    Sniffed.quotechar = quotechar
    Sniffed.skipinitialspace = skip_space
    return Sniffed


def _sample(handle: TextIO) -> str:
    sample = handle.read(_SAMPLE_CHARS)
    if len(sample) == _SAMPLE_CHARS and "\n" in sample:
        # Only whole lines: a cut line would look like another dialect.
        sample = sample[: sample.rindex("\n") + 1]
    return sample


def _records(handle: TextIO, dialect: type[csv.Dialect]) -> Iterator[NumberedRow]:
    reader = csv.reader(handle, dialect)
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error as error:
        raise RowsUnreadable(
            start, f"cannot be read as CSV from here on: {error}"
        ) from None


@contextmanager
def open_csv(*, path: Path) -> Iterator[Table]:
    """Open a CSV file: header and streamed records.

    Raises:
        FileRejected: not UTF-8 or Windows-1252 text, or no header row.
    """
    encoding = detect_encoding(path)
    with path.open(encoding=encoding, newline="") as handle:
        sample = _sample(handle)
        if not sample.strip():
            raise FileRejected([Problem("the file is empty: it has no header row")])
        dialect = sniff_dialect(sample)
        handle.seek(0)
        rows = _records(handle, dialect)
        try:
            header_line, header = split_header(rows)
        except RowsUnreadable as error:
            raise FileRejected([Problem(error.reason, line=error.line)]) from None
        yield Table(
            header=header,
            header_line=header_line,
            rows=rows,
            fixed_width=True,
            blank=is_blank_text,
        )
