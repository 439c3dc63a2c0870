"""The catalogue rewrites of a client's SQL (``catalog_rewrites``), outside string literals and comments only: the
pg_catalog and information_schema names the session's views and macros answer (pgcatalog), ``X::regclass``,
``::regtype`` and regproc as the session's macros, PostgreSQL's format(), current_setting() of the session's
settings, the int2vector columns of pg_index; with pgsyntax's rewrites of PostgreSQL syntax DuckDB reads otherwise.

Like the other ``pg*`` helpers, this module never imports ``server`` and speaks no wire protocol.
"""

from __future__ import annotations

import re

import duckdb

from .pgcommands import (
    _CUSTOM_NAME,
    APPLICATION_NAME_SQL,
    CUSTOM_SETTINGS_VARIABLE,
    MAX_CONNECTIONS_SQL,
    PG_SHOW,
    TIME_ZONE_SQL,
)
from .pgknobs import KNOBS
from .pgsql import (
    _SCALAR_IN_FROM,
    _cast_chain_start,
    _ident,
    _matching_close,
    _matching_open,
    _operand_start,
    _protected_spans,
    _words,
    in_from,
)
from .pgsyntax import array_literals, cast_types, like_escapes, multi_unnest
from .sqltext import quote_literal
from .sqltext import words_if as _words_if

# PostgreSQL functions and catalogue views DuckDB lacks, which the server's session macros and temporary views
# (pgcatalog.SESSION_SQL) answer under the same names: psql calls them as pg_catalog.NAME, which DuckDB cannot bind
# (a temporary object has no pg_catalog schema), so that schema goes (catalog_rewrites).
SESSION_FUNCTIONS = ("to_regtype", "to_regclass", "pg_get_userbyid", "pg_encoding_to_char", "pg_database_size", "pg_table_size",
                     "pg_relation_size", "pg_total_relation_size", "pg_indexes_size", "format_type",
                     "pg_table_is_visible", "pg_get_indexdef", "pg_get_serial_sequence", "json_build_object",
                     "pg_get_viewdef", "pg_get_expr", "pg_get_statisticsobjdef_columns",
                     "pg_relation_is_publishable", "array_upper", "array_lower", "parse_ident",
                     "col_description", "obj_description", "pg_regproc", "pg_regproc_oid",
                     "pg_int2vector_at", "pg_int2vector_key", "pg_int2vector_out",
                     "pg_tablespace_location", "pg_tablespace_size", "pg_get_function_sqlbody", "array_remove",
                     "pg_options_to_table", "quote_ident", "quote_literal", "pg_statistics_obj_is_visible",
                     "pg_partition_tree", "getdatabaseencoding", "pg_char_to_encoding", "pg_size_pretty",
                     "pg_get_keywords", "shobj_description", "pg_describe_object", "pg_backend_pid",
                     "pg_get_partkeydef", "pg_stat_get_numscans", "initcap", "pg_is_in_recovery", "to_char",
                     "to_date", "has_table_privilege", "has_any_column_privilege", "has_column_privilege",
                     "has_schema_privilege", "has_database_privilege")
SESSION_VIEWS = ("pg_database", "pg_type", "pg_attribute", "pg_description", "pg_constraint", "pg_index",
                 "pg_collation", "pg_opclass", "pg_inherits", "pg_class", "pg_policy", "pg_roles", "pg_user",
                 "pg_shadow", "pg_authid", "pg_statistic_ext",
                 "pg_publication", "pg_publication_namespace", "pg_publication_rel", "pg_settings",
                 "pg_namespace", "pg_proc", "pg_stat_user_tables", "pg_range", "pg_tablespace", "pg_language",
                 "pg_extension", "pg_depend", "pg_stat_activity", "pg_tables", "pg_views",
                 # empty: things DuckDB does not have (pgcatalog._EMPTY_CATALOGS)
                 "pg_default_acl", "pg_event_trigger", "pg_conversion", "pg_db_role_setting", "pg_subscription",
                 "pg_largeobject_metadata", "pg_rewrite", "pg_trigger", "pg_ts_config", "pg_ts_parser",
                 "pg_ts_dict", "pg_ts_template", "pg_opfamily", "pg_amop", "pg_amproc", "pg_foreign_data_wrapper",
                 "pg_foreign_server", "pg_foreign_table", "pg_user_mappings", "pg_auth_members", "pg_group",
                 "pg_matviews")
