"""Named checkpoints where tests inject faults into a real process.

``RECONCILE_FAULT=<checkpoint>:kill`` kills the process with SIGKILL when it reaches
that checkpoint; ``<checkpoint>:sleep:<whole seconds>`` pauses there (to hold the run
lock while a second process starts). Unset, a checkpoint costs one dictionary
lookup. Used only by the crash-safety and locking tests.
"""

from __future__ import annotations

import os
import signal
import time

ENV = "RECONCILE_FAULT"


def checkpoint(name: str) -> None:
    """Apply the fault configured for checkpoint ``name``, if any."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    # Checkpoint names contain colons ("stage:prepare"); the action is at the end.
    if spec == f"{name}:kill":
        os.kill(os.getpid(), signal.SIGKILL)
    prefix = f"{name}:sleep:"
    if spec.startswith(prefix):
        time.sleep(int(spec.removeprefix(prefix)))
