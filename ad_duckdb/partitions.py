"""Hive partition keys of a file source: columns DuckDB reads from folder names (``lake/month=3/x.parquet``).

Why they matter: a partition key names the folder a row was read from, not the row; next month's folder brings a
value beyond every training value, which the model scores as out of range, so default features leave keys out.
"""

from __future__ import annotations

import os
import re
from typing import Any

import duckdb

from .sqltext import is_query

_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_KEY = re.compile(r"^([^=/\\]+)=([^/\\]*)$")
_FILES_LOOKED_AT = 200  # enough to see every key; a lake's millions of files are not listed


def _patterns(source: str) -> list[str]:
    """The file paths or globs ``source`` reads: its string literals, or the whole name if it is a bare path."""
    text = source.strip()
    if "(" not in text and not is_query(text) and ("/" in text or "\\" in text or "." in text):
        return [text.strip("'")]
    literals = [m.replace("''", "'") for m in _LITERAL.findall(text)]
    return [m for m in literals if "/" in m or "\\" in m or "=" in m or os.path.isdir(m)]


def files_of(pattern: str) -> str:
    """The glob of the files DuckDB reads for ``pattern``: a folder (read_parquet('lake')) is every file below it."""
    return f"{pattern.rstrip('/' + os.sep)}/**" if os.path.isdir(pattern) else pattern


def partition_keys(cur: Any, source: str) -> dict[str, str]:
    """Each hive key (lower case) of the files ``source`` reads, with an example folder (``month=1``); {} for a
    table, a view, or a path no file matches."""
    keys: dict[str, str] = {}
    for pattern in _patterns(source):
        try:
            files = cur.execute("SELECT file FROM glob(?) LIMIT ?", [files_of(pattern), _FILES_LOOKED_AT]).fetchall()
        except duckdb.Error:  # a remote path without its extension, or no file: nothing to learn from the names
            continue
        for (path,) in files:
            for part in re.split(r"[/\\]", str(path))[:-1]:
                if m := _KEY.match(part):
                    keys.setdefault(m.group(1).lower(), part)
    return keys
