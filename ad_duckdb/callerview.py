"""Whether ad_duckdb's own cursor reads the same tables for a name as the caller's connection does.

ad_duckdb reads and writes through cursors of its own (a half-read result of the caller must survive, and a
setting of ours must not leak into the user's session). A cursor starts in the database's default schema and
sees none of the caller's TEMP tables, so after ``USE analytics``, ``SET search_path`` or ``CREATE TEMP TABLE tx``
the same name can be another table for it: ``tx`` was ``analytics.tx`` to the user and ``main.tx`` to training,
which then trained (or scored, or replaced) the wrong table without a word.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import duckdb

from .exceptions import BadInputError
from .sqltext import name_parts, quote_ident, quote_literal, sql_name, table_sql

_STATE = "SELECT current_database(), current_schema(), current_setting('search_path')"
_TEMP = ("SELECT table_name FROM duckdb_tables() WHERE temporary UNION ALL "
         "SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal")


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every dict in a JSON tree (DuckDB's plans and parsed statements), depth first."""
    if isinstance(tree, dict):
        yield tree
        for v in tree.values():
            yield from _nodes(v)
    elif isinstance(tree, list):
        for v in tree:
            yield from _nodes(v)


def base_tables(cur: duckdb.DuckDBPyConnection, from_item: str) -> list[tuple[str, str, str]]:
    """The table names (catalog, schema, name; empty where not written) ``SELECT * FROM from_item`` names, as
    DuckDB's parser reads them (``json_serialize_sql``), so any quoting, case or qualification counts."""
    parsed = json.loads(cur.execute("SELECT json_serialize_sql(?)", [f"SELECT * FROM {from_item}"]).fetchall()[0][0])
    return [(n.get("catalog_name") or "", n.get("schema_name") or "", n["table_name"])
            for n in _nodes(parsed.get("statements", []))
            if n.get("type") == "BASE_TABLE" and isinstance(n.get("table_name"), str)]


def _caller_rows(caller: Any, sql: str) -> list[tuple[Any, ...]] | None:
    """``sql``'s rows on the caller's connection, None if it cannot answer now.

    Why ``sql`` and not ``execute``: ``execute`` would replace a half-read result of the caller's, while ``sql``
    refuses (ResourceInUseException) and leaves it be; the check is then skipped, as reading it is the user's.
    Only catalog reads that cannot fail run there: a failing statement would abort the caller's open transaction.
    """
    try:
        return list(caller.sql(sql).fetchall())
    except duckdb.Error:
        return None


def _scanned(cur: duckdb.DuckDBPyConnection, from_item: str) -> set[str] | None:
    """The tables ``SELECT * FROM from_item`` scans on ``cur``, as DuckDB's plan names them ("db.schema.table");
    None when it cannot be planned there."""
    try:
        rows = cur.execute(f"EXPLAIN (FORMAT json) SELECT * FROM {from_item}").fetchall()
        plan = json.loads(rows[0][1])
    except (duckdb.Error, ValueError, IndexError, TypeError):
        return None
    return {info["Table"] for node in _nodes(plan)
            if isinstance(info := node.get("extra_info"), dict) and isinstance(info.get("Table"), str)}


def temp_refs(cur: duckdb.DuckDBPyConnection, from_item: str, temp: set[str]) -> list[str]:
    """The names ``SELECT * FROM from_item`` reads that DuckDB would find among the caller's TEMP objects
    ``temp`` (lower case) before any table of the database: unqualified, ``main.x`` or ``temp.x``."""
    return _refs(cur, from_item, lambda catalog, schema, name: name in temp and (
        catalog == "temp" or (not catalog and (schema in ("", "main") or schema == "temp"))))


