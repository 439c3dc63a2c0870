"""PostgreSQL's ``array || element`` and ``element || array``: the element appended (prepended) to the array.

Why: DuckDB's ``||`` joins two lists but refuses a list and an element ('Cannot concatenate types INTEGER[] and
INTEGER - an explicit cast is required'), so ``ARRAY[1, 2] || 3`` failed. DuckDB has no operator to overload, and a
macro cannot choose by type (each branch of a CASE must bind), so the choice is made here, from the statement's
text, where it is sure: one side surely an array (ARRAY[...], a list literal, a cast to an array type, a call that
returns one, such an expression parenthesized) and the other surely no array (a number, a cast to another type).
Such an ``a || b`` becomes APPEND's (PREPEND's) call, macros of DuckDB's list_append / list_prepend that pgcolnames
names ``?column?`` as PostgreSQL names an operator's column, and that what the file stores writes as DuckDB's own
call (pgstoredinline). Anything else (a column of unknown type, a string literal, which PostgreSQL reads as an
array) is left to DuckDB. Runs before pgjsonb, whose ``||`` holds JSON, not lists."""

from __future__ import annotations

from .pgsumscope import Tokens, closing
from .pgxor import operand_end, operand_start
from .sqltext import words_if

APPEND = "pg_array_append"
PREPEND = "pg_array_prepend"
ARRAY_SQL = (
    f"CREATE OR REPLACE TEMP MACRO {APPEND}(pg_list_arg, pg_elem_arg) AS list_append(pg_list_arg, pg_elem_arg)",
    f"CREATE OR REPLACE TEMP MACRO {PREPEND}(pg_elem_arg, pg_list_arg) AS list_prepend(pg_elem_arg, pg_list_arg)",
)
# calls whose value is a list (PostgreSQL's names and DuckDB's)
_LIST_CALLS = frozenset((
    "array_agg", "list", "string_to_array", "regexp_split_to_array", "str_split", "string_split", "array_append",
    "array_prepend", "array_cat", "array_remove", "list_append", "list_prepend", "list_concat", "list_value",
    "array_fill", "list_distinct", "list_sort", "array_sort", "list_reverse", "array_reverse", "list_slice",
    "array_slice", "range", "generate_series", APPEND, PREPEND))


def array_element_concats(sql: str) -> str:
    """``sql`` with each ``a || b`` of an array and an element as APPEND's or PREPEND's call (module doc), left to
    right (``ARRAY[1] || 2 || 3`` is ``(ARRAY[1] || 2) || 3``)."""
    skip = 0
    while (toks := words_if(sql, "||")) is not None:
        op = next((k for k in range(1, len(toks) - 1) if toks[k][1] == "||" and toks[k][0] >= skip), None)
        if op is None:
            return sql
        skip = toks[op][0] + 2
        first, last = operand_start(toks, op), operand_end(toks, op)
        if first is None or last is None or last <= op:
            continue
        kinds = (_kind(toks, first, op - 1), _kind(toks, op + 1, last))
        if kinds not in (("list", "element"), ("element", "list")):
            continue
        start, end = toks[first][0], toks[last][0] + len(toks[last][1])
        a, b = sql[start:toks[op][0]].rstrip(), sql[toks[op][0] + 2:end].lstrip()
        sql = f"{sql[:start]}{APPEND if kinds[0] == 'list' else PREPEND}({a}, {b}){sql[end:]}"
        skip = start  # the call may be the left side of the next ||
    return sql


def _kind(toks: Tokens, a: int, b: int) -> str:
    """What the tokens ``a`` to ``b`` surely are: "list", "element" (a number, a cast to a type that is no array)
    or "other"."""
    words = [w.lower() for _, w, _ in toks[a:b + 1]]
    if a == b:
        return "element" if toks[a][2] == "numeric_const" else "other"
    if words[0] == "(" and closing(toks, a) == b:
        return _kind(toks, a + 1, b - 1)
    if words[0] in ("array", "[") and (closing(toks, a + 1 if words[0] == "array" else a) == b):
        return "list"
    if words[-1] == "]" and words[-2] == "[" and "::" in words:
        return "list"  # x::int[]
    if "::" in words and words[-1] not in (")", "]"):
        cast = len(words) - 1 - words[::-1].index("::")
        if _plain_type(toks, a + cast, b):
            return "element"  # x::int, 'b'::text
    call = a + 2 if len(words) > 3 and words[1] == "." and words[0] == "pg_catalog" else a
    if call + 1 <= b and toks[call + 1][1] == "(" and closing(toks, call + 1) == b and toks[call][1].lower() in _LIST_CALLS:
        return "list"
    return "other"


def _plain_type(toks: Tokens, cast: int, b: int) -> bool:
    """Whether the tokens after the ``::`` at ``cast`` up to ``b`` are a plain type name (words, dots, a
    parenthesized precision), so that the cast is the operand's last operation."""
    return all(toks[j][2] in ("identifier", "keyword", "numeric_const") or toks[j][1] in (".", "(", ")", ",")
               for j in range(cast + 1, b + 1))
