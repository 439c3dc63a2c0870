"""A definition the file stores (pgstored) may not call the server's Python functions: jsonb_strip_nulls and
jsonb_set (pgjsonedit) are refused there, naming DuckDB's own spelling.

Why: their macros call Python functions registered on the server's connection. A view, macro, DEFAULT or generated
column of them made through ``serve --read-write`` stored that call, so every other reader of the file (plain duckdb,
``ad-duckdb sql``, a second server, dbt) failed on it ('Scalar Function with name jsonb_set does not exist'). Their
answers have no DuckDB text to inline (jsonb's key order and numbers, a path's edits at any depth), so the statement
is refused before it runs, and the query itself (which the server answers) is what to run instead."""

from __future__ import annotations

from .pgerrors import ProtocolError
from .pgstored import stored_definition
from .sqltext import words_if

# each function -> DuckDB's own spelling, said in the refusal
_SPELLINGS = {
    "jsonb_strip_nulls": "DuckDB's json_strip_nulls(doc) (numbers and key order as DuckDB writes them)",
    "jsonb_set": "DuckDB's json_merge_patch(doc, json_object('key', value)) for a top-level key",
}


def stored_python_error(sql: str) -> ProtocolError | None:
    """The refusal of a statement whose stored expressions call jsonb_strip_nulls or jsonb_set (module doc), else
    None."""
    toks = words_if(sql, *_SPELLINGS)
    if toks is None or not stored_definition(toks):
        return None
    for i in range(len(toks) - 1):
        name = toks[i][1].lower()
        if name not in _SPELLINGS or toks[i + 1][1] != "(" or toks[i][2] not in ("identifier", "keyword") \
                or i >= 2 and toks[i - 1][1] == "." and toks[i - 2][1].lower() != "pg_catalog":
            continue  # (another schema's function of that name is the user's own)
        return ProtocolError(
            f"{name}() cannot be stored in a view, macro or column made through ad-duckdb serve: it runs in the "
            f"server's Python, which no other reader of the file has (the view would fail for them); write "
            f"{_SPELLINGS[name]} instead, or call {name}() in the query that reads the view", "0A000")
    return None
