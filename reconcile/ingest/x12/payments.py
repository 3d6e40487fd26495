"""One payment (ST…SE): the header (BPR, TRN, DTM*405, payer and payee loops), the
LX/TS3/TS2 provider summaries, the PLB footer and the transaction balance.

The payment date is BPR16. When BPR16 is missing or not a date, DTM*405 (the
production date) stands in, with a warning; with neither, the payment is rejected.
"""

from __future__ import annotations

from typing import Any, Protocol

from reconcile.ingest.x12 import codes
from reconcile.ingest.x12.balance import transaction_fault
from reconcile.ingest.x12.envelope import TransactionContext
from reconcile.ingest.x12.problems import ProblemLog
from reconcile.ingest.x12.records import (
    ClaimPayment,
    PaymentEnd,
    PaymentHeader,
    ProviderAdjustment,
)
from reconcile.ingest.x12.supplements import read_supplement
from reconcile.ingest.x12.values import (
    AmountFormatError,
    amount_problem,
    cents,
    iso_date,
    shown,
    split_composite,
)


class RemittanceSink(Protocol):
    """Receives a file's records, in order, while it is read.

    Records stop coming as soon as the file has a fault that rejects it (the reader
    keeps validating, to list every fault).
    """

    def begin_payment(self, header: PaymentHeader) -> None:
        """A payment's header is complete; its claims follow."""

    def claim(self, claim: ClaimPayment) -> None:
        """A claim of the current payment, with its lines and adjustments."""

    def provider_adjustment(self, adjustment: ProviderAdjustment) -> None:
        """A PLB pair of the current payment."""

    def end_payment(self, end: PaymentEnd) -> None:
        """The current payment's SE was read."""


#: BPR elements kept as text, with the widest value stored (BPR06–BPR15).
_BPR_TEXT = ((6, 8), (7, 12), (8, 8), (9, 35), (10, 10), (11, 9), (12, 8), (13, 12),
             (14, 8), (15, 35))  # fmt: skip

_PAYER, _PAYEE, _OTHER = "payer", "payee", "other"


def _too_long(
    log: ProblemLog, place: tuple[int, str], element: str, text: str, limit: int
) -> bool:
    """Reject ``text`` when it is wider than its column; return whether it was."""
    if len(text) <= limit:
        return False
    log.reject(
        *place, f"{element} is longer than the {limit} characters reconcile stores"
    )
    return True


