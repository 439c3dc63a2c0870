"""Feature specs: which columns a model reads, how each is transformed, and the missing-value policy.

Policy (documented in the README, tested in tests/test_features.py):

* NULL and NaN are replaced by the column's training median at training time (training reports how many
  values were filled); at scoring time a missing value takes its column's most typical value beside the row's
  others (missing.fill_missing), so the row is judged on the values it has.
* +Inf / -Inf are kept as "extremely large": after scaling, every value is clipped to
  ``[-CLIP, CLIP]`` robust units, so the score is large but finite.
* A column that is constant, entirely NULL, or not numeric is refused with an error naming it; so is one
  whose training values exceed 1e38 (the model computes in float32): rescale it in the query.
* Without a feature list, every numeric column is a feature except id-like ones (``default_features``); what
  was left out, and why, is reported as an ``AdDuckDBWarning``.
* Fewer than ``MIN_TRAIN_ROWS`` training rows are refused; fewer than ``FEW_TRAIN_ROWS`` get a warning.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shlex
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import duckdb
import numpy as np

from . import jsonvalues, notes
from .callerview import check_same_tables, temp_behind_views, temp_refs
from .catalognames import missing_part, quoting_fix
from .dbtrun import empty_run_hint
from .exceptions import (
    BadInputError,
    ConstantColumnsError,
    NoRowsError,
    SourceNotFoundError,
    UnusableColumnsError,
    is_interrupt,
)
from .filesearch import searched
from .heavytail import HEAVY_TAIL_SKEW, heavy_tailed  # noqa: F401  (the limit, read here before)
from .optionwords import FIT, SURFACE, either, features_opt, no_value_refused, opt
from .progress import RowProgress
from .readhints import TOTALS, one_column_fix, read_fix, said
from .sqltext import (
    is_query,
    py_text,
    quote_ident,
    quote_literal,
    shell_word,
    source_sql,
    sql_name,
    sql_names,
    sql_tokens,
    strip_sql_ends,
    where_sql,
)
from .texttimes import compares_as_text, either_way, strptime_expr, text_time_formats
from .totalsrow import TotalsWatch, column_total_words, words_left_out
from .unattached import hint as hint_unattached

if TYPE_CHECKING:  # filecols imports this module
    from .filecols import Compared

CLIP = 1000.0
# the sql_type fit_specs gives a text column's 0/1 input (categorical.py)
SLOT_TYPE = "CATEGORY SLOT"
# Which columns take the signed log (a long tail turned into a scale the network can learn): heavytail.py
# Training values must stay well inside float32 (max 3.4e38), the precision the exported model computes in.
FLOAT32_SAFE = 1e38

# Why 20: below it the scaling (median, IQR) and the thresholds (quantiles of the training scores) rest on a
# handful of rows, and the latent bank has fewer than 2 centroids (trainer.CENTROID_ROWS rows each) or groups
# of fewer than 2 codes; a model of 2 rows was stored with a threshold flagging half of them.
MIN_TRAIN_ROWS = 20
# Below this, no rows are held out for early stopping under 50 (trainer.fit_ensemble) and the default
# threshold (contamination 1%) cannot flag fewer than one training row in this many: trained, with a warning.
FEW_TRAIN_ROWS = 100

# The training range is [min, max] of rows known to be normal. Why quantiles for unlabelled data:
# they contain the anomalies themselves, and a range stretched to include them never calls them out.
RANGE_QUANTILE_UNLABELLED = 0.005

_INTEGER = re.compile(r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|INT\d*)$",
                      re.IGNORECASE)
# a DECIMAL(38,0) holds integers (Spark writes a HUGEINT or a long id so, and an Oracle NUMBER(p))
_WHOLE_DECIMAL = re.compile(r"(?i)^(DECIMAL|NUMERIC)\(\d+,\s*0\)$")
_NUMERIC = re.compile(
    r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|"
    r"FLOAT|DOUBLE|REAL|DECIMAL(\(\d+,\s*\d+\))?|NUMERIC(\(\d+,\s*\d+\))?|INT\d*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FeatureSpec:
    """One model input: its column name, SQL type, transform and fitted constants."""

    name: str
    sql_type: str
    transform: str  # 'none' or 'slog' (sign(x) * log1p(|x|))
    fill: float  # raw training median, used for NULL / NaN
    center: float  # median of the transformed column
    scale: float  # robust spread of the transformed column
    lo: float  # low end of the training range in scaled units
    hi: float  # high end of the training range in scaled units
    # a text column's 0/1 input (transform 'onehot'): the value it stands for (categorical.py); None otherwise
    category: str | None = None

    def to_json(self) -> dict[str, object]:
        d = asdict(self)
        if self.category is None:  # a numeric feature's JSON stays as it was before text features
            del d["category"]
        return d

    @classmethod
    def from_json(cls, d: dict[str, object]) -> FeatureSpec:
        return cls(
            name=str(d["name"]),
            sql_type=str(d["sql_type"]),
            transform=str(d["transform"]),
            fill=float(d["fill"]),  # type: ignore[arg-type]
            center=float(d["center"]),  # type: ignore[arg-type]
            scale=float(d["scale"]),  # type: ignore[arg-type]
            lo=float(d["lo"]),  # type: ignore[arg-type]
            hi=float(d["hi"]),  # type: ignore[arg-type]
            category=None if d.get("category") is None else str(d["category"]),
        )


def specs_to_json(specs: Sequence[FeatureSpec]) -> str:
    return json.dumps([s.to_json() for s in specs])


def specs_from_json(text: str) -> list[FeatureSpec]:
    return [FeatureSpec.from_json(d) for d in jsonvalues.loads(text)]


def close_names(name: str, candidates: Sequence[str], n: int = 2, cutoff: float = 0.75) -> list[str]:
    """The ``candidates`` close to a misspelt ``name`` (any case), closest first: those a swap of two neighbouring
    letters makes of it, then difflib's.

    Why swaps first: difflib's ratio of a short name with two letters swapped ('dya' for 'day': 0.67, 'st' for 'ts':
    0.5) is under any cutoff that keeps unrelated short names out, and a swap is the commonest typo."""
    by_lower = {c.lower(): c for c in candidates}
    low = name.lower()
    swaps = {low[:i] + low[i + 1] + low[i] + low[i + 2:] for i in range(len(low) - 1)} - {low}
    close = [c for c in by_lower if c in swaps]
    close += [c for c in difflib.get_close_matches(low, list(by_lower), n=n, cutoff=cutoff) if c not in close]
    return [by_lower[c] for c in close[:n]]


def did_you_mean(name: str, candidates: Sequence[str], n: int = 2, cutoff: float = 0.75) -> str:
    """" Did you mean 'amount'?" for a misspelt name with a close match among ``candidates`` (any case), else ""."""
    close = close_names(name, candidates, n, cutoff)
    return f" Did you mean {' or '.join(map(repr, close))}?" if close else ""


def is_missing_column(e: BaseException) -> bool:
    """Whether DuckDB refused a query for a column that is not there (a misspelt name in a filter or a query).

    Why a rule of its own: such a read is "no such column" (``SourceNotFoundError``, CLI exit code 6), as a
    misspelt feature name is, not an error of any other kind.
    """
    return isinstance(e, duckdb.BinderException) and "Referenced column" in str(e)


def first_part(duckdb_message: str) -> str:
    """DuckDB's message without its "LINE 1: ..." excerpt, which quotes the query we wrapped the user's in."""
    return duckdb_message.split("\nLINE ")[0].strip().rstrip(".")


def is_numeric_type(sql_type: str) -> bool:
    return bool(_NUMERIC.match(sql_type.strip()))


def describe(cur: object, source: str, model: str | None = None, caller: object = None) -> list[tuple[str, str]]:
    """Column names and SQL types of a source (``model``: named in the error for a source that cannot be read;
    ``caller``: the connection ``cur`` is a cursor of, to tell a source only it sees from one that does not exist)."""
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
            raise SourceNotFoundError(
                f"{who}annot read the source {name!r}: it does not exist as a table or view in this database{nor}."
                f"{maybe} Give a table or view name, {other}, a table function such as read_parquet('file.parquet'), "
                "or a SELECT query."
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


# Why a UUID gets no number: one said where training refuses the column and where a SQL function is given one
UUID_IS_AN_ID = "an id, which tells rows apart rather than describing them: leave it out of the features"


# A column name, quoted or not, or a dotted chain of them: what `::`, `.` and `=` may follow without parentheses
_SIMPLE_OPERAND = re.compile(r'(?:\w+|"(?:[^"]|"")+")(?:\.(?:\w+|"(?:[^"]|"")+"))*')


def as_number_hint(column: str, sql_type: str) -> str:
    """How to turn a non-numeric column (or an expression) into a number, by its type (a cast only works for some).

    Why two spellings: an expression goes in parentheses before `::`, `.`, `[` or `=` (count > 3::INTEGER would cast
    3 alone), but not inside a function's own (epoch((ts + INTERVAL 1 DAY)) reads as a mistake)."""
    op = column if _SIMPLE_OPERAND.fullmatch(column) else f"({column})"
    t = sql_type.upper()
    if t.startswith("INTERVAL"):
        return f"epoch({column}) gives its length in seconds"
    if is_point_in_time(sql_type):
        return point_in_time_hint(column, sql_type)
    if t.startswith(("DATE", "TIME")):
        return f"epoch({column}) gives its seconds (since 1970, for dates and times)"
    if t.startswith("ENUM"):
        return (f"({op} = 'a value')::INTEGER gives a 0/1 column per category (enum_code({column}) a number, "
                "if the categories are ordered)")
    if t == "BOOLEAN":
        return f"{op}::INTEGER gives 1 for true and 0 for false"
    if t == "VARCHAR":  # CAST fails on words ('web') and on "N/A": say what works for each
        return (f"TRY_CAST({column} AS DOUBLE) reads numbers written as text, ({op} = 'a value')::INTEGER "
                "makes a 0/1 column of a word")
    # Why these: CAST(... AS DOUBLE), the advice for other types, fails on every value of them.
    if t == "UUID":
        return f"a UUID is {UUID_IS_AN_ID}"
    if t in ("BIT", "BITSTRING"):  # CAST(... AS DOUBLE) reads a bitstring's bits as a float's: tiny nonsense
        return f"CAST({column} AS BIGINT) reads its bits as a whole number (up to 64; bit_count({column}) counts those set)"
    if t in ("BLOB", "BYTEA") or t.startswith("BLOB"):
        return f"octet_length({column}) gives its size in bytes"
    if t.endswith("]"):
        return f"len({column}) gives its length, list_sum({column}) or {op}[1] a number of its items"
    if t.startswith("STRUCT"):
        first = re.match(r"(?i)STRUCT\(\s*(\"(?:[^\"]|\"\")+\"|\w+)", sql_type)
        return f"{op}.{first.group(1) if first else 'field'} picks one of its fields (a number), by name"
    if t.startswith("MAP"):
        return f"cardinality({column}) gives its number of entries, {op}['key'] the value of one key"
    if t == "JSON":  # CAST fails on an object, the usual JSON value
        return f"TRY_CAST({column} AS DOUBLE) reads a JSON number, ({op}->>'$.key')::DOUBLE one of an object's values"
    return f"CAST({column} AS DOUBLE)"


