"""PostgreSQL's JSON path operators, ``j #>> path`` (text) and ``j #> path`` (json), which DuckDB cannot parse.

Metabase sends them for each field it unfolds from a json column (``("t"."data"#>> ?::text[])::bigint``, the path a
text[] parameter), so a table with a JSON column failed its table view with 'syntax error at or near "#"'. Each
becomes a call of the session's macro (pgcatalog: JSON_PATH_TEXT, JSON_PATH), which reads the path, a list of keys
and array indexes, as a JSON pointer: DuckDB's json_extract_string / json_extract give PostgreSQL's answers (NULL for
a missing key and, as text, for a JSON null). A path written as PostgreSQL's array literal ('{n,inner}') becomes a
list; an uncast parameter is cast to VARCHAR[], the type PostgreSQL gives it.
"""

from __future__ import annotations

from .sqltext import sql_words

JSON_PATH_TEXT = "pg_json_path_text"
JSON_PATH = "pg_json_path"
Tokens = list[tuple[int, str, str]]
_OPEN = {")": "(", "]": "["}


def json_paths(sql: str) -> str:
    """``sql`` with each ``j #>> path`` as ``pg_json_path_text(j, path)`` and ``j #> path`` as ``pg_json_path(j,
    path)``, left to right (``j #> a #>> b`` is ``(j #> a) #>> b``), as far as the operands can be read: a column
    (qualified or not), a call, a parenthesis, a literal, each with casts and ``->`` steps; a path as a string, an
    ARRAY[...] or [...] list, a parameter, each with a cast."""
    if "#>" not in sql:
        return sql
    for _ in range(sql.count("#>")):
        try:
            toks = sql_words(sql)
        except Exception:  # (duckdb.Error) DuckDB's own error is the client's
            return sql
        found = next((k for k in range(len(toks) - 2) if toks[k][1] == "#" and toks[k + 1][1] in (">>", ">")
                      and toks[k + 1][0] == toks[k][0] + 1), None)
        if found is None:
            return sql
        left = _left_start(toks, found)
        right = _right_end(toks, found + 2)
        if left is None or right is None:
            return sql
        name = JSON_PATH_TEXT if toks[found + 1][1] == ">>" else JSON_PATH
        start, end = toks[left][0], toks[right][0] + len(toks[right][1])
        operand = sql[start:toks[found][0]].rstrip()
        sql = f"{sql[:start]}{name}({operand}, {_path(toks, found + 2, right, sql)}){sql[end:]}"
    return sql


def _matching(toks: Tokens, close: int) -> int | None:
    """The token opening the parenthesis or bracket that token ``close`` shuts."""
    depth = 0
    for j in range(close, -1, -1):
        w = toks[j][1]
        depth += w in (")", "]")
        depth -= w in ("(", "[")
        if depth == 0:
            return j
    return None


def _primary_start(toks: Tokens, j: int) -> int | None:
    """The first token of the operand that ends at token ``j``: a name chain, a call, a parenthesis, a literal, a
    parameter, with its casts (``x::json``) and subscripts."""
    while True:
        w, kind = toks[j][1], toks[j][2]
        if w in (")", "]"):
            opened = _matching(toks, j)
            if opened is None:
                return None
            j = opened
            if w == "]" and j > 0 and (toks[j - 1][1] in (")", "]") or toks[j - 1][2] in ("identifier", "keyword")):
                j -= 1  # a subscript: its base
                continue
            if w == ")" and j > 0 and toks[j - 1][2] in ("identifier", "keyword") \
                    and toks[j - 1][1].lower() not in _NOT_CALLS:
                j -= 1  # a call: its name
        elif kind in ("string_const", "numeric_const"):
            if j > 0 and toks[j - 1][1] == "$" and kind == "numeric_const":
                j -= 1  # $n
        elif kind not in ("identifier", "keyword") and w != "?":
            return None
        # a name chain: t.c, s.t.c
        while j >= 2 and toks[j - 1][1] == "." and toks[j - 2][2] in ("identifier", "keyword"):
            j -= 2
        if j >= 2 and toks[j - 1][1] == "::":
            j -= 2  # the cast's type's name was the primary read; its operand comes before
            continue
        if j >= 2 and toks[j - 1][1] in ("->", "->>"):
            j -= 2  # a step of a ->/->> chain (same precedence as #>, read left to right)
            continue
        return j


# words before a parenthesis that are no function's name (the parenthesis is an operand of its own)
_NOT_CALLS = frozenset(("select", "where", "and", "or", "not", "on", "when", "then", "else", "in", "as", "by", "from",
                        "having", "is", "like", "between", "case", "return", "using"))


def _left_start(toks: Tokens, op: int) -> int | None:
    """The first token of ``#>``'s left operand (before token ``op``)."""
    return _primary_start(toks, op - 1) if op > 0 else None


def _right_end(toks: Tokens, k: int) -> int | None:
    """The last token of ``#>``'s right operand, which starts at token ``k``: a string, ARRAY[...] or [...], a
    parameter, a parenthesis, each with a cast (``::text[]``)."""
    if k >= len(toks):
        return None
    w, kind = toks[k][1], toks[k][2]
    if kind == "string_const" or w == "?":
        end = k
    elif w == "$" and k + 1 < len(toks):
        end = k + 1
    elif w.lower() == "array" and k + 1 < len(toks) and toks[k + 1][1] == "[" or w in ("[", "("):
        shut = _closing(toks, k + 1 if w.lower() == "array" else k)
        if shut is None:
            return None
        end = shut
    else:
        return None
    while end + 2 < len(toks) and toks[end + 1][1] == "::" and toks[end + 2][2] in ("identifier", "keyword"):
        end += 2
        while end + 2 < len(toks) and toks[end + 1][1] == "[" and toks[end + 2][1] == "]":
            end += 2
    return end


def _closing(toks: Tokens, k: int) -> int | None:
    depth = 0
    for j in range(k, len(toks)):
        depth += toks[j][1] in ("(", "[")
        depth -= toks[j][1] in (")", "]")
        if depth == 0:
            return j
    return None


def _path(toks: Tokens, k: int, end: int, sql: str) -> str:
    """The path operand (tokens ``k`` to ``end``) as DuckDB's VARCHAR[]: PostgreSQL's array literal '{a,b}' as a
    list; an uncast parameter cast; anything else as written."""
    text = sql[toks[k][0]:toks[end][0] + len(toks[end][1])]
    if toks[k][2] == "string_const" and end == k:
        return "[" + ", ".join("'" + key.replace("'", "''") + "'" for key in _array_literal(toks[k][1])) + "]::VARCHAR[]"
    if end == k or toks[k][1] == "$" and end == k + 1:
        return f"{text}::VARCHAR[]"
    return text


def _array_literal(quoted: str) -> list[str]:
    """The elements of PostgreSQL's text array literal ``'{a,"b c",d}'`` (as its SQL string, quotes and all)."""
    body = quoted[quoted.index("'") + 1:-1].replace("''", "'").strip()
    if not (body.startswith("{") and body.endswith("}")):
        return [body]  # a bare key: PostgreSQL refuses it ('malformed array literal'), DuckDB then finds nothing
    out: list[str] = []
    item, quoting, escaped, started = [], False, False, False
    for ch in body[1:-1]:
        if escaped:
            item.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoting, started = not quoting, True
        elif ch == "," and not quoting:
            out.append("".join(item) if started else "".join(item).strip())
            item, started = [], False
        else:
            item.append(ch)
    if item or started or out:
        out.append("".join(item) if started else "".join(item).strip())
    return out
