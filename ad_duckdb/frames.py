"""Tables of DataFrame libraries other than pandas (polars, pyarrow, a DuckDB relation) as Arrow tables, and their
columns as numbers: the detector matches any of them to its features by column name, as it does a pandas DataFrame.

pandas is not read here: it is not a dependency of the core, and its own DataFrame keeps its own path."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from . import interrupts
from .exceptions import BadInputError


def unreadable_columns(X: Any, var: str = "X") -> str | None:
    """For a polars frame Arrow cannot take (its Int128, UInt128 or Object columns have no Arrow type, so DuckDB
    cannot read it either; an Object column exports, if at all, as its objects' addresses): those columns, by name
    and type, with the conversion that makes them readable; None when every column exports (or ``X`` is no polars
    DataFrame). ``var``: the frame's name in the fix."""
    if type(X).__module__.split(".")[0] != "polars" or type(X).__name__ != "DataFrame":
        return None
    bad = []
    for name in X.columns:
        # an Object column exports (by polars version) as fixed_size_binary[8], the objects' addresses: the detector
        # then called it that, "not numeric", with to_dummies as its fix
        if str(X.schema[name]) == "Object":
            bad.append(name)
            continue
        try:
            X.select(name).head(0).to_arrow()
        except Exception:  # polars raises Arrow's error or its own, by version: the column is what counts
            bad.append(name)
    if not bad:
        return None
    # Why a new Series for Object: polars refuses to cast it ("cannot cast 'Object' type"), and warns map_elements(float)
    # away to that cast; a Float64 Series takes the Decimals and numbers such a column holds (pd.read_sql's), None null
    casts = ", ".join(f"pl.Series({n!r}, {var}[{n!r}].to_list(), dtype=pl.Float64)" if str(X.schema[n]) == "Object"
                      else f"pl.col({n!r}).cast(pl.Float64)" for n in bad)
    listed = ", ".join(f"{n!r} ({X.schema[n]})" for n in bad)
    return (f"column(s) {listed} have no Arrow type, so neither DuckDB nor this detector can read them: cast them "
            f"first, {var}.with_columns({casts}) (or drop them, {var}.drop([...]))")


def arrow_table(X: Any) -> pa.Table | None:
    """``X`` as an Arrow table when it is a polars DataFrame or LazyFrame, an Arrow Table, RecordBatch,
    RecordBatchReader or Dataset, a DuckDB relation, or a dict of columns; None for anything else (pandas, numpy,
    lists)."""
    top = type(X).__module__.split(".")[0]
    if top == "polars":
        kind = type(X).__name__
        if kind == "LazyFrame":
            X, kind = X.collect(), "DataFrame"
        if kind != "DataFrame":  # a polars Series is one column without a table's names: it goes the way of a 1-D array
            return None
        unreadable = unreadable_columns(X)
        if unreadable:
            raise BadInputError(f"AutoEncoderDetector: {unreadable}.")
        return X.to_arrow()
    if top in ("duckdb", "_duckdb") and hasattr(X, "to_arrow_table"):
        try:
            return X.to_arrow_table()
        except (RuntimeError, duckdb.Error) as e:
            # A notebook's interrupt while the relation's query runs (its UDFs, a slow scan): DuckDB wraps it
            if interrupts.signalled(e):
                raise interrupts.as_interrupt("Reading the DuckDB relation X", writes=False) from e
            raise
    # DuckDB reads a dict of numpy arrays as a table of those columns; so does the detector. A scipy dok_matrix is a
    # dict too, of (row, column) keys: the detector refuses it as sparse
    if isinstance(X, dict) and not hasattr(X, "nnz"):
        try:
            return pa.table(X)
        except (pa.ArrowException, TypeError, ValueError) as e:
            raise BadInputError(f"X is a dict, which is read as a table: give one 1-D array per column name, e.g. "
                                f"{{'count': counts, 'amount': amounts}} ({e}).") from None
    if isinstance(X, pa.Table):
        return X
    if isinstance(X, pa.RecordBatch):
        return pa.Table.from_batches([X])
    if isinstance(X, pa.RecordBatchReader):
        return X.read_all()
    if top == "pyarrow" and hasattr(X, "to_table") and hasattr(X, "schema"):  # pyarrow.dataset, imported lazily
        return X.to_table()
    return None


def _numeric(typ: pa.DataType) -> bool:
    return pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ) or pa.types.is_boolean(typ)