def as_number_expr(column: str, sql_type: str) -> str | None:
    """The SQL expression that reads a BOOLEAN, date or time column as a number (``column`` quoted); None for other
    types, which have no one expression that fits."""
    t = sql_type.upper()
    if t == "BOOLEAN":
        return f"{column}::INTEGER"
    if t.startswith(("DATE", "TIME", "INTERVAL")):
        return f"epoch({column})"
    return None


def point_in_time_hint(column: str, sql_type: str) -> str:
    """How to score a DATE or TIMESTAMP argument (``column`` as written in the call): the expression the model was
    trained with, the one training suggests for such a column as the example.

    Why not epoch(): training refuses a point in time and takes its day of the week or hour of the day; epoch
    seconds, the advice before, lie far beyond such a model's training range and flagged every row scored."""
    expr = _cycle_expr(column, sql_type)
    what = "its day of the week" if sql_type.strip().upper() == "DATE" else "its hour of the day"
    kind = "a date" if sql_type.strip().upper() == "DATE" else "a timestamp"
    return (f"the expression the model was trained with, e.g. {expr}, {what}, as training takes {kind} (not "
            f"epoch({column}), unless the model was trained on it: its seconds rise with time, past the training range)")


def as_number_query(column: str, sql_type: str, source: str) -> str | None:
    """``SELECT * REPLACE (<expr> AS column) FROM source`` for a BOOLEAN, date or time column, so the column keeps
    its name and scoring takes the same expression; None for other types. A DATE or TIMESTAMP gets the expression
    training suggests for it (``_cycle_expr``), not epoch(): see ``point_in_time_hint``."""
    c = quote_ident(column)
    expr = _cycle_expr(c, sql_type) if is_point_in_time(sql_type) else as_number_expr(c, sql_type)
    if expr is None:
        return None
    src = _from_item(source)
    t = sql_type.upper()
    what = (" (1 for true, 0 for false)" if t == "BOOLEAN" else " (its length in seconds)" if t.startswith("INTERVAL")
            else " (its day of the week)" if t.strip() == "DATE" else " (its hour of the day)"
            if is_point_in_time(sql_type) else " (its seconds)")
    return f"SELECT * REPLACE ({expr} AS {c}) FROM {src}{what}"


def _from_item(source: str) -> str:
    """``source`` as the FROM item of a query we suggest: a query in parentheses, a table or table function as is."""
    return f"({strip_sql_ends(source)})" if is_query(source) else source_sql(source)


def is_point_in_time(sql_type: str) -> bool:
    """A DATE or TIMESTAMP (with or without zone, any precision): a moment, not a time of day (TIME) or a duration.
    One test for both uses: a column refused as a feature is one the scores-over-time plot takes (``timeplot``)."""
    t = sql_type.strip().upper()
    return t == "DATE" or t.startswith("TIMESTAMP")


def _cycle_expr(column: str, sql_type: str, cur: object = None) -> str:
    """What repeats in a DATE (its day of the week) or a TIMESTAMP (its hour of the day), ``column`` quoted; a
    TIMESTAMP WITH TIME ZONE read in the zone of ``cur``'s session, named in the expression.

    Why named: hour() of a zoned timestamp is the hour in the zone of whichever session runs it, so a model trained
    on a server in New York and scored from a notebook in Berlin read every row's hour 6 hours off."""
    if sql_type.strip().upper() == "DATE":
        return f"dayofweek({column})"
    if "WITH TIME ZONE" in sql_type.upper():
        column = f"timezone({quote_literal(_session_zone(cur))}, {column})"
    return f"hour({column}) + minute({column}) / 60"


def _session_zone(cur: object) -> str:
    """The TimeZone setting of ``cur``'s session (UTC without one to ask)."""
    try:
        return str(cur.execute("SELECT current_setting('TimeZone')").fetchall()[0][0])  # type: ignore[attr-defined]
    except Exception:  # no cursor, or one that cannot run a query now: a fixed zone still reads the same everywhere
        return "UTC"


def _point_in_time_error(column: str, sql_type: str, source: str, cur: object = None) -> BadInputError:
    """A DATE or TIMESTAMP named as a feature: not the epoch() query the other date types get.

    Why: epoch seconds rise with time, so a model trained on them scores every later row as out of its training
    range (trained on the first 20 minutes of a SKAB valve run, it flagged 93% of the next 25 minutes' normal rows,
    against 42% without). What repeats is the time of day, or the day of the week."""
    c = quote_ident(column)
    src = _from_item(source)
    expr = _cycle_expr(c, sql_type, cur)
    if sql_type.strip().upper() == "DATE":
        what, cycle, span = "its day of the week, 0 for Sunday", "weekly", "whole weeks"
    else:
        what, cycle, span = "its hour of the day", "daily", "whole days"
    return BadInputError(
        f"Column {column!r} of {source!r} is {sql_type}, not numeric. A point in time is not a measurement: as a number "
        f"(epoch({c}), its seconds) it rises with time, so every row later than the training rows would score as out "
        f"of the training range. Drop it from features (it stays in the table for ORDER BY, windows and GROUP BY "
        f"date_trunc(...)). If a {cycle} cycle matters and the training rows span {span}, train on a query "
        f"that takes {what}, SELECT * REPLACE ({expr} AS {c}) FROM {src}, and score with the same expression: {expr}."
    )


def _unquoted(name: str) -> str:
    """``name`` without SQL's double quotes around it (``"Amount"`` -> ``Amount``, ``"a""b"`` -> ``a"b``), else as
    given."""
    s = name.strip()
    if len(s) >= 2 and s[0] == s[-1] == '"' and '"' not in s[1:-1].replace('""', ""):
        return s[1:-1].replace('""', '"')
    return name


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


def choose_columns(
    columns: list[tuple[str, str]], features: Sequence[str] | None, source: str, cur: object | None = None,
    where: str | None = None,
) -> list[tuple[str, str]]:
    """Pick the feature columns, checking that each exists and is numeric (``cur``: to read a text column's values
    for the query that reads them as numbers)."""
    by_lower = {name.lower(): (name, t) for name, t in columns}
    if features is None:
        chosen = [(n, t) for n, t in columns if is_numeric_type(t)]
        if not chosen:
            listing = ", ".join(f"{sql_name(n)} {t}" for n, t in columns)
            header = header_again(cur, source, [n for n, t in columns if t.upper() == "VARCHAR"])
            if header:
                raise BadInputError(f"The source {source!r} has no numeric column to train on (columns: {listing}): "
                                    f"{header}")
            raise BadInputError(
                f"The source {source!r} has no numeric column to train on (columns: {listing}). "
                "Cast columns to a number in a query, e.g. SELECT CAST(x AS DOUBLE) AS x FROM ..."
            )
        return chosen
    if isinstance(features, str):
        features = [features]
    if len(features) == 0:
        raise BadInputError("features=[] names no column: pass the numeric columns to train on.")
    # A name quoted as in SQL ('"Amount"', CLI -f '"Amount"') is that column, unless a column is called so, quotes
    # and all. Why: it was "Column '\"Amount\"' is not in ...; its columns are: Amount".
    features = [f if f.lower() in by_lower else _unquoted(f) for f in features]
    if len({f.lower() for f in features}) != len(features):
        raise BadInputError(f"features={list(features)!r} names a column twice; list each column once.")
    out = []
    not_numeric: list[tuple[str, str]] = []
    text: list[tuple[str, str]] = []
    for f in features:
        hit = by_lower.get(f.lower())
        if hit is None:
            known = sql_names(n for n, _ in columns)
            parts = [p.strip() for p in f.split(",")]
            listed = ""
            if len(parts) > 1 and all(p.lower() in by_lower for p in parts):
                # the command line's -f count,amount habit: in Python one entry is one column's name
                meant = [q for g in features for q in (parts if g == f else [g])]
                listed = f" features= takes one name per entry: features={meant!r}."
            from .filecols import later_column_fix

            hint = listed or later_column_fix(cur, source, [f]) or did_you_mean(f, [n for n, _ in columns])
            raise SourceNotFoundError(f"Column {f!r} is not in {source!r}; its columns are: {known}.{hint}")
        if not is_numeric_type(hit[1]):
            if _words_column(hit, source, cur, where):
                text.append(hit)  # a categorical feature (categorical.py), after the numeric ones
                continue
            not_numeric.append(hit)
            continue
        out.append(hit)
    if len(not_numeric) == 1:
        raise _not_numeric_error(*not_numeric[0], source, cur, where)
    if not_numeric:
        # Why all in one: `-f count -f has_refund -f channel` named has_refund, and channel only on the next run
        shown = not_numeric[:_FIXES_SHOWN]
        fixes = " ".join(f"({i}) {_not_numeric_error(n, t, source, cur, where)}" for i, (n, t) in enumerate(shown, 1))
        rest = not_numeric[_FIXES_SHOWN:]
        more = f" And {len(rest)} more: {', '.join(f'{n!r} {t}' for n, t in rest)}." if rest else ""
        listed = ", ".join(f"{n!r} {t}" for n, t in not_numeric)
        raise BadInputError(f"{len(not_numeric)} feature columns of {source!r} are not numeric ({listed}); each with "
                            f"its fix: {fixes}{more}")
    if text and not out:
        listed = ", ".join(f"{n!r} {t}" for n, t in text)
        raise BadInputError(f"features= names only text columns of {source!r} ({listed}); a model needs at least one "
                            "numeric feature beside them (DuckDB reads a function's first feature argument as a "
                            "number): add one, such as an amount or a count.")
    return out + text