# DuckDB's own functions psql calls as pg_catalog.NAME, which DuckDB binds only without the schema.
BUILTIN_FUNCTIONS = ("array_to_string", "generate_series", "string_agg", "unnest",
                     # and the server's own (pgbackend.Backend), in DuckDB's system database as the anomaly functions
                     "pg_cancel_backend", "pg_terminate_backend")
# Catalogue syntax DuckDB lacks, dropped outside string literals and comments (catalog_rewrites): ::regnamespace (and
# a ::regtype whose operand _regclass could not delimit) and COLLATE pg_catalog.default; OPERATOR(pg_catalog.~)
# (psql's name patterns: \d NAME, \df PATTERN) as the bare operator, which DuckDB has with PostgreSQL's meaning. The
# schema of qualified names goes by _catalog_names.
_REGTYPE_RE = re.compile(r"::\s*(?:pg_catalog\s*\.\s*)?reg(?:type|namespace)\b|\bCOLLATE\s+pg_catalog\s*\.\s*\"?default\"?",
                         re.I)
# Qualified catalogue names, quoted or not ("pg_catalog"."pg_class", as Metabase sends them), that the session's
# objects answer (pgcatalog.SESSION_SQL): temporary objects have no pg_catalog schema, so it goes. Also ::pg_catalog.text
# and ::pg_catalog.oid (psql's \d NAME): DuckDB binds its types without the schema. (schema, name, called) -> the
# name to write instead; None: keep the name as written, only drop the schema.
_SCHEMA_NAMES: dict[tuple[str, str, bool], str | None] = {
    **{("pg_catalog", f, True): None for f in SESSION_FUNCTIONS + BUILTIN_FUNCTIONS},
    **{("pg_catalog", v, False): None for v in SESSION_VIEWS},
    ("information_schema", "_pg_expandarray", True): None,  # JDBC's key and index lookups: a session macro
    # DuckDB's own has DuckDB's type names and no udt_name (Metabase's field sync reads it): a session view, under
    # another name, since a temporary view "columns" would hide a user's table of that name
    ("information_schema", "columns", False): "pg_information_schema_columns",
    # an attached file's tables under their alias, as the catalogue lists them (pgcatalog._ATTACHED_SCHEMAS)
    ("information_schema", "tables", False): "pg_information_schema_tables",
    # DuckDB has none (pgcatalog's view)
    ("information_schema", "routines", False): "pg_information_schema_routines",
    # DuckDB's lists every database's schemas (pgcatalog's view)
    ("information_schema", "schemata", False): "pg_information_schema_schemata",
}
_OPERATOR_RE = re.compile(r"\bOPERATOR\s*\(\s*pg_catalog\s*\.\s*(!?~~?\*?|=|<>|<=?|>=?)\s*\)", re.I)
# pg_get_function_arguments / _result(p.oid) (psql's \df): DuckDB's pg_proc has a row per overload, all under one
# oid, so the oid cannot tell which overload a row is; the session macros read the row's own columns instead.
_PROC_FN_RE = re.compile(r"\b(?:pg_catalog\s*\.\s*)?pg_get_function_(arguments|result)\s*\(\s*([a-z_][a-z0-9_]*)\s*\.\s*oid\s*\)",
                         re.I)
_PROC_FN_ARGS = {"arguments": "{0}.pg_argtype_names, {0}.pg_argnames, {0}.provariadic",
                 "result": "{0}.pg_rettype_name"}
# pg_describe_object(classid, objid, 0 | objsubid) over pg_depend's rows (psql's \\dx+ NAME): the same shared oid,
# so the session macro reads the row's own description (pg_depend.pg_objdesc), from the same table (alias) as objid.
_DESCRIBE_RE = re.compile(r"\bpg_describe_object\s*\(\s*((?:[a-z_][a-z0-9_]*\s*\.\s*)?)classid\s*,\s*"
                          r"((?:[a-z_][a-z0-9_]*\s*\.\s*)?)objid\s*,\s*(0|(?:[a-z_][a-z0-9_]*\s*\.\s*)?objsubid)\s*\)",
                          re.I)


