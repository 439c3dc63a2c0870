"""SQL text as PostgreSQL clients send it, read by DuckDB's tokenizer so that nothing inside a string literal or a
comment is ever touched: splitting a Query into statements, a statement's first word and its CommandComplete tag, the
casts of parameters whose types the client declared, and the statements the session refuses with PostgreSQL's words
or handles itself (psql's \\sf lookup and meta-commands, CREATE TEMP TABLE ... ON COMMIT, RETURNING described as a
SELECT); with the token helpers the other ``pg*`` rewrites share.

The commands the server answers itself are ``pgcommands``'; the catalogue rewrites ``pgcatalogsql``'s, PostgreSQL
syntax DuckDB reads otherwise ``pgsyntax``'s. No SQL text is filtered for security; that is DuckDB's job (see
``server``).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import duckdb

from .pgerrors import ProtocolError
from .pgtypes import ARRAY_OID_OF
from .sqltext import sql_tokens, sql_words
from .sqltext import words_if as _words_if

# Comments before a statement's first word (an ORM's or a pooler's tag: /* job 7 */ COMMIT)
_LEADING_SPACE_OR_LINE_COMMENTS = re.compile(r"(?:\s+|--[^\n]*(?:\n|$))*")
_COMMENT_MARK = re.compile(r"/\*|\*/")


def from_first_word(sql: str) -> str:
    """``sql`` without the comments (and spaces) before its first word, as PostgreSQL reads a statement: the regexes
    of the statements the server answers itself (and their tags) start at the first word. Block comments nest, as in
    PostgreSQL and DuckDB (a regex ending at the first */ left `c */ SELECT 1` of `/* a /* b */ c */ SELECT 1`); an
    unterminated one is kept, for DuckDB's error."""
    i = 0
    while True:
        if (m := _LEADING_SPACE_OR_LINE_COMMENTS.match(sql, i)) is not None:  # (it matches "" too)
            i = m.end()
        if not sql.startswith("/*", i):
            return sql[i:]
        depth, end = 0, None
        for mark in _COMMENT_MARK.finditer(sql, i):
            depth += 1 if mark.group() == "/*" else -1
            if depth == 0:
                end = mark.end()
                break
        if end is None:
            return sql[i:]
        i = end


def keyword_tag(sql: str) -> str:
    # (DuckDB's statement keeps its semicolon, as psql sends it: "commit;" is COMMIT; and its comments, which
    # made "/* job 7 */ COMMIT" of a failed block a commit, tagged "/*")
    sql = from_first_word(sql)
    words = re.sub(r"\(.*", "", sql.strip().rstrip(";")).split()[:6]
    if not words:
        return ""
    head = words[0].upper()
    if head in ("CREATE", "DROP", "ALTER"):
        obj = [w.upper() for w in words[1:] if w.upper() not in ("OR", "REPLACE", "TEMP", "TEMPORARY", "IF",
                                                                 "NOT", "EXISTS", "UNIQUE", "PERSISTENT")]
        return f"{head} {obj[0]}" if obj else head
    return head


# Parameter types a client declares -> the DuckDB type it means. Why cast: DuckDB types an unannotated parameter by
# its value, so JDBC's setLong(5) would make an INTEGER column one run and setLong(3e9) a BIGINT the next, while
# the client decodes every run by the types it was told once.
_CAST_OF = {16: "BOOLEAN", 21: "SMALLINT", 23: "INTEGER", 20: "BIGINT", 700: "FLOAT", 701: "DOUBLE", 1082: "DATE",
            1083: "TIME", 1114: "TIMESTAMP", 1184: "TIMESTAMPTZ", 1186: "INTERVAL", 2950: "UUID", 17: "BLOB", 26: "BIGINT"}


_OID_OF_CAST = {"boolean": 16, "bool": 16, "smallint": 21, "int2": 21, "integer": 23, "int": 23, "int4": 23,
                "bigint": 20, "int8": 20, "real": 700, "float4": 700, "float": 701, "double": 701, "float8": 701,
                "numeric": 1700, "decimal": 1700, "date": 1082, "timestamp": 1114, "timestamptz": 1184,
                "uuid": 2950, "varchar": 25, "text": 25, "interval": 1186, "double precision": 701,
                "timestamp with time zone": 1184, "timestamp without time zone": 1114, "oid": 26, "json": 114,
                "time": 1083, "time without time zone": 1083, "timetz": 1266, "time with time zone": 1266,
                "bytea": 17, "blob": 17, "hugeint": 1700, "int128": 1700}
