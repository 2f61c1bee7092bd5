"""Endpoint URLs: paths joined before the query string, credentials kept out of request URLs.

``base_url`` may carry a query (``https://host/openai/v1?api-version=2024-06-01``): every path —
``/completions``, ``/chat/completions``, ``/models``, and the probes — goes before it
(``/openai/v1/completions?api-version=…``), never after. ``user:password@`` in ``base_url`` is
taken out of the URL and sent as HTTP Basic credentials only when no API key is set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from .errors import ModelError


@dataclass(frozen=True)
class BaseUrl:
    """A base URL taken apart: where paths go, the query that follows them, and userinfo."""

    origin: str  # scheme://host[:port]
    path: str  # without a trailing slash
    query: str
    username: str = ""
    password: str = ""

    @classmethod
    def parse(cls, url: str) -> BaseUrl:
        try:
            parts = urlsplit(url.strip())
            host = parts.hostname or ""
            port = parts.port
        except ValueError:  # an invalid port or bracket: the request itself reports it
            return cls(url.strip(), "", "")
        netloc = f"[{host}]" if ":" in host else host
        if port is not None:
            netloc += f":{port}"
        origin = urlunsplit(SplitResult(parts.scheme, netloc, "", "", ""))
        return cls(
            origin,
            parts.path.rstrip("/"),
            parts.query,
            unquote(parts.username or ""),
            unquote(parts.password or ""),
        )

    @property
    def root_path(self) -> str:
        """The server root: the path without a trailing /v1 (where /props, /api/… live)."""
        return re.sub(r"/v1$", "", self.path)

    def join(self, path: str, on_root: bool = False) -> str:
        """``path`` under the base (or under the root), the base's query after it."""
        base = self.root_path if on_root else self.path
        url = f"{self.origin}{base}/{path.lstrip('/')}"
        return f"{url}?{self.query}" if self.query else url

    @property
    def without_credentials(self) -> str:
        url = f"{self.origin}{self.path}"
        return f"{url}?{self.query}" if self.query else url


def join_url(base_url: str, path: str, on_root: bool = False) -> str:
    return BaseUrl.parse(base_url).join(path, on_root)


def root_url(base_url: str) -> str:
    """The server root of ``base_url`` (without /v1), its query kept."""
    base = BaseUrl.parse(base_url)
    url = f"{base.origin}{base.root_path}"
    return f"{url}?{base.query}" if base.query else url


def check_url(url: str) -> None:
    """ModelError("connection") for what cannot be requested (messages never echo the URL:
    it may hold credentials)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a bad port
    except ValueError as exc:
        reason = "invalid port" if "port" in str(exc).lower() else "malformed"
        raise ModelError("connection", f"endpoint.base_url: {reason} in URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ModelError("connection", "endpoint.base_url is not an http(s) URL")
