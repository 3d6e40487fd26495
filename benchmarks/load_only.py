"""Parse and load an 835 into a database through the import driver.

The schema is created first (not timed); then the import of the file is timed
inside the process (one transaction, bulk writes, ANALYZE), as `reconcile import
era` does it. Prints one JSON object with the outcome, timings, peak RSS and, for a
local PostgreSQL server, the CPU time its backend spent on the import.

Usage: python -m benchmarks.load_only DATABASE_URL FILE
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

from sqlalchemy import Engine

from benchmarks.memory import peak_kib
from reconcile.categories import SourceKind
from reconcile.clock import FixedClock
from reconcile.db.engine import make_engine
from reconcile.db.schema import upgrade
from reconcile.ingest.driver import import_files
from reconcile.ingest.x12.load import era_checker, era_loader
from reconcile.ingest.x12.rows import TABLES


def _backend_pid(engine: Engine) -> int | None:
    """The PostgreSQL backend serving the pool's connection (the import reuses it)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _server_cpu(pid: int | None) -> float | None:
    """CPU seconds of a local PostgreSQL backend (None when it cannot be read)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    """Import the file once into the database; print the figures as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("file", type=Path)
    args = parser.parse_args()
    engine = make_engine(args.url)
    upgrade(engine)
    backend = _backend_pid(engine)
    server_before = _server_cpu(backend)
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
    server_after = _server_cpu(backend)
    engine.dispose()
    print(
        json.dumps(
            {
                "status": outcome.status.value,
                "claims": outcome.counts.get("claims", 0),
                "counts": outcome.counts,
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "server_cpu_seconds": (
                    server_after - server_before
                    if server_after is not None and server_before is not None
                    else None
                ),
                "peak_rss_kb": peak_kib(),
            }
        )
    )


if __name__ == "__main__":
    main()
