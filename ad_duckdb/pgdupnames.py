"""PostgreSQL's names for the columns DuckDB renamed as duplicates of a subquery's (``a``, ``a_1``).

``SELECT * FROM (SELECT o.id, p.id FROM o JOIN p ...) s`` is ``id, id`` in PostgreSQL; DuckDB's binder renames a
subquery's (a CTE's, a view's) repeated name as it binds (``id``, ``id_1``), and the result kept DuckDB's names, which
a chart or a report written against PostgreSQL does not find. A result column is given back its first name only when
nothing but that renaming can have made it: its name is an earlier column's plus ``_N``, the statement has a
subquery or WITH, its text does not say the name anywhere, no table or view has a column (or a STRUCT field) of that name, and the
statement names no function whose columns come from data (PIVOT's values, a struct's fields) and calls no table
function or table macro (whose columns the catalogue does not list).
"""

from __future__ import annotations

import re

import duckdb

from .sqltext import sql_words

_RENAMED_RE = re.compile(r"^(.+)_(\d+)$", re.S)
# a field's name in a STRUCT type's text: STRUCT(id INTEGER, "a b_1" INTEGER)
_FIELD_RE = re.compile(r'[(,]\s*(?:"((?:[^"]|"")+)"|([^\s(),"]+))\s')
_ITEM_BEFORE = frozenset(("from", "join", ",", "lateral"))
_SUBQUERY_STARTS = frozenset(("select", "with", "from", "values", "table"))
# columns named by data, not by the query's text: any of these leaves the names as DuckDB gives them
_DATA_NAMED = frozenset(("pivot", "unpivot", "pivot_wider", "pivot_longer", "unnest", "columns", "struct_pack",
                         "struct_insert", "row", "json_transform", "from_json", "json_structure", "read_json",
                         "read_json_auto", "read_csv", "read_csv_auto", "read_parquet", "query", "query_table"))


def _word(text: str) -> str:
    """A token as a name: quotes off, case folded (DuckDB's names are case insensitive)."""
    if len(text) > 1 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].replace(text[0] * 2, text[0]).lower()
    return text.lower()


def renaming(sql: str) -> bool | None:
    """Whether DuckDB may have renamed a duplicate of ``sql``'s result (None: it cannot have, or a name may come from
    data), and if so whether a stored column may reach the result without the text naming it (``*``, ``TABLE t``,
    ``FROM t`` alone), so that ``stored_like_renamed`` must be asked before the statement runs: after, its result is
    pending on the cursor, which alone sees the session's temporary tables."""
    low = sql.lower()
    if "(" not in low and "with" not in low:
        return None
    try:
        toks = sql_words(sql)
    except duckdb.Error:
        return None
    words = {_word(w) for _, w, _ in toks}
    nested = any(w == "(" and toks[n + 1][1].lower() in _SUBQUERY_STARTS for n, (_, w, _) in enumerate(toks[:-1]))
    if not (nested or "with" in words) or words & _DATA_NAMED:
        return None
    return "*" in words or "table" in words or any(
        w.lower() == "from" and (n == 0 or toks[n - 1][1] == "(") for n, (_, w, _) in enumerate(toks))


def _item_start(toks: list[tuple[int, str, str]], n: int) -> bool:
    """Whether the name at ``n`` (past its schema's and catalogue's, ``main.m``) stands where a FROM item does."""
    while n >= 2 and toks[n - 1][1] == ".":
        n -= 2
    return n > 0 and toks[n - 1][1].lower() in _ITEM_BEFORE


def stored_like_renamed(cur: duckdb.DuckDBPyConnection, sql: str) -> set[str] | None:
    """The names (lower case) of the catalogue's columns (tables and views, the session's temporary ones too) and
    of their STRUCT fields that end as DuckDB's renaming does (``_N``); None when ``sql`` calls a table function or a table macro, whose columns
    the catalogue does not list (a macro's own ``id_1`` would pass for a renaming): DuckDB's names are kept."""
    toks = sql_words(sql)
    # the calls where a FROM item stands (range(3) in a select list is the list function)
    called = sorted({_word(w) for n, (_, w, _) in enumerate(toks[:-1])
                     if toks[n + 1][1] == "(" and _item_start(toks, n)})
    if called and cur.execute("SELECT count(*) FROM duckdb_functions() WHERE function_type IN ('table', "
                              "'table_macro') AND lower(function_name) IN (SELECT unnest(?::VARCHAR[]))",
                              [called]).fetchall()[0][0]:
        return None
    names = {r[0] for r in cur.execute("SELECT DISTINCT lower(column_name) FROM duckdb_columns() WHERE "
                                       "regexp_matches(column_name, '_[0-9]+$')").fetchall()}
    # a STRUCT column's fields, which x.* makes columns: their names as its type spells them
    for (spelled,) in cur.execute("SELECT DISTINCT data_type FROM duckdb_columns() WHERE data_type LIKE '%(%' AND "
                                  "regexp_matches(data_type, '_[0-9]+\"? ')").fetchall():
        for quoted, plain in _FIELD_RE.findall(spelled):
            field = quoted.replace('""', '"') if quoted else plain
            if _RENAMED_RE.match(field):
                names.add(field.lower())
    return names


def postgres_duplicates(names: list[str], sql: str, stored: set[str] | None) -> list[str]:
    """``names`` (the result's columns of ``sql``, which ``renaming`` did not refuse) with each one DuckDB renamed as
    a subquery's duplicate given back its name. ``stored``: ``stored_like_renamed``'s names, when ``renaming`` asked
    for them (None: a table function's columns may reach the result, DuckDB's names stay)."""
    if stored is None:
        return names
    candidates = {}
    for k, name in enumerate(names):
        m = _RENAMED_RE.match(name)
        if m is not None and name.lower() not in stored and any(n.lower() == m.group(1).lower() for n in names[:k]):
            candidates[k] = m.group(1)
    if not candidates:
        return names
    words = {_word(w) for _, w, _ in sql_words(sql)}
    return [candidates[k] if k in candidates and name.lower() not in words else name for k, name in enumerate(names)]
