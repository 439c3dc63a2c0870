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
DuckDB's text: a Python function of the server does not exist for other readers of the file; its ``?``, ``?|`` and
``?&`` become pgjsonkeys' macros, which pgstoredinline writes as DuckDB's own SQL.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Callable
from typing import Any

import duckdb

from .pgjsonkeys import ALL_KEYS, ANY_KEY, KEY_EXISTS
from .pgstored import stored_definition
from .pgsumscope import Tokens, _top_with, call_arguments, closing
from .pgxor import operand_end, operand_start
from .sqltext import quote_literal, words_if

CONCAT = "pg_jsonb_concat"
CONTAINS = "pg_jsonb_contains"
EXISTS = "pg_jsonb_exists"
EXISTS_ANY = "pg_jsonb_exists_any"
EXISTS_ALL = "pg_jsonb_exists_all"
UNIQUE = "pg_jsonb_unique"
GUARD = "pg_not_json"  # the session's macro (pgfunctions): its argument, or an error if DuckDB binds it as JSON
# each operator -> its function (a <@ b is CONTAINS(b, a))
_OPERATORS = {"||": CONCAT, "@>": CONTAINS, "<@": CONTAINS, "?": EXISTS, "?|": EXISTS_ANY, "?&": EXISTS_ALL}
_STORED_OPERATORS = {"?": KEY_EXISTS, "?|": ANY_KEY, "?&": ALL_KEYS}
# calls whose value is their arguments' common type: JSON when one is JSON and the others JSON or unknown
_COMMON_CALLS = frozenset(("coalesce", "nullif", "ifnull", "greatest", "least"))
# operators binding tighter than ||: beside an operand, they are its part
_BINDS = frozenset(("::", ".", "[", "+", "-", "*", "/", "//", "%", "^", "**", "->", "->>"))
_JSON_OID = 114  # the type OID the server gives DuckDB's JSON (pgtypes)
# functions whose result is JSON (DuckDB's names and PostgreSQL's, which pgjsonagg turns into DuckDB's later)
_JSON_CALLS = frozenset((
    "json_build_object", "jsonb_build_object", "json_build_array", "jsonb_build_array", "to_json", "to_jsonb",
    "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg", "json_object", "json_array", "json_extract",
    "json_merge_patch", "row_to_json", "json", "json_extract_path", "jsonb_extract_path", "pg_json_path", CONCAT,
    UNIQUE, "json_array_elements", "jsonb_array_elements"))
_JSON_TYPES = ("json", "jsonb")
# Whether the columns of a name (lower case) in the database are of type JSON: True each, None some, False none
# (Session.json_column)
JsonColumn = Callable[[str], bool | None]
# A query's columns (name, type OID), bound and not run; None where it cannot bind alone (pgrewrite.query_types)
Types = Callable[[str], list[tuple[str, int]] | None]


def register(con: duckdb.DuckDBPyConnection) -> None:
    """The Python functions the rewrites call, on the server's connection (its sessions' cursors see them)."""
    con.create_function(CONCAT, _concat, ["JSON", "JSON"], "JSON")
    con.create_function(UNIQUE, _unique, ["JSON"], "JSON")
    con.create_function(CONTAINS, _contains, ["JSON", "JSON"], "BOOLEAN")
    con.create_function(EXISTS, _exists, ["JSON", "VARCHAR"], "BOOLEAN")
    con.create_function(EXISTS_ANY, _exists_any, ["JSON", "VARCHAR[]"], "BOOLEAN")
    con.create_function(EXISTS_ALL, _exists_all, ["JSON", "VARCHAR[]"], "BOOLEAN")


def _contains(a: str, b: str) -> bool:
    """PostgreSQL's jsonb @>: ``b``'s structure and values are in ``a`` (an object's pairs among its pairs, an array's
    elements each contained by one of its elements, a scalar equal); at the top an array also contains a scalar it
    holds."""
    x, y = _load(a), _load(b)
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
    return ("bool" if isinstance(v, bool) else "number" if isinstance(v, int | float | decimal.Decimal) else type(v).__name__, v)


def _exists(a: str, key: str) -> bool:
    """PostgreSQL's jsonb ? key: a key of the object, a string element of the array, or the string itself."""
    x = _load(a)
    if isinstance(x, dict):
        return key in x
    return any(isinstance(e, str) and e == key for e in (x if isinstance(x, list) else [x]))


def _exists_any(a: str, keys: list[str | None]) -> bool:
    """PostgreSQL's jsonb ?| keys: any of the keys (NULL elements aside) exists, as ``?`` tells."""
    return any(_exists(a, k) for k in keys if k is not None)


