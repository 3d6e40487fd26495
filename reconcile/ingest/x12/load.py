"""Load 835 files into the 835 tables, and check them without loading.

Reading and writing stream together inside the import's one transaction: records
become prepared row tuples, buffered per table and written in bulk (COPY on
PostgreSQL, multi-row ``INSERT`` on SQLite) parents first, every few thousand rows,
so memory stays flat whatever the file's size. Primary keys are reserved in blocks
before rows use them. A file with a fault is rejected whole: the reader stops
handing out records at the first fault and the driver rolls the transaction back.

A payment already in the database (same TRN03, TRN02, BPR02 and payment date) or
earlier in the same file is skipped and counted; the rest of the file loads.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from reconcile.db.base import Base
from reconcile.db.bulk import copy_rows, reserve_ids
from reconcile.db.tables import X12Payment
from reconcile.ingest.outcome import LoadResult
from reconcile.ingest.rebuild import lock_for_rebuild, rebuilt, worth_rebuilding
from reconcile.ingest.x12.counting import CountingSink, DedupeKey
from reconcile.ingest.x12.reader import read_remittance
from reconcile.ingest.x12.records import (
    CLAIM_COLUMNS,
    SERVICE_LINE_COLUMNS,
    ClaimPayment,
    PaymentEnd,
    PaymentHeader,
    ProviderAdjustment,
)
from reconcile.ingest.x12.rows import (
    ADJUSTMENT_TABLE,
    CLAIM_TABLE,
    COLUMNS,
    LINE_TABLE,
    PAYMENT_END_AT,
    PAYMENT_TABLE,
    PROVIDER_ADJUSTMENT_TABLE,
    TABLES,
)

#: Rows buffered before they are written.
FLUSH_ROWS = 20_000
_FIRST_BLOCK = 64
_MAX_BLOCK = 65_536
_NO_PROBLEMS = "[]"
#: The duplicate check, built once (it runs for every payment).
_KNOWN_PAYMENT = (
    select(X12Payment.id)
    .where(
        X12Payment.originator_id == bindparam("originator"),
        X12Payment.trace_number == bindparam("trace"),
        X12Payment.amount_cents == bindparam("amount"),
        X12Payment.paid_on == bindparam("paid_on"),
    )
    .limit(1)
)
#: Tables with many columns that are usually NULL (see _without_empty_columns).
_SPARSE_TABLES = frozenset({CLAIM_TABLE, LINE_TABLE})
#: Bytes of 835 per claim, for guessing a file's claims from its size before
#: reading it: generated claims of one to three lines take ~345, payers' real ones
#: (more NM1, REF, DTM and AMT segments) more, so the guess errs low.
BYTES_PER_CLAIM = 350
#: The tables a large file fills: rebuilt after it rather than maintained per row.
_BULK_TABLES = (CLAIM_TABLE, LINE_TABLE, ADJUSTMENT_TABLE)


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class DatabaseSink(CountingSink):
    """Writes a file's records into the 835 tables of an open transaction."""

    def __init__(
        self, conn: Connection, *, source_file_id: int, flush_rows: int = FLUSH_ROWS
    ) -> None:
        super().__init__()
        self._conn = conn
        self._sqlite = conn.dialect.name == "sqlite"
        # SQLite binds a NULL at a cost that COPY does not have: only SQLite's
        # inserts leave out the columns a batch never fills.
        self._sparse = _SPARSE_TABLES if self._sqlite else frozenset()
        self._source_file_id = source_file_id
        self._flush_rows = flush_rows
        self._buffers: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
        self._buffered = 0
        self._next: dict[str, int] = dict.fromkeys(TABLES, 0)
        self._end: dict[str, int] = dict.fromkeys(TABLES, 0)
        self._taken: dict[str, int] = dict.fromkeys(TABLES, 0)
        self._payment_id = 0
        self._payment_row: int | None = None  # its index in the buffer, if unwritten
        self._claim_seq = 0
        self._plb_seq = 0

    # --------------------------------------------------------------- ids

    def _take(self, table: str, count: int) -> int:
        """Return the first of ``count`` consecutive reserved ids of ``table``."""
        first = self._next[table]
        if first + count > self._end[table]:
            # On SQLite a reservation is "one past the highest id written", so the
            # ids handed out so far (the rows still buffered) must be written first;
            # a PostgreSQL sequence needs no such flush.
            if self._sqlite and self._buffers[table]:
                self.flush()
            size = min(_MAX_BLOCK, max(_FIRST_BLOCK, self._taken[table]))
            size = max(size, count)
            first = reserve_ids(self._conn, table, size)
            self._end[table] = first + size
        self._next[table] = first + count
        self._taken[table] += count
        return first

    # ----------------------------------------------------------- records

    def known(self, key: DedupeKey) -> bool:
        """Whether the database already holds a payment with this key."""
        originator, trace, amount, paid_on = key
        found = self._conn.execute(
            _KNOWN_PAYMENT,
            {
                "originator": originator,
                "trace": trace,
                "amount": amount,
                "paid_on": dt.date.fromisoformat(paid_on),
            },
        )
        return found.first() is not None

    def begin_payment(self, header: PaymentHeader) -> None:
        """Buffer the payment's row (completed at SE) unless it is a duplicate."""
        super().begin_payment(header)
        if not self.keeping:
            return
        payment_id = self._take(PAYMENT_TABLE, 1)
        self._payment_id = payment_id
        buffer = self._buffers[PAYMENT_TABLE]
        self._payment_row = len(buffer)
        buffer.append(
            (payment_id, self._source_file_id, *header, "{}", 0, False, _NO_PROBLEMS)
        )
        self._claim_seq = 0
        self._plb_seq = 0
        self._added(1)

    def claim(self, claim: ClaimPayment) -> None:
        """Buffer a claim's rows: the claim, its lines and every CAS triplet."""
        if not self.keeping:
            return
        lines = claim.lines
        claim_adjustments = claim.adjustments
        adjustment_count = len(claim_adjustments)
        for line in lines:
            adjustment_count += len(line.adjustments)
        counts = self.counts
        counts["claims"] += 1
        counts["service_lines"] += len(lines)
        counts["adjustments"] += adjustment_count
        # Take every id before touching a buffer: a reservation may flush, which
        # replaces the buffers, and rows appended to a replaced list would be lost.
        claim_id = self._take(CLAIM_TABLE, 1)
        next_id = (
            self._take(ADJUSTMENT_TABLE, adjustment_count) if adjustment_count else 0
        )
        line_id = self._take(LINE_TABLE, len(lines)) if lines else 0
        buffers = self._buffers
        self._claim_seq += 1
        buffers[CLAIM_TABLE].append(
            (claim_id, self._payment_id, self._claim_seq, *claim[:CLAIM_COLUMNS])
        )
        rows = buffers[ADJUSTMENT_TABLE]
        seq = 0
        for group, reason, amount, quantity in claim_adjustments:
            seq += 1
            rows.append((next_id, claim_id, None, seq, group, reason, amount, quantity))
            next_id += 1
        if lines:
            line_rows = buffers[LINE_TABLE]
            for line_seq, line in enumerate(lines, 1):
                line_rows.append(
                    (line_id, claim_id, line_seq, *line[:SERVICE_LINE_COLUMNS])
                )
                for group, reason, amount, quantity in line.adjustments:
                    seq += 1
                    rows.append(
                        (next_id, claim_id, line_id, seq, group, reason, amount,
                         quantity)
                    )  # fmt: skip
                    next_id += 1
                line_id += 1
        self._buffered += 1 + len(lines) + adjustment_count
        if self._buffered >= self._flush_rows:
            self.flush()

    def provider_adjustment(self, adjustment: ProviderAdjustment) -> None:
        """Buffer a PLB pair's row."""
        super().provider_adjustment(adjustment)
        if not self.keeping:
            return
        self._plb_seq += 1
        self._buffers[PROVIDER_ADJUSTMENT_TABLE].append(
            (
                self._take(PROVIDER_ADJUSTMENT_TABLE, 1),
                self._payment_id,
                self._plb_seq,
                *adjustment,
            )
        )
        self._added(1)

    def end_payment(self, end: PaymentEnd) -> None:
        """Complete the payment's row: claim count, extras, balancing faults."""
        keeping = self.keeping
        super().end_payment(end)
        if not keeping:
            return
        unbalanced = bool(end.balance_problems)
        if self._payment_row is not None:
            buffer = self._buffers[PAYMENT_TABLE]
            row = buffer[self._payment_row]
            buffer[self._payment_row] = (
                *row[:PAYMENT_END_AT],
                _json_text(end.extra) if end.extra else "{}",
                end.claim_count,
                unbalanced,
                _json_text(end.balance_problems) if unbalanced else _NO_PROBLEMS,
            )
        else:
            self._conn.execute(
                update(X12Payment)
                .where(X12Payment.id == self._payment_id)
                .values(
                    extra=end.extra,
                    claim_count=end.claim_count,
                    unbalanced=unbalanced,
                    balance_problems=end.balance_problems,
                )
            )

    # ----------------------------------------------------------- writing

    def _added(self, rows: int) -> None:
        self._buffered += rows
        if self._buffered >= self._flush_rows:
            self.flush()

    def flush(self) -> None:
        """Write every buffered row, parents first."""
        for table in TABLES:
            rows = self._buffers[table]
            if rows:
                columns = COLUMNS[table]
                if table in self._sparse:
                    columns, rows = _without_empty_columns(columns, rows)
                copy_rows(self._conn, table, columns, rows, prepared=True)
                self._buffers[table] = []
        self._buffered = 0
        self._payment_row = None


