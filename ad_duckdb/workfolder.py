"""The working folder, which a scheduler (cron, Airflow) picks, not the user, and which may not be writable (a
read-only image, a service user in another user's folder): nothing is written there unasked, and a relative path
that fails there names it.

An in-memory database spills to ``.tmp`` in the working folder by DuckDB's default. Why moved only where that
folder cannot be written: elsewhere DuckDB's choice stays (a system temporary folder may be a small tmpfs). Why a new name per
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
    # DuckDB reads a setting's name in any case: a TEMP_DIRECTORY of the user's is theirs too
    if config and any(str(k).lower() == "temp_directory" for k in config):
        return config
    try:
        writable = os.access(Path.cwd(), os.W_OK)
    except OSError:  # the working folder was removed
        writable = False
    if writable:
        return config
    folder = Path(tempfile.gettempdir()) / f"ad_duckdb_{os.getpid()}_{secrets.token_hex(4)}.tmp"
    return {**(config or {}), "temp_directory": str(folder)}


def where(path: Path) -> str:
    """`` (in the working folder /srv/jobs)`` for a relative ``path``; "" for an absolute one. Why said: a read-only
    working folder failed `export DB tx_ae tx.onnx` with "Permission denied: 'tx.onnx'" alone."""
    if path.is_absolute():
        return ""
    try:
        return f" (in the working folder {os.getcwd()})"
    except OSError:  # the working folder was removed
        return ""
