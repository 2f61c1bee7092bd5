#!/usr/bin/env bash
# Installs what the real-editor and real-model-server tests need (idempotent, seconds when warm):
# Neovim + Emacs (editors-setup.sh), VS Code via code-server + Chromium (vscode-setup.sh) and
# llama-cpp-python's server (llamacpp-setup.sh, when present). Run with the test venv active.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/editors-setup.sh
bash .ci/vscode-setup.sh
if [ -f .ci/llamacpp-setup.sh ]; then
    bash .ci/llamacpp-setup.sh
fi
