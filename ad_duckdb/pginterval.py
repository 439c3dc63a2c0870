"""PostgreSQL's justify_hours, justify_days and justify_interval, as the session's macros (JUSTIFY_SQL, part of
pgfunctions' FUNCTION_SQL); DuckDB has none of them ('Scalar Function with name justify_hours does not exist').

An interval is three fields in both databases (months, days, microseconds), which DuckDB keeps apart as PostgreSQL
does, so each macro takes the fields apart (datepart), moves whole days out of the time and 30-day months out of the
days as PostgreSQL's C code does (interval_justify_hours / _days / _interval in timestamp.c: division truncating
toward zero, then one step that makes the signs alike), and builds the interval again. A value bound once is a
one-element list comprehension (``[... for pg_r in [struct_pack(...)]][1]``): the bodies are DuckDB's own functions,
so what the file stores inlines them (pgstoredinline)."""

from __future__ import annotations

_D = "86400000000"  # microseconds in a day (PostgreSQL's USECS_PER_DAY)
_MONTHS = "(datepart('year', pg_span_arg) * 12 + datepart('month', pg_span_arg))"
_DAYS = "datepart('day', pg_span_arg)"
_MICROS = ("(datepart('hour', pg_span_arg) * 3600000000 + datepart('minute', pg_span_arg) * 60000000 "
           "+ datepart('microsecond', pg_span_arg))")


def _let(fields: str, body: str, name: str = "pg_r") -> str:
    """``body`` with ``name`` bound to the struct of ``fields`` (m, d and t: months, days, microseconds)."""
    return f"[{body} for {name} in [struct_pack({fields})]][1]"


def _interval(m: str, d: str, t: str) -> str:
    return f"to_months(({m})::INTEGER) + to_days(({d})::INTEGER) + to_microseconds(({t})::BIGINT)"


def _days_signed(r: str) -> str:
    """The interval of struct ``r`` with a day moved into the time where their signs differ (the last step of
    justify_hours and justify_interval)."""
    step = (f"CASE WHEN {r}.d > 0 AND {r}.t < 0 THEN 1 WHEN {r}.d < 0 AND {r}.t > 0 THEN -1 ELSE 0 END")
    return _interval(f"{r}.m", f"{r}.d - {step}", f"{r}.t + ({step}) * {_D}")


def _macro(name: str, body: str) -> str:
    return f"CREATE OR REPLACE TEMP MACRO {name}(pg_span_arg) AS CASE WHEN pg_span_arg IS NULL THEN NULL ELSE {body} END"


# whole days out of the time (its remainder keeps the time's sign), months as they are
_HOURS = _let(f"m := {_MONTHS}, d := {_DAYS} + {_MICROS} // {_D}, t := {_MICROS} % {_D}", _days_signed("pg_r"))
# 30-day months out of the days, then one month back into the days where their signs differ
_DAYS_STEP = "CASE WHEN pg_r.m > 0 AND pg_r.d < 0 THEN 1 WHEN pg_r.m < 0 AND pg_r.d > 0 THEN -1 ELSE 0 END"
_JUSTIFY_DAYS = _let(f"m := {_MONTHS} + {_DAYS} // 30, d := {_DAYS} % 30, t := {_MICROS}",
                     _interval(f"pg_r.m - ({_DAYS_STEP})", f"pg_r.d + 30 * ({_DAYS_STEP})", "pg_r.t"))
# both, with the month step looking at the time where the days are 0
_WHOLE_DAYS = f"({_DAYS} + {_MICROS} // {_D})"
_MONTH_STEP = ("CASE WHEN pg_r.m > 0 AND (pg_r.d < 0 OR pg_r.d = 0 AND pg_r.t < 0) THEN 1 "
               "WHEN pg_r.m < 0 AND (pg_r.d > 0 OR pg_r.d = 0 AND pg_r.t > 0) THEN -1 ELSE 0 END")
_INTERVAL = _let(f"m := {_MONTHS} + {_WHOLE_DAYS} // 30, d := {_WHOLE_DAYS} % 30, t := {_MICROS} % {_D}",
                 _let(f"m := pg_r.m - ({_MONTH_STEP}), d := pg_r.d + 30 * ({_MONTH_STEP}), t := pg_r.t",
                      _days_signed("pg_s"), "pg_s"))
JUSTIFY_SQL = (
    _macro("justify_hours", _HOURS),
    _macro("justify_days", _JUSTIFY_DAYS),
    _macro("justify_interval", _INTERVAL),
)
