"""What a qualified source name (``schema.table``, ``db.schema.table``) misses in the catalog, and what exists.

Why: DuckDB's own message for ``analytics.nope`` offered "Did you mean pg_catalog.pg_enum?", and for a database
that is not attached (``lake.main.tx`` on the command line without ``--attach``) said schema "lake.main" does not
exist; neither named what does exist nor how to reach another database file.
"""

from __future__ import annotations

from contextvars import ContextVar

import duckdb

from .attachfiles import option_hint
from .sqltext import name_parts, quote_ident, sql_name

_SHOWN = 20  # names listed at most; a warehouse may hold hundreds

# Set by ``ad_duckdb.train`` given a database file's path (not a connection): (that path, the model's name). Why: the
# fix "attach it on the connection first" then named a connection the user does not hold; train opened its own.
GIVEN_PATH: ContextVar[tuple[str, str] | None] = ContextVar("ad_duckdb_given_path", default=None)


def _listed(names: list[str]) -> str:
    names = sorted({sql_name(n) for n in names}, key=lambda n: n.strip('"').lower())
    more = f", ... ({len(names) - _SHOWN} more)" if len(names) > _SHOWN else ""
    return ", ".join(names[:_SHOWN]) + more if names else "none"


def _attach_fix(db: str, source: str, table: str, shell: bool) -> str:
    """How to read a table of another database file (a fragment, lower case first)."""
    copy = sql_name(f"{db}_{table}")  # not the table's own name, which DB may hold already (main.tx)
    if shell:
        # each command opens DB alone, and an ATTACH lasts one process: --attach attaches the file for the command
        return (f"{option_hint(db)}, or copy the table into DB: ad-duckdb sql DB --write \"ATTACH "
                f"'path/to/{db}.duckdb' AS {sql_name(db)} (READ_ONLY); CREATE TABLE {copy} AS FROM {source}\"")
    given = GIVEN_PATH.get()
    if given is not None:
        path, model = given
        return (f"given the path {path!r}, ad_duckdb.train opened it on a connection of its own, which attaches "
                f"nothing else: open the file yourself, attach the other file there and pass that connection: con = "
                f"ad_duckdb.connect({path!r}); con.execute(\"ATTACH 'path/to/{db}.duckdb' AS {sql_name(db)} "
                f"(READ_ONLY)\"); ad_duckdb.train(con, {model!r}, {source!r}, ...) (from the command line: "
                f"ad-duckdb train ... --attach path/to/{db}.duckdb)")
    return (f"attach it on the connection first: con.execute(\"ATTACH 'path/to/{db}.duckdb' AS {sql_name(db)} "
            "(READ_ONLY)\") (ad_duckdb reads through cursors of that connection, which see what it attached)")


