"""Benchmark: the exception workbook next to a bare openpyxl dump of the same rows.

Run from the repository root with the project's environment::

    python -m benchmarks.bench_workbook                  # 100k and 1M exception rows
    python -m benchmarks.bench_workbook --rows 100000 --repeat 3
    python -m benchmarks.bench_workbook --rows 100000 --profile

For each size it builds a SQLite database holding one run and that many open
exceptions (a realistic mix of kinds, codes and texts), then measures, each in a
fresh process and alternating:

- **bare**: stream the same exception rows from the database and append them, as
  they come, to an openpyxl write-only workbook (one sheet per kind, no styles,
  nothing else) — the baseline;
- **full**: ``reconcile.report.write_report`` for the run — Summary with chart,
  styled and validated item sheets, Refunds, Recoupments, Run info, atomic save.

Seconds are timed inside the child (imports and interpreter start excluded): wall
seconds, and CPU seconds (user + system), which other work on a shared machine
disturbs much less — the ratio is printed for both. Peak RSS is the child's
``VmHWM`` (``ru_maxrss`` would carry the parent's size across fork and exec). Every
file goes to a temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import pstats
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import create_engine, insert

from reconcile.db.engine import make_engine
from reconcile.db.schema import upgrade
from reconcile.db.tables import ReconRun
from reconcile.report import write_report
from reconcile.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
RATIO_TARGET = 1.6
RSS_TARGET_MB = 200

KINDS = (
    ("underpaid", 45), ("not_posted", 20), ("denied", 10), ("unpaid_claim", 10),
    ("overpaid", 5), ("era_without_deposit", 5), ("posting_mismatch", 5),
)  # fmt: skip
CODES = ("CO-45", "CO-45,PR-2", "CO-50", "PR-1,PR-2", "CO-97,OA-23", None, None)
DETAILS = (
    "paid differs from the contracted amount beyond tolerance",
    "835 payment (TRN EFT1234567) has no ledger posting",
    "denied by the claim's payer",
    "no payment from the claim's payer yet",
)
PAYERS = ("AETNA", "BCBSTX", "CIGNA", "HUMANA", "MEDICARE", "UHC", "TXMCD", "AMBTR")
COLUMNS = (
    "fingerprint", "kind", "status", "claim_id", "payer_id", "patient_account",
    "subject_table", "subject_id", "amount_cents", "expected_cents", "paid_cents",
    "variance_cents", "codes", "detail", "service_on", "paid_on", "age_from_on",
    "details", "identified_on", "seen_as_of", "first_run_id", "last_seen_run_id",
    "reopened_count",
)  # fmt: skip
#: What the bare dump reads: the values the exception sheets show.
BARE_SELECT = (
    "SELECT first_run_id, id, claim_id, patient_account, payer_id, service_on, "
    "paid_on, expected_cents, paid_cents, variance_cents, amount_cents, codes, "
    "detail, suggested_action, identified_on, age_from_on, status, reopened_count, "
    "fingerprint, kind FROM recon_exception ORDER BY kind, amount_cents DESC, id"
)


def _rows(count: int) -> list[tuple[object, ...]]:
    rng = random.Random(1)
    kinds = [k for k, weight in KINDS for _ in range(weight)]
    rows = []
    for n in range(count):
        kind = kinds[n % len(kinds)]
        payer = PAYERS[n % len(PAYERS)]
        expected = rng.randrange(5_000, 250_000)
        paid = expected - rng.randrange(-3_000, 30_000)
        service = dt.date(2024, 2, 1) + dt.timedelta(days=n % 28)
        rows.append(
            (
                f"{kind}:{payer}:CLM{n:09d}", kind, "open", f"CLM{n:09d}", payer,
                f"ACCT{n % 250_000:07d}", "expected_claim", n + 1,
                abs(expected - paid), expected, paid, paid - expected,
                CODES[n % len(CODES)], DETAILS[n % len(DETAILS)], service.isoformat(),
                (service + dt.timedelta(days=30)).isoformat(), service.isoformat(),
                "{}", "2024-03-31", "2024-03-31", 1, 1, 0,
            )
        )  # fmt: skip
    return rows


def build_database(folder: Path, count: int) -> str:
    """A SQLite database with one succeeded run and ``count`` open exceptions."""
    url = f"sqlite:///{folder / f'bench-{count}.db'}"
    engine = make_engine(url)
    upgrade(engine)
    at = dt.datetime(2024, 4, 1, 6, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(ReconRun).values(
                trigger="nightly", status="succeeded",
                window_first=dt.date(2024, 3, 31), window_last=dt.date(2024, 3, 31),
                as_of=dt.date(2024, 3, 31), started_at=at, finished_at=at,
                host="bench", pid=1, config_hash="0" * 64, counts={}, timings={},
                summary={},
            )
        )  # fmt: skip
        placeholders = ", ".join("?" for _ in COLUMNS)
        names = ", ".join(COLUMNS)
        statement = f"INSERT INTO recon_exception ({names}) VALUES ({placeholders})"
        rows = _rows(count)
        for start in range(0, count, 50_000):
            conn.exec_driver_sql(statement, rows[start : start + 50_000])
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return url


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _bare(url: str, out: Path) -> None:
    engine = create_engine(url)
    wb = Workbook(write_only=True)
    sheets = {}
    with engine.connect() as conn:
        result = conn.exec_driver_sql(BARE_SELECT).yield_per(5_000)
        for row in result:
            kind = row[-1]
            if kind not in sheets:
                sheets[kind] = wb.create_sheet(kind)
            sheets[kind].append(tuple(row)[:-1])
    wb.save(out)


def _full(url: str, out: Path) -> None:
    write_report(
        engine=make_engine(url), settings=Settings(), run_id=1,
        written_at=dt.datetime(2024, 4, 1, 6, 30, tzinfo=dt.UTC), path=out,
    )  # fmt: skip


def child(mode: str, url: str, out: Path, profile: bool) -> None:
    """Run one measurement in this process and print it as JSON."""
    work = _bare if mode == "bare" else _full
    started = time.perf_counter()
    cpu_started = _cpu_seconds()
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(work, url, out)
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(25)
    else:
        work(url, out)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_started
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_rss_mb": _peak_rss_mb(),
                      "bytes": out.stat().st_size}))  # fmt: skip


def measure(
    mode: str, url: str, out: Path, *, profile: bool = False
) -> dict[str, float]:
    """One child process; its figures."""
    command = [
        sys.executable, "-m", "benchmarks.bench_workbook", "--child", mode,
        "--url", url, "--out", str(out), *(["--profile"] if profile else []),
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr}")
    if profile:
        print(done.stderr)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    out.unlink()
    return figures


def main() -> None:
    """Build the databases, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=1, help="best of N per figure")
    parser.add_argument("--profile", action="store_true", help="cProfile the full run")
    parser.add_argument("--child", choices=["bare", "full"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.out, args.profile)
        return

    folder = Path(tempfile.mkdtemp(prefix="bench-workbook-"))
    try:
        print(f"load average {os.getloadavg()[0]:.2f}; files in {folder}")
        header = (
            f"{'rows':>10} | {'bare s':>7} {'full s':>7} {'ratio':>5} | "
            f"{'bare cpu':>8} {'full cpu':>8} {'ratio':>5} | {'bare MB':>7} "
            f"{'full MB':>7}\n{'':>10} | {'wall clock':>21} | {'CPU seconds':>23} | "
            f"{'peak RSS':>15}"
        )
        lines = []
        for count in args.rows:
            started = time.perf_counter()
            url = build_database(folder, count)
            took = time.perf_counter() - started
            print(f"built {count:,} exceptions in {took:.1f} s")
            bare: list[dict[str, float]] = []
            full: list[dict[str, float]] = []
            for _ in range(args.repeat):
                bare.append(measure("bare", url, folder / "bare.xlsx"))
                full.append(measure("full", url, folder / "full.xlsx"))
            if args.profile:
                measure("full", url, folder / "full.xlsx", profile=True)

            def best(runs: list[dict[str, float]], key: str) -> float:
                return min(r[key] for r in runs)

            b, f = best(bare, "seconds"), best(full, "seconds")
            b_cpu, f_cpu = best(bare, "cpu"), best(full, "cpu")
            b_mb = max(r["peak_rss_mb"] for r in bare)
            f_mb = max(r["peak_rss_mb"] for r in full)
            lines.append(
                f"{count:>10,} | {b:>7.1f} {f:>7.1f} {f / b:>5.2f} | {b_cpu:>8.1f} "
                f"{f_cpu:>8.1f} {f_cpu / b_cpu:>5.2f} | {b_mb:>7.0f} {f_mb:>7.0f}"
            )
            print(header)
            print("\n".join(lines))
            print(
                f"targets: full ≤ {RATIO_TARGET}× bare; full peak RSS ≤ "
                f"{RSS_TARGET_MB} MB at 1M rows"
            )
            Path(url.removeprefix("sqlite:///")).unlink()
        print(f"load average {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
