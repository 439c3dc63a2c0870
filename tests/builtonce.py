"""Files a module fixture builds, built once per process and byte-copied for each module that asks.

Why: a module-scoped fixture that other test modules borrow (``from test_x import fixture as fixture``) runs once per
module that uses it, each time training the same model on the same rows; with a copy each, every module still gets
files of its own to write to, as when it built them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

_BUILT: dict[str, Path] = {}


def built_once(key: str, tmp_path_factory: pytest.TempPathFactory, build: Callable[[Path], object]) -> Path:
    """A new folder holding what ``build(folder)`` made, built once per process under ``key``."""
    if key not in _BUILT:
        folder = tmp_path_factory.mktemp(f"{key}_built")
        build(folder)
        _BUILT[key] = folder
    copy = tmp_path_factory.mktemp(key)
    shutil.copytree(_BUILT[key], copy, dirs_exist_ok=True)
    return copy