def _rewrite_bare(text: str) -> str:
    """The rewrites of SQL text outside string literals and comments (see catalog_rewrites)."""
    text = _REGTYPE_RE.sub("", text)
    text = _OPERATOR_RE.sub(lambda m: f" {m.group(1)} ", text)
    text = _DESCRIBE_RE.sub(lambda m: m.group(0) if re.sub(r"\s", "", m.group(1)) != re.sub(r"\s", "", m.group(2))
                            else f"{m.group(0)[:-1].rstrip()}, {m.group(2)}pg_objdesc)", text)
    return _PROC_FN_RE.sub(lambda m: f"pg_get_function_{m.group(1).lower()}("
                                     f"{_PROC_FN_ARGS[m.group(1).lower()].format(m.group(2))})", text)


def _catalog_names(sql: str) -> str:
    """``pg_catalog.NAME`` and ``information_schema.NAME``, quoted or not, as the session objects that answer them
    (_SCHEMA_NAMES); found by DuckDB's tokenizer, so strings and comments stay as written."""
    toks = _words_if(sql, "pg_catalog", "information_schema")
    if toks is None:
        return sql
    out, last = [], 0
    for i in range(len(toks) - 2):
        (a, schema, akind), (_, dot, _), (b, name, bkind) = toks[i], toks[i + 1], toks[i + 2]
        if dot != "." or akind not in ("identifier", "keyword") or bkind not in ("identifier", "keyword") \
                or i > 0 and toks[i - 1][1] == "." or a < last:  # db.schema.name is another database's
            continue
        schema, name = _ident(schema), _ident(name)
        called = i + 3 < len(toks) and toks[i + 3][1] == "("
        # X::pg_catalog.text, CAST(X AS pg_catalog.text) (psql's \\dT+, \\dd): no qualified name follows AS otherwise
        cast = i > 0 and (toks[i - 1][1] == "::" or toks[i - 1][1].lower() == "as")
        if cast and schema == "pg_catalog":
            out.append(sql[last:a])
            last = b
        elif (schema, name, called) in _SCHEMA_NAMES:
            instead = _SCHEMA_NAMES[(schema, name, called)]
            out.append(sql[last:a] + (instead or ""))
            last = b if instead is None else b + len(toks[i + 2][1])
    return "".join([*out, sql[last:]])


# format('%s', x) / format('%I.%I', s, t), PostgreSQL's (Metabase's field sync): DuckDB's format() takes {}
# placeholders and prints "%s" as it is. Rewritten to the session macro pg_format when the format string is a literal
# whose specifiers are all %s, %I or %L (one argument each, in order) and that has no { (DuckDB's placeholders:
# format('{} is %Low', x) is DuckDB's); any other call stays DuckDB's.
_PG_FORMAT_SPEC = re.compile(r"%(.)")


def _pg_format(sql: str) -> str:
    """``format('...%s...', ...)`` as ``pg_format(...)`` (see _PG_FORMAT_SPEC), by DuckDB's tokenizer."""
    toks = _words_if(sql, "format")
    if toks is None:
        return sql
    for i in range(len(toks) - 3, -1, -1):  # from the end, so earlier positions stay valid
        pos, word, kind = toks[i]
        if kind not in ("identifier", "keyword") or _ident(word) != "format" or toks[i + 1][1] != "(" \
                or toks[i + 2][2] != "string_const" or i > 0 and toks[i - 1][1] == "." \
                and not (i > 1 and _ident(toks[i - 2][1]) == "pg_catalog"):
            continue
        specs = _PG_FORMAT_SPEC.findall(toks[i + 2][1])
        if not specs or any(c not in "sIL" for c in specs) or "{" in toks[i + 2][1]:
            continue
        start = toks[i - 2][0] if i > 1 and toks[i - 1][1] == "." else pos
        sql = sql[:start] + "pg_format" + sql[pos + len(word):]
    return sql


