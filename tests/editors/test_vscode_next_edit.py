"""VS Code, for real: a next-edit prediction offered and accepted. code-server with the packaged
extension, the real qwen-lsp server (next_edit.enabled) and a scripted endpoint that finishes a
rename, driven in Chromium (tests/editors/vscode/next_edit.cjs): the user renames a parameter,
the extension shows the predicted edit at its uses, Tab jumps there, Tab applies it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.editors.test_vscode import (
    CHROMIUM,
    DRIVER_DIR,
    MACHINE_SETTINGS,
    NODE_BIN,
    start_code_server,
    stop_process_group,
    user_settings,
    wait_for,
)
from tests.support.fake_openai import FakeOpenAI
from tests.support.next_edit_model import RENAMED, SHAPES, chat_prompts, finish_rename

pytestmark = pytest.mark.editor


def test_a_predicted_edit_is_shown_jumped_to_and_applied_with_tab(
    tmp_path: Path, editor_env: dict[str, str]
) -> None:
    with FakeOpenAI.run_in_thread(responder=finish_rename) as fake:
        settings = user_settings(fake.base_url)
        settings["qwen-lsp.nextEdit.enable"] = True
        settings["qwen-lsp.nextEdit.debounceMs"] = 300
        server, process = start_code_server(tmp_path, editor_env, settings, MACHINE_SETTINGS)
        (server.workspace / "shapes.py").write_text(SHAPES)
        screenshots = tmp_path / "screenshots"
        screenshots.mkdir()
        try:
            config = {
                "url": f"{server.url}/?folder={server.workspace}",
                "chromium": CHROMIUM,
                "screenshotDir": str(screenshots),
                "file": "shapes.py",
                "path": str(server.workspace / "shapes.py"),
                "at": "1:14",
                "word": "w",
                "timeoutMs": 30000,
            }
            env = {**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
            done = subprocess.run(
                [str(NODE_BIN / "node"), str(DRIVER_DIR / "next_edit.cjs"), json.dumps(config)],
                cwd=DRIVER_DIR,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            lines = done.stdout.strip().splitlines()
            seen = json.loads(lines[-1]) if lines else {}
            if done.returncode != 0 or "error" in seen:
                pytest.fail(
                    f"driving VS Code failed (screenshots in {screenshots}):\n{done.stderr}\n"
                    f"{server.log_tail()}\n{server.extension_logs()}"
                )
            saved = server.workspace / "shapes.py"
            wait_for(lambda: saved.read_text() == RENAMED, 10)
            accepted = wait_for(lambda: "accepted" in server.extension_log(), 10)
            logs = server.extension_log()
        finally:
            stop_process_group(process)
        prompts = chat_prompts(fake.requests)

    # Shown: after each line the prediction changes, what it will read.
    assert sorted(seen["previews"]) == ["⇥ area = w * height", '⇥ print("width", w)'], seen
    assert seen["cursorAfterTyping"].startswith("Ln 1, Col 15")
    # The first Tab jumped to the first predicted edit (line 2, "width" in "area = width").
    assert seen["cursorAfterJump"].startswith("Ln 2, Col 12"), seen
    # The second applied the whole prediction; saved, the file has the rename finished.
    assert seen["previewsAfterApply"] == []
    assert saved.read_text() == RENAMED
    # One model call for the rename (after the keys settled), with the edit in its history;
    # then at most one more, for what follows the applied prediction. The extension told the
    # server the prediction was accepted.
    assert "+def describe(w, height):" in prompts[0] and "area = width" in prompts[0]
    assert len(prompts) <= 2 and all("area = w * height" in p for p in prompts[1:]), prompts
    assert accepted, logs
