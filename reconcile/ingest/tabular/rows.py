"""Rows to staged tuples: the header bound to a spec, every cell read and checked.

:func:`bind_header` finds each canonical column in the file's header (through the
source's column map, ignoring case and repeated spaces) and rejects the file at once
if a required column is missing. :func:`stage_rows` then streams the rows: each cell
is converted (:mod:`reconcile.ingest.tabular.cells`), empty required cells, amounts
below their minimum and failed row rules are logged as problems with their line and
column (the header as the file writes it), and only rows without problems are
yielded, as ``(seq, line, value, …)`` tuples ready for :func:`reconcile.db.bulk.
copy_rows`. Blank rows are skipped. Reading stops once the problem log is full.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from reconcile.categories import LedgerKind
from reconcile.ingest.outcome import FileRejected, Problem
from reconcile.ingest.tabular.cells import (
    CellError,
    Converter,
    amount_converter,
    choice_converter,
    date_converter,
    text_converter,
)
from reconcile.ingest.tabular.problems import ProblemLog
from reconcile.ingest.tabular.spec import Column, ColumnType, TableSpec
from reconcile.ingest.tabular.table import RowsUnreadable, Table, is_blank
from reconcile.settings import SourceSettings


@dataclass(frozen=True)
class BoundColumn:
    """A canonical column found (or, if optional, not found) in a file's header."""

    column: Column
    position: int | None  # index of its cell in each row; None: not in the file
    label: str  # the header as the file writes it (how problems name the column)
    convert: Converter


def _header_text(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return "" if cell is None else " ".join(str(cell).split())


def _converter(column: Column, settings: SourceSettings, table: Table) -> Converter:
    if column.type is ColumnType.DATE:
        return date_converter(date_format=settings.date_format, epoch=table.epoch)
    if column.type is ColumnType.AMOUNT:
        return amount_converter(amount_format=settings.amount_format)
    if column.type is ColumnType.CHOICE:
        choices = {kind.value: kind.value for kind in LedgerKind}
        choices.update(settings.kinds)
        allowed = ", ".join(kind.value for kind in LedgerKind)
        return choice_converter(
            choices=choices,
            expected=f"a ledger kind ({allowed}, or a word mapped in "
            "[sources.ledger.kinds])",
        )
    return text_converter(max_length=column.max_length)


def bind_header(
    *, spec: TableSpec, settings: SourceSettings, table: Table
) -> list[BoundColumn]:
    """Find each of the spec's columns in the header.

    Raises:
        FileRejected: a required column is missing, or a wanted header appears twice.
    """
    positions: dict[str, list[int]] = {}
    for position, cell in enumerate(table.header):
        positions.setdefault(_header_text(cell).casefold(), []).append(position)
    bound: list[BoundColumn] = []
    problems: list[Problem] = []
    for column in spec.columns:
        wanted = " ".join(settings.header_for(column.name).split())
        found = positions.get(wanted.casefold(), [])
        if len(found) > 1:
            problems.append(
                Problem(
                    "appears more than once in the header; rename the extra one",
                    line=table.header_line,
                    column=wanted,
                )
            )
        elif not found and column.required:
            mapped = "" if wanted == column.name else f" (the {column.name} column)"
            problems.append(
                Problem(
                    f"missing required column{mapped}; rename the header or map it "
                    f"in [sources.{spec.source}.columns]",
                    line=table.header_line,
                    column=wanted,
                )
            )
        label = _header_text(table.header[found[0]]) if found else wanted
        bound.append(
            BoundColumn(
                column=column,
                position=found[0] if found else None,
                label=label,
                convert=_converter(column, settings, table),
            )
        )
    if problems:
        if all(b.position is None for b in bound):
            problems.insert(
                0,
                Problem(
                    f"none of the {spec.source} columns were found in the header: is "
                    "this the right kind of file, and is its column map right?",
                    line=table.header_line,
                ),
            )
        raise FileRejected(problems)
    return bound


def stage_rows(
    *,
    spec: TableSpec,
    columns: Sequence[BoundColumn],
    table: Table,
    log: ProblemLog,
) -> Iterator[tuple[object, ...]]:
    """Yield ``(seq, line, *values)`` for every good row; log the others' problems.

    ``seq`` numbers the yielded rows from 0. Stops early when ``log`` is full.
    """
    plan = [
        (
            b.position,
            b.convert,
            b.column.required,
            b.label,
            b.column.minimum_cents,
            b.column.below_minimum,
            b.column.check,
        )
        for b in columns
    ]
    labels = {b.column.name: b.label for b in columns}
    width = len(table.header) if table.fixed_width else None
    rules = spec.rules
    seq = 0
    rows = table.rows
    try:
        for line, cells in rows:
            if is_blank(cells):
                continue
            count = len(cells)
            good = True
            if (
                width is not None
                and count != width
                and not (count > width and is_blank(cells[width:]))
            ):
                log.add(
                    Problem(
                        f"has {count} fields but the header has {width}: a delimiter "
                        "or quote is out of place",
                        line=line,
                    )
                )
                # Its cells are shifted: checking them would only add noise.
                if log.full:
                    return
                continue
            values: list[object] = []
            for position, convert, required, label, minimum, below, check in plan:
                raw = (
                    cells[position]
                    if position is not None and position < count
                    else None
                )
                try:
                    value = convert(raw)
                except CellError as error:
                    log.add(Problem(str(error), line=line, column=label))
                    good = False
                    values.append(None)
                    continue
                if value is None:
                    if required:
                        log.add(
                            Problem(
                                "is empty; a value is required", line=line, column=label
                            )
                        )
                        good = False
                elif minimum is not None and value < minimum:  # type: ignore[operator]
                    log.add(Problem(below, line=line, column=label))
                    good = False
                elif check is not None:
                    reason = check(value)  # type: ignore[arg-type]
                    if reason is not None:
                        log.add(Problem(reason, line=line, column=label))
                        good = False
                values.append(value)
            if good:
                for rule in rules:
                    for name, reason in rule(values):
                        log.add(Problem(reason, line=line, column=labels[name]))
                        good = False
            if good:
                yield (seq, line, *values)
                seq += 1
            elif log.full:
                return
    except RowsUnreadable as error:
        log.add(Problem(error.reason, line=error.line))
