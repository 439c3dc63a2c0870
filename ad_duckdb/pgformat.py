"""PostgreSQL's formatting functions as BI tools send them: ``to_char(timestamp | number, 'format')``,
``to_timestamp(text, 'format')`` and ``to_date(text, 'format')`` (Superset's time-range filters), rewritten to
DuckDB's ``strftime`` / ``strptime`` / ``format`` when the format is a literal, as it is in the SQL tools write.

A format is converted here, once per statement, by PostgreSQL's rules (its template patterns, ``FM``, text in
double quotes); one this does not know (a pattern outside the common ones, a format given as a parameter) is left to
the session macros of the same names, whose error says what works. Nothing here runs SQL.
"""

from __future__ import annotations

import re

import duckdb

from .sqltext import quote_literal, sql_words

_ROMAN = "['I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X', 'XI', 'XII']"
# PostgreSQL's date/time template patterns (longest first, as PostgreSQL matches them) -> (strftime without FM,
# strftime with FM). A pattern whose value strftime has no specifier for is an SQL expression of ``{x}`` instead
# (an "expr:" entry), cast to text.
_DATE_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("HH24", "%H", "%-H"), ("HH12", "%I", "%-I"), ("HH", "%I", "%-I"), ("MI", "%M", "%-M"),
    # seconds past midnight (SSSSS is PostgreSQL's other spelling): before SS, which would read them as SS twice
    ("SSSSS", "expr:hour({x}) * 3600 + minute({x}) * 60 + second({x})",
     "expr:hour({x}) * 3600 + minute({x}) * 60 + second({x})"),
    ("SSSS", "expr:hour({x}) * 3600 + minute({x}) * 60 + second({x})",
     "expr:hour({x}) * 3600 + minute({x}) * 60 + second({x})"),
    ("SS", "%S", "%-S"),
    ("MS", "%g", "%g"), ("US", "%f", "%f"),
    ("AM", "%p", "%p"), ("PM", "%p", "%p"), ("am", "lower:%p", "lower:%p"), ("pm", "lower:%p", "lower:%p"),
    ("YYYY", "%Y", "%Y"), ("IYYY", "%G", "%G"), ("YY", "%y", "%y"),
    ("MONTH", "upper:month", "upper:%B"), ("Month", "month", "%B"), ("month", "lower:month", "lower:%B"),
    ("MON", "upper:%b", "upper:%b"), ("Mon", "%b", "%b"), ("mon", "lower:%b", "lower:%b"), ("MM", "%m", "%-m"),
    ("DAY", "upper:day", "upper:%A"), ("Day", "day", "%A"), ("day", "lower:day", "lower:%A"),
    ("DY", "upper:%a", "upper:%a"), ("Dy", "%a", "%a"), ("dy", "lower:%a", "lower:%a"),
    ("DDD", "%j", "%-j"), ("DD", "%d", "%-d"), ("ID", "%u", "%u"), ("D", "expr:dayofweek({x}) + 1", "expr:dayofweek({x}) + 1"),
    ("IW", "%V", "%-V"), ("Q", "expr:quarter({x})", "expr:quarter({x})"),
    ("TZ", "%Z", "%Z"), ("tz", "lower:%Z", "lower:%Z"),
    # century (2001-2100 the 21st), Julian day, week of the year from 1 January, month in Roman numerals (PostgreSQL
    # pads it to 4, III as 'III ')
    ("CC", "expr:lpad(CAST((year({x}) - 1) // 100 + 1 AS VARCHAR), 2, '0')", "expr:(year({x}) - 1) // 100 + 1"),
    ("J", "expr:CAST(julian(CAST({x} AS DATE)) AS BIGINT)", "expr:CAST(julian(CAST({x} AS DATE)) AS BIGINT)"),
    ("WW", "expr:lpad(CAST((dayofyear({x}) - 1) // 7 + 1 AS VARCHAR), 2, '0')", "expr:(dayofyear({x}) - 1) // 7 + 1"),
    ("RM", f"expr:rpad({_ROMAN}[month({{x}})], 4, ' ')", f"expr:{_ROMAN}[month({{x}})]"),
    ("rm", f"expr:lower(rpad({_ROMAN}[month({{x}})], 4, ' '))", f"expr:lower({_ROMAN}[month({{x}})])"),
)
# Patterns whose text is not a number, after which TH / th (an ordinal's suffix) is not taken.
_NOT_NUMBERS = frozenset(("AM", "PM", "am", "pm", "MONTH", "Month", "month", "MON", "Mon", "mon", "DAY", "Day", "day",
                          "DY", "Dy", "dy", "TZ", "tz", "RM", "rm"))
