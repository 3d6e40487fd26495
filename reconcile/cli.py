"""The ``reconcile`` command line.

Every library error a user can cause is a :class:`~reconcile.errors.ReconcileError`;
this module turns it into one sentence on stderr and the exit code DESIGN.md gives
(0 done, 1 input rejected / decision refused / lock held, 2 usage, configuration or
database problems). ``--json`` output is one document on stdout; logs and progress go
to stderr. This module and ``jobs/`` are the only places that read the clock.
"""

from __future__ import annotations

import inspect
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy import Engine, exc

from reconcile import __version__
from reconcile.categories import SourceKind
from reconcile.clock import Clock, SystemClock
from reconcile.db.engine import (
    DatabaseUnavailableError,
    check_connection,
    describe_connect_error,
    make_engine,
    redact,
)
from reconcile.db.schema import ensure_schema, upgrade
from reconcile.errors import ReconcileError
from reconcile.ingest import FileOutcome, ImportStatus
from reconcile.ingest.driver import import_files
from reconcile.ingest.x12.load import era_checker, era_loader
from reconcile.ingest.x12.rows import TABLES
from reconcile.logs import configure_logging
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
                click.echo(f"  {problem}")
            hidden = len(outcome.reason) - _SHOWN_PROBLEMS
            if hidden > 0:
                click.echo(f"  … and {hidden} more (--json lists them all)")
            for warning in outcome.warnings:
                click.echo(f"  warning: {warning}")
    if any(o.status is ImportStatus.REJECTED for o in outcomes):
        sys.exit(1)


_SHOWN_PROBLEMS = 20


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
    """Load X12 835 remittance files (005010X221A1), or every file in folders.

    Each file loads whole or not at all, in one transaction. A file already imported
    is reported and skipped; a payment (ST…SE) already loaded from another file is
    skipped and counted, and the rest of its file loads. A rejected file is listed
    with every problem (segment number, segment id, reason) and exits 1.
    """
    # --check writes nothing, so the database is neither opened nor created.
    engine = make_engine(app.settings.database.url) if check_only else app.engine()
    outcomes = import_files(
        engine,
        kind=SourceKind.ERA,
        paths=list(paths),
        clock=app.clock,
        load=era_loader(allow_unbalanced=allow_unbalanced),
        check=era_checker(allow_unbalanced=allow_unbalanced),
        check_only=check_only,
        tables=TABLES,
    )
    if check_only:
        engine.dispose()
    report_outcomes(outcomes, as_json=as_json)