def _without_empty_columns(
    columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """Drop the columns that are NULL in every row (they default to NULL).

    Most optional 835 elements are absent from most claims and lines; sqlite3 binds
    a None parameter through its adapter lookup (about 0.25 µs each), which made
    NULLs a third of the time spent inserting claims. A column set in the first row
    is kept without looking further; the others are scanned column-wise in C.
    """
    count = len(rows)
    first = rows[0]
    used = [
        index
        for index in range(len(columns))
        if first[index] is not None
        or list(map(itemgetter(index), rows)).count(None) != count
    ]
    if len(used) == len(columns):
        return columns, rows
    pick = itemgetter(*used)
    return tuple(columns[i] for i in used), list(map(pick, rows))


def load_file(
    conn: Connection, *, path: Path, source_file_id: int, allow_unbalanced: bool
) -> LoadResult:
    """Load one 835 file inside the caller's write transaction.

    Raises:
        FileRejected: with every fault found; the caller must roll back (rows of
            the file may already be written in the transaction).
    """
    sink = DatabaseSink(conn, source_file_id=source_file_id)
    with _rebuilt_if_large(conn, claims=path.stat().st_size // BYTES_PER_CLAIM):
        with path.open("rb") as stream:
            read = read_remittance(stream, sink=sink, allow_unbalanced=allow_unbalanced)
        sink.flush()
    return sink.result(read)


@contextmanager
def _rebuilt_if_large(conn: Connection, *, claims: int) -> Iterator[None]:
    """Load a file of about ``claims`` claims; when that at least doubles the claim
    table (a first import, a backfill), without the secondary indexes and foreign
    keys of the claim, line and CAS tables, built again once at the end
    (:mod:`reconcile.ingest.rebuild`)."""
    tables = [Base.metadata.tables[name] for name in _BULK_TABLES]
    rebuild = worth_rebuilding(conn, tables[0], new_rows=claims) and lock_for_rebuild(
        conn, [Base.metadata.tables[PAYMENT_TABLE], *tables]
    )
    with ExitStack() as stack:
        for table in tables:
            stack.enter_context(rebuilt(conn, table, rebuild=rebuild))
        yield


def check_file(*, path: Path, allow_unbalanced: bool) -> LoadResult:
    """Validate one 835 file and count what it would load, writing nothing.

    Raises:
        FileRejected: with every fault found.
    """
    sink = CountingSink()
    with path.open("rb") as stream:
        read = read_remittance(stream, sink=sink, allow_unbalanced=allow_unbalanced)
    return sink.result(read)


def era_loader(
    *, allow_unbalanced: bool = False
) -> Callable[[Connection, Path, int], LoadResult]:
    """Return the ``load`` function the import driver calls for 835 files."""

    def load(conn: Connection, path: Path, source_file_id: int) -> LoadResult:
        return load_file(
            conn, path=path, source_file_id=source_file_id,
            allow_unbalanced=allow_unbalanced,
        )  # fmt: skip

    return load


def era_checker(*, allow_unbalanced: bool = False) -> Callable[[Path], LoadResult]:
    """Return the ``check`` function the import driver calls for ``--check``."""

    def check(path: Path) -> LoadResult:
        return check_file(path=path, allow_unbalanced=allow_unbalanced)

    return check
