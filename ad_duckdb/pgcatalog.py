"""The PostgreSQL catalogue as clients read it, answered from DuckDB's own: per-session temporary views and macros.

psql's meta-commands, SQLAlchemy's reflection (Superset), PgJDBC's DatabaseMetaData (Metabase, DBeaver) and drivers'
type lookups query pg_catalog tables and functions that DuckDB's emulation lacks or answers in DuckDB's terms.
``SESSION_SQL`` creates them under PostgreSQL's names on a client's cursor (``pgsession.Session``), the first time one
of its statements names one of them (``catalog_objects``), each statement parsed once per served database
(``pgcatalogparsed``); pgcatalogsql's rewrites drop the pg_catalog schema clients call them by. Nothing here runs SQL, and
this module never imports the server.
"""

from __future__ import annotations

import re

from .pgcatalogsql import SEARCH_PATH_SQL, SESSION_FUNCTIONS, SESSION_VIEWS
from .pgcommands import (
    APPLICATION_NAME_SQL,
    CUSTOM_SETTINGS_VARIABLE,
    MAX_CONNECTIONS_SQL,
    PG_SETTING_NAMES,
    PG_SHOW,
    TIME_ZONE_SQL,
)
from .pgfunctions import FUNCTION_SQL
from .pgregtype import REGTYPE_SQL
from .pgtypes import (
    ARRAY_ELEMENT_OF,
    ARRAY_OID_OF,
    MAX_IDENTIFIER_LENGTH,
    PG_TYPE_NAMES,
    PG_TYPNAMES,
    RECEIVE_FUNCTIONS,
    TYPE_IO_FUNCTION_OIDS,
    TYPE_OIDS,
)


def _type_oid_sql(t: str) -> str:
    """SQL: the PostgreSQL type OID the catalogue lists a DuckDB type name ``t`` as (what results are sent as,
    pgtypes.type_of, except VARCHAR: character varying, as DuckDB's own pg_attribute says; unbounded like it)."""
    known = " ".join(f"WHEN '{name}' THEN {oid}" for name, (oid, _) in TYPE_OIDS.items() if name != "VARCHAR")
    # a list of scalars as the array it is sent as (its element's, text[] for other elements); nested ones json
    elem = f"regexp_replace({t}, '\\[\\d*\\]$', '')"
    arrays = " ".join(f"WHEN '{name}' THEN {ARRAY_OID_OF.get(oid, 1009)}" for name, (oid, _) in TYPE_OIDS.items())
    return (f"CASE WHEN {t} SIMILAR TO '(STRUCT|MAP|UNION)\\(.*' THEN 114 WHEN {t} LIKE '%]' THEN CASE "
            f"WHEN {elem} LIKE '%]' OR {elem} SIMILAR TO '(STRUCT|MAP|UNION)\\(.*' THEN 114 "
            f"WHEN {elem} = 'UINTEGER' THEN 1028 WHEN {elem} LIKE 'DECIMAL(%' THEN 1231 "
            f"ELSE coalesce(CASE {elem} {arrays} END, 1009) END "
            f"WHEN {t} LIKE 'DECIMAL(%' THEN 1700 ELSE coalesce(CASE {t} {known} END, 1043) END")


def _type_len_sql(t: str) -> str:
    known = " ".join(f"WHEN '{name}' THEN {size}" for name, (_, size) in TYPE_OIDS.items())
    return f"coalesce(CASE {t} {known} END, -1)"


def _pg_format_sql(n: int) -> str:
    """SQL: PostgreSQL's format(pg_format_fmt, n arguments) for %s, %I and %L, one argument each in order (pgcatalogsql's
    rewrite sends only such calls here): the text before each specifier and its argument, then the rest."""
    return (f"CASE WHEN len(regexp_extract_all(pg_format_fmt, '%([sIL])', 1)) > {n} THEN "
            "error('too few arguments for format()') ELSE "
            + " || ".join(f"pg_format_piece(pg_format_fmt, {i}, pg_format_arg{i}::VARCHAR)" for i in range(1, n + 1))
            + f" || coalesce(regexp_split_to_array(pg_format_fmt, '%[sIL]')[{n + 1}], '') END")


def _indexdef_sql(column: str) -> str:
    """SQL: pg_get_indexdef's answer for index ``pg_index_oid_arg``, whole (``column`` 0) or its n-th key, from what
    DuckDB stored of a CREATE INDEX; a constraint's index has no SQL of its own in DuckDB, so PostgreSQL's form
    of its definition from the constraint's columns (psql prints what follows USING: "art (order_id, qty)")."""
    # (DuckDB lists an expression key quoted, as "['(lower(note))']": its text is what is inside the quotes)
    return (f"coalesce((SELECT CASE WHEN {column} = 0 THEN rtrim(sql, ';') ELSE regexp_replace(string_split("
            f"trim(expressions, '[]'), ', ')[{column}], '^''(.*)''$', '\\1') END FROM duckdb_indexes() "
            "WHERE index_oid = pg_index_oid_arg), (SELECT CASE WHEN "
            f"{column} = 0 THEN 'CREATE UNIQUE INDEX ' || constraint_name || ' ON ' || table_name || ' USING art (' "
            f"|| array_to_string(constraint_column_names, ', ') || ')' ELSE constraint_column_names[{column}] END "
            "FROM duckdb_constraints() WHERE table_oid * 1000000 + constraint_index = pg_index_oid_arg "
            "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')))")



def _sql_text(v: str | None) -> str:
    return "NULL" if v is None else "'" + v.replace("'", "''") + "'"


def extensions_sql(extensions: list[tuple[str, str | None, str | None]] | None) -> str:
    """SQL: the session macro pg_extension_rows() (pg_extension's and pg_description's rows): ``extensions``, the
    (name, version, description) of each extension DuckDB has loaded, as listed when the server opened the database
    (duckdb_extensions() reads the extension folder, a file access the server then turns off; no other extension
    loads after that, so the list stays true). Each gets an oid by its place in name order. None: the list could not
    be read, and reading it says so."""
    cols = "extname, extversion, description"
    if extensions is None:
        return ("CREATE OR REPLACE TEMP MACRO pg_extension_rows() AS TABLE SELECT error('DuckDB could not list "
                "its extensions when the server opened the database')::BIGINT AS oid, NULL::VARCHAR AS extname, "
                "NULL::VARCHAR AS extversion, NULL::VARCHAR AS description")
    if not extensions:
        return ("CREATE OR REPLACE TEMP MACRO pg_extension_rows() AS TABLE SELECT NULL::BIGINT AS oid, "
                "NULL::VARCHAR AS extname, NULL::VARCHAR AS extversion, NULL::VARCHAR AS description WHERE false")
    rows = ", ".join(f"({i}::BIGINT, {_sql_text(n)}, {_sql_text(v)}, {_sql_text(d)})"
                     for i, (n, v, d) in enumerate(sorted(extensions), start=1))
    return f"CREATE OR REPLACE TEMP MACRO pg_extension_rows() AS TABLE SELECT * FROM (VALUES {rows}) e(oid, {cols})"


# Until the server says which extensions are loaded (Backend, session_sql): none.
_EXTENSION_ROWS = extensions_sql([])


def role_sql(read_write: bool) -> tuple[str, ...]:
    """SQL: the session macros that say what the one role (pg_roles) may do, which is what the server allows:
    pg_table_acl(), every table's and view's privileges (pg_class.relacl; psql's \\dp, PgJDBC's getTablePrivileges):
    SELECT only on a read-only server, also INSERT, UPDATE, DELETE, TRUNCATE and REFERENCES on a ``read_write`` one
    (no TRIGGER: DuckDB has none); shobj_description(oid, catalog), which describes the role (psql's \\du+) and
    nothing else (DuckDB's answer); and the privilege inquiry functions that say the same (_privilege_macro)."""
    privileges = "arwdDx" if read_write else "r"
    mode = ("read-write: it may change the database" if read_write
            else "read-only: it may not change the database")
    writes = ["INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES"] if read_write else []
    return (f"CREATE OR REPLACE TEMP MACRO pg_table_acl() AS [current_user || '={privileges}/' || current_user]",
            "CREATE OR REPLACE TEMP MACRO shobj_description(pg_obj_arg, pg_catalog_arg) AS CASE WHEN pg_catalog_arg "
            "IN ('pg_authid', 'pg_catalog.pg_authid') AND pg_obj_arg = 0 THEN 'every client of ad-duckdb serve, "
            f"whatever user name it gives; {mode}' END",
            _privilege_macro("has_table_privilege", ["table"], ["SELECT", *writes]),
            _privilege_macro("has_any_column_privilege", ["table"], ["SELECT", *writes[:2], *writes[4:]]),
            _privilege_macro("has_column_privilege", ["table", "column"], ["SELECT", *writes[:2], *writes[4:]]),
            _privilege_macro("has_schema_privilege", ["schema"], ["USAGE", *(["CREATE"] if read_write else [])]),
            # a read-only server's sessions connect and make temporary tables, nothing more (CREATE SCHEMA fails)
            _privilege_macro("has_database_privilege", ["database"],
                             ["CONNECT", "TEMPORARY", "TEMP", *(["CREATE"] if read_write else [])]))


def _privilege_macro(name: str, objects: list[str], held: list[str]) -> str:
    """SQL: PostgreSQL's privilege inquiry function ``name`` (with and without its user argument) as what the one role
    holds, ``held``, on any object: Metabase (its uploads and actions), DBeaver and pgAdmin read a table's INSERT from
    has_table_privilege, which DuckDB's own answers true to anything, on a read-only server too. As PostgreSQL's, the
    privilege may be a list (any of them) and say WITH GRANT OPTION (the role owns everything)."""
    args = ", ".join(f"pg_{o}_arg" for o in objects)
    test = ("list_bool_or(list_transform(string_split(upper(pg_privilege_arg), ','), lambda p: trim(replace(p, "
            f"' WITH GRANT OPTION', '')) IN ({', '.join(repr(h) for h in held)})))")
    return (f"CREATE OR REPLACE TEMP MACRO {name}({args}, pg_privilege_arg) AS {test}, "
            f"(pg_user_arg, {args}, pg_privilege_arg) AS {test}")


# Until the server says how it opened the database (Backend, session_sql): read-only, its default.
_ROLE_SQL = role_sql(False)


def backend_pid_sql(pid: int) -> str:
    """SQL: pg_backend_pid(), the process id the server gave this session's client in BackendKeyData (what a
    CancelRequest names; Superset asks for it before each SQL Lab query). Created per session (pgobjects.catalog)."""
    return f"CREATE OR REPLACE TEMP MACRO pg_backend_pid() AS CAST({int(pid)} AS INTEGER)"


# What each session's catalogue creates with its own pid instead (pgobjects.catalog).
BACKEND_PID_SQL = backend_pid_sql(0)


def _catalog_oid_sql(name: str) -> str:
    """SQL: the oid DuckDB's pg_class gives its catalogue view pg_catalog.``name``: a row's tableoid, which psql's
    \\dd joins to pg_description.classoid (no comment there is on a constraint or a type: DuckDB has none). Read
    from duckdb_views(), whose view_oid DuckDB's pg_class lists a view under: a read of DuckDB's pg_class costs
    ~4 ms, as much as the rest of a small catalogue query."""
    return ("(SELECT view_oid FROM duckdb_views() WHERE database_name = 'system' AND schema_name = 'pg_catalog' "
            f"AND view_name = '{name}')")


# The other databases' tables (`serve --attach PATH[=ALIAS]`), as a PostgreSQL client can name them back: its schema
# the alias. PostgreSQL names a table by schema and table only, and DuckDB binds a two-part name ALIAS.TABLE as
# ALIAS.main.TABLE (the attached file's default schema) when DB has no schema ALIAS, so each attached database's main
# schema is listed as a schema named after the database, under that schema's own oid (pg_class's relnamespace for
# its tables already). Left out, as no two-part name reaches them: the attached file's other schemas (lake.s.t is
# three parts; s.t binds to DB's schema s, or fails), and a database named as one of DB's schemas, or
# pg_catalog's or information_schema's (DuckDB calls ALIAS.TABLE ambiguous there). Rows (oid, nspname).
# (Every database not DuckDB's own, system and temp, nor the current one: after a client's USE lake, DB is listed so.)
_ATTACHED_SCHEMAS = (
    "(SELECT s.oid, s.database_name AS nspname FROM duckdb_schemas() s JOIN duckdb_databases() d "
    "ON d.database_name = s.database_name WHERE s.schema_name = 'main' AND NOT d.internal "
    "AND s.database_name <> current_database() AND lower(s.database_name) NOT IN (SELECT lower(schema_name) FROM "
    "duckdb_schemas() WHERE database_name IN (current_database(), 'system', 'temp')))"
)
# The schemas of other databases that _ATTACHED_SCHEMAS leaves out: their relations are left out of pg_class too
# (DuckDB's lists every database's), so that no listing shows a table no name reaches (psql's \\dt *.* showed
# them with no schema).
_UNLISTED_SCHEMAS = (
    "(SELECT s.oid FROM duckdb_schemas() s JOIN duckdb_databases() d ON d.database_name = s.database_name "
    f"WHERE NOT d.internal AND s.database_name <> current_database() AND s.oid NOT IN (SELECT oid FROM "
    f"{_ATTACHED_SCHEMAS}))"
)

