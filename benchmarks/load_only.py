"""Parse and load an 835 into a database through the import driver.

The schema is created first (not timed); then the import of the file is timed
inside the process (one transaction, bulk writes, ANALYZE), as `reconcile import
era` does it. Prints one JSON object with the outcome, timings and peak RSS.

Usage: python -m benchmarks.load_only DATABASE_URL FILE
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

from benchmarks.memory import peak_kib
from reconcile.categories import SourceKind
from reconcile.clock import FixedClock
from reconcile.db.engine import make_engine
from reconcile.db.schema import upgrade
from reconcile.ingest.driver import import_files
from reconcile.ingest.x12.load import era_checker, era_loader
from reconcile.ingest.x12.rows import TABLES


def main() -> None:
    """Import the file once into the database; print the figures as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("file", type=Path)
    args = parser.parse_args()
    engine = make_engine(args.url)
    upgrade(engine)
    wall, cpu = time.perf_counter(), time.process_time()
    [outcome] = import_files(
        engine,
        kind=SourceKind.ERA,
        paths=[args.file],
        clock=FixedClock(dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
        load=era_loader(),
        check=era_checker(),
        tables=TABLES,
    )
    seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
    engine.dispose()
    print(
        json.dumps(
            {
                "status": outcome.status.value,
                "claims": outcome.counts.get("claims", 0),
                "counts": outcome.counts,
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "peak_rss_kb": peak_kib(),
            }
        )
    )


if __name__ == "__main__":
    main()
