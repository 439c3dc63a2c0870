"""PostgreSQL's time zones that are offsets from UTC, as zones DuckDB (ICU) holds, and their PostgreSQL names.

PostgreSQL reads SET TIME ZONE -7 / 5.5 as hours east of UTC, SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE as an
offset east, and a POSIX spec ('<+05:30>-05:30', 'GMT-05:30', 'UTC+7': a name, then hours WEST of UTC) as POSIX says
(PostgreSQL's check_timezone, pg_tzset). DuckDB knows none of the first two, and reads 'GMT-09:00' and 'UTC+7' with
the ISO sign, the other way round: PgJDBC sends 'GMT-09:00' at connect for a JVM at GMT+09:00. Each becomes IANA's
fixed zone 'Etc/GMT-9' (POSIX sign: 9 hours east), which both DuckDB and Python's zoneinfo know; the session shows
PostgreSQL's name for it (SHOW TimeZone, ParameterStatus): '<+09>-09' for an offset (pg_tzset_offset), a POSIX spec
as written, in upper case.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import duckdb

from .pgerrors import ProtocolError

# strtod's number, which PostgreSQL takes as hours east (not Python's float(): '1_0', 'inf', 'nan')
_HOURS = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# INTERVAL 'text' [qualifier], as SET TIME ZONE writes it, or as PostgreSQL's GUC holds it (interval '...'): any
# field of PostgreSQL's grammar (opt_interval), of which a time zone takes HOUR and HOUR TO MINUTE
_SECOND = r"second(?:\s*\(\s*\d+\s*\))?"
_INTERVAL = re.compile(r"interval\s*'((?:[^']|'')*)'\s*(year(?:\s+to\s+month)?|month|"
                       rf"day(?:\s+to\s+(?:hour|minute|{_SECOND}))?|hour(?:\s+to\s+(?:minute|{_SECOND}))?|"
                       rf"minute(?:\s+to\s+{_SECOND})?|{_SECOND})?", re.I)
_CLOCK = re.compile(r"([+-]?)(\d+)(?::(\d+)(?::(\d+(?:\.\d*)?))?)?")
# A POSIX spec without daylight-saving rules: a name (3+ letters, or anything in <>), then the hours WEST of UTC.
# IANA's names of this shape (GMT0, GMT+0, GMT-0) are offset 0, which reads the same either way.
_POSIX = re.compile(r"(<[A-Za-z0-9:+-]+>|[A-Za-z]{3,})([+-]?)(\d{1,3})(?::(\d{1,2})(?::(\d{1,2}))?)?")
# An offset without a name: PostgreSQL refuses it (no POSIX spec, no number), and so does DuckDB.
_BARE_OFFSET = re.compile(r"[+-]\d{1,2}:\d{2}(?::\d{2})?")


class Zone(NamedTuple):
    duckdb: str  # what DuckDB's SET TimeZone is given (IANA's Etc/GMT zones)
    shown: str  # PostgreSQL's name of it: SHOW TimeZone, current_setting, the ParameterStatus


def _refused(value: str, why: str) -> ProtocolError:
    return ProtocolError(f'invalid value for parameter "TimeZone": "{value}" ({why})', "22023")


def _clock(text: str) -> tuple[int, int, float] | None:
    """[+-]H[:M[:S]] as signed hours, minutes, seconds (the sign on each); None for any other text."""
    m = _CLOCK.fullmatch(text.strip())
    if m is None:
        return None
    sign = -1 if m.group(1) == "-" else 1
    return sign * int(m.group(2)), sign * int(m.group(3) or 0), sign * float(m.group(4) or 0)


def _interval_seconds(value: str, text: str, qualifier: str | None) -> int:
    """The seconds of INTERVAL 'text' [HOUR | HOUR TO MINUTE], truncated to its field as PostgreSQL's typmod does."""
    field = (qualifier or "").lower().split()
    lone = _HOURS.fullmatch(text.strip())
    if lone is not None and field:  # a lone number is the qualifier's last field: '4' HOUR, '30' HOUR TO MINUTE
        return _whole(float(text) * (3600 if field == ["hour"] else 60))
    clock = _clock(text)
    if clock is not None:
        seconds = clock[0] * 3600 + clock[1] * 60 + clock[2]
    else:
        try:  # '2 hours', '-8 hours 30 minutes': DuckDB's reading of an interval
            with duckdb.connect() as con:
                months, days, micros = con.execute(
                    "SELECT datepart('year', i) * 12 + datepart('month', i), datepart('day', i), "
                    "datepart('hour', i) * 3600000000 + datepart('minute', i) * 60000000 + datepart('microseconds', i) "
                    "FROM (SELECT CAST($1 AS INTERVAL) AS i)", [text]).fetchall()[0]
        except duckdb.Error as e:
            raise _refused(value, f"not an interval: {str(e).splitlines()[0]}") from e
        if months:
            raise _refused(value, "Cannot specify months in time zone interval.")
        if days:
            raise _refused(value, "Cannot specify days in time zone interval.")
        seconds = micros / 1e6
    step = 3600 if field == ["hour"] else 60 if field else 1
    return _whole(seconds / step) * step  # truncated toward zero, as C's division


