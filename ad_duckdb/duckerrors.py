"""DuckDB's errors as ours quote them: its message without the excerpt of the query we wrapped the user's in, and
whether it refused a column that is not there."""

from __future__ import annotations

import duckdb


def is_missing_column(e: BaseException) -> bool:
    """Whether DuckDB refused a query for a column that is not there (a misspelt name in a filter or a query).

    Why a rule of its own: such a read is "no such column" (``SourceNotFoundError``, CLI exit code 6), as a
    misspelt feature name is, not an error of any other kind.
    """
    return isinstance(e, duckdb.BinderException) and "Referenced column" in str(e)


def first_part(duckdb_message: str) -> str:
    """DuckDB's message without its "LINE 1: ..." excerpt, which quotes the query we wrapped the user's in."""
    return duckdb_message.split("\nLINE ")[0].strip().rstrip(".")
