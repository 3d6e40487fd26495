"""The ``reconcile`` command line.

Every library error a user can cause is a :class:`~reconcile.errors.ReconcileError`;
this module turns it into one sentence on stderr and the exit code DESIGN.md gives
(0 done, 1 input rejected / decision refused / lock held, 2 usage, configuration or
database problems). ``--json`` output is one document on stdout; logs and progress go
to stderr. This module and ``jobs/`` are the only places that read the clock.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.status import Status
from sqlalchemy import Engine, exc

import jobs
from reconcile import __version__, pipeline, report, views
from reconcile.categories import (
    ExceptionKind,
    ExceptionStatus,
    RecoupmentStatus,
    RefundStatus,
    RunTrigger,
    SourceKind,
)
from reconcile.clock import Clock, SystemClock, local_date
from reconcile.db.engine import (
    DatabaseUnavailableError,
    check_connection,
    describe_connect_error,
    make_engine,
    redact,
)
from reconcile.db.schema import ensure_schema, upgrade
from reconcile.demo.dataset import MIN_CLAIMS, describe
from reconcile.demo.tour import (
    DEFAULT_CLAIMS,
    DEFAULT_SEED,
    DEFAULT_TODAY,
    run_demo,
    today_help,
)
from reconcile.errors import ReconcileError
from reconcile.ingest import FileOutcome, ImportStatus
from reconcile.ingest.api import import_paths
from reconcile.kinds import KINDS
from reconcile.logs import configure_logging
from reconcile.money import AmountFormatError, parse_amount
from reconcile.periods import DateFormatError, RunWindow, parse_iso_date
from reconcile.queues import (
    recoupment_action,
    refund_action,
    suspend_refund,
    verify_chain,
)
from reconcile.queues.notices import add_notice
from reconcile.settings import Settings, load_settings

log = logging.getLogger("reconcile.cli")


@dataclass
class App:
    """What every command needs, built lazily so ``--help`` needs no database."""

    config_path: str | None
    database_url: str | None
    clock: Clock = field(default_factory=SystemClock)
    _settings: Settings | None = None
    _engine: Engine | None = None

    @property
    def settings(self) -> Settings:
        """The validated configuration."""
        if self._settings is None:
            self._settings = load_settings(
                config_path=self.config_path, database_url=self.database_url
            )
        return self._settings

    def engine(self, *, ensure: bool = True) -> Engine:
        """Connect to the database; with ``ensure``, create or check its schema."""
        if self._engine is None:
            engine = make_engine(self.settings.database.url)
            check_connection(engine)
            self._engine = engine
        if ensure:
            ensure_schema(self._engine)
        return self._engine

    def close(self) -> None:
        """Release database connections."""
        if self._engine is not None:
            self._engine.dispose()


def _sentence(message: str) -> str:
    message = message.strip()
    return message if message.endswith((".", "!", "?")) else message + "."


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one sentence on stderr and exit with ``code``."""
    click.echo(f"Error: {_sentence(message)}", err=True)
    sys.exit(code)