# Object-identifier types DuckDB lacks -> the session macro that stands for a cast to one (pgcatalog._CATALOG_SQL,
# pgregtype). regprocedure and regoperator (psql's \\dL+, \\dAo, \\dAp) only on catalogues that are empty here: as
# regproc.
_REG_MACROS = {"regclass": "pg_regclass", "regproc": "pg_regproc", "regprocedure": "pg_regproc",
               "regoperator": "pg_regproc", "regtype": "pg_regtype"}
# The oid of a cast or call of these (a regclass or regtype, as PostgreSQL types them) -> the macro of the name
# PostgreSQL prints, where the value is cast to text (pgcolnames casts a select list's own to text)
_NAME_MACROS = {"pg_regclass": "pg_regclass_name", "pg_regtype": "pg_regtype_name", "to_regclass": "pg_regclass_name",
                "to_regtype": "pg_regtype_name"}


def _cast_to_text(toks: list[tuple[int, str, str]], i: int) -> bool:
    """Whether ``toks[i:]`` starts with a cast to text (``::text``, ``::varchar``, ``::name``, ``::pg_catalog.text``)."""
    if i + 1 >= len(toks) or toks[i][1] != "::":
        return False
    k = i + 3 if i + 3 < len(toks) and toks[i + 2][1] == "." and _ident(toks[i + 1][1]) == "pg_catalog" else i + 1
    return _ident(toks[k][1]) in ("text", "varchar", "name", "character")


def _printed_as_text(toks: list[tuple[int, str, str]], a: int, e: int) -> bool:
    """Whether the regclass cast of tokens ``a`` to ``e`` (exclusive) is then cast to text, as ``::text`` after it,
    after parentheses around it (``(oid::regclass)::text``), or as ``CAST(... AS text)`` around it."""
    while (e < len(toks) and toks[e][1] == ")" and a >= 1 and toks[a - 1][1] == "(" and _matching_open(toks, e) == a - 1
           and not (a >= 2 and (toks[a - 2][2] == "identifier" or toks[a - 2][1].lower() == "cast"))):
        a, e = a - 1, e + 1  # parentheses of their own, not a call's
    if _cast_to_text(toks, e):
        return True
    if e + 1 >= len(toks) or toks[e][1].lower() != "as" or a < 2 or toks[a - 1][1] != "(" \
            or toks[a - 2][1].lower() != "cast":
        return False
    k = e + 3 if e + 3 < len(toks) and toks[e + 2][1] == "." and _ident(toks[e + 1][1]) == "pg_catalog" else e + 1
    return _ident(toks[k][1]) in ("text", "varchar", "name", "character")


def _regclass_once(sql: str, skip: int) -> tuple[str, int] | None:
    """The first ``X::regclass`` or ``CAST(X AS REGCLASS)`` at or after token ``skip`` as ``pg_regclass(X)`` (a
    session macro: DuckDB has no regclass type; ``regproc`` likewise, as ``pg_regproc(X)``), and where to look
    next; None when there is none left."""
    toks = _words(sql)
    for r in range(skip, len(toks)):
        if toks[r][2] not in ("identifier", "keyword") or _ident(toks[r][1]) not in _REG_MACROS:
            continue
        macro = _REG_MACROS[_ident(toks[r][1])]
        t = r - 2 if r >= 2 and toks[r - 1][1] == "." and _ident(toks[r - 2][1]) == "pg_catalog" else r
        end = toks[r][0] + len(toks[r][1])
        if t >= 2 and toks[t - 1][1] == "::":
            a = _cast_chain_start(toks, t - 2)
            if a is not None:
                start = toks[a][0]
                operand = sql[start:toks[t - 1][0]].rstrip()
                call = f"{macro}({operand})"
                if macro in _NAME_MACROS and _printed_as_text(toks, a, r + 1):
                    call = f"{_NAME_MACROS[macro]}({call})"  # oid::regclass::text: the relation's name, as printed
                return sql[:start] + call + sql[end:], a
        elif t >= 1 and toks[t - 1][1].lower() == "as" and r + 1 < len(toks) and toks[r + 1][1] == ")":
            o = _matching_open(toks, r + 1)
            if o is not None and o > 0 and toks[o - 1][1].lower() == "cast":
                inner = sql[toks[o][0] + 1:toks[t - 1][0]].strip()
                call = f"{macro}({inner})"
                if macro in _NAME_MACROS and _printed_as_text(toks, o - 1, r + 2):
                    call = f"{_NAME_MACROS[macro]}({call})"  # CAST(oid AS regclass)::text: the name, as above
                return sql[:toks[o - 1][0]] + call + sql[toks[r + 1][0] + 1:], o - 1
        return sql, r + 1
    return None


