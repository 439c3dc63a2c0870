"""PostgreSQL's NOTICE for a DROP ... IF EXISTS of nothing and a CREATE ... IF NOT EXISTS of what exists ('table "x"
does not exist, skipping'). DuckDB skips silently; psql, dbt and migration tools show PostgreSQL's notice, and a
session's client_min_messages = warning is how they quiet it. The notice is found before the statement runs (after
it the object is gone, or there) and sent only when it succeeds.
"""

from __future__ import annotations

import re

import duckdb

_NAME = r'(?:"(?:[^"]|"")+"|\w+)'
_DROP_RE = re.compile(rf"^\s*drop\s+(table|view|schema|sequence)\s+if\s+exists\s+({_NAME}(?:\s*\.\s*{_NAME}){{0,2}})"
                      r"\s*(?:cascade|restrict)?\s*;?\s*$", re.I)
_CREATE_RE = re.compile(rf"^\s*create\s+(?:(temp|temporary)\s+)?(table|schema|sequence)\s+if\s+not\s+exists\s+"
                        rf"({_NAME}(?:\s*\.\s*{_NAME}){{0,2}})\b", re.I)
_PART_RE = re.compile(_NAME)


def _parts(name: str) -> list[str]:
    """A dotted name's parts as DuckDB resolves them: quotes off, case folded (its names are case insensitive)."""
    return [p[1:-1].replace('""', '"').lower() if p.startswith('"') else p.lower() for p in _PART_RE.findall(name)]


def _written(name: str) -> str:
    """The last part of a dotted name as PostgreSQL's notice shows it: as written if quoted, else in lower case."""
    last = _PART_RE.findall(name)[-1]
    return last[1:-1].replace('""', '"') if last.startswith('"') else last.lower()


def _relation_exists(cur: duckdb.DuckDBPyConnection, parts: list[str], temp: bool | None) -> bool:
    """Whether a table, view or sequence of that name is where the statement would look: for a bare name, the
    temporary ones (``temp`` True), the current schema (False), either (None: a DROP's)."""
    name, schema = parts[-1], parts[-2] if len(parts) > 1 else None
    temp_ok, current_ok = temp is not False, temp is not True
    where = ("lower(name) = ? AND ? IN (lower(schema_name), lower(database_name))" if schema is not None else
             "lower(name) = ? AND (? AND database_name = 'temp' OR ? AND database_name = current_database() AND "
             "schema_name = current_schema())")
    args: list[object] = [name, schema] if schema is not None else [name, temp_ok, current_ok]
    return bool(cur.execute(
        "SELECT count(*) FROM (SELECT table_name AS name, schema_name, database_name FROM duckdb_tables() UNION ALL "
        "SELECT view_name, schema_name, database_name FROM duckdb_views() UNION ALL SELECT sequence_name, "
        "schema_name, database_name FROM duckdb_sequences()) WHERE " + where, args).fetchall()[0][0])


def _schema_exists(cur: duckdb.DuckDBPyConnection, parts: list[str]) -> bool:
    schema, database = parts[-1], parts[-2] if len(parts) > 1 else None
    return bool(cur.execute("SELECT count(*) FROM duckdb_schemas() WHERE lower(schema_name) = ? AND "
                            "(? IS NULL OR lower(database_name) = ?)", [schema, database, database]).fetchall()[0][0])


def skipping_notice(cur: duckdb.DuckDBPyConnection, sql: str) -> tuple[str, str, str] | None:
    """PostgreSQL's notice (message, SQLSTATE, severity) for ``sql`` when it is a DROP ... IF EXISTS of one table,
    view, schema or sequence that is not there, or a CREATE ... IF NOT EXISTS of one that is; else None."""
    if (m := _DROP_RE.match(sql)) is not None:
        kind, name = m.group(1).lower(), m.group(2)
        parts = _parts(name)
        if kind == "schema":
            return None if _schema_exists(cur, parts) else (
                f'schema "{_written(name)}" does not exist, skipping', "00000", "NOTICE")
        if len(parts) > 1 and not _schema_exists(cur, parts[:-1]) and parts[-2] != "temp":
            return f'schema "{parts[-2]}" does not exist, skipping', "00000", "NOTICE"
        return None if _relation_exists(cur, parts, None) else (
            f'{kind} "{_written(name)}" does not exist, skipping', "00000", "NOTICE")
    if (m := _CREATE_RE.match(sql)) is not None:
        kind, name = m.group(2).lower(), m.group(3)
        parts = _parts(name)
        if kind == "schema":
            return (f'schema "{_written(name)}" already exists, skipping', "42P06", "NOTICE") \
                if _schema_exists(cur, parts) else None
        return (f'relation "{_written(name)}" already exists, skipping', "42P07", "NOTICE") \
            if _relation_exists(cur, parts, m.group(1) is not None) else None
    return None