# The session's views that answer information_schema.NAME (pgcatalogsql's rewrites), under other names, as temporary views
# named columns or tables would hide a user's tables of those names.
_INFORMATION_SCHEMA_VIEWS = ("pg_information_schema_columns", "pg_information_schema_tables",
                             "pg_information_schema_routines", "pg_information_schema_schemata")


def _information_schema_sql(view: str) -> str:
    """SQL: DuckDB's information_schema.``view`` (columns, tables: a row per table or column, table_catalog its
    database), as PostgreSQL's lists the database a client is connected to: an attached file's main schema as the
    schema its alias names (_ATTACHED_SCHEMAS), in that database; its other schemas not at all (no client can name
    them), nor under DB's main, where they were mixed into DB's own (Metabase's field sync of main). The session's
    own views are no user's."""
    return ("SELECT i.* REPLACE (CASE WHEN a.nspname IS NULL THEN i.table_catalog ELSE current_database() END AS "
            "table_catalog, coalesce(a.nspname, i.table_schema) AS table_schema) "
            f"FROM information_schema.{view} i LEFT JOIN {_ATTACHED_SCHEMAS} a ON a.nspname = i.table_catalog "
            "AND i.table_schema = 'main' WHERE (a.nspname IS NOT NULL OR i.table_catalog IN (current_database(), "
            "'system', 'temp')) AND NOT (i.table_catalog = 'temp' AND i.table_name IN ("
            + ", ".join(f"'{v}'" for v in (*SESSION_VIEWS, *_INFORMATION_SCHEMA_VIEWS)) + "))")


def _empty_view(name: str, columns: str) -> str:
    """SQL: a view ``name`` with ``columns`` ("name TYPE, ...") and no rows, for a PostgreSQL catalogue of things
    DuckDB does not have: the psql meta-command that lists them then says, correctly, that there are none."""
    cols = ", ".join(f"NULL::{t} AS {c}" for c, t in (col.split(maxsplit=1) for col in columns.split(", ")))
    return f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {cols} WHERE false"


# Catalogues psql's meta-commands read of things DuckDB does not have: empty (name -> its columns psql selects,
# filters and joins on, typed as PostgreSQL's: oids BIGINT, arrays of text VARCHAR[]).
_EMPTY_CATALOGS = {
    # no default privileges (\\ddp), event triggers (\\dy), encoding conversions (DuckDB keeps only UTF-8; \\dc),
    # per-role settings (\\drds), subscriptions (\\dRs), large objects (\\dl), rules or triggers (\\dd)
    "pg_default_acl": "oid BIGINT, defaclrole BIGINT, defaclnamespace BIGINT, defaclobjtype VARCHAR, "
                      "defaclacl VARCHAR[]",
    "pg_event_trigger": "oid BIGINT, evtname VARCHAR, evtevent VARCHAR, evtowner BIGINT, evtfoid BIGINT, "
                        "evtenabled VARCHAR, evttags VARCHAR[]",
    "pg_conversion": "oid BIGINT, tableoid BIGINT, conname VARCHAR, connamespace BIGINT, conowner BIGINT, "
                     "conforencoding INTEGER, contoencoding INTEGER, conproc BIGINT, condefault BOOLEAN",
    "pg_db_role_setting": "setdatabase BIGINT, setrole BIGINT, setconfig VARCHAR[]",
    "pg_subscription": "oid BIGINT, subdbid BIGINT, subskiplsn VARCHAR, subname VARCHAR, subowner BIGINT, "
                       "subenabled BOOLEAN, subbinary BOOLEAN, substream BOOLEAN, subtwophasestate VARCHAR, "
                       "subdisableonerr BOOLEAN, subconninfo VARCHAR, subslotname VARCHAR, subsynccommit VARCHAR, "
                       "subpublications VARCHAR[]",
    "pg_largeobject_metadata": "oid BIGINT, lomowner BIGINT, lomacl VARCHAR[]",
    "pg_rewrite": "oid BIGINT, tableoid BIGINT, rulename VARCHAR, ev_class BIGINT, ev_type VARCHAR, "
                  "ev_enabled VARCHAR, is_instead BOOLEAN",
    "pg_trigger": "oid BIGINT, tableoid BIGINT, tgrelid BIGINT, tgparentid BIGINT, tgname VARCHAR, tgfoid BIGINT, "
                  "tgtype SMALLINT, tgenabled VARCHAR, tgisinternal BOOLEAN, tgconstraint BIGINT",
    # no text search configurations, dictionaries, parsers or templates (\\dF, \\dFd, \\dFp, \\dFt)
    "pg_ts_config": "oid BIGINT, cfgname VARCHAR, cfgnamespace BIGINT, cfgowner BIGINT, cfgparser BIGINT",
    "pg_ts_parser": "oid BIGINT, prsname VARCHAR, prsnamespace BIGINT, prsstart BIGINT, prstoken BIGINT, "
                    "prsend BIGINT, prsheadline BIGINT, prslextype BIGINT",
    "pg_ts_dict": "oid BIGINT, dictname VARCHAR, dictnamespace BIGINT, dictowner BIGINT, dicttemplate BIGINT, "
                  "dictinitoption VARCHAR",
    "pg_ts_template": "oid BIGINT, tmplname VARCHAR, tmplnamespace BIGINT, tmplinit BIGINT, tmpllexize BIGINT",
    # no operator families (\\dAf, \\dAo, \\dAp; operator classes: pg_opclass below)
    "pg_opfamily": "oid BIGINT, tableoid BIGINT, opfmethod BIGINT, opfname VARCHAR, opfnamespace BIGINT, "
                   "opfowner BIGINT",
    "pg_amop": "oid BIGINT, amopfamily BIGINT, amoplefttype BIGINT, amoprighttype BIGINT, amopstrategy SMALLINT, "
               "amoppurpose VARCHAR, amopopr BIGINT, amopmethod BIGINT, amopsortfamily BIGINT",
    "pg_amproc": "oid BIGINT, amprocfamily BIGINT, amproclefttype BIGINT, amprocrighttype BIGINT, "
                 "amprocnum SMALLINT, amproc BIGINT",
    # no foreign-data wrappers, servers, tables or user mappings (\\dew, \\des, \\det, \\deu): the server
    # turns off the external access DuckDB's own ATTACH of other databases would need
    "pg_foreign_data_wrapper": "oid BIGINT, tableoid BIGINT, fdwname VARCHAR, fdwowner BIGINT, fdwhandler BIGINT, "
                               "fdwvalidator BIGINT, fdwacl VARCHAR[], fdwoptions VARCHAR[]",
    "pg_foreign_server": "oid BIGINT, tableoid BIGINT, srvname VARCHAR, srvowner BIGINT, srvfdw BIGINT, "
                         "srvtype VARCHAR, srvversion VARCHAR, srvacl VARCHAR[], srvoptions VARCHAR[]",
    "pg_foreign_table": "ftrelid BIGINT, ftserver BIGINT, ftoptions VARCHAR[]",
    "pg_user_mappings": "umid BIGINT, srvid BIGINT, srvname VARCHAR, umuser BIGINT, usename VARCHAR, "
                        "umoptions VARCHAR[]",
    # one role (pg_roles), a member of none (\\du's "Member of"; PostgreSQL 16's columns too, for its \\drg)
    "pg_auth_members": "oid BIGINT, roleid BIGINT, member BIGINT, grantor BIGINT, admin_option BOOLEAN, "
                       "inherit_option BOOLEAN, set_option BOOLEAN",
    "pg_group": "groname VARCHAR, grosysid BIGINT, grolist BIGINT[]",  # nor a group
    # no materialized views (psql's \\dm; Metabase's sync reads them with the tables and views whose privileges
    # it lists)
    "pg_matviews": "schemaname VARCHAR, matviewname VARCHAR, matviewowner VARCHAR, tablespace VARCHAR, "
                   "hasindexes BOOLEAN, ispopulated BOOLEAN, definition VARCHAR",
}

# information_schema's data_type of a type by its pg_type_oid, as PostgreSQL's views write it: ARRAY for an array
# (udt_name says of what: _float8), which dbt's get_columns_in_relation and Grafana's query builder read as the
# column's kind; format_type's name ("double precision[]") otherwise.
_DATA_TYPE_SQL = (f"CASE WHEN pg_type_oid IN ({', '.join(str(oid) for oid in sorted(ARRAY_ELEMENT_OF))}) THEN 'ARRAY' "
                  "ELSE format_type(pg_type_oid, -1) END")


# What SQLAlchemy's reflection (Superset's "sync columns"), psql's \d NAME and PgJDBC's DatabaseMetaData read, and
# DuckDB's pg_catalog emulation lacks or answers in DuckDB's terms: temporary views and macros under PostgreSQL's
# names (pgcatalogsql's rewrites drop the pg_catalog schema clients call them by). Every row comes from DuckDB's own
# catalogue functions; what DuckDB does not have (foreign-key actions, collations, operator classes) is empty.
# Views and macros are only definitions: creating them per session costs no query, only using them does.
# Where the names of the session's own objects go (_SESSION_OBJECT_NAMES, once SESSION_SQL is complete), and the
# oid of the schema they are in, DuckDB's temp database's, which the session's temporary tables share.
_SESSION_OBJECTS_MARK = "/* the session's objects */"
_TEMP_SCHEMA_OID = "(SELECT oid FROM duckdb_schemas() WHERE database_name = 'temp' AND schema_name = 'main')"
# format_type's names of the types it knows (numeric apart: its typmod), as CASE oid's WHEN branches
_TYPE_NAMES_WHEN = " ".join(f"WHEN {oid} THEN '{name}'" for oid, name in PG_TYPE_NAMES.items() if oid != 1700)


def _current_setting_sql(missing: str) -> str:
    """SQL: the value of setting ``pg_setting_arg`` as current_setting gives it, else ``missing``."""
    return ("CASE WHEN lower(pg_setting_arg) = 'default_table_access_method' THEN 'heap' WHEN lower(pg_setting_arg) "
            f"= 'application_name' THEN {APPLICATION_NAME_SQL} WHEN lower(pg_setting_arg) = 'timezone' THEN "
            f"{TIME_ZONE_SQL} WHEN lower(pg_setting_arg) = 'max_connections' THEN {MAX_CONNECTIONS_SQL} "
            # the session's own (a dotted one, SET work_mem: Session.custom_settings), else PostgreSQL's of PG_SHOW
            f"WHEN getvariable('{CUSTOM_SETTINGS_VARIABLE}')[lower(pg_setting_arg)] IS NOT NULL "
            f"THEN getvariable('{CUSTOM_SETTINGS_VARIABLE}')[lower(pg_setting_arg)] "
            "ELSE coalesce((SELECT value FROM duckdb_settings() WHERE lower(name) = lower(pg_setting_arg)), MAP {"
            + ", ".join(f"'{k}': '{v}'" for k, v in PG_SHOW.items() if " " not in k) + "}[lower(pg_setting_arg)], "
            f"{missing}) END")


# a relation's oid by its name (pg_regclass, to_regclass), schema-qualified or searched as PostgreSQL does (pg_catalog,
# then the current schema); NULL where none has it
_REGCLASS_LOOKUP = (
    "SELECT c.oid FROM pg_catalog.pg_class c JOIN duckdb_schemas() s ON s.oid = c.relnamespace "
    "WHERE lower(c.relname) = lower(trim(string_split(pg_rel_arg::VARCHAR, '.')[-1], '\"')) "
    "AND (s.database_name = current_database() OR s.database_name = 'system' AND s.schema_name = 'pg_catalog' "
    # the session's views stand in for pg_catalog's (psql's \\dx joins 'pg_catalog.pg_extension'::regclass)
    "OR s.database_name = 'temp' AND s.schema_name = 'main' AND c.relname IN ("
    + ", ".join(f"'{v}'" for v in SESSION_VIEWS) + ") "
    # an attached file's table by the schema it is listed in, its alias (Metabase's comment lookup: 'lake.tx')
    f"OR len(string_split(pg_rel_arg::VARCHAR, '.')) > 1 AND s.oid IN (SELECT oid FROM {_ATTACHED_SCHEMAS})) "
    "AND CASE WHEN len(string_split(pg_rel_arg::VARCHAR, '.')) > 1 "
    "THEN lower(trim(string_split(pg_rel_arg::VARCHAR, '.')[-2], '\"')) = CASE WHEN s.database_name = 'temp' "
    "THEN 'pg_catalog' WHEN s.database_name IN (current_database(), 'system') THEN lower(s.schema_name) "
    "ELSE lower(s.database_name) END "
    # 'public.t': main's t where the database has no schema public (pgpublic's rule for public.t in a query)
    "OR lower(trim(string_split(pg_rel_arg::VARCHAR, '.')[-2], '\"')) = 'public' AND s.database_name = "
    "current_database() AND s.schema_name = 'main' AND NOT EXISTS (SELECT 1 FROM duckdb_schemas() pg_ps WHERE "
    "pg_ps.database_name = current_database() AND lower(pg_ps.schema_name) = 'public') "
    "ELSE s.schema_name IN ('pg_catalog', current_schema()) OR s.database_name = 'temp' END "
    "ORDER BY s.database_name <> 'system', s.database_name <> 'temp', s.schema_name <> 'pg_catalog' LIMIT 1")