# SQL: the ordinal suffix of the number {n}, as PostgreSQL's TH (11th to 13th, else by the last digit)
_SUFFIX_SQL = ("CASE WHEN ({n}) % 100 IN (11, 12, 13) THEN 'th' WHEN ({n}) % 10 = 1 THEN 'st' "
               "WHEN ({n}) % 10 = 2 THEN 'nd' WHEN ({n}) % 10 = 3 THEN 'rd' ELSE 'th' END")
# strptime's specifier for each pattern (what to_timestamp / to_date read); a pattern missing here is not read.
_PARSE_PATTERNS = {"HH24": "%H", "HH12": "%I", "HH": "%I", "MI": "%M", "SS": "%S", "MS": "%g", "US": "%f",
                   "AM": "%p", "PM": "%p", "YYYY": "%Y", "YY": "%y", "MONTH": "%B", "Month": "%B", "month": "%B",
                   "MON": "%b", "Mon": "%b", "mon": "%b", "MM": "%m", "DDD": "%j", "DD": "%d", "TZ": "%Z"}
# Month and day names are blank-padded to 9 characters unless FM, as PostgreSQL pads them.
_PADDED = {"month": "%B", "day": "%A"}
# The letters PostgreSQL's date/time patterns start with: any other is copied as it is.
_PATTERN_LETTERS = frozenset("ABCDFHIJMOPQRSTUWYabcdfhijmopqrstuwy")
_NUMBER_RE = re.compile(r"^(FM)?([90,G]*)(?:([.D])([90]*))?$")


def _date_pieces(fmt: str, parse: bool) -> list[tuple[str, str]] | None:
    """``fmt`` as a list of (kind, text): ("lit", literal text), ("f", a strftime specifier), ("upper" | "lower" |
    "pad" | "expr", ...); None when it holds a pattern this does not convert."""
    out: list[tuple[str, str]] = []
    i, fm = 0, False
    number: str | None = None  # SQL of the number the last pattern printed ({x} the value), for a TH after it
    while i < len(fmt):
        if fmt.startswith("FM", i):
            fm, i = True, i + 2
            continue
        if fmt.startswith(("TH", "th"), i) and not parse and number is not None:
            suffix = _SUFFIX_SQL.replace("{n}", number)
            out.append(("expr", f"upper({suffix})" if fmt[i] == "T" else suffix))
            i, number = i + 2, None
            continue
        number = None
        if fmt[i] == '"':  # text in double quotes is copied as it is (\" a quote inside it)
            j, text = i + 1, ""
            while j < len(fmt) and fmt[j] != '"':
                if fmt[j] == "\\" and j + 1 < len(fmt):
                    j += 1
                text += fmt[j]
                j += 1
            out.append(("lit", text))
            i, fm = j + 1, False
            continue
        for pattern, plain, with_fm in _DATE_PATTERNS:
            if fmt.startswith(pattern, i):
                if parse:
                    if pattern not in _PARSE_PATTERNS:
                        return None
                    out.append(("f", _PARSE_PATTERNS[pattern]))
                else:
                    spec = with_fm if fm else plain
                    kind, _, value = spec.rpartition(":")
                    if value in _PADDED:
                        out.append(("pad" if not kind else "pad" + kind, _PADDED[value]))
                    else:
                        out.append((kind or "f", value))
                    if pattern not in _NOT_NUMBERS:
                        number = value if kind == "expr" else f"CAST(strftime({{x}}, {quote_literal(value)}) AS INTEGER)"
                i, fm = i + len(pattern), False
                break
        else:
            # a letter that starts one of PostgreSQL's patterns this does not convert (OF, A.M., TH after no number,
            # ...)
            # would be printed as it is: no conversion rather than a wrong one ('T' alone is no pattern)
            if fmt[i] in _PATTERN_LETTERS and not (fmt[i] in "Tt" and fmt[i + 1:i + 2] not in tuple("HhZz")):
                return None
            out.append(("lit", fmt[i]))
            i += 1
    return out


