"""Write the workbook of a run: read a consistent snapshot, build, save atomically."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import Connection, Engine

from reconcile.clock import local_date
from reconcile.db.engine import redact
from reconcile.report.content import Header, collect
from reconcile.report.files import discard, write_atomically
from reconcile.report.scope import ReportScope, load_run, require_results
from reconcile.report.sheets import EXCEL_MAX_ROWS
from reconcile.report.workbook import fill_workbook
from reconcile.settings import Settings

log = logging.getLogger(__name__)


def default_path(
    settings: Settings, *, run_id: int, first: dt.date, last: dt.date
) -> Path:
    """Where a run's workbook goes: ``[reports] folder`` / ``file_name``."""
    name = settings.reports.file_name.format(run_id=run_id, first=first, last=last)
    return Path(settings.reports.folder) / name


def current_path(
    settings: Settings, *, run_id: int, first: dt.date, last: dt.date, day: dt.date
) -> Path:
    """Where a rewritten workbook goes by default: next to the run's own, dated."""
    own = default_path(settings, run_id=run_id, first=first, last=last)
    return own.with_name(f"{own.stem}-current-{day}{own.suffix}")


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction that sees one consistent state of the database."""
    options: dict[str, Any] = {}
    if engine.dialect.name == "postgresql":
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn


def write_report(
    *,
    engine: Engine,
    settings: Settings,
    run_id: int,
    written_at: dt.datetime,
    path: Path | None = None,
    current: bool = False,
    max_rows: int = EXCEL_MAX_ROWS,
) -> Path:
    """Write the workbook of run ``run_id``; return where it went.

    ``current`` rewrites an earlier run's workbook with the items' current states;
    otherwise this is the run's own workbook (written by the run itself). Without
    ``path`` the file goes where ``[reports]`` says; a rewritten workbook gets its own
    name (:func:`current_path`), so it never replaces the run's own.

    Raises:
        UnknownRunError: there is no such run.
        RunNotFinishedError: (``current``) the run never committed its results.
        ReportWriteError: the file cannot be written.
    """
    with engine.connect() as conn:
        run = load_run(conn, run_id=run_id)
    if current:
        require_results(run)
    if path is None and current:
        day = local_date(written_at, settings.practice.time_zone)
        path = current_path(
            settings, run_id=run_id, first=run.first, last=run.last, day=day
        )
    elif path is None:
        path = default_path(settings, run_id=run_id, first=run.first, last=run.last)
    header = Header(
        scope=ReportScope(run=run, current_at=written_at if current else None),
        database=redact(engine.url),
        written_at=written_at,
        time_zone=settings.practice.time_zone,
        show_patient_names=settings.reports.show_patient_names,
    )

    def write(temporary: Path) -> None:
        workbook = Workbook(write_only=True)
        try:
            with snapshot(engine) as conn:
                fill_workbook(
                    workbook, content=collect(conn, header=header), max_rows=max_rows
                )
            workbook.save(temporary)
        except BaseException:
            discard(workbook)
            raise

    written = write_atomically(path, write)
    log.info("run %d: workbook written to %s", run_id, written)
    return written
