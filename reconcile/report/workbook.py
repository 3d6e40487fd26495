"""Rows → workbook: a pure function from a report's content to an openpyxl workbook.

The workbook is write-only (rows stream through to temporary files, so memory stays
flat however many items there are). Sheet order: Summary, one sheet per exception
kind that has items (in the order of ``reconcile.kinds``), Refunds, Recoupments,
Run info.
"""

from __future__ import annotations

import datetime as dt

from openpyxl import Workbook

from reconcile.report.cells import register_styles
from reconcile.report.content import ReportContent, kind_sheet_title
from reconcile.report.sheets import EXCEL_MAX_ROWS, write_item_sheet
from reconcile.report.summary import workbook_title, write_run_info, write_summary


def build_workbook(
    *, content: ReportContent, max_rows: int = EXCEL_MAX_ROWS
) -> Workbook:
    """Build the workbook; item sheets are split every ``max_rows`` rows.

    Raises:
        ValueError: ``max_rows`` leaves no room for a single item.
    """
    wb = Workbook(write_only=True)
    fill_workbook(wb, content=content, max_rows=max_rows)
    return wb


def fill_workbook(
    wb: Workbook, *, content: ReportContent, max_rows: int = EXCEL_MAX_ROWS
) -> None:
    """Add every sheet of ``content`` to the empty write-only workbook ``wb``.

    Raises:
        ValueError: ``max_rows`` leaves no room for a single item.
    """
    register_styles(wb)
    header = content.header
    written = header.written_at.astimezone(dt.UTC).replace(tzinfo=None)
    wb.properties.title = workbook_title(header)
    wb.properties.creator = "reconcile"
    wb.properties.created = written
    wb.properties.modified = written
    titles = {str(figure.kind): kind_sheet_title(figure) for figure in content.kinds}
    write_summary(wb, content, titles)
    for sheet in content.exception_sheets:
        write_item_sheet(wb, sheet, max_rows=max_rows)
    for sheet in content.queue_sheets:
        write_item_sheet(wb, sheet, max_rows=max_rows)
    write_run_info(wb, content)
