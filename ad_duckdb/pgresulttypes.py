"""Result types of PostgreSQL's functions where DuckDB's differ, so a driver and a BI tool read the type PostgreSQL
sends (a dashboard formats a numeric avg as 1.50, an integer length as 3).

PostgreSQL 15's function tables give: ``avg`` of an integer or numeric is numeric (DuckDB: DOUBLE), as are
``stddev`` / ``stddev_samp`` / ``stddev_pop`` / ``variance`` / ``var_samp`` / ``var_pop`` of one; of a float all are
double precision, as DuckDB's. ``round(integer)`` resolves to round(double precision) (an integer's category's
preferred type is float8), ``round(integer, n)`` to round(numeric, integer): numeric with n decimals (DuckDB kept
the integer), as is ``round(numeric, n)`` (DuckDB kept the numeric's own scale where n is larger). ``extract`` is
numeric since PostgreSQL 14 (DuckDB: BIGINT, DOUBLE for epoch; its second and millisecond fields dropped the fraction
PostgreSQL keeps: 6.500000, 6500.000), ``date_part`` double precision.
``generate_series`` of integers in a select list is integer (DuckDB: BIGINT), of a bigint bigint. ``length`` /
``char_length`` / ``octet_length`` are integer (pgfunctions renames them to LENGTH and its octet_length macro).

Each call becomes a session macro's whose typed overloads DuckDB's binder picks by the argument's type; the
argument stands there only for that choice (the macro's body does not use it, so it is not evaluated), bound where
the call stands: an outer query's aggregate (``(SELECT avg(t.x))``, a subquery without FROM) keeps DuckDB's type.
A numeric avg is DECIMAL(38,16), from DuckDB's shortest text of its double: PostgreSQL's 16 significant digits for an
avg from 1 to 9999 (1.5000000000000000), 22 digits before the point (a variance beyond 1e22 is DuckDB's cast
error). Not rewritten: a call with a parameter not cast where it stands (the overload would type it), nor one of an
aggregate (``round(avg(x))``: DuckDB's binder picks an overload whatever an aggregate's type; DuckDB's round keeps
the numeric avg's type), a PIVOT's aggregate, an aggregate with ORDER BY in its parentheses, and what the file stores
(pgstored).
``generate_series`` of integers in FROM is integer too (from_series): a subquery of DuckDB's table function whose one
column is named as PostgreSQL names it (the alias's name, else generate_series; a column alias list renames it), as
DuckDB's table function names its column by the alias (``SELECT g FROM generate_series(1, 3) g``); a subquery's
column is what ``g`` binds to first, not the row. Left as DuckDB's: an alias without AS that is one of DuckDB's
keywords, and WITH ORDINALITY.
"""

from __future__ import annotations

from .pgerrors import ROUND_DOUBLE_REFUSED
from .pgstored import stored_definition
from .pgsum import cast_parameter, in_pivots
from .pgsumscope import call_arguments, calls_aggregate, closing
from .sqltext import quote_literal, words_if
from .textedits import Edits