def _refs(cur: duckdb.DuckDBPyConnection, from_item: str, keep: Callable[[str, str, str], bool]) -> list[str]:
    """The table names ``SELECT * FROM from_item`` reads, other than its CTEs', for which ``keep(catalog, schema,
    name)`` (lower case; empty where not written) holds."""
    out: list[str] = []

    def walk(node: Any, ctes: frozenset[str]) -> None:
        """``ctes``: the CTE names in scope, which an unqualified name reads before any TEMP table."""
        if isinstance(node, list):
            for v in node:
                walk(v, ctes)
            return
        if not isinstance(node, dict):
            return
        if node.get("type") == "BASE_TABLE" and isinstance(node.get("table_name"), str):
            catalog, schema = (node.get("catalog_name") or "").lower(), (node.get("schema_name") or "").lower()
            name = node["table_name"].lower()
            if not (not catalog and not schema and name in ctes) and keep(catalog, schema, name):
                out.append(node["table_name"])
        entries = (node.get("cte_map") or {}).get("map") if isinstance(node.get("cte_map"), dict) else None
        if entries:
            # Why in order: a CTE's body sees the CTEs before it, and its own name only when recursive (a plain
            # WITH recent AS (SELECT * FROM recent) reads the TEMP table recent)
            for entry in entries:
                key, body = str(entry.get("key", "")).lower(), entry.get("value")
                recursive = isinstance(body, dict) and isinstance(body.get("query_node"), dict) and \
                    body["query_node"].get("type") == "RECURSIVE_CTE_NODE"
                walk(body, ctes | {key} if recursive else ctes)
                ctes = ctes | {key}
        for k, v in node.items():
            if k != "cte_map":
                walk(v, ctes)

    parsed = json.loads(cur.execute("SELECT json_serialize_sql(?)", [f"SELECT * FROM {from_item}"]).fetchall()[0][0])
    walk(parsed.get("statements", []), frozenset())
    return out


def _path(caller: Any, db: str, schema: str, path: str) -> list[tuple[str, str]]:
    """The (database, schema) pairs the caller's connection looks an unqualified name up in, in order: its
    search_path's entries (``analytics``, a schema of the current database or a database's main schema;
    ``lake.analytics``), then its current schema."""
    schemas = {(str(d).lower(), str(n).lower()) for d, n in _caller_rows(
        caller, "SELECT database_name, schema_name FROM duckdb_schemas()") or []}
    out: list[tuple[str, str]] = []
    for entry in (e.strip() for e in path.split(",") if e.strip()):
        parts = [p.strip().strip('"') for p in entry.split(".")]
        if len(parts) == 2:
            out.append((parts[0], parts[1]))
        elif (db.lower(), parts[0].lower()) in schemas:
            out.append((db, parts[0]))
        else:
            out.append((parts[0], "main"))
    return [*out, (db, schema)]


def _reads_rowid(cur: duckdb.DuckDBPyConnection, from_item: str) -> bool:
    """Whether ``SELECT * FROM from_item`` names a column ``rowid`` (DuckDB's row number of a table)."""
    parsed = json.loads(cur.execute("SELECT json_serialize_sql(?)", [f"SELECT * FROM {from_item}"]).fetchall()[0][0])
    return any(n.get("class") == "COLUMN_REF" and str((n.get("column_names") or [""])[-1]).lower() == "rowid"
               for n in _nodes(parsed.get("statements", [])))


def follow_caller(caller: Any, cur: duckdb.DuckDBPyConnection, from_item: str,
                  also: Iterable[tuple[str, str, str]] = ()) -> None:
    """Make ``cur`` read, for each unqualified table name of ``from_item``, the table or view the caller's
    connection reads after its ``USE analytics`` or ``SET search_path``: a TEMP view of ``cur`` of that name over
    it (gone with the cursor). Nothing where the two look names up alike, or the caller finds no such table there.
    ``also``: tables (database, schema, name) ``cur`` holds that the caller does not see yet (``cur``'s own
    uncommitted ones), looked up as if the caller held them.

    Why a view of the cursor's, not the cursor moved to the caller's schema: the model store's tables are named
    without a schema, and a cursor in analytics created and wrote ad_models there, where no other connection looks;
    and not the source rewritten: a query's names (``SELECT * FROM t WHERE ...``) are found by DuckDB's parser."""
    if caller is None or caller is cur:
        return
    theirs = _caller_rows(caller, _STATE)
    ours = cur.execute(_STATE).fetchall()[0]
    if not theirs or theirs[0] == ours:
        return
    db, schema, path = (str(v) for v in theirs[0])
    try:
        names = sorted({n.lower() for n in _refs(cur, from_item, lambda catalog, schema_, _n: not catalog and not schema_)})
        rowid = _reads_rowid(cur, from_item)
    except (duckdb.Error, ValueError, KeyError):
        return
    if not names:
        return
    order, where = _path(caller, db, schema, path), _held(caller, also)
    views = []
    for name in names:
        found = next(((d, n) for d, n in order if (d.lower(), n.lower(), name) in where), None)
        if found is None or (found[0].lower(), found[1].lower()) == (str(ours[0]).lower(), str(ours[1]).lower()):
            continue
        if rowid and not _has_rowid_column(caller, *found, name):
            # a view has no rowid of DuckDB's (the row number): the source would fail on "rowid not found", which
            # the caller's own query does not; left unfollowed, check_same_tables names the schema to write (FROM
            # analytics.t). A table's own column rowid is one the view has.
            return
        views.append((name, found))
    for name, (d, n) in views:
        cur.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(name)} AS SELECT * FROM "
                    f"{quote_ident(d)}.{quote_ident(n)}.{quote_ident(name)}")


