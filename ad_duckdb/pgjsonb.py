"""jsonb's own answers where DuckDB's JSON gives another: ``a || b`` of two JSON values, and the one value a jsonb
object keeps of a repeated key.

PostgreSQL's ``jsonb || jsonb`` merges two objects (the right one's value wins a key both have), joins two arrays,
and appends any other value to an array (or prepends it), two values of which neither is an array becoming a
two-element array. DuckDB's ``||`` of JSON concatenated the texts, ``{"a":1}{"b":2}``, which is no JSON at all: a
wrong answer. DuckDB has no such operator to overload, and its binder picks a typed macro overload for anything that
casts to JSON (a list, a number, a text), so the choice is made here, from the statement's text: an ``a || b`` becomes
CONCAT's call (a Python function of the server, JSON in and out, NULL for a NULL side) when one side is surely JSON and
the other surely JSON or PostgreSQL's "unknown" that resolves to jsonb (a string literal, a bound parameter). Surely
JSON: a cast to json or jsonb, a call of a function that returns JSON (the builders, json_agg, ...), a parenthesized
such value, or a column name whose every column of that name in the database is of type JSON (``doc || '{"b": 2}'``).
A text (``doc || label``, ``doc::text || 'x'``) stays DuckDB's text concatenation, as PostgreSQL's ``jsonb || text``.

``jsonb_build_object('a', 1, 'a', 2)`` is ``{"a": 2}`` in PostgreSQL (json_build_object keeps both pairs): pgjsonagg
wraps a jsonb builder's object in UNIQUE's call, which keeps the last value of each key (not in what the file stores).

Runs before pgcolnames (which names CONCAT's call ``?column?``, as PostgreSQL names an operator's column) and before
pgjsonagg (whose rewrites hold ``||`` of text). What the file stores (a view, a table's DEFAULT, pgstored) keeps
DuckDB's text: a Python function of the server does not exist for other readers of the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import duckdb

from .pgstored import stored_definition
from .pgsumscope import Tokens, closing
from .pgxor import operand_span
from .sqltext import words_if

CONCAT = "pg_jsonb_concat"
CONTAINS = "pg_jsonb_contains"
EXISTS = "pg_jsonb_exists"
UNIQUE = "pg_jsonb_unique"
# each operator -> its function (a <@ b is CONTAINS(b, a))
_OPERATORS = {"||": CONCAT, "@>": CONTAINS, "<@": CONTAINS, "?": EXISTS}
# functions whose result is JSON (DuckDB's names and PostgreSQL's, which pgjsonagg turns into DuckDB's later)
_JSON_CALLS = frozenset((
    "json_build_object", "jsonb_build_object", "json_build_array", "jsonb_build_array", "to_json", "to_jsonb",
    "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg", "json_object", "json_array", "json_extract",
    "json_merge_patch", "row_to_json", "json", "json_extract_path", "jsonb_extract_path", "pg_json_path", CONCAT,
    UNIQUE, "json_array_elements", "jsonb_array_elements"))
_JSON_TYPES = ("json", "jsonb")
# Whether every column of a name (lower case) in the database is of type JSON (Session.json_column)
JsonColumn = Callable[[str], bool]


def register(con: duckdb.DuckDBPyConnection) -> None:
    """The Python functions the rewrites call, on the server's connection (its sessions' cursors see them)."""
    con.create_function(CONCAT, _concat, ["JSON", "JSON"], "JSON")
    con.create_function(UNIQUE, _unique, ["JSON"], "JSON")
    con.create_function(CONTAINS, _contains, ["JSON", "JSON"], "BOOLEAN")
    con.create_function(EXISTS, _exists, ["JSON", "VARCHAR"], "BOOLEAN")


def _contains(a: str, b: str) -> bool:
    """PostgreSQL's jsonb @>: ``b``'s structure and values are in ``a`` (an object's pairs among its pairs, an array's
    elements each contained by one of its elements, a scalar equal); at the top an array also contains a scalar it
    holds."""
    x, y = json.loads(a), json.loads(b)
    if isinstance(x, list) and not isinstance(y, list | dict):
        y = [y]
    return _holds(x, y)


def _holds(x: Any, y: Any) -> bool:
    if isinstance(y, dict):
        return isinstance(x, dict) and all(k in x and _holds(x[k], v) for k, v in y.items())
    if isinstance(y, list):
        return isinstance(x, list) and all(any(_holds(e, v) for e in x) for v in y)
    return not isinstance(x, list | dict) and _scalar(x) == _scalar(y)


def _scalar(v: Any) -> tuple[str, Any]:
    """A JSON scalar with its kind: true is no 1, as in PostgreSQL; 1 and 1.0 are the same number."""
    return ("bool" if isinstance(v, bool) else "number" if isinstance(v, int | float) else type(v).__name__, v)


def _exists(a: str, key: str) -> bool:
    """PostgreSQL's jsonb ? key: a key of the object, a string element of the array, or the string itself."""
    x = json.loads(a)
    if isinstance(x, dict):
        return key in x
    return any(isinstance(e, str) and e == key for e in (x if isinstance(x, list) else [x]))


