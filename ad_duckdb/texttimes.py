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
# A value any layout of FORMATS reads has this in it: a date's digits and separators.
_DATE_LIKE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")
# Values read to tell: enough for a layout that reads all of them to be the column's, cheap on any table.
SAMPLE = 1000


def text_time_format(cur: object, source: str, column: str, where: str | None = None) -> tuple[str, str] | None:
    """The strptime format that reads every one of the first SAMPLE non-NULL values of the text column ``column``, and
    one of them; None when no format of FORMATS reads them all, or they cannot be read (best effort)."""
    return text_time_formats(cur, source, [column], where).get(column)


def text_time_formats(cur: object, source: str, columns: list[str],
                      where: str | None = None) -> dict[str, tuple[str, str]]:
    """``text_time_format`` of each of ``columns`` that holds times, in one query (a table of many text columns,
    a claims file's 22, is read once, not once per column)."""
    # every name quoted, the source as source_sql reads it, the formats as literals
    sample = f"{source_sql(source)}{where_sql(where) if where else ''} LIMIT {int(SAMPLE)}"
    try:
        if len(columns) > 1:  # the columns whose first value looks like a date: a few, where most text is words
            q = (f"SELECT {', '.join(f'any_value({quote_ident(c)})' for c in columns)} FROM "
                 f"(SELECT {', '.join(quote_ident(c) for c in columns)} FROM {sample})")
            firsts = cur.execute(q).fetchall()[0]  # type: ignore[attr-defined]
            columns = [c for c, v in zip(columns, firsts, strict=True) if v is not None and _DATE_LIKE.search(str(v))]
        if not columns:
            return {}
        # one count per column and format: DuckDB takes a strptime format only as a constant
        parts = [f"count({quote_ident(c)}), any_value({quote_ident(c)}), "
                 + ", ".join(f"count(try_strptime({quote_ident(c)}, {quote_literal(f)}))" for f in FORMATS)
                 for c in columns]
        q = f"SELECT {', '.join(parts)} FROM (SELECT {', '.join(quote_ident(c) for c in columns)} FROM {sample})"
        row = cur.execute(q).fetchall()[0]  # type: ignore[attr-defined]
    except Exception:
        return {}
    found = {}
    width = 2 + len(FORMATS)
    for i, c in enumerate(columns):
        n, example, *read = row[i * width:(i + 1) * width]
        fmt = next((f for f, k in zip(FORMATS, read, strict=True) if n and k == n), None)
        if fmt is not None:
            found[c] = (fmt, str(example))
    return found


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
