"""The synthetic 835 scenario files in ``tests/data/835``, built with the 835 writer.

Each scenario is a name, one sentence saying what it shows, the payments it holds and
how it is written (separators, byte-order mark, line wrapping, several interchanges).
The files are committed; ``test_scenario_files_are_current`` checks they equal what
this module builds, and ``RECONCILE_REGENERATE=1 pytest tests/unit/ingest`` rewrites
them (and the golden expectations). All data is synthetic: no real patient.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reconcile.demo.x12_writer import (
    Adjustment,
    Claim,
    Group,
    Interchange,
    Line,
    Patient,
    Payment,
    ProviderAdjustment,
    Separators,
    render_835,
    reversal_of,
    single,
)

DATA = Path(__file__).parent / "data" / "835"
D = dt.date
VISIT_DAY = D(2024, 2, 5)
PLAIN = Separators()


def co(reason: str, cents: int) -> Adjustment:
    """A contractual obligation adjustment."""
    return Adjustment("CO", reason, cents)


def pr(reason: str, cents: int) -> Adjustment:
    """A patient responsibility adjustment."""
    return Adjustment("PR", reason, cents)


def office_visit(
    claim_id: str, *, icn: str, day: dt.date = VISIT_DAY, coinsurance: int = 2000
) -> Claim:
    """A two-line office visit: CO-45 write-downs, PR-2 coinsurance, REF*6R, AMT*B6."""
    return Claim(
        claim_id=claim_id,
        payer_control=icn,
        patient=Patient("TESTPATIENT", "ALEX", "MBR0001"),
        member_id="MBR0001",
        statement_from=day,
        statement_to=day,
        lines=(
            Line(
                "99213",
                15000,
                (co("45", 5000), pr("2", coinsurance)),
                service_on=day,
                line_control=f"{claim_id}-1",
                allowed_cents=10000,
            ),
            Line(
                "36415",
                2500,
                (co("45", 1000),),
                modifiers=("25",),
                service_on=day,
                line_control=f"{claim_id}-2",
                allowed_cents=1500,
            ),
        ),
    )


@dataclass(frozen=True)
class Scenario:
    """One scenario file."""

    name: str
    about: str
    interchanges: list[Interchange]
    separators: Separators = PLAIN
    bom: bool = False
    st03: bool = True
    #: Applied to the rendered text (line wrapping, hand edits the writer won't do).
    edit: Callable[[str], str] | None = None
    #: Whether the file loads (False: it is rejected unless unbalanced is allowed).
    valid: bool = True

    @property
    def path(self) -> Path:
        """Where the committed file lives."""
        return DATA / f"{self.name}.835"

    @property
    def payments(self) -> list[Payment]:
        """Every payment in the file, in order."""
        return [p for i in self.interchanges for g in i.groups for p in g.payments]

    def render(self) -> bytes:
        """The file's bytes."""
        text = render_835(self.interchanges, separators=self.separators, st03=self.st03)
        if self.edit is not None:
            text = self.edit(text)
        return ("\ufeff" + text if self.bom else text).encode("utf-8")


def _wrap(width: int) -> Callable[[str], str]:
    def wrap(text: str) -> str:
        flat = text.replace("\n", "")
        return "\n".join(flat[i : i + width] for i in range(0, len(flat), width))

    return wrap


_PAYEE = {"payee_tin": "123456789"}