def _words_column(col: tuple[str, str], source: str, cur: object | None, where: str | None) -> bool:
    """Whether a named feature column is text a model reads as categories: VARCHAR or ENUM whose values are not
    numbers written as text (those keep their own hint: they are read as numbers in a query)."""
    from .categorical import is_text_type

    if cur is None or not is_text_type(col[1]):
        return False
    return not (col[1].upper() == "VARCHAR" and text_number_hint(cur, source, col[0], where))


# Non-numeric feature columns given their fix in full in one error; the rest are named (each fix may read the column).
_FIXES_SHOWN = 5


def _not_numeric_error(column: str, sql_type: str, source: str, cur: object | None,
                       where: str | None) -> BadInputError:
    """The error for a feature column that is not numeric, with the fix its type takes (``cur``: to read a text
    column's values for the query that reads them as numbers)."""
    as_text = text_number_hint(cur, source, column, where) if cur is not None and sql_type.upper() == "VARCHAR" \
        else None
    if as_text:  # a CSV column of numbers with "N/A" or "1,234.50" in it: CAST would fail on those
        return BadInputError(f"Column {column!r} of {source!r} is {sql_type}, not numeric, but {as_text}.")
    if is_point_in_time(sql_type):
        return _point_in_time_error(column, sql_type, source, cur)
    query = as_number_query(column, sql_type, source)
    if query:  # the whole query, so the column keeps its name and scoring takes the same expression
        return BadInputError(
            f"Column {column!r} of {source!r} is {sql_type}, not numeric. Drop it from features, or train on a "
            f"query that turns it into a number, {query}, and score with the same expression: "
            f"{as_number_expr(quote_ident(column), sql_type)}."
        )
    if sql_type.strip('"').upper() == "NULL":  # a bare NULL in a query: no value to turn into a number
        return BadInputError(f"Column {column!r} of {source!r} is of SQL type NULL (a bare NULL in the query), so it "
                             "has no non-NULL value and tells no row from another; leave it out of features, or "
                             "train on an expression or rows that give it values.")
    if sql_type.upper() == "UUID":  # no number describes a row by its id
        return BadInputError(f"Column {column!r} of {source!r} is UUID, {UUID_IS_AN_ID}.")
    return BadInputError(
        f"Column {column!r} of {source!r} is {sql_type}, not numeric. Drop it from features, "
        f"or turn it into a number in a query: {as_number_hint(quote_ident(column), sql_type)}."
    )


_ID_NAME = re.compile(r"(^|[_\s.-])id$", re.IGNORECASE)  # id, transaction_id, USER_ID, a CSV header's Merchant ID
_CAMEL_ID = re.compile(r"[a-z0-9]I[dD]$")  # merchantId, customerID (not PAID, valid)
# a row's number or key: Transaction_No, 'Invoice Number', order_nr, 'Beleg Nr.', TxnNo, InvoiceNumber (not Casino,
# 'Number of cards'); an id only with a distinct value in every row, as a count of things named so has repeats
_NUMBER_NAME = re.compile(r"(?i:(^|[_\s.-])(no|nr|num|number)\.?)$|[a-z0-9](No|Nr|Num|Number)$")
# a row index written out (pandas' to_parquet: '__index_level_0__' for an index that is not a plain range)
_INDEX_NAME = re.compile(r"(?i)index|idx|unnamed: ?0|level_0|rowid|row_?num(ber)?|__index_level_\d+__")
_LISTED = 10  # columns named in a note before "and N more"
# names a label column goes by (label, class, is_fraud, y, ...), for the note when one would be a default feature
_LABEL_NAME = re.compile(r"(?i)(is_)?(label|class|target|y|outlier|anomaly|anomalous|fraud|fraudulent|ground_truth)"
                         r"(_?(label|flag))?")
# Words that name a label wherever they stand among a name's word parts (FraudFound_P, isFraud, isFlaggedFraud,
# outlier_label, Anomaly). Why not 'class' or 'y' there too: business_class or y_pos are ordinary columns; those two
# count only as the whole name (_LABEL_NAME).
_LABEL_WORDS = frozenset({"label", "labels", "target", "outlier", "outliers", "anomaly", "anomalies", "anomalous",
                          "fraud", "fraudulent", "frauds"})
# A name's word parts: split at '_', '-', spaces and dots, and where camelCase turns (isFraud, FraudFound_P).
_WORD_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def named_like_label(name: str) -> bool:
    """Whether a column's name reads as a label's: a whole label name (label, Class, is_fraud, y), or one of
    ``_LABEL_WORDS`` among its word parts (FraudFound_P, isFraud, fraud_flag, outlier_label)."""
    if _LABEL_NAME.fullmatch(name):
        return True
    return any(w.lower() in _LABEL_WORDS for w in _WORD_PART.findall(name))


def is_integer_type(sql_type: str) -> bool:
    return bool(_INTEGER.match(sql_type.strip()))


EPOCH_RISING = "rising row by row, with values of epoch seconds, a point in time as a number"
# Epoch times of 1973 to 2286 in seconds, or in milli-, micro- or nanoseconds
_EPOCH_BANDS = ((1e8, 1e10), (1e11, 1e13), (1e14, 1e16), (1e17, 1e19))


def _rises(values: np.ndarray) -> bool:
    """Whether ``values``, in row order, rise from every row to the next (none missing)."""
    return len(values) >= 2 and not np.isnan(values).any() and bool(np.all(np.diff(values) > 0))


def epoch_like(values: np.ndarray) -> bool:
    """Whether every value lies where epoch times of 1973 to 2286 do, in one unit (seconds to nanoseconds)."""
    given = values[np.isfinite(values)]
    if len(given) < 2:
        return False
    lo, hi = float(given.min()), float(given.max())
    return any(a <= lo and hi <= b for a, b in _EPOCH_BANDS)


def epoch_features(names: Sequence[str], X: np.ndarray, rising: np.ndarray | None) -> list[str]:
    """The features that are a point in time as a number (``epoch(ts) AS t``): rising row by row over the training
    rows (``rising``, for a source read as a sample; else judged from ``X`` in row order), with values of epoch
    times."""
    return [n for j, n in enumerate(names)
            if epoch_like(X[:, j]) and (bool(rising[j]) if rising is not None else _rises(X[:, j]))]


# What to train on instead: in SQL for ad_duckdb.train, in pandas for AutoEncoderDetector.fit
_EPOCH_FIX_SQL = ("Leave it out of the features; for a daily cycle, train on the hour of the day, hour(ts) + minute(ts) "
                  "/ 60 (ts the timestamp it was made from), and for the time between readings, ts - lag(ts) OVER "
                  "(ORDER BY ts).")


def warn_epoch_features(names: Sequence[str], X: np.ndarray, rising: np.ndarray | None, *, model: str | None = None,
                        fit: bool = False, frame: bool = True) -> None:
    """Say which features named to train on are a point in time as a number (``epoch_features``): ``model``'s
    (``ad_duckdb.train``, whose fix is SQL) or, ``fit``, ``AutoEncoderDetector.fit``'s (a pandas fix, or a numpy
    one without ``frame``).

    Why: a TIMESTAMP named as a feature is refused with the hour-of-day query, but its epoch() seconds, a DOUBLE,
    trained without a word, and every row later than the training rows then lay beyond the training range (73% of
    the next two days' readings of NAB's machine_temperature, labelled normal, flagged, against 2% without it)."""
    if SURFACE.get() == FIT:  # train of a frame fit trains through a table of its own (detectorfit.py): said of X
        fit, frame = True, True
    for n in epoch_features(names, X, rising):
        j = list(names).index(n)
        col = f"X[{n!r}]" if frame else f"X[:, {j}]"
        fix = _EPOCH_FIX_SQL if not fit else (
            f"Leave it out ({f'X.drop(columns=[{n!r}])' if frame else f'np.delete(X, {j}, axis=1), column {j}'}); "
            f"for a daily cycle, fit on the hour of the day (({col} // 3600) % 24 for seconds), and for the time "
            f"between readings, {f'{col}.diff()' if frame else f'np.diff({col}, prepend=np.nan)'}.")
        notes.warn(
            f"{'AutoEncoderDetector.fit' if fit else f'Model {model!r}'}: feature {n!r} rises row by row in every "
            "training row, with values of epoch seconds (or milli-, micro- or nanoseconds): a point in time as a "
            f"number, so every row later than the training rows lies beyond its training range and scores as "
            f"anomalous. {fix}",
        )


def id_named(name: str) -> bool:
    """Whether a column's name reads as an id: ``id``, ``*_id`` (``* ID``, ``*-id``) or ``*Id``."""
    return bool(_ID_NAME.search(name) or _CAMEL_ID.search(name))


