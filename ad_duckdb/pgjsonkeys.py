"""jsonb's key tests ``?``, ``?|`` and ``?&`` in DuckDB's own SQL (KEYS_SQL, part of pgfunctions' FUNCTION_SQL), for
what the file stores.

Why: a query's ``doc ? 'k'`` is pgjsonb's call of a Python function of the server (EXISTS, ...), which no other
reader of the file has; a view of it stored the call, or (before) the operator itself, which DuckDB cannot parse. So a
stored definition's operators become these macros' calls (pgjsonb), whose bodies pgstoredinline writes into the
definition: the view answers as the query does, in the server and outside it. The answers are pgjsonb's: a key of
the object, a string element of the array, or the string itself; ``?|`` any and ``?&`` every key of a text array,
its NULL elements aside; NULL for a NULL side."""

from __future__ import annotations

KEY_EXISTS = "pg_jsonb_key_exists"
ANY_KEY = "pg_jsonb_any_key"
ALL_KEYS = "pg_jsonb_all_keys"
_DOC = "pg_json_arg::JSON"


def _exists(key: str) -> str:
    """Whether ``key`` (an expression) is a key, string element or the string of the JSON argument."""
    return (f"CASE json_type({_DOC}) WHEN 'OBJECT' THEN list_contains(json_keys({_DOC}), {key}) "
            f"WHEN 'ARRAY' THEN list_contains([json_extract_string(pg_e, '$') for pg_e in json_extract({_DOC}, '$[*]') "
            f"if json_type(pg_e) = 'VARCHAR'], {key}) "
            f"ELSE json_type({_DOC}) = 'VARCHAR' AND json_extract_string({_DOC}, '$') = {key} END")


def _strict(second: str, body: str) -> str:
    return f"CASE WHEN pg_json_arg IS NULL OR {second} IS NULL THEN NULL ELSE {body} END"


KEYS_SQL = (
    f"CREATE OR REPLACE TEMP MACRO {KEY_EXISTS}(pg_json_arg, pg_key_arg) AS "
    + _strict("pg_key_arg", _exists("pg_key_arg")),
    f"CREATE OR REPLACE TEMP MACRO {ANY_KEY}(pg_json_arg, pg_keys_arg) AS "
    + _strict("pg_keys_arg", f"len([1 for pg_k in pg_keys_arg::VARCHAR[] if pg_k IS NOT NULL AND ({_exists('pg_k')})]) > 0"),
    f"CREATE OR REPLACE TEMP MACRO {ALL_KEYS}(pg_json_arg, pg_keys_arg) AS "
    + _strict("pg_keys_arg", f"len([1 for pg_k in pg_keys_arg::VARCHAR[] if pg_k IS NOT NULL AND NOT ({_exists('pg_k')})]) = 0"),
)