# a type name, its typmod (DECIMAL(10,2), VARCHAR(20): dropped, the OID is the same) and whether it is an array
_TYPE_NAME = (r"([a-z0-9_]+(?:\s+precision|\s+with(?:out)?\s+time\s+zone)?(?:\s*\(\s*\d+\s*(?:,\s*\d+\s*)?\))?"
              r"(?:\s*\[\s*\])?)")
_PARAM_CAST_RE = re.compile(rf"\$(\d+)\s*::\s*{_TYPE_NAME}|CAST\s*\(\s*\$(\d+)\s+AS\s+{_TYPE_NAME}", re.I)


def parameter_casts(sql: str) -> dict[int, int]:
    """Parameter number -> type OID, for parameters the query casts ($1::INTEGER, CAST($2 AS DATE)), read outside
    string literals; drivers that ask the server for parameter types (asyncpg) then send values, not text."""
    out: dict[int, int] = {}
    last = 0
    for start, end in [*_string_spans(sql), (len(sql), len(sql))]:
        for m in _PARAM_CAST_RE.finditer(sql[last:start]):
            n, t = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            t = " ".join(t.lower().replace("[", " [").split())
            array = t.endswith("]")
            t = re.sub(r"\s*\(.*", "", t.rstrip("[] "))
            oid = _OID_OF_CAST.get(t)
            if oid is not None and array:
                oid = ARRAY_OID_OF.get(oid)  # a list parameter: the array type of that element
            if oid is not None:
                out.setdefault(int(n), oid)
        last = end
    return out


def typed_parameters(sql: str, oids: list[int]) -> str:
    """``$n`` as ``CAST($n AS T)`` for each parameter whose type the client declared (found by DuckDB's tokenizer,
    so never inside a string or a comment)."""
    if not any(o in _CAST_OF for o in oids):
        return sql
    try:
        tokens = sql_tokens(sql)
    except duckdb.Error:
        return sql
    out, last = [], 0
    for (pos, kind), (nxt, nkind) in zip(tokens, tokens[1:], strict=False):
        if kind == duckdb.token_type.operator and sql[pos] == "$" and nkind == duckdb.token_type.numeric_const \
                and nxt == pos + 1:
            digits = re.match(r"\d+", sql[nxt:])
            if digits and 0 < int(digits.group()) <= len(oids) and oids[int(digits.group()) - 1] in _CAST_OF:
                out += [sql[last:pos], f"CAST(${digits.group()} AS {_CAST_OF[oids[int(digits.group()) - 1]]})"]
                last = nxt + len(digits.group())
    return "".join([*out, sql[last:]])


_PREPARE_TYPES_RE = re.compile(r'^(\s*prepare\s+(?:"(?:[^"]|"")+"|\w+))\s*\(', re.I)


def typed_prepare(sql: str) -> str:
    """PostgreSQL's ``PREPARE name (type, ...) AS statement`` as DuckDB's ``PREPARE name AS statement``, each ``$n``
    cast to its declared type where ``typed_parameters`` knows it (the rest DuckDB types by their values, as
    without the list); any other statement as it is.

    Why: DuckDB has no type list and refused such a PREPARE ("TypeList for prepared statement has not been
    implemented"), the form psql scripts and PostgreSQL's own documentation use."""
    m = _PREPARE_TYPES_RE.match(sql)
    if m is None:
        return sql
    depth, i, cuts = 1, m.end(), [m.end()]
    while i < len(sql) and depth:
        depth += {"(": 1, ")": -1}.get(sql[i], 0)
        if sql[i] == "," and depth == 1:
            cuts.append(i + 1)
        i += 1
    rest = re.match(r"\s*as\b", sql[i:], re.I)
    if depth or rest is None:
        return sql  # not PostgreSQL's form: DuckDB's own error says what is wrong
    oids = []
    for a, b in zip(cuts, [*cuts[1:], i], strict=True):
        name = " ".join(sql[a:b - 1].lower().replace("[", " [").split())
        array = name.endswith("]")
        oid = _OID_OF_CAST.get(re.sub(r"\s*\(.*", "", name.rstrip("[] ")), 0)
        oids.append(ARRAY_OID_OF.get(oid, 0) if array else oid)
    return f"{m.group(1)} AS{typed_parameters(sql[i + rest.end():], oids)}"


