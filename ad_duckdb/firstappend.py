"""The first run of an incremental job whose source reads the table it appends to (``score(into=, append=True)``
with ``WHERE id > (SELECT coalesce(max(id), -1) FROM scores)``): the table is made empty first, so the source
reads it as it was before the run (no rows), and the run then writes it as any first run does.

Why: the README's cron line failed on its first run (exit 6, "the source reads it"), and the job had to be started
by hand with another command; a user scheduling the line expects its first run to make the table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from types import TracebackType

import duckdb

from . import callerview, pysource
from .callerview import _nodes
from .exceptions import BadInputError
from .intotable import SCORE_TYPES, table_oid
from .sqltext import quote_ident, shown_source, source_sql, table_sql

# DuckDB's words for a table a statement names that the catalog lacks
_MISSING = re.compile(r"Table with name (.+?) does not exist")


def reads_missing(into: str, error: BaseException) -> bool:
    """Whether ``error`` is the source failing on the ``into`` table it reads, which does not exist yet."""
    m = _MISSING.search(str(error))
    last = into.strip().split(".")[-1].strip('"').lower()
    return m is not None and m.group(1).strip('"').lower() == last


def _referenced(cur: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    """The column names ``source`` names anywhere (its last part: ``s.id`` is ``id``), as DuckDB parses them, and
    those the views it reads name in their own text (``_view_bodies``)."""
    names: dict[str, str] = {}
    for query in [f"SELECT * FROM {source_sql(source)}", *_view_bodies(cur, source_sql(source))]:
        try:
            parsed = json.loads(cur.execute("SELECT json_serialize_sql(?)", [query]).fetchall()[0][0])
        except (duckdb.Error, ValueError, IndexError, TypeError):
            continue
        for node in _nodes(parsed.get("statements", [])):
            if node.get("class") == "COLUMN_REF" and node.get("column_names"):
                name = str(node["column_names"][-1])
                names.setdefault(name.lower(), name)
    return list(names.values())


def _view_bodies(cur: duckdb.DuckDBPyConnection, from_item: str, depth: int = 0) -> list[str]:
    """The queries of the views ``from_item`` reads, and of the views those read (8 deep).

    Why: a view made while the table existed (``CREATE VIEW new_tx AS ... max(id) FROM scores``, the table dropped
    since) names the columns it reads of the table in its own text alone: the source's (``new_tx``) names none, and
    the stand-in table, made without them, failed the first run (exit 6) where the same query as the source ran."""
    try:
        names = callerview.base_tables(cur, from_item)
        views = cur.execute("SELECT database_name, schema_name, view_name, sql FROM duckdb_views() "
                            "WHERE NOT internal").fetchall()
    except duckdb.Error:
        return []
    out: list[str] = []
    for catalog, schema, name in names:
        for db, sch, view, sql in views:
            if str(view).lower() == name.lower() and (not schema or str(sch).lower() == schema.lower()) and \
                    (not catalog or str(db).lower() == catalog.lower()):
                query = callerview.view_query(str(sql or ""))
                if query:
                    out.append(query)
                    if depth < 8:
                        out += _view_bodies(cur, f"({query})", depth + 1)
                break
    return out


def _made(cur: duckdb.DuckDBPyConnection, create: str, into: str) -> list[tuple[str, str, str]]:
    """Run ``create`` (a CREATE VIEW of ``into``) on ``cur``; the (database, schema, name) it made, as the catalog
    names it (``into`` may name its schema, its database, both or neither)."""
    name = callerview.base_tables(cur, table_sql(into))[-1][2]
    find = ("SELECT database_name, schema_name, view_name FROM duckdb_views() "
            "WHERE NOT temporary AND lower(view_name) = lower(?)")
    before = set(cur.execute(find, [name]).fetchall())
    cur.execute(create)
    return [(str(d), str(n), str(v)) for d, n, v in cur.execute(find, [name]).fetchall() if (d, n, v) not in before]


def _source_columns(con: duckdb.DuckDBPyConnection, cur: duckdb.DuckDBPyConnection, into: str, source: str,
                    kept: Sequence[str], written: Sequence[str]) -> list[tuple[str, str]] | duckdb.Error:
    """The source's columns (name, SQL type), read on ``cur`` (a cursor of the caller's ``con``) with ``into``
    standing in as an empty view of the columns it will have (``kept``, or those the source names, untyped; the
    ``written`` score columns typed), in a transaction rolled back; DuckDB's error when the source cannot be read
    so either."""
    low = {w.lower() for w in written}
    named = [c for c in (kept or _referenced(cur, source)) if c.lower() not in low]
    placeholder_items = ", ".join([f"NULL AS {quote_ident(c)}" for c in named] + [
        f"CAST(NULL AS {SCORE_TYPES[w.lower()]}) AS {quote_ident(w)}" for w in written])
    cur.execute("BEGIN TRANSACTION")
    try:
        made = _made(cur, f"CREATE VIEW {table_sql(into)} AS SELECT {placeholder_items} WHERE false", into)
        # a bare name the caller reads in its own schema (after USE analytics) finds the view there, as it will the
        # table: the cursor's views over the caller's tables were made before this one existed
        callerview.follow_caller(con, cur, source_sql(source), made)
        return [(str(r[0]), str(r[1])) for r in
                cur.execute(f"DESCRIBE SELECT * FROM {source_sql(source)}").fetchall()]
    except duckdb.Error as e:
        return e
    finally:
        cur.execute("ROLLBACK")


class Placeholder:
    """The empty table a first run makes (``make``), dropped again if the run fails before it writes the table
    (the table is then as it was: none); left to the run's own CREATE OR REPLACE otherwise."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.into: str | None = None
        self.oid: int | None = None
        self.failure: duckdb.Error | None = None  # why ``make`` could not read the source (DuckDB's error)

    def make(self, into: str, source: str, kept: Sequence[str], written: Sequence[str]) -> bool:
        """Make ``into`` an empty table of the columns the run writes (``kept`` source columns, or all of them,
        then ``written``), committed so that the source, read on a cursor of its own, finds it; False when the
        source cannot be read even so (it reads a column the table will not have)."""
        cur = pysource.cursor(self.con, source)
        try:
            cols = _source_columns(self.con, cur, into, source, kept, written)
            if isinstance(cols, duckdb.Error):
                self.failure = cols
                return False
            low = {w.lower() for w in written}
            types = {c.lower(): (c, t) for c, t in cols}
            keep = [types[k.lower()] for k in kept if k.lower() in types] if kept else cols
            # the types as DuckDB's DESCRIBE writes them (an ENUM's values quoted by it)
            placeholder_cols = ", ".join([f"{quote_ident(c)} {t}" for c, t in keep if c.lower() not in low] + [
                f"{quote_ident(w)} {SCORE_TYPES[w.lower()]}" for w in written])
            cur.execute(f"CREATE TABLE {table_sql(into)} ({placeholder_cols})")
            self.into, self.oid = into, table_oid(cur, into)
            return True
        finally:
            cur.close()

    def __enter__(self) -> Placeholder:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if kind is None or self.into is None or self.oid is None:
            return
        cur = self.con.cursor()
        try:
            # only the table made here: a run that wrote it (CREATE OR REPLACE) gave it a new id
            if table_oid(cur, self.into) == self.oid:
                cur.execute(f"DROP TABLE {table_sql(self.into)}")
        except duckdb.Error:
            pass  # the run's own error says what went wrong; an empty table left is appended to by the next run
        finally:
            cur.close()


