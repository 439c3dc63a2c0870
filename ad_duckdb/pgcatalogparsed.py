"""The catalogue's statements (pgcatalog.SESSION_SQL, as one served database fills it in), each parsed once for all the
sessions of that database, which create its views and macros on their own cursors (pgobjects.catalog).

Why: parsing its ~100 KB of SQL was a fifth of the time a session spent creating the catalogue, and every new
connection of a BI tool (psql's \\d, Metabase's and DBeaver's metadata reads) paid it again for the same text. DuckDB
runs a parsed statement (duckdb.Statement) on any cursor, copying it, so one parse serves every session; what each
session still does itself is binding the views and macros to its own catalogue (its temporary tables must show in
its own pg_class only). A statement is parsed the first time a session needs it: a server whose clients never read
the catalogue parses none of it.

The parse takes the parser's settings of the cursor it runs on; every session's cursor has the same (the server sets
integer_division for the whole database before the first session, and sessions may SET only TimeZone).
"""

from __future__ import annotations

import threading

import duckdb


class CatalogStatements:
    """The catalogue's statements ``texts`` (one per object, pgcatalog.SESSION_OBJECTS' order), parsed on demand once
    for every session of one served database (pgbackend.Backend); any thread may ask."""

    def __init__(self, texts: tuple[str, ...]) -> None:
        self.texts = texts
        self._parsed: list[duckdb.Statement | None] = [None] * len(texts)
        self._lock = threading.Lock()
        self.parses = 0  # statements parsed so far: at most one per object, however many sessions created it

    def statement(self, i: int, cur: duckdb.DuckDBPyConnection) -> duckdb.Statement:
        """The ``i``-th statement, parsed (on ``cur``, the first time any session asks for it)."""
        parsed = self._parsed[i]
        if parsed is None:
            with self._lock:  # (two sessions asking at once: one parse)
                parsed = self._parsed[i]
                if parsed is None:
                    (parsed,) = cur.extract_statements(self.texts[i])
                    self._parsed[i] = parsed
                    self.parses += 1
        return parsed
