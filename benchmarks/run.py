"""Benchmark the 835 import against its targets and pyx12, in one run.

From the repository root, with the project's environment::

    python -m benchmarks.run

It generates valid 835 files (10k, 100k and 1M claims, cached in benchmarks/out/),
then measures, each in a fresh process:

- parse + validate claims/s on the 100k file, inside the process (best of
  ``--repeat``; interpreter start-up excluded), and the wall time of
  ``reconcile import era --check`` on the same file;
- parse + load claims/s on SQLite and on PostgreSQL (a scratch database it creates
  and drops), timed inside the process around the import (best of ``--repeat``,
  each in a new database), with the PostgreSQL backend's CPU time;
- peak RSS of a parse-only process at every size, and of the full
  ``reconcile import era`` process (SQLite) at every size;
- pyx12 (``--pyx12-python``, a separate environment holding PyPI pyx12) validating
  the same 100k file, and reading its segments only.

Figures are printed next to their targets and saved to benchmarks/out/results.json.
The machine's load average is printed too: other processes slow every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from benchmarks.generate_835 import generate
from benchmarks.memory import PeakWatcher

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
DEFAULT_PYX12 = "/work/bench-venv/bin/python"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MAIN_SIZE = 100_000


def child(command: list[str]) -> dict[str, Any]:
    """Run a command; return its JSON output, wall seconds and peak RSS (KiB).

    The peak RSS is the child's VmHWM, polled while it runs (see memory.py for why
    not ``ru_maxrss``); a child that reports its own ``peak_rss_kb`` is exact.
    """
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors
        )
        watcher = PeakWatcher(process.pid)
        output, _ = process.communicate()
        wall = time.perf_counter() - started
        peak = watcher.stop()
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    result: dict[str, Any] = {
        "exit_code": process.returncode,
        "wall_seconds": wall,
        "child_peak_rss_kb": peak,
    }
    try:
        parsed = json.loads(output)
    except json.JSONDecodeError:
        result["output"] = output.decode(errors="replace")[-2000:]
        result["stderr"] = stderr[-2000:]
    else:
        result.update(parsed if isinstance(parsed, dict) else {"outcomes": parsed})
    if "peak_rss_kb" in result:
        result["child_peak_rss_kb"] = result["peak_rss_kb"]
    return result


def best(command: list[str], *, repeat: int, key: str) -> dict[str, Any]:
    """Run a command ``repeat`` times; return the run with the lowest ``key``."""
    runs = [child(command) for _ in range(repeat)]
    return min(runs, key=lambda r: r.get(key, 1e9))


def ensure_file(claims: int, seed: int) -> Path:
    """Generate (once) the benchmark file with ``claims`` claims."""
    path = OUT / f"bench-{claims}-claims-seed{seed}.835"
    if not path.exists():
        print(f"generating {path.name} …", file=sys.stderr, flush=True)
        partial = path.with_suffix(".partial")
        generate(partial, claims=claims, seed=seed)
        partial.rename(path)
    return path


def postgres_scratch(admin_url: str) -> tuple[str, Any]:
    """Create a scratch database; return its URL and a function that drops it."""
    url = make_url(admin_url)
    name = f"reconcile_bench_{uuid.uuid4().hex[:10]}"
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    scratch = url.set(drivername="postgresql+psycopg", database=name)
    return scratch.render_as_string(hide_password=False), drop


def rate(claims: int, seconds: float) -> str:
    """Claims per second, for people."""
    return f"{claims / seconds:,.0f} claims/s" if seconds else "-"


def mb(kib: int) -> str:
    """KiB as MB, for people."""
    return f"{kib / 1024:,.0f} MB"


def main() -> None:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--seed", type=int, default=835)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pyx12-python", default=DEFAULT_PYX12)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-pyx12", action="store_true")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if MAIN_SIZE not in sizes:
        sizes.append(MAIN_SIZE)
        sizes.sort()
    python = sys.executable
    OUT.mkdir(parents=True, exist_ok=True)
    files = {n: ensure_file(n, args.seed) for n in sizes}
    main_file = files[MAIN_SIZE]
    results: dict[str, Any] = {
        "load_average_before": os.getloadavg(),
        "file": main_file.name,
        "file_mb": main_file.stat().st_size / 1e6,
    }

    def step(label: str) -> None:
        print(f"… {label}", file=sys.stderr, flush=True)

    step("parse + validate, 100k claims")
    parse = child(
        [python, "-m", "benchmarks.parse_only", str(main_file),
         "--repeat", str(args.repeat)]
    )  # fmt: skip
    results["parse"] = parse

    step("reconcile import era --check")
    with tempfile.TemporaryDirectory() as scratch:
        results["check_cli"] = best(
            [python, "-m", "reconcile", "--database-url",
             f"sqlite:///{scratch}/never.db", "-q", "import", "era", "--check",
             "--json", str(main_file)],
            repeat=args.repeat, key="wall_seconds",
        )  # fmt: skip

    step("parse + load, SQLite")
    loads = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as scratch:
            loads.append(
                child(
                    [
                        python,
                        "-m",
                        "benchmarks.load_only",
                        f"sqlite:///{scratch}/bench.db",
                        str(main_file),
                    ]
                )
            )
    results["load_sqlite"] = min(loads, key=lambda r: r.get("seconds", 1e9))

    if not args.skip_postgres:
        step("parse + load, PostgreSQL")
        loads = []
        for _ in range(args.repeat):
            try:
                url, drop = postgres_scratch(args.postgres_url)
            except (psycopg.Error, OSError) as error:
                loads.append({"skipped": f"no PostgreSQL: {error}"})
                break
            try:
                loads.append(
                    child([python, "-m", "benchmarks.load_only", url, str(main_file)])
                )
            finally:
                drop()
        results["load_postgres"] = min(loads, key=lambda r: r.get("seconds", 1e9))

    step("peak RSS, parse-only and full import, by size")
    results["rss"] = {}
    for size, path in files.items():
        parse_only = child([python, "-m", "benchmarks.parse_only", str(path)])
        with tempfile.TemporaryDirectory() as scratch:
            full = child(
                [python, "-m", "reconcile", "--database-url",
                 f"sqlite:///{scratch}/bench.db", "-q", "import", "era", "--json",
                 str(path)]
            )  # fmt: skip
        results["rss"][size] = {"parse_only": parse_only, "import": full}

    if not args.skip_pyx12:
        if Path(args.pyx12_python).exists():
            step("pyx12 reading and validating the 100k file (slow)")
            script = str(ROOT / "benchmarks" / "pyx12_parse.py")
            results["pyx12_reader"] = child(
                [args.pyx12_python, script, str(main_file), "reader"]
            )
            results["pyx12_validate"] = child(
                [args.pyx12_python, script, str(main_file), "validate"]
            )
        else:
            results["pyx12_validate"] = {
                "skipped": f"{args.pyx12_python} not found: create a separate venv "
                "with `pip install pyx12==4.0.0` and pass --pyx12-python"
            }
    results["load_average_after"] = os.getloadavg()
    (OUT / "results.json").write_text(json.dumps(results, indent=1, default=str))
    report(results, sizes)


def report(results: dict[str, Any], sizes: list[int]) -> None:
    """Print every figure next to its target and the pyx12 baseline."""
    claims = MAIN_SIZE
    parse = results["parse"]
    check = results["check_cli"]
    rows: list[tuple[str, str, str, str]] = []
    pyx12 = results.get("pyx12_validate", {})
    reader = results.get("pyx12_reader", {})
    pyx12_rate = (
        f"validate {rate(claims, pyx12['seconds'])}, "
        f"segments only {rate(claims, reader.get('seconds', 0))}"
        if "seconds" in pyx12
        else pyx12.get("skipped", "-")
    )
    rows.append((
        "parse + validate, 100k claims (in process)",
        f"{rate(claims, parse['seconds'])} ({parse['seconds']:.2f} s; "
        f"CPU {rate(claims, parse['cpu_seconds'])})",
        ">= 50,000 claims/s",
        pyx12_rate,
    ))  # fmt: skip
    rows.append((
        "reconcile import era --check, 100k claims (wall)",
        f"{check['wall_seconds']:.2f} s (exit {check['exit_code']})",
        "-",
        f"validate {pyx12['seconds']:.0f} s" if "seconds" in pyx12 else "-",
    ))  # fmt: skip
    for key, name in (("load_sqlite", "SQLite"), ("load_postgres", "PostgreSQL")):
        load = results.get(key)
        if load is None:
            continue
        if "seconds" not in load:
            rows.append((f"parse + load, {name}", load.get("skipped", str(load)),
                         ">= 20,000 claims/s", "-"))  # fmt: skip
            continue
        server = load.get("server_cpu_seconds")
        rows.append((
            f"parse + load, {name}, 100k claims",
            f"{rate(load['claims'], load['seconds'])} ({load['seconds']:.2f} s; "
            f"CPU in reconcile {load['cpu_seconds']:.2f} s"
            + (f", in the PostgreSQL backend {server:.2f} s)" if server else ")"),
            ">= 20,000 claims/s",
            "-",
        ))  # fmt: skip
    rss = results["rss"]
    parse_rss = " / ".join(mb(rss[n]["parse_only"]["child_peak_rss_kb"]) for n in sizes)
    import_rss = " / ".join(mb(rss[n]["import"]["child_peak_rss_kb"]) for n in sizes)
    labels = " / ".join(f"{n // 1000:,}k" for n in sizes)
    rows.append((
        f"peak RSS, parse-only process ({labels})",
        parse_rss,
        "<= 50 MB, flat",
        f"{mb(pyx12['child_peak_rss_kb'])} validating 100k" if "seconds" in pyx12
        else "-",
    ))  # fmt: skip
    rows.append((
        f"peak RSS, reconcile import era on SQLite ({labels})",
        import_rss,
        "flat",
        "-",
    ))  # fmt: skip
    imports = " / ".join(f"{rss[n]['import']['wall_seconds']:.1f} s" for n in sizes)
    rows.append((f"wall time, reconcile import era on SQLite ({labels})", imports,
                 "-", "-"))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("figure", "reconcile", "target", "pyx12 4.0.0 (same file, same run)")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    print()
    print(f"file: {results['file']} ({results['file_mb']:.0f} MB); load average "
          f"before {results['load_average_before'][0]:.2f}, after "
          f"{results['load_average_after'][0]:.2f}")  # fmt: skip
    for row in (header, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
