"""User SQL text: quoting names and literals, sources as FROM items, filters, statement checks.

Every name or value the package puts into generated SQL goes through ``quote_ident`` / ``quote_literal`` (or is
a ``?`` parameter; tests/test_injection.py checks every module). A source (table, view, table function or query)
becomes a FROM item with ``source_sql``, a write target a quoted name with ``table_sql``, a ``where=`` filter a
WHERE clause with ``where_sql``; the user SQL among them is limited to one SELECT statement.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Iterable, Sequence
from typing import Any

import duckdb

from .exceptions import BadInputError


def quote_ident(name: str) -> str:
    """Quote an identifier for generated SQL (double quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def sql_name(name: str) -> str:
    """``name`` as a user would type it in SQL we suggest: bare when it is a plain identifier DuckDB reads as a name,
    else quoted. Why not bare for every plain identifier: a column named ``order`` or ``left`` is a keyword there,
    and a suggested ``CAST(order AS TIMESTAMP)`` is a syntax error."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and name.lower() not in _keywords_needing_quotes():
        return name
    return quote_ident(name)


@functools.cache
def _keywords_needing_quotes() -> frozenset[str]:
    """DuckDB's keywords that a bare column name may not be: the reserved ones, and the type/function ones (``left``,
    ``join``, ``is``), which fail as a bare column in a WHERE or a cast. Asked of DuckDB, so a new release's list is
    the one used."""
    con = duckdb.connect()
    try:
        rows = con.execute("SELECT keyword_name FROM duckdb_keywords() "
                           "WHERE keyword_category IN ('reserved', 'type_function')").fetchall()
    finally:
        con.close()
    return frozenset(k.lower() for (k,) in rows)


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# A name of up to three parts (catalog.schema.table), each plain or already quoted: sales."Tx Table". A plain part
# takes any non-ASCII letter as DuckDB's parser does (Vertrieb.Verkäufe is schema and table): read as one name, it was
# refused as a source and written as a table "Vertrieb.Verkäufe" of the main schema. Not a unicode space, which
# ends a name there, and around the dots only the spaces DuckDB skips.
_WIDE = r"(?:(?!\s)[^\x00-\x7f])"
_NAME_PART = rf'(?:(?:[A-Za-z_]|{_WIDE})(?:[A-Za-z0-9_$]|{_WIDE})*|"(?:[^"]|"")+")'
_DOTTED_NAME = re.compile(rf"^{_NAME_PART}(?:[ \t\n\r\f\v]*\.[ \t\n\r\f\v]*{_NAME_PART}){{0,2}}$")
_PART = re.compile(_NAME_PART)


def _dotted_name(s: str) -> str | None:
    """``s`` as a table name in SQL, each plain part quoted and each quoted part kept, or None if it is not one.

    Why part by part: quoted whole, ``sales."Tx Table"`` named a table called ``sales."Tx Table"`` in the
    default schema, which does not exist."""
    if not _DOTTED_NAME.match(s):
        return None
    return ".".join(p if p.startswith('"') else quote_ident(p) for p in _PART.findall(s))
def sql_names(names: Iterable[str]) -> str:
    """Column names listed in a message, each as SQL reads it (``sql_name``): "Betrag €", "n.items", x, not
    Betrag €, n.items, x, which no one can paste into a query."""
    return ", ".join(sql_name(n) for n in names)


def shown_table(name: str) -> str:
    """A write target (``into=``) in a report, as SQL reads it, so it can be copied into a query: a dotted name as
    written with each part bare where it may be (``"Sales Data".Scores``), else quoted whole, as ``table_sql`` writes
    it (``my scores`` -> ``"my scores"``; shown bare, it read as two words)."""
    if not _DOTTED_NAME.match(name.strip()):
        return quote_ident(name.strip())
    # a part quoted as written kept so; a bare one bare (Scores_Ü too) unless a keyword, which SQL reads as such
    return ".".join(p if p.startswith('"') or p.lower() not in _keywords_needing_quotes() else quote_ident(p)
                    for p in _PART.findall(name.strip()))


def name_parts(s: str) -> list[str] | None:
    """The parts of a dotted table name as DuckDB reads them (quotes removed, doubled quotes undone), or None if
    ``s`` is not one: ``lake."Finance"."Q1 tx"`` -> ['lake', 'Finance', 'Q1 tx']."""
    if not _DOTTED_NAME.match(s.strip()):
        return None
    return [p[1:-1].replace('""', '"') if p.startswith('"') else p for p in _PART.findall(s.strip())]


# Why not before a '.': such a word is the first part of a dotted name, a schema or an attached database named so
# (--attach select.duckdb is `select`: select.main.t read as a query was "syntax error at or near '.'")
_QUERY_START = re.compile(r"^\s*(\(|(?:SELECT|WITH|FROM|VALUES|SUMMARIZE|PIVOT)\b(?!\.))", re.IGNORECASE)


def shown_source(source: str, where: str | None = None, n: int = 60) -> str:
    """``source`` (and its filter) on one line of at most ``n`` characters, for a plot's title: which rows it shows,
    read at a glance (a query pasted from an editor loses its line breaks and trailing semicolon)."""
    return cut(" ".join(strip_sql_ends(source).split()) + (f" WHERE {' '.join(where.split())}" if where else ""), n)


def cut(text: str, n: int) -> str:
    """``text`` cut to ``n`` characters, ending in an ellipsis when it was longer."""
    return text if len(text) <= n else text[: n - 1] + "…"


def sql_tokens(sql: str) -> list[tuple[int, Any]]:
    """DuckDB's tokens of ``sql`` as (character position, kind).

    Why not duckdb.tokenize alone: it counts UTF-8 bytes, so past an 'é' or a '€' its offsets pointed further
    into the text than the token: a pasted query naming "Montant (€)" had its ending ';' missed or failed with an
    IndexError. Raises what duckdb.tokenize raises."""
    return list(_tokens(sql))


# Why a cache: the server's rewrites each read the tokens of the same statement (a dozen times for a catalogue
# query); a statement of 33,000 parameters took seconds per reading. A few recent texts: a session's statement is
# read by its rewrites one after another.
@functools.lru_cache(maxsize=8)
def _tokens(sql: str) -> tuple[tuple[int, Any], ...]:
    tokens = duckdb.tokenize(sql)
    raw = sql.encode()
    if len(raw) == len(sql):
        return tuple(tokens)
    char_at = [0] * (len(raw) + 1)  # byte offset -> character index
    pos = 0
    for i, ch in enumerate(sql):
        n = len(ch.encode())
        char_at[pos:pos + n] = [i] * n
        pos += n
    char_at[len(raw)] = len(sql)
    return tuple((char_at[p], kind) for p, kind in tokens)


def sql_words(sql: str) -> list[tuple[int, str, str]]:
    """The tokens of ``sql`` but comments, as (character position, text, kind name). Raises what duckdb.tokenize
    raises."""
    return list(_words(sql))


@functools.lru_cache(maxsize=8)  # (as _tokens': each rewrite reads the words of the same statement)
def _words(sql: str) -> tuple[tuple[int, str, str], ...]:
    raw = _tokens(sql)
    ends = [p for p, _ in raw[1:]] + [len(sql)]
    names, comment = _KIND_NAMES, duckdb.token_type.comment
    return tuple((p, sql[p:e].strip(), names[k]) for (p, k), e in zip(raw, ends, strict=True) if k != comment)


_KIND_NAMES = {k: k.name for k in duckdb.token_type.__members__.values()}  # (an enum's .name is a slow lookup)


def words_if(sql: str, *needles: str) -> list[tuple[int, str, str]] | None:
    """``sql_words(sql)`` when its text mentions one of ``needles`` (lower case), else None, as it is when DuckDB
    cannot tokenize it. Why the check: the server's rewrites run on every statement, and most mention nothing one
    rewrites."""
    low = sql.lower()
    if not any(n in low for n in needles):
        return None
    try:
        return sql_words(sql)
    except duckdb.Error:
        return None


def strip_sql_ends(text: str) -> str:
    """``text`` without the comments, semicolons and blanks at either end (a query pasted from an editor).

    Why: a source is wrapped as ``(source) AS _ad_src``, where a trailing ``-- comment`` would swallow the
    closing parenthesis, and a leading ``/* ... */`` would hide the SELECT that marks it as a query.
    DuckDB's own tokenizer finds the comments, so ``'--'`` inside a string literal is left alone.
    """
    import duckdb

    s = text.strip()
    try:
        tokens = sql_tokens(s)
    except Exception:  # not SQL that tokenizes: left as it is, for the parser to report
        return s
    kept = [i for i, (start, kind) in enumerate(tokens)
            if not _end_comment(s, tokens, i) and not (kind == duckdb.token_type.operator and s[start] == ";")]
    if not kept:
        return ""
    first, last = kept[0], kept[-1]
    end = tokens[last + 1][0] if last + 1 < len(tokens) else len(s)
    out = s[tokens[first][0]:end].strip()
    if tokens[last][1] == duckdb.token_type.comment and not _QUERY_START.match(out):
        # A path the tokenizer saw a comment in (exports/*.parquet): to it the rest of the text is that comment,
        # so a `;` or a comment after the path is found here.
        out = _PATH_END.sub("", out)
    return out


# What may follow a file path in a source, as after a query: `;`, and comments with a blank before them.
_PATH_END = re.compile(r"(?:\s*;|\s+--[^\n]*|\s+/\*(?:(?!\*/).)*\*/)+\s*$", re.DOTALL)


def _end_comment(s: str, tokens: Sequence[tuple[int, object]], i: int) -> bool:
    """Whether token ``i`` of ``s`` is a comment a SQL editor would leave: at the start, after a blank or a ``;``,
    or a closed ``/* ... */`` right after a ``)`` or a quote (``read_parquet('x.parquet')/* new */``).

    Why not every comment token: in a file path such as ``exports/*.parquet`` (or ``exports--old/x.parquet``) the
    tokenizer sees a comment that starts inside the path; dropping it read the table ``exports`` instead, and so
    did any closed comment after the path (``exports/*.parquet /* c */`` is one comment to the tokenizer).
    """
    import duckdb

    start, kind = tokens[i]
    if kind != duckdb.token_type.comment:
        return False
    end = tokens[i + 1][0] if i + 1 < len(tokens) else len(s)
    return (start == 0 or s[start - 1].isspace() or s[start - 1] == ";"
            or (s[start - 1] in ")'\"" and s[start:end].rstrip().endswith("*/")))


def shell_word(text: str) -> str:
    """``text`` as one word of a POSIX shell command, for a fix a message offers to paste: in single quotes, in which
    nothing is special; SQL holding a quoted literal in double quotes when nothing in it is special there; else
    ``shlex.quote``'s (correct, but hard to read) mix."""
    if "'" not in text:
        return f"'{text}'"
    if not re.search(r'["$`\\!]', text):
        return f'"{text}"'
    return shlex.quote(text)


