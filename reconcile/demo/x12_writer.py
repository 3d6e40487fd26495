"""Write X12 835 (005010X221A1) remittances from small dataclasses.

Pure: no clock, no randomness, no database. Tests build scenario files with it, the
benchmark generator streams millions of claims through it, and ``reconcile demo``
writes its sample remittances with it.

Files are valid and balanced by construction when amounts are left to the writer:

- a service line pays its charge less its CAS (SVC03 = SVC02 − ΣCAS);
- a claim charges the sum of its lines, pays its charge less every CAS at both
  levels (CLP04 = CLP03 − ΣCAS), and the patient owes its PR adjustments (CLP05);
- a payment pays its claims less its provider adjustments (BPR02 = ΣCLP04 − ΣPLB);
- SE01, GE01 and IEA01 count what was written; control numbers pair up.

An amount given explicitly is written as given, so tests can write faulty files on
purpose. Amounts are integer cents with the 835's sign (a reversal is negative; a
positive CAS or PLB amount reduces the payment).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from reconcile.money import format_dollars

VERSION = "005010X221A1"
#: The date written when a caller gives none (the writer never reads the clock).
DEFAULT_DATE = dt.date(2024, 3, 1)


@dataclass(frozen=True)
class Separators:
    """Delimiters written into ISA, and what follows each segment terminator."""

    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"
    #: Written after every terminator: "\n", "\r\n", or "" for one long line.
    newline: str = "\n"


@dataclass(frozen=True)
class Adjustment:
    """A CAS triplet: group (CO, OA, PI, PR), reason (CARC), amount, quantity."""

    group: str
    reason: str
    amount_cents: int
    quantity: str | None = None


@dataclass(frozen=True)
class Line:
    """A service line (SVC loop)."""

    procedure: str
    charge_cents: int
    adjustments: tuple[Adjustment, ...] = ()
    #: Default: the charge less the line's adjustments.
    paid_cents: int | None = None
    qualifier: str = "HC"
    modifiers: tuple[str, ...] = ()
    units: str | None = "1"
    revenue_code: str | None = None
    #: SVC06 components (``("HC", "99214")``) when the payer changed the code.
    original_procedure: tuple[str, ...] = ()
    service_on: dt.date | None = None
    #: REF*6R, the line item control number echoed from the 837.
    line_control: str | None = None
    #: AMT*B6.
    allowed_cents: int | None = None
    #: LQ*HE remark codes.
    remark_codes: tuple[str, ...] = ()

    @property
    def paid(self) -> int:
        """SVC03: as given, or the charge less the adjustments."""
        if self.paid_cents is not None:
            return self.paid_cents
        return self.charge_cents - sum(a.amount_cents for a in self.adjustments)


@dataclass(frozen=True)
class Patient:
    """NM1*QC: the patient (synthetic data only)."""

    last_name: str
    first_name: str
    identifier: str
    id_qualifier: str = "MI"


#: Written when a claim names no patient (NM1*QC is required in every claim).
UNNAMED_PATIENT = Patient("SYNTHETIC", "PATIENT", "MEMBER0000")


@dataclass(frozen=True)
class Claim:
    """A claim payment (CLP loop) with claim-level adjustments and service lines."""

    claim_id: str
    lines: tuple[Line, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()
    status: str = "1"
    #: Default: the sum of the lines' charges (required when there are no lines).
    charge_cents: int | None = None
    #: Default: the charge less every adjustment at both levels.
    paid_cents: int | None = None
    #: Default: the sum of the PR adjustments (omitted when zero and not given).
    patient_resp_cents: int | None = None
    filing_indicator: str = "12"
    #: CLP07, required; default: "ICN" followed by the claim id.
    payer_control: str | None = None
    facility_code: str | None = None
    frequency_code: str | None = None
    patient: Patient = UNNAMED_PATIENT
    insured_identifier: str | None = None
    rendering_npi: str | None = None
    #: NM1*TT: (name, identifier) of the payer the claim was forwarded to.
    crossover: tuple[str, str] | None = None
    original_ref: str | None = None
    member_id: str | None = None
    prior_auth: str | None = None
    statement_from: dt.date | None = None
    statement_to: dt.date | None = None
    received_on: dt.date | None = None
    coverage_cents: int | None = None
    interest_cents: int | None = None
    #: MOA remark codes (at most five).
    remark_codes: tuple[str, ...] = ()

    @property
    def charge(self) -> int:
        """CLP03: as given, or the sum of the line charges."""
        if self.charge_cents is not None:
            return self.charge_cents
        if not self.lines:
            raise ValueError(f"claim {self.claim_id} needs charge_cents or lines")
        return sum(line.charge_cents for line in self.lines)

    @property
    def all_adjustments(self) -> tuple[Adjustment, ...]:
        """Claim-level then line-level adjustments, in file order."""
        return self.adjustments + tuple(
            a for line in self.lines for a in line.adjustments
        )

    @property
    def paid(self) -> int:
        """CLP04: as given, or the charge less every adjustment."""
        if self.paid_cents is not None:
            return self.paid_cents
        return self.charge - sum(a.amount_cents for a in self.all_adjustments)

    @property
    def patient_resp(self) -> int | None:
        """CLP05: as given, or the PR adjustments (None when there are none)."""
        if self.patient_resp_cents is not None:
            return self.patient_resp_cents
        owed = [a.amount_cents for a in self.all_adjustments if a.group == "PR"]
        return sum(owed) if owed else None


@dataclass(frozen=True)
class ProviderAdjustment:
    """A PLB pair: reason (WO, FB, 72, L6 …), amount (positive reduces), reference."""

    reason: str
    amount_cents: int
    reference: str | None = None


@dataclass(frozen=True)
class Payment:
    """One transaction set (ST…SE): a payment and the claims it pays."""

    trace_number: str
    #: BPR16; None writes no BPR16 (readers fall back to DTM*405).
    paid_on: dt.date | None
    claims: tuple[Claim, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    #: BPR02. Default: ΣCLP04 − ΣPLB.
    amount_cents: int | None = None
    handling: str = "I"
    method: str = "ACH"
    credit_debit: str = "C"
    #: TRN03: "1" + the payer's EIN.
    originator_id: str = "1512345678"
    payer_name: str = "DEMO HEALTH PLAN"
    #: REF*2U.
    payer_id: str | None = "DEMO01"
    #: N3/N4 of the payer: street, city, state, ZIP (both are required).
    payer_address: tuple[str, str, str, str] = (
        "100 MAIN STREET", "CAPITAL CITY", "GA", "30301",
    )  # fmt: skip
    #: PER*BL: the payer's technical contact (required).
    payer_contact: tuple[str, str] = ("EDI SUPPORT", "8005550100")
    payee_name: str = "DEMO FAMILY PRACTICE"
    payee_npi: str = "1234567893"
    payee_tin: str | None = None
    #: DTM*405. Default: the payment date.
    production_on: dt.date | None = None
    #: PLB01. Default: the payee's NPI.
    provider_id: str | None = None
    #: PLB02. Default: 31 December of the payment's year.
    fiscal_period_on: dt.date | None = None
    #: ST02; default: the payment's position in its group, 4 digits.
    control: str | None = None
    #: LX01 of the claims (one 2000 loop).
    lx_number: str = "1"

    @property
    def amount(self) -> int:
        """BPR02: as given, or the claims' payments less the provider adjustments."""
        if self.amount_cents is not None:
            return self.amount_cents
        return sum(c.paid for c in self.claims) - sum(
            p.amount_cents for p in self.provider_adjustments
        )