def _scenarios() -> list[Scenario]:
    visit_a = office_visit("PCN1001", icn="ICN1001")
    visit_b = office_visit("PCN1002", icn="ICN1002", coinsurance=1500)
    original = Claim(
        "PCN2001",
        lines=(Line("99214", 20000, (co("45", 5000), pr("2", 3000))),),
        payer_control="ICN-OLD",
    )
    corrected = Claim(
        "PCN2001",
        lines=(Line("99214", 20000, (co("45", 7000), pr("2", 3000))),),
        payer_control="ICN-NEW",
        frequency_code="7",
    )
    reversal = reversal_of(original)
    big_reversal = reversal_of(
        Claim("PCN4001", lines=(Line("27447", 500000, (co("45", 100000),)),)),
        payer_control="ICN4001",
    )
    denied = Claim(
        "PCN5001",
        status="4",
        filing_indicator="MC",
        lines=(
            Line("99215", 18000, (co("16", 18000),), remark_codes=("N130", "M127")),
        ),
    )
    return [
        Scenario(
            "ach_two_claims",
            "An ACH payment of two office visits: CAS at claim and line level, "
            "NM1*QC, REF*1W, DTM*232/233, SVC with a modifier, REF*6R, AMT*B6.",
            single(
                Payment(
                    "EFT100001",
                    D(2024, 3, 1),
                    claims=(
                        visit_a,
                        Claim(
                            "PCN1003",
                            adjustments=(Adjustment("OA", "23", 1200),),
                            lines=(Line("99212", 9000, (co("45", 3000),)),),
                            payer_control="ICN1003",
                        ),
                    ),
                    **_PAYEE,
                )
            ),
        ),
        Scenario(
            "reversal_then_repay",
            "A claim paid earlier is reversed (CLP02 22, every amount negated, the "
            "original CLP07) and paid again at a lower rate in the same 835: only "
            "the net difference (-20.00) moved; another visit keeps BPR02 positive.",
            single(
                Payment(
                    "EFT200001", D(2024, 3, 4), claims=(reversal, corrected, visit_a)
                )
            ),
        ),
        Scenario(
            "reversal_deferred_wo",
            "Reversal and correction with the recoupment deferred: PLB WO -20.00 "
            "(referenced by the old CLP07) hands the debit back until later.",
            single(
                Payment(
                    "EFT300001",
                    D(2024, 3, 5),
                    claims=(reversal, corrected),
                    provider_adjustments=(ProviderAdjustment("WO", -2000, "ICN-OLD"),),
                )
            ),
        ),
        Scenario(
            "wo_offset_later",
            "The later 835 that takes the deferred money: PLB WO +20.00 with the "
            "same reference, offset against a new payment.",
            single(
                Payment(
                    "EFT300002",
                    D(2024, 4, 2),
                    claims=(visit_b,),
                    provider_adjustments=(ProviderAdjustment("WO", 2000, "ICN-OLD"),),
                )
            ),
        ),
        Scenario(
            "refund_acknowledged_72_wo",
            "The provider refunded an overpayment by check: PLB WO +35.00 and 72 "
            "-35.00 with the same reference net to zero.",
            single(
                Payment(
                    "EFT400001",
                    D(2024, 3, 6),
                    claims=(visit_a,),
                    provider_adjustments=(
                        ProviderAdjustment("WO", 3500, "FCN777"),
                        ProviderAdjustment("72", -3500, "FCN777"),
                    ),
                )
            ),
        ),
        Scenario(
            "forwarding_balance_fb",
            "A large reversal makes the payment negative: PLB FB -3,805.00 "
            "(referenced by this 835's TRN02) carries the balance forward and "
            "BPR02 is 0.00.",
            single(
                Payment(
                    "EFT500001",
                    D(2024, 3, 7),
                    claims=(big_reversal, visit_a, visit_b),
                    provider_adjustments=(
                        ProviderAdjustment("FB", -380500, "EFT500001"),
                    ),
                )
            ),
        ),
        Scenario(
            "fb_applied_later",
            "The next 835 applies the carried balance: PLB FB +3,805.00 "
            "referencing the earlier TRN02, taken from new payments.",
            single(
                Payment(
                    "EFT500002",
                    D(2024, 3, 14),
                    claims=(
                        Claim(
                            "PCN4101",
                            lines=(Line("27447", 500000, (co("45", 100000),)),),
                        ),
                        visit_a,
                    ),
                    provider_adjustments=(
                        ProviderAdjustment("FB", 380500, "EFT500001"),
                    ),
                )
            ),
        ),
        Scenario(
            "interest_l6",
            "A late claim with AMT*I interest 4.12, paid through PLB L6 -4.12.",
            single(
                Payment(
                    "EFT600001",
                    D(2024, 3, 8),
                    claims=(
                        Claim(
                            "PCN6001",
                            lines=(Line("99213", 15000, (co("45", 4000),)),),
                            interest_cents=412,
                            received_on=D(2023, 12, 1),
                        ),
                    ),
                    provider_adjustments=(ProviderAdjustment("L6", -412),),
                )
            ),
        ),
        Scenario(
            "notification_only_h_non",
            "A notification-only 835 (BPR*H*0*C*NON): a denied claim, no money; "
            "it loads but is never matched to a deposit.",
            single(
                Payment(
                    "NOPAY0001",
                    D(2024, 3, 9),
                    claims=(denied,),
                    handling="H",
                    method="NON",
                )
            ),
        ),
        Scenario(
            "check_payment_chk",
            "A paper check (BPR04 CHK, no bank fields): TRN02 is the check number.",
            single(
                Payment("CHK0045871", D(2024, 3, 11), claims=(visit_b,), method="CHK")
            ),
        ),
        Scenario(
            "several_interchanges",
            "Two interchanges in one file, the first with two functional groups, "
            "five payments in all (control numbers restart per group).",
            [
                Interchange(
                    groups=(
                        Group(
                            payments=(
                                Payment("EFT700001", D(2024, 3, 1), claims=(visit_a,)),
                                Payment("EFT700002", D(2024, 3, 1), claims=(visit_b,)),
                            ),
                            control=11,
                        ),
                        Group(
                            payments=(
                                Payment("EFT700003", D(2024, 3, 2), claims=(visit_a,)),
                            ),
                            control=12,
                        ),
                    ),
                    control=701,
                ),
                Interchange(
                    groups=(
                        Group(
                            payments=(
                                Payment("EFT700004", D(2024, 3, 3), claims=(visit_b,)),
                                Payment(
                                    "EFT700005",
                                    D(2024, 3, 3),
                                    claims=(visit_a, visit_b),
                                ),
                            ),
                            control=13,
                        ),
                    ),
                    control=702,
                ),
            ],
        ),
        Scenario(
            "delimiters_pipe_newline",
            "Element separator '|', component '>', repetition '!', and a newline "
            "as the segment terminator.",
            single(Payment("EFT800001", D(2024, 3, 12), claims=(visit_a, visit_b))),
            separators=Separators("|", ">", "!", "\n", ""),
        ),
        Scenario(
            "delimiters_one_line",
            "Element '^', component '\\', terminator '~' and no line breaks at all: "
            "the whole file is one line.",
            single(Payment("EFT800002", D(2024, 3, 12), claims=(visit_a,))),
            separators=Separators("^", "\\", "{", "~", ""),
        ),
        Scenario(
            "bom_crlf",
            "A UTF-8 byte-order mark and CRLF after every terminator, no ST03.",
            single(Payment("EFT800003", D(2024, 3, 13), claims=(visit_b,))),
            separators=Separators(newline="\r\n"),
            bom=True,
            st03=False,
        ),
        Scenario(
            "wrapped_80_columns",
            "The text wrapped at 80 characters, as some mainframe senders do "
            "(line breaks fall inside segments).",
            single(Payment("EFT800004", D(2024, 3, 13), claims=(visit_a, visit_b))),
            edit=_wrap(80),
        ),
        Scenario(
            "duplicate_payment_in_file",
            "The same payment (TRN03, TRN02, BPR02, BPR16) twice in one file: the "
            "second copy is skipped and counted.",
            single(
                Payment("EFT900001", D(2024, 3, 15), claims=(visit_a,)),
                Payment("EFT900001", D(2024, 3, 15), claims=(visit_a,)),
                Payment("EFT900002", D(2024, 3, 15), claims=(visit_b,)),
            ),
        ),
        Scenario(
            "missing_bpr16",
            "No BPR16: the payment date falls back to DTM*405, with a warning.",
            single(
                Payment(
                    "EFT910001",
                    None,
                    claims=(visit_a,),
                    production_on=D(2024, 3, 18),
                    method="CHK",
                )
            ),
        ),
        Scenario(
            "composite_other_separator",
            "SVC01 written with '<' between components although ISA16 declares "
            "':': read as written, with a warning.",
            single(Payment("EFT920001", D(2024, 3, 19), claims=(visit_a,))),
            edit=lambda text: text.replace("SVC*HC:", "SVC*HC<").replace(
                ":25*", "<25*"
            ),
        ),
        Scenario(
            "unbalanced_claim",
            "A claim whose CLP04 is 1.00 more than CLP03 − ΣCAS (and BPR02 "
            "follows CLP04): rejected, or loaded with --allow-unbalanced.",
            single(
                Payment(
                    "EFT930001",
                    D(2024, 3, 20),
                    claims=(
                        Claim(
                            "PCN9301",
                            lines=(Line("99213", 15000, (co("45", 5000),)),),
                            paid_cents=10100,
                        ),
                    ),
                )
            ),
            valid=False,
        ),
    ]


