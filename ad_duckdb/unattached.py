"""The database file a view or query reads that is not attached, named with the ``--attach`` (or ``ATTACH``) that
reads it.

Why: a view made where the warehouse was attached (dbt's profile ``attach:``, a notebook's ``ATTACH``) reads
``lake.main.tx``; read by a command that did not attach it, DuckDB said schema "lake.main" does not exist, and
ad_duckdb added to give an existing table or a SELECT, when the fix is to attach the file. A source named
``lake.main.tx`` itself already got that fix (``catalognames.missing_part``); one inside a view or query did not.
"""

from __future__ import annotations

import re

import duckdb

from .catalognames import missing_part

# DuckDB's words for a qualified table whose schema (or database) part is not there
_MISSING = re.compile(r'Table with name "?([^"]+?)"? does not exist because schema "[^"]+" does not exist')


def hint(cur: duckdb.DuckDBPyConnection, error: str, shell: bool) -> tuple[str, str] | None:
    """(the table ``error`` names, what of its name is not there and the fix) when ``error`` is DuckDB's for a
    table of a database that is not attached (or a schema that does not exist); None for any other error."""
    m = _MISSING.search(error)
    if m is None:
        return None
    table = m.group(1)
    gap = missing_part(cur, table, shell)
    return (table, gap) if gap else None
