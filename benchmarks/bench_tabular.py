"""Benchmark: import a 1M-row claims CSV on SQLite and PostgreSQL.

Run from the repository root (see benchmarks/README.md):

    python benchmarks/bench_tabular.py [--rows 1000000] [--databases sqlite,postgresql]
                                       [--repeat 1] [--pg-url URL]

Each figure is measured in a subprocess of its own: wall seconds, CPU seconds of
that process, and its peak resident memory, all from ``os.wait4`` (that child
alone). Next to ``reconcile import claims`` (through the CLI, into a database at the
newest schema, as a user runs it) the same run measures the raw baselines the issue
names: the same rows through ``sqlite3.executemany`` into a plain table, and the
same file through PostgreSQL ``COPY … FROM STDIN``.

With ``--repeat N`` each measure runs N times on fresh databases and the fastest is
shown (the usual way to see through other load on the machine); the load average
at the start and end is printed too.

The CSV is generated once into ``benchmarks/out/`` (git-ignored) and reused. Scratch
databases (a SQLite folder under ``benchmarks/out/``, a PostgreSQL database on the
server) are created for the run and removed afterwards.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconcile.demo import practice_data  # noqa: E402 (after the path set-up)
from reconcile.demo.tabular_writer import write_csv  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET_SECONDS = 15.0
TARGET_RSS_MB = 300.0
SEED = 1

RAW_COLUMNS = (
    "claim_id", "payer_id", "payer_name", "patient_account", "provider_npi",
    "service_date", "billed_amount", "expected_amount", "expected_patient_amount",
    "submitted_on",
)  # fmt: skip


@dataclass(frozen=True)
class Measure:
    """One subprocess: what it did, how long, how much memory at its peak."""

    label: str
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    output: str


def measure(label: str, command: list[str], *, env: dict[str, str]) -> Measure:
    """Run ``command``; return its wall time, CPU time and its own peak RSS."""
    with tempfile.TemporaryFile() as captured:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=captured, stderr=subprocess.STDOUT
        )
        # wait4 reports this child's own resource use (ru_maxrss in KiB on Linux).
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        captured.seek(0)
        output = captured.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label} failed:\n{output}")
    cpu = usage.ru_utime + usage.ru_stime
    return Measure(label, seconds, cpu, usage.ru_maxrss / 1024, output)


def claims_csv(rows: int) -> Path:
    """The benchmark's claims CSV (generated once per row count)."""
    path = OUT / f"claims-{rows}-seed{SEED}.csv"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    print(f"generating {rows:,} claims into {path.relative_to(ROOT)} …", flush=True)
    claims = practice_data.claims(count=rows, seed=SEED, first_day=dt.date(2024, 1, 1))
    write_csv(path=partial, source="claims", rows=claims)
    partial.rename(path)
    return path


# --------------------------------------------------------------- raw baselines


def raw_sqlite(csv_path: Path, db_path: Path) -> None:
    """Baseline: csv.reader rows as they are, executemany into a plain table."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"CREATE TABLE raw_claims ({', '.join(RAW_COLUMNS)})")
    marks = ", ".join("?" for _ in RAW_COLUMNS)
    with csv_path.open(newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO raw_claims VALUES ({marks})", reader)
        conn.execute("COMMIT")
    conn.close()


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def raw_postgres(csv_path: Path, url: str) -> None:
    """Baseline: the file streamed through COPY … FROM STDIN (CSV) into a table."""
    with psycopg.connect(_libpq(url)) as conn:
        columns = ", ".join(f"{name} text" for name in RAW_COLUMNS)
        conn.execute(f"CREATE TABLE raw_claims ({columns})")
        copy_sql = "COPY raw_claims FROM STDIN (FORMAT csv, HEADER true)"
        with (
            conn.cursor() as cursor,
            cursor.copy(copy_sql) as copy,
            csv_path.open("rb") as handle,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)


# --------------------------------------------------------------------- runs


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A scratch SQLite URL in a folder removed afterwards."""
    folder = OUT / f"sqlite-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    try:
        yield f"sqlite:///{folder / 'bench.db'}"
    finally:
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()


