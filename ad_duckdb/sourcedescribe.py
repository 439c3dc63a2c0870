"""A source's columns and SQL types (``describe``), and when it cannot be read, why, with the fix: a file path, glob
or folder DuckDB took for a table name, a TEMP table, registered DataFrame or open transaction only the caller's
connection sees, a misspelt table, a schema or database that is not there."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import duckdb

from .callerview import check_same_tables, temp_behind_views, temp_refs
from .catalognames import missing_part, quoting_fix
from .closenames import did_you_mean
from .duckerrors import first_part, is_missing_column
from .exceptions import BadInputError, SourceNotFoundError
from .filesearch import searched
from .readhints import one_column_fix, read_fix, said
from .sqltext import is_query, quote_ident, quote_literal, source_sql, sql_name
from .unattached import hint as hint_unattached


def describe(cur: object, source: str, model: str | None = None, caller: object = None, *, training: bool = False
             ) -> list[tuple[str, str]]:
    """Column names and SQL types of a source (``model``: named in the error for a source that cannot be read;
    ``caller``: the connection ``cur`` is a cursor of, to tell a source only it sees from one that does not exist;
    ``training``: ``model`` is the name a train stores, which a source given in its place can be)."""
    source_sql(source)  # checked first, outside the wrapping below: its errors name the source and the fix already
    try:
        rows = cur.execute(f"DESCRIBE SELECT * FROM {source_sql(source)}").fetchall()  # type: ignore[attr-defined]
    except Exception as e:
        from .pysource import from_command_line, python_variables

        who = f"Model {model!r}: c" if model else "C"
        name = source.strip()
        not_read = _path_not_read(name) if isinstance(e, duckdb.CatalogException) else None
        if not_read:  # from None: no table is missing, so nothing about the database (its path) is to blame
            raise SourceNotFoundError(f"{who}annot read the source {name!r}: {not_read}.") from None
        shell = from_command_line()
        frames = python_variables()  # a shell user, or a dbt macro, has no Python variable to offer as a source
        if isinstance(e, duckdb.CatalogException) and caller is not None and caller is not cur:
            only_caller = _only_caller_sees(caller, cur, source)
            if only_caller:
                raise SourceNotFoundError(f"{who}annot read the source {name!r}: {only_caller}.") from e
        tables = _table_names(cur) if isinstance(e, duckdb.CatalogException) else []
        if (isinstance(e, duckdb.CatalogException) and re.fullmatch(r"[A-Za-z_]\w*", name)
                and name.lower() not in {t.lower() for t in tables}):  # a view whose table is gone: DuckDB's own words
            # DuckDB's own "Did you mean" offers catalog tables (ad_models, pg_depend), never a notebook's DataFrame
            from .pysource import frame_names

            maybe = did_you_mean(name, [*frame_names(), *tables] if frames else tables, n=3, cutoff=0.6)
            nor = ", nor as a DataFrame or Arrow table variable in the calling Python code" if frames else ""
            other = ("the name of a pandas or polars DataFrame or Arrow table variable (in quotes: 'df')" if frames
                     else "a file path such as 'tx/*.parquet'")
            swapped = ""
            if training and model and model.lower() in {t.lower() for t in tables}:
                # a first train with NAME and SOURCE the other way round: the name is the table to train on
                swapped = (f" {model!r} is a table of this database and {name!r} is not: the model's name comes first, "
                           "then the source: " + (f"ad-duckdb train DB {name} {model}." if shell
                                                   else f"ad_duckdb.train(con, {name!r}, {model!r}, ...)."))
            raise SourceNotFoundError(
                f"{who}annot read the source {name!r}: it does not exist as a table or view in this database{nor}."
                f"{maybe} Give a table or view name, {other}, a table function such as read_parquet('file.parquet'), "
                f"or a SELECT query.{swapped}"
            ) from e
        gap = (missing_part(cur, name, shell) or quoting_fix(cur, name)  # type: ignore[arg-type]
               if isinstance(e, duckdb.CatalogException) else None)
        if gap:  # schema.table or db.schema.table: the part that is not there, and what is
            raise SourceNotFoundError(f"{who}annot read the source {name!r}: {gap}.") from e
        unattached = hint_unattached(cur, str(e), shell) if isinstance(e, duckdb.CatalogException) else None  # type: ignore[arg-type]
        if unattached:  # a view or query of the source reads a database that is not attached
            raise SourceNotFoundError(f"{who}annot read the source {name!r}: it reads {unattached[0]}, but "
                                      f"{unattached[1]}.") from e
        # a missing table, view or file (catalog / IO error) is told apart from a query that does not run
        missing = isinstance(e, duckdb.CatalogException | duckdb.IOException)
        # Why to the line's last quote: DuckDB does not escape a '"' in the path, so the first one after the opening
        # quote cut the path there ('d2/no"file.csv' was named as 'd2/no')
        m = re.search(r'No files found that match the pattern "(.*)"[ \t]*$', str(e), re.M)
        if m:  # the source named files, as asked; which were looked for, and where, is what helps
            raise SourceNotFoundError(f"{who}annot read the source {source!r}: no file matches {m.group(1)!r}"
                                      f"{_where_read(m.group(1), cur)}.") from e
        fix = read_fix(source, str(e))
        if fix:  # the source is there, DuckDB reads it wrongly: the option that reads it, not other kinds of source
            raise BadInputError(f"{who}annot read the source {source!r}: {fix}. ({said(str(e))}.)") from e
        if is_missing_column(e):  # the source is a query that runs but for a column name: that name is the fix
            # a name given (not a query) is a view whose stored query names a column renamed or dropped since
            fix = ("Fix the column's name in the query." if is_query(source) else "The view's query names a column "
                   f"that is not there: recreate the view (CREATE OR REPLACE VIEW {name} AS ...) or the column it reads.")
            raise SourceNotFoundError(f"{who}annot read the source {source!r}: {first_part(str(e))}. {fix}") from e
        variable = "the name of a DataFrame or Arrow table variable, " if frames else ""
        raise (SourceNotFoundError if missing else BadInputError)(
            f"{who}annot read the source {source!r}: {first_part(str(e))}. Give an existing table or view name, "
            f"{variable}a table function such as read_parquet('file.parquet'), or a SELECT query."
        ) from e
    check_same_tables(caller, cur, source_sql(source), source,  # type: ignore[arg-type]
                      f"Model {model!r}: " if model else "", is_query(source))
    described = [(str(r[0]), str(r[1])) for r in rows]
    one = one_column_fix(cur, source, described)
    if one:
        raise BadInputError(f"{'Model ' + repr(model) + ': c' if model else 'C'}annot read the source {source!r}: {one}.")
    return described


def _where_read(pattern: str, cur: object = None) -> str:
    """Where DuckDB looked for a relative file ``pattern``: the working folder, which a cron job or a scheduler sets
    to another than the shell the path was tried in (and the folders of ``cur``'s file_search_path); nothing for an
    absolute path or a URL."""
    if os.path.isabs(pattern) or re.match(r"[A-Za-z][\w+.-]*://", pattern):
        return ""
    return f" (a relative path, read from the working folder {os.getcwd()}{searched(cur)})"


def _path_not_read(name: str) -> str | None:
    """Why DuckDB did not read ``name``, a file path (a '/' or '\\' in it, which no plain table name has) that does
    not exist, as a file; None for any other name, and for a glob or a file that exists, which DuckDB's own errors
    cover.

    Why: DuckDB reads a path alone as a file only by a known ending (.parquet, .csv, .json, ...). Any other path,
    a misspelt ending too, it took for a table name: "Table with name data/tx.parqet does not exist! Did you mean
    "pg_database"?", a catalog table offered for a file."""
    if is_query(name) or "(" in name or name.startswith(("'", '"')):
        return None
    # a glob or a folder of the working folder (`lake`, as ls shows it) is files, slash or not: no table is so named
    if not re.search(r"[/\\*?]", name) and not Path(name).is_dir():
        return None
    folder = _folder_read(name)
    if folder:
        return folder
    if re.search(r"[*?\[]", name):
        return _glob_not_read(name)
    path = Path(name)
    if path.exists():  # a file of another ending gets DuckDB's own advice (read_csv, read_json or read_parquet)
        return None
    try:
        near = difflib.get_close_matches(path.name, [p.name for p in path.parent.iterdir()], n=1, cutoff=0.75)
    except OSError:  # no such folder, or one we may not list: no name to offer
        near = []
    maybe = f" Did you mean {str(path.parent / near[0])!r}?" if near else ""
    return (f"no file {name!r} exists, nor a table of that name (a relative path is read from the current folder, "
            f"{Path.cwd()}).{maybe} Check the path")


def _glob_not_read(name: str) -> str:
    """Why DuckDB did not read the glob ``name``, which it took for a table name: its ending is none DuckDB reads a
    path alone by (.parquet, .csv, .json, ...), and files it matches are read with a reader named."""
    import glob

    first = next(glob.iglob(name, recursive=True), None)
    if first is None:
        return f"no file matches {name!r}{_where_read(name)}. Check the path and its ending (.parquet, .csv, .json)"
    ending = name.lower().rsplit(".", 1)[-1]
    readers = [r for r in ("parquet", "csv", "json") if r[:3] in ending] or ["parquet", "csv", "json"]
    reads = " or ".join(f"read_{r}({quote_literal(name)})" for r in readers)
    return (f"it matches files ({first!r}, ...), but DuckDB reads a path alone only by a known ending (.parquet, .csv, "
            f".json, ...); read them with {reads}")


# The files a dataset folder holds, by ending: what a glob of the folder reads (Spark's _SUCCESS and .crc files not)
_DATA_ENDINGS = (".parquet", ".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".csv.gz", ".parquet.gz")


def _folder_read(name: str) -> str | None:
    """For a folder given as the source (``out``, ``out/`` or ``out/*``, as Spark or pandas' partition_cols write
    a dataset): that it is one, and the glob that reads its data files; None for any other name.

    Why: DuckDB reads a path alone as a file only by its ending, so a folder was "Table with name out/ does not
    exist! Did you mean "pg_class"?", and ``out/*`` the same; a glob that read the folder's _SUCCESS or .crc files
    would fail on them."""
    base = name[:-2] if name.endswith(("/*", "\\*")) else name
    path = Path(base)
    if not path.is_dir():
        return None
    try:
        top = [p.name for p in path.iterdir() if p.is_file() and not p.name.startswith((".", "_"))]
    except OSError:
        return None
    ending = next((e for e in _DATA_ENDINGS if any(n.lower().endswith(e) for n in top)), None)
    folder = base.rstrip("/\\")
    if ending:
        return (f"{name!r} is a folder; read its files with {quote_literal(f'{folder}/*{ending}')}, a glob of the "
                f"data files it holds (not its _SUCCESS or .crc files)")
    ending = _data_ending_below(path)
    if ending:
        # the folder's own first subfolder as the example: "such as month=3" beside folders year=2026/ misled
        sub = sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
        such = f"{sub[0]}/" if sub and "=" in sub[0] else "month=3"
        return (f"{name!r} is a folder of folders (partitions such as {such}); read its files with "
                f"{quote_literal(f'{folder}/**/*{ending}')}, which reads the folders' key=value names as columns too")
    return f"{name!r} is a folder, and holds no .parquet, .csv or .json file to read"


# Files looked at below a folder given as the source, at most: the hint is on an error path, and a folder as large as
# /usr took 9 s to walk whole
_FOLDER_SCAN = 10_000


def _data_ending_below(path: Path) -> str | None:
    """The ending of the first data file in the folders below ``path``, skipping hidden and ``_`` folders (a writer's
    _temporary/ holds half-written parts, .git/ no data); None when none is found within ``_FOLDER_SCAN`` files."""
    seen = 0
    for _root, dirs, files in os.walk(path, onerror=lambda _e: None):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        for f in files:
            low = f.lower()
            ending = None if f.startswith((".", "_")) else next((e for e in _DATA_ENDINGS if low.endswith(e)), None)
            if ending:
                return ending
        seen += len(files) + 1
        if seen > _FOLDER_SCAN:
            return None
    return None


# The TEMP view con.register makes of a Python object: DuckDB's scan of it, never SQL a user writes
_REGISTERED = re.compile(r"\bAS\s+__duckdb_source_\w+\s*;?\s*$")


def _only_caller_sees(caller: object, cur: object, source: str) -> str | None:
    """Why ``caller`` reads ``source`` while ``cur``, a cursor of it, does not, with the fix; None if ``caller``
    cannot either.

    Why: ad_duckdb reads through cursors of its own, which see neither the caller's TEMP tables and views (a
    DataFrame registered with con.register is one, also behind a plain view) nor what its open transaction (BEGIN
    without COMMIT) created, nor take its USE; "it does not exist" was wrong about a source the caller's own queries
    read.
    """
    here = "SELECT current_database(), current_schema()"
    try:
        caller.execute(f"DESCRIBE SELECT * FROM {source_sql(source)}")  # type: ignore[attr-defined]
        temp = caller.execute(  # type: ignore[attr-defined]
            "SELECT view_name, sql FROM duckdb_views() WHERE temporary UNION ALL "
            "SELECT table_name, NULL FROM duckdb_tables() WHERE temporary").fetchall()
        used, default = caller.execute(here).fetchall()[0], cur.execute(here).fetchall()[0]  # type: ignore[attr-defined]
        # Why of one schema: temp_behind_views follows the names our cursor binds there; a view of the name in
        # another schema (a dbt project's staging.events) stood in for the one read
        views = {str(n).lower(): str(q) for n, q in caller.execute(  # type: ignore[attr-defined]
            "SELECT view_name, sql FROM duckdb_views() WHERE NOT temporary AND NOT internal AND database_name = ? "
            "AND schema_name = 'main'", [default[0]]).fetchall()}
    except duckdb.Error:
        return None
    names = {str(n).lower() for n, _ in temp}
    if is_query(source):  # the TEMP names the query reads (not its CTEs of the name); a query has no view query
        read = temp_refs(cur, source_sql(source), names)  # type: ignore[arg-type]
        hit = next(((n, None if q is None else "") for n, q in temp if read and n.lower() == read[0].lower()), None)
        subject = f"it reads {hit[0]!r}, a" if hit else ""
    else:
        last = re.split(r"\s*\.\s*", source.strip())[-1].strip('"').lower()
        hit = next(((n, q) for n, q in temp if n.lower() == last), None)
        subject = "it is a"
    behind = temp_behind_views(cur, source_sql(source), names, views) if hit is None else None  # type: ignore[arg-type]
    if behind is not None:
        hit = next(((n, None if q is None else "") for n, q in temp if n.lower() == behind[1].lower()), None)
        subject = f"it reads {hit[0]!r} (through the view {behind[0]!r}), a" if hit else ""
    if hit is not None and hit[1] is not None and _REGISTERED.search(next(q or "" for n, q in temp if n == hit[0])):
        return (f"{subject} DataFrame (or other Python object) registered on your connection (con.register), which "
                "only that connection sees, and ad_duckdb reads through a cursor of its own. Create a table from it "
                f"(CREATE TABLE {quote_ident(hit[0] + '_table')} AS SELECT * FROM {quote_ident(hit[0])}) and read "
                "that, or pass the DataFrame itself: the name of its Python variable as the source")
    if hit is not None and hit[1] is not None:
        m = re.match(r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?TEMP(?:ORARY)?\s+VIEW\s+.*?\s+AS\s+(.*?);?\s*$", hit[1], re.I | re.S)
        query = f", or pass its query as the source: {' '.join(m.group(1).split())!r}" if m else ""
        return (f"{subject} TEMP view, which only the connection that created it sees, and ad_duckdb reads through "
                f"a cursor of its own. Create it as a plain view (CREATE VIEW {quote_ident(hit[0])} AS ...){query}")
    if hit is not None:
        return (f"{subject} TEMP table, which only the connection that created it sees, and ad_duckdb reads through "
                f"a cursor of its own. Create it as a plain table (CREATE TABLE {quote_ident(hit[0])} AS ..., "
                "without TEMP)")
    if used != default:
        schema = f"{sql_name(used[0])}.{sql_name(used[1])}"
        how = (f" of the tables it reads: FROM {schema}.table" if is_query(source)
               else f" in the source: {schema}.{source.strip()}")
        return (f"this connection reads it in {schema} (after USE), but ad_duckdb reads through a cursor of its own, "
                f"which starts in {sql_name(default[0])}.{sql_name(default[1])}. Name the database and schema{how}")
    return ("what it reads was created in this connection's open transaction (BEGIN without COMMIT), which other "
            "cursors do not see until it commits, and ad_duckdb reads through a cursor of its own. COMMIT first, "
            "then train or score")


def _table_names(cur: object) -> list[str]:
    """The user's tables and views (not the catalog's own, nor the model tables), for a did-you-mean."""
    try:
        rows = cur.execute(  # type: ignore[attr-defined]
            "SELECT table_name FROM duckdb_tables() WHERE NOT internal UNION "
            "SELECT view_name FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
    except duckdb.Error:
        return []
    return [r[0] for r in rows if not str(r[0]).startswith("ad_")]
