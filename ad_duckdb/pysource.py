"""Sources that are Python objects in the caller's code: a pandas or polars DataFrame, an Arrow table, a list of
records (``records``).

DuckDB reads such an object by its variable name (``con.sql("SELECT * FROM df")``), looking in the frame that runs
the query. Our functions run their queries in frames of their own, so ``ad_duckdb.train(con, "m", "df")`` would not
find the caller's ``df``; looking in every frame instead would find our own local variables first. So the name is
looked up once, in the nearest frame outside this package, and the object registered on the cursor that reads it.
"""

from __future__ import annotations

import re
import sys
import weakref
from contextvars import ContextVar
from types import FrameType
from typing import Any

import duckdb
import pyarrow as pa

from . import callerview, filesearch, indexcols, interrupts, notes, records
from .exceptions import BadInputError
from .frames import unreadable_columns
from .levelcols import column_levels, levels_refused
from .sqltext import is_query, name_parts, quote_ident, source_sql

_NAME = re.compile(r"[A-Za-z_]\w*")
# The modules whose objects DuckDB scans (what ``con.register`` accepts), a relation (rel = con.sql(...)) included.
_SCANNABLE = ("pandas", "polars", "pyarrow", "numpy", "duckdb", "_duckdb")
# The caller's objects each cursor of ``cursor`` registered, by name: training records them (``python_names``), as
# its source names a variable of that Python session rather than a table of the database.
_REGISTERED: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, list[str]] = weakref.WeakKeyDictionary()


def _caller_frame() -> FrameType | None:
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and notes.ours(frame):
        frame = frame.f_back
    return frame


def _scannable(value: object) -> bool:
    if isinstance(value, dict):  # DuckDB reads a dict of numpy arrays as a table of those columns
        return bool(value) and all(type(v).__module__.split(".")[0] == "numpy" for v in value.values())
    return type(value).__module__.split(".")[0] in _SCANNABLE and not isinstance(value, (int, float, str))


def _relation(value: object) -> bool:
    return type(value).__module__.split(".")[0] in ("duckdb", "_duckdb") and hasattr(value, "to_arrow_table")


def _other_connection_error(name: str) -> BadInputError:
    return BadInputError(
        f"{name!r} is a DuckDB relation of another connection (duckdb.sql(...) or another database's), which "
        "this connection cannot read. Build it "
        f"on the connection you pass (rel = con.sql(...)), or pass its rows: {name}_tbl = {name}.to_arrow_table(), "
        f"then '{name}_tbl'."
    )


def caller_name(value: object) -> str | None:
    """The name the caller's code gives ``value``, for a message that says what to pass instead of the object."""
    frame = _caller_frame()
    if frame is None:
        return None
    for scope in (frame.f_locals, frame.f_globals):
        name = next((k for k, v in scope.items() if v is value and _NAME.fullmatch(k) and not k.startswith("_")), None)
        if name is not None:
            return name
    return None


# Set by the `ad-duckdb` command (cli._Group.invoke) while it runs: its sources are text from a shell, never a
# Python variable, so a message must not offer one. A context variable, not the call stack: the command may run as
# the console script, as `python -m ad_duckdb[.cli]`, or in a test's CliRunner.
COMMAND_LINE: ContextVar[bool] = ContextVar("ad_duckdb_command_line", default=False)


def from_command_line() -> bool:
    """Whether the ``ad-duckdb`` command runs this call (see COMMAND_LINE)."""
    return COMMAND_LINE.get()


# Set while SQL calls ad_duckdb (the dbt macro's function store_anomaly_threshold): its source is text from a macro,
# never a Python variable, though the call is no command line's (its fixes are SQL's, not the command's flags).
SQL_CALLER: ContextVar[bool] = ContextVar("ad_duckdb_sql_caller", default=False)


def python_variables() -> bool:
    """Whether the caller could pass a DataFrame or Arrow table variable as a source (neither a shell nor SQL)."""
    return not COMMAND_LINE.get() and not SQL_CALLER.get()


def frame_names() -> list[str]:
    """The names of the DataFrames and Arrow tables the caller's code can pass as a source (for a did-you-mean)."""
    frame = _caller_frame()
    if frame is None:
        return []
    scope = {**frame.f_globals, **frame.f_locals}
    return [k for k, v in scope.items() if _NAME.fullmatch(k) and not k.startswith("_") and _scannable(v)
            and (hasattr(v, "columns") or hasattr(v, "schema"))]


