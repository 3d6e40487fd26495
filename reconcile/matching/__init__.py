"""Matching: which source rows belong together, as set-based SQL rules."""

from reconcile.matching.apply import RuleResult, apply_rules
from reconcile.matching.registry import RULES

__all__ = ["RULES", "RuleResult", "apply_rules"]
