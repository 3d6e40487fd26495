"""SIGTERM and SIGINT stop the nightly job cleanly.

The first signal raises :class:`StopRequested` in the main thread, where the nightly
pass runs. Inside a run, that exception leaves ``pipeline.run`` like any failure: the
run's single transaction rolls back (nothing of it is committed), its record is marked
``failed`` and the locks are released; the next pass runs the day again. A second
signal while stopping ends the process at once, which is as safe as a crash: the
database discards the open transaction and the next run marks the record
``abandoned``.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopRequested(KeyboardInterrupt):
    """A stop signal arrived.

    A ``KeyboardInterrupt`` so that no ``except Exception`` swallows it, and so that
    psycopg cancels the statement in progress on the server, as it does for Ctrl-C.
    """

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


@contextmanager
def stop_on_signals(
    on_stop: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Turn SIGTERM and SIGINT into :class:`StopRequested` inside the block.

    ``on_stop`` is called first (the scheduler passes its shutdown). Must be used
    from the main thread; the previous handlers come back when the block ends.
    """
    stopping = False

    def handle(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        name = signal.Signals(signum).name
        if stopping:
            log.warning("received %s again while stopping: exiting now", name)
            os._exit(128 + signum)
        stopping = True
        log.info("received %s: stopping", name, extra={"event": "stop_requested"})
        if on_stop is not None:
            on_stop()
        raise StopRequested(name)

    previous = {signum: signal.signal(signum, handle) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
