"""Which file names and directories look like they hold credentials.

One policy for everything: the index never reads such files, the gateway refuses them, and the
editor's features are off inside them (their text would become a prompt).
"""

from __future__ import annotations

import fnmatch
import os
from functools import lru_cache

# File names (matched case-insensitively against the base name) that may hold credentials.
SECRET_FILE_GLOBS: tuple[str, ...] = (
    ".env",
    ".env*",
    "*.env",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p8",
    "*.p12",
    "*.pfx",
    "*.crt",
    "*.cer",
    "*.der",
    "*.csr",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "*.gpg",
    "*.asc",
    "*.ovpn",
    "*.tfvars",
    "*.tfstate",
    "*.tfstate.*",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.ppk",
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
    ".pypirc",
    ".netrc",
    "_netrc",
    ".pgpass",
    ".htpasswd",
    ".git-credentials",
    ".dockercfg",
    "credentials",
    "*credential*",
    "secrets.json",
    "secrets.yml",
    "secrets.yaml",
    "secrets.toml",
    "secrets.ini",
    "*.secret",
    "*.secrets",
    "known_hosts",
    "authorized_keys",
)

# Directories whose every file may hold credentials: version-control metadata (remote URLs with
# tokens, hooks) and credential stores.
CREDENTIAL_DIRS: frozenset[str] = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "_darcs",
        ".ssh",
        ".gnupg",
        ".aws",
        ".azure",
        ".kube",
        ".docker",
        ".terraform",
        ".password-store",
    }
)

_SECRET_GLOBS = tuple(g.lower() for g in SECRET_FILE_GLOBS)


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a file's base name looks like it holds credentials."""
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in _SECRET_GLOBS)


def in_credential_dir(parts: list[str] | tuple[str, ...]) -> bool:
    """Whether any of these directory names is a credential store or VCS metadata."""
    return any(part in CREDENTIAL_DIRS for part in parts)


@lru_cache(maxsize=1024)  # asked on every completion request
def is_secret_document(path: str | None) -> bool:
    """Whether a file the editor opened looks secret: its name (as opened, or after resolving
    links) or a credential directory on its path. Such documents get no AI features."""
    if not path:
        return False
    given = os.path.abspath(path)
    real = os.path.realpath(given)
    for candidate in {given, real}:
        parts = candidate.replace("\\", "/").split("/")
        if is_secret_name(parts[-1]) or in_credential_dir(parts[:-1]):
            return True
    return False
