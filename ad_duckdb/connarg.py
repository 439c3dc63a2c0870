"""The connection every public function takes first: a path or another object there is told what to pass.

Why a check of its own: the commonest slip, ``ad_duckdb.train("warehouse.duckdb", ...)``, failed deep inside with
"'str' object has no attribute 'cursor'", which names neither the argument nor the fix.
"""

from __future__ import annotations

from os import PathLike

import duckdb

from .exceptions import BadInputError


def check_connection(con: object, func: str) -> None:
    """Called first in each public function taking ``con``. Why not a decorator: its frame would shift the
    ``stacklevel`` of every warning the function raises off the caller's line."""
    # Why duck-typed: dbt-duckdb hands Python models a wrapper of its cursor (DuckDBCursorWrapper), which works
    # wherever a connection does; what failed deep inside had no cursor() at all.
    if isinstance(con, duckdb.DuckDBPyConnection) or callable(getattr(con, "cursor", None)):
        return
    if isinstance(con, str | PathLike):
        path = str(con)
        raise BadInputError(f"{func}() takes a DuckDB connection first, not the path {path!r}: open it with "
                            f"con = ad_duckdb.connect({path!r}) and call {func}(con, ...).")
    raise BadInputError(f"{func}() takes a DuckDB connection first (con = ad_duckdb.connect('warehouse.duckdb'), or "
                        f"duckdb.connect(...)); got {type(con).__module__}.{type(con).__qualname__}.")
