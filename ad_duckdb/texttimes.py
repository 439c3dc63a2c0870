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
# Values read to tell day-first from month-first when the first SAMPLE read either way (a log's first thousand
# minutes are all one day): a hundred thousand reach a 13th day of most logs, in one scan of one column.
ORDER_SAMPLE = 100_000
# A text time: its strptime format, one of its values, and the month-first format that reads them as well where the
# values looked at could not tell the order (None where they could).
TextTime = tuple[str, str, str | None]


def text_time_format(cur: object, source: str, column: str, where: str | None = None) -> TextTime | None:
    """The strptime format that reads every one of the first SAMPLE non-NULL values of the text column ``column``, and
    one of them (``TextTime``); None when no format of FORMATS reads them all, or they cannot be read (best effort)."""
    return text_time_formats(cur, source, [column], where).get(column)


def text_time_formats(cur: object, source: str, columns: list[str],
                      where: str | None = None) -> dict[str, TextTime]:
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
        found: dict[str, TextTime] = {}
        width = 2 + len(FORMATS)
        for i, c in enumerate(columns):
            n, example, *read = row[i * width:(i + 1) * width]
            counts = dict(zip(FORMATS, read, strict=True))
            fmt = next((f for f in FORMATS if n and counts[f] == n), None)
            if fmt is not None:
                twin = _month_first(fmt)
                found[c] = (fmt, str(example), twin if twin is not None and counts[twin] == n else None)
        return _day_or_month_first(cur, source, where, found)
    except Exception:
        return {}


def _month_first(fmt: str) -> str | None:
    """The month-first layout of FORMATS with the same separators as the day-first ``fmt``; None for any other."""
    twin = fmt.replace("%d/%m/", "%m/%d/", 1)
    return twin if twin != fmt and twin in FORMATS else None


def _day_or_month_first(cur: object, source: str, where: str | None,
                        found: dict[str, TextTime]) -> dict[str, TextTime]:
    """``found`` with the order of each column whose first values read either way told from its first ORDER_SAMPLE,
    where one of them has a day above 12. Why: the day-first guess read a US log's 01/02/2024 as 1 February."""
    either = {c: t for c, t in found.items() if t[2] is not None}
    if not either:
        return found
    parts = [f"count({quote_ident(c)}), count(try_strptime({quote_ident(c)}, {quote_literal(fmt)})), "
             f"count(try_strptime({quote_ident(c)}, {quote_literal(twin or '')}))" for c, (fmt, _, twin) in either.items()]
    q = (f"SELECT {', '.join(parts)} FROM (SELECT {', '.join(quote_ident(c) for c in either)} FROM "
         f"{source_sql(source)}{where_sql(where) if where else ''} LIMIT {int(ORDER_SAMPLE)})")
    row = cur.execute(q).fetchall()[0]  # type: ignore[attr-defined]
    out = dict(found)
    for i, (c, (fmt, example, twin)) in enumerate(either.items()):
        n, day_first, month_first = row[3 * i:3 * i + 3]
        if day_first < n and month_first == n and twin is not None:
            out[c] = (twin, example, None)
        elif day_first == n and month_first < n:
            out[c] = (fmt, example, None)
    return out


def either_way(column: str, read: TextTime) -> str:
    """For a note offering ``strptime_expr(column, read[0])``: the month-first reading too, where the values looked at
    read either way round (its days all 12 or less); else nothing."""
    if read[2] is None:
        return ""
    return f" (or {strptime_expr(column, read[2])} if its months come first: the values looked at read either way)"


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