# DuckDB's words for a comparison of two types it will not cast between (a text id against coalesce(max(id), -1))
_TYPES_CLASH = re.compile(r"Cannot (?:compare|mix) values of type")
_MAX_OF = re.compile(r"\bcoalesce\s*\(\s*max\s*\(", re.I)


def refuse_types(into: str, source: str, model: str, failure: duckdb.Error | None) -> None:
    """Raise, for a first run whose source fails on the empty ``into`` table for its types (``failure``, from
    ``Placeholder.make``), DuckDB's own reason and the filter that takes any id; else return.

    Why: the source was told it read a column "an empty table of the columns this run writes would not have", of a
    column the table has: a text id compared with coalesce(max(id), -1), a number, which fails on every later run
    too."""
    if failure is None or not _TYPES_CLASH.search(str(failure)):
        return
    reason = str(failure).splitlines()[0]
    hint = (f" A text id cannot take coalesce(max(id), -1), a number: select the rows not scored yet with "
            f"... t WHERE NOT EXISTS (SELECT 1 FROM {into} s WHERE s.id = t.id), which takes an id of any type."
            if _MAX_OF.search(source) else "")
    raise BadInputError(
        f"Scoring with {model!r}: table {into!r} does not exist yet, and the source reads it "
        f"({shown_source(source)!r}); on the table as this run makes it (empty, of the columns it writes) the source "
        f"fails, as it would on every later run: {reason}.{hint}"
    )
