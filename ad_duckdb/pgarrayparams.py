"""The array type of a parameter the client left untyped but the query casts to an array (``$1::text[]``).

psycopg sends a list of strings as an untyped parameter in PostgreSQL's array text, '{n,inner}', which PostgreSQL
reads by the cast's type. DuckDB's cast of that text to VARCHAR[] failed ('Conversion Error: Type VARCHAR with value
'{a,b}' can't be cast to the destination type VARCHAR[]'), so ``WHERE cat = ANY(%s::text[])`` and Metabase's JSON
path ``data #>> %s::text[]`` failed. The parameter gets the cast's array type at Parse, as PostgreSQL infers it, and
Bind reads its text as that array (pgtypes.decode_param).
"""

from __future__ import annotations

from .pgtypes import ARRAY_OID_OF
from .sqltext import sql_words

# the element types a cast may name, as pgsql's casts do (the common ones; another keeps the parameter untyped)
_ELEMENTS = {"text": 25, "varchar": 25, "boolean": 16, "bool": 16, "smallint": 21, "int2": 21, "integer": 23,
             "int": 23, "int4": 23, "bigint": 20, "int8": 20, "real": 700, "float4": 700, "float8": 701,
             "double": 701, "numeric": 1700, "decimal": 1700, "date": 1082, "timestamp": 1114, "timestamptz": 1184,
             "uuid": 2950}


def array_cast_oids(sql: str, oids: list[int]) -> list[int]:
    """``oids`` (Parse's, one per declared parameter) with each untyped ``$n`` that ``sql`` casts to an array type
    (``$n::text[]``, ``CAST($n AS text[])``) given that array's type, the list grown to reach ``n``."""
    if "[" not in sql or "$" not in sql:
        return oids
    try:
        toks = sql_words(sql)
    except Exception:  # (duckdb.Error) the statement's own error comes from DuckDB
        return oids
    found: dict[int, int] = {}
    for j in range(len(toks) - 5):
        if toks[j][1] != "$" or toks[j + 1][2] != "numeric_const" or not toks[j + 1][1].isdigit():
            continue
        k = j + 2
        if toks[k][1] == "::":
            k += 1
        elif toks[k][1].lower() == "as" and j > 1 and toks[j - 1][1] == "(" and toks[j - 2][1].lower() == "cast":
            k += 1
        else:
            continue
        elem = _ELEMENTS.get(toks[k][1].lower().strip('"'))
        if elem is not None and k + 2 < len(toks) and toks[k + 1][1] == "[" and toks[k + 2][1] == "]":
            found.setdefault(int(toks[j + 1][1]), ARRAY_OID_OF[elem])
    if not found:
        return oids
    out = list(oids) + [0] * max(0, max(found) - len(oids))
    for n, oid in found.items():
        if n >= 1 and out[n - 1] == 0:
            out[n - 1] = oid
    return out
