"""Parse and validate an 835 with reconcile's reader alone (no database).

Prints one JSON object: claims, the best of ``--repeat`` timings (wall and CPU,
measured inside the process, so interpreter start-up is excluded) and peak RSS.
Imports only the reader (not SQLAlchemy), as a parse-only process would.

Usage: python -m benchmarks.parse_only FILE [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.memory import peak_kib
from reconcile.ingest.x12.counting import CountingSink
from reconcile.ingest.x12.reader import read_remittance


def main() -> None:
    """Read the file ``--repeat`` times; print the best timing as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    best_wall = best_cpu = float("inf")
    counts: dict[str, int] = {}
    for _ in range(args.repeat):
        sink = CountingSink()
        wall, cpu = time.perf_counter(), time.process_time()
        with args.file.open("rb") as stream:
            read_remittance(stream, sink=sink)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        counts = sink.counts
    print(
        json.dumps(
            {
                "claims": counts["claims"],
                "counts": counts,
                "seconds": best_wall,
                "cpu_seconds": best_cpu,
                "peak_rss_kb": peak_kib(),
            }
        )
    )


if __name__ == "__main__":
    main()
