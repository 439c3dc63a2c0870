"""PostgreSQL's commands that the server answers itself rather than DuckDB, recognised and read from their text: SET,
SHOW and RESET of settings (PostgreSQL-only ones, statement_timeout, application_name, search_path, DateStyle, dotted
custom settings, set_config()), BEGIN's and SET TRANSACTION's modes, SAVEPOINT, DISCARD, DEALLOCATE, LISTEN; the
settings a client gives at startup; and PostgreSQL's answers for the settings DuckDB lacks (PG_SHOW).

The answers are the session's (pgsession, pgsettings, pgtxn, pgdiscard). Like the other ``pg*`` helpers, this module
never imports ``server`` and speaks no wire protocol.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import duckdb

from .pgerrors import ProtocolError
from .pgsql import _words, bare_text
from .pgtypes import MAX_IDENTIFIER_LENGTH
from .sqltext import sql_words

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
