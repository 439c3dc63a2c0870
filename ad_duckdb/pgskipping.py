"""PostgreSQL's NOTICE for a DROP ... IF EXISTS of nothing and a CREATE ... IF NOT EXISTS of what exists ('table "x"
does not exist, skipping'). DuckDB skips silently; psql, dbt and migration tools show PostgreSQL's notice, and a
session's client_min_messages = warning is how they quiet it. The notice is found before the statement runs (after
it the object is gone, or there) and sent only when it succeeds.
"""

from __future__ import annotations

import re

import duckdb

_NAME = r'(?:"(?:[^"]|"")+"|\w+)'
_DROP_RE = re.compile(rf"^\s*drop\s+(table|view|schema|sequence|index)\s+if\s+exists\s+({_NAME}(?:\s*\.\s*{_NAME}){{0,2}})"
                      r"\s*(?:cascade|restrict)?\s*;?\s*$", re.I)
_CREATE_RE = re.compile(rf"^\s*create\s+(?:(temp|temporary)\s+)?(table|schema|sequence)\s+if\s+not\s+exists\s+"
                        rf"({_NAME}(?:\s*\.\s*{_NAME}){{0,2}})\b", re.I)
# CREATE INDEX's name is unqualified: the index goes in its table's schema
_CREATE_INDEX_RE = re.compile(rf"^\s*create\s+(?:unique\s+)?index\s+if\s+not\s+exists\s+({_NAME})\s+on\s+"
                              rf"(?:only\s+)?({_NAME}(?:\s*\.\s*{_NAME}){{0,2}})", re.I)
_PART_RE = re.compile(_NAME)


def _parts(name: str) -> list[str]:
    """A dotted name's parts as DuckDB resolves them: quotes off, case folded (its names are case insensitive)."""
    return [p[1:-1].replace('""', '"').lower() if p.startswith('"') else p.lower() for p in _PART_RE.findall(name)]


def _written(name: str) -> str:
    """The last part of a dotted name as PostgreSQL's notice shows it: as written if quoted, else in lower case."""
    last = _PART_RE.findall(name)[-1]
    return last[1:-1].replace('""', '"') if last.startswith('"') else last.lower()


def _places(cur: duckdb.DuckDBPyConnection, parts: list[str], temp: bool | None) -> list[tuple[str, str]]:
    """The (database, schema) places, lower case, where DuckDB looks for a relation of a dotted name: a bare name's
    temporary ones (``temp`` True), the current schema (False), either (None: a DROP's); ``a.t`` the current
    database's schema a, else database a's main schema (DuckDB reads a two-part name either way: ``warehouse.t``);
    ``d.s.t`` database d's schema s."""
    db, schema = (v.lower() for v in cur.execute("SELECT current_database(), current_schema()").fetchall()[0])
    if len(parts) == 1:
        return [p for p, ok in ((("temp", "main"), temp is not False), ((db, schema), temp is not True)) if ok]
    if len(parts) == 2:
        return [(db, parts[0])] if _schema_exists(cur, [db, parts[0]]) else [(parts[0], "main")]
    return [(parts[-3], parts[-2])]


def _relation_exists(cur: duckdb.DuckDBPyConnection, parts: list[str], temp: bool | None) -> bool:
    """Whether a table, view or sequence of that name is where the statement would look (``_places``): a table of
    that name in another database or schema is not the statement's, which DuckDB drops or creates all the same."""
    places = _places(cur, parts, temp)
    return bool(places) and bool(cur.execute(
        "SELECT count(*) FROM (SELECT table_name AS name, schema_name, database_name FROM duckdb_tables() UNION ALL "
        "SELECT view_name, schema_name, database_name FROM duckdb_views() UNION ALL SELECT sequence_name, "
        "schema_name, database_name FROM duckdb_sequences()) WHERE lower(name) = ? AND ("
        + " OR ".join(["lower(database_name) = ? AND lower(schema_name) = ?"] * len(places)) + ")",
        [parts[-1], *(v for place in places for v in place)]).fetchall()[0][0])


def _index_exists(cur: duckdb.DuckDBPyConnection, name: str, places: list[tuple[str, str]]) -> bool:
    """Whether an index named ``name`` (lower case) is in one of the (database, schema) ``places``."""
    return bool(places) and bool(cur.execute(
        "SELECT count(*) FROM duckdb_indexes() WHERE lower(index_name) = ? AND ("
        + " OR ".join(["lower(database_name) = ? AND lower(schema_name) = ?"] * len(places)) + ")",
        [name, *(v for place in places for v in place)]).fetchall()[0][0])


def _schema_exists(cur: duckdb.DuckDBPyConnection, parts: list[str]) -> bool:
    """Whether schema ``parts[-1]`` is in database ``parts[-2]``, or in the current database for a bare name (a
    schema of that name in another attached database is not the one CREATE / DROP SCHEMA s acts on)."""
    schema, database = parts[-1], parts[-2] if len(parts) > 1 else None
    return bool(cur.execute("SELECT count(*) FROM duckdb_schemas() WHERE lower(schema_name) = ? AND "
                            "lower(database_name) = lower(coalesce(?, current_database()))",
                            [schema, database]).fetchall()[0][0])


def _database_exists(cur: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(cur.execute("SELECT count(*) FROM duckdb_databases() WHERE lower(database_name) = ?",
                            [name]).fetchall()[0][0])


def skipping_notice(cur: duckdb.DuckDBPyConnection, sql: str) -> tuple[str, str, str] | None:
    """PostgreSQL's notice (message, SQLSTATE, severity) for ``sql`` when it is a DROP ... IF EXISTS of one table,
    view, schema, sequence or index that is not there, or a CREATE ... IF NOT EXISTS of one that is; else None."""
    if (m := _DROP_RE.match(sql)) is not None:
        kind, name = m.group(1).lower(), m.group(2)
        parts = _parts(name)
        if kind == "schema":
            return None if _schema_exists(cur, parts) else (
                f'schema "{_written(name)}" does not exist, skipping', "00000", "NOTICE")
        # a two-part name's first part: a schema of the current database or a database (warehouse.t, temp.t)
        if len(parts) > 1 and not _schema_exists(cur, parts[:-1]) \
                and not (len(parts) == 2 and _database_exists(cur, parts[0])):
            return f'schema "{parts[-2]}" does not exist, skipping', "00000", "NOTICE"
        there = _index_exists(cur, parts[-1], _places(cur, parts, None)) if kind == "index" \
            else _relation_exists(cur, parts, None)
        return None if there else (f'{kind} "{_written(name)}" does not exist, skipping', "00000", "NOTICE")
    if (m := _CREATE_INDEX_RE.match(sql)) is not None:
        name, table = m.group(1), _parts(m.group(2))
        return (f'relation "{_written(name)}" already exists, skipping', "42P07", "NOTICE") \
            if _index_exists(cur, _parts(name)[-1], _places(cur, table, None)) else None
    if (m := _CREATE_RE.match(sql)) is not None:
        kind, name = m.group(2).lower(), m.group(3)
        parts = _parts(name)
        if kind == "schema":
            return (f'schema "{_written(name)}" already exists, skipping', "42P06", "NOTICE") \
                if _schema_exists(cur, parts) else None
        return (f'relation "{_written(name)}" already exists, skipping', "42P07", "NOTICE") \
            if _relation_exists(cur, parts, m.group(1) is not None) else None
    return None
