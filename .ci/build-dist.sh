#!/usr/bin/env bash
# Build the release files of the Python package (sdist and wheel) and check them the way PyPI
# will: `python -m build` in an isolated environment, then `twine check --strict` (metadata and
# the README rendering as the project page). Installs `build` and `twine` into the active venv
# when they are missing (PyPI only). Used by docs/release.md, tests/packaging and
# .ci/vscode-setup.sh (the VS Code extension bundles the wheel).
#
#   bash .ci/build-dist.sh [OUT_DIR]      (default: dist/)   prints the two paths on its last lines
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
mkdir -p "$out"
python -c 'import build, twine' 2>/dev/null ||
    python -m pip install --quiet --disable-pip-version-check "build>=1.2" "twine>=5"
version=$(python -c 'import ast, pathlib
tree = ast.parse(pathlib.Path("server/qwen_lsp/__init__.py").read_text())
print(next(n.value.value for n in tree.body if isinstance(n, ast.Assign)
           and n.targets[0].id == "__version__"))')
rm -f "$out"/qwen_lsp-"$version"-*.whl "$out"/qwen_lsp-"$version".tar.gz
python -m build --sdist --wheel --outdir "$out" . >"$out/build.log" 2>&1 || {
    tail -40 "$out/build.log"
    exit 1
}
sdist=$out/qwen_lsp-$version.tar.gz
wheel=$out/qwen_lsp-$version-py3-none-any.whl
[ -f "$sdist" ] && [ -f "$wheel" ] || { echo "build-dist: expected $sdist and $wheel"; ls "$out"; exit 1; }
python -m twine check --strict "$sdist" "$wheel"
echo "$sdist"
echo "$wheel"