_CATALOG_SQL = (
    # Types as PostgreSQL names them: DuckDB's own pg_attribute gives lists an OID no pg_type row has (JDBC's
    # getColumns drops such columns) and DECIMAL a typmod in its own encoding; PostgreSQL's is ((p << 16) | s) + 4.
    f"CREATE OR REPLACE TEMP MACRO pg_column_type_oid(pg_data_type_arg) AS {_type_oid_sql('pg_data_type_arg')}",
    "CREATE OR REPLACE TEMP MACRO format_type(pg_type_oid_arg, pg_typmod_arg) AS CASE pg_type_oid_arg "
    + _TYPE_NAMES_WHEN
    + " WHEN 1700 THEN 'numeric' || CASE WHEN pg_typmod_arg >= 4 THEN '(' || ((pg_typmod_arg - 4) >> 16) || ',' "
      "|| ((pg_typmod_arg - 4) & 65535) || ')' ELSE '' END "
      "ELSE pg_catalog.format_type(pg_type_oid_arg, -1) END",
    # pg_typeof() as PostgreSQL names a value's type (format_type's, without a typmod): DuckDB's gave its own names,
    # 'hugeint' for a sum() of integers whose column the client is told is numeric, 'decimal(12,2)', 'varchar'
    # (text, as its column's oid says: 25)
    "CREATE OR REPLACE TEMP MACRO pg_typeof(pg_typeof_arg) AS CASE typeof(pg_typeof_arg) WHEN 'VARCHAR' THEN 'text' "
    "WHEN '\"NULL\"' THEN 'unknown' "
    # Why no format_type: its ELSE looks the oid up in a subquery, where an aggregate of no column (count(*)) is the
    # subquery's own ("WHERE clause cannot contain aggregates"); every oid pg_column_type_oid gives has a name here
    "ELSE coalesce(CASE pg_column_type_oid(typeof(pg_typeof_arg)) " + _TYPE_NAMES_WHEN + " WHEN 1700 THEN 'numeric' "
    "END, lower(typeof(pg_typeof_arg))) END",
    # Only types with a PostgreSQL oid (DuckDB's others, HUGEINT, UTINYINT, ..., reach clients as one of these),
    # typrelid 0 as PostgreSQL's for a type that is no table's row (JDBC's getTypeInfo keeps only those).
    # No domains either: a type is its own base type (typbasetype 0, typtypmod -1, typnotnull false, as PostgreSQL
    # says of a base type; DuckDB's are NULL), which psqlODBC's SQLColumns and PgJDBC's getColumns read.
    # And an array type for each element type whose arrays the server decodes as parameters (pgtypes), as
    # PostgreSQL lists them (_int4: typelem int4, typinput array_in; the element's typarray names it): asyncpg looks
    # an array parameter's type up here ($1::INTEGER[]), and PgJDBC's type cache tells arrays by typinput. A DuckDB
    # list of scalars arrives as such an array (pgtypes.type_of). json is DuckDB's VARCHAR with PostgreSQL's oid, and name
    # (PostgreSQL's identifier type, which PgJDBC's getMaxTableNameLength & co. read the length of) too, its length
    # the identifier length the server announces (pgtypes.MAX_IDENTIFIER_LENGTH); DuckDB names things as VARCHAR.
    # text and oid, which DuckDB's pg_type lacks, are listed for their arrays: a VARCHAR[] column is text[] and a
    # UINTEGER[] one oid[], and PgJDBC's getColumns joins a column to its type's row (no row: no column).
    # (DuckDB's pg_type, read once: each of its reads costs as much as the rest of the view together)
    "CREATE OR REPLACE TEMP VIEW pg_type AS WITH pg_type_rows AS MATERIALIZED (SELECT * FROM pg_catalog.pg_type), "
    "t AS (SELECT * FROM pg_type_rows WHERE oid IS NOT NULL "
    "UNION ALL BY NAME SELECT * REPLACE (25 AS oid, 'text' AS typname, -1 AS typlen, true AS typispreferred, "
    "0 AS typrelid) FROM pg_type_rows WHERE oid = 1043 UNION ALL BY NAME SELECT * REPLACE (26 AS oid, "
    "'oid' AS typname, 0 AS typrelid) FROM pg_type_rows WHERE oid = 23 "
    "UNION ALL BY NAME SELECT * REPLACE (114 AS oid, 'json' AS typname, -1 AS typlen, 'U' AS typcategory, "
    "0 AS typrelid) FROM pg_type_rows WHERE oid = 1043 "
    # jsonb likewise: a query's jsonb items reach clients as jsonb (pgjsonbout), whose OID asyncpg looks up here
    "UNION ALL BY NAME SELECT * REPLACE (3802 AS oid, 'jsonb' AS typname, -1 AS typlen, 'U' AS typcategory, "
    "0 AS typrelid) FROM pg_type_rows WHERE oid = 1043 UNION ALL BY NAME SELECT * REPLACE (19 AS oid, "
    f"'name' AS typname, {MAX_IDENTIFIER_LENGTH + 1} AS typlen, 'S' AS typcategory, false AS typispreferred, "
    "0 AS typrelid) FROM pg_type_rows WHERE oid = 1043) "
    "SELECT * REPLACE (coalesce(typrelid, 0) AS typrelid, 0 AS typbasetype, "
    # each type's receive function (pgtypes.RECEIVE_FUNCTIONS), named as regproc prints it
    "coalesce(typreceive, CASE WHEN typtype = 'e' THEN 'enum_recv' ELSE CASE typname "
    + " ".join(f"WHEN '{t}' THEN '{f}'" for t, f in RECEIVE_FUNCTIONS.items()) + " END END) AS typreceive, "
    "-1 AS typtypmod, false AS typnotnull, coalesce(typelem, 0) AS typelem, coalesce(typdelim, ',') AS typdelim, "
    # built-in types listed as pg_catalog's, as the built-in functions (pg_proc): DuckDB lists them in the schema
    # of the database it opened first, so psql's \\dT (user types only) listed integer and uuid as main's
    "CASE WHEN oid IN (SELECT type_oid FROM duckdb_types() WHERE NOT internal AND type_oid IS NOT NULL) "
    "THEN typnamespace ELSE (SELECT oid FROM duckdb_schemas() WHERE database_name = 'system' AND schema_name = "
    "'pg_catalog') END AS typnamespace, NULL::VARCHAR[] AS typacl, "
    "CASE oid " + " ".join(f"WHEN {elem} THEN {arr}" for arr, elem in ARRAY_ELEMENT_OF.items())
    + " ELSE 0 END AS typarray), " + _catalog_oid_sql("pg_type") + " AS tableoid FROM (SELECT * FROM t "
    "UNION ALL BY NAME SELECT * REPLACE (CASE oid " + " ".join(f"WHEN {elem} THEN {arr}" for arr, elem in ARRAY_ELEMENT_OF.items())
    + " END AS oid, '_' || typname AS typname, -1 AS typlen, 'A' AS typcategory, false AS typispreferred, "
    "oid AS typelem, 'array_in' AS typinput, 'array_out' AS typoutput, 'array_recv' AS typreceive, "
    "'array_send' AS typsend) FROM t WHERE oid IN ("
    + ", ".join(str(elem) for elem in ARRAY_ELEMENT_OF.values()) + "))",
    # No range types in DuckDB (asyncpg's type introspection joins pg_range): empty.
    "CREATE OR REPLACE TEMP VIEW pg_range AS SELECT NULL::BIGINT AS rngtypid, NULL::BIGINT AS rngsubtype, "
    "NULL::BIGINT AS rngmultitypid, NULL::BIGINT AS rngcollation, NULL::BIGINT AS rngsubopc, "
    "NULL::VARCHAR AS rngcanonical, NULL::VARCHAR AS rngsubdiff WHERE false",
    # Schemas: DuckDB's pg_namespace has the database's own; PostgreSQL's also lists pg_catalog and
    # information_schema, where DuckDB keeps its catalogue views (in its system database). The functions of that
    # system database (built-ins and the anomaly_* functions) are listed in pg_catalog, as PostgreSQL lists its
    # built-in functions: JDBC's getFunctions joins each function to its schema (the session's own macros, in
    # DuckDB's temp schema, stay out of it).
    "CREATE OR REPLACE TEMP VIEW pg_namespace AS SELECT * FROM pg_catalog.pg_namespace UNION ALL BY NAME "
    "SELECT oid, schema_name AS nspname, 0 AS nspowner FROM duckdb_schemas() WHERE database_name = 'system' "
    "AND schema_name IN ('pg_catalog', 'information_schema') UNION ALL BY NAME "
    # and each attached file's main schema, under its alias (_ATTACHED_SCHEMAS)
    f"SELECT oid, nspname, 0 AS nspowner FROM {_ATTACHED_SCHEMAS} UNION ALL BY NAME "
    # and the session's temporary objects' (DuckDB's temp database) as PostgreSQL names a session's: pg_temp_N
    # (N its backend's; here the pid it was given), so psql's \\d lists its temporary tables and views; once it has
    # one, as PostgreSQL's appears once the session makes one (schema lists, psqlODBC's SQLTables, stay as they were)
    "SELECT oid, 'pg_temp_' || pg_backend_pid() AS nspname, 0 AS nspowner FROM duckdb_schemas() "
    "WHERE database_name = 'temp' AND schema_name = 'main' AND EXISTS (SELECT 1 FROM duckdb_tables() WHERE temporary "
    f"UNION ALL SELECT 1 FROM duckdb_views() WHERE temporary AND NOT internal AND view_name NOT IN ({_SESSION_OBJECTS_MARK}) "
    "UNION ALL SELECT 1 FROM duckdb_sequences() WHERE temporary)",
    # Return and argument types as PostgreSQL's oids (DuckDB's pg_proc has DuckDB's type names, which JDBC's
    # getFunctions / getFunctionColumns join to pg_type and parse as numbers; ANY is PostgreSQL's "any", 2276);
    # no argument names: PostgreSQL's are a text[], which JDBC's getFunctionColumns decodes by pg_type's array
    # types (DuckDB's list results arrive as json, which it cannot), and the anomaly functions' are col0, col1.
    # DuckDB's own stay in pg_rettype_name / pg_argtype_names / pg_argnames, which psql's \\df prints
    # (pgcatalogsql._PROC_FN_RE).
    "CREATE OR REPLACE TEMP VIEW pg_proc AS SELECT * REPLACE (CASE WHEN pronamespace = (SELECT oid FROM "
    "duckdb_schemas() WHERE database_name = 'system' AND schema_name = 'main') THEN (SELECT oid FROM duckdb_schemas() "
    "WHERE database_name = 'system' AND schema_name = 'pg_catalog') ELSE pronamespace END AS pronamespace, "
    "CASE WHEN prorettype = 'ANY' THEN 2276 ELSE pg_column_type_oid(prorettype) END AS prorettype, "
    "array_to_string(list_transform(proargtypes, lambda t: CASE WHEN t = 'ANY' THEN 2276 ELSE pg_column_type_oid(t) END), "
    "' ') AS proargtypes, NULL::VARCHAR AS proargnames, NULL::VARCHAR[] AS proacl, "
    # psql's \\df+ Language: a macro's is SQL (pg_language), the rest (built-ins, the server's Python functions)
    # are compiled into the process, PostgreSQL's "internal"; no source text of either (see pgsql's \\sf refusal)
    "CASE WHEN prosqlbody IS NOT NULL THEN 14 ELSE 12 END AS prolang, NULL::VARCHAR AS prosrc), "
    "prorettype AS pg_rettype_name, proargtypes AS pg_argtype_names, proargnames AS pg_argnames "
    # (the session's own macros, temporary objects too, are no function of the user's)
    f"FROM pg_catalog.pg_proc WHERE NOT (proname IN ({_SESSION_OBJECTS_MARK}) AND pronamespace = {_TEMP_SCHEMA_OID}) "
    "UNION ALL BY NAME "
    # the functions pg_type's regproc columns name (pgtypes.TYPE_IO_FUNCTION_OIDS), so a join on typreceive finds one
    "SELECT oid, proname, (SELECT oid FROM duckdb_schemas() WHERE database_name = 'system' AND schema_name = "
    "'pg_catalog') AS pronamespace, 12 AS prolang FROM (VALUES "
    + ", ".join(f"({oid}, '{name}')" for name, oid in TYPE_IO_FUNCTION_OIDS.items()) + ") f(oid, proname)",
    # a regproc column compared with an oid (pgcatalogsql._regproc_joins): the oid of the function it names
    "CREATE OR REPLACE TEMP MACRO pg_regproc_oid(pg_proc_arg) AS CASE pg_proc_arg "
    + " ".join(f"WHEN '{name}' THEN {oid}" for name, oid in TYPE_IO_FUNCTION_OIDS.items()) + " END",
    # Relations as DuckDB's pg_class lists them, with what psql's \\d NAME also reads (row security: none; no
    # storage options, typed as the list psql unnests; no replication, so the default replica identity, which
    # psql does not print), and
    # an access method only for indexes: DuckDB's says relam 0 for every relation, the oid of its one pg_am row,
    # ART (an index method), so SQLAlchemy would report tables as "USING art".
    # The index DuckDB keeps for a PRIMARY KEY or UNIQUE constraint (an ART, unnamed in DuckDB) is listed under the
    # constraint's oid and name, as PostgreSQL names such an index after its constraint: JDBC's getIndexInfo and
    # getImportedKeys (the referenced key's index, PK_NAME) join pg_class on it.
    # (privileges: what the one role, pg_roles, may do: role_sql)
    _ROLE_SQL[0],
    "CREATE OR REPLACE TEMP VIEW pg_class AS SELECT * REPLACE (CASE relkind WHEN 'i' THEN relam END AS relam, "
    "NULL::VARCHAR[] AS reloptions, 'd' AS relreplident, CASE WHEN relkind IN ('r', 'v') THEN pg_table_acl() END "
    "AS relacl, "
    # DuckDB's says every index is temporary (psql's \\di+ Persistence); an index's is its own
    "CASE WHEN relkind = 'i' THEN coalesce((SELECT CASE WHEN i.database_name = 'temp' THEN 't' ELSE 'p' END FROM "
    "duckdb_indexes() i WHERE i.index_oid = c.oid), relpersistence) ELSE relpersistence END AS relpersistence), "
    "false AS relforcerowsecurity, " + _catalog_oid_sql("pg_class") + " AS tableoid "
    f"FROM pg_catalog.pg_class c WHERE c.relnamespace NOT IN {_UNLISTED_SCHEMAS} "
    # the session's own catalogue views (SESSION_SQL), temporary objects too, are no relation of the user's
    f"AND NOT (c.relname IN ({_SESSION_OBJECTS_MARK}) AND c.relnamespace = {_TEMP_SCHEMA_OID}) UNION ALL BY NAME "
    "SELECT table_oid * 1000000 + constraint_index AS oid, constraint_name AS relname, schema_oid AS relnamespace, "
    "0 AS reltype, 0 AS reloftype, 0 AS relowner, (SELECT oid FROM pg_catalog.pg_am WHERE amname = 'art') AS relam, "
    "0 AS relfilenode, 0 AS reltablespace, 0 AS relpages, 0::FLOAT AS reltuples, 0 AS relallvisible, "
    "0 AS reltoastrelid, 0 AS reltoastidxid, false AS relhasindex, false AS relisshared, "
    "CASE WHEN database_name = 'temp' THEN 't' ELSE 'p' END AS relpersistence, 'i' AS relkind, "
    "len(constraint_column_indexes) AS relnatts, 0 AS relchecks, false AS relhasoids, false AS relhaspkey, "
    "false AS relhasrules, false AS relhastriggers, false AS relhassubclass, false AS relrowsecurity, "
    "true AS relispopulated, 'd' AS relreplident, false AS relispartition, 0 AS relrewrite, "
    "NULL::VARCHAR[] AS reloptions, false AS relforcerowsecurity, " + _catalog_oid_sql("pg_class") + " AS tableoid "
    "FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE') "
    f"AND schema_oid NOT IN {_UNLISTED_SCHEMAS}",
    # current_setting($n) (pgcatalogsql's rewrites; a literal name stays DuckDB's, whose unknown-name error comes at
    # bind time, before any other, which asyncpg relies on): DuckDB's wants a constant, a parameter is not one.
    # Settings as text, as PostgreSQL returns them; an unknown name is still an error (SQLSTATE 42704).
    # current_setting($n, missing_ok) too: NULL for a name no setting has when missing_ok (pgcatalogsql._settings)
    "CREATE OR REPLACE TEMP MACRO pg_current_setting(pg_setting_arg) AS "
    + _current_setting_sql("error('unrecognized configuration parameter \"' || pg_setting_arg || '\"')")
    + ", (pg_setting_arg, pg_missing_ok) AS " + _current_setting_sql(
        "CASE WHEN pg_missing_ok THEN NULL ELSE error('unrecognized configuration parameter \"' || pg_setting_arg || "
        "'\"') END"),
    # 'name'::regclass, CAST(x AS REGCLASS) (pgcatalogsql's rewrites): a relation's oid by its name, schema-qualified or
    # searched as PostgreSQL does (pg_catalog, then the current schema); an oid stays itself.
    "CREATE OR REPLACE TEMP MACRO pg_regclass(pg_rel_arg) AS coalesce(TRY_CAST(pg_rel_arg AS BIGINT), ("
    + _REGCLASS_LOOKUP + "), "
    # a missing relation is PostgreSQL's error (psql's \\sv printed "(not available)" for the NULL); a catalogue
    # name the server does not emulate stays NULL, as it was: clients join their catalogue lookups by it
    "CASE WHEN pg_rel_arg IS NULL OR lower(pg_rel_arg::VARCHAR) LIKE 'pg\\_%' ESCAPE '\\' OR lower(pg_rel_arg::VARCHAR) "
    "LIKE 'information\\_schema.%' ESCAPE '\\' THEN NULL "
    "ELSE error('relation \"' || pg_rel_arg || '\" does not exist') END)",
    # to_regclass('t'): a script's "does the table exist" (its oid, or NULL where no relation has the name)
    "CREATE OR REPLACE TEMP MACRO to_regclass(pg_rel_arg) AS (" + _REGCLASS_LOOKUP + ")",
    # DuckDB's answers true for every relation, so SQLAlchemy's table list for the default schema listed the
    # tables of every schema: visible means in the current schema (or pg_catalog, or temporary), as in PostgreSQL.
    "CREATE OR REPLACE TEMP MACRO pg_table_is_visible(pg_rel_oid_arg) AS pg_rel_oid_arg IN (SELECT c.oid FROM "
    "pg_catalog.pg_class c JOIN duckdb_schemas() s ON s.oid = c.relnamespace WHERE s.database_name = "
    "current_database() AND s.schema_name = current_schema() OR s.database_name IN ('system', 'temp') "
    "AND s.schema_name IN ('pg_catalog', 'main'))",
    # psql's \\dx: the extensions DuckDB has loaded (pg_extension_rows, per server: see extensions_sql), their
    # objects in pg_catalog, where the server lists DuckDB's built-in functions (pg_proc); their descriptions below.
    _EXTENSION_ROWS,
    "CREATE OR REPLACE TEMP VIEW pg_extension AS SELECT oid, extname, 0::BIGINT AS extowner, (SELECT oid FROM "
    "duckdb_schemas() WHERE database_name = 'system' AND schema_name = 'pg_catalog') AS extnamespace, "
    "false AS extrelocatable, extversion, NULL::BIGINT[] AS extconfig, NULL::VARCHAR[] AS extcondition, "
    "pg_regclass('pg_catalog.pg_extension') AS tableoid FROM pg_extension_rows()",
    # Comments: DuckDB's pg_description says classoid = the database's oid; PostgreSQL's (and the clients' join on
    # classoid = 'pg_class'::regclass) is the catalogue the object lives in.
    "CREATE OR REPLACE TEMP VIEW pg_description AS WITH k AS (SELECT pg_regclass('pg_catalog.pg_class') AS "
    "classoid) SELECT objoid, k.classoid, objsubid, description FROM k, ("
    "SELECT table_oid AS objoid, 0 AS objsubid, comment AS description FROM duckdb_tables() "
    "WHERE NOT internal AND comment IS NOT NULL UNION ALL "
    "SELECT view_oid, 0, comment FROM duckdb_views() WHERE NOT internal AND comment IS NOT NULL UNION ALL "
    "SELECT table_oid, column_index, comment FROM duckdb_columns() WHERE NOT internal AND comment IS NOT NULL "
    "UNION ALL SELECT index_oid, 0, comment FROM duckdb_indexes() WHERE comment IS NOT NULL) UNION ALL "
    "SELECT oid, pg_regclass('pg_catalog.pg_extension'), 0, description FROM pg_extension_rows() "
    "WHERE description IS NOT NULL",
    # psql's \\d+ and \\dt+ descriptions; straight from DuckDB's comments (a macro over pg_description would bind
    # that view again, per session).
    "CREATE OR REPLACE TEMP MACRO col_description(pg_rel_arg, pg_column_arg) AS (SELECT comment FROM "
    "duckdb_columns() WHERE table_oid = pg_rel_arg AND column_index = pg_column_arg)",
    "CREATE OR REPLACE TEMP MACRO obj_description(pg_obj_arg, pg_catalog_arg) AS CASE WHEN pg_catalog_arg IN "
    "('pg_class', 'pg_catalog.pg_class') THEN (SELECT comment FROM duckdb_tables() WHERE table_oid = pg_obj_arg "
    "UNION ALL SELECT comment FROM duckdb_views() WHERE view_oid = pg_obj_arg LIMIT 1) END",
    # Constraints by their DuckDB names; NOT NULL is a column property (attnotnull) in PostgreSQL 15, not a row
    # here (DuckDB's own view lists it as contype 'x', an exclusion constraint). A PRIMARY KEY or UNIQUE constraint
    # is enforced by an index DuckDB keeps unnamed: pg_index lists it under the constraint's own oid (conindid).
    # A foreign key's conindid is, as in PostgreSQL, the index of the key it references (DuckDB requires one).
    "CREATE OR REPLACE TEMP VIEW pg_constraint AS SELECT table_oid * 1000000 + constraint_index AS oid, "
    "constraint_name AS conname, schema_oid AS connamespace, CASE constraint_type WHEN 'CHECK' THEN 'c' "
    "WHEN 'UNIQUE' THEN 'u' WHEN 'PRIMARY KEY' THEN 'p' WHEN 'FOREIGN KEY' THEN 'f' END AS contype, "
    "false AS condeferrable, false AS condeferred, true AS convalidated, table_oid AS conrelid, 0 AS contypid, "
    "CASE WHEN constraint_type IN ('PRIMARY KEY', 'UNIQUE') THEN table_oid * 1000000 + constraint_index "
    "WHEN constraint_type = 'FOREIGN KEY' THEN coalesce((SELECT r.table_oid * 1000000 + r.constraint_index FROM "
    "duckdb_constraints() r WHERE r.database_name = k.database_name AND r.schema_name = k.schema_name AND "
    "r.table_name = k.referenced_table AND r.constraint_type IN ('PRIMARY KEY', 'UNIQUE') AND "
    "list_sort(r.constraint_column_names) = list_sort(k.referenced_column_names) LIMIT 1), 0) ELSE 0 END "
    "AS conindid, 0 AS conparentid, coalesce((SELECT t.table_oid FROM duckdb_tables() t WHERE t.database_name = "
    "k.database_name AND t.schema_name = k.schema_name AND t.table_name = k.referenced_table), 0) AS confrelid, "
    "CASE WHEN constraint_type = 'FOREIGN KEY' THEN 'a' END AS confupdtype, "
    "CASE WHEN constraint_type = 'FOREIGN KEY' THEN 'a' END AS confdeltype, "
    "CASE WHEN constraint_type = 'FOREIGN KEY' THEN 's' END AS confmatchtype, true AS conislocal, 0 AS coninhcount, "
    "false AS connoinherit, list_transform(constraint_column_indexes, lambda i: i + 1) AS conkey, "
    "CASE WHEN constraint_type = 'FOREIGN KEY' THEN (SELECT list(c.column_index ORDER BY list_position("
    "k.referenced_column_names, c.column_name)) FROM duckdb_columns() c WHERE c.database_name = k.database_name "
    "AND c.schema_name = k.schema_name AND c.table_name = k.referenced_table "
    "AND list_contains(k.referenced_column_names, c.column_name)) END AS confkey, "
    "NULL::BIGINT[] AS conpfeqop, NULL::BIGINT[] AS conppeqop, NULL::BIGINT[] AS conffeqop, "
    "NULL::BIGINT[] AS conexclop, expression AS conbin, " + _catalog_oid_sql("pg_constraint") + " AS tableoid "
    "FROM duckdb_constraints() k "
    "WHERE constraint_type IN ('CHECK', 'UNIQUE', 'PRIMARY KEY', 'FOREIGN KEY')",
    # Indexes: CREATE INDEX ones (duckdb_indexes(); a key that is not a plain column is attnum 0, an expression,
    # as in PostgreSQL) and the unnamed ones of PRIMARY KEY / UNIQUE constraints (see pg_constraint), which have no
    # pg_class row. DuckDB's own pg_index has no key columns.
    "CREATE OR REPLACE TEMP VIEW pg_index AS WITH keys AS (SELECT i.index_oid, i.table_oid, i.is_unique, "
    "i.is_primary, list(coalesce(c.column_index, 0) ORDER BY e.ord) AS indkey FROM (SELECT index_oid, table_oid, "
    "is_unique, is_primary, unnest(string_split(trim(expressions, '[]'), ', ')) AS expr, "
    "generate_subscripts(string_split(trim(expressions, '[]'), ', '), 1) AS ord FROM duckdb_indexes()) e "
    "JOIN duckdb_indexes() i USING (index_oid) LEFT JOIN duckdb_columns() c ON c.table_oid = i.table_oid "
    "AND (c.column_name = e.expr OR '\"' || replace(c.column_name, '\"', '\"\"') || '\"' = e.expr) "
    "GROUP BY ALL UNION ALL SELECT table_oid * 1000000 + constraint_index, table_oid, true, "
    "constraint_type = 'PRIMARY KEY', list_transform(constraint_column_indexes, lambda i: i + 1) "
    "FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')) "
    "SELECT index_oid AS indexrelid, table_oid AS indrelid, len(indkey) AS indnatts, len(indkey) AS indnkeyatts, "
    "is_unique AS indisunique, is_primary AS indisprimary, false AS indisexclusion, true AS indimmediate, "
    "false AS indisclustered, true AS indisvalid, false AS indcheckxmin, true AS indisready, true AS indislive, "
    "false AS indisreplident, false AS indnullsnotdistinct, indkey, list_transform(indkey, lambda k: 0) AS "
    "indcollation, list_transform(indkey, lambda k: 0) AS indclass, array_to_string(list_transform(indkey, lambda k: 0), ' ') AS indoption, "
    "NULL::VARCHAR AS indexprs, NULL::VARCHAR AS indpred FROM keys",
    # (after pg_index, whose keys it lists for each index)
    # atttypid UINTEGER, PostgreSQL's oid (unsigned, 32 bits): its lists are oid[] (pgtypes.type_of), as asyncpg's
    # type introspection needs its array_agg(atttypid) to be (oid[] and text[] are the only arrays it decodes
    # without looking them up, by that very query)
    "CREATE OR REPLACE TEMP VIEW pg_attribute AS SELECT table_oid AS attrelid, column_name AS attname, "
    "pg_column_type_oid(data_type)::UINTEGER AS atttypid, -1 AS attstattarget, "
    f"{_type_len_sql('data_type')} AS attlen, column_index AS attnum, 0 AS attndims, -1 AS attcacheoff, "
    "CASE WHEN pg_column_type_oid(data_type) = 1700 THEN ((numeric_precision << 16) | numeric_scale) + 4 "
    "ELSE -1 END AS atttypmod, false AS attbyval, 'p' AS attstorage, 'i' AS attalign, NOT is_nullable AS attnotnull, "
    "column_default IS NOT NULL AS atthasdef, false AS atthasmissing, '' AS attidentity, '' AS attgenerated, "
    "false AS attisdropped, true AS attislocal, 0 AS attinhcount, 0 AS attcollation, NULL::VARCHAR AS attcompression, "
    "NULL::VARCHAR[] AS attacl, NULL::VARCHAR[] AS attoptions, NULL::VARCHAR[] AS attfdwoptions, "
    "NULL::VARCHAR AS attmissingval FROM duckdb_columns() UNION ALL BY NAME "
    # An index's own columns, as PostgreSQL lists them (attrelid the index, attnum its key position, named and
    # typed after the table's column; an expression key is "expr"): psqlODBC's SQLPrimaryKeys joins them.
    "SELECT i.indexrelid AS attrelid, coalesce(c.column_name, 'expr') AS attname, "
    "coalesce(pg_column_type_oid(c.data_type), 25)::UINTEGER AS atttypid, k.n::INTEGER AS attnum, false AS attnotnull, "
    "false AS atthasdef, '' AS attidentity, '' AS attgenerated, false AS attisdropped, -1 AS atttypmod, "
    "-1 AS attlen, 0 AS attndims FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(attnum, n) "
    "LEFT JOIN duckdb_columns() c ON c.table_oid = i.indrelid AND c.column_index = k.attnum",
    # indoption is int2vector, whose text ("0 0") SQLAlchemy reads; it unnests indkey, so that stays a list.
    # X.indoption[n] (pgcatalogsql's rewrites; JDBC's getIndexInfo): an int2vector's n-th entry, from 0 as in PostgreSQL.
    "CREATE OR REPLACE TEMP MACRO pg_int2vector_at(pg_vector_arg, pg_pos_arg) AS "
    "TRY_CAST(string_split(pg_vector_arg, ' ')[pg_pos_arg + 1] AS SMALLINT)",
    # X.indkey[n] likewise (pgcatalogsql's rewrites; psqlODBC's SQLPrimaryKeys): the view keeps indkey as a list.
    "CREATE OR REPLACE TEMP MACRO pg_int2vector_key(pg_vector_arg, pg_pos_arg) AS pg_vector_arg[pg_pos_arg + 1]",
    # An int2vector's text as a value pgtypes sends as int2vector (OID 22): DuckDB has no such type, and a type
    # alias does not reach a result's column types, a union's member name does (pgcatalogsql._int2vector_outputs).
    "CREATE OR REPLACE TEMP MACRO pg_int2vector_out(pg_vector_text_arg) AS "
    "union_value(int2vector := pg_vector_text_arg::VARCHAR)",
    # An index's definition (0: whole, n: its n-th key), from what DuckDB stored of it.
    "CREATE OR REPLACE TEMP MACRO pg_get_indexdef(pg_index_oid_arg) AS " + _indexdef_sql("0") + ", "
    "(pg_index_oid_arg, pg_column_arg, pg_pretty_arg) AS " + _indexdef_sql("pg_column_arg"),
    # No collations or operator classes in DuckDB: empty, with the columns clients select and join on.
    "CREATE OR REPLACE TEMP VIEW pg_collation AS SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS collname, "
    "NULL::BIGINT AS collnamespace, NULL::BIGINT AS collowner, NULL::VARCHAR AS collprovider, "
    "NULL::BOOLEAN AS collisdeterministic, NULL::INTEGER AS collencoding, NULL::VARCHAR AS collcollate, "
    "NULL::VARCHAR AS collctype, NULL::VARCHAR AS colliculocale WHERE false",
    "CREATE OR REPLACE TEMP VIEW pg_opclass AS SELECT NULL::BIGINT AS oid, NULL::BIGINT AS opcmethod, "
    "NULL::VARCHAR AS opcname, NULL::BIGINT AS opcnamespace, NULL::BIGINT AS opcowner, NULL::BIGINT AS opcfamily, "
    "NULL::BIGINT AS opcintype, NULL::BOOLEAN AS opcdefault, NULL::BIGINT AS opckeytype, NULL::BIGINT AS tableoid "
    "WHERE false",
    "CREATE OR REPLACE TEMP VIEW pg_inherits AS SELECT NULL::BIGINT AS inhrelid, NULL::BIGINT AS inhparent, "
    "NULL::INTEGER AS inhseqno, NULL::BOOLEAN AS inhdetachpending WHERE false",  # no table inheritance either
    # A view's query, as PostgreSQL gives it (DuckDB's pg_get_viewdef gives the whole CREATE VIEW statement).
    "CREATE OR REPLACE TEMP MACRO pg_get_viewdef(pg_view_oid_arg) AS (SELECT regexp_replace(sql, "
    "'^\\s*CREATE\\s+(OR\\s+REPLACE\\s+)?(TEMP\\s+|TEMPORARY\\s+)?VIEW\\s.*?\\sAS\\s+', '', 'is') "
    "FROM duckdb_views() WHERE view_oid = pg_view_oid_arg), (pg_view_oid_arg, pg_pretty_arg) AS "
    "pg_get_viewdef(pg_view_oid_arg)",
    # No row-level security and no roles in DuckDB: psql's \\d NAME reads a table's policies (and their roles).
    "CREATE OR REPLACE TEMP VIEW pg_policy AS SELECT NULL::VARCHAR AS polname, NULL::BIGINT AS polrelid, "
    "NULL::VARCHAR AS polcmd, NULL::BOOLEAN AS polpermissive, NULL::BIGINT[] AS polroles, NULL::VARCHAR AS polqual, "
    "NULL::VARCHAR AS polwithcheck WHERE false",
    # DuckDB's one user (current_user: every client, whatever user name it gave), owner of everything (relowner,
    # nspowner, datdba, extowner 0; pg_get_userbyid). Its attributes are what the server allows it: not a superuser
    # (is_superuser off: no settings, files or ATTACH), no roles or databases to create, no replication; in no role.
    "CREATE OR REPLACE TEMP VIEW pg_roles AS SELECT current_user AS rolname, false AS rolsuper, true AS rolinherit, "
    "false AS rolcreaterole, false AS rolcreatedb, true AS rolcanlogin, false AS rolreplication, -1 AS rolconnlimit, "
    "'********' AS rolpassword, NULL::TIMESTAMPTZ AS rolvaliduntil, false AS rolbypassrls, NULL::VARCHAR[] AS "
    "rolconfig, 0::BIGINT AS oid",
    # The same role in the catalogues pgAdmin, DataGrip and DBeaver read too. No password anywhere (the server has
    # none to give): masked in pg_user, as PostgreSQL shows it, NULL in pg_shadow and pg_authid. No groups.
    "CREATE OR REPLACE TEMP VIEW pg_user AS SELECT current_user AS usename, 0::BIGINT AS usesysid, false AS "
    "usecreatedb, false AS usesuper, false AS userepl, false AS usebypassrls, '********' AS passwd, "
    "NULL::TIMESTAMPTZ AS valuntil, NULL::VARCHAR[] AS useconfig",
    "CREATE OR REPLACE TEMP VIEW pg_shadow AS SELECT current_user AS usename, 0::BIGINT AS usesysid, false AS "
    "usecreatedb, false AS usesuper, false AS userepl, false AS usebypassrls, NULL::VARCHAR AS passwd, "
    "NULL::TIMESTAMPTZ AS valuntil, NULL::VARCHAR[] AS useconfig",
    "CREATE OR REPLACE TEMP VIEW pg_authid AS SELECT 0::BIGINT AS oid, current_user AS rolname, false AS rolsuper, "
    "true AS rolinherit, false AS rolcreaterole, false AS rolcreatedb, true AS rolcanlogin, false AS rolreplication, "
    "false AS rolbypassrls, -1 AS rolconnlimit, NULL::VARCHAR AS rolpassword, NULL::TIMESTAMPTZ AS rolvaliduntil",
    _ROLE_SQL[1],
    *_ROLE_SQL[2:],
    # Nor extended statistics (psql's \\d NAME lists them).
    "CREATE OR REPLACE TEMP VIEW pg_statistic_ext AS SELECT NULL::BIGINT AS oid, NULL::BIGINT AS stxrelid, "
    "NULL::BIGINT AS stxnamespace, NULL::VARCHAR AS stxname, NULL::VARCHAR[] AS stxkind, NULL::INTEGER AS "
    "stxstattarget WHERE false",
    "CREATE OR REPLACE TEMP MACRO pg_get_statisticsobjdef_columns(pg_stat_oid_arg) AS NULL::VARCHAR",
    # Nor publications (logical replication): psql's \\d NAME lists those a table is in.
    "CREATE OR REPLACE TEMP VIEW pg_publication AS SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS pubname, "
    "NULL::BIGINT AS pubowner, NULL::BOOLEAN AS puballtables, NULL::BOOLEAN AS pubinsert, NULL::BOOLEAN AS pubupdate, "
    "NULL::BOOLEAN AS pubdelete, NULL::BOOLEAN AS pubtruncate, NULL::BOOLEAN AS pubviaroot WHERE false",
    "CREATE OR REPLACE TEMP VIEW pg_publication_namespace AS SELECT NULL::BIGINT AS pnpubid, NULL::BIGINT AS pnnspid "
    "WHERE false",
    "CREATE OR REPLACE TEMP VIEW pg_publication_rel AS SELECT NULL::BIGINT AS prpubid, NULL::BIGINT AS prrelid, "
    "NULL::VARCHAR AS prqual, NULL::SMALLINT[] AS prattrs WHERE false",
    "CREATE OR REPLACE TEMP MACRO pg_relation_is_publishable(pg_rel_arg) AS false",
    # information_schema._pg_expandarray(a) (JDBC's getPrimaryKeys, getIndexInfo, getBestRowIdentifier): a row
    # (x, n) per element, n from 1. Called twice in one select list, the two unnests run in step, as PostgreSQL's
    # set-returning functions do.
    "CREATE OR REPLACE TEMP MACRO _pg_expandarray(pg_array_arg) AS "
    "unnest(list_transform(pg_array_arg, lambda v, i: {'x': v, 'n': i}))",
    # 'name'::regproc (pgcatalogsql's rewrites; JDBC's getTypeInfo compares typinput with 'pg_catalog.array_in'): a
    # function's name as regproc prints it. DuckDB's pg_type has no typinput, so no type is an array by it.
    "CREATE OR REPLACE TEMP MACRO pg_regproc(pg_proc_arg) AS regexp_replace(pg_proc_arg::VARCHAR, "
    "'^pg_catalog\\.', '')",
    # Settings PostgreSQL has and DuckDB does not, which drivers read: max_index_keys (JDBC's getImportedKeys
    # numbers key columns up to it; DuckDB has no such limit, so PostgreSQL's 32 or the longest key held).
    # (the search path as SHOW search_path says it: pgcatalogsql.SEARCH_PATH_SQL)
    # TimeZone as SHOW TimeZone says it (PostgreSQL's name of an offset zone) and the server's --max-connections, from
    # the session's variables (pgobjects.provide sets them for a statement naming pg_settings)
    "CREATE OR REPLACE TEMP VIEW pg_settings AS SELECT * REPLACE (CASE WHEN name = 'search_path' THEN "
    f"{SEARCH_PATH_SQL} WHEN name = 'TimeZone' THEN {TIME_ZONE_SQL} ELSE setting END AS setting) "
    "FROM pg_catalog.pg_settings UNION ALL BY NAME "
    "SELECT 'max_index_keys' AS name, greatest(32, (SELECT max(len(constraint_column_indexes)) FROM "
    "duckdb_constraints()))::VARCHAR AS setting, 'Shows the maximum number of index keys.' AS short_desc, "
    "'integer' AS vartype UNION ALL BY NAME "
    f"SELECT 'max_connections' AS name, {MAX_CONNECTIONS_SQL} AS setting, "
    "'Sets the maximum number of concurrent connections.' AS short_desc, 'integer' AS vartype UNION ALL BY NAME "
    # the settings SHOW answers that DuckDB has not (SHOW ALL lists them from here, pgcommands.SHOW_ALL_SQL)
    f"SELECT name, coalesce(getvariable('{CUSTOM_SETTINGS_VARIABLE}')[lower(name)], setting) AS setting, "
    "'PostgreSQL''s setting, as ad-duckdb serve answers it' AS short_desc, 'string' AS vartype "
    "FROM (VALUES " + ", ".join(f"('{PG_SETTING_NAMES.get(k, k)}', '{v}')" for k, v in PG_SHOW.items() if " " not in k)
    + ") v(name, setting) WHERE lower(name) NOT IN (SELECT lower(name) FROM pg_catalog.pg_settings)",
    # Metabase's table list reads each table's estimated row count here: DuckDB's own estimate (duckdb_tables()).
    "CREATE OR REPLACE TEMP VIEW pg_stat_user_tables AS SELECT table_oid AS relid, schema_name AS schemaname, "
    "table_name AS relname, estimated_size AS n_live_tup FROM duckdb_tables() WHERE database_name = "
    "current_database() UNION ALL SELECT t.table_oid, a.nspname, t.table_name, t.estimated_size FROM duckdb_tables() "
    f"t JOIN {_ATTACHED_SCHEMAS} a ON a.oid = t.schema_oid",
    # pg_tables and pg_views as pg_class lists the relations, under pg_namespace's schemas: DuckDB's own are over
    # every table and view it has, its internal views (duckdb_columns, ...) and the session's own (pg_class, ...) in
    # main, 69 views besides the file's (Metabase's table privileges listed them), the session's temporary tables too
    "CREATE OR REPLACE TEMP VIEW pg_tables AS SELECT n.nspname AS schemaname, c.relname AS tablename, "
    "'duckdb' AS tableowner, NULL::VARCHAR AS tablespace, EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = "
    "c.oid) AS hasindexes, false AS hasrules, false AS hastriggers, false AS rowsecurity FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')",
    "CREATE OR REPLACE TEMP VIEW pg_views AS SELECT n.nspname AS schemaname, c.relname AS viewname, "
    "'duckdb' AS viewowner, pg_get_viewdef(c.oid) AS definition FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'v'",
    # An array's upper bound (1-based, one dimension: DuckDB's lists), NULL for an empty one as in PostgreSQL.
    "CREATE OR REPLACE TEMP MACRO array_upper(pg_array_arg, pg_dim_arg) AS "
    "CASE WHEN pg_dim_arg = 1 AND len(pg_array_arg) > 0 THEN len(pg_array_arg) END",
    "CREATE OR REPLACE TEMP MACRO array_lower(pg_array_arg, pg_dim_arg) AS "
    "CASE WHEN pg_dim_arg = 1 AND len(pg_array_arg) > 0 THEN 1 END",
    # PostgreSQL's parse_ident('a."B c"'): the parts of a qualified name, a quoted one as written, the others in lower
    # case (Grafana's column list of a table it names schema.table)
    "CREATE OR REPLACE TEMP MACRO parse_ident(pg_ident_arg) AS list_transform(regexp_extract_all(pg_ident_arg, "
    "'\\s*(\"(?:[^\"]|\"\")*\"|[^.\"]+)\\s*(?:\\.|$)', 1), lambda p: CASE WHEN starts_with(p, '\"') "
    "THEN replace(p[2:-2], '\"\"', '\"') ELSE lower(trim(p)) END)",
    # DuckDB keeps defaults and index predicates as SQL text, which is what PostgreSQL's decompiles to; psql's
    # \\d NAME passes a third argument (pretty), DuckDB's own macro takes two.
    "CREATE OR REPLACE TEMP MACRO pg_get_expr(pg_node_arg, pg_rel_arg) AS pg_node_arg, "
    "(pg_node_arg, pg_rel_arg, pg_pretty_arg) AS pg_node_arg",
    # A serial or identity column's sequence: DuckDB has neither (a DEFAULT nextval(...) is a plain default).
    "CREATE OR REPLACE TEMP MACRO pg_get_serial_sequence(pg_table_arg, pg_column_arg) AS NULL::VARCHAR",
    # PostgreSQL's format() (pgcatalogsql._pg_format): %s as the text, empty for NULL; %I as an identifier, quoted unless
    # it is lower case and no reserved word (DuckDB's list of them); %L as a literal, NULL unquoted. Up to four
    # arguments (Metabase passes two; each overload adds to the time this takes to create).
    "CREATE OR REPLACE TEMP MACRO pg_format_value(pg_format_spec, pg_format_v) AS CASE pg_format_spec "
    "WHEN 's' THEN coalesce(pg_format_v, '') WHEN 'I' THEN CASE WHEN pg_format_v IS NULL THEN "
    "error('null values cannot be formatted as an SQL identifier') WHEN regexp_full_match(pg_format_v, "
    "'[a-z_][a-z0-9_$]*') AND pg_format_v NOT IN (SELECT keyword_name FROM duckdb_keywords() WHERE "
    "keyword_category = 'reserved') THEN pg_format_v ELSE '\"' || replace(pg_format_v, '\"', '\"\"') || '\"' END "
    "WHEN 'L' THEN coalesce('''' || replace(pg_format_v, '''', '''''') || '''', 'NULL') END",
    "CREATE OR REPLACE TEMP MACRO pg_format_piece(pg_format_fmt, pg_format_i, pg_format_v) AS "
    "coalesce(regexp_split_to_array(pg_format_fmt, '%[sIL]')[pg_format_i], '') || coalesce(pg_format_value("
    "regexp_extract_all(pg_format_fmt, '%([sIL])', 1)[pg_format_i], pg_format_v), '')",
    "CREATE OR REPLACE TEMP MACRO pg_format"
    + ", ".join("(pg_format_fmt, " + ", ".join(f"pg_format_arg{i}" for i in range(1, n + 1)) + ") AS "
                + _pg_format_sql(n) for n in range(1, 5)),
    # information_schema.columns (pgcatalogsql's rewrites; Metabase's field sync reads udt_schema and udt_name as a
    # column's database type): DuckDB's own, with PostgreSQL's type names (data_type as format_type writes it,
    # udt_name as pg_type names it: int4, float8, numeric, varchar, timestamp, bool, json for lists and structs:
    # the types values are sent as); DuckDB has no identity columns. Its rows are _information_schema_sql's.
    # (The type's oid once, in a subquery: each use of the macro is bound again as the view is created.)
    "CREATE OR REPLACE TEMP VIEW pg_information_schema_columns AS SELECT * EXCLUDE (pg_type_oid) REPLACE ("
    f"{_DATA_TYPE_SQL} AS data_type, table_catalog AS udt_catalog, 'pg_catalog' AS udt_schema, "
    "CASE pg_type_oid " + " ".join(f"WHEN {oid} THEN '{name}'" for oid, name in PG_TYPNAMES.items())
    + " END AS udt_name, 'NO' AS is_identity) FROM (SELECT *, pg_column_type_oid(data_type) AS pg_type_oid FROM ("
    + _information_schema_sql("columns") + "))",
    # information_schema.tables (pgcatalogsql's rewrites): DuckDB's own, its rows as information_schema.columns'
    "CREATE OR REPLACE TEMP VIEW pg_information_schema_tables AS " + _information_schema_sql("tables"),
    # information_schema.schemata (pgcatalogsql's rewrites): the connected database's schemas, each once, as PostgreSQL's
    # lists them: DuckDB's had a row per schema of every database (Grafana's schema picker offered main three times:
    # the file's, the system and temp databases'); pg_catalog and information_schema as this database's, and each
    # attached file's main under its alias, as its tables are listed (_ATTACHED_SCHEMAS)
    "CREATE OR REPLACE TEMP VIEW pg_information_schema_schemata AS SELECT i.* REPLACE (current_database() AS "
    "catalog_name, coalesce(a.nspname, i.schema_name) AS schema_name) FROM information_schema.schemata i "
    f"LEFT JOIN {_ATTACHED_SCHEMAS} a ON a.nspname = i.catalog_name AND i.schema_name = 'main' "
    "WHERE a.nspname IS NOT NULL OR i.catalog_name = current_database() OR i.catalog_name = 'system' "
    "AND i.schema_name IN ('pg_catalog', 'information_schema')",
    # information_schema.routines (pgcatalogsql's rewrites; DuckDB has none): the functions as pg_proc lists them, the
    # system database's (built-ins, anomaly_*) in pg_catalog, the database's macros in their schema (not the
    # session's own, in temp), a row per overload; types as information_schema.columns names them (a macro has
    # none: NULL), "any" for DuckDB's ANY. Its language as pg_proc's prolang: SQL for a macro, else internal.
    "CREATE OR REPLACE TEMP VIEW pg_information_schema_routines AS SELECT current_database() AS specific_catalog, "
    "routine_schema AS specific_schema, function_name || '_' || function_oid || CASE WHEN count(*) OVER (PARTITION "
    "BY function_oid, function_name) > 1 THEN '_' || row_number() OVER (PARTITION BY function_oid, function_name "
    "ORDER BY parameter_types::VARCHAR, return_type) ELSE '' END AS specific_name, "
    "current_database() AS routine_catalog, routine_schema, function_name AS routine_name, "
    "CASE WHEN function_type <> 'aggregate' THEN 'FUNCTION' END AS routine_type, "
    "NULL::VARCHAR AS module_catalog, NULL::VARCHAR AS module_schema, NULL::VARCHAR AS module_name, "
    "NULL::VARCHAR AS udt_catalog, NULL::VARCHAR AS udt_schema, NULL::VARCHAR AS udt_name, "
    "CASE WHEN return_type = 'ANY' THEN '\"any\"' WHEN pg_type_oid IS NOT NULL THEN " + _DATA_TYPE_SQL + " "
    "END AS data_type, CASE WHEN return_type IS NOT NULL THEN current_database() END AS type_udt_catalog, "
    "CASE WHEN return_type IS NOT NULL THEN 'pg_catalog' END AS type_udt_schema, "
    "CASE WHEN return_type = 'ANY' THEN 'any' ELSE CASE pg_type_oid "
    + " ".join(f"WHEN {oid} THEN '{name}'" for oid, name in PG_TYPNAMES.items())
    + " END END AS type_udt_name, CASE WHEN macro THEN 'SQL' ELSE 'EXTERNAL' END AS routine_body, "
    "CASE WHEN macro THEN macro_definition END AS routine_definition, NULL::VARCHAR AS external_name, "
    "CASE WHEN macro THEN 'SQL' ELSE 'INTERNAL' END AS external_language, 'GENERAL' AS parameter_style, "
    "CASE WHEN stability = 'CONSISTENT' THEN 'YES' ELSE 'NO' END AS is_deterministic, "
    "'MODIFIES' AS sql_data_access, NULL::VARCHAR AS is_null_call, 'INVOKER' AS security_type, "
    "'NO' AS as_locator, 'NO' AS is_user_defined_cast FROM (SELECT *, function_type IN ('macro', 'table_macro') "
    "AS macro, CASE WHEN database_name = 'system' THEN 'pg_catalog' ELSE schema_name END AS routine_schema, "
    "CASE WHEN return_type IS NOT NULL AND return_type <> 'ANY' THEN pg_column_type_oid(return_type) END AS "
    "pg_type_oid FROM duckdb_functions() WHERE database_name IN ('system', current_database()) "
    "AND function_type IN ('scalar', 'aggregate', 'macro', 'table', 'table_macro'))",
    *(_empty_view(name, columns) for name, columns in _EMPTY_CATALOGS.items()),
    # DuckDB's one tablespace (psql's \\db), its privileges and options typed as the lists psql reads; its files
    # are the database's (Location empty, as PostgreSQL's default tablespace says), its size unknown, never guessed.
    "CREATE OR REPLACE TEMP VIEW pg_tablespace AS SELECT oid::BIGINT AS oid, spcname, spcowner::BIGINT AS spcowner, "
    "NULL::VARCHAR[] AS spcacl, NULL::VARCHAR[] AS spcoptions FROM pg_catalog.pg_tablespace",
    "CREATE OR REPLACE TEMP MACRO pg_tablespace_location(pg_tablespace_arg) AS ''",
    "CREATE OR REPLACE TEMP MACRO pg_tablespace_size(pg_tablespace_arg) AS NULL::BIGINT",
    # The languages pg_proc.prolang names (psql's \\df+): no procedural language (lanplcallfoid 0), so \\dL lists
    # none, as DuckDB has none; \\dLS lists these two.
    "CREATE OR REPLACE TEMP VIEW pg_language AS SELECT * FROM (VALUES (12::BIGINT, 'internal', false), "
    "(14::BIGINT, 'sql', true)) l(oid, lanname, lanpltrusted), (SELECT NULL::BIGINT AS tableoid, 0::BIGINT AS "
    "lanowner, false AS lanispl, 0::BIGINT AS lanplcallfoid, 0::BIGINT AS laninline, 0::BIGINT AS lanvalidator, "
    "NULL::VARCHAR[] AS lanacl)",
    "CREATE OR REPLACE TEMP MACRO pg_get_function_sqlbody(pg_proc_oid_arg) AS NULL::VARCHAR",
    # psql's \\sv: a view's options, minus its check option (DuckDB's views have neither)
    "CREATE OR REPLACE TEMP MACRO array_remove(pg_array_arg, pg_value_arg) AS "
    "list_filter(pg_array_arg, lambda x: x IS DISTINCT FROM pg_value_arg)",
    # options ("name=value") as rows (\\des+, \\dew+, \\det+, \\deu+), and PostgreSQL's quote functions
    "CREATE OR REPLACE TEMP MACRO pg_options_to_table(pg_options_arg) AS TABLE SELECT split_part(o, '=', 1) AS "
    "option_name, substr(o, strpos(o, '=') + 1) AS option_value FROM (SELECT unnest(pg_options_arg) AS o)",
    "CREATE OR REPLACE TEMP MACRO quote_ident(pg_quote_arg) AS pg_format_value('I', pg_quote_arg)",
    "CREATE OR REPLACE TEMP MACRO quote_literal(pg_quote_arg) AS "
    "CASE WHEN pg_quote_arg IS NOT NULL THEN pg_format_value('L', pg_quote_arg::VARCHAR) END",
    # no extended statistics (\\dX; pg_statistic_ext above), partitions (\\dP+) or collations (\\dO): the
    # encoding is UTF-8, as pg_encoding_to_char says
    "CREATE OR REPLACE TEMP MACRO pg_statistics_obj_is_visible(pg_stat_oid_arg) AS true",
    "CREATE OR REPLACE TEMP MACRO pg_partition_tree(pg_rel_arg) AS TABLE SELECT NULL::BIGINT AS relid, "
    "NULL::BIGINT AS parentrelid, NULL::BOOLEAN AS isleaf, NULL::INTEGER AS level WHERE false",
    "CREATE OR REPLACE TEMP MACRO getdatabaseencoding() AS 'UTF8'",
    # PostgreSQL's keywords function (PgJDBC's getSQLKeywords, DBeaver on connect): DuckDB's keywords, whose
    # categories are PostgreSQL's grammar's (catcode U, C, T, R); a word DuckDB lists in two (struct, map: column
    # name and type/function name) once, in the more reserved. DuckDB does not say which can be a column label
    # without AS (barelabel NULL).
    "CREATE OR REPLACE TEMP MACRO pg_get_keywords() AS TABLE SELECT word, ['U', 'C', 'T', 'R'][r] AS catcode, "
    "NULL::BOOLEAN AS barelabel, ['unreserved', 'unreserved (cannot be function or type name)', "
    "'reserved (can be function or type name)', 'reserved'][r] AS catdesc, NULL::VARCHAR AS baredesc "
    "FROM (SELECT keyword_name AS word, max(list_position(['unreserved', 'column_name', 'type_function', "
    "'reserved'], keyword_category)) AS r FROM duckdb_keywords() GROUP BY keyword_name) ORDER BY word",
    # DuckDB's own takes a BIGINT; psql's \\dP+ passes it a sum (a HUGEINT in DuckDB)
    "CREATE OR REPLACE TEMP MACRO pg_size_pretty(pg_size_arg) AS format_bytes(pg_size_arg::BIGINT)",
    "CREATE OR REPLACE TEMP MACRO pg_char_to_encoding(pg_encoding_name_arg) AS "
    "CASE WHEN upper(pg_encoding_name_arg) IN ('UTF8', 'UTF-8') THEN 6 ELSE -1 END",
    "CREATE OR REPLACE TEMP MACRO json_build_object"
    + ", ".join("(" + ", ".join(f"pg_json_arg{i}" for i in range(n)) + ") AS json_object("
                + ", ".join(f"pg_json_arg{i}" + ("::VARCHAR" if i % 2 == 0 else "") for i in range(n)) + ")"
                for n in range(2, 17, 2)),
    # psql's \\dx+ NAME (after quote_ident, which it calls): what a loaded extension added, as DuckDB records it
    # (duckdb_functions() and duckdb_types() name the extension; nothing else does). DuckDB gives all the overloads
    # of a function name one oid (pg_proc's), so a row's own description (pg_objdesc: "function json_extract(JSON,
    # VARCHAR)", DuckDB's type names as \\df prints them) is what pg_describe_object(classid, objid, 0) reads for
    # it (pgcatalogsql._DESCRIBE_RE).
    "CREATE OR REPLACE TEMP VIEW pg_depend AS SELECT classid, objid, 0 AS objsubid, pg_regclass("
    "'pg_catalog.pg_extension') AS refclassid, e.oid AS refobjid, 0 AS refobjsubid, 'e' AS deptype, pg_objdesc "
    "FROM pg_extension_rows() e JOIN (SELECT pg_regclass('pg_catalog.pg_proc') AS classid, function_oid::BIGINT "
    "AS objid, extension_name, CASE WHEN regexp_full_match(function_name, '[^\\w]+') THEN 'operator ' || "
    "function_name ELSE 'function ' || quote_ident(function_name) END || '(' || array_to_string(list_transform("
    "parameter_types, lambda t, i: coalesce(t, parameters[i])) || CASE WHEN varargs IS NULL THEN [] ELSE "
    "['VARIADIC ' || varargs] END, ',') || ')' AS pg_objdesc FROM duckdb_functions() WHERE extension_name IS NOT "
    "NULL UNION ALL SELECT pg_regclass('pg_catalog.pg_type'), type_oid, extension_name, 'type ' || type_name "
    "FROM duckdb_types() WHERE extension_name IS NOT NULL) o ON o.extension_name = e.extname",
    # An object's description by its catalogue and oid: an extension's, or one an extension added when its oid
    # names one object (a function name with overloads names several: NULL, as for an oid that names none).
    "CREATE OR REPLACE TEMP MACRO pg_describe_object(pg_class_arg, pg_obj_arg, pg_sub_arg) AS CASE WHEN "
    "pg_class_arg = pg_regclass('pg_catalog.pg_extension') THEN (SELECT 'extension ' || extname FROM "
    "pg_extension_rows() WHERE oid = pg_obj_arg) ELSE (SELECT CASE WHEN count(DISTINCT pg_objdesc) = 1 THEN "
    "min(pg_objdesc) END FROM pg_depend WHERE classid = pg_class_arg AND objid = pg_obj_arg) END, "
    "(pg_class_arg, pg_obj_arg, pg_sub_arg, pg_objdesc_arg) AS pg_objdesc_arg",
)

