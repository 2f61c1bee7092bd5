"""The background indexer: walks the workspace and analyses files away from the event loop.

tree-sitter's parse and query calls hold the GIL (measured: a 10k-line file blocks other threads
for ~70 ms), so a worker *thread* would still stall the server's event loop. The indexer therefore
runs in a child process (``python -m qwen_lsp.context.worker``) speaking JSON lines on its
stdin/stdout. It dies with the server however the server ends (crash, SIGKILL, closed pipes, no
``shutdown``): at once when its stdin reaches EOF (even in the middle of a file), by the kernel's
parent-death signal on Linux (even while stuck or stopped), and by a watchdog thread that sees the
parent pid go away elsewhere. A thread (tests, or when a process cannot be started) and a
synchronous mode (benchmarks) run the same code.

Messages to the worker: ``configure`` (roots and bounds), ``scan``, ``file`` (reindex one path
from disk), ``text`` (analyse an open document's text), ``forget_gitignore``, ``stop``.
Messages back: ``file``, ``removed``, ``analysis``, ``scan_done``, ``error``.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .file_policy import FilePolicy
from .index import analyze_source, indexable_language

log = logging.getLogger(__name__)

Message = dict[str, Any]
Sink = Callable[[Message], None]
# Bounds the directory walk too: a data directory with a million files is not walked to the end.
VISIT_FACTOR = 20
PARENT_CHECK_S = 0.5  # how often the watchdog looks for the parent
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class WorkerCore:
    """The worker's logic, independent of how messages travel."""

    def __init__(self) -> None:
        self.policy = FilePolicy(roots=())
        self.max_files = 5000

    def handle(self, message: Message) -> Iterator[Message]:
        op = message.get("op")
        if op == "configure":
            self.policy = FilePolicy(
                roots=list(message.get("roots", ())),
                max_file_bytes=int(message.get("max_file_bytes", 1_000_000)),
                ignore_globs=list(message.get("ignore_globs", ())),
            )
            self.max_files = int(message.get("max_files", 5000))
        elif op == "scan":
            yield from self.scan(int(message.get("id", 0)))
        elif op == "file":
            yield self.index_path(str(message["path"]))
        elif op == "text":
            yield self.analyze_text(message)
        elif op == "forget_gitignore":
            self.policy.forget_gitignore(str(message["dir"]))

    def scan(self, scan_id: int) -> Iterator[Message]:
        started = time.perf_counter()
        indexed = visited = 0
        for path in self.policy.walk(self.max_files * VISIT_FACTOR):
            visited += 1
            if indexed >= self.max_files:
                break
            if indexable_language(path) is None:
                continue
            result = self.index_path(path)
            if result["op"] == "file":
                indexed += 1
                result["scan"] = scan_id  # the engine drops answers of a replaced scan
                yield result
        yield {
            "op": "scan_done",
            "id": scan_id,
            "files": indexed,
            "visited": visited,
            "seconds": time.perf_counter() - started,
        }

    def index_path(self, path: str) -> Message:
        language_id = indexable_language(path)
        if language_id is None:
            return {"op": "removed", "path": path}
        content = self.policy.read_file(path)  # through the gateway: regular, bounded
        if content is None:
            return {"op": "removed", "path": path}
        # The same bytes the engine gets from FilePolicy.read_text later (offsets must agree).
        source = content.data.decode("utf-8", "replace").encode("utf-8", "surrogatepass")
        real = os.path.realpath(path)
        data = analyze_source(real, source, language_id, mtime_ns=content.mtime_ns)
        return {"op": "file", "data": data.to_wire()}

    def analyze_text(self, message: Message) -> Message:
        """An open document: its text comes from the editor (not the disk), with imports and
        identifier counts for the request path."""
        source = str(message["text"]).encode("utf-8", "surrogatepass")
        data = analyze_source(
            str(message["path"]),
            source,
            str(message["language_id"]),
            with_imports=True,
            with_identifiers=True,
        )
        return {
            "op": "analysis",
            "key": message["key"],
            "version": message["version"],
            "data": data.to_wire(),
        }


class _Scheduler:
    """Runs messages by priority: single-file work overtakes a running scan between files."""

    def __init__(self, core: WorkerCore, emit: Sink):
        self.core, self.emit = core, emit
        self.urgent: queue.Queue[Message | None] = queue.Queue()
        self.scan: Iterator[Message] | None = None

    def run(self) -> None:
        while True:
            try:
                message = self.urgent.get(block=self.scan is None, timeout=None)
            except queue.Empty:
                message = None
                self._step_scan()
                continue
            if message is None or message.get("op") == "stop":
                return
            if message.get("op") == "scan":
                self.scan = self.core.handle(message)
                continue
            self._run_one(message)

    def _run_one(self, message: Message) -> None:
        try:
            for out in self.core.handle(message):
                self.emit(out)
        except Exception as exc:  # one bad file must not stop the worker
            log.exception("index worker failed on %s", message.get("op"))
            self.emit({"op": "error", "message": f"{type(exc).__name__}: {exc}"})

    def _step_scan(self) -> None:
        assert self.scan is not None
        try:
            self.emit(next(self.scan))
        except StopIteration:
            self.scan = None
        except Exception as exc:
            log.exception("index scan failed")
            self.scan = None
            self.emit({"op": "error", "message": f"scan: {type(exc).__name__}: {exc}"})


