"""Database files named as the command line's user typed them, not by the absolute path DuckDB gives."""

from __future__ import annotations

import os
from typing import Any

# The database files the command line opened, as their user typed them, by the path DuckDB gives (absolute).
_TYPED: dict[str, str] = {}


def typed_as(db: str) -> None:
    """The command line opens ``db`` as its user typed it (``warehouse.duckdb``): ``cli_db`` names it so.

    Why: DuckDB gives the file's absolute path, so the damaged-thresholds message of a command that scores (read
    when the functions load the store) named '/home/me/warehouse.duckdb' where `show` and `history` named the typed
    'warehouse.duckdb'."""
    _TYPED[os.path.abspath(db)] = db


def cli_db(cur: Any) -> str:
    """The database's path as the CLI commands of a note's fix name it (as the command line's user typed it, when it
    opened the file: ``typed_as``), or DB for an in-memory one."""
    row = cur.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return as_typed(row[0][0]) if row and row[0][0] else "DB"


def as_typed(path: str) -> str:
    """The database file DuckDB names ``path`` as the command line's user typed it (``typed_as``), else ``path``."""
    return _TYPED.get(os.path.abspath(path), path)
