"""PostgreSQL's functions that DuckDB lacks, or has with another answer, as the session's macros (FUNCTION_SQL, part
of pgcatalog's SESSION_SQL, created by the first statement that names one), the rewrites that reach the macros
whose name is DuckDB's own function's (pg_functions), and ``BETWEEN SYMMETRIC`` (symmetric_betweens).

``every(x)`` is DuckDB's ``bool_and`` (a real aggregate, so FILTER and OVER stay; a macro takes neither);
``octet_length(text)`` counts its UTF-8 bytes (DuckDB's takes a BLOB only); ``json_array_elements`` /
``jsonb_array_elements`` (and their ``_text`` forms) give a row per element of a JSON array, in a select list and in
FROM (``CROSS JOIN LATERAL jsonb_array_elements(t.items) AS e``, whose column is ``value``), where a table macro of
another name serves them.

``round(x)`` of one argument: PostgreSQL rounds a double precision (or real) half to even, as C's rint (``round(2.5::
float8)`` is 2), a numeric half away from zero (``round(2.5::numeric)`` is 3); DuckDB's round goes away from zero for
both. So a query's one-argument round becomes ROUND_MACRO's call, which takes DuckDB's round_even for a DOUBLE or
FLOAT and its round for any other type (DuckDB knows the argument's type as it binds the macro, so the CASE keeps the
argument's type: a DECIMAL's round is DECIMAL). Runs after pgcolnames: the column is named ``round``, as PostgreSQL
names it. What the file stores (a view or macro, a table's DEFAULT or generated column: pgstored) keeps DuckDB's round
(and octet_length, json_array_elements): its text must not name the session's temporary macros. There btrim is
DuckDB's trim (the macro's body), and the macros of DuckDB's own functions (encode / decode of two arguments,
width_bucket, justify_*) are written out as their bodies (pgstoredinline).
"""

from __future__ import annotations

from .pgarrayconcat import ARRAY_SQL
from .pgavgout import AVG_SQL
from .pgbytea import BYTEA_SQL, DECODE_MACRO, ENCODE_MACRO
from .pgcase import UPPER_MACRO, UPPER_SQL
from .pginterval import JUSTIFY_SQL
from .pgjsonedit import EDIT_SQL
from .pgjsonkeys import KEYS_SQL
from .pgresulttypes import LENGTH, RESULT_TYPES_SQL
from .pgroots import ROOT_SQL
from .pgsql import in_from
from .pgstored import stored_definition
from .pgsumscope import closing
from .pgtextcast import TEXT_SQL
from .pgxor import operand_end
from .sqltext import words_if

