"""The stored models whose row DuckDB cannot read, the file's block holding it damaged, told model by model.

Why: one damaged block of ``ad_models``' ONNX bytes made every command fail on the whole file ("the database file is
damaged ... restore it from a backup"), naming no model, though the models' names, sources and parameters, and every
other table, still read. DuckDB compresses the ONNX bytes of many rows into one run of blocks, so the models sharing
the damaged block are all lost; each is now named as damaged (``ad-duckdb list``), with the recovery: drop those
models, which frees the block, then import each from its exported .onnx file or train it again.
"""

from __future__ import annotations

from typing import Any

from . import damagedstore  # the module, not its name: damagedstore imports store, which imports this module
from .damagedfile import is_damage


def damaged_row(name: str, version: int, e: BaseException) -> str:
    """The problem of model ``name@version``, whose stored row DuckDB cannot read (``is_damage(e)``), with the fix."""
    said = " ".join(str(e).split())
    ref = f"{name}@{version}"
    return (f"Model {ref!r}: its stored ONNX bytes are in a damaged block of the database file ({said}), so it cannot "
            "be loaded; other models stored in the same block are unreadable too (ad-duckdb list says which). "
            f"Recover: drop every model list shows so (ad-duckdb drop DB {ref}), which frees the block, then import "
            "each from its exported .onnx file (ad-duckdb import DB FILE) or train it again (its source and "
            f"parameters still read: SELECT source, params FROM ad_models WHERE name = '{name}').")


def rows_one_by_one(cur: Any, cols_sql: str, first: BaseException, keys: list[tuple[str, int]] | None = None
                    ) -> tuple[list[tuple[Any, ...]], dict[tuple[str, int], str]]:
    """``SELECT cols_sql FROM ad_models`` (by name, version) read row by row after the read of all of them (or of the
    rows ``keys``, (name, version) each) failed on a damaged block (``first``): the rows read, and the problem of each
    that cannot be (``damaged_row``). Raises ``damagedstore.store_damaged``'s error when even the models' names cannot
    be read."""
    if keys is None:
        try:
            keys = cur.execute("SELECT name, version FROM ad_models ORDER BY name, version").fetchall()
        except Exception as e:
            if is_damage(e):
                raise damagedstore.store_damaged(cur, e) from first
            raise
    rows: list[tuple[Any, ...]] = []
    problems: dict[tuple[str, int], str] = {}
    for name, version in keys:
        try:
            rows.extend(cur.execute(f"SELECT {cols_sql} FROM ad_models WHERE name = ? AND version = ?",
                                    [name, version]).fetchall())
        except Exception as e:
            if not is_damage(e):
                raise
            problems[(str(name), int(version))] = damaged_row(str(name), int(version), e)
    return rows, problems
