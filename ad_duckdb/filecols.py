"""Columns that a glob's later files hold and DuckDB does not read, or reads changed.

Why: DuckDB reads a glob's files (read_parquet, read_csv, a bare path) with the first file's columns and types
unless told union_by_name=true, so a column an export added in a later month is dropped without a word (a default
training left it out unsaid, and a feature or a model that needs it was told the files have no such column), and a
later file's DOUBLE 0.05 in a column the first file holds as BIGINT is read as 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import duckdb

from . import notes
from .features import is_numeric_type
from .partitions import _patterns, files_of
from .readhints import _CALL, _PARQUET_CALL, _split_args, _with_options
from .sqltext import is_query, quote_ident, quote_literal, source_sql, strip_sql_ends

_FILES_COUNTED = 1000  # a glob of more files is not looked into: the union read would open every one
_FILES_SEARCHED = 50  # later files looked into for one that holds a column
# s3://, gs://, https://, hf://, ...: files a request each (DuckDB's file:// is local)
_REMOTE = re.compile(r"(?i)(?!file://)[a-z][\w+.-]+://")


@dataclass(frozen=True)
class LaterColumns:
    """Columns of ``source``'s later files (each with a file that holds it, None when not found among the first
    files looked at) and ``reads``, the call that reads them: the source's own, with union_by_name=true."""

    columns: dict[str, str | None]
    reads: str

    def where(self, names: list[str]) -> str:
        """The ``names`` of these columns with a file that holds each, for a message."""
        return ", ".join(f"{n!r} (in {f!r})" if (f := self.columns[n]) else repr(n) for n in names)


def _reader(source: str) -> tuple[str, Any] | None:
    """The reading function of a file source and the pattern that matches its calls; None for a table or a query."""
    s = strip_sql_ends(source).strip()
    if _PARQUET_CALL.fullmatch(s):
        return "read_parquet", _PARQUET_CALL
    if _CALL.fullmatch(s):
        return "read_csv", _CALL
    if "(" in s or is_query(s):
        return None
    path = s.strip("'").lower()
    if ".parquet" in path:
        return "read_parquet", _PARQUET_CALL
    if any(ext in path for ext in (".csv", ".tsv", ".txt")):
        return "read_csv", _CALL
    return None


def _one_file(source: str, function: str, pattern: Any, path: str) -> str:
    """``source``'s read of the one file ``path``, with the call's other options (a CSV's sep, its types)."""
    s = strip_sql_ends(source).strip()
    call = pattern.fullmatch(s)
    if not call:
        return f"{function}({quote_literal(path)})"
    text = call.group(1)
    args = _split_args(text[text.index("(") + 1: -1])
    return f"{text[: text.index('(') + 1]}{', '.join([quote_literal(path), *args[1:]])})"


def _names(cur: Any, from_item: str) -> list[str]:
    return [str(r[0]) for r in cur.execute(f"DESCRIBE SELECT * FROM {source_sql(from_item)}").fetchall()]


@dataclass(frozen=True)
class _Union:
    """A glob source's columns as DuckDB reads them (the first file's) and as read by name (``reads``)."""

    reads: str
    files: list[str]
    first: dict[str, tuple[str, str]]  # lower-case name -> (name, type), as the source reads it
    named: list[tuple[str, str]]  # (name, type) read by name
    one_file: Any  # path -> the source's read of that one file


def _union(cur: Any, source: str) -> _Union | None:
    """The source's columns read both ways; None for a table, a query, one file, a read by name already
    (union_by_name), remote files, or a glob DuckDB cannot read so."""
    reader = _reader(source)
    if reader is None or "union_by_name" in source.lower():
        return None
    function, pattern = reader
    reads = _with_options(source, "union_by_name=true", pattern, function)
    files: list[str] = []
    patterns = _patterns(source)
    if any(_REMOTE.match(p) for p in patterns):  # a note is not worth listing a bucket and opening its files
        return None
    try:
        for p in patterns:
            globbed = cur.execute("SELECT file FROM glob(?) LIMIT ?", [files_of(p), _FILES_COUNTED + 1]).fetchall()
            files += [str(r[0]) for r in globbed]
        if not 1 < len(files) <= _FILES_COUNTED or reads.startswith("the query"):
            return None
        first = {str(r[0]).lower(): (str(r[0]), str(r[1])) for r in
                 cur.execute(f"DESCRIBE SELECT * FROM {source_sql(source)}").fetchall()}
        named = [(str(r[0]), str(r[1])) for r in cur.execute(f"DESCRIBE SELECT * FROM {source_sql(reads)}").fetchall()]
    except duckdb.Error:  # the source's own read fails: its error says more, where it is read
        return None
    return _Union(reads, sorted(files), first, named, lambda path: _one_file(source, function, pattern, path))


