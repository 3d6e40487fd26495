"""Write matches: each rule's candidates, minus what is matched and what is ambiguous.

For every rule, in registry order, one set-based pass:

1. the rule's candidate pairs, without right rows already matched (and, in one-to-one
   pairings, without left rows already matched), go into a temporary table;
2. pairs whose right row (or, one-to-one, whose left row) has more than one candidate
   are ambiguous (one grouping pass finds those ids): they are left unmatched,
   counted, and reported by classification as the unmatched items they are;
3. the rest is inserted into ``recon_match`` with the rule id. Unique indexes in the
   database guarantee no row is ever matched twice.

Matches are permanent facts about source rows (which are immutable): a re-run finds
them already there and adds only what new data makes possible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    String,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)

from reconcile.context import RunContext
from reconcile.db.base import CentsType, IdType
from reconcile.db.bulk import analyze
from reconcile.db.engine import postgres_settings
from reconcile.db.tables import ReconMatch
from reconcile.db.temp import create_temp, drop_temp
from reconcile.faults import checkpoint
from reconcile.matching.registry import MAX_REPEATS, REPEATED, RULES
from reconcile.matching.rule import Rule

#: A rule that matched this many rows refreshes recon_match's planner statistics.
STATISTICS_AFTER = 10_000


@dataclass(frozen=True)
class RuleResult:
    """What one rule did in one run."""

    matched: int
    ambiguous: int


def _apply_once(conn: Connection, ctx: RunContext, rule: Rule) -> RuleResult:
    m = ReconMatch
    candidates = rule.statement(ctx).subquery("candidates")
    right_taken = exists(
        select(m.id).where(
            m.right_table == rule.right_table, m.right_id == candidates.c.right_id
        )
    )
    conditions = [~right_taken]
    if rule.one_to_one:
        conditions.append(
            ~exists(
                select(m.id).where(
                    m.pairing == rule.pairing, m.left_id == candidates.c.left_id
                )
            )
        )
    pending = create_temp(
        conn,
        "tmp_match_candidate",
        [
            Column("left_id", IdType, nullable=False),
            Column("right_id", IdType, nullable=False),
            Column("left_cents", CentsType),
            Column("right_cents", CentsType),
        ],
    )
    # A rule joins whole tables, and PostgreSQL misjudges how many rows its joins
    # on correlated keys keep (a payment's payer and trace: 36 rows expected,
    # 943,663 found at 1M claims), then probes an index a million times per join
    # where one hash join does: no nested loops for the candidates.
    with postgres_settings(conn, enable_nestloop="off"):
        conn.execute(
            insert(pending).from_select(
                ["left_id", "right_id", "left_cents", "right_cents"],
                select(
                    candidates.c.left_id,
                    candidates.c.right_id,
                    candidates.c.left_cents,
                    candidates.c.right_cents,
                )
                .where(*conditions)
                .distinct(),
            )
        )
    # The ambiguous ids are few: one grouping pass finds them, and the insert below
    # looks each pair up in these small tables (no per-pair self-join).
    sides = [("right_id", "tmp_match_ambiguous_right")]
    if rule.one_to_one:
        sides.append(("left_id", "tmp_match_ambiguous_left"))
    ambiguous_sets = []
    for column, name in sides:
        table = create_temp(conn, name, [Column("id", IdType, primary_key=True)])
        conn.execute(
            insert(table).from_select(
                ["id"],
                select(pending.c[column])
                .group_by(pending.c[column])
                .having(func.count() > 1),
            )
        )
        ambiguous_sets.append((pending.c[column], table))
    ambiguous = or_(
        *(
            exists(select(table.c.id).where(table.c.id == column))
            for column, table in ambiguous_sets
        )
    )
    result = conn.execute(
        insert(m)
        .from_select(
            [
                "pairing", "rule_id", "left_id", "right_table", "right_id",
                "one_to_one", "left_cents", "right_cents", "first_run_id",
                "last_seen_run_id",
            ],
            select(
                literal(str(rule.pairing), String),
                literal(rule.rule_id, String),
                pending.c.left_id,
                literal(rule.right_table, String),
                pending.c.right_id,
                literal(rule.one_to_one),
                pending.c.left_cents,
                pending.c.right_cents,
                literal(ctx.run_id, Integer),
                literal(ctx.run_id, Integer),
            ).where(~ambiguous),
        )
        .execution_options(preserve_rowcount=True)
    )  # fmt: skip
    matched = max(result.rowcount, 0)
    skipped = 0
    if any(
        conn.execute(select(func.count()).select_from(table)).scalar_one()
        for _, table in ambiguous_sets
    ):
        # Counted as the reviewer sees them: the right rows left unmatched (the
        # left rows, in a one-to-one pairing).
        side = pending.c.right_id if not rule.one_to_one else pending.c.left_id
        skipped = conn.execute(
            select(func.count(func.distinct(side))).where(ambiguous)
        ).scalar_one()
    drop_temp(conn, pending, *(table for _, table in ambiguous_sets))
    return RuleResult(matched=matched, ambiguous=int(skipped))


def apply_rules(
    conn: Connection, ctx: RunContext, rules: Sequence[Rule] = RULES
) -> dict[str, RuleResult]:
    """Run ``rules`` in order; return what each one matched and left ambiguous."""
    results: dict[str, RuleResult] = {}
    for rule in rules:
        total = _apply_once(conn, ctx, rule)
        if rule.rule_id in REPEATED:
            for _ in range(MAX_REPEATS):
                if total.matched == 0:
                    break
                more = _apply_once(conn, ctx, rule)
                if more.matched == 0:
                    break
                total = RuleResult(total.matched + more.matched, more.ambiguous)
        results[rule.rule_id] = total
        if total.matched >= STATISTICS_AFTER:
            # The later rules and classification join recon_match; planned on the
            # statistics of the table before this rule filled it (on a first run:
            # empty), an indexed walk of a million matches looks like ten rows.
            analyze(conn, [ReconMatch.__tablename__])
        checkpoint(f"rule:{rule.rule_id}")
    return results


__all__ = ["RuleResult", "apply_rules"]
