"""A client's statement rewritten into DuckDB's SQL, as the session's cursor sees the database: the chain of the
``pg*`` rewrites (PostgreSQL's names, casts, operators, functions and catalogue, in the order each needs), with the
lookups some of them ask of this session's catalogue (a table's columns, a query's bound columns and types, a
macro's bodies, JSON column names).

Free functions over the session's state (``pgstate.SessionState``), which ``pgsession.Session.compat`` calls last.
Like the other ``pg*`` helpers, this module never imports ``server`` and speaks no wire protocol.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import duckdb

from .pgarrayconcat import array_element_concats
from .pgavgout import avg_outputs
from .pgcatalogsql import catalog_rewrites
from .pgcolnames import postgres_names
from .pgcommands import SHOW_ALL_RE, SHOW_ALL_SQL
from .pgfloat import double_floats
from .pgformat import pg_formats
from .pgfunctions import pg_functions, symmetric_betweens
from .pgintervalout import interval_outputs
from .pgjsonagg import json_builders
from .pgjsonb import jsonb_operators
from .pgjsonbout import jsonb_outputs
from .pgjsoncols import JSON_NAMES_SQL, JsonColumns
from .pgjsonpath import json_paths
from .pglistsort import list_null_orders
from .pgnumscale import literal_scales, parameter_scales
from .pgpercentile import double_percentiles
from .pgpivotsum import pivot_sums
from .pgpublic import REAL_PUBLIC_SQL, public_as_main
from .pgresult import bound_columns
from .pgresulttypes import result_types
from .pgroots import root_operators
from .pgsql import temp_table_sql, typed_prepare
from .pgstate import SessionState
from .pgstoredinline import inline_stored_macros
from .pgsubstring import regex_substrings
from .pgsum import int_sums
from .pgtextcast import catalogue_query, text_casts
from .pgvalues import values_names
from .pgvaluescale import values_scales
from .pgxor import xor_operators


def rewrite(s: SessionState, sql: str, params: list[Any] | None) -> str:
    """DuckDB's SQL of the client's statement ``sql`` (one the session does not answer itself), with its
    parameters' values ``params`` where a rewrite needs them (None: not known yet)."""
    # the lookups the rewrites ask of this session's catalogue
    columns, bound, types, bodies = (partial(table_columns, s), partial(query_columns, s), partial(query_types, s),
                                     partial(macro_bodies, s))
    # Catalogue lookups as psycopg and psql send them: DuckDB has no regtype type and no pg_catalog."default"
    # collation; to_regtype, pg_get_userbyid, ... are session macros (SESSION_SQL); pg_cursors is this session's.
    if SHOW_ALL_RE.match(sql):
        sql = SHOW_ALL_SQL
    # PostgreSQL's column names first: they are the client's expressions' (to_char, not the strftime it becomes)
    # (public.t as main's t and VALUES' column1, ... before: the names they give are what postgres_names sees)
    catalogue = catalogue_query(sql)  # (pgtextcast leaves the catalogue's casts to text as they are)
    sql = public_as_main(values_names(values_scales(sql)), partial(real_public, s))  # (each number's own scale first)
    sql = parameter_scales(sql, params)  # $1::numeric of Decimals: their own scale, not 10 decimals (pgnumscale)
    sql = literal_scales(sql)  # 1.23456789012345::numeric likewise
    sql = double_floats(sql)  # PostgreSQL's float is float8 (pgfloat)
    # (PostgreSQL's JSON path operators, #, array || element, jsonb's || @> <@ ? and BETWEEN SYMMETRIC before the names, which
    # DuckDB's parser reads: pgcolnames names their calls ?column?, as PostgreSQL names an operator's)
    # (PostgreSQL's JSON aggregates and builders, its regular-expression substring and the functions pgfunctions
    # renames after the names: an unnamed json_agg(x) is json_agg, substring(x FROM 'p') substring, every(x) every)
    # (read once, if a || asks, and kept while the catalogue stays: pgjsoncols)
    json_cols = JsonColumns(lambda: s.json_cache.read(partial(json_names, s), s.in_block()))
    sql = array_element_concats(xor_operators(root_operators(json_paths(temp_table_sql(s.cursors.catalog(sql))))))
    sql = jsonb_operators(sql, json_cols.column, types, json_cols.any)
    sql = avg_outputs(interval_outputs(jsonb_outputs(postgres_names(symmetric_betweens(sql)))))  # (their names)
    sql = list_null_orders(pg_functions(result_types(regex_substrings(json_builders(sql), params))),
                           partial(function_schemas, s))  # (result_types before pg_functions' round and length)
    sql = inline_stored_macros(sql)  # (a view's #> or #: the macros' DuckDB text, not the session's macros)
    sql = typed_prepare(text_casts(catalog_rewrites(pg_formats(double_percentiles(pivot_sums(int_sums(
        sql, columns, bound, bodies), types), columns, bound, bodies))), catalogue))  # (after the catalogue's oid::regclass::text)
    return sql