# The names a query reads from, roughly: registering a DataFrame the query does not read after all costs nothing.
# A name may be quoted ("order", a DataFrame named like a keyword) or in schema main (main.df), as DuckDB's own
# queries read them, and a FROM list may name several (FROM df, other).
_ITEM = r'(?:"?main"?\s*\.\s*)?(?:"(?:[^"]|"")+"|[A-Za-z_]\w*)(?![\w"(.])'
# An alias is no keyword that may follow a FROM item: "FROM tx JOIN labels" read JOIN as tx's alias, so the labels
# DataFrame it joins was never registered ("Table with name labels does not exist")
_ALIAS = (r"(?:\s+(?:as\s+)?(?!(?:join|left|right|inner|outer|full|cross|natural|anti|semi|positional|asof|using|on|"
          r"where|group|order|limit|having|union|except|intersect|window|qualify)\b)\w+)?")
_FROM_LIST = re.compile(rf"\b(?:from|join)\s+({_ITEM}{_ALIAS}(?:\s*,\s*{_ITEM}{_ALIAS})*)", re.I)
_LIST_ITEM = re.compile(rf"(?:^|,)\s*({_ITEM})", re.I)


def index_times(source: str) -> str | None:
    """For a source that is, or a query that reads, a pandas DataFrame of the caller's whose index holds its times (a
    DatetimeIndex, the usual shape of a time series in pandas): what to do, as DuckDB reads no index; else None."""
    text = source.strip()
    frame = _caller_frame()
    if frame is None:
        return None
    bare = bool(_NAME.fullmatch(text))
    for name in [text] if bare else _reads(text):
        value: Any = frame.f_locals.get(name, frame.f_globals.get(name))
        if type(value).__module__.split(".")[0] != "pandas" or not hasattr(value, "columns"):
            continue
        index = value.index
        times = [lv.name for lv in (index.get_level_values(i) for i in range(index.nlevels))
                 if getattr(lv.dtype, "kind", "") == "M"]
        if times:
            shown = ", ".join(repr(t) if t is not None else "unnamed" for t in times)
            then = f"then pass '{name}_t'" if bare else f"and read {name}_t in the query instead of {name}"
            return (f"the times of {name} are its index ({shown}), which DuckDB does not read as a column; make it "
                    f"one: {name}_t = {name}.reset_index(), {then}.")
    return None


def named_frame(source: object) -> Any | None:
    """The caller's pandas DataFrame ``source`` names alone (a bare variable name), else None."""
    if not isinstance(source, str) or not _NAME.fullmatch(source.strip()):
        return None
    value: Any = _named_objects(source.strip()).get(source.strip())
    return value if type(value).__module__.split(".")[0] == "pandas" and hasattr(value, "columns") else None


def index_left_out(source: object) -> str | None:
    """For a source that names a pandas DataFrame of the caller's alone whose index is named (``set_index('tid')``,
    a groupby's keys): that its index is not among the scored columns, and the call that keeps it; else None.

    Why: DuckDB reads no index, so scoring such a frame by name gave back its rows without their ids, and nothing
    said so; the scores could then not be joined back to the rows (a DatetimeIndex has ``index_times``' own advice
    in a plot)."""
    value = named_frame(source)
    if value is None:
        return None
    name = str(source).strip()
    if not indexcols.has_index(value) or indexcols.as_columns(value) is not None:
        return None  # a plain index; or one kept as columns (score)
    names = list(value.index.names)
    shown = ", ".join("unnamed" if n is None else repr(str(n)) for n in names)
    clash = [str(n) for n in names if n is not None and n in value.columns]
    if clash:  # reset_index() refuses it: the level takes another name
        renamed = [f"{n}_index" if n is not None and n in value.columns else n for n in names]
        return (f"the index of {name!r} ({shown}) is not read by DuckDB, so the scored rows come back without it, and "
                f"it cannot be kept as columns: {', '.join(map(repr, clash))} is also a column's name. To keep it beside "
                f"the scores, name it otherwise: {name}_r = {name}.reset_index(names={renamed!r}), then score "
                f"'{name}_r'.")
    return (f"the index of {name!r} ({shown}) is not read by DuckDB, so the scored rows come back without it; to "
            f"keep it beside the scores, make it columns: {name}_r = {name}.reset_index(), then score '{name}_r' "
            "(the model reads its features by name, so the new columns are kept, not scored).")


