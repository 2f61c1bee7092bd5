"""End to end: the real server over stdio indexes the workspace in its background worker, and a
completion in one file sends the definition of a function from another file to the endpoint in
Qwen's repo-level format; secret files never reach the endpoint."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.lsp_session import start_session

SECRET = "sk-live-E2E-SECRET-9931"
GEOMETRY = '''"""Shapes in the plane."""
import math


def area_of_circle(radius: float) -> float:
    """Area of a circle of the given radius."""
    return math.pi * radius ** 2
'''
MAIN = "from shapes.geometry import area_of_circle\n\n\ndef report(r):\n    area = \n"


@pytest.fixture
async def fake():
    async with FakeOpenAI() as server:
        yield server


def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "shapes").mkdir(parents=True)
    (root / "shapes" / "__init__.py").write_text("", encoding="utf-8")
    (root / "shapes" / "geometry.py").write_text(GEOMETRY, encoding="utf-8")
    (root / ".env").write_text(f"API_TOKEN={SECRET}\n", encoding="utf-8")
    (root / "config").mkdir()
    (root / "config" / "prod.key").write_text(f"{SECRET}\n", encoding="utf-8")
    return root


async def prompt_with(session, fake: FakeOpenAI, uri: str, needle: str) -> str:
    """Ask until the background index has caught up (it starts after ``initialized``)."""
    prompt = ""
    first_line = len(MAIN.split("\n", 1)[0])
    for attempt in range(100):
        if attempt:
            # Change the text before the cursor so the completion cache cannot answer.
            session.change(uri, (0, first_line), (0, first_line), " ")
            first_line += 1
        fake.script(Reply(text="area_of_circle(r)"))
        await session.ghost_text(uri, 4, 11)
        prompt = fake.generations[-1].json["prompt"]
        if needle in prompt:
            return prompt
        await asyncio.sleep(0.1)
    return prompt


async def test_definition_from_another_file_reaches_the_endpoint(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    root = workspace(tmp_path)
    async with start_session(fake.base_url, root=root) as session:
        env_uri = session.open(".env", f"API_TOKEN={SECRET}\n", language_id="dotenv")
        uri = session.open("app/main.py", MAIN)
        prompt = await prompt_with(session, fake, uri, "def area_of_circle")
        assert prompt.startswith("<|repo_name|>proj\n<|file_sep|>shapes/geometry.py\n")
        assert "def area_of_circle(radius: float) -> float:" in prompt
        # (retries may have added spaces at the end of the import line)
        assert re.sub(r"area_of_circle +\n", "area_of_circle\n", prompt).endswith(
            "<|file_sep|>app/main.py\n<|fim_prefix|>from shapes.geometry import area_of_circle"
            "\n\n\ndef report(r):\n    area = <|fim_suffix|>\n<|fim_middle|>"
        )
        # Nothing from secret-like files, open in the editor or not, in any request.
        for recorded in fake.requests:
            assert SECRET not in recorded.body.decode("utf-8", "replace")
        assert env_uri  # the .env document was opened (and must not leak)
