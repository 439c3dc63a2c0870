"""SQL-level cursors as PostgreSQL clients send them: ``DECLARE``, ``FETCH``, ``MOVE``, ``CLOSE``.

psycopg's and psycopg2's named cursors, psql's ``FETCH_COUNT`` and Tableau's extracts (through psqlODBC) read a
large result in pages this way. DuckDB has no such statements, so the server keeps the cursors itself: a cursor is
the still-unread result of its query (``server.Session`` runs it and owns the rule for other statements meanwhile),
read forward only, as DuckDB streams it. Nothing here runs SQL; ``server`` does, and this module never imports it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from .pgerrors import ProtocolError
from .pgsql import bare_text
from .sqltext import quote_literal, strip_sql_ends

# A cursor's name: a quoted identifier keeps its case ("SQL_CUR0x1"), a bare one folds to lower case, as in
# PostgreSQL.
_NAME = r'(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)'
_DECLARE_RE = re.compile(
    rf"^\s*declare\s+({_NAME})\s+((?:(?:binary|asensitive|insensitive|no\s+scroll|scroll)\s+)*)cursor\s+"
    r"(?:(with|without)\s+hold\s+)?for\b(.*?)[\s;]*$", re.I | re.S)
_FETCH_RE = re.compile(
    r"^\s*(fetch|move)\s+(?:(next|prior|first|last)\s+|(absolute|relative)\s+([+-]?\d+)\s+|"
    r"(forward|backward)(?:\s+([+-]?\d+|all))?\s+|([+-]?\d+|all)\s+)?"
    rf"(?:(?:from|in)\s+)?({_NAME})\s*;?\s*$", re.I | re.S)
# FETCH, MOVE or CLOSE first, after any comments: only these statements pay for stripping comments (parse runs on
# every statement).
_CURSOR_WORD_RE = re.compile(r"\s*(?:(?:--[^\n]*(?:\n|$)|/\*.*?\*/)\s*)*(?:fetch|move|close)\b", re.I | re.S)
_CLOSE_RE = re.compile(rf"^\s*close\s+({_NAME})\s*;?\s*$", re.I)
# PostgreSQL's view of a session's cursors; psycopg reads it to close a named cursor it did not declare itself
# (quoted or not; not a column or function of that name)
_PG_CURSORS_RE = re.compile(r'(?<![\w$."])(?:"?pg_catalog"?\s*\.\s*)?(?:pg_cursors|"pg_cursors")(?![\w$"])(?!\s*\()',
                            re.I)
_PG_CURSORS_COLUMNS = "name, statement, is_holdable, is_binary, is_scrollable, creation_time"

FORWARD_ONLY = ("ad-duckdb serve reads a cursor forward only, as DuckDB streams its rows, and keeps none it has "
                "sent. What works: FETCH [NEXT | FORWARD] [n | ALL], FETCH FIRST / RELATIVE n / ABSOLUTE n at or after "
                "the current row, FETCH LAST, and the same with MOVE. For earlier rows, CLOSE the cursor and declare "
                "it again.")


def _name(token: str) -> str:
    return token[1:-1].replace('""', '"') if token.startswith('"') else token.lower()


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Declare:
    name: str
    query: str
    hold: bool
    binary: bool


@dataclass(frozen=True)
class Fetch:
    """FETCH or MOVE. ``count``: rows to read (None: all). ``to``: the row to land on (ABSOLUTE, FIRST, RELATIVE
    as an offset from where the cursor is, -1 for LAST), read after skipping the rows before it."""

    name: str
    move: bool
    count: int | None = 1
    to: int | None = None
    relative: bool = False


@dataclass(frozen=True)
class Close:
    name: str | None  # None: CLOSE ALL


def parse(sql: str) -> Declare | Fetch | Close | None:
    """The cursor statement ``sql`` is, or None if it is none. Backward directions and SCROLL are refused here,
    with what works instead."""
    m = _DECLARE_RE.match(sql)
    if m:
        options = " ".join(m.group(2).lower().split())
        if re.search(r"(?<!no )\bscroll\b", options):
            raise ProtocolError(f"SCROLL cursors are not supported: {FORWARD_ONLY} Declare it without SCROLL "
                                "(psycopg: scrollable=False or unset).", "0A000")
        return Declare(_name(m.group(1)), m.group(4).strip(), (m.group(3) or "").lower() == "with",
                       "binary" in options.split())
    if _CURSOR_WORD_RE.match(sql):  # comments around FETCH x (an editor's, a tool's tag) are not part of it
        sql = strip_sql_ends(sql)
    if re.match(r"^\s*close\s+all\s*;?\s*$", sql, re.I):
        return Close(None)
    m = _CLOSE_RE.match(sql)
    if m:
        return Close(_name(m.group(1)))
    m = _FETCH_RE.match(sql)
    if not m:
        return None
    move = m.group(1).lower() == "move"
    name = _name(m.group(8))
    word, pos_kind, pos, way, way_n, n = m.group(2), m.group(3), m.group(4), m.group(5), m.group(6), m.group(7)
    backward = (word or "").lower() == "prior" or (way or "").lower() == "backward"
    count: int | None = 1
    if way_n is not None or n is not None:
        text = (way_n or n).lower()
        count = None if text == "all" else int(text)
        backward = backward or (count is not None and count < 0)
    if backward:
        raise ProtocolError(f"{m.group(1).upper()} backward is not supported: {FORWARD_ONLY}", "0A000")
    if (word or "").lower() == "first":
        return Fetch(name, move, to=1)
    if (word or "").lower() == "last":
        return Fetch(name, move, to=-1)
    if pos_kind is not None:
        k = int(pos)
        relative = pos_kind.lower() == "relative"
        if k < 0:
            raise ProtocolError(f"{m.group(1).upper()} {pos_kind.upper()} {k} is not supported: {FORWARD_ONLY}",
                                "0A000")
        return Fetch(name, move, to=k, relative=relative)
    return Fetch(name, move, count)


class Source(Protocol):
    """A query's result as the server holds it: its columns and its unread rows (which it may swap for rows it
    read into memory, see ``server.Session.release``)."""

    columns: list[tuple[str, int, int]] | None
    rows: Iterator[tuple[Any, ...]]


@dataclass
class Cursor:
    name: str
    source: Source
    hold: bool
    binary: bool
    in_transaction: bool  # declared in the transaction still open: its ROLLBACK removes the cursor, even WITH HOLD
    statement: str = ""  # the DECLARE as sent (pg_cursors shows it)
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    position: int = 0  # rows read so far; PostgreSQL's position (0: before the first row)
    current: tuple[Any, ...] | None = None  # the row the cursor is on (FETCH 0, RELATIVE 0 return it again)
    done: bool = False  # past the last row

    def _next(self) -> tuple[Any, ...] | None:
        if self.done:
            return None
        # self.source.rows read anew each time: the server may have swapped it for the same rows held in memory
        row = next(self.source.rows, None)
        if row is None:
            self.done, self.current = True, None
            return None
        self.position += 1
        self.current = row
        return row

    def take(self, f: Fetch) -> Iterator[tuple[Any, ...]]:
        """The rows FETCH ``f`` returns (MOVE reads the same and counts them), read as they are sent. A position
        behind the cursor is refused here, before any row is read."""
        target = self.position + f.to if f.to is not None and f.relative else f.to
        if f.to == -1 and self.done and self.position > 0:  # LAST past the end: the last row is behind the cursor
            raise ProtocolError(f"Cursor {quoted(self.name)} is past its last row (row {self.position}); going back "
                                f"to it is not supported: {FORWARD_ONLY}", "0A000")
        if target is not None and f.to != -1 and (target < self.position or (self.done and target <= self.position)):
            raise ProtocolError(f"Cursor {quoted(self.name)} is on row {self.position}; going back to row "
                                f"{target} is not supported: {FORWARD_ONLY}", "0A000")
        return self._rows(f, target)

    def _rows(self, f: Fetch, target: int | None) -> Iterator[tuple[Any, ...]]:
        if target is not None:
            if f.to == -1:  # LAST: everything, landing on the final row (on it already: that row again)
                last = self.current
                while (row := self._next()) is not None:
                    last = row
                if last is not None:
                    self.done, self.current = False, last  # on the last row, not past it
                    yield last
                return
            if target == self.position:
                if self.current is not None:
                    yield self.current
                return
            while self.position < target - 1 and self._next() is not None:
                pass
            row = self._next()
            if row is not None:
                yield row
            return
        if f.count == 0:  # FETCH 0: the current row again
            if self.current is not None:
                yield self.current
            return
        left = f.count
        while left is None or left > 0:
            row = self._next()
            if row is None:
                return
            if left is not None:
                left -= 1
            yield row


class Cursors:
    """One session's open cursors, by name."""

    def __init__(self) -> None:
        self.open: dict[str, Cursor] = {}

    def check_free(self, name: str) -> None:
        if name in self.open:
            raise ProtocolError(f"cursor {quoted(name)} already exists; CLOSE it first or pick another name", "42P03")

    def add(self, c: Cursor) -> None:
        self.check_free(c.name)
        self.open[c.name] = c

    def get(self, name: str) -> Cursor:
        c = self.open.get(name)
        if c is None:
            raise ProtocolError(f"cursor {quoted(name)} does not exist", "34000")
        return c

    def holds(self, source: Source | None) -> bool:
        """Whether ``source`` is the result of a WITH HOLD cursor (which must outlive its transaction's end)."""
        return source is not None and any(c.source is source and c.hold for c in self.open.values())

    def catalog(self, sql: str) -> str:
        """``sql`` with PostgreSQL's ``pg_cursors`` view (outside string literals) as this session's cursors."""
        if "pg_cursors" not in sql.lower():
            return sql
        rows = ", ".join(
            f"({quote_literal(c.name)}, {quote_literal(c.statement)}, {c.hold}, {c.binary}, false, "
            f"TIMESTAMPTZ {quote_literal(c.created.isoformat())})" for c in self.open.values())
        view = (f"(SELECT * FROM (VALUES {rows}) AS pg_cursors({_PG_CURSORS_COLUMNS}))" if rows else
                "(SELECT NULL::VARCHAR AS name, NULL::VARCHAR AS statement, NULL::BOOLEAN AS is_holdable, "
                "NULL::BOOLEAN AS is_binary, NULL::BOOLEAN AS is_scrollable, NULL::TIMESTAMPTZ AS creation_time "
                "WHERE false)")
        # (outside strings and comments: the view's text would end a -- comment at a newline of a statement)
        for m in reversed(list(_PG_CURSORS_RE.finditer(bare_text(sql, comments=True)))):
            sql = sql[:m.start()] + view + sql[m.end():]
        return sql

    def end_transaction(self, committed: bool) -> list[Cursor]:
        """The transaction ended: cursors without HOLD go (and WITH HOLD ones it declared, if it rolled back),
        as in PostgreSQL. Returns the cursors closed."""
        gone = [c for c in self.open.values() if not c.hold or (c.in_transaction and not committed)]
        for c in gone:
            del self.open[c.name]
        for c in self.open.values():
            c.in_transaction = False
        return gone
