"""Property: a file with junk rows is rejected cleanly and never half-loaded."""

from __future__ import annotations

import csv
import io
import re
import tempfile
import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from reconcile.categories import SourceKind, SourceStatus
from reconcile.db.tables import ExpectedClaim, ExpectedClaimVersion, SourceFile
from reconcile.ingest import ImportStatus
from tests.practice_factories import CLAIMS_HEADER, claim_line, count_of, run_import

_ISO_DATE = re.compile(r"\s*\d{4}-\d{1,2}-\d{1,2}\s*")
_WIDTH = len(CLAIMS_HEADER.split(","))
_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    max_size=30,
)


def _as_csv(fields: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue()


#: Well-quoted rows that cannot be claims: the wrong number of fields, or a service
#: date that is no ISO date.
_QUOTED_JUNK = st.one_of(
    st.lists(_TEXT, min_size=1, max_size=15)
    .filter(lambda f: len(f) != _WIDTH and any(x.strip() for x in f))
    .map(_as_csv),
    st.lists(_TEXT, min_size=_WIDTH, max_size=_WIDTH)
    .filter(lambda f: not _ISO_DATE.fullmatch(f[5]) and any(x.strip() for x in f))
    .map(_as_csv),
)
#: Raw lines with whatever quotes and delimiters they hold (quoting may break).
_RAW_JUNK = _TEXT.filter(
    lambda line: (
        line.strip() != ""
        and line.count(",") != _WIDTH - 1
        and line.strip(', "\t\x00') != ""
    )
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    good_before=st.integers(min_value=0, max_value=5),
    junk=st.lists(st.one_of(_QUOTED_JUNK, _RAW_JUNK), min_size=1, max_size=4),
    good_after=st.integers(min_value=0, max_value=5),
)
def test_junk_rows_reject_the_whole_file(
    fresh_engine: Engine, good_before: int, junk: list[str], good_after: int
) -> None:
    """Good rows around junk never load: the file is rejected with placed problems."""
    prefix = uuid.uuid4().hex[:12]
    lines = [claim_line(claim_id=f"{prefix}-{n}") for n in range(good_before)]
    lines += junk
    lines += [claim_line(claim_id=f"{prefix}-a{n}") for n in range(good_after)]
    versions_before = count_of(fresh_engine, ExpectedClaimVersion)
    claims_before = count_of(fresh_engine, ExpectedClaim)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{prefix}.csv"
        path.write_text("\n".join([CLAIMS_HEADER, *lines]) + "\n", encoding="utf-8")
        [outcome] = run_import(fresh_engine, SourceKind.CLAIMS, path)
    assert outcome.status is ImportStatus.REJECTED
    assert outcome.reason
    last_line = len(lines) + 1
    assert all(p.line is None or 2 <= p.line <= last_line for p in outcome.reason), (
        outcome.reason
    )
    first_junk = good_before + 2
    assert any(p.line is not None and p.line >= first_junk for p in outcome.reason)
    assert count_of(fresh_engine, ExpectedClaimVersion) == versions_before
    assert count_of(fresh_engine, ExpectedClaim) == claims_before
    with fresh_engine.connect() as conn:
        status = conn.execute(
            select(SourceFile.status).where(SourceFile.name == f"{prefix}.csv")
        ).scalar_one()
    assert status is SourceStatus.REJECTED