# Session helpers for catalogue queries drivers send; temporary macros and views live in memory, never in the
# file. DISCARD keeps them. pgcatalogsql's rewrites drop the pg_catalog schema clients call them by (SESSION_FUNCTIONS,
# SESSION_VIEWS: each must be one of SESSION_OBJECTS, checked below).
SESSION_SQL = (
    BACKEND_PID_SQL,
    # The server's sessions (pgbackend.register_sessions): Superset's Stop button runs SELECT pg_terminate_backend(pid)
    # FROM pg_stat_activity WHERE pid = '...'; pgAdmin and DBeaver list sessions from it. usename is the one role
    # (pg_roles), whatever user name a client gave, as current_user says.
    "CREATE OR REPLACE TEMP VIEW pg_stat_activity AS SELECT (SELECT database_oid FROM duckdb_databases() WHERE "
    "database_name = current_database()) AS datid, current_database() AS datname, a.pid, 0::BIGINT AS usesysid, "
    "current_user AS usename, a.application_name, a.client_addr, a.client_port, a.backend_start, a.xact_start, "
    "a.query_start, a.state_change, NULL::VARCHAR AS wait_event_type, NULL::VARCHAR AS wait_event, a.state, "
    "a.query, 'client backend' AS backend_type FROM (SELECT unnest(pg_stat_activity_rows()) AS a)",
    "CREATE OR REPLACE TEMP MACRO pg_get_userbyid(pg_role_oid_arg) AS 'duckdb'",
    # psql's \l: DuckDB stores text as UTF-8 (the server's server_encoding); its pg_database has no encoding,
    # owner, locale or tablespace columns, so this view adds them with what the server answers to SHOW. The served
    # database is the one a client can connect to: DuckDB's own system and temp databases (psql's \l and DBeaver's
    # "Show all databases" listed them, DBeaver each as a copy of the served file, whatever name a client asks
    # for), and an --attach file, which is a schema of it (_ATTACHED_SCHEMAS), are not listed
    "CREATE OR REPLACE TEMP MACRO pg_encoding_to_char(pg_encoding_arg) AS 'UTF8'",
    "CREATE OR REPLACE TEMP VIEW pg_database AS SELECT d.*, 0 AS datdba, 6 AS encoding, 'c' AS datlocprovider, "
    "'C' AS datcollate, 'C' AS datctype, NULL::VARCHAR AS daticulocale, NULL::VARCHAR AS daticurules, "
    "0 AS dattablespace, NULL::VARCHAR[] AS datacl FROM pg_catalog.pg_database d "
    "WHERE d.datname = current_database()",
    # Sizes: a database's is its file's (DuckDB's pragma_database_size); DuckDB keeps no size per table or
    # index, so those are NULL (psql's \dt+ shows an empty Size), never a guess.
    "CREATE OR REPLACE TEMP MACRO pg_database_size(pg_database_arg) AS "
    "(SELECT total_blocks * block_size FROM pragma_database_size() WHERE database_name = pg_database_arg::VARCHAR)",
    *(f"CREATE OR REPLACE TEMP MACRO {name}(pg_relation_arg) AS CAST(NULL AS BIGINT)"
      for name in ("pg_table_size", "pg_total_relation_size", "pg_indexes_size")),
    "CREATE OR REPLACE TEMP MACRO pg_relation_size(pg_relation_arg, pg_fork_arg := 'main') AS CAST(NULL AS BIGINT)",
    # DBeaver's table and index lists (its navigator, for PostgreSQL 10+): DuckDB has no partitioned tables (a
    # partition key is NULL, as PostgreSQL's of any other table) and keeps no count of index scans (NULL, not 0)
    "CREATE OR REPLACE TEMP MACRO pg_get_partkeydef(pg_relation_arg) AS CAST(NULL AS VARCHAR)",
    "CREATE OR REPLACE TEMP MACRO pg_stat_get_numscans(pg_relation_arg) AS CAST(NULL AS BIGINT)",
    # psql's \df, from a pg_proc row's own columns (pgcatalogsql._PROC_FN_RE): argument types, or a macro's parameter
    # names (it has no types), then VARIADIC and the type of the rest.
    "CREATE OR REPLACE TEMP MACRO pg_get_function_arguments(pg_proc_types_arg, pg_proc_names_arg, "
    "pg_proc_variadic_arg) AS array_to_string(list_transform(pg_proc_names_arg, lambda x, i: "
    "coalesce(pg_proc_types_arg[i], x)) || CASE WHEN coalesce(pg_proc_variadic_arg, '') = '' THEN [] "
    "ELSE ['VARIADIC ' || pg_proc_variadic_arg] END, ', ')",
    "CREATE OR REPLACE TEMP MACRO pg_get_function_result(pg_proc_rettype_arg) AS pg_proc_rettype_arg",
    # PostgreSQL's functions BI tools call that DuckDB lacks. initcap: each word (a run of letters and digits) with its
    # first letter in upper case, the rest in lower case, as PostgreSQL's
    "CREATE OR REPLACE TEMP MACRO initcap(pg_text_arg) AS array_to_string(list_transform(regexp_extract_all("
    "pg_text_arg::VARCHAR, '[[:alnum:]]+|[^[:alnum:]]+'), lambda w: upper(w[1]) || lower(w[2:])), '')",
    # j #>> path and j #> path (pgjsonpath, Metabase's unfolded JSON fields): the path, a list of keys and array
    # indexes, as a JSON pointer ('/n/inner', ~ and / escaped); an empty path is the whole value, as PostgreSQL's
    "CREATE OR REPLACE TEMP MACRO pg_json_path_text(pg_json_arg, pg_path_arg) AS json_extract_string("
    "pg_json_arg::JSON, CASE WHEN len(pg_path_arg::VARCHAR[]) = 0 THEN '$' ELSE '/' || array_to_string(list_transform("
    "pg_path_arg::VARCHAR[], lambda k: replace(replace(k, '~', '~0'), '/', '~1')), '/') END)",
    "CREATE OR REPLACE TEMP MACRO pg_json_path(pg_json_arg, pg_path_arg) AS json_extract("
    "pg_json_arg::JSON, CASE WHEN len(pg_path_arg::VARCHAR[]) = 0 THEN '$' ELSE '/' || array_to_string(list_transform("
    "pg_path_arg::VARCHAR[], lambda k: replace(replace(k, '~', '~0'), '/', '~1')), '/') END)",
    # a # b, PostgreSQL's bitwise XOR (pgxor): DuckDB's xor, each side in a coalesce with the other, so DuckDB's binder
    # types a parameter by the other side (merchant_id # $1: an integer, as PostgreSQL infers it; asyncpg and pgx
    # encode by it; a bare $1 IS NULL left it unknown); NULL of either side is NULL (its comparison is), as in PostgreSQL
    "CREATE OR REPLACE TEMP MACRO pg_xor(pg_xor_left, pg_xor_right) AS CASE WHEN coalesce(pg_xor_left, pg_xor_right) = "
    "pg_xor_left AND coalesce(pg_xor_right, pg_xor_left) = pg_xor_right THEN xor(coalesce(pg_xor_left, pg_xor_right), "
    "coalesce(pg_xor_right, pg_xor_left)) END",
    # PostgreSQL's json inspection: json_typeof's names ('number' for any of DuckDB's numbers), the keys a row each
    "CREATE OR REPLACE TEMP MACRO json_typeof(pg_json_arg) AS CASE json_type(pg_json_arg::JSON) WHEN 'OBJECT' THEN "
    "'object' WHEN 'ARRAY' THEN 'array' WHEN 'VARCHAR' THEN 'string' WHEN 'BOOLEAN' THEN 'boolean' WHEN 'NULL' THEN "
    "'null' ELSE CASE WHEN pg_json_arg IS NOT NULL THEN 'number' END END",  # (a SQL NULL: NULL, as PostgreSQL's)
    "CREATE OR REPLACE TEMP MACRO jsonb_typeof(pg_json_arg) AS json_typeof(pg_json_arg)",
    "CREATE OR REPLACE TEMP MACRO jsonb_array_length(pg_json_arg) AS CAST(json_array_length(pg_json_arg::JSON) AS INTEGER)",  # (int4)
    "CREATE OR REPLACE TEMP MACRO json_object_keys(pg_json_arg) AS unnest(json_keys(pg_json_arg::JSON))",
    "CREATE OR REPLACE TEMP MACRO jsonb_object_keys(pg_json_arg) AS unnest(json_keys(pg_json_arg::JSON))",
    # a server that serves one database file is never a standby (Grafana's and pgAdmin's health checks ask)
    "CREATE OR REPLACE TEMP MACRO pg_is_in_recovery() AS false",
    # date_bin(stride, source, origin), PostgreSQL 14's time buckets (dashboards' 15-minute grains): DuckDB's
    # time_bucket with an origin is the same; the stride may be text, as PostgreSQL casts an untyped literal
    "CREATE OR REPLACE TEMP MACRO date_bin(pg_stride_arg, pg_source_arg, pg_origin_arg) AS "
    "time_bucket(CAST(pg_stride_arg AS INTERVAL), pg_source_arg, pg_origin_arg)",
    # to_char / to_date of a literal format are rewritten (pgformat); what reaches these has another format
    "CREATE OR REPLACE TEMP MACRO to_char(pg_value_arg, pg_format_arg) AS error('to_char(value, format) is served "
    "for a literal format of PostgreSQL''s common patterns (YYYY, YY, MM, Mon, Month, DD, D, DDD, Day, Dy, HH24, HH12, "
    "MI, SS, SSSS, MS, US, AM, Q, IW, WW, CC, J, RM, TH, TZ, text in double quotes, FM; numbers: 9, 0, comma, point, FM), not '''"
    " || coalesce(pg_format_arg::VARCHAR, 'NULL') || ''': write the format in the query, or use DuckDB''s strftime(value, "
    "''%Y-%m-%d'') / format(''{:,.2f}'', value)')",
    "CREATE OR REPLACE TEMP MACRO to_date(pg_text_arg, pg_format_arg) AS error('to_date(text, format) is served for a "
    "literal format of PostgreSQL''s common patterns (YYYY, YY, MM, Mon, Month, DD, DDD, HH24, MI, SS), not '''"
    " || coalesce(pg_format_arg::VARCHAR, 'NULL') || ''': write the format in the query, or use DuckDB''s "
    "strptime(text, ''%Y-%m-%d'')::DATE')",
    *_CATALOG_SQL,
    *FUNCTION_SQL,  # PostgreSQL's functions DuckDB lacks or answers otherwise (pgfunctions)
    # oid::regclass::text (pgcatalogsql's rewrites): the relation's name as PostgreSQL's regclass prints it, schema-qualified
    # when not visible on the search path, quoted where needed; an oid that is no relation's, the number. After
    # _CATALOG_SQL: DuckDB binds its subquery's pg_format_value, pg_class and pg_namespace as it creates it.
    "CREATE OR REPLACE TEMP MACRO pg_regclass_name(pg_rel_oid_arg) AS coalesce((SELECT CASE WHEN "
    "pg_table_is_visible(pg_rc.oid) THEN pg_format_value('I', pg_rc.relname) ELSE pg_format_value('I', pg_rn.nspname) || '.' || "
    "pg_format_value('I', pg_rc.relname) END FROM pg_class pg_rc JOIN pg_namespace pg_rn ON pg_rn.oid = pg_rc.relnamespace "
    "WHERE pg_rc.oid = pg_rel_oid_arg LIMIT 1), pg_rel_oid_arg::VARCHAR)",
    *REGTYPE_SQL,  # x::regtype, to_regtype and the name regtype prints (pgregtype); after format_type
)



