"""Merge the run's candidate exceptions into the persistent ``recon_exception`` rows.

Exceptions are entities keyed by fingerprint (business identity). For each candidate:

- unknown fingerprint → a new ``open`` exception (``identified_on`` = as-of);
- known and open → its content is refreshed only where it changed, and the run is
  recorded as the last to see it;
- resolved by an earlier run → reopened (same row, ``reopened_count`` + 1);
- decided by a person → stays decided, unless its amount changed since the decision:
  then it reopens (the decision is kept in the audit log).

Open exceptions without a candidate are resolved by this run (``resolved_by_run_id``).

A run never changes an exception that a run with a later as-of date already saw
(``seen_as_of`` > this as-of): re-running the past does not undo the present.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import (
    Column,
    Connection,
    Date,
    Integer,
    String,
    Table,
    exists,
    insert,
    literal,
    or_,
    select,
    update,
)

from reconcile.categories import AuditEntity, ExceptionStatus
from reconcile.classify.candidates import COLUMNS
from reconcile.context import RunContext
from reconcile.db.base import JsonType
from reconcile.db.tables import ReconException
from reconcile.db.temp import create_temp, drop_temp
from reconcile.queues import Event, append_events

#: Content columns refreshed from candidates (everything but the fingerprint).
CONTENT = tuple(c for c in COLUMNS if c != "fingerprint")


@dataclass(frozen=True)
class MergeResult:
    """How the run changed the exception entities."""

    created: int
    reopened: int
    resolved: int
    updated: int


def _rowcount(result: object) -> int:
    return max(getattr(result, "rowcount", 0), 0)


def merge_exceptions(
    conn: Connection, ctx: RunContext, candidates: Table
) -> MergeResult:
    """Apply the lifecycle rules of the module docstring in a few set-based updates."""
    e = cast(Table, ReconException.__table__)
    c = candidates
    as_of = ctx.as_of
    same = e.c.fingerprint == c.c.fingerprint
    current = e.c.seen_as_of <= as_of
    resolved = ExceptionStatus.RESOLVED

    # A decided item whose amount changed reopens: remember which, for the audit log.
    reopened_decisions = conn.execute(
        select(e.c.id, e.c.decision, e.c.decided_amount_cents, c.c.amount_cents)
        .select_from(e)
        .join(c, same)
        .where(
            current,
            e.c.status == resolved,
            e.c.decision.is_not(None),
            e.c.decided_amount_cents.is_distinct_from(c.c.amount_cents),
        )
    ).all()

    changed = or_(*(e.c[col].is_distinct_from(c.c[col]) for col in CONTENT))
    updated = conn.execute(
        update(e)
        .where(same, current, changed)
        .values({col: c.c[col] for col in CONTENT})
        .execution_options(preserve_rowcount=True)
    )

    in_candidates = exists(select(c.c.fingerprint).where(same))
    reopened = conn.execute(
        update(e)
        .where(current, e.c.status == resolved, e.c.decision.is_(None), in_candidates)
        .values(
            status=ExceptionStatus.OPEN,
            resolved_by_run_id=None,
            resolved_on=None,
            reopened_count=e.c.reopened_count + 1,
        )
        .execution_options(preserve_rowcount=True)
    )
    reopened_count = _rowcount(reopened)
    if reopened_decisions:
        ids = [row.id for row in reopened_decisions]
        conn.execute(
            update(e)
            .where(e.c.id.in_(ids))
            .values(
                status=ExceptionStatus.OPEN,
                decision=None,
                decision_note=None,
                decided_by=None,
                decided_at=None,
                decided_amount_cents=None,
                resolved_by_run_id=None,
                resolved_on=None,
                reopened_count=e.c.reopened_count + 1,
            )
        )
        append_events(
            conn,
            [
                Event(
                    entity=AuditEntity.EXCEPTION,
                    entity_id=row.id,
                    action="reopen",
                    actor="run",
                    occurred_at=ctx.at,
                    from_status=str(resolved),
                    to_status=str(ExceptionStatus.OPEN),
                    reason=(
                        f"amount changed from {row.decided_amount_cents} to "
                        f"{row.amount_cents} cents after the decision {row.decision}"
                    ),
                    details={"previous_decision": str(row.decision)},
                    run_id=ctx.run_id,
                )
                for row in reopened_decisions
            ],
        )
        reopened_count += len(reopened_decisions)

    conn.execute(
        update(e)
        .where(current, in_candidates)
        .values(last_seen_run_id=ctx.run_id, seen_as_of=as_of)
    )

    # The new fingerprints first, in a statement of their own: an INSERT that
    # anti-joins its own target can be planned (on statistics saying the table is
    # empty) as a scan of the table per candidate, which also walks the pages this
    # very insert is appending — quadratic, minutes at 100k new exceptions.
    fresh_table = create_temp(
        conn,
        "tmp_exception_fresh",
        [Column("fingerprint", String(200), primary_key=True)],
    )
    conn.execute(
        insert(fresh_table).from_select(
            ["fingerprint"],
            select(c.c.fingerprint).where(~exists(select(e.c.id).where(same))),
        )
    )
    fresh = exists(
        select(fresh_table.c.fingerprint).where(
            fresh_table.c.fingerprint == c.c.fingerprint
        )
    )
    created = conn.execute(
        insert(e)
        .from_select(
            [
                "fingerprint", *CONTENT, "status", "details", "identified_on",
                "seen_as_of", "first_run_id", "last_seen_run_id", "reopened_count",
            ],
            select(
                c.c.fingerprint,
                *(c.c[col] for col in CONTENT),
                literal(str(ExceptionStatus.OPEN), String),
                literal({}, JsonType),
                literal(as_of, Date),
                literal(as_of, Date),
                literal(ctx.run_id, Integer),
                literal(ctx.run_id, Integer),
                literal(0, Integer),
            ).where(fresh),
        )
        .execution_options(preserve_rowcount=True)
    )  # fmt: skip

    drop_temp(conn, fresh_table)

    gone = conn.execute(
        update(e)
        .where(e.c.status == ExceptionStatus.OPEN, current, ~in_candidates)
        .values(
            status=resolved,
            resolved_by_run_id=ctx.run_id,
            resolved_on=as_of,
            seen_as_of=as_of,
        )
        .execution_options(preserve_rowcount=True)
    )
    return MergeResult(
        created=_rowcount(created),
        reopened=reopened_count,
        resolved=_rowcount(gone),
        updated=_rowcount(updated),
    )
