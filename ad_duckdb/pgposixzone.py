"""What to say of a POSIX time zone with daylight-saving rules ('CET-1CEST,M3.5.0,M10.5.0/3'), which PostgreSQL
reads and DuckDB's ICU does not: the zones of tzdata whose offsets and abbreviations are the same in January and
July, to name instead. (Only a hint: a zone's history may differ from the rules before the years it now keeps.)
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo

# NAME offset NAME [offset] [,rules]: the offsets hours WEST of UTC, as POSIX writes them (DST one hour ahead when
# not given)
_POSIX_DST = re.compile(r"(?P<std><[A-Za-z0-9+-]+>|[A-Za-z]{3,})(?P<off>[+-]?\d{1,2}(?::\d{1,2}){0,2})"
                        r"(?P<dst><[A-Za-z0-9+-]+>|[A-Za-z]{3,})(?P<doff>[+-]?\d{1,2}(?::\d{1,2}){0,2})?(?:,.*)?")
# the zones a user most likely means, listed first, then these regions' (tzdata's aliases, 'US/Eastern', 'NZ',
# come later)
_WELL_KNOWN = ("Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York", "America/Chicago",
               "America/Denver", "America/Los_Angeles", "America/Santiago", "America/Sao_Paulo", "Australia/Sydney",
               "Australia/Adelaide", "Pacific/Auckland")
_REGIONS = ("Europe/", "America/", "Asia/", "Australia/", "Pacific/", "Africa/")


def _west(text: str) -> dt.timedelta:
    """A POSIX offset ('-1', '5', '+3:30') as the time WEST of UTC."""
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")] + [0, 0]
    return sign * dt.timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])


def posix_rules_hint(value: str) -> str | None:
    """Why ``value`` is refused, naming zones that keep its rules, when it is a POSIX zone with daylight-saving
    rules; else None."""
    m = _POSIX_DST.fullmatch(value.strip())
    if m is None:
        return None
    std = -_west(m.group("off"))
    dst = -_west(m.group("doff")) if m.group("doff") else std + dt.timedelta(hours=1)
    names = (m.group("std").strip("<>"), m.group("dst").strip("<>"))
    found = _same_rules(std, dst, names)
    head = value.split(",")[0]
    first = [z for z in (head, names[0]) if z in found]
    listed = list(dict.fromkeys([*first, *sorted(found, key=_preference)]))[:4]
    zones = ", ".join(f"'{z}'" for z in listed) if listed else "none found"
    return (f"a POSIX zone with daylight-saving rules, which DuckDB's time zones (ICU) do not read; a zone of the same "
            f"offsets and names: {zones} (SELECT name FROM pg_timezone_names() lists them)")


def _preference(zone: str) -> tuple[int, int, str]:
    known = _WELL_KNOWN.index(zone) if zone in _WELL_KNOWN else len(_WELL_KNOWN)
    return known, next((k for k, r in enumerate(_REGIONS) if zone.startswith(r)), len(_REGIONS)), zone


@functools.cache
def _same_rules(std: dt.timedelta, dst: dt.timedelta, names: tuple[str, str]) -> frozenset[str]:
    """tzdata's zones whose offset and abbreviation are ``std`` / ``names[0]`` in one of January and July and
    ``dst`` / ``names[1]`` in the other, this year (either hemisphere); the offsets alone for names that are
    numbers ('<+10>', which tzdata may write otherwise: 'AEST')."""
    year = dt.datetime.now(dt.UTC).year
    winter, summer = (dt.datetime(year, month, 15, 12, tzinfo=dt.UTC) for month in (1, 7))
    numeric = all(re.fullmatch(r"[+-]?\d+", n) for n in names)
    pair = ((std, "" if numeric else names[0]), (dst, "" if numeric else names[1]))
    want = {pair, pair[::-1]}
    out = set()
    for name in zoneinfo.available_timezones():
        try:
            zone = zoneinfo.ZoneInfo(name)
        except (ValueError, OSError):
            continue
        seen = tuple((t.utcoffset(), "" if numeric else _abbrev(t.tzname()))
                     for t in (winter.astimezone(zone), summer.astimezone(zone)))
        if seen in want:
            out.add(name)
    return frozenset(out)


def _abbrev(name: str | None) -> str:
    return (name or "").strip("<>")
