"""Turning indexed definitions into the text shown to the model.

A definition is shown the way a reader skims a file: small functions whole, long ones as their
signature (plus the first docstring line) with the body elided, classes/structs as a skeleton of
their members' signatures, a method under its class header. Text is sliced from the file's bytes
by the symbol's ranges, so what the model sees is verbatim source apart from the elisions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..syntax.languages import line_comment_for
from .index import CONTAINER_KINDS, Symbol, enclosing_container

FULL_FUNCTION_LINES = 6
FULL_CONTAINER_LINES = 8
FULL_OTHER_LINES = 8
MAX_SKELETON_MEMBERS = 12
MAX_SKELETON_CHARS = 1600
MAX_MEMBER_CHARS = 160
MAX_SUMMARY_ENTRIES = 30
MAX_DOC_LINES = 4
CALLABLE_KINDS = frozenset({"function", "method", "constructor", "macro"})
BRACE_CLOSERS = ("}", "};", "end")


@dataclass(frozen=True)
class Rendered:
    """One rendered definition: ``text`` is whole lines, without a trailing newline."""

    symbol: Symbol
    text: str
    mode: str  # "full" | "signature" | "skeleton" | "head"


# --------------------------------------------------------------------------------------------
# Byte/line helpers


def line_start(source: bytes, byte: int) -> int:
    return source.rfind(b"\n", 0, byte) + 1


def line_end(source: bytes, byte: int) -> int:
    """End of the line holding ``byte`` (exclusive, without the newline)."""
    end = source.find(b"\n", byte)
    return len(source) if end < 0 else end


def lines_of(source: bytes, start: int, end: int) -> str:
    """Whole lines covering ``source[start:end]`` (no trailing newline)."""
    first = line_start(source, start)
    last = line_end(source, max(start, end - 1))
    return source[first:last].decode("utf-8", "replace").rstrip()


def indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


# --------------------------------------------------------------------------------------------
# One definition


def is_python(language_id: str) -> bool:
    return language_id == "python"


def render_symbol(
    symbol: Symbol,
    source: bytes,
    file_symbols: Sequence[Symbol],
    language_id: str,
    expanded: Mapping[tuple[str, int], str] | None = None,
    relevant: frozenset[str] = frozenset(),
) -> Rendered:
    """The text for one definition, choosing whole text, signature or skeleton by kind and
    size. A method gets its container's header line(s) above it. A skeleton lists the
    ``relevant`` members (names the current file uses) first when it must leave some out."""
    n_lines = symbol.end_line - symbol.start_line + 1
    if symbol.kind in CONTAINER_KINDS:
        if n_lines <= FULL_CONTAINER_LINES and not expanded:
            return Rendered(symbol, lines_of(source, symbol.start_byte, symbol.end_byte), "full")
        text = skeleton(symbol, source, file_symbols, language_id, expanded or {}, relevant)
        return Rendered(symbol, text, "skeleton")
    body = _callable_or_other(symbol, source, language_id)
    container = enclosing_container(symbol, file_symbols)
    if container is None:
        return Rendered(symbol, body.text, body.mode)
    return Rendered(symbol, _under_header(container, body.text, source, language_id), body.mode)


def _callable_or_other(symbol: Symbol, source: bytes, language_id: str) -> Rendered:
    n_lines = symbol.end_line - symbol.start_line + 1
    doc = _leading_comment(source, symbol.start_byte, language_id)
    if symbol.kind in CALLABLE_KINDS:
        if n_lines <= FULL_FUNCTION_LINES:
            text = lines_of(source, symbol.start_byte, symbol.end_byte)
            return Rendered(symbol, _join(doc, text), "full")
        return Rendered(symbol, _join(doc, signature(symbol, source, language_id)), "signature")
    if n_lines <= FULL_OTHER_LINES:
        return Rendered(
            symbol, _join(doc, lines_of(source, symbol.start_byte, symbol.end_byte)), "full"
        )
    return Rendered(symbol, _join(doc, head(symbol, source, language_id)), "head")


def member_text(symbol: Symbol, source: bytes, language_id: str) -> str:
    """A definition without its container's header (to show it inside the container)."""
    return _callable_or_other(symbol, source, language_id).text


def _join(doc: str, text: str) -> str:
    return f"{doc}\n{text}" if doc else text


def signature(symbol: Symbol, source: bytes, language_id: str) -> str:
    """Signature lines plus (Python) the docstring's first line, then an elided body."""
    sig = lines_of(source, symbol.start_byte, symbol.sig_end_byte)
    first = sig.split("\n", 1)[0]
    body_indent = indent_of(first) + "    "
    if is_python(language_id):
        doc = _python_docstring(source, symbol.sig_end_byte, body_indent)
        return "\n".join(part for part in (sig, doc, f"{body_indent}...") if part)
    if sig.rstrip().endswith("{"):
        comment = line_comment_for(language_id)
        return f"{sig}\n{body_indent}{comment} ...\n{indent_of(first)}}}"
    return sig


