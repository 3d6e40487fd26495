"""BAI2 bank files: credit details become deposits, with the CCD+ reassociation trace.

The file is parsed and checked by :mod:`~reconcile.ingest.practice.bai2_records`
(the ``bai2`` library, with the line of every record); this module turns it into
deposits.

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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bai2.constants import GroupStatus, TypeCodeLevel, TypeCodeTransaction

from reconcile.ingest.outcome import Problem
from reconcile.ingest.practice.bai2_records import parse_bai2
from reconcile.ingest.tabular.problems import ProblemLog
from reconcile.money import MAX_CENTS

_ID_LENGTH = 64
_TRACE_LENGTH = 50
_ACCOUNT_LENGTH = 35
_TRN = re.compile(r"TRN\*1\*([^*\\~]+?)(?:\*([^*\\~]*))?(?:[*\\~]|$)")
_ORIGINATOR = re.compile(r"[0-9A-Za-z]{10}")


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
    bai = parse_bai2(path=path)
    parsed, starts = bai.parsed, bai.starts
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
