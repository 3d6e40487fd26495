"""When a refund or recoupment deadline still matters, and how many days are left.

Each rule is written twice, once for one row (Python) and once for a whole table
(SQL), side by side so they stay the same; a test checks that they agree.

- A refund's legal due date matters until it is issued: ``queued`` or ``approved``,
  and not under an investigation suspension that lasts past the as-of date.
- A recoupment's response deadline matters until the practice has answered:
  ``noticed``, ``pending`` or ``offset``.

Days left are counted from the run's as-of date; below zero means overdue.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from reconcile.categories import RecoupmentStatus, RefundStatus
from reconcile.db.tables import Recoupment, Refund

REFUND_DUE_STATUSES = frozenset({RefundStatus.QUEUED, RefundStatus.APPROVED})
RECOUPMENT_RESPONSE_STATUSES = frozenset(
    {RecoupmentStatus.NOTICED, RecoupmentStatus.PENDING, RecoupmentStatus.OFFSET}
)

#: The horizons the Summary sheet counts ahead, in days.
HORIZONS = (7, 30)


def refund_days_left(
    *,
    status: str,
    due_on: dt.date,
    suspended_until: dt.date | None,
    as_of: dt.date,
) -> int | None:
    """Days until the refund is due (negative: overdue); None when it does not apply."""
    if status not in REFUND_DUE_STATUSES:
        return None
    if suspended_until is not None and suspended_until >= as_of:
        return None
    return (due_on - as_of).days


def recoupment_days_left(
    *, status: str, response_due_on: dt.date | None, as_of: dt.date
) -> int | None:
    """Days left to answer a recoupment (negative: overdue); None when not pending."""
    if status not in RECOUPMENT_RESPONSE_STATUSES or response_due_on is None:
        return None
    return (response_due_on - as_of).days


def refund_deadline_sql(as_of: dt.date) -> tuple[ColumnElement[bool], Any]:
    """SQL form of :func:`refund_days_left`: (the deadline applies, the due date)."""
    r = Refund
    applies = and_(
        r.status.in_(sorted(REFUND_DUE_STATUSES)),
        or_(r.suspended_until.is_(None), r.suspended_until < as_of),
    )
    return applies, r.due_on


def recoupment_deadline_sql() -> tuple[ColumnElement[bool], Any]:
    """SQL form of :func:`recoupment_days_left`: (the deadline applies, the date)."""
    c = Recoupment
    applies = and_(
        c.status.in_(sorted(RECOUPMENT_RESPONSE_STATUSES)),
        c.response_due_on.is_not(None),
    )
    return applies, c.response_due_on
