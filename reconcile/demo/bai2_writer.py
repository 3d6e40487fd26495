"""Synthetic BAI2 bank files: prior-day reports with credits and CCD+ addenda.

A small exact writer rather than ``bai2``'s own: the library's writer cuts long text
at the record length in the middle of a word, does not pass its line-length options
on to the records it nests, and its parser joins continuation records with a space,
so a CCD+ trace written through it does not read back unchanged. Here each text
piece gets its own ``88`` continuation record (split only beyond 77 characters,
which the reader joins back without a gap), and every count and control total is
computed so that the library's integrity checks pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: Room for text in a continuation record of 80 characters ("88," first).
_TEXT_WIDTH = 77


@dataclass(frozen=True)
class BaiDetail:
    """One transaction detail (type 16 record)."""

    amount_cents: int
    type_code: str = "165"  # preauthorized ACH credit
    bank_reference: str = ""
    customer_reference: str = ""
    #: Text pieces, each in its own continuation record (addenda, descriptions).
    text: Sequence[str] = ()


@dataclass(frozen=True)
class BaiAccount:
    """One account's details in a group."""

    number: str
    details: Sequence[BaiDetail] = ()
    currency: str = "USD"


@dataclass(frozen=True)
class BaiGroup:
    """One group: the accounts reported as of one day."""

    as_of: dt.date
    accounts: Sequence[BaiAccount] = ()
    status: str = "1"  # 1 update, 2 deletion, 3 correction, 4 test only
    as_of_modifier: str = "2"  # final previous day


@dataclass(frozen=True)
class BaiFile:
    """A whole BAI2 file."""

    sender: str
    receiver: str
    created_at: dt.datetime
    groups: Sequence[BaiGroup] = field(default_factory=tuple)
    file_id: str = "1"


def ccd_addenda(*, trace: str, originator: str) -> str:
    """The CCD+ reassociation text of an EFT: ``TRN*1*<TRN02>*<TRN03>\\``."""
    return f"TRN*1*{trace}*{originator}\\"


def _detail_records(detail: BaiDetail) -> list[str]:
    if detail.amount_cents < 0:
        raise ValueError("BAI2 detail amounts are unsigned; use a debit type code")
    head = (
        f"16,{detail.type_code},{detail.amount_cents},Z,"
        f"{detail.bank_reference},{detail.customer_reference}"
    )
    records = [head + "/"]
    for piece in detail.text:
        for start in range(0, len(piece), _TEXT_WIDTH):
            records.append("88," + piece[start : start + _TEXT_WIDTH])
    return records


def _account_records(account: BaiAccount) -> tuple[list[str], int]:
    body: list[str] = [f"03,{account.number},{account.currency}/"]
    total = 0
    for detail in account.details:
        body += _detail_records(detail)
        total += detail.amount_cents
    body.append(f"49,{total},{len(body) + 1}/")
    return body, total


def bai2_text(bai: BaiFile) -> str:
    """Return the file's text, one record per line.

    Raises:
        ValueError: a detail amount is negative (BAI2 amounts are unsigned).
    """
    lines = [
        f"01,{bai.sender},{bai.receiver},{bai.created_at:%y%m%d},"
        f"{bai.created_at:%H%M},{bai.file_id},80,,2/"
    ]
    file_total = 0
    for group in bai.groups:
        records = [
            f"02,{bai.receiver},{bai.sender},{group.status},{group.as_of:%y%m%d},"
            f"2400,USD,{group.as_of_modifier}/"
        ]
        group_total = 0
        for account in group.accounts:
            account_records, account_total = _account_records(account)
            records += account_records
            group_total += account_total
        records.append(f"98,{group_total},{len(group.accounts)},{len(records) + 1}/")
        lines += records
        file_total += group_total
    lines.append(f"99,{file_total},{len(bai.groups)},{len(lines) + 1}/")
    return "\n".join(lines) + "\n"


def write_bai2(*, path: Path, bai: BaiFile) -> Path:
    """Write a BAI2 file (ASCII text); return its path.

    Raises:
        ValueError: a detail amount is negative (BAI2 amounts are unsigned).
    """
    path.write_text(bai2_text(bai), encoding="ascii")
    return path
