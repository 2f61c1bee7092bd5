"""Reading a chat model's answer: drop ``<think>`` blocks, pick the code block, refuse prose.

Actions ask for exactly one fenced code block, but models add explanations, several blocks,
thinking, or no fence at all. The rules, in order:

1. ``<think>…</think>`` is removed (also a lone ``</think>`` whose opening the chat template
   added, and an unterminated ``<think>`` that swallowed the whole answer).
2. Fenced blocks labelled with the document's language win (the longest one if several), then
   unlabelled blocks, then blocks with another label whose code parses in the document's language.
3. Without any fence, the raw answer is used only when it plainly is code: no prose lines, and it
   parses without errors when the language has a grammar.

Every failure raises :class:`AnswerError` with a sentence the user can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Parser

from ..syntax.analysis import error_count
from ..syntax.languages import get_language, language_id_for

THINK_BLOCK = re.compile(r"<think>.*?</think>", re.S)
FENCE_OPEN = re.compile(r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*?)[ \t]*$")
# A line that reads like an English sentence: "Here is the fixed code:", "Sorry, I can't ..."
PROSE_LINE = re.compile(r"^[A-Z][A-Za-z']*,?(\s+[\w'\u2019,()/-]+){2,}[.!?:]?$")
CODE_CHARS = re.compile(r"[(){}\[\]=;:<>]")
QUOTE_CHARS = 80
# Languages whose fences are interchangeable (a ```js block in a .jsx file is fine).
FAMILIES = {
    "javascriptreact": "javascript",
    "typescriptreact": "typescript",
    "c": "c",
    "cpp": "c",
}


class AnswerError(ValueError):
    """The model's answer cannot be used; the message says why, for the user."""


@dataclass(frozen=True)
class CodeBlock:
    info: str  # the fence's language label, lower-cased ("" when none)
    code: str
    closed: bool  # False when the answer ended inside the block (cut by max_tokens)


def strip_thinking(answer: str) -> str:
    """The answer without reasoning blocks."""
    text = THINK_BLOCK.sub("", answer)
    if "</think>" in text:  # the template opened <think> for the model; only the close is here
        text = text.rsplit("</think>", 1)[1]
    if "<think>" in text:
        text = text.split("<think>", 1)[0]  # never closed: everything after it is thinking
    return text


def code_blocks(text: str) -> list[CodeBlock]:
    """Fenced blocks in markdown order; an unclosed last block runs to the end."""
    blocks: list[CodeBlock] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        match = FENCE_OPEN.match(lines[i].rstrip("\r"))
        if match is None:
            i += 1
            continue
        fence = match.group("fence")
        info = match.group("info").split()[0].lower() if match.group("info").strip() else ""
        body: list[str] = []
        i += 1
        closed = False
        while i < len(lines):
            line = lines[i].rstrip("\r")
            if line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
                closed = True
                break
            body.append(lines[i])
            i += 1
        blocks.append(CodeBlock(info=info, code="\n".join(body), closed=closed))
        i += 1
    return blocks


def same_language(info: str, language_id: str) -> bool:
    """Whether a fence label names the document's language (aliases and families included)."""
    if not info:
        return False
    named = language_id_for(info)
    return named == language_id or FAMILIES.get(named, named) == FAMILIES.get(
        language_id, language_id
    )


def parses_cleanly(code: str, language_id: str) -> bool | None:
    """True/False when the language has a grammar, None when it has none."""
    language = get_language(language_id)
    if language is None:
        return None
    tree = Parser(language).parse(code.encode("utf-8", "surrogatepass"))
    return error_count(tree) == 0


def looks_like_code(text: str, language_id: str) -> bool:
    """A fence-less answer is taken as code only when nothing in it reads like prose."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines or not CODE_CHARS.search(text):
        return False
    if any(PROSE_LINE.match(line) and not CODE_CHARS.search(line) for line in lines):
        return False
    if any(PROSE_LINE.match(line) and line.endswith((".", ":")) for line in lines[:1]):
        return False
    return parses_cleanly(text, language_id) is not False


def quote(text: str) -> str:
    """The start of an answer, on one line, for an error message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1] + "…"


def choose_block(blocks: list[CodeBlock], language_id: str) -> CodeBlock | None:
    """The block most likely to be the answer (see the module docstring)."""
    matching = [b for b in blocks if same_language(b.info, language_id) and b.code.strip()]
    if matching:
        return max(matching, key=lambda b: len(b.code))
    unlabelled = [b for b in blocks if not b.info and b.code.strip()]
    if unlabelled:
        return max(unlabelled, key=lambda b: len(b.code))
    others = [b for b in blocks if b.code.strip() and parses_cleanly(b.code, language_id)]
    return max(others, key=lambda b: len(b.code)) if others else None


def extract_code(answer: str, language_id: str) -> str:
    """The code the model answered with; raises AnswerError when there is none."""
    text = strip_thinking(answer)
    if not text.strip():
        if answer.strip():
            raise AnswerError("the model's answer contained only its reasoning (<think>), no code")
        raise AnswerError("the model returned an empty answer")
    blocks = code_blocks(text)
    if blocks:
        block = choose_block(blocks, language_id)
        if block is None:
            if all(not b.code.strip() for b in blocks):
                raise AnswerError("the model's code block is empty")
            labels = ", ".join(sorted({f"```{b.info}" for b in blocks if b.info}))
            raise AnswerError(f"the model answered with {labels}, not {language_id} code")
        return block.code.strip("\n")
    if looks_like_code(text, language_id):
        return text.strip("\n")
    raise AnswerError(f'the model did not answer with a code block (it said: "{quote(text)}")')


def extract_text(answer: str) -> str:
    """A prose answer (explanations) without reasoning; raises AnswerError when empty."""
    text = strip_thinking(answer).strip()
    if not text:
        raise AnswerError("the model returned an empty answer")
    return text