ROUND_MACRO = "pg_round"
OCTETS_MACRO = "pg_octet_length"
# json_array_elements in FROM: a table macro's (a name cannot be both a scalar macro and a table macro of SESSION_SQL)
ELEMENTS_TABLE = "pg_json_elements"
ELEMENTS_TEXT_TABLE = "pg_json_elements_text"
_ELEMENTS = "CAST(json_extract(pg_json_arg::JSON, '$[*]') AS JSON[])"
_ELEMENTS_TEXT = "json_extract_string(pg_json_arg::JSON, '$[*]')"
FUNCTION_SQL = (
    f"CREATE OR REPLACE TEMP MACRO {ROUND_MACRO}(pg_round_arg) AS CASE WHEN typeof(pg_round_arg) IN ('DOUBLE', 'FLOAT') "
    "THEN round_even(pg_round_arg, 0) ELSE round(pg_round_arg) END",
    # octet_length of text: its UTF-8 bytes (DuckDB's takes a BLOB or a BIT only); of a bytea, DuckDB's
    f"CREATE OR REPLACE TEMP MACRO {OCTETS_MACRO}(pg_octets_arg) AS CAST(CASE WHEN typeof(pg_octets_arg) = 'BLOB' "
    "THEN octet_length(pg_octets_arg::BLOB) ELSE octet_length(encode(pg_octets_arg::VARCHAR)) END AS INTEGER)",
    # a side of || the server cannot tell from jsonb (pgjsonb's GUARD): itself, or the message if DuckDB binds it as
    # JSON (typeof is the binder's constant: no row is read for it, and no other type changes)
    "CREATE OR REPLACE TEMP MACRO pg_not_json(pg_value_arg, pg_message_arg) AS CASE WHEN typeof(pg_value_arg) = 'JSON' "
    "THEN error(pg_message_arg) ELSE pg_value_arg END",
    # a row per element of a JSON array, in a select list (json, or text for the _text forms) and in FROM (a column
    # named value, as PostgreSQL's)
    f"CREATE OR REPLACE TEMP MACRO json_array_elements(pg_json_arg) AS unnest({_ELEMENTS})",
    f"CREATE OR REPLACE TEMP MACRO jsonb_array_elements(pg_json_arg) AS unnest({_ELEMENTS})",
    f"CREATE OR REPLACE TEMP MACRO json_array_elements_text(pg_json_arg) AS unnest({_ELEMENTS_TEXT})",
    f"CREATE OR REPLACE TEMP MACRO jsonb_array_elements_text(pg_json_arg) AS unnest({_ELEMENTS_TEXT})",
    f"CREATE OR REPLACE TEMP MACRO {ELEMENTS_TABLE}(pg_json_arg) AS TABLE SELECT unnest({_ELEMENTS}) AS value",
    f"CREATE OR REPLACE TEMP MACRO {ELEMENTS_TEXT_TABLE}(pg_json_arg) AS TABLE SELECT unnest({_ELEMENTS_TEXT}) AS value",
    # btrim: DuckDB's trim, which also trims spaces only (of one argument) and any of the characters (of two)
    "CREATE OR REPLACE TEMP MACRO btrim(pg_text_arg) AS trim(pg_text_arg), "
    "(pg_text_arg, pg_chars_arg) AS trim(pg_text_arg, pg_chars_arg)",
    # width_bucket as PostgreSQL's float8 one: its checks in its order, a quotient that rounds up to n kept in bucket
    # n; strict, as PostgreSQL's (a NULL count gives NULL, not 0 for an operand below lo)
    "CREATE OR REPLACE TEMP MACRO width_bucket(pg_x, pg_lo, pg_hi, pg_n) AS CAST(CASE "
    "WHEN pg_x IS NULL OR pg_lo IS NULL OR pg_hi IS NULL OR pg_n IS NULL THEN NULL "
    "WHEN pg_n <= 0 THEN error('count must be greater than zero') "
    "WHEN isnan(pg_x::DOUBLE) OR isnan(pg_lo::DOUBLE) OR isnan(pg_hi::DOUBLE) "
    "THEN error('operand, lower bound, and upper bound cannot be NaN') "
    "WHEN isinf(pg_lo::DOUBLE) OR isinf(pg_hi::DOUBLE) THEN error('lower and upper bounds must be finite') "
    "WHEN pg_lo < pg_hi THEN CASE WHEN pg_x < pg_lo THEN 0 WHEN pg_x >= pg_hi THEN pg_n + 1 "
    "ELSE least(trunc(pg_n * ((pg_x::DOUBLE - pg_lo) / (pg_hi::DOUBLE - pg_lo))), pg_n - 1) + 1 END "
    "WHEN pg_lo > pg_hi THEN CASE WHEN pg_x > pg_lo THEN 0 WHEN pg_x <= pg_hi THEN pg_n + 1 "
    "ELSE least(trunc(pg_n * ((pg_lo::DOUBLE - pg_x) / (pg_lo::DOUBLE - pg_hi))), pg_n - 1) + 1 END "
    "ELSE error('lower bound cannot equal upper bound') END AS INTEGER)",
    *BYTEA_SQL,  # encode / decode of two arguments (pgbytea)
    *JUSTIFY_SQL,  # justify_hours, justify_days, justify_interval (pginterval)
    *ROOT_SQL,  # |/ and ||/ (pgroots)
    *EDIT_SQL,  # jsonb_strip_nulls, jsonb_set (pgjsonedit)
    *KEYS_SQL,  # jsonb's ? ?| ?& in what the file stores (pgjsonkeys)
    *ARRAY_SQL,  # array || element (pgarrayconcat)
    *TEXT_SQL,  # a cast to text of a double or an interval (pgtextcast)
    *UPPER_SQL,  # upper(text) keeps ß (pgcase)
    *RESULT_TYPES_SQL,  # PostgreSQL's result types of avg, round, extract, generate_series, length (pgresulttypes)
    *AVG_SQL,  # an avg of integers as its own select-list item: PostgreSQL's numeric text (pgavgout)
)
# a call's name -> the name it runs as: anywhere, and (_IN_FROM) as an item of a FROM list
# (btrim as itself: pg_catalog.btrim is DuckDB's own pg_catalog's macro, of other arguments)
_RENAMED = {"every": "bool_and", "octet_length": OCTETS_MACRO, "btrim": "btrim", "length": LENGTH, "char_length": LENGTH,
            "character_length": LENGTH, "upper": UPPER_MACRO}
