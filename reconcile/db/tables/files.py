"""Imported files: one row per import attempt of one file."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from reconcile.categories import SourceKind, SourceStatus
from reconcile.db.base import Base, IdType, JsonType, UTCDateTime, text_enum


class SourceFile(Base):
    """A file given to ``reconcile import``: what it was, and whether it loaded.

    A file is a duplicate when a file with the same SHA-256 was *loaded*; a rejected
    file may be imported again (after it was fixed it has another hash anyway), so the
    uniqueness of ``sha256`` is enforced only among loaded files.
    """

    __tablename__ = "source_file"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    kind: Mapped[SourceKind] = mapped_column(text_enum(SourceKind, "kind"))
    name: Mapped[str] = mapped_column(String(255))  # base name, as the user gave it
    path: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64))
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
            "uq_source_file_sha256_loaded",
            "sha256",
            unique=True,
            sqlite_where=text("status = 'loaded'"),
            postgresql_where=text("status = 'loaded'"),
        ),
        Index("ix_source_file_kind_imported_at", "kind", "imported_at"),
    )
