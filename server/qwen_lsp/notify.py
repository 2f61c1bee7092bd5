"""Tell the user once, log every time: de-duplication of user-facing messages.

A dead endpoint fails on every keystroke; the user must see one clear message per problem, not a
popup storm. A problem is shown again only after things worked in between (or after a long quiet
period), and logs are rate limited per problem kind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

REMIND_AFTER_S = 600.0
LOG_INTERVAL_S = 2.0


@dataclass
class MessageThrottle:
    clock: Callable[[], float] = time.monotonic
    shown: dict[str, float] = field(default_factory=dict)
    logged: dict[str, float] = field(default_factory=dict)
    suppressed_logs: dict[str, int] = field(default_factory=dict)

    def should_show(self, key: str) -> bool:
        now = self.clock()
        last = self.shown.get(key)
        if last is not None and now - last < REMIND_AFTER_S:
            return False
        self.shown[key] = now
        return True

    def should_log(self, key: str) -> tuple[bool, int]:
        """Whether to log now, and how many similar lines were swallowed since the last one."""
        now = self.clock()
        last = self.logged.get(key)
        if last is not None and now - last < LOG_INTERVAL_S:
            self.suppressed_logs[key] = self.suppressed_logs.get(key, 0) + 1
            return False, 0
        self.logged[key] = now
        return True, self.suppressed_logs.pop(key, 0)

    def recovered(self) -> bool:
        """Forget shown problems after a success; True if there was one to clear."""
        had = bool(self.shown)
        self.shown.clear()
        return had


# Where each client shows the server's window/logMessage lines (matched on clientInfo.name).
CLIENT_LOGS = (
    ("code", "the Output panel, channel Qwen Coder (command Qwen: Show Log)"),
    ("visual studio", "the Output panel, channel Qwen Coder (command Qwen: Show Log)"),
    ("neovim", "Neovim's LSP log (:lua vim.cmd.edit(vim.lsp.log.get_filename()))"),
    ("eglot", "the events buffer (M-x eglot-events-buffer)"),
    ("emacs", "the *lsp-log* buffer"),
    ("helix", "Helix's log (:log-open)"),
    ("zed", "Zed's language server log (dev: open language server logs)"),
)


def client_log_hint(client_name: str) -> str:
    """Where the user finds the server's log messages in the client called ``client_name``."""
    lowered = client_name.lower()
    for needle, where in CLIENT_LOGS:
        if needle in lowered:
            return where
    return "the editor's language server log"
