"""Model-call failures, classified so the user gets one actionable message per kind."""

from __future__ import annotations

import os
import socket
import ssl
from dataclasses import dataclass
from typing import Literal

ErrorKind = Literal[
    "connection",  # refused, DNS, reset before any answer
    "tls",
    "timeout",
    "auth",  # 401/403
    "not_found",  # 404: wrong URL or model name
    "rate_limited",  # 429
    "server",  # 5xx
    "bad_request",  # other 4xx
    "redirect",  # 3xx: never followed (the key would go along)
    "protocol",  # the answer was not the OpenAI shape we asked for
    "dropped",  # the connection ended in the middle of an answer (server crashed, restarted)
]

KEY_HOWTO = (
    "export QWEN_LSP_API_KEY (or DASHSCOPE_API_KEY / OPENAI_API_KEY) where the editor starts, or "
    "in VS Code run the command “Qwen: Set API Key”"
)


@dataclass
class ModelError(Exception):
    kind: ErrorKind
    detail: str
    status: int | None = None
    retry_after_s: float | None = None
    # Whether the request carried credentials (a key, an auth header, user:password in the URL):
    # a 401 without any is a missing key, not a wrong one. Set by the model client.
    credentials_sent: bool | None = None

    def __str__(self) -> str:
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{self.kind}{status}: {self.detail}"

    @property
    def user_message(self) -> str:
        """One sentence the user can act on; never includes secrets."""
        return {
            "connection": "cannot reach the model endpoint — is the server running and "
            "is endpoint.base_url right?",
            "tls": "TLS handshake with the model endpoint failed — check the certificate, "
            "endpoint.ca_bundle or endpoint.verify_tls.",
            "timeout": "the model endpoint did not answer in time — it may be overloaded; "
            "raise endpoint.timeout_s or use a smaller model.",
            "auth": f"the model endpoint wants an API key and none is set — {KEY_HOWTO}."
            if self.credentials_sent is False
            else "the model endpoint refused the API key — check that it belongs to this "
            f"endpoint; to change it, {KEY_HOWTO}.",
            "not_found": "the model endpoint answered 404 — check endpoint.model and "
            "endpoint.base_url (it usually ends in /v1).",
            "rate_limited": "the model endpoint is rate limiting requests; completions pause "
            "and resume by themselves.",
            "server": "the model endpoint had an internal error; retrying with backoff.",
            "bad_request": "the model endpoint refused the request — the model may not support "
            'this transport; try endpoint.transport = "chat".',
            "redirect": "the model endpoint answered with a redirect, which is not followed (the "
            "API key would go along) — set endpoint.base_url to the final URL.",
            "protocol": "the model endpoint sent an answer that is not OpenAI-compatible.",
            "dropped": "the model server closed the connection in the middle of an answer — it "
            "may have crashed, restarted or run out of memory; its own log says why.",
        }[self.kind] + f" ({self})"


def find_cause(
    exc: BaseException, kinds: type[BaseException] | tuple[type[BaseException], ...]
) -> BaseException | None:
    """``exc`` or the first exception of ``kinds`` among its causes."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, kinds):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def describe(exc: BaseException) -> str:
    """An OS or TLS error in a few words ("Connection refused", the certificate problem)."""
    cert = find_cause(exc, ssl.SSLCertVerificationError)
    if isinstance(cert, ssl.SSLCertVerificationError):
        return cert.verify_message or str(cert)
    tls = find_cause(exc, ssl.SSLError)
    if tls is not None:
        return getattr(tls, "reason", None) or str(tls)
    dns = find_cause(exc, socket.gaierror)
    if isinstance(dns, socket.gaierror) and dns.strerror:
        return dns.strerror
    seen: BaseException | None = exc
    for _ in range(8):  # the first OS error with a number ("All connection attempts failed"
        if seen is None:  # from anyio wraps the real one)
            break
        if isinstance(seen, OSError) and seen.errno:
            return os.strerror(seen.errno)
        seen = seen.__cause__ or seen.__context__
    return str(exc) or type(exc).__name__