class PaymentReader:
    """Reads the payment-level segments of one transaction set at a time."""

    def __init__(self, *, log: ProblemLog, sink: RemittanceSink) -> None:
        self._log = log
        self._sink = sink
        self.open = False
        self._reset()

    def _reset(self) -> None:
        self._context: TransactionContext | None = None
        self._bpr: list[str] | None = None
        self._bpr_at = 0
        self._trn: list[str] | None = None
        self._production_on: str | None = None
        self._parties: dict[str, str | None] = {}
        self._extra: dict[str, Any] = {}
        self._party: str | None = None
        self._summary: dict[str, Any] | None = None
        #: The LX01 of the claims being read.
        self.lx_number: str | None = None
        self.header_done = False
        self.in_footer = False
        self._unbalanced_before = 0
        self._claims = 0
        self._claims_paid = 0
        self._plb_total = 0

    # ---------------------------------------------------------------- lifecycle

    def start(self, context: TransactionContext) -> None:
        """An ST opened a new payment."""
        self._reset()
        self.open = True
        self._context = context
        self._unbalanced_before = len(self._log.unbalanced)

    def abandon(self) -> None:
        """Forget a payment cut short by a broken envelope (the file is rejected)."""
        self._reset()
        self.open = False

    def end_header(self, number: int, segment_id: str) -> None:
        """The header is over (first LX, CLP, PLB or SE): check it and announce it."""
        self.header_done = True
        log = self._log
        if self._bpr is None:
            log.reject(number, segment_id, "the transaction set has no BPR segment")
        if self._trn is None:
            log.reject(number, segment_id, "the transaction set has no TRN segment")
        if self._bpr is None or self._trn is None or self._context is None:
            return
        bpr, trn = self._bpr, self._trn
        effective_on = iso_date(bpr[16]) if bpr[16] else None
        if effective_on is not None:
            paid_on, source = effective_on, "BPR16"
        elif self._production_on is None:
            log.reject(
                self._bpr_at,
                "BPR",
                "no payment date: BPR16 is "
                + (f"{bpr[16]!r}, not a date," if bpr[16] else "missing")
                + " and there is no DTM*405 to fall back on",
            )
            return
        else:
            paid_on, source = self._production_on, "DTM405"
            shifted = (
                " (BPR15 holds a date: an element may be missing)"
                if not bpr[16] and iso_date(bpr[15]) is not None
                else ""
            )
            found = f"{bpr[16]!r} is not a date" if bpr[16] else "is missing"
            log.warn(
                self._bpr_at,
                "BPR",
                f"BPR16 (payment date) {found}{shifted}; using the DTM*405 "
                f"production date {paid_on}",
            )
        if log.problems:
            return
        context = self._context
        parties = self._parties
        self._sink.begin_payment(
            PaymentHeader(
                context.file_seq,
                context.interchange_control,
                context.interchange_sender,
                context.interchange_receiver,
                context.group_control,
                context.transaction_control,
                context.version,
                bpr[1],
                cents(bpr[2]),
                bpr[3],
                bpr[4],
                bpr[5] or None,
                bpr[6] or None,
                bpr[7] or None,
                bpr[8] or None,
                bpr[9] or None,
                bpr[10] or None,
                bpr[11] or None,
                bpr[12] or None,
                bpr[13] or None,
                bpr[14] or None,
                bpr[15] or None,
                effective_on,
                paid_on,
                source,
                trn[1],
                trn[2],
                trn[3],
                trn[4] or None,
                self._production_on,
                parties.get("payer_name"),
                parties.get("payer_id_qualifier"),
                parties.get("payer_identifier"),
                parties.get("payer_ref_2u"),
                parties.get("payer_state"),
                parties.get("payee_name"),
                parties.get("payee_id_qualifier"),
                parties.get("payee_identifier"),
                parties.get("payee_npi"),
                parties.get("payee_tin"),
            )
        )

    def add_claim(self, claim: ClaimPayment) -> None:
        """A claim of this payment was read (and is already checked)."""
        self._claims += 1
        self._claims_paid += claim.paid_cents
        if not self._log.problems:
            self._sink.claim(claim)

    def finish(self, number: int) -> None:
        """The SE was read: check the transaction balance and close the payment."""
        if not self.header_done:
            self.end_header(number, "SE")
        log = self._log
        if self._bpr is not None:
            try:
                total = cents(self._bpr[2])
            except AmountFormatError:
                total = None  # already reported
            if total is not None:
                fault = transaction_fault(
                    claims_paid=self._claims_paid,
                    provider_adjustments=self._plb_total,
                    total=total,
                )
                if fault is not None:
                    log.unbalance(self._bpr_at, "BPR", fault)
        balance = [p.to_json() for p in log.unbalanced[self._unbalanced_before :]]
        if not log.problems:
            self._sink.end_payment(PaymentEnd(self._claims, self._extra, balance))
        self._reset()
        self.open = False

    # ----------------------------------------------------------------- header

    def bpr(self, elements: list[str], number: int) -> None:
        """BPR: the payment (every element is kept)."""
        log = self._log
        if self._bpr is not None:
            log.reject(number, "BPR", "a second BPR in one transaction set")
            return
        bpr = elements + [""] * (22 - len(elements))
        self._bpr, self._bpr_at = bpr, number
        if bpr[1] not in codes.HANDLING_CODES:
            log.reject(number, "BPR", f"BPR01 {bpr[1]!r} is not a handling code")
        if not bpr[2]:
            log.reject(number, "BPR", "BPR02 (the payment amount) is missing")
        else:
            try:
                if cents(bpr[2]) < 0:
                    log.reject(number, "BPR", "BPR02 (the payment amount) is negative")
            except AmountFormatError as error:
                log.reject(number, "BPR", f"BPR02: {error}")
        if bpr[3] not in codes.CREDIT_DEBIT_CODES:
            log.reject(number, "BPR", f"BPR03 {bpr[3]!r} is not C or D")
        if bpr[4] not in codes.PAYMENT_METHODS:
            log.reject(number, "BPR", f"BPR04 {bpr[4]!r} is not a payment method")
        if bpr[5] and bpr[5] not in codes.PAYMENT_FORMATS:
            log.reject(number, "BPR", f"BPR05 {bpr[5]!r} is not CCP or CTX")
        for index, limit in _BPR_TEXT:
            _too_long(log, (number, "BPR"), f"BPR{index:02d}", bpr[index], limit)

    def trn(self, elements: list[str], number: int) -> None:
        """TRN: the check or EFT trace number and the payer's id."""
        log = self._log
        if self._trn is not None:
            log.reject(number, "TRN", "a second TRN in one transaction set")
            return
        trn = elements + [""] * (5 - len(elements))
        self._trn = trn
        if trn[1] not in codes.TRACE_TYPES:
            log.reject(number, "TRN", f"TRN01 {trn[1]!r} is not 1")
        if not trn[2]:
            log.reject(
                number, "TRN", "TRN02 (the check or EFT trace number) is missing"
            )
        if not trn[3]:
            log.reject(number, "TRN", "TRN03 (the payer's identifier) is missing")
        _too_long(log, (number, "TRN"), "TRN02", trn[2], 50)
        _too_long(log, (number, "TRN"), "TRN03", trn[3], 10)
        _too_long(log, (number, "TRN"), "TRN04", trn[4], 50)

    def dtm(self, elements: list[str], number: int) -> None:
        """DTM in the header: 405 is the production date; others are kept."""
        if len(elements) < 3 or not elements[1] or not elements[2]:
            self._log.reject(number, "DTM", "DTM01 and DTM02 are required")
            return
        iso = iso_date(elements[2])
        if iso is None:
            self._log.reject(number, "DTM", f"DTM02 {shown(elements[2])} is not a date")
            return
        if elements[1] == "405" and self._party is None:
            if self.header_done:
                self._log.reject(
                    number,
                    "DTM",
                    "DTM*405 (production date) must come before the claims",
                )
            self._production_on = iso
        else:
            self._keep("DTM", [elements[1], iso])

    def ref(self, elements: list[str], number: int) -> None:
        """REF in the header or a party loop (REF*2U payer id, REF*TJ payee TIN)."""
        if len(elements) < 3 or not elements[1] or not elements[2]:
            self._log.reject(number, "REF", "REF01 and REF02 are required")
            return
        qualifier, value = elements[1], elements[2]
        if self._party == _PAYER and qualifier == "2U":
            if not _too_long(self._log, (number, "REF"), "REF02", value, 80):
                self._parties["payer_ref_2u"] = value
        elif self._party == _PAYEE and qualifier == "TJ":
            if not _too_long(self._log, (number, "REF"), "REF02", value, 20):
                self._parties.setdefault("payee_tin", value)
        else:
            self._keep("REF", [qualifier, value])

    def n1(self, elements: list[str], number: int) -> None:
        """N1: opens the payer (PR) or payee (PE) loop."""
        n1 = elements + [""] * (5 - len(elements))
        log = self._log
        if n1[1] == "PR":
            self._party = _PAYER
        elif n1[1] == "PE":
            self._party = _PAYEE
        else:
            self._party = _OTHER
            return
        party = self._party
        name, qualifier, identifier = n1[2], n1[3], n1[4]
        if not name:
            log.reject(number, "N1", "N102 (the name) is missing")
        _too_long(log, (number, "N1"), "N102", name, 120)
        _too_long(log, (number, "N1"), "N103", qualifier, 8)
        _too_long(log, (number, "N1"), "N104", identifier, 80)
        self._parties[f"{party}_name"] = name or None
        self._parties[f"{party}_id_qualifier"] = qualifier or None
        self._parties[f"{party}_identifier"] = identifier or None
        if party == _PAYEE and qualifier == "XX":
            if len(identifier) != 10 or not identifier.isdigit():
                log.reject(number, "N1", "N104 is not a 10-digit NPI (N103 is XX)")
            else:
                self._parties["payee_npi"] = identifier
        elif (
            party == _PAYEE
            and qualifier == "FI"
            and not _too_long(log, (number, "N1"), "N104", identifier, 20)
        ):
            self._parties["payee_tin"] = identifier

    def party_detail(self, elements: list[str], number: int) -> None:
        """N3, N4 and RDM of the payer or payee: kept (N4*02 is the state)."""
        segment_id = elements[0]
        if self._party == _PAYER and segment_id == "N4" and len(elements) > 2:
            state = elements[2]
            if not _too_long(self._log, (number, "N4"), "N402", state, 2):
                self._parties["payer_state"] = state or None
        if self._party in (_PAYER, _PAYEE):
            self._keep(segment_id, elements[1:])

    def cur(self, elements: list[str], number: int) -> None:
        """CUR: the currency (kept)."""
        self._keep("CUR", elements[1:])

    def _keep(self, key: str, value: Any) -> None:
        target = self._extra
        if self._party in (_PAYER, _PAYEE):
            target = self._extra.setdefault(self._party, {})
        target.setdefault(key, []).append(value)

    # ----------------------------------------------------------------- detail

    def lx(self, elements: list[str], number: int) -> None:
        """LX: a group of claims (2000 loop)."""
        if not self.header_done:
            self.end_header(number, "LX")
        if self.in_footer:
            self._log.reject(number, "LX", "claims must come before the PLB segments")
        self._party = None
        value = elements[1] if len(elements) > 1 else ""
        if not (value.isascii() and value.isdigit() and len(value) <= 6):
            self._log.reject(
                number, "LX", f"LX01 {shown(value)} is not a number of 1-6 digits"
            )
        self.lx_number = value or None
        self._summary = None

    def summary(self, elements: list[str], number: int) -> None:
        """TS3/TS2: the provider summary of the current LX (kept)."""
        if self.lx_number is None:
            self._log.reject(number, elements[0], f"{elements[0]} outside an LX loop")
            return
        if self._summary is None:
            self._summary = {"LX": self.lx_number}
            self._extra.setdefault("provider_summaries", []).append(self._summary)
        self._summary[elements[0]] = read_supplement(
            elements, log=self._log, number=number
        )

    def plb(self, elements: list[str], number: int, component: str) -> None:
        """PLB: up to six provider adjustments (reason:reference and amount)."""
        if not self.header_done:
            self.end_header(number, "PLB")
        self.in_footer = True
        log = self._log
        size = len(elements)
        provider = elements[1] if size > 1 else ""
        period_text = elements[2] if size > 2 else ""
        if not provider:
            log.reject(number, "PLB", "PLB01 (the provider identifier) is missing")
        _too_long(log, (number, "PLB"), "PLB01", provider, 80)
        period = iso_date(period_text)
        if period is None:
            log.reject(number, "PLB", f"PLB02 {shown(period_text)} is not a date")
        if size < 5:
            log.reject(number, "PLB", "PLB03 and PLB04 (an adjustment) are required")
        if size > 15:
            log.reject(number, "PLB", "PLB holds at most six adjustments")
        for index in range(3, min(size, 15), 2):
            self._plb_pair(
                elements, index, number, component, provider=provider, period=period
            )

    def _plb_pair(
        self,
        elements: list[str],
        index: int,
        number: int,
        component: str,
        *,
        provider: str,
        period: str | None,
    ) -> None:
        log = self._log
        composite_text = elements[index]
        amount_text = elements[index + 1] if index + 1 < len(elements) else ""
        name, amount_name = f"PLB{index:02d}", f"PLB{index + 1:02d}"
        if not composite_text and not amount_text:
            return
        if not composite_text or not amount_text:
            log.reject(
                number, "PLB", f"{name} and {amount_name} must be given together"
            )
            return
        parts, other = split_composite(composite_text, component)
        if other is not None:
            log.composite(number, "PLB", name, other, component)
        reason = parts[0]
        reference = (other or component).join(parts[1:])
        if reason not in codes.PLB_REASON_CODES:
            log.reject(
                number,
                "PLB",
                f"{name}-1 {shown(reason)} is not a PLB adjustment reason",
            )
        _too_long(log, (number, "PLB"), f"{name}-2", reference, 50)
        try:
            amount = cents(amount_text)
        except AmountFormatError as error:
            log.reject(number, "PLB", amount_problem(amount_name, amount_text, error))
            return
        if amount == 0:
            log.reject(number, "PLB", f"{amount_name} is zero (not allowed in a PLB)")
        self._plb_total += amount
        if not log.problems:
            self._sink.provider_adjustment(
                ProviderAdjustment(provider, period, reason, reference or None, amount)
            )