def _regclass(sql: str) -> str:
    """Every ``X::regclass`` / ``CAST(X AS REGCLASS)`` of ``sql`` as ``pg_regclass(X)`` (and regproc as
    ``pg_regproc(X)``, regtype as ``pg_regtype(X)``), innermost first; found by DuckDB's tokenizer, so a string or
    a comment that mentions regclass stays as written."""
    low = sql.lower()
    if "regclass" not in low and "regproc" not in low and "regoperator" not in low and "regtype" not in low:
        return sql
    skip = 0
    try:
        while (step := _regclass_once(sql, skip)) is not None:
            sql, skip = step
        return _reg_calls_as_text(sql)
    except duckdb.Error:
        return sql


def _reg_calls_as_text(sql: str) -> str:
    """``sql`` with each ``to_regclass(X)`` / ``to_regtype(X)`` that is cast to text (``::text``, ``CAST(... AS
    text)``) as the name PostgreSQL prints (``pg_regclass_name(to_regclass(X))``): the call's value is an oid, which
    joins and compares as one; its text is the relation's or the type's name."""
    toks = _words(sql)
    for i in range(len(toks) - 2, -1, -1):  # from the end: an edit keeps the positions of the calls before it
        word = toks[i][1]
        if toks[i][2] != "identifier" or _ident(word) not in ("to_regclass", "to_regtype") or toks[i + 1][1] != "(" \
                or i >= 1 and toks[i - 1][1] == ".":
            continue
        close = _matching_close(toks, i + 1)
        if close is not None and _printed_as_text(toks, i, close + 1):
            end = toks[close][0] + 1
            sql = f"{sql[:toks[i][0]]}{_NAME_MACROS[_ident(word)]}({sql[toks[i][0]:end]}){sql[end:]}"
    return sql


# The search path as PostgreSQL's clients read it: DuckDB's is empty until set (main, the current schema, is implicit),
# and its current_schemas(false) then an empty list, while current_schema() says main. Grafana's table list keeps
# tables of the search path unqualified, and tools list "the tables of the search path" by table_schema = ANY
# (current_schemas(false)): they found none. So an empty path reads as the current schema (SHOW search_path, too).
SEARCH_PATH_SQL = "coalesce(nullif(current_setting('search_path'), ''), current_schema())"
_SCHEMAS_SQL = "(CASE WHEN len(current_schemas(false)) = 0 THEN [current_schema()] ELSE current_schemas(false) END)"


def _custom_setting_sql(name: str, missing_ok: bool) -> str:
    """SQL: the session's value of custom setting ``name`` (CUSTOM_SETTINGS_VARIABLE); unset, NULL or PostgreSQL's
    error."""
    value = f"getvariable('{CUSTOM_SETTINGS_VARIABLE}')[{quote_literal(name)}]"
    if missing_ok:
        return f"({value})"
    refusal = quote_literal(f'unrecognized configuration parameter "{name}"')
    return f"coalesce({value}, error({refusal}))"


def knob_sql(name: str) -> str:
    """SQL: the session's value of pgknobs' setting ``name`` (CUSTOM_SETTINGS_VARIABLE), else PostgreSQL's default."""
    return f"coalesce(getvariable('{CUSTOM_SETTINGS_VARIABLE}')[{quote_literal(name)}], {quote_literal(PG_SHOW[name])})"


