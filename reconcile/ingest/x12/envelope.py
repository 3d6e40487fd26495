"""Envelopes: ISA…IEA, GS…GE and ST…SE nesting, control numbers and counts.

Rules checked (each fault names its segment):

- every ISA is closed by an IEA with IEA01 = its number of GS and IEA02 = ISA13;
- every GS is closed by a GE with GE01 = its number of ST and GE02 = GS06; GS01 is
  ``HP`` and GS08 is ``005010X221A1`` (any other version is rejected, saying so);
- every ST is closed by an SE with SE01 = its number of segments (ST and SE
  included) and SE02 = ST02; ST01 is ``835``; ST03, when present, is the version;
- control numbers do not repeat: GS06 within an interchange, ST02 within a group.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconcile.ingest.x12.codes import FUNCTIONAL_ID, VERSION
from reconcile.ingest.x12.problems import ProblemLog


@dataclass(frozen=True, slots=True)
class TransactionContext:
    """Where a transaction set sits: its envelopes' identifiers."""

    file_seq: int
    interchange_control: str
    interchange_sender: str
    interchange_receiver: str
    group_control: str
    transaction_control: str
    version: str


def _count(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


class Envelope:
    """Tracks the envelopes of one file and reports their faults."""

    def __init__(self, log: ProblemLog) -> None:
        self._log = log
        self._interchange: list[str] | None = None
        self._interchange_at = 0
        self._groups = 0
        self._group_controls: set[str] = set()
        self._group: list[str] | None = None
        self._group_at = 0
        self._transactions = 0
        self._transaction_controls: set[str] = set()
        self._transaction: list[str] | None = None
        #: Segment number of the open ST (0 when none is open).
        self.transaction_at = 0
        #: ST segments seen in the file so far.
        self.transactions_in_file = 0

    @property
    def in_transaction(self) -> bool:
        """Whether an ST is open."""
        return self._transaction is not None

    def isa(self, elements: list[str], number: int) -> None:
        """Open an interchange."""
        if self._interchange is not None:
            self._unclosed(number, "ISA")
        self._interchange = elements + [""] * (17 - len(elements))
        self._interchange_at = number
        self._groups = 0
        self._group_controls = set()
        if len(elements) < 17:
            self._log.reject(number, "ISA", "ISA must have 16 elements")
        for index in (6, 8):
            if len(self._interchange[index].strip()) > 15:
                self._log.reject(
                    number, "ISA", f"ISA{index:02d} is longer than 15 characters"
                )
        control = self._interchange[13]
        if not (len(control) == 9 and _count(control) is not None):
            self._log.reject(
                number, "ISA", f"ISA13 {control!r} is not a 9-digit control number"
            )

    def gs(self, elements: list[str], number: int) -> None:
        """Open a functional group."""
        if self._interchange is None:
            self._log.reject(number, "GS", "GS outside an interchange (no ISA)")
        if self._group is not None:
            self._unclosed(number, "GS")
        group = elements + [""] * (9 - len(elements))
        self._group = group
        self._group_at = number
        self._groups += 1
        self._transactions = 0
        self._transaction_controls = set()
        control = group[6]
        if _count(control) is None or len(control) > 9:
            self._log.reject(
                number, "GS", f"GS06 {control!r} is not a control number of 1-9 digits"
            )
        elif control in self._group_controls:
            self._log.reject(
                number,
                "GS",
                f"GS06 {control} repeats an earlier group's control number",
            )
        self._group_controls.add(control)
        if group[1] != FUNCTIONAL_ID:
            self._log.reject(
                number,
                "GS",
                f"GS01 {group[1]!r} is not HP: the group does not hold 835 remittances",
            )
        if group[8] != VERSION:
            self._log.reject(
                number,
                "GS",
                f"version {group[8] or '(none)'} (GS08) is not supported: reconcile "
                f"reads 835 remittances of version {VERSION} only",
            )

    def st(self, elements: list[str], number: int) -> TransactionContext:
        """Open a transaction set; return where it sits."""
        if self._group is None:
            self._log.reject(number, "ST", "ST outside a functional group (no GS)")
        if self._transaction is not None:
            self._unclosed(number, "ST")
        transaction = elements + [""] * (4 - len(elements))
        self._transaction = transaction
        self.transaction_at = number
        self._transactions += 1
        self.transactions_in_file += 1
        if transaction[1] != "835":
            self._log.reject(
                number, "ST", f"ST01 {transaction[1]!r} is not 835 (a remittance)"
            )
        control = transaction[2]
        if not 4 <= len(control) <= 9:
            self._log.reject(
                number,
                "ST",
                f"ST02 {control!r} is not a control number of 4-9 characters",
            )
        elif control in self._transaction_controls:
            self._log.reject(
                number,
                "ST",
                f"ST02 {control} repeats an earlier transaction set's control number "
                "in the same group",
            )
        self._transaction_controls.add(control)
        if transaction[3] and transaction[3] != VERSION:
            self._log.reject(
                number,
                "ST",
                f"version {transaction[3]} (ST03) is not supported: reconcile reads "
                f"835 remittances of version {VERSION} only",
            )
        interchange = self._interchange or [""] * 17
        group = self._group or [""] * 9
        return TransactionContext(
            file_seq=self.transactions_in_file,
            interchange_control=interchange[13],
            interchange_sender=interchange[6].strip(),
            interchange_receiver=interchange[8].strip(),
            group_control=group[6],
            transaction_control=control,
            version=group[8],
        )

    def se(self, elements: list[str], number: int) -> bool:
        """Close the transaction set; return False when none was open."""
        if self._transaction is None:
            self._log.reject(number, "SE", "SE without an open transaction set (no ST)")
            return False
        closing = elements + [""] * (3 - len(elements))
        segments = number - self.transaction_at + 1
        declared = _count(closing[1])
        if declared is None:
            self._log.reject(
                number, "SE", f"SE01 {closing[1]!r} is not a segment count"
            )
        elif declared != segments:
            self._log.reject(
                number,
                "SE",
                f"SE01 says {declared} segments but the transaction set has "
                f"{segments} (ST through SE)",
            )
        if closing[2] != self._transaction[2]:
            self._log.reject(
                number,
                "SE",
                f"SE02 control number {closing[2]!r} does not match ST02 "
                f"{self._transaction[2]!r}",
            )
        self._transaction = None
        self.transaction_at = 0
        return True

    def ge(self, elements: list[str], number: int) -> None:
        """Close the functional group."""
        if self._group is None:
            self._log.reject(
                number, "GE", "GE without an open functional group (no GS)"
            )
            return
        if self._transaction is not None:
            self._unclosed(number, "GE")
        closing = elements + [""] * (3 - len(elements))
        declared = _count(closing[1])
        if declared is None:
            self._log.reject(
                number, "GE", f"GE01 {closing[1]!r} is not a transaction set count"
            )
        elif declared != self._transactions:
            self._log.reject(
                number,
                "GE",
                f"GE01 says {declared} transaction sets but the group has "
                f"{self._transactions}",
            )
        if closing[2] != self._group[6]:
            self._log.reject(
                number,
                "GE",
                f"GE02 control number {closing[2]!r} does not match GS06 "
                f"{self._group[6]!r}",
            )
        self._group = None

    def iea(self, elements: list[str], number: int) -> None:
        """Close the interchange."""
        if self._interchange is None:
            self._log.reject(number, "IEA", "IEA without an open interchange (no ISA)")
            return
        if self._group is not None:
            self._unclosed(number, "IEA")
        closing = elements + [""] * (3 - len(elements))
        declared = _count(closing[1])
        if declared is None:
            self._log.reject(
                number, "IEA", f"IEA01 {closing[1]!r} is not a functional group count"
            )
        elif declared != self._groups:
            self._log.reject(
                number,
                "IEA",
                f"IEA01 says {declared} functional groups but the interchange has "
                f"{self._groups}",
            )
        if closing[2] != self._interchange[13]:
            self._log.reject(
                number,
                "IEA",
                f"IEA02 control number {closing[2]!r} does not match ISA13 "
                f"{self._interchange[13]!r}",
            )
        self._interchange = None

    def finish(self, number: int) -> None:
        """Report envelopes still open at the end of the file (after ``number``)."""
        self._unclosed(number, None)

    def _unclosed(self, number: int, by: str | None) -> None:
        """Report (and forget) the envelopes that ``by`` implicitly cuts short."""
        where = f"before {by} (segment {number})" if by else "at the end of the file"
        closes = {"ST": 1, "GE": 1, "GS": 2, "IEA": 2, "ISA": 3, None: 3}[by]
        if self._transaction is not None:
            self._log.reject(
                self.transaction_at,
                "ST",
                f"the transaction set {self._transaction[2]!r} has no SE {where}",
            )
            self._transaction = None
            self.transaction_at = 0
        if closes >= 2 and self._group is not None:
            self._log.reject(
                self._group_at,
                "GS",
                f"the functional group {self._group[6]!r} has no GE {where}",
            )
            self._group = None
        if closes >= 3 and self._interchange is not None:
            self._log.reject(
                self._interchange_at,
                "ISA",
                f"the interchange {self._interchange[13]!r} has no IEA {where}",
            )
            self._interchange = None
