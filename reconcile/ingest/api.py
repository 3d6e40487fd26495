"""Import files of any kind: the one entry point the CLI and the demo share."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Engine

from reconcile.categories import SourceKind
from reconcile.clock import Clock
from reconcile.ingest.driver import import_files
from reconcile.ingest.outcome import FileOutcome
from reconcile.ingest.practice import practice_importer
from reconcile.ingest.x12.load import era_checker, era_loader
from reconcile.ingest.x12.rows import TABLES
from reconcile.ingest.x12.sniff import looks_like_835
from reconcile.settings import Settings


def import_paths(
    engine: Engine | None,
    *,
    kind: SourceKind,
    paths: Sequence[Path],
    settings: Settings,
    clock: Clock,
    sheet: str | None = None,
    check_only: bool = False,
    allow_unbalanced: bool = False,
) -> list[FileOutcome]:
    """Import (or with ``check_only`` validate) files and folders of one kind.

    ``allow_unbalanced`` applies to 835s, ``sheet`` to XLSX practice files. Folders
    given for 835s yield only their 835 files (:mod:`~reconcile.ingest.x12.sniff`).
    ``engine`` may be None with ``check_only``: checking needs no database.
    """
    if kind is SourceKind.ERA:
        return import_files(
            engine,
            kind=kind,
            paths=paths,
            clock=clock,
            load=era_loader(allow_unbalanced=allow_unbalanced),
            check=era_checker(allow_unbalanced=allow_unbalanced),
            check_only=check_only,
            tables=TABLES,
            accept=looks_like_835,
        )
    importer = practice_importer(kind=kind, settings=settings, sheet=sheet)
    return import_files(
        engine,
        kind=kind,
        paths=paths,
        clock=clock,
        load=importer.load,
        check=importer.check,
        check_only=check_only,
        tables=importer.tables,
        identify=importer.identify,
    )
