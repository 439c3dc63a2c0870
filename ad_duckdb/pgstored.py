"""Which statements DuckDB keeps expressions of in the file: a view's or macro's text, and a table's DEFAULT, CHECK
and generated columns (CREATE TABLE with its columns, ALTER TABLE) and an index's expressions.

Why: the server's PostgreSQL rewrites call the session's temporary macros (pg_round, ...) and the server's Python
functions (pg_jsonb_concat, pg_regex_group, ...). A query's call lives as long as the query; a stored expression that
names one outlives the session: no other session of the server (which has not made the macros) and no other reader
of the file (the DuckDB CLI, dbt, a notebook) can read or write the table or view again ('Scalar Function with name
pg_round does not exist'). So these statements keep DuckDB's own functions (README: a view keeps DuckDB's division,
round and ||). ``CREATE TABLE ... AS SELECT`` stores values, not expressions: its query is rewritten as any query."""

from __future__ import annotations

from .pgsumscope import Tokens

# words that may stand between CREATE and TABLE (CREATE OR REPLACE TEMP TABLE) or before a table's name
_TABLE_PREFIX = frozenset(("or", "replace", "temp", "temporary", "local", "global", "unlogged", "persistent"))


def stored_definition(toks: Tokens) -> bool:
    """Whether the statement (its tokens) creates or changes something whose expressions DuckDB stores (module doc)."""
    if not toks:
        return False
    first = toks[0][1].lower()
    if first == "alter":
        return True
    if first != "create":
        return False
    words = [w.lower() for _, w, _ in toks[1:6]]
    if any(w in ("view", "macro", "function", "index") for w in words):
        return True
    j = 1
    while j < len(toks) and toks[j][1].lower() in _TABLE_PREFIX:
        j += 1
    if j >= len(toks) or toks[j][1].lower() != "table":
        return False
    j += 1
    if [w.lower() for _, w, _ in toks[j:j + 3]] == ["if", "not", "exists"]:
        j += 3
    j += 1  # the name, then .name for each part of a qualified one
    while j + 1 < len(toks) and toks[j][1] == ".":
        j += 2
    return j < len(toks) and toks[j][1] == "("  # its columns (CREATE TABLE t AS SELECT stores values)
