"""How a column that is not numeric becomes a number, by its SQL type: the expression and the query a message
offers for it, and for a DATE or TIMESTAMP what repeats in it (its day of the week, its hour of the day) rather than
its epoch seconds, which rise with time past any training range."""

from __future__ import annotations

import re

from .exceptions import BadInputError
from .sqltext import is_query, quote_ident, quote_literal, source_sql, strip_sql_ends

# Why a UUID gets no number: one said where training refuses the column and where a SQL function is given one
UUID_IS_AN_ID = "an id, which tells rows apart rather than describing them: leave it out of the features"


# A column name, quoted or not, or a dotted chain of them: what `::`, `.` and `=` may follow without parentheses
_SIMPLE_OPERAND = re.compile(r'(?:\w+|"(?:[^"]|"")+")(?:\.(?:\w+|"(?:[^"]|"")+"))*')


def as_number_hint(column: str, sql_type: str) -> str:
    """How to turn a non-numeric column (or an expression) into a number, by its type (a cast only works for some).

    Why two spellings: an expression goes in parentheses before `::`, `.`, `[` or `=` (count > 3::INTEGER would cast
    3 alone), but not inside a function's own (epoch((ts + INTERVAL 1 DAY)) reads as a mistake)."""
    op = column if _SIMPLE_OPERAND.fullmatch(column) else f"({column})"
    t = sql_type.upper()
    if t.startswith("INTERVAL"):
        return f"epoch({column}) gives its length in seconds"
    if is_point_in_time(sql_type):
        return point_in_time_hint(column, sql_type)
    if t.startswith(("DATE", "TIME")):
        return f"epoch({column}) gives its seconds (since 1970, for dates and times)"
    if t.startswith("ENUM"):
        return (f"({op} = 'a value')::INTEGER gives a 0/1 column per category (enum_code({column}) a number, "
                "if the categories are ordered)")
    if t == "BOOLEAN":
        return f"{op}::INTEGER gives 1 for true and 0 for false"
    if t == "VARCHAR":  # CAST fails on words ('web') and on "N/A": say what works for each
        return (f"TRY_CAST({column} AS DOUBLE) reads numbers written as text, ({op} = 'a value')::INTEGER "
                "makes a 0/1 column of a word")
    # Why these: CAST(... AS DOUBLE), the advice for other types, fails on every value of them.
    if t == "UUID":
        return f"a UUID is {UUID_IS_AN_ID}"
    if t in ("BIT", "BITSTRING"):  # CAST(... AS DOUBLE) reads a bitstring's bits as a float's: tiny nonsense
        return f"CAST({column} AS BIGINT) reads its bits as a whole number (up to 64; bit_count({column}) counts those set)"
    if t in ("BLOB", "BYTEA") or t.startswith("BLOB"):
        return f"octet_length({column}) gives its size in bytes"
    if t.endswith("]"):
        return f"len({column}) gives its length, list_sum({column}) or {op}[1] a number of its items"
    if t.startswith("STRUCT"):
        first = re.match(r"(?i)STRUCT\(\s*(\"(?:[^\"]|\"\")+\"|\w+)", sql_type)
        return f"{op}.{first.group(1) if first else 'field'} picks one of its fields (a number), by name"
    if t.startswith("MAP"):
        return f"cardinality({column}) gives its number of entries, {op}['key'] the value of one key"
    if t == "JSON":  # CAST fails on an object, the usual JSON value
        return f"TRY_CAST({column} AS DOUBLE) reads a JSON number, ({op}->>'$.key')::DOUBLE one of an object's values"
    return f"CAST({column} AS DOUBLE)"


def as_number_expr(column: str, sql_type: str) -> str | None:
    """The SQL expression that reads a BOOLEAN, date or time column as a number (``column`` quoted); None for other
    types, which have no one expression that fits."""
    t = sql_type.upper()
    if t == "BOOLEAN":
        return f"{column}::INTEGER"
    if t.startswith(("DATE", "TIME", "INTERVAL")):
        return f"epoch({column})"
    return None


def point_in_time_hint(column: str, sql_type: str) -> str:
    """How to score a DATE or TIMESTAMP argument (``column`` as written in the call): the expression the model was
    trained with, the one training suggests for such a column as the example.

    Why not epoch(): training refuses a point in time and takes its day of the week or hour of the day; epoch
    seconds, the advice before, lie far beyond such a model's training range and flagged every row scored."""
    expr = _cycle_expr(column, sql_type)
    what = "its day of the week" if sql_type.strip().upper() == "DATE" else "its hour of the day"
    kind = "a date" if sql_type.strip().upper() == "DATE" else "a timestamp"
    return (f"the expression the model was trained with, e.g. {expr}, {what}, as training takes {kind} (not "
            f"epoch({column}), unless the model was trained on it: its seconds rise with time, past the training range)")