# Why a cycle rather than the number a date or time is: the SQL path says the same (numberhints.py)
EPOCH_RISES = (" (as a number, its epoch units, it rises with time, so every row later than the training rows would "
               "lie beyond the training range and be flagged)")


def advice_library(X: Any) -> str:
    """Whose calls a refusal of ``X``'s columns names: 'polars' for a polars frame, 'duckdb' for a DuckDB relation,
    'arrow' for the rest (an Arrow table, batch, reader, dataset, or a dict of columns)."""
    top = type(X).__module__.split(".")[0]
    return "polars" if top == "polars" else "duckdb" if top in ("duckdb", "_duckdb") else "arrow"


def _text_numbers(col: pa.ChunkedArray) -> tuple[float, Any]:
    """The share of a text column's first 10,000 values that are numbers, and how they are written, as the
    SQL sources' hint judges them (``textnumbers.written_in``)."""
    from .textnumbers import written_in

    values = [v for v in col.slice(0, 10_000).drop_null().to_pylist() if isinstance(v, str)]
    return written_in(values) if values else (0.0, None)


def _as_number_fix(name: str, style: Any, library: str) -> str:
    """The call that reads text column ``name`` as numbers in ``library``: polars' cast for plain numbers, else the
    DuckDB query (which reads a polars or Arrow frame by its variable's name) that drops currency marks and
    separators as training's hint does."""
    from .sqltext import quote_ident
    from .textnumbers import text_as_number, written_words

    if library == "polars" and not written_words(style):
        return f"X.with_columns(pl.col({_py(name)}).cast(pl.Float64, strict=False))"
    expr = f"{text_as_number(name, style)} AS {quote_ident(name)}"
    return (f"X.project({_py('* REPLACE (' + expr + ')')})" if library == "duckdb"
            else f"duckdb.sql({_py('SELECT * REPLACE (' + expr + ') FROM X')})")


def _py(text: str) -> str:
    """``text`` as a Python string to paste: quoted as repr does, or raw and triple-quoted when it holds both kinds
    of quote (SQL with a quoted name and a text literal), where repr's escapes made it hard to read."""
    if "'" not in text or '"' not in text:
        return repr(text)
    return f'r"""{text}"""' if not text.endswith('"') else "r'''" + text + "'''"


def _cycle_fix(name: str, date: bool, library: str) -> str:
    """A date's day of the week, or a time's hour of the day or day of the week, in ``library``: a timestamp has
    both cycles, and which one carries the law (a night-time transfer, a weekend batch) is the user's to say."""
    from .sqltext import quote_ident

    q = quote_ident(name)
    if library == "polars":
        hour, week = f"pl.col({_py(name)}).dt.hour()", f"pl.col({_py(name)}).dt.weekday(), 1 = Monday"
    elif library == "duckdb":
        hour = f"X.project({_py(f'* REPLACE (hour({q}) AS {q})')})"
        week = f"X.project({_py(f'* REPLACE (isodow({q}) AS {q})')}), 1 = Monday"
    else:
        hour, week = f"pc.hour(X[{name!r}])", f"pc.day_of_week(X[{name!r}]), 0 = Monday"
    return f"its day of the week ({week})" if date else f"its hour of the day ({hour}) or day of the week ({week})"


