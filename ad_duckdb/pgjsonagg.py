"""PostgreSQL's JSON builders as ORMs and BI tools send them: ``json_agg`` / ``jsonb_agg``, ``json_object_agg`` /
``jsonb_object_agg``, ``json_build_object`` / ``jsonb_build_object``, ``json_build_array`` / ``jsonb_build_array``
and ``to_jsonb``, which DuckDB lacks (or, for json_build_object, had only as a session macro of up to 16 arguments);
and ``json_extract_path[_text]`` / ``jsonb_extract_path[_text]`` of several keys, pgjsonpath's macros.

Django's ``JSONBAgg``, Prisma's relation joins, Hasura and PostgREST nest related rows with them
(``coalesce(jsonb_agg(jsonb_build_object('id', t.id, ...)), '[]')``), so such a query failed with 'Scalar Function
with name json_agg does not exist!'. DuckDB's own ``json_group_array`` is a macro, which takes no ``ORDER BY``,
``FILTER`` or ``DISTINCT``; so an aggregate becomes ``to_json(list(...))`` around DuckDB's ``list``, a real aggregate
that keeps its ORDER BY, DISTINCT, FILTER and OVER and, as PostgreSQL's json_agg, gives NULL for no rows and a JSON
null for a NULL row (json_object_agg, its pairs written out around ``string_agg``, alike). A builder becomes
DuckDB's ``json_object`` (keys cast to text, as PostgreSQL reads them) or ``json_array``. Runs after pgcolnames, so an
unnamed column keeps PostgreSQL's name (``json_agg``). Nothing here runs SQL.
"""

from __future__ import annotations

from .pgjsonb import UNIQUE
from .pgjsonpath import JSON_PATH, JSON_PATH_TEXT
from .pgstored import stored_definition
from .pgsumscope import Tokens, closing
from .sqltext import words_if

# aggregate -> the DuckDB aggregate its argument list goes to, inside to_json(...)
_AGGREGATES = {"json_agg": "list", "jsonb_agg": "list"}
# function -> DuckDB's function of the same arguments
_RENAMED = {"json_build_array": "json_array", "jsonb_build_array": "json_array", "to_jsonb": "to_json",
            "row_to_json": "row_to_json"}
# PostgreSQL's aggregate of key/value pairs: DuckDB's json_group_object is a macro, which takes no ORDER BY or FILTER,
# so its body is written out around string_agg, a real aggregate (NULL for no rows, a JSON null for a NULL value)
_PAIRS = ("json_object_agg", "jsonb_object_agg")
_OBJECTS = ("json_build_object", "jsonb_build_object")
# PostgreSQL's path extraction, its keys a variadic list: the session's macros of j #> path and j #>> path (pgjsonpath).
# DuckDB's json_extract_path takes one path, which for a plain key reads as PostgreSQL's; so a call of one key is left
# to it, and only the jsonb_ names, which DuckDB lacks, always become the macros.
_PATHS = {"json_extract_path": JSON_PATH, "jsonb_extract_path": JSON_PATH,
          "json_extract_path_text": JSON_PATH_TEXT, "jsonb_extract_path_text": JSON_PATH_TEXT}
_NEEDLES = ("json_agg", "jsonb_agg", "build_object", "build_array", "to_jsonb", "object_agg", "row_to_json",
            "extract_path")


def json_builders(sql: str) -> str:
    """``sql`` with PostgreSQL's JSON aggregates and builders (module doc) as DuckDB's, innermost first."""
    done = len(sql) + 1  # the last call's start: each round rewrites the last call before it, read anew
    while (toks := words_if(sql, *_NEEDLES)) is not None:
        found = next((i for i in range(len(toks) - 2, -1, -1) if toks[i][0] < done and _is_call(toks, i)), None)
        if found is None:
            return sql
        sql, done = _rewritten(sql, toks, found, stored_definition(toks)), toks[found][0]
    return sql


def _is_call(toks: Tokens, i: int) -> bool:
    """Whether token ``i`` names one of this module's functions in a call (bare or pg_catalog's)."""
    if toks[i + 1][1] != "(" or toks[i][2] not in ("identifier", "keyword") or toks[i][1].lower() not in (
            *_AGGREGATES, *_RENAMED, *_OBJECTS, *_PATHS, *_PAIRS):
        return False
    # another schema's function of that name is the user's own
    return i < 2 or toks[i - 1][1] != "." or toks[i - 2][1].lower() == "pg_catalog"