def as_number_query(column: str, sql_type: str, source: str) -> str | None:
    """``SELECT * REPLACE (<expr> AS column) FROM source`` for a BOOLEAN, date or time column, so the column keeps
    its name and scoring takes the same expression; None for other types. A DATE or TIMESTAMP gets the expression
    training suggests for it (``_cycle_expr``), not epoch(): see ``point_in_time_hint``."""
    c = quote_ident(column)
    expr = _cycle_expr(c, sql_type) if is_point_in_time(sql_type) else as_number_expr(c, sql_type)
    if expr is None:
        return None
    src = _from_item(source)
    t = sql_type.upper()
    what = (" (1 for true, 0 for false)" if t == "BOOLEAN" else " (its length in seconds)" if t.startswith("INTERVAL")
            else " (its day of the week)" if t.strip() == "DATE" else " (its hour of the day)"
            if is_point_in_time(sql_type) else " (its seconds)")
    return f"SELECT * REPLACE ({expr} AS {c}) FROM {src}{what}"


def _from_item(source: str) -> str:
    """``source`` as the FROM item of a query we suggest: a query in parentheses, a table or table function as is."""
    return f"({strip_sql_ends(source)})" if is_query(source) else source_sql(source)


def is_point_in_time(sql_type: str) -> bool:
    """A DATE or TIMESTAMP (with or without zone, any precision): a moment, not a time of day (TIME) or a duration.
    One test for both uses: a column refused as a feature is one the scores-over-time plot takes (``timeplot``)."""
    t = sql_type.strip().upper()
    return t == "DATE" or t.startswith("TIMESTAMP")


def _cycle_expr(column: str, sql_type: str, cur: object = None) -> str:
    """What repeats in a DATE (its day of the week) or a TIMESTAMP (its hour of the day), ``column`` quoted; a
    TIMESTAMP WITH TIME ZONE read in the zone of ``cur``'s session, named in the expression.

    Why named: hour() of a zoned timestamp is the hour in the zone of whichever session runs it, so a model trained
    on a server in New York and scored from a notebook in Berlin read every row's hour 6 hours off."""
    if sql_type.strip().upper() == "DATE":
        return f"dayofweek({column})"
    if "WITH TIME ZONE" in sql_type.upper():
        column = f"timezone({quote_literal(_session_zone(cur))}, {column})"
    return f"hour({column}) + minute({column}) / 60"


def _session_zone(cur: object) -> str:
    """The TimeZone setting of ``cur``'s session (UTC without one to ask)."""
    try:
        return str(cur.execute("SELECT current_setting('TimeZone')").fetchall()[0][0])  # type: ignore[attr-defined]
    except Exception:  # no cursor, or one that cannot run a query now: a fixed zone still reads the same everywhere
        return "UTC"


def _point_in_time_error(column: str, sql_type: str, source: str, cur: object = None) -> BadInputError:
    """A DATE or TIMESTAMP named as a feature: not the epoch() query the other date types get.

    Why: epoch seconds rise with time, so a model trained on them scores every later row as out of its training
    range (trained on the first 20 minutes of a SKAB valve run, it flagged 93% of the next 25 minutes' normal rows,
    against 42% without). What repeats is the time of day, or the day of the week."""
    c = quote_ident(column)
    src = _from_item(source)
    expr = _cycle_expr(c, sql_type, cur)
    if sql_type.strip().upper() == "DATE":
        what, cycle, span = "its day of the week, 0 for Sunday", "weekly", "whole weeks"
    else:
        what, cycle, span = "its hour of the day", "daily", "whole days"
    return BadInputError(
        f"Column {column!r} of {source!r} is {sql_type}, not numeric. A point in time is not a measurement: as a number "
        f"(epoch({c}), its seconds) it rises with time, so every row later than the training rows would score as out "
        f"of the training range. Drop it from features (it stays in the table for ORDER BY, windows and GROUP BY "
        f"date_trunc(...)). If a {cycle} cycle matters and the training rows span {span}, train on a query "
        f"that takes {what}, SELECT * REPLACE ({expr} AS {c}) FROM {src}, and score with the same expression: {expr}."
    )
