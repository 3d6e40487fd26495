"""BAI2 bank files: credit details become deposits, with the CCD+ reassociation trace.

The ``bai2`` library parses the file and checks its integrity (record counts and
control totals at account, group and file level). This module adds what the library
does not give: the line each record starts on (so every problem names it), and the
deposits themselves.

- **Deposits** are type 16 detail records whose type code is a *credit* at *detail*
  level (ACH credits, lockbox, wires, check deposits …); debits, summaries and
  status codes are not deposits. A zero credit (an ACH prenote) is skipped with a
  warning; a negative one is an error.
- **Amount**: BAI2 amounts are whole cents already; only USD accounts are read.
- **Date**: the group's as-of date.
- **deposit_id**: ``<account>:<YYYYMMDD>:<bank reference>`` (or ``:C<customer
  reference>``, or without either ``:<type>:<amount>:<n>``, the n-th such credit of
  the day), so the same credit in a later file (an intraday then a prior-day report)
  is the same deposit. An id longer than the column is replaced by a hash of itself.
- **Reassociation** (835 reference §1.7): the CCD+ addenda text
  ``TRN*1*<TRN02>*<TRN03>\\`` gives ``trace_number`` (TRN02, the 835's trace) and
  ``originator_id`` (TRN03, ``1`` + payer EIN). The text is read as the records
  wrote it, continuation records joined with nothing between them, as the BAI2
  format says (the library joins them with a space, which would split a trace cut
  at the end of a record).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bai2.constants import GroupStatus, RecordCode, TypeCodeLevel, TypeCodeTransaction
from bai2.exceptions import (
    IntegrityException,
    NotSupportedYetException,
    ParsingException,
)
from bai2.helpers import IteratorHelper
from bai2.parsers import Bai2FileParser

from reconcile.ingest.outcome import MAX_PROBLEMS, FileRejected, Problem
from reconcile.ingest.tabular.problems import ProblemLog
from reconcile.money import MAX_CENTS

_CODES = {code.value: code for code in RecordCode}
_ID_LENGTH = 64
_TRACE_LENGTH = 50
_ACCOUNT_LENGTH = 35
_TRN = re.compile(r"TRN\*1\*([^*\\~]+?)(?:\*([^*\\~]*))?(?:[*\\~]|$)")
_ORIGINATOR = re.compile(r"[0-9A-Za-z]{10}")
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
    return [
        _Line(number, raw.strip())
        for number, raw in enumerate(text.splitlines(), start=1)
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
            [Problem("records follow the file trailer (99)", line=starts[-1])]
        )
    return parsed


def reassociation_trace(text: str) -> tuple[str | None, str | None, str | None]:
    """Find ``TRN*1*<trace>*<originator>`` in addenda text.

    Returns ``(trace, originator, warning)``. The originator is kept only when it
    is the 10 characters TRN03 has; otherwise the warning says why it was not.
    """
    match = _TRN.search(text)
    if match is None:
        return None, None, None
    trace = match.group(1).strip()
    words = (match.group(2) or "").split()
    originator = words[0] if words else ""
    if not trace:
        return None, None, "the TRN segment has no trace number (TRN02)"
    if len(trace) > _TRACE_LENGTH:
        return None, None, f"the TRN trace number is longer than {_TRACE_LENGTH}"
    if not _ORIGINATOR.fullmatch(originator):
        return trace, None, "the TRN originator (TRN03) is not 10 letters or digits"
    return trace, originator, None


def _deposit_id(account: str, day: str, detail: Any, nth: dict[str, int]) -> str:
    if detail.bank_reference:
        key = f"{account}:{day}:{detail.bank_reference}"
    elif detail.customer_reference:
        key = f"{account}:{day}:C{detail.customer_reference}"
    else:
        base = f"{account}:{day}:{detail.type_code.code}:{detail.amount}"
        nth[base] = nth.get(base, 0) + 1
        key = f"{base}:{nth[base]}"
    if len(key) <= _ID_LENGTH:
        return key
    return "bai2:" + hashlib.sha256(key.encode()).hexdigest()[: _ID_LENGTH - 5]


def _is_deposit(detail: Any) -> bool:
    code = detail.type_code
    return bool(
        code.transaction is TypeCodeTransaction.credit
        and code.level is TypeCodeLevel.detail
    )


def read_bai2(
    *, path: Path, log: ProblemLog, warnings: list[Problem]
) -> Iterator[tuple[object, ...]]:
    """Yield the deposit stage rows of a BAI2 file; log problems, add warnings.

    Rows are ``(seq, line, deposit_id, deposit_on, amount_cents, trace_number,
    payer_name, account, originator_id)``.

    Raises:
        FileRejected: the file's structure is broken (a line that is not a record,
            a failed integrity check); such a file cannot be read further.
    """
    lines = _lines(path)
    starts = _record_starts(lines)
    parsed = _parse(lines, starts)
    nth: dict[str, int] = {}
    seq = 0
    index = 0  # the record index of the file header
    for group in parsed.children:
        index += 1
        group_line = starts[index]
        as_of = group.header.as_of_date
        status = group.header.group_status
        if status is not GroupStatus.update and status is not GroupStatus.correction:
            log.add(
                Problem(
                    f"the group's status is {status.name.replace('_', ' ')}: only "
                    "update and correction groups hold deposits",
                    line=group_line,
                )
            )
        if as_of is None:
            log.add(Problem("the group header has no as-of date", line=group_line))
        for account in group.children:
            index += 1
            account_line = starts[index]
            number = account.header.customer_account_number
            currency = account.header.currency or group.header.currency or "USD"
            if not number:
                log.add(Problem("the account has no account number", line=account_line))
            elif len(str(number)) > _ACCOUNT_LENGTH:
                log.add(
                    Problem(
                        f"the account number is longer than {_ACCOUNT_LENGTH}",
                        line=account_line,
                    )
                )
            if currency != "USD":
                log.add(
                    Problem(
                        f"the account is in {currency}; only USD accounts are read",
                        line=account_line,
                    )
                )
            usable = (
                bool(number)
                and len(str(number)) <= _ACCOUNT_LENGTH
                and currency == "USD"
                and as_of is not None
            )
            for detail in account.children:
                index += 1
                line = starts[index]
                if not _is_deposit(detail):
                    continue
                amount = detail.amount
                if amount is None or amount < 0 or amount >= MAX_CENTS:
                    log.add(
                        Problem(
                            "the credit has no amount"
                            if amount is None
                            else "the credit amount is negative or too large",
                            line=line,
                        )
                    )
                    continue
                if amount == 0:
                    warnings.append(
                        Problem(
                            "a zero credit (an ACH prenote?) is not a deposit; skipped",
                            line=line,
                        )
                    )
                    continue
                if not usable:
                    continue
                record = "".join(text for _, text in detail.rows)
                trace, originator, warning = reassociation_trace(record)
                if warning:
                    warnings.append(Problem(warning, line=line))
                day = as_of.strftime("%Y%m%d")
                account_text = str(number)
                yield (
                    seq,
                    line,
                    _deposit_id(account_text, day, detail, nth),
                    as_of.isoformat(),
                    int(amount),
                    trace,
                    None,
                    account_text,
                    originator,
                )
                seq += 1
            index += 1  # the account trailer
        index += 1  # the group trailer
