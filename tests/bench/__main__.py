"""Run every benchmark: ``python -m tests.bench [name ...] [--option ...]``.

Each ``tests/bench/bench_*.py`` module exposes ``main() -> None`` that measures and writes its
section of docs/benchmarks.md; a ``main(options)`` gets the ``--options`` given (e.g.
``python -m tests.bench realmodel --quick``). A module with ``OPT_IN = True`` (long runs that need
a real model) runs only when named.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(p.stem for p in here.glob("bench_*.py"))
    if "-h" in argv or "--help" in argv or "--list" in argv:
        print(__doc__.strip(), "\n\nbenchmarks:", " ".join(n[6:] for n in names))
        return 0
    options = [a for a in argv if a.startswith("--")]
    argv = [a for a in argv if not a.startswith("--")]
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in argv]
    for name in wanted:
        if name not in names:
            print(f"unknown benchmark {name}; have {', '.join(names)}", file=sys.stderr)
            return 2
    for name in wanted or names:
        module = importlib.import_module(f"tests.bench.{name}")
        if not wanted and getattr(module, "OPT_IN", False):
            print(f"== {name} skipped (opt-in: python -m tests.bench {name[6:]})", flush=True)
            continue
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        entry = module.main
        if inspect.signature(entry).parameters:
            entry(options)
        else:
            entry()
        print(f"== {name} done in {time.perf_counter() - started:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
