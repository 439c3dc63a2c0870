"""Numbers written as text: how a text column writes them beyond what TRY_CAST reads (thousands separators, a
decimal comma, currency marks, accounting negatives), the SQL that reads them as numbers, and the hint that offers
it, also for a CSV whose header line repeats mid-file."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from .numberhints import _from_item
from .sqltext import quote_ident, quote_literal, source_sql, where_sql

# A number written with thousands separators ("1,234.50"), which TRY_CAST reads as NULL.
_THOUSANDS = r"\s*[-+]?\d{1,3}(,\d{3})+(\.\d*)?\s*"
# A number written with a decimal comma, '.' or none as the thousands separator ("937,50", "1.251,00"), as European
# bank and spreadsheet exports write them; TRY_CAST reads these as NULL too. "12,500" fits both patterns.
_DECIMAL_COMMA = r"\s*[-+]?(\d{1,3}(\.\d{3})+|\d+),\d+\s*"
# How a text column writes its numbers, beyond what TRY_CAST reads: None, THOUSANDS or DECIMAL_COMMA.
THOUSANDS, DECIMAL_COMMA = "thousands", "decimal_comma"
# Currency signs and codes an accounting or ERP export writes beside its amounts ("$1,234.50", "1.234,50 €",
# "EUR 12,50"), and the spaces inside them (a French "1 234,50", often with a no-break space): dropped to read them.
_MONEY_MARKS = r"[$€£¥₹\s\x{00A0}\x{202F}]|EUR|USD|GBP|CHF|JPY|CAD|AUD"  # RE2: visible in the query
# An accounting negative, "(120.00)", or SAP's trailing minus, "120.00-": both read as -120.00.
_NEGATIVE = r"^\((.*)\)$|^(.*)-$"


@dataclass(frozen=True)
class Written:
    """How a text column writes its numbers, beyond what TRY_CAST reads: the thousands / decimal separator style
    (None, THOUSANDS or DECIMAL_COMMA), currency marks, accounting negatives."""
    separator: str | None = None
    money: bool = False
    negatives: bool = False


def _cleaned(c: str, money: bool, negatives: bool) -> str:
    """SQL for the quoted text column ``c`` with its currency marks dropped and an accounting negative turned into a
    leading minus, as asked."""
    if money:
        c = f"regexp_replace({c}, {quote_literal(_MONEY_MARKS)}, '', 'g')"
    if negatives:
        c = f"regexp_replace({c if money else f'trim({c})'}, {quote_literal(_NEGATIVE)}, '-\\1\\2')"
    return c


def _numbers_as_text(cur: object, source: str, names: Sequence[str],
                     where: str | None) -> dict[str, tuple[float, object, Written | None]]:
    """For text columns: the share of their non-NULL values that read as numbers, one value that does not, and
    how the numbers are written beyond what TRY_CAST reads (None, or a ``Written``: "1,234.50", "1.234,50",
    "$1,234.50", "(120.00)").

    Why: a CSV column holding "N/A" among its numbers is typed VARCHAR and would be left out without a word; and
    TRY_CAST reads "1,234.50" as NULL, so a hint without replace() would lose the large values (filled with the
    median). A European export's "937,50" is a number too, not free text, and "12,500" in it is 12.5: a column
    with values only a decimal comma explains, and none only thousands separators explain, reads every comma as
    the decimal point. An accounting export's "$1,234.50", "1.234,50 €" and "(120.00)" are amounts too: read
    without their currency marks, and "(120.00)" as -120.00, not as a missing value filled with the median.
    Read on the first 10,000 rows; best effort (an error here only loses the hint).
    """
    if not names:
        return {}
    # Why in layers: each value's cleaned text is worked out once, not once per count (a 200-column export took
    # four times as long with the regexes repeated).
    k, d = quote_literal(_THOUSANDS), quote_literal(_DECIMAL_COMMA)
    money, negative = quote_literal(_MONEY_MARKS), quote_literal(_NEGATIVE)
    read = ", ".join(f"{quote_ident(n)} AS v{i}" for i, n in enumerate(names))
    stripped = ", ".join(f"v{i}, regexp_replace(v{i}, {money}, '', 'g') AS s{i}" for i in range(len(names)))
    # the LIKEs: a regexp with groups costs as much as the rest together, and few values need it
    core = ", ".join(f"v{i}, s{i}, CASE WHEN s{i} LIKE '(%)' OR s{i} LIKE '%-' THEN regexp_replace(s{i}, {negative}, "
                     f"'-\\1\\2') ELSE s{i} END AS x{i}" for i in range(len(names)))
    tests = ", ".join(f"v{i}, s{i} <> trim(v{i}) AS m{i}, x{i} <> s{i} AS g{i}, TRY_CAST(x{i} AS DOUBLE) IS NOT NULL "
                      f"AS f{i}, regexp_full_match(x{i}, {k}) AS u{i}, regexp_full_match(x{i}, {d}) AS e{i}"
                      for i in range(len(names)))
    parts = []
    for i in range(len(names)):
        number = f"(f{i} OR u{i} OR e{i})"
        parts.append(f"count(v{i}), count(*) FILTER (WHERE f{i}), count(*) FILTER (WHERE u{i} AND NOT e{i}), "
                     f"count(*) FILTER (WHERE e{i} AND NOT u{i}), count(*) FILTER (WHERE u{i} AND e{i}), "
                     f"any_value(v{i}) FILTER (WHERE NOT {number}), count(*) FILTER (WHERE m{i} AND {number}), "
                     f"count(*) FILTER (WHERE g{i} AND {number})")
    q = (f"SELECT {', '.join(parts)} FROM (SELECT {tests} FROM (SELECT {core} FROM (SELECT {stripped} FROM "
         f"(SELECT {read} FROM {source_sql(source)}{where_sql(where) if where else ''} LIMIT 10000))))")
    try:
        row = cur.execute(q).fetchall()[0]  # type: ignore[attr-defined]
    except Exception:
        return {}
    out: dict[str, tuple[float, object, Written | None]] = {}
    for i, n in enumerate(names):
        total, ok, thousands, decimal_comma, both, odd, money, negatives = row[8 * i: 8 * i + 8]
        if total:
            sep = DECIMAL_COMMA if decimal_comma and not thousands else THOUSANDS if thousands or both else None
            style = Written(sep, bool(money), bool(negatives)) if sep or money or negatives else None
            out[n] = ((ok + thousands + decimal_comma + both) / total, odd, style)
    return out


def written_in(values: Sequence[str]) -> tuple[float, Written | None]:
    """The share of ``values`` (text) that are numbers, and how they are written beyond what TRY_CAST reads: the
    judgement ``_numbers_as_text`` makes in SQL, for values in hand (a batch a SQL function was given)."""
    money, negative = re.compile(_MONEY_MARKS.replace("\\x{00A0}", "\u00a0").replace("\\x{202F}", "\u202f")), \
        re.compile(_NEGATIVE)
    n = plain = thousands = comma = both = has_money = has_negative = 0
    for v in values:
        n += 1
        kept = money.sub("", v.strip())
        m = negative.match(kept)
        core = "-" + (m.group(1) if m.group(1) is not None else m.group(2)) if m else kept
        us, eu = bool(re.fullmatch(_THOUSANDS, core)), bool(re.fullmatch(_DECIMAL_COMMA, core))
        try:
            float(core)
            number = plain_number = True
        except ValueError:
            number, plain_number = us or eu, False
        plain += plain_number
        thousands += us and not eu
        comma += eu and not us
        both += us and eu
        has_money += number and kept != v.strip()
        has_negative += number and m is not None
    if not n:
        return 0.0, None
    sep = DECIMAL_COMMA if comma and not thousands else THOUSANDS if thousands or both else None
    style = Written(sep, bool(has_money), bool(has_negative)) if sep or has_money or has_negative else None
    return (plain + thousands + comma + both) / n, style


def text_as_number(column: str, style: Written | None) -> str:
    """The SQL that reads a text column as numbers: TRY_CAST (a value that is no number becomes NULL), after
    dropping currency marks and thousands separators, turning an accounting negative into a minus and a decimal
    comma into a point, when the column has them."""
    return number_expr(quote_ident(column), style)


def number_expr(c: str, style: Written | None) -> str:
    """``text_as_number`` for the SQL expression ``c`` (a quoted column, or a placeholder such as ``col``)."""
    style = style or Written()
    c = _cleaned(c, style.money, style.negatives)
    if style.separator == THOUSANDS:
        c = f"replace({c}, ',', '')"
    elif style.separator == DECIMAL_COMMA:
        c = f"replace(replace({c}, '.', ''), ',', '.')"
    elif not (style.money or style.negatives):
        # DuckDB 2.0 pushes a bare TRY_CAST of a CSV column into the CSV reader, which then casts strictly and stops
        # on the very 'N/A' the TRY_CAST was for; a function around the column keeps the cast in the query (a cast
        # to DOUBLE ignores the spaces trim drops anyway).
        c = f"trim({c})"
    return f"TRY_CAST({c} AS DOUBLE)"


def written_words(style: Written | None) -> str:
    """How a column's numbers are written, as the hint says it ("" for plain numbers)."""
    if style is None:
        return ""
    words = [{THOUSANDS: "some written with thousands separators (1,234.50)",
              DECIMAL_COMMA: "written with a decimal comma (1.234,50)"}.get(str(style.separator), "")]
    if style.money:
        words.append("with currency marks ($, €, EUR)")
    if style.negatives:
        words.append("negatives written (120.00) or 120.00-")
    return ", ".join(w for w in words if w)