@contextmanager
def postgres_database(server: str) -> Iterator[str]:
    """A scratch PostgreSQL database on ``server``, dropped afterwards."""
    name = f"reconcile_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(server).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(server), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _reconcile(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "reconcile", "--database-url", url, "-q", *args]


def _import(url: str, csv_path: Path, env: dict[str, str], label: str) -> Measure:
    subprocess.run(
        _reconcile(url, "db", "upgrade"),
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    result = measure(
        label, _reconcile(url, "import", "claims", str(csv_path), "--json"), env=env
    )
    outcome = json.loads(result.output[result.output.index("[") :])[0]
    if outcome["status"] != "loaded":
        raise SystemExit(f"the import did not load: {outcome}")
    return result


def _raw(name: str, url: str, csv_path: Path, env: dict[str, str]) -> Measure:
    label = (
        f"{name}: raw sqlite3.executemany"
        if name == "sqlite"
        else f"{name}: raw COPY FROM STDIN"
    )
    target = url.removeprefix("sqlite:///") + ".raw" if name == "sqlite" else url
    command = [
        sys.executable, __file__, "--raw", name, "--csv", str(csv_path), "--url", target
    ]  # fmt: skip
    return measure(label, command, env=env)


def fastest(runs: int, run: Callable[[], Measure]) -> Measure:
    """The fastest of ``runs`` runs."""
    return min((run() for _ in range(runs)), key=lambda m: m.seconds)


def run_database(
    name: str, *, csv_path: Path, env: dict[str, str], repeat: int, pg_url: str
) -> list[Measure]:
    """Measure the import and the raw baseline on one database kind."""
    scratch = sqlite_database if name == "sqlite" else lambda: postgres_database(pg_url)

    def one_import() -> Measure:
        with scratch() as url:
            return _import(url, csv_path, env, f"{name}: reconcile import claims")

    def one_raw() -> Measure:
        with scratch() as url:
            return _raw(name, url, csv_path, env)

    return [fastest(repeat, one_import), fastest(repeat, one_raw)]


def report(rows: int, csv_path: Path, results: list[Measure], load: str) -> None:
    """Print the figures next to their baselines and the targets."""
    size = csv_path.stat().st_size / 1e6
    print(f"\n{rows:,} claims, {size:.0f} MB CSV; load average {load}")
    print(f"{'measure':40} {'wall s':>7} {'CPU s':>6} {'peak RSS MB':>12}")
    for m in results:
        print(
            f"{m.label:40} {m.seconds:7.1f} {m.cpu_seconds:6.1f} {m.peak_rss_mb:12.0f}"
        )
    print(
        f"targets for the imports: ≤ {TARGET_SECONDS:.0f} s, ≤ {TARGET_RSS_MB:.0f} MB"
    )
    for m in results:
        if "reconcile import" in m.label:
            met = m.seconds <= TARGET_SECONDS and m.peak_rss_mb <= TARGET_RSS_MB
            print(f"  {m.label}: {'met' if met else 'NOT met'}")


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    """Parse the arguments and run the benchmark (or one raw baseline)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("RECONCILE_BENCH_PG_URL", DEFAULT_PG),
        help="a PostgreSQL server URL whose user may create databases",
    )
    parser.add_argument("--raw", choices=["sqlite", "postgresql"], help="internal")
    parser.add_argument("--csv", type=Path, help="internal")
    parser.add_argument("--url", help="internal")
    args = parser.parse_args()
    if args.raw == "sqlite":
        raw_sqlite(args.csv, Path(args.url))
        return
    if args.raw == "postgresql":
        raw_postgres(args.csv, args.url)
        return

    csv_path = claims_csv(args.rows)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RECONCILE_CONFIG", None)
    env.pop("RECONCILE_DATABASE_URL", None)
    load_before = _load()
    results: list[Measure] = []
    for name in args.databases.split(","):
        if name not in ("sqlite", "postgresql"):
            raise SystemExit(f"unknown database {name!r}: use sqlite and/or postgresql")
        results += run_database(
            name, csv_path=csv_path, env=env, repeat=args.repeat, pg_url=args.pg_url
        )
    report(args.rows, csv_path, results, f"{load_before} → {_load()}")


if __name__ == "__main__":
    main()
