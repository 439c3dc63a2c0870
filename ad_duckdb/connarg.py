"""The connection every public function takes first: a path or another object there is told what to pass.

Why a check of its own: the commonest slip, ``ad_duckdb.score("warehouse.duckdb", ...)``, failed deep inside with
"'str' object has no attribute 'cursor'", which names neither the argument nor the fix. (``train`` takes a path as
well, which it opens itself: ``trainhold``.)
"""

from __future__ import annotations

from os import PathLike
from typing import cast

import duckdb

from .exceptions import BadInputError


def check_connection(con: object, func: str) -> duckdb.DuckDBPyConnection:
    """The connection ``func`` works on; called first in each public function taking ``con``."""
    if isinstance(con, duckdb.DuckDBPyConnection):
        _check_open(con, func)
        return con
    if con is duckdb:
        # Why taken: the module stands for its default connection in duckdb.sql(...), and a notebook that works with
        # that passed the module here, which worked (it has cursor() and create_function() too) before this check
        return duckdb.default_connection()
    if callable(getattr(con, "cursor", None)):
        # Why duck-typed: dbt-duckdb hands Python models a wrapper of its cursor (DuckDBCursorWrapper), which works
        # wherever a connection does; what failed deep inside had no cursor() at all.
        return cast(duckdb.DuckDBPyConnection, con)
    if isinstance(con, str | PathLike):
        path = str(con)
        raise BadInputError(f"{func}() takes a DuckDB connection first, not the path {path!r}: open it with "
                            f"con = ad_duckdb.connect({path!r}) and call {func}(con, ...).")
    raise BadInputError(f"{func}() takes a DuckDB connection first (con = ad_duckdb.connect('warehouse.duckdb'), or "
                        f"duckdb.connect(...)); got {type(con).__module__}.{type(con).__qualname__}.")


def _check_open(con: duckdb.DuckDBPyConnection, func: str) -> None:
    """Refuse a closed connection. Why: DuckDB's "Connection Error: Connection already closed!" came from deep inside
    (a cursor of ours, a registration), naming neither the function nor the fix; a cursor costs some microseconds."""
    try:
        con.cursor().close()
    except duckdb.ConnectionException as e:
        if "closed" not in str(e):
            raise
        from .udfowners import OPEN_ARGS  # here: udfs imports this module

        opened = OPEN_ARGS.get(con)
        path = repr(opened[0]) if opened else "'warehouse.duckdb'"
        raise BadInputError(f"{func}(): the connection passed is closed (con.close() ran, or the `with` block that "
                            f"opened it ended); open the database again, con = ad_duckdb.connect({path}), and pass "
                            "that.") from None
