"""Compatibility name: ``context/index.py`` (changed by other work at the moment) imports
``local_bindings`` from here; the module is ``local_names.py``. Goes in phase 2."""

from .local_names import local_bindings

__all__ = ["local_bindings"]
