"""Secret files open in the editor (``.env``, keys, ``~/.aws/config``...): inline completion,
completion items and code actions are off inside them, with no model call at all (their text
would be the prompt). Ordinary files, also outside every workspace folder, keep working."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.e2e.test_code_actions import list_actions, pick, resolve, rng, session_for
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.lsp_session import Session

pytestmark = pytest.mark.timeout(90)

VALUE = "sk-live-SECRET-VALUE-77"
ENV_TEXT = f"API_KEY={VALUE}\nDB_PASSWORD=\n"
SECRET_FILES = [".env", "deploy/prod.env", ".aws/config", "certs/server.pem", "id_ed25519"]


def open_file(session: Session, path: Path, text: str, language_id: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    uri = path.as_uri()
    session.versions[uri] = 1
    session.client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language_id, 1, text))
    )
    return uri


async def completion_items(session: Session, uri: str, line: int, character: int) -> list:
    result = await session.client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(line, character),
        )
    )
    return list(result.items) if isinstance(result, types.CompletionList) else list(result or [])


@pytest.fixture
async def fake():
    async with FakeOpenAI(default=Reply(text="42")) as server:
        yield server


def generations(fake: FakeOpenAI) -> list:
    return [r for r in fake.requests if r.generation]


async def test_ai_features_are_off_inside_secret_files(fake: FakeOpenAI):
    async with session_for(fake.base_url) as session:
        main = session.open("main.py", "def answer():\n    return \n")
        reference = pick(await list_actions(session, main, rng((1, 4))), "Qwen: Refactor")
        for relative in SECRET_FILES:
            uri = open_file(session, session.root / relative, ENV_TEXT, "dotenv")
            assert await session.ghost_text(uri, 1, 12) is None, relative
            assert await completion_items(session, uri, 1, 12) == [], relative
            assert await list_actions(session, uri, rng((0, 0), (1, 12))) == [], relative
            # An action crafted for the secret file (a stale or hostile client) is refused.
            forged = types.CodeAction(
                title=reference.title,
                kind=reference.kind,
                data={**reference.data, "uri": uri, "version": 1},
            )
            with pytest.raises(JsonRpcException, match="looks like it holds credentials"):
                await resolve(session, forged)
        assert generations(fake) == []  # not one model call
        # Control: the endpoint answers for an ordinary file in the same session.
        assert await session.ghost_text(main, 1, 11) == "42"
        assert len(generations(fake)) == 1
    assert all(VALUE not in r.body.decode("utf-8", "replace") for r in fake.requests)


async def test_files_outside_the_workspace_keep_working_unless_secret(fake: FakeOpenAI):
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-elsewhere-") as tmp:
        elsewhere = Path(tmp)
        async with session_for(fake.base_url) as session:
            notes = open_file(session, elsewhere / "notes.py", "x = \n", "python")
            assert await session.ghost_text(notes, 0, 4) == "42"
            dotenv = open_file(session, elsewhere / ".env", ENV_TEXT, "dotenv")
            assert await session.ghost_text(dotenv, 1, 12) is None
            assert len(generations(fake)) == 1
            # A link with an ordinary name to a secret file is secret too.
            (elsewhere / "settings.py").symlink_to(elsewhere / ".env")
            alias = (elsewhere / "settings.py").as_uri()
            session.client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    types.TextDocumentItem(alias, "python", 1, ENV_TEXT)
                )
            )
            assert await session.ghost_text(alias, 1, 12) is None
            assert len(generations(fake)) == 1
    assert all(VALUE not in r.body.decode("utf-8", "replace") for r in fake.requests)


async def test_actions_offered_for_an_ordinary_file_still_run(fake: FakeOpenAI):
    """The gate is by path only: an ordinary file whose text mentions keys is not secret."""
    fake.default = Reply(text="```python\ndef answer():\n    return 42\n```")
    async with session_for(fake.base_url) as session:
        uri = session.open("keys.py", "def answer():\n    return API_KEY\n")
        action = pick(await list_actions(session, uri, rng((1, 4))), "Qwen: Refactor")
        resolved = await resolve(session, action)
        assert resolved.edit is not None
        assert len(generations(fake)) == 1
