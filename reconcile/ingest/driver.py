"""The import loop every source shares: find files, skip known ones, load each one
whole in one transaction, or reject it whole and record why.

A source plugs in two functions:

- ``load(conn, path, source_file_id) -> LoadResult`` writes the file's rows inside the
  open write transaction, or raises :class:`FileRejected` with every problem;
- ``check(path) -> LoadResult`` validates without writing (``--check``).

A rejected file leaves nothing behind but its ``source_file`` row (status
``rejected``, with the reasons); the other files of the command still load. A file
whose SHA-256 was already *loaded* is ``already_imported`` (exit 0).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from sqlalchemy import Connection, Engine, insert, select, update

from reconcile.categories import SourceKind, SourceStatus
from reconcile.clock import Clock
from reconcile.db.bulk import analyze, write_transaction
from reconcile.db.tables import SourceFile
from reconcile.faults import checkpoint
from reconcile.ingest.outcome import (
    FileOutcome,
    FileRejected,
    ImportStatus,
    LoadResult,
    Problem,
)

log = logging.getLogger(__name__)

Loader = Callable[[Connection, Path, int], LoadResult]
Checker = Callable[[Path], LoadResult]

_CHUNK = 1 << 20


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Return the files named, with folders replaced by the files inside them.

    Folders are walked recursively in name order; hidden files are skipped. A path
    that does not exist is kept, so the caller reports it.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            found.append(path)
    return found


def file_digest(path: Path) -> tuple[str, int]:
    """Return the SHA-256 (hex) and size of a file, reading it in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _unreadable(path: Path) -> Problem | None:
    if not path.exists():
        return Problem("the file does not exist")
    if not path.is_file():
        return Problem("not a regular file")
    try:
        with path.open("rb"):
            pass
    except OSError as error:
        return Problem(f"cannot be read: {error.strerror}")
    return None


class _Rollback(Exception):
    """Leaves the write transaction (rolling it back) carrying the rejection."""

    def __init__(self, rejected: FileRejected) -> None:
        self.rejected = rejected


def _record_rejected(
    engine: Engine,
    *,
    kind: SourceKind,
    path: Path,
    digest: str,
    size: int,
    problems: list[Problem],
    clock: Clock,
) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            insert(SourceFile).values(
                kind=kind,
                name=path.name,
                path=str(path),
                sha256=digest,
                size_bytes=size,
                status=SourceStatus.REJECTED,
                imported_at=clock.now(),
                counts={},
                skipped=0,
                reject_reason=[p.to_json() for p in problems],
                warnings=[],
                allowed_unbalanced=False,
            )
        )


def import_files(
    engine: Engine,
    *,
    kind: SourceKind,
    paths: Sequence[Path],
    clock: Clock,
    load: Loader,
    check: Checker,
    check_only: bool = False,
    tables: Sequence[str] = (),
) -> list[FileOutcome]:
    """Import (or with ``check_only`` validate) each file; return their outcomes.

    ``tables`` are analysed once after anything loaded, for the matching queries.
    """
    outcomes: list[FileOutcome] = []
    loaded_any = False
    for path in expand_paths(paths):
        shown = str(path)
        problem = _unreadable(path)
        if problem is not None:
            outcomes.append(FileOutcome(shown, ImportStatus.REJECTED, reason=[problem]))
            continue
        if check_only:
            try:
                result = check(path)
            except FileRejected as rejected:
                outcomes.append(
                    FileOutcome(shown, ImportStatus.REJECTED, reason=rejected.problems)
                )
                continue
            outcomes.append(
                FileOutcome(
                    shown,
                    ImportStatus.VALID,
                    counts=result.counts,
                    skipped=result.skipped,
                    warnings=result.warnings,
                )
            )
            continue
        digest, size = file_digest(path)
        try:
            outcome = _load_one(
                engine, kind=kind, path=path, digest=digest, size=size,
                clock=clock, load=load,
            )  # fmt: skip
        except _Rollback as rollback:
            problems = rollback.rejected.problems
            _record_rejected(
                engine, kind=kind, path=path, digest=digest, size=size,
                problems=problems, clock=clock,
            )  # fmt: skip
            log.warning("rejected %s: %s", path.name, problems[0])
            outcome = FileOutcome(shown, ImportStatus.REJECTED, reason=problems)
        loaded_any |= outcome.status is ImportStatus.LOADED
        outcomes.append(outcome)
    if loaded_any and tables:
        with write_transaction(engine) as conn:
            analyze(conn, tables)
    return outcomes


def _load_one(
    engine: Engine,
    *,
    kind: SourceKind,
    path: Path,
    digest: str,
    size: int,
    clock: Clock,
    load: Loader,
) -> FileOutcome:
    shown = str(path)
    with write_transaction(engine) as conn:
        known = conn.execute(
            select(SourceFile.id).where(
                SourceFile.sha256 == digest, SourceFile.status == SourceStatus.LOADED
            )
        ).first()
        if known is not None:
            log.info("%s was already imported", path.name)
            return FileOutcome(shown, ImportStatus.ALREADY_IMPORTED)
        file_id = conn.execute(
            insert(SourceFile)
            .values(
                kind=kind,
                name=path.name,
                path=shown,
                sha256=digest,
                size_bytes=size,
                status=SourceStatus.LOADED,
                imported_at=clock.now(),
                counts={},
                skipped=0,
                warnings=[],
                allowed_unbalanced=False,
            )
            .returning(SourceFile.id)
        ).scalar_one()
        try:
            result = load(conn, path, file_id)
        except FileRejected as rejected:
            raise _Rollback(rejected) from None
        checkpoint("import:loaded")
        conn.execute(
            update(SourceFile)
            .where(SourceFile.id == file_id)
            .values(
                counts=result.counts,
                skipped=result.skipped,
                warnings=[w.to_json() for w in result.warnings],
                allowed_unbalanced=result.allowed_unbalanced,
            )
        )
    log.info(
        "loaded %s: %s, %d skipped",
        path.name,
        ", ".join(f"{n} {t}" for t, n in result.counts.items()) or "nothing new",
        result.skipped,
    )
    return FileOutcome(
        shown,
        ImportStatus.LOADED,
        counts=result.counts,
        skipped=result.skipped,
        warnings=result.warnings,
    )
