"""The nightly job and its scheduler: which days to run, then pipeline.run.

- :mod:`jobs.plan`: which calendar days a pass runs (pure).
- :mod:`jobs.nightly`: one catch-up pass, and ``reconcile nightly`` with retries.
- :mod:`jobs.trigger`: the DST-safe daily trigger.
- :mod:`jobs.scheduler`: ``reconcile scheduler`` (APScheduler 3, blocking).
- :mod:`jobs.signals`: SIGTERM/SIGINT stop a pass cleanly.
- :mod:`jobs.status`: the ``reconcile status`` document.
"""

from jobs.nightly import (
    DayRun,
    NightlyOutcome,
    NightlyRunFailed,
    NightlyStopped,
    PassResult,
    run_nightly,
    run_pass,
)
from jobs.scheduler import build_scheduler, serve
from jobs.signals import StopRequested, stop_on_signals
from jobs.status import status_report

__all__ = [
    "DayRun",
    "NightlyOutcome",
    "NightlyRunFailed",
    "NightlyStopped",
    "PassResult",
    "StopRequested",
    "build_scheduler",
    "run_nightly",
    "run_pass",
    "serve",
    "status_report",
    "stop_on_signals",
]
