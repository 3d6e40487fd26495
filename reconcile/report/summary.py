"""The Summary sheet (the accountant's first look) and the "Run info" sheet (audit).

Summary: what the workbook is, how to send decisions back, the run's facts, counts
and amounts per exception kind with the way to work each (each title links to its
sheet), refund and recoupment totals (overdue, due within 7 and 30 days), and a
labelled bar chart of the money at stake per kind. Run info: the window, rule
counts, configuration hash, and every source file with its SHA-256.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.properties import PageSetupProperties

from reconcile import __version__
from reconcile.report.cells import (
    AMOUNT,
    COUNT,
    DATE,
    DATETIME,
    EMPHASIS,
    HEADER,
    SECTION,
    SHEET_TITLE,
    TOTAL,
    Sheet,
    safe,
    styled,
)
from reconcile.report.content import RUN_INFO, SUMMARY, Header, ReportContent
from reconcile.report.figures import KindFigure, QueueFigure
from reconcile.report.sources import SourceFileRow

_SUMMARY_WIDTHS = (32, 24, 8, 8, 10, 13, 15, 78)
_KIND_HEADERS = (
    "Exception kind", "Kind id", "Items", "New", "Open now", "Oldest (days)",
    "At stake", "How to work it",
)  # fmt: skip
_AMOUNT_COLUMN = 7
_RUN_INFO_WIDTHS = (36, 12, 12, 68, 12, 28, 40)


class _Rows:
    """Appends rows to a write-only sheet and remembers how many it holds."""

    def __init__(self, ws: Sheet) -> None:
        self.ws = ws
        self.count = 0

    def append(self, values: list[Any]) -> None:
        self.ws.append(values)
        self.count += 1


def _local(instant: dt.datetime, time_zone: str) -> dt.datetime:
    """A naive local time: Excel cells cannot hold a time zone."""
    return instant.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None)


def _layout(ws: Sheet, widths: Sequence[float], *, pages_high: int = 0) -> None:
    """Column widths, and one page wide in landscape when printed."""
    for position, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(position)].width = width
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = pages_high  # 0: as many as it takes


def workbook_title(header: Header) -> str:
    """What the workbook is: the run, and whether states are current."""
    scope = header.scope
    run = scope.run
    if scope.current_at is None:
        return f"Reconciliation exceptions: run {run.run_id}"
    written = _local(scope.current_at, header.time_zone)
    return (
        f"Run {run.run_id} rewritten {written:%Y-%m-%d %H:%M}: current state of "
        f"the items open on {run.as_of}"
    )


def _guide(header: Header) -> str:
    scope = header.scope
    listed = (
        f"Each sheet lists the items open on {scope.as_of} (the as-of date); "
        "'New' marks those this run found first."
    )
    if scope.current_at is not None:
        listed += (
            " Status and Outcome show where each item stands now, not as the run "
            "left it."
        )
    return (
        f"{listed} Pick a Decision and add a Note on any sheet, save, then run: "
        "reconcile review import THIS-FILE --by YOUR-NAME"
    )


def _facts(out: _Rows, header: Header) -> None:
    ws = out.ws
    run = header.scope.run
    tz = header.time_zone
    rows: list[tuple[str, Any, str | None]] = [
        ("Run", f"{run.run_id} ({run.trigger})", None),
        ("Window from", run.first, DATE),
        ("Window to", run.last, DATE),
        ("As of", run.as_of, DATE),
        (f"Run started ({tz})", _local(run.started_at, tz), DATETIME),
        (f"Workbook written ({tz})", _local(header.written_at, tz), DATETIME),
        ("Database", header.database, None),
    ]
    for label, value, style in rows:
        out.append([label, styled(ws, value, style) if style else safe(ws, value)])
    if run.skipped is not None:
        first, last = run.skipped
        out.append(
            [
                styled(ws, "Days not reconciled", EMPHASIS),
                styled(
                    ws,
                    f"The catch-up skipped {first} to {last}; run them with: "
                    f"reconcile run --from {first} --to {last}",
                    EMPHASIS,
                ),
            ]
        )


def _kind_link(ws: Sheet, title: str, sheet: str) -> Any:
    cell = styled(ws, title, "Hyperlink")
    cell.hyperlink = Hyperlink(ref="A1", location=f"'{sheet}'!A1", display=title)
    return cell


def _kinds(
    out: _Rows, kinds: Sequence[KindFigure], sheet_titles: dict[str, str]
) -> tuple[int, int]:
    """Write the per-kind table; return its first and last data rows."""
    ws = out.ws
    out.append([styled(ws, "Open exceptions by kind", SECTION)])
    out.append([styled(ws, text, HEADER) for text in _KIND_HEADERS])
    first = out.count + 1
    for figure in kinds:
        out.append(
            [
                _kind_link(ws, figure.title, sheet_titles[figure.kind]),
                str(figure.kind),
                figure.count,
                figure.new,
                figure.still_open,
                figure.oldest_days,
                styled(ws, figure.amount, AMOUNT),
                figure.how_to_work,
            ]
        )
    if not kinds:
        out.append(["No open exceptions."])
        return first, first - 1
    last = first + len(kinds) - 1
    out.append(
        [
            styled(ws, "Total", HEADER),
            styled(ws, None, HEADER),
            styled(ws, sum(f.count for f in kinds), HEADER),
            styled(ws, sum(f.new for f in kinds), HEADER),
            styled(ws, sum(f.still_open for f in kinds), HEADER),
            styled(ws, None, HEADER),
            styled(ws, sum((f.amount for f in kinds), start=Decimal(0)), TOTAL),
        ]
    )
    return first, last


def _queues(out: _Rows, queues: Iterable[tuple[str, str, QueueFigure, str]]) -> None:
    ws = out.ws
    out.append([styled(ws, "Refunds and recoupments", SECTION)])
    out.append(
        [
            styled(ws, text, HEADER)
            for text in ("", "Sheet", "Items", "", "", "", "Amount", "")
        ]
    )
    for name, sheet, figure, meaning in queues:
        lines = [
            (f"{name}: listed", figure.listed, meaning),
            (f"{name}: overdue", figure.overdue, None),
            *(
                (f"{name}: due within {days} days", tally, None)
                for days, tally in figure.due_within.items()
            ),
        ]
        for label, tally, note in lines:
            overdue = label.endswith("overdue") and tally.count > 0
            out.append(
                [
                    styled(ws, label, EMPHASIS) if overdue else label,
                    _kind_link(ws, sheet, sheet) if note else None,
                    tally.count,
                    None,
                    None,
                    None,
                    styled(ws, tally.amount, AMOUNT),
                    note,
                ]
            )


def _chart(ws: Sheet, first: int, last: int, anchor: str) -> None:
    chart = BarChart()
    chart.type = "bar"
    chart.style = 10
    chart.title = "Money at stake by exception kind"
    chart.y_axis.title = "Dollars at stake"
    chart.y_axis.numFmt = "#,##0"
    chart.y_axis.majorGridlines = None
    chart.x_axis.scaling.orientation = "maxMin"  # first kind on top, as in the table
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend = None
    values = Reference(ws, min_col=_AMOUNT_COLUMN, min_row=first, max_row=last)
    categories = Reference(ws, min_col=1, min_row=first, max_row=last)
    chart.add_data(values, titles_from_data=False)
    chart.set_categories(categories)
    chart.dataLabels = DataLabelList(
        showVal=True, showCatName=False, showSerName=False, showLegendKey=False,
        showPercent=False,
    )  # fmt: skip
    chart.dataLabels.numFmt = "#,##0.00"
    chart.width = 26
    chart.height = 4 + 0.9 * (last - first + 1)
    ws.add_chart(chart, anchor)


def write_summary(
    wb: Workbook, content: ReportContent, sheet_titles: dict[str, str]
) -> Sheet:
    """Write the Summary sheet; ``sheet_titles`` maps each kind to its sheet."""
    ws = wb.create_sheet(SUMMARY)
    _layout(ws, _SUMMARY_WIDTHS, pages_high=1)
    header = content.header
    out = _Rows(ws)
    out.append([styled(ws, workbook_title(header), SHEET_TITLE)])
    out.append([_guide(header)])
    out.append([])
    _facts(out, header)
    out.append([])
    first, last = _kinds(out, content.kinds, sheet_titles)
    out.append([])
    _queues(
        out,
        (
            ("Refunds", "Refunds", content.refunds,
             "Owed back until issued; due dates are legal deadlines."),
            ("Recoupments", "Recoupments", content.recoupments,
             "Payers taking money back; answer (dispute or accept) by the deadline."),
        ),
    )  # fmt: skip
    if last >= first:
        _chart(ws, first, last, f"A{out.count + 2}")
    return ws


def write_run_info(wb: Workbook, content: ReportContent) -> Sheet:
    """Write the "Run info" sheet: what produced the numbers, for audit."""
    ws = wb.create_sheet(RUN_INFO)
    _layout(ws, _RUN_INFO_WIDTHS)
    header = content.header
    run = header.scope.run
    ws.append(
        [styled(ws, f"Run {run.run_id}: what produced these numbers", SHEET_TITLE)]
    )
    ws.append([])
    for label, value, style in (
        ("Run", str(run.run_id), None),
        ("Trigger", run.trigger, None),
        ("Window from", run.first, DATE),
        ("Window to", run.last, DATE),
        ("As of", run.as_of, DATE),
        ("Host", run.host, None),
        ("Configuration hash", run.config_hash, None),
        ("Database", header.database, None),
        ("reconcile version", __version__, None),
    ):
        ws.append([label, styled(ws, value, style) if style else safe(ws, value)])
    counts = run.counts
    tables: list[tuple[str, tuple[str, ...], list[list[Any]]]] = [
        (
            "Matching rules (new matches in this run)",
            ("Rule", "Matched", "Ambiguous"),
            [
                [rule, figures.get("matched"), figures.get("ambiguous")]
                for rule, figures in (counts.get("rules") or {}).items()
            ],
        ),
        (
            "Conditions found in this run, by kind",
            ("Kind", "Found"),
            [[kind, n] for kind, n in (counts.get("found") or {}).items()],
        ),
        (
            "Exceptions changed by this run",
            ("Change", "Count"),
            [[change, n] for change, n in (counts.get("exceptions") or {}).items()],
        ),
        (
            "Still in their grace period",
            ("Kind", "Count"),
            [[kind, n] for kind, n in (counts.get("pending") or {}).items()],
        ),
    ]
    for title, headers, rows in tables:
        ws.append([])
        ws.append([styled(ws, title, SECTION)])
        ws.append([styled(ws, text, HEADER) for text in headers])
        for values in rows:
            ws.append(values)
    _sources(ws, content.source_files, header.time_zone)
    return ws


def _sources(ws: Sheet, files: Iterable[SourceFileRow], time_zone: str) -> None:
    ws.append([])
    ws.append([styled(ws, "Source files loaded before the run", SECTION)])
    headers = ("Name", "Kind", "File ID", "SHA-256", "Size (bytes)",
               f"Imported ({time_zone})", "Rows")  # fmt: skip
    ws.append([styled(ws, text, HEADER) for text in headers])
    for f in files:
        ws.append(
            [
                safe(ws, f.name),
                f.kind,
                styled(ws, f.id, COUNT),
                f.sha256,
                styled(ws, f.size_bytes, COUNT),
                styled(ws, _local(f.imported_at, time_zone), DATETIME),
                f.rows or None,
            ]
        )
