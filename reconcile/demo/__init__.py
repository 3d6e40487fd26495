"""Synthetic, realistic data: writers for 835, BAI2 and CSV files (used by tests,
benchmarks and ``reconcile demo``). No real patient data, ever."""