def _exists_all(a: str, keys: list[str | None]) -> bool:
    """PostgreSQL's jsonb ?& keys: every key (NULL elements aside) exists, as ``?`` tells."""
    return all(_exists(a, k) for k in keys if k is not None)


def _concat(a: str, b: str) -> str:
    """PostgreSQL's jsonb || jsonb (module doc)."""
    x, y = _load(a), _load(b)
    if isinstance(x, dict) and isinstance(y, dict):
        return _text({**x, **y})
    return _text((x if isinstance(x, list) else [x]) + (y if isinstance(y, list) else [y]))


def _unique(a: str) -> str:
    """The JSON value with each object's repeated key once, with its last value, as jsonb keeps it (Python's JSON
    reader keeps the last)."""
    return _text(_load(a))


def _load(text: str) -> Any:
    """A JSON value as jsonb reads it: a number with a fraction or an exponent a Decimal (PostgreSQL's numeric keeps
    2.50 as 2.50 and shows 1e2 as 100, where a float would show 2.5 and 100.0)."""
    return json.loads(text, parse_float=decimal.Decimal)


def _text(value: Any) -> str:
    """A value as PostgreSQL shows a jsonb: an object's keys shortest first, then by their bytes (jsonb's own order),
    ``", "`` and ``": "`` between its parts, a number as numeric shows it."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {_text(value[k])}" for k in keys) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, decimal.Decimal):
        return format(abs(value) if value.is_zero() else value, "f")  # (numeric has no -0)
    return json.dumps(value, ensure_ascii=False)


def jsonb_operators(sql: str, json_column: JsonColumn, types: Types | None = None,
                    has_json: Callable[[], bool] | None = None) -> str:
    """``sql`` with each ``a || b``, ``a @> b``, ``a <@ b`` of JSON values and ``a ? key``, ``a ?| keys``, ``a ?& keys``
    of a JSON value as CONCAT's, CONTAINS', EXISTS', EXISTS_ANY's and EXISTS_ALL's calls (module doc), left to right.
    ``types`` binds a query (a subquery's, a CTE's) for the columns it gives: a name that is one of theirs is JSON
    when each of theirs of that name is. Where the database has a JSON column (``has_json``) and one side of ``||`` is
    JSON or unknown but the other cannot be told, that side is guarded (_guarded)."""
    toks = words_if(sql, *_OPERATORS)
    if toks is None:
        return sql
    # what the file stores: the key tests as DuckDB's own SQL (pgjsonkeys), the others as DuckDB's text
    functions = _STORED_OPERATORS if stored_definition(toks) else _OPERATORS
    skip, any_json = 0, None
    while True:
        op = next((k for k in range(1, len(toks) - 1) if toks[k][1] in _OPERATORS and toks[k][0] >= skip), None)
        if op is None:
            return sql
        word, right_of = toks[op][1], op
        if word == "?" and toks[op + 1][1] in ("|", "&") and toks[op + 1][0] == toks[op][0] + 1:
            word, right_of = "?" + toks[op + 1][1], op + 1  # ?| and ?& are two tokens to DuckDB's tokenizer
        skip = toks[op][0] + len(word)
        if word not in functions:
            continue
        left_end, right_end = operand_start(toks, op), operand_end(toks, right_of)
        if left_end is None or right_end is None or right_of + 1 > right_end:
            continue
        is_json = _JsonNames(sql, toks, json_column, types)
        left, right = (left_end, op - 1), (right_of + 1, right_end)
        if word.startswith("?"):
            if _kind(toks, *left, is_json) != "json":
                continue
        elif not _both_json(toks, left, right, is_json):
            side = _undecided(toks, left, right, is_json) if word == "||" else None
            if side is not None and has_json is not None and (any_json := has_json() if any_json is None else any_json):
                sql, toks, skip = _guarded(sql, toks, op, side)
            continue
        start, end = toks[left_end][0], toks[right_end][0] + len(toks[right_end][1])
        a, b = sql[start:toks[op][0]].rstrip(), sql[toks[op][0] + len(word):end].lstrip()
        if word in ("?|", "?&"):
            b = _text_array(toks, right, b)
        sql = f"{sql[:start]}{functions[word]}({b if word == '<@' else a}, {a if word == '<@' else b}){sql[end:]}"
        toks = words_if(sql, *_OPERATORS) or []
        skip = start  # the next operator may be this call's own right side: a || b || c is (a || b) || c


def _undecided(toks: Tokens, left: tuple[int, int], right: tuple[int, int], is_json: JsonColumn
               ) -> tuple[int, int] | None:
    """The side of ``a || b`` whose type the text cannot tell (a name some JSON columns have, an expression) beside
    a JSON or unknown one, if there is one."""
    kinds = (_kind(toks, *left, is_json), _kind(toks, *right, is_json))
    return next((side for side, kind, other in ((left, kinds[0], kinds[1]), (right, kinds[1], kinds[0]))
                 if kind in ("maybe", "other") and other in ("json", "unknown") and _whole(toks, side)), None)


def _whole(toks: Tokens, side: tuple[int, int]) -> bool:
    """Whether the operand read as ``side`` is a whole expression this may wrap: no part of one bound tighter left
    or right of it (a keyword column name ends the operand reader's left side: ``ref::VARCHAR`` read as ``::VARCHAR``
    must stay as written)."""
    a, b = side
    return not (toks[a][2] == "operator" and toks[a][1] != "(" or a > 0 and toks[a - 1][1] in _BINDS
                or b + 1 < len(toks) and toks[b + 1][1] in _BINDS)


def _guarded(sql: str, toks: Tokens, op: int, side: tuple[int, int]) -> tuple[str, Tokens, int]:
    """The statement with the side ``side`` of the ``||`` at token ``op`` (_undecided) in GUARD's call, its tokens,
    and where to read on. Why: DuckDB's || of a JSON value joins the texts ('{"a":1}{"x":1}'), a silent wrong answer
    where PostgreSQL merges; the guard is that side itself unless DuckDB binds it as JSON, when the statement fails
    naming the expression and the cast that fixes it."""
    after, (a, b) = toks[op][0] + 2, side
    start, end = toks[a][0], toks[b][0] + len(toks[b][1])
    text = sql[start:end]
    where = f"{text} || ..." if a < op else f"... || {text}"
    message = (f"{where}: the server cannot tell whether {text} is jsonb or text here, and DuckDB would join "
               f"the texts of two JSON values; write ({text})::jsonb to merge them as PostgreSQL does, or "
               f"({text})::text to join the texts")
    guarded = f"{sql[:start]}{GUARD}({text}, {quote_literal(message)}){sql[end:]}"
    return guarded, words_if(guarded, *_OPERATORS) or [], after + (len(guarded) - len(sql) if a < op else 0)


def _text_array(toks: Tokens, side: tuple[int, int], text: str) -> str:
    """The right side of ?| / ?& as DuckDB's VARCHAR[]: PostgreSQL's text[] literal '{a,b}' (plain elements) as a
    list, any other side as written."""
    word = toks[side[0]][1]
    if side[0] != side[1] or toks[side[0]][2] != "string_const" or not word.startswith("'{") or not word.endswith("}'"):
        return text
    inner = word[2:-2]
    if any(c in inner for c in "\"{}'"):
        return text  # (quoted elements: DuckDB's own error)
    return "[" + ", ".join("'" + e.strip() + "'" for e in inner.split(",") if e.strip()) + "]::VARCHAR[]"


class _JsonNames:
    """Whether a column name (lower case) of the statement is JSON: a column of one of its subqueries or CTEs (bound
    by ``types``, once) when one of them gives that name, else every table's column of that name in the database."""

    def __init__(self, sql: str, toks: Tokens, json_column: JsonColumn, types: Types | None) -> None:
        self.sql, self.toks, self.json_column, self.types = sql, toks, json_column, types
        self.derived: dict[str, set[bool]] | None = None

    def __call__(self, name: str) -> bool | None:
        if self.derived is None:
            self.derived = self._derived()
        found = self.derived.get(name)
        return (True if found == {True} else None if True in found else False) if found else self.json_column(name)

    def _derived(self) -> dict[str, set[bool]]:
        """Each name a subquery or CTE of the statement gives -> whether each is JSON (those bound alone, with the
        statement's WITH clause before them)."""
        # an alias's column list's names: either, so each is checked when bound (_guarded)
        names: dict[str, set[bool]] = {name: {True, False} for name in _alias_columns(self.toks)}
        if self.types is None:
            return names
        toks, prefix = self.toks, _top_with(self.toks, self.sql)[0]
        for k in range(len(toks) - 1):
            if toks[k][1] != "(" or toks[k + 1][1].lower() not in ("select", "with", "values"):
                continue
            shut = closing(toks, k)
            if shut is None:
                continue
            body = self.sql[toks[k + 1][0]:toks[shut][0]]
            got = self.types((prefix if toks[k + 1][1].lower() != "with" else "") + body)
            for column, oid in got or []:
                names.setdefault(column.lower(), set()).add(oid == _JSON_OID)
        return names