def _settings(sql: str) -> str:
    """``current_setting('default_table_access_method')`` (SQLAlchemy's table reflection compares access methods
    with it; DuckDB has no such setting) as PostgreSQL's default, ``'heap'``, which no relation here claims;
    ``current_setting('search_path')`` and ``current_schemas(true | false)`` as SEARCH_PATH_SQL says; the
    PostgreSQL-only settings of PG_SHOW (``server_version_num``, Grafana's) as their values; ``current_setting($n)``
    as the session macro ``pg_current_setting($n)``: DuckDB's takes constants only. And a scalar function called as a
    table in FROM (_SCALAR_IN_FROM) as the one-row table PostgreSQL makes of it."""
    toks = _words_if(sql, "current_setting", "current_schemas", *_SCALAR_IN_FROM)
    if toks is None:
        return sql
    out, last = [], 0
    for i, (pos, word, _) in enumerate(toks[:-3]):
        if pos < last or toks[i + 1][1] != "(":
            continue
        name = word.lower()
        if name == "current_schemas" and toks[i + 2][1].lower() in ("true", "false") and toks[i + 3][1] == ")":
            if i >= 2 and toks[i - 1][1] == "." and _ident(toks[i - 2][1]) == "pg_catalog":
                pos = toks[i - 2][0]
            schemas = _SCHEMAS_SQL if toks[i + 2][1].lower() == "false" else f"list_concat(['pg_catalog'], {_SCHEMAS_SQL})"
            out += [sql[last:pos], schemas]
            last = toks[i + 3][0] + 1
            continue
        if name in _SCALAR_IN_FROM and i >= 1 and toks[i - 1][1].lower() in (",", "from", "join") and in_from(toks, i):
            end = _matching_close(toks, i + 1)
            if end is None:
                continue
            after = end + 1
            if after < len(toks) and toks[after][1].lower() == "as":
                after += 1
            alias = toks[after][1] if after < len(toks) and toks[after][2] == "identifier" else None
            call = _settings(sql[pos:toks[end][0] + 1])  # its arguments rewritten too
            out += [sql[last:pos], f"(SELECT {call}) {alias}({alias})" if alias else f"(SELECT {call} AS {name})"]
            last = toks[after][0] + len(toks[after][1]) if alias else toks[end][0] + 1
            continue
        if name != "current_setting":
            continue
        if i >= 2 and toks[i - 1][1] == "." and _ident(toks[i - 2][1]) == "pg_catalog":
            pos = toks[i - 2][0]
        arg, close = toks[i + 2], toks[i + 3]
        setting = arg[1][1:-1].lower() if arg[2] == "string_const" and close[1] == ")" else None
        if setting == "default_table_access_method":
            out += [sql[last:pos], "'heap'"]
            last = close[0] + 1
        elif setting == "search_path":
            out += [sql[last:pos], SEARCH_PATH_SQL]
            last = close[0] + 1
        elif setting == "application_name":  # the session's (pgobjects.provide sets the variable)
            out += [sql[last:pos], APPLICATION_NAME_SQL]
            last = close[0] + 1
        elif setting == "timezone":  # as SHOW TimeZone says it (pgobjects.provide sets the variable)
            out += [sql[last:pos], TIME_ZONE_SQL]
            last = close[0] + 1
        elif setting == "max_connections":  # the server's (pgobjects.provide sets the variable)
            out += [sql[last:pos], MAX_CONNECTIONS_SQL]
            last = close[0] + 1
        elif setting is not None and re.fullmatch(_CUSTOM_NAME, setting) and close[1] == ")":
            out += [sql[last:pos], _custom_setting_sql(setting, missing_ok=False)]
            last = close[0] + 1
        elif setting is None and arg[2] == "string_const" and close[1] == "," and i + 5 < len(toks) \
                and toks[i + 5][1] == ")" and toks[i + 4][1].lower() in ("true", "false") \
                and re.fullmatch(_CUSTOM_NAME, name_ := arg[1][1:-1].lower()):
            # current_setting('a.b', missing_ok): NULL for an unset one when missing_ok
            out += [sql[last:pos], _custom_setting_sql(name_, missing_ok=toks[i + 4][1].lower() == "true")]
            last = toks[i + 5][0] + 1
        elif setting is None and arg[2] == "string_const" and close[1] == "," and i + 5 < len(toks) \
                and toks[i + 5][1] == ")" and toks[i + 4][1].lower() in ("true", "false"):
            # current_setting('work_mem', missing_ok) of any other name (DuckDB's takes one argument): as its
            # one-argument call, a name no setting has NULL when missing_ok (arg: the client's own string literal)
            one = f"current_setting({arg[1]})"
            if (plain := _settings(one)) == one and toks[i + 4][1].lower() == "true":
                plain = f"(SELECT value FROM duckdb_settings() WHERE lower(name) = lower({arg[1]}))"
            out += [sql[last:pos], plain]
            last = toks[i + 5][0] + 1
        elif setting in KNOBS:  # the session's SET work_mem, else PostgreSQL's default
            out += [sql[last:pos], knob_sql(setting)]
            last = close[0] + 1
        elif setting in PG_SHOW and " " not in setting:
            out += [sql[last:pos], "'" + PG_SHOW[setting].replace("'", "''") + "'"]
            last = close[0] + 1
        elif arg[1] == "$" and close[2] == "numeric_const":  # $n, $n::VARCHAR (SQLAlchemy with psycopg 3)
            end = _matching_close(toks, i + 1)
            if end is not None:
                out += [sql[last:pos], f"pg_current_setting({sql[arg[0]:toks[end][0]].strip()})"]
                last = toks[end][0] + 1
    return "".join([*out, sql[last:]])