def _string_spans(sql: str, tokens: list[tuple[int, Any]] | None = None) -> list[tuple[int, int]]:
    """Where the string literals of ``sql`` are ([start, end) pairs), by DuckDB's tokenizer (``tokens``: its tokens
    of ``sql``, if they are at hand)."""
    try:
        tokens = sql_tokens(sql) if tokens is None else tokens
    except duckdb.Error:
        return []
    spans = []
    for i, (pos, kind) in enumerate(tokens):
        if kind != duckdb.token_type.string_const:
            continue
        end = tokens[i + 1][0] if i + 1 < len(tokens) else len(sql)
        if sql[pos] == "'":  # a plain literal ends at its closing quote ('' is a quote inside it)
            j = pos + 1
            while j < len(sql) and (sql[j] != "'" or sql[j + 1:j + 2] == "'"):
                j += 2 if sql[j] == "'" else 1
            end = min(j + 1, end)
        spans.append((pos, end))
    return spans


def _ident(word: str) -> str:
    """An identifier token as DuckDB binds it: without its double quotes, in lower case (DuckDB matches names
    case-insensitively, quoted or not)."""
    if len(word) >= 2 and word[0] == word[-1] == '"':
        word = word[1:-1].replace('""', '"')
    return word.lower()


def _words(sql: str) -> list[tuple[int, str, str]]:
    """The tokens of ``sql`` but comments, as (position, text, kind name)."""
    return sql_words(sql)


def _matching_open(toks: list[tuple[int, str, str]], close: int) -> int | None:
    """The index of the ``(`` that the ``)`` at ``toks[close]`` closes."""
    depth = 0
    for i in range(close, -1, -1):
        depth += {")": 1, "(": -1}.get(toks[i][1], 0)
        if depth == 0:
            return i
    return None


def _matching_close(toks: list[tuple[int, str, str]], open_: int) -> int | None:
    """The index of the ``)`` (or ``]``) that closes the ``(`` (or ``[``) at ``toks[open_]``."""
    closing = {"(": ")", "[": "]"}[toks[open_][1]]
    depth = 0
    for i in range(open_, len(toks)):
        depth += {toks[open_][1]: 1, closing: -1}.get(toks[i][1], 0)
        if depth == 0:
            return i
    return None


def _operand_start(toks: list[tuple[int, str, str]], i: int) -> int | None:
    """Where the operand ending at ``toks[i]`` starts (a literal, ``$n``, ``a.b.c``, ``f(...)``, ``(...)``)."""
    kind, word = toks[i][2], toks[i][1]
    if word == ")":
        j = _matching_open(toks, i)
        if j is None:
            return None
        return _operand_start(toks, j - 1) if j > 0 and toks[j - 1][2] == "identifier" else j
    if kind == "numeric_const" and i > 0 and toks[i - 1][1] == "$":
        return i - 1
    if kind in ("string_const", "numeric_const"):
        return i
    if kind == "identifier":
        while i >= 2 and toks[i - 1][1] == "." and toks[i - 2][2] == "identifier":
            i -= 2
        return _operand_start(toks, i - 2) if i >= 2 and toks[i - 1][1] == "." and toks[i - 2][1] == ")" else i
    return None


def _cast_chain_start(toks: list[tuple[int, str, str]], i: int) -> int | None:
    """Where the operand of a cast ending at ``toks[i]`` starts: a cast binds to the whole chain of casts before it
    (``x::oid::regclass``, ``'t'::text::regclass``), whose type names are words after ``::``."""
    if toks[i][2] in ("identifier", "keyword") and i >= 2 and toks[i - 1][1] == "::":
        return _cast_chain_start(toks, i - 2)
    a = _operand_start(toks, i)
    return _cast_chain_start(toks, a - 2) if a is not None and a >= 2 and toks[a - 1][1] == "::" else a


# Functions PostgreSQL lets a FROM list call as one-row tables (Grafana's FROM ..., string_to_array(...) s), which
# DuckDB looks up as table functions
_SCALAR_IN_FROM = ("string_to_array",)


