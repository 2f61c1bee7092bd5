"""The package exports every public name of the fake endpoint, so callers import from
``tests.support.fake_openai`` whatever the server module adds."""

from __future__ import annotations

import inspect

import tests.support.fake_openai as package
from tests.support.fake_openai import server


def test_every_public_class_of_the_server_module_is_exported() -> None:
    public = {
        name
        for name, value in vars(server).items()
        if inspect.isclass(value) and value.__module__ == server.__name__ and name[0] != "_"
    }
    missing = public - set(package.__all__)
    assert missing == set(), f"add to tests/support/fake_openai/__init__.py: {sorted(missing)}"
