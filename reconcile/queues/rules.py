"""The legal and contractual dates of the queues, as pure functions of dates and
configuration (835 reference §2).

- Refunds: Medicare and Medicaid overpayments are reported and returned within 60 days
  of identification (SSA §1128J(d); 42 CFR 401.305); a good-faith investigation may
  suspend the clock for up to 180 days (CY2025 PFS rule), so the deadline is 60 days
  after the suspension ends. Patient refunds follow the practice's state (Texas Ins.
  Code §1661.005: 30 days); everything else a configured default.
- Recoupments: the practice may respond (dispute) within the payer's window from the
  notice (or from when the recoupment was first seen); for Medicare a redetermination
  filed within 30 days of the demand stops recoupment, which may otherwise start on
  day 41.
- State limits on commercial recoupments: look-back months between the original
  payment and the notice or offset (SC 18, DE 24, AR 18, NY 24, CA 12), and notice
  rules — Texas' notice within 180 days and no offset before day 45 after the notice.
  Government programs and payers marked exempt (self-funded/ERISA) are not checked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reconcile.categories import PayeeKind
from reconcile.periods import add_months
from reconcile.settings import PayerKind, Settings, StateRule

GOVERNMENT = frozenset({PayerKind.MEDICARE, PayerKind.MEDICAID})


@dataclass(frozen=True)
class DueDate:
    """A refund's deadline and the rule that set it."""

    due_on: dt.date
    rule: str


def refund_due(
    *,
    settings: Settings,
    payee_kind: PayeeKind,
    identified_on: dt.date,
    government: bool,
    suspended_until: dt.date | None = None,
) -> DueDate:
    """When a refund must be made."""
    refunds = settings.refunds
    if payee_kind is PayeeKind.PATIENT:
        state = settings.practice.state
        days = refunds.patient_due_days_by_state.get(state)
        if days is not None:
            return DueDate(
                identified_on + dt.timedelta(days=days), f"patient_state:{state}"
            )
        return DueDate(
            identified_on + dt.timedelta(days=refunds.default_due_days), "default"
        )
    if government:
        start = max(suspended_until or identified_on, identified_on)
        rule = "medicare_medicaid" + (":suspended" if suspended_until else "")
        return DueDate(
            start + dt.timedelta(days=refunds.medicare_medicaid_due_days), rule
        )
    return DueDate(
        identified_on + dt.timedelta(days=refunds.default_due_days), "default"
    )


@dataclass(frozen=True)
class Deadline:
    """By when a recoupment can be answered, and (Medicare) when offset may start."""

    respond_by: dt.date
    offset_from: dt.date | None


def recoupment_deadline(
    *, settings: Settings, kind: PayerKind, response_days: int, start: dt.date
) -> Deadline:
    """The response deadline of a recoupment noticed or first seen on ``start``."""
    rules = settings.recoupments
    if kind is PayerKind.MEDICARE:
        return Deadline(
            respond_by=start + dt.timedelta(days=rules.medicare_redetermination_days),
            offset_from=start + dt.timedelta(days=rules.medicare_offset_day),
        )
    return Deadline(
        respond_by=start + dt.timedelta(days=response_days), offset_from=None
    )


@dataclass(frozen=True)
class Verdict:
    """Whether a state's look-back rules allow a recoupment."""

    status: str  # ok, outside, exempt, no_rule, unknown
    note: str | None = None

    @property
    def disputable(self) -> bool:
        """True when the recoupment breaks the state's rules."""
        return self.status == "outside"


def lookback_verdict(
    *,
    state: str,
    rule: StateRule | None,
    kind: PayerKind,
    exempt: bool,
    original_paid_on: dt.date | None,
    notice_on: dt.date | None,
    offset_on: dt.date | None,
) -> Verdict:
    """Check a recoupment against its state's look-back and notice rules.

    Both kinds of breach make it ``outside`` (disputable); the note says which: a
    look-back limit in months ("outside look-back: …") or a notice rule such as
    Texas' ("notice rule: TX requires notice before an offset; none recorded —
    disputable").
    """
    if kind in GOVERNMENT:
        return Verdict("exempt", "government program: state limits do not apply")
    if exempt:
        return Verdict("exempt", "payer exempt from state rules (self-funded/ERISA)")
    if rule is None:
        return Verdict("no_rule", f"no look-back rule for {state or 'the payer'}")
    if original_paid_on is None:
        return Verdict("unknown", "original payment not identified")
    first_event = notice_on or offset_on
    lookback: list[str] = []
    notice: list[str] = []
    if rule.lookback_months and first_event:
        limit = add_months(original_paid_on, rule.lookback_months)
        if first_event > limit:
            lookback.append(
                f"{state} allows {rule.lookback_months} months from the payment of "
                f"{original_paid_on}; recovered on {first_event}"
            )
    if rule.notice_within_days and first_event:
        late = (first_event - original_paid_on).days
        if late > rule.notice_within_days:
            notice.append(
                f"{state} requires notice within {rule.notice_within_days} days of the "
                f"payment; it came {late} days after"
            )
    if rule.no_offset_before_days and offset_on:
        if notice_on is None:
            notice.append(f"{state} requires notice before an offset; none recorded")
        else:
            earliest = notice_on + dt.timedelta(days=rule.no_offset_before_days)
            if offset_on < earliest:
                notice.append(
                    f"{state} allows no offset before day {rule.no_offset_before_days} "
                    f"after the notice ({earliest}); offset on {offset_on}"
                )
    notes = []
    if lookback:
        notes.append("outside look-back: disputable — " + "; ".join(lookback))
    if notice:
        notes.append("notice rule: " + "; ".join(notice) + " — disputable")
    if notes:
        return Verdict("outside", "; ".join(notes))
    return Verdict("ok")