def in_from(toks: list[tuple[int, str, str]], i: int) -> bool:
    """Whether ``toks[i]`` is an item of a FROM list (not of a SELECT list, a function's arguments, ...): the clause
    keyword before it, at its own depth of parentheses, is FROM or JOIN."""
    depth = 0
    for j in range(i - 1, -1, -1):
        word = toks[j][1].lower()
        depth += {")": 1, "(": -1}.get(word, 0)
        if depth < 0:
            return False
        if depth == 0 and toks[j][2] == "keyword" and word in ("from", "join", "select", "where", "group", "order",
                                                               "having", "on", "using", "set", "values", "returning",
                                                               "limit", "window", "qualify"):
            return word in ("from", "join")
    return False


def _protected_spans(sql: str, strings: bool = True) -> list[tuple[int, int]]:
    """Where the string literals (unless not ``strings``) and the comments of ``sql`` are ([start, end) pairs, in
    order)."""
    try:
        tokens = sql_tokens(sql)
    except duckdb.Error:
        return []
    spans = _string_spans(sql, tokens) if strings else []
    for i, (pos, kind) in enumerate(tokens):
        if kind == duckdb.token_type.comment:
            spans.append((pos, tokens[i + 1][0] if i + 1 < len(tokens) else len(sql)))
    return sorted(spans)


# psql meta-commands whose catalogue queries DuckDB cannot answer, by a catalogue name only they read: the
# clear error beats DuckDB's (a missing table or type, naming none of the command).
# \do and \dC: DuckDB has operators and casts, built in, but no catalogue of them; an empty list would say there
# are none
_PG_OPERATOR_RE = re.compile(r"\bFROM\s+pg_catalog\s*\.\s*pg_operator\b", re.I)
_PG_CAST_RE = re.compile(r"\bFROM\s+pg_catalog\s*\.\s*pg_cast\b", re.I)
# \sf NAME and \ef NAME look the function up by name first: DuckDB keeps no source of a built-in or Python
# function, and a macro's as parts (duckdb_functions().macro_definition) without its parameters' defaults, so a
# definition written from them could differ from the one that was created
_FUNCTION_OID_RE = re.compile(r"^\s*SELECT\s+'((?:[^']|'')*)'\s*::\s*pg_catalog\s*\.\s*regproc(?:edure)?\s*"
                              r"::\s*pg_catalog\s*\.\s*oid\s*;?\s*$", re.I)
# \dconfig: DuckDB's settings do not say which were changed from their defaults (pg_settings.source)
_DCONFIG_RE = re.compile(r"\bcurrent_setting\s*\(\s*s\s*\.\s*name\s*\).*\bpg_catalog\s*\.\s*pg_settings\s+s\b",
                         re.I | re.S)


def bare_text(sql: str, comments: bool = False, strings: bool = True) -> str:
    """``sql`` with its string literals (unless not ``strings``) and its comments (if ``comments``) blanked out (same
    length), for matching statement shapes on."""
    bare = list(sql)
    for a, b in _protected_spans(sql, strings) if comments else _string_spans(sql) if strings else []:
        bare[a:b] = " " * (b - a)
    return "".join(bare)


# What each of those refusals says (matched on the text outside string literals), in order.
_REFUSED: tuple[tuple[re.Pattern[str], str], ...] = (
    (_PG_OPERATOR_RE,
     "pg_catalog.pg_operator (psql's \\do) is not supported by ad-duckdb serve: DuckDB's operators are built "
     "in, with no catalogue of them (and none can be created); DuckDB lists each as a function: SELECT "
     "function_name, parameter_types, return_type FROM duckdb_functions() WHERE function_name = '+'."),
    (_PG_CAST_RE,
     "pg_catalog.pg_cast (psql's \\dC) is not supported by ad-duckdb serve: DuckDB's casts are built in, "
     "with no catalogue of them; DuckDB's documentation lists them (Typecasting), and TRY_CAST(x AS type) "
     "tells whether a value converts."),
    (_DCONFIG_RE,
     "psql's \\dconfig is not supported by ad-duckdb serve: DuckDB does not say which settings differ from "
     "their defaults; SELECT name, value FROM duckdb_settings() lists them all."),
)


