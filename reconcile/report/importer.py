"""``reconcile review import``: read a returned workbook, check, apply all or none."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from reconcile.errors import ReconcileError
from reconcile.report.decisions import Planned, Skipped, apply_plan, plan_review
from reconcile.report.review import Problem, read_review
from reconcile.settings import Settings

log = logging.getLogger(__name__)


class ReviewRefused(ReconcileError):
    """A workbook with decisions that cannot be applied; nothing was applied."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"nothing was applied: the workbook has {count} {noun} (listed above)"
        )


@dataclass(frozen=True)
class ReviewOutcome:
    """What an import applied (or, in a dry run, would apply)."""

    applied: list[Planned]
    skipped: list[Skipped]
    notes_without_decision: int
    dry_run: bool


def import_review(
    *,
    engine: Engine,
    path: Path,
    actor: str,
    at: dt.datetime,
    settings: Settings,
    dry_run: bool = False,
) -> ReviewOutcome:
    """Apply the decisions typed into the workbook at ``path``, all or none.

    Raises:
        ReviewFileError: the file cannot be read or is not a reconcile workbook.
        ReviewRefused: at least one decision cannot be applied (every problem is
            listed, with its sheet and row); nothing was changed.
    """
    read = read_review(path)
    options = {"begin_immediate": True}
    with engine.connect().execution_options(**options) as conn, conn.begin() as tx:
        plan = plan_review(conn, rows=read.rows, settings=settings)
        problems = [*read.problems, *plan.problems]
        if problems:
            raise ReviewRefused(problems)
        outcome = ReviewOutcome(
            applied=plan.planned,
            skipped=plan.skipped,
            notes_without_decision=read.notes_without_decision,
            dry_run=dry_run,
        )
        if dry_run:
            tx.rollback()
            return outcome
        refused = apply_plan(conn, plan=plan, actor=actor, at=at, settings=settings)
        if refused:
            raise ReviewRefused(refused)
    log.info("review import applied %d decision(s)", len(outcome.applied))
    return outcome