# a call's name -> DuckDB's own name, in what the file stores (the session's btrim macro is trim of either count)
_STORED_AS = {"btrim": "trim"}
# a call's name -> the name its two-argument form runs as
_TWO_ARGUMENTS = {"encode": ENCODE_MACRO, "decode": DECODE_MACRO}
_IN_FROM = {"json_array_elements": ELEMENTS_TABLE, "jsonb_array_elements": ELEMENTS_TABLE,
            "json_array_elements_text": ELEMENTS_TEXT_TABLE, "jsonb_array_elements_text": ELEMENTS_TEXT_TABLE}


def pg_functions(sql: str) -> str:
    """``sql`` with each one-argument ``round(x)`` of a query as ROUND_MACRO's call, ``every`` as DuckDB's bool_and
    (a real aggregate: FILTER and OVER stay), ``octet_length`` as OCTETS_MACRO's and json_array_elements in FROM as
    the table macro's (bare or pg_catalog's calls)."""
    toks = words_if(sql, "round", *_RENAMED, *_TWO_ARGUMENTS, "_array_elements")
    if toks is None:
        return sql
    stored = stored_definition(toks)  # (what the file stores must not name the session's temporary macros)
    for i in range(len(toks) - 2, -1, -1):  # from the end: each rewrite leaves the offsets before it as they are
        name = toks[i][1].lower()
        if toks[i + 1][1] != "(" or toks[i][2] not in ("identifier", "keyword") \
                or i >= 2 and toks[i - 1][1] == "." and toks[i - 2][1].lower() != "pg_catalog":
            continue  # (another schema's function is the user's own)
        if name == "round" and not stored:
            close = closing(toks, i + 1)
            if close is None or close == i + 2 or _top_commas(toks, i + 1, close):
                continue  # round(x, n) is DuckDB's, as PostgreSQL's of a numeric
            to = ROUND_MACRO
        elif name in _TWO_ARGUMENTS:  # (stored too: pgstoredinline writes the macro's DuckDB text)
            close = closing(toks, i + 1)
            if close is None or not _top_commas(toks, i + 1, close):
                continue  # DuckDB's own encode(text) / decode(blob)
            to = _TWO_ARGUMENTS[name]
        elif name in _RENAMED and (not stored or name == "every"):
            to = _RENAMED[name]
        elif name in _STORED_AS and stored:
            to = _STORED_AS[name]
        elif name in _IN_FROM and not stored and in_from(toks, i):
            to = _IN_FROM[name]
        else:
            continue
        start = toks[i - 2][0] if i >= 2 and toks[i - 1][1] == "." else toks[i][0]
        sql = f"{sql[:start]}{to}{sql[toks[i][0] + len(toks[i][1]):]}"
    return sql


def symmetric_betweens(sql: str) -> str:
    """``sql`` with each ``x [NOT] BETWEEN SYMMETRIC a AND b`` (DuckDB: a syntax error) as ``x [NOT] BETWEEN least(a,
    b) AND greatest(a, b)``, PostgreSQL's meaning: between the two bounds, whichever is the smaller."""
    while (toks := words_if(sql, "symmetric")) is not None:
        at = next((k for k in range(1, len(toks) - 1) if toks[k][1].lower() == "symmetric"
                   and toks[k - 1][1].lower() == "between"), None)
        if at is None:
            return sql
        depth, and_ = 0, None
        for j in range(at + 1, len(toks)):
            depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(toks[j][1], 0)
            if depth < 0:
                break
            if depth == 0 and toks[j][1].lower() == "and":
                and_ = j
                break
        end = None if and_ is None or and_ == at + 1 else operand_end(toks, and_)
        if and_ is None or end is None:
            return sql  # DuckDB's own error
        low = sql[toks[at + 1][0]:toks[and_][0]].strip()
        high = sql[toks[and_ + 1][0]:toks[end][0] + len(toks[end][1])]
        sql = (f"{sql[:toks[at][0]]}least({low}, {high}) AND greatest({low}, {high})"
               f"{sql[toks[end][0] + len(toks[end][1]):]}")
    return sql


def _top_commas(toks: list[tuple[int, str, str]], open_: int, close: int) -> bool:
    """Whether the call whose parenthesis opens at token ``open_`` has more than one argument."""
    depth = 0
    for j in range(open_ + 1, close):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(toks[j][1], 0)
        if depth == 0 and toks[j][1] == ",":
            return True
    return False
