"""Check every decision of a returned workbook against the items' current state, then
apply all of them or none, through the queue workflows (each writes its audit event).

A decision is refused when its item does not exist, when it is not a decision of its
sheet, when something it needs is missing (a Note, a Reference, a date), when the item
changed since the workbook was written (its version differs), or when the item's
status does not allow it. A decision the item already carries is skipped, not
refused, so importing the same workbook twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from reconcile.db.tables import ReconException, Recoupment, Refund
from reconcile.money import format_dollars
from reconcile.queues import (
    TransitionRefused,
    UnknownItemError,
    decide_exception,
    recoupment_action,
    refund_action,
    suspend_refund,
)
from reconcile.queues.workflow import (
    EXCEPTION_DECISIONS,
    RECOUPMENT,
    REFUND,
    SUSPENDABLE_REFUND,
    exception_refusal,
    refusal,
)
from reconcile.report.columns import (
    NOTE,
    NOTE_MAX,
    RECOUPMENT_DECISIONS,
    REFERENCE,
    REFERENCE_MAX,
    REFUND_DECISIONS,
    SUSPEND_UNTIL,
    Entity,
)
from reconcile.report.review import Problem, ReviewRow
from reconcile.report.rows import (
    exception_version,
    recoupment_version,
    refund_version,
)
from reconcile.settings import Settings

_CHUNK = 500
_DECISIONS = {
    Entity.EXCEPTION: EXCEPTION_DECISIONS,
    Entity.REFUND: REFUND_DECISIONS,
    Entity.RECOUPMENT: RECOUPMENT_DECISIONS,
}

#: What each decision needs besides itself.
_NEEDS_NOTE = {
    Entity.EXCEPTION: frozenset({"resolved", "write_off", "appeal", "dismissed"}),
    Entity.REFUND: frozenset({"cancel", "suspend"}),
    Entity.RECOUPMENT: frozenset({"dispute"}),
}
_NEEDS_REFERENCE = {
    Entity.EXCEPTION: frozenset[str](),
    Entity.REFUND: frozenset({"issue"}),
    Entity.RECOUPMENT: frozenset({"repay"}),
}
_TABLES: dict[Entity, Any] = {
    Entity.EXCEPTION: ReconException,
    Entity.REFUND: Refund,
    Entity.RECOUPMENT: Recoupment,
}


@dataclass(frozen=True)
class Planned:
    """A decision that will be applied: the row, and the change it makes."""

    row: ReviewRow
    change: str


@dataclass(frozen=True)
class Skipped:
    """A decision the item already carries."""

    row: ReviewRow
    why: str


@dataclass(frozen=True)
class ReviewPlan:
    """What importing a workbook would do."""

    planned: list[Planned]
    skipped: list[Skipped]
    problems: list[Problem]


def decisions_for(entity: Entity) -> tuple[str, ...]:
    """The decisions a sheet of ``entity`` items offers."""
    return _DECISIONS[entity]


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _current(conn: Connection, entity: Entity, ids: Iterable[int]) -> dict[int, Any]:
    table = _TABLES[entity]
    wanted = sorted(set(ids))
    found: dict[int, Any] = {}
    for chunk in _chunks(wanted):
        # Locked (on PostgreSQL) so nothing changes between the check and the change.
        statement = select(table.__table__).where(table.id.in_(chunk))
        for row in conn.execute(statement.with_for_update()):
            found[row.id] = row
    return found


def _version(entity: Entity, item: Any) -> str:
    if entity is Entity.EXCEPTION:
        return exception_version(
            status=str(item.status),
            decision=item.decision,
            amount_cents=item.amount_cents,
            reopened_count=item.reopened_count,
        )
    if entity is Entity.REFUND:
        return refund_version(
            status=str(item.status),
            amount_cents=item.amount_cents,
            due_on=item.due_on,
            suspended_until=item.suspended_until,
        )
    return recoupment_version(
        status=str(item.status),
        amount_cents=item.amount_cents,
        response_due_on=item.response_due_on,
    )


def _missing(row: ReviewRow) -> str | None:
    entity, decision = row.entity, row.decision
    if decision in _NEEDS_NOTE[entity] and not row.note:
        return f"{decision} needs a {NOTE} saying why"
    if decision in _NEEDS_REFERENCE[entity] and not row.reference:
        return f"{decision} needs a {REFERENCE} (check number or EFT trace)"
    if decision == "suspend" and row.until is None:
        return f"suspend needs the {SUSPEND_UNTIL} date"
    if row.note and len(row.note) > NOTE_MAX:
        return f"the {NOTE} is longer than {NOTE_MAX} characters"
    if row.reference and len(row.reference) > REFERENCE_MAX:
        return f"the {REFERENCE} is longer than {REFERENCE_MAX} characters"
    return None


def _already(row: ReviewRow, item: Any) -> str | None:
    """Why the item already carries this decision (None: it does not)."""
    status = str(item.status)
    if row.entity is Entity.EXCEPTION:
        if item.decision is not None and str(item.decision) == row.decision:
            return f"exception {row.item_id} is already decided {row.decision}"
        return None
    if row.entity is Entity.REFUND and row.decision == "suspend":
        if item.suspended_until == row.until:
            return f"refund {row.item_id} is already suspended until {row.until}"
        return None
    machine = REFUND if row.entity is Entity.REFUND else RECOUPMENT
    if status == machine[row.decision].target:
        return f"{row.entity} {row.item_id} is already {status}"
    return None


def _state(entity: Entity, item: Any) -> str:
    words = [str(item.status)]
    if entity is Entity.EXCEPTION and item.decision is not None:
        words.append(f"decided {item.decision}")
    words.append(f"{format_dollars(item.amount_cents)} at stake")
    return ", ".join(words)


def _refusal(row: ReviewRow, item: Any, settings: Settings) -> str | None:
    status = str(item.status)
    if row.entity is Entity.EXCEPTION:
        return exception_refusal(
            item_id=row.item_id, status=status, decision=row.decision
        )
    if row.entity is Entity.REFUND and row.decision == "suspend":
        assert row.until is not None
        if status not in SUSPENDABLE_REFUND:
            return (
                f"refund {row.item_id} is {status}; only a queued or approved refund "
                "can be suspended"
            )
        if not str(item.due_rule).startswith("medicare_medicaid"):
            return (
                f"refund {row.item_id} is not a Medicare or Medicaid overpayment; only "
                "those have a 60-day clock to suspend"
            )
        max_days = settings.refunds.max_suspension_days
        limit = item.identified_on + dt.timedelta(days=max_days)
        if not item.identified_on <= row.until <= limit:
            return (
                f"a suspension of refund {row.item_id} must end between "
                f"{item.identified_on} and {limit}"
            )
        return None
    machine = REFUND if row.entity is Entity.REFUND else RECOUPMENT
    return refusal(
        machine,
        noun=str(row.entity),
        item_id=row.item_id,
        action=row.decision,
        status=status,
    )


def _change(row: ReviewRow, item: Any) -> str:
    status = str(item.status)
    if row.entity is Entity.EXCEPTION:
        return f"exception {row.item_id}: {status} → resolved ({row.decision})"
    if row.decision == "suspend":
        return f"refund {row.item_id}: suspended until {row.until}"
    machine = REFUND if row.entity is Entity.REFUND else RECOUPMENT
    target = machine[row.decision].target
    return f"{row.entity} {row.item_id}: {status} → {target} ({row.decision})"


def _check(
    row: ReviewRow, item: Any | None, settings: Settings
) -> Planned | Skipped | Problem:
    def problem(message: str) -> Problem:
        return Problem(row.sheet, row.row, message)

    allowed = decisions_for(row.entity)
    if row.decision not in allowed:
        return problem(
            f"{row.decision!r} is not a {row.entity} decision; use one of "
            + ", ".join(allowed)
        )
    if item is None:
        return problem(f"there is no {row.entity} {row.item_id}")
    missing = _missing(row)
    if missing:
        return problem(missing)
    already = _already(row, item)
    if already:
        return Skipped(row, already)
    if row.version != _version(row.entity, item):
        return problem(
            f"{row.entity} {row.item_id} changed since the workbook was written "
            f"(now {_state(row.entity, item)}); decide it in a new workbook"
        )
    refused = _refusal(row, item, settings)
    if refused:
        return problem(refused)
    return Planned(row, _change(row, item))


def _same(a: ReviewRow, b: ReviewRow) -> bool:
    return (a.decision, a.note, a.reference, a.until) == (
        b.decision,
        b.note,
        b.reference,
        b.until,
    )


def plan_review(
    conn: Connection, *, rows: Sequence[ReviewRow], settings: Settings
) -> ReviewPlan:
    """Check every decision against the items' current state (changes nothing)."""
    items = {
        entity: _current(conn, entity, (r.item_id for r in rows if r.entity is entity))
        for entity in Entity
    }
    planned: list[Planned] = []
    skipped: list[Skipped] = []
    problems: list[Problem] = []
    first: dict[tuple[Entity, int], ReviewRow] = {}
    for row in rows:
        key = (row.entity, row.item_id)
        earlier = first.setdefault(key, row)
        if earlier is not row:
            if not _same(earlier, row):
                problems.append(
                    Problem(
                        row.sheet,
                        row.row,
                        f"{row.entity} {row.item_id} has another decision on "
                        f"{earlier.place}; keep one",
                    )
                )
            continue
        outcome = _check(row, items[row.entity].get(row.item_id), settings)
        if isinstance(outcome, Planned):
            planned.append(outcome)
        elif isinstance(outcome, Skipped):
            skipped.append(outcome)
        else:
            problems.append(outcome)
    return ReviewPlan(planned=planned, skipped=skipped, problems=problems)


