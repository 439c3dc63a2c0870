"""Text columns that hold dates and times: the strptime format that reads them, for the notes on such a column.

Why: DuckDB's CSV reader types only some layouts as TIMESTAMP; a sensor log's '02.12.2013 21:15' stays VARCHAR. Such a
column was "left out (VARCHAR)" with no word of what it held, and a training filter on it (``ts < '05.12.2013'``)
compared text, so the model learned from the first days of every month instead of the first days of the log.
"""

from __future__ import annotations

import re

from .sqltext import quote_ident, quote_literal, source_sql, sql_name, where_sql

# The layouts tried, in this order; the first that reads every sampled value wins, so where a day-first and a
# month-first layout both read them (every day up to 12), the day-first one, as most of the world writes it.
FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p",
    "%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y",
)
# Values read to tell: enough for a layout that reads all of them to be the column's, cheap on any table.
SAMPLE = 1000


def text_time_format(cur: object, source: str, column: str, where: str | None = None) -> tuple[str, str] | None:
    """The strptime format that reads every one of the first SAMPLE non-NULL values of the text column ``column``, and
    one of them; None when no format of FORMATS reads them all, or they cannot be read (best effort)."""
    c = quote_ident(column)
    # one count per format: DuckDB takes a strptime format only as a constant
    counts = ", ".join(f"count(try_strptime(v, {quote_literal(f)}))" for f in FORMATS)
    q = (f"SELECT count(v), any_value(v), {counts} FROM (SELECT {c} AS v FROM {source_sql(source)}"
         f"{where_sql(where) if where else ''} LIMIT {SAMPLE})")
    try:
        n, example, *read = cur.execute(q).fetchall()[0]  # type: ignore[attr-defined]
    except Exception:
        return None
    return next(((f, str(example)) for f, k in zip(FORMATS, read, strict=True) if n and k == n), None)


def strptime_expr(column: str, fmt: str) -> str:
    """The SQL that reads the text column ``column`` as a TIMESTAMP with the strptime format ``fmt``: a plain CAST
    for ISO layouts (2013-12-02 21:15), which DuckDB reads so, else strptime."""
    if fmt.startswith("%Y-%m-%d"):
        return f"CAST({sql_name(column)} AS TIMESTAMP)"
    return f"strptime({sql_name(column)}, {quote_literal(fmt)})"


def compares_as_text(where: str | None, column: str) -> bool:
    """Whether the filter ``where`` names the text column ``column`` (bare or quoted, any case) other than inside a
    strptime(...) or a cast that reads it as a time: a comparison of its text, not of the times it holds."""
    if not where:
        return False
    quoted = re.escape(quote_ident(column))
    name = rf'(?:(?<![\w"]){re.escape(column)}(?![\w"])|{quoted})'
    rest = re.sub(rf"(?i)\b(?:try_)?(?:strptime|cast)\s*\(\s*{name}|{name}\s*::", " ", where)
    return bool(re.search(name, rest, re.I))
