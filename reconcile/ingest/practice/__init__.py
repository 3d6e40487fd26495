"""The practice's own data: claims, bank deposits, patient payments and the ledger.

``practice_importer(kind=…, settings=…)`` returns the ``load``/``check`` pair that
the shared import loop (:func:`reconcile.ingest.driver.import_files`) runs for each
file of that source.
"""

from __future__ import annotations

from reconcile.categories import SourceKind
from reconcile.ingest.practice.importer import PracticeImporter
from reconcile.ingest.practice.sources import SOURCES, PracticeSource
from reconcile.settings import Settings

__all__ = ["SOURCES", "PracticeImporter", "PracticeSource", "practice_importer"]


def practice_importer(
    *, kind: SourceKind, settings: Settings, sheet: str | None = None
) -> PracticeImporter:
    """Return the importer of one practice source, configured by ``settings``.

    ``sheet`` picks the worksheet of XLSX files (default: the first).

    Raises:
        KeyError: ``kind`` is not a practice source (an 835 has its own importer).
    """
    source = SOURCES[kind]
    return PracticeImporter(
        source=source, settings=settings.sources[source.spec.source], sheet=sheet
    )