# words before a parenthesis that are no alias: ) AND (x), ) OVER (...), t2 USING (id), ) IN (a, b), ...
_NOT_ALIASES = frozenset(("and", "or", "not", "in", "over", "filter", "within", "exists", "any", "all", "some",
                          "values", "using", "on", "where", "select", "is", "then", "else", "when", "case", "like",
                          "ilike", "between", "lateral", "join", "from", "by", "returning", "having", "qualify"))


def _alias_columns(toks: Tokens) -> set[str]:
    """The names (lower case, unquoted) of the column lists of the statement's aliases: ``(VALUES ('a')) v(doc)``,
    ``unnest(l) u(doc)``, ``docs AS d(i, body)``. Why: such a name is the alias's own column, whatever a table's column
    of that name is (doc a JSON column elsewhere was taken for one, and ``doc || '!'`` failed as malformed JSON),
    and a JSON column renamed there is no longer a JSON column's name. An alias is read as a name after ``)``, AS or
    another name, then ``(``; a type's ``AS decimal(10, 2)`` read so gives no name."""
    out: set[str] = set()
    for k in range(1, len(toks) - 1):
        if toks[k + 1][1] != "(" or toks[k][2] not in ("identifier", "keyword") or toks[k][1].lower() in _NOT_ALIASES \
                or not (toks[k - 1][1] in (")", "]") or toks[k - 1][1].lower() == "as" or toks[k - 1][2] == "identifier"):
            continue
        shut = closing(toks, k + 1)
        if shut is None:
            continue
        out.update(_column_name(toks, (j, j)) for j in range(k + 2, shut)
                   if toks[j][2] in ("identifier", "keyword") and toks[j - 1][1] in ("(", ",") and toks[j + 1][1] in (")", ","))
    return out


