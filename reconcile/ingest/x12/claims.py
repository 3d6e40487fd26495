"""Claims (CLP loop 2100) and their service lines (SVC loop 2110).

A claim is built while its segments arrive and handed out whole when the next claim,
LX, PLB or SE starts: with its claim-level CAS, its service lines (each with its own
CAS) and the line and claim balancing equations checked.

This is the reader's hot path (most segments of a large file are here), so claims and
lines are built as lists indexed by field position and turned into records once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reconcile.ingest.x12 import codes
from reconcile.ingest.x12.balance import claim_fault, line_fault
from reconcile.ingest.x12.problems import ProblemLog
from reconcile.ingest.x12.records import (
    CLAIM_COLUMNS,
    SERVICE_LINE_COLUMNS,
    Adjustment,
    ClaimPayment,
    ServiceLine,
)
from reconcile.ingest.x12.supplements import REMARK_POSITIONS, read_supplement
from reconcile.ingest.x12.values import (
    AmountFormatError,
    amount_problem,
    cents,
    is_number,
    iso_date,
    shown,
    split_composite,
)

_F = {name: index for index, name in enumerate(ClaimPayment._fields)}
_L = {name: index for index, name in enumerate(ServiceLine._fields)}

# Claim field positions.
C_LX, C_CLAIM_ID, C_STATUS, C_CHARGE, C_PAID = 0, 1, 2, 3, 4
C_PATIENT_LAST = _F["patient_last_name"]
C_PATIENT_FIRST = _F["patient_first_name"]
C_PATIENT_ID = _F["patient_identifier"]
C_INSURED_ID = _F["insured_identifier"]
C_CORRECTED_INSURED_ID = _F["corrected_insured_identifier"]
C_RENDERING = _F["rendering_npi"]
C_CROSSOVER_NAME = _F["crossover_name"]
C_CROSSOVER_ID = _F["crossover_identifier"]
C_CORRECTED_PAYER_NAME = _F["corrected_payer_name"]
C_CORRECTED_PAYER_ID = _F["corrected_payer_identifier"]
C_ORIGINAL_REF = _F["original_ref"]
C_MEMBER_ID = _F["member_id"]
C_PRIOR_AUTH = _F["prior_auth"]
C_FROM = _F["statement_from_on"]
C_TO = _F["statement_to_on"]
C_RECEIVED = _F["received_on"]
C_EXPIRES = _F["coverage_expires_on"]
C_COVERAGE = _F["coverage_cents"]
C_INTEREST = _F["interest_cents"]
C_DISCOUNT = _F["discount_cents"]
C_REMARKS = _F["remark_codes"]
C_EXTRA = _F["extra"]

# Service line field positions.
L_CHARGE, L_PAID = _L["charge_cents"], _L["paid_cents"]
L_FROM, L_TO = _L["service_from_on"], _L["service_to_on"]
L_CONTROL = _L["line_control"]
L_ALLOWED = _L["allowed_cents"]
L_REMARKS = _L["remark_codes"]
L_EXTRA = _L["extra"]

_CLAIM_DATES = {"232": C_FROM, "233": C_TO, "050": C_RECEIVED, "036": C_EXPIRES}
_CLAIM_AMOUNTS = {"AU": C_COVERAGE, "I": C_INTEREST, "D8": C_DISCOUNT}
#: REF qualifier -> (field, widest value stored)
_CLAIM_REFS = {
    "F8": (C_ORIGINAL_REF, 50),
    "1W": (C_MEMBER_ID, 80),
    "G1": (C_PRIOR_AUTH, 50),
}
#: NM101 -> (name field, first-name field, identifier field)
_PARTIES: dict[str, tuple[int | None, int | None, int]] = {
    "QC": (C_PATIENT_LAST, C_PATIENT_FIRST, C_PATIENT_ID),
    "IL": (None, None, C_INSURED_ID),
    "74": (None, None, C_CORRECTED_INSURED_ID),
    "82": (None, None, C_RENDERING),
    "TT": (C_CROSSOVER_NAME, None, C_CROSSOVER_ID),
    "PR": (C_CORRECTED_PAYER_NAME, None, C_CORRECTED_PAYER_ID),
}
_EMPTY_CLAIM: list[Any] = [None] * CLAIM_COLUMNS
_EMPTY_LINE: list[Any] = [None] * SERVICE_LINE_COLUMNS
#: What pads a short SVC to 8 elements, by its length.
_PADDING = [[""] * (8 - size) for size in range(8)]
_TRIPLET_STARTS = range(2, 20, 3)


_new = tuple.__new__
_GROUPS = codes.ADJUSTMENT_GROUPS
_QUALIFIERS = codes.SERVICE_QUALIFIERS


def _json(extra: dict[str, Any] | None) -> str:
    return json.dumps(extra, separators=(",", ":")) if extra else "{}"


def _nowhere(elements: list[str], number: int) -> None:
    """Placeholder until the reader wires the header handlers."""


def _quantity(text: str) -> bool:
    """Whether ``text`` is a quantity of at most 15 characters (``1``, ``2.5``)."""
    if len(text) > 15:
        return False
    return (text.isdigit() and text.isascii()) or is_number(text)


class ClaimReader:
    """Builds the claims of the current payment, segment by segment."""

    def __init__(self, *, log: ProblemLog) -> None:
        self._log = log
        #: The ISA16 of the current interchange.
        self.component = ":"
        #: Where REF and DTM go when no claim is open (the payment header).
        self.header_ref: Callable[[list[str], int], None] = _nowhere
        self.header_dtm: Callable[[list[str], int], None] = _nowhere
        self.claim: list[Any] | None = None
        self._claim_at = 0
        self._claim_adjustments: list[Adjustment] = []
        self._claim_cas = 0
        self._lines: list[ServiceLine] = []
        self._lines_cas = 0
        self._claim_extra: dict[str, Any] | None = None
        self._claim_remarks: list[str] | None = None
        self.line: list[Any] | None = None
        self._line_at = 0
        self._line_adjustments: list[Adjustment] = []
        self._line_cas = 0
        self._line_extra: dict[str, Any] | None = None
        self._line_remarks: list[str] | None = None

    # ---------------------------------------------------------------- claims

    def clp(self, elements: list[str], number: int, lx_number: str | None) -> None:
        """CLP: start a claim (the caller closed the previous one)."""
        size = len(elements)
        if size < 15:
            elements += [""] * (15 - size)
        claim = _EMPTY_CLAIM.copy()
        self.claim = claim
        self._claim_at = number
        self._claim_adjustments = []
        self._claim_cas = 0
        self._lines = []
        self._lines_cas = 0
        self._claim_extra = None
        self._claim_remarks = None
        claim[C_LX] = lx_number
        claim_id, status = elements[1], elements[2]
        claim[C_CLAIM_ID] = claim_id
        claim[C_STATUS] = status
        try:
            claim[C_CHARGE] = cents(elements[3])
            claim[C_PAID] = cents(elements[4])
            claim[5] = cents(elements[5]) if elements[5] else None
        except AmountFormatError:
            self._clp_amounts(elements, number, claim)
        claim[6] = elements[6] or None
        claim[7] = elements[7] or None
        claim[8] = elements[8] or None
        claim[9] = elements[9] or None
        claim[10] = elements[11] or None
        claim[11] = elements[12] or None
        claim[12] = elements[13] or None
        if (
            not claim_id
            or status not in codes.CLAIM_STATUS_CODES
            or len(claim_id) > 38
            or len(elements[6]) > 8
            or len(elements[7]) > 50
            or len(elements[8]) > 8
            or len(elements[9]) > 8
            or len(elements[11]) > 8
            or elements[10]
            or elements[12]
            or elements[13]
            or elements[14]
        ):
            self._clp_details(elements, number)

    def _clp_amounts(self, elements: list[str], number: int, claim: list[Any]) -> None:
        for index, field, required in ((3, C_CHARGE, True), (4, C_PAID, True),
                                       (5, 5, False)):  # fmt: skip
            text = elements[index]
            if not text:
                if required:
                    self._log.reject(number, "CLP", f"CLP{index:02d} is missing")
                claim[field] = 0 if required else None
                continue
            try:
                claim[field] = cents(text)
            except AmountFormatError as error:
                self._log.reject(
                    number, "CLP", amount_problem(f"CLP{index:02d}", text, error)
                )
                claim[field] = 0

    def _clp_details(self, elements: list[str], number: int) -> None:
        log = self._log
        if not elements[1]:
            log.reject(number, "CLP", "CLP01 (the patient control number) is missing")
        status = elements[2]
        if status not in codes.CLAIM_STATUS_CODES:
            log.reject(
                number,
                "CLP",
                f"CLP02 {shown(status)} is not a 5010 claim status "
                f"(valid: {', '.join(sorted(codes.CLAIM_STATUS_CODES, key=int))})",
            )
        for index, limit in ((1, 38), (6, 8), (7, 50), (8, 8), (9, 8), (11, 8)):
            if len(elements[index]) > limit:
                log.reject(
                    number,
                    "CLP",
                    f"CLP{index:02d} is longer than the {limit} characters "
                    "reconcile stores",
                )
        for index in (12, 13):
            text = elements[index]
            if text and not (is_number(text) and len(text) <= 20):
                log.reject(
                    number, "CLP", f"CLP{index:02d} {shown(text)} is not a number"
                )
        for index in (10, 14):
            if elements[index]:
                self._extra()[f"CLP{index:02d}"] = elements[index]

    def close(self) -> ClaimPayment | None:
        """Finish the open claim (checking its balance); return it, if one was open."""
        claim = self.claim
        if claim is None:
            return None
        if self.line is not None:
            self._close_line()
        if claim[C_CHARGE] - self._claim_cas - self._lines_cas != claim[C_PAID]:
            fault = claim_fault(
                charge=claim[C_CHARGE],
                claim_adjustments=self._claim_cas,
                line_adjustments=self._lines_cas,
                paid=claim[C_PAID],
            )
            if fault is not None:
                self._log.unbalance(self._claim_at, "CLP", fault)
        if self._claim_remarks:
            claim[C_REMARKS] = " ".join(self._claim_remarks)
        claim[C_EXTRA] = "{}" if self._claim_extra is None else _json(self._claim_extra)
        claim.append(tuple(self._claim_adjustments))
        claim.append(tuple(self._lines))
        self.claim = None
        return _new(ClaimPayment, claim)

    def _extra(self) -> dict[str, Any]:
        if self._claim_extra is None:
            self._claim_extra = {}
        return self._claim_extra

    # ------------------------------------------------------------ adjustments

    def cas(self, elements: list[str], number: int) -> None:
        """CAS: up to six reason/amount/quantity triplets of one group."""
        # Most CAS segments hold one triplet without a quantity: take it directly.
        if len(elements) == 4 and elements[1] in _GROUPS:
            reason = elements[2]
            if 0 < len(reason) <= 5 and reason.isalnum():
                try:
                    amount = cents(elements[3])
                except AmountFormatError:
                    pass
                else:
                    adjustment = _new(Adjustment, (elements[1], reason, amount, None))
                    if self.line is not None:
                        self._line_adjustments.append(adjustment)
                        self._line_cas += amount
                        return
                    if self.claim is not None:
                        self._claim_adjustments.append(adjustment)
                        self._claim_cas += amount
                        return
        self._cas(elements, number)

    def _cas(self, elements: list[str], number: int) -> None:
        log = self._log
        if self.line is not None:
            target = self._line_adjustments
        elif self.claim is not None:
            target = self._claim_adjustments
        else:
            log.reject(number, "CAS", "CAS outside a claim")
            return
        size = len(elements)
        group = elements[1] if size > 1 else ""
        if group not in codes.ADJUSTMENT_GROUPS:
            log.reject(
                number,
                "CAS",
                f"CAS01 {shown(group)} is not a 5010 adjustment group (CO, OA, PI, PR)",
            )
        if size < 4:
            log.reject(
                number, "CAS", "CAS02 and CAS03 (reason and amount) are required"
            )
            return
        if size > 20:
            log.reject(
                number, "CAS", "CAS holds at most six reason/amount/quantity sets"
            )
        total = 0
        for start in _TRIPLET_STARTS:
            if start >= size:
                break
            reason = elements[start]
            amount_text = elements[start + 1] if start + 1 < size else ""
            quantity = elements[start + 2] if start + 2 < size else ""
            if not reason and not amount_text and not quantity:
                if start == 2:
                    log.reject(number, "CAS", "CAS02 and CAS03 are required")
                continue
            try:
                amount = cents(amount_text)
            except AmountFormatError as error:
                log.reject(
                    number,
                    "CAS",
                    amount_problem(f"CAS{start + 1:02d}", amount_text, error),
                )
                continue
            if not reason or len(reason) > 5 or not reason.isalnum():
                log.reject(
                    number,
                    "CAS",
                    f"CAS{start:02d} {shown(reason)} is not a reason code",
                )
            if quantity and not _quantity(quantity):
                log.reject(
                    number,
                    "CAS",
                    f"CAS{start + 2:02d} {shown(quantity)} is not a quantity",
                )
            target.append(_new(Adjustment, (group, reason, amount, quantity or None)))
            total += amount
        if self.line is not None:
            self._line_cas += total
        else:
            self._claim_cas += total

    # ---------------------------------------------------------- claim details

    def nm1(self, elements: list[str], number: int) -> None:
        """NM1: patient, insured, corrected insured, rendering, crossover, payer."""
        claim = self.claim
        if claim is None:
            self._log.reject(number, "NM1", "NM1 outside a claim")
            return
        fields = _PARTIES.get(elements[1] if len(elements) > 1 else "")
        if fields is None:
            return  # NM1*GB and others: nothing reconcile uses
        size = len(elements)
        if size < 10:
            elements += [""] * (10 - size)
        name, first, identifier = fields
        if name is not None and elements[3]:
            if len(elements[3]) > 120:
                self._log.reject(number, "NM1", "NM103 is longer than 120 characters")
            claim[name] = elements[3]
        if first is not None and elements[4]:
            if len(elements[4]) > 35:
                self._log.reject(number, "NM1", "NM104 is longer than 35 characters")
            claim[first] = elements[4]
        if elements[9]:
            if len(elements[9]) > 80:
                self._log.reject(number, "NM1", "NM109 is longer than 80 characters")
            claim[identifier] = elements[9]

    def moa_mia(self, elements: list[str], number: int) -> None:
        """MIA/MOA: inpatient/outpatient adjudication; remark codes and amounts."""
        if self.claim is None:
            self._log.reject(number, elements[0], f"{elements[0]} outside a claim")
            return
        values = read_supplement(elements, log=self._log, number=number)
        segment_id = elements[0]
        remarks = [
            values.pop(f"{segment_id}{index:02d}")
            for index in REMARK_POSITIONS[segment_id]
            if f"{segment_id}{index:02d}" in values
        ]
        if remarks:
            if self._claim_remarks is None:
                self._claim_remarks = []
            self._claim_remarks.extend(remarks)
        if values:
            self._extra()[segment_id] = values

    def ref(self, elements: list[str], number: int) -> None:
        """REF of the claim (F8, 1W, G1 have columns) or of the open line (6R)."""
        if self.claim is None:
            self.header_ref(elements, number)
            return
        if len(elements) < 3 or not elements[1] or not elements[2]:
            self._log.reject(number, "REF", "REF01 and REF02 are required")
            return
        qualifier, value = elements[1], elements[2]
        if self.line is not None:
            if qualifier == "6R":
                if len(value) > 50:
                    self._log.reject(
                        number, "REF", "REF02 is longer than 50 characters"
                    )
                self.line[L_CONTROL] = value
            else:
                self._line_keep("REF", [qualifier, value])
            return
        known = _CLAIM_REFS.get(qualifier)
        if known is None:
            self._extra().setdefault("REF", []).append([qualifier, value])
            return
        field, limit = known
        if len(value) > limit:
            self._log.reject(
                number, "REF", f"REF02 is longer than the {limit} characters stored"
            )
        self.claim[field] = value

    def dtm(self, elements: list[str], number: int) -> None:
        """DTM of the claim (232, 233, 050, 036) or line (472, 150, 151)."""
        if self.claim is None:
            self.header_dtm(elements, number)
            return
        if len(elements) < 3 or not elements[1] or not elements[2]:
            self._log.reject(number, "DTM", "DTM01 and DTM02 are required")
            return
        qualifier = elements[1]
        iso = iso_date(elements[2])
        if iso is None:
            self._log.reject(number, "DTM", f"DTM02 {shown(elements[2])} is not a date")
            return
        line = self.line
        if line is not None:
            if qualifier == "472":
                line[L_FROM] = line[L_TO] = iso
            elif qualifier == "150":
                line[L_FROM] = iso
            elif qualifier == "151":
                line[L_TO] = iso
            else:
                self._line_keep("DTM", [qualifier, iso])
            return
        field = _CLAIM_DATES.get(qualifier)
        if field is None:
            self._extra().setdefault("DTM", []).append([qualifier, iso])
        else:
            self.claim[field] = iso

    def amt(self, elements: list[str], number: int) -> None:
        """AMT of the claim (AU, I, D8) or line (B6); others are kept."""
        if self.claim is None:
            self._log.reject(number, "AMT", "AMT outside a claim")
            return
        if len(elements) < 3 or not elements[1] or not elements[2]:
            self._log.reject(number, "AMT", "AMT01 and AMT02 are required")
            return
        qualifier = elements[1]
        try:
            amount = cents(elements[2])
        except AmountFormatError as error:
            self._log.reject(number, "AMT", amount_problem("AMT02", elements[2], error))
            return
        if self.line is not None:
            if qualifier == "B6":
                self.line[L_ALLOWED] = amount
            else:
                self._line_keep("AMT", [qualifier, amount])
            return
        field = _CLAIM_AMOUNTS.get(qualifier)
        if field is None:
            self._extra().setdefault("AMT", []).append([qualifier, amount])
        else:
            self.claim[field] = amount

    def qty(self, elements: list[str], number: int) -> None:
        """QTY of the claim or line (kept)."""
        if self.claim is None:
            self._log.reject(number, "QTY", "QTY outside a claim")
            return
        if len(elements) < 3 or not elements[1] or not is_number(elements[2]):
            self._log.reject(number, "QTY", "QTY01 and a numeric QTY02 are required")
            return
        if self.line is not None:
            self._line_keep("QTY", [elements[1], elements[2]])
        else:
            self._extra().setdefault("QTY", []).append([elements[1], elements[2]])

    # ---------------------------------------------------------- service lines

    def svc(self, elements: list[str], number: int) -> None:
        """SVC: start a service line (closing the previous one)."""
        if self.claim is None:
            self._log.reject(number, "SVC", "SVC outside a claim")
            return
        if self.line is not None:
            self._close_line()
        size = len(elements)
        if size < 8:
            elements += _PADDING[size]
        line = _EMPTY_LINE.copy()
        self.line = line
        self._line_at = number
        self._line_adjustments = []
        self._line_cas = 0
        self._line_remarks = None
        self._line_extra = None
        procedure = elements[1]
        component = self.component
        if component in procedure:
            parts = procedure.split(component)
            qualifier, code = parts[0], parts[1]
            if len(parts) > 2:
                self._modifiers(parts, line, number)
        else:
            parts, other = split_composite(procedure, component)
            if other is not None:
                self._log.composite(number, "SVC", "SVC01", other, component)
            qualifier = parts[0]
            code = parts[1] if len(parts) > 1 else ""
            if len(parts) > 2:
                self._modifiers(parts, line, number)
        line[0] = qualifier
        line[1] = code
        try:
            line[L_CHARGE] = cents(elements[2])
            line[L_PAID] = cents(elements[3])
        except AmountFormatError:
            self._svc_amounts(elements, number, line)
        revenue, units, original, original_units = elements[4:8]
        if revenue:
            line[5] = revenue
        if units:
            line[6] = units
        if original_units:
            line[8] = original_units
        if original:
            line[7] = self._original_procedure(original, number)
        if (
            qualifier not in _QUALIFIERS
            or not code
            or len(code) > 48
            or len(revenue) > 8
            or (units and not _quantity(units))
            or (original_units and not _quantity(original_units))
        ):
            self._svc_details(elements, number, qualifier, code)

    def _modifiers(self, parts: list[str], line: list[Any], number: int) -> None:
        modifiers = [m for m in parts[2:6] if m]
        line[2] = ":".join(modifiers) or None
        if any(len(m) > 2 for m in modifiers):
            self._log.reject(
                number, "SVC", "a procedure modifier in SVC01 is longer than 2"
            )
        if len(parts) > 6 and parts[6]:
            self._line_keep("SVC01-07", parts[6])

    def _svc_amounts(self, elements: list[str], number: int, line: list[Any]) -> None:
        for index, field in ((2, L_CHARGE), (3, L_PAID)):
            try:
                line[field] = cents(elements[index])
            except AmountFormatError as error:
                self._log.reject(
                    number,
                    "SVC",
                    amount_problem(f"SVC{index:02d}", elements[index], error),
                )
                line[field] = 0

    def _svc_details(
        self, elements: list[str], number: int, qualifier: str, code: str
    ) -> None:
        log = self._log
        if qualifier not in _QUALIFIERS:
            log.reject(
                number,
                "SVC",
                f"SVC01-1 {shown(qualifier)} is not a product/service qualifier",
            )
        if not code:
            log.reject(number, "SVC", "SVC01 has no procedure code (SVC01-2)")
        elif len(code) > 48:
            log.reject(number, "SVC", "SVC01-2 is longer than 48 characters")
        if len(elements[4]) > 8:
            log.reject(number, "SVC", "SVC04 is longer than 8 characters")
        for index in (5, 7):
            text = elements[index]
            if text and not _quantity(text):
                log.reject(
                    number, "SVC", f"SVC{index:02d} {shown(text)} is not a quantity"
                )

    def _original_procedure(self, text: str, number: int) -> str:
        parts, other = split_composite(text, self.component)
        if other is not None:
            self._log.composite(number, "SVC", "SVC06", other, self.component)
        if len(parts) > 6 and parts[6]:
            self._line_keep("SVC06-07", parts[6])
        kept = (other or self.component).join(parts[:6]).rstrip(other or self.component)
        if parts[0] not in codes.SERVICE_QUALIFIERS or len(parts) < 2 or not parts[1]:
            self._log.reject(
                number, "SVC", "SVC06 is not a product/service qualifier and code"
            )
        if len(kept) > 80:
            self._log.reject(number, "SVC", "SVC06 is longer than 80 characters")
        return kept

    def lq(self, elements: list[str], number: int) -> None:
        """LQ: a remark code of the service line."""
        if self.line is None:
            self._log.reject(number, "LQ", "LQ outside a service line")
            return
        if len(elements) < 3 or not elements[2]:
            self._log.reject(number, "LQ", "LQ01 and LQ02 are required")
            return
        if elements[1] not in codes.REMARK_LIST_QUALIFIERS:
            self._log.reject(number, "LQ", f"LQ01 {shown(elements[1])} is not HE or RX")
            return
        if elements[1] == "HE":
            if self._line_remarks is None:
                self._line_remarks = []
            self._line_remarks.append(elements[2])
        else:
            self._line_keep("LQ_RX", elements[2])

    def _line_keep(self, key: str, value: Any) -> None:
        assert self.line is not None
        if self._line_extra is None:
            self._line_extra = {}
        if key.startswith("SVC"):
            self._line_extra[key] = value
        else:
            self._line_extra.setdefault(key, []).append(value)

    def _close_line(self) -> None:
        line = self.line
        assert line is not None
        if line[L_CHARGE] - self._line_cas != line[L_PAID]:
            fault = line_fault(
                charge=line[L_CHARGE], adjustments=self._line_cas, paid=line[L_PAID]
            )
            if fault is not None:
                self._log.unbalance(self._line_at, "SVC", fault)
        if self._line_remarks:
            line[L_REMARKS] = " ".join(self._line_remarks)
        line[L_EXTRA] = "{}" if self._line_extra is None else _json(self._line_extra)
        line.append(tuple(self._line_adjustments))
        self._lines.append(_new(ServiceLine, line))
        self._lines_cas += self._line_cas
        self.line = None
