"""A query's interval result columns sent with their months, in PostgreSQL's interval text.

DuckDB hands an INTERVAL to Python as a timedelta, which has no months: ``age('2024-03-01', '2024-01-01')`` (2
months) went out as ``60 days 00:00:00.000000`` where PostgreSQL sends ``2 mons``, so a dashboard showed 60 days and
a client reading the binary format got 60 days, no months. An item of the statement's own select list that is
surely an interval (a whole ``age(...)`` call, an ``interval '...'`` literal, a cast to interval) becomes a DuckDB
union of one member named interval holding DuckDB's text of the value, which keeps the months; pgtypes sends its type
as interval, its text as PostgreSQL's (pgfloattext) and its binary form from the text's months, days and
microseconds. Other interval columns (a table's, a difference of timestamps) go out as before.
"""

from __future__ import annotations

from .pgjsonbout import wrap_items
from .pgsql import _cast_chain_start
from .pgsumscope import Tokens, closing


def interval_outputs(sql: str) -> str:
    """``sql`` with each select-list item that is surely an interval (module doc) as an interval union's value."""
    return wrap_items(sql, ("interval", "age"), _interval, "union_value(interval := CAST({} AS INTERVAL)::VARCHAR)")


def _interval(toks: Tokens, a: int, last: int) -> bool:
    """Whether tokens ``a`` to ``last`` are one interval: a whole age(...) call, interval '...', x::interval or
    CAST(x AS interval)."""
    word = toks[last][1].lower()
    if word == "interval":
        return last - 2 >= a and toks[last - 1][1] == "::" and _cast_chain_start(toks, last - 2) == a
    if last == a + 1:
        return toks[a][1].lower() == "interval" and toks[last][2] == "string_const"
    if word != ")" or toks[a + 1][1] != "(" or closing(toks, a + 1) != last:
        return False
    name = toks[a][1].lower()
    return name == "age" or name == "cast" and toks[last - 1][1].lower() == "interval" \
        and toks[last - 2][1].lower() == "as"
