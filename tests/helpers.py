"""Helpers for database tests: run contexts, rule pairs, whole runs, exception sets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from sqlalchemy import Connection, Engine, select

from reconcile import pipeline
from reconcile.clock import FixedClock
from reconcile.context import RunContext, prepare_context
from reconcile.db.tables import ReconException
from reconcile.kinds import CLAIM_PRECEDENCE
from reconcile.matching.rule import Rule
from reconcile.periods import RunWindow
from reconcile.settings import Settings

MARCH = RunWindow(dt.date(2024, 3, 1), dt.date(2024, 3, 31))
CLOCK = FixedClock(dt.datetime(2024, 4, 1, 6, tzinfo=dt.UTC))


@contextmanager
def run_context(
    conn: Connection,
    *,
    window: RunWindow = MARCH,
    settings: Settings | None = None,
    run_id: int = 0,
) -> Iterator[RunContext]:
    """A run context inside the caller's transaction (its tables are dropped after)."""
    ctx = prepare_context(
        conn,
        run_id=run_id,
        window=window,
        settings=settings or Settings(),
        at=CLOCK.now(),
    )
    try:
        yield ctx
    finally:
        ctx.drop(conn)


def pairs(
    conn: Connection, ctx: RunContext, module: ModuleType
) -> set[tuple[int, int]]:
    """The (left_id, right_id) pairs a rule module proposes."""
    statement = Rule.from_module(module).statement(ctx)
    return {(row.left_id, row.right_id) for row in conn.execute(statement)}


def run(
    engine: Engine,
    *,
    window: RunWindow = MARCH,
    settings: Settings | None = None,
) -> pipeline.RunResult:
    """One whole run through the pipeline."""
    return pipeline.run(
        engine=engine, settings=settings or Settings(), window=window, clock=CLOCK
    )


def open_exceptions(engine: Engine) -> dict[str, dict[str, Any]]:
    """Open exceptions by fingerprint: kind, amount and claim."""
    with engine.connect() as conn:
        table = ReconException.__table__
        rows = conn.execute(select(table).where(table.c.status == "open")).all()
        return {
            r.fingerprint: {
                "kind": str(r.kind),
                "amount": r.amount_cents,
                "claim": r.claim_id,
                "subject": (r.subject_table, r.subject_id),
            }
            for r in rows
        }


def kinds(engine: Engine) -> dict[tuple[str, str | None], int]:
    """Open exceptions as {(kind, claim_id): amount_cents}."""
    return {
        (v["kind"], v["claim"]): v["amount"] for v in open_exceptions(engine).values()
    }


def claim_kinds(engine: Engine) -> dict[tuple[str, str | None], int]:
    """Open claim-level exceptions as {(kind, claim_id): amount_cents}."""
    claim_level = {str(k) for k in CLAIM_PRECEDENCE}
    return {
        key: amount for key, amount in kinds(engine).items() if key[0] in claim_level
    }