def id_like(name: str, sql_type: str, values: np.ndarray | None = None, rising: bool | None = None) -> str | None:
    """Why an integer column looks like an id (a row key, not a measurement), or None.

    Named ``id``, ``*_id`` (or ``* ID``, ``*-id``, as a CSV header writes it) or ``*Id`` (an integer, a DECIMAL(p,0)
    or whole numbers in a DOUBLE, as Parquet holds a HUGEINT id); or distinct integers that
    rise from row to row (a sequence or a timestamp counter), judged from its training ``values`` in row order or,
    for a source read in one pass, given as ``rising``. Why leave these out of default features: an id tells rows
    apart rather than describing them, and new rows bring ids beyond the training range, which the model then scores
    as out of range.
    """
    if not is_integer_type(sql_type) and not _WHOLE_DECIMAL.match(sql_type.strip()):
        # A row index written out with the data reads back as DOUBLE (pandas' 'Unnamed: 0', a CSV's 'Index' of 1.0,
        # 2.0, ...): as a feature it tells rows apart by where they sat in the file, which can be by label.
        if (_INDEX_NAME.fullmatch(name) and values is not None and len(values)
                and bool(np.all(np.isfinite(values) & (np.mod(values, 1.0) == 0)))):
            return "named like a row index, with whole-number values"
        # So does an id: DuckDB writes a HUGEINT to Parquet as DOUBLE, and pandas an integer column with a missing
        # value as float64. Why by name only: whole numbers rising row by row in a DOUBLE may be a running total.
        given = values[~np.isnan(values)] if values is not None else None
        if ((_ID_NAME.search(name) or _CAMEL_ID.search(name)) and given is not None and len(given)
                and bool(np.all(np.isfinite(given) & (np.mod(given, 1.0) == 0)))):
            return "named like an id"
        # DuckDB's epoch(ts) is a DOUBLE: as a feature, every row later than the training rows lay beyond its range
        if values is not None and epoch_like(values) and (_rises(values) if rising is None else rising):
            return EPOCH_RISING
        return None
    if _ID_NAME.search(name) or _CAMEL_ID.search(name) or _INDEX_NAME.fullmatch(name):
        return "named like an id"
    if rising is None and values is not None:
        rising = _rises(values)
    if rising:
        return "distinct integers rising row by row"
    # Why also out of row order: a CSV's Transaction_No read after a sort by date, or a shuffled export, rises by
    # no row order, and trained as a feature without a word; new rows' numbers lie beyond the training range
    if _NUMBER_NAME.search(name.strip()) and values is not None:
        given = values[~np.isnan(values)]
        if len(given) >= 2 and len(np.unique(given)) == len(given):
            return "named like a row number, a distinct value in every row"
    return None


def _listed_features() -> str:
    """How to list the features, in the caller's spelling."""
    return either("features=[...]", "-f COLUMN, once per column")


def cli_feature_flags(names: Sequence[str]) -> str:
    """``-f a -f 'b c'``: the command-line options that name these features (quoted for a shell)."""
    return " ".join(f"-f {shlex.quote(n)}" for n in names)


def listing(items: Sequence[str]) -> str:
    """``a, b, c and 7 more``: the first ten items, the rest counted (a wide table's 1,555 names are not read)."""
    more = len(items) - _LISTED
    return ", ".join(items[:_LISTED]) + (f" and {more} more" if more > 0 else "")


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


# A text column with at most this many distinct values (in the rows read) is treated as categories in the hint.
_CATEGORY_MAX = 50


def text_values(cur: object, source: str, column: str, where: str | None = None) -> list[tuple[str, int]] | None:
    """A text column's most common values among its first 10,000 rows, with their counts, most common first (at most
    _CATEGORY_MAX + 1, so more than _CATEGORY_MAX means free text); None when they cannot be read (best effort)."""
    c = quote_ident(column)
    q = (f"SELECT {c} AS v, count(*) AS n FROM (SELECT {c} FROM {source_sql(source)}"
         f"{where_sql(where) if where else ''} LIMIT 10000) WHERE {c} IS NOT NULL GROUP BY ALL ORDER BY n DESC, v "
         f"LIMIT {_CATEGORY_MAX + 1}")
    try:
        return [(str(v), int(n)) for v, n in cur.execute(q).fetchall()]  # type: ignore[attr-defined]
    except Exception:
        return None


# What score(into=) writes beside the source's columns (api.SCORE_OUTPUTS, anomaly_explain and, with
# model_column=True, MODEL_COLUMN; with mse=True, anomaly_mse).
SCORE_COLUMNS = ("anomaly_score", "anomaly_percentile", "is_anomaly", "anomaly_explain", "anomaly_imputed",
                 "anomaly_model", "anomaly_mse")

# The column score(model_column=True) writes: the version that scored each row ('tx_ae@3'), for a history table
# appended to across retrains, whose rows of each version otherwise sit side by side unmarked.
MODEL_COLUMN = "anomaly_model"


def default_features(
    cur: object, source: str, where: str | None, described: list[tuple[str, str]], X: np.ndarray, *, model: str,
    rising: np.ndarray | None = None,
    empty_rows: Callable[[list[str], np.ndarray], tuple[int, str | None]] | None = None,
    compared: Compared | None = None, keep_constant: bool = False,
) -> tuple[list[tuple[str, str]], np.ndarray, str | None]:
    """The default features, for a caller who named none: every numeric column except id-like ones, and except
    those of one value (unless ``keep_constant``) or none (``otherfeatures.drop_unusable``).

    ``described``: the source's columns (``describe``); ``X``: the values of its numeric ones, in order (what
    ``choose_columns(described, None, ...)`` picks), in the source's row order unless ``rising`` says which of
    them rise row by row over the whole source (``TrainingSample.rising``). Warns (``AdDuckDBWarning``) with what
    was left out, why, and how to choose otherwise. ``empty_rows``: the rows of the features chosen (names, values)
    -> how many have every one NULL and the filter that leaves them out, made part of the filter a totals row's
    'Total' gets in the note on text columns; the third value returned: the column that filter was given for.
    ``compared``: the comparison of a glob's files by name (``filecols.Compared``) the caller's other notes share.
    """
    columns = [(n, t) for n, t in described if is_numeric_type(t)]
    rises: list[bool | None] = [bool(r) for r in rising] if rising is not None else [None] * len(columns)
    ids = [(n, why) for j, (n, t) in enumerate(columns) if (why := id_like(n, t, X[:, j], rises[j])) is not None]
    from .partitions import partition_keys
    from .pysource import category_keys

    folders = partition_keys(cur, source)
    categories = category_keys(source)
    parts = [(n, f"folders {folders[n.lower()]}, ..." if n.lower() in folders else
              f"a category of numbers, as pandas and pyarrow read a folder's key: {categories[n.lower()]}, ...")
             for n, _ in columns if (n.lower() in folders or n.lower() in categories) and n not in {i for i, _ in ids}]
    left_out = {n for n, _ in ids + parts}
    # A table written by score(into=) holds the old model's verdict: as features, the new model reads it, and the
    # raw rows (which have no such columns) cannot be scored.
    scores = [n for n, _ in columns if n.lower() in SCORE_COLUMNS and n not in left_out]
    keep = [j for j, (n, _) in enumerate(columns) if n not in left_out | set(scores)]
    if not keep and scores:
        raise BadInputError(
            f"Model {model!r}: the numeric columns of {source!r} are scores ({listing([repr(n) for n in scores])}, as "
            "score(into=) writes them), which describe a model's verdict rather than the rows, so no feature is left by "
            f"default. Train on the columns that were scored, or name the columns to train on: "
            f"{features_opt(scores[:1])}."
        )
    if scores:
        from .scorecols import earlier_scores

        # a user's label named is_anomaly is no score: left out all the same (it would give the answer away)
        written = {n.lower() for n in scores} <= earlier_scores(cur, source, described)  # type: ignore[arg-type]
        what = ("scores as score(into=) writes them" if written else
                f"{'a column' if len(scores) == 1 else 'columns'} named as score(into=) names its outputs (a label or "
                "an earlier scoring's output)")
        it = "it" if len(scores) == 1 else "them"
        notes.warn(
            f"Model {model!r}: no features given, so {listing([repr(n) for n in scores])} of {source!r}, {what}, "
            f"{'is' if len(scores) == 1 else 'are'} left out: a model trained on {it} reads the answer (a label or "
            f"an old model's verdict) rather than the rows, and rows without {it} cannot be scored. To train on {it} "
            f"anyway, list the features ({_listed_features()}).",
        )
    if not keep:
        first = (ids + parts)[0][0]
        # text columns of numbers (a CSV's decimal commas) are what such a source has to train on: said first
        numbers = _text_numbers_hint(cur, source, where, [n for n, t in described if t.upper() == "VARCHAR"
                                                          and n.lower() not in SCORE_COLUMNS])
        raise BadInputError(
            f"Model {model!r}: {numbers}every numeric column of {source!r} looks like an id "
            f"({listing([f'{n!r}: {w}' for n, w in ids + parts])}), "
            "and an id tells rows apart rather than describing them, so no feature is left by default. Name the "
            f"columns to train on ({_listed_features()}), e.g. {features_opt([first])} if it is a measurement after all."
        )
    pinned = _pinned_by_filter(columns, X, keep, where)
    if pinned and len(pinned) < len(keep):
        keep = [j for j in keep if j not in pinned]
        names = [columns[j][0] for j in pinned]
        notes.warn(
            f"Model {model!r}: no features given, so {listing([repr(n) for n in names])}, which where={where!r} "
            f"holds at one value in every training row, {'is' if len(names) == 1 else 'are'} left out: a column the "
            "filter picks rows by (a label under \"label = 0\") is not a feature, and as one it would flag every "
            f"other value. To train on it anyway, list the features ({_listed_features()}).",
        )
    from .otherfeatures import drop_unusable

    lossy = [n for j, (n, t) in enumerate(columns) if _exact_type(t)
             and np.isfinite(X[:, j]).any() and float(np.nanmax(np.abs(X[:, j]))) >= _DOUBLE_EXACT]
    keep = drop_unusable(X, [n for n, _ in columns], keep, keep_constant, model=model, source=source, lossy=lossy)
    kept = [columns[j] for j in keep]
    labels = [columns[j][0] for j in keep if named_like_label(columns[j][0])
              and set(np.unique(X[:, j][~np.isnan(X[:, j])]).tolist()) == {0.0, 1.0}]
    if labels:
        # Why said here: a model trained on its label reads the answer (its anomalies score as unusual by the label's
        # value alone), which evaluate then refuses; the fix is cheap now and costly after the model is in use.
        n = labels[0]
        # Why quoted: a label named "Is Fraud?" was offered as where="Is Fraud? = 0", a syntax error, and as
        # --label Is Fraud?, two words to a shell
        normal = f"{sql_name(n)} = 0"
        notes.warn(
            f"Model {model!r}: no features given, so {listing([repr(n) for n in labels])}, a 0/1 column named like a "
            f"label, {'is a feature' if len(labels) == 1 else 'are features'}: a model trained on its label reads the "
            f"answer, and evaluate with {opt('label', n)} refuses it. If it is the label, train "
            f"on the normal rows ({opt('where', normal, py=py_text(normal))}; that leaves it out) or "
            f"name the features ({_listed_features()}).",
        )
    # a key DuckDB reads as text (month=01, region=EU) is a key all the same: said with the others, not offered as
    # text of numbers to read with TRY_CAST, which made next month's folder a feature's new value after all
    text_keys = [(n, f"folders {folders[n.lower()]}, ...") for n, t in described
                 if not is_numeric_type(t) and n.lower() in folders and n.lower() not in SCORE_COLUMNS]
    if parts or text_keys:
        keys = parts + text_keys
        example = [parts[0][0], *(n for n, _ in kept)] if parts else []
        anyway = (f" To train on it anyway, list the features: {features_opt(example[:_LISTED])}." if parts else "")
        notes.warn(
            f"Model {model!r}: no features given, so the hive partition key"
            f"{'s' if len(keys) > 1 else ''} {listing([f'{n!r} ({w})' for n, w in keys])} of {source!r} "
            f"{'are' if len(keys) > 1 else 'is'} left out: a key names the folder a row was read from, and a new "
            f"folder brings a value beyond the training range, which scores as anomalous.{anyway}",
        )
    if ids:
        example = [ids[0][0], *(n for n, _ in kept)]
        if len(example) <= _LISTED:
            listed = features_opt(example)
        else:  # a wide table's every name, three times over, buried the note
            listed = either(f"features={example[:4]!r}"[:-1] + f", ...] with the {len(kept)} above",
                            f"{cli_feature_flags(example[:4])} ... with the {len(kept)} above")
        notes.warn(
            f"Model {model!r}: no features given, so it trains on every numeric column of {source!r} but the id-like "
            f"{listing([f'{n!r} ({w})' for n, w in ids])}: an id tells rows apart rather than describing them, and new "
            f"rows bring ids beyond the training range, which score as anomalous. Features: "
            f"{listing([n for n, _ in kept])}. To train on an id column too, list the features: {listed}.",
        )
    _warn_later_columns(cur, source, model, compared)
    # (is_anomaly and anomaly_explain of a scored table: scores too, left out without a word)
    chosen = X[:, keep]
    gave = _warn_non_numeric(cur, source, where, [(n, t) for n, t in described if not is_numeric_type(t)
                                                  and n.lower() not in SCORE_COLUMNS
                                                  and n.lower() not in folders], model,
                             (lambda: empty_rows([n for n, _ in kept], chosen)) if empty_rows else None)
    return kept, chosen, gave