NUMERIC_OF = "pg_numeric_of"
ROUND_OF = "pg_round_of"
ROUND_SCALE_OF = "pg_round_scale_of"
EXTRACT_OF = "pg_extract_of"
SERIES_OF = "pg_series_of"
LENGTH = "pg_length"
RESULT_TYPES_SQL = (
    # (the DECIMAL overload: DuckDB's implicit casts bring every integer and decimal to it, not a float or interval)
    f"CREATE OR REPLACE TEMP MACRO {NUMERIC_OF}(pg_type_arg DECIMAL(38,10), pg_value_arg) AS "
    "pg_value_arg::VARCHAR::DECIMAL(38,16), (pg_type_arg, pg_value_arg) AS pg_value_arg",
    f"CREATE OR REPLACE TEMP MACRO {ROUND_OF}(pg_type_arg BIGINT, pg_value_arg) AS pg_value_arg::DOUBLE, "
    "(pg_type_arg, pg_value_arg) AS pg_value_arg",
    # round(x, n): PostgreSQL's round(numeric, integer) of an integer (and of DuckDB's wider ones, sent as numeric)
    # and of a decimal: n decimals, as PostgreSQL's result has (round(1.25::numeric(10,2), 3) is 1.250; DuckDB's kept
    # x's 2); no round(double precision, integer) (nor of a real, which it widens), refused
    f"CREATE OR REPLACE TEMP MACRO {ROUND_SCALE_OF}(pg_type_arg BIGINT, pg_value_arg, pg_numeric_arg) AS "
    "pg_numeric_arg, (pg_type_arg HUGEINT, pg_value_arg, pg_numeric_arg) AS pg_numeric_arg, "
    "(pg_type_arg UHUGEINT, pg_value_arg, pg_numeric_arg) AS pg_numeric_arg, "
    "(pg_type_arg DECIMAL(38,10), pg_value_arg, pg_numeric_arg) AS pg_numeric_arg, "
    f"(pg_type_arg DOUBLE, pg_value_arg, pg_numeric_arg) AS error({quote_literal(ROUND_DOUBLE_REFUSED)}), "
    "(pg_type_arg, pg_value_arg, pg_numeric_arg) AS pg_value_arg",
    f"CREATE OR REPLACE TEMP MACRO {EXTRACT_OF}(pg_value_arg BIGINT) AS pg_value_arg::DECIMAL(38,0), "
    "(pg_value_arg DOUBLE) AS pg_value_arg::DECIMAL(38,6), (pg_value_arg) AS pg_value_arg",
    f"CREATE OR REPLACE TEMP MACRO {SERIES_OF}(pg_from_arg INTEGER, pg_to_arg INTEGER, pg_value_arg) AS "
    "pg_value_arg::INTEGER, (pg_from_arg, pg_to_arg, pg_value_arg) AS pg_value_arg, "
    "(pg_from_arg INTEGER, pg_to_arg INTEGER, pg_step_arg INTEGER, pg_value_arg) AS pg_value_arg::INTEGER, "
    "(pg_from_arg, pg_to_arg, pg_step_arg, pg_value_arg) AS pg_value_arg",
    # length / char_length / character_length (pgfunctions' renames)
    f"CREATE OR REPLACE TEMP MACRO {LENGTH}(pg_text_arg) AS CAST(length(pg_text_arg) AS INTEGER)",
)
_NUMERIC_AGGREGATES = frozenset(("avg", "stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop"))
# extract's fields whose fraction DuckDB drops: the microseconds' count over this, with PostgreSQL's scale
_FRACTION_FIELDS = {"second": (1_000_000, 6), "seconds": (1_000_000, 6), "millisecond": (1000, 3),
                    "milliseconds": (1000, 3)}
Tokens = list[tuple[int, str, str]]


