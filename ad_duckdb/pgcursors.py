"""SQL-level cursors as PostgreSQL clients send them: ``DECLARE``, ``FETCH``, ``MOVE``, ``CLOSE``.

psycopg's and psycopg2's named cursors, psql's ``FETCH_COUNT`` and Tableau's extracts (through psqlODBC) read a
large result in pages this way. DuckDB has no such statements, so the server keeps the cursors itself: a cursor is
the still-unread result of its query (``pgsession.Session`` runs it and owns the rule for other statements meanwhile),
read forward only as DuckDB streams it, or, declared SCROLL, kept as it is read so it can go back. Nothing here
runs SQL; ``server`` does, and this module never imports it.
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

# PostgreSQL's refusal of a backward move on a cursor declared without SCROLL (SQLSTATE 55000), word for word:
# clients and tools match on it. The hint adds what SCROLL costs here.
SCAN_FORWARD = "cursor can only scan forward"
SCROLL_HINT = ("Declare it with SCROLL option to enable backward scan. (ad-duckdb serve streams a cursor without "
               "SCROLL and keeps no row it has sent; a SCROLL cursor keeps the rows it has read, up to "
               "{max:,}.) Or CLOSE it and declare it again.")
# A SCROLL cursor keeps every row it has read so it can go back; beyond this many it stops (SQLSTATE 54000) rather
# than hold an unbounded result (pgstate.MAX_BUFFERED_ROWS, a result left open between pages, is this bound).
MAX_SCROLL_ROWS = 1_000_000


def _name(token: str) -> str:
    return token[1:-1].replace('""', '"') if token.startswith('"') else token.lower()


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def scan_forward() -> ProtocolError:
    return ProtocolError(SCAN_FORWARD, "55000", hint=SCROLL_HINT.format(max=MAX_SCROLL_ROWS))


@dataclass(frozen=True)
class Declare:
    name: str
    query: str
    hold: bool
    binary: bool
    scroll: bool = False
    no_scroll: bool = False  # NO SCROLL said outright (not merely no SCROLL): PostgreSQL's refusals exactly


@dataclass(frozen=True)
class Fetch:
    """FETCH or MOVE, as PostgreSQL reduces its directions: ``forward`` / ``backward`` ``count`` rows (None: ALL;
    0: the current row again), or land on one row, ``absolute`` (negative: from the end) or ``relative`` to the
    current position."""

    name: str
    move: bool
    direction: str = "forward"
    count: int | None = 1


@dataclass(frozen=True)
class Close:
    name: str | None  # None: CLOSE ALL


def _direction(word: str | None, pos_kind: str | None, pos: str | None, way: str | None,
               n: str | None) -> tuple[str, int | None]:
    """PostgreSQL's reading of a FETCH direction (gram.y's fetch_args): NEXT is FORWARD 1, PRIOR BACKWARD 1, FIRST
    ABSOLUTE 1, LAST ABSOLUTE -1, a negative count turns FORWARD into BACKWARD and back, RELATIVE 0 is FORWARD 0.
    BACKWARD 0 stays BACKWARD: a NO SCROLL cursor's FETCH refuses it where FORWARD 0 is allowed."""
    word = (word or "").lower()
    if word in ("next", "prior"):
        return ("forward" if word == "next" else "backward"), 1
    if word in ("first", "last"):
        return "absolute", 1 if word == "first" else -1
    if pos_kind is not None:
        k = int(pos or 0)
        if pos_kind.lower() == "relative" and k == 0:
            return "forward", 0
        return pos_kind.lower(), k
    direction = (way or "forward").lower()
    if n is None:
        return direction, 1
    if n.lower() == "all":
        return direction, None
    k = int(n)
    if k < 0:
        return ("backward" if direction == "forward" else "forward"), -k
    return direction, k


def parse(sql: str) -> Declare | Fetch | Close | None:
    """The cursor statement ``sql`` is, or None if it is none."""
    m = _DECLARE_RE.match(sql)
    if m:
        options = " ".join(m.group(2).lower().split())
        no_scroll = "no scroll" in options
        scroll = bool(re.search(r"(?<!no )\bscroll\b", options))
        if scroll and no_scroll:
            raise ProtocolError("cannot specify both SCROLL and NO SCROLL", "42P11")
        return Declare(_name(m.group(1)), m.group(4).strip(), (m.group(3) or "").lower() == "with",
                       "binary" in options.split(), scroll, no_scroll)
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
    direction, count = _direction(m.group(2), m.group(3), m.group(4), m.group(5), m.group(6) or m.group(7))
    return Fetch(_name(m.group(8)), m.group(1).lower() == "move", direction, count)