def head(symbol: Symbol, source: bytes, language_id: str) -> str:
    """The first lines of a long non-callable definition, then an elision comment."""
    text = lines_of(source, symbol.start_byte, symbol.end_byte).split("\n")
    kept = text[:FULL_OTHER_LINES]
    comment = line_comment_for(language_id)
    return "\n".join([*kept, f"{indent_of(kept[-1])}{comment} ..."])


def one_line_member(symbol: Symbol, source: bytes, language_id: str) -> str:
    """A member inside a skeleton: its signature on one line (decorators kept on their own
    lines, a multi-line parameter list joined) with the body elided."""
    if symbol.start_line == symbol.end_line:  # ``class E(Exception): pass``: already short
        return _collapse(lines_of(source, symbol.start_byte, symbol.end_byte))
    if symbol.kind in CALLABLE_KINDS or symbol.kind in CONTAINER_KINDS:
        sig = _collapse(lines_of(source, symbol.start_byte, symbol.sig_end_byte))
        if is_python(language_id):
            return sig + " ..."
        stripped = sig.rstrip()
        if stripped.endswith("{"):
            return stripped + " ... }"
        return stripped
    text = lines_of(source, symbol.start_byte, symbol.end_byte).split("\n")
    return "\n".join(line[:MAX_MEMBER_CHARS] for line in text[:3])


def one_line_summary(
    symbol: Symbol, source: bytes, file_symbols: Sequence[Symbol], language_id: str
) -> str:
    """A definition in one line (a method: under its container's header line)."""
    line = one_line_member(symbol, source, language_id)
    container = enclosing_container(symbol, file_symbols)
    if container is None:
        return line
    header = one_line_member(container, source, language_id)
    if is_python(language_id):
        header = header.removesuffix(" ...")
    else:
        header = header.removesuffix(" ... }")
    return f"{header}\n{line}"


def _collapse(signature: str) -> str:
    """Join a signature spread over several lines into one (after any decorator lines)."""
    lines = signature.split("\n")
    head = [ln for ln in lines if ln.strip().startswith("@")]
    rest = [ln for ln in lines if not ln.strip().startswith("@")]
    if len(rest) <= 1:
        joined = rest[0] if rest else ""
    else:
        joined = indent_of(rest[0]) + " ".join(ln.strip() for ln in rest)
        joined = joined.replace("( ", "(").replace(" )", ")").replace(", )", ")")
        joined = joined.replace(",)", ")").replace("[ ", "[").replace(" ]", "]")
    if len(joined) > MAX_MEMBER_CHARS:
        joined = joined[: MAX_MEMBER_CHARS - 4].rstrip() + " ..."
    return "\n".join([*head, joined])


def skeleton(
    container: Symbol,
    source: bytes,
    file_symbols: Sequence[Symbol],
    language_id: str,
    expanded: Mapping[tuple[str, int], str],
    relevant: frozenset[str] = frozenset(),
) -> str:
    """Header, docstring line, and one line per direct member; members in ``expanded`` are
    shown with the given text instead (a selected method inside a selected class)."""
    header = lines_of(source, container.start_byte, container.sig_end_byte)
    first = header.split("\n", 1)[0]
    member_indent = indent_of(first) + "    "
    parts = [header]
    if is_python(language_id):
        doc = _python_docstring(source, container.sig_end_byte, member_indent)
        if doc:
            parts.append(doc)
    members = _direct_members(container, file_symbols, relevant)
    size = sum(len(p) for p in parts)
    shown = 0
    for member in members[:MAX_SKELETON_MEMBERS]:
        text = expanded.get(member.key) or one_line_member(member, source, language_id)
        if size + len(text) > MAX_SKELETON_CHARS and member.key not in expanded:
            continue
        parts.append(text)
        size += len(text) + 1
        shown += 1
    comment = line_comment_for(language_id)
    if len(members) > shown:
        parts.append(f"{member_indent}{comment} ... {len(members) - shown} more")
    if not members and is_python(language_id):
        parts.append(f"{member_indent}...")
    closer = _closing_line(source, container)
    if closer is not None and not is_python(language_id):
        parts.append(closer)
    return "\n".join(parts)