def session_sql(extensions: list[tuple[str, str | None, str | None]] | None,
                read_write: bool = False) -> tuple[str, ...]:
    """SESSION_SQL with pg_extension_rows() listing ``extensions`` (see extensions_sql) and the role's description
    and privileges as the server opened the database, ``read_write`` or not (role_sql)."""
    filled = {_EXTENSION_ROWS: extensions_sql(extensions), **dict(zip(_ROLE_SQL, role_sql(read_write), strict=True))}
    return tuple(filled.get(q, q) for q in SESSION_SQL)


# Every object SESSION_SQL creates, name -> "MACRO", "MACRO TABLE" or "VIEW", as DISCARD tells them apart (it keeps
# them; catalog_objects looks for them).
SESSION_OBJECTS = {m.group(2): m.group(1) + (" TABLE" if re.search(r"\) AS TABLE ", q) else "")
                   for q in SESSION_SQL if (m := re.match(r"CREATE OR REPLACE TEMP (MACRO|VIEW) (\w+)", q))}
if len(SESSION_OBJECTS) != len(SESSION_SQL):  # a statement of another shape would escape DISCARD's and catalog_objects' lists
    raise RuntimeError("each SESSION_SQL statement must be CREATE OR REPLACE TEMP MACRO|VIEW name")
