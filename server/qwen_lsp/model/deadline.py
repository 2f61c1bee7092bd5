"""Time limits for model calls that never swallow a cancellation.

``Deadline`` bounds the awaits inside its block by a point in time (``time.monotonic()``, which
is also the event loop's clock) and turns expiry into ``ModelError("timeout", message)``. The
point can move while the block runs (``reschedule``): the HTTP layer narrows it to the connect
time limit while a connection is being made and widens it back once the request is on the wire.

Not ``asyncio.wait_for``: before Python 3.12 it swallows a cancellation that lands in the loop
turn in which the awaited result arrives, and a cancelled stream then ran on to its end (against
llama.cpp at ~4 ms a token, about one cancel in five was lost). On 3.11+ this is
``asyncio.timeout_at``, which counts cancellations; 3.10 gets a timer that cancels the task.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from types import TracebackType
from typing import TypeVar

from .errors import ModelError

T = TypeVar("T")


class Deadline:
    """``async with Deadline(when, message):`` — past ``when``, ModelError("timeout", message)."""

    def __init__(self, when: float, message: str):
        self.when, self.message = when, message
        self._timeout: asyncio.Timeout | None = None  # 3.11+
        self._task: asyncio.Task[object] | None = None  # 3.10
        self._handle: asyncio.TimerHandle | None = None
        self._expired = False

    async def __aenter__(self) -> Deadline:
        if sys.version_info >= (3, 11):
            self._timeout = asyncio.timeout_at(self.when)
            await self._timeout.__aenter__()
        else:  # pragma: no cover - Python 3.10 only
            self._task = asyncio.current_task()
            self._arm()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._timeout is not None:
            try:
                await self._timeout.__aexit__(kind, exc, tb)
            except TimeoutError:
                raise ModelError("timeout", self.message) from None
            return
        if self._handle is not None:  # pragma: no cover - Python 3.10 only
            self._handle.cancel()
        if self._expired and kind is asyncio.CancelledError:  # pragma: no cover
            raise ModelError("timeout", self.message) from None

    def reschedule(self, when: float, message: str | None = None) -> None:
        """Move the limit (and the message it raises) while the block runs."""
        self.when = when
        if message is not None:
            self.message = message
        if self._timeout is not None:
            self._timeout.reschedule(when)
        elif self._task is not None:  # pragma: no cover - Python 3.10 only
            if self._handle is not None:
                self._handle.cancel()
            self._arm()

    def _arm(self) -> None:  # pragma: no cover - Python 3.10 only
        loop = asyncio.get_running_loop()
        self._handle = loop.call_at(self.when, self._expire)

    def _expire(self) -> None:  # pragma: no cover - Python 3.10 only
        self._expired = True
        if self._task is not None:
            self._task.cancel()


async def within(awaitable: Awaitable[T], seconds: float, timeout_message: str) -> T:
    """Await with a time limit; past it raise ModelError("timeout", timeout_message)."""
    loop = asyncio.get_running_loop()
    async with Deadline(loop.time() + seconds, timeout_message):
        return await awaitable
