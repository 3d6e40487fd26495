"""SIGTERM and SIGINT become StopRequested in the main thread, once."""

from __future__ import annotations

import os
import signal

import pytest

from jobs.signals import StopRequested, stop_on_signals


class TestStopOnSignals:
    @pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
    def test_signal_raises_stop_requested(self, signum: signal.Signals) -> None:
        """The signal interrupts the block with StopRequested naming it."""
        stops: list[str] = []
        with (
            pytest.raises(StopRequested) as caught,
            stop_on_signals(on_stop=lambda: stops.append("stop")),
        ):
            os.kill(os.getpid(), signum)
        assert caught.value.signal_name == signum.name
        assert stops == ["stop"]

    def test_previous_handlers_come_back(self) -> None:
        """After the block, SIGTERM and SIGINT are handled as before."""
        before = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
        with stop_on_signals():
            assert signal.getsignal(signal.SIGTERM) is not before[0]
        assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == (
            before
        )

    def test_not_swallowed_by_except_exception(self) -> None:
        """Code that catches Exception cannot swallow a stop."""

        def careless() -> None:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
            except Exception:  # pragma: no cover - the point is that this misses
                pytest.fail("StopRequested was caught as an Exception")

        with pytest.raises(StopRequested), stop_on_signals():
            careless()
