"""``reconcile demo``: build a synthetic practice, import it, reconcile it, and say
what was found — the first thing a new user runs. ``planted.json`` in the folder
lists a few claims of each planted pattern, and what identifies each one-off item (a
trace or deposit id, part of its exception's fingerprint), to look up in the workbook.

Deterministic: the same seed, number of claims and ``today`` give the same files, the
same results and the same numbers (the demo's clock is frozen at 06:00 UTC on
``today``; it never reads the wall clock).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reconcile import pipeline
from reconcile.categories import RunTrigger, SourceKind
from reconcile.clock import FixedClock
from reconcile.db.engine import make_engine
from reconcile.db.schema import ensure_schema
from reconcile.demo.dataset import MIN_CLAIMS, DatasetFiles, build_dataset
from reconcile.errors import UsageError
from reconcile.ingest import FileOutcome, ImportStatus
from reconcile.ingest.api import import_paths
from reconcile.periods import RunWindow, add_months
from reconcile.settings import load_settings

#: The default "today": the demo reconciles the three months before it.
DEFAULT_TODAY = dt.date(2024, 4, 1)
#: A "today" in mid-month, to show what --today does then.
_MID_MONTH = dt.date(2024, 6, 15)
DEFAULT_CLAIMS = 2_000
DEFAULT_SEED = 7


class DemoFolderError(UsageError):
    """The demo's folder already holds files."""


@dataclass(frozen=True)
class DemoResult:
    """What the demo built, imported and found."""

    files: DatasetFiles
    imports: list[FileOutcome]
    run: pipeline.RunResult
    window: RunWindow


def demo_window(today: dt.date) -> RunWindow:
    """From the 1st of the third month before ``today``'s month to the day before
    ``today``: three whole months when ``today`` is a 1st, a little more otherwise."""
    first = add_months(today.replace(day=1), -3)
    return RunWindow(first, today - dt.timedelta(days=1))


def today_help() -> str:
    """What ``--today`` does, with examples worked out by :func:`demo_window`."""
    examples = ", ".join(
        f"{day} runs {demo_window(day).first} to {demo_window(day).last}"
        for day in (DEFAULT_TODAY, _MID_MONTH)
    )
    return (
        f"The demo's today (default {DEFAULT_TODAY}). It reconciles from the 1st of "
        f"the third month before today's month up to yesterday: {examples}."
    )


def run_demo(
    *,
    folder: Path,
    claims: int = DEFAULT_CLAIMS,
    seed: int = DEFAULT_SEED,
    today: dt.date = DEFAULT_TODAY,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Build, import and reconcile a synthetic practice in ``folder``.

    Raises:
        DemoFolderError: ``folder`` exists and is not empty.
        UsageError: fewer than :data:`~reconcile.demo.dataset.MIN_CLAIMS` claims.
    """
    if folder.exists() and any(folder.iterdir()):
        raise DemoFolderError(
            f"{folder} already holds files; choose a new folder with --dir"
        )
    if claims < MIN_CLAIMS:
        raise UsageError(f"the demo needs at least {MIN_CLAIMS} claims (--claims)")
    window = demo_window(today)
    say = progress or (lambda _: None)
    say("writing the sample files")
    files = build_dataset(
        folder=folder, claims=claims, seed=seed, first=window.first, last=window.last
    )
    (folder / "planted.json").write_text(
        json.dumps(
            {str(k): v for k, v in sorted(files.planted.examples.items())}, indent=2
        ),
        encoding="utf-8",
    )
    settings = load_settings(config_path=files.config, environ={})
    engine = make_engine(settings.database.url)
    clock = FixedClock(dt.datetime.combine(today, dt.time(6), tzinfo=dt.UTC))
    try:
        ensure_schema(engine)
        imports: list[FileOutcome] = []
        for kind, paths in (
            (SourceKind.CLAIMS, [files.claims]),
            (SourceKind.ERA, [files.remittances]),
            (SourceKind.DEPOSITS, [files.deposits_bai2, files.deposits_csv]),
            (SourceKind.PATIENT_PAYMENTS, [files.patient_payments]),
            (SourceKind.LEDGER, [files.ledger]),
        ):
            say(f"importing {kind.value.replace('_', ' ')}")
            imports += import_paths(
                engine, kind=kind, paths=paths, settings=settings, clock=clock
            )
        rejected = [o for o in imports if o.status is ImportStatus.REJECTED]
        if rejected:
            raise RuntimeError(f"the demo's own file {rejected[0].file} was rejected")
        result = pipeline.run(
            engine=engine,
            settings=settings,
            window=window,
            clock=clock,
            trigger=RunTrigger.MANUAL,
            progress=lambda stage: say(f"reconciling: {stage}"),
        )
    finally:
        engine.dispose()
    return DemoResult(files=files, imports=imports, run=result, window=window)
