"""A coherent synthetic practice: claims, their 835s, deposits, patient payments and
postings that agree with each other — except where a pattern is planted.

``reconcile demo`` writes a small one (2,000 claims) and the run benchmark a large one
(a million); both stream, so memory stays flat. Everything is a function of the seed,
the number of claims and the period: no clock, no real people (accounts, names and
NPIs are made up; NPIs carry a valid check digit).

How it is laid out: claims are paid in weekly 835s, one per payer and week (Fridays),
by ACH with a CCD+ trace (deposited the same day, in a BAI2 file) except Medicaid,
which pays by check (deposited a few days later, in a CSV file). Each paid claim is
posted to the ledger one to three days later; patients pay their share at the visit.

Planted patterns (:class:`Pattern`), each a few percent of the claims, and all of them
among the first claims, paid early enough for what follows them (a duplicate the next
week, a deferred recovery two weeks on), so that even the smallest data set
(:data:`MIN_CLAIMS` claims) shows every one: underpaid,
overpaid, denied, unpaid, duplicate payment, reversal with a smaller correction,
reversal without correction (eligibility), a recovery deferred by ``WO`` −X and taken
later, a negative 835 carried by ``FB`` and taken the next week, an offset by ``WO``
+X (Medicare's reference layout for Medicare), a refund acknowledgement (``WO``/``72``,
which must show nowhere), interest (``L6``), a secondary payer (COB), two primary
payers, a patient who paid too much, a remittance for an unknown claim, a missing and
a short deposit, a deposit with no 835, a payment not posted, a posting for the wrong
amount, and a posting with no payment.

The counts in :class:`Planted` are what the files hold, not what was drawn: a pattern
whose consequence would fall after the period's end (a duplicate of a claim paid in
the last week, a payment left unposted still within its posting grace) is not planted,
and its claim is simply paid. No claim or line pays below zero outside reversals.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from reconcile.demo.bai2_writer import (
    BaiAccount,
    BaiDetail,
    BaiFile,
    BaiGroup,
    ccd_addenda,
    write_bai2,
)
from reconcile.demo.practice_data import npi
from reconcile.demo.tabular_writer import format_amount, headers
from reconcile.demo.x12_writer import (
    Adjustment,
    Claim,
    Line,
    Patient,
    Payment,
    ProviderAdjustment,
    X12Writer,
    reversal_of,
)
from reconcile.settings import (
    CANONICAL_COLUMNS,
    AmountFormat,
    MatchingSettings,
    SourceSettings,
)

DAY = dt.timedelta(days=1)
ACCOUNT = "4411223344"
PRACTICE_NPI = npi("131313131")


@dataclass(frozen=True)
class DemoPayer:
    """A payer of the synthetic practice."""

    id: str
    name: str
    kind: str  # medicare | medicaid | commercial
    state: str
    rate_percent: int  # contract: percent of billed the plan allows
    patient_percent: int  # of the allowed amount, owed by the patient
    originator: str  # TRN03: 1 + EIN
    filing: str  # CLP06
    method: str  # BPR04
    weight: int  # share of claims
    layout: str = "generic"


PAYERS = (
    DemoPayer("MCR", "MEDICARE PART B", "medicare", "", 62, 20, "1999999991", "MB",
              "ACH", 30, "medicare"),
    DemoPayer("MCD", "STATE MEDICAID", "medicaid", "TX", 48, 0, "1646000001", "MC",
              "CHK", 15),
    DemoPayer("AETNA", "AETNA", "commercial", "TX", 71, 25, "1066033492", "CI",
              "ACH", 30),
    DemoPayer("BCBS", "BLUE CROSS BLUE SHIELD", "commercial", "SC", 68, 25,
              "1570000001", "BL", "ACH", 25),
)  # fmt: skip
BY_ID = {p.id: p for p in PAYERS}
#: (procedure code, charge in cents) of common office services.
SERVICES = (
    ("99213", 12_000), ("99214", 16_500), ("99215", 22_000), ("36415", 1_800),
    ("85025", 3_000), ("80053", 4_500), ("90471", 2_500), ("93000", 7_500),
)  # fmt: skip
FIRST_NAMES = ("ALEX", "SAM", "JORDAN", "TAYLOR", "RILEY", "CASEY", "MORGAN", "JAMIE")
LAST_NAMES = ("DEMOSON", "SAMPLE", "EXAMPLE", "TESTWELL", "MOCKLER", "FICTA")


class Pattern(enum.StrEnum):
    """What happens to a claim."""

    PAID = "paid"
    UNDERPAID = "underpaid"
    OVERPAID = "overpaid"
    DENIED = "denied"
    UNPAID = "unpaid"
    DUPLICATE = "duplicate"
    REVERSAL_CORRECTED = "reversal_corrected"
    REVERSAL_ALONE = "reversal_alone"
    WO_DEFERRED = "wo_deferred"
    FB_CARRIED = "fb_carried"
    WO_OFFSET = "wo_offset"
    REFUND_ACKNOWLEDGED = "refund_acknowledged"
    INTEREST = "interest"
    SECONDARY = "secondary"
    COB_OVERLAP = "cob_overlap"
    PATIENT_OVERPAID = "patient_overpaid"
    NOT_POSTED = "not_posted"
    MISPOSTED = "misposted"


#: Share of claims per pattern, in ten-thousandths (the rest are paid as expected).
WEIGHTS = {
    Pattern.UNDERPAID: 300, Pattern.OVERPAID: 120, Pattern.DENIED: 250,
    Pattern.UNPAID: 120, Pattern.DUPLICATE: 40, Pattern.REVERSAL_CORRECTED: 60,
    Pattern.REVERSAL_ALONE: 30, Pattern.WO_DEFERRED: 20, Pattern.FB_CARRIED: 10,
    Pattern.WO_OFFSET: 30, Pattern.REFUND_ACKNOWLEDGED: 10, Pattern.INTEREST: 50,
    Pattern.SECONDARY: 200, Pattern.COB_OVERLAP: 30, Pattern.PATIENT_OVERPAID: 80,
    Pattern.NOT_POSTED: 150, Pattern.MISPOSTED: 60,
}  # fmt: skip
#: Patterns that need a payer other than the claim's own.
NEEDS_OTHER_PAYER = {Pattern.SECONDARY, Pattern.COB_OVERLAP}
#: Patterns whose second act comes in a later week's 835, and how many weeks they need.
LATER_WEEKS_NEEDED = {
    Pattern.DUPLICATE: 1, Pattern.REVERSAL_CORRECTED: 1, Pattern.REVERSAL_ALONE: 1,
    Pattern.WO_OFFSET: 1, Pattern.REFUND_ACKNOWLEDGED: 1, Pattern.SECONDARY: 1,
    Pattern.COB_OVERLAP: 1, Pattern.WO_DEFERRED: 2, Pattern.FB_CARRIED: 2,
}  # fmt: skip
#: The smallest data set: every pattern needs one claim of its own, plus a few more.
MIN_CLAIMS = 20
#: What the planted shortfalls aim at (a claim never gives more than half its pay).
UNDERPAID_CENTS = 1_500
CORRECTION_SHORT_CENTS = 1_000
DEFERRED_CENTS = 1_200
SHORT_DEPOSIT_CENTS = 2_500


@dataclass
class Planted:
    """What the data set holds, to tell a user (and tests) what to look for."""

    claims: int = 0
    payments: int = 0
    claim_patterns: Counter[str] = field(default_factory=Counter)
    extras: Counter[str] = field(default_factory=Counter)
    #: A few claim ids of each pattern, to look at; for the one-off items of
    #: ``extras``, what identifies them (a trace, a deposit id, a claim id).
    examples: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetFiles:
    """Where the data set's files are."""

    folder: Path
    claims: Path
    remittances: Path  # a folder of .835 files
    deposits_bai2: Path
    deposits_csv: Path
    patient_payments: Path
    ledger: Path
    config: Path
    planted: Planted