def _warn_later_columns(cur: object, source: str, model: str, compared: Compared | None) -> None:
    """Say which columns of a glob's later files the default features leave out, as DuckDB does not read them."""
    from .filecols import later_columns

    later = later_columns(cur, source, compared)
    if later is None:
        return
    names = list(later.columns)
    it = "it" if len(names) == 1 else "them"
    notes.warn(
        f"Model {model!r}: no features given, and {later.where(names)} of {source!r} {'is' if it == 'it' else 'are'} "
        f"left out: later files hold {it}, but DuckDB reads the columns of a glob's first file. To train on {it}, "
        f"read the files by name: {later.reads} (rows of files without {it} have {it} NULL, which training fills "
        "with the median).",
    )


def _pinned_by_filter(columns: list[tuple[str, str]], X: np.ndarray, keep: list[int], where: str | None) -> list[int]:
    """Indices (of ``keep``) of columns named in ``where`` that hold one value in every training row: the filter
    chose the rows by them (``label = 0``, ``segment = 3``), so they describe the selection, not the rows."""
    if not where or not len(X):
        return []
    text = where.lower()
    out = []
    for j in keep:
        n = columns[j][0].lower()
        named = re.search(rf"(?<![\w\"]){re.escape(n)}(?![\w\"])", text) or f'"{n}"' in text
        col = X[:, j]
        if named and np.isfinite(col).all() and col.min() == col.max():
            out.append(j)
    return out


def _text_numbers_hint(cur: object, source: str, where: str | None, names: list[str]) -> str:
    """For a source whose numeric columns are all ids: its text columns that hold numbers and the query that reads
    them all as numbers, as a sentence that ends the way to the id advice; "" when it has none."""
    text = _numbers_as_text(cur, source, names, where)
    numberish = [n for n in names if n in text and text[n][0] >= 0.5]
    if not numberish:
        return ""
    def why(n: str) -> str:
        odd = text[n][1]
        return (f"{n!r} (VARCHAR, but all its values are numbers)" if odd is None else
                f"{n!r} (VARCHAR, but its values are numbers apart from a few such as {odd!r})")

    one = len(numberish) == 1
    exprs = ", ".join(f"{text_as_number(n, text[n][2])} AS {quote_ident(n)}" for n in numberish)
    written = "".join(f"; {w}, which replace() reads" for w in dict.fromkeys(written_words(text[n][2])
                                                                               for n in numberish) if w)
    return (f"the text column{'' if one else 's'} {listing([why(n) for n in numberish])} of {source!r} "
            f"{'holds numbers' if one else 'hold numbers'}. To use {'it' if one else 'them'}, train on a query that "
            f"reads {'it as a number' if one else 'them as numbers'}: SELECT * REPLACE ({exprs}) FROM "
            f"{_from_item(source)} (a value that is not a number becomes NULL, which training fills with the "
            f"median{written}). Without that, ")


def _warn_non_numeric(cur: object, source: str, where: str | None, skipped: list[tuple[str, str]], model: str,
                      empty_rows: Callable[[], tuple[int, str | None]] | None = None) -> str | None:
    """The note on the text columns left out; the column whose totals row it gave the filter for (with the rows of
    every feature NULL, ``empty_rows``' count and filter, when there are such)."""
    if not skipped:
        return None
    text = _numbers_as_text(cur, source, [n for n, t in skipped if t.upper() == "VARCHAR"], where)
    numberish = {n: odd for n, (share, odd, _) in text.items() if share >= 0.5}  # mostly numbers: worth reading as such
    times = text_time_formats(cur, source, [n for n, t in skipped if t.upper() == "VARCHAR" and n not in numberish],
                              where)
    def why(n: str, t: str) -> str:
        if n not in numberish:
            timed = times.get(n)
            if timed is None:
                return f"{n!r} ({t})"
            read = strptime_expr(n, timed[0])
            # an ISO layout compares as text in the order of its times: a filter on it is right as it stands
            filtered = (f"; where= compares it as text, not as times: where=\"{read} < ...\", a TIMESTAMP on the "
                        "right" if compares_as_text(where, n) and not timed[0].startswith("%Y-%m-%d") else "")
            return (f"{n!r} ({t}, but its values are times written as text, such as {timed[1]!r}: {read} reads "
                    f"them as times{either_way(n, timed)}{filtered})")
        if numberish[n] is None:  # no value failed to read as a number
            return f"{n!r} ({t}, but all its values are numbers)"
        return f"{n!r} ({t}, but its values are numbers apart from a few such as {numberish[n]!r})"

    items = [why(n, t) for n, t in skipped]
    hint = ""
    if numberish:
        # the example: measurements rather than ids ('Transaction_ID' read as DOUBLE would become a feature), and
        # first those TRY_CAST alone reads as NULL (a decimal comma, a currency mark): an ERP export's 'Betrag (€)'
        # was said to hold "all numbers" beside the expression for its document number, TRY_CAST(trim(...))
        measured = [n for n in numberish if not (_ID_NAME.search(n) or _CAMEL_ID.search(n))] or list(numberish)[:1]
        written = [n for n in measured if text[n][2] is not None]
        shown = written[:_FIXES_SHOWN] or measured[:1]
        one = len(shown) == 1
        exprs = ", ".join(f"{text_as_number(n, text[n][2])} AS {quote_ident(n)}" for n in shown)
        sep = "".join(dict.fromkeys(_read_how(text[n][2]) for n in shown))
        hint = (f" To use {listing([repr(n) for n in shown])}, "
                f"train on a query that reads {'it as a number' if one else 'them as numbers'}: SELECT * REPLACE "
                f"({exprs}) FROM ... (a value that is not a number becomes NULL, which training fills with the "
                f"median{sep}).")
    totals = next(((n, odd) for n, odd in numberish.items() if isinstance(odd, str) and TOTALS.fullmatch(odd)), None)
    if totals:
        # Why say so: the row's numeric columns sum all the others, and it is trained on as one row; its 'Total'
        # is what made the column text, and the only word of it the note gave
        # a report's 'Subtotal' rows beside its 'Total': a filter on the one word the count saw kept the others
        words = column_total_words(cur, source, where, totals[0]) or [totals[1]]
        leave_out = words_left_out(totals[0], words)
        n_empty, empty_out = empty_rows() if empty_rows else (0, None)
        if n_empty and empty_out:  # the export's rows of only separators below it: one filter for both
            leave_out = f"{leave_out} AND {empty_out}"
        filtered = f"({where}) AND {leave_out}" if where else leave_out
        marks = (f"{totals[1]!r} in {totals[0]!r} marks a totals row" if len(words) == 1 else
                 f"{' and '.join(repr(w) for w in words)} in {totals[0]!r} mark totals rows")
        also = f" (and the {n_empty} rows with every feature NULL, noted next)" if n_empty and empty_out else ""
        hint += (f" {marks} (the sum of the rows above, as a spreadsheet writes it), which is trained on as a row: "
                 f"leave {'it' if len(words) == 1 and not also else 'them'} out{also} with "
                 f"{leave_out_with(filtered, where)}.")
    # last: its query ends the note, so that it can be copied as it stands (the totals sentence was glued to it)
    hint += _as_numbers_example(cur, source, where, [(n, t) for n, t in skipped if n not in numberish],
                                others=bool(numberish))
    notes.warn(
        f"Model {model!r}: no features given, so the non-numeric column{'s' if len(skipped) > 1 else ''} "
        f"{listing(items)} of {source!r} {'are' if len(skipped) > 1 else 'is'} left out.{hint}",
    )
    return totals[0] if totals else None


