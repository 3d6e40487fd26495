"""Write matches: each rule's candidates, minus what is matched and what is ambiguous.

For every rule, in registry order, one set-based pass:

1. the rule's candidate pairs, without right rows already matched (and, in one-to-one
   pairings, without left rows already matched), go into a temporary table;
2. pairs whose right row (or, one-to-one, whose left row) has more than one candidate
   are ambiguous: they are left unmatched, counted, and reported by classification as
   the unmatched items they are;
3. the rest is inserted into ``recon_match`` with the rule id. Unique indexes in the
   database guarantee no row is ever matched twice.

Matches are permanent facts about source rows (which are immutable): a re-run finds
them already there and adds only what new data makes possible.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    String,
    cast,
    exists,
    func,
    insert,
    literal,
    select,
)

from reconcile.context import RunContext
from reconcile.db.base import CentsType, IdType
from reconcile.db.tables import ReconMatch
from reconcile.db.temp import create_temp, drop_temp
from reconcile.faults import checkpoint
from reconcile.matching.registry import MAX_REPEATS, REPEATED, RULES
from reconcile.matching.rule import Rule


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
        indexes=[("left_id",), ("right_id",)],
    )
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
    other = pending.alias("other")
    ambiguous_right = exists(
        select(other.c.right_id).where(
            other.c.right_id == pending.c.right_id, other.c.left_id != pending.c.left_id
        )
    )
    ambiguous: ColumnElement[bool] = ambiguous_right
    if rule.one_to_one:
        ambiguous = ambiguous_right | exists(
            select(other.c.left_id).where(
                other.c.left_id == pending.c.left_id,
                other.c.right_id != pending.c.right_id,
            )
        )
    fingerprint = (
        literal(f"{rule.pairing}:")
        + cast(pending.c.left_id, String)
        + literal(":")
        + cast(pending.c.right_id, String)
    )
    result = conn.execute(
        insert(m)
        .from_select(
            [
                "fingerprint", "pairing", "rule_id", "left_id", "right_table",
                "right_id", "one_to_one", "left_cents", "right_cents", "first_run_id",
                "last_seen_run_id",
            ],
            select(
                fingerprint,
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
    left_or_right = pending.c.right_id if not rule.one_to_one else pending.c.left_id
    skipped = conn.execute(
        select(func.count(func.distinct(left_or_right))).where(ambiguous)
    ).scalar_one()
    drop_temp(conn, pending)
    return RuleResult(matched=matched, ambiguous=int(skipped))


def apply_rules(conn: Connection, ctx: RunContext) -> dict[str, RuleResult]:
    """Run every rule in order; return what each one matched and left ambiguous."""
    results: dict[str, RuleResult] = {}
    for rule in RULES:
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
        checkpoint(f"rule:{rule.rule_id}")
    return results


__all__ = ["RuleResult", "apply_rules"]