def py_text(text: str) -> str:
    """``text`` as a Python string in a note: in double quotes unless it holds one (a quoted name, "Amount EUR")."""
    return f'"{text}"' if '"' not in text else repr(text)


def typed_from(source: str) -> str:
    """``source`` as the FROM item of a query we suggest, as a user would type it: a query in parentheses, a table
    name bare unless SQL needs its quotes, a table function or file as written. Why not the source as given: a
    table named "Tx Data" was suggested as FROM Tx Data, a syntax error where it was pasted."""
    s = strip_sql_ends(source)
    if is_query(s):
        return f"({s})"
    parts = name_parts(s)
    return ".".join(sql_name(p) for p in parts) if parts else source_sql(s)


def is_query(source: str) -> bool:
    """Whether a source is a query (SELECT, WITH, FROM, VALUES, ...) rather than a table, view or function."""
    if not isinstance(source, str):
        return False
    s = strip_sql_ends(source)
    # one such word alone is no query, and a table may be named so (`select`, as a score --into select wrote it)
    return bool(_QUERY_START.match(s)) and not _QUERY_WORD.fullmatch(s)


_QUERY_WORD = re.compile(r"SELECT|WITH|FROM|VALUES|SUMMARIZE|PIVOT", re.IGNORECASE)


def begins_query(text: str) -> bool:
    """Whether ``text`` begins as a query does, a lone SELECT too: the first word of a query the shell split into
    words (``score DB m SELECT count, amount FROM t`` unquoted), which ``is_query`` takes for a table's name."""
    return isinstance(text, str) and bool(_QUERY_START.match(strip_sql_ends(text)))


