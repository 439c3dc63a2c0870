"""A session's settings as PostgreSQL's SET, SET LOCAL, RESET and SHOW treat them: the ones the session keeps itself
(statement_timeout, application_name, the dotted app.* ones, pgknobs' work_mem and the like), DuckDB's that it keeps
per cursor (search_path, TimeZone), the PostgreSQL-only ones taken as no-ops, and SET GLOBAL refused; each undone
when its transaction block rolls back (``set_setting``, ``held_in_transaction``, ``end_settings``).

Free functions over the session's state (``pgstate.SessionState``), which ``pgsession.Session.compat`` calls as it
answers a statement. Like the other ``pg*`` helpers, this module never imports ``server`` and speaks no wire protocol.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import duckdb

from .pgcatalogsql import SEARCH_PATH_SQL
from .pgcommands import (
    ACCESS_METHOD_RE,
    CLIENT_ENCODING_RE,
    DATESTYLE_RE,
    INTERVALSTYLE_RE,
    PG_SHOW_COLUMNS,
    RESET_RE,
    SEARCH_PATH_RE,
    SET_LOCAL_RE,
    SET_RE,
    SET_SCOPE,
    UNLISTEN_RE,
    UNLOCK_ALL_RE,
    SetCommand,
    access_method_error,
    client_encoding_error,
    custom_value,
    datestyle_error,
    intervalstyle_error,
    search_path_sql,
    set_command,
    timeout_ms,
)
from .pgcommands import PG_SHOW as _PG_SHOW
from .pgerrors import ProtocolError, in_failed_transaction
from .pgknobs import KNOBS, knob_value
from .pgposixzone import posix_rules_hint
from .pgresult import Result
from .pgsql import from_first_word
from .pgstate import SessionState
from .pgzones import Zone, offset_zone
from .sqltext import quote_literal

# The server's logger, not one of this module's own: what a session logs (a setting it could not restore) reads as
# the server's, and the one logging setting of `ad-duckdb serve` covers it.
log = logging.getLogger("ad_duckdb.server")

# SHOW names whose answer is whether the server may change its database (Session.read_only).
_READ_ONLY_SHOW = {"transaction_read_only", "default_transaction_read_only"}
# PostgreSQL-only session settings clients SET on connect; DuckDB has no such option, so SET is a no-op.
_PG_ONLY_SETTINGS = {
    "application_name", "client_encoding", "datestyle", "intervalstyle", "extra_float_digits",
    "lock_timeout", "idle_in_transaction_session_timeout", "client_min_messages", "standard_conforming_strings",
    "bytea_output", "jit", "default_transaction_isolation", "default_transaction_read_only", "session characteristics",
    # PostgreSQL's memory and planner knobs (a session's SET work_mem before a big query) and the settings a pg_dump
    # script opens with: DuckDB's own settings were "locked", which read as a refusal of the session's right to tune
    "work_mem", "maintenance_work_mem", "temp_buffers", "effective_cache_size", "random_page_cost", "seq_page_cost",
    "default_statistics_target", "synchronous_commit", "idle_session_timeout", "check_function_bodies",
    "row_security", "xmloption", "default_tablespace", "default_table_access_method",
}
# PostgreSQL-only settings whose SET is taken only with the value the server keeps anyway: the regex of the SET, and
# why another value is refused (a SET that said SET while nothing changed misled the client).
_CHECKED_SETTINGS = ((DATESTYLE_RE, datestyle_error), (INTERVALSTYLE_RE, intervalstyle_error),
                     (CLIENT_ENCODING_RE, client_encoding_error), (ACCESS_METHOD_RE, access_method_error))
# The settings DuckDB keeps per cursor that a session changes with DuckDB's own SET, by PostgreSQL's name (lower case,
# as set_command gives it): DuckDB's name. No ROLLBACK of DuckDB's undoes them; the session does (held_in_transaction).
_HELD = {"search_path": "search_path", "timezone": "TimeZone"}


def set_timeout(s: SessionState, sql: str, m: re.Match[str]) -> Result:
    """SET [LOCAL] / RESET statement_timeout (``m``: pgcommands.TIMEOUT_RE's match of ``sql``)."""
    # Enforced by the server (Handler.loop), unlike the PostgreSQL-only settings accepted as no-ops (set_or_reset).
    local, value = m.group(1), m.group(2)
    default = value is None or value.strip().strip("'\"").strip().lower() == "default"
    set_setting(s, "timeout_ms", s.timeout_default if default else timeout_ms(value), bool(local))
    return Result("SET" if sql.lstrip()[:3].lower() == "set" else "RESET")


def set_application_name(s: SessionState, a: re.Match[str]) -> Result:
    """SET [LOCAL] application_name (``a``: pgcommands.APPLICATION_NAME_RE's match): what SHOW application_name and
    pg_stat_activity say."""
    value = a.group("value").strip()
    if value.lower() == "default":  # RESET's meaning, as in PostgreSQL; a quoted 'default' is a name
        value = s.application_name_default
    elif len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1].replace(value[0] * 2, value[0])
    set_setting(s, "application_name", value, bool(a.group("local")))
    return Result("SET")