def _length_fix(name: str, library: str) -> str:
    """A duration's length in seconds in ``library``."""
    from .sqltext import quote_ident

    q = quote_ident(name)
    if library == "polars":
        return f"pl.col({_py(name)}).dt.total_seconds()"
    if library == "duckdb":
        return f"X.project({_py(f'* REPLACE (epoch({q}) AS {q})')})"
    return f"duckdb.sql({_py(f'SELECT * REPLACE (epoch({q}) AS {q}) FROM X')})"


_DROP = {"polars": "X.drop([...])", "duckdb": "X.project('* EXCLUDE (...)')", "arrow": "X.drop_columns([...])"}
def _dummies_fix(name: str, library: str) -> str:
    """One 0/1 column of one value of category column ``name`` in ``library``."""
    from .sqltext import quote_ident

    if library == "polars":
        return "X.to_dummies([...])"
    if library == "duckdb":
        sql = f"*, ({quote_ident(name)} = 'a value')::INTEGER AS {quote_ident(name + '_a')}"
        return f"X.project({_py(sql)})"
    return f"pc.equal(X[{name!r}], 'a value').cast(pa.int8())"


def text_kept(words: Sequence[str]) -> str:
    """For a refusal listing text columns of words beside other columns that are not numbers: the text ones need no
    fix (``AutoEncoderDetector.fit`` reads them as their categories, detectorfit), only the others do."""
    if not words:
        return ""
    listed = ", ".join(repr(str(w)) for w in words)
    return (f"; the text column{'s' if len(words) > 1 else ''} {listed} need{'' if len(words) > 1 else 's'} nothing: "
            "fit reads text as its categories, as ad_duckdb.train does, once the other columns are numbers (or "
            "dropped)")


def arrow_rows(table: pa.Table, what: str, library: str = "arrow") -> np.ndarray:
    """``table``'s columns as float64 rows, nulls as NaN (missing values, filled as pandas' ``pd.NA`` is); a column
    that is not numbers is refused by name, with its Arrow type and the fix in ``library`` (``advice_library``)."""
    bad, times, lengths, numbers, others, words = [], [], [], [], [], []
    for name, col in zip(table.column_names, table.columns, strict=True):
        typ = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
        # Why a null column is read: it holds no value, a missing one in every row (Arrow's and polars' type of a
        # column of None, a dict's {'amount': [None]}), as pandas' column of None is; fit refuses it before
        # (detectorfit.refuse_empty), as a column that tells no row from another
        if not _numeric(typ) and not pa.types.is_null(typ):
            # as pandas names its dictionary-encoded columns, not dictionary<values=large_string, indices=uint32, ...>
            bad.append(f"{name!r} ({'category' if pa.types.is_dictionary(col.type) else col.type})")
            if pa.types.is_timestamp(typ) or pa.types.is_date(typ) or pa.types.is_time(typ):
                times.append((name, pa.types.is_date(typ)))
            elif pa.types.is_duration(typ) or pa.types.is_interval(typ):
                lengths.append(name)
            elif pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
                share, style = _text_numbers(col)
                if share >= 0.5:  # Why first: one 0/1 column per category would be one per number
                    numbers.append((name, share, style))
                else:
                    words.append(name)
            else:
                others.append(name)
    if numbers:
        from .textnumbers import written_words

        fixes = "; ".join(
            f"{name!r} numbers written as text{(' (' + written_words(style) + ')') if written_words(style) else ''}"
            f"{'' if share == 1 else ' apart from a few'}: {_as_number_fix(name, style, library)}"
            for name, share, style in numbers)
        raise BadInputError(f"{what}: text column(s) hold numbers: {fixes} (a value that is not a number becomes "
                            "null, a missing value).")
    if bad:
        cycle = (f"; for a date or time, a cycle, {_cycle_fix(times[0][0], times[0][1], library)}{EPOCH_RISES}"
                 if times else "")
        length = f"; for a duration, its length in seconds, {_length_fix(lengths[0], library)}" if lengths else ""
        raise BadInputError(
            f"{what}: column(s) {', '.join(bad)} are not numeric. Drop them (select only the numeric columns, e.g. "
            f"{_DROP[library]}) or turn them into numbers first"
            f"{f', e.g. one 0/1 column per category ({_dummies_fix(others[0], library)})' if others else ''}{cycle}{length}"
            f"{text_kept(words)}."
        )
    if table.num_columns == 0:
        return np.empty((table.num_rows, 0))
    # safe=False: a UInt64 or DECIMAL beyond 2**53 becomes the nearest float, as pandas' to_numpy(float64) does
    return np.stack([col.cast(pa.float64(), safe=False).to_numpy() for col in table.columns], axis=1)