def _strftime_sql(x: str, pieces: list[tuple[str, str]]) -> str:
    """SQL: the text of ``x`` by ``pieces`` (_date_pieces), as one strftime where it can be."""
    parts: list[str] = []
    run = ""
    for kind, value in pieces:
        if kind == "lit":
            run += value.replace("%", "%%")
        elif kind == "f":
            run += value
        else:
            if run:
                parts.append(f"strftime({x}, {quote_literal(run)})")
                run = ""
            if kind == "expr":
                parts.append(f"CAST({value.format(x=x)} AS VARCHAR)")
            elif kind.startswith("pad"):
                inner = f"format('{{:<9}}', strftime({x}, {quote_literal(value)}))"
                case = kind[3:]
                parts.append(f"{case}({inner})" if case else inner)
            else:
                parts.append(f"{kind}(strftime({x}, {quote_literal(value)}))")
    if run or not parts:
        parts.append(f"strftime({x}, {quote_literal(run)})")
    return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"


def _number_sql(x: str, fmt: str) -> str | None:
    """SQL: ``to_char(x, fmt)`` of a number, for formats of 9, 0, the group separator (, or G) and the decimal point
    (. or D), with FM: as PostgreSQL, blank-padded to the format's width plus a sign place (FM: not padded, trailing
    zeros of 9 places dropped), digits a 0 place forces kept; None for any other format."""
    m = _NUMBER_RE.match(fmt)
    if m is None or not (m.group(2) or m.group(4)):
        return None
    fm, whole, decimals = bool(m.group(1)), m.group(2) or "", m.group(4) or ""
    grouped = "," in whole or "G" in whole
    digits = whole.replace(",", "").replace("G", "")
    zeros = len(digits) - digits.index("0") if "0" in digits else 0  # integer digits a 0 place forces
    kept = decimals.rindex("0") + 1 if "0" in decimals else 0  # decimals a 0 place keeps under FM
    body = f"format({quote_literal('{:' + (',' if grouped else '') + '.' + str(len(decimals)) + 'f}')}, abs({x})::DOUBLE)"
    if zeros > 1:
        body = (f"regexp_replace({body}, '^([0-9,]*)', lpad(regexp_extract({body}, '^([0-9,]*)', 1), "
                f"{zeros + (zeros - 1) // 3 if grouped else zeros}, '0'))")
    if fm and len(decimals) > kept:
        body = f"regexp_replace({body}, '(\\.[0-9]{{{kept}}}[0-9]*?)0+$', '\\1')"
    if whole and zeros == 0:  # a 9 place shows no digit for a zero integer part: .5, not 0.5
        body = f"regexp_replace({body}, '^0\\.', '.')" if decimals else body
    signed = f"CASE WHEN {x} < 0 THEN '-' ELSE '' END || {body}"
    if fm:
        return f"({signed})"
    return f"format('{{:>{len(fmt) + 1}}}', {signed})"  # (never cut: a longer number shows whole)


