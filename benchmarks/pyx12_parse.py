"""Parse (and validate) an 835 with pyx12, for the benchmark's baseline.

Runs in the benchmark's own environment (pyx12 is not a dependency of reconcile) and
prints one JSON object: the seconds pyx12 takes to validate the file the way its
``x12valid`` command does (x12n_document: segments, loops, codes), or only to read
its segments (X12Reader), and the process's peak RSS.

Usage: PYTHON_WITH_PYX12 benchmarks/pyx12_parse.py FILE validate|reader
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import pyx12  # type: ignore[import-not-found]
import pyx12.params  # type: ignore[import-not-found]
import pyx12.x12file  # type: ignore[import-not-found]
import pyx12.x12n_document  # type: ignore[import-not-found]


def _peak_kib() -> int:
    # VmHWM: the peak of this program only (see benchmarks/memory.py, not
    # importable here since this runs in pyx12's environment).
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    """Time pyx12 on one file and print the figures as JSON."""
    path, mode = sys.argv[1], sys.argv[2]
    logging.disable(logging.CRITICAL)
    started = time.perf_counter()
    cpu = time.process_time()
    if mode == "reader":
        segments: int | None = sum(1 for _ in pyx12.x12file.X12Reader(path))
        valid = None
    else:
        segments = None
        valid = pyx12.x12n_document.x12n_document(
            pyx12.params.params(), path, fd_997=None, fd_html=None
        )
    print(
        json.dumps(
            {
                "version": pyx12.__version__,
                "mode": mode,
                "seconds": time.perf_counter() - started,
                "cpu_seconds": time.process_time() - cpu,
                "segments": segments,
                "valid": valid,
                "peak_rss_kb": _peak_kib(),
            }
        )
    )


if __name__ == "__main__":
    main()