def frame_library(X: Any) -> str | None:
    """'polars' for a polars DataFrame or LazyFrame, 'arrow' for an Arrow table, batch, reader or dataset, a DuckDB
    relation or a dict of columns: the kind of frame a result about ``X``'s rows is given back as
    (``AutoEncoderDetector.explain``); None for anything else (pandas has its own, numpy none)."""
    top = type(X).__module__.split(".")[0]
    if top == "polars" and type(X).__name__ in ("DataFrame", "LazyFrame"):
        return "polars"
    # Why Arrow for a relation: it has no public handle on its connection to make a relation of the result on, and
    # DuckDB reads an Arrow table by its variable's name (or con.from_arrow); a dict of columns is read as a table
    if isinstance(X, pa.Table | pa.RecordBatch | pa.RecordBatchReader) or (
            top in ("duckdb", "_duckdb") and hasattr(X, "to_arrow_table")) or (isinstance(X, dict) and not hasattr(X, "nnz")):
        return "arrow"
    return "arrow" if top == "pyarrow" and hasattr(X, "to_table") and hasattr(X, "schema") else None


# score(explain=True)'s anomaly_imputed type: feature -> the value a missing one was scored at, NULL where none was
IMPUTED_TYPE = pa.map_(pa.string(), pa.float64())


def imputed_map(held: np.ndarray, values: np.ndarray, names: pa.Array) -> pa.Array:
    """Per row, each missing feature (``held`` [n, d]) -> the value it was scored at (``values``, row by row, as
    ``X[held]`` orders them), as a MAP; NULL for a row with no value missing. ``names``: the features' names."""
    # Why to_arrow, not pa.array: pa.array of a numpy array imports pandas (56 MiB) in a scoring process
    from .arrownumbers import to_arrow

    some = np.asarray(held.any(axis=1))
    offsets = np.zeros(len(held) + 1, dtype=np.int32)
    np.cumsum(held.sum(axis=1), out=offsets[1:])
    _, cols = np.nonzero(held)  # row by row, as the boolean index of values
    return pa.MapArray.from_arrays(to_arrow(offsets, pa.int32()), names.take(to_arrow(cols, pa.int64())),
                                   to_arrow(values, pa.float64()), type=IMPUTED_TYPE, mask=to_arrow(~some, pa.bool_()))


def explanation_frame(library: str, names: np.ndarray, shares: np.ndarray, imputed: np.ndarray,
                      features: list[str]) -> Any:
    """``explain``'s columns ``feature_1``, ``share_1``, ... and ``imputed`` as an Arrow table (``library`` 'arrow')
    or a polars DataFrame ('polars'). ``names`` and ``shares`` [n, k]; ``imputed`` [n, d], NaN where not missing."""
    columns: dict[str, pa.Array] = {}
    for j in range(names.shape[1]):
        columns[f"feature_{j + 1}"] = pa.array(names[:, j].tolist(), type=pa.string())
        columns[f"share_{j + 1}"] = pa.array(shares[:, j], type=pa.float64())
    held = ~np.isnan(imputed)
    columns["imputed"] = imputed_map(held, imputed[held], pa.array(features, type=pa.string()))
    table = pa.table(columns)
    if library == "polars":
        import polars as pl  # loaded: X was one of its frames

        return pl.from_arrow(table)
    return table
