#!/usr/bin/env bash
# Make llama-cpp-python[server] (and gguf) importable for tests/integration/test_llamacpp.py.
#
# The wheel is built once from the PyPI sdist (~4-5 min on 2 cores) and cached together with
# the Qwen2 vocabulary GGUF that the sdist carries; a warm run only installs the cached wheel.
# Cache: $QWEN_LSP_CACHE (default: .cache/ in the repo, gitignored). It is mirrored to
# ~/.cache/qwen-lsp so that a fresh clone on the same machine (what CI uses) starts warm.
# Prints the vocab path on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

version="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
# Portable x86-64 build (AVX2/FMA/F16C, no -march=native): a cached wheel must not crash with
# SIGILL on another host of the same kind that lacks this one's AVX-512. The flags are part of
# the cache key.
build_flags="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"
build_key="$version-$(echo "$build_flags" | md5sum | cut -c1-8)"
cache="${QWEN_LSP_CACHE:-$PWD/.cache}"
shared="${XDG_CACHE_HOME:-$HOME/.cache}/qwen-lsp"
wheels="$cache/wheels/$build_key"
vocab_dir="$cache/llamacpp"
vocab="$vocab_dir/ggml-vocab-qwen2.gguf"
started=$SECONDS

log() { echo "llamacpp-setup: $*" >&2; }

find_wheel() { compgen -G "$1/llama_cpp_python-$version-*.whl" | head -n1 || true; }

# Pull what an earlier clone on this machine already built.
restore_from_shared() {
    mkdir -p "$wheels" "$vocab_dir"
    local w
    w="$(find_wheel "$shared/wheels/$build_key")"
    if [[ -z "$(find_wheel "$wheels")" && -n "$w" ]]; then cp "$w" "$wheels/"; fi
    if [[ ! -s "$vocab" && -s "$shared/llamacpp/ggml-vocab-qwen2.gguf" ]]; then
        cp "$shared/llamacpp/ggml-vocab-qwen2.gguf" "$vocab"
    fi
}

save_to_shared() {
    mkdir -p "$shared/wheels/$build_key" "$shared/llamacpp"
    cp -n "$(find_wheel "$wheels")" "$shared/wheels/$build_key/" 2>/dev/null || true
    cp -n "$vocab" "$shared/llamacpp/" 2>/dev/null || true
}

# Cold path: fetch the sdist, extract the vocab, build the wheel (only what is missing).
build_missing() {
    local sdist_dir sdist
    sdist_dir="$(mktemp -d)"
    trap 'rm -rf "$sdist_dir"' RETURN
    log "downloading the llama-cpp-python $version sdist"
    python -m pip download --quiet --no-deps --no-binary :all: \
        "llama-cpp-python==$version" -d "$sdist_dir"
    sdist="$(compgen -G "$sdist_dir/llama_cpp_python-*.tar.gz" | head -n1)"
    if [[ ! -s "$vocab" ]]; then
        tar -xzf "$sdist" -O "llama_cpp_python-$version/vendor/llama.cpp/models/ggml-vocab-qwen2.gguf" \
            >"$vocab.tmp"
        mv "$vocab.tmp" "$vocab"
    fi
    if [[ -z "$(find_wheel "$wheels")" ]]; then
        log "building the wheel (takes a few minutes once; cached in $wheels)"
        # No multimodal (mtmd) library either: the tests never load it.
        CMAKE_ARGS="$build_flags ${CMAKE_ARGS:-}" \
            CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
            python -m pip wheel --quiet --no-deps -w "$wheels" "$sdist"
    fi
}

# The build key recorded beside the installed llama_cpp package ("" if none or unknown).
installed_build() {
    python -c 'import importlib.util as u, pathlib as p
s = u.find_spec("llama_cpp")
m = p.Path(s.origin).parent / ".qwen-lsp-build" if s and s.origin else None
print(m.read_text().strip() if m and m.is_file() else "")' 2>/dev/null || true
}

restore_from_shared
if [[ -z "$(find_wheel "$wheels")" || ! -s "$vocab" ]]; then build_missing; fi
save_to_shared

wheel="$(find_wheel "$wheels")"
if [[ "$(installed_build)" != "$build_key" ]] || ! python -c "import gguf, uvicorn" 2>/dev/null; then
    log "installing $(basename "$wheel")[server] and gguf"
    python -m pip install --quiet --force-reinstall --no-deps "$wheel"
    python -m pip install --quiet "$wheel[server]" "gguf>=0.10"
    python -c "import llama_cpp, pathlib
pathlib.Path(llama_cpp.__file__).with_name('.qwen-lsp-build').write_text('$build_key')"
fi
python -c "import llama_cpp, gguf" # fail here, not in the test, if the install is broken
log "ready in $((SECONDS - started)) s"
echo "$vocab"