def _reads(sql: str) -> list[str]:
    """The unquoted names of the tables ``sql`` reads in its FROM and JOIN clauses, each once."""
    out = []
    for items in _FROM_LIST.findall(sql):
        for item in _LIST_ITEM.findall(items):
            name = re.sub(r'^"?main"?\s*\.\s*', "", item, flags=re.I)
            out.append(name[1:-1].replace('""', '"') if name.startswith('"') else name)
    return list(dict.fromkeys(out))


def _transposed(value: object) -> bool:
    """A numpy array of two or more dimensions: DuckDB reads each of its rows as a column (``column0``, ...), so X
    of shape (300, 25) trained a 300-feature model on 25 rows without a word."""
    return type(value).__module__.split(".")[0] == "numpy" and len(getattr(value, "shape", ())) >= 2


def _transposed_error(name: str, value: Any) -> BadInputError:
    shape = tuple(value.shape)
    if len(shape) > 2:
        # Why not the DataFrame hint below: pandas refuses a 3-D array, so that fix would fail in turn
        return BadInputError(
            f"{name!r} is a numpy array of shape {shape}; a source has rows and columns only. Reshape it to "
            f"(rows, columns) and name the columns in a DataFrame: {name}_df = pd.DataFrame({name}.reshape("
            f"{shape[0]}, -1), columns=[...]), then pass '{name}_df'."
        )
    # Why both orientations: which one the array is in cannot be told from its shape, and the fix for one transposes
    # the other (an array of shape (2, 300) built from two columns must not become 2 rows of 300 features).
    rows, cols = shape
    return BadInputError(
        f"{name!r} is a numpy array of shape {shape}, which DuckDB reads with each row as a column ({rows} columns "
        f"of {cols} values). Name its columns in a DataFrame and pass that: {name}_df = pd.DataFrame({name}, "
        f"columns=[...]) with {cols} names if each row of {name} is a record (scikit-learn's (rows, columns)), or "
        f"pd.DataFrame({name}.T, columns=[...]) with {rows} names if each row of {name} is a column; then pass "
        f"'{name}_df'. Or fit AutoEncoderDetector on a (rows, columns) array itself (from ad_duckdb.detector import "
        "AutoEncoderDetector)."
    )


