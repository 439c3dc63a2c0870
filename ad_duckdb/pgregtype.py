"""PostgreSQL's regtype as the session's macros (REGTYPE_SQL, part of pgcatalog's SESSION_SQL): DuckDB has no such
type, so pgcatalogsql's rewrites make ``x::regtype`` / ``CAST(x AS regtype)`` ``pg_regtype(x)``, a type's oid, and where a
select list prints it (or casts it to text) ``pg_regtype_name(...)``, the name PostgreSQL's regtype prints:
format_type's (``integer``, ``character varying``, ``double precision``), as regclass does with pg_regclass_name.

A name is read as PostgreSQL's type-name parser reads it: a pg_type name (``int4``, ``_int4``), an SQL name
(``integer``, ``double precision``, ``integer[]``), a common alias (``int``, ``float``, ``decimal``), any case, a
``pg_catalog.`` schema or a type modifier (``numeric(10,2)``) left out; a number is an oid. Anything else is looked
up among the user's types (an ENUM), else PostgreSQL's error (``type "x" does not exist``, 42704), while
to_regtype's answer is NULL.
"""

from __future__ import annotations

from .pgtypes import ARRAY_OID_OF, PG_TYPE_NAMES, PG_TYPNAMES

# the SQL names PostgreSQL's grammar reads as another type's (int is int4, float is float8, decimal is numeric)
_ALIASES = {"int": 23, "float": 701, "decimal": 1700, "dec": 1700, "char varying": 1043}
_TYPE_OIDS = {**{name: oid for oid, name in PG_TYPNAMES.items()}, **{name: oid for oid, name in PG_TYPE_NAMES.items()},
              **_ALIASES,
              **{PG_TYPNAMES[elem] + "[]": arr for elem, arr in ARRAY_OID_OF.items() if elem in PG_TYPNAMES},
              **{alias + "[]": ARRAY_OID_OF[oid] for alias, oid in _ALIASES.items() if oid in ARRAY_OID_OF}}
if any("'" in name for name in _TYPE_OIDS):  # (each name goes into the macro as a literal)
    raise RuntimeError("a type name with a quote")
_TYPE_MAP = "MAP {" + ", ".join(f"'{name}': {oid}" for name, oid in sorted(_TYPE_OIDS.items())) + "}"
# format_type's names of the types pg_type lists (bit is DuckDB's own, which the server names no other way)
_NAME_MAP = "MAP {" + ", ".join(f"{oid}: '{name}'" for oid, name in sorted({**PG_TYPE_NAMES, 1560: "bit"}.items())) + "}"

REGTYPE_SQL = (
    # the name as the lookup keys it: lower case, no schema, quotes or modifier, one space between words
    "CREATE OR REPLACE TEMP MACRO pg_regtype_key(pg_type_arg) AS regexp_replace(regexp_replace(replace("
    "regexp_replace(lower(trim(pg_type_arg::VARCHAR)), '^pg_catalog\\s*\\.\\s*', ''), '\"', ''), '\\s*\\(.*\\)', ''), "
    "'\\s+', ' ', 'g')",
    # a type's oid by its name; NULL where no type has it (to_regtype's answer)
    "CREATE OR REPLACE TEMP MACRO pg_regtype_lookup(pg_type_arg) AS coalesce(" + _TYPE_MAP
    + "[pg_regtype_key(pg_type_arg)], (SELECT type_oid FROM duckdb_types() WHERE lower(type_name) = "
    "pg_regtype_key(pg_type_arg) AND NOT internal LIMIT 1))",
    "CREATE OR REPLACE TEMP MACRO to_regtype(pg_type_arg) AS pg_regtype_lookup(pg_type_arg)",
    # x::regtype: an oid stays itself (atttypid::regtype compares and joins as the oid), a name is looked up. An
    # integer's overload has no lookup: its subquery, planned for every row whatever the value, doubled the CPU time
    # of psycopg's type lookup (oid::regtype::text)
    "CREATE OR REPLACE TEMP MACRO pg_regtype(pg_type_arg BIGINT) AS pg_type_arg, (pg_type_arg) AS "
    "coalesce(CASE WHEN regexp_full_match(pg_type_arg::VARCHAR, '\\s*[0-9]+\\s*') THEN "
    "trim(pg_type_arg::VARCHAR)::BIGINT END, pg_regtype_lookup(pg_type_arg), CASE WHEN pg_type_arg IS NOT NULL "
    "THEN error('type \"' || pg_type_arg::VARCHAR || '\" does not exist') END)",
    # what PostgreSQL's regtype prints: format_type's name, or a user's type's (an ENUM); 0 is '-', an oid that is no
    # type's the number. The oid is named as few times as can be (the lambda's v once): format_type's CASE of 60
    # branches, each a copy of pg_regtype's lookup, made nine regtypes in a select list take 18 s; DuckDB's own
    # format_type's subquery, as the user's type's fallback, doubled the CPU time of psycopg's type lookup.
    "CREATE OR REPLACE TEMP MACRO pg_regtype_name(pg_type_oid_arg) AS coalesce(list_transform([pg_type_oid_arg], "
    "lambda v: CASE WHEN v = 0 THEN '-' ELSE " + _NAME_MAP + "[v] END)[1], (SELECT type_name FROM duckdb_types() "
    "WHERE type_oid = pg_type_oid_arg AND NOT internal LIMIT 1), pg_type_oid_arg::VARCHAR)",
)
