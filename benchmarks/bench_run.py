"""The run at scale (issue 6): import a million-claim practice and reconcile it.

    python -m benchmarks.bench_run                   # 1M claims, SQLite and PostgreSQL
    python -m benchmarks.bench_run --claims 100000   # smaller, to iterate
    python -m benchmarks.bench_run --databases sqlite

For each database, in fresh processes: import the generated practice (claims, 835s,
BAI2 and CSV deposits, patient payments, ledger), run the whole period, run it again
on unchanged data, and — in the same database, in the same run of this script — a
minimal hand-written baseline: one exact-key join of claims to 835 claim payments,
the per-claim aggregate and a paid / under / over classification in raw SQL. It
prints each figure next to the baseline and the targets (whole run ≤ 45 s, workbook
excluded; peak RSS ≤ 1 GB; unchanged re-run ≤ 1.5 × the first run with 0 derived rows
changed). The data set is generated once into benchmarks/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, text

from benchmarks.bench_tabular import (
    Measure,
    measure,
    postgres_database,
    sqlite_database,
)
from reconcile.db.engine import make_engine
from reconcile.db.schema import upgrade
from reconcile.db.tables import ReconException, ReconMatch, Recoupment, Refund
from reconcile.demo.dataset import build_dataset

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
FIRST, LAST = dt.date(2024, 1, 1), dt.date(2024, 6, 30)
SEED = 11
#: The run's stages, in the order the pipeline runs them (``recon_run.timings``).
STAGES = ("prepare", "matching", "classify", "queue_postings", "summary", "report")

#: The minimal baseline: exact key join, per-claim aggregate, three-way classification.
BASELINE_SQL = """
SELECT
  sum(CASE WHEN paid BETWEEN expected - 100 AND expected + 100 THEN 1 ELSE 0 END),
  sum(CASE WHEN paid < expected - 100 THEN 1 ELSE 0 END),
  sum(CASE WHEN paid > expected + 100 THEN 1 ELSE 0 END)
FROM (
  SELECT c.id, c.expected_cents AS expected, sum(cp.paid_cents) AS paid
  FROM expected_claim c
  JOIN x12_claim_payment cp ON cp.claim_id = c.claim_id
  GROUP BY c.id, c.expected_cents
) per_claim
"""


def dataset(claims: int) -> Path:
    """The generated practice (once per size)."""
    folder = OUT / f"practice-{claims}-seed{SEED}"
    if (folder / "done").exists():
        return folder
    print(f"generating a {claims:,}-claim practice into {folder} …", flush=True)
    started = time.perf_counter()
    build_dataset(folder=folder, claims=claims, seed=SEED, first=FIRST, last=LAST)
    (folder / "done").write_text("ok")
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
    return folder


def _cli(url: str, config: Path, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "reconcile", "-q", "--config", str(config),
        "--database-url", url, *args,
    ]  # fmt: skip


def _content(conn: Connection) -> dict[str, Any]:
    """A cheap fingerprint of the derived tables' content (no bookkeeping)."""
    e, m, f, r = ReconException, ReconMatch, Refund, Recoupment
    return {
        "matches": tuple(
            conn.execute(
                select(func.count(), func.sum(m.left_id), func.sum(m.right_id))
            ).one()
        ),
        "exceptions": tuple(
            conn.execute(
                select(
                    func.count(),
                    func.sum(e.amount_cents),
                    func.count(func.distinct(e.fingerprint)),
                    func.sum(e.reopened_count),
                ).where(e.status == "open")
            ).one()
        ),
        "refunds": tuple(
            conn.execute(select(func.count(), func.sum(f.amount_cents))).one()
        ),
        "recoupments": tuple(
            conn.execute(select(func.count(), func.sum(r.amount_cents))).one()
        ),
    }


def _run_record(url: str, run_id: int) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT counts, timings FROM recon_run WHERE id = :id"),
                {"id": run_id},
            ).one()
    finally:
        engine.dispose()
    counts, timings = row
    if isinstance(counts, str):
        counts, timings = json.loads(counts), json.loads(timings)
    return {"counts": counts, "timings": timings}


