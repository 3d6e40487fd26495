"""Peak resident memory of a process, as Linux counts it for its current program.

``ru_maxrss`` (``resource.getrusage``, ``os.wait4``) is not usable for a child of
the benchmark runner: Linux carries the high-water mark across fork and exec, so
every child would report at least the runner's own size. ``VmHWM`` in
``/proc/PID/status`` is the peak of the process's current address space only.
"""

from __future__ import annotations

import threading
from pathlib import Path


def peak_kib(pid: int | str = "self") -> int | None:
    """Return VmHWM (peak RSS) of a process in KiB, or None if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


class PeakWatcher:
    """Polls a child's VmHWM until it exits (the last value read is its peak)."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.peak = 0
        self._pid = pid
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            value = peak_kib(self._pid)
            if value is None:
                return
            self.peak = max(self.peak, value)
            self._stop.wait(self._interval)

    def stop(self) -> int:
        """Stop polling; return the highest VmHWM seen."""
        self._stop.set()
        self._thread.join()
        return self.peak