def _int2vector_words(sql: str) -> list[tuple[int, str, str]] | None:
    """``_words(sql)`` for the int2vector rewrites: only a statement that reads pg_index has its columns (a user's
    table may have a column indkey, or an array column whose name ends so, which must stay as written)."""
    return _words_if(sql, "indoption", "indkey") if "pg_index" in sql.lower() else None


def _int2vector_subscripts(sql: str) -> str:
    """``X.indoption[n]`` and ``X.indkey[n]`` (JDBC's getIndexInfo reads an index key's sort flags as
    ``I_INDOPTION[n]``; psqlODBC's SQLPrimaryKeys a key's column as ``i.indkey[ia.attnum-1]``) as
    ``pg_int2vector_at(X.indoption, n)`` / ``pg_int2vector_key(X.indkey, n)``: both are PostgreSQL int2vectors,
    which subscript from 0. The session view keeps indoption as its text ("0 0", which SQLAlchemy splits) and
    indkey as a list (which clients unnest), so each has its own macro."""
    toks = _int2vector_words(sql)
    if toks is None:
        return sql
    for i in range(len(toks) - 1, -1, -1):  # from the end, so earlier positions stay valid
        pos, word, kind = toks[i]
        name = _ident(word)
        macro = "pg_int2vector_at" if name.endswith("indoption") else "pg_int2vector_key" \
            if name.endswith("indkey") else None
        if kind != "identifier" or macro is None or i + 1 >= len(toks) or toks[i + 1][1] != "[":
            continue
        depth, close = 0, None
        for j in range(i + 1, len(toks)):
            depth += {"[": 1, "]": -1}.get(toks[j][1], 0)
            if depth == 0:
                close = j
                break
        start = _operand_start(toks, i)
        if close is None or start is None:
            continue
        a = toks[start][0]
        sql = (sql[:a] + f"{macro}({sql[a:toks[i + 1][0]].rstrip()}, "
               f"{sql[toks[i + 1][0] + 1:toks[close][0]].strip()})" + sql[toks[close][0] + 1:])
    return sql


# pg_index's int2vector columns selected as they are (psqlODBC's SQLStatistics: "select c.relname, i.indkey, ...,
# i.indoption"): the driver reads them as int2vector text ("1 2"), by the column's type (OID 22), into an array of
# shorts; sent as json ("[1, 2]") they would be read as characters. Only items of the outermost select list that
# are the bare column; anywhere else (unnest(i.indkey), a subquery) the view's own type is what the query needs.
_INT2VECTOR_OUT = {"indkey": "pg_int2vector_out(array_to_string({0}, ' ')) AS indkey",
                   "indoption": "pg_int2vector_out({0}) AS indoption"}