def _held(caller: Any, also: Iterable[tuple[str, str, str]] = ()) -> set[tuple[str, str, str]]:
    """The caller's tables and views (database, schema, name; lower case), TEMP ones left out, with ``also``."""
    held = _caller_rows(caller, "SELECT database_name, schema_name, lower(table_name) FROM duckdb_tables() WHERE NOT "
                                "temporary UNION ALL SELECT database_name, schema_name, lower(view_name) FROM "
                                "duckdb_views() WHERE NOT temporary AND NOT internal") or []
    return {(str(d).lower(), str(n).lower(), str(t).lower()) for d, n, t in [*held, *also]}


def _has_rowid_column(caller: Any, database: str, schema: str, name: str) -> bool:
    """Whether the caller's table or view ``database.schema.name`` has a column of its own named rowid."""
    rows = _caller_rows(caller, "SELECT count(*) FROM duckdb_columns() WHERE lower(column_name) = 'rowid' AND "
                                f"lower(database_name) = {quote_literal(database.lower())} AND lower(schema_name) = "
                                f"{quote_literal(schema.lower())} AND lower(table_name) = {quote_literal(name.lower())}")
    return bool(rows and rows[0][0])


def into_caller_schema(caller: Any, into: str) -> str:
    """A table name ``into`` written without a schema, qualified with the schema the caller's connection finds it in
    after ``USE analytics`` or ``SET search_path`` (``analytics.scored``), or, where it finds none, the schema its own
    ``CREATE TABLE`` would make it in; else ``into`` as given (a schema named, no USE, or a TEMP table of that name,
    which check_same_tables refuses by name).

    Why: ad_duckdb writes through a cursor of its own, which starts in the default schema; the write was refused,
    where the caller's ``CREATE TABLE scored`` after ``USE analytics`` makes analytics.scored."""
    parts = name_parts(into)
    theirs = _caller_rows(caller, _STATE) if parts is not None and len(parts) == 1 else None
    if not theirs or parts is None:
        return into
    cur = caller.cursor()
    try:
        ours = cur.execute(_STATE).fetchall()[0]
    finally:
        cur.close()
    db, schema, path = (str(v) for v in theirs[0])
    temp = {str(n).lower() for (n,) in _caller_rows(caller, _TEMP) or []}
    name = parts[0]
    if theirs[0] == ours or name.lower() in temp:
        return into
    where = _held(caller)
    found = next(((d, n) for d, n in _path(caller, db, schema, path) if (d.lower(), n.lower(), name.lower()) in where),
                 (db, schema))
    home = [found[1]] if found[0].lower() == str(ours[0]).lower() else [found[0], found[1]]
    return ".".join(sql_name(p) for p in [*home, name])


# A view's query in the CREATE statement duckdb_views() keeps
_VIEW_QUERY = re.compile(r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?VIEW\s+.*?\s+AS\s+(.*?);?\s*$",
                         re.I | re.S)


def view_query(create_sql: str) -> str | None:
    """The query of a view, from its CREATE statement (``duckdb_views().sql``); None if it cannot be told."""
    m = _VIEW_QUERY.match(create_sql)
    return " ".join(m.group(1).split()) if m else None


def temp_behind_views(cur: duckdb.DuckDBPyConnection, from_item: str, temp: set[str],
                      views: dict[str, str]) -> tuple[str, str] | None:
    """(a plain view ``from_item`` reads, the caller's TEMP object, from ``temp`` (lower case), that the view reads,
    itself or through other views); None if none does. ``views``: each plain view's CREATE statement, by lower-case
    name.

    Why: a plain view over a TEMP object (a DataFrame registered with ``con.register`` is one, as is dbt-duckdb's
    plugin source) is found by a cursor of ours, but what it reads is not; only the view was looked at, so the
    failure was blamed on an open transaction there was none of.
    """
    todo, seen = [(from_item, "")], set()
    try:
        while todo:
            item, via = todo.pop(0)
            read = temp_refs(cur, item, temp) if via else []
            if read:
                return via, read[0]
            for _catalog, schema, name in base_tables(cur, item):
                query = view_query(views.get(name.lower(), "")) if schema.lower() in ("", "main") else None
                if query is not None and name.lower() not in seen:
                    seen.add(name.lower())
                    todo.append((f"({query})", via or name))
    except duckdb.Error:
        return None
    return None


