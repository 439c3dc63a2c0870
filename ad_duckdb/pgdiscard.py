"""DISCARD and DEALLOCATE as PostgreSQL's: what a pooler sends between two users of one connection, so the next user
gets none of the last one's prepared statements (the protocol's and SQL PREPAREs, which DuckDB keeps), cursors,
settings or temporary objects.

Free functions over the session's state (``pgstate.SessionState``), which ``pgsession.Session.compat`` calls. Like
the other ``pg*`` helpers, this module never imports ``server`` and speaks no wire protocol.
"""

from __future__ import annotations

import re

import duckdb

from .pgcatalog import SESSION_OBJECTS
from .pgcommands import statement_name
from .pgerrors import ProtocolError
from .pgresult import Result
from .pgsettings import reset_settings
from .pgstate import SessionState
from .sqltext import quote_ident

# What DISCARD drops, by the kind its catalogue query names (a fixed word each, never the query's text).
_TEMP_KINDS = {"TABLE": "TABLE", "VIEW": "VIEW", "SEQUENCE": "SEQUENCE", "MACRO": "MACRO", "MACRO TABLE": "MACRO TABLE"}


def discard(s: SessionState, m: re.Match[str]) -> Result:
    """DISCARD ALL / PLANS / TEMP (``m``: pgcommands.DISCARD_RE's match)."""
    what = m.group(1).upper().replace("TEMPORARY", "TEMP")
    if what == "ALL" and s.status != b"I":
        raise ProtocolError("DISCARD ALL cannot run inside a transaction block", "25001")
    if what in ("ALL", "PLANS"):
        s.statements.clear()  # what a pooler needs: no prepared statement survives
        s.described.clear()
        deallocate(s, set(s.sql_prepared))
    if what == "ALL":
        s.close_cursors(None)  # as PostgreSQL's DISCARD ALL: CLOSE ALL
        reset_settings(s)  # and RESET ALL
    if what in ("ALL", "TEMP"):
        s.release()
        # the previous user's temporary tables and views must not reach the next one (our macros stay)
        for name, kind in s.cur.execute(
                "SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE temporary UNION ALL "
                "SELECT view_name, 'VIEW' FROM duckdb_views() WHERE temporary AND NOT internal UNION ALL "
                "SELECT sequence_name, 'SEQUENCE' FROM duckdb_sequences() WHERE temporary UNION ALL "
                "SELECT DISTINCT function_name, CASE function_type WHEN 'table_macro' THEN 'MACRO TABLE' "
                "ELSE 'MACRO' END FROM duckdb_functions() WHERE database_name = 'temp' AND NOT internal "
                "AND function_type IN ('macro', 'table_macro')").fetchall():
            if SESSION_OBJECTS.get(name) == kind:
                continue
            s.cur.execute(f"DROP {_TEMP_KINDS[kind]} IF EXISTS temp.main.{quote_ident(name)}")
        # ours stay, but the last user may have replaced one (CREATE OR REPLACE TEMP VIEW pg_class ...): the
        # next statement that reads the catalogue creates them all again, as a new connection's would
        s.made.clear()
        s.made_in_transaction.clear()
        s.has_sum_macro = s.sum_macro_in_transaction = False  # (dropped above: not one of ours)
        s.on_commit.clear()
    return Result(f"DISCARD {what}")


def deallocate_statement(s: SessionState, m: re.Match[str]) -> Result:
    """DEALLOCATE [ALL] (``m``: pgcommands.DEALLOCATE_RE's match)."""
    # Prepared statements live in this server's session (the protocol's Parse), not in DuckDB.
    name = m.group(1).strip('"')
    if name.upper() == "ALL":
        s.statements.clear()
        deallocate(s, set(s.sql_prepared))
    else:
        s.statements.pop(name, None)
        deallocate(s, {statement_name(m.group(1))})
    return Result("DEALLOCATE")


def deallocate(s: SessionState, names: set[str]) -> None:
    """Drop these SQL PREPAREs from DuckDB. Why: an SQL PREPARE lives in DuckDB, beside the protocol's statements
    (``statements``) that PostgreSQL keeps under the same names, and outlived DEALLOCATE and a pooler's DISCARD
    ALL: EXECUTE still ran it."""
    if not names:
        return
    s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
    for name in names:
        s.sql_prepared.pop(name, None)
        try:
            s.cur.execute(f"DEALLOCATE {quote_ident(name)}")
        except duckdb.Error:
            pass  # never prepared (its PREPARE failed): nothing to drop
