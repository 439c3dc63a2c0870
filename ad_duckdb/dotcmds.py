"""The ``ad-duckdb sql`` dot commands, at the prompt and in scripts: ``.tables``, ``.schema``, ``.models``, ``.mode``,
``.read``, ``.timer``, ``.once``, ``.output``, ``.help`` (and psql's ``\\dt``, ``\\d NAME``, ``\\i FILE``, ``\\?``).

Why: analysts coming from DuckDB's shell (or psql) type these first to see what is in the database; a prompt that
answered "not a command" sent them to look up the SQL for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import click
import duckdb

from .sqltext import name_parts

FORMATS = ("table", "csv", "json")

HELP = """\
.tables [PATTERN]  the tables and views, or those whose name matches PATTERN (also \\dt [PATTERN], with psql's * and ?)
.schema [PATTERN]  the CREATE statements of the tables and views, or of those whose name matches PATTERN
                   (ILIKE: % for any text)
\\d NAME            the columns of a table or view (DESCRIBE NAME); \\d tx* those of each whose name matches
.models [PATTERN]  the stored models and their versions (as `ad-duckdb list`), or of those whose name matches
                   PATTERN (ILIKE: % for any text)
.mode [FORMAT]     how results print: table (the first rows), csv or json (every row); alone: the current one
.read FILE         run the statements and commands in FILE (also \\i FILE)
.timer on|off      print each statement's run time (to stderr)
.once FILE         write the next result or listing to FILE (in the .mode format, every row)
.output [FILE]     write every result to FILE from here on (also \\o); alone: back to the screen
.help              this list (also \\?)
.quit              leave (also .exit, \\q, Ctrl-D)
SQL statements end with ';'."""

# The tables and views of DB and of the files attached to it (--attach, or ATTACH at the prompt), as (database, schema,
# name, kind, what a statement calls it): an attached file's as its sources are named, lake.main.tx
_RELATIONS = """
SELECT database_name, schema_name, name, kind, sql,
       CASE WHEN database_name NOT IN (current_database(), 'temp') THEN database_name || '.' || schema_name || '.'
            WHEN schema_name <> 'main' THEN schema_name || '.' ELSE '' END || name AS shown
FROM (
  SELECT database_name, schema_name, table_name AS name, 'table' AS kind, sql FROM duckdb_tables() WHERE NOT internal
  UNION ALL
  SELECT database_name, schema_name, view_name, 'view', sql FROM duckdb_views() WHERE NOT internal)
WHERE database_name IN (current_database(), 'temp')
   OR database_name IN (SELECT database_name FROM duckdb_databases() WHERE NOT internal)"""

# Why the kind and schema: `.tables` in DuckDB's shell lists every schema's tables; a view scored like a table is
# still worth telling apart when the model's source is chosen. Why the attached files' too: `--attach` is there
# for their tables, and a listing without them showed the lake empty
_TABLES = f"""
SELECT shown AS name, kind FROM ({_RELATIONS})
WHERE name ILIKE $1 OR shown ILIKE $1
ORDER BY database_name NOT IN (current_database(), 'temp'), shown"""

# DB's statements, then each attached file's (its database in the third column: they name a table as its own file
# does, CREATE TABLE tx, which here is lake.main.tx, so the listing says whose they are)
_SCHEMA = f"""
SELECT sql, shown AS name, CASE WHEN database_name NOT IN (current_database(), 'temp') THEN database_name END AS attached
FROM ({_RELATIONS})
WHERE name ILIKE $1 OR shown ILIKE $1
ORDER BY attached NULLS FIRST, kind <> 'table', shown"""

# The tables and views \d PATTERN describes, as (database, schema, name) for a quoted DESCRIBE of each, and the name
# it is shown by
_MATCHING = f"""
SELECT database_name, schema_name, name, shown FROM ({_RELATIONS})
WHERE name ILIKE $1 OR schema_name || '.' || name ILIKE $1 OR shown ILIKE $1
ORDER BY database_name NOT IN (current_database(), 'temp'), schema_name <> 'main', shown"""

# What Tab completes at the prompt: names of this database's tables, views and columns (another schema's tables with
# it, an attached database's as db.schema.table: qualified names complete whole), functions and keywords (DuckDB's
# own autocomplete extension is not bundled with the Python package)
_WORDS = """
SELECT table_name FROM duckdb_tables() WHERE NOT internal AND database_name IN (current_database(), 'temp')
UNION SELECT view_name FROM duckdb_views() WHERE NOT internal AND database_name IN (current_database(), 'temp')
UNION SELECT column_name FROM duckdb_columns() WHERE NOT internal AND database_name IN (current_database(), 'temp')
UNION SELECT schema_name || '.' || table_name FROM duckdb_tables()
  WHERE NOT internal AND database_name = current_database() AND schema_name <> 'main'
UNION SELECT database_name || '.' || schema_name || '.' || table_name FROM duckdb_tables()
  WHERE NOT internal AND database_name NOT IN (current_database(), 'temp', 'system')
UNION SELECT database_name || '.' || schema_name || '.' || view_name FROM duckdb_views()
  WHERE NOT internal AND database_name NOT IN (current_database(), 'temp', 'system')
UNION SELECT function_name FROM duckdb_functions() WHERE NOT starts_with(function_name, '__')
UNION SELECT upper(keyword_name) FROM duckdb_keywords()"""


def completion_words(con: duckdb.DuckDBPyConnection, functions: Iterable[str]) -> list[str]:
    """The words Tab completes: ``_WORDS``, the anomaly ``functions``, and the stored models' names (typed inside
    the quotes of anomaly_score('...')."""
    words = [w for (w,) in con.execute(_WORDS).fetchall() if w]
    try:
        words += [n for (n,) in con.execute("SELECT DISTINCT name FROM main.ad_models").fetchall()]
    except duckdb.Error:
        pass  # no model stored yet (or a table of that name that is not ours): the other words still complete
    return [*words, *functions]


@dataclass
class Session:
    """What the prompt's commands change for the statements after them."""

    out_format: str
    timer: bool = False  # .timer on: each statement's run time
    output: str | None = None  # .output FILE: every result appended to FILE
    once: str | None = None  # .once FILE: the next result written to FILE
    progress: bool = False  # a long statement's progress on stderr (not --quiet)


@dataclass
class Command:
    """A parsed dot command, by ``kind``: ``statements`` (``sql`` run and printed as typed SQL is), ``tables`` or
    ``schema`` (``sql`` with the pattern in ``params``, printed as a listing), ``describe`` (``sql`` listing the
    (schema, name) the pattern in ``params`` matches, each described), ``models``, ``read`` (the file's path and
    the command as typed in ``params``), ``done`` (.help, or a setting asked for: printed while parsed) or ``set``
    (a setting changed while parsed, nothing printed)."""

    kind: str = "done"
    sql: str = ""
    params: tuple[str, ...] = ()


def parse(line: str, session: Session) -> Command:
    """The command a prompt line starting with '.' or '\\' stands for; .help and .mode are done here. A
    click.UsageError names an unknown command or a bad argument, with .help."""
    words = line.strip().rstrip(";").split(None, 1)
    name, typed = words[0].lower(), (words[1].strip() if len(words) > 1 else "")
    arg, extra = _argument(typed)
    pattern = _pattern(typed)
    if name in (".help", "\\?", "\\h"):
        click.echo(HELP)
        return Command()
    if name in (".tables", "\\dt"):
        return Command("tables", _TABLES, (_like(pattern, psql=name == "\\dt") or "%",))
    if name == ".schema":
        return Command("schema", _SCHEMA, (pattern or "%",))
    if name == "\\d":
        if any(c in arg + extra for c in "*?"):  # psql's \d tx*: the columns of each table or view the pattern matches
            return Command("describe", _MATCHING, (_like(pattern, psql=True),))
        # Why as typed: the name may be qualified or quoted ("My Table", lake.main.tx), as in any statement
        return Command("statements", f"DESCRIBE {typed}") if typed else Command("tables", _TABLES, ("%",))
    if name == ".models":
        return Command("models", params=(pattern,) if pattern else ())
    if extra and name in (".read", "\\i", "\\include", ".mode", ".output", ".once", "\\o", ".timer"):
        # Why refused: the words after a quoted path were dropped without a word, or read as part of the path
        raise click.UsageError(f"{words[0]} takes one argument: {extra!r} follows the quoted {arg!r}; a path with "
                               f"spaces or quotes goes in quotes as a whole (e.g. {words[0]} \"my report.sql\").")
    if name in (".read", "\\i", "\\include"):
        if not arg:
            raise click.UsageError(f"{words[0]} needs the path of a SQL file (e.g. {words[0]} report.sql).")
        return Command("read", params=(arg, words[0]))
    if name == ".mode":
        if not arg:
            click.echo(session.out_format)
        elif arg.lower() in FORMATS:
            session.out_format = arg.lower()
        else:
            raise click.UsageError(f".mode {arg}: the formats are {', '.join(FORMATS)} (e.g. .mode csv).")
        return Command("set" if arg else "done")
    if name in (".output", ".once", "\\o"):
        if name == ".once" and not arg:
            raise click.UsageError(".once needs the path of a file (e.g. .once top.csv).")
        if arg:
            try:  # opened now, as DuckDB's shell does: a path that cannot be written is said here, not at the query
                with open(arg, "w", encoding="utf-8"):
                    pass
            except OSError as e:
                raise click.UsageError(f"{words[0]}: cannot write {arg} ({e.strerror}).") from e
        if name == ".once":
            session.once = arg
        else:
            session.output = arg or None  # alone: back to the screen
        return Command("set")
    if name == ".timer":
        if not arg:
            click.echo("on" if session.timer else "off")
        elif arg.lower() in ("on", "off"):
            session.timer = arg.lower() == "on"
        else:
            raise click.UsageError(f".timer {arg}: say .timer on or .timer off.")
        return Command("set" if arg else "done")
    raise click.UsageError(f"{words[0]} is not a command here: .help lists the commands, and SQL statements "
                           "end with ';' (SHOW TABLES; DESCRIBE t;).")


def _like(pattern: str, psql: bool) -> str:
    """``pattern`` as an ILIKE pattern: psql's commands (\\dt, \\d) write any text as * and one character as ?,
    DuckDB's (.tables) as % and _."""
    return pattern.replace("*", "%").replace("?", "_") if psql else pattern


def _pattern(typed: str) -> str:
    """A listing's pattern: a name written as a statement writes it ("Sales Data"."Tx Table") as the listing shows
    it (Sales Data.Tx Table), else ``typed`` without its quotes. Why: with only the outer quotes taken off, the
    pattern was 'Sales Data"."Tx Table', which matched nothing."""
    parts = name_parts(typed) if typed else None
    if parts:
        return ".".join(parts)
    arg, extra = _argument(typed)
    return typed if extra else arg


# sqlite3's shell's escapes in a double-quoted argument (its resolve_backslashes), beside \\ and octal \NNN
_ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r", '"': '"', "'": "'",
            "\\": "\\"}