def _caller_name(value: object) -> str | None:
    from .pysource import caller_name  # pysource quotes with this module's quote_ident

    return caller_name(value)


def _not_a_string(source: object) -> BadInputError:
    # Why not {source!r}: a DuckDB relation's repr is its whole rendered table (kilobytes of box drawing).
    kind = type(source).__name__
    got = "None" if source is None else f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"
    if kind == "DuckDBPyRelation":
        how = ("pass its SQL, rel.sql_query(), or a view of it: rel.create_view('my_rows') on the same connection, "
               "then source='my_rows'")
    elif not isinstance(source, (type(None), bool, int, float, complex, bytes)) and (
            name := _caller_name(source)) is not None:  # a scalar is no data DuckDB reads by its variable's name
        by_name = ("ad_duckdb reads a list of records by name, as DuckDB reads DataFrames and Arrow tables"
                   if isinstance(source, list) else "DuckDB reads DataFrames and Arrow tables by name")
        how = f"pass the name of its variable instead, in quotes: {name!r} ({by_name})"
    elif isinstance(source, list):  # records made in the call itself, df.to_dict('records'): no variable to name
        how = ("ad_duckdb reads a list of records (dicts of column -> value) by the name of a variable holding it: "
               "assign it to one first (rows = ...), then pass its name in quotes, 'rows'")
    elif type(source).__module__.split(".")[0] in ("pandas", "polars", "pyarrow", "numpy"):
        # Why: a frame made in the call itself (df.assign(y=0), pl.from_pandas(df)) has no variable to name, and the
        # general examples read as if frames were not sources at all
        how = ("DuckDB reads DataFrames and Arrow tables by the name of a variable holding them: assign it to one "
               "first (rows = ...), then pass its name in quotes, 'rows'")
    else:
        how = "e.g. 'transactions', \"read_parquet('tx.parquet')\" or 'SELECT ... FROM ...'"
    return BadInputError(f"The source must be a string: a table or view name, a table function or a query; got {got}; "
                         f"{how}.")