def leave_out_with(filtered: str, where: str | None) -> str:
    """The options that train without a row: ``filtered``, the filter that leaves it out (with ``where``, the
    caller's own, if any). Why robust=True with a filter of our own: a where= turns robust training off (it reads
    as "the normal rows", chosen by a label), and leaving out a totals row does not make the rows labelled."""
    shown = py_text(filtered)  # Why not "{filtered}": where=""Amount EUR" IS NOT NULL" was no string at all
    if where:
        return opt("where", filtered, py=shown)
    return (f"{opt('where', filtered, py=shown)} and {opt('robust', True)}, which a {opt('where')} alone turns "
            "off")


def _as_numbers_example(cur: object, source: str, where: str | None, skipped: list[tuple[str, str]], *,
                        others: bool = False) -> str:
    """One query that brings left-out columns in as numbers, one column of each kind (a BOOLEAN, a date or time, text
    of a few values), and what each expression means; "" when none is of those kinds (``others``: a hint for text
    of numbers came first).

    Why one query: the note named 24 columns of a claims table and stopped there, and the user who wanted them had
    to find out for each type what reads it as a number; one query of each kind runs as given and shows the way.
    A column named like a label gets no expression: as a feature it would read the answer.
    """
    chosen: dict[str, str] = {}  # kind -> "expression AS column"
    words = ""  # a text column of a few values: a feature as it is when named (categorical.py)
    time_type = ""  # the SQL type of the date or time column chosen, for what its expression means
    for n, t in skipped:
        if named_like_label(n):
            continue
        kind = ("flag" if t.upper() == "BOOLEAN" else "big" if t.upper() in ("BIGNUM", "VARINT")
                else "time" if as_number_expr("x", t) else None)
        if kind is None and (t.upper() == "VARCHAR" or t.upper().startswith("ENUM")) and "share" not in chosen:
            values = text_values(cur, source, n, where)
            kind = "share" if values and 1 < len(values) <= _CATEGORY_MAX else None
            words = n if kind else words
        if kind and kind not in chosen:
            c = quote_ident(n)
            # a DATE or TIMESTAMP as epoch seconds rises with time, so every later row would be out of range
            expr = (f"count(*) OVER (PARTITION BY {c}) / count(*) OVER ()" if kind == "share"
                    else f"CAST({c} AS DOUBLE)" if kind == "big"
                    else _cycle_expr(c, t, cur) if is_point_in_time(t) else str(as_number_expr(c, t)))
            chosen[kind] = f"{expr} AS {c}"
            time_type = t if kind == "time" else time_type
    if not chosen:
        return ""
    meaning = {"share": "text of a few values becomes the share of rows with its value among the rows the query "
                        "reads (a rare value is what stands out; score sets about as large as the training rows, or "
                        "(col = 'value')::INTEGER makes a 0/1 column of one value instead)",
               "flag": "a BOOLEAN becomes 1 or 0",
               # DuckDB hands a BIGNUM to Python as its own byte encoding, not a number
               "big": "a BIGNUM (an integer of any size) becomes a DOUBLE"}
    meaning["time"] = ("a timestamp becomes its hour of the day and a date its day of the week, for a daily or "
                       "weekly cycle (when the training rows span whole days or weeks; epoch seconds would rise with "
                       "time, so every later row would be out of the training range)"
                       if is_point_in_time(time_type) else "a time or interval becomes its seconds")
    src = _from_item(source)
    exprs = ", ".join(chosen.values())
    # The query comes last, with nothing after it, so that it can be copied as it stands.
    named = (f" A text column of a few values such as {words!r} is a feature as it is when named: "
             f"{either(f'features=[..., {words!r}]', f'-f {shell_word(words)}')}, read as its categories (README, \"Text columns as features\")."
             if words else "")
    return (f"{named} To use {'the others' if others else 'such columns'}, train on a query that reads them as numbers "
            f"({'; '.join(meaning[k] for k in chosen)}), and score with the same query, e.g. "
            f"SELECT * REPLACE ({exprs}) FROM {src}")


def warn_if_few_rows(n: int, *, model: str, source: str) -> None:
    """Warn when a model is trained on enough rows to be stored (``MIN_TRAIN_ROWS``) but few to trust."""
    if MIN_TRAIN_ROWS <= n < FEW_TRAIN_ROWS:
        notes.warn(
            f"Model {model!r} is trained on only {n} rows of {source!r}: with fewer than {FEW_TRAIN_ROWS}, its scaling "
            f"and thresholds rest on few rows (the share of them a threshold flags moves in steps of one training row in "
            f"{n}, {1 / n:.1%}, whatever the contamination, and tied scores can leave it flagging none). Train on more "
            f"rows if you have them.",
        )


# Rows per Arrow batch when reading a training table: a batch is copied into the matrix, then dropped.
LOAD_BATCH_ROWS = 1 << 16


def _feature_query(source: str, names: Sequence[str], where: str | None,
                   also: str | tuple[str, ...] | None = None) -> str:
    # "+ 0": DuckDB 2.0 pushes a bare CAST of a CSV column into the CSV reader, which then parses the column's text as
    # a number: a BOOLEAN label written True/False stopped with "Could not convert string 'True' to 'DOUBLE'". An
    # expression around the cast keeps it in the query (x + 0 is x for every double but -0.0).
    extra = [also] if isinstance(also, str) else list(also or ())
    cols = ", ".join([*(f"CAST({quote_ident(n)} AS DOUBLE) + 0" for n in names), *extra])
    return f"SELECT {cols} FROM {source_sql(source)}" + (where_sql(where) if where else "")


def _raise_read_error(source: str, names: Sequence[str], where: str | None, e: Exception,
                      what: str | None = None, who: str | None = None) -> NoReturn:
    if is_interrupt(e):  # a Ctrl-C, not a source we cannot read: it stays one
        raise e
    fix = read_fix(source, str(e))
    words = first_part(str(e))  # without DuckDB's LINE 1 excerpt of our query around the source
    pandas_and = _pandas_and_hint(where, e)
    if pandas_and:  # DuckDB's eleven lines of the integer '&' it has buried the one fix
        words = words.split("\n")[0].strip().rstrip(".")
    filtered = f" ({opt('where', where)})" if where else ""
    raise (SourceNotFoundError if is_missing_column(e) else BadInputError)(
        f"{f'{who}: c' if who else 'C'}annot read {what or f'features {list(names)}'} from {source!r}"
        f"{filtered}: "
                        + (f"{fix}. ({said(str(e))}.)" if fix else f"{words}.") + _quoted_text_hint(where, e)
                        + pandas_and) from e


def _pandas_and_hint(where: str | None, e: Exception) -> str:
    """For a filter joined as a pandas mask is, ``(split == 'train') & (label == 0)``, which DuckDB refuses as '&' of
    two BOOLEANs (its '&' and '|' are bitwise, on integers): the filter joined with AND and OR; "" otherwise."""
    if not where or not re.search(r"'[&|]\(BOOLEAN, BOOLEAN\)'", str(e)):
        return ""
    try:
        toks = sql_tokens(where)
    except Exception:
        return ""
    ends = [p for p, _ in toks[1:]] + [len(where)]
    texts = [where[p:end].strip() for (p, _), end in zip(toks, ends, strict=True)]
    fixed, last = [], 0
    for i, (p, kind) in enumerate(toks):
        op = where[p:p + 2]
        # Why only between parentheses, as a pandas mask must write it: '(flags & 4 = 4) & (label = 0)' holds a
        # bitwise '&' too, which as AND read flags as a BOOLEAN (any non-zero flags passed)
        joins = 0 < i < len(toks) - 1 and texts[i - 1] == ")" and (texts[i + 1] == "(" or texts[i + 1].lower() == "not")
        if kind == duckdb.token_type.operator and op[:1] in ("&", "|") and op not in ("||", "&&") and joins:
            fixed += [where[last:p], "AND" if op[0] == "&" else "OR"]
            last = p + 1
    if not fixed:
        return ""
    text = "".join([*fixed, where[last:]])
    shown = py_text(text)
    return f" SQL joins conditions with AND and OR: {opt('where', text, py=shown)}."


