"""PostgreSQL's settings that change nothing here (work_mem, random_page_cost, lock_timeout, ...), as a session keeps
them: each SET's value read and shown as PostgreSQL's GUC does (SET work_mem = 65536 shows 64MB; units are case
sensitive; a value PostgreSQL refuses is refused with its error). DuckDB tunes its own memory and plans, so the value
only answers SHOW, current_setting and pg_settings; what it must never do is say 4MB after the session SET 64MB.
"""

from __future__ import annotations

import re
import sys

from .pgerrors import ProtocolError

# A setting's kind: how its value is read and shown (PostgreSQL's guc_tables.c). For memory and time settings, the
# size of the unit a bare number is in (kB, or 8kB blocks; ms) and the smallest and largest value in that unit.
_MEMORY_UNITS = {"B": 1, "kB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}
_TIME_UNITS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_INT_MAX = 2 ** 31 - 1
_MEMORY = {"work_mem": (1024, 64, _INT_MAX), "maintenance_work_mem": (1024, 1024, _INT_MAX),
           "temp_buffers": (8192, 100, _INT_MAX // 2), "effective_cache_size": (8192, 1, _INT_MAX)}
_TIME = {"lock_timeout": (0, _INT_MAX), "idle_session_timeout": (0, _INT_MAX),
         "idle_in_transaction_session_timeout": (0, _INT_MAX)}
_BOOL = {"check_function_bodies", "row_security", "jit"}
_REAL = {"random_page_cost": (0.0, sys.float_info.max), "seq_page_cost": (0.0, sys.float_info.max)}
_INT = {"default_statistics_target": (1, 10000), "extra_float_digits": (-15, 3)}
# An enum's values as PostgreSQL shows them, by each spelling it takes (synchronous_commit takes a boolean's too)
_ON_OFF = {"on": "on", "off": "off", "true": "on", "false": "off", "yes": "on", "no": "off", "1": "on", "0": "off"}
_ENUM = {
    "synchronous_commit": {"local": "local", "remote_write": "remote_write", "remote_apply": "remote_apply", **_ON_OFF},
    "client_min_messages": {"debug5": "debug5", "debug4": "debug4", "debug3": "debug3", "debug2": "debug2",
                            "debug1": "debug1", "debug": "debug2", "log": "log", "info": "info", "notice": "notice",
                            "warning": "warning", "error": "error"},
    "xmloption": {"content": "content", "document": "document"},
}
# the values an enum takes that PostgreSQL's hint does not list (guc_tables.c's hidden ones)
_HIDDEN = {"client_min_messages": {"info"}}
# default_tablespace: PostgreSQL refuses a tablespace that does not exist; these are the ones it has
_TABLESPACES = ("", "pg_default")
KNOBS = frozenset((*_MEMORY, *_TIME, *_BOOL, *_REAL, *_INT, *_ENUM, "default_tablespace"))
_NUMBER = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z]*)\s*")


# PostgreSQL's message levels as client_min_messages ranks them (elog.h): a message goes to the client when its level
# is at least the setting's, or is INFO (always sent)
_CLIENT_LEVELS = {"debug5": 10, "debug4": 11, "debug3": 12, "debug2": 13, "debug1": 14, "log": 15, "info": 17,
                  "notice": 18, "warning": 19, "error": 21}


def client_gets(severity: str, client_min_messages: str | None) -> bool:
    """Whether a message of ``severity`` (NOTICE, WARNING) reaches a client whose session has ``client_min_messages``
    (None: PostgreSQL's default, notice). Why: SET client_min_messages = error (a tool quieting a session) still
    printed every WARNING."""
    level = _CLIENT_LEVELS.get((client_min_messages or "notice").lower(), 18)
    return severity.upper() == "INFO" or _CLIENT_LEVELS.get(severity.lower(), 21) >= level


def _invalid(name: str, value: str, hint: str = "") -> ProtocolError:
    return ProtocolError(f'invalid value for parameter "{name}": "{value}"', "22023", hint=hint)


def _in_range(name: str, n: float, low: float, high: float, unit: str = "") -> None:
    if not low <= n <= high:
        def shown(x: float) -> str:
            return f"{x:g}" if isinstance(x, float) else str(x)
        raise ProtocolError(f'{shown(n)}{" " + unit if unit else ""} is outside the valid range for parameter '
                            f'"{name}" ({shown(low)} .. {shown(high)})', "22023")


def _largest_unit(n: int, units: dict[str, float], base: float) -> str:
    """``n`` base units as PostgreSQL shows them: in the largest unit that divides the value exactly (``units``
    ends with kB or ms, which divide any)."""
    if n == 0:
        return "0"
    unit, size = next((u, s) for u, s in sorted(units.items(), key=lambda u: -u[1]) if (n * base) % s == 0)
    return f"{int(n * base // size)}{unit}"


def knob_value(name: str, value: str) -> str:
    """The value PostgreSQL shows for setting ``name`` (one of KNOBS) SET to ``value`` as written (a string literal
    unquoted); PostgreSQL's error (22023) for a value it refuses."""
    text = value.strip()
    if name in _MEMORY or name in _TIME:
        units: dict[str, float] = dict(_MEMORY_UNITS) if name in _MEMORY else dict(_TIME_UNITS)
        base, low, high = _MEMORY[name] if name in _MEMORY else (1, *_TIME[name])
        m = _NUMBER.fullmatch(text)
        if m is None or m.group(2) and m.group(2) not in units:
            names = ", ".join(f'"{u}"' for u in list(units)[:-1]) + f', and "{list(units)[-1]}"'
            raise _invalid(name, value, f"Valid units for this parameter are {names}." if m else "")
        n = round(float(m.group(1)) * (units[m.group(2)] / base if m.group(2) else 1))
        _in_range(name, n, low, high, "kB" if base == 1024 else "8kB" if base == 8192 else "ms")
        return _largest_unit(n, {u: s for u, s in units.items() if s >= 1 and u != "B"}, base)
    low_text = text.lower()
    if name in _BOOL:
        # PostgreSQL's parse_bool: any unambiguous prefix of true / false / yes / no, on / off, 1 / 0
        for word, on in (("true", True), ("false", False), ("yes", True), ("no", False)):
            if low_text and word.startswith(low_text):
                return "on" if on else "off"
        if low_text in ("on", "1", "off", "of", "0"):
            return "on" if low_text in ("on", "1") else "off"
        raise ProtocolError(f'parameter "{name}" requires a Boolean value', "22023")
    if name in _REAL or name in _INT:
        try:
            number = float(text)
        except ValueError:
            raise _invalid(name, value) from None
        if name in _REAL:
            _in_range(name, number, *_REAL[name])
            return f"{number:g}"
        _in_range(name, round(number), *_INT[name])
        return str(round(number))
    if name in _ENUM:
        if low_text not in _ENUM[name]:
            raise _invalid(name, value, "Available values: " + ", ".join(
                v for v in dict.fromkeys(_ENUM[name].values()) if v not in _HIDDEN.get(name, ())) + ".")
        return _ENUM[name][low_text]
    if text not in _TABLESPACES:
        raise ProtocolError(f'invalid value for parameter "{name}": "{value}" (tablespace "{value}" does not exist; '
                            "this server has pg_default only)", "22023")
    return text
