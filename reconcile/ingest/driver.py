"""The import loop every source shares: find files, skip known ones, load each one
whole in one transaction, or reject it whole and record why.

A source plugs in two functions:

- ``load(conn, path, source_file_id) -> LoadResult`` writes the file's rows inside the
  open write transaction, or raises :class:`FileRejected` with every problem;
- ``check(path) -> LoadResult`` validates without writing (``--check``).

and optionally ``identify(path) -> sheet`` (the worksheet an XLSX import reads, part
of the file's identity) and ``accept(path) -> bool`` (which files of a folder are of
this source: an 835 inbox also holds acknowledgements and notes).

A rejected file leaves nothing behind but its ``source_file`` row (status
``rejected``, with the reasons); the other files of the command still load. A file
whose identity (kind, SHA-256, sheet) was already *loaded* is ``already_imported``
(exit 0). ``--check`` needs no database: no engine is opened for it.

The per-file outcome is the command's output; the log repeats it only at debug level
(``-v``; a rejection without its problems, which may quote the file), so a terminal
shows each file once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, insert, select, update

from reconcile.categories import SourceKind, SourceStatus
from reconcile.clock import Clock
from reconcile.db.bulk import analyze, write_transaction
from reconcile.db.tables import SourceFile
from reconcile.db.tables.files import SHEET_LENGTH
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
Identifier = Callable[[Path], str]
Acceptor = Callable[[Path], bool]

_CHUNK = 1 << 20


def _no_sheet(_: Path) -> str:
    return ""


def _any_file(_: Path) -> bool:
    return True


def _folder_files(folder: Path) -> list[Path]:
    return [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]


def expand_paths(
    paths: Iterable[Path], *, accept: Acceptor = _any_file
) -> list[Path | FileOutcome]:
    """Return the files named, with folders replaced by the files inside them.

    Folders are walked recursively in name order; hidden files and files ``accept``
    turns down are skipped (a file named on its own is always taken). A path that
    does not exist is kept, so the caller reports it; a folder with nothing to
    import is a rejected outcome of its own.
    """
    found: list[Path | FileOutcome] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        files = _folder_files(path)
        taken = [p for p in files if accept(p)]
        if taken:
            found.extend(taken)
            if len(taken) < len(files):
                log.debug(
                    "%s: skipped %d files that are not of this kind",
                    path.name,
                    len(files) - len(taken),
                )
            continue
        what = (
            f"holds no file to import ({len(files)} other "
            f"{'file' if len(files) == 1 else 'files'} skipped)"
            if files
            else "is empty: it holds no file to import"
        )
        found.append(
            FileOutcome(
                str(path), ImportStatus.REJECTED, reason=[Problem(f"the folder {what}")]
            )
        )
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


@dataclass(frozen=True)
class _Identity:
    """What makes one import of a file: its kind, bytes and the sheet read."""

    kind: SourceKind
    path: Path
    digest: str
    size: int
    sheet: str

    def row(self) -> dict[str, object]:
        """The ``source_file`` columns that describe the file."""
        return {
            "kind": self.kind,
            "name": self.path.name,
            "path": str(self.path),
            "sha256": self.digest,
            "sheet": self.sheet[:SHEET_LENGTH],
            "size_bytes": self.size,
        }


def _record_rejected(
    engine: Engine, *, identity: _Identity, problems: list[Problem], clock: Clock
) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            insert(SourceFile).values(
                **identity.row(),
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
    engine: Engine | None,
    *,
    kind: SourceKind,
    paths: Sequence[Path],
    clock: Clock,
    load: Loader,
    check: Checker,
    check_only: bool = False,
    tables: Sequence[str] = (),
    identify: Identifier = _no_sheet,
    accept: Acceptor = _any_file,
) -> list[FileOutcome]:
    """Import (or with ``check_only`` validate) each file; return their outcomes.

    ``engine`` may be None with ``check_only``: checking writes and reads nothing in
    the database. ``tables`` are analysed once after anything loaded, for the
    matching queries.

    Raises:
        ValueError: no engine although files are to be loaded.
    """
    if engine is None and not check_only:
        raise ValueError("loading files needs a database engine")
    outcomes: list[FileOutcome] = []
    loaded_any = False
    for item in expand_paths(paths, accept=accept):
        if isinstance(item, FileOutcome):
            outcomes.append(item)
            continue
        path, shown = item, str(item)
        problem = _unreadable(path)
        if problem is not None:
            outcomes.append(FileOutcome(shown, ImportStatus.REJECTED, reason=[problem]))
            continue
        if check_only or engine is None:
            outcomes.append(_check_one(path, check=check))
            continue
        digest, size = file_digest(path)
        identity = _Identity(
            kind=kind, path=path, digest=digest, size=size, sheet=identify(path)
        )
        try:
            outcome = _load_one(engine, identity=identity, clock=clock, load=load)
        except _Rollback as rollback:
            problems = rollback.rejected.problems
            _record_rejected(engine, identity=identity, problems=problems, clock=clock)
            log.debug("rejected %s: %d problems", path.name, len(problems))
            outcome = FileOutcome(shown, ImportStatus.REJECTED, reason=problems)
        loaded_any |= outcome.status is ImportStatus.LOADED
        outcomes.append(outcome)
    if loaded_any and tables and engine is not None:
        with write_transaction(engine) as conn:
            analyze(conn, tables)
    return outcomes


def _check_one(path: Path, *, check: Checker) -> FileOutcome:
    shown = str(path)
    try:
        result = check(path)
    except FileRejected as rejected:
        return FileOutcome(shown, ImportStatus.REJECTED, reason=rejected.problems)
    return FileOutcome(
        shown,
        ImportStatus.VALID,
        counts=result.counts,
        skipped=result.skipped,
        warnings=result.warnings,
    )


def _load_one(
    engine: Engine, *, identity: _Identity, clock: Clock, load: Loader
) -> FileOutcome:
    path = identity.path
    shown = str(path)
    with write_transaction(engine) as conn:
        known = conn.execute(
            select(SourceFile.id).where(
                SourceFile.kind == identity.kind,
                SourceFile.sha256 == identity.digest,
                SourceFile.sheet == identity.sheet[:SHEET_LENGTH],
                SourceFile.status == SourceStatus.LOADED,
            )
        ).first()
        if known is not None:
            log.debug("%s was already imported", path.name)
            return FileOutcome(shown, ImportStatus.ALREADY_IMPORTED)
        file_id = conn.execute(
            insert(SourceFile)
            .values(
                **identity.row(),
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
    log.debug(
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
