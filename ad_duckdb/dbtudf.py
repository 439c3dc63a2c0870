"""``replace_function``: one of the dbt plugin's SQL functions (re)created on dbt's connection.

Why its own: each check the dbt package calls (dbtorder, dbtcalls, dbtrunstart) creates its function the same way,
and dbt may configure the same connection again, when the new closure must replace the old one.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
from duckdb import DuckDBPyConnection
from duckdb.func import FunctionNullHandling, PythonUDFType
from duckdb.sqltypes import VARCHAR


def replace_function(conn: DuckDBPyConnection, name: str, func: Callable[..., str], arity: int) -> None:
    """Create ``name`` on ``conn``: ``arity`` VARCHAR arguments (NULLs passed in), a VARCHAR result, run per call."""
    try:  # configured again (a second configure_connection on the connection): the new closure replaces the old
        conn.remove_function(name)
    except duckdb.InvalidInputException:
        pass
    conn.create_function(name, func, [VARCHAR] * arity, VARCHAR, type=PythonUDFType.NATIVE,
                         null_handling=FunctionNullHandling.SPECIAL, side_effects=True)
