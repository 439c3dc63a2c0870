"""Where an in-memory database spills: DuckDB's default is ``.tmp`` in the working folder, which a scheduler's may
not take (a read-only image, a service user in another user's folder).

Why only there: elsewhere DuckDB's choice stays (a system temporary folder may be a small tmpfs). Why a new name per
connection: DuckDB removes the folder it created when its database closes, with any other database's files in it.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any


def in_memory_config(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """``config`` for ``duckdb.connect(":memory:", config=...)``: with ``temp_directory`` in the system temporary
    folder when the working folder cannot be written and the caller chose none; else as given."""
    if config and "temp_directory" in config:
        return config
    try:
        writable = os.access(Path.cwd(), os.W_OK)
    except OSError:  # the working folder was removed
        writable = False
    if writable:
        return config
    folder = Path(tempfile.gettempdir()) / f"ad_duckdb_{os.getpid()}_{secrets.token_hex(4)}.tmp"
    return {**(config or {}), "temp_directory": str(folder)}