def _whole(seconds: float) -> int:
    """Truncated toward zero, as C's conversion; clamped, so 1e400 hours is out of range rather than Python's error."""
    return int(max(-1e12, min(1e12, seconds)))


def _posix_name(east: int) -> str:
    """pg_tzset_offset's name of an offset: '<-07>+07' for 7 hours west, '<+05:30>-05:30' for 5:30 east."""
    n = abs(east)
    text = f"{n // 3600:02d}"
    if n % 3600:
        text += f":{n % 3600 // 60:02d}" + (f":{n % 60:02d}" if n % 60 else "")
    return f"<-{text}>+{text}" if east < 0 else f"<+{text}>-{text}"


def _etc(value: str, east: int) -> str:
    """IANA's fixed zone for ``east`` seconds east of UTC ('Etc/GMT+7' is 7 hours WEST: POSIX's sign), whole hours
    from -12 to +14 being all it has; any other offset is refused, naming the nearest zones that work."""
    hours, rest = divmod(east, 3600)
    if not rest and -12 <= hours <= 14:
        return "Etc/GMT" if not hours else f"Etc/GMT{-hours:+d}"
    # Why not ICU's own 'GMT+05:30', which DuckDB takes: DuckDB hands a TIMESTAMPTZ to Python (each result the server
    # sends) in the session's zone by zoneinfo, which knows no such zone, so every query of one failed
    near = [h for h in (hours, hours + 1) if -12 <= h <= 14] if abs(east) < 24 * 3600 else []
    try:
        with duckdb.connect() as con:
            names = [r[0] for r in con.execute(
                "SELECT name FROM pg_timezone_names() WHERE utc_offset = to_seconds($1::BIGINT) AND name LIKE '%/%' "
                "AND name NOT LIKE 'Etc/%' ORDER BY name LIMIT 4", [east]).fetchall()] if abs(east) < 10**9 else []
    except duckdb.Error:
        names = []
    ways = [f"SET TIME ZONE {h:+d}" for h in near] + [f"SET TIME ZONE '{n}'" for n in names]
    raise _refused(value, "this server holds offsets of whole hours from -12 to +14, IANA's Etc/GMT zones"
                          + (f"; the nearest that work: {', '.join(ways)}" if ways else ""))


def offset_zone(value: str) -> Zone | None:
    """The zone PostgreSQL reads ``value`` of SET TimeZone as, when it is an offset (hours, an INTERVAL, a POSIX spec);
    None for a zone name, which is DuckDB's to know. An offset that cannot be held is PostgreSQL's error (22023)."""
    text = value.strip()
    if _HOURS.fullmatch(text):
        east = _whole(float(text) * 3600)  # truncated toward zero, as PostgreSQL's (long) conversion
        return Zone(_etc(value, east), _posix_name(east))
    m = _INTERVAL.fullmatch(text)
    if m is not None and m.group(2) and " ".join(m.group(2).lower().split()) not in ("hour", "hour to minute"):
        # PostgreSQL's grammar refuses it (gram.y's zone_value), before any value is looked at
        raise ProtocolError("time zone interval must be HOUR or HOUR TO MINUTE", "42601")
    if m is not None:
        east = _interval_seconds(value, m.group(1).replace("''", "'"), m.group(2))
        return Zone(_etc(value, east), _posix_name(east))
    m = _POSIX.fullmatch(text)
    if m is not None:
        west = int(m.group(3)) * 3600 + int(m.group(4) or 0) * 60 + int(m.group(5) or 0)
        east = west if m.group(2) == "-" else -west
        return Zone(_etc(value, east), text.upper())
    if _BARE_OFFSET.fullmatch(text):
        raise _refused(value, f"an offset needs PostgreSQL's forms: SET TIME ZONE INTERVAL '{text}' HOUR TO MINUTE, "
                              "or hours east of UTC as a number, SET TIME ZONE -7 or 5.5")
    return None