def _rewritten(sql: str, toks: Tokens, i: int, stored: bool) -> str:
    """``sql`` with the call named at token ``i`` as DuckDB's; ``stored``: in a statement whose expressions the file
    keeps (pgstored), which cannot name the server's UNIQUE."""
    name = toks[i][1].lower()
    start = i - 2 if i >= 2 and toks[i - 1][1] == "." else i
    close = closing(toks, i + 1)
    if close is None:
        return sql
    head, end = sql[:toks[start][0]], toks[close][0] + 1
    args = sql[toks[i + 1][0]:end]
    if close >= i + 5 and toks[i + 3][1] == "." and toks[i + 4][1] == "*":
        # json_agg(t.* [ORDER BY ...]): the row, DuckDB's t (whose star expands to its columns)
        args = f"({toks[i + 2][1]}{sql[toks[i + 4][0] + 1:end]}"
    if name in _RENAMED:
        return f"{head}{_RENAMED[name]}{args}{sql[end:]}"
    if name in _OBJECTS:
        pairs = _arguments(toks, i + 1, close, sql)
        keyed = [f"CAST({a} AS VARCHAR)" if n % 2 == 0 else a for n, a in enumerate(pairs)]
        built = f"json_object({', '.join(keyed)})"
        return f"{head}{built if stored else _unique(name, built, pairs[::2])}{sql[end:]}"
    if name in _PATHS:
        path = _arguments(toks, i + 1, close, sql)
        if len(path) < 2 or len(path) == 2 and not name.startswith("jsonb"):
            return sql  # DuckDB's own (the next round reads the calls before it)
        keys = ", ".join(f"CAST({k} AS VARCHAR)" for k in path[1:])
        return f"{head}{_PATHS[name]}({path[0]}, [{keys}]){sql[end:]}"
    tail = _clauses_end(toks, close)
    after = toks[tail][0] + len(toks[tail][1])
    if name in _PAIRS:
        built = f"{_pairs(toks, i + 1, close, sql)}{sql[end:after]} || '}}' AS JSON)"
        return f"{head}{built if stored else _unique(name, built, None)}{sql[after:]}"
    return f"{head}to_json({_AGGREGATES[name]}{args}{sql[end:after]}){sql[after:]}"


def _unique(name: str, built: str, keys: list[str] | None) -> str:
    """A builder's DuckDB form ``built``, each key once with its last value when it is jsonb's (pgjsonb.UNIQUE); as
    it is for json's, which keeps every pair, and for keys that are distinct string literals (``keys``: the keys'
    texts; None when not known), which need no such pass."""
    if not name.startswith("jsonb") or keys is not None and len(set(keys)) == len(keys) \
            and all(k.startswith("'") and k.endswith("'") for k in keys):
        return built
    return f"{UNIQUE}({built})"


def _pairs(toks: Tokens, open_: int, close: int, sql: str) -> str:
    """The start of json_object_agg(k, v [ORDER BY ...])'s DuckDB form, up to its string_agg call's parenthesis (its
    FILTER or OVER follows)."""
    order = next((j for j in range(open_ + 1, close - 1) if toks[j][1].lower() == "order"
                  and toks[j + 1][1].lower() == "by" and _depth(toks, open_, j) == 1), close)
    distinct = toks[open_ + 1][1].lower() == "distinct"
    key, value = (_arguments(toks, open_ + distinct, order, sql) + ["NULL", "NULL"])[:2]
    ordered = f" {sql[toks[order][0]:toks[close][0]].strip()}" if order < close else ""
    # (a NULL key, which PostgreSQL refuses, leaves its pair out: DuckDB reads an aggregate's argument before its
    # FILTER, so an error() here would fail a FILTER (WHERE k IS NOT NULL) written against it)
    # (DISTINCT: of the pairs, as PostgreSQL's of its two arguments; each pair is one text here)
    return (f"CAST('{{' || string_agg({'DISTINCT ' if distinct else ''}to_json(CAST({key} AS VARCHAR)) || ':' || "
            f"coalesce(CAST(to_json({value}) AS VARCHAR), 'null'), ','{ordered})")


def _depth(toks: Tokens, open_: int, j: int) -> int:
    """The parentheses open at token ``j``, counted from token ``open_``."""
    return sum({"(": 1, "[": 1, ")": -1, "]": -1}.get(toks[k][1], 0) for k in range(open_, j))


def _arguments(toks: Tokens, open_: int, close: int, sql: str) -> list[str]:
    """The arguments' texts of the call whose parenthesis opens at token ``open_`` and shuts at ``close``."""
    args: list[str] = []
    depth, start = 0, open_ + 1
    for j in range(open_ + 1, close + 1):
        w = toks[j][1]
        if j == close or depth == 0 and w == ",":
            if j > start:
                args.append(sql[toks[start][0]:toks[j - 1][0] + len(toks[j - 1][1])])
            start = j + 1
            continue
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(w, 0)
    return args


def _clauses_end(toks: Tokens, close: int) -> int:
    """The last token of an aggregate call whose argument list shuts at ``close``: past its FILTER (...) and its
    OVER (...) or OVER name."""
    end = close
    if end + 2 < len(toks) and toks[end + 1][1].lower() == "filter" and toks[end + 2][1] == "(":
        end = closing(toks, end + 2) or end
    if end + 2 < len(toks) and toks[end + 1][1].lower() == "over":
        end = (closing(toks, end + 2) or end) if toks[end + 2][1] == "(" else end + 2
    return end
