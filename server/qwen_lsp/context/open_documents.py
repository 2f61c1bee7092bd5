"""The editor's open documents as the context engine sees them.

Each open document gets a background analysis (definitions, imports, identifier counts, locally
bound names) of a snapshot of its text, computed by the index worker once the user pauses typing
(``ANALYSIS_DELAY_S``): whole-file queries cost ~40 ms on a 10k-line file, too much for every
keystroke and for the event loop. Requests use the latest analysis, however stale; its byte
ranges refer to the snapshot kept with it, so snippets cut from it are always consistent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .index import FileData

# An open document is re-analysed in the background this long after its last change.
ANALYSIS_DELAY_S = 0.35
# Snapshots awaiting an answer; more means answers were lost (a dead worker): start over.
MAX_WAITING = 256

Sender = Callable[[dict[str, Any]], None]


@dataclass
class DocAnalysis:
    """An open document's analysis with the text snapshot its byte ranges refer to."""

    version: int
    path: str
    source: bytes
    data: FileData


@dataclass
class _Pending:
    version: int
    path: str
    language_id: str
    text: str
    changed_at: float


class OpenDocuments:
    """Open documents (URI -> real path) and their background analyses. ``send`` delivers a
    request to the index worker; in synchronous mode (tests, benchmarks) ``flush`` runs it."""

    def __init__(self) -> None:
        self.send: Sender | None = None
        self._paths: dict[str, str] = {}
        self._analyses: dict[str, DocAnalysis] = {}
        self._pending: dict[str, _Pending] = {}
        self._inflight: dict[str, int] = {}
        self._snapshots: dict[tuple[str, int], bytes] = {}
        self._lock = threading.Lock()  # did_change (event loop) vs flush (scheduler thread)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopped = False

    # ---- membership (event loop thread)

    def open(self, uri: str, path: str, version: int, language_id: str, text: str) -> None:
        self._paths[uri] = path
        self._queue(uri, _Pending(version, path, language_id, text, 0.0))

    def change(self, uri: str, version: int, language_id: str, text: str) -> bool:
        """Queue a re-analysis; False when the document is not tracked."""
        path = self._paths.get(uri)
        if path is None:
            return False
        self._queue(uri, _Pending(version, path, language_id, text, time.monotonic()))
        return True

    def close(self, uri: str) -> str | None:
        path = self._paths.pop(uri, None)
        with self._lock:
            self._pending.pop(uri, None)
        self._analyses.pop(uri, None)
        return path

    def path_of(self, uri: str) -> str | None:
        return self._paths.get(uri)

    def has_path(self, path: str) -> bool:
        return path in self._paths.values()

    def items(self) -> list[tuple[str, str]]:
        return list(self._paths.items())

    def analysis(self, uri: str) -> DocAnalysis | None:
        return self._analyses.get(uri)

    def analysis_for_path(self, path: str) -> tuple[str, DocAnalysis] | None:
        for uri, open_path in list(self._paths.items()):
            if open_path == path:
                analysis = self._analyses.get(uri)
                if analysis is not None:
                    return uri, analysis
        return None

    def set_analysis(self, uri: str, analysis: DocAnalysis) -> None:
        """An analysis computed on the request path (small file, nothing from the worker yet)."""
        self._analyses[uri] = analysis

    def _queue(self, uri: str, pending: _Pending) -> None:
        with self._lock:
            was_idle = not self._pending
            self._pending[uri] = pending
        # Wake the scheduler only when it sleeps with nothing to do: waking it on every
        # keystroke makes it take the GIL just as the keystroke's request is being served.
        if was_idle:
            self._wake.set()

    # ---- sending snapshots to the worker

    def start(self) -> None:
        """Analyse in the background from now on (not needed in synchronous mode)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="qwen-context", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopped:
            self._wake.wait(self._seconds_to_next_due())
            self._wake.clear()
            if self._stopped:
                return
            self.flush(min_age=ANALYSIS_DELAY_S)

    def _seconds_to_next_due(self) -> float | None:
        """Until the oldest pending change is ``ANALYSIS_DELAY_S`` old; None: nothing pending.
        Documents still waiting for their previous analysis are looked at again later."""
        with self._lock:
            if not self._pending:
                return None
            sendable = [p.changed_at for u, p in self._pending.items() if u not in self._inflight]
        if not sendable:
            return ANALYSIS_DELAY_S / 2
        return max(0.0, min(sendable) + ANALYSIS_DELAY_S - time.monotonic())

    def flush(self, min_age: float = 0.0) -> None:
        """Send documents whose last change is at least ``min_age`` old for analysis."""
        now = time.monotonic()
        ready: list[tuple[str, _Pending]] = []
        with self._lock:
            for uri, pending in list(self._pending.items()):
                if now - pending.changed_at >= min_age and uri not in self._inflight:
                    del self._pending[uri]
                    ready.append((uri, pending))
        for uri, pending in ready:
            self._send(uri, pending)

    def _send(self, uri: str, pending: _Pending) -> None:
        send = self.send
        if send is None:
            return
        self._inflight[uri] = pending.version
        if len(self._snapshots) > MAX_WAITING:
            self._snapshots.clear()
            self._inflight.clear()
        # The snapshot's bytes stay here: the analysis that comes back refers to them.
        self._snapshots[(uri, pending.version)] = pending.text.encode("utf-8", "surrogatepass")
        send(
            {
                "op": "text",
                "key": uri,
                "version": pending.version,
                "path": pending.path,
                "language_id": pending.language_id,
                "text": pending.text,
            }
        )

    # ---- answers (worker reader thread)

    def receive(self, message: dict[str, Any]) -> DocAnalysis | None:
        """Store an ``analysis`` answer; the new analysis, or None when it is stale or the
        document closed meanwhile."""
        uri, version = str(message["key"]), int(message["version"])
        self._inflight.pop(uri, None)
        source = self._snapshots.pop((uri, version), None)
        current = self._analyses.get(uri)
        if source is None or uri not in self._paths:
            return None
        if current is not None and current.version > version:
            return None
        data = FileData.from_wire(message["data"])
        analysis = DocAnalysis(version, data.path, source, data)
        self._analyses[uri] = analysis
        return analysis
