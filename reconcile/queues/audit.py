"""The audit log: append-only events, each carrying the hash of the one before.

``hash = sha256(prev_hash + canonical JSON of the event)``. The first event's
``prev_hash`` is :data:`GENESIS`. ``prev_hash`` is unique in the database, so two
writers can never fork the chain, and triggers refuse UPDATE and DELETE. Appends take
a transaction-scoped lock on PostgreSQL (SQLite writers are serialised by ``BEGIN
IMMEDIATE``).

:func:`verify_chain` recomputes every hash in id order and also checks that each
refund's and recoupment's current status is the ``to_status`` of its last event, which
catches a deleted last event too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select, text

from reconcile.categories import AuditEntity
from reconcile.db.bulk import copy_rows, reserve_ids
from reconcile.db.tables import AuditEvent, Recoupment, Refund

GENESIS = "0" * 64
_CHUNK = 1_000
AUDIT_LOCK_KEY = 0x6175646974  # "audit"

_COLUMNS = (
    "id", "entity", "entity_id", "action", "from_status", "to_status", "actor",
    "reason", "details", "run_id", "occurred_at", "prev_hash", "hash",
)  # fmt: skip


@dataclass(frozen=True)
class Event:
    """A change to record: what, by whom, from → to, and why."""

    entity: AuditEntity
    entity_id: int
    action: str
    actor: str
    occurred_at: dt.datetime
    from_status: str | None = None
    to_status: str | None = None
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None


def _canonical(event_id: int, event: Event, prev_hash: str) -> str:
    return json.dumps(
        {
            "id": event_id,
            "entity": str(event.entity),
            "entity_id": event.entity_id,
            "action": event.action,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "actor": event.actor,
            "reason": event.reason,
            "details": event.details,
            "run_id": event.run_id,
            "occurred_at": event.occurred_at.astimezone(dt.UTC).isoformat(),
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )


def event_hash(event_id: int, event: Event, prev_hash: str) -> str:
    """Return the hash an event with this id and predecessor must carry."""
    return hashlib.sha256(_canonical(event_id, event, prev_hash).encode()).hexdigest()


def _head(conn: Connection) -> str:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_KEY})
    last = conn.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar()
    return last or GENESIS


def append_events(conn: Connection, events: Sequence[Event]) -> list[int]:
    """Append ``events`` in order inside the caller's transaction; return their ids."""
    if not events:
        return []
    prev = _head(conn)
    first = reserve_ids(conn, "audit_event", len(events))
    rows = []
    ids = []
    for offset, event in enumerate(events):
        event_id = first + offset
        digest = event_hash(event_id, event, prev)
        rows.append(
            (
                event_id, str(event.entity), event.entity_id, event.action,
                event.from_status, event.to_status, event.actor, event.reason,
                event.details, event.run_id, event.occurred_at, prev, digest,
            )
        )  # fmt: skip
        ids.append(event_id)
        prev = digest
    copy_rows(conn, "audit_event", _COLUMNS, rows)
    return ids


def last_event_at(
    conn: Connection, *, entity: AuditEntity, action: str, ids: Iterable[int]
) -> dict[int, dt.datetime]:
    """When ``action`` last happened to each of ``ids`` (those it ever happened to).

    The log is the record of when a person issued a refund or repaid a recoupment;
    callers pass the few open items they need (an index serves each chunk).
    """
    wanted = sorted(set(ids))
    found: dict[int, dt.datetime] = {}
    e = AuditEvent
    for start in range(0, len(wanted), _CHUNK):
        found.update(
            conn.execute(
                select(e.entity_id, func.max(e.occurred_at))
                .where(
                    e.entity == entity,
                    e.entity_id.in_(wanted[start : start + _CHUNK]),
                    e.action == action,
                )
                .group_by(e.entity_id)
            ).all()
        )
    return found


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_chain` found."""

    events: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        """True when the log is complete and unaltered."""
        return not self.problems


def verify_chain(conn: Connection, *, max_problems: int = 20) -> ChainReport:
    """Walk the log in id order and report edited, reordered or missing events."""
    problems: list[str] = []
    prev = GENESIS
    count = 0
    last_status: dict[tuple[str, int], str | None] = {}
    table = AuditEvent.__table__
    result = conn.execute(select(table).order_by(table.c.id)).yield_per(5000)
    for row in result:
        count += 1
        event = Event(
            entity=AuditEntity(row.entity),
            entity_id=row.entity_id,
            action=row.action,
            actor=row.actor,
            occurred_at=row.occurred_at,
            from_status=row.from_status,
            to_status=row.to_status,
            reason=row.reason,
            details=row.details or {},
            run_id=row.run_id,
        )
        if row.prev_hash != prev:
            problems.append(
                f"event {row.id}: does not follow the event before it "
                "(an event was deleted or reordered)"
            )
        elif event_hash(row.id, event, row.prev_hash) != row.hash:
            problems.append(
                f"event {row.id}: its content was changed after it was written"
            )
        prev = row.hash
        if row.to_status is not None:
            last_status[(str(row.entity), row.entity_id)] = row.to_status
        if len(problems) >= max_problems:
            break
    if len(problems) < max_problems:
        problems.extend(
            _status_problems(conn, last_status)[: max_problems - len(problems)]
        )
    return ChainReport(events=count, problems=problems)


def _status_problems(
    conn: Connection, last_status: dict[tuple[str, int], str | None]
) -> list[str]:
    found: list[str] = []
    for entity, table in (
        (AuditEntity.REFUND, Refund),
        (AuditEntity.RECOUPMENT, Recoupment),
    ):
        rows = conn.execute(select(table.id, table.status).order_by(table.id))
        for entity_id, status in rows:
            logged = last_status.get((str(entity), entity_id))
            if logged is None:
                found.append(f"{entity} {entity_id}: has no audit events")
            elif logged != str(status):
                found.append(
                    f"{entity} {entity_id}: is {status} but its last audit event "
                    f"says {logged} (an event is missing)"
                )
    return found