def echo_json(document: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(json.dumps(document, indent=2, default=str))


class _Group(click.Group):
    """A group that turns user-caused errors into one sentence and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReconcileError as error:
            click.echo(f"Error: {_sentence(str(error))}", err=True)
            ctx.exit(error.exit_code)
        except exc.OperationalError as error:
            if "database is locked" in str(error.orig):
                click.echo(
                    "Error: the database is busy (a run or an import is writing "
                    "to it); try again when it has finished.",
                    err=True,
                )
                ctx.exit(1)
            app = ctx.find_object(App)
            if app is None or app._engine is None or not _is_connection_error(error):
                raise
            message = describe_connect_error(app._engine, error)
            click.echo(f"Error: {_sentence(message)}", err=True)
            ctx.exit(DatabaseUnavailableError.exit_code)


def _is_connection_error(error: exc.OperationalError) -> bool:
    text = str(error.orig).lower()
    return error.connection_invalidated or any(
        phrase in text
        for phrase in (
            "connection",
            "could not connect",
            "server closed",
            "unable to open database",
            "terminating",
        )
    )


pass_app = click.make_pass_decorator(App)


def command_help(example: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Append an ``Example:`` section to a command's help text."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        doc = inspect.cleandoc(function.__doc__ or "")
        function.__doc__ = f"{doc}\n\n\b\nExample:\n  {example}\n"
        return function

    return decorate


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="reconcile")
@click.option(
    "--database-url",
    metavar="URL",
    help="Database (default: RECONCILE_DATABASE_URL, the config, sqlite:///reconcile.db).",
)
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    help="Configuration file (default: RECONCILE_CONFIG, ./config/reconcile.toml).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debugging detail.")
@click.option("-q", "--quiet", is_flag=True, help="Log only warnings and errors.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default=None,
    help="Log lines as text or as JSON objects (default: the config's [logging]).",
)
@click.pass_context
@command_help("reconcile --database-url sqlite:///practice.db db upgrade")
def main(
    ctx: click.Context,
    *,
    database_url: str | None,
    config_path: str | None,
    verbose: bool,
    quiet: bool,
    log_format: str | None,
) -> None:
    """Reconcile expected claims, 835 remittances, deposits and the ledger.

    Every night (or for any date range) reconcile finds where the practice's money
    went wrong and writes an Excel exception workbook for accounting.
    """
    app = App(config_path=config_path, database_url=database_url)
    ctx.obj = app
    ctx.call_on_close(app.close)
    try:
        logging_settings = app.settings.logging
    except ReconcileError:
        # Report the configuration problem from the command that needs it.
        logging_settings = None
    level = "debug" if verbose else "warning" if quiet else None
    configure_logging(
        level=level or (logging_settings.level if logging_settings else "info"),
        json_lines=(
            log_format or (logging_settings.format if logging_settings else "text")
        )
        == "json",
    )


@main.group(cls=_Group)
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@command_help("reconcile --database-url postgresql+psycopg://recon@db/recon db upgrade")
@pass_app
def db_upgrade(app: App) -> None:
    """Create the schema, or migrate it to this version of reconcile."""
    engine = app.engine(ensure=False)
    before, after = upgrade(engine)
    where = redact(engine.url)
    if before == after:
        click.echo(f"{where} is already at schema revision {after}.")
    elif before is None:
        click.echo(f"Created the schema in {where} at revision {after}.")
    else:
        click.echo(f"Migrated {where} from revision {before} to {after}.")


# --------------------------------------------------------------------------- import


@main.group("import", cls=_Group)
def import_group() -> None:
    """Load files: 835 remittances, claims, deposits, patient payments, ledger.

    Each file loads whole or not at all. A file already imported is skipped (exit 0);
    a rejected file is listed with every problem and its place (exit 1) while the
    other files still load.
    """


def report_outcomes(outcomes: list[FileOutcome], *, as_json: bool) -> None:
    """Print per-file outcomes (text or the JSON list); exit 1 if any was rejected."""
    if as_json:
        echo_json([outcome.to_json() for outcome in outcomes])
    else:
        width = max((len(o.status.value) for o in outcomes), default=0) + 2
        for outcome in outcomes:
            label = outcome.status.value.replace("_", " ")
            counts = ", ".join(f"{t} {n}" for t, n in outcome.counts.items())
            extra = "; ".join(
                part
                for part in (
                    counts,
                    f"{outcome.skipped} skipped" if outcome.skipped else "",
                )
                if part
            )
            click.echo(
                f"{label:<{width}}{outcome.file}" + (f"  ({extra})" if extra else "")
            )
            for problem in outcome.reason[:_SHOWN_PROBLEMS]:
                click.echo(f"  {problem.located(outcome.file)}")
            hidden = len(outcome.reason) - _SHOWN_PROBLEMS
            if hidden > 0:
                click.echo(f"  … and {hidden} more (--json lists them all)")
            for warning in outcome.warnings:
                click.echo(f"  {warning.located(outcome.file, label='warning')}")
    if any(o.status is ImportStatus.REJECTED for o in outcomes):
        sys.exit(1)


_SHOWN_PROBLEMS = 20


def _tabular_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The arguments every practice-data import takes."""
    decorators = (
        click.argument(
            "paths", nargs=-1, required=True, type=click.Path(path_type=Path)
        ),
        click.option(
            "--sheet",
            metavar="NAME",
            help="Worksheet to read in XLSX workbooks (default: the first).",
        ),
        click.option(
            "--check",
            "check_only",
            is_flag=True,
            help="Validate the files without loading anything (no database needed).",
        ),
        click.option(
            "--json", "as_json", is_flag=True, help="Print the outcomes as JSON."
        ),
    )
    for decorate in reversed(decorators):
        function = decorate(function)
    return function


def _import_practice(
    app: App,
    *,
    kind: SourceKind,
    paths: tuple[Path, ...],
    sheet: str | None,
    check_only: bool,
    as_json: bool,
) -> None:
    # --check writes nothing, so the database is neither opened nor created.
    outcomes = import_paths(
        None if check_only else app.engine(),
        kind=kind,
        paths=list(paths),
        settings=app.settings,
        clock=app.clock,
        sheet=sheet,
        check_only=check_only,
    )
    report_outcomes(outcomes, as_json=as_json)


@import_group.command("claims")
@_tabular_options
@command_help("reconcile import claims exports/claims-2024-03.csv --json")
@pass_app
def import_claims(
    app: App,
    *,
    paths: tuple[Path, ...],
    sheet: str | None,
    check_only: bool,
    as_json: bool,
) -> None:
    """Load the practice's claims export: what each payer is expected to pay.

    CSV (any delimiter, UTF-8 or Windows-1252) or XLSX; headers and formats follow
    [sources.claims] in the configuration. A claim already known with other values
    becomes a new version (its history is kept); unchanged claims are skipped.
    """
    _import_practice(
        app, kind=SourceKind.CLAIMS, paths=paths, sheet=sheet,
        check_only=check_only, as_json=as_json,
    )  # fmt: skip


@import_group.command("deposits")
@_tabular_options
@command_help("reconcile import deposits bank/prior-day-20240301.bai")
@pass_app
def import_deposits(
    app: App,
    *,
    paths: tuple[Path, ...],
    sheet: str | None,
    check_only: bool,
    as_json: bool,
) -> None:
    """Load bank deposits: a BAI2 file from the bank, or a CSV/XLSX export.

    BAI2 is recognised by its content: its credit details become deposits, with
    the EFT trace (TRN) of CCD+ addenda for matching 835 payments. Deposits already
    known by their id are skipped.
    """
    _import_practice(
        app, kind=SourceKind.DEPOSITS, paths=paths, sheet=sheet,
        check_only=check_only, as_json=as_json,
    )  # fmt: skip


@import_group.command("patient-payments")
@_tabular_options
@command_help("reconcile import patient-payments payments.xlsx --sheet Payments")
@pass_app
def import_patient_payments(
    app: App,
    *,
    paths: tuple[Path, ...],
    sheet: str | None,
    check_only: bool,
    as_json: bool,
) -> None:
    """Load patient payments (CSV or XLSX); payments already known are skipped."""
    _import_practice(
        app, kind=SourceKind.PATIENT_PAYMENTS, paths=paths, sheet=sheet,
        check_only=check_only, as_json=as_json,
    )  # fmt: skip


@import_group.command("ledger")
@_tabular_options
@command_help(
    "reconcile --config config/examples/advancedmd.toml import ledger ledger.csv"
)
@pass_app
def import_ledger(
    app: App,
    *,
    paths: tuple[Path, ...],
    sheet: str | None,
    check_only: bool,
    as_json: bool,
) -> None:
    """Load ledger postings from the practice-management system (CSV or XLSX).

    Amounts are signed as in the ledger (money out negative); postings already
    known by their id are skipped.
    """
    _import_practice(
        app, kind=SourceKind.LEDGER, paths=paths, sheet=sheet,
        check_only=check_only, as_json=as_json,
    )  # fmt: skip


@import_group.command("era")
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="PATH..."
)
@click.option(
    "--check", "check_only", is_flag=True,
    help="Validate and report what would load, without touching the database.",
)  # fmt: skip
@click.option(
    "--allow-unbalanced", is_flag=True,
    help="Load files whose only faults are the 835 balancing equations, marking "
    "them (every run covering them reports unbalanced_remittance).",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the outcomes as JSON.")
@command_help("reconcile import era inbox/835/ --json")
@pass_app
def import_era(
    app: App,
    *,
    paths: tuple[Path, ...],
    check_only: bool,
    allow_unbalanced: bool,
    as_json: bool,
) -> None:
    """Load X12 835 remittance files (005010X221A1), or the 835s in folders.

    In a folder, files named *.835 or *.era and files whose content is an 835 (ISA,
    then GS*HP or ST*835) are read; acknowledgements (999/997), notes and other
    files are skipped, and a folder without any 835 is an error (exit 1).
    Each file loads whole or not at all, in one transaction. A file already imported
    is reported and skipped; a payment (ST…SE) already loaded from another file is
    skipped and counted, and the rest of its file loads. A rejected file is listed
    with every problem (segment number, segment id, reason) and exits 1.
    """
    # --check writes nothing, so the database is neither opened nor created.
    outcomes = import_paths(
        None if check_only else app.engine(),
        kind=SourceKind.ERA,
        paths=list(paths),
        settings=app.settings,
        clock=app.clock,
        check_only=check_only,
        allow_unbalanced=allow_unbalanced,
    )
    report_outcomes(outcomes, as_json=as_json)


# --------------------------------------------------------------------------- runs


def iso_date(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> dt.date | None:
    """Click callback: parse a YYYY-MM-DD option (a bad date is a usage error)."""
    if value is None:
        return None
    try:
        return parse_iso_date(value)
    except DateFormatError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


class _StageProgress:
    """Shows the running stage on stderr (a spinner on a terminal, log lines else)."""

    def __init__(self) -> None:
        self.console = Console(stderr=True)
        self.status: Status | None = None

    def __call__(self, stage: str) -> None:
        if not self.console.is_terminal:
            log.debug("stage %s", stage)
            return
        if self.status is None:
            self.status = self.console.status(f"reconciling: {stage}")
            self.status.start()
        else:
            self.status.update(f"reconciling: {stage}")

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()


def print_summary(summary: dict[str, Any]) -> None:
    """The run summary as a readable table on stdout."""
    window = summary["window"]
    click.echo(
        f"Run {summary['run_id']} {summary['status']}: {window['from']} to "
        f"{window['to']} (as of {summary['as_of']})"
    )
    exceptions = summary.get("exceptions") or {}
    if exceptions:
        rows = [
            (
                f"{KINDS[ExceptionKind(kind)].title} ({kind})",
                str(figures["count"]),
                f"{Decimal(figures['amount']):,.2f}",
            )
            for kind, figures in exceptions.items()
        ]
        heading = ("Open exceptions", "count", "amount")
        # Each column as wide as its longest cell, two spaces apart.
        label_width, count_width, amount_width = (
            max(len(cells[i]) for cells in (heading, *rows)) for i in range(3)
        )
        click.echo("")
        for label, count, amount in (heading, *rows):
            click.echo(
                f"  {label:<{label_width}}  {count:>{count_width}}"
                f"  {amount:>{amount_width}}"
            )
    else:
        click.echo("  No open exceptions.")
    for queue in ("refunds", "recoupments"):
        figures = summary.get(queue)
        if figures:
            amount = f"{Decimal(figures['amount']):,.2f}"
            click.echo(
                f"  {queue.capitalize()}: {figures['created']} new, "
                f"{figures['open']} open, {amount} open amount"
            )
    pending = {k: v for k, v in (summary.get("pending") or {}).items() if v}
    if pending:
        parts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in pending.items())
        click.echo(f"  Still in their grace period: {parts}")
    if summary.get("report"):
        click.echo(f"  Workbook: {summary['report']}")


@main.command("run")
@click.option(
    "--from",
    "first",
    metavar="DATE",
    required=True,
    callback=iso_date,
    help="First day (YYYY-MM-DD).",
)
@click.option(
    "--to",
    "last",
    metavar="DATE",
    required=True,
    callback=iso_date,
    help="Last day (YYYY-MM-DD); the run's as-of date.",
)
@click.option(
    "--report",
    "report_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the workbook here (default: the config's [reports] folder/file_name).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON summary.")
@command_help("reconcile run --from 2024-03-01 --to 2024-03-31 --report march.xlsx")
@pass_app
def run_command(
    app: App,
    *,
    first: dt.date,
    last: dt.date,
    report_file: Path | None,
    as_json: bool,
) -> None:
    """Reconcile an inclusive range of days (re-running a range is safe).

    The run sees everything dated on or before the last day, which is its as-of date;
    re-running a range on unchanged data changes nothing. Every run writes the Excel
    exception workbook. Exit 0 when the run completed, whatever it found; 1 when
    another run holds the lock or the workbook cannot be written (the run's results
    are kept; the run is recorded as failed).
    """
    window = RunWindow(first, last)
    progress = _StageProgress()
    try:
        result = pipeline.run(
            engine=app.engine(),
            settings=app.settings,
            window=window,
            clock=app.clock,
            trigger=RunTrigger.MANUAL,
            progress=progress,
            report_path=report_file,
        )
    finally:
        progress.stop()
    if as_json:
        echo_json(result.summary)
    else:
        print_summary(result.summary)


@main.group(cls=_Group)
def runs() -> None:
    """Run history."""


@runs.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@command_help("reconcile runs list --limit 5")
@pass_app
def runs_list(app: App, *, limit: int, as_json: bool) -> None:
    """List recent runs, newest first."""
    with app.engine().connect() as conn:
        rows = views.list_runs(conn, limit=limit)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No runs yet.")
        return
    click.echo(
        f"{'run':>5}  {'status':<10} {'trigger':<8} {'from':<10}  {'to (as of)':<10}  "
        f"{'started':<19}  workbook"
    )
    for row in rows:
        click.echo(
            f"{row['id']:>5}  {row['status']:<10} {row['trigger']:<8} "
            f"{row['window']['from']}  {row['window']['to']:<10}  "
            f"{row['started_at'][:19]}  {row['report'] or ''}".rstrip()
        )


@runs.command("show")
@click.argument("run_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@command_help("reconcile runs show 12 --json")
@pass_app
def runs_show(app: App, *, run_id: int, as_json: bool) -> None:
    """Show one run: window, status, counts per rule and kind, timings."""
    with app.engine().connect() as conn:
        row = views.get_run(conn, run_id)
    if as_json:
        echo_json(row)
        return
    if row["summary"]:
        print_summary({**row["summary"], "status": row["status"]})
    else:
        click.echo(
            f"Run {row['id']} {row['status']}: {row['window']['from']} to "
            f"{row['window']['to']} (as of {row['as_of']})"
        )
    click.echo(
        f"  Trigger: {row['trigger']}; started {row['started_at']}"
        + (f", finished {row['finished_at']}" if row["finished_at"] else "")
        + f" on {row['host']} (pid {row['pid']})"
    )
    click.echo(f"  Configuration hash: {row['config_hash']}")
    if row["report"] and not (row["summary"] or {}).get("report"):
        click.echo(f"  Workbook: {row['report']}")
    if row["error"]:
        click.echo(f"  Error: {row['error']}")
    found = {k: v for k, v in ((row["counts"] or {}).get("found") or {}).items() if v}
    if found:
        click.echo("  Found per kind (this run):")
        for kind, count in found.items():
            click.echo(f"    {kind:<28} {count:>9}")
    rules = (row["counts"] or {}).get("rules", {})
    if rules:
        click.echo("  Matches per rule:")
        for rule_id, figures in rules.items():
            click.echo(
                f"    {rule_id:<28} {figures['matched']:>9} new"
                + (
                    f", {figures['ambiguous']} ambiguous"
                    if figures["ambiguous"]
                    else ""
                )
            )
    if row["timings"]:
        stages = ", ".join(f"{k} {v:.2f}s" for k, v in row["timings"].items())
        click.echo(f"  Timings: {stages}")


# --------------------------------------------------------------------------- exceptions


@main.group(cls=_Group)
def exceptions() -> None:
    """Exceptions found by runs."""


@exceptions.command("list")
@click.option(
    "--run", "run_id", type=int, help="Items open as of this run's as-of date."
)
@click.option("--kind", type=click.Choice([str(k) for k in ExceptionKind]))
@click.option("--status", type=click.Choice([str(s) for s in ExceptionStatus]))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@command_help("reconcile exceptions list --kind underpaid --json")
@pass_app
def exceptions_list(
    app: App, *, run_id: int | None, kind: str | None, status: str | None, as_json: bool
) -> None:
    """List exceptions (default: every open one), with their amounts and ages."""
    with app.engine().connect() as conn:
        as_of = views.latest_as_of(conn) or local_date(
            app.clock.now(), app.settings.practice.time_zone
        )
        rows = views.list_exceptions(
            conn, as_of=as_of, run_id=run_id, kind=kind, status=status
        )
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No exceptions match.")
        return
    click.echo(
        f"{'id':>7}  {'kind':<24} {'claim':<20} {'payer':<12} {'amount':>12} "
        f"{'age':>5}  status"
    )
    for row in rows:
        amount = f"{Decimal(row['amount']):,.2f}"
        age = "" if row["age_days"] is None else str(row["age_days"])
        click.echo(
            f"{row['id']:>7}  {row['kind']:<24} {row['claim_id'] or '':<20} "
            f"{row['payer_id'] or '':<12} {amount:>12} {age:>5}  {row['status']}"
        )


# --------------------------------------------------------------------------- queues


def _money_option(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> int | None:
    """Click callback: dollars (12.34) as cents; a bad amount is a usage error."""
    if value is None:
        return None
    try:
        return parse_amount(value)
    except AmountFormatError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


def _write(app: App) -> Any:
    """A write transaction that holds SQLite's write lock from the start."""
    return app.engine().connect().execution_options(begin_immediate=True)


def _print_rows(
    rows: list[dict[str, Any]], columns: list[tuple[str, str, int]]
) -> None:
    click.echo("  ".join(f"{title:<{width}}" for title, _, width in columns).rstrip())
    for row in rows:
        cells = []
        for _, key, width in columns:
            value = row.get(key)
            text = "" if value is None else str(value)
            if key == "amount":
                text = f"{Decimal(text):,.2f}"
                cells.append(f"{text:>{width}}")
            else:
                cells.append(f"{text:<{width}}")
        click.echo("  ".join(cells).rstrip())


BY = click.option(
    "--by", "actor", required=True, help="Who decides (name or initials)."
)


@main.group(cls=_Group)
def refunds() -> None:
    """The refund queue: overpayments the practice owes back, by due date."""


@refunds.command("list")
@click.option("--status", type=click.Choice([str(s) for s in RefundStatus]))
@click.option(
    "--due-before", metavar="DATE", callback=iso_date, help="Only those due before."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@command_help("reconcile refunds list --due-before 2024-05-01 --json")
@pass_app
def refunds_list(
    app: App, *, status: str | None, due_before: dt.date | None, as_json: bool
) -> None:
    """List refunds (default: every open one), soonest due first."""
    with app.engine().connect() as conn:
        rows = views.list_refunds(conn, status=status, due_before=due_before)
    if as_json:
        echo_json(rows)
    elif not rows:
        click.echo("No refunds match.")
    else:
        _print_rows(
            rows,
            [("id", "id", 6), ("reason", "reason", 18), ("status", "status", 9),
             ("payee", "payee", 7), ("claim", "claim_id", 16),
             ("payer/account", "payer_id", 14), ("amount", "amount", 12),
             ("due", "due_on", 10)],
        )  # fmt: skip


def _refund(app: App, refund_id: int, action: str, actor: str, **kw: Any) -> None:
    with _write(app) as conn, conn.begin():
        status = refund_action(
            conn, refund_id=refund_id, action=action, actor=actor,
            at=app.clock.now(), **kw,
        )  # fmt: skip
    click.echo(f"Refund {refund_id} is now {status}.")


@refunds.command("approve")
@click.argument("refund_id", type=int)
@BY
@command_help("reconcile refunds approve 12 --by ann")
@pass_app
def refunds_approve(app: App, *, refund_id: int, actor: str) -> None:
    """Approve a queued refund."""
    _refund(app, refund_id, "approve", actor)


@refunds.command("issue")
@click.argument("refund_id", type=int)
@click.option("--reference", required=True, help="Check number or EFT trace.")
@BY
@command_help("reconcile refunds issue 12 --reference CHK-10442 --by ann")
@pass_app
def refunds_issue(app: App, *, refund_id: int, reference: str, actor: str) -> None:
    """Record that an approved refund was sent (check or EFT)."""
    _refund(app, refund_id, "issue", actor, reference=reference)


@refunds.command("close")
@click.argument("refund_id", type=int)
@BY
@command_help("reconcile refunds close 12 --by ann")
@pass_app
def refunds_close(app: App, *, refund_id: int, actor: str) -> None:
    """Close an issued refund (patient refunds, which no 835 acknowledges)."""
    _refund(app, refund_id, "close", actor)


@refunds.command("cancel")
@click.argument("refund_id", type=int)
@click.option("--reason", required=True, help="Why it is not refunded.")
@BY
@command_help('reconcile refunds cancel 12 --reason "payer corrected it" --by ann')
@pass_app
def refunds_cancel(app: App, *, refund_id: int, reason: str, actor: str) -> None:
    """Cancel a queued or approved refund."""
    _refund(app, refund_id, "cancel", actor, reason=reason)


@refunds.command("suspend")
@click.argument("refund_id", type=int)
@click.option("--until", metavar="DATE", required=True, callback=iso_date)
@click.option("--reason", required=True, help="The investigation under way.")
@BY
@command_help(
    'reconcile refunds suspend 12 --until 2024-09-01 --reason "audit" --by ann'
)
@pass_app
def refunds_suspend(
    app: App, *, refund_id: int, until: dt.date, reason: str, actor: str
) -> None:
    """Suspend a Medicare/Medicaid refund's 60 days for an investigation (≤180 days)."""
    with _write(app) as conn, conn.begin():
        due = suspend_refund(
            conn, refund_id=refund_id, until=until, reason=reason, actor=actor,
            at=app.clock.now(), settings=app.settings,
        )  # fmt: skip
    click.echo(f"Refund {refund_id} is suspended until {until}; now due on {due}.")


@main.group(cls=_Group)
def recoupments() -> None:
    """The recoupment queue: what payers take back, with deadlines and rights."""


@recoupments.command("list")
@click.option("--status", type=click.Choice([str(s) for s in RecoupmentStatus]))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@command_help("reconcile recoupments list --status offset --json")
@pass_app
def recoupments_list(app: App, *, status: str | None, as_json: bool) -> None:
    """List recoupments (default: every open one), soonest deadline first."""
    with app.engine().connect() as conn:
        rows = views.list_recoupments(conn, status=status)
    if as_json:
        echo_json(rows)
    elif not rows:
        click.echo("No recoupments match.")
    else:
        _print_rows(
            rows,
            [("id", "id", 6), ("status", "status", 9), ("claim", "claim_id", 16),
             ("payer", "payer_id", 10), ("amount", "amount", 12),
             ("respond by", "response_due_on", 10), ("look-back", "lookback", 10)],
        )  # fmt: skip


@recoupments.command("add")
@click.option("--payer", "payer_id", required=True, help="The practice's payer code.")
@click.option("--claim", "claim_id", help="The claim the notice names.")
@click.option("--amount", required=True, callback=_money_option, help="Dollars.")
@click.option(
    "--notice-date", "notice_on", metavar="DATE", required=True, callback=iso_date
)
@click.option("--reference", help="The letter's reference (FCN), as 835s will cite it.")
@BY
@command_help(
    "reconcile recoupments add --payer AETNA --claim C1001 --amount 120.00 "
    "--notice-date 2024-03-01 --reference FCN123 --by ann"
)
@pass_app
def recoupments_add(
    app: App,
    *,
    payer_id: str,
    claim_id: str | None,
    amount: int,
    notice_on: dt.date,
    reference: str | None,
    actor: str,
) -> None:
    """Record a payer's notice of intent to recoup (before money moves)."""
    with _write(app) as conn, conn.begin():
        new_id = add_notice(
            conn, settings=app.settings, payer_id=payer_id, claim_id=claim_id,
            amount_cents=amount, notice_on=notice_on, reference=reference,
            actor=actor, at=app.clock.now(),
        )  # fmt: skip
        row = views.list_recoupments(conn, status="noticed")
    due = next((r["response_due_on"] for r in row if r["id"] == new_id), None)
    click.echo(f"Recorded recoupment {new_id} (noticed); respond by {due}.")


def _recoupment(app: App, item: int, action: str, actor: str, **kw: Any) -> None:
    with _write(app) as conn, conn.begin():
        status = recoupment_action(
            conn, recoupment_id=item, action=action, actor=actor,
            at=app.clock.now(), **kw,
        )  # fmt: skip
    click.echo(f"Recoupment {item} is now {status}.")


@recoupments.command("dispute")
@click.argument("recoupment_id", type=int)
@click.option("--reason", required=True, help="Why the practice disputes it.")
@BY
@command_help('reconcile recoupments dispute 7 --reason "outside look-back" --by ann')
@pass_app
def recoupments_dispute(
    app: App, *, recoupment_id: int, reason: str, actor: str
) -> None:
    """Dispute a recoupment (appeal, redetermination)."""
    _recoupment(app, recoupment_id, "dispute", actor, reason=reason)


@recoupments.command("accept")
@click.argument("recoupment_id", type=int)
@BY
@command_help("reconcile recoupments accept 7 --by ann")
@pass_app
def recoupments_accept(app: App, *, recoupment_id: int, actor: str) -> None:
    """Accept a recoupment as right."""
    _recoupment(app, recoupment_id, "accept", actor)


@recoupments.command("repay")
@click.argument("recoupment_id", type=int)
@click.option("--reference", required=True, help="Check number sent to the payer.")
@BY
@command_help("reconcile recoupments repay 7 --reference CHK-2210 --by ann")
@pass_app
def recoupments_repay(
    app: App, *, recoupment_id: int, reference: str, actor: str
) -> None:
    """Record that the practice repaid by check instead of an offset."""
    _recoupment(app, recoupment_id, "repay", actor, reference=reference)


@recoupments.command("close")
@click.argument("recoupment_id", type=int)
@BY
@command_help("reconcile recoupments close 7 --by ann")
@pass_app
def recoupments_close(app: App, *, recoupment_id: int, actor: str) -> None:
    """Close a recoupment that needs nothing more."""
    _recoupment(app, recoupment_id, "close", actor)


@main.group(cls=_Group)
def audit() -> None:
    """The audit log of every change to exceptions, refunds and recoupments."""


@audit.command("verify")
@command_help("reconcile audit verify")
@pass_app
def audit_verify(app: App) -> None:
    """Check the audit log is complete and unaltered (exit 1 if not)."""
    with app.engine().connect() as conn:
        report = verify_chain(conn)
    if report.ok:
        click.echo(f"The audit log is intact: {report.events} events.")
        return
    click.echo(f"The audit log was altered ({report.events} events read):", err=True)
    for problem in report.problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)


# --------------------------------------------------------------------------- nightly


@main.command("nightly")
@click.option(
    "--today",
    metavar="DATE",
    callback=iso_date,
    help="The practice's today (default: the clock); days up to the day before run.",
)
@command_help("reconcile nightly --today 2024-03-06")
@pass_app
def nightly_command(app: App, *, today: dt.date | None) -> None:
    """Catch up once: one run per day after the last successful day, up to yesterday.

    This is what the scheduler runs at [schedule] time; use it from cron or a systemd
    timer instead of `reconcile scheduler`. With no run yet only yesterday runs; when
    more than [schedule] max_catch_up_days were missed, the most recent days run and
    the older ones are recorded as skipped. A failed day is retried ([schedule]
    retry_attempts, retry_delay_minutes apart). Exit 0 when every due day ran (or
    none was due); 1 when a day still failed, another run holds the lock, or SIGTERM
    stopped it.
    """
    engine, settings = app.engine(), app.settings
    with jobs.stop_on_signals():
        outcome = jobs.run_nightly(
            engine=engine,
            settings=settings,
            clock=app.clock,
            today=today,
            sleep=time.sleep,
        )
    if outcome.skipped:
        first, last = outcome.skipped
        most = settings.schedule.max_catch_up_days
        click.echo(
            f"Skipped {first} to {last}: more than {most} days were missed. To "
            f"reconcile them: reconcile run --from {first} --to {last}"
        )
    for done in outcome.runs:
        found = sum(f["count"] for f in (done.summary.get("exceptions") or {}).values())
        click.echo(
            f"Run {done.run_id} succeeded for {done.day}: {found} open exceptions."
        )
    if not outcome.runs:
        since = outcome.last_successful or "none yet"
        click.echo(f"Nothing to do: the last successful day is {since}.")


@main.command("scheduler")
@command_help("reconcile --log-format json scheduler")
@pass_app
def scheduler_command(app: App) -> None:
    """Run the nightly job every day at [schedule] time until SIGTERM or Ctrl-C.

    Each time it does what `reconcile nightly` does. Started after today's time
    (within [schedule] misfire_grace_minutes) it catches up at once. Another process
    holding the run lock is logged and left to the next day; a failed pass is retried.
    On SIGTERM or SIGINT a run in progress is rolled back (the next pass redoes its
    day) and the scheduler exits 0.
    """
    jobs.serve(engine=app.engine(), settings=app.settings, clock=app.clock)


def _dollars(amount: str) -> str:
    return f"{Decimal(amount):,.2f}"


def _print_status(report: dict[str, Any]) -> None:
    """The status document as labelled lines."""

    def line(label: str, text: str) -> None:
        click.echo(f"{label:<22}{text}")

    line("Last successful day", report["last_successful_day"] or "none yet")
    pending = report["pending"]
    if pending:
        days = f"{pending['from']} to {pending['to']} ({pending['days']} day(s))"
        if pending["will_skip"]:
            skip = pending["will_skip"]
            days += f"; will skip {skip['from']} to {skip['to']}"
        line("Not yet run", days)
    schedule = report["schedule"]
    zone = ZoneInfo(schedule["time_zone"])
    at = dt.datetime.fromisoformat(report["next_run"]).astimezone(zone)
    line(
        "Next scheduled run",
        f"{at:%Y-%m-%d %H:%M %Z} (daily at {schedule['time']} {schedule['time_zone']})",
    )
    for label, key in (("Run lock", "lock"), ("Nightly pass", "nightly_pass")):
        holder = report[key]
        if holder is None:
            line(label, "free")
            continue
        run = f"run {holder['run_id']} " if holder["run_id"] else ""
        gone = "" if holder["alive"] else " (that process is gone)"
        line(
            label,
            f"held by {run}{holder['host']} (pid {holder['pid']}) since "
            f"{holder['since'][:19]} UTC{gone}",
        )
    run = report["last_run"]
    if run is None:
        line("Last run", "none yet")
    else:
        window = run["window"]
        line(
            "Last run",
            f"run {run['id']} {run['status']} ({run['trigger']}, {window['from']} to "
            f"{window['to']})",
        )
        if run["error"]:
            line("", f"error: {run['error']}")
    for index, skipped in enumerate(report["skipped_ranges"]):
        line(
            "" if index else "Skipped by nightly",
            f"{skipped['from']} to {skipped['to']} ({skipped['days']} day(s), run "
            f"{skipped['run_id']}); reconcile them with: reconcile run --from "
            f"{skipped['from']} --to {skipped['to']}",
        )
    for label, key in (
        ("Refunds due", "refunds"),
        ("Recoupment responses", "recoupments"),
    ):
        buckets = report[key]
        line(
            label,
            "; ".join(
                f"{name.replace('_', ' ')} {b['count']} ({_dollars(b['amount'])})"
                for name, b in buckets.items()
            ),
        )


@main.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@command_help("reconcile status --json")
@pass_app
def status_command(app: App, *, as_json: bool) -> None:
    """Show where the nightly job stands.

    The last successful day, the days not yet run, the next scheduled run (local
    time), who holds the run lock, the last run's status and error, every range of
    days the nightly job skipped that nobody has run since, and the refunds and
    recoupment responses overdue or due within 7 and 30 days (the 30-day figures
    include the 7-day ones).
    """
    with app.engine().connect() as conn:
        report = jobs.status_report(
            conn=conn, settings=app.settings, now=app.clock.now()
        )
    if as_json:
        echo_json(report)
    else:
        _print_status(report)


# --------------------------------------------------------------------------- workbooks


@main.command("report")
@click.argument("run_id", type=int)
@click.option(
    "--output",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: next to the run's own workbook, dated today).",
)
@command_help("reconcile report 12 --output run-12-now.xlsx")
@pass_app
def report_command(app: App, *, run_id: int, output: Path | None) -> None:
    """Write the workbook of an earlier run again, with the items' current state.

    It lists the items the run's own workbook listed (everything open on its as-of
    date), showing where each stands now: decided, resolved by a later run, still
    open. Its title says so; the run's own workbook is left as it was.
    """
    written = report.write_report(
        engine=app.engine(),
        settings=app.settings,
        run_id=run_id,
        written_at=app.clock.now(),
        path=output,
        current=True,
    )
    click.echo(f"Wrote run {run_id}'s workbook with the current state to {written}")


def _reviewer(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Click callback: the reviewer's name, as the audit log keeps it."""
    name = value.strip()
    if not name or len(name) > 120:
        raise click.BadParameter("give a name of 1 to 120 characters", ctx, param)
    return name


@main.group(cls=_Group)
def review() -> None:
    """Decisions typed into a returned workbook."""


@review.command("import")
@click.argument(
    "workbook", type=click.Path(dir_okay=False, path_type=Path), metavar="WORKBOOK"
)
@click.option(
    "--by", "actor", required=True, callback=_reviewer, help="Who decided (audit log)."
)
@click.option("--dry-run", is_flag=True, help="Check every decision; change nothing.")
@command_help(
    "reconcile review import reconcile-12-2024-03-01-2024-03-31.xlsx --by ana"
)
@pass_app
def review_import(app: App, *, workbook: Path, actor: str, dry_run: bool) -> None:
    """Apply the decisions typed into a workbook's Decision (and Note) columns.

    Every decision is checked first against the item's current state: an unknown
    id, a decision its status does not allow, a missing Note or Reference, or an item
    that changed since the workbook was written refuses the whole import (every
    problem is listed with its sheet and row; exit 1) and nothing is applied.
    Otherwise all of them are applied at once, each with an audit event. Decisions
    the items already carry are skipped, so importing a workbook twice is harmless.
    """
    try:
        outcome = report.import_review(
            engine=app.engine(),
            path=workbook,
            actor=actor,
            at=app.clock.now(),
            settings=app.settings,
            dry_run=dry_run,
        )
    except report.ReviewRefused as refused:
        for problem in refused.problems:
            click.echo(f"  {problem}", err=True)
        raise
    print_review(outcome, actor=actor)


def print_review(outcome: report.ReviewOutcome, *, actor: str) -> None:
    """What a review import applied, skipped and ignored, on stdout."""
    count = len(outcome.applied)
    noun = "decision" if count == 1 else "decisions"
    if outcome.dry_run:
        click.echo(f"Dry run: would apply {count} {noun} by {actor}; nothing changed.")
    elif count:
        click.echo(f"Applied {count} {noun} by {actor}:")
    else:
        click.echo("No new decisions to apply.")
    for planned in outcome.applied:
        click.echo(f"  {planned.row.place}: {planned.change}")
    if outcome.skipped:
        click.echo(f"Skipped {len(outcome.skipped)} the items already carry:")
        for skipped in outcome.skipped:
            click.echo(f"  {skipped.row.place}: {skipped.why}")
    if outcome.notes_without_decision:
        click.echo(
            f"{outcome.notes_without_decision} row(s) have a Note but no Decision; "
            "a note alone is not applied."
        )


# --------------------------------------------------------------------------- demo


@main.command("demo")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reconcile-demo"),
    show_default=True,
    help="A new folder for the sample files, database and workbook.",
)
@click.option(
    "--claims",
    type=click.IntRange(min=MIN_CLAIMS),
    default=DEFAULT_CLAIMS,
    show_default=True,
    help="How many claims the sample practice billed.",
)
@click.option(
    "--seed",
    type=int,
    default=DEFAULT_SEED,
    show_default=True,
    help="Chooses the sample data; the same seed always gives the same data.",
)
@click.option(
    "--today",
    metavar="DATE",
    callback=iso_date,
    help=today_help(),
)
@command_help("reconcile demo --dir my-demo --claims 5000")
def demo_command(folder: Path, claims: int, seed: int, today: dt.date | None) -> None:
    """Build a sample practice, import it, reconcile it and write the workbook.

    Everything happens in a new folder (files, a SQLite database, the workbook);
    --database-url and --config do not apply. The same options always give the same
    data and the same results.
    """
    quiet_unless_verbose = logging.getLogger("reconcile")
    if quiet_unless_verbose.getEffectiveLevel() == logging.INFO:
        # The tour says what happened; a log line per imported file would drown it.
        quiet_unless_verbose.setLevel(logging.WARNING)
    progress = _StageProgress()
    try:
        result = run_demo(
            folder=folder,
            claims=claims,
            seed=seed,
            today=today or DEFAULT_TODAY,
            progress=progress,
        )
    finally:
        progress.stop()
    files = result.files
    click.echo(f"Sample practice written to {files.folder}/:")
    for line in describe(files.planted):
        click.echo(f"  {line}")
    loaded = sum(o.status is ImportStatus.LOADED for o in result.imports)
    click.echo(f"Imported {loaded} files into {files.folder / 'reconcile.db'}.")
    click.echo("")
    print_summary(result.run.summary)
    config = files.config
    click.echo("")
    click.echo("Next, try (the demo's configuration points at its database):")
    for command in (
        "exceptions list --kind underpaid",
        "refunds list",
        "recoupments list",
        f"runs show {result.run.run_id}",
        "status",
    ):
        click.echo(f"  reconcile --config {config} {command}")
    click.echo(
        "Open the workbook, type decisions in its Decision column, then: "
        f"reconcile --config {config} review import WORKBOOK --by YOUR-NAME"
    )