def python_names(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """The names of the caller's DataFrames and Arrow tables ``cursor`` registered on ``cur`` (none: [])."""
    return list(_REGISTERED.get(cur, ()))


def _named_objects(source: object) -> dict[str, Any]:
    """The objects DuckDB can scan that the text ``source`` names, by name, from the nearest frame outside this
    package."""
    if not isinstance(source, str):
        return {}
    names = _reads(f"FROM {source.strip()}") if re.fullmatch(_ITEM, source.strip()) else _reads(source)
    frame = _caller_frame()
    if frame is None or not names:
        return {}
    values: dict[str, Any] = {}
    for name in names:
        value = frame.f_locals.get(name, frame.f_globals.get(name))
        if value is not None and (_scannable(value) or isinstance(value, list)):
            values[name] = value
    return values


def category_keys(source: object) -> dict[str, str]:
    """The category columns of numbers of the caller's DataFrame or Arrow table that ``source`` names alone, each
    (lower case) with its first value as a folder would name it (``month=1``); {} for anything else.

    Why: ``pd.read_parquet('lake')`` and pyarrow's ``read_table`` read a hive folder's keys (``month=3``) as such
    columns (pandas category, Arrow dictionary), which DuckDB reads as plain numbers, so the path's key check never
    saw them; a category's numbers name a group (a folder), not a quantity."""
    if not isinstance(source, str) or not _NAME.fullmatch(source.strip()):
        return {}
    value: Any = _named_objects(source).get(source.strip())
    keys: dict[str, str] = {}
    if isinstance(value, pa.Table):
        for field, col in zip(value.schema, value.columns, strict=True):
            kind = field.type
            if pa.types.is_dictionary(kind) and (pa.types.is_integer(kind.value_type)
                                                 or pa.types.is_floating(kind.value_type)):
                chunk = next((c for c in col.chunks if len(c.dictionary)), None)
                first = chunk.dictionary[0].as_py() if chunk is not None else ""
                keys[field.name.lower()] = f"{field.name}={first}"
    elif type(value).__module__.split(".")[0] == "pandas" and hasattr(value, "columns"):
        for name, dtype in value.dtypes.items():
            cats = getattr(dtype, "categories", None)
            if isinstance(name, str) and cats is not None and getattr(cats.dtype, "kind", "") in "iuf" and len(cats):
                keys[name.lower()] = f"{name}={cats[0]}"
    return keys


def reads_once(source: object) -> bool:
    """Whether ``source`` names a record-batch reader of the caller's, which DuckDB reads once: a second read of
    the source (a check before the scoring) would leave the scoring no rows."""
    return any(isinstance(v, pa.RecordBatchReader) for v in _named_objects(source).values())


def cursor(con: duckdb.DuckDBPyConnection, source: object = None, *,
           rereads: bool = False) -> duckdb.DuckDBPyConnection:
    """A cursor of ``con`` on which ``source`` reads what it would in the caller's own ``con.sql``: a table or view
    of a name first, else the caller's DataFrame or Arrow table of that name (``'df'``, or a query such as
    ``'SELECT * FROM df WHERE amount > 0'``). ``rereads``: the caller reads the source more than once (training:
    its columns, its rows, the thresholds' pass), so a record-batch reader, which DuckDB scans only once, is read
    into a table first."""
    cur = interrupts.cursor(con)
    filesearch.carry(con, cur)
    if isinstance(source, str) and not is_query(source) and len(name_parts(source) or ()) > 1:
        # Why off: no variable is named with a dot, and DuckDB's replacement scan read the last part alone in
        # ad_duckdb's own module, where the file good.json ("good"."json") met the json module and was refused as
        # "not suitable for replacement scans"
        cur.execute("SET python_enable_replacements = false")
    if isinstance(source, str):
        callerview.follow_caller(con, cur, source_sql(source))
    values = _named_objects(source)
    if not values or not isinstance(source, str):
        return cur
    # A table or view of the name comes first, as in DuckDB. Replacement scans off for the check: they would look
    # in this function's own variables.
    refused: list[BadInputError] = []  # raised after the RESET below, the cursor closed
    cur.execute("SET python_enable_replacements = false")
    try:
        for name, value in values.items():
            try:
                cur.execute(f"SELECT 1 FROM {quote_ident(name)} LIMIT 0")
                # Why say so: a notebook that once ran CREATE TABLE df AS SELECT * FROM df, then changed df, would
                # otherwise train and score on the stale table without a word.
                if hasattr(value, "columns") or hasattr(value, "schema"):  # a DataFrame or Arrow table, not an array
                    notes.warn(
                        f"{name!r} names both a table or view in the database and a {type(value).__name__} in your "
                        f"Python code; {source.strip()!r} reads the table, as DuckDB's own queries do. To read the "
                        f"{type(value).__name__}, give its variable another name, or drop the table (DROP TABLE "
                        f"{name}).",
                    )
            except duckdb.CatalogException:
                if isinstance(value, list):  # DuckDB cannot scan a list; records reads one of records
                    try:
                        value = records.as_table(name, value, bare=source.strip() == name)
                    except BadInputError as e:
                        refused.append(e)
                        continue
                if _transposed(value):
                    refused.append(_transposed_error(name, value))
                    continue
                if column_levels(value):
                    refused.append(BadInputError(f"The DataFrame {name!r}: {levels_refused(value, name)}."))
                    continue
                if rereads and isinstance(value, pa.RecordBatchReader):
                    # else the second read stopped with "This RecordBatchReader has already been consumed", on a
                    # reader the user had just made
                    value = value.read_all()
                if (with_index := indexcols.as_columns(value)) is not None:
                    value = with_index
                try:
                    cur.register(name, value)
                    _REGISTERED.setdefault(cur, []).append(name)
                except Exception:
                    # else not an object DuckDB can read after all: the query's own error says what the name is
                    if _relation(value):
                        refused.append(_other_connection_error(name))
                    elif (unreadable := unreadable_columns(value, name)) is not None:
                        # else "does not exist ... Did you mean 't'?", of the very variable named
                        refused.append(BadInputError(f"The polars DataFrame {name!r}: {unreadable}."))
            except duckdb.Error:
                pass
    finally:
        cur.execute("RESET python_enable_replacements")
    if refused:
        cur.close()
        raise refused[0]
    return cur