def show(s: SessionState, m: re.Match[str]) -> Result | None:
    """SHOW of a setting (``m``: pgcommands.SHOW_RE's match) as PostgreSQL answers it; None for DuckDB's own SHOW TABLES /
    DATABASES / ALL."""
    if (key := m.group("name").strip().lower()) in KNOBS and key in s.custom_settings:
        return Result.constant(key, s.custom_settings[key])
    if " ".join(m.group("name").lower().split()) == "application_name":
        return Result.constant("application_name", s.application_name)
    if " ".join(m.group("name").lower().split()) == "statement_timeout":
        ms = s.timeout_ms
        return Result.constant("statement_timeout", f"{ms // 1000}s" if ms and not ms % 1000 else f"{ms}ms" if ms else "0")
    if " ".join(m.group("name").lower().split()) in _READ_ONLY_SHOW:
        # Why not a fixed "off": a tool that asks before offering to edit rows (DBeaver, Metabase) then tries
        # writes a read-only server refuses
        name = m.group("name").strip().lower()
        on = s.read_only or (s.read_only_default if name.startswith("default") else s.txn_read_only())
        return Result.constant(name, "on" if on else "off")
    if " ".join(m.group("name").lower().split()) in _PG_SHOW:
        key = " ".join(m.group("name").lower().split())
        return Result.constant(PG_SHOW_COLUMNS.get(key, key.replace(" ", "_")), _PG_SHOW[key])
    if m.group("name").strip().lower() == "max_connections":
        return Result.constant("max_connections", str(s.max_connections))
    if " ".join(m.group("name").lower().split()) in ("timezone", "time zone"):
        # PostgreSQL's name of an offset zone ('<-07>+07'), which DuckDB's SHOW knows only as ICU's
        s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        read_zone(s)
        return Result.constant("TimeZone", s.time_zone)
    if " ".join(m.group("name").lower().split()) == "search_path":
        s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        return Result.constant("search_path", s.cur.execute(f"SELECT {SEARCH_PATH_SQL}").fetchall()[0][0])
    return show_setting(s, m.group("name"))


def set_search_path(s: SessionState, sql: str) -> Result | str | None:
    """SET [LOCAL] / RESET search_path: DuckDB's SET of it, to run (what undoes it kept: held_in_transaction); None
    for any other statement."""
    path = search_path_sql(sql)
    reset = RESET_RE.match(sql)
    if path == "RESET search_path" or reset is not None and reset.group(1).lower() == "search_path":
        path = default_sql(s, "search_path")  # the connection's own path, if it gave one
    if path is None:
        return None
    local = (p := SEARCH_PATH_RE.match(sql)) is not None and p.group("local") is not None
    if local and s.outside():
        return Result("SET")  # outside any transaction SET LOCAL does nothing (it warned: warn_set_local)
    held_in_transaction(s, "search_path", path, local)
    return path


def check_value(s: SessionState, sql: str) -> None:
    """Refuse a SET of a PostgreSQL-only setting to another value than the one the server keeps anyway
    (_CHECKED_SETTINGS)."""
    for pattern, refusal in _CHECKED_SETTINGS:
        if (d := pattern.match(sql)) is not None and (err := refusal(d.group(1))) is not None:
            if s.status == b"T":
                s.status = b"E"  # as any error in a transaction block
            raise err