# One part of a dotted name as PostgreSQL reads it: "quoted" (kept as written, "" an escaped quote) or bare
# (folded to lower case), up to a dot, the argument list of regprocedure's f(integer), or the end.
_NAME_PART_RE = re.compile(r'\s*(?:"((?:[^"]|"")+)"|([^".\s()]+))\s*')


def function_lookup(sql: str) -> tuple[str, list[str]] | None:
    """For psql's \\sf / \\ef lookup (``SELECT 'NAME'::pg_catalog.regproc::pg_catalog.oid``): NAME as typed and
    its dotted parts as PostgreSQL resolves them ([] when NAME is no valid name); None for any other statement.
    The session checks the function exists before ``unsupported`` refuses to show it, as PostgreSQL's lookup
    fails first for a missing one."""
    if (m := _FUNCTION_OID_RE.match(sql)) is None:
        return None
    name = m.group(1).replace("''", "'")
    parts: list[str] = []
    pos = 0
    while (p := _NAME_PART_RE.match(name, pos)) is not None:
        parts.append(p.group(1).replace('""', '"') if p.group(1) is not None else p.group(2).lower())
        pos = p.end()
        if name[pos:pos + 1] != ".":
            break
        pos += 1
    # what may follow the name: regprocedure's argument types (which name no function of their own); a dot
    # without a part after it, or more than database.schema.name, is no name
    if not parts or name[pos - 1:pos] == "." or pos < len(name) and name[pos] != "(" or len(parts) > 3:
        parts = []
    return name, parts


def unsupported(sql: str) -> ProtocolError | None:
    """The error for psql's catalogue queries the server cannot answer, which DuckDB would answer misleadingly (a
    missing table or type, naming none of the command). (COPY and DECLARE are served: ``pgcopy``, ``pgcursors``.)"""
    text = bare_text(sql)
    if (lookup := function_lookup(sql)) is not None:
        typed, parts = lookup
        # the name as DuckDB lists it (PostgreSQL folds a bare name to lower case), quoted for the query shown
        listed = (parts[-1] if parts else typed.split("(")[0].split(".")[-1].strip()).replace("'", "''")
        return ProtocolError(
            f"a function's definition (psql's \\sf and \\ef, for {typed}) is not supported by ad-duckdb serve: "
            "DuckDB keeps no source of its built-in or Python functions, and of a macro only parts (no parameter "
            "defaults); \\df NAME lists its argument and result types, and SELECT parameters, macro_definition "
            f"FROM duckdb_functions() WHERE function_name = '{listed}' shows what DuckDB keeps.", "0A000")
    for pattern, message in _REFUSED:
        if pattern.search(text):
            return ProtocolError(message, "0A000")
    return None


def _on_commit(sql: str) -> tuple[int, int, str] | None:
    """Where CREATE ... TABLE's ON COMMIT clause is in ``sql`` (its start and end), and its action (DROP, DELETE ROWS,
    PRESERVE ROWS); None for any other statement. Found by DuckDB's tokenizer, outside parentheses and before AS (a
    query's own words are not the clause)."""
    if not sql.lstrip()[:6].lower() == "create":
        return None
    toks = _words_if(sql, "commit")
    if not toks:
        return None
    depth = 0
    for i, (pos, text, kind) in enumerate(toks):
        depth += {"(": 1, ")": -1}.get(text, 0)
        low = text.lower() if kind == "keyword" else ""
        if depth or not low:
            continue
        if low == "as":
            return None
        words = [t.lower() if k == "keyword" else "" for _, t, k in toks[i:i + 4]]  # "": no keyword (a name)
        if words[:2] != ["on", "commit"]:
            continue
        for action in (["drop"], ["delete", "rows"], ["preserve", "rows"]):
            if words[2:2 + len(action)] == action:
                end_pos, end_text, _ = toks[i + 1 + len(action)]
                return pos, end_pos + len(end_text), " ".join(action).upper()
        return None
    return None


class OnCommit(NamedTuple):
    """A CREATE TEMPORARY TABLE's ON COMMIT DROP or DELETE ROWS clause, which the session carries out at each commit
    (pgoncommit), as DuckDB has only PRESERVE ROWS."""

    name: str  # the table's name as DuckDB binds it (_ident), in DuckDB's temp database
    action: str  # DROP or DELETE ROWS
    if_not_exists: bool  # (a table that exists already is left as it is, clause and all)


