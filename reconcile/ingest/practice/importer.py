"""Importing one practice file: read, stage, check as a whole, then write as sets.

:class:`PracticeImporter` plugs one source into the shared import loop
(:func:`reconcile.ingest.driver.import_files`): ``load`` writes inside the file's
write transaction, ``check`` validates the same way in a scratch SQLite database
and writes nothing. Either rejects the file whole, with every problem (up to
:data:`~reconcile.ingest.MAX_PROBLEMS`), before anything is written.

The steps: open the file (CSV or XLSX; deposits also BAI2, found by content), bind
its header to the source's columns, stream its rows through validation into a
staging table (on PostgreSQL screening its keys on the way), look for keys repeated
inside the file unless the screen saw none, and only then write: claims
as new versions (:mod:`~reconcile.ingest.practice.claims`), the other sources as new
rows by id (:mod:`~reconcile.ingest.practice.keyed`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Table

from reconcile.db.engine import make_engine
from reconcile.ingest.outcome import (
    MAX_PROBLEMS,
    LoadResult,
    Problem,
    capped_warnings,
)
from reconcile.ingest.practice.bai2_deposits import read_bai2
from reconcile.ingest.practice.bai2_records import looks_like_bai2
from reconcile.ingest.practice.claims import write_claims
from reconcile.ingest.practice.copy_text import Columns
from reconcile.ingest.practice.keyed import insert_new, known_but_different
from reconcile.ingest.practice.repeats import RepeatScreen, repeated_keys
from reconcile.ingest.practice.sources import PracticeSource
from reconcile.ingest.practice.staging import (
    chunks_of,
    create_stage,
    drop_stage,
    fill_stage,
    numbered,
    stage_table,
)
from reconcile.ingest.rebuild import tune_for_bulk_load
from reconcile.ingest.tabular.files import open_table, sheet_identity
from reconcile.ingest.tabular.problems import ProblemLog
from reconcile.ingest.tabular.rows import bind_header, stage_chunks
from reconcile.settings import SourceSettings


@dataclass
class _Staged:
    table: Table
    count: int
    warnings: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class PracticeImporter:
    """Loads (or checks) files of one practice source with its settings."""

    source: PracticeSource
    settings: SourceSettings
    sheet: str | None = None

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables a load writes (analysed after the import)."""
        return self.source.tables

    def identify(self, path: Path) -> str:
        """The worksheet that is part of this file's identity ("" if none)."""
        return sheet_identity(path=path, sheet=self.sheet)

    def load(self, conn: Connection, path: Path, source_file_id: int) -> LoadResult:
        """Write the file's new rows inside the open write transaction.

        Raises:
            FileRejected: with every problem found; nothing is written.
        """
        staged = self._stage(conn, path)
        target = self.source.target
        if target is None:
            claims = write_claims(
                conn,
                stage=staged.table,
                staged=staged.count,
                source_file_id=source_file_id,
            )
            written, skipped = claims.written, claims.unchanged
        else:
            staged.warnings.extend(
                self._known_but_different(conn, stage=staged.table, target=target)
            )
            written = insert_new(
                conn,
                stage=staged.table,
                target=target,
                key=self.source.key_target,
                columns=self._columns,
                source_file_id=source_file_id,
                staged=staged.count,
            )
            skipped = staged.count - written
        drop_stage(conn, staged.table)
        return LoadResult(
            counts={self.source.count_key: written},
            skipped=skipped,
            warnings=staged.warnings,
        )

    def check(self, path: Path) -> LoadResult:
        """Validate the file as ``load`` would, writing nothing anywhere.

        Raises:
            FileRejected: with every problem found.
        """
        with tempfile.TemporaryDirectory(prefix="reconcile-check-") as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'check.db'}")
            try:
                with engine.begin() as conn:
                    staged = self._stage(conn, path)
            finally:
                engine.dispose()
        return LoadResult(
            counts={self.source.count_key: staged.count}, warnings=staged.warnings
        )

    @property
    def _columns(self) -> list[str]:
        spec = self.source.spec
        return [c.target for c in spec.columns] + [n for n, _ in self.source.extra]

    def _stage(self, conn: Connection, path: Path) -> _Staged:
        """Read the whole file into a staging table; reject it if anything is wrong.

        Raises:
            FileRejected: with every problem found.
        """
        spec = self.source.spec
        tune_for_bulk_load(conn)
        table = stage_table(spec, extra=self.source.extra)
        create_stage(conn, table)
        log = ProblemLog()
        warnings: list[Problem] = []
        screen = RepeatScreen.for_connection(conn)
        key = 2 + spec.index(spec.key)  # after seq and line_number
        if self.source.extra and looks_like_bai2(path):
            if self.sheet is not None:
                warnings.append(
                    Problem(
                        "--sheet applies to XLSX workbooks; ignored for this BAI2 file"
                    )
                )
            rows = read_bai2(path=path, log=log, warnings=warnings)
            count = fill_stage(conn, table, screen.watch(chunks_of(rows), key=key))
            key_label = spec.key
        else:
            with open_table(path=path, sheet=self.sheet) as opened:
                columns = bind_header(spec=spec, settings=self.settings, table=opened)
                chunks: Iterable[Columns] = numbered(
                    stage_chunks(spec=spec, columns=columns, table=opened, log=log)
                )
                if self.source.extra:
                    extra = len(self.source.extra)
                    chunks = (
                        [*chunk, *[[None] * len(chunk[0])] * extra] for chunk in chunks
                    )
                count = fill_stage(conn, table, screen.watch(chunks, key=key))
                warnings.extend(opened.warnings)
                key_label = columns[spec.index(spec.key)].label
        if log.room() and screen.maybe_repeated:
            for line, first in repeated_keys(
                conn, table, key=self.source.key_target, limit=log.room()
            ):
                log.add(
                    Problem(
                        f"repeats the {spec.key} of line {first}; each "
                        f"{spec.key} may appear once in a file",
                        line=line,
                        column=key_label,
                    )
                )
        log.raise_if_any()
        warnings = capped_warnings(warnings)
        if count == 0:
            what = self.source.count_key.replace("_", " ")
            warnings.append(Problem(f"the file holds no {what}"))
        return _Staged(table=table, count=count, warnings=warnings)

    def _known_but_different(
        self, conn: Connection, *, stage: Table, target: Table
    ) -> list[Problem]:
        found = known_but_different(
            conn,
            stage=stage,
            target=target,
            key=self.source.key_target,
            columns=self._columns,
            limit=MAX_PROBLEMS + 1,
        )
        key = self.source.spec.key
        warnings = [
            Problem(
                f"this {key} was already imported with other values ({item.kept_file} "
                f"line {item.kept_line}); those are kept, this row is skipped",
                line=item.line,
            )
            for item in found[:MAX_PROBLEMS]
        ]
        if len(found) > MAX_PROBLEMS:
            warnings.append(
                Problem(
                    f"more rows like these were skipped (only {MAX_PROBLEMS} listed)"
                )
            )
        return warnings