def set_or_reset(s: SessionState, sql: str) -> Result | None:
    """SET / RESET of pgknobs' settings and of the PostgreSQL-only ones (no-ops), RESET ALL, UNLISTEN and
    pg_advisory_unlock_all(); None for any other statement."""
    m = SET_RE.match(sql)
    if m and SET_SCOPE.sub("", " ".join(m.group(1).lower().split())) in KNOBS \
            and (cmd := set_command(sql)) is not None:
        return set_knob(s, cmd.name, cmd.value, cmd.scope == "local")
    if m and SET_SCOPE.sub("", " ".join(m.group(1).lower().split())) in _PG_ONLY_SETTINGS:
        return Result("SET")
    m = RESET_RE.match(sql)
    if m and m.group(1).lower() in KNOBS:
        return set_knob(s, m.group(1).lower(), None, False, "RESET")
    if m and (m.group(1).lower() == "all" or m.group(1).lower() in _PG_ONLY_SETTINGS) \
            or UNLISTEN_RE.match(sql) or UNLOCK_ALL_RE.match(sql):
        if s.status == b"E":
            raise in_failed_transaction()
        if UNLOCK_ALL_RE.match(sql):  # PostgreSQL's void result: one row, an empty value
            return Result("SELECT", [("pg_advisory_unlock_all", 2278, 4)], iter([("",)]))
        if m and m.group(1).lower() == "all":
            reset_settings(s)
        elif m and m.group(1).lower() == "application_name":
            set_setting(s, "application_name", s.application_name_default)
        elif m and m.group(1).lower() == "default_transaction_read_only":
            set_setting(s, "read_only_default", False)
        return Result("RESET" if m else "UNLISTEN")
    return None


def set_custom(s: SessionState, m: re.Match[str]) -> Result:
    """SET [SESSION | LOCAL] / RESET of a dotted name (app.tenant), which PostgreSQL keeps for the session as
    any client sets it (a dashboard's per-session context its SQL reads by current_setting): with a SET's rules
    (set_setting). RESET leaves it empty, as PostgreSQL's placeholder. Why: DuckDB refused the name."""
    name = m.group("name").lower()
    groups = m.groupdict()
    value = custom_value(groups["value"].strip()) if "value" in groups else None
    if (groups.get("scope") or "").strip().lower() == "local" and s.outside():
        return Result("SET")  # outside any transaction SET LOCAL does nothing (it warned: warn_set_local)
    set_setting(s, "custom_settings", {**s.custom_settings, name: "" if value is None else value},
                (groups.get("scope") or "").strip().lower() == "local")
    return Result("SET" if "value" in groups else "RESET")


def set_knob(s: SessionState, name: str, value: str | None, local: bool, tag: str = "SET") -> Result:
    """SET [LOCAL] / RESET of one of PostgreSQL's settings that change nothing here (pgknobs: work_mem), kept for
    the session as PostgreSQL shows it, with a SET's rules (set_setting); ``value`` None is RESET's (SET ...
    DEFAULT): the connection's own, else PostgreSQL's default (pgcommands.PG_SHOW). Why: SET work_mem = '64MB' said
    SET, and SHOW work_mem went on saying 4MB."""
    try:
        if s.status == b"E":
            raise in_failed_transaction()
        shown = None if value is None else knob_value(name, value)
    except ProtocolError:
        if s.status == b"T":
            s.status = b"E"  # as any error in a transaction block
        raise
    if local and s.outside():
        return Result("SET")  # outside any transaction SET LOCAL does nothing (it warned: warn_set_local)
    kept = {k: v for k, v in s.custom_settings.items() if k != name}
    if (shown := s.knob_defaults.get(name) if shown is None else shown) is not None:
        kept[name] = shown
    set_setting(s, "custom_settings", kept, local)
    return Result(tag)


def show_custom(s: SessionState, name: str) -> Result:
    """SHOW of a dotted name: the session's value (set_custom), else PostgreSQL's error."""
    if s.status == b"E":
        raise in_failed_transaction()
    if name not in s.custom_settings:
        if s.status == b"T":
            s.status = b"E"  # as any error in a transaction block
        raise ProtocolError(f'unrecognized configuration parameter "{name}"', "42704")
    return Result.constant(name, s.custom_settings[name])


def show_setting(s: SessionState, name: str) -> Result | None:
    """SHOW of a name the answers above do not know, as PostgreSQL's: a DuckDB setting's value, else PostgreSQL's
    error (42704); None for DuckDB's own SHOW TABLES / DATABASES / ALL. Why: DuckDB reads SHOW NAME as DESCRIBE
    NAME, so a tool probing a setting got "Table with name ... does not exist" (42P01), which no PostgreSQL
    client takes for an unknown setting."""
    key = " ".join(name.lower().split())
    if key.split()[0] in ("tables", "databases", "all"):
        return None
    s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
    found = s.cur.execute("SELECT value FROM duckdb_settings() WHERE lower(name) = ?", [key]).fetchall()
    if found:
        return Result.constant(key, "" if found[0][0] is None else str(found[0][0]))
    if s.status == b"T":
        s.status = b"E"  # as any error in a transaction block
    raise ProtocolError(f'unrecognized configuration parameter "{key}"', "42704")


