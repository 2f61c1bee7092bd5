"""Stop reading the model's stream as soon as the rest would be thrown away.

Single-line completions end at the first line break after some code; multi-line ones end once a
line dedents below the cursor's block (the model has left the scope). Stopping early closes the
HTTP stream, which frees the model server and returns ghost text sooner.
"""

from __future__ import annotations

MAX_LINES = 60


def indent_width(line: str, tab_size: int = 4) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += tab_size - width % tab_size
        else:
            break
    return width


class StreamStop:
    def __init__(self, multiline: bool, base_indent: int, chat: bool = False):
        self.chat = chat
        self.multiline = multiline
        self.base_indent = base_indent
        self.text = ""

    def feed(self, delta: str) -> bool:
        """Add a delta; True when generation can stop."""
        self.text += delta
        if self.chat:
            return self.text.count("\n") >= MAX_LINES * 2
        if not self.multiline:
            head, sep, _ = self.text.partition("\n")
            return bool(sep) and bool(head.strip())
        lines = self.text.split("\n")
        complete = lines[:-1]  # the last piece may still grow
        if len(complete) >= MAX_LINES:
            return True
        seen_code = False
        for index, line in enumerate(complete):
            if not line.strip():
                continue
            if index > 0 and seen_code and indent_width(line) < self.base_indent:
                # A closing bracket at the lower level still belongs to the completion.
                return not line.lstrip().startswith((")", "]", "}"))
            seen_code = True
        return False