def source_sql(source: str) -> str:
    """Turn a table name, view name, table function call or query into a FROM item.

    A plain (possibly schema-qualified) name is quoted part by part; a query becomes a subquery;
    a table function such as ``read_parquet('x.parquet')`` is used as written.
    """
    if not isinstance(source, str):
        raise _not_a_string(source)
    s = strip_sql_ends(source)
    if not s:
        raise BadInputError("The source is empty: give a table name, a view, or a SELECT query.")
    if is_query(s):
        # the newline: a comment left inside (say, a tokenizer miss) still cannot reach the parenthesis
        return _one_select(f"({s}\n) AS _ad_src", source, "source")
    name = _dotted_name(s)
    if name is not None:
        return name
    if ("(" in s and s.endswith(")")) or s.startswith(('"', "'")):
        # A table function, a name the caller quoted already ('"my table"'), or a file in DuckDB's string form
        # ("'exports/*.parquet'", as in FROM 'exports/*.parquet'): used as written.
        return _one_select(s, source, "source")
    return quote_ident(s)


def _one_select(from_item: str, given: str, what: str) -> str:
    """``from_item`` unchanged if ``SELECT * FROM from_item`` is exactly one SELECT statement.

    Why: queries and table functions are user SQL by design, but text such as
    ``range(3); DROP TABLE t; SELECT (1)`` must not smuggle a second statement into ours.
    """
    import duckdb

    try:
        stmts = duckdb.extract_statements(f"SELECT * FROM {from_item}")
    except duckdb.Error as e:
        # Why before the parser's text: a `;` inside the wrapping parenthesis is a syntax error whose message quotes
        # our SELECT * FROM (...) around the user's text, and hides that the text held several statements.
        # A filter is never stripped of its ends (a source is), so its own trailing `;` counts here too.
        if _has_statement_break(given if _is_filter(what) else strip_sql_ends(given)):
            raise _several_statements(given, what) from e
        if _is_filter(what):
            raise _bad_filter(given, what, e) from e
        raise BadInputError(f"The {what} {given!r} is not valid SQL here ({_parser_words(e)}).") from e
    if len(stmts) == 1 and stmts[0].type == duckdb.StatementType.MULTI:
        # DuckDB runs a PIVOT without an IN list as two statements: one collects the values that become columns.
        raise BadInputError(
            f"The {what} {given!r} is a PIVOT whose columns come from the data (DuckDB runs it as two statements), "
            "so a model's feature columns could change from one run to the next. Name the values: PIVOT t ON col "
            "IN ('a', 'b') USING ..., or store the pivot first (CREATE TABLE pivoted AS PIVOT ...) and use that table."
        )
    if len(stmts) != 1 or stmts[0].type != duckdb.StatementType.SELECT:
        raise _several_statements(given, what)
    return from_item


def _parser_words(e: Exception) -> str:
    """The parser's message without its ``LINE 1: ...`` excerpt and '^' line: they quote ad_duckdb's query around the
    user's text, and a one-line error joined them into "... LINE 1: SELECT * FROM (SELECT 1) AS _w ... ^"."""
    return str(e).split("\nLINE ")[0].strip().rstrip(".")


