"""Matching: which source rows belong together, as set-based SQL rules."""

from reconcile.matching.apply import RuleResult, apply_rules
from reconcile.matching.registry import QUEUE_RULES, RULES

__all__ = ["QUEUE_RULES", "RULES", "RuleResult", "apply_rules"]
