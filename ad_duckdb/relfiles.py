"""Relative file paths a source reads, and the working folder they were read from, kept with a threshold's goal.

Why: a goal ("2% of last week's rows", "precision 0.9 on the labelled rows") keeps its source as written, and a
retrain with carry_thresholds reads it again. Chosen on ``'files/tx.parquet'`` in the project's folder and carried
by a retrain a scheduler runs from another, the file was not found, and the note did not say where it had been.
"""

from __future__ import annotations

import os
import re
from typing import Any

from .sqltext import is_query

KEY = "folder"  # of a goal: the working folder its relative paths were read from
_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_FILE_END = re.compile(r"\.(parquet|csv|tsv|txt|json|jsonl|ndjson|xlsx|arrow|feather|avro)(\.(gz|zst|zstd|bz2|xz))?$",
                       re.IGNORECASE)


def _relative(path: str) -> bool:
    p = path.strip()
    return (bool(p) and not os.path.isabs(p) and "://" not in p and not p.startswith("~")
            and bool(re.search(r"[/\\*]", p) or _FILE_END.search(p)))


def relative_files(source: str) -> list[str]:
    """The relative file paths ``source`` names: itself when it is a path (``files/tx.parquet``), else the string
    literals of a table function or query that read as paths (``read_parquet('files/*.parquet')``)."""
    s = source.strip()
    if not is_query(s) and "(" not in s and not s.startswith(("'", '"')):
        return [s] if _relative(s) else []
    return [lit.replace("''", "'") for lit in _LITERAL.findall(s) if _relative(lit.replace("''", "'"))]


def with_folder(goal: dict[str, Any]) -> dict[str, Any]:
    """``goal`` with the working folder, when its source reads a relative path; unchanged otherwise."""
    source = goal.get("source")
    if isinstance(source, str) and relative_files(source):
        return {**goal, KEY: os.getcwd()}
    return goal


def absolute_source(goal: dict[str, Any]) -> str | None:
    """A goal's source with its relative paths joined to the folder it was chosen in, when that is not the working
    folder now; None otherwise."""
    folder, source = goal.get(KEY), goal.get("source")
    if not isinstance(folder, str) or not isinstance(source, str) or folder == os.getcwd():
        return None
    paths = relative_files(source)
    if not paths:
        return None
    s = source.strip()
    if paths == [s]:
        return os.path.join(folder, s)
    for p in paths:
        s = s.replace("'" + p.replace("'", "''") + "'", "'" + os.path.join(folder, p).replace("'", "''") + "'")
    return s


def elsewhere(goal: dict[str, Any]) -> str:
    """Where a goal's relative paths were read, when that is not the working folder now (a sentence); "" otherwise."""
    folder, source = goal.get(KEY), goal.get("source")
    if absolute_source(goal) is None or not isinstance(folder, str) or not isinstance(source, str):
        return ""
    path = relative_files(source)[0]
    return (f"It was chosen in the working folder {folder}, where {path!r} is {os.path.join(folder, path)!r}")
