"""``public.<name>`` as the main schema's ``<name>``: PostgreSQL's default schema is public, and BI tools (DBeaver,
Tableau, Grafana) qualify every table with it; DuckDB's is main, which the catalogue views list by that name
(pg_namespace, information_schema, current_schema(), search_path alike: a tool that lists schemas names main.t).

A ``public`` written as a schema (``public.t``, ``db.public.t``, ``public.t.col``) becomes ``main`` unless the
database has a real catalog or schema named public (then it is that one, as written), or the statement uses
``public`` as a name of its own (an alias ``AS public``). Found by DuckDB's tokenizer: a string or a comment
saying public.x stays.
"""

from __future__ import annotations

from collections.abc import Callable

from .sqltext import words_if

# Whether the attached databases have a catalog or a schema named public (then public.x is that one's).
REAL_PUBLIC_SQL = ("SELECT EXISTS (SELECT 1 FROM duckdb_schemas() WHERE lower(schema_name) = 'public') "
                   "OR EXISTS (SELECT 1 FROM duckdb_databases() WHERE lower(database_name) = 'public')")


def _is_public(word: str) -> bool:
    return word.lower() == "public" or word == '"public"'


def public_as_main(sql: str, real_public: Callable[[], bool]) -> str:
    """``sql`` with each schema ``public`` as ``main`` (see the module); ``real_public()`` is asked only when
    ``sql`` has one to rewrite."""
    toks = words_if(sql, "public")
    if toks is None:
        return sql
    spots = []
    for i, (pos, word, kind) in enumerate(toks):
        if kind not in ("identifier", "keyword") or not _is_public(word):
            continue
        if i + 2 >= len(toks) or toks[i + 1][1] != "." or toks[i + 2][2] not in ("identifier", "keyword"):
            return sql  # public as a name of its own (an alias, a column): the statement's, left as written
        spots.append((pos, len(word)))
    if not spots or real_public():
        return sql
    for pos, n in reversed(spots):
        sql = sql[:pos] + "main" + sql[pos + n:]
    return sql
