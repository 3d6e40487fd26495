"""Everything one workbook shows, gathered from the database.

:func:`collect` runs the Summary's aggregate queries at once and hands the item
sheets over as lazy row streams, which the workbook builder drains one sheet after
the other inside the caller's (read-only) transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from reconcile.report.columns import (
    SheetSpec,
    exception_sheet,
    recoupment_sheet,
    refund_sheet,
)
from reconcile.report.figures import (
    KindFigure,
    QueueFigure,
    kind_figures,
    recoupment_figures,
    refund_figures,
)
from reconcile.report.rows import (
    exception_rows,
    recoupment_rows,
    refund_rows,
)
from reconcile.report.scope import ReportScope
from reconcile.report.sources import SourceFileRow, source_file_rows

R = TypeVar("R")

SUMMARY = "Summary"
REFUNDS = "Refunds"
RECOUPMENTS = "Recoupments"
RUN_INFO = "Run info"
_RESERVED = frozenset({SUMMARY, REFUNDS, RECOUPMENTS, RUN_INFO})


@dataclass(frozen=True)
class Header:
    """Who and what the workbook is about, and from which point of view."""

    scope: ReportScope
    #: The database URL, password hidden.
    database: str
    written_at: dt.datetime
    time_zone: str
    show_patient_names: bool


@dataclass(frozen=True)
class ItemSheet(Generic[R]):
    """One item sheet (split into parts when it outgrows Excel's row limit)."""

    title: str
    heading: str
    spec: SheetSpec[R]
    rows: Iterable[R]


@dataclass(frozen=True)
class ReportContent:
    """The figures and row streams of one workbook."""

    header: Header
    kinds: Sequence[KindFigure]
    refunds: QueueFigure
    recoupments: QueueFigure
    exception_sheets: Iterable[ItemSheet[Any]]
    queue_sheets: Sequence[ItemSheet[Any]]
    source_files: Iterable[SourceFileRow]


def kind_sheet_title(figure: KindFigure) -> str:
    """The sheet title of an exception kind (never one of the fixed sheets' titles)."""
    return sheet_title_of(figure.title)


def sheet_title_of(title: str) -> str:
    """The sheet title of an exception kind titled ``title`` (``KINDS[kind].title``)."""
    return title if title not in _RESERVED else f"{title} (exceptions)"


def _viewpoint(header: Header) -> str:
    scope = header.scope
    if scope.current_at is None:
        return f"open on {scope.as_of}"
    return f"open on {scope.as_of}, with their status as it stands now"


def _exception_sheets(
    conn: Connection, header: Header, kinds: Sequence[KindFigure]
) -> Iterator[ItemSheet[Any]]:
    for figure in kinds:
        yield ItemSheet(
            title=kind_sheet_title(figure),
            heading=(
                f"{figure.title} ({figure.kind}), {_viewpoint(header)}. "
                f"{figure.how_to_work}"
            ),
            spec=exception_sheet(
                names=header.show_patient_names,
                current=header.scope.current,
                kind=figure.kind,
            ),
            rows=exception_rows(
                conn,
                scope=header.scope,
                kind=figure.kind,
                names=header.show_patient_names,
            ),
        )


def collect(conn: Connection, *, header: Header) -> ReportContent:
    """Query the Summary figures and prepare the row streams of every sheet."""
    scope, names = header.scope, header.show_patient_names
    kinds = kind_figures(conn, scope=scope)
    viewpoint = _viewpoint(header)
    queue_sheets: list[ItemSheet[Any]] = [
        ItemSheet(
            title=REFUNDS,
            heading=(
                f"Refunds the practice owes, {viewpoint}. Highlighted: overdue (red) "
                "or due within 7 days (amber)."
            ),
            spec=refund_sheet(names=names),
            rows=refund_rows(conn, scope=scope, names=names),
        ),
        ItemSheet(
            title=RECOUPMENTS,
            heading=(
                f"Money payers take back, {viewpoint}. Highlighted: response "
                "deadline passed (red) or within 7 days (amber)."
            ),
            spec=recoupment_sheet(names=names),
            rows=recoupment_rows(conn, scope=scope, names=names),
        ),
    ]
    return ReportContent(
        header=header,
        kinds=kinds,
        refunds=refund_figures(conn, scope=scope),
        recoupments=recoupment_figures(conn, scope=scope),
        exception_sheets=_exception_sheets(conn, header, kinds),
        queue_sheets=queue_sheets,
        source_files=source_file_rows(conn, scope=scope),
    )
