"""Derived data: runs, the run lock, matches and exceptions.

Exceptions are persistent entities keyed by a fingerprint built from business identity,
never from a run id; a match is keyed by the right-hand row it uses (unique). A re-run
of unchanged data changes none of them in content; ``last_seen_run_id`` is the only
bookkeeping that moves.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from reconcile.categories import (
    Decision,
    ExceptionKind,
    ExceptionStatus,
    Pairing,
    RunStatus,
    RunTrigger,
)
from reconcile.db.base import Base, CentsType, IdType, JsonType, UTCDateTime, text_enum

_FINGERPRINT = String(200)


class ReconRun(Base):
    """One run over an inclusive window of days, by the nightly job or a person."""

    __tablename__ = "recon_run"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    trigger: Mapped[RunTrigger] = mapped_column(text_enum(RunTrigger, "trigger"))
    status: Mapped[RunStatus] = mapped_column(text_enum(RunStatus, "status"))
    window_first: Mapped[dt.date]
    window_last: Mapped[dt.date]
    as_of: Mapped[dt.date]
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    config_hash: Mapped[str] = mapped_column(String(64))
    #: Rows per matching rule and per exception kind, and the queue figures.
    counts: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    #: Seconds per stage.
    timings: Mapped[dict[str, float]] = mapped_column(JsonType, default=dict)
    #: The JSON summary of DESIGN.md, as printed by ``run --json``.
    summary: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    report_path: Mapped[str | None] = mapped_column(String(1024))
    error: Mapped[str | None] = mapped_column(String(2000))
    #: Days a nightly catch-up skipped (more than ``max_catch_up_days`` missed).
    skipped_first: Mapped[dt.date | None]
    skipped_last: Mapped[dt.date | None]

    __table_args__ = (
        Index("ix_recon_run_status_window_last", "status", "window_last"),
    )


class ReconLock(Base):
    """Who holds the run lock (SQLite's lock; on PostgreSQL it records the holder).

    PostgreSQL serialises runs with an advisory lock on a dedicated connection; this
    row only tells ``status`` and a refused second run who holds it.
    """

    __tablename__ = "recon_lock"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("recon_run.id"))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    acquired_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ReconMatch(Base):
    """Two source rows that belong together, and the rule that tied them.

    Each right-hand row is used at most once (enforced by a unique index); in a
    one-to-one pairing each left-hand row is used at most once too. Grouping pairings
    (a claim and all of its 835 claim payments) repeat the left row.
    """

    __tablename__ = "recon_match"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    pairing: Mapped[Pairing] = mapped_column(text_enum(Pairing, "pairing"))
    rule_id: Mapped[str] = mapped_column(String(64))
    left_id: Mapped[int] = mapped_column(IdType)
    right_table: Mapped[str] = mapped_column(String(32))
    right_id: Mapped[int] = mapped_column(IdType)
    one_to_one: Mapped[bool]
    left_cents: Mapped[int | None] = mapped_column(CentsType)
    right_cents: Mapped[int | None] = mapped_column(CentsType)
    #: Run bookkeeping, deliberately without a foreign key (revision 0004): run
    #: records are never deleted, and checking the reference cost PostgreSQL two
    #: trigger lookups per new match — 40 % of the matching stage on a first run.
    first_run_id: Mapped[int] = mapped_column(IdType)
    last_seen_run_id: Mapped[int] = mapped_column(IdType)

    __table_args__ = (
        Index("uq_recon_match_right", "right_table", "right_id", unique=True),
        Index(
            "uq_recon_match_left_one_to_one",
            "pairing",
            "left_id",
            unique=True,
            sqlite_where=text("one_to_one"),
            postgresql_where=text("one_to_one"),
        ),
        Index("ix_recon_match_pairing_left_id", "pairing", "left_id"),
    )


class ReconException(Base):
    """A condition accounting must look at, with what a reviewer needs to work it.

    Lifecycle (DESIGN.md): ``open`` → ``resolved``, by a run (the condition is gone:
    ``resolved_by_run_id``) or by a person's ``decision``. A decided item stays decided
    while its condition persists; if its amount changes it reopens, keeping its history.
    A resolved fingerprint that reappears reopens the same row.
    """

    __tablename__ = "recon_exception"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(_FINGERPRINT, unique=True)
    kind: Mapped[ExceptionKind] = mapped_column(text_enum(ExceptionKind, "kind"))
    status: Mapped[ExceptionStatus] = mapped_column(
        text_enum(ExceptionStatus, "status")
    )
    # What it is about
    claim_id: Mapped[str | None] = mapped_column(String(38))
    payer_id: Mapped[str | None] = mapped_column(String(80))
    patient_account: Mapped[str | None] = mapped_column(String(80))
    subject_table: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(IdType)
    # The money
    amount_cents: Mapped[int] = mapped_column(CentsType)  # at stake, always >= 0
    expected_cents: Mapped[int | None] = mapped_column(CentsType)
    paid_cents: Mapped[int | None] = mapped_column(CentsType)
    variance_cents: Mapped[int | None] = mapped_column(CentsType)
    # What a reviewer reads
    codes: Mapped[str | None] = mapped_column(String(500))  # "CO-45: Charge exceeds…"
    detail: Mapped[str | None] = mapped_column(String(500))
    suggested_action: Mapped[str | None] = mapped_column(String(200))
    service_on: Mapped[dt.date | None]
    paid_on: Mapped[dt.date | None]
    #: The day the age counts from (submission, payment date, deposit date, …).
    age_from_on: Mapped[dt.date | None]
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # Lifecycle
    identified_on: Mapped[dt.date]  # as-of date of the run that first found it
    #: As-of date of the last run that confirmed or resolved it. A run with an earlier
    #: as-of date (a re-run of the past) does not change its lifecycle.
    seen_as_of: Mapped[dt.date]
    first_run_id: Mapped[int] = mapped_column(ForeignKey("recon_run.id"))
    last_seen_run_id: Mapped[int] = mapped_column(ForeignKey("recon_run.id"))
    resolved_by_run_id: Mapped[int | None] = mapped_column(ForeignKey("recon_run.id"))
    resolved_on: Mapped[dt.date | None]
    reopened_count: Mapped[int] = mapped_column(default=0)
    decision: Mapped[Decision | None] = mapped_column(text_enum(Decision, "decision"))
    decision_note: Mapped[str | None] = mapped_column(String(2000))
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: The amount at the time of the decision; a different amount later reopens it.
    decided_amount_cents: Mapped[int | None] = mapped_column(CentsType)

    __table_args__ = (
        Index("ix_recon_exception_kind_status", "kind", "status"),
        Index("ix_recon_exception_status", "status"),
        Index("ix_recon_exception_claim_id", "claim_id"),
        Index("ix_recon_exception_last_seen_run_id", "last_seen_run_id"),
    )
