"""The state machines of refunds, recoupments and exception decisions.

Each action names the statuses it may start from and the status it leads to, and
whether a person or the nightly run takes it. :func:`refusal` says, in one sentence,
why an action is not allowed; callers refuse the whole request (exit 1) and change
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconcile.categories import (
    ExceptionStatus,
    RecoupmentStatus,
    RefundStatus,
)
from reconcile.errors import ReconcileError


class TransitionRefused(ReconcileError):
    """An action that the item's current status does not allow."""


@dataclass(frozen=True)
class Transition:
    """An action: from which statuses, to which status, and who may take it."""

    action: str
    sources: frozenset[str]
    target: str
    by_person: bool = True


def _t(
    action: str, sources: set[str], target: str, *, person: bool = True
) -> Transition:
    return Transition(action, frozenset(sources), target, person)


R = RefundStatus
REFUND: dict[str, Transition] = {
    t.action: t
    for t in (
        _t("approve", {R.QUEUED}, R.APPROVED),
        _t("issue", {R.APPROVED}, R.ISSUED),
        _t("close", {R.ISSUED}, R.CLOSED),
        _t("cancel", {R.QUEUED, R.APPROVED}, R.CANCELLED),
        # The nightly run: an 835 PLB 72 acknowledges an issued payer refund; a payer
        # recoupment or a vanished overpayment cancels a refund not yet issued.
        _t("acknowledge", {R.ISSUED}, R.ACKNOWLEDGED, person=False),
        _t("auto_cancel", {R.QUEUED, R.APPROVED}, R.CANCELLED, person=False),
    )
}
OPEN_REFUND = frozenset({R.QUEUED, R.APPROVED, R.ISSUED})
SUSPENDABLE_REFUND = frozenset({R.QUEUED, R.APPROVED})

C = RecoupmentStatus
RECOUPMENT: dict[str, Transition] = {
    t.action: t
    for t in (
        # A person (DESIGN.md): any open status → disputed → accepted or closed;
        # noticed/pending → repaid; offset/accepted/repaid → closed.
        _t(
            "dispute",
            {C.NOTICED, C.PENDING, C.OFFSET, C.ACCEPTED, C.REPAID},
            C.DISPUTED,
        ),
        _t("accept", {C.DISPUTED}, C.ACCEPTED),
        _t("repay", {C.NOTICED, C.PENDING}, C.REPAID),
        _t("close", {C.DISPUTED, C.OFFSET, C.ACCEPTED, C.REPAID}, C.CLOSED),
        # The nightly run: deferred recovery, money taken, a refund check acknowledged.
        _t("defer", {C.NOTICED}, C.PENDING, person=False),
        _t("offset", {C.NOTICED, C.PENDING}, C.OFFSET, person=False),
        _t("acknowledge", {C.REPAID}, C.CLOSED, person=False),
        # The run: the money came back (a correction re-paid what a reversal took, or
        # the payer withdrew a deferred recovery). Only for what the run created.
        _t("settle", {C.PENDING, C.OFFSET}, C.CLOSED, person=False),
    )
}
OPEN_RECOUPMENT = frozenset(set(C) - {C.CLOSED})

#: Decisions a person may record on an open exception.
EXCEPTION_DECISIONS = ("resolved", "write_off", "appeal", "dismissed")


def refusal(
    machine: dict[str, Transition], *, noun: str, item_id: int, action: str, status: str
) -> str | None:
    """Return why ``action`` is refused for an item in ``status`` (None: allowed)."""
    transition = machine.get(action)
    if transition is None or not transition.by_person:
        allowed = ", ".join(a for a, t in machine.items() if t.by_person)
        return f"{action!r} is not a {noun} action; use one of {allowed}"
    if status not in transition.sources:
        sources = " or ".join(sorted(transition.sources))
        return f"{noun} {item_id} is {status}; {action} needs it to be {sources}"
    return None


def exception_refusal(*, item_id: int, status: str, decision: str | None) -> str | None:
    """Return why a decision on an exception is refused (None: allowed)."""
    if decision not in EXCEPTION_DECISIONS:
        return f"{decision!r} is not an exception decision; use one of " + ", ".join(
            EXCEPTION_DECISIONS
        )
    if status != ExceptionStatus.OPEN:
        return (
            f"exception {item_id} is already {status}; "
            "only open exceptions take a decision"
        )
    return None
