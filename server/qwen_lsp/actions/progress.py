"""Server-initiated ``$/progress`` for an action: begin, streamed-size reports, end.

The token is created with ``window/workDoneProgress/create`` when the client supports it. The
progress is cancellable: the client's cancel button (``window/workDoneProgress/cancel``) cancels
the work, which closes the model's HTTP stream.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from lsprotocol import types

log = logging.getLogger(__name__)

CREATE_TIMEOUT_S = 2.0
REPORT_INTERVAL_S = 0.1


def progress_supported(ls: Any) -> bool:
    window = ls.client_capabilities.window
    return bool(window and window.work_done_progress)


class ActionProgress:
    """One action's progress in the client, or nothing when the client has no progress UI."""

    def __init__(self, ls: Any, title: str):
        self.ls = ls
        self.title = title
        self.token: str | None = None
        self.cancelled_by_user = False
        self._last_report = 0.0
        self._cancel: Callable[[], None] | None = None

    async def begin(self) -> None:
        if not progress_supported(self.ls):
            return
        token = f"qwen-lsp/action/{uuid.uuid4().hex}"
        try:
            await asyncio.wait_for(self.ls.work_done_progress.create_async(token), CREATE_TIMEOUT_S)
        except Exception as exc:  # progress is a nicety; the action runs without it
            log.debug("progress token refused: %s", exc)
            return
        self.token = token
        self.ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=self.title, cancellable=True, message="waiting for the model…"
            ),
        )
        future = self.ls.work_done_progress.tokens.get(token)
        if future is not None:
            future.add_done_callback(self._on_token_done)

    def cancel_with(self, cancel: Callable[[], None]) -> None:
        """Call ``cancel`` when the user cancels the progress in the client."""
        self._cancel = cancel

    def _on_token_done(self, future: Future[Any]) -> None:
        if future.cancelled() and self._cancel is not None and self.token is not None:
            self.cancelled_by_user = True
            self._cancel()

    def received(self, characters: int) -> None:
        """Report the streamed answer's size, at most every REPORT_INTERVAL_S."""
        if self.token is None:
            return
        now = time.monotonic()
        if now - self._last_report < REPORT_INTERVAL_S:
            return
        self._last_report = now
        self.ls.work_done_progress.report(
            self.token,
            types.WorkDoneProgressReport(message=f"{characters} characters received"),
        )

    def end(self, message: str) -> None:
        if self.token is None:
            return
        token, self.token = self.token, None
        self.ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))
        self.ls.work_done_progress.tokens.pop(token, None)
