"""The zone alarm_rate reads days in (its weekend and day-volume checks, and what a day of rows is): a TIMESTAMPTZ
column's days are the caller's session zone's (DuckDB's TimeZone on the connection given), or ``tz=`` (CLI
``--tz``); a plain TIMESTAMP's are its own wall time, or, with ``tz=``, the zone's, the times taken as UTC unless
``timestamps_in=`` (CLI ``--timestamps-in``) names the zone whose wall-clock times they are (a Paris logger's): then
each is that zone's instant, its days that zone's (or ``tz``'s), and a DST change's short or long day is as long as it
was.

Why ``timestamps_in``: ``tz`` took a TIMESTAMP as UTC, so a table of Paris wall-clock times read with
``tz='Europe/Paris'`` was moved on by an hour in winter and two in summer (business hours 9:00-16:59 read as
10:00-18:59 across the March change), and the user could not say the times were Paris's own.

Why: the rows' days were read off epoch seconds, which are UTC: a Pacific table's Saturday ran from Friday 17:00
to Saturday 17:00, and a weekend pattern was measured (and its fix said) on the wrong days. The rows' own cursor
holds no session setting of the caller's (a DuckDB cursor is a connection of its own, in the process's zone), so
the zone is read from the caller's connection and named in the SQL.
"""

from __future__ import annotations

from typing import Any

import duckdb

from . import optionwords
from .exceptions import OptionError
from .sqltext import quote_ident, quote_literal


def zoned(sql_type: str) -> bool:
    return "WITH TIME ZONE" in sql_type.upper() or sql_type.strip().upper() == "TIMESTAMPTZ"


def _known(con: Any, tz: Any, arg: str, who: str) -> str:
    """``tz`` as a zone DuckDB knows, else refused by name with DuckDB's candidates."""
    if not isinstance(tz, str) or not tz.strip():
        raise OptionError(f"{who}: {optionwords.opt(arg)} must name a time zone, e.g. 'America/Los_Angeles'; got "
                          f"{tz!r}.")
    try:
        con.execute(f"SELECT timezone({quote_literal(tz)}, TIMESTAMPTZ '2000-01-01 00:00:00+00')").fetchall()
    except duckdb.Error as e:
        near = str(e).partition("Candidate time zones:")[2].strip()
        raise OptionError(f"{who}: {optionwords.opt(arg, tz)} is no time zone DuckDB knows"
                          f"{f'; near: {near}' if near else ''}; name one as 'America/Los_Angeles' or 'UTC' "
                          "(SELECT name FROM pg_timezone_names() lists them).") from None
    return tz


def stored_in(con: Any, column: str, sql_type: str, timestamps_in: str | None, who: str) -> str | None:
    """The zone whose wall-clock times a TIMESTAMP column holds (``timestamps_in``, checked); None where none is
    named or the column is a DATE (its days are its own). A TIMESTAMPTZ holds instants: refused with the fix."""
    if timestamps_in is None:
        return None
    named = _known(con, timestamps_in, "timestamps_in", who)
    if zoned(sql_type):
        raise OptionError(f"{who}: time column {column!r} is a TIMESTAMPTZ, which holds instants, not wall-clock "
                          f"times: leave {optionwords.opt('timestamps_in')} out, and name the zone whose days count "
                          f"with {optionwords.opt('tz', named)}.")
    return None if sql_type.strip().upper() == "DATE" else named


def zone(con: Any, sql_type: str, tz: str | None, who: str, timestamps_in: str | None = None) -> str | None:
    """The zone whose days the rows' times are read in; None for a column's own wall time (a DATE, whatever ``tz``
    says; a TIMESTAMP without ``tz``). An unknown ``tz`` is refused by name, with DuckDB's candidates.
    ``timestamps_in``: the zone a TIMESTAMP's wall-clock times are in (``stored_in``), whose days count where ``tz``
    names none."""
    if tz is not None:
        tz = _known(con, tz, "tz", who)
        # a DATE has no zone: read as midnight UTC moved into tz, a Pacific Saturday became Friday afternoon
        return None if sql_type.strip().upper() == "DATE" else tz
    if timestamps_in is not None and not zoned(sql_type):
        return timestamps_in
    if not zoned(sql_type):
        return None
    try:
        return str(con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0])
    except duckdb.Error:
        return "UTC"


def instant_sql(column: str, sql_type: str, stored: str | None) -> str:
    """The SQL of each row's instant: a TIMESTAMP of ``stored``'s wall-clock times as that zone's (a TIMESTAMPTZ),
    else the column (UTC's, as epoch() reads a TIMESTAMP)."""
    return column if stored is None or zoned(sql_type) else f"timezone({quote_literal(stored)}, {column}::TIMESTAMP)"


def local_sql(column: str, sql_type: str, zone_name: str | None, stored: str | None = None) -> str | None:
    """Each row's wall time in ``zone_name`` as epoch seconds (a DOUBLE), whose whole days are that zone's days;
    None where the column's own epoch seconds are them already. ``stored``: the zone of a TIMESTAMP's wall-clock
    times (default UTC)."""
    if zone_name is None:
        return None
    at = day_sql(quote_ident(column), sql_type, stored)
    return f"epoch(timezone({quote_literal(zone_name)}, {at}))::DOUBLE"


def day_sql(column: str, sql_type: str, stored: str | None) -> str:
    """The SQL of each row's instant as a TIMESTAMPTZ (a TIMESTAMP's wall-clock times ``stored``'s, else UTC's)."""
    return column if zoned(sql_type) else f"timezone({quote_literal(stored or 'UTC')}, {column}::TIMESTAMP)"


def day_of_week_sql(column: str, sql_type: str, zone_name: str | None, stored: str | None = None) -> str:
    """The SQL of the rows' day of the week in that zone, for the warning's suggested filter."""
    if zone_name is None:
        return f"dayofweek({column})"
    return f"dayofweek(timezone({quote_literal(zone_name)}, {day_sql(column, sql_type, stored)}))"


def assumed(column: str, sql_type: str, zone_name: str | None, stored: str | None) -> str:
    """What the statement says of the zone its days are read in ('' for a column's own days): a TIMESTAMP read in
    a zone says whose wall-clock times it took them for, and how to say otherwise."""
    if zone_name is None or zoned(sql_type):
        return f"days in {zone_name}" if zone_name else ""
    if stored is not None:
        return f"days in {zone_name}, {column}'s times read as {stored} wall-clock times"
    return (f"days in {zone_name}, {column}'s TIMESTAMP times taken as UTC; if they are {zone_name} wall-clock "
            f"times, say so with {optionwords.stored('timestamps_in', zone_name)}")