def _concat(a: str, b: str) -> str:
    """PostgreSQL's jsonb || jsonb (module doc)."""
    x, y = json.loads(a), json.loads(b)
    if isinstance(x, dict) and isinstance(y, dict):
        return _text({**x, **y})
    return _text((x if isinstance(x, list) else [x]) + (y if isinstance(y, list) else [y]))


def _unique(a: str) -> str:
    """The JSON value with each object's repeated key once, with its last value, as jsonb keeps it (Python's JSON
    reader keeps the last)."""
    return _text(json.loads(a))


def _text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def jsonb_operators(sql: str, json_column: JsonColumn) -> str:
    """``sql`` with each ``a || b``, ``a @> b``, ``a <@ b`` of JSON values and ``a ? key`` of a JSON value as CONCAT's,
    CONTAINS' and EXISTS' calls (module doc), left to right."""
    toks = words_if(sql, *_OPERATORS)
    if toks is None or stored_definition(toks):
        return sql
    skip = 0
    while True:
        op = next((k for k in range(1, len(toks) - 1) if toks[k][1] in _OPERATORS and toks[k][0] >= skip), None)
        if op is None:
            return sql
        word = toks[op][1]
        skip = toks[op][0] + len(word)
        span = operand_span(toks, op)
        if span is None:
            continue
        left, right = (span[0], op - 1), (op + 1, span[1])
        if not (_json_side(toks, left, json_column) if word == "?" else _both_json(toks, left, right, json_column)):
            continue
        start, end = toks[span[0]][0], toks[span[1]][0] + len(toks[span[1]][1])
        a, b = sql[start:toks[op][0]].rstrip(), sql[toks[op][0] + len(word):end].lstrip()
        sql = f"{sql[:start]}{_OPERATORS[word]}({b if word == '<@' else a}, {a if word == '<@' else b}){sql[end:]}"
        toks = words_if(sql, *_OPERATORS) or []
        skip = start  # the next operator may be this call's own right side: a || b || c is (a || b) || c


def _both_json(toks: Tokens, left: tuple[int, int], right: tuple[int, int], json_column: JsonColumn) -> bool:
    """Whether the operands ``left`` and ``right`` (each a first and last token) of ``||`` (or ``@>``) are jsonb's:
    each surely JSON or unknown, not both unknown."""
    kinds = (_kind(toks, *left), _kind(toks, *right))
    if "other" in kinds or kinds == ("unknown", "unknown"):
        return False
    return all(k != "column" or json_column(_column_name(toks, side)) for k, side in zip(kinds, (left, right), strict=True))


def _json_side(toks: Tokens, side: tuple[int, int], json_column: JsonColumn) -> bool:
    """Whether the operand ``side`` is surely JSON."""
    kind = _kind(toks, *side)
    return kind == "json" or kind == "column" and json_column(_column_name(toks, side))


def _kind(toks: Tokens, a: int, b: int) -> str:
    """What the tokens ``a`` to ``b`` are to jsonb's ||: "json", "unknown" (a literal, a parameter), "column" (a name
    to look up) or "other"."""
    words = [w.lower() for _, w, _ in toks[a:b + 1]]
    if a == b and toks[a][2] == "string_const" and toks[a][1].startswith("'"):
        return "unknown"
    if words[0] == "$" and len(words) == 2 and words[1].isdigit():
        return "unknown"
    if len(words) >= 3 and words[-1] in _JSON_TYPES and (words[-2] == "::" or len(words) >= 5 and words[-2] == "." and words[-4] == "::"):
        return "json"
    if words[0] in ("cast", "try_cast") and len(words) > 4 and words[-1] == ")" and words[-2] in _JSON_TYPES \
            and closing(toks, a + 1) == b:
        return "json"
    call = a + 2 if len(words) > 3 and words[1] == "." and words[0] == "pg_catalog" else a
    if toks[call][1].lower() in _JSON_CALLS and call + 1 <= b and toks[call + 1][1] == "(" \
            and closing(toks, call + 1) == b:
        return "json"
    if words[0] == "(" and closing(toks, a) == b and b > a + 1:
        return _kind(toks, a + 1, b - 1)
    if _last_operator(toks, a, b) == "->":  # doc -> 'tags': jsonb's -> is jsonb (DuckDB's is JSON)
        return "json"
    if all(toks[j][2] in ("identifier", "keyword") if (j - a) % 2 == 0 else toks[j][1] == "."
           for j in range(a, b + 1)) and (b - a) % 2 == 0:
        return "column"
    return "other"


def _last_operator(toks: Tokens, a: int, b: int) -> str | None:
    """The last operator outside parentheses among the tokens ``a`` to ``b``."""
    depth, last = 0, None
    for j in range(a, b + 1):
        w = toks[j][1]
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(w, 0)
        if depth == 0 and toks[j][2] == "operator" and w not in (")", "]", ".", "::"):
            last = w
    return last


def _column_name(toks: Tokens, side: tuple[int, int]) -> str:
    """The column name (lower case, unquoted) of a side read as a "column"."""
    word = toks[side[1]][1]
    return word[1:-1].replace('""', '"').lower() if word.startswith('"') else word.lower()
