"""Run every benchmark: ``python -m tests.bench [name ...]``.

Each ``tests/bench/bench_*.py`` module exposes ``main() -> None`` that measures and writes its
section of docs/benchmarks.md.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(p.stem for p in here.glob("bench_*.py"))
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in argv] or names
    for name in wanted:
        if name not in names:
            print(f"unknown benchmark {name}; have {', '.join(names)}", file=sys.stderr)
            return 2
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        importlib.import_module(f"tests.bench.{name}").main()
        print(f"== {name} done in {time.perf_counter() - started:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
