"""A scripted next-edit model for end-to-end and editor tests: it finishes a rename.

``finish_rename`` answers a next-edit prompt (instruct format, on chat) with the prompt's
editable region where ``width`` has become ``w`` (string contents left alone), and every other
request (inline completion FIM) with nothing, so no ghost text competes for the keys.
"""

from __future__ import annotations

import re

from tests.support.fake_openai import RecordedRequest, Reply

SHAPES = """\
def describe(width, height):
    area = width * height
    print("width", width)
    return area
"""
RENAMED = SHAPES.replace("(width,", "(w,").replace("= width", "= w").replace(", width)", ", w)")
REGION = re.compile(r"<\|editable_region_start\|>\n(.*?)\n<\|editable_region_end\|>", re.S)
CURSOR = "<|user_cursor|>"


def region_of(request: RecordedRequest) -> str:
    """The editable region of an instruct next-edit prompt, without the cursor marker."""
    user = request.json["messages"][-1]["content"]
    return REGION.search(user).group(1).replace(CURSOR, "")


def renamed(region: str) -> str:
    return re.sub(r'\bwidth\b(?!")', "w", region)


def finish_rename(request: RecordedRequest) -> Reply:
    if request.route != "chat":
        return Reply(text="")
    return Reply(text=f"```python\n{renamed(region_of(request))}\n```")


def chat_prompts(requests: list[RecordedRequest]) -> list[str]:
    """The user messages of the next-edit requests, in order."""
    return [r.json["messages"][-1]["content"] for r in requests if r.route == "chat"]
