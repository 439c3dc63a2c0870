"""The table a command writes its results into (``score(into=)``, ``evaluate(into=)``): refused before any row is
scored when it is a store table, a view, an existing table without ``replace`` (or, for scores, ``append``), one the
source reads (unless appended to), or one that cannot be created."""

from __future__ import annotations

import math
import re
import shlex
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager

import duckdb

from . import canwrite, optionwords, pysource, storetables, typedpaths
from .callerview import base_tables, check_same_home, check_same_tables
from .catalognames import dotted_target
from .exceptions import BadInputError, OptionError, SourceNotFoundError
from .featurechoice import MODEL_COLUMN, SCORE_COLUMNS
from .optionwords import either, opt
from .sqltext import (
    is_query,
    name_parts,
    quote_ident,
    quote_literal,
    shell_word,
    shown_source,
    source_sql,
    sql_name,
    strip_sql_ends,
    table_sql,
)


def _table_refs(cur: duckdb.DuckDBPyConnection, from_item: str, depth: int = 0,
                home: tuple[str, str] | None = None) -> set[tuple[str, str, str]]:
    """The tables (catalog, schema, name; lower case) that ``SELECT * FROM from_item`` reads, through views.

    Parsed by DuckDB (``json_serialize_sql``), so any quoting, case or qualification of a name counts. ``home``:
    the database and schema of the view ``from_item`` is the body of, where DuckDB binds its unqualified names.
    """
    names = base_tables(cur, from_item)
    current = cur.execute("SELECT current_database(), current_schema()").fetchall()[0]
    db, schema = home or current
    objects = cur.execute(
        "SELECT database_name, schema_name, table_name, NULL FROM duckdb_tables() UNION ALL "
        "SELECT database_name, schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall()
    found = {(c.lower(), s.lower(), t.lower()): view_sql for c, s, t, view_sql in objects}
    out: set[tuple[str, str, str]] = set()
    for catalog, sch, name in names:
        # DuckDB's own order: a.b is schema a of this database, else database a's main schema
        # (unqualified names in a view: its own schema first, then the session's, as DuckDB binds them)
        tries = ([(catalog, sch)] if catalog else [(db, sch), (sch, "main")] if sch else
                 [(db, schema), *([current] if home else []), ("temp", "main")])
        for c, s in tries:
            key = (c.lower(), s.lower(), name.lower())
            if key in found:
                out.add(key)
                view_sql = found[key]
                if view_sql and depth < 8:
                    m = re.match(r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?VIEW\s+.*?\s+AS\s+(.*?);?\s*$",
                                 view_sql, re.I | re.S)
                    if m:
                        out |= _table_refs(cur, f"({m.group(1)})", depth + 1, home=(key[0], key[1]))
                break
    return out


# One lock per table appended to, by database file and name: see one_append_at_a_time.
_APPENDING: dict[tuple[str, str], threading.Lock] = {}
_APPENDING_GUARD = threading.Lock()


def _appended_table(cur: duckdb.DuckDBPyConnection, into: str) -> tuple[str, str]:
    """The table ``into`` names, as (database file, "catalog.schema.table" lower case), the same for any spelling.

    Why resolved: ``s``, ``main.s`` and ``"S"`` are one table to DuckDB, and keyed as written they did not take turns.
    A table not yet made is resolved as DuckDB would create it (``a.b``: schema a here, else database a).
    """
    parts = [p.lower() for p in name_parts(into) or [into.strip()]]
    found = sorted(_table_refs(cur, table_sql(into))) if len(parts) <= 3 else []
    if found:
        catalog, schema, name = found[0]
    else:
        db, here = (v.lower() for v in cur.execute("SELECT current_database(), current_schema()").fetchall()[0])
        schemas = {(c.lower(), s.lower()) for c, s in cur.execute(
            "SELECT catalog_name, schema_name FROM information_schema.schemata").fetchall()}
        if len(parts) == 3:
            catalog, schema, name = parts
        elif len(parts) == 2:
            catalog, schema = (db, parts[0]) if (db, parts[0]) in schemas else (parts[0], "main")
            name = parts[1]
        else:
            catalog, schema, name = db, here, parts[-1]
    row = cur.execute("SELECT path FROM duckdb_databases() WHERE lower(database_name) = ?", [catalog]).fetchall()
    path = str(row[0][0] or "") if row else ""
    # A file is one whatever it is attached as; an in-memory database has no path, so its name tells it apart.
    return (path, f"{schema}.{name}") if path else ("", f"{catalog}.{schema}.{name}")


@contextmanager
def one_append_at_a_time(con: duckdb.DuckDBPyConnection, into: str) -> Iterator[None]:
    """Held by ``score(into=..., append=True)`` from before it reads its source until its rows are committed.

    Why: an incremental run's source reads the table for the last row scored, as it was before the run. Two runs at
    once in one process (a scheduler's job overlapping its previous run) both read it before either wrote, so each
    added the same new rows (or one failed on DuckDB's write-write conflict of the column comments). Between
    processes DuckDB's file lock already makes the second wait (``--wait``) or fail; within one, this does.
    """
    cur = con.cursor()
    try:
        key = _appended_table(cur, into)
    finally:
        cur.close()
    with _APPENDING_GUARD:
        lock = _APPENDING.setdefault(key, threading.Lock())
    with lock:
        yield


def check_replace(into: str | None, replace: bool, who: str, append: bool = False) -> None:
    """Refuse ``replace=True`` or ``append=True`` without ``into``: they say what happens to the table written, and
    with none they did nothing, silently (a user who meant to write a table got rows printed and nothing stored);
    and both at once, which ask to keep the table's rows and to drop them."""
    if append and replace:
        raise OptionError(f"{who}: {opt('append', True)} adds the scores to the {opt('into')} table's rows and "
                          f"{opt('replace', True)} drops its rows; give one of them, not both.")
    if append and into is None:
        raise OptionError(f"{who}: {opt('append', True)} adds the scores to the {opt('into')} table, and none "
                          "was given; name the table to add them to, or leave append out.")
    if replace and into is None:
        raise OptionError(f"{who}: {opt('replace', True)} overwrites the {opt('into')} table, and none was "
                          "given; name the table to write, or leave replace out.")


def reads_table(cur: duckdb.DuckDBPyConnection, source: str, table: str) -> bool:
    """Whether ``source`` reads ``table`` (an existing --into table), through views."""
    return bool(_table_refs(cur, table_sql(table)) & _table_refs(cur, source_sql(source)))


def check_target(con: duckdb.DuckDBPyConnection, into: str, replace: bool, source: str | None = None,
                 in_place: bool = False, what: str = "scores", append: bool = False) -> None:
    """Refuse a write target that is a store table, an existing table unless ``replace``, or a table the
    ``source`` reads (replacing it would lose rows or columns), unless ``in_place``: the source is that table
    itself and every column is kept, so the table is rewritten whole with fresh scores. ``what`` is written:
    "scores" or (evaluate) "thresholds". ``append``: the rows are added to the table, which may exist and which
    the source may read (it reads the table as it was before the run: ``score(append=True)``)."""
    storetables.check_writable(into)
    chk = pysource.cursor(con, source)
    try:
        _check_not_a_file(chk, into, what)
        dotted = dotted_target(chk, into)
        if dotted:
            # Why refused also when a table of the whole name exists (an earlier run made it, before this refusal):
            # the same text then meant that table, or the schema's when there was none, and --append added to the
            # one in main with the schema's beside it. Either reading, written as SQL reads it, goes on as asked.
            *home, table = name_parts(dotted) or [dotted]
            whole = quote_ident(into.strip())
            made = (f" (a table {whole} exists in main: earlier runs wrote it)"
                    if named_objects(chk, whole) else "")
            raise BadInputError(
                f"The {what} table {into!r} is no name DuckDB reads (a part holding a space or another character "
                f"that is not a letter, digit or '_' is written in double quotes): for table {table!r} of "
                f"{'.'.join(map(sql_name, home))}, write {opt('into', dotted)}; for a "
                f"table of that whole name in the current schema{made}, {opt('into', whole)}."
            )
        canwrite.check_can_write(chk, f"Cannot write table {into!r}")
        # Resolved by DuckDB itself, as CREATE OR REPLACE will: any case, quoting or schema of the same table.
        try:
            chk.execute(f"SELECT 1 FROM {table_sql(into)} LIMIT 0")
            # a name DuckDB's replacement scan read as a file (exports.csv of a schema exports) is no table
            exists = bool(named_objects(chk, table_sql(into)))
        except (duckdb.CatalogException, duckdb.IOException):
            exists = False
        check_same_tables(con, chk, table_sql(into), into, f"Cannot write the {what}: ", False, role="target table")
        if exists and _is_view(chk, into):
            # Why here: "exists; pass replace=True" sent the user to CREATE OR REPLACE TABLE, which DuckDB refuses
            # over a view ("Existing object ... is of type View"), after every row was scored.
            raise BadInputError(
                f"{into!r} is a view, and the {what} are written as a table, which cannot replace a view. Choose "
                f"another name, e.g. {opt('into', _suggest_table(into, 'scored' if what == 'scores' else what))}, "
                f"or drop the view first: DROP VIEW {table_sql(into)}."
            )
        if not exists:
            check_same_home(con, chk, into, f"Cannot write the {what}: ")
            _check_creatable(chk, into, what)
        read = itself = False
        if exists and source is not None:
            target, reads = _table_refs(chk, table_sql(into)), _table_refs(chk, source_sql(source))
            # the source is the table written, named as such: not a query or a view, which may select fewer rows
            itself = not is_query(source) and reads == target and what == "scores"
            read = bool(target & reads) and not append and not (in_place and itself)
        # its rows, said in the refusal (only there: replace and append need no count)
        refused = exists and not replace and not append and what == "scores"
        told = refused or (itself and (append or not in_place))
        held = chk.execute(f"SELECT count(*) FROM {table_sql(into)}").fetchall()[0][0] if told else 0
    finally:
        chk.close()
    if itself:
        _refuse_its_own_source(into, held, replace, append, in_place)
    if read and what == "thresholds":
        raise BadInputError(f"Table {into!r} is what {source!r} reads; writing the threshold table into it would "
                            f"replace it. Choose a new table, e.g. {opt('into', _suggest_table(into, 'thresholds'))}.")
    if read:
        instead = f" (instead of {opt('replace', True)})" if replace else ""
        # Why append first: a source that reads the table it writes is most often an incremental job's
        # "WHERE id > (SELECT max(id) FROM scores)"
        raise BadInputError(
            f"Table {into!r} is what {source!r} reads. To add the scores of the rows it selects to the table's rows "
            f"(an incremental job), pass {opt('append', True)}"
            f"{instead}: the source reads the table as it was before the run. "
            "Written otherwise, the table would be replaced with the scored rows and kept columns only; write them "
            f"to a new table, e.g. {opt('into', _suggest_table(into, 'scored'))}, and join it back on an id "
            "column; or, to refresh the scores of a table in place, score the table itself and keep every column "
            f"(no {opt('columns', flag='column')})."
        )
    if refused:
        raise BadInputError(f"Table {into!r} exists; pass {opt('append', True)} to add these rows' scores to "
                            f"its {held} rows (an incremental job's next run), or {opt('replace', True)} to "
                            f"overwrite it (its {held} rows are lost).")
    if exists and not replace and not append:
        raise BadInputError(f"Table {into!r} exists; pass {opt('replace', True)} to overwrite it.")


def _refuse_its_own_source(into: str, held: int, replace: bool, append: bool, in_place: bool) -> None:
    """Refuse scoring a table into itself, unless with replace and every column kept (``in_place``), saying what
    each option does to that table, the one that works first.

    Why: the refusal for any existing table offered append=True first, which adds each row a second time when the
    source is the table itself, and said of replace=True that the rows are lost, though it keeps every row and
    column and adds the scores."""
    how = (f"pass {opt('replace', True)}{' instead' if append else ''}: it is "
           f"rewritten with its {held} rows and every column, plus the score columns (fresh ones in place of an "
           "earlier scoring's).")
    new = (f"Or write the scored rows to a new table, e.g. {opt('into', _suggest_table(into, 'scored'))}, "
           f"which leaves {into!r} as it is.")
    if append:
        leave = "" if in_place else f"leave {opt('columns', flag='column')} out and "
        raise BadInputError(f"Table {into!r} is the source scored, whole: {opt('append', True)} would add each "
                            f"of its {held} rows a second time. To add the scores to it in place, {leave}{how} {new}")
    if not in_place:
        raise BadInputError(f"Table {into!r} is the source scored; written with the {opt('columns', flag='column')} "
                            "kept only, it would lose its other columns. To add the scores to it in place, leave "
                            f"{opt('columns', flag='column')} out and {how} {new}")
    if not replace:
        raise BadInputError(f"Table {into!r} exists, and it is the source scored. To add the scores to it in place, "
                            f"{how} {new} Not {opt('append', True)}: it would add each of its rows a second "
                            "time.")


# The endings of the files DuckDB's COPY ... TO writes (and compressed ones), which no table is named with.
_FILE_ENDING = re.compile(r"(?i)\.(parquet|csv|tsv|txt|json|jsonl|ndjson|xlsx|arrow|feather)(\.(gz|gzip|zst))?$")


def _check_not_a_file(cur: duckdb.DuckDBPyConnection, into: str, what: str) -> None:
    """Refuse an ``into`` that names a file (``scores.parquet``, ``out/scores.csv``), naming the table to write and
    the COPY that writes the file from it.

    Why: read as table ``parquet`` of schema ``scores``, it gave DuckDB's "No files found that match the pattern"
    (its existence check read the name as a file), "Table 'scores.parquet' exists" when the file did, and with
    --replace "Schema with name scores does not exist!". A schema of that name (``exports.csv``) stays a table.
    """
    s = into.strip()
    # Why by its ending alone: any other text is a table's name, quoted whole (x/*, a\b), as into= promises
    if s.startswith('"') or not _FILE_ENDING.search(s):
        return
    parts = name_parts(s)
    if parts and len(parts) > 1:
        # Why a database counts only before a schema (db.main.csv): scores.csv with scores.duckdb open was table
        # 'csv' of database 'scores', written where the user wanted a file, with "wrote ... to scores.csv"
        known = {n.lower() for (n,) in cur.execute(
            "SELECT schema_name FROM duckdb_schemas()" if len(parts) == 2 else
            "SELECT database_name FROM duckdb_databases()").fetchall()}
        if parts[0].lower() in known:
            return
    stem = re.sub(r"\W", "_", re.split(r"[/\\]", s)[-1].split(".")[0], flags=re.ASCII) or what
    stem = f"t_{stem}" if stem[0].isdigit() else stem
    copy = f"COPY {sql_name(stem)} TO {quote_literal(s)}"
    raise OptionError(
        f"Cannot write the {what} to {s!r}: {s!r} is a file name, and {opt('into')} names a table of the "
        f"database. Write the {what} to a table, e.g. {opt('into', stem)}, then the table to the file: "
        f"{_run_sql(copy)}."
    )


def named_objects(cur: duckdb.DuckDBPyConnection, name_sql: str) -> set[tuple[str, str, str]]:
    """The table or view (catalog, schema, name; lower case) the SQL name ``name_sql`` is, as DuckDB resolves it;
    empty when there is none (or it is a table function call)."""
    return _table_refs(cur, name_sql, depth=8)  # depth 8: the name itself, not what a view reads


def table_oid(cur: duckdb.DuckDBPyConnection, into: str) -> int | None:
    """DuckDB's id of the table ``into`` names (resolved as DuckDB does), None when there is none.

    Why an id: CREATE OR REPLACE TABLE gives the table a new one, so ids taken before and after a write tell
    whether it went through even when the new table has the old one's rows and columns.
    """
    target = _table_refs(cur, table_sql(into), depth=8)  # depth 8: the name itself, not what a view reads
    tables = cur.execute("SELECT database_name, schema_name, table_name, table_oid FROM duckdb_tables()").fetchall()
    return next((int(oid) for d, s, t, oid in tables if (d.lower(), s.lower(), t.lower()) in target), None)


def _is_view(cur: duckdb.DuckDBPyConnection, into: str) -> bool:
    """Whether the existing object ``into`` names (as DuckDB resolves it) is a view."""
    target = _table_refs(cur, table_sql(into), depth=8)  # depth 8: the name itself, not what a view reads
    views = cur.execute("SELECT database_name, schema_name, view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    return bool(target & {(d.lower(), s.lower(), v.lower()) for d, s, v in views})


def _check_creatable(cur: duckdb.DuckDBPyConnection, into: str, what: str) -> None:
    """Refuse a new table that cannot be created (its schema or database does not exist, a read-only ATTACHed
    database), naming it, before any row is scored: a CREATE TABLE rolled back tells, as DuckDB resolves the name.

    Why: DuckDB's "Schema with name nos does not exist!" came after the scoring, naming neither the table nor a fix.
    """
    try:
        cur.execute("BEGIN TRANSACTION")
        try:
            cur.execute(f"CREATE TABLE {table_sql(into)} (x INTEGER)")
        finally:
            cur.execute("ROLLBACK")
    except duckdb.Error as e:
        base = _suggest_table(into, "")[:-1] or what  # the name without its schema: into='nos.scores' -> 'scores'
        m = re.search(r"Schema with name (.+?) does not exist", str(e))
        if m:
            raise BadInputError(f"Cannot write the {what} to table {into!r}: schema {m.group(1)!r} does not exist. "
                                f"{_missing_schema_fixes(cur, into, m.group(1), base)}") from e
        raise BadInputError(f"Cannot write the {what} to table {into!r}: {str(e).rstrip('!.')}. Choose a table in a "
                            f"database and schema you can write to, e.g. {opt('into', base)}.") from e


def _missing_schema_fixes(cur: duckdb.DuckDBPyConnection, into: str, schema: str, base: str) -> str:
    """The ways out of a new table ``into`` in a ``schema`` that does not exist: create the schema (the command line's
    own command there), quote a name of two plain words as one table's (``Scores.V2`` meant as a name with a dot), or
    ``base`` in an existing schema."""
    create = f"CREATE SCHEMA {quote_ident(schema)}"
    cli = pysource.from_command_line()
    parts = name_parts(into)
    one = quote_ident(".".join(parts)) if parts is not None and len(parts) == 2 and '"' not in into else None
    if cli:
        db = shlex.quote(typedpaths.cli_db(cur))
        quoted = f"; for one table whose name holds the dot, quote it: --into {shell_word(one)}" if one else ""
        return (f"Create it first: ad-duckdb sql --write {db} {shell_word(create)}{quoted}; or write to a table of "
                f"an existing schema, e.g. --into {shlex.quote(base)}.")
    quoted = f"; for one table whose name holds the dot, quote it: into={one!r}" if one else ""
    return f"Create it first ({create}){quoted}; or write to a table of an existing schema, e.g. into={base!r}."


def _suggest_table(into: str, suffix: str) -> str:
    base = into.strip().split(".")[-1].strip('"')
    return f"{base}_{suffix}" if re.fullmatch(r"\w+", base) else suffix


def table_columns(con: duckdb.DuckDBPyConnection, into: str) -> list[str] | None:
    """The column names of the existing table ``into``, None when there is none (``score(append=True)``'s first
    run creates it)."""
    cur = con.cursor()
    try:
        try:
            desc = cur.execute(f"SELECT * FROM {table_sql(into)} LIMIT 0").description
        except (duckdb.CatalogException, duckdb.IOException):
            return None
        return [d[0] for d in desc or []] if named_objects(cur, table_sql(into)) else None
    finally:
        cur.close()


def check_append_columns(into: str, held: Sequence[str], written: Sequence[str], model: str,
                         source: str | None = None, source_columns: Collection[str] = ()) -> None:
    """Refuse appending the columns ``written`` to the table ``into`` of columns ``held`` unless they are the same
    names (any order and case: rows are added BY NAME), naming the columns either side lacks and the option that
    writes them. ``source_columns``: the columns ``source`` has, by lowercased name.

    Why: a column of the table not written is left NULL in the new rows (scored with --explain before and not
    now: no explanation for any later row, silently); a column written and not in the table fails in DuckDB's
    words ("Table ... does not have a column with name ...") after every row is scored.
    """
    low_held, low_written = {c.lower() for c in held}, {c.lower() for c in written}
    only_held = [c for c in held if c.lower() not in low_written]
    only_written = [c for c in written if c.lower() not in low_held]
    if not only_held and not only_written:
        return
    fixes = []
    if "anomaly_explain" in {c.lower() for c in only_held}:
        fixes.append(f"add {opt('explain', True)}, as the table was scored with")
    if "anomaly_explain" in {c.lower() for c in only_written}:
        fixes.append(f"leave out {opt('explain', True)}, as the table was scored without")
    if MODEL_COLUMN in {c.lower() for c in only_held}:
        fixes.append(f"add {opt('model_column', True)}, as the table was scored with")
    if MODEL_COLUMN in {c.lower() for c in only_written}:
        # Why the ALTER: a history table written before the option is the usual one to start recording versions in
        fixes.append(f"leave out {opt('model_column', True)}, as the table was scored without; or, to "
                     f"record the version from now on, add the column first: ALTER TABLE {_table_named(into)} ADD COLUMN "
                     f"{MODEL_COLUMN} VARCHAR (the rows already there keep NULL, their version unrecorded)")
    if "anomaly_mse" in {c.lower() for c in only_held}:
        fixes.append(f"add {opt('mse', True)}, as the table was scored with")
    if "anomaly_mse" in {c.lower() for c in only_written}:
        fixes.append(f"leave out {opt('mse', True)}, as the table was scored without")
    outs = [c for c in only_held if c.lower() in SCORE_COLUMNS[:3]]
    if outs:
        fixes.append(f"write {', '.join(map(repr, outs))} too (outputs=; the CLI writes all three)")
    if [c for c in only_written if c.lower() in SCORE_COLUMNS[:3]]:
        fixes.append("write the outputs the table has (outputs=)")
    kept = [c for c in held if c.lower() not in SCORE_COLUMNS]
    lacked = [c for c in kept if source_columns and c.lower() not in source_columns]
    if lacked and source is not None:
        fixes.append(_renamed_upstream(into, source, lacked, [c for c in only_written if c.lower() not in SCORE_COLUMNS]))
    elif any(c.lower() not in SCORE_COLUMNS for c in [*only_held, *only_written]):
        cli = " ".join(f"-c {shell_word(c)}" for c in kept)
        fixes.append(f"keep the table's columns: {cli if optionwords.SURFACE.get() == 'cli' else f'columns={kept!r}'}"
                     if kept else
                     "keep no columns of the source beside the scores")
    parts = []
    if only_held:
        parts.append(f"the table has {', '.join(map(repr, only_held))}, which this scoring does not write")
    if only_written:
        parts.append(f"this scoring writes {', '.join(map(repr, only_written))}, which the table lacks")
    raise BadInputError(
        f"Cannot append the scores of {model!r} to table {into!r}: the rows are added by column name, and "
        f"{'; '.join(parts)}. Score as the table was written: {'; '.join(fixes)}. Or write another table "
        f"({opt('into')}), or overwrite this one ({opt('replace', True)})."
    )


def _table_named(into: str) -> str:
    """The table ``into`` as an ALTER TABLE in a message names it: quoted only where SQL needs it."""
    return ".".join(sql_name(p) for p in name_parts(into) or [into.strip()])


def _renamed_upstream(into: str, source: str, lacked: Sequence[str], extra: Sequence[str]) -> str:
    """The fix for a table column ``lacked`` by the source, as a column renamed upstream is: write it under the
    table's name from a query of the source, or rename the table's column to the source's name (``extra``, the
    source's columns the table lacks, paired with ``lacked`` only where there is one of each).

    Why: the fix given was to keep the table's columns (-c), the lacked one among them, which the source does not
    have: the next run stopped on that instead."""
    # a file's path or an odd name as a FROM item reads it (FROM day 2.csv did not parse); a plain name as SQL reads it
    parts = name_parts(source)
    shown = (f"({' '.join(strip_sql_ends(source).split())})" if is_query(source) else
             ".".join(sql_name(p) for p in parts) if parts else source_sql(source))
    paired = len(lacked) == 1 and len(extra) == 1
    renames = ", ".join(f"{sql_name(extra[0]) if paired else 'x'} AS {sql_name(c)}" for c in lacked)
    said = ", ".join(map(repr, lacked))
    fix = (f"{shown_source(source, n=60)!r} lacks {said} (renamed upstream?): give the source's column the table's "
           f"name, as SOURCE: SELECT * RENAME ({renames}) FROM {shown}")
    if paired:
        alter = f"ALTER TABLE {_table_named(into)} RENAME COLUMN {sql_name(lacked[0])} TO {sql_name(extra[0])}"
        fix += f"; or rename the table's column: {_run_sql(alter, write=True)}"
    return fix


# The SQL types of the columns scoring writes, as the new rows carry them into an appended table.
SCORE_TYPES = {"anomaly_score": "DOUBLE", "anomaly_percentile": "DOUBLE", "is_anomaly": "BOOLEAN",
               "anomaly_explain": 'STRUCT(feature VARCHAR, "share" DOUBLE)[]',
               "anomaly_imputed": "MAP(VARCHAR, DOUBLE)", "anomaly_model": "VARCHAR", "anomaly_mse": "DOUBLE"}


def table_types(con: duckdb.DuckDBPyConnection, into: str) -> dict[str, tuple[str, str]]:
    """The existing table ``into``'s columns: (name, SQL type) by lowercased name."""
    cur = con.cursor()
    try:
        return {c.lower(): (c, t) for c, t, *_ in cur.execute(f"DESCRIBE SELECT * FROM {table_sql(into)}").fetchall()}
    finally:
        cur.close()


def _casts_implicitly(cur: duckdb.DuckDBPyConnection, new_type_sql: str, held_type_sql: str) -> bool:
    """Whether DuckDB converts a value of type ``new_type_sql`` to ``held_type_sql`` on its own, as it would in a
    function call (a widening: INTEGER to BIGINT, FLOAT to DOUBLE); a type it cannot read counts as convertible, its
    INSERT then says why."""
    # Why the types as text: they are DuckDB's own names from DESCRIBE (or SCORE_TYPES), as _source_typed casts to
    try:
        return bool(cur.execute(
            f"SELECT can_cast_implicitly(NULL::{new_type_sql}, NULL::{held_type_sql})").fetchall()[0][0])
    except duckdb.Error:
        return True


# The digits each integer type's values take (TINYINT: -128 to 127, three), as a DECIMAL must hold them.
_INT_DIGITS = {"TINYINT": 3, "SMALLINT": 5, "INTEGER": 10, "BIGINT": 19, "HUGEINT": 39, "UTINYINT": 3,
               "USMALLINT": 5, "UINTEGER": 10, "UBIGINT": 20, "UHUGEINT": 39}
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)", re.IGNORECASE)
_DECIMAL_MAX_WIDTH = 38


def _exact_digits(type_sql: str) -> tuple[int, int] | None:
    """The digits before and after the point a value of an integer or DECIMAL type may have; None for others."""
    if (m := _DECIMAL.fullmatch(type_sql.strip())) is not None:
        return int(m[1]) - int(m[2]), int(m[2])
    digits = _INT_DIGITS.get(type_sql.strip().upper())
    return None if digits is None else (digits, 0)


def _decimal_widening(new_type_sql: str, held_type_sql: str) -> str | None:
    """The DECIMAL type holding every value of both types where the DECIMAL ``held_type_sql`` cannot hold each of
    ``new_type_sql``'s (too many digits before the point: an overflow; or after it: digits dropped); else None.

    Why: DuckDB casts BIGINT and wider DECIMALs to a DECIMAL column on its own (can_cast_implicitly says so), so BIGINT
    ids went into a DECIMAL(18,2) column until one passed 1e16, and that append failed after every row was scored."""
    held, new = _DECIMAL.fullmatch(held_type_sql.strip()), _exact_digits(new_type_sql)
    if held is None or new is None:
        return None
    whole, scale = int(held[1]) - int(held[2]), int(held[2])
    if new[0] <= whole and new[1] <= scale:
        return None
    return _holding_both((whole, scale), new, new_type_sql)


def _holding_both(held: tuple[int, int], new: tuple[int, int], new_type_sql: str) -> str:
    """The type holding every value of two exact types, given as their digits before and after the point
    (``_exact_digits``): the DECIMAL of the wider of each, or past DuckDB's widest DECIMAL, the new integer type or
    DOUBLE."""
    whole, scale = max(held[0], new[0]), max(held[1], new[1])
    if whole + scale <= _DECIMAL_MAX_WIDTH:
        return f"DECIMAL({whole + scale},{scale})"
    return new_type_sql if scale == 0 and new_type_sql.strip().upper() in _INT_DIGITS else "DOUBLE"


def _widened(new_type_sql: str, held_type_sql: str) -> str:
    """The type to ALTER a ``held_type_sql`` column to, which DuckDB does not convert ``new_type_sql`` values to on
    their own: the new type, or for DECIMAL values into an integer column, a DECIMAL holding both.

    Why: an INTEGER count that became DECIMAL(10,2) upstream was given ``SET DATA TYPE DECIMAL(10,2)``, whose 8
    digits before the point fail the ALTER on the table's own counts from 1e8 on (a BIGINT column's from 1e16 on
    DECIMAL(18,2))."""
    held, new = _exact_digits(held_type_sql), _exact_digits(new_type_sql)
    if held is None or new is None or _DECIMAL.fullmatch(new_type_sql.strip()) is None:
        return new_type_sql
    return _holding_both(held, new, new_type_sql)


def _kept_as_text(column: str, held_type_sql: str) -> bool:
    """Whether ``column`` is a kept source column the table holds as text, which takes any new value whole. Why
    allowed: a daily CSV's 'ref' read as VARCHAR one day (a value 'A12') and BIGINT the next (all digits) was refused,
    with an ALTER to BIGINT that fails on the 'A12' the table holds; the scores' own columns must stay numbers."""
    return column.lower() not in SCORE_TYPES and held_type_sql.upper() == "VARCHAR"


# Binary floating point column types, by the bits of whole number each holds exactly (2^53 for a DOUBLE); and the
# bits of each integer type's values. A whole number it would change is an id that joins to another row.
_FLOAT_BITS = {"FLOAT": 24, "REAL": 24, "FLOAT4": 24, "DOUBLE": 53, "FLOAT8": 53}
_INT_BITS = {"TINYINT": 7, "SMALLINT": 15, "INTEGER": 31, "BIGINT": 63, "HUGEINT": 127, "UTINYINT": 8,
             "USMALLINT": 16, "UINTEGER": 32, "UBIGINT": 64, "UHUGEINT": 128}


def _value_checked(new_type_sql: str, held_type_sql: str) -> bool:
    """Whether each value of ``new_type_sql`` written to a ``held_type_sql`` column is checked as it is added
    (``guarded``) rather than the types refused: whole numbers the column may not hold exactly (BIGINT or
    DECIMAL(18,0) into DOUBLE), and a DOUBLE into a FLOAT, which DuckDB refuses beyond its range; rounding a fraction
    to a FLOAT column's precision is what the column is for. An INTEGER into a DOUBLE is exact: not checked."""
    new, held = new_type_sql.strip().upper(), held_type_sql.strip().upper()
    if held not in _FLOAT_BITS:
        return False
    return (_whole_bits(new) or 0) > _FLOAT_BITS[held] or (new in ("DOUBLE", "FLOAT8") and _FLOAT_BITS[held] < 53)


def _whole_bits(type_sql: str) -> float | None:
    """The bits of the whole numbers of an integer type or a DECIMAL without fraction digits (an id read from
    PostgreSQL's NUMERIC(18) or a Parquet decimal: ``DECIMAL(p,0)`` holds up to 10^p); None for other types."""
    if (m := _DECIMAL.fullmatch(type_sql.strip())) is not None:
        return int(m[1]) * math.log2(10) if int(m[2]) == 0 else None
    return _INT_BITS.get(type_sql.strip().upper())


def guarded(expr: str, column: str, held_type_sql: str, new_type_sql: str, into: str, model: str) -> str:
    """``expr`` (a column of ``new_type_sql`` appended to a ``held_type_sql`` column, ``_value_checked``) as a SELECT
    item that fails the INSERT, naming the column, the value, what it would become and the ALTER TABLE that holds
    it, where the column would store another value: a whole number it does not hold exactly (above 2^53 in a DOUBLE),
    or a number beyond its range.

    Why by value: INTEGER ids into a DOUBLE column are exact, BIGINT ones until they pass 2^53, when they were stored
    as other ids, silently (DuckDB's INSERT casts them on its own); refusing the types would stop every job whose ids
    are far below it. Why inside the INSERT: the values are only read there, and its transaction then adds no row."""
    h, whole = held_type_sql.strip().upper(), _whole_bits(new_type_sql) is not None
    stored, lost = f"TRY_CAST({expr} AS {h})", _lost(expr, held_type_sql, new_type_sql)
    table = ".".join(sql_name(p) for p in name_parts(into) or [into.strip()])
    alter = f"ALTER TABLE {table} ALTER COLUMN {sql_name(column)} SET DATA TYPE {new_type_sql}"
    head = (f"{_APPEND_REFUSED} {model!r} to table {into!r}: column {column!r} is {h} in the table and "
            f"{new_type_sql} in the new rows, and the value ")
    # casting in the source is a fix only where the value fits, rounded
    cast = (f"; or, if the {h} value is what you want, cast the column in the source (SELECT CAST({sql_name(column)} "
            f"AS {h}) AS {sql_name(column)}, ...)" if whole else "")
    tail = (f". No row was added. Widen the table's column first: "
            f"{_run_sql(alter, write=True)}{cast}; or write another table ({opt('into')}).")
    said = (f"CASE WHEN {stored} IS NULL THEN ' is beyond the range of {h}' ELSE ' would be stored as ' || "
            f"{stored}::VARCHAR END")
    return (f"CASE WHEN {lost} THEN error({quote_literal(head)} || {expr}::VARCHAR || {said} || "
            f"{quote_literal(tail)}) ELSE {expr} END")


def _lost(expr: str, held_type_sql: str, new_type_sql: str) -> str:
    """The SQL condition that ``expr`` (of ``new_type_sql``) would be stored as another value, or none, in a
    ``held_type_sql`` column (``guarded``)."""
    stored = f"TRY_CAST({expr} AS {held_type_sql.strip().upper()})"
    return (f"TRY_CAST({stored} AS {new_type_sql}) IS DISTINCT FROM {expr}" if _whole_bits(new_type_sql) is not None
            else f"({expr} IS NOT NULL AND {stored} IS NULL)")


# The largest magnitude of a FLOAT, rounded down: a DOUBLE is beyond a FLOAT's range only above it
_FLOAT_MAX = 3.4e38


def _beyond_exact(expr: str, held_type_sql: str, new_type_sql: str) -> str:
    """A SQL condition true of every value of ``expr`` that ``_lost`` may be true of (a whole number above 2^53 for
    a DOUBLE column, 2^24 for a FLOAT; a DOUBLE beyond a FLOAT's range), written as comparisons with constants.

    Why: DuckDB prunes such a comparison where what it knows of the column's range (a table's or a Parquet file's
    statistics, through a view's joins, filters and windows) rules it out, and the check reads no row; the
    condition of ``_lost`` it cannot see through, and a view was run whole, twice, when no value was near the bound."""
    whole = _whole_bits(new_type_sql) is not None
    bound = f"{2 ** _FLOAT_BITS[held_type_sql.strip().upper()]}" if whole else f"{_FLOAT_MAX!r}::DOUBLE"
    return f"({expr} > {bound} OR {expr} < -{bound})"


def check_append_values(con: duckdb.DuckDBPyConnection, source: str, checked: dict[str, tuple[str, str, str]],
                        into: str, model: str) -> None:
    """Raise ``guarded``'s refusal for the first value of the source's ``checked`` columns (``check_append_types``)
    the table would change, reading those columns alone, before any row is scored; the INSERT's own check stays
    for what this cannot see (a source read once, or whose rows change between two reads).

    Why: the refusal came from inside the INSERT, after every row before it was read and scored (rolled back, but
    the user waited for the scoring). Measured on 1M rows (a BIGINT id into a DOUBLE column, a 2-feature model):
    the check takes 2 ms of the append's 190 ms. Where DuckDB knows the values' range (``_beyond_exact``) and it
    holds no changed value, no row is read: a view of a window and a join over 1M rows, 217 ms, now 2 ms.
    """
    if not checked or pysource.reads_once(source):
        return
    guards = ", ".join(guarded(quote_ident(c), *checked[c], into, model) for c in checked)
    lost_sql = " OR ".join(f"({_beyond_exact(quote_ident(c), h, t)} AND {_lost(quote_ident(c), h, t)})"
                           for c, (_, h, t) in checked.items())
    cur = pysource.cursor(con, source)
    try:
        cur.execute(f"SELECT {guards} FROM {source_sql(source)} WHERE {lost_sql} LIMIT 1").fetchall()
    except duckdb.InvalidInputException as e:
        raise append_value_error(e) or e from None
    finally:
        cur.close()


_APPEND_REFUSED = "Cannot append the scores of"


def append_value_error(e: duckdb.Error) -> BadInputError | None:
    """The refusal ``guarded`` raised inside DuckDB, as ours (without DuckDB's "Invalid Input Error: "); else None."""
    text = str(e)
    at = text.find(_APPEND_REFUSED)
    return BadInputError(text[at:]) if isinstance(e, duckdb.InvalidInputException) and at >= 0 else None


def check_append_types(con: duckdb.DuckDBPyConnection, into: str, held: dict[str, tuple[str, str]],
                       written: dict[str, str], model: str) -> dict[str, tuple[str, str, str]]:
    """Refuse appending rows of the column types ``written`` (by name) to the table ``into`` of ``held`` (by
    lowercased name, ``table_types``) where DuckDB would not convert a new value to the table's type on its own, or
    would into a DECIMAL too narrow for it (``_decimal_widening``), naming each column, both types and the ALTER
    TABLE that widens the table.

    Why: INSERT BY NAME casts every new value to the table's type, whatever the two are. Scores into a VARCHAR
    column were stored as text, which sorts '9.5' above '10.2' (the top rows were wrong, silently); BIGINT ids into an
    INTEGER column went in until one passed 2^31, and then DuckDB's "Type INT64 with value ... can't be cast" came
    after every row was scored.

    Returns the columns whose values are checked as they are added instead (``_value_checked``): written name to
    (the table's name of it, its type there, the new rows' type), for ``guarded``."""
    cur = con.cursor()
    bad: list[tuple[str, str, str, str]] = []  # column, the table's type, the new rows', the type to widen to
    checked: dict[str, tuple[str, str, str]] = {}
    try:
        for c, t in written.items():
            if c.lower() not in held or held[c.lower()][1] == t or _kept_as_text(c, held[c.lower()][1]):
                continue
            name, h = held[c.lower()]
            if _value_checked(t, h):
                checked[c] = (name, h, t)
            elif not _casts_implicitly(cur, t, h):
                bad.append((name, h, t, _widened(t, h)))
            elif (wider := _decimal_widening(t, h)) is not None:
                bad.append((name, h, t, wider))
    finally:
        cur.close()
    if not bad:
        return checked
    table = ".".join(sql_name(p) for p in name_parts(into) or [into.strip()])
    said = "; ".join(f"column {c!r} is {h} in the table and {t} in the new rows" for c, h, t, _ in bad)
    alters = "; ".join(f"ALTER TABLE {table} ALTER COLUMN {sql_name(c)} SET DATA TYPE {w}" for c, _, _, w in bad)
    kept = [(c, h) for c, h, _, _ in bad if c.lower() not in SCORE_TYPES]
    cast = ("; or cast the column in the source to the table's type (SELECT " +
            ", ".join(f"CAST({sql_name(c)} AS {h}) AS {sql_name(c)}" for c, h in kept) + ", ...)") if kept else ""
    raise BadInputError(
        f"Cannot append the scores of {model!r} to table {into!r}: {said}. Each new value would be cast to the "
        "table's type, which between these either DuckDB does not do on its own or can fail or drop digits: the "
        "value would change (numbers as text sort as text, digits after the point cut off) or fail the whole append "
        "once every row is scored (a number beyond the column's range). "
        f"Widen the table's column first: {_run_sql(alters, write=True)}{cast}; or "
        f"write another table ({opt('into')}), or overwrite this one ({opt('replace', True)})."
    )


def first_append_error(into: str, source: str, model: str, e: BaseException) -> None:
    """Raise, in place of ``e``, how to start an incremental job when ``e`` is the source failing on the missing
    ``into`` table it reads, and it cannot read the table even made empty with the run's columns (``firstappend``:
    it reads a column the run does not write); else return.

    Why: DuckDB's "Table with name scores does not exist!" said nothing of what the source lacks, nor that the
    first run can select its rows without reading the table."""
    last = (name_parts(into) or [into.strip()])[-1]
    m = re.search(r"Table with name (.+?) does not exist", str(e))
    if not m or m.group(1).strip('"').lower() != last.lower():
        return
    start = (f"ad-duckdb score DB {model.split('@')[0]} TABLE --into {shell_word(into)} --append (with the -c and "
             "--explain of the job)" if pysource.from_command_line() else
             f"ad_duckdb.score(con, {model.split('@')[0]!r}, 'TABLE', into={into!r}, append=True) (with the "
             "columns= and explain= of the job)")
    # a SourceNotFoundError (exit code 6), as any other table a source reads and that does not exist
    raise SourceNotFoundError(
        f"Scoring with {model!r}: table {into!r} does not exist yet, and the source reads it ({shown_source(source)!r}"
        f") for a column an empty table of the columns this run writes would not have (the kept columns and the "
        f"scores). Read only those columns of {into!r} in the source, or start the job with a run whose source "
        f"does not read it (the rows so far), e.g. {start}, then let the job run."
    ) from e


def _run_sql(sql: str, write: bool = False) -> str:
    """A statement to run, as the caller runs one: the SQL itself from Python, ``ad-duckdb sql DB '...'`` (with
    ``--write`` for a change) from the command line."""
    return either(sql, f"ad-duckdb sql DB{' --write' if write else ''} {shell_word(sql)}")