@dataclass(frozen=True)
class Group:
    """A functional group (GS…GE) of payments."""

    payments: tuple[Payment, ...]
    control: int | None = None
    sender: str = "DEMOPAYER"
    receiver: str = "DEMOPRACTICE"
    created_on: dt.date = DEFAULT_DATE


@dataclass(frozen=True)
class Interchange:
    """An interchange (ISA…IEA) of functional groups."""

    groups: tuple[Group, ...]
    control: int | None = None
    sender: str = "DEMOPAYER"
    receiver: str = "DEMOPRACTICE"
    created_on: dt.date = DEFAULT_DATE
    usage: str = "P"


def reversal_of(claim: Claim, *, payer_control: str | None = None) -> Claim:
    """Return the CLP02 = 22 reversal of ``claim``: every amount negated, same codes.

    The original group codes stay (835 reference §1.5); the reversal carries the
    original's payer claim control number unless another is given.
    """

    def negate(adjustments: tuple[Adjustment, ...]) -> tuple[Adjustment, ...]:
        return tuple(
            dataclasses.replace(a, amount_cents=-a.amount_cents) for a in adjustments
        )

    lines = tuple(
        dataclasses.replace(
            line,
            charge_cents=-line.charge_cents,
            paid_cents=-line.paid,
            adjustments=negate(line.adjustments),
            allowed_cents=None,
        )
        for line in claim.lines
    )
    resp = claim.patient_resp
    return dataclasses.replace(
        claim,
        status="22",
        charge_cents=-claim.charge,
        paid_cents=-claim.paid,
        patient_resp_cents=-resp if resp is not None else None,
        adjustments=negate(claim.adjustments),
        lines=lines,
        payer_control=payer_control or claim.payer_control,
    )