def _quoted_text_hint(where: str | None, e: Exception) -> str:
    """For a filter whose missing column is a word in double quotes (a pandas query's ``split == "train"``): that
    SQL reads it as a column, and the filter with the text in single quotes; "" otherwise."""
    m = re.search(r'Referenced column "((?:[^"]|"")+)" not found', str(e)) if where and is_missing_column(e) else None
    # Why only where a value goes (after a comparison, in an IN list): '"spilt" = 1', a misspelt column in SQL's own
    # quotes, was told to put it in single quotes, comparing a text to 1
    if m is None or where is None or not re.search(r"(?:[=<>]|\blike|\bin\s*\((?:[^()]*,)?)\s*" + re.escape(f'"{m.group(1)}"'),
                                                    where, re.IGNORECASE):
        return ""
    word = m.group(1).replace('""', '"')
    fixed = where.replace(f'"{m.group(1)}"', quote_literal(word))
    shown = py_text(fixed)
    return (f' SQL reads "{word}" as a column name; if it is a value, text goes in single quotes: '
            f"{opt('where', fixed, py=shown)}.")


def count_rows(cur: object, source: str, names: Sequence[str], where: str | None = None, *,
               who: str | None = None) -> int:
    """The number of rows ``feature_batches`` would read (for a table, a cheap count); ``who`` as there."""
    try:
        return int(cur.sql(_feature_query(source, names, where)).aggregate("count(*)").fetchall()[0][0])  # type: ignore[attr-defined]
    except Exception as e:
        _raise_read_error(source, names, where, e, who=who)


def rows_fingerprint(cur: object, source: str, names: Sequence[str], where: str | None = None) -> str | None:
    """A fingerprint of the rows ``feature_batches`` would read, whatever their order: the sum of a hash of each
    row's values (as DOUBLE, as a model reads them), with the DuckDB version that hashed them; None when the
    source cannot be read so.

    Why: a row count alone said a DataFrame variable reloaded with as many rows of another month held the rows a
    model was trained on (``labelled._training_overlap``); a sum, unlike an XOR, keeps two equal rows from cancelling.
    """
    cols = ", ".join(f"CAST({quote_ident(n)} AS DOUBLE) + 0" for n in names)
    q = f"SELECT sum(hash({cols}))::VARCHAR FROM {source_sql(source)}" + (where_sql(where) if where else "")
    try:
        total = cur.execute(q).fetchall()[0][0]  # type: ignore[attr-defined]
    except Exception as e:
        if is_interrupt(e):
            raise
        return None
    return f"{total or 0}/duckdb {duckdb.__version__}"


def feature_batches(cur: object, source: str, names: Sequence[str], where: str | None = None,
                    what: str | None = None, who: str | None = None,
                    also: str | tuple[str, ...] | None = None) -> Iterator[np.ndarray]:
    """The feature columns as float64 matrices of up to ``LOAD_BATCH_ROWS`` rows, in the source's row order; SQL
    NULL becomes NaN. An error reading the source (a bad filter, a value DOUBLE cannot hold) names it, and
    ``what`` was read (default: "features [...]"; a label column read with them is no feature); ``who`` (say,
    "Model 'm'") begins that error, as the other errors of a training or an evaluation do. ``also``: an SQL
    expression of DOUBLE read as one more, last column of each batch (alarm_rate's row times, read with the rows'
    features so that they stay row for row with them on a source that gives other rows each read); a tuple of
    them: as many more columns, in its order."""
    d = len(names) + (1 if isinstance(also, str) else len(also or ()))
    try:
        reader = cur.sql(_feature_query(source, names, where, also)).to_arrow_reader(LOAD_BATCH_ROWS)  # type: ignore[attr-defined]
    except Exception as e:
        _raise_read_error(source, names, where, e, what, who)
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except Exception as e:
            _raise_read_error(source, names, where, e, what, who)
        M = np.empty((batch.num_rows, d))
        for i in range(d):
            M[:, i] = batch.column(i).to_numpy(zero_copy_only=False)
        yield M