def _direct_members(
    container: Symbol, file_symbols: Sequence[Symbol], relevant: frozenset[str] = frozenset()
) -> list[Symbol]:
    """Members directly inside ``container`` in source order; when there are too many, the
    ones kept are those named in ``relevant``, then fields and constructors, then public
    members, then private ones."""
    inside = [
        s
        for s in file_symbols
        if s.key != container.key
        and container.start_byte <= s.start_byte
        and s.end_byte <= container.end_byte
    ]
    direct = [s for s in inside if enclosing_container(s, [*inside, container]) == container]
    direct.sort(key=lambda s: s.start_byte)
    kept = sorted(direct, key=lambda s: (s.name not in relevant, _member_rank(s)))
    kept = kept[:MAX_SKELETON_MEMBERS]
    order = {s.key: i for i, s in enumerate(direct)}
    return sorted(kept, key=lambda s: order[s.key]) + [s for s in direct if s not in kept]


def _member_rank(symbol: Symbol) -> int:
    if symbol.kind in ("field", "constructor") or symbol.name in ("__init__", "new", "constructor"):
        return 0
    if symbol.name.startswith("_") and not symbol.name.startswith("__"):
        return 2
    return 1


def top_level(symbols: Sequence[Symbol]) -> list[Symbol]:
    """Symbols not inside a container symbol (one sweep in source order)."""
    out: list[Symbol] = []
    container_end = -1
    for symbol in sorted(symbols, key=lambda s: (s.start_byte, -s.end_byte)):
        if symbol.start_byte < container_end:
            continue
        out.append(symbol)
        if symbol.kind in CONTAINER_KINDS:
            container_end = symbol.end_byte
    return out


def module_summary(symbols: Sequence[Symbol], source: bytes, language_id: str) -> str:
    """A module at a glance: one line per public top-level definition (what ``mod.`` offers)."""
    top = top_level(symbols)
    public = [s for s in top if not s.name.startswith("_")] or top
    lines = [one_line_member(s, source, language_id) for s in public[:MAX_SUMMARY_ENTRIES]]
    if len(public) > MAX_SUMMARY_ENTRIES:
        comment = line_comment_for(language_id)
        lines.append(f"{comment} ... {len(public) - MAX_SUMMARY_ENTRIES} more")
    return "\n".join(lines)


def _closing_line(source: bytes, symbol: Symbol) -> str | None:
    """The last line of a braced definition when it only closes it (``}``, ``};``)."""
    last = lines_of(source, max(symbol.start_byte, symbol.end_byte - 1), symbol.end_byte)
    last_line = last.split("\n")[-1]
    return last_line if last_line.strip() in BRACE_CLOSERS else None


def _under_header(container: Symbol, body: str, source: bytes, language_id: str) -> str:
    header = lines_of(source, container.start_byte, container.sig_end_byte)
    closer = None if is_python(language_id) else _closing_line(source, container)
    return "\n".join(part for part in (header, body, closer) if part)


def _python_docstring(source: bytes, after: int, indent: str) -> str:
    """The first line of a docstring starting right after ``after``, closed if needed."""
    rest = source[after : after + 2000].decode("utf-8", "replace").lstrip()
    for quote in ('"""', "'''", '"', "'"):
        prefix_len = _string_prefix_len(rest)
        if rest[prefix_len:].startswith(quote):
            body = rest[prefix_len + len(quote) :]
            end = body.find(quote)
            first_line = body.split("\n", 1)[0]
            opener = rest[: prefix_len + len(quote)]
            if 0 <= end <= len(first_line):
                return f"{indent}{opener}{body[:end]}{quote}"
            return f"{indent}{opener}{first_line.rstrip()}{quote}"
    return ""


def _string_prefix_len(text: str) -> int:
    i = 0
    while i < len(text) and i < 2 and text[i] in "rRbBuUfF":
        i += 1
    return i if i < len(text) and text[i] in "\"'" else 0


def _leading_comment(source: bytes, start_byte: int, language_id: str) -> str:
    """Doc comment lines directly above a definition (``///``, ``//``, ``/** */``, ``#``)."""
    if is_python(language_id):
        return ""
    lines: list[str] = []
    cursor = line_start(source, start_byte)
    while cursor > 0 and len(lines) <= MAX_DOC_LINES:
        prev_start = line_start(source, cursor - 1)
        text = source[prev_start : cursor - 1].decode("utf-8", "replace").rstrip()
        stripped = text.strip()
        if not stripped or not stripped.startswith(("//", "/*", "*", "#", "--")):
            break
        if stripped.startswith("#") and language_id in ("c", "cpp"):
            break  # preprocessor lines are not documentation
        lines.append(text)
        cursor = prev_start
    lines.reverse()
    # Long docs cost more than they help; a block comment cut in its middle reads as garbage.
    if len(lines) > MAX_DOC_LINES:
        return ""
    if lines and lines[-1].strip().endswith("*/") and not lines[0].strip().startswith("/*"):
        return ""
    return "\n".join(lines)
