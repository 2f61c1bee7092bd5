"""Security end to end: secret-like files, ignored files and files outside the workspace (also
through symlinks) never reach a prompt; the API key reaches only the Authorization header."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.lsp_session import start_session

KEY = "sk-e2e-secret-7331"
ALLOWED = "ALLOWED_MARKER_0001"
SECRET = "SECRET_MARKER_"


def helper(marker: str) -> str:
    """A definition the open file calls, so retrieval would want this file's text."""
    return f'def compute_{marker.lower()}():\n    return "{marker}"\n'


async def test_secret_ignored_and_outside_files_never_reach_prompts():
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-outside-") as outside_dir:
        outside = Path(outside_dir) / "leak.py"
        outside.write_text(helper(SECRET + "OUTSIDE"))
        with tempfile.TemporaryDirectory(prefix="qwen-lsp-ws-") as ws_dir:
            ws = Path(ws_dir)
            secrets = {
                ".env": f"API_TOKEN={SECRET}DOTENV\n" + helper(SECRET + "DOTENV2"),
                "id_rsa": f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SECRET}RSA\n",
                "server.pem": helper(SECRET + "PEM"),
                "deploy.key": helper(SECRET + "KEYFILE"),
                "generated/gen.py": helper(SECRET + "IGNORED"),
            }
            for name, text in secrets.items():
                (ws / name).parent.mkdir(parents=True, exist_ok=True)
                (ws / name).write_text(text)
            (ws / "helpers.py").write_text(helper(ALLOWED))
            (ws / "linked.py").symlink_to(outside)  # a path escape through a symlink
            (ws / "linkdir").symlink_to(outside.parent, target_is_directory=True)
            names = [f"compute_{m.lower()}" for m in (ALLOWED,)] + [
                f"compute_{(SECRET + s).lower()}"
                for s in ("OUTSIDE", "DOTENV2", "PEM", "KEYFILE", "IGNORED")
            ]
            source = "".join(f"{n}()\n" for n in names) + "result = \n"
            async with FakeOpenAI(default=Reply(text="1")) as fake:
                options = {"context": {"ignoreGlobs": ["generated/**"]}}
                async with start_session(
                    fake.base_url, options, env={"QWEN_LSP_API_KEY": KEY}, root=ws
                ) as session:
                    uri = session.open("main.py", source)
                    # Ask until the workspace index is loaded (the allowed file shows up in a
                    # prompt), then a few more times.
                    line, col, after_allowed = len(names), 9, 0
                    loop = asyncio.get_running_loop()
                    deadline = loop.time() + 30
                    while after_allowed < 3 and loop.time() < deadline:
                        await session.ghost_text(uri, line, col)
                        session.change(uri, (line, col), (line, col), " ")
                        col += 1
                        if any(ALLOWED in r.body.decode("utf-8", "replace") for r in fake.requests):
                            after_allowed += 1
                        await asyncio.sleep(0.2)
                    bodies = [r.body.decode("utf-8", "replace") for r in fake.requests]
                    headers = [str(r.headers) for r in fake.requests if r.generation]
                    everything = "\n".join(session.messages() + session.logs())

    prompts = "\n".join(bodies)
    assert prompts, "no request reached the endpoint"
    assert SECRET not in prompts, next(b for b in bodies if SECRET in b)[:2000]
    assert "BEGIN OPENSSH" not in prompts
    assert KEY not in prompts and KEY not in everything
    assert all(f"Bearer {KEY}" in h for h in headers)
    # Positive control: the same retrieval does bring in the allowed workspace file, so the
    # secret files are absent because of the policy, not because nothing was retrieved.
    assert ALLOWED in prompts