def _int2vector_outputs(sql: str) -> str:
    """Outermost select-list items ``[X.]indkey`` / ``[X.]indoption`` as int2vector values (pgtypes: OID 22)."""
    toks = _int2vector_words(sql)
    if not toks or toks[0][1].lower() != "select":
        return sql
    items, start, depth = [], 1, 0
    for i in range(1, len(toks)):
        word = toks[i][1]
        depth += {"(": 1, ")": -1}.get(word, 0)
        if depth == 0 and (word == "," or word.lower() == "from"):
            items.append((start, i))
            start = i + 1
            if word.lower() == "from":
                break
    for a, b in reversed(items):  # from the end, so earlier positions stay valid
        item = [t[1] for t in toks[a:b]]
        if not item or _ident(item[-1]) not in _INT2VECTOR_OUT or toks[b - 1][2] != "identifier" or not (
                len(item) == 1 or len(item) == 3 and item[1] == "." and toks[a][2] == "identifier"):
            continue
        begin, end = toks[a][0], toks[b - 1][0] + len(toks[b - 1][1])
        sql = sql[:begin] + _INT2VECTOR_OUT[_ident(item[-1])].format(sql[begin:end]) + sql[end:]
    return sql


_REGPROC_COLUMNS = ("typinput", "typoutput", "typreceive", "typsend")


def _regproc_joins(sql: str) -> str:
    """``X.oid = T.typreceive`` (either way round; also typinput, typoutput, typsend) as ``X.oid =
    pg_regproc_oid(T.typreceive)``: PostgreSQL's regproc is an oid that prints as the function's name, and these
    columns here hold the name (what clients print and compare with 'array_in'::regproc), so DuckDB cast it to the
    oid's BIGINT and failed. Npgsql's type loading (Power BI) joins pg_proc so. Only in a statement that reads
    pg_type: a user's own table may have such a column, which the macro turned into a conversion error."""
    toks = _words_if(sql, *_REGPROC_COLUMNS)
    if toks is None or not any(k in ("identifier", "keyword") and _ident(w) == "pg_type" for _, w, k in toks):
        return sql

    def is_oid(k: int) -> bool:
        return 0 <= k < len(toks) and toks[k][2] in ("identifier", "keyword") and _ident(toks[k][1]) == "oid"

    for i in range(len(toks) - 1, -1, -1):  # from the end, so earlier positions stay valid
        if toks[i][2] != "identifier" or _ident(toks[i][1]) not in _REGPROC_COLUMNS:
            continue
        start = i - 2 if i >= 2 and toks[i - 1][1] == "." and toks[i - 2][2] == "identifier" else i
        after = i + 1 < len(toks) and toks[i + 1][1] == "=" and (
            is_oid(i + 2) and not (i + 3 < len(toks) and toks[i + 3][1] == ".")
            or i + 4 < len(toks) and toks[i + 3][1] == "." and is_oid(i + 4))
        before = start >= 2 and toks[start - 1][1] == "=" and is_oid(start - 2)
        if after or before:
            a, b = toks[start][0], toks[i][0] + len(toks[i][1])
            sql = sql[:a] + f"pg_regproc_oid({sql[a:b]})" + sql[b:]
    return sql


def catalog_rewrites(sql: str) -> str:
    """The catalogue rewrites (qualified catalogue names, _catalog_names; PostgreSQL's format(); ``X::regclass`` as
    ``pg_regclass(X)``; ``_REGTYPE_RE``, ``_OPERATOR_RE``, ``_PROC_FN_RE``), outside string literals and comments
    only: a literal that merely contains ``::regtype`` stays as written."""
    sql = array_literals(multi_unnest(like_escapes(_int2vector_outputs(_int2vector_subscripts(_settings(_regclass(
        cast_types(_pg_format(_regproc_joins(_catalog_names(sql)))))))))))
    out, last = [], 0
    for start, end in _protected_spans(sql):
        out += [_rewrite_bare(sql[last:start]), sql[start:end]]
        last = end
    out.append(_rewrite_bare(sql[last:]))
    return "".join(out)
