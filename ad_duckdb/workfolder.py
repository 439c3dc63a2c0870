"""The working folder, which a scheduler (cron, Airflow) picks, not the user, and which may not be writable (a
read-only image, a service user in another user's folder): nothing is written there unasked, and a relative path
that fails there names it.

An in-memory database spills to ``.tmp`` in the working folder by DuckDB's default. Why moved only where that
folder cannot be written: elsewhere DuckDB's choice stays (a system temporary folder may be a small tmpfs). Why a new name per
connection: DuckDB removes the folder it created when its database closes, with any other database's files in it.

A file database spills to ``PATH.tmp`` beside the file by DuckDB's default, on the data's own disk, and DuckDB 2.0
lets two processes reading one file share that folder (each marks its files with an owner file). Where that folder
cannot be made (a read-only mount or image, another user's folder, opened read-only) it spills to the system
temporary folder instead; a ``temp_directory`` the user set is kept.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from .sqltext import quote_literal


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


def spill_beside_file(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """Point the spill folder of ``con``'s file database (at ``path``) at the system temporary folder when DuckDB's
    default, ``PATH.tmp`` beside the file, cannot be written and nobody chose another.

    Why a SET after opening rather than ``config``: DuckDB refuses a second connection to a file open with another
    configuration, so a plain ``duckdb.connect(path)`` in the same process would be refused."""
    # fetchall: a result left half-read blocks the connection's next con.sql (DuckDB 2.0)
    current = con.execute("SELECT current_setting('temp_directory')").fetchall()
    default = os.path.abspath(f"{path}.tmp")
    if not current or not current[0][0] or os.path.abspath(current[0][0]) != default:
        return  # the user's own folder, or one set already on this database
    target = Path(default)
    if os.access(target if target.is_dir() else target.parent, os.W_OK | os.X_OK):
        return
    folder = Path(tempfile.gettempdir()) / f"ad_duckdb_{os.getpid()}_{secrets.token_hex(4)}.tmp"
    try:
        con.execute(f"SET GLOBAL temp_directory = {quote_literal(str(folder))}")
    except duckdb.Error:  # spilled there already (it existed and was writable then), or the settings are locked
        return


def where(path: Path) -> str:
    """`` (in the working folder /srv/jobs)`` for a relative ``path``; "" for an absolute one. Why said: a read-only
    working folder failed `export DB tx_ae tx.onnx` with "Permission denied: 'tx.onnx'" alone."""
    if path.is_absolute():
        return ""
    try:
        return f" (in the working folder {os.getcwd()})"
    except OSError:  # the working folder was removed
        return ""
