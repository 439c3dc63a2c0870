"""What the file stores names no session macro: the calls the rewrites give a stored definition (pgjsonpath's
``#>`` / ``#>>``, pgjsonagg's jsonb_extract_path of several keys, pgxor's ``#``) become the macros' own text.

Why: a view of ``doc #> '{a,b}'`` or a generated column of ``flags # 4`` made through a read-write server stored
``pg_json_path(...)`` / ``pg_xor(...)``, the session's temporary macros: the view failed at once ('Scalar Function
with name pg_json_path does not exist'), and the table for every reader of the file. These macros' bodies are DuckDB's
own functions, so the stored text is their body with each parameter replaced by its argument: it answers as the
query does, in the server and outside it (pgstored names what is stored). So do the macros under PostgreSQL's own
names (width_bucket, justify_hours, ...), encode / decode of two arguments (pgbytea), jsonb's key tests (pgjsonkeys)
and ``array || element`` (pgarrayconcat): a view of them stored a call no other reader has."""

from __future__ import annotations

import re

from .pgarrayconcat import APPEND, PREPEND
from .pgbytea import DECODE_MACRO, ENCODE_MACRO
from .pgcatalog import SESSION_SQL
from .pgjsonkeys import ALL_KEYS, ANY_KEY, KEY_EXISTS
from .pgjsonpath import JSON_PATH, JSON_PATH_TEXT
from .pgroots import CBRT, SQRT
from .pgstored import stored_definition
from .pgsumscope import call_arguments, closing
from .pgxor import XOR
from .sqltext import sql_words, words_if

_INLINED = frozenset((JSON_PATH, JSON_PATH_TEXT, XOR, SQRT, CBRT, ENCODE_MACRO, DECODE_MACRO, KEY_EXISTS, ANY_KEY,
                      ALL_KEYS, APPEND, PREPEND, "width_bucket", "justify_hours", "justify_days", "justify_interval"))
# bodies nest arguments that hold more calls: a bound on the passes, far above any statement's calls
_MAX_PASSES = 10_000
_MACRO_RE = re.compile(r"CREATE OR REPLACE TEMP MACRO (\w+)\(([\w, ]*)\) AS (.*)\Z", re.S)


def _bodies() -> dict[str, tuple[list[str], str]]:
    """Each inlined macro's name -> its parameters and body, as SESSION_SQL creates it."""
    out = {}
    for sql in SESSION_SQL:
        m = _MACRO_RE.match(sql)
        if m is not None and m.group(1) in _INLINED:
            out[m.group(1)] = ([p.strip() for p in m.group(2).split(",")], m.group(3))
    return out


_BODIES = _bodies()


def inline_stored_macros(sql: str) -> str:
    """``sql``, a statement whose expressions the file stores, with each call of an inlined macro as its body."""
    for _ in range(_MAX_PASSES):
        toks = words_if(sql, *_BODIES)
        if toks is None or not stored_definition(toks):
            return sql
        # (a schema's function of that name is the user's own: util.width_bucket; pg_catalog's is PostgreSQL's)
        at = next((i for i in range(len(toks) - 1) if toks[i][1].lower() in _BODIES and toks[i + 1][1] == "("
                   and not (i >= 2 and toks[i - 1][1] == "." and toks[i - 2][1].lower() != "pg_catalog")), None)
        close = None if at is None else closing(toks, at + 1)
        if at is None or close is None:
            return sql
        params, body = _BODIES[toks[at][1].lower()]
        args = [sql[toks[a][0]:toks[b][0] + len(toks[b][1])] for a, b in call_arguments(toks, at + 1, close)]
        if len(args) != len(params):
            return sql
        given = dict(zip(params, args, strict=True))
        out, last = [], 0
        for start, word, _kind in sql_words(body):  # each parameter's name in the body (not a string's text)
            if word in given:
                out += [body[last:start], f"({given[word]})"]
                last = start + len(word)
        head = toks[at - 2][0] if at >= 2 and toks[at - 1][1] == "." else toks[at][0]
        sql = f"{sql[:head]}({''.join(out)}{body[last:]}){sql[toks[close][0] + 1:]}"
    return sql