def result_types(sql: str) -> str:
    """``sql`` with each call of the module doc as its macro's call (or cast)."""
    toks = words_if(sql, *_NUMERIC_AGGREGATES, "round", "extract", "date_part", "generate_series")
    if toks is None or stored_definition(toks):
        return sql
    pivoted = in_pivots(toks)
    edits = Edits(sql)
    for i in range(len(toks) - 2, -1, -1):  # from the end (a nested call first: Edits keeps the offsets)
        name = toks[i][1].lower()
        if toks[i + 1][1] != "(" or toks[i][2] not in ("identifier", "keyword") or pivoted[i] \
                or i >= 2 and toks[i - 1][1] == "." and toks[i - 2][1].lower() != "pg_catalog":
            continue
        close = closing(toks, i + 1)
        if close is None or close == i + 2 or _parameter(toks, i + 2, close) or calls_aggregate(toks, i + 2, close):
            continue  # (an aggregate in a typed overload's argument: DuckDB's binder picks one whatever the type)
        start = toks[i - 2][0] if i >= 2 and toks[i - 1][1] == "." else toks[i][0]
        spans = call_arguments(toks, i + 1, close)
        args = [edits.text(toks[a][0], toks[b][0] + len(toks[b][1])) for a, b in spans]
        end = toks[close][0] + 1
        if name in _NUMERIC_AGGREGATES and len(args) == 1:
            stop, window = aggregate_end(toks, close)
            if stop is None or any(t[1].lower() == "order" for t in toks[i + 2:close]):
                continue
            if not window and _outer_aggregate(toks, i):
                continue
            arg = args[0].removeprefix("DISTINCT ").removeprefix("distinct ")
            edits.replace(start, stop, f"{NUMERIC_OF}({arg}, {edits.text(start, stop)})")
        elif name == "round" and len(args) == 1:
            edits.replace(start, end, f"{ROUND_OF}({args[0]}, {edits.text(start, end)})")
        elif name == "round" and len(args) == 2 and (scale := _integer(args[1])) is not None and -38 < scale <= 16:
            numeric = f"round(({args[0]})::DECIMAL(38,{max(scale, 0)}), {scale})"
            # (1e5 is a double to DuckDB, numeric to PostgreSQL: a literal stands for a decimal's overload)
            lone = toks[spans[0][0]] if spans[0][0] == spans[0][1] else None
            typed = "0.0" if lone is not None and lone[2] == "numeric_const" and "e" in lone[1].lower() else args[0]
            edits.replace(start, end, f"{ROUND_SCALE_OF}({typed}, {edits.text(start, end)}, {numeric})")
        elif name == "extract":
            edits.replace(start, end, _extract(edits, toks, i, close))
        elif name == "date_part" and len(args) == 2 and toks[i + 2][2] == "string_const":
            edits.replace(start, end, f"CAST({edits.text(start, end)} AS DOUBLE)")
        elif name == "generate_series" and len(args) in (2, 3) and i >= 2 and toks[i - 1][1] == "(" \
                and toks[i - 2][1].lower() == "unnest" and close + 1 < len(toks) and toks[close + 1][1] == ")":
            # pgcolnames' unnest(generate_series(...)) of a select list (generate_series in FROM stays DuckDB's)
            outer, stop = toks[i - 2][0], toks[close + 1][0] + 1
            edits.replace(outer, stop, f"{SERIES_OF}({', '.join(args)}, {edits.text(outer, stop)})")
        elif name == "generate_series" and len(args) in (2, 3) and _in_from(toks, i - 2 if start != toks[i][0] else i):
            series = from_series(toks, close, ", ".join(args))
            if series is not None:
                edits.replace(start, end, series)
    return edits.sql


# What may follow a FROM item without an alias (a keyword after it otherwise is an alias without AS: left as it is)
_AFTER_FROM_ITEM = frozenset((",", ";", ")", "where", "join", "inner", "left", "right", "full", "cross", "natural",
                              "on", "using", "group", "order", "limit", "offset", "having", "window", "qualify",
                              "union", "intersect", "except", "positional", "asof", "anti", "semi", "fetch", "for"))
# What ends a FROM list, read backwards from one of its items
_BEFORE_FROM = frozenset(("select", "where", "group", "order", "having", "on", "using", "limit", "set", "values"))


def _in_from(toks: Tokens, i: int) -> bool:
    """Whether the item starting at token ``i`` is one of a FROM list's (after FROM, JOIN, LATERAL, or a comma of
    that list)."""
    prev = toks[i - 1][1].lower() if i > 0 else ""
    if prev in ("from", "join", "lateral"):
        return True
    depth = 0
    for j in range(i - 2, -1, -1) if prev == "," else ():
        word = toks[j][1].lower()
        depth += {")": 1, "(": -1}.get(word, 0)
        if depth < 0 or depth == 0 and word in _BEFORE_FROM:
            return False
        if depth == 0 and word == "from":
            return True
    return False