def _both_json(toks: Tokens, left: tuple[int, int], right: tuple[int, int], is_json: JsonColumn) -> bool:
    """Whether the operands ``left`` and ``right`` (each a first and last token) of ``||`` (or ``@>``) are jsonb's:
    each surely JSON or unknown, not both unknown."""
    kinds = (_kind(toks, *left, is_json), _kind(toks, *right, is_json))
    return set(kinds) <= {"json", "unknown"} and kinds != ("unknown", "unknown")


def _kind(toks: Tokens, a: int, b: int, is_json: JsonColumn) -> str:
    """What the tokens ``a`` to ``b`` are to jsonb's ||: "json", "unknown" (a literal, a parameter, NULL), "typed" (a
    cast to another type, a number), "name" (a column name no column of type JSON has), "maybe" (a name some columns
    of type JSON have, not all) or "other"."""
    words = [w.lower() for _, w, _ in toks[a:b + 1]]
    if a == b and toks[a][2] == "string_const" and toks[a][1].startswith("'") or words == ["null"]:
        return "unknown"
    if words[0] == "$" and len(words) == 2 and words[1].isdigit():
        return "unknown"
    if len(words) >= 3 and words[-1] in _JSON_TYPES and (words[-2] == "::" or len(words) >= 5 and words[-2] == "." and words[-4] == "::"):
        return "json"
    if words[0] in ("cast", "try_cast") and len(words) > 4 and words[-1] == ")" and closing(toks, a + 1) == b:
        return "json" if words[-2] in _JSON_TYPES else "typed"
    if len(words) >= 3 and words[-2] == "::" or a == b and toks[a][2] == "numeric_const":
        return "typed"  # x::varchar, 2: a type of its own, not JSON (no guard)
    call = a + 2 if len(words) > 3 and words[1] == "." and words[0] == "pg_catalog" else a
    if call + 1 <= b and toks[call + 1][1] == "(" and closing(toks, call + 1) == b:
        name = toks[call][1].lower()
        if name in _JSON_CALLS:
            return "json"
        if name in _COMMON_CALLS:  # coalesce(doc, '{}'): its arguments' type
            kinds = {_kind(toks, x, y, is_json) for x, y in call_arguments(toks, call + 1, b)}
            return "json" if "json" in kinds and kinds <= {"json", "unknown"} else "other"
    if words[0] == "(" and closing(toks, a) == b and b > a + 1:
        return _kind(toks, a + 1, b - 1, is_json)
    if _last_operator(toks, a, b) == "->":  # doc -> 'tags': jsonb's -> is jsonb (DuckDB's is JSON)
        return "json"
    if all(toks[j][2] in ("identifier", "keyword") if (j - a) % 2 == 0 else toks[j][1] == "."
           for j in range(a, b + 1)) and (b - a) % 2 == 0:
        found = is_json(_column_name(toks, (a, b)))
        return "json" if found else "maybe" if found is None else "name"
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
