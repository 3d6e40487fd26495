"""The Summary sheet's figures, each one aggregate query over the listed items.

Counts and amounts per exception kind use the same rule as the sheets
(:mod:`reconcile.report.scope`), so the Summary always adds up to the sheets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, func, select

from reconcile.categories import ExceptionKind, ExceptionStatus
from reconcile.db.tables import ReconException, Recoupment, Refund
from reconcile.kinds import KINDS
from reconcile.money import to_decimal
from reconcile.report.deadlines import (
    HORIZONS,
    recoupment_deadline_sql,
    refund_deadline_sql,
)
from reconcile.report.scope import (
    ReportScope,
    listed_exceptions,
    listed_recoupments,
    listed_refunds,
)


@dataclass(frozen=True)
class KindFigure:
    """One exception kind on the Summary sheet."""

    kind: ExceptionKind
    title: str
    how_to_work: str
    count: int
    new: int
    still_open: int
    #: Age of the oldest item, in days as of the as-of date (None: no item has one).
    oldest_days: int | None
    amount: Decimal


@dataclass(frozen=True)
class Tally:
    """How many items and how much money."""

    count: int
    amount: Decimal


@dataclass(frozen=True)
class QueueFigure:
    """Refund or recoupment totals: listed, overdue, and due within each horizon."""

    listed: Tally
    overdue: Tally
    due_within: dict[int, Tally]


def _sum_if(condition: ColumnElement[bool], cents: Any) -> Any:
    return func.coalesce(func.sum(case((condition, cents), else_=0)), 0)


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _days(as_of: dt.date, since: dt.date | None) -> int | None:
    return None if since is None else (as_of - since).days


def kind_figures(conn: Connection, *, scope: ReportScope) -> list[KindFigure]:
    """Per exception kind with listed items, in the order of ``reconcile.kinds``."""
    e = ReconException
    rows = conn.execute(
        select(
            e.kind,
            func.count(),
            _count_if(e.first_run_id == scope.run.run_id),
            _count_if(e.status == ExceptionStatus.OPEN),
            func.coalesce(func.sum(e.amount_cents), 0),
            func.min(e.age_from_on),
        )
        .where(listed_exceptions(scope))
        .group_by(e.kind)
    ).all()
    found = {ExceptionKind(kind): row for kind, *row in rows}
    return [
        KindFigure(
            kind=kind,
            title=info.title,
            how_to_work=info.how_to_work,
            count=int(found[kind][0]),
            new=int(found[kind][1]),
            still_open=int(found[kind][2]),
            oldest_days=_days(scope.as_of, found[kind][4]),
            amount=to_decimal(int(found[kind][3])),
        )
        for kind, info in KINDS.items()
        if kind in found
    ]


def _queue(
    conn: Connection,
    *,
    table: Any,
    listed: ColumnElement[bool],
    deadline: tuple[ColumnElement[bool], Any],
    as_of: dt.date,
) -> QueueFigure:
    applies, due = deadline
    windows = {
        days: applies & (due >= as_of) & (due <= as_of + dt.timedelta(days=days))
        for days in HORIZONS
    }
    overdue = applies & (due < as_of)
    cents = table.amount_cents
    columns: list[Any] = [func.count(), func.coalesce(func.sum(cents), 0)]
    for condition in (overdue, *windows.values()):
        columns += [_count_if(condition), _sum_if(condition, cents)]
    row = conn.execute(select(*columns).where(listed)).one()
    values = [int(v) for v in row]
    tallies = [
        Tally(count=values[i], amount=to_decimal(values[i + 1]))
        for i in range(0, len(values), 2)
    ]
    return QueueFigure(
        listed=tallies[0],
        overdue=tallies[1],
        due_within=dict(zip(HORIZONS, tallies[2:], strict=True)),
    )


def refund_figures(conn: Connection, *, scope: ReportScope) -> QueueFigure:
    """Totals of the listed refunds."""
    return _queue(
        conn,
        table=Refund,
        listed=listed_refunds(scope),
        deadline=refund_deadline_sql(scope.as_of),
        as_of=scope.as_of,
    )


def recoupment_figures(conn: Connection, *, scope: ReportScope) -> QueueFigure:
    """Totals of the listed recoupments."""
    return _queue(
        conn,
        table=Recoupment,
        listed=listed_recoupments(scope),
        deadline=recoupment_deadline_sql(),
        as_of=scope.as_of,
    )