def reset_settings(s: SessionState) -> None:
    """PostgreSQL's RESET ALL (also part of DISCARD ALL), for the settings a session here can change: the next
    user of a pooled connection gets neither the last one's statement_timeout nor its SET search_path / USE /
    SET schema (its FROM tx read the last one's analytics.tx) nor its time zone."""
    set_setting(s, "timeout_ms", s.timeout_default)
    set_setting(s, "application_name", s.application_name_default)
    set_setting(s, "read_only_default", False)
    set_setting(s, "isolation_default", "serializable")
    # (a dotted one stays, empty, as PostgreSQL's placeholder does)
    set_setting(s, "custom_settings", {**{k: "" for k in s.custom_settings if "." in k}, **s.knob_defaults})
    s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
    for name in _HELD:
        sql = default_sql(s, name)
        held_in_transaction(s, name, sql, local=False)
        s.cur.execute(sql)
    read_zone(s, s.default_zone)


def default_sql(s: SessionState, name: str) -> str:
    """The SQL that sets _HELD setting ``name`` back to the connection's own (given at startup, else DuckDB's)."""
    return s.held_defaults.get(name) or f"RESET {_HELD[name]}"


def read_zone(s: SessionState, named: Zone | None | bool = False) -> None:
    """Read the time zone DuckDB now holds (its own spelling: 'utc' is 'UTC'), which ready() reports; an offset
    zone by PostgreSQL's name for it (zone_names). ``named``: a SET just gave it, an offset (its Zone) or a name
    (None), which is from now on what DuckDB's zone is called."""
    zone = str(s.cur.execute("SELECT current_setting('TimeZone')").fetchall()[0][0])
    if isinstance(named, Zone):
        s.zone_names[zone] = named.shown
    elif named is None:
        s.zone_names.pop(zone, None)  # 'Etc/GMT+7' as such, though SET TIME ZONE -7 is DuckDB's Etc/GMT+7
    s.duckdb_zone, s.time_zone = zone, s.zone_names.get(zone, zone)


def zone_sql(value: str) -> tuple[str, Zone | None]:
    """DuckDB's SET of PostgreSQL's TimeZone ``value``, and the offset zone it is (SET TIME ZONE -7, an INTERVAL, a
    POSIX spec: pgzones), None for a name, set as written. An offset DuckDB cannot hold: PostgreSQL's 22023."""
    zone = offset_zone(value)
    return f"SET TimeZone = {quote_literal(zone.duckdb if zone else value)}", zone


def set_setting(s: SessionState, name: str, value: Any, local: bool = False) -> None:
    """SET [LOCAL] of a setting the session keeps itself (its attribute ``name``), with PostgreSQL's rules: inside
    a transaction block it is undone if the block rolls back, and SET LOCAL lasts until the block ends (outside
    one it does nothing; PostgreSQL only warns). Why: a rolled-back SET application_name stayed, so
    pg_stat_activity and the driver named a tool the ROLLBACK had undone."""
    if s.status == b"E":  # as any statement but the block's end, in PostgreSQL
        raise in_failed_transaction()
    if s.outside():
        if not local:
            setattr(s, name, value)
        return  # (SET LOCAL: its transaction ends with it; it warned, warn_set_local)
    before, after = s.set_in_transaction.get(name, (getattr(s, name), getattr(s, name)))
    s.set_in_transaction[name] = (before, after if local else value)
    setattr(s, name, value)


def held_in_transaction(s: SessionState, name: str, sql: str, local: bool) -> None:
    """``sql`` (DuckDB's SET or RESET of _HELD setting ``name``) is about to run: inside a transaction block, keep
    what undoes it, as set_setting does for the session's own settings; DuckDB's ROLLBACK does not."""
    if s.status == b"E" or s.outside():
        return  # outside a block it simply holds; in a failed one _one refuses it
    if name not in s.set_in_transaction:
        s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        now = s.cur.execute(f"SELECT current_setting({quote_literal(_HELD[name])})").fetchall()[0][0]
        back = f"SET {_HELD[name]} = {quote_literal(now)}" if now else f"RESET {_HELD[name]}"
        s.set_in_transaction[name] = (back, (back, False))
    # after COMMIT: the last session SET's, and whether a SET LOCAL ran since (else DuckDB holds it already)
    before, (after, _) = s.set_in_transaction[name]
    s.set_in_transaction[name] = (before, (after, True) if local else (sql, False))


