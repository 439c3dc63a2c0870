"""The catalogue objects a session creates on its own cursor as its statements need them: PostgreSQL's catalogue
views and macros (pgcatalog.SESSION_SQL), pgsum's and pgpercentile's macros, and the DuckDB variables through which
current_setting() and pg_settings read the session's settings; and what a transaction's end keeps of them.

Why as needed: a session saves the time DuckDB spends binding what it never reads. Free functions over the session's
state (``pgstate.SessionState``). Like the other ``pg*`` helpers, this module never imports ``server`` and speaks no
wire protocol.
"""

from __future__ import annotations

import re

from .pgcatalog import BACKEND_PID_SQL, SESSION_OBJECTS, backend_pid_sql, catalog_objects
from .pgcatalogversion import VERSION
from .pgcommands import CUSTOM_SETTINGS_VARIABLE, PREPARE_NAME_RE, statement_name
from .pgpercentile import CONT_MACRO, CONT_MACRO_SQL
from .pgstate import SessionState
from .pgsum import SUM_MACRO, SUM_MACRO_SQL

# an SQL EXECUTE, whose PREPAREd text may call pgsum's macro
EXECUTE_WORD_RE = re.compile(r"\s*execute\b", re.I)
EXECUTE_NAME_RE = re.compile(r'\s*execute\s+("(?:[^"]|"")+"|\w+)', re.I)  # an SQL EXECUTE's name (PREPARE_NAME_RE's)


def provide(s: SessionState, sql: str) -> None:
    """Create what statement ``sql`` (the session's rewrite of the client's) reads and the session has not created
    yet: the catalogue objects it names (and those an SQL PREPARE it EXECUTEs named), pgsum's macro, and the DuckDB
    variables of the settings it reads."""
    needed = catalog_objects(sql)
    if (p := PREPARE_NAME_RE.match(sql)) is not None:
        s.sql_prepared[statement_name(p.group(1))] = needed
    elif (x := EXECUTE_NAME_RE.match(sql)) is not None:
        # PostgreSQL keeps a PREPARE through ROLLBACK; the objects it created in that transaction went with it
        needed |= s.sql_prepared.get(statement_name(x.group(1)), frozenset())
    if s.status != b"E" and (missing := needed - s.made):
        catalog(s, missing)  # (a failed transaction refuses the statement anyway, _one)
    if not s.has_sum_macro and s.status != b"E" \
            and (SUM_MACRO in sql or CONT_MACRO in sql or s.sql_prepared and EXECUTE_WORD_RE.match(sql)):
        sum_macro(s)  # an SQL PREPARE's text may name it, past the ROLLBACK or DISCARD that dropped it
    if ("pg_application_name" in sql or "pg_current_setting" in sql) \
            and s.application_name_variable != s.application_name:
        # current_setting('application_name') reads the session's value from a DuckDB variable of this cursor
        # (pgcatalogsql._settings), set only when a statement reads it
        s.release()
        s.cur.execute("SET VARIABLE pg_application_name = ?", [s.application_name])
        s.application_name_variable = s.application_name
    settings = "pg_current_setting" in sql or "pg_settings" in sql  # (the macro and the view read them too)
    if ("pg_time_zone" in sql or settings) and s.time_zone_variable != s.zone_alias():
        # current_setting('TimeZone'), as SHOW TimeZone says it: PostgreSQL's name of an offset zone, kept in a
        # DuckDB variable of this cursor (pgcatalogsql._settings), set only when a statement reads it
        s.release()
        s.cur.execute("SET VARIABLE pg_time_zone = ?", [s.zone_alias()])
        s.time_zone_variable = s.zone_alias()
    if (CUSTOM_SETTINGS_VARIABLE in sql or settings) and s.custom_variable != s.custom_settings:
        # current_setting('app.tenant') reads the session's dotted settings (and its SET work_mem) from a DuckDB
        # variable of this cursor (pgcatalogsql._settings, the catalogue's pg_settings), set only when a statement reads it
        s.release()
        s.cur.execute("SET VARIABLE pg_custom_settings = map(?::VARCHAR[], ?::VARCHAR[])",  # (the constant's)
                      [list(s.custom_settings), list(s.custom_settings.values())])
        s.custom_variable = dict(s.custom_settings)
    if ("pg_max_connections" in sql or settings) and not s.max_connections_variable:
        s.release()
        s.cur.execute("SET VARIABLE pg_max_connections = ?", [str(s.max_connections)])
        s.max_connections_variable = True


def catalog(s: SessionState, names: frozenset[str]) -> None:
    """Create this session's catalogue views and macros (pgcatalog.SESSION_SQL) of ``names`` (lower case), in
    SESSION_SQL's order (each after those it names)."""
    s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
    try:
        for i, (name, q) in enumerate(zip(SESSION_OBJECTS, s.catalog_sql.texts, strict=True)):
            if name.lower() in names:
                s.cur.execute(backend_pid_sql(s.pid) if q == BACKEND_PID_SQL
                              else s.catalog_sql.statement(i, s.cur))
    except BaseException:
        # Part of it may exist (CREATE OR REPLACE makes a retry safe); in a transaction block the failure fails
        # the transaction, as the statement's own error would.
        if s.status == b"T":
            s.status = b"E"
        raise
    s.made |= names
    s.queried = True
    if s.status != b"I" or s.implicit or s.batch:
        s.made_in_transaction |= names


def catalog_end(s: SessionState, committed: bool) -> None:
    """The transaction ended: a catalogue (or sum macro) created inside it is gone unless it committed; a change
    of the catalogue in it is shown to the other sessions (or undone), and what this one read in it is dropped
    (pgcatalogversion, pgjsoncols)."""
    if s.catalogue_changed:
        VERSION.bump()
        s.catalogue_changed = False
    s.json_cache.transaction_ended()
    if not committed:
        s.made -= s.made_in_transaction
    s.made_in_transaction.clear()
    if s.sum_macro_in_transaction:
        s.has_sum_macro, s.sum_macro_in_transaction = committed, False


def sum_macro(s: SessionState) -> None:
    """Create the macro a query's sum() of integers becomes (pgsum), and percentile_cont's key's (pgpercentile),
    once. Not with the catalogue: a session's first sum() would pay the ~20 ms (and more, on a busy server)
    DuckDB spends binding its views."""
    s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
    try:
        s.cur.execute(SUM_MACRO_SQL + "; " + CONT_MACRO_SQL)
    except BaseException:
        if s.status == b"T":
            s.status = b"E"  # as the statement's own error would
        raise
    s.has_sum_macro = True
    s.sum_macro_in_transaction = s.status != b"I" or s.implicit or s.batch
