"""Work queues: refund and recoupment workflows, exception decisions, and the
hash-chained audit log every change writes."""

from reconcile.queues.actions import (
    UnknownItemError,
    decide_exception,
    recoupment_action,
    refund_action,
    suspend_refund,
)
from reconcile.queues.audit import ChainReport, Event, append_events, verify_chain
from reconcile.queues.workflow import TransitionRefused

__all__ = [
    "ChainReport",
    "Event",
    "TransitionRefused",
    "UnknownItemError",
    "append_events",
    "decide_exception",
    "recoupment_action",
    "refund_action",
    "suspend_refund",
    "verify_chain",
]