def check_same_tables(caller: Any, cur: duckdb.DuckDBPyConnection, from_item: str, given: str, who: str,
                      is_query: bool, role: str = "source") -> None:
    """Refuse ``from_item`` (``given`` as the user wrote it; ``role``: "source" or "target table") when ``cur`` would
    read other tables for it than the caller's connection ``caller`` does. ``who``: the start of the message
    ("Model 'tx_ae': "). Nothing is checked when the two start alike (no USE, search_path or TEMP object).

    Why the caller's session is copied onto a cursor of its own rather than asked to plan the source: a statement
    that fails on the caller (a target that does not exist yet) would abort its open transaction."""
    if caller is None or caller is cur:
        return
    theirs, temp_rows = _caller_rows(caller, _STATE), _caller_rows(caller, _TEMP)
    ours = cur.execute(_STATE).fetchall()
    if not theirs or temp_rows is None:
        return
    (db, schema, path), (our_db, our_schema, _) = theirs[0], ours[0]
    temps = temp_refs(cur, from_item, {str(n).lower() for (n,) in temp_rows}) if temp_rows else []
    read = _scanned(cur, from_item)
    seen: set[str] | None
    if temps:
        seen = {f'"temp".main.{n}' for n in temps}
    elif (db, schema, path) == ours[0]:
        return
    else:
        twin = caller.cursor()  # the caller's USE and search_path, on a cursor where a failure harms nothing
        try:
            twin.execute(f"USE {quote_ident(db)}.{quote_ident(schema)}")
            if path:
                twin.execute(f"SET search_path = {quote_literal(path)}")
            seen = _scanned(twin, from_item)
        except duckdb.Error:
            seen = None
        finally:
            twin.close()
    if not seen or read == seen or (read is None and not temps):
        return  # the caller cannot read it either (the other errors say why), or it scans no table (a file)
    if temps:
        why = "a TEMP table or view, which only that connection sees"
        full = f"{sql_name(our_db)}.{sql_name(our_schema)}.{temps[0]}"  # main.tx would still be the TEMP one
        named = (f"name the tables it reads with their database and schema, e.g. FROM {full}" if is_query
                 else f"name the {role} you mean with its database and schema, e.g. {full}")
        fix = f"Create it as a plain table or view (without TEMP) under a name of its own, or {named}"
    else:
        why = "after USE or SET search_path"
        where = sql_name(schema) if db == our_db else f"{sql_name(db)}.{sql_name(schema)}"
        fix = (f"Name the database and schema of the tables it reads, e.g. FROM {where}.table" if is_query
               else f"Name the database and schema in the {role}: {where}.{given.strip()}")
    verb = "reads" if role == "source" else "is"  # a target is the table itself, not what a view reads
    other = f"{'reads' if role == 'source' else 'finds'} {', '.join(sorted(read))}" if read else "does not find it"
    raise BadInputError(
        f"{who}the {role} {given.strip()!r} {verb} {', '.join(sorted(seen))} on your connection ({why}), but "
        f"ad_duckdb reads and writes through a cursor of its own, which starts in {sql_name(our_db)}."
        f"{sql_name(our_schema)} and {other}. {fix}."
    )


def check_same_home(caller: Any, cur: duckdb.DuckDBPyConnection, into: str, who: str) -> None:
    """Refuse a new table named without a schema (``into``) when the caller's connection would create it elsewhere
    than ``cur`` does: after ``USE analytics`` the user's ``CREATE TABLE scored`` makes analytics.scored, ours made
    main.scored. ``who``: the start of the message."""
    if caller is None or caller is cur or '"."' in table_sql(into):  # a schema named: the same table for both
        return
    theirs = _caller_rows(caller, _STATE)
    ours = cur.execute(_STATE).fetchall()
    if not theirs or theirs[0][:2] == ours[0][:2]:
        return
    db, schema = theirs[0][0], theirs[0][1]
    where = sql_name(schema) if db == ours[0][0] else f"{sql_name(db)}.{sql_name(schema)}"
    raise BadInputError(
        f"{who}your connection would create table {into.strip()!r} in {sql_name(db)}.{sql_name(schema)} (after USE or "
        f"SET search_path), but ad_duckdb writes through a cursor of its own, which starts in {sql_name(ours[0][0])}."
        f"{sql_name(ours[0][1])}. Name the schema of the new table: {where}.{into.strip()} (or "
        f"{sql_name(ours[0][1])}.{into.strip()} for the default one)."
    )