def _bad_filter(given: str, what: str, e: Exception) -> BadInputError:
    """The error for a filter that does not parse, said of the user's text: the WHERE keyword typed in, a '(' left
    open, or a condition cut short. Why: the parser's "at or near ")"" named the ')' of ad_duckdb's own WHERE (...),
    which the user never wrote."""
    words = _parser_words(e)
    head = f"The {what} {given!r}"
    bare = re.sub(r"(?is)^\s*where\b", "", given, count=1)
    if bare != given and bare.strip():
        from .optionwords import opt  # here: optionwords quotes its values with this module's shell_word

        return BadInputError(f"{head} starts with the keyword WHERE, which ad_duckdb adds: give the condition alone, "
                             f"{opt('where', bare.strip())}.")
    try:
        tokens = sql_tokens(given)
    except Exception:  # text that does not tokenize (an open string): the parser's own words say it
        tokens = []
    parens = [given[start] for start, kind in tokens if kind == duckdb.token_type.operator and given[start] in "()"]
    open_ = parens.count("(") - parens.count(")")
    if open_ > 0:
        return BadInputError(f"{head} opens {open_} parenthes{'is' if open_ == 1 else 'es'} it does not close: give one "
                             "condition, such as \"label = 0\", with its parentheses balanced.")
    if words.endswith('at or near ")"') and ")" not in given:
        return BadInputError(f"{head} ends before its condition does (Parser Error: syntax error at the end of the "
                             "filter): complete it, e.g. \"amount > 100\".")
    return BadInputError(f"{head} is not valid SQL here ({words}).")


def _has_statement_break(text: str) -> bool:
    """Whether ``text`` has a `;` outside string literals and comments (DuckDB's tokenizer tells them apart)."""
    try:
        tokens = sql_tokens(text)
    except Exception:  # text that does not tokenize: the parser's own message says more
        return False
    return any(kind == duckdb.token_type.operator and text[start] == ";" for start, kind in tokens)


def _closes_unopened(text: str) -> bool:
    """Whether ``text`` has a `)` outside strings and comments before a `(` it would close."""
    try:
        tokens = sql_tokens(text)
    except Exception:  # text that does not tokenize: the parser's own message says more
        return False
    depth = 0
    for start, kind in tokens:
        if kind == duckdb.token_type.operator and text[start] in "()":
            depth += 1 if text[start] == "(" else -1
            if depth < 0:
                return True
    return False


def _is_filter(what: str) -> bool:
    """Whether ``what`` (the word messages use for the text) names a where= filter rather than a source."""
    return what.startswith("filter")


def _several_statements(given: str, what: str) -> BadInputError:
    # A filter is a condition, not a table: its message says what a filter is (it said "one table, view, ...").
    if _is_filter(what) and not _has_statement_break(strip_sql_ends(given)):
        # Only a `;` at the end, as a statement pasted from an editor has: the fix is to drop it.
        return BadInputError(f"The {what} {given!r} must be one condition, such as \"label = 0\", without the ';' "
                             "at its end: the filter goes inside ad_duckdb's own query.")
    one = ("one condition, such as \"label = 0\"" if _is_filter(what)
           else "one table, view, table function or SELECT query")
    return BadInputError(f"The {what} {given!r} must be {one}, not several statements or another kind of statement.")


def where_sql(where: str) -> str:
    """A user filter as `` WHERE (...)``, refused unless it is one expression of one SELECT.

    ``where=`` is user SQL by design (it may call any function the connection allows); the
    parentheses and the newline keep a trailing ``--`` comment or a ``;`` from reaching past it.
    """
    if not isinstance(where, str) or not where.strip():
        raise BadInputError(f"where= must be a SQL condition such as \"label = 0\"; got {where!r}.")
    if _closes_unopened(where) and not _has_statement_break(where):
        # Why: "1=1) UNION ALL SELECT ... FROM (SELECT 1" is still one SELECT once wrapped, so _one_select let it add
        # rows the source does not hold to a training set. A second statement is told so by _one_select instead.
        raise BadInputError(f"The filter {where!r} closes a parenthesis it did not open, so it reaches "
                            "outside ad_duckdb's WHERE (...): give one condition, such as \"label = 0\", with its "
                            "parentheses balanced.")
    _one_select(f"(SELECT 1) AS _w WHERE ({where}\n)", where, "filter")
    return f" WHERE ({where}\n)"


def table_sql(name: str) -> str:
    """A table to write (``into=``): a plain or schema-qualified name quoted part by part, else quoted whole.

    Why not ``source_sql``: a write target is never a query or a function call, so nothing in it is SQL.
    """
    if not isinstance(name, str) or not name.strip():
        raise BadInputError(f"The target table name must be a non-empty string; got {name!r}.")
    s = name.strip()
    dotted = _dotted_name(s)
    return dotted if dotted is not None else quote_ident(s)
