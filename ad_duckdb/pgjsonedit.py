"""PostgreSQL's jsonb editing functions DuckDB lacks, as Python functions on the server's connection (register) that
the session's macros (EDIT_SQL, part of pgfunctions' FUNCTION_SQL) call under PostgreSQL's names: jsonb_strip_nulls
and jsonb_set. Their values are read and shown as pgjsonb reads and shows jsonb (2.50 stays 2.50, keys shortest
first). DuckDB's json_strip_nulls already answers as PostgreSQL's json one, but shows 2.50 as 2.5, so the jsonb one
is its own. Both are strict, as PostgreSQL's: DuckDB calls no Python function for a NULL argument."""

from __future__ import annotations

from typing import Any

import duckdb

from .pgjsonb import _load, _text

STRIP = "pg_jsonb_strip_nulls"
SET = "pg_jsonb_set"
EDIT_SQL = (
    f"CREATE OR REPLACE TEMP MACRO jsonb_strip_nulls(pg_json_arg) AS {STRIP}(pg_json_arg::JSON)",
    # create_missing defaults to true; the path as text, PostgreSQL's array literal '{a,b}' (which DuckDB cannot cast
    # to VARCHAR[]) or a list's text ('[a, b]' of ARRAY['a', 'b'])
    f"CREATE OR REPLACE TEMP MACRO jsonb_set(pg_json_arg, pg_path_arg, pg_value_arg) AS {SET}(pg_json_arg::JSON, "
    "pg_path_arg::VARCHAR, pg_value_arg::JSON, true), (pg_json_arg, pg_path_arg, pg_value_arg, pg_create_arg) AS "
    f"{SET}(pg_json_arg::JSON, pg_path_arg::VARCHAR, pg_value_arg::JSON, pg_create_arg::BOOLEAN)",
)


def register(con: duckdb.DuckDBPyConnection) -> None:
    """The Python functions EDIT_SQL's macros call, on the server's connection (its sessions' cursors see them)."""
    con.create_function(STRIP, _strip_nulls, ["JSON"], "JSON")
    con.create_function(SET, _set, ["JSON", "VARCHAR", "JSON", "BOOLEAN"], "JSON")


def _strip_nulls(doc: str) -> str:
    return _text(_stripped(_load(doc)))


def _stripped(value: Any) -> Any:
    """Each object's null-valued keys dropped, at every depth; an array's nulls kept."""
    if isinstance(value, dict):
        return {k: _stripped(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_stripped(v) for v in value]
    return value


def _set(doc: str, path_text: str, value: str, create: bool) -> str:
    """PostgreSQL's jsonb_set: the path's last step replaced, or added where ``create``; a missing step before the
    last leaves the value as it was."""
    path = _path(path_text)
    target = _load(doc)
    if not isinstance(target, dict | list):
        raise duckdb.InvalidInputException("cannot set path in scalar")
    for k, step in enumerate(path, 1):
        if step is None:
            raise duckdb.InvalidInputException(f"path element at position {k} is null")
    if path:
        _set_in(target, path, 0, _load(value), create)
    return _text(target)


def _set_in(node: Any, path: list[str | None], depth: int, value: Any, create: bool) -> None:
    step, last = str(path[depth]), depth == len(path) - 1
    if isinstance(node, dict):
        if last:
            if step in node or create:
                node[step] = value
        elif step in node:
            _set_in(node[step], path, depth + 1, value, create)
        return
    if not isinstance(node, list):
        return  # a scalar on the way: PostgreSQL leaves the value as it was
    try:
        index = int(step)
    except ValueError:
        raise duckdb.InvalidInputException(
            f'path element at position {depth + 1} is not an integer: "{step}"') from None
    at = index + len(node) if index < 0 else index
    if 0 <= at < len(node):
        if last:
            node[at] = value
        else:
            _set_in(node[at], path, depth + 1, value, create)
    elif last and create:
        node.insert(0 if at < 0 else len(node), value)


def _path(text: str) -> list[str | None]:
    """The elements of PostgreSQL's text[] literal (``{a,"b c",NULL}``) or of a DuckDB list's text (``[a, b]``)."""
    body = text.strip()[1:-1]
    out: list[str | None] = []
    if not body.strip():
        return out
    item, quoted, in_quotes, escaped = "", False, False, False
    for ch in body + ",":
        if escaped:
            item, escaped = item + ch, False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            in_quotes, quoted = not in_quotes, True
        elif ch == "," and not in_quotes:
            word = item if quoted else item.strip()
            out.append(None if not quoted and word.upper() == "NULL" and text.lstrip().startswith("{") else word)
            item, quoted = "", False
        else:
            item += ch
    return out
