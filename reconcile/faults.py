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
    target, _, action = spec.partition(":")
    if target != name:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action.startswith("sleep:"):
        time.sleep(int(action.removeprefix("sleep:")))
