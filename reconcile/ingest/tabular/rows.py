"""Rows to staged tuples: the header bound to a spec, every cell read and checked.

:func:`bind_header` finds each canonical column in the file's header (through the
source's column map, ignoring case and repeated spaces) and rejects the file at once
if a required column is missing. :func:`stage_chunks` then streams the rows: each
cell is read (:mod:`reconcile.ingest.tabular.cells`), and empty required cells,
amounts below their minimum and failed row rules are logged as problems with their
line and column (the header as the file writes it). Only rows without problems are
yielded, column-wise in chunks (``[lines, values of column 1, …]``), which is how
the staging table takes them (:mod:`reconcile.ingest.practice.staging`);
:func:`stage_rows` gives the same rows one tuple at a time. Blank rows are skipped.
Reading stops once the problem log is full.

Rows are read in chunks, column by column (a few C-level passes per column instead
of a Python call per cell); a chunk in which anything is not plainly right is read
again row by row and cell by cell, to log each of its problems with its place.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import count, islice

from reconcile.categories import LedgerKind
from reconcile.ingest.outcome import FileRejected, Problem
from reconcile.ingest.tabular.cells import (
    AbsentCells,
    AmountCells,
    CellError,
    CellReader,
    ChoiceCells,
    DateCells,
    TextCells,
)
from reconcile.ingest.tabular.problems import ProblemLog
from reconcile.ingest.tabular.spec import Column, ColumnType, TableSpec
from reconcile.ingest.tabular.table import RowsUnreadable, Table
from reconcile.settings import SourceSettings


@dataclass(frozen=True)
class BoundColumn:
    """A canonical column found (or, if optional, not found) in a file's header."""

    column: Column
    position: int | None  # index of its cell in each row; None: not in the file
    label: str  # the header as the file writes it (how problems name the column)
    read: CellReader  # its cells (an absent column reads as empty)


def _header_text(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return "" if cell is None else " ".join(str(cell).split())


def _reader(column: Column, settings: SourceSettings, table: Table) -> CellReader:
    """The column's cell reader, with its own rules (required, minimum, check)."""
    required = column.required
    if column.type is ColumnType.DATE:
        return DateCells(
            date_format=settings.date_format, epoch=table.epoch, required=required
        )
    if column.type is ColumnType.AMOUNT:
        return AmountCells(
            amount_format=settings.amount_format,
            required=required,
            minimum=column.minimum_cents,
            below_minimum=column.below_minimum,
        )
    if column.type is ColumnType.CHOICE:
        choices = {kind.value: kind.value for kind in LedgerKind}
        choices.update(settings.kinds)
        allowed = ", ".join(kind.value for kind in LedgerKind)
        return ChoiceCells(
            choices=choices,
            expected=f"a ledger kind ({allowed}, or a word mapped in "
            "[sources.ledger.kinds])",
            required=required,
        )
    return TextCells(
        max_length=column.max_length, required=required, check=column.check
    )


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
                read=_reader(column, settings, table) if found else AbsentCells(),
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


#: Rows read together, column by column.
CHUNK_ROWS = 500

#: Good rows of a chunk, column-wise: ``[lines, values of column 1, …]``.
Chunk = list[Sequence[object]]


def stage_chunks(
    *,
    spec: TableSpec,
    columns: Sequence[BoundColumn],
    table: Table,
    log: ProblemLog,
) -> Iterator[Chunk]:
    """Yield the good rows in column-wise chunks; log the others' problems.

    Each chunk holds at least one row. Stops early when ``log`` is full.
    """
    try:
        while rows := list(islice(table.rows, CHUNK_ROWS)):
            chunk = _read_chunk(spec, columns, table, rows)
            if chunk is None:
                good = list(_read_carefully(spec, columns, table, rows, log))
                if good:
                    yield [list(values) for values in zip(*good, strict=True)]
            else:
                yield chunk
            if log.full:
                return
    except RowsUnreadable as error:
        log.add(Problem(error.reason, line=error.line))


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
    seq = 0
    for chunk in stage_chunks(spec=spec, columns=columns, table=table, log=log):
        yield from zip(count(seq), *chunk, strict=False)
        seq += len(chunk[0])


def _read_chunk(
    spec: TableSpec,
    columns: Sequence[BoundColumn],
    table: Table,
    chunk: Sequence[tuple[int, Sequence[object]]],
) -> Chunk | None:
    """Read a chunk column-wise: ``[lines, values of column 1, …]``, or None when
    any row of it is blank, the wrong width, or has a problem."""
    lines, rows = zip(*chunk, strict=True)
    if table.fixed_width and set(map(len, rows)) != {len(table.header)}:
        return None
    cells = list(zip(*rows, strict=False)) if rows[0] else []
    read: Chunk = [lines]
    for bound in columns:
        if bound.position is None:
            read.append([None] * len(rows))
            continue
        if bound.position >= len(cells):
            return None
        values = bound.read.column(cells[bound.position])
        if values is None:
            return None
        read.append(values)
    if not any(b.column.required for b in columns) and any(
        all(v is None for v in row) for row in zip(*read[1:], strict=True)
    ):
        return None  # a blank row (with a required column, that one is empty)
    by_name = {b.column.name: read[i + 1] for i, b in enumerate(columns)}
    if any(True for rule in spec.rules for _ in rule(by_name)):
        return None
    return read


def _read_carefully(
    spec: TableSpec,
    columns: Sequence[BoundColumn],
    table: Table,
    chunk: Sequence[tuple[int, Sequence[object]]],
    log: ProblemLog,
) -> Iterator[tuple[object, ...]]:
    """Read a chunk row by row and cell by cell; log every problem with its place
    and yield ``(line, *values)`` of the good rows."""
    width = len(table.header) if table.fixed_width else None
    blank = table.blank
    labels = {b.column.name: b.label for b in columns}
    for line, cells in chunk:
        if log.full:
            return
        if blank(cells):
            continue
        if (
            width is not None
            and len(cells) != width
            and not (len(cells) > width and blank(cells[width:]))
        ):
            # Its cells are shifted: checking them would only add noise.
            log.add(
                Problem(
                    f"has {len(cells)} fields but the header has {width}: a "
                    "delimiter or quote is out of place",
                    line=line,
                )
            )
            continue
        values: list[object] = []
        good = True
        for bound in columns:
            position = bound.position
            raw = (
                cells[position]
                if position is not None and position < len(cells)
                else None
            )
            try:
                values.append(bound.read(raw))
            except CellError as error:
                log.add(Problem(str(error), line=line, column=bound.label))
                good = False
        if not good:
            continue
        row = {b.column.name: [v] for b, v in zip(columns, values, strict=True)}
        for rule in spec.rules:
            for _, name, reason in rule(row):
                log.add(Problem(reason, line=line, column=labels[name]))
                good = False
        if good:
            yield (line, *values)