# --------------------------------------------------------------------------------------------
# Parent side


class IndexWorker:
    """A handle on the background indexer. ``on_message`` runs on a reader thread."""

    def __init__(self, on_message: Sink, mode: str = "process"):
        self.on_message = on_message
        self.mode = mode
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._scheduler: _Scheduler | None = None
        self._send_lock = threading.Lock()
        self.alive = False

    def start(self) -> None:
        if self.mode == "process":
            try:
                self._start_process()
                return
            except OSError as exc:
                log.warning("index worker process unavailable (%s); using a thread", exc)
                self.mode = "thread"
        if self.mode == "thread":
            self._scheduler = _Scheduler(WorkerCore(), self._deliver)
            self._thread = threading.Thread(
                target=self._scheduler.run, name="qwen-index", daemon=True
            )
            self._thread.start()
            self.alive = True
        elif self.mode == "sync":
            self._core = WorkerCore()
            self.alive = True

    def _start_process(self) -> None:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        # Started from the event loop's thread, which lives as long as the server: Linux sends
        # the parent-death signal when the thread that forked the child ends.
        self._process = subprocess.Popen(
            [sys.executable, "-m", "qwen_lsp.context.worker", "--parent-pid", str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # the server's stderr: the editor's log
            env=env,
            close_fds=True,
        )
        self.alive = True
        self._thread = threading.Thread(
            target=self._read_process, name="qwen-index-reader", daemon=True
        )
        self._thread.start()

    def _read_process(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                log.warning("index worker sent a line that is not JSON")
                continue
            self._deliver(message)
        if self.alive:  # not closed by us: the worker died; the index keeps what it has
            code = self._process.poll() if self._process is not None else None
            log.warning("index worker exited unexpectedly (code %s); workspace index paused", code)
        self.alive = False

    def _deliver(self, message: Message) -> None:
        try:
            self.on_message(message)
        except Exception:  # the consumer's bug must not kill the reader
            log.exception("index message handler failed")

    def send(self, message: Message) -> None:
        if not self.alive:
            return
        if self.mode == "sync":
            for out in self._core.handle(message):
                self._deliver(out)
        elif self.mode == "thread":
            assert self._scheduler is not None
            self._scheduler.urgent.put(message)
        else:
            self._write(message)

    def _write(self, message: Message) -> None:
        process = self._process
        if process is None or process.stdin is None:
            return
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode("utf-8", "surrogatepass")
        with self._send_lock:
            try:
                process.stdin.write(data)
                process.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                self.alive = False

    def close(self, timeout: float = 2.0) -> None:
        """Stop the worker (its stdin closes, so it exits even if the stop message is lost)."""
        if self.mode == "thread" and self._scheduler is not None:
            self._scheduler.urgent.put(None)
        process, self._process = self._process, None
        self.alive = False
        if process is not None:
            with contextlib.suppress(OSError, ValueError):
                if process.stdin is not None:
                    process.stdin.close()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)


# --------------------------------------------------------------------------------------------
# Child side


def _serve(stdin: Any, stdout: Any) -> None:
    lock = threading.Lock()

    def emit(message: Message) -> None:
        data = json.dumps(message, separators=(",", ":")) + "\n"
        with lock:
            try:
                stdout.write(data.encode("utf-8", "surrogatepass"))
                stdout.flush()
            except (OSError, ValueError):  # the server went away
                os._exit(0)

    scheduler = _Scheduler(WorkerCore(), emit)

    def read() -> None:
        for line in stdin:
            try:
                scheduler.urgent.put(json.loads(line))
            except ValueError:
                continue
        # The server went away (or closed our pipe): stop now, even in the middle of a file.
        os._exit(0)

    threading.Thread(target=read, name="stdin", daemon=True).start()
    scheduler.run()


def die_with_parent(parent_pid: int) -> None:
    """End this process when the server (``parent_pid``) ends, whatever way it ends."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # no libc to speak of: watchdog only
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.name != "posix":
        return  # Windows: os.kill would terminate the pid; stdin EOF ends us there
    first_parent = os.getppid()

    def watch() -> None:
        # Checked before the first sleep: a server that died before the signal was armed.
        while _alive(parent_pid) and os.getppid() == first_parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m qwen_lsp.context.worker")
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when it exits")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    if args.parent_pid is not None:
        die_with_parent(args.parent_pid)
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        _serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