if not set(SESSION_FUNCTIONS) | set(SESSION_VIEWS) <= set(SESSION_OBJECTS):  # a rewrite to a name nobody creates
    raise RuntimeError(f"not in SESSION_SQL: {set(SESSION_FUNCTIONS) | set(SESSION_VIEWS) - set(SESSION_OBJECTS)}")
_SESSION_OBJECT_NAMES = "SELECT unnest([" + ", ".join(f"'{name}'" for name in sorted(SESSION_OBJECTS)) + "])"
_UNMARKED = SESSION_SQL  # (the list of every name the mark stands for is no object's dependency)
SESSION_SQL = tuple(q.replace(_SESSION_OBJECTS_MARK, _SESSION_OBJECT_NAMES) for q in SESSION_SQL)
# A word of the (rewritten) statement that is one of those names, quoted or not, in any case (DuckDB binds
# identifiers case-insensitively). Inside string literals too: DuckDB's query('...') and pg_regclass('pg_class')
# reach objects by a name in a string; a needless match only costs creating the catalogue a little early. (A set of
# the statement's words: a regular expression of the ~110 names took 7 times as long, on every statement.)
_NAMES = frozenset(name.lower() for name in SESSION_OBJECTS)
_WORD_RE = re.compile(r"[\w$]+")




