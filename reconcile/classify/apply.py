"""Classification of one run: build the claims' state, collect candidate exceptions
from every rule, keep one condition per subject, merge them into the entities, then
bring the refund and recoupment queues in step."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from reconcile.classify.candidates import create_candidates
from reconcile.classify.claims import add_claim_candidates, build_claim_state
from reconcile.classify.deposits import add_deposit_candidates
from reconcile.classify.deposits import pending_counts as deposit_pending
from reconcile.classify.merge import MergeResult, merge_exceptions
from reconcile.classify.overpayments import (
    add_cob_candidates,
    add_duplicate_candidates,
    add_patient_candidates,
)
from reconcile.classify.postings import add_posting_candidates
from reconcile.classify.postings import pending_counts as posting_pending
from reconcile.classify.precedence import apply_precedence, attach_codes
from reconcile.classify.recoupments import (
    QueueCounts,
    add_recoupment_candidates,
    load_plan,
    sync_recoupments,
)
from reconcile.classify.refunds import sync_refunds
from reconcile.classify.remittances import add_remittance_candidates
from reconcile.classify.reversals import (
    add_reversal_candidates,
    awaiting_correction,
    load_reversals,
    reversal_table,
)
from reconcile.context import RunContext
from reconcile.db.bulk import analyze
from reconcile.db.temp import drop_temp
from reconcile.faults import checkpoint


@dataclass(frozen=True)
class ClassifyResult:
    """What classification found and changed in one run."""

    found: dict[str, int]  # candidates per kind after precedence
    merge: MergeResult
    refunds: QueueCounts
    recoupments: QueueCounts
    pending: dict[str, int] = field(default_factory=dict)


def classify(conn: Connection, ctx: RunContext) -> ClassifyResult:
    """Classify everything visible as of the run and update exceptions and queues."""
    candidates = create_candidates(conn)
    state = build_claim_state(conn, ctx)
    # Temporary tables get no automatic statistics; the later joins on these two
    # (a row per claim, a row per candidate) are planned on real counts.
    analyze(conn, [state.name])
    reversals = load_reversals(conn, ctx, state)
    reversal_rows = reversal_table(conn, ctx, reversals)
    add_claim_candidates(conn, ctx, state=state, candidates=candidates)
    add_reversal_candidates(
        conn, ctx, reversals=reversal_rows, state=state, candidates=candidates
    )
    add_duplicate_candidates(
        conn, ctx, state=state, reversals=reversal_rows, candidates=candidates
    )
    add_cob_candidates(conn, ctx, state=state, candidates=candidates)
    add_patient_candidates(conn, ctx, state=state, candidates=candidates)
    add_remittance_candidates(conn, ctx, candidates=candidates)
    add_deposit_candidates(conn, ctx, candidates=candidates)
    add_posting_candidates(conn, ctx, candidates=candidates)
    plan = load_plan(conn, ctx, reversals)
    checkpoint("classify:candidates")
    analyze(conn, [candidates.name])
    apply_precedence(conn, candidates)
    add_recoupment_candidates(conn, ctx, plan=plan, candidates=candidates)
    attach_codes(conn, ctx, candidates)
    found = {
        str(kind): int(count)
        for kind, count in conn.execute(
            select(candidates.c.kind, func.count()).group_by(candidates.c.kind)
        )
    }
    merged = merge_exceptions(conn, ctx, candidates)
    checkpoint("classify:merged")
    recoupments = sync_recoupments(conn, ctx, plan)
    refunds = sync_refunds(conn, ctx, candidates=candidates, state=state, plan=plan)
    checkpoint("classify:queues")
    rule = ctx.payer_rule
    awaiting_payment = conn.execute(
        select(func.count())
        .select_from(state)
        .join(rule, rule.c.payer_id == state.c.payer_id)
        .where(state.c.own_count == 0, state.c.submitted_on > rule.c.unpaid_cutoff_on)
    ).scalar_one()
    pending = {
        "claims_awaiting_payment": int(awaiting_payment),
        "reversals_awaiting_correction": awaiting_correction(conn, ctx, reversal_rows),
        **deposit_pending(conn, ctx),
        **posting_pending(conn, ctx),
    }
    drop_temp(conn, candidates, state, reversal_rows)
    return ClassifyResult(
        found=found,
        merge=merged,
        refunds=refunds,
        recoupments=recoupments,
        pending=pending,
    )
