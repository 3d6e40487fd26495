"""Property: any junk file given to a practice import is rejected whole or loaded
whole, never half-loaded, and never escapes as anything but an outcome.

Junk comes four ways: arbitrary bytes; a valid CSV export of each source with bytes
replaced, inserted, deleted and lines repeated; a valid XLSX workbook so mutated;
and a valid BAI2 bank file so mutated. For each, ``--check`` and the import must
agree (valid ⇔ loaded, the same rows), a rejected file leaves no row behind, and a
loaded file's rows are exactly what its outcome counts.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from reconcile.categories import SourceKind, SourceStatus
from reconcile.db.tables import (
    BankDeposit,
    ExpectedClaimVersion,
    LedgerEntry,
    PatientPayment,
    SourceFile,
)
from reconcile.demo import practice_data
from reconcile.demo.bai2_writer import (
    BaiAccount,
    BaiDetail,
    BaiFile,
    BaiGroup,
    ccd_addenda,
    write_bai2,
)
from reconcile.demo.tabular_writer import Sheet, write_csv, write_xlsx
from reconcile.ingest import FileOutcome, ImportStatus
from reconcile.ingest.practice import SOURCES
from tests.practice_factories import run_import

DAY = dt.date(2024, 1, 1)
#: Where each source's rows land, tagged with their file.
WRITTEN: dict[SourceKind, Any] = {
    SourceKind.CLAIMS: ExpectedClaimVersion,
    SourceKind.DEPOSITS: BankDeposit,
    SourceKind.PATIENT_PAYMENTS: PatientPayment,
    SourceKind.LEDGER: LedgerEntry,
}
GENERATORS = {
    SourceKind.CLAIMS: practice_data.claims,
    SourceKind.DEPOSITS: practice_data.deposits,
    SourceKind.PATIENT_PAYMENTS: practice_data.patient_payments,
    SourceKind.LEDGER: practice_data.ledger,
}
KINDS = st.sampled_from(list(WRITTEN))
#: Bytes that matter to CSV, dates, amounts and encodings.
INTERESTING = b",;|\t\"'\r\n\x00\xff\xef\xbb\xbf-.$()0123456789/:ECDP "


def _valid_csv(kind: SourceKind, tmp: Path) -> bytes:
    rows = list(GENERATORS[kind](count=6, seed=11, first_day=DAY))
    path = tmp / "base.csv"
    write_csv(path=path, source=SOURCES[kind].spec.source, rows=rows)
    return path.read_bytes()


def _valid_xlsx(kind: SourceKind, tmp: Path) -> bytes:
    rows = list(GENERATORS[kind](count=4, seed=12, first_day=DAY))
    path = write_xlsx(
        path=tmp / "base.xlsx",
        sheets=[Sheet("Data", SOURCES[kind].spec.source, rows)],
    )
    return path.read_bytes()


def _valid_bai2(tmp: Path) -> bytes:
    details = [
        BaiDetail(
            amount_cents=1_000 + n,
            bank_reference=f"BR{n}",
            text=["HCCLAIMPMT", ccd_addenda(trace=f"EFT{n}", originator="1066033492")],
        )
        for n in range(3)
    ]
    bai = BaiFile(
        sender="121000248",
        receiver="PRACTICE1",
        created_at=dt.datetime(2024, 3, 2, 6, 0, tzinfo=dt.UTC),
        groups=[BaiGroup(as_of=DAY, accounts=[BaiAccount("4411", details=details)])],
    )
    return write_bai2(path=tmp / "base.bai", bai=bai).read_bytes()


with tempfile.TemporaryDirectory() as _folder:
    _tmp = Path(_folder)
    BASE_CSV = {kind: _valid_csv(kind, _tmp) for kind in WRITTEN}
    BASE_XLSX = {kind: _valid_xlsx(kind, _tmp) for kind in WRITTEN}
    BASE_BAI2 = _valid_bai2(_tmp)

_EDIT = st.tuples(
    st.sampled_from(["replace", "insert", "delete", "repeat_line"]),
    st.integers(min_value=0, max_value=1 << 30),
    st.binary(min_size=1, max_size=4)
    | st.lists(st.sampled_from(list(INTERESTING)), min_size=1, max_size=4).map(bytes),
)


def _mutate(data: bytes, edits: list[tuple[str, int, bytes]]) -> bytes:
    """Apply edits at positions taken modulo the current length."""
    buffer = bytearray(data)
    for op, at, chunk in edits:
        position = at % (len(buffer) + 1)
        if op == "replace":
            buffer[position : position + len(chunk)] = chunk
        elif op == "insert":
            buffer[position:position] = chunk
        elif op == "delete":
            del buffer[position : position + len(chunk) * 8]
        else:
            lines = bytes(buffer).split(b"\n")
            index = at % len(lines)
            lines.insert(index, lines[index])
            buffer = bytearray(b"\n".join(lines))
    return bytes(buffer)


def _rows_of_file(engine: Engine, kind: SourceKind, name: str) -> tuple[int, int]:
    """(source_file id, rows tagged with it) of the newest import of ``name``."""
    table = WRITTEN[kind]
    with engine.connect() as conn:
        file_id = conn.execute(
            select(func.max(SourceFile.id)).where(SourceFile.name == name)
        ).scalar_one()
        rows = conn.execute(
            select(func.count())
            .select_from(table)
            .where(table.source_file_id == file_id)
        ).scalar_one()
    return int(file_id), int(rows)


def _status_of(engine: Engine, file_id: int) -> SourceStatus:
    with engine.connect() as conn:
        return conn.execute(
            select(SourceFile.status).where(SourceFile.id == file_id)
        ).scalar_one()


def _assert_whole_or_nothing(
    engine: Engine, kind: SourceKind, data: bytes, suffix: str
) -> FileOutcome:
    """Check, then import ``data``; assert they agree and nothing is half-loaded."""
    name = f"{uuid.uuid4().hex[:12]}{suffix}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        [checked] = run_import(engine, kind, path, check_only=True)
        [outcome] = run_import(engine, kind, path)
    count_key = SOURCES[kind].count_key
    if outcome.status is ImportStatus.ALREADY_IMPORTED:
        # The edits gave back bytes an earlier example loaded: nothing is written.
        assert checked.status is ImportStatus.VALID, checked
        with engine.connect() as conn:
            assert not conn.execute(
                select(SourceFile.id).where(SourceFile.name == name)
            ).first()
        return outcome
    file_id, tagged = _rows_of_file(engine, kind, name)
    if outcome.status is ImportStatus.REJECTED:
        assert checked.status is ImportStatus.REJECTED, checked
        assert outcome.reason
        assert [p.to_json() for p in outcome.reason] == [
            p.to_json() for p in checked.reason
        ]
        assert all(isinstance(p.reason, str) and p.reason for p in outcome.reason)
        assert tagged == 0
        assert _status_of(engine, file_id) is SourceStatus.REJECTED
    else:
        assert outcome.status is ImportStatus.LOADED, outcome
        assert checked.status is ImportStatus.VALID, checked
        assert tagged == outcome.counts[count_key]
        assert outcome.counts[count_key] + outcome.skipped == checked.counts[count_key]
        assert _status_of(engine, file_id) is SourceStatus.LOADED
    return outcome


_SETTINGS = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)


@_SETTINGS
@given(kind=KINDS, data=st.binary(max_size=600))
def test_arbitrary_bytes(fresh_engine: Engine, kind: SourceKind, data: bytes) -> None:
    """Bytes of any kind are an outcome, whole or nothing."""
    _assert_whole_or_nothing(fresh_engine, kind, data, ".csv")


@_SETTINGS
@given(kind=KINDS, edits=st.lists(_EDIT, min_size=1, max_size=6))
def test_mutated_csv_exports(
    fresh_engine: Engine, kind: SourceKind, edits: list[tuple[str, int, bytes]]
) -> None:
    """A damaged CSV export loads whole (if it still makes sense) or not at all."""
    _assert_whole_or_nothing(fresh_engine, kind, _mutate(BASE_CSV[kind], edits), ".csv")


@_SETTINGS
@given(kind=KINDS, edits=st.lists(_EDIT, min_size=1, max_size=3))
def test_mutated_xlsx_workbooks(
    fresh_engine: Engine, kind: SourceKind, edits: list[tuple[str, int, bytes]]
) -> None:
    """A damaged workbook is rejected (or loads whole), never a traceback."""
    data = _mutate(BASE_XLSX[kind], edits)
    _assert_whole_or_nothing(fresh_engine, kind, data, ".xlsx")


@_SETTINGS
@given(edits=st.lists(_EDIT, min_size=1, max_size=6))
def test_mutated_bai2_files(
    fresh_engine: Engine, edits: list[tuple[str, int, bytes]]
) -> None:
    """A damaged BAI2 bank file is rejected (or loads whole), never a traceback."""
    data = _mutate(BASE_BAI2, edits)
    _assert_whole_or_nothing(fresh_engine, SourceKind.DEPOSITS, data, ".bai")


def test_the_bases_load(fresh_engine: Engine) -> None:
    """Unmutated, every base file loads: the properties start from valid files."""
    for kind in WRITTEN:
        for data, suffix in ((BASE_CSV[kind], ".csv"), (BASE_XLSX[kind], ".xlsx")):
            outcome = _assert_whole_or_nothing(fresh_engine, kind, data, suffix)
            assert outcome.status is ImportStatus.LOADED, outcome.reason
    outcome = _assert_whole_or_nothing(
        fresh_engine, SourceKind.DEPOSITS, BASE_BAI2, ".bai"
    )
    assert outcome.status is ImportStatus.LOADED, outcome.reason


def test_mutation_helper_edits_bytes() -> None:
    """Guard: the mutation helper changes the data it is given."""
    assert _mutate(b"a,b\n1,2\n", [("insert", 0, b'"')]) == b'"a,b\n1,2\n'
    assert io.BytesIO(_mutate(b"x\ny", [("repeat_line", 1, b"-")])).read() == (
        b"x\ny\ny"
    )
