"""The caller's ``file_search_path`` on ad_duckdb's own cursors, so a relative file path reads the same file there.

Why: ``SET file_search_path = '/lake'`` is a setting of the connection that ran it, and a cursor (``con.cursor()``)
starts without it. ad_duckdb reads sources through cursors of its own, so ``'files/tx.parquet'``, which the user's
own SELECT had just read from /lake, was looked for in the working folder alone, and ``train`` said no file matched.
Unlike USE or search_path (``callerview``), which can make a name mean another table and so are refused, the
setting only adds folders where a file that is not found otherwise is looked for: carried as is.
"""

from __future__ import annotations

import duckdb

from .sqltext import quote_literal


def carry(caller: duckdb.DuckDBPyConnection, cur: duckdb.DuckDBPyConnection) -> None:
    """Give ``cur`` the ``file_search_path`` of ``caller`` (its connection), when that has one.

    ``caller.sql``, not ``execute``: ``execute`` would replace a half-read result of the caller's, while ``sql``
    refuses (and the setting is then not carried: a relative path reads from the working folder, as before)."""
    if caller is cur:
        return
    try:
        path = caller.sql("SELECT current_setting('file_search_path')").fetchall()[0][0]
    except duckdb.Error:
        return
    if path:
        cur.execute(f"SET file_search_path = {quote_literal(str(path))}")


def searched(cur: object) -> str:
    """" or the folders of file_search_path, ..." when ``cur`` has one (for where a relative path was looked for)."""
    try:
        path = cur.execute("SELECT current_setting('file_search_path')").fetchall()[0][0]  # type: ignore[attr-defined]
    except Exception:  # no cursor to ask, or one that cannot answer now
        return ""
    return f" and the folders of the connection's file_search_path, {path}" if path else ""
