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


# Hard cap on what is read from one answer, whatever max_tokens said: a misbehaving endpoint
# that streams megabytes must not hold memory or the event loop (ghost text is never this long).
MAX_CHARS = 32_768


class StreamStop:
    def __init__(self, multiline: bool, base_indent: int, chat: bool = False):
        self.chat = chat
        self.multiline = multiline
        self.base_indent = base_indent
        self.text = ""
        self.newlines = 0

    def feed(self, delta: str) -> bool:
        """Add a delta; True when generation can stop.

        Linear in the answer's length: the text is rescanned only when a delta adds a line
        break (a single-line answer of megabytes in small deltas used to take seconds).
        """
        self.text += delta
        if len(self.text) >= MAX_CHARS:
            return True
        added = delta.count("\n")
        if not added:
            return False
        self.newlines += added
        if self.chat:
            return self.newlines >= MAX_LINES * 2
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