def _argument(typed: str) -> tuple[str, str]:
    """A dot command's argument as sqlite3's shell (and DuckDB's, built on it) reads it, and the text after it.

    In double quotes, a backslash escapes (\\" is a quote, \\\\ a backslash, \\t a tab, \\NNN an octal byte; before any
    other character it is dropped, as there); in single quotes, every character is itself; unquoted, the rest of the
    line as typed (a path with spaces, as before). Why: DuckDB's shell takes a dot command's argument in quotes
    (.schema "My Table", .tables 'tx%', .read "it's \\"q\\".sql"); the quotes were kept as part of the pattern, and
    then a backslash before a quote was kept as part of the path."""
    if not typed or typed[0] not in "'\"":
        return typed, ""
    quote, i = typed[0], 1
    while i < len(typed) and typed[i] != quote:
        i += 2 if quote == '"' and typed[i] == "\\" and i + 1 < len(typed) else 1
    inner, extra = typed[1:i], typed[i + 1:].strip()
    return (_unescaped(inner) if quote == '"' else inner), extra


def _unescaped(text: str) -> str:
    """``text`` with sqlite3's shell's backslash escapes resolved (``_ESCAPES``)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            i += 1
            octal = len(text[i:i + 3]) - len(text[i:i + 3].lstrip("01234567"))
            if octal:
                out.append(chr(int(text[i:i + octal], 8) & 0xFF))  # sqlite's char: three digits may overflow a byte
                i += octal
                continue
            c = _ESCAPES.get(text[i], text[i])
        out.append(c)
        i += 1
    return "".join(out)