def real_public(s: SessionState) -> bool:
    """Whether an attached database has a catalog or schema named public (pgpublic leaves public.x to it then);
    True when it cannot be asked (a failed transaction), so the statement runs as written."""
    if s.status == b"E":
        return True  # (the statement is refused anyway)
    s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
    try:
        return bool(s.cur.execute(REAL_PUBLIC_SQL).fetchall()[0][0])
    except duckdb.Error:
        return True


def table_columns(s: SessionState, parts: tuple[str, ...]) -> frozenset[str] | None:
    """The columns (lower case) of the table or view named by ``parts`` (lower case; schema, table), as this
    session sees it, temporary tables too; for pgsum, telling a subquery's sum of its own column from one of an
    outer query's. The columns every table of that name has (another database's or schema's may differ); None
    when there is none, or the transaction has failed (the statement is refused anyway)."""
    if s.status == b"E" or len(parts) > 3:
        return None
    s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
    # db.schema.t, schema.t or db.t (DuckDB takes either for two parts), t
    where = {1: "lower(table_name) = ?", 2: "lower(table_name) = ? AND ? IN (lower(schema_name), "
             "lower(database_name))", 3: "lower(table_name) = ? AND lower(schema_name) = ? AND "
             "lower(database_name) = ?"}[len(parts)]
    rows = s.cur.execute("SELECT list(DISTINCT lower(column_name)) FROM duckdb_columns() WHERE " + where
                         + " GROUP BY database_name, schema_name, table_name", list(reversed(parts))).fetchall()
    return frozenset.intersection(*(frozenset(r[0]) for r in rows)) if rows else None


def function_schemas(s: SessionState, name: str) -> frozenset[str]:
    """The schemas (lower case, every attached database's) with a function named ``name`` (lower case), for
    pglistsort; none where the transaction has failed."""
    if s.status == b"E":
        return frozenset()
    s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
    return frozenset(r[0] for r in s.cur.execute(
        "SELECT DISTINCT lower(schema_name) FROM duckdb_functions() WHERE lower(function_name) = ?", [name]).fetchall())


def json_names(s: SessionState) -> list[tuple[str, bool]] | None:
    """Each column name (lower case) some JSON column has, and whether every column of that name is JSON
    (pgjsoncols); None where the transaction has failed."""
    if s.status == b"E":
        return None
    s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
    return [(n, bool(every)) for n, every in s.cur.execute(JSON_NAMES_SQL).fetchall()]


def query_columns(s: SessionState, sql: str) -> frozenset[str] | None:
    """The columns (lower case) of query ``sql``'s result, bound by DuckDB and not run; for pgsum, the columns of
    a CTE or a derived table. None when DuckDB cannot bind it alone (it names an outer query's columns), or the
    transaction has failed. A binder's error leaves the client's transaction as it was."""
    if s.status == b"E":
        return None
    s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
    try:
        return frozenset(c[0].lower() for c in bound_columns(s.cur, sql, 0))
    except duckdb.Error:
        return None


def query_types(s: SessionState, sql: str) -> list[tuple[str, int]] | None:
    """The columns (name, PostgreSQL type OID) of query ``sql``'s result, bound by DuckDB and not run; for
    pgpivotsum, the type of a PIVOT's sum's argument and the sum's name. None as for ``query_columns``."""
    if s.status == b"E":
        return None
    s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
    try:
        return [(c[0], c[1]) for c in bound_columns(s.cur, sql, 0)]
    except duckdb.Error:
        return None


def macro_bodies(s: SessionState, name: str) -> list[str] | None:
    """The bodies of the scalar macro ``name`` (lower case), one per overload, as this session sees it; for pgsum,
    telling a sum of a user's macro of no aggregate (bigint, as PostgreSQL's SQL function's) from one holding an
    aggregate. None when the name is not only a scalar macro's (a table macro's, a function's too), or the
    transaction has failed (the statement is refused anyway)."""
    if s.status == b"E":
        return None
    s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
    rows = s.cur.execute("SELECT function_type, macro_definition FROM duckdb_functions() WHERE "
                         "lower(function_name) = ?", [name]).fetchall()
    if not rows or any(kind != "macro" or body is None for kind, body in rows):
        return None
    return [body for _, body in rows]
