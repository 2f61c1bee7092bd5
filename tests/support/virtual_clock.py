"""An asyncio event loop on a virtual clock, for unit tests of timing (debounce, grace periods).

``loop.time()`` starts at 0 and moves only when nothing is ready to run: the loop then jumps
straight to its next timer. ``asyncio.sleep``, ``call_later`` and ``wait_for`` therefore take no
real time, and a test's figures are exact and repeatable whatever the machine's load.

(``looptime`` on PyPI does the same as a pytest plugin, but needs Python 3.11+; the project
supports 3.10.)
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class _JumpingSelector(selectors.DefaultSelector):
    """Polls real file descriptors without waiting; when none is ready, advances the clock by
    the time the loop meant to wait."""

    def __init__(self, loop: VirtualClockLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            # No timer is pending and nothing is ready: the test waits for something that
            # never comes. Fail at once rather than hang.
            raise RuntimeError("virtual clock: nothing scheduled and nothing ready (deadlock)")
        self._loop.advance(timeout)
        return ready


class VirtualClockLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._now = 0.0
        super().__init__(_JumpingSelector(self))

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += max(0.0, seconds)


def run_on_virtual_clock(scenario: Callable[[], Awaitable[T]]) -> T:
    """Run ``scenario()`` to completion on a fresh virtual-clock loop."""
    loop = VirtualClockLoop()
    try:
        return loop.run_until_complete(scenario())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