class Source(Protocol):
    """A query's result as the server holds it: its columns and its unread rows (which it may swap for rows it
    read into memory, see ``pgstate.SessionState.release``)."""

    columns: list[tuple[str, int, int]] | None
    rows: Iterator[tuple[Any, ...]]


@dataclass
class Cursor:
    """A cursor's position is PostgreSQL's: 0 before the first row, k on row k, one past the last row after it.
    Without SCROLL it streams (only the current row kept, for FETCH 0 and the like) and refuses to go back; with
    SCROLL it keeps the rows it has read, up to MAX_SCROLL_ROWS, and moves both ways. Declared NO SCROLL it
    refuses what PostgreSQL's NO SCROLL cursor refuses, the current row again too."""

    name: str
    source: Source
    hold: bool
    binary: bool
    in_transaction: bool  # declared in the transaction still open: its ROLLBACK removes the cursor, even WITH HOLD
    scroll: bool = False
    no_scroll: bool = False  # declared NO SCROLL outright
    statement: str = ""  # the DECLARE as sent (pg_cursors shows it)
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    position: int = 0
    at_end: bool = False  # past the last row (position is then the row count + 1)
    current: tuple[Any, ...] | None = None  # without SCROLL: the row the cursor is on
    kept: list[tuple[Any, ...]] = field(default_factory=list)  # with SCROLL: every row read so far, in order
    exhausted: bool = False  # the query has no more rows to read
    over_limit: bool = False  # with SCROLL: the query has a row beyond MAX_SCROLL_ROWS

    def _read(self) -> tuple[Any, ...] | None:
        """The query's next unread row; None once it has no more."""
        if self.exhausted:
            return None
        if self.scroll and len(self.kept) >= MAX_SCROLL_ROWS:
            # Only a row beyond the limit is refused: one more read tells a result of exactly the limit (it ends
            # here) from a longer one. That row is never kept nor sent: every later read stops here too.
            if not self.over_limit and next(self.source.rows, None) is None:
                self.exhausted = True
                return None
            self.over_limit = True
            raise ProtocolError(
                f"SCROLL cursor {quoted(self.name)} has read {MAX_SCROLL_ROWS:,} rows, as many as ad-duckdb serve "
                "keeps for moving back; declare it without SCROLL (it then streams, forward only), or narrow its "
                "query.", "54000")
        # self.source.rows read anew each time: the server may have swapped it for the same rows held in memory
        row = next(self.source.rows, None)
        if row is None:
            self.exhausted = True
        elif self.scroll:
            self.kept.append(row)
        return row

    def _row(self, k: int) -> tuple[Any, ...] | None:
        """SCROLL: row k (1-based), read up to it if need be; None past the last."""
        while len(self.kept) < k and self._read() is not None:
            pass
        return self.kept[k - 1] if 1 <= k <= len(self.kept) else None

    def take(self, f: Fetch) -> Iterator[tuple[Any, ...]]:
        """The rows FETCH ``f`` returns (MOVE reads the same and counts them), read as they are sent. Without
        SCROLL a move back is refused here, before any row is read."""
        if not self.scroll:
            self._check_forward(f)
            if f.direction == "backward" and f.count is None:  # MOVE BACKWARD ALL at the start: nowhere to go
                return iter(())
        if f.direction == "backward" and f.count == 0:
            f = Fetch(f.name, f.move, "forward", 0)  # the current row again, as FORWARD 0
        return self._scroll(f) if self.scroll else self._stream(f)

    # -- without SCROLL

    def _check_forward(self, f: Fetch) -> None:
        """PostgreSQL refuses any backward step of a NO SCROLL cursor (pquery.c: PortalRunSelect backward, and
        DoPortalRewind unless the cursor has not moved yet), and takes some forward-looking directions that way:
        FETCH 0 on a row steps back to read it again, BACKWARD 0 steps back even on no row, ABSOLUTE n at or behind
        the position rewinds or steps back, LAST (any ABSOLUTE -n) steps back from the end; MOVE 0 never moves.
        Declared NO SCROLL, the cursor refuses all these. Declared without SCROLL, PostgreSQL itself makes a
        plain query's cursor scrollable, so those served from the one row kept (FETCH 0, ABSOLUTE n to the
        current row, LAST) are served."""
        at_start = self.position == 0 and not self.at_end
        strict = self.no_scroll
        k = f.count
        if f.direction == "backward":
            if k == 0:
                if strict and not f.move:
                    raise scan_forward()
                return
            if k is None and f.move and at_start:
                return  # MOVE BACKWARD ALL rewinds; at the start PostgreSQL has nothing to do and says MOVE 0
            raise scan_forward()
        if f.direction == "forward":
            if k == 0 and strict and not f.move and self.position > 0 and not self.at_end:
                raise scan_forward()
            return
        if f.direction == "relative":
            if k is not None and k < 0:
                raise scan_forward()
            return
        k = k or 0  # absolute
        if k == 0:
            if not at_start:
                raise scan_forward()
        elif k < 0:
            # LAST reads to the end; served without NO SCROLL unless the last row is already behind
            if strict or k < -1 or (self.at_end and self.position > 1):
                raise scan_forward()
        elif k < self.position or (strict and k == self.position):
            raise scan_forward()

    def _next(self) -> tuple[Any, ...] | None:
        row = self._read()
        if row is None:
            if not self.at_end:
                self.position += 1
            self.at_end, self.current = True, None
            return None
        self.position += 1
        self.current = row
        return row

    def _stream(self, f: Fetch) -> Iterator[tuple[Any, ...]]:
        if f.direction == "forward" and f.count == 0:  # the current row again
            if self.current is not None:
                yield self.current
            return
        if f.direction == "forward":
            left = f.count
            while left is None or left > 0:
                row = self._next()
                if row is None:
                    return
                if left is not None:
                    left -= 1
                yield row
            return
        if f.direction == "absolute" and f.count == -1:  # LAST: everything, landing on the final row
            last = self.current
            n = self.position
            while (row := self._read()) is not None:
                last, n = row, n + 1
            if last is None:  # an empty result: past its (no) last row
                self.position, self.at_end = n + 1, True
                return
            self.position, self.at_end, self.current = n, False, last
            yield last
            return
        target = (f.count or 0) + (self.position if f.direction == "relative" else 0)
        if self.at_end or target == 0:
            return  # past the end and going further, or ABSOLUTE 0 before the first row: nowhere to go
        if target == self.position:
            if self.current is not None:
                yield self.current
            return
        while self.position < target - 1 and self._next() is not None:
            pass
        row = self._next()
        if row is not None:
            yield row

    # -- with SCROLL

    def _land(self, target: int) -> Iterator[tuple[Any, ...]]:
        """Go to row ``target`` and return it; before the first row or past the last if there is none."""
        if target < 1:
            self.position, self.at_end = 0, False
            return
        row = self._row(target)
        if row is None:
            self.position, self.at_end = len(self.kept) + 1, True
            return
        self.position, self.at_end = target, False
        yield row

    def _scroll(self, f: Fetch) -> Iterator[tuple[Any, ...]]:
        if f.direction == "forward" and f.count == 0:
            if self.position >= 1 and not self.at_end:
                yield self.kept[self.position - 1]
            return
        if f.direction == "forward":
            done = 0
            while f.count is None or done < f.count:
                row = self._row(self.position + 1)
                if row is None:
                    self.position, self.at_end = len(self.kept) + 1, True
                    return
                self.position += 1
                done += 1
                yield row
            return
        if f.direction == "backward":
            done = 0
            while f.count is None or done < f.count:
                if self.position <= 1:
                    self.position, self.at_end = 0, False
                    return
                self.position -= 1
                self.at_end = False
                done += 1
                yield self.kept[self.position - 1]
            return
        k = f.count or 0
        if f.direction == "relative":
            yield from self._land(self.position + k)
        elif k >= 0:
            yield from self._land(k)
        else:  # from the end: the count is known only once every row is read
            while self._read() is not None:
                pass
            yield from self._land(len(self.kept) + 1 + k)


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

    def kept(self, source: Source) -> int:
        """Rows a SCROLL cursor reading ``source`` keeps already (they count against what the server may hold)."""
        return sum(len(c.kept) for c in self.open.values() if c.source is source)

    def holds(self, source: Source | None) -> bool:
        """Whether ``source`` is the result of a WITH HOLD cursor (which must outlive its transaction's end)."""
        return source is not None and any(c.source is source and c.hold for c in self.open.values())

    def catalog(self, sql: str) -> str:
        """``sql`` with PostgreSQL's ``pg_cursors`` view (outside string literals) as this session's cursors."""
        if "pg_cursors" not in sql.lower():
            return sql
        rows = ", ".join(
            f"({quote_literal(c.name)}, {quote_literal(c.statement)}, {c.hold}, {c.binary}, {c.scroll}, "
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