class Compared:
    """``source``'s files compared by name at most once, on first use: what one training's notes share.

    Why: a default training's two notes (a column only later files hold, values a later file's type changes) each
    listed the glob and read every file's columns by name, twice the cost at every training (on 30 files of the same columns: 4.2 ms, now 2.1)."""

    def __init__(self, cur: Any, source: str) -> None:
        self.cur, self.source = cur, source

    @cached_property
    def union(self) -> _Union | None:
        return _union(self.cur, self.source)


def later_columns(cur: Any, source: str, compared: Compared | None = None) -> LaterColumns | None:
    """The columns ``source``'s later files hold that its read leaves out; None when there are none, for a table, a
    query, a single file, a read by name already (union_by_name), or a glob DuckDB cannot read so. Best effort.
    ``compared``: the comparison of the files already made (or to be made, and kept) for the same training."""
    u = (compared or Compared(cur, source)).union
    extra = [n for n, _ in u.named if n.lower() not in u.first] if u else []
    if u is None or not extra:
        return None
    found: dict[str, str | None] = dict.fromkeys(extra)
    for path in u.files[1: _FILES_SEARCHED + 1]:
        if all(found.values()):
            break
        try:
            held = {n.lower() for n in _names(cur, u.one_file(path))}
        except duckdb.Error:
            continue
        for n in extra:
            if found[n] is None and n.lower() in held:
                found[n] = path
    return LaterColumns(found, u.reads)


def warn_cast_columns(cur: Any, source: str, features: list[str], *, model: str,
                      compared: Compared | None = None) -> None:
    """Warn of a feature that a later file of the glob ``source`` holds as another number type, whose values change
    when DuckDB reads them as the first file's type (a DOUBLE's 0.25 read as a BIGINT 0), with the read that keeps
    them. Why a scan: a type that differs by itself is no loss (BIGINT after INTEGER, DOUBLE amounts of cents after
    DECIMAL(12,2)); the values say whether any changed. ``compared``: as for ``later_columns``."""
    u = (compared or Compared(cur, source)).union
    if u is None:
        return
    wanted = {f.lower() for f in features}
    for name, held in u.named:
        first = u.first.get(name.lower())
        if (name.lower() not in wanted or first is None or first[1] == held or not is_numeric_type(first[1])
                or not is_numeric_type(held)):
            continue
        # the type as DuckDB's DESCRIBE of the source renders it
        typed_sql = f"TRY_CAST({quote_ident(name)} AS {first[1]})"
        try:
            # a DOUBLE's last bits (69035.20000000001 read as DECIMAL 69035.20) are no change
            # fetchall, though one row: fetchone leaves the result open, and the caller's next query on ``cur`` (a
            # scoring's read of the source) was refused as "unfinished result"
            rows = cur.execute(
                f"SELECT filename, {quote_ident(name)}, {typed_sql} FROM {source_sql(u.reads)} WHERE "
                f"{quote_ident(name)} IS NOT NULL AND ({typed_sql} IS NULL OR abs({typed_sql}::DOUBLE - "
                f"{quote_ident(name)}::DOUBLE) > 1e-9 * greatest(abs({quote_ident(name)}::DOUBLE), 1)) LIMIT 1"
            ).fetchall()
        except duckdb.Error:  # no filename column to read (a column of the source's own so named): not said
            continue
        if not rows:
            continue
        row = rows[0]
        notes.warn(
            f"Model {model!r}: column {name!r} of {source!r} is {first[1]} in the glob's first file, and DuckDB reads "
            f"every file's as that type, but {str(row[0])!r} holds it as {held}, with values that change so (its "
            f"{row[1]} is read as {'NULL' if row[2] is None else row[2]}). Read the files by name, with {u.reads}, which reads it as {held} "
            "in every file.",
        )


def later_column_fix(cur: Any, source: str, names: list[str]) -> str:
    """Why ``names``, missing from ``source``, are not read, and the read that has them; "" when no later file of
    the source holds them (or ``cur`` is None)."""
    later = later_columns(cur, source) if cur is not None else None
    held = [n for n in names if later and n.lower() in {c.lower() for c in later.columns}]
    if later is None or not held:
        return ""
    by_lower = {c.lower(): c for c in later.columns}
    return (f" Later files hold {later.where([by_lower[n.lower()] for n in held])}, but DuckDB reads the columns of "
            f"a glob's first file; read the files by name, with {later.reads} (rows of files without a column have it "
            "NULL).")