def from_series(toks: Tokens, close: int, args: str) -> str | None:
    """A FROM list's ``generate_series(args)`` (its ``)`` at token ``close``) as a subquery whose integer arguments
    give an integer column (SERIES_OF), named as PostgreSQL names it; None where its alias cannot be read."""
    k = close + 1
    word = toks[k][1].lower() if k < len(toks) else ";"
    if word == "as" and k + 1 < len(toks):
        alias: str | None = toks[k + 1][1]
        k += 2
    elif k < len(toks) and toks[k][2] == "identifier":
        alias, k = toks[k][1], k + 1
    elif word in _AFTER_FROM_ITEM:
        alias = None
    else:
        return None
    if k < len(toks) and toks[k][1].lower() == "with":  # WITH ORDINALITY
        return None
    column = "generate_series" if alias is None or k < len(toks) and toks[k][1] == "(" else alias
    series = f"(SELECT {SERIES_OF}({args}, generate_series) AS {column} FROM generate_series({args}))"
    return series if alias is not None else f"{series} AS generate_series"


def _parameter(toks: Tokens, start: int, stop: int) -> bool:
    """Whether tokens ``start`` to ``stop`` hold a parameter not cast where it stands."""
    return any(w in ("$", "?") and not cast_parameter(toks, j) for j, (_, w, _) in enumerate(toks)
               if start <= j < stop)


def aggregate_end(toks: Tokens, close: int) -> tuple[int | None, bool]:
    """Where an aggregate's call ends in the text: past its FILTER (...) and its OVER (...) / OVER name (None when
    those cannot be read), and whether it is a window's."""
    k = close
    if k + 2 < len(toks) and toks[k + 1][1].lower() == "filter" and toks[k + 2][1] == "(":
        shut = closing(toks, k + 2)
        if shut is None:
            return None, False
        k = shut
    window = k + 1 < len(toks) and toks[k + 1][1].lower() == "over"
    if window:
        if k + 2 >= len(toks):
            return None, True
        shut = closing(toks, k + 2) if toks[k + 2][1] == "(" else k + 2  # (OVER a window's name)
        if shut is None:
            return None, True
        k = shut
    elif k + 1 < len(toks) and toks[k + 1][1].lower() == "within":
        return None, False
    return toks[k][0] + len(toks[k][1]), window


def _outer_aggregate(toks: Tokens, i: int) -> bool:
    """Whether the aggregate at token ``i`` stands in a subquery without a FROM of its own (``(SELECT avg(t.x))``):
    an outer query's aggregate, whose argument, bound where the call stands, would be a column outside it."""
    depth = 0
    for j in range(i - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(toks[j][1], 0)
        if depth < 0:
            depth = 0
            if j + 1 < len(toks) and toks[j + 1][1].lower() == "select":  # the subquery's own parenthesis
                inner, k = 0, j + 1
                while k < len(toks) and inner >= 0:
                    inner += {"(": 1, ")": -1}.get(toks[k][1], 0)
                    if inner == 0 and toks[k][1].lower() == "from":
                        return False
                    k += 1
                return True
    return False


def _integer(text: str) -> int | None:
    """The integer a literal argument is (``2``, ``-1``), else None."""
    try:
        return int(text.replace(" ", ""))
    except ValueError:
        return None


def _extract(edits: Edits, toks: Tokens, i: int, close: int) -> str:
    """``extract(field FROM x)`` as PostgreSQL's numeric (module doc)."""
    call = edits.text(toks[i][0], toks[close][0] + 1)
    field = toks[i + 2][1].strip("'\"").lower()
    if field in _FRACTION_FIELDS and i + 3 < close and toks[i + 3][1].lower() == "from":
        per, scale = _FRACTION_FIELDS[field]
        source = edits.text(toks[i + 4][0], toks[close][0]).strip()
        return f"CAST(extract(microseconds FROM {source})::DOUBLE / {per} AS DECIMAL(38,{scale}))"
    return f"{EXTRACT_OF}({call})"
