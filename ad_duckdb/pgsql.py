"""SQL text as PostgreSQL clients send it: recognising, splitting and rewriting statements for DuckDB.

What the server answers itself (SET of PostgreSQL-only settings, SHOW, savepoints, DISCARD, ...) is recognised
here by the regexes below; the answers are the server's. The rest works on DuckDB's tokenizer, so nothing inside
a string literal or a comment is ever touched: statement splitting, keyword tags for CommandComplete, the
catalogue rewrites (``::regtype``, ``'name'::regclass``) and the casts of parameters whose types the client
declared. No SQL text is filtered for security; that is DuckDB's job (see ``server``).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import duckdb

from .pgerrors import ProtocolError
from .pgknobs import KNOBS
from .pgtypes import ARRAY_OID_OF, MAX_IDENTIFIER_LENGTH, array_text
from .sqltext import quote_literal, sql_tokens, sql_words
from .sqltext import words_if as _words_if

# What clients see as the PostgreSQL version: libpq and SQLAlchemy parse "major.minor" from it.
PG_VERSION = "15.0"

# Answers to `SHOW name` and current_setting('name') for PostgreSQL settings DuckDB does not have (SQLAlchemy asks
# on connect; Grafana reads server_version_num).
PG_SHOW = {
    "standard_conforming_strings": "on", "transaction isolation level": "serializable",
    "transaction_isolation": "serializable", "default_transaction_isolation": "serializable", "server_version": PG_VERSION, "server_encoding": "UTF8",
    "client_encoding": "UTF8", "datestyle": "ISO, MDY", "intervalstyle": "postgres", "integer_datetimes": "on",
    "max_identifier_length": str(MAX_IDENTIFIER_LENGTH), "lc_collate": "C", "lc_ctype": "C",
    "extra_float_digits": "3", "is_superuser": "off", "jit": "off",
    "server_version_num": str(int(PG_VERSION.split(".")[0]) * 10000 + int(PG_VERSION.split(".")[1])),
    # PostgreSQL's defaults of settings tools show or probe (pgAdmin's and DBeaver's session panels, a driver's
    # check of what it SET, a user's SHOW work_mem), which failed as unrecognized: DuckDB's memory is its own
    # memory_limit, and the settings a SET takes as a no-op (pgsettings._PG_ONLY_SETTINGS) keep these values
    "work_mem": "4MB", "maintenance_work_mem": "64MB", "shared_buffers": "128MB", "effective_cache_size": "4GB",
    "temp_buffers": "8MB", "lc_messages": "C", "lc_monetary": "C", "lc_numeric": "C", "lc_time": "C",
    "client_min_messages": "notice", "lock_timeout": "0", "idle_in_transaction_session_timeout": "0",
    "idle_session_timeout": "0", "bytea_output": "hex", "ssl": "off", "row_security": "on", "xmloption": "content",
    "default_text_search_config": "pg_catalog.simple", "password_encryption": "scram-sha-256", "block_size": "8192",
    "check_function_bodies": "on", "default_tablespace": "", "array_nulls": "on", "backslash_quote": "safe_encoding",
    "escape_string_warning": "on", "synchronous_commit": "on", "max_locks_per_transaction": "64",
    "default_statistics_target": "100", "random_page_cost": "4", "seq_page_cost": "1",
}
# SHOW's column where PostgreSQL names it other than the setting as written
PG_SHOW_COLUMNS = {"transaction isolation level": "transaction_isolation", "time zone": "TimeZone"}
# Statements the server answers itself (pgsession.Session.compat), and a transaction's first words.
# (a name in double quotes is the same setting, as in PostgreSQL: Tableau sends show "lc_collate")
SHOW_RE = re.compile(r'^\s*show\s+(?P<q>"?)(?P<name>[a-z_ ]+?)(?P=q)\s*;?\s*$', re.I)
# SHOW ALL: PostgreSQL's row (name, setting, description) per setting, from the session's pg_settings; DuckDB's own
# SHOW ALL is SHOW ALL TABLES, which listed the session's catalogue views.
SHOW_ALL_RE = re.compile(r"^\s*show\s+all\s*;?\s*$", re.I)
SHOW_ALL_SQL = "SELECT name, setting, short_desc AS description FROM pg_settings ORDER BY lower(name)"
# The names pg_settings gives PG_SHOW's settings: PostgreSQL's own spelling, where it is not lower case.
PG_SETTING_NAMES = {"datestyle": "DateStyle", "intervalstyle": "IntervalStyle"}
SET_RE = re.compile(r"^\s*set\s+(session\s+characteristics|(?:session\s+|local\s+)?[a-z_]+)\b[^;]*;?\s*$", re.I)
TXN_WORD = re.compile(r"^\s*(begin|start|commit|end|rollback|abort|savepoint|release|prepare\s+transaction)\b", re.I)
# PostgreSQL's statements DuckDB cannot parse, which PostgreSQL parses before it refuses them in a failed transaction
# block (25P02, where DuckDB's parser said 42601); PREPARE TRANSACTION ends such a block as a ROLLBACK, as PostgreSQL's
PG_ONLY_RE = re.compile(r"^(listen|notify|lock|do|cluster|reindex|refresh|grant|revoke|reassign|security\s+label|"
                        r"(?:commit|rollback)\s+prepared)\b", re.I)
PREPARE_TRANSACTION_RE = re.compile(r"^prepare\s+transaction\b", re.I)
SET_LOCAL_RE = re.compile(r"^\s*set\s+local\s", re.I)
SET_WORD = re.compile(r"^\s*(?:set|reset|pragma)\b", re.I)  # what may be DuckDB's SET statement (set_command)
SET_SCOPE = re.compile(r"^(session|local) (?!characteristics)")
VERSION_RE = re.compile(r"^\s*select\s+(?:pg_catalog\s*\.\s*)?version\s*\(\s*\)\s*;?\s*$", re.I)
BEGIN_RE = re.compile(r"^\s*(begin|start\s+transaction)\b[^;]*;?\s*$", re.I)
SAVEPOINT_RE = re.compile(r"^\s*(savepoint|release|rollback\s+to)\b[^;]*;?\s*$", re.I)
DISCARD_RE = re.compile(r"^\s*discard\s+(all|plans|sequences|temp|temporary)\s*;?\s*$", re.I)
# What a pool sends to hand a connection back (asyncpg: SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
# RESET ALL): DuckDB has no advisory locks nor LISTEN, so there is nothing to release; RESET ALL resets the session
# settings the server keeps (pgsettings.reset_settings), RESET of a PostgreSQL-only setting is a no-op like its SET.
RESET_RE = re.compile(r"^\s*reset\s+(all|[a-z_]+)\s*;?\s*$", re.I)
# What asyncpg sends before it introspects a type: answered as PostgreSQL with jit off (DuckDB has no set_config),
# since an error, though asyncpg carries on after it, aborted the transaction block it ran in.
JIT_PROBE_RE = re.compile(r"^\s*select\s+current_setting\s*\(\s*'jit'\s*\)\s+as\s+cur\s*,\s*set_config\s*\(\s*'jit'\s*,"
                          r"\s*'off'\s*,\s*false\s*\)\s+as\s+new\s*;?\s*$", re.I)
# SELECT set_config(name, value, is_local), PostgreSQL's function form of SET (pgAdmin's and poolers' search_path, a
# tool's application_name): run as that SET, answered with the value. Arguments are literals or parameters ($n).
_SET_CONFIG_ARG = r"('(?:[^']|'')*'|\$\d+|true|false)"
SET_CONFIG_RE = re.compile(rf"^\s*select\s+(?:pg_catalog\s*\.\s*)?set_config\s*\(\s*(?P<name>{_SET_CONFIG_ARG})\s*,"
                           rf"\s*(?P<value>{_SET_CONFIG_ARG})\s*,\s*(?P<local>{_SET_CONFIG_ARG})\s*\)"
                           r'(?:\s+(?:as\s+)?(?P<alias>[a-z_]\w*|"(?:[^"]|"")+"))?\s*;?\s*$', re.I)
# A select list of several set_config calls (an API's or a BI tool's connection hook setting a request's context in
# one round trip): each call as SET_CONFIG_CALL_RE finds it, in order.
# a call's alias without AS is no word of an expression that goes on after the call (CASE's END, IS NULL, AND, ...):
# END taken for one made CASE WHEN c THEN set_config(...) END the broken 'q' AS "end"
_NO_ALIAS = (r"(?!(?:end|then|else|when|and|or|is|isnull|notnull|not|in|like|ilike|glob|similar|between|collate|escape|"
             r"over|filter|within|from|where|group|having|order|limit|offset|union|intersect|except|window|qualify|into)\b)")
_SET_CONFIG_CALL = (rf"(?:pg_catalog\s*\.\s*)?set_config\s*\(\s*{_SET_CONFIG_ARG}\s*,\s*{_SET_CONFIG_ARG}\s*,\s*"
                    rf"{_SET_CONFIG_ARG}\s*\)(?:\s+(?:as\s+|{_NO_ALIAS})(?:(?!set_config\b|pg_catalog\b)[a-z_]\w*|"
                    r'"(?:[^"]|"")+"))?')
SET_CONFIGS_RE = re.compile(rf"^\s*select\s+{_SET_CONFIG_CALL}(?:\s*,\s*{_SET_CONFIG_CALL})+\s*;?\s*$", re.I)
SET_CONFIG_CALL_RE = re.compile(
    rf"(?:pg_catalog\s*\.\s*)?set_config\s*\(\s*(?P<name>{_SET_CONFIG_ARG})\s*,\s*(?P<value>{_SET_CONFIG_ARG})\s*,"
    rf"\s*(?P<local>{_SET_CONFIG_ARG})\s*\)(?:\s+(?:as\s+|{_NO_ALIAS})(?P<alias>(?!set_config\b|pg_catalog\b)[a-z_]\w*|"
    r'"(?:[^"]|"")+"))?', re.I)


# What a SELECT of set_config calls among other items may not have (set_config_items): PostgreSQL runs the calls once
# per row, which only a statement without FROM has exactly one of
_NOT_ONE_ROW = frozenset(("from", "where", "union", "intersect", "except", "into", "group", "having", "order",
                          "limit", "qualify", "window", "offset"))


def set_config_items(sql: str) -> list[re.Match[str]] | None:
    """The set_config(...) calls (SET_CONFIG_CALL_RE) of a SELECT of one row that has other items too (SELECT
    set_config('app.user', $1, false), current_setting('app.user')), in order; None for any other statement, and
    when a set_config there is not such a call (its arguments not literals or parameters)."""
    if "set_config" not in sql.lower() or not re.match(r"\s*select\b", sql, re.I):
        return None
    bare = bare_text(sql, comments=True)
    try:
        words = sql_words(bare)
    except duckdb.Error:
        return None
    if any(kind == "keyword" and w.lower() in _NOT_ONE_ROW for _, w, kind in words):
        return None
    calls = [m for m in SET_CONFIG_CALL_RE.finditer(sql) if bare[m.start()] != " "]  # (not in a string or comment)
    if any(_in_case(words, m.start()) for m in calls):
        return None  # PostgreSQL runs it only where the CASE takes that branch; DuckDB's missing function, refused
    covered = sum(1 for m in calls if bare[m.start():m.end()].lower().count("set_config") == 1)
    if not calls or covered != len(calls) or len(calls) != len(re.findall(r"\bset_config\b", bare, re.I)):
        return None
    return calls


def _in_case(words: list[tuple[int, str, str]], at: int) -> bool:
    """Whether the character ``at`` lies in a CASE expression (from CASE to its END)."""
    open_cases = 0
    for pos, w, kind in words:
        if pos >= at:
            break
        if kind == "keyword" and w.lower() == "case":
            open_cases += 1
        elif kind == "keyword" and w.lower() == "end" and open_cases:
            open_cases -= 1
    return open_cases > 0


# A custom setting's name: PostgreSQL keeps any dotted one (app.tenant), for a session's own context its SQL reads
# back by current_setting (pgsettings.set_custom).
_CUSTOM_NAME = r"[a-z_][\w$]*(?:\.[a-z_][\w$]*)+"
CUSTOM_SET_RE = re.compile(rf"^\s*set\s+(?P<scope>session\s+|local\s+)?(?P<name>{_CUSTOM_NAME})\s*(?:=|\bto\b)\s*"
                           r"(?P<value>.*?)\s*;?\s*$", re.I | re.S)
CUSTOM_RESET_RE = re.compile(rf"^\s*reset\s+(?P<name>{_CUSTOM_NAME})\s*;?\s*$", re.I)
CUSTOM_SHOW_RE = re.compile(rf"^\s*show\s+(?P<name>{_CUSTOM_NAME})\s*;?\s*$", re.I)
# current_setting('a.b'[, missing_ok]) of a custom setting: the session's, from a DuckDB variable of its cursor that
# pgobjects.provide sets for a statement that reads it
CUSTOM_SETTINGS_VARIABLE = "pg_custom_settings"


def custom_value(text: str) -> str | None:
    """The value a SET of a custom setting gives (a literal unquoted; ``DEFAULT``: None, RESET's)."""
    if text.lower() == "default":
        return None
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    return text


def set_config_args(m: re.Match[str], params: list[Any] | None) -> tuple[str, str, bool, str]:
    """The setting's name, its value and is_local of a SET_CONFIG_RE match (each argument a literal or a parameter
    of ``params``), and the result column's name; PostgreSQL's errors for a NULL name or a name that is no
    setting's."""
    values = []
    for group in ("name", "value", "local"):
        arg = m.group(group)
        if arg.startswith("$"):
            n = int(arg[1:])
            if params is None or not 1 <= n <= len(params):
                raise ProtocolError(f"there is no parameter {arg}", "42P02")
            v: Any = params[n - 1]
        else:
            v = arg[1:-1].replace("''", "'") if arg.startswith("'") else arg.lower() == "true"
        values.append(v)
    name, value, local = values
    if name is None:
        raise ProtocolError("SET requires parameter name", "22023")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", str(name)) and not re.fullmatch(_CUSTOM_NAME, str(name), re.I):
        raise ProtocolError(f'unrecognized configuration parameter "{name}"', "42704")
    alias = set_config_column(m)
    local_on = local if isinstance(local, bool) else _ON.get(str(local).strip().lower())
    if local_on is None:
        raise ProtocolError(f'invalid input syntax for type boolean: "{local}"', "22P02")
    return str(name), "" if value is None else str(value), local_on, alias


def set_config_column(m: re.Match[str]) -> str:
    """The result column's name of a SET_CONFIG_RE (or SET_CONFIG_CALL_RE) match: its alias, else set_config."""
    alias = m.group("alias") or "set_config"
    return alias[1:-1].replace('""', '"') if alias.startswith('"') else alias.lower()


def set_config_has_parameter(m: re.Match[str]) -> bool:
    """Whether a set_config call takes a parameter ($n): a Describe of its Parse, before any Bind gives the values,
    must set nothing and has no value to answer."""
    return any(m.group(g).startswith("$") for g in ("name", "value", "local"))


def set_config_parameter_oids(sql: str) -> dict[int, int]:
    """The types PostgreSQL gives the parameters of a statement's set_config calls: text for the name and value,
    boolean for is_local. Why: asyncpg encodes each argument by the type the statement's Describe names, and a
    Python bool as text failed."""
    oids: dict[int, int] = {}
    for m in SET_CONFIG_CALL_RE.finditer(sql):
        for group, oid in (("name", 25), ("value", 25), ("local", 16)):
            if m.group(group).startswith("$"):
                oids[int(m.group(group)[1:])] = oid
    return oids


# PostgreSQL's transaction modes (BEGIN / START TRANSACTION / SET TRANSACTION / SET SESSION CHARACTERISTICS AS
# TRANSACTION): DuckDB's BEGIN takes none and its one isolation level is serializable, which every level a client
# asks for gets; READ ONLY the session enforces (Session.read_only_txn). Groups: SESSION CHARACTERISTICS, the modes.
SET_TRANSACTION_RE = re.compile(r"^\s*set\s+(session\s+characteristics\s+as\s+)?transaction\b\s*(?P<modes>[^;]*?)\s*;?\s*$",
                                re.I)
BEGIN_MODES_RE = re.compile(r"^\s*(?:begin(?:\s+(?:work|transaction)\b)?|start\s+transaction\b)\s*(?P<modes>[^;]*?)\s*;?\s*$",
                            re.I)
# SET [SESSION | LOCAL] [default_]transaction_read_only, as PostgreSQL's boolean; group "default" for the session's.
READ_ONLY_SET_RE = re.compile(r"^\s*set\s+(?:session\s+|(?P<local>local)\s+)?(?P<default>default_)?transaction_read_only"
                              r"\s*(?:to\s+|=\s*)(?P<value>'[^']*'|\w+)\s*;?\s*$", re.I)
_ON = {"on": True, "true": True, "yes": True, "1": True, "off": False, "false": False, "no": False, "0": False}
_ISOLATION_LEVELS = ("serializable", "repeatable read", "read committed", "read uncommitted")
# LISTEN / NOTIFY: DuckDB has no notification channels (UNLISTEN, which pools send to reset, is a no-op instead).
LISTEN_RE = re.compile(r"^\s*(listen|notify)\b", re.I)
LISTEN_REFUSED = ("LISTEN / NOTIFY is not supported by ad-duckdb serve: DuckDB has no notification channels; poll a "
                  "table for changes instead.")


def transaction_modes(modes: str) -> bool | None:
    """Whether PostgreSQL's transaction ``modes`` (ISOLATION LEVEL ..., READ ONLY | READ WRITE, [NOT] DEFERRABLE,
    separated by commas or spaces) make the transaction read-only: True, False, or None when they do not say. Any
    other mode is PostgreSQL's syntax error (42601), naming it."""
    words = re.findall(r"[a-z_]+|\S", modes.lower())
    read_only = None
    i = 0
    while i < len(words):
        two, three = " ".join(words[i:i + 2]), " ".join(words[i:i + 3])
        if words[i] == ",":
            i += 1
        elif two == "isolation level" and " ".join(words[i + 2:i + 3]) in _ISOLATION_LEVELS:
            i += 3
        elif two == "isolation level" and " ".join(words[i + 2:i + 4]) in _ISOLATION_LEVELS:
            i += 4
        elif two in ("read only", "read write"):
            read_only, i = two == "read only", i + 2
        elif words[i] == "deferrable" or two == "not deferrable":
            i += 1 if words[i] == "deferrable" else 2
        else:
            near = " ".join(words[i + 2:i + 3]) if two == "isolation level" else words[i]
            raise ProtocolError(f'syntax error at or near "{near.upper()}": a transaction mode is ISOLATION LEVEL '
                                "{SERIALIZABLE | REPEATABLE READ | READ COMMITTED | READ UNCOMMITTED}, READ WRITE, "
                                f"READ ONLY or [NOT] DEFERRABLE (in: {three.upper()}...)", "42601")
    return read_only


def isolation_level(modes: str) -> str | None:
    """The isolation level PostgreSQL's transaction ``modes`` name (lower case, one space between words), None when
    they name none. (transaction_modes refuses modes that are not PostgreSQL's.)"""
    m = re.search(r"\bisolation\s+level\s+(serializable|repeatable\s+read|read\s+committed|read\s+uncommitted)\b",
                  modes, re.I)
    return " ".join(m.group(1).lower().split()) if m else None


def read_only_setting(value: str) -> bool:
    """PostgreSQL's boolean ``value`` of (default_)transaction_read_only; 22023 for any other, naming it."""
    word = value.strip("'").strip().lower()
    if word not in _ON:
        raise ProtocolError(f'parameter "transaction_read_only" requires a Boolean value (on / off), not {value}',
                            "22023")
    return _ON[word]


UNLISTEN_RE = re.compile(r'^\s*unlisten\s+(?:\*|"(?:[^"]|"")+"|\w+)\s*;?\s*$', re.I)
UNLOCK_ALL_RE = re.compile(r"^\s*select\s+(?:pg_catalog\s*\.\s*)?pg_advisory_unlock_all\s*\(\s*\)\s*;?\s*$", re.I)
# SET / RESET statement_timeout: the one PostgreSQL setting the server enforces itself (Session.timeout_ms).
# Groups: LOCAL (SET LOCAL: until the transaction ends), the value (None for RESET).
TIMEOUT_RE = re.compile(r"^\s*(?:set\s+(?:session\s+|(local)\s+)?statement_timeout\s*(?:to\s+|=\s*)(.*?)|"
                        r"reset\s+statement_timeout)\s*;?\s*$", re.I | re.S)
_TIMEOUT_UNITS = {"": 1, "us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
# SET [LOCAL] application_name: what SHOW application_name and pg_stat_activity say (Session.application_name).
# current_setting('application_name'): the session's value, from a variable of its DuckDB cursor (set by Session)
APPLICATION_NAME_SQL = "coalesce(getvariable('pg_application_name'), '')"
# current_setting('TimeZone'): PostgreSQL's name of an offset zone ('<-07>+07', pgzones), which the session keeps in a
# variable of its cursor (set by Session); DuckDB's own name of any other
TIME_ZONE_SQL = "coalesce(getvariable('pg_time_zone'), current_setting('TimeZone'))"
# current_setting('max_connections'): the server's --max-connections, in a variable of the session's cursor
MAX_CONNECTIONS_SQL = "getvariable('pg_max_connections')"
APPLICATION_NAME_RE = re.compile(r"^\s*set\s+(?:session\s+|(?P<local>local)\s+)?application_name\s*(?:to\s+|=\s*)"
                                 r"(?P<value>.*?)\s*;?\s*$", re.I | re.S)
# SET DateStyle: DuckDB writes dates as ISO only and reads no day-month order (03/04/2024 is refused, never misread),
# so PostgreSQL's default, ISO with MDY, is the one value that tells the client the truth (datestyle_error).
DATESTYLE_RE = re.compile(r"^\s*set\s+(?:session\s+|local\s+)?datestyle\s*(?:to\s+|=\s*)(.*?)\s*;?\s*$", re.I | re.S)
_DATE_STYLES = {"iso": True, "sql": False, "postgres": False, "german": False}
_DATE_ORDERS = {"mdy": True, "us": True, "noneuropean": True, "noneuro": True, "dmy": False, "euro": False,
                "european": False, "ymd": False}


def datestyle_error(value: str) -> ProtocolError | None:
    """Why ``SET DateStyle`` to ``value`` (as written after TO / =) cannot be honoured; None when it is ISO, MDY (or
    DEFAULT), which is what the server does anyway. A word PostgreSQL does not know is its error (22023)."""
    words = [w.strip().strip("'\"").strip() for w in value.strip().strip("'\"").split(",")]
    shown = ", ".join(words)
    if [w.lower() for w in words] == ["default"]:
        return None
    if not all(w.lower() in _DATE_STYLES or w.lower() in _DATE_ORDERS for w in words):
        return ProtocolError(f'invalid value for parameter "DateStyle": "{shown}"', "22023")
    if all(_DATE_STYLES.get(w.lower(), True) and _DATE_ORDERS.get(w.lower(), True) for w in words):
        return None
    return ProtocolError(f"DateStyle '{shown}' is not supported: this server writes dates as ISO (YYYY-MM-DD) and reads "
                         "no day-month order, so its DateStyle is 'ISO, MDY' only. Format dates in SQL instead "
                         "(strftime(d, '%d.%m.%Y')).", "0A000")


# SET IntervalStyle: intervals are written in PostgreSQL's default style ('1 day 02:00:00', pgtypes), so 'postgres' is
# the one value that tells the client the truth (intervalstyle_error), as ISO is for DateStyle.
INTERVALSTYLE_RE = re.compile(r"^\s*set\s+(?:session\s+|local\s+)?intervalstyle\s*(?:to\s+|=\s*)(.*?)\s*;?\s*$",
                              re.I | re.S)
_INTERVAL_STYLES = ("postgres", "postgres_verbose", "sql_standard", "iso_8601")


def intervalstyle_error(value: str) -> ProtocolError | None:
    """Why ``SET IntervalStyle`` to ``value`` (as written after TO / =) cannot be honoured; None for postgres (or
    DEFAULT), which is how the server writes intervals anyway. A word PostgreSQL does not know is its error (22023)."""
    shown = value.strip().strip("'\"").strip()
    if shown.lower() in ("postgres", "default"):
        return None
    if shown.lower() not in _INTERVAL_STYLES:
        return ProtocolError(f'invalid value for parameter "IntervalStyle": "{shown}" (the values PostgreSQL knows: '
                             f"{', '.join(_INTERVAL_STYLES)})", "22023")
    return ProtocolError(f"IntervalStyle '{shown}' is not supported: this server writes intervals in PostgreSQL's "
                         "default style ('1 day 02:00:00'), so its IntervalStyle is 'postgres' only. Format intervals "
                         "in SQL instead (extract(epoch FROM i) for seconds).", "0A000")


# SET client_encoding: the server reads and writes UTF-8 only (and reports UTF8 at connect, which libpq follows), so
# UTF8 under any of PostgreSQL's names for it is the one value that tells the client the truth (client_encoding_error).
CLIENT_ENCODING_RE = re.compile(r"^\s*set\s+(?:session\s+|local\s+)?client_encoding\s*(?:to\s+|=\s*)(.*?)\s*;?\s*$",
                                re.I | re.S)


ACCESS_METHOD_RE = re.compile(r"^\s*set\s+(?:session\s+|local\s+)?default_table_access_method\s*(?:to\s+|=\s*)(.*?)"
                              r"\s*;?\s*$", re.I | re.S)


def access_method_error(value: str) -> ProtocolError | None:
    """Why ``SET default_table_access_method`` to ``value`` (as written after TO / =) cannot be honoured; None for
    heap (PostgreSQL's default, which a pg_dump script sets, and what current_setting answers) or DEFAULT."""
    shown = value.strip().strip("'\"").strip()
    if shown.lower() in ("heap", "default"):
        return None
    return ProtocolError(f'invalid value for parameter "default_table_access_method": "{shown}" (table access method '
                         f'"{shown}" does not exist; this server has heap only)', "22023")


def client_encoding_error(value: str) -> ProtocolError | None:
    """Why ``SET client_encoding`` to ``value`` (as written after TO / =) cannot be honoured; None for UTF8 (as
    PostgreSQL compares names: case and punctuation aside, 'utf-8', 'unicode') or DEFAULT."""
    shown = value.strip().strip("'\"").strip()
    if re.sub(r"[^a-z0-9]", "", shown.lower()) in ("utf8", "unicode", "default"):
        return None
    return ProtocolError(f"client_encoding '{shown}' is not supported: this server reads and writes UTF8 only, "
                         "as it told the client at connect; keep the connection's encoding UTF8 and convert in the "
                         "client.", "0A000")


# SET [LOCAL] search_path TO a, "B", public: PostgreSQL's list of schemas (groups: LOCAL, the list). DuckDB's SET
# outlives the transaction; the session undoes it as PostgreSQL would (pgsettings.held_in_transaction).
SEARCH_PATH_RE = re.compile(r"^\s*set\s+(?:session\s+|(?P<local>local)\s+)?search_path\s*(?:to\s+|=\s*)(?P<names>.*?)"
                            r"\s*;?\s*$", re.I | re.S)
_PATH_ITEM = re.compile(r'\s*("(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'|[^,\s]+)\s*(?:,|$)')


def search_path_sql(sql: str) -> str | None:
    """PostgreSQL's ``SET search_path TO a, public`` as DuckDB's ``SET search_path = 'a,main'``; None for another
    statement, or a value that is not a list of names (DuckDB's own error then says why).

    Why: DuckDB takes one string ("SET can only contain a single value"), has no ``public`` schema (its default is
    ``main``) and no ``"$user"``; psql users and tools send PostgreSQL's form, and failed on it."""
    m = SEARCH_PATH_RE.match(sql)
    if not m or not m.group("names").strip():
        return None
    text, names, pos = m.group("names").strip(), [], 0
    while pos < len(text):
        item = _PATH_ITEM.match(text, pos)
        if item is None or item.end() == pos:
            return None
        pos, raw = item.end(), item.group(1)
        if raw.startswith('"'):
            name = raw[1:-1].replace('""', '"')
        elif raw.startswith("'"):
            name = raw[1:-1].replace("''", "'")
        else:
            name = raw.lower()  # PostgreSQL folds a bare name to lower case
        if "," in name and raw.startswith("'") and len(text) == len(raw):
            return None  # DuckDB's own form, 'a,main': already what it takes
        if name.lower() in ("default",) and not raw.startswith(('"', "'")):
            return "RESET search_path"
        if name in ("$user", "pg_catalog", "pg_temp", ""):
            # no schema per user here; the catalogue and temporary objects are searched anyway; '' (a pg_dump
            # script's set_config('search_path', '', false), which then names every table by its schema) is none
            continue
        names.append("main" if name == "public" else name)
    if not names:
        return "RESET search_path"
    value = ",".join(n if re.fullmatch(r"[a-z_][a-z0-9_]*", n) else '"' + n.replace('"', '""') + '"' for n in names)
    return "SET search_path = '" + value.replace("'", "''") + "'"


DEALLOCATE_RE = re.compile(r"^\s*deallocate\s+(?:prepare\s+)?(\"[^\"]+\"|\w+)\s*;?\s*$", re.I)
# An SQL PREPARE's name (group 1, quoted as written): DuckDB keeps the statement, DEALLOCATE and DISCARD drop it.
PREPARE_NAME_RE = re.compile(r'^\s*prepare\s+("(?:[^"]|"")+"|\w+)', re.I)


def statement_name(word: str) -> str:
    """A prepared statement's name as DuckDB keeps it: a quoted one as written, a bare one in lower case."""
    return word[1:-1].replace('""', '"') if word.startswith('"') else word.lower()
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


def timeout_ms(value: str) -> int:
    """A statement_timeout value as PostgreSQL reads it (``500``, ``'5s'``, ``'1min'``, ``DEFAULT``) in milliseconds."""
    v = value.strip().strip("'\"").strip()
    if v.lower() == "default":
        return 0
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?", v, re.I)
    if not m:
        raise ProtocolError(f'invalid value for parameter "statement_timeout": "{v}" (a number of milliseconds, or '
                            "one with a unit: '500ms', '30s', '5min'; 0 turns it off)", "22023")
    return int(round(float(m.group(1)) * _TIMEOUT_UNITS[(m.group(2) or "").lower()]))


def startup_settings(params: dict[str, str]) -> dict[str, str]:
    """The settings a client gives at startup, by lower-case name: a parameter of their own (asyncpg's
    ``server_settings``, PgJDBC's TimeZone) and ``options='-c name=value'`` / ``--name=value`` (libpq, psycopg,
    JDBC), where a backslash keeps the next character (``-c search_path=a,\\ b``), as PostgreSQL reads them."""
    settings = {k.lower(): v for k, v in params.items() if k not in ("user", "database", "options", "replication")}
    words, word, escaped = [], "", False
    for ch in params.get("options", "") + " ":
        if escaped:
            word, escaped = word + ch, False
        elif ch == "\\":
            escaped = True
        elif ch.isspace():
            if word:
                words.append(word)
            word = ""
        else:
            word += ch
    for i, o in enumerate(words):
        kv = words[i + 1] if o == "-c" and i + 1 < len(words) else o[2:] if o.startswith(("-c", "--")) else ""
        name, eq, v = kv.partition("=")
        if eq:
            settings[name.replace("-", "_").lower()] = v
    return settings


def startup_timeout(params: dict[str, str]) -> int:
    """The statement_timeout a client asks for at startup (startup_settings), in milliseconds."""
    value = startup_settings(params).get("statement_timeout")
    return timeout_ms(value) if value is not None else 0


# Comments before a statement's first word (an ORM's or a pooler's tag: /* job 7 */ COMMIT)
_LEADING_SPACE_OR_LINE_COMMENTS = re.compile(r"(?:\s+|--[^\n]*(?:\n|$))*")
_COMMENT_MARK = re.compile(r"/\*|\*/")


def from_first_word(sql: str) -> str:
    """``sql`` without the comments (and spaces) before its first word, as PostgreSQL reads a statement: the regexes
    of the statements the server answers itself (and their tags) start at the first word. Block comments nest, as in
    PostgreSQL and DuckDB (a regex ending at the first */ left `c */ SELECT 1` of `/* a /* b */ c */ SELECT 1`); an
    unterminated one is kept, for DuckDB's error."""
    i = 0
    while True:
        if (m := _LEADING_SPACE_OR_LINE_COMMENTS.match(sql, i)) is not None:  # (it matches "" too)
            i = m.end()
        if not sql.startswith("/*", i):
            return sql[i:]
        depth, end = 0, None
        for mark in _COMMENT_MARK.finditer(sql, i):
            depth += 1 if mark.group() == "/*" else -1
            if depth == 0:
                end = mark.end()
                break
        if end is None:
            return sql[i:]
        i = end


def keyword_tag(sql: str) -> str:
    # (DuckDB's statement keeps its semicolon, as psql sends it: "commit;" is COMMIT; and its comments, which
    # made "/* job 7 */ COMMIT" of a failed block a commit, tagged "/*")
    sql = from_first_word(sql)
    words = re.sub(r"\(.*", "", sql.strip().rstrip(";")).split()[:6]
    if not words:
        return ""
    head = words[0].upper()
    if head in ("CREATE", "DROP", "ALTER"):
        obj = [w.upper() for w in words[1:] if w.upper() not in ("OR", "REPLACE", "TEMP", "TEMPORARY", "IF",
                                                                 "NOT", "EXISTS", "UNIQUE", "PERSISTENT")]
        return f"{head} {obj[0]}" if obj else head
    return head


# Parameter types a client declares -> the DuckDB type it means. Why cast: DuckDB types an unannotated parameter by
# its value, so JDBC's setLong(5) would make an INTEGER column one run and setLong(3e9) a BIGINT the next, while
# the client decodes every run by the types it was told once.
_CAST_OF = {16: "BOOLEAN", 21: "SMALLINT", 23: "INTEGER", 20: "BIGINT", 700: "FLOAT", 701: "DOUBLE", 1082: "DATE",
            1083: "TIME", 1114: "TIMESTAMP", 1184: "TIMESTAMPTZ", 1186: "INTERVAL", 2950: "UUID", 17: "BLOB", 26: "BIGINT"}


_OID_OF_CAST = {"boolean": 16, "bool": 16, "smallint": 21, "int2": 21, "integer": 23, "int": 23, "int4": 23,
                "bigint": 20, "int8": 20, "real": 700, "float4": 700, "float": 701, "double": 701, "float8": 701,
                "numeric": 1700, "decimal": 1700, "date": 1082, "timestamp": 1114, "timestamptz": 1184,
                "uuid": 2950, "varchar": 25, "text": 25, "interval": 1186, "double precision": 701,
                "timestamp with time zone": 1184, "timestamp without time zone": 1114, "oid": 26, "json": 114,
                "time": 1083, "time without time zone": 1083, "timetz": 1266, "time with time zone": 1266,
                "bytea": 17, "blob": 17, "hugeint": 1700, "int128": 1700}
# a type name, its typmod (DECIMAL(10,2), VARCHAR(20): dropped, the OID is the same) and whether it is an array
_TYPE_NAME = (r"([a-z0-9_]+(?:\s+precision|\s+with(?:out)?\s+time\s+zone)?(?:\s*\(\s*\d+\s*(?:,\s*\d+\s*)?\))?"
              r"(?:\s*\[\s*\])?)")
_PARAM_CAST_RE = re.compile(rf"\$(\d+)\s*::\s*{_TYPE_NAME}|CAST\s*\(\s*\$(\d+)\s+AS\s+{_TYPE_NAME}", re.I)


def parameter_casts(sql: str) -> dict[int, int]:
    """Parameter number -> type OID, for parameters the query casts ($1::INTEGER, CAST($2 AS DATE)), read outside
    string literals; drivers that ask the server for parameter types (asyncpg) then send values, not text."""
    out: dict[int, int] = {}
    last = 0
    for start, end in [*_string_spans(sql), (len(sql), len(sql))]:
        for m in _PARAM_CAST_RE.finditer(sql[last:start]):
            n, t = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            t = " ".join(t.lower().replace("[", " [").split())
            array = t.endswith("]")
            t = re.sub(r"\s*\(.*", "", t.rstrip("[] "))
            oid = _OID_OF_CAST.get(t)
            if oid is not None and array:
                oid = ARRAY_OID_OF.get(oid)  # a list parameter: the array type of that element
            if oid is not None:
                out.setdefault(int(n), oid)
        last = end
    return out


def typed_parameters(sql: str, oids: list[int]) -> str:
    """``$n`` as ``CAST($n AS T)`` for each parameter whose type the client declared (found by DuckDB's tokenizer,
    so never inside a string or a comment)."""
    if not any(o in _CAST_OF for o in oids):
        return sql
    try:
        tokens = sql_tokens(sql)
    except duckdb.Error:
        return sql
    out, last = [], 0
    for (pos, kind), (nxt, nkind) in zip(tokens, tokens[1:], strict=False):
        if kind == duckdb.token_type.operator and sql[pos] == "$" and nkind == duckdb.token_type.numeric_const \
                and nxt == pos + 1:
            digits = re.match(r"\d+", sql[nxt:])
            if digits and 0 < int(digits.group()) <= len(oids) and oids[int(digits.group()) - 1] in _CAST_OF:
                out += [sql[last:pos], f"CAST(${digits.group()} AS {_CAST_OF[oids[int(digits.group()) - 1]]})"]
                last = nxt + len(digits.group())
    return "".join([*out, sql[last:]])


_PREPARE_TYPES_RE = re.compile(r'^(\s*prepare\s+(?:"(?:[^"]|"")+"|\w+))\s*\(', re.I)


def typed_prepare(sql: str) -> str:
    """PostgreSQL's ``PREPARE name (type, ...) AS statement`` as DuckDB's ``PREPARE name AS statement``, each ``$n``
    cast to its declared type where ``typed_parameters`` knows it (the rest DuckDB types by their values, as
    without the list); any other statement as it is.

    Why: DuckDB has no type list and refused such a PREPARE ("TypeList for prepared statement has not been
    implemented"), the form psql scripts and PostgreSQL's own documentation use."""
    m = _PREPARE_TYPES_RE.match(sql)
    if m is None:
        return sql
    depth, i, cuts = 1, m.end(), [m.end()]
    while i < len(sql) and depth:
        depth += {"(": 1, ")": -1}.get(sql[i], 0)
        if sql[i] == "," and depth == 1:
            cuts.append(i + 1)
        i += 1
    rest = re.match(r"\s*as\b", sql[i:], re.I)
    if depth or rest is None:
        return sql  # not PostgreSQL's form: DuckDB's own error says what is wrong
    oids = []
    for a, b in zip(cuts, [*cuts[1:], i], strict=True):
        name = " ".join(sql[a:b - 1].lower().replace("[", " [").split())
        array = name.endswith("]")
        oid = _OID_OF_CAST.get(re.sub(r"\s*\(.*", "", name.rstrip("[] ")), 0)
        oids.append(ARRAY_OID_OF.get(oid, 0) if array else oid)
    return f"{m.group(1)} AS{typed_parameters(sql[i + rest.end():], oids)}"


def _string_spans(sql: str, tokens: list[tuple[int, Any]] | None = None) -> list[tuple[int, int]]:
    """Where the string literals of ``sql`` are ([start, end) pairs), by DuckDB's tokenizer (``tokens``: its tokens
    of ``sql``, if they are at hand)."""
    try:
        tokens = sql_tokens(sql) if tokens is None else tokens
    except duckdb.Error:
        return []
    spans = []
    for i, (pos, kind) in enumerate(tokens):
        if kind != duckdb.token_type.string_const:
            continue
        end = tokens[i + 1][0] if i + 1 < len(tokens) else len(sql)
        if sql[pos] == "'":  # a plain literal ends at its closing quote ('' is a quote inside it)
            j = pos + 1
            while j < len(sql) and (sql[j] != "'" or sql[j + 1:j + 2] == "'"):
                j += 2 if sql[j] == "'" else 1
            end = min(j + 1, end)
        spans.append((pos, end))
    return spans


def _rewrite_bare(text: str) -> str:
    """The rewrites of SQL text outside string literals and comments (see catalog_rewrites)."""
    text = _REGTYPE_RE.sub("", text)
    text = _OPERATOR_RE.sub(lambda m: f" {m.group(1)} ", text)
    text = _DESCRIBE_RE.sub(lambda m: m.group(0) if re.sub(r"\s", "", m.group(1)) != re.sub(r"\s", "", m.group(2))
                            else f"{m.group(0)[:-1].rstrip()}, {m.group(2)}pg_objdesc)", text)
    return _PROC_FN_RE.sub(lambda m: f"pg_get_function_{m.group(1).lower()}("
                                     f"{_PROC_FN_ARGS[m.group(1).lower()].format(m.group(2))})", text)


def _ident(word: str) -> str:
    """An identifier token as DuckDB binds it: without its double quotes, in lower case (DuckDB matches names
    case-insensitively, quoted or not)."""
    if len(word) >= 2 and word[0] == word[-1] == '"':
        word = word[1:-1].replace('""', '"')
    return word.lower()


def _words(sql: str) -> list[tuple[int, str, str]]:
    """The tokens of ``sql`` but comments, as (position, text, kind name)."""
    return sql_words(sql)


class SetCommand(NamedTuple):
    """A SET / RESET / PRAGMA name = value statement as DuckDB's tokenizer reads it (set_command)."""

    scope: str  # "" (the session's), "session", "local" or "global"
    name: str  # lower case, unquoted; PostgreSQL's two words TIME ZONE are "timezone"
    value: str | None  # the value as written (a string literal unquoted); None for RESET, DEFAULT, LOCAL


def set_command(sql: str) -> SetCommand | None:
    """What ``sql`` sets, if it is DuckDB's SET statement (SET, RESET, PRAGMA name = value); None otherwise or when
    DuckDB cannot tokenize it. By the tokenizer, so a comment between the words (``SET /* x */ GLOBAL``) or a quoted
    name (``SET GLOBAL "TimeZone"``) reads as what DuckDB runs."""
    try:
        toks = _words(sql)
    except duckdb.Error:
        return None
    low = [t.lower() if k == "keyword" else t for _, t, k in toks]
    if not low or low[0] not in ("set", "reset", "pragma"):
        return None
    verb, i = low[0], 1
    scope = ""
    if i < len(low) and low[i] in ("session", "local", "global") and toks[i][2] == "keyword":
        scope, i = low[i], i + 1
    if low[i:i + 2] == ["time", "zone"]:
        name, i = "timezone", i + 2
    elif i < len(toks):
        text = toks[i][1]
        name = (text[1:-1].replace('""', '"') if text.startswith('"') else text).lower()
        i += 1
    else:
        return None
    if i < len(low) and low[i] in ("to", "="):
        i += 1
    rest = [t for t in toks[i:] if t[1] != ";"]
    value: str | None = None
    if verb != "reset" and rest:
        if len(rest) == 1 and rest[0][2] == "keyword" and rest[0][1].lower() in ("default", "local"):
            value = None  # PostgreSQL's SET TIME ZONE LOCAL / DEFAULT: RESET's meaning
        elif len(rest) == 1 and rest[0][2] == "string_const":
            value = rest[0][1][1:-1].replace("''", "'")
        else:
            value = sql[rest[0][0]:].strip().rstrip(";").strip()
    return SetCommand(scope, name, value)


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


def _matching_open(toks: list[tuple[int, str, str]], close: int) -> int | None:
    """The index of the ``(`` that the ``)`` at ``toks[close]`` closes."""
    depth = 0
    for i in range(close, -1, -1):
        depth += {")": 1, "(": -1}.get(toks[i][1], 0)
        if depth == 0:
            return i
    return None


def _matching_close(toks: list[tuple[int, str, str]], open_: int) -> int | None:
    """The index of the ``)`` (or ``]``) that closes the ``(`` (or ``[``) at ``toks[open_]``."""
    closing = {"(": ")", "[": "]"}[toks[open_][1]]
    depth = 0
    for i in range(open_, len(toks)):
        depth += {toks[open_][1]: 1, closing: -1}.get(toks[i][1], 0)
        if depth == 0:
            return i
    return None


def _operand_start(toks: list[tuple[int, str, str]], i: int) -> int | None:
    """Where the operand ending at ``toks[i]`` starts (a literal, ``$n``, ``a.b.c``, ``f(...)``, ``(...)``)."""
    kind, word = toks[i][2], toks[i][1]
    if word == ")":
        j = _matching_open(toks, i)
        if j is None:
            return None
        return _operand_start(toks, j - 1) if j > 0 and toks[j - 1][2] == "identifier" else j
    if kind == "numeric_const" and i > 0 and toks[i - 1][1] == "$":
        return i - 1
    if kind in ("string_const", "numeric_const"):
        return i
    if kind == "identifier":
        while i >= 2 and toks[i - 1][1] == "." and toks[i - 2][2] == "identifier":
            i -= 2
        return _operand_start(toks, i - 2) if i >= 2 and toks[i - 1][1] == "." and toks[i - 2][1] == ")" else i
    return None


# Object-identifier types DuckDB lacks -> the session macro that stands for a cast to one (pgcatalog._CATALOG_SQL,
# pgregtype). regprocedure and regoperator (psql's \\dL+, \\dAo, \\dAp) only on catalogues that are empty here: as
# regproc.
_REG_MACROS = {"regclass": "pg_regclass", "regproc": "pg_regproc", "regprocedure": "pg_regproc",
               "regoperator": "pg_regproc", "regtype": "pg_regtype"}
# The oid of a cast or call of these (a regclass or regtype, as PostgreSQL types them) -> the macro of the name
# PostgreSQL prints, where the value is cast to text (pgcolnames casts a select list's own to text)
_NAME_MACROS = {"pg_regclass": "pg_regclass_name", "pg_regtype": "pg_regtype_name", "to_regclass": "pg_regclass_name",
                "to_regtype": "pg_regtype_name"}


def _cast_chain_start(toks: list[tuple[int, str, str]], i: int) -> int | None:
    """Where the operand of a cast ending at ``toks[i]`` starts: a cast binds to the whole chain of casts before it
    (``x::oid::regclass``, ``'t'::text::regclass``), whose type names are words after ``::``."""
    if toks[i][2] in ("identifier", "keyword") and i >= 2 and toks[i - 1][1] == "::":
        return _cast_chain_start(toks, i - 2)
    a = _operand_start(toks, i)
    return _cast_chain_start(toks, a - 2) if a is not None and a >= 2 and toks[a - 1][1] == "::" else a


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


# PostgreSQL's type names DuckDB reads otherwise, in a cast (``x::numeric``, ``CAST(x AS numeric)``): an unconstrained
# numeric is exact to any scale in PostgreSQL, while DuckDB's bare DECIMAL is DECIMAL(18,3), so the idiom PostgreSQL
# needs to round a double, round(avg(x)::numeric, 4), kept 3 decimals (3.082 for 3.0820) and 1.23456::numeric was
# 1.235. DECIMAL(38,10) keeps 10 decimals and 28 digits before the point (a product of two, 18). jsonb, which DuckDB
# does not know, is its JSON.
_CAST_TYPES = {"numeric": "DECIMAL(38,10)", "decimal": "DECIMAL(38,10)", "jsonb": "JSON"}


def _cast_types(sql: str) -> str:
    """``sql`` with the type names of _CAST_TYPES in its casts (``::`` or CAST / TRY_CAST ... AS) as DuckDB's, where
    no precision follows them; found by DuckDB's tokenizer, so a string, a comment or a column of that name stays."""
    toks = _words_if(sql, "numeric", "decimal", "jsonb")
    if toks is None:
        return sql
    out, last = [], 0
    for i, (pos, word, kind) in enumerate(toks):
        if kind not in ("identifier", "keyword") or _ident(word) not in _CAST_TYPES or word.startswith('"'):
            continue
        if i + 1 < len(toks) and toks[i + 1][1] == "(":
            continue  # numeric(12,2): the client's own precision
        t = i - 2 if i >= 2 and toks[i - 1][1] == "." and _ident(toks[i - 2][1]) == "pg_catalog" else i
        cast = t >= 1 and toks[t - 1][1] == "::"
        if not cast and t >= 1 and toks[t - 1][1].lower() == "as" and i + 1 < len(toks) and toks[i + 1][1] in (")", "["):
            close = i + 1 if toks[i + 1][1] == ")" else i + 3  # CAST(x AS numeric[]): past the brackets
            o = _matching_open(toks, close) if close < len(toks) and toks[close][1] == ")" else None
            cast = o is not None and o > 0 and toks[o - 1][1].lower() in ("cast", "try_cast")
        if cast:
            out += [sql[last:toks[t][0]], _CAST_TYPES[_ident(word)]]
            last = pos + len(word)
    return "".join(out) + sql[last:] if out else sql


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
# Functions PostgreSQL lets a FROM list call as one-row tables (Grafana's FROM ..., string_to_array(...) s), which
# DuckDB looks up as table functions
_SCALAR_IN_FROM = ("string_to_array",)


def in_from(toks: list[tuple[int, str, str]], i: int) -> bool:
    """Whether ``toks[i]`` is an item of a FROM list (not of a SELECT list, a function's arguments, ...): the clause
    keyword before it, at its own depth of parentheses, is FROM or JOIN."""
    depth = 0
    for j in range(i - 1, -1, -1):
        word = toks[j][1].lower()
        depth += {")": 1, "(": -1}.get(word, 0)
        if depth < 0:
            return False
        if depth == 0 and toks[j][2] == "keyword" and word in ("from", "join", "select", "where", "group", "order",
                                                               "having", "on", "using", "set", "values", "returning",
                                                               "limit", "window", "qualify"):
            return word in ("from", "join")
    return False


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


# LIKE's escape character: PostgreSQL's is the backslash unless ESCAPE names another, DuckDB's LIKE has none. ODBC
# tools escape _ and % in catalogue patterns (psqlODBC reports "\\" as SQL_SEARCH_PATTERN_ESCAPE; SQLTables for
# tx\_log), which DuckDB would read as a backslash, finding nothing. A pattern with a literal that holds a backslash,
# or with a parameter (its value is not known here), gets ESCAPE '\'; a literal without one means the same either way.
# The ESCAPE goes after the whole pattern, as PostgreSQL parses it: every operator but a comparison binds tighter than
# LIKE, so ``x LIKE $1 || '%'`` (SQLAlchemy's startswith()) is ``x LIKE ($1 || '%')``; an ESCAPE after $1 would make
# the escape ``'\' || '%'``, which DuckDB refuses.
_LIKE_PATTERN_ENDS = frozenset((
    "and", "or", "not", "is", "isnull", "notnull", "between", "in", "like", "ilike", "similar", "glob", "escape",
    "then", "when", "else", "end", "from", "where", "group", "having", "order", "limit", "offset", "union",
    "intersect", "except", "as", "on", "using", "join", "inner", "left", "right", "full", "cross", "natural",
    "window", "qualify", "returning", "asc", "desc", "nulls", "for", "into", "select", "over", "filter"))
_COMPARISONS = frozenset(("=", "==", "<", ">", "<=", ">=", "<>", "!=", ",", ";", ")", "]"))


def _pattern_end(toks: list[tuple[int, str, str]], i: int) -> int | None:
    """The index of the last token of the LIKE pattern that starts at ``toks[i]`` (operands joined by operators
    that bind tighter than LIKE: ``||``, arithmetic, ``::type``, ``[n]``, ``.``, COLLATE), or None when the pattern
    is not one this understands (the statement is then left as written)."""
    n, last, operand = len(toks), None, True  # operand: an operand comes next, else an operator or the end
    j = i
    while j < n:
        word, kind = toks[j][1], toks[j][2]
        low = word.lower()
        if operand:
            if low in ("case", "any", "all", "some", "exists"):  # LIKE ANY (...), a CASE: not followed here
                return None
            if word in ("+", "-", "~"):  # a sign
                j += 1
                continue
            if word in ("(", "["):
                close = _matching_close(toks, j)
                if close is None:
                    return None
                j = close
            elif word == "$" and j + 1 < n and toks[j + 1][2] == "numeric_const":
                j += 1
            elif kind in ("identifier", "keyword") and low not in _LIKE_PATTERN_ENDS and j + 1 < n \
                    and toks[j + 1][1] == "(":  # a function call
                close = _matching_close(toks, j + 1)
                if close is None:
                    return None
                j = close
            elif kind not in ("string_const", "numeric_const", "identifier", "keyword") or low in _LIKE_PATTERN_ENDS:
                return None
            last, operand = j, False
            j += 1
            continue
        if word == "::":  # a cast: the type's words, its (typmod) and []
            j += 1
            while j < n and toks[j][2] in ("identifier", "keyword") and toks[j][1].lower() not in _LIKE_PATTERN_ENDS:
                last, j = j, j + 1
            while j < n and toks[j][1] in ("(", "["):
                close = _matching_close(toks, j)
                if close is None:
                    return None
                last, j = close, close + 1
        elif word == "[":
            close = _matching_close(toks, j)
            if close is None:
                return None
            last, j = close, close + 1
        elif low == "collate" and j + 1 < n:
            last, j = j + 1, j + 2
        elif kind == "operator" and word not in _COMPARISONS:
            operand, j = True, j + 1  # ||, +, ., ->>, ...: another operand follows
        elif kind in ("string_const", "numeric_const"):
            return None  # a typed literal (DATE '...', INTERVAL '1 day'): not followed here
        else:
            break  # a comparison, a keyword, a comma, an alias: the pattern ended
    return None if operand else last


def _like_escapes(sql: str) -> str:
    """``x [NOT] [I]LIKE pattern`` as ``... ESCAPE '\\'`` when the pattern has a literal with a backslash or a
    parameter ``$n``, unless the query names an escape; by DuckDB's tokenizer, so the text of strings and comments
    stays as written."""
    toks = _words_if(sql, "like") if "\\" in sql or "$" in sql else None
    if toks is None:
        return sql
    for i in range(len(toks) - 2, -1, -1):  # from the end, so earlier positions stay valid
        if toks[i][2] != "keyword" or toks[i][1].lower() not in ("like", "ilike"):
            continue
        last = _pattern_end(toks, i + 1)
        if last is None or last + 1 < len(toks) and toks[last + 1][1].lower() == "escape":
            continue  # not understood; or its own escape
        pattern = toks[i + 1:last + 1]
        if not any(k == "string_const" and "\\" in w or w == "$" for _, w, k in pattern):
            continue
        end = toks[last][0] + len(toks[last][1])
        sql = sql[:end] + " ESCAPE '\\'" + sql[end:]
    return sql


# PostgreSQL's unnest(a, b, ...) in FROM: the arrays side by side, the shorter padded with NULLs (asyncpg's and
# psycopg's way to pass columns of rows: unnest($1::INTEGER[], $2::DOUBLE[]) AS t(x, y)). DuckDB's unnest takes one
# list; several unnests in one select list run in step and pad with NULLs the same way, so the call becomes that
# subquery. Only right after FROM, JOIN or LATERAL (where PostgreSQL allows it), never WITH ORDINALITY.
def _multi_unnest(sql: str) -> str:
    """``FROM unnest(a, b)`` as ``FROM (SELECT unnest(a), unnest(b))``, by DuckDB's tokenizer."""
    toks = _words_if(sql, "unnest")
    if toks is None:
        return sql
    for i in range(len(toks) - 2, 0, -1):  # from the end, so earlier positions stay valid
        if _ident(toks[i][1]) != "unnest" or toks[i + 1][1] != "(" \
                or toks[i - 1][1].lower() not in ("from", "join", "lateral"):
            continue
        close = _matching_close(toks, i + 1)
        if close is None or close + 2 < len(toks) and toks[close + 1][1].lower() == "with" \
                and toks[close + 2][1].lower() == "ordinality":
            continue
        commas, depth = [], 0
        for j in range(i + 2, close):
            depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(toks[j][1], 0)
            if depth == 0 and toks[j][1] == ",":
                commas.append(j)
            if toks[j][1] == ":=":
                commas = []  # a named parameter: DuckDB's own unnest(x, recursive := true)
                break
        if not commas:
            continue
        bounds = [i + 1, *commas, close]
        args = [sql[toks[a][0] + 1:toks[b][0]].strip() for a, b in zip(bounds, bounds[1:], strict=False)]
        sql = (sql[:toks[i][0]] + "(SELECT " + ", ".join(f"unnest({a})" for a in args) + ")"
               + sql[toks[close][0] + 1:])
    return sql


def _list_literal(v: Any) -> str:
    """A value of PostgreSQL's array literal (pgtypes.array_text: strings, NULLs, nested lists) as DuckDB's list."""
    if isinstance(v, list):
        return "[" + ", ".join(_list_literal(x) for x in v) + "]"
    return "NULL" if v is None else "'" + v.replace("'", "''") + "'"


_ARRAY_CAST_RE = re.compile(r"\}'\s*::[\w\s\"]*\[")  # '...}'::text[], '...}'::double precision[]


def _array_literals(sql: str) -> str:
    """PostgreSQL's array literal cast to an array type, ``'{a,"b c",NULL}'::text[]`` (PgJDBC's getSQLKeywords), as
    DuckDB's list of the same strings, ``['a', 'b c', NULL]::text[]``, which the cast then types: DuckDB casts no
    '{...}' text to a list, so only statements that failed change."""
    # Why the pattern first: a JSON text literal ('{"a": 1}') has '{ too, and tokenizing every such statement (a
    # large INSERT of JSON rows) cost more than all the other rewrites; only '...}' cast by :: to an array can change
    toks = _words_if(sql, "'{") if _ARRAY_CAST_RE.search(sql) else None
    if toks is None:
        return sql
    for i in range(len(toks) - 4, -1, -1):  # from the end, so earlier positions stay valid
        pos, lit, kind = toks[i]
        if kind != "string_const" or not lit.startswith("'{") or not lit.endswith("}'") or toks[i + 1][1] != "::":
            continue
        j = i + 2
        while j < len(toks) and toks[j][2] in ("identifier", "keyword"):
            j += 1
        if j == i + 2 or j + 1 >= len(toks) or toks[j][1] != "[" or toks[j + 1][1] != "]":
            continue
        try:
            value = array_text(lit[1:-1].replace("''", "'"), str)
        except (ValueError, IndexError):
            continue
        sql = sql[:pos] + _list_literal(value) + sql[pos + len(lit):]
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


def _protected_spans(sql: str, strings: bool = True) -> list[tuple[int, int]]:
    """Where the string literals (unless not ``strings``) and the comments of ``sql`` are ([start, end) pairs, in
    order)."""
    try:
        tokens = sql_tokens(sql)
    except duckdb.Error:
        return []
    spans = _string_spans(sql, tokens) if strings else []
    for i, (pos, kind) in enumerate(tokens):
        if kind == duckdb.token_type.comment:
            spans.append((pos, tokens[i + 1][0] if i + 1 < len(tokens) else len(sql)))
    return sorted(spans)


def catalog_rewrites(sql: str) -> str:
    """The catalogue rewrites (qualified catalogue names, _catalog_names; PostgreSQL's format(); ``X::regclass`` as
    ``pg_regclass(X)``; ``_REGTYPE_RE``, ``_OPERATOR_RE``, ``_PROC_FN_RE``), outside string literals and comments
    only: a literal that merely contains ``::regtype`` stays as written."""
    sql = _array_literals(_multi_unnest(_like_escapes(_int2vector_outputs(_int2vector_subscripts(_settings(_regclass(
        _cast_types(_pg_format(_regproc_joins(_catalog_names(sql)))))))))))
    out, last = [], 0
    for start, end in _protected_spans(sql):
        out += [_rewrite_bare(sql[last:start]), sql[start:end]]
        last = end
    out.append(_rewrite_bare(sql[last:]))
    return "".join(out)


# psql meta-commands whose catalogue queries DuckDB cannot answer, by a catalogue name only they read: the
# clear error beats DuckDB's (a missing table or type, naming none of the command).
# \do and \dC: DuckDB has operators and casts, built in, but no catalogue of them; an empty list would say there
# are none
_PG_OPERATOR_RE = re.compile(r"\bFROM\s+pg_catalog\s*\.\s*pg_operator\b", re.I)
_PG_CAST_RE = re.compile(r"\bFROM\s+pg_catalog\s*\.\s*pg_cast\b", re.I)
# \sf NAME and \ef NAME look the function up by name first: DuckDB keeps no source of a built-in or Python
# function, and a macro's as parts (duckdb_functions().macro_definition) without its parameters' defaults, so a
# definition written from them could differ from the one that was created
_FUNCTION_OID_RE = re.compile(r"^\s*SELECT\s+'((?:[^']|'')*)'\s*::\s*pg_catalog\s*\.\s*regproc(?:edure)?\s*"
                              r"::\s*pg_catalog\s*\.\s*oid\s*;?\s*$", re.I)
# \dconfig: DuckDB's settings do not say which were changed from their defaults (pg_settings.source)
_DCONFIG_RE = re.compile(r"\bcurrent_setting\s*\(\s*s\s*\.\s*name\s*\).*\bpg_catalog\s*\.\s*pg_settings\s+s\b",
                         re.I | re.S)


def bare_text(sql: str, comments: bool = False, strings: bool = True) -> str:
    """``sql`` with its string literals (unless not ``strings``) and its comments (if ``comments``) blanked out (same
    length), for matching statement shapes on."""
    bare = list(sql)
    for a, b in _protected_spans(sql, strings) if comments else _string_spans(sql) if strings else []:
        bare[a:b] = " " * (b - a)
    return "".join(bare)


# What each of those refusals says (matched on the text outside string literals), in order.
_REFUSED: tuple[tuple[re.Pattern[str], str], ...] = (
    (_PG_OPERATOR_RE,
     "pg_catalog.pg_operator (psql's \\do) is not supported by ad-duckdb serve: DuckDB's operators are built "
     "in, with no catalogue of them (and none can be created); DuckDB lists each as a function: SELECT "
     "function_name, parameter_types, return_type FROM duckdb_functions() WHERE function_name = '+'."),
    (_PG_CAST_RE,
     "pg_catalog.pg_cast (psql's \\dC) is not supported by ad-duckdb serve: DuckDB's casts are built in, "
     "with no catalogue of them; DuckDB's documentation lists them (Typecasting), and TRY_CAST(x AS type) "
     "tells whether a value converts."),
    (_DCONFIG_RE,
     "psql's \\dconfig is not supported by ad-duckdb serve: DuckDB does not say which settings differ from "
     "their defaults; SELECT name, value FROM duckdb_settings() lists them all."),
)


# One part of a dotted name as PostgreSQL reads it: "quoted" (kept as written, "" an escaped quote) or bare
# (folded to lower case), up to a dot, the argument list of regprocedure's f(integer), or the end.
_NAME_PART_RE = re.compile(r'\s*(?:"((?:[^"]|"")+)"|([^".\s()]+))\s*')


def function_lookup(sql: str) -> tuple[str, list[str]] | None:
    """For psql's \\sf / \\ef lookup (``SELECT 'NAME'::pg_catalog.regproc::pg_catalog.oid``): NAME as typed and
    its dotted parts as PostgreSQL resolves them ([] when NAME is no valid name); None for any other statement.
    The session checks the function exists before ``unsupported`` refuses to show it, as PostgreSQL's lookup
    fails first for a missing one."""
    if (m := _FUNCTION_OID_RE.match(sql)) is None:
        return None
    name = m.group(1).replace("''", "'")
    parts: list[str] = []
    pos = 0
    while (p := _NAME_PART_RE.match(name, pos)) is not None:
        parts.append(p.group(1).replace('""', '"') if p.group(1) is not None else p.group(2).lower())
        pos = p.end()
        if name[pos:pos + 1] != ".":
            break
        pos += 1
    # what may follow the name: regprocedure's argument types (which name no function of their own); a dot
    # without a part after it, or more than database.schema.name, is no name
    if not parts or name[pos - 1:pos] == "." or pos < len(name) and name[pos] != "(" or len(parts) > 3:
        parts = []
    return name, parts


def unsupported(sql: str) -> ProtocolError | None:
    """The error for psql's catalogue queries the server cannot answer, which DuckDB would answer misleadingly (a
    missing table or type, naming none of the command). (COPY and DECLARE are served: ``pgcopy``, ``pgcursors``.)"""
    text = bare_text(sql)
    if (lookup := function_lookup(sql)) is not None:
        typed, parts = lookup
        # the name as DuckDB lists it (PostgreSQL folds a bare name to lower case), quoted for the query shown
        listed = (parts[-1] if parts else typed.split("(")[0].split(".")[-1].strip()).replace("'", "''")
        return ProtocolError(
            f"a function's definition (psql's \\sf and \\ef, for {typed}) is not supported by ad-duckdb serve: "
            "DuckDB keeps no source of its built-in or Python functions, and of a macro only parts (no parameter "
            "defaults); \\df NAME lists its argument and result types, and SELECT parameters, macro_definition "
            f"FROM duckdb_functions() WHERE function_name = '{listed}' shows what DuckDB keeps.", "0A000")
    for pattern, message in _REFUSED:
        if pattern.search(text):
            return ProtocolError(message, "0A000")
    return None


def _on_commit(sql: str) -> tuple[int, int, str] | None:
    """Where CREATE ... TABLE's ON COMMIT clause is in ``sql`` (its start and end), and its action (DROP, DELETE ROWS,
    PRESERVE ROWS); None for any other statement. Found by DuckDB's tokenizer, outside parentheses and before AS (a
    query's own words are not the clause)."""
    if not sql.lstrip()[:6].lower() == "create":
        return None
    toks = _words_if(sql, "commit")
    if not toks:
        return None
    depth = 0
    for i, (pos, text, kind) in enumerate(toks):
        depth += {"(": 1, ")": -1}.get(text, 0)
        low = text.lower() if kind == "keyword" else ""
        if depth or not low:
            continue
        if low == "as":
            return None
        words = [t.lower() if k == "keyword" else "" for _, t, k in toks[i:i + 4]]  # "": no keyword (a name)
        if words[:2] != ["on", "commit"]:
            continue
        for action in (["drop"], ["delete", "rows"], ["preserve", "rows"]):
            if words[2:2 + len(action)] == action:
                end_pos, end_text, _ = toks[i + 1 + len(action)]
                return pos, end_pos + len(end_text), " ".join(action).upper()
        return None
    return None


class OnCommit(NamedTuple):
    """A CREATE TEMPORARY TABLE's ON COMMIT DROP or DELETE ROWS clause, which the session carries out at each commit
    (pgoncommit), as DuckDB has only PRESERVE ROWS."""

    name: str  # the table's name as DuckDB binds it (_ident), in DuckDB's temp database
    action: str  # DROP or DELETE ROWS
    if_not_exists: bool  # (a table that exists already is left as it is, clause and all)


def on_commit_table(sql: str) -> OnCommit | None:
    """The ON COMMIT DROP / DELETE ROWS clause of ``CREATE [OR REPLACE] [LOCAL | GLOBAL] TEMP[ORARY] TABLE [IF NOT
    EXISTS] name``; None for any other statement (PRESERVE ROWS, DuckDB's own, too). Of a table that is not
    temporary, PostgreSQL's error (42P16). The clause itself goes in temp_table_sql."""
    on_commit = _on_commit(sql)
    if on_commit is None or on_commit[2] == "PRESERVE ROWS":
        return None
    toks = _words(sql)
    words = [t.lower() for _, t, _ in toks]
    i = 1 + 2 * (words[1:3] == ["or", "replace"])
    i += words[i] in ("local", "global")
    temporary = words[i] in ("temp", "temporary")
    i += temporary
    if words[i] != "table":  # (PostgreSQL's grammar has the clause for tables only)
        raise ProtocolError(f'syntax error at or near "ON": ON COMMIT {on_commit[2]} is a clause of CREATE TEMPORARY '
                            "TABLE only", "42601")
    if not temporary:
        raise ProtocolError("ON COMMIT can only be used on temporary tables", "42P16")
    if_not_exists = words[i + 1:i + 4] == ["if", "not", "exists"]
    i += 1 + 3 * if_not_exists
    while i + 2 < len(toks) and words[i + 1] == ".":
        i += 2  # temp.main.name: its last part names it
    return OnCommit(_ident(toks[i][1]), on_commit[2], if_not_exists)


def creates_on_commit(sql: str) -> bool:
    """Whether ``sql`` is a CREATE TEMPORARY TABLE with ON COMMIT DROP or DELETE ROWS (cheap for other statements)."""
    on_commit = _on_commit(sql)
    return on_commit is not None and on_commit[2] != "PRESERVE ROWS"


# PostgreSQL's temporary-table forms DuckDB cannot parse, which Tableau sends to probe on connect whether it may make
# temporary tables (then for its filter tables): SELECT list INTO [TEMP | TEMPORARY | LOCAL TEMP | GLOBAL TEMP |
# UNLOGGED] [TABLE] name FROM ..., PostgreSQL's CREATE TABLE name AS SELECT list FROM ..., and CREATE LOCAL | GLOBAL
# TEMPORARY TABLE, whose word PostgreSQL ignores (temp_table_sql). INTO ends the select list, so these words end the
# search for it; a word among them after INTO's name means it was no INTO clause PostgreSQL would take.
_SELECT_LIST_ENDS = frozenset(("from", "where", "group", "having", "window", "order", "limit", "offset", "fetch", "for",
                               "union", "except", "intersect", "qualify", ";"))


def temp_table_sql(sql: str) -> str:
    """``sql`` with PostgreSQL's SELECT ... INTO name and CREATE LOCAL / GLOBAL TEMPORARY TABLE as DuckDB's CREATE
    [TEMPORARY] TABLE (see _SELECT_LIST_ENDS); any other statement as it is. Found by DuckDB's tokenizer, so a
    string or a comment saying INTO is never read as one, and looked at only when its first word can begin one."""
    head = sql.lstrip()[:7].lower()
    if head.startswith("create"):
        on_commit = _on_commit(sql)
        if on_commit is not None:
            # PRESERVE ROWS is DuckDB's default, which its parser takes after the columns only, not before AS as
            # PostgreSQL does; DuckDB has no other: the session does DROP and DELETE ROWS at commit (on_commit_table)
            sql = sql[:on_commit[0]] + sql[on_commit[1]:]
        toks = _words_if(sql, "local", "global")
        if toks and len(toks) > 2 and toks[1][1].lower() in ("local", "global") \
                and toks[2][1].lower() in ("temp", "temporary"):
            return sql[:toks[1][0]] + sql[toks[2][0]:]
        return sql
    if not head.startswith(("select", "with")) or "into" not in sql.lower():  # (half _words_if's cost: most SELECTs)
        return sql
    toks = _words_if(sql, "into")
    if not toks:
        return sql
    depth, select, into = 0, None, None
    for i, (_, text, kind) in enumerate(toks):
        depth += {"(": 1, ")": -1}.get(text, 0)
        low = text.lower()
        if depth or kind != "keyword" and text != ";":
            continue
        if select is None:
            select = i if low == "select" else None
        elif low == "into":
            into = i
            break
        elif low in _SELECT_LIST_ENDS:
            return sql

    if into is None:
        return sql

    def word(k: int) -> str:
        return toks[k][1].lower() if k < len(toks) else ""

    j = into + 1
    j += word(j) in ("local", "global") and word(j + 1) in ("temp", "temporary")
    temp = word(j) in ("temp", "temporary")
    j += temp or word(j) == "unlogged"  # DuckDB has no unlogged tables: a table of the database
    j += word(j) == "table"
    first = j
    if j >= len(toks) or toks[j][2] not in ("identifier", "keyword") or word(j) in _SELECT_LIST_ENDS:
        return sql
    while word(j + 1) == "." and j + 2 < len(toks) and toks[j + 2][2] in ("identifier", "keyword"):
        j += 2  # schema.name, database.schema.name
    if j + 1 < len(toks) and word(j + 1) not in _SELECT_LIST_ENDS:
        return sql
    end = toks[j][0] + len(toks[j][1])
    name = sql[toks[first][0]:end]
    query = (sql[:toks[into][0]].rstrip() + " " + sql[end:].lstrip()).strip()
    return f"CREATE {'TEMPORARY ' if temp else ''}TABLE {name} AS {query}"


def returning_select(sql: str) -> str | None:
    """A SELECT with the result columns of ``INSERT INTO t ... RETURNING list`` (UPDATE t [AS a] ... / DELETE FROM t
    [AS a] ...): ``SELECT list FROM t [AS a]``, which DuckDB binds without running the statement; None for another
    statement, a RETURNING list that reads a parameter, or a table written as this does not read it.

    Why: a client that Describes a statement before it runs (asyncpg) decodes its rows by that description; DuckDB
    would have to run a write to describe it. A RETURNING list reads the written table's columns (DuckDB binds no
    other), so the SELECT's columns are the statement's."""
    toks = _words_if(sql, "returning")
    if not toks or toks[0][1].lower() not in ("insert", "update", "delete"):
        return None
    depth, at = 0, None
    for i, (_, word, kind) in enumerate(toks):
        depth += {"(": 1, ")": -1}.get(word, 0)
        if depth == 0 and kind == "keyword" and word.lower() == "returning":
            at = i
    head = toks[0][1].lower()
    first = 1 if head == "update" else 2
    if at is None or len(toks) <= first or toks[first - 1][1].lower() not in ("update", "into", "from"):
        return None
    last = first
    while last + 2 < len(toks) and toks[last + 1][1] == ".":
        last += 2
    end = toks[last][0] + len(toks[last][1])
    nxt = toks[last + 1] if last + 1 < len(toks) else None
    if head != "insert" and nxt is not None and (nxt[1].lower() == "as" or nxt[2] == "identifier"):
        alias = last + 2 if nxt[1].lower() == "as" else last + 1
        if alias < len(toks) and toks[alias][2] == "identifier":
            end = toks[alias][0] + len(toks[alias][1])
    listed = sql[toks[at][0] + len(toks[at][1]):].strip().rstrip(";").strip()
    if not listed or any(w.startswith("$") or w == "?" for _, w, _ in toks[at + 1:]):
        return None
    return f"SELECT {listed} FROM {sql[toks[first][0]:end]}"


def split_statements(sql: str) -> list[str]:
    """``sql`` cut at its statement-ending semicolons, by DuckDB's tokenizer; parts that are only comments dropped."""
    try:
        tokens = sql_tokens(sql)
    except duckdb.Error:
        return [sql]
    cuts = [pos for pos, kind in tokens if kind == duckdb.token_type.operator and sql[pos] == ";"]
    starts = [0, *(c + 1 for c in cuts)]
    ends = [*cuts, len(sql)]
    parts = []
    for a, b in zip(starts, ends, strict=True):
        inner = [k for pos, k in tokens if a <= pos < b and k != duckdb.token_type.comment]
        if inner:
            parts.append(sql[a:b])
    return parts or [sql]
