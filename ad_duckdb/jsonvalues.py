"""DuckDB values (lists, structs, maps, anomaly_explain) as JSON text, for the CLI's output and the server's json.

Why not ``json.dumps(v, default=str)``: it writes DECIMAL as a string, BLOB as Python's ``b'...'``, NaN as
invalid JSON, and refuses MAP keys that are dates or numbers.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from typing import Any


def interval_text(v: dt.timedelta) -> str:
    """An interval as PostgreSQL writes one: ``3 days 04:05:06.000000``."""
    sign = "-" if v < dt.timedelta(0) else ""
    v = abs(v)
    hours, rest = divmod(v.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{v.days} days {sign}{hours:02d}:{minutes:02d}:{seconds:02d}.{v.microseconds:06d}"


def jsonable(v: Any) -> Any:
    """``v`` with every part JSON can hold as such: numbers as numbers, other scalars as text."""
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, dict):
        return {k if isinstance(k, str) else str(jsonable(k)): jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    if isinstance(v, float):
        return v if math.isfinite(v) else None  # JSON has no NaN or Infinity
    if isinstance(v, decimal.Decimal):
        if not v.is_finite():
            return None
        if v == v.to_integral_value():
            return int(v)
        # a number where a float holds it exactly (444.92), else its exact digits as text
        return float(v) if decimal.Decimal(repr(float(v))) == v else format(v, "f")
    if isinstance(v, bytes | bytearray | memoryview):
        return "\\x" + bytes(v).hex()
    if isinstance(v, dt.timedelta):
        return interval_text(v)
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return str(v)


def loads(text: str) -> Any:
    """``json.loads``, with JSON nested too deeply for Python's parser a ValueError like any other malformed JSON.

    Why: the RecursionError it raises otherwise passed every ``except ValueError`` of the checks on stored rows and
    model files, so one such row stopped the functions from loading for every model of the database.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def dumps(v: Any) -> str:
    return json.dumps(jsonable(v), allow_nan=False, ensure_ascii=False)
