"""The types of a prepared statement's parameters, as PostgreSQL infers them for its ParameterDescription.

A client that leaves a parameter untyped (OID 0) and then encodes values by the type the server describes (asyncpg,
PgJDBC's server-prepared statements, pgx) needs the type the query gives it: ``amount > $1`` amount's type,
``LIMIT $1`` int8. DuckDB's binder types them without running the statement; this module asks it, and ``server``
describes the rest as text (DuckDB casts text to the type the query needs).
"""

from __future__ import annotations

import json

import duckdb

from .callerview import _nodes
from .pgtypes import parameter_oid
from .udfs import FUNCTIONS

_FLOAT8 = 701
# The anomaly functions' feature arguments (after the model, and is_anomaly_at's threshold name): numbers, which
# they take as DOUBLE (README), though registered as any type, which DuckDB's binder leaves a parameter UNKNOWN for.
_FEATURES_FROM = {name: 2 if name == "is_anomaly_at" else 1 for name in FUNCTIONS if name != "anomaly_threshold"}


def parameter_oids(cur: duckdb.DuckDBPyConnection, sql: str) -> dict[int, int]:
    """Parameter number -> type OID, as DuckDB's binder types each parameter of the one statement ``sql`` from
    where it is used, and float8 for an anomaly function's feature; a parameter it leaves unknown (``SELECT $1``)
    is absent.

    Why DuckDB's private ``_bind``: its Python API has no public prepare, and ``duckdb_prepared_statements()`` lists
    every parameter as UNKNOWN. Without ``_bind`` (another DuckDB) none is known, as before: all are text."""
    bind = getattr(cur, "_bind", None)
    if bind is None:
        return {}
    try:
        parameters = bind(sql)[2]
    except (duckdb.Error, TypeError, IndexError):  # an unbindable statement's error is Execute's to report
        return {}
    out = {int(n): oid for n, t in parameters if n.isdigit() and (oid := parameter_oid(t))}
    unknown = {int(n) for n, _ in parameters if n.isdigit()} - set(out)
    if unknown and any(name in sql.lower() for name in _FEATURES_FROM):
        out.update({n: _FLOAT8 for n in _feature_parameters(cur, sql) if n in unknown})
    return out


def _feature_parameters(cur: duckdb.DuckDBPyConnection, sql: str) -> set[int]:
    """Numbers of the parameters passed straight as an anomaly function's feature, read from DuckDB's parse tree
    (so never from a string or a comment); only a SELECT has one (json_serialize_sql)."""
    try:
        tree = json.loads(cur.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0])
    except (duckdb.Error, ValueError):
        return set()
    out = set()
    for node in _nodes(tree):
        first = _FEATURES_FROM.get(str(node.get("function_name", "")).lower())
        if node.get("class") != "FUNCTION" or first is None:
            continue
        for arg in (node.get("arguments") or [])[first:]:
            e = arg.get("expression") if isinstance(arg, dict) else None
            if isinstance(e, dict) and e.get("class") == "PARAMETER" and str(e.get("identifier", "")).isdigit():
                out.add(int(e["identifier"]))
    return out

