"""The types of a prepared statement's parameters, as PostgreSQL infers them for its ParameterDescription.

A client that leaves a parameter untyped (OID 0) and then encodes values by the type the server describes (asyncpg,
PgJDBC's server-prepared statements, pgx) needs the type the query gives it: ``amount > $1`` amount's type,
``LIMIT $1`` int8. DuckDB's binder types them without running the statement; this module asks it, and ``server``
describes the rest as text (DuckDB casts text to the type the query needs).
"""

from __future__ import annotations

import duckdb

from .pgsql import _words
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
        out.update({n: _FLOAT8 for n in _feature_parameters(sql) if n in unknown})
    return out


def _feature_parameters(sql: str) -> set[int]:
    """Numbers of the parameters passed straight as an anomaly function's feature (``$n``, or ``?`` by its place), in
    a statement of any kind: a SELECT, INSERT ... SELECT / VALUES, UPDATE ... SET, a DELETE's WHERE, CREATE TABLE AS.

    Why DuckDB's tokens, not its parse tree: ``json_serialize_sql`` serializes a SELECT only, so the features of a
    write were described as text and asyncpg refused the numbers it was given. The tokens never read a string or a
    comment; a call is a function's name followed by its parenthesis, its arguments split at its own commas."""
    try:
        toks = [text for _, text, _ in _words(sql)]
    except duckdb.Error:
        return set()
    marks = {i: n for n, i in enumerate((i for i, t in enumerate(toks) if t == "?"), start=1)}
    out = set()
    for i, name in enumerate(toks):
        first = _FEATURES_FROM.get(name.strip('"').lower())
        if first is None or toks[i + 1:i + 2] != ["("]:
            continue
        args: list[list[tuple[int, str]]] = [[]]
        depth = 0
        for j in range(i + 2, len(toks)):
            depth += {"(": 1, ")": -1}.get(toks[j], 0)
            if depth < 0:
                break
            if depth == 0 and toks[j] == ",":
                args.append([])
            else:
                args[-1].append((j, toks[j]))
        for arg in args[first:]:
            while len(arg) > 2 and arg[0][1] == "(" and arg[-1][1] == ")":
                arg = arg[1:-1]  # ($1)
            words = [t for _, t in arg]
            if len(words) == 2 and words[0] == "$" and words[1].isdigit():
                out.add(int(words[1]))
            elif words == ["?"]:
                out.add(marks[arg[0][0]])
    return out
