"""Credentials out of everything the server prints: logs, messages, ``doctor``, error texts.

- ``mask_url``: the one way a URL is printed. ``user:password@`` becomes ``user:***@`` (a user
  name alone, which may be a token, ``***@``); every query value but a few harmless ones
  (``api-version``) becomes ``***``; a fragment becomes ``***``.
- ``Redactor``: replaces known secrets (the API key, header values, URL and proxy passwords,
  query values, and the forms a server may echo them in: percent-encoded, Basic credentials)
  and masks every URL and ``Bearer`` token in a text. Redact first, cut after: a text cut
  before redaction can end with the first characters of a key.

This module has no dependencies, so settings, the model client and ``doctor`` all use it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlsplit

MASK = "***"
MIN_SECRET_CHARS = 4  # shorter values are not replaced (they would mask ordinary words)
HARMLESS_QUERY_NAMES = frozenset({"api-version", "api_version", "apiversion", "version"})
URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>()\[\]{}]+")
BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=\-]+")
BASIC = re.compile(r"(Basic\s+)[A-Za-z0-9+/=]{8,}")


def mask_url(url: str) -> str:
    """``url`` with its credentials masked (see the module docstring); never raises."""
    scheme, sep, rest = url.partition("://")
    if not sep:  # "user:pass@host:3128" (a proxy without its scheme) or no URL at all
        scheme, rest = "", url
    end = min((rest.find(c) for c in "/?#" if c in rest), default=len(rest))
    netloc, tail = rest[:end], rest[end:]
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{host}" if colon else f"{MASK}@{host}"
    path, hash_, fragment = tail.partition("#")
    masked = f"{scheme}{sep}{netloc}{_mask_query(path)}"
    return f"{masked}#{MASK}" if hash_ and fragment else masked + hash_


def _mask_query(text: str) -> str:
    path, question, query = text.partition("?")
    if not question:
        return text
    fields = []
    for field in query.split("&"):
        name, equals, value = field.partition("=")
        harmless = unquote_plus(name).lower() in HARMLESS_QUERY_NAMES
        fields.append(field if not equals or harmless or not value else f"{name}={MASK}")
    return f"{path}?{'&'.join(fields)}"


def url_secrets(url: str) -> list[str]:
    """The secret parts of a URL: its password (or a lone user name) and query values."""
    found: list[str] = []
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        username, password, query = parts.username, parts.password, parts.query
    except ValueError:
        return found
    if password is not None:
        found.append(password)
        if username:
            found.append(
                base64.b64encode(f"{unquote(username)}:{unquote(password)}".encode()).decode()
            )
    elif username:
        found.append(username)
    for field in query.split("&"):
        name, equals, value = field.partition("=")
        if equals and value and unquote_plus(name).lower() not in HARMLESS_QUERY_NAMES:
            found.append(value)
    return found


class Redactor:
    """Replaces the given secrets (and their encoded forms) and masks URLs and tokens."""

    def __init__(self, secrets: Iterable[str] = ()):
        variants: set[str] = set()
        for secret in secrets:
            for form in (secret, unquote(secret), unquote_plus(secret), quote(secret, safe="")):
                if len(form) >= MIN_SECRET_CHARS:
                    variants.add(form)
            if len(secret) >= MIN_SECRET_CHARS:
                variants.add(quote_plus(secret))
        self.secrets = sorted(variants, key=len, reverse=True)  # longest first

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        text = URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)
        text = BEARER.sub(rf"\1{MASK}", text)
        return BASIC.sub(rf"\1{MASK}", text)


def endpoint_secrets(
    api_key: str, headers: Mapping[str, str], base_url: str, proxy: str
) -> list[str]:
    """Every secret an endpoint's settings hold, for a ``Redactor``."""
    return [api_key, *headers.values(), *url_secrets(base_url), *url_secrets(proxy)]


def shorten(text: str, limit: int) -> str:
    """Cut to ``limit`` characters (after redaction, never before)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