SCENARIOS = {scenario.name: scenario for scenario in _scenarios()}


def write_files() -> None:
    """Write every scenario file (``RECONCILE_REGENERATE=1``)."""
    DATA.mkdir(parents=True, exist_ok=True)
    for scenario in SCENARIOS.values():
        scenario.path.write_bytes(scenario.render())
    (DATA / "README.md").write_text(readme(), encoding="utf-8")


def readme() -> str:
    """The folder's README: what each scenario file shows."""
    lines = [
        "# Synthetic 835 scenario files",
        "",
        "Built with `reconcile.demo.x12_writer` by `tests/x12_scenarios.py` (X12 has",
        "no comment syntax, so each file is explained here). All data is synthetic.",
        "Rewrite the files, this README and `golden/` with",
        "`RECONCILE_REGENERATE=1 pytest tests/unit/ingest/x12/test_scenarios.py`.",
        "",
        "| file | what it shows |",
        "|---|---|",
    ]
    lines += [
        f"| `{s.path.name}` | {s.about.replace('|', chr(92) + '|')}"
        f"{'' if s.valid else ' **Invalid.**'} |"
        for s in SCENARIOS.values()
    ]
    lines += [
        "",
        "`ach_two_claims.835.997` and `reversal_then_repay.835.997` are the 999",
        "acknowledgements pyx12's `x12valid` wrote for those two files (it names them",
        "`.997`); they are kept, not generated, as the acknowledgements that share a",
        "folder with 835s and that `import era` of a folder must pass over.",
    ]
    return "\n".join(lines) + "\n"
