"""Classification: turn matched and unmatched source rows into exceptions, refunds
and recoupments, each a persistent entity keyed by its fingerprint."""

from reconcile.classify.apply import ClassifyResult, classify
from reconcile.classify.merge import MergeResult

__all__ = ["ClassifyResult", "MergeResult", "classify"]