def _read_how(style: Written | None) -> str:
    """What the hint's expression does beyond TRY_CAST, for the note's parenthesis ("" when nothing)."""
    if style is None:
        return ""
    how = {THOUSANDS: ["replace() drops the thousands separators of values such as '1,234.50', which TRY_CAST "
                       "alone reads as NULL"],
           DECIMAL_COMMA: ["its numbers are written with a decimal comma (1.234,50), which replace() turns into a "
                           "point, dropping the '.' thousands separators"]}.get(str(style.separator), [])
    if style.money:
        how.append("regexp_replace() drops the currency marks")
    if style.negatives:
        how.append("reads (120.00) and 120.00- as -120.00")
    return "".join(f"; {h}" for h in how)


def text_number_hint(cur: object, source: str, column: str, where: str | None = None) -> str | None:
    """For a text column mostly of numbers: what it holds and the query that reads it as numbers; else None."""
    info = _numbers_as_text(cur, source, [column], where).get(column)
    if info is None or info[0] < 0.5:
        return None
    _, odd, style = info
    holds = ("all its values are numbers" if odd is None
             else f"its values are numbers apart from a few such as {odd!r}")
    if style is not None:
        holds += f", {written_words(style)}"
    c = quote_ident(column)
    src = _from_item(source)
    return (f"{holds}. Read it as a number in a query: SELECT * REPLACE ({text_as_number(column, style)} AS {c}) "
            f"FROM {src} (a value that is not a number becomes NULL, a missing value)")