def _named(sql: str) -> frozenset[str]:
    """The names of SESSION_OBJECTS (lower case) that ``sql`` names (module doc of _NAMES)."""
    return _NAMES.intersection(_WORD_RE.findall(sql.lower()))


def _closures() -> dict[str, frozenset[str]]:
    """Each object's name (lower case) -> it and every object its statement reaches, directly or through others.
    Why: DuckDB binds a view (and a macro's subquery) as it is created, and a call of a macro binds what its body
    names, so an object is created after all it names; one the statement names that does not exist would be
    DuckDB's own pg_catalog object of that name, answering in DuckDB's terms."""
    direct: dict[str, set[str]] = {}
    variants = (_UNMARKED, session_sql(None, False), session_sql(None, True))  # (the role's macros as each server's)
    for texts in variants:
        for name, q in zip(SESSION_OBJECTS, texts, strict=True):
            direct.setdefault(name.lower(), set()).update(_named(q.replace(_SESSION_OBJECT_NAMES, "")))
    out: dict[str, frozenset[str]] = {}
    for name in direct:
        seen, todo = {name}, [name]
        while todo:
            for n in direct[todo.pop()] - seen:
                seen.add(n)
                todo.append(n)
        out[name] = frozenset(seen)
    return out


_CLOSURES = _closures()


def catalog_objects(sql: str) -> frozenset[str]:
    """The objects of SESSION_SQL (names in lower case) that ``sql``, after pgcatalogsql's rewrites, can reach, and all
    those reach: what a session creates before running it (pgobjects.catalog), rather than all ~170 (psql's \\d
    needs about a tenth of them, each new session's first \\d paid for all). A statement that names none binds the
    same with or without them (only listings of temporary objects, such as duckdb_views(), differ)."""
    return frozenset().union(*(_CLOSURES[n] for n in _named(sql)))
