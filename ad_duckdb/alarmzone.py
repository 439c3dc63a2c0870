"""The zone alarm_rate reads days in (its weekend and day-volume checks, and what a day of rows is): a TIMESTAMPTZ
column's days are the caller's session zone's (DuckDB's TimeZone on the connection given), or ``tz=`` (CLI
``--tz``); a plain TIMESTAMP's are its own wall time, or, with ``tz=``, the zone's, the times taken as UTC.

Why: the rows' days were read off epoch seconds, which are UTC: a Pacific table's Saturday ran from Friday 17:00
to Saturday 17:00, and a weekend pattern was measured (and its fix said) on the wrong days. The rows' own cursor
holds no session setting of the caller's (a DuckDB cursor is a connection of its own, in the process's zone), so
the zone is read from the caller's connection and named in the SQL.
"""

from __future__ import annotations

from typing import Any

import duckdb

from .exceptions import OptionError
from .sqltext import quote_ident, quote_literal


def zoned(sql_type: str) -> bool:
    return "WITH TIME ZONE" in sql_type.upper() or sql_type.strip().upper() == "TIMESTAMPTZ"


def zone(con: Any, sql_type: str, tz: str | None, who: str) -> str | None:
    """The zone whose days the rows' times are read in; None for a column's own wall time (a DATE, whatever ``tz``
    says; a TIMESTAMP without ``tz``). An unknown ``tz`` is refused by name, with DuckDB's candidates."""
    if tz is not None:
        if not isinstance(tz, str) or not tz.strip():
            raise OptionError(f"{who}: tz= (CLI: --tz) must name a time zone, e.g. 'America/Los_Angeles'; got {tz!r}.")
        try:
            con.execute(f"SELECT timezone({quote_literal(tz)}, TIMESTAMPTZ '2000-01-01 00:00:00+00')").fetchall()
        except duckdb.Error as e:
            near = str(e).partition("Candidate time zones:")[2].strip()
            raise OptionError(f"{who}: tz={tz!r} (CLI: --tz) is no time zone DuckDB knows"
                              f"{f'; near: {near}' if near else ''}; name one as 'America/Los_Angeles' or 'UTC' "
                              "(SELECT name FROM pg_timezone_names() lists them).") from None
        # a DATE has no zone: read as midnight UTC moved into tz, a Pacific Saturday became Friday afternoon
        return None if sql_type.strip().upper() == "DATE" else tz
    if not zoned(sql_type):
        return None
    try:
        return str(con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0])
    except duckdb.Error:
        return "UTC"


def local_sql(column: str, sql_type: str, zone_name: str | None) -> str | None:
    """Each row's wall time in ``zone_name`` as epoch seconds (a DOUBLE), whose whole days are that zone's days;
    None where the column's own epoch seconds are them already."""
    if zone_name is None:
        return None
    col = quote_ident(column)
    at = col if zoned(sql_type) else f"timezone('UTC', {col}::TIMESTAMP)"
    return f"epoch(timezone({quote_literal(zone_name)}, {at}))::DOUBLE"


def day_of_week_sql(column: str, sql_type: str, zone_name: str | None) -> str:
    """The SQL of the rows' day of the week in that zone, for the warning's suggested filter."""
    if zone_name is None:
        return f"dayofweek({column})"
    at = column if zoned(sql_type) else f"timezone('UTC', {column}::TIMESTAMP)"
    return f"dayofweek(timezone({quote_literal(zone_name)}, {at}))"