def header_again(cur: object, source: str, text: list[str]) -> str | None:
    """Why a CSV's columns are all text when a line mid-file repeats the header (exports joined with cat), and the
    query that reads the file without it, its numbers as numbers; None for another source or when none does.

    Why: DuckDB types a column VARCHAR for the header's 'count' among its numbers, and the advice for a source of
    text columns, CAST(x AS DOUBLE), fails on that very value."""
    if cur is None or not text:
        return None
    read = _numbers_as_text(cur, source, text, None)
    numbers = [n for n in text if n in read and read[n][0] >= 0.5]
    key = numbers[:2]  # a header's line holds every name: two tell it from a row whose value is a word
    if not key:
        return None
    again = " AND ".join(f"{quote_ident(n)} = {quote_literal(n)}" for n in key)
    try:
        found = cur.execute(  # type: ignore[attr-defined]
            f"SELECT count(*) FROM {source_sql(source)} WHERE {quote_ident(key[0])} = ? AND {quote_ident(key[-1])} = ?",
            [key[0], key[-1]]).fetchall()[0][0]
    except duckdb.Error:
        return None
    if not found:
        return None
    exprs = ", ".join(f"{text_as_number(n, read[n][2])} AS {quote_ident(n)}" for n in numbers)
    return (f"{found} line{'s' if found > 1 else ''} after the first repeat{'' if found > 1 else 's'} the header (files "
            "joined with their headers), so DuckDB read every column as text. Read it with: SELECT * REPLACE "
            f"({exprs}) FROM {_from_item(source)} WHERE NOT ({again})")