def _date(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def _money(cents: int) -> str:
    return format_dollars(cents)


class X12Writer:
    """Streams 835 text to ``out``, counting segments and pairing control numbers.

    Call :meth:`begin_interchange`, :meth:`begin_group`, :meth:`payment` (any number
    of times), :meth:`end_group`, :meth:`end_interchange`; groups and interchanges
    may repeat. Nothing but the current payment is held in memory.
    """

    def __init__(
        self, out: TextIO, *, separators: Separators = Separators(), st03: bool = True
    ) -> None:
        self._out = out
        self._sep = separators
        self._st03 = st03
        self._tail = separators.segment + separators.newline
        self._interchange_control = 0
        self._group_control = 0
        self._groups = 0
        self._payments = 0
        self._segments = 0
        self._next_interchange = 1
        self._next_group = 1

    def _write(self, *elements: str | None) -> None:
        values = [e or "" for e in elements]
        while values and not values[-1]:
            values.pop()
        self._out.write(self._sep.element.join(values) + self._tail)
        self._segments += 1

    # ------------------------------------------------------------ envelopes

    def begin_interchange(
        self,
        *,
        control: int | None = None,
        sender: str = "DEMOPAYER",
        receiver: str = "DEMOPRACTICE",
        created_on: dt.date = DEFAULT_DATE,
        usage: str = "P",
    ) -> None:
        """Write an ISA (fixed width, declaring the separators)."""
        self._interchange_control = control or self._next_interchange
        self._next_interchange = self._interchange_control + 1
        self._groups = 0
        sep = self._sep
        isa = sep.element.join(
            (
                "ISA", "00", " " * 10, "00", " " * 10,
                "ZZ", sender.ljust(15)[:15], "ZZ", receiver.ljust(15)[:15],
                created_on.strftime("%y%m%d"), "1200", sep.repetition, "00501",
                f"{self._interchange_control:09d}", "0", usage, sep.component,
            )
        )  # fmt: skip
        self._out.write(isa + self._tail)

    def begin_group(
        self,
        *,
        control: int | None = None,
        sender: str = "DEMOPAYER",
        receiver: str = "DEMOPRACTICE",
        created_on: dt.date = DEFAULT_DATE,
    ) -> None:
        """Write a GS for 835s (GS01 HP, GS08 005010X221A1)."""
        self._group_control = control or self._next_group
        self._next_group = self._group_control + 1
        self._groups += 1
        self._payments = 0
        self._write(
            "GS", "HP", sender, receiver, _date(created_on), "1200",
            str(self._group_control), "X", VERSION,
        )  # fmt: skip

    def end_group(self) -> None:
        """Write the GE: GE01 = payments written in the group."""
        self._write("GE", str(self._payments), str(self._group_control))

    def end_interchange(self) -> None:
        """Write the IEA: IEA01 = groups written in the interchange."""
        self._write("IEA", str(self._groups), f"{self._interchange_control:09d}")

    # -------------------------------------------------------------- payments

    def payment(self, payment: Payment) -> None:
        """Write one transaction set (ST…SE)."""
        self._payments += 1
        control = payment.control or f"{self._payments:04d}"
        self._segments = 0
        self._write("ST", "835", control, VERSION if self._st03 else None)
        self._bpr(payment)
        self._write("TRN", "1", payment.trace_number, payment.originator_id)
        production = payment.production_on or payment.paid_on
        if production is not None:
            self._write("DTM", "405", _date(production))
        self._write("N1", "PR", payment.payer_name)
        street, city, state, postal_code = payment.payer_address
        self._write("N3", street)
        self._write("N4", city, state, postal_code)
        if payment.payer_id:
            self._write("REF", "2U", payment.payer_id)
        contact, phone = payment.payer_contact
        self._write("PER", "BL", contact, "TE", phone)
        self._write("N1", "PE", payment.payee_name, "XX", payment.payee_npi)
        if payment.payee_tin:
            self._write("REF", "TJ", payment.payee_tin)
        if payment.claims:
            self._write("LX", payment.lx_number)
        for claim in payment.claims:
            self._claim(claim)
        self._plb(payment)
        self._write("SE", str(self._segments + 1), control)

    def _bpr(self, payment: Payment) -> None:
        paid_on = _date(payment.paid_on) if payment.paid_on else None
        if payment.method == "ACH":
            self._write(
                "BPR", payment.handling, _money(payment.amount), payment.credit_debit,
                "ACH", "CCP", "01", "999999992", "DA", "123456",
                payment.originator_id, None, "01", "999988880", "DA", "98765",
                paid_on,
            )  # fmt: skip
        else:
            self._write(
                "BPR", payment.handling, _money(payment.amount), payment.credit_debit,
                payment.method, *([None] * 11), paid_on,
            )  # fmt: skip

    def _cas(self, adjustments: Iterable[Adjustment]) -> None:
        by_group: dict[str, list[Adjustment]] = {}
        for adjustment in adjustments:
            by_group.setdefault(adjustment.group, []).append(adjustment)
        for group, items in by_group.items():
            for start in range(0, len(items), 6):
                elements: list[str | None] = ["CAS", group]
                for item in items[start : start + 6]:
                    elements += [item.reason, _money(item.amount_cents), item.quantity]
                self._write(*elements)

    def _claim(self, claim: Claim) -> None:
        resp = claim.patient_resp
        self._write(
            "CLP", claim.claim_id, claim.status, _money(claim.charge),
            _money(claim.paid), _money(resp) if resp is not None else None,
            claim.filing_indicator, claim.payer_control or f"ICN{claim.claim_id}",
            claim.facility_code,
            claim.frequency_code,
        )  # fmt: skip
        self._cas(claim.adjustments)
        p = claim.patient
        self._write(
            "NM1", "QC", "1", p.last_name, p.first_name, None, None, None,
            p.id_qualifier, p.identifier,
        )  # fmt: skip
        if claim.insured_identifier:
            self._write("NM1", "IL", "1", *([None] * 5), "MI", claim.insured_identifier)
        if claim.crossover is not None:
            name, identifier = claim.crossover
            self._write("NM1", "TT", "2", name, *([None] * 4), "PI", identifier)
        if claim.rendering_npi:
            self._write("NM1", "82", "1", *([None] * 5), "XX", claim.rendering_npi)
        if claim.remark_codes:
            self._write("MOA", None, None, *claim.remark_codes[:5])
        for qualifier, value in (
            ("1W", claim.member_id),
            ("F8", claim.original_ref),
            ("G1", claim.prior_auth),
        ):
            if value:
                self._write("REF", qualifier, value)
        for qualifier, day in (
            ("232", claim.statement_from), ("233", claim.statement_to),
            ("050", claim.received_on),
        ):  # fmt: skip
            if day is not None:
                self._write("DTM", qualifier, _date(day))
        for qualifier, cents in (
            ("AU", claim.coverage_cents),
            ("I", claim.interest_cents),
        ):
            if cents is not None:
                self._write("AMT", qualifier, _money(cents))
        for line in claim.lines:
            self._line(line)

    def _line(self, line: Line) -> None:
        component = self._sep.component
        procedure = component.join((line.qualifier, line.procedure, *line.modifiers))
        original = component.join(line.original_procedure) or None
        self._write(
            "SVC", procedure, _money(line.charge_cents), _money(line.paid),
            line.revenue_code, line.units, original,
        )  # fmt: skip
        if line.service_on is not None:
            self._write("DTM", "472", _date(line.service_on))
        self._cas(line.adjustments)
        if line.line_control:
            self._write("REF", "6R", line.line_control)
        if line.allowed_cents is not None:
            self._write("AMT", "B6", _money(line.allowed_cents))
        for code in line.remark_codes:
            self._write("LQ", "HE", code)

    def _plb(self, payment: Payment) -> None:
        adjustments = payment.provider_adjustments
        if not adjustments:
            return
        provider = payment.provider_id or payment.payee_npi
        day = payment.fiscal_period_on or dt.date(
            (payment.paid_on or payment.production_on or DEFAULT_DATE).year, 12, 31
        )
        component = self._sep.component
        for start in range(0, len(adjustments), 6):
            elements: list[str | None] = ["PLB", provider, _date(day)]
            for item in adjustments[start : start + 6]:
                reason = (
                    f"{item.reason}{component}{item.reference}"
                    if item.reference
                    else item.reason
                )
                elements += [reason, _money(item.amount_cents)]
            self._write(*elements)


def write_835(
    out: TextIO,
    interchanges: Sequence[Interchange],
    *,
    separators: Separators = Separators(),
    st03: bool = True,
) -> None:
    """Write whole interchanges to ``out``."""
    writer = X12Writer(out, separators=separators, st03=st03)
    for interchange in interchanges:
        writer.begin_interchange(
            control=interchange.control, sender=interchange.sender,
            receiver=interchange.receiver, created_on=interchange.created_on,
            usage=interchange.usage,
        )  # fmt: skip
        for group in interchange.groups:
            writer.begin_group(
                control=group.control, sender=group.sender, receiver=group.receiver,
                created_on=group.created_on,
            )  # fmt: skip
            for payment in group.payments:
                writer.payment(payment)
            writer.end_group()
        writer.end_interchange()


def render_835(
    interchanges: Sequence[Interchange],
    *,
    separators: Separators = Separators(),
    st03: bool = True,
) -> str:
    """Return whole interchanges as 835 text."""
    out = io.StringIO()
    write_835(out, interchanges, separators=separators, st03=st03)
    return out.getvalue()


def single(*payments: Payment, control: int = 1) -> list[Interchange]:
    """One interchange with one group holding ``payments``: the common file."""
    return [Interchange(groups=(Group(payments=payments),), control=control)]


def save_835(
    path: Path,
    interchanges: Sequence[Interchange],
    *,
    separators: Separators = Separators(),
    bom: bool = False,
    st03: bool = True,
) -> None:
    """Write whole interchanges to a file (UTF-8, optionally with a byte-order mark)."""
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
        write_835(out, interchanges, separators=separators, st03=st03)