def on_commit_table(sql: str) -> OnCommit | None:
    """The ON COMMIT DROP / DELETE ROWS clause of ``CREATE [OR REPLACE] [LOCAL | GLOBAL] TEMP[ORARY] TABLE [IF NOT
    EXISTS] name``; None for any other statement (PRESERVE ROWS, DuckDB's own, too). Of a table that is not
    temporary, PostgreSQL's error (42P16). The clause itself goes in temp_table_sql."""
    on_commit = _on_commit(sql)
    if on_commit is None or on_commit[2] == "PRESERVE ROWS":
        return None
    toks = _words(sql)
    words = [t.lower() for _, t, _ in toks]
    i = 1 + 2 * (words[1:3] == ["or", "replace"])
    i += words[i] in ("local", "global")
    temporary = words[i] in ("temp", "temporary")
    i += temporary
    if words[i] != "table":  # (PostgreSQL's grammar has the clause for tables only)
        raise ProtocolError(f'syntax error at or near "ON": ON COMMIT {on_commit[2]} is a clause of CREATE TEMPORARY '
                            "TABLE only", "42601")
    if not temporary:
        raise ProtocolError("ON COMMIT can only be used on temporary tables", "42P16")
    if_not_exists = words[i + 1:i + 4] == ["if", "not", "exists"]
    i += 1 + 3 * if_not_exists
    while i + 2 < len(toks) and words[i + 1] == ".":
        i += 2  # temp.main.name: its last part names it
    return OnCommit(_ident(toks[i][1]), on_commit[2], if_not_exists)


def creates_on_commit(sql: str) -> bool:
    """Whether ``sql`` is a CREATE TEMPORARY TABLE with ON COMMIT DROP or DELETE ROWS (cheap for other statements)."""
    on_commit = _on_commit(sql)
    return on_commit is not None and on_commit[2] != "PRESERVE ROWS"


# PostgreSQL's temporary-table forms DuckDB cannot parse, which Tableau sends to probe on connect whether it may make
# temporary tables (then for its filter tables): SELECT list INTO [TEMP | TEMPORARY | LOCAL TEMP | GLOBAL TEMP |
# UNLOGGED] [TABLE] name FROM ..., PostgreSQL's CREATE TABLE name AS SELECT list FROM ..., and CREATE LOCAL | GLOBAL
# TEMPORARY TABLE, whose word PostgreSQL ignores (temp_table_sql). INTO ends the select list, so these words end the
# search for it; a word among them after INTO's name means it was no INTO clause PostgreSQL would take.
_SELECT_LIST_ENDS = frozenset(("from", "where", "group", "having", "window", "order", "limit", "offset", "fetch", "for",
                               "union", "except", "intersect", "qualify", ";"))


