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
# the words after which a literal is a file read as a table, and the calls of the functions that read files
_AFTER_FROM = re.compile(r"\b(from|join)$", re.IGNORECASE)
_READER = re.compile(r"\b(read_\w+|\w+_scan|parquet_\w+|glob|sniff_csv)\s*$", re.IGNORECASE)
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
    return [lit for lit in _file_literals(s) if _relative(lit)]


def _file_literals(s: str) -> list[str]:
    """The string literals of ``s`` that it reads as files: right after FROM or JOIN (``FROM 'tx.parquet'``), or a
    positional argument of a file-reading function (``read_parquet(['a/x.parquet', 'b/*.parquet'])``). Not any other
    literal with a slash: ``WHERE code <> 'n/a'``'s was taken for a relative path, and the note of a carried goal
    sent the retrain to the folder it was chosen in, with the filter's literal made '<folder>/n/a'."""
    out: list[str] = []
    opened: list[str] = []  # the text before each open parenthesis, outside literals
    last = 0
    for m in _LITERAL.finditer(s):
        between = s[last:m.start()]
        for i, ch in enumerate(between):
            if ch == "(":
                opened.append(s[:last + i])
            elif ch == ")" and opened:
                opened.pop()
        last = m.end()
        before = s[:m.start()].rstrip()
        if _AFTER_FROM.search(before) or (opened and _READER.search(opened[-1]) and not before.endswith(("=", "=>"))):
            out.append(m.group(1).replace("''", "'"))
    return out


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
    return joined(source, folder)


def joined(source: str, folder: str) -> str | None:
    """``source`` with its relative paths joined to ``folder``; None when it reads none."""
    paths = relative_files(source)
    if not paths:
        return None
    s = source.strip()
    if paths == [s]:
        return os.path.join(folder, s)
    for p in paths:
        s = s.replace("'" + p.replace("'", "''") + "'", "'" + os.path.join(folder, p).replace("'", "''") + "'")
    return s


def training_folder(source: str) -> dict[str, str]:
    """What a model's metrics keep of where its training read ``source``: the working folder, when ``source`` reads
    a relative path (its retrain call then reads the same file from anywhere); {} otherwise."""
    return {"train_folder": os.getcwd()} if relative_files(source) else {}


def elsewhere(goal: dict[str, Any]) -> str:
    """Where a goal's relative paths were read, when that is not the working folder now (a sentence); "" otherwise."""
    folder, source = goal.get(KEY), goal.get("source")
    if absolute_source(goal) is None or not isinstance(folder, str) or not isinstance(source, str):
        return ""
    path = relative_files(source)[0]
    return (f"It was chosen in the working folder {folder}, where {path!r} is {os.path.join(folder, path)!r}")
