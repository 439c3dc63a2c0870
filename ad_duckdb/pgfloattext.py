"""Floats and intervals written as PostgreSQL writes them, on the wire and in a cast to text.

Why: a double went out as Python's repr, ``2.0`` where PostgreSQL writes ``2`` and ``1000000000000000.0`` where it
writes ``1e+15``, so psql, a BI tool showing the text and a test comparing text disagreed with PostgreSQL; and inside
SQL ``2.0::float8::text`` was DuckDB's ``'2.0'``, ``interval '2 months'::text`` DuckDB's ``'2 months'`` (PostgreSQL's
``'2 mons'``). PostgreSQL 12+ (extra_float_digits 1 or more, its default) writes the shortest digits that read back
to the same value, fixed when the decimal exponent is from -4 to 14 (float8) or to 5 (float4), else as ``1.5e+20`` /
``1e-05`` (a sign, two digits at least). Its interval text (IntervalStyle postgres) is ``1 year 2 mons -3 days
+04:05:06.5``: year / mon / day with an ``s`` unless the count is 1, a ``+`` on a positive part after a negative one.
"""

from __future__ import annotations

import decimal
import math
import re

import numpy as np


def float_text(v: float, single: bool = False) -> str:
    """``v`` as PostgreSQL's float8out (``single``: float4out) writes it."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    shortest = decimal.Decimal(str(np.float32(v)) if single else repr(v)).normalize()
    sign, digits, exp = shortest.as_tuple()
    assert isinstance(exp, int)
    power = len(digits) - 1 + exp  # the decimal exponent of the first digit
    if -4 <= power < (6 if single else 15):
        return format(shortest, "f")
    text = "".join(map(str, digits))
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"


def duckdb_float8_text(text: str) -> str:
    """DuckDB's text of a DOUBLE as PostgreSQL's (its shortest digits read back the same)."""
    return float_text(float(text))


def duckdb_float4_text(text: str) -> str:
    """DuckDB's text of a FLOAT as PostgreSQL's."""
    return float_text(float(text), True)


# DuckDB's interval text: "2 years 2 months -3 days 04:05:06.5", "-1 month", "00:00:00"
_DUCKDB_INTERVAL = re.compile(r"(?:(-?\d+) years? ?)?(?:(-?\d+) months? ?)?(?:(-?\d+) days? ?)?"
                              r"(?:(-?)(\d+):(\d\d):(\d\d)(?:\.(\d+))?)?")


def duckdb_interval_text(text: str) -> str:
    """DuckDB's text of an INTERVAL as PostgreSQL's (module doc); a text of another shape stays as it is."""
    m = _DUCKDB_INTERVAL.fullmatch(text)
    if m is None or not text:
        return text
    years, months, days, minus, hours, minutes, seconds, fraction = m.groups()
    out: list[str] = []
    before = False  # whether the last part written was negative
    for value, unit in ((years, "year"), (months, "mon"), (days, "day")):
        n = int(value or 0)
        if n:
            out.append(f"{'+' if before and n > 0 else ''}{n} {unit}{'' if n == 1 else 's'}")
            before = n < 0
    time_nonzero = hours is not None and (int(hours) or int(minutes) or int(seconds) or int(fraction or 0))
    if not out or time_nonzero:
        sign = "-" if minus else "+" if before else ""
        frac = (fraction or "").rstrip("0")
        out.append(f"{sign}{int(hours or 0):02d}:{minutes or '00'}:{seconds or '00'}{'.' + frac if frac else ''}")
    return " ".join(out)