def temp_table_sql(sql: str) -> str:
    """``sql`` with PostgreSQL's SELECT ... INTO name and CREATE LOCAL / GLOBAL TEMPORARY TABLE as DuckDB's CREATE
    [TEMPORARY] TABLE (see _SELECT_LIST_ENDS); any other statement as it is. Found by DuckDB's tokenizer, so a
    string or a comment saying INTO is never read as one, and looked at only when its first word can begin one."""
    head = sql.lstrip()[:7].lower()
    if head.startswith("create"):
        on_commit = _on_commit(sql)
        if on_commit is not None:
            # PRESERVE ROWS is DuckDB's default, which its parser takes after the columns only, not before AS as
            # PostgreSQL does; DuckDB has no other: the session does DROP and DELETE ROWS at commit (on_commit_table)
            sql = sql[:on_commit[0]] + sql[on_commit[1]:]
        toks = _words_if(sql, "local", "global")
        if toks and len(toks) > 2 and toks[1][1].lower() in ("local", "global") \
                and toks[2][1].lower() in ("temp", "temporary"):
            return sql[:toks[1][0]] + sql[toks[2][0]:]
        return sql
    if not head.startswith(("select", "with")) or "into" not in sql.lower():  # (half _words_if's cost: most SELECTs)
        return sql
    toks = _words_if(sql, "into")
    if not toks:
        return sql
    depth, select, into = 0, None, None
    for i, (_, text, kind) in enumerate(toks):
        depth += {"(": 1, ")": -1}.get(text, 0)
        low = text.lower()
        if depth or kind != "keyword" and text != ";":
            continue
        if select is None:
            select = i if low == "select" else None
        elif low == "into":
            into = i
            break
        elif low in _SELECT_LIST_ENDS:
            return sql

    if into is None:
        return sql

    def word(k: int) -> str:
        return toks[k][1].lower() if k < len(toks) else ""

    j = into + 1
    j += word(j) in ("local", "global") and word(j + 1) in ("temp", "temporary")
    temp = word(j) in ("temp", "temporary")
    j += temp or word(j) == "unlogged"  # DuckDB has no unlogged tables: a table of the database
    j += word(j) == "table"
    first = j
    if j >= len(toks) or toks[j][2] not in ("identifier", "keyword") or word(j) in _SELECT_LIST_ENDS:
        return sql
    while word(j + 1) == "." and j + 2 < len(toks) and toks[j + 2][2] in ("identifier", "keyword"):
        j += 2  # schema.name, database.schema.name
    if j + 1 < len(toks) and word(j + 1) not in _SELECT_LIST_ENDS:
        return sql
    end = toks[j][0] + len(toks[j][1])
    name = sql[toks[first][0]:end]
    query = (sql[:toks[into][0]].rstrip() + " " + sql[end:].lstrip()).strip()
    return f"CREATE {'TEMPORARY ' if temp else ''}TABLE {name} AS {query}"


def returning_select(sql: str) -> str | None:
    """A SELECT with the result columns of ``INSERT INTO t ... RETURNING list`` (UPDATE t [AS a] ... / DELETE FROM t
    [AS a] ...): ``SELECT list FROM t [AS a]``, which DuckDB binds without running the statement; None for another
    statement, a RETURNING list that reads a parameter, or a table written as this does not read it.

    Why: a client that Describes a statement before it runs (asyncpg) decodes its rows by that description; DuckDB
    would have to run a write to describe it. A RETURNING list reads the written table's columns (DuckDB binds no
    other), so the SELECT's columns are the statement's."""
    toks = _words_if(sql, "returning")
    if not toks or toks[0][1].lower() not in ("insert", "update", "delete"):
        return None
    depth, at = 0, None
    for i, (_, word, kind) in enumerate(toks):
        depth += {"(": 1, ")": -1}.get(word, 0)
        if depth == 0 and kind == "keyword" and word.lower() == "returning":
            at = i
    head = toks[0][1].lower()
    first = 1 if head == "update" else 2
    if at is None or len(toks) <= first or toks[first - 1][1].lower() not in ("update", "into", "from"):
        return None
    last = first
    while last + 2 < len(toks) and toks[last + 1][1] == ".":
        last += 2
    end = toks[last][0] + len(toks[last][1])
    nxt = toks[last + 1] if last + 1 < len(toks) else None
    if head != "insert" and nxt is not None and (nxt[1].lower() == "as" or nxt[2] == "identifier"):
        alias = last + 2 if nxt[1].lower() == "as" else last + 1
        if alias < len(toks) and toks[alias][2] == "identifier":
            end = toks[alias][0] + len(toks[alias][1])
    listed = sql[toks[at][0] + len(toks[at][1]):].strip().rstrip(";").strip()
    if not listed or any(w.startswith("$") or w == "?" for _, w, _ in toks[at + 1:]):
        return None
    return f"SELECT {listed} FROM {sql[toks[first][0]:end]}"


def split_statements(sql: str) -> list[str]:
    """``sql`` cut at its statement-ending semicolons, by DuckDB's tokenizer; parts that are only comments dropped."""
    try:
        tokens = sql_tokens(sql)
    except duckdb.Error:
        return [sql]
    cuts = [pos for pos, kind in tokens if kind == duckdb.token_type.operator and sql[pos] == ";"]
    starts = [0, *(c + 1 for c in cuts)]
    ends = [*cuts, len(sql)]
    parts = []
    for a, b in zip(starts, ends, strict=True):
        inner = [k for pos, k in tokens if a <= pos < b and k != duckdb.token_type.comment]
        if inner:
            parts.append(sql[a:b])
    return parts or [sql]
