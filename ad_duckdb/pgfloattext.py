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


def duckdb_interval_parts(text: str) -> tuple[int, int, int] | None:
    """DuckDB's text of an INTERVAL as its months, days and microseconds; None for a text of another shape."""
    m = _DUCKDB_INTERVAL.fullmatch(text)
    if m is None or not text:
        return None
    years, months, days, minus, hours, minutes, seconds, fraction = m.groups()
    micros = ((int(hours or 0) * 60 + int(minutes or 0)) * 60 + int(seconds or 0)) * 1_000_000 \
        + int((fraction or "").ljust(6, "0")[:6])
    return int(years or 0) * 12 + int(months or 0), int(days or 0), -micros if minus else micros


def duckdb_interval_text(text: str) -> str:
    """DuckDB's text of an INTERVAL as PostgreSQL's (module doc); a text of another shape stays as it is."""
    parts = duckdb_interval_parts(text)
    return text if parts is None else interval_parts_text(*parts)


def interval_parts_text(months: int, days: int, micros: int) -> str:
    """An interval of ``months``, ``days`` and ``micros`` (microseconds) as PostgreSQL's text (module doc)."""
    years, months = int(months / 12), months - int(months / 12) * 12  # (C's division: both of the sign of months)
    out: list[str] = []
    before = False  # whether the last part written was negative
    for n, unit in ((years, "year"), (months, "mon"), (days, "day")):
        if n:
            out.append(f"{'+' if before and n > 0 else ''}{n} {unit}{'' if n == 1 else 's'}")
            before = n < 0
    if not out or micros:
        sign = "-" if micros < 0 else "+" if before else ""
        seconds, fraction = divmod(abs(micros), 1_000_000)
        minutes, seconds = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        frac = f"{fraction:06d}".rstrip("0")
        out.append(f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}{'.' + frac if frac else ''}")
    return " ".join(out)
