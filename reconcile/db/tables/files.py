"""Imported files: one row per import attempt of one file."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from reconcile.categories import SourceKind, SourceStatus
from reconcile.db.base import Base, IdType, JsonType, UTCDateTime, text_enum

#: Longest worksheet name kept (Excel allows 31 characters).
SHEET_LENGTH = 255


class SourceFile(Base):
    """A file given to ``reconcile import``: what it was, and whether it loaded.

    A file is identified by what was read from it: its kind, its SHA-256 and, for an
    XLSX workbook, the worksheet (``sheet``; empty for every other format). The same
    bytes imported as another kind, or another sheet of the same workbook, are another
    import. A file is a duplicate when one with the same identity was *loaded*; a
    rejected file may be imported again (after it was fixed it has another hash
    anyway), so the identity is unique only among loaded files (revision 0003).
    """

    __tablename__ = "source_file"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    kind: Mapped[SourceKind] = mapped_column(text_enum(SourceKind, "kind"))
    name: Mapped[str] = mapped_column(String(255))  # base name, as the user gave it
    path: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64))
    #: The worksheet read from an XLSX workbook; empty for CSV, BAI2 and 835 files.
    sheet: Mapped[str] = mapped_column(
        String(SHEET_LENGTH), default="", server_default=""
    )
    size_bytes: Mapped[int] = mapped_column(IdType)
    status: Mapped[SourceStatus] = mapped_column(text_enum(SourceStatus, "status"))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: Rows written per table (``{"claims": 120, …}``) for a loaded file.
    counts: Mapped[dict[str, int]] = mapped_column(JsonType, default=dict)
    #: Rows or payments already known, not written again.
    skipped: Mapped[int] = mapped_column(default=0)
    #: Every problem of a rejected file: ``[{"place": …, "reason": …}, …]``.
    reject_reason: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonType)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    #: An 835 loaded with ``--allow-unbalanced`` although its balancing equations fail.
    allowed_unbalanced: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        Index(
            "uq_source_file_identity_loaded",
            "kind",
            "sha256",
            "sheet",
            unique=True,
            sqlite_where=text("status = 'loaded'"),
            postgresql_where=text("status = 'loaded'"),
        ),
        Index("ix_source_file_kind_imported_at", "kind", "imported_at"),
    )
