"""Work queues: refund and recoupment workflows, exception decisions, and the
hash-chained audit log every change writes."""

from reconcile.queues.actions import (
    UnknownItemError,
    decide_exception,
    recoupment_action,
    refund_action,
    suspend_refund,
    transition_many,
)
from reconcile.queues.audit import (
    ChainReport,
    Event,
    append_events,
    last_event_at,
    verify_chain,
)
from reconcile.queues.workflow import TransitionRefused

__all__ = [
    "ChainReport",
    "Event",
    "TransitionRefused",
    "UnknownItemError",
    "append_events",
    "decide_exception",
    "last_event_at",
    "recoupment_action",
    "refund_action",
    "suspend_refund",
    "transition_many",
    "verify_chain",
]