def _baseline(url: str) -> tuple[float, tuple[int, ...]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            started = time.perf_counter()
            result = tuple(int(v or 0) for v in conn.execute(text(BASELINE_SQL)).one())
            return time.perf_counter() - started, result
    finally:
        engine.dispose()


def bench(name: str, url: str, folder: Path, env: dict[str, str]) -> dict[str, Any]:
    """Import, run, re-run and the baseline on one database."""
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    config = folder / "reconcile.toml"
    imports: list[Measure] = []
    for kind, paths in (
        ("claims", ["claims.csv"]),
        ("era", ["remittances"]),
        ("deposits", ["deposits.bai2", "deposits-checks.csv"]),
        ("patient-payments", ["patient-payments.csv"]),
        ("ledger", ["ledger.csv"]),
    ):
        command = _cli(url, config, "import", kind, *(str(folder / p) for p in paths))
        imports.append(measure(f"{name} import {kind}", command, env=env))
        print(f"  {imports[-1].label}: {imports[-1].seconds:.1f} s", flush=True)
    window = ("--from", FIRST.isoformat(), "--to", LAST.isoformat(), "--json")
    first = measure(f"{name} run", _cli(url, config, "run", *window), env=env)
    print(f"  run: {first.seconds:.1f} s", flush=True)
    engine = make_engine(url)
    with engine.connect() as conn:
        before = _content(conn)
    engine.dispose()
    again = measure(f"{name} re-run", _cli(url, config, "run", *window), env=env)
    print(f"  re-run: {again.seconds:.1f} s", flush=True)
    engine = make_engine(url)
    with engine.connect() as conn:
        after = _content(conn)
    engine.dispose()
    baseline_seconds, baseline_counts = _baseline(url)
    first_record, again_record = _run_record(url, 1), _run_record(url, 2)
    return {
        "imports": imports,
        "run": first,
        "rerun": again,
        "run_record": first_record,
        "rerun_record": again_record,
        "unchanged": before == after,
        "baseline": baseline_seconds,
        "baseline_counts": baseline_counts,
    }


def _in_process(timings: dict[str, float]) -> float:
    return sum(v for k, v in timings.items() if k != "report")


def _changed(record: dict[str, Any]) -> int:
    counts = record["counts"]
    changed = sum(v for v in counts["exceptions"].values())
    changed += sum(r["matched"] for r in counts["rules"].values())
    for queue in ("refunds", "recoupments"):
        changed += sum(counts.get(queue, {}).values())
    return changed


def report(name: str, claims: int, result: dict[str, Any]) -> None:
    """Print one database's figures next to the baseline and targets."""
    run = result["run"]
    timings = result["run_record"]["timings"]
    again = result["rerun_record"]["timings"]
    work = _in_process(timings)
    work_again = _in_process(again)
    imported = sum(m.seconds for m in result["imports"])
    import_rss = max(m.peak_rss_mb for m in result["imports"])
    print(f"\n== {name}: {claims:,} claims ==")
    print(
        f"  import (5 commands)          {imported:8.1f} s"
        f"   peak RSS {import_rss:6.0f} MB"
    )
    for m in result["imports"]:
        print(f"    {m.label:<34}{m.seconds:8.1f} s   CPU {m.cpu_seconds:7.1f} s")
    print(
        f"  run, whole process           {run.seconds:8.1f} s"
        f"   CPU {run.cpu_seconds:.1f} s"
        f"   peak RSS {run.peak_rss_mb:6.0f} MB"
    )
    print(
        f"  run, without the workbook    {work:8.1f} s   (target ≤ 45 s: "
        f"{'met' if work <= 45 else 'NOT met'});"
        f" workbook {timings.get('report', 0):.1f} s"
    )
    # In pipeline order: PostgreSQL's jsonb gives the keys back sorted.
    order = [s for s in STAGES if s in timings] + sorted(set(timings) - set(STAGES))
    for stage in order:
        print(f"    {stage:<28}{timings[stage]:8.2f} s")
    rules = result["run_record"]["counts"]["rules"]
    for rule_id, figures in rules.items():
        print(f"    rule {rule_id:<26}{figures['matched']:>10,} matched")
    ratio = work_again / work if work else float("nan")
    print(
        f"  unchanged re-run             {work_again:8.1f} s"
        f"   ({ratio:.2f} × the first; "
        f"target ≤ 1.5: {'met' if ratio <= 1.5 else 'NOT met'})"
    )
    changed = _changed(result["rerun_record"])
    print(
        f"  derived rows changed by the re-run: {changed} "
        f"(content fingerprint {'unchanged' if result['unchanged'] else 'CHANGED'})"
    )
    base = result["baseline"]
    print(
        f"  baseline (join + aggregate + classify, raw SQL) {base:6.2f} s;"
        f" the pipeline's work is {work / base:.1f} × that"
    )
    rss_verdict = "met" if run.peak_rss_mb <= 1024 else "NOT met"
    print(f"  peak RSS target ≤ 1024 MB: {rss_verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgresql"],
        choices=["sqlite", "postgresql"],
    )  # fmt: skip
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "RECONCILE_BENCH_PG_URL",
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        ),
    )
    args = parser.parse_args()
    folder = dataset(args.claims)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RECONCILE_CONFIG", None)
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    for name in args.databases:
        print(f"\n{name}:", flush=True)
        manager = (
            sqlite_database() if name == "sqlite" else postgres_database(args.pg_url)
        )
        with manager as url:
            result = bench(name, url, folder, env)
        report(name, args.claims, result)
    print(f"\nload average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
