"""reconcile: find where a medical practice's money went wrong, every night."""

__version__ = "0.1.0"