def load_matrix(cur: object, source: str, names: Sequence[str], where: str | None = None,
                n: int | None = None, *, who: str | None = None) -> np.ndarray:
    """Read the feature columns as a float64 matrix; SQL NULL becomes NaN. ``n``: the rows ``count_rows`` counted,
    if the caller has already counted them; ``who`` as for ``feature_batches``.

    Why counted first and streamed into one matrix: reading the whole result as an Arrow table and stacking its
    columns held three copies of the table at once (10M rows x 6 columns: 1.9 GB for a 0.5 GB matrix). The cost:
    a query or a file source runs twice (the count, then the read), a table's count is cheap.
    """
    X = np.empty((count_rows(cur, source, names, where, who=who) if n is None else n, len(names)))
    at = 0
    for M in feature_batches(cur, source, names, where, who=who):
        b = len(M)
        if at + b > len(X):  # a source that changed between the reads (random(), a sample): keep every row
            X = np.concatenate([X, np.empty((max(b, len(X) // 2), len(names)))])
        X[at:at + b] = M
        at += b
    return X[:at] if at < len(X) else X


class TrainingSample:
    """The rows a model trains on, read in one pass over a source larger than its training budget.

    ``totals``: what finds a spreadsheet's totals row among all the rows read, not only the sample's.
    ``rows``: the rows at positions ``default_rng(seed).choice(n, size, replace=False)`` of the source's row order,
    in that order: exactly the sample ``AutoEncoderDetector.fit`` draws from the whole matrix, so a table read
    this way trains the same model while holding ``size`` rows instead of all ``n``. ``rising``: per column,
    whether its values rise from row to row over the whole source (``id_like``'s test, which a sample cannot make).
    """

    def __init__(self, cur: object, source: str, names: Sequence[str], where: str | None, *, n: int, size: int,
                 seed: int, who: str | None = None, bar: RowProgress | None = None) -> None:
        d = len(names)
        idx = np.random.default_rng(seed).choice(n, size, replace=False)
        order = np.argsort(idx, kind="stable")
        at_sorted = idx[order]
        rows = np.empty((size, d))
        rising = np.ones(d, dtype=bool)
        last = np.full(d, -np.inf)
        self.totals = TotalsWatch(d)
        at = 0
        for M in feature_batches(cur, source, names, where, who=who):
            lo, hi = np.searchsorted(at_sorted, [at, at + len(M)])
            rows[order[lo:hi]] = M[at_sorted[lo:hi] - at]
            self.totals.add(M)
            if bar is not None:
                bar.advance(len(M))
            if len(M):
                rising &= ~np.isnan(M).any(axis=0) & (M[0] > last)
                if len(M) > 1:
                    rising &= (np.diff(M, axis=0) > 0).all(axis=0)
                last = M[-1]
            at += len(M)
        # A source that returned fewer rows than it counted (random(), a sample) leaves some positions unread.
        self.rows = rows if at >= n else rows[idx < at]
        self.n_read = at
        self.rising = rising if at >= 2 else np.zeros(d, dtype=bool)


def signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def raw_values(spec: FeatureSpec, z: np.ndarray) -> np.ndarray:
    """The raw values at ``z`` robust units of a column: the inverse of ``transform`` (inside the clip)."""
    t = spec.center + spec.scale * np.asarray(z, dtype=np.float64)
    return np.sign(t) * np.expm1(np.abs(t)) if spec.transform == "slog" else t


def _spread(v: np.ndarray) -> float:
    q1, q3 = np.percentile(v, [25, 75])
    s = float(q3 - q1) / 1.349
    if s <= 1e-12:
        s = float(np.std(v))
    return s


def _drop_from_x(name: str, j: int, frame: bool) -> str:
    return f"X.drop(columns=[{name!r}])" if frame else f"np.delete(X, {j}, axis=1)"


# Beyond 2^53 a DOUBLE no longer holds every whole number, and the model reads every column as DOUBLE.
_DOUBLE_EXACT = 2.0**53


def _exact_type(sql_type: str) -> bool:
    """Whether the column's own type tells apart values a DOUBLE may not (whole numbers, decimals)."""
    t = sql_type.strip().upper()
    return is_integer_type(t) or t.startswith(("DECIMAL", "NUMERIC"))


def _lost_digits_error(model: str, name: str, source: str | None, value: float,
                       names: Sequence[str]) -> UnusableColumnsError:
    """A column that reads as one DOUBLE, in a type that may hold different values there (ids or counters near 2^64).

    Why not "constant": the column may well vary, in digits a DOUBLE of that size drops, and leaving it out (that
    message's fix) would lose it; its distance from a base keeps them. An UnusableColumnsError (``names``: the
    features), so that trained without features= it also gives the others to train on."""
    q = quote_ident(name)
    return UnusableColumnsError(
        f"Model {model!r}: column {name!r} reads as one value ({value!r}) in every row of {source!r} once read as "
        f"DOUBLE, as the model reads every column; at that size a DOUBLE holds about 16 significant digits (it tells "
        f"apart only values {float(np.spacing(abs(value))):g} apart), so whole numbers that differ in their last digits "
        f"read alike. If the column varies, train on its distance from its smallest value: find that with SELECT "
        f"min({q}) FROM ..., then train on SELECT *, {q} - <that value> AS {quote_ident(name + '_offset')} FROM ... "
        "and score with the same expression. If it is constant, leave it out of "
        f"{opt('features', flag='feature')} (the columns to keep), or pass {opt('constant_columns', 'keep')} to score "
        "any other value as out of the training range.",
        [name], list(names),
    )


def _one_value(col: np.ndarray) -> float | None:
    """The column's one finite value, if it has one in every row that is finite (and at least one such row)."""
    finite = col[np.isfinite(col)]
    return float(finite[0]) if finite.size and float(finite.min()) == float(finite.max()) else None


def _constant_columns_error(constant: list[tuple[int, float]], names: Sequence[str], model: str, source: str | None,
                            frame: bool) -> ConstantColumnsError:
    """One error for several constant columns, naming how many and the first ones.

    Why: a wide table (ADBench's InternetAds: 247 of 1,555 columns constant under its normal rows) met one error per
    column, each only after the last was fixed."""
    shown = [f"{names[k]!r} ({v!r})" if source is not None or frame else f"{k} ({v!r})" for k, v in constant]
    listed = listing(shown)
    what = f"{len(constant)} columns"
    keep = "constant_columns='keep'"
    if source is None:
        # nan-aware: fit takes NaN as a missing value, and np.ptp of a column holding one is NaN (the column dropped)
        drop = "X.loc[:, X.nunique() > 1]" if frame else "X[:, np.nanmax(X, axis=0) > np.nanmin(X, axis=0)]"
        where = "are constant" if frame else "of X are constant"
        message = (f"AutoEncoderDetector.fit: {what} {where} (one value in every row): {listed}, so they cannot tell "
                   f"training rows apart; drop them from X before fitting ({drop}), or pass {keep} to score any other "
                   "value as out of the training range.")
    else:
        message = (f"Model {model!r}: {what} are constant in {source!r} (one value in every row): {listed}, so they "
                   f"cannot tell training rows apart; leave them out of {opt('features', flag='feature')} (the columns to keep), or "
                   f"pass {opt('constant_columns', 'keep')} to score any other value as out of the training range.")
    return ConstantColumnsError(message, [names[k] for k, _ in constant], list(names))


def check_row_count(n: int, model: str, source: str | None) -> None:
    """Refuse ``n`` training rows when a model cannot be fitted on so few; ``source`` None: the rows are the ``X``
    given to ``AutoEncoderDetector.fit`` (a frame with text columns too, which is trained through a table of its own
    that the message must not name)."""
    arr = source is None
    if n == 0:
        raise NoRowsError(
            "AutoEncoderDetector.fit: X has no rows to fit on." if arr else
            f"Model {model!r}: the source {source!r} has no rows to train on (after the filter)."
            f"{empty_run_hint() or ' Check the table and the ' + opt('where') + ' filter.'}"
        )
    if n < MIN_TRAIN_ROWS:
        # Checked before the columns: one row makes every column constant, which is not the problem to report.
        rows = f"{n} row{'' if n == 1 else 's'}"
        why = f"needs at least {MIN_TRAIN_ROWS}: its scaling and thresholds are statistics of the training rows."
        raise BadInputError(
            f"AutoEncoderDetector.fit: X has only {rows} to fit on, and a model {why} Fit on more rows." if arr else
            f"Model {model!r}: the source {source!r} has only {rows} to train on, and a model {why} Train "
            f"on more rows: a larger table or query, or a wider filter ({opt('where')})."
        )


def _category(source: str | None, name: str) -> bool:
    """Whether column ``name`` of ``source`` is a category of numbers of the caller's DataFrame or Arrow table (read
    as its numbers, as DuckDB reads it)."""
    from .pysource import category_keys

    return source is not None and name.lower() in category_keys(source)


def fit_specs(
    X: np.ndarray, names: Sequence[str], sql_types: Sequence[str], *, model: str, source: str | None,
    range_quantile: float = 0.0, constant_columns: str = "error", frame: bool = False,
) -> tuple[list[FeatureSpec], dict[str, int]]:
    """Choose each column's transform and constants from training data.

    ``constant_columns="keep"`` keeps a column that has one value in every training row: any other
    value then counts as outside the training range (in units of max(|value|, 1)).
    ``source=None``: the rows are an array or DataFrame given to ``AutoEncoderDetector.fit`` itself, so errors say
    how to fix ``X`` (``frame``: a DataFrame) rather than a table, ``features=`` or ``where=``.
    Returns the specs and the count of filled (NULL/NaN) values per column.
    """
    if source is not None and SURFACE.get() == FIT:
        # the rows of a frame AutoEncoderDetector.fit trains through a table of its own (detectorfit.py): said of X,
        # not of that table, its model name and train's features=, which the caller has none of
        source, frame = None, True
    n, d = X.shape
    arr = source is None
    check_row_count(n, model, source)
    specs: list[FeatureSpec] = []
    filled: dict[str, int] = {}
    for j in range(d):
        col = X[:, j]
        if sql_types[j] == SLOT_TYPE:  # a text column's 0/1 input (categorical.py): read as it is
            from .categorical import slot_spec

            specs.append(slot_spec(names[j], col, range_quantile))
            filled[names[j]] = 0
            continue
        finite = col[np.isfinite(col)]
        missing = int(np.isnan(col).sum())
        filled[names[j]] = missing
        which = f"column {names[j]!r}" if frame else f"column {j} of X"  # an array's columns have no names
        if finite.size == 0:
            if not arr and _category(source, names[j]):
                # Why apart: a category of numbers is read as its numbers, and "no finite value" said it of a
                # category column that holds no value at all
                raise UnusableColumnsError(no_value_refused(model, names[j], "category column"), [names[j]], list(names))
            raise UnusableColumnsError(
                f"AutoEncoderDetector.fit: {which} has no finite value (all NaN or "
                f"infinite); drop it from X before fitting: {_drop_from_x(names[j], j, frame)}." if arr else
                f"Model {model!r}: column {names[j]!r} has no finite value in {source!r} (all NULL, NaN or "
                "infinite); leave it out by listing the columns to train on "
                f"({_listed_features()}).",
                [names[j]], list(names),
            )
        big = float(np.max(np.abs(finite)))
        if big > FLOAT32_SAFE:
            # Why refuse: the model computes in float32 (onnxruntime), where such values and the constants
            # fitted to them overflow to inf, and the column would score as one constant or as NaN.
            beyond = f"beyond what a model's float32 arithmetic holds (about {FLOAT32_SAFE:.0e})"
            scaled = f"{quote_ident(names[j])} / 1e{int(np.log10(big)) - 3}"
            raise BadInputError(
                f"AutoEncoderDetector.fit: {which} holds values as large as {big:.3g}, "
                f"{beyond}. Rescale it before fitting, e.g. divide it by 1e{int(np.log10(big)) - 3}." if arr else
                f"Model {model!r}: column {names[j]!r} holds values as large as {big:.3g} in {source!r}, {beyond}. "
                # Why REPLACE, under the column's own name: with a new column beside it, SELECT * still held the
                # column, and training on the query without features= failed the same way
                f"Rescale it in a query and train on that: SELECT * REPLACE ({scaled} AS {quote_ident(names[j])}) "
                f"FROM {_from_item(source) if source else '...'}, and score with the same expression: {scaled}."
            )
        if float(finite.min()) == float(finite.max()):
            c0 = float(finite[0])
            if constant_columns != "keep" and not arr and abs(c0) >= _DOUBLE_EXACT and _exact_type(sql_types[j]):
                raise _lost_digits_error(model, names[j], source, c0, names)
            if constant_columns != "keep":
                # a text column's category inputs are not columns to leave out (an "any other value" input no
                # training row holds is always 0): the loop above keeps them as they are
                others = [(k, v) for k in range(j + 1, d)
                          if sql_types[k] != SLOT_TYPE and (v := _one_value(X[:, k])) is not None]
                if others:
                    raise _constant_columns_error([(j, c0), *others], names, model, source, frame)
                # Why the count: a column holding one value in a few rows and NULL in the rest was said to hold it
                # "in every row", which the user could see was not so
                rows = ("in every row" if finite.size == n else
                        f"in the {finite.size} of {n} rows that hold a value; the others are NULL, NaN or "
                        "infinite")
                raise ConstantColumnsError(
                    f"AutoEncoderDetector.fit: {which} is constant "
                    f"({float(finite[0])!r} {rows}), so it cannot tell training rows apart; drop it from X "
                    f"({_drop_from_x(names[j], j, frame)}), or pass constant_columns='keep' to score any "
                    "other value as out of the training range." if arr else
                    f"Model {model!r}: column {names[j]!r} is constant ({float(finite[0])!r} {rows}) in "
                    f"{source!r}, so it cannot tell training rows apart; leave it out of "
                    f"{opt('features', flag='feature')} (the columns to keep), or pass {opt('constant_columns', 'keep')} to "
                    "score any other value as out of the training range.",
                    [names[j]], list(names),
                )
            c = float(finite[0])
            specs.append(FeatureSpec(name=names[j], sql_type=sql_types[j], transform="none", fill=c, center=c,
                                     scale=max(abs(c), 1.0), lo=0.0, hi=0.0))
            continue
        fill = float(np.median(finite))
        transform = "slog" if heavy_tailed(finite) else "none"  # one far value alone does not make a tail
        t = signed_log(finite) if transform == "slog" else finite
        center = float(np.median(t))
        scale = _spread(t)
        if not np.isfinite(scale) or scale <= 1e-12:
            scale = 1.0
        z = np.clip((t - center) / scale, -CLIP, CLIP)
        specs.append(
            FeatureSpec(
                name=names[j],
                sql_type=sql_types[j],
                transform=transform,
                fill=fill,
                center=center,
                scale=scale,
                lo=float(np.quantile(z, range_quantile)),
                hi=float(np.quantile(z, 1.0 - range_quantile)),
            )
        )
    return specs, filled


def transform(X: np.ndarray, specs: Sequence[FeatureSpec]) -> np.ndarray:
    """Raw values to scaled units, exactly as the exported graph does (float64 reference)."""
    out = np.empty(X.shape, dtype=np.float64)
    d = len(specs)
    # Every column at once, in the arithmetic a column alone took: the constants in the type a Python float takes
    # beside X (float32 for a float32 model's rows), the signed log on a contiguous copy. Why: one numpy call per
    # column was half the fixed cost of each 2048-row call with a NULL in it (missing.fill_missing) at 21 columns.
    dt = np.result_type(X.dtype, 0.0)
    V = np.where(np.isnan(X[:, :d]), np.array([s.fill for s in specs], dtype=dt), X[:, :d])
    logged = [j for j, s in enumerate(specs) if s.transform == "slog"]
    if logged:
        V[:, logged] = signed_log(V[:, logged])
    center, scale = np.array([s.center for s in specs], dtype=dt), np.array([s.scale for s in specs], dtype=dt)
    with np.errstate(over="ignore", invalid="ignore"):
        out[:, :d] = np.clip((V - center) / scale, -CLIP, CLIP)
    return out
