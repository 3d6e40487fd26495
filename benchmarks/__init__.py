"""Benchmarks of reconcile (not collected by pytest; see benchmarks/README.md)."""