def apply_plan(
    conn: Connection,
    *,
    plan: ReviewPlan,
    actor: str,
    at: dt.datetime,
    settings: Settings,
) -> list[Problem]:
    """Apply every planned decision in the caller's transaction.

    Returns the decisions the workflows refused after all (an item changed between
    the check and the change); the caller then rolls back.
    """
    refused: list[Problem] = []
    for planned in plan.planned:
        row = planned.row
        try:
            _apply(conn, row, actor=actor, at=at, settings=settings)
        except (TransitionRefused, UnknownItemError) as error:
            refused.append(Problem(row.sheet, row.row, str(error)))
    return refused


def _apply(
    conn: Connection, row: ReviewRow, *, actor: str, at: dt.datetime, settings: Settings
) -> None:
    if row.entity is Entity.EXCEPTION:
        decide_exception(
            conn, exception_id=row.item_id, decision=row.decision, note=row.note,
            actor=actor, at=at,
        )  # fmt: skip
    elif row.entity is Entity.REFUND and row.decision == "suspend":
        assert row.until is not None
        assert row.note is not None
        suspend_refund(
            conn, refund_id=row.item_id, until=row.until, reason=row.note,
            actor=actor, at=at, settings=settings,
        )  # fmt: skip
    elif row.entity is Entity.REFUND:
        refund_action(
            conn, refund_id=row.item_id, action=row.decision, actor=actor, at=at,
            reason=row.note, reference=row.reference,
        )  # fmt: skip
    else:
        recoupment_action(
            conn, recoupment_id=row.item_id, action=row.decision, actor=actor, at=at,
            reason=row.note, reference=row.reference,
        )  # fmt: skip