def session_set(s: SessionState, sql: str) -> Result | None:
    """SET GLOBAL refused, and SET [LOCAL] / RESET of the time zone run; None for any other statement. By DuckDB's
    tokenizer (set_command), so no spelling of SET GLOBAL reaches DuckDB, which would change every session's."""
    cmd = set_command(sql)
    if cmd is None or cmd.scope != "global" and cmd.name != "timezone":
        return None
    try:
        if s.status == b"E":
            raise in_failed_transaction()
        if cmd.scope == "global":
            raise ProtocolError("SET GLOBAL is refused on this server: it would change the setting for every "
                                "session, which PostgreSQL's SET never does; SET without GLOBAL changes this "
                                "session's only (SET LOCAL: until the transaction block ends).", "0A000")
        s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
        return set_zone(s, cmd, "RESET" if sql.lstrip()[:5].lower() == "reset" else "SET")
    except ProtocolError:
        if s.status == b"T":
            s.status = b"E"  # as any error in a transaction block
        raise


def set_zone(s: SessionState, cmd: SetCommand, tag: str) -> Result:
    """SET [LOCAL] TimeZone / SET TIME ZONE / RESET TimeZone: this session's zone (DuckDB's, per cursor), as
    PostgreSQL's; a zone DuckDB does not know is PostgreSQL's error, naming it."""
    sql, zone = (default_sql(s, "timezone"), None) if cmd.value is None else zone_sql(cmd.value)
    local = cmd.scope == "local"
    if local and s.outside():
        return Result("SET")  # outside any transaction SET LOCAL does nothing (it warned: warn_set_local)
    held_in_transaction(s, "timezone", sql, local)
    try:
        s.cur.execute(sql)
    except duckdb.Error as e:
        why = posix_rules_hint(cmd.value or "") or ("a zone name DuckDB knows, as in SELECT name FROM "
                                              "pg_timezone_names(); say 'Europe/Paris', 'UTC'")
        raise ProtocolError(f'invalid value for parameter "TimeZone": "{cmd.value}" ({why})', "22023") from e
    # (RESET: the connection's own zone, by its name, though an offset SET since gave DuckDB's zone another one)
    read_zone(s, zone if cmd.value is not None else s.default_zone)
    return Result(tag)


def end_settings(s: SessionState, committed: bool) -> None:
    """The transaction block ended: its SETs stay if it committed (but SET LOCAL's), else they are undone."""
    for name, (before, after) in s.set_in_transaction.items():
        if name in _HELD:  # DuckDB's (held_in_transaction), set again outside the transaction
            restore_held(s, name, before if not committed else after[0] if after[1] else None)
        elif name == "custom_settings":
            # a dotted setting first SET in the block stays, empty, whatever undoes its value: PostgreSQL's
            # placeholder outlives the ROLLBACK or SET LOCAL that created it (current_setting('app.x', true) is '')
            kept = after if committed else before
            made = {k: "" for k in (*s.custom_settings, *after) if "." in k and k not in kept}
            s.custom_settings = {**kept, **made}
        else:
            setattr(s, name, after if committed else before)
    s.set_in_transaction.clear()
    s.read_only_txn = s.isolation_txn = None
    s.duck_read_only = False


def restore_held(s: SessionState, name: str, sql: str | None) -> None:
    """Set _HELD setting ``name`` again as a transaction's end leaves it (None: as it is). A schema a search path
    names may be gone (dropped in the transaction): then the connection's own, as the transaction's end must not
    fail."""
    if sql is None:
        return
    s.release()  # a suspended result's unread rows would be lost to the next execute on this cursor
    try:
        s.cur.execute(sql)
    except duckdb.Error as e:
        log.warning("%s after the transaction (%s) failed, the connection's own instead: %s", name, sql, e)
        s.cur.execute(default_sql(s, name))
    if name == "timezone":
        read_zone(s)


def warn_set_local(s: SessionState, sql: str, alone: bool) -> None:
    """PostgreSQL's WARNING for SET LOCAL outside a transaction block: in autocommit, a Query of one statement
    (``alone``; several are an implicit block) or the extended protocol's implicit transaction, which is no block
    (it still applies, until Sync: set_setting). It said SET as if the setting held."""
    if s.status == b"I" and alone and SET_LOCAL_RE.match(from_first_word(sql)):
        s.notices.append(("SET LOCAL can only be used in transaction blocks", "25P01", "WARNING"))
