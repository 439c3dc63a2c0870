"""What a served statement gives back: ``Result`` (its columns, its rows as they are read, its command tag, or the
COPY it starts), ``Portal`` (the extended protocol's bound statement and the result it reads), and the columns
DuckDB binds a query to without running it (``bound_columns``, which Describe and the rewrites' lookups ask).

``pgsession.Session`` makes them and ``server`` sends them; like the other ``pg*`` helpers, this module never imports
``server`` and speaks no wire protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb

from .pgcopy import CopyOut
from .pgcopyin import Loader
from .pgcursors import Cursor
from .pgerrors import ProtocolError
from .pgsql import keyword_tag
from .pgtypes import type_of


@dataclass
class Result:
    """Columns (name, oid, size), a row iterator, and the command tag for CommandComplete."""

    tag: str
    columns: list[tuple[str, int, int]] | None = None
    rows: Iterator[tuple[Any, ...]] = field(default_factory=lambda: iter(()))
    sent: int = 0
    copy: CopyOut | None = None  # COPY ... TO STDOUT: the rows go out as CopyData lines, not DataRows
    copy_in: Loader | None = None  # COPY ... FROM STDIN: the client sends CopyData, loaded into the table
    binary: bool = False  # FETCH from a BINARY cursor: binary columns also in the simple query protocol
    label: str = ""  # what the client calls this result (a cursor's name), for errors about it

    @classmethod
    def constant(cls, name: str, value: str) -> Result:
        return cls("SHOW", [(name, 25, -1)], iter([(value,)]))


def bound_columns(cur: duckdb.DuckDBPyConnection, sql: str, n_params: int) -> list[tuple[str, int, int]]:
    """Result columns of a SELECT; a DuckDB relation binds the query without running it."""
    bind = getattr(cur, "_bind", None)
    if not n_params and bind is not None:
        # Why not cur.sql: it runs a SELECT without FROM, so a Describe of SELECT nextval('ids') took an id
        try:
            names, types = bind(sql)[:2]
            return [(str(name), *type_of(t)) for name, t in zip(names, types, strict=True)]
        except (TypeError, ValueError):  # a private API of another shape (another DuckDB): the relation's
            pass
    rel = cur.sql(sql, params=[None] * n_params) if n_params else cur.sql(sql)
    return [(name, *type_of(t)) for name, t in zip(rel.columns, rel.types, strict=True)]


@dataclass
class Portal:
    sql: str
    params: list[Any]
    result_formats: list[int] = field(default_factory=list)  # Bind's: none (all text), one for all, or one each
    result: Result | None = None
    described: list[tuple[str, int, int]] | None = None  # the columns the client was told (Describe)
    cursor: Cursor | None = None  # where SQL FETCH / MOVE read it (Session.portal_cursor)
    cursor_sent: int = 0  # the rows its Executes had sent when the cursor last moved
    written: str = ""  # the client's text of ``sql`` (Parse's), which an error quotes

    def formats(self, n: int) -> list[int]:
        f = self.result_formats
        if len(f) not in (0, 1, n) or any(c not in (0, 1) for c in f):
            raise ProtocolError(f"Bind gave result format codes {f} for {n} columns; each must be 0 (text) or 1 "
                                "(binary), one for all or one per column.")
        return [f[0]] * n if len(f) == 1 else f or [0] * n

    def plan_changed(self, columns: list[tuple[str, int, int]]) -> bool:
        """Whether this run's result is no longer the one its statement was described with: columns added, dropped
        or renamed since (ALTER TABLE, CREATE OR REPLACE VIEW, SET search_path), or of another type in a query
        without parameters. Why only there: DuckDB types a parameter by its value, so with parameters a column's
        type may vary from run to run with the same tables (as_told sends it as the type the client was told)."""
        told = self.described
        if told is None:
            return False
        # a RETURNING list was described as a SELECT of it (returning_select), whose expressions DuckDB names
        # without the casts it binds into the write's: only the count can tell
        write = keyword_tag(self.sql) in ("INSERT", "UPDATE", "DELETE")
        if len(told) != len(columns) or not write and [c[0] for c in told] != [c[0] for c in columns]:
            return True
        return not self.params and [c[1] for c in told] != [c[1] for c in columns]