@dataclass
class _Bucket:
    """One payer's 835 of one week, being filled."""

    claims: list[Claim] = field(default_factory=list)
    plb: list[ProviderAdjustment] = field(default_factory=list)


class _Csv:
    """A canonical-column CSV written row by row."""

    def __init__(self, path: Path, source: str) -> None:
        self.source = source
        self.columns = CANONICAL_COLUMNS[source]
        self.handle: IO[str] = path.open("w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(headers(source, SourceSettings()))

    def row(self, **values: Any) -> None:
        cells = []
        for column in self.columns:
            value = values.get(column)
            if value is None:
                cells.append("")
            elif isinstance(value, dt.date):
                cells.append(value.isoformat())
            elif isinstance(value, int) and not isinstance(value, bool):
                cells.append(format_amount(value, amount_format=AmountFormat.PLAIN))
            else:
                cells.append(str(value))
        self.writer.writerow(cells)

    def close(self) -> None:
        self.handle.close()


def _friday(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(4 - day.weekday()) % 7)


class _Builder:
    """Generates the data set week by week."""

    def __init__(
        self, *, folder: Path, claims: int, seed: int, first: dt.date, last: dt.date
    ) -> None:
        self.folder, self.count, self.seed = folder, claims, seed
        self.first, self.last = first, last
        self.planted = Planted(claims=claims)
        self.weeks = self._weeks()
        self.future: dict[tuple[dt.date, str], _Bucket] = defaultdict(_Bucket)
        self.postings: list[dict[str, Any]] = []
        self.bai: dict[dt.date, list[BaiDetail]] = defaultdict(list)
        self.sequence = 0
        remittances = folder / "remittances"
        remittances.mkdir(parents=True, exist_ok=True)
        self.remittances = remittances
        self.claims_csv = _Csv(folder / "claims.csv", "claims")
        self.ledger_csv = _Csv(folder / "ledger.csv", "ledger")
        self.patient_csv = _Csv(folder / "patient-payments.csv", "patient_payments")
        self.deposits_csv = _Csv(folder / "deposits-checks.csv", "deposits")

    def _weeks(self) -> list[dt.date]:
        """Payment Fridays from three weeks after the start to the period's end."""
        weeks = []
        friday = _friday(self.first + 21 * DAY)
        while friday <= self.last:
            weeks.append(friday)
            friday += 7 * DAY
        if not weeks:
            raise ValueError("the period must hold at least four weeks")
        return weeks

    # ------------------------------------------------------------------ claims

    def run(self) -> Planted:
        special = [p for p in Pattern if p is not Pattern.PAID]
        # Paid weeks spread the claims; claims after the last Friday stay unpaid
        # (still within their grace) like a real practice's latest visits. The first
        # claims, one per pattern, must all be paid in weeks that leave two more
        # weeks for what follows them, however few claims there are.
        roomy_weeks = max(len(self.weeks) - 2, 1)
        per_week = max(
            self.count // (len(self.weeks) + 1), -(-len(special) // roomy_weeks)
        )
        number = 0
        for week in self.weeks:
            for _ in range(per_week):
                if number >= self.count:
                    break
                number += 1
                rng = random.Random(self.seed * 1_000_003 + number)
                forced = special[number - 1] if number <= len(special) else None
                self._claim(number, week, rng, forced)
            self._flush_week(week)
        while number < self.count:  # the latest visits: submitted, not paid yet
            number += 1
            rng = random.Random(self.seed * 1_000_003 + number)
            self._unpaid_recent(number, rng)
        self._extras()
        for handle in (self.claims_csv, self.ledger_csv, self.patient_csv,
                       self.deposits_csv):  # fmt: skip
            handle.close()
        self._write_bai2()
        return self.planted

    def _pattern(
        self, rng: random.Random, forced: Pattern | None, week: dt.date
    ) -> Pattern:
        pattern = forced
        if pattern is None:
            pattern = Pattern.PAID
            draw = rng.randrange(10_000)
            for candidate, weight in WEIGHTS.items():
                if draw < weight:
                    pattern = candidate
                    break
                draw -= weight
        return pattern if self._shows(pattern, week) else Pattern.PAID

    def _shows(self, pattern: Pattern, week: dt.date) -> bool:
        """Whether a claim paid on ``week`` can show ``pattern`` within the period."""
        later = sum(w > week for w in self.weeks)
        if later < LATER_WEEKS_NEEDED.get(pattern, 0):
            return False  # the duplicate, reversal or offset would come after it
        defaults = MatchingSettings()
        if pattern is Pattern.NOT_POSTED:  # still within its posting grace
            return week + defaults.posting_grace_days * DAY <= self.last
        if pattern is Pattern.MISPOSTED:  # posted (up to 3 days later) after the end
            return week + 3 * DAY <= self.last
        if pattern is Pattern.UNPAID:  # submitted by day 12, unpaid long enough
            wait = dt.timedelta(days=defaults.unpaid_after_days)
            return self.first + 12 * DAY + wait < self.last
        return True

    def _claim(
        self, number: int, week: dt.date, rng: random.Random, forced: Pattern | None
    ) -> None:
        pattern = self._pattern(rng, forced, week)
        payer = self._payer(rng, pattern)
        service = week - dt.timedelta(days=rng.randrange(12, 20))
        submitted = service + dt.timedelta(days=rng.randrange(1, 4))
        if pattern is Pattern.UNPAID:
            service = self.first + dt.timedelta(days=rng.randrange(0, 10))
            submitted = service + 2 * DAY
        claim_id = f"DEMO{self.seed:02d}{number:08d}"
        account = f"PA{rng.randrange(10**6, 10**7)}"
        lines, billed, expected, patient_owes = self._lines(
            rng, payer, claim_id, service
        )
        self.claims_csv.row(
            claim_id=claim_id, payer_id=payer.id, payer_name=payer.name,
            patient_account=account, provider_npi=PRACTICE_NPI, service_date=service,
            billed_amount=billed, expected_amount=expected,
            expected_patient_amount=patient_owes, submitted_on=submitted,
        )  # fmt: skip
        self.planted.claim_patterns[pattern] += 1
        seen = self.planted.examples.setdefault(pattern, [])
        if len(seen) < 5:
            seen.append(claim_id)
        pays_at_visit = pattern is not Pattern.SECONDARY and rng.random() < 0.6
        if (patient_owes and pays_at_visit) or pattern is Pattern.PATIENT_OVERPAID:
            extra = 2_500 if pattern is Pattern.PATIENT_OVERPAID else 0
            payment_id = f"PP{claim_id}"
            self.patient_csv.row(
                payment_id=payment_id, received_on=service, patient_account=account,
                claim_id=claim_id, amount=patient_owes + extra, method="card",
                reference=f"RC{claim_id}",
            )  # fmt: skip
            self._post(
                posted_on=service, claim_id=claim_id, account=account, payer=None,
                kind="patient_payment", amount=patient_owes + extra,
                reference=f"RC{claim_id}",
            )  # fmt: skip
        if pattern is Pattern.UNPAID:
            return
        claim = Claim(
            claim_id=claim_id, lines=lines, filing_indicator=payer.filing,
            payer_control=f"{payer.id}{number:010d}",
            patient=Patient(rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES),
                            f"M{rng.randrange(10**8, 10**9)}"),
            statement_from=service, statement_to=service,
        )  # fmt: skip
        self._place(
            pattern=pattern,
            claim=claim,
            payer=payer,
            week=week,
            account=account,
            rng=rng,
        )

    def _payer(self, rng: random.Random, pattern: Pattern) -> DemoPayer:
        pool: tuple[DemoPayer, ...] = PAYERS
        if pattern in (Pattern.WO_OFFSET,):
            pool = tuple(p for p in PAYERS if p.method == "ACH")
        if pattern in NEEDS_OTHER_PAYER or pattern is Pattern.INTEREST:
            pool = tuple(p for p in PAYERS if p.kind == "commercial")
        total = sum(p.weight for p in pool)
        draw = rng.randrange(total)
        for payer in pool:
            if draw < payer.weight:
                return payer
            draw -= payer.weight
        return pool[-1]

    def _lines(
        self, rng: random.Random, payer: DemoPayer, claim_id: str, service: dt.date
    ) -> tuple[tuple[Line, ...], int, int, int]:
        """Lines paid by contract, with billed, payer and patient cents."""
        lines = []
        billed = expected = patient = 0
        for index in range(rng.randrange(1, 4)):
            code, charge = rng.choice(SERVICES)
            allowed = charge * payer.rate_percent // 100
            owes = allowed * payer.patient_percent // 100
            pays = allowed - owes
            adjustments = [Adjustment("CO", "45", charge - allowed)]
            if owes:
                adjustments.append(Adjustment("PR", "2", owes))
            if payer.kind == "medicare":
                sequestration = pays * 2 // 100
                adjustments.append(Adjustment("CO", "253", sequestration))
            lines.append(
                Line(
                    procedure=code, charge_cents=charge,
                    adjustments=tuple(adjustments), service_on=service,
                    line_control=f"{claim_id}-{index + 1}", allowed_cents=allowed,
                )
            )  # fmt: skip
            billed += charge
            expected += pays
            patient += owes
        return tuple(lines), billed, expected, patient

    # ----------------------------------------------------------------- patterns

    def _place(
        self,
        *,
        pattern: Pattern,
        claim: Claim,
        payer: DemoPayer,
        week: dt.date,
        account: str,
        rng: random.Random,
    ) -> None:
        """Put the claim (and what its pattern adds) into this and later 835s."""
        here = (week, payer.id)
        later = [w for w in self.weeks if w > week]
        next_week = later[0] if later else None
        if pattern is Pattern.UNDERPAID:
            claim = _pay_less(claim, _shortfall(claim, UNDERPAID_CENTS))
        elif pattern is Pattern.OVERPAID:
            claim = _adjust_first_line(claim, Adjustment("CO", "45", -2_000))
        elif pattern is Pattern.DENIED:
            claim = _denied(claim)
        elif pattern is Pattern.INTEREST:
            claim = replace(claim, interest_cents=137)
            self.future[here].plb.append(ProviderAdjustment("L6", -137, claim.claim_id))
        self.future[here].claims.append(claim)
        self._post_claim(claim, payer, week, account, pattern)
        if next_week is None:
            return
        if pattern is Pattern.DUPLICATE:
            self.future[(next_week, payer.id)].claims.append(claim)
            self._post_claim(claim, payer, next_week, account, Pattern.PAID)
        elif pattern is Pattern.REVERSAL_CORRECTED:
            correction = _pay_less(
                replace(claim, payer_control=f"{claim.payer_control}C"),
                _shortfall(claim, CORRECTION_SHORT_CENTS),
            )
            bucket = self.future[(next_week, payer.id)]
            bucket.claims += [reversal_of(claim), correction]
            self._post_claim(reversal_of(claim), payer, next_week, account, pattern)
            self._post_claim(correction, payer, next_week, account, pattern)
        elif pattern is Pattern.REVERSAL_ALONE:
            reversal = reversal_of(claim)
            reversal = replace(
                reversal,
                adjustments=(
                    *reversal.adjustments,
                    Adjustment("CO", "27", 1),
                    Adjustment("CO", "45", -1),
                ),
            )
            self.future[(next_week, payer.id)].claims.append(reversal)
            self._post_claim(reversal, payer, next_week, account, pattern)
        elif pattern is Pattern.WO_DEFERRED:
            deferred = _shortfall(claim, DEFERRED_CENTS)
            correction = _pay_less(
                replace(claim, payer_control=f"{claim.payer_control}C"), deferred
            )
            bucket = self.future[(next_week, payer.id)]
            bucket.claims += [reversal_of(claim), correction]
            bucket.plb.append(ProviderAdjustment("WO", -deferred, claim.payer_control))
            self.future[(later[1], payer.id)].plb.append(
                ProviderAdjustment("WO", deferred, claim.payer_control)
            )
            self._post_claim(reversal_of(claim), payer, next_week, account, pattern)
            self._post_claim(correction, payer, next_week, account, pattern)
        elif pattern is Pattern.WO_OFFSET:
            reference = (
                f"{claim.payer_control:<19}{claim.claim_id}"
                if payer.layout == "medicare"
                else f"{claim.claim_id} {claim.payer_control}"
            )
            self.future[(next_week, payer.id)].plb.append(
                ProviderAdjustment("WO", 2_000, reference)
            )
            self._post(
                posted_on=next_week + 2 * DAY, claim_id=claim.claim_id, account=account,
                payer=payer.id, kind="recoupment", amount=-2_000,
                reference=self._trace(next_week, payer),
            )  # fmt: skip
        elif pattern is Pattern.REFUND_ACKNOWLEDGED:
            bucket = self.future[(next_week, payer.id)]
            reference = f"RFND{claim.claim_id}"
            bucket.plb += [
                ProviderAdjustment("WO", 3_000, reference),
                ProviderAdjustment("72", -3_000, reference),
            ]
        elif pattern is Pattern.FB_CARRIED:
            self._forward_balance(claim, payer, next_week, later[1], account)
        elif pattern in NEEDS_OTHER_PAYER:
            other = next(p for p in PAYERS if p.kind == "commercial" and p is not payer)
            status = "2" if pattern is Pattern.SECONDARY else "1"
            paid = 1_000 if pattern is Pattern.SECONDARY else claim.paid // 2
            cob = Claim(
                claim_id=claim.claim_id, status=status, charge_cents=claim.charge,
                paid_cents=paid, patient_resp_cents=0, filing_indicator=other.filing,
                payer_control=f"{other.id}{claim.payer_control}",
                adjustments=(Adjustment("OA", "23", claim.charge - paid),),
                patient=claim.patient,
            )  # fmt: skip
            self.future[(next_week, other.id)].claims.append(cob)
            self._post_claim(cob, other, next_week, account, Pattern.PAID)

    def _forward_balance(
        self,
        claim: Claim,
        payer: DemoPayer,
        week: dt.date,
        apply_week: dt.date,
        account: str,
    ) -> None:
        """A separate 835 holding only a reversal nets negative: FB −X keeps BPR02 at
        zero, and the payer's 835 of a later week takes it (FB +X cites its TRN02)."""
        reversal = reversal_of(claim)
        trace = f"FB{payer.id}{week:%Y%m%d}"
        payment = Payment(
            trace_number=trace, paid_on=week, claims=(reversal,),
            provider_adjustments=(ProviderAdjustment("FB", reversal.paid, trace),),
            method="NON", **self._payer_fields(payer),
        )  # fmt: skip
        self._write_payment(payment, f"{week:%Y%m%d}-{payer.id}-fb.835")
        self.future[(apply_week, payer.id)].plb.append(
            ProviderAdjustment("FB", -reversal.paid, trace)
        )
        self._post_claim(
            reversal, payer, week, account, Pattern.FB_CARRIED, trace=trace
        )

    # ----------------------------------------------------------------- output

    def _trace(self, week: dt.date, payer: DemoPayer) -> str:
        prefix = "CHK" if payer.method == "CHK" else "EFT"
        return f"{prefix}{payer.id}{week:%Y%m%d}"

    def _payer_fields(self, payer: DemoPayer) -> dict[str, Any]:
        return {
            "originator_id": payer.originator,
            "payer_name": payer.name,
            "payer_id": payer.id,
            "payee_npi": PRACTICE_NPI,
        }

    def _post_claim(
        self,
        claim: Claim,
        payer: DemoPayer,
        week: dt.date,
        account: str,
        pattern: Pattern,
        *,
        trace: str | None = None,
    ) -> None:
        """Post a claim payment to the ledger as the practice would (or would not)."""
        if claim.paid == 0 or pattern is Pattern.NOT_POSTED:
            return
        amount = claim.paid
        if pattern is Pattern.MISPOSTED:
            amount = claim.paid + 1_000  # a keying error
        self._post(
            posted_on=week + dt.timedelta(days=1 + claim.paid % 3),
            claim_id=claim.claim_id, account=account, payer=payer.id,
            kind="insurance_payment", amount=amount,
            reference=trace or self._trace(week, payer),
        )  # fmt: skip

    def _post(self, **posting: Any) -> None:
        self.sequence += 1
        self.ledger_csv.row(
            entry_id=f"LE{self.seed:02d}{self.sequence:09d}",
            posted_on=posting["posted_on"], claim_id=posting["claim_id"],
            patient_account=posting["account"], payer_id=posting["payer"],
            kind=posting["kind"], amount=posting["amount"],
            reference=posting["reference"],
        )  # fmt: skip

    def _flush_week(self, week: dt.date) -> None:
        for payer in PAYERS:
            bucket = self.future.pop((week, payer.id), None)
            if bucket is None or not (bucket.claims or bucket.plb):
                continue
            trace = self._trace(week, payer)
            payment = Payment(
                trace_number=trace, paid_on=week, claims=tuple(bucket.claims),
                provider_adjustments=tuple(bucket.plb), method=payer.method,
                **self._payer_fields(payer),
            )  # fmt: skip
            if payment.amount < 0:  # cannot pay a negative amount: carry it forward
                payment = replace(
                    payment,
                    provider_adjustments=(
                        *payment.provider_adjustments,
                        ProviderAdjustment("FB", payment.amount, trace),
                    ),
                )
            self._write_payment(payment, f"{week:%Y%m%d}-{payer.id}.835")
            self._deposit(payment, payer, week)

    def _write_payment(self, payment: Payment, name: str) -> None:
        with (self.remittances / name).open("w", encoding="utf-8", newline="") as out:
            writer = X12Writer(out)
            writer.begin_interchange(
                control=None, created_on=payment.paid_on or self.first
            )
            writer.begin_group(control=None, created_on=payment.paid_on or self.first)
            writer.payment(payment)
            writer.end_group()
            writer.end_interchange()
        self.planted.payments += 1

    def _deposit(self, payment: Payment, payer: DemoPayer, week: dt.date) -> None:
        """The bank deposit of an 835 — missing or short where planted."""
        amount = payment.amount
        if amount <= 0:
            return
        self.planted.extras["deposits"] += 1
        if self.planted.extras["deposits"] == 3:
            self._extra("missing_deposit", payment.trace_number)
            return
        if self.planted.extras["deposits"] == 5:
            # A bank fee taken from the deposit (never all of a small one).
            amount -= min(SHORT_DEPOSIT_CENTS, amount // 2)
            self._extra("short_deposit", payment.trace_number)
        if payer.method == "CHK":
            self.deposits_csv.row(
                deposit_id=f"CHKDEP{payment.trace_number}",
                deposit_date=week + 3 * DAY, amount=amount,
                trace_number=payment.trace_number, payer_name=payer.name,
                account=ACCOUNT,
            )  # fmt: skip
            return
        self.bai[week].append(
            BaiDetail(
                amount_cents=amount, type_code="165",
                bank_reference=payment.trace_number[-10:],
                customer_reference=payment.trace_number,
                text=(f"{payer.name} HCCLAIMPMT",
                      ccd_addenda(trace=payment.trace_number,
                                  originator=payer.originator)),
            )
        )  # fmt: skip

    def _unpaid_recent(self, number: int, rng: random.Random) -> None:
        """A claim of the last weeks: submitted, not paid yet (still in its grace)."""
        payer = self._payer(rng, Pattern.PAID)
        service = self.last - dt.timedelta(days=rng.randrange(3, 14))
        claim_id = f"DEMO{self.seed:02d}{number:08d}"
        _, billed, expected, owes = self._lines(rng, payer, claim_id, service)
        self.claims_csv.row(
            claim_id=claim_id, payer_id=payer.id, payer_name=payer.name,
            patient_account=f"PA{rng.randrange(10**6, 10**7)}",
            provider_npi=PRACTICE_NPI, service_date=service, billed_amount=billed,
            expected_amount=expected, expected_patient_amount=owes,
            submitted_on=min(service + DAY, self.last),
        )  # fmt: skip
        self.planted.claim_patterns["awaiting_payment"] += 1

    def _extras(self) -> None:
        """One-off items: an unknown claim paid, an orphan deposit and posting."""
        payer = BY_ID["AETNA"]
        week = self.weeks[len(self.weeks) // 2]
        stranger = Claim(
            claim_id="NOTOURCLAIM01", charge_cents=9_000, paid_cents=6_000,
            adjustments=(Adjustment("CO", "45", 3_000),), payer_control="AETNAX1",
            filing_indicator=payer.filing,
        )  # fmt: skip
        payment = Payment(
            trace_number=f"EFTX{week:%Y%m%d}", paid_on=week, claims=(stranger,),
            method="ACH", **self._payer_fields(payer),
        )  # fmt: skip
        self._write_payment(payment, f"{week:%Y%m%d}-AETNA-extra.835")
        self._deposit(payment, payer, week)
        self._extra("unmatched_remittance", stranger.claim_id)
        self.deposits_csv.row(
            deposit_id="DEPOSIT-NO-ERA", deposit_date=week, amount=43_210,
            trace_number="EFTUNKNOWN1", payer_name="UNITEDHEALTHCARE", account=ACCOUNT,
        )  # fmt: skip
        self._extra("deposit_without_era", "DEPOSIT-NO-ERA")
        self._post(
            posted_on=week, claim_id="NOSUCHCLAIM", account="PA0000001",
            payer="BCBS", kind="insurance_payment", amount=8_800, reference="EFTNONE",
        )  # fmt: skip
        self._extra("posting_without_payment", "NOSUCHCLAIM")

    def _extra(self, name: str, identity: str) -> None:
        """Count a one-off item and keep what identifies it."""
        self.planted.extras[name] += 1
        self.planted.examples.setdefault(name, []).append(identity)

    def _write_bai2(self) -> None:
        groups = [
            BaiGroup(as_of=day, accounts=(BaiAccount(ACCOUNT, tuple(details)),))
            for day, details in sorted(self.bai.items())
        ]
        write_bai2(
            path=self.folder / "deposits.bai2",
            bai=BaiFile(
                sender="DEMOBANK", receiver="DEMOPRACTICE",
                created_at=dt.datetime.combine(self.last, dt.time(23, 0)),
                groups=groups,
            ),
        )  # fmt: skip


def _adjust_first_line(claim: Claim, adjustment: Adjustment) -> Claim:
    first, *rest = claim.lines
    first = replace(first, adjustments=(*first.adjustments, adjustment))
    return replace(claim, lines=(first, *rest))


def _shortfall(claim: Claim, wanted: int) -> int:
    """``wanted`` cents, but never more than half of what the claim pays: a cheap
    claim (a $18 blood draw paid $8.64) is short-paid, not paid below zero."""
    return min(wanted, claim.paid // 2)


def _pay_less(claim: Claim, cents: int) -> Claim:
    """The claim paid ``cents`` less: a larger contractual (CO-45) reduction, taken
    from its lines in order and never more than a line pays, so every line still pays
    zero or more and no line's adjustments exceed its charge.

    Raises:
        ValueError: the claim's lines pay less than ``cents`` together.
    """
    left, lines = cents, []
    for line in claim.lines:
        take = min(left, max(line.paid, 0))
        left -= take
        lines.append(_more_contractual(line, take) if take else line)
    if left:
        raise ValueError(f"claim {claim.claim_id} pays less than {cents} cents")
    return replace(claim, lines=tuple(lines))


def _more_contractual(line: Line, cents: int) -> Line:
    """The line with its CO-45 reduction ``cents`` larger (one CO-45 per line)."""
    adjustments = list(line.adjustments)
    for index, adjustment in enumerate(adjustments):
        if (adjustment.group, adjustment.reason) == ("CO", "45"):
            adjustments[index] = replace(
                adjustment, amount_cents=adjustment.amount_cents + cents
            )
            break
    else:
        adjustments.append(Adjustment("CO", "45", cents))
    return replace(line, adjustments=tuple(adjustments))


def _denied(claim: Claim) -> Claim:
    lines = tuple(
        replace(line, adjustments=(Adjustment("CO", "50", line.charge_cents),))
        for line in claim.lines
    )
    return replace(claim, status="4", lines=lines, remark_codes=("N115",))


def demo_config(folder: Path, *, database: Path, reports: Path) -> str:
    """The configuration a demo runs with: payer profiles of the synthetic payers."""
    payers = "\n".join(
        f"""[[payers]]
id = "{p.id}"
names = ["{p.name}"]
ref_2u = ["{p.id}"]
trn03 = ["{p.originator}"]
deposit_names = ["{p.name}"]
kind = "{p.kind}"
state = "{p.state}"
plb_reference_layout = "{p.layout}"
"""
        for p in PAYERS
    )
    return f"""# The demo's configuration (config/reconcile.toml documents every key).

[database]
url = "sqlite:///{database.as_posix()}"

[practice]
time_zone = "America/Chicago"
state = "TX"

[reports]
folder = "{reports.as_posix()}"

{payers}"""


def build_dataset(
    *, folder: Path, claims: int, seed: int, first: dt.date, last: dt.date
) -> DatasetFiles:
    """Write a coherent data set of ``claims`` claims over ``first``..``last``.

    Raises:
        ValueError: fewer than :data:`MIN_CLAIMS` claims, or a period shorter than
            four weeks.
    """
    if claims < MIN_CLAIMS:
        raise ValueError(
            f"a data set needs at least {MIN_CLAIMS} claims to show every pattern"
        )
    folder.mkdir(parents=True, exist_ok=True)
    planted = _Builder(
        folder=folder, claims=claims, seed=seed, first=first, last=last
    ).run()
    config = folder / "reconcile.toml"
    config.write_text(
        demo_config(
            folder, database=folder / "reconcile.db", reports=folder / "reports"
        ),
        encoding="utf-8",
    )
    return DatasetFiles(
        folder=folder,
        claims=folder / "claims.csv",
        remittances=folder / "remittances",
        deposits_bai2=folder / "deposits.bai2",
        deposits_csv=folder / "deposits-checks.csv",
        patient_payments=folder / "patient-payments.csv",
        ledger=folder / "ledger.csv",
        config=config,
        planted=planted,
    )


#: How the tour names the one-off items of :attr:`Planted.extras`.
EXTRA_TITLES = {
    "unmatched_remittance": "payment for an unknown claim",
    "missing_deposit": "missing deposit",
    "short_deposit": "short deposit",
    "deposit_without_era": "deposit without 835",
    "posting_without_payment": "posting without payment",
}


def describe(planted: Planted) -> Iterator[str]:
    """Human lines: what the data set holds (claims by pattern, then one-off items)."""
    yield f"{planted.claims:,} claims, {planted.payments:,} remittances (835)"
    counts = [
        (count, name.replace("_", " "))
        for name, count in sorted(planted.claim_patterns.items())
    ]
    counts += [
        (planted.extras[name], title)
        for name, title in EXTRA_TITLES.items()
        if planted.extras[name]
    ]
    width = max((len(f"{count:,}") for count, _ in counts), default=0)
    for count, title in counts:
        yield f"  {count:>{width},}  {title}"