def to_char_sql(x: str, fmt: str) -> str | None:
    """SQL: PostgreSQL's ``to_char(x, fmt)`` (a format with 9 or 0 is a number's, any other a date's or a
    timestamp's); None when ``fmt`` holds what this does not convert."""
    bare = re.sub(r'"[^"]*"', "", fmt)
    if re.search(r"[90]", bare):
        return _number_sql(x, fmt)
    pieces = _date_pieces(fmt, parse=False)
    return None if pieces is None else _strftime_sql(x, pieces)


def parse_sql(function: str, text: str, fmt: str) -> str | None:
    """SQL: PostgreSQL's ``to_timestamp(text, fmt)`` (a timestamptz) or ``to_date(text, fmt)``; None when ``fmt``
    holds a pattern this does not read."""
    pieces = _date_pieces(fmt, parse=True)
    if pieces is None:
        return None
    spec = "".join(v.replace("%", "%%") if k == "lit" else v for k, v in pieces)
    kind = "TIMESTAMPTZ" if function == "to_timestamp" else "DATE"
    return f"CAST(strptime({text}, {quote_literal(spec)}) AS {kind})"


_FUNCTIONS = ("to_char", "to_timestamp", "to_date")


def _args(sql: str, toks: list[tuple[int, str, str]], open_: int) -> tuple[list[tuple[int, int]], int] | None:
    """The arguments of the call whose ``(`` is ``toks[open_]`` as text spans, and the index of its ``)``."""
    depth, start, spans = 0, toks[open_][0] + 1, []
    for k in range(open_, len(toks)):
        word = toks[k][1]
        if word in ("(", "["):
            depth += 1
        elif word in (")", "]"):
            depth -= 1
            if depth == 0:
                spans.append((start, toks[k][0]))
                return spans, k
        elif word == "," and depth == 1:
            spans.append((start, toks[k][0]))
            start = toks[k][0] + 1
    return None


def _format_once(sql: str, before: int) -> tuple[str, int] | None:
    """The last call of _FUNCTIONS with a literal format that starts before character ``before`` rewritten (and where
    it starts), or only where the last such call starts, when it is not converted; None when there is none."""
    try:
        toks = sql_words(sql)
    except duckdb.Error:
        return None
    for i in range(len(toks) - 2, -1, -1):
        pos, word, kind = toks[i]
        name = word.lower()
        if pos >= before or kind not in ("identifier", "keyword") or name not in _FUNCTIONS or toks[i + 1][1] != "(" \
                or i > 0 and toks[i - 1][1] == "." and not (i > 1 and toks[i - 2][1].lower() == "pg_catalog"):
            continue
        start = toks[i - 2][0] if i > 1 and toks[i - 1][1] == "." else pos
        found = _args(sql, toks, i + 1)
        if found is None or len(found[0]) != 2:
            return sql, start
        (a0, a1), (b0, b1) = found[0]
        literal = sql[b0:b1].strip()
        if not (len(literal) >= 2 and literal[0] == literal[-1] == "'" and "'" not in literal[1:-1].replace("''", "")):
            return sql, start
        fmt = literal[1:-1].replace("''", "'")
        x = f"({sql[a0:a1].strip()})"
        out = to_char_sql(x, fmt) if name == "to_char" else parse_sql(name, x, fmt)
        if out is None:
            return sql, start
        return sql[:start] + out + sql[toks[found[1]][0] + 1:], start
    return None


def pg_formats(sql: str) -> str:
    """``sql`` with PostgreSQL's to_char / to_timestamp / to_date of a literal format as DuckDB's (see the module);
    by DuckDB's tokenizer, so strings and comments stay as written. From the last call back: the calls inside an
    argument are rewritten before the call around them, and each rewrite leaves the text before it as it was."""
    low = sql.lower()
    if not any(f in low for f in _FUNCTIONS):
        return sql
    before = len(sql)
    while (step := _format_once(sql, before)) is not None:
        sql, before = step
    return sql
