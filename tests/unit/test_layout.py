"""The unit tests mirror the package: ``tests/unit/<package>/test_<module>.py`` tests
``server/qwen_lsp/<package>/<module>.py`` (tests/README.md says where everything else lives)."""

from __future__ import annotations

from pathlib import Path

UNIT = Path(__file__).parent
PACKAGE = UNIT.parents[1] / "server" / "qwen_lsp"
# Test files that test no single module: the golden fixtures run the whole filter pipeline.
NOT_A_MODULE = {"completion/postprocess/filters/test_golden.py"}


def test_every_mirrored_test_file_names_a_module_of_the_package() -> None:
    orphans = []
    for test_file in sorted(UNIT.glob("*/**/test_*.py")):
        relative = test_file.relative_to(UNIT).as_posix()
        module = PACKAGE / test_file.parent.relative_to(UNIT) / test_file.name[len("test_") :]
        if relative not in NOT_A_MODULE and not module.exists():
            orphans.append(relative)
    assert orphans == []