def missing_part(cur: duckdb.DuckDBPyConnection, source: str, shell: bool) -> str | None:
    """Which part of the qualified name ``source`` does not exist, what exists there, and the fix; None when
    ``source`` is not a qualified name, or every part exists (the error is another one)."""
    parts = name_parts(source)
    if parts is None or len(parts) < 2:
        return None
    try:
        current = cur.execute("SELECT current_database()").fetchall()[0][0]
        schemas = cur.execute("SELECT database_name, schema_name FROM duckdb_schemas() WHERE NOT internal "
                              "OR schema_name = 'main'").fetchall()
        objects = cur.execute(
            "SELECT database_name, schema_name, table_name FROM duckdb_tables() WHERE NOT internal UNION ALL "
            "SELECT database_name, schema_name, view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    except duckdb.Error:
        return None
    dbs = sorted({d for d, _ in schemas if d not in ("system", "temp")}, key=str.lower)
    has_db = {d.lower() for d in dbs}

    def schemas_of(db: str) -> list[str]:
        return [s for d, s in schemas if d.lower() == db.lower()]

    def tables_of(db: str, schema: str) -> list[str]:
        return [t for d, s, t in objects if d.lower() == db.lower() and s.lower() == schema.lower()]

    dotted = _dotted_table(source.strip(), objects, current)
    if dotted:
        return dotted
    *prefix, table = parts
    if len(prefix) == 2:
        db, schema = prefix
        if db.lower() not in has_db:
            fix = _attach_fix(db, source.strip(), table, shell)
            return f"no database {db!r} is attached (attached: {_listed(dbs)}). {fix[0].upper()}{fix[1:]}"
    else:  # a.b: schema a of the current database, else database a's main schema, as DuckDB reads it
        (first,) = prefix
        if first.lower() in {s.lower() for s in schemas_of(current)}:
            db, schema = current, first
        elif first.lower() in has_db:
            db, schema = first, "main"
        else:
            from .cliopen import near_files  # here: cliopen imports the CLI's modules

            near = near_files(source.strip())
            if near:
                # Why first: 'tx.parqet', a typo of a file's extension, was read as table parqet of a schema tx,
                # and the fix offered was to attach a database file tx.duckdb
                return f"no table, view or file {source.strip()!r}.{near} A file is read by its exact name"
            return (f"{first!r} is neither a schema of database {current} (its schemas: "
                    f"{_listed(schemas_of(current))}) nor an attached database (attached: {_listed(dbs)}). Name an "
                    f"existing schema or create it; for a table of another database file, "
                    f"{_attach_fix(first, source.strip(), table, shell)}")
    if schema.lower() not in {s.lower() for s in schemas_of(db)}:
        return f"database {db} has no schema {schema!r} (its schemas: {_listed(schemas_of(db))})"
    if table.lower() in {t.lower() for t in tables_of(db, schema)}:
        return None
    return f"{db}.{schema} has no table or view {table!r} (its tables and views: {_listed(tables_of(db, schema))})"


def _dotted_table(name: str, objects: list[tuple[str, str, str]], current: str) -> str | None:
    """The fix for a bare ``name`` holding a dot that is itself the name of a table or view of the current database
    ("tx.v2", a copy named with its version), which SQL reads as schema (or database) and table; None otherwise.
    Why: the message said 'tx' is neither a schema nor an attached database, and to attach a file tx.duckdb."""
    found = sorted({(s, t) for d, s, t in objects if d.lower() == current.lower() and t.lower() == name.lower()})
    if not found:
        return None
    schema, table = found[0]
    quoted = quote_ident(table) if schema == "main" else f"{sql_name(schema)}.{quote_ident(table)}"
    return (f"SQL reads a name's dots as between schema (or database) and table, and {sql_name(schema)} has a table "
            f"or view named {table!r}, dot and all: write it in double quotes, {quoted} (in a shell, '{quoted}')")


def quoting_fix(cur: duckdb.DuckDBPyConnection, source: str) -> str | None:
    """The fix for a dotted name whose bare part needs double quotes (``lake-2024 €."Raw Zone".tx``, a database that
    ``--attach 'lake-2024 €.duckdb'`` attached as "lake-2024 €"), when quoting it names a table that is there; None
    otherwise. Why: read whole as one name, DuckDB's message offered "Did you mean pg_namespace?"."""
    quoted = _quoted(source)
    if quoted is None:
        return None
    fixed, bare = quoted
    try:
        cur.execute(f"SELECT 1 FROM {fixed} LIMIT 0")
    except duckdb.Error:
        return None
    return (f"SQL takes a name part holding a space, '-' or another character that is not a letter, digit or '_' in "
            f"double quotes ({', '.join(map(repr, bare))} here): write it {fixed}")


def dotted_target(cur: duckdb.DuckDBPyConnection, into: str) -> str | None:
    """The table ``into`` names when its dots are read as DuckDB would read them with its parts quoted ("Sales
    Data".Scores for ``Sales Data.Scores``), if that text is no dotted name but its schema (or database) exists;
    else None. Why: such a target was quoted whole, and a table named "Sales Data.Scores" made in the main schema,
    as if written where asked."""
    quoted = _quoted(into)
    if quoted is None:
        return None
    parts = name_parts(quoted[0]) or []
    try:
        schemas = {(d.lower(), s.lower()) for d, s in cur.execute(
            "SELECT database_name, schema_name FROM duckdb_schemas()").fetchall()}
        current = cur.execute("SELECT current_database()").fetchall()[0][0].lower()
    except duckdb.Error:
        return None
    prefix = [p.lower() for p in parts[:-1]]
    there = ((current, prefix[0]) in schemas or (prefix[0], "main") in schemas if len(prefix) == 1
             else tuple(prefix) in schemas)
    return quoted[0] if there else None


def _quoted(text: str) -> tuple[str, list[str]] | None:
    """``text``, no dotted name as written, cut at its dots and each part that needs it quoted: the dotted name and
    those parts; None when ``text`` is a dotted name already or not one of 2-3 parts."""
    parts = _dotted_parts(text.strip())
    if name_parts(text) is not None or parts is None or not 2 <= len(parts) <= 3:
        return None
    fixed = ".".join(p if p.startswith('"') or name_parts(p) == [p] else quote_ident(p) for p in parts)
    if name_parts(fixed) is None:
        return None
    return fixed, [p for p in parts if not p.startswith('"') and name_parts(p) != [p]]


def _dotted_parts(s: str) -> list[str] | None:
    """``s`` cut at its dots outside double quotes, each part stripped of spaces; None if a quote is left open or a
    part is empty."""
    parts, part, quoted = [], "", False
    for c in s:
        if c == '"':
            quoted = not quoted  # a doubled quote inside a quoted part turns it off and on again
        if c == "." and not quoted:
            parts.append(part.strip())
            part = ""
        else:
            part += c
    parts.append(part.strip())
    return None if quoted or not all(parts) else parts
