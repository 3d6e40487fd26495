"""Read the decisions typed into a returned workbook.

Sheets are recognised by their headers, not their names (a reviewer may rename a
sheet): a sheet whose header row holds ``Exception ID``, ``Refund ID`` or
``Recoupment ID`` is an item sheet, and its Decision, Note, Reference, Suspend until
and Version columns are found by header too. Only rows with a Decision are kept, so
memory stays small however long the sheets are. A cell that cannot be read (an id
that is not a number, a date that is not a date) is a :class:`Problem`, reported with
its sheet and row; reading goes on so that every problem is reported at once.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from reconcile.errors import ReconcileError
from reconcile.report.columns import (
    DECISION,
    NOTE,
    REFERENCE,
    SUSPEND_UNTIL,
    VERSION,
    Entity,
    SheetSpec,
    exception_sheet,
    recoupment_sheet,
    refund_sheet,
)

#: How far down a sheet its header row may be.
_HEADER_SEARCH_ROWS = 5


class ReviewFileError(ReconcileError):
    """A file that is not a workbook reconcile wrote, or cannot be read."""


@dataclass(frozen=True)
class Problem:
    """Why one row (or a whole sheet) cannot be applied."""

    sheet: str
    row: int | None
    message: str

    def __str__(self) -> str:
        place = f"'{self.sheet}' row {self.row}" if self.row else f"'{self.sheet}'"
        return f"{place}: {self.message}"


@dataclass(frozen=True)
class ReviewRow:
    """One decision typed into a workbook."""

    sheet: str
    row: int
    entity: Entity
    item_id: int
    decision: str
    note: str | None
    reference: str | None
    until: dt.date | None
    version: str | None

    @property
    def place(self) -> str:
        """Where the decision was typed, as people say it."""
        return f"'{self.sheet}' row {self.row}"


@dataclass
class ReviewRead:
    """Everything read from a workbook."""

    rows: list[ReviewRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: Rows with a Note but no Decision: nothing to apply, but worth saying.
    notes_without_decision: int = 0


def _specs() -> dict[str, SheetSpec[Any]]:
    specs: list[SheetSpec[Any]] = [
        exception_sheet(names=False, current=False),
        refund_sheet(names=False),
        recoupment_sheet(names=False),
    ]
    return {spec.id_header: spec for spec in specs}


def _text(value: Any) -> str | None:
    """A cell as text: numbers typed for references (``10234``) keep no ``.0``."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    text = str(value).strip()
    return text or None


def _item_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _decision(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    return text.lower().replace(" ", "_").replace("-", "_")


def _find_header(
    rows: Iterator[tuple[Any, ...]], specs: dict[str, SheetSpec[Any]]
) -> tuple[int, SheetSpec[Any], dict[str, int]] | None:
    for number, values in enumerate(rows, start=1):
        headers = {_text(v): i for i, v in enumerate(values) if _text(v)}
        for id_header, spec in specs.items():
            if id_header in headers:
                return number, spec, {h: i for h, i in headers.items() if h}
        if number >= _HEADER_SEARCH_ROWS:
            break
    return None


def _required(spec: SheetSpec[Any]) -> tuple[str, ...]:
    present = {column.header for column in spec.columns}
    wanted = (spec.id_header, DECISION, NOTE, VERSION, REFERENCE, SUSPEND_UNTIL)
    return tuple(header for header in wanted if header in present)


def _read_sheet(title: str, rows: Iterator[tuple[Any, ...]], read: ReviewRead) -> bool:
    """Read one sheet's decisions into ``read``; False when it is not an item sheet."""
    found = _find_header(rows, _specs())
    if found is None:
        return False
    header_row, spec, columns = found
    missing = [h for h in _required(spec) if h not in columns]
    if missing:
        read.problems.append(
            Problem(
                title,
                header_row,
                "the column(s) " + ", ".join(repr(m) for m in missing) + " are "
                "missing; decisions can only be read from the columns reconcile wrote",
            )
        )
        return True

    def cell(values: tuple[Any, ...], header: str) -> Any:
        index = columns.get(header)
        return values[index] if index is not None and index < len(values) else None

    for number, values in enumerate(rows, start=header_row + 1):
        decision = _decision(cell(values, DECISION))
        note = _text(cell(values, NOTE))
        if decision is None:
            read.notes_without_decision += note is not None
            continue
        raw_id = cell(values, spec.id_header)
        item_id = _item_id(raw_id)
        if item_id is None:
            read.problems.append(
                Problem(title, number, f"the {spec.id_header} {raw_id!r} is not an id")
            )
            continue
        raw_until = cell(values, SUSPEND_UNTIL)
        until = _date(raw_until)
        if raw_until not in (None, "") and until is None:
            read.problems.append(
                Problem(title, number, f"{SUSPEND_UNTIL} {raw_until!r} is not a date")
            )
            continue
        read.rows.append(
            ReviewRow(
                sheet=title,
                row=number,
                entity=spec.entity,
                item_id=item_id,
                decision=decision,
                note=note,
                reference=_text(cell(values, REFERENCE)),
                until=until,
                version=_text(cell(values, VERSION)),
            )
        )
    return True


def read_review(path: Path) -> ReviewRead:
    """Read every decision typed into the workbook at ``path``.

    Raises:
        ReviewFileError: the file does not exist, is not an .xlsx workbook, or has no
            sheet that reconcile wrote items on.
    """
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise ReviewFileError(f"there is no file {path}") from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError):
        raise ReviewFileError(f"{path} is not an Excel workbook (.xlsx)") from None
    read = ReviewRead()
    item_sheets = 0
    try:
        for ws in workbook.worksheets:
            rows = ws.iter_rows(values_only=True)
            item_sheets += _read_sheet(ws.title, rows, read)
    finally:
        workbook.close()
    if not item_sheets:
        raise ReviewFileError(
            f"{path} is not a reconcile workbook: no sheet has an Exception ID, "
            "Refund ID or Recoupment ID column"
        )
    return read
