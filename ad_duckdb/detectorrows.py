"""The detector's ``X`` as float64 rows: a frame (pandas, polars, Arrow, DuckDB) or an array read and checked, each
refusal naming the column or value and the fix; a frame's names, its library and the call that selects its fitted
columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from .exceptions import BadInputError
from .flagcols import arrow_flags, flags_refused, pandas_flags
from .frames import EPOCH_RISES, arrow_rows, arrow_table, text_kept
from .levelcols import column_levels, levels_refused
from .pandascols import _mixed, _numbered_categories, _object_numbers, _text_numbers, _words


def _frame_rows(X: Any, what: str, library: str = "arrow") -> np.ndarray:
    """A DataFrame's values as float64, missing values (``pd.NA`` of nullable ``Int64``, ``None``) as NaN; a column
    that is not numbers is refused by name (numpy said only "could not convert string to float: 'a'"). ``library``:
    whose calls the refusal of an Arrow table names (``frames.advice_library`` of the frame given)."""
    if isinstance(X, pa.Table):
        flags = arrow_flags(X)
        if flags:
            raise BadInputError(flags_refused(what, flags, library))
        return arrow_rows(X, what, library)
    flagged = pandas_flags(X)
    if flagged:
        raise BadInputError(flags_refused(what, [str(n) for n, _ in flagged], "pandas", [t for _, t in flagged],
                                          [n for n, _ in flagged]))
    numbered = _numbered_categories(X)
    if numbered:  # as DuckDB reads them (their values, DOUBLE) and Arrow's dictionary of numbers is read here
        X = X.astype({c: np.float64 for c in numbered})
    # pd.ArrowDtype decimals are numbers whose dtype kind is "O"
    bad = [(str(c), str(t)) for c, t in X.dtypes.items()
           if t.kind not in "biuf" and not pa.types.is_decimal(getattr(t, "pyarrow_dtype", pa.null()))  # complex too
           and not _object_numbers(X[c])]
    if bad:
        numbers = {c: how for c, _ in bad if (how := _text_numbers(X[c])) is not None}
        if numbers:
            # Why first: the general advice below (get_dummies, astype) turns amounts into one column per amount
            fixes = "; ".join(f"{c!r} {how}" for c, how in numbers.items())
            raise BadInputError(f"{what}: text column(s) hold numbers: {fixes}.")
        mixed = [c for c, _ in bad if _mixed(X[c])]
        if mixed:
            # Why apart: a text column is a feature as it is, and get_dummies (below) was the wrong advice for a code
            # column read with a stray number; astype('string') keeps NaN a NULL where astype(str) writes 'nan'
            raise BadInputError(
                f"{what}: column {mixed[0]!r} mixes text with numbers (an object column of both); a text column is "
                f"read as its categories: X[{mixed[0]!r}] = X[{mixed[0]!r}].astype('string'), or, for numbers, "
                f"X[{mixed[0]!r}] = pd.to_numeric(X[{mixed[0]!r}], errors='coerce') (the text NaN, missing).")
        listed = ", ".join(f"{c!r} ({t})" for c, t in bad)
        times = [str(c) for c, t in X.dtypes.items() if t.kind == "M"]
        lengths = [str(c) for c, t in X.dtypes.items() if t.kind == "m"]
        cycle = (f"; for a datetime, a cycle, its hour of the day (X[{times[0]!r}].dt.hour) or day of the week "
                 f"(X[{times[0]!r}].dt.dayofweek){EPOCH_RISES}" if times else "")
        words = [c for c, _ in bad if _words(X[c])]  # read as their categories once the others are numbers
        # Why apart: get_dummies of a duration makes one column per length
        length = (f"; for a duration, its length in seconds, X[{lengths[0]!r}].dt.total_seconds()" if lengths else "")
        raise BadInputError(
            f"{what}: column(s) {listed} are not numeric. Drop them (X.drop(columns=[...])) or turn them into numbers "
            f"first{', e.g. pd.get_dummies(X, columns=[...]) for categories' if len(times) + len(lengths) + len(words) < len(bad) else ''}"
            f"{cycle}{length}{text_kept(words)}."
        )
    return X.to_numpy(dtype=np.float64, na_value=np.nan)



def _frame(X: Any) -> Any:
    """``X`` as a table whose columns have names: a pandas DataFrame as it is, a polars, Arrow or DuckDB one as an
    Arrow table; None for an array."""
    table = arrow_table(X)
    if table is not None:
        return table
    if column_levels(X):
        raise BadInputError(f"AutoEncoderDetector: {levels_refused(X)}.")
    return X if hasattr(X, "columns") and hasattr(X, "dtypes") else None


def _series_library(X: Any) -> str | None:
    """'pandas' or 'polars' when ``X`` is that library's Series (one row ``df.iloc[0]`` or one column ``df['a']``),
    whose fix is a DataFrame: a pandas one has no ``reshape``, which the hint for a 1-D array names, and a polars
    one's makes an Array column, still one."""
    top = type(X).__module__.split(".")[0]
    return top if top in ("pandas", "polars") and type(X).__name__ == "Series" else None


def _selection(X: Any) -> str:
    """The call that picks a detector's fitted columns of ``X`` in its own library: pandas' ``X[cols]``, which a
    DuckDB relation refuses ("use project()") and an Arrow table cannot take."""
    top = type(X).__module__.split(".")[0]
    if top in ("duckdb", "_duckdb"):
        return "X.select(*det.feature_names_in_)"
    if isinstance(X, dict):
        return "{c: X[c] for c in det.feature_names_in_}"
    if top in ("polars", "pyarrow"):
        return "X.select(det.feature_names_in_)"
    return "X[det.feature_names_in_]"


def _column_names(frame: Any) -> list[Any]:
    return frame.column_names if isinstance(frame, pa.Table) else list(frame.columns)


def _float_rows(X: Any, what: str) -> np.ndarray:
    """``X`` as a float64 array, refusing what numpy would turn into a bare ValueError."""
    if hasattr(X, "tocsr") and hasattr(X, "nnz"):  # scipy.sparse, without importing scipy
        raise BadInputError(
            f"{what}: X is a sparse matrix ({type(X).__name__}), which this detector does not take: an autoencoder "
            "reads every value, zeros included. Pass X.toarray() (a dense array of the same values)."
        )
    try:
        A = X if isinstance(X, np.ndarray) else np.asarray(X)
    except ValueError as e:  # rows of different lengths
        raise BadInputError(f"{what}: X is not a table of numbers ({e}).") from None
    if A.dtype.kind == "c":  # numpy would drop the imaginary parts with only a ComplexWarning
        raise BadInputError(f"{what}: Complex data not supported: X holds {A.dtype} values. Pass "
                            "X.real, np.abs(X), or both as columns: np.hstack([X.real, X.imag]).")
    if A.dtype.kind in "mM":
        # A DataFrame's are refused (_frame_rows); cast here they were numbers in their own unit, so rows of
        # datetime64[ns] scored against a model fitted on datetime64[s] lay 1e9 times further out
        if A.dtype.kind == "M":
            raise BadInputError(
                f"{what}: X holds datetime64 values ({A.dtype}), not numbers. Train on a cycle instead: the hour of "
                "the day, X.astype('datetime64[h]').astype('int64') % 24, or the day of the week (0 = Monday), "
                f"(X.astype('datetime64[D]').astype('int64') + 3) % 7, and score later rows the same way{EPOCH_RISES}.")
        raise BadInputError(f"{what}: X holds timedelta64 values ({A.dtype}), not numbers. Convert them in one unit "
                            f"first, e.g. X.astype('{A.dtype}').astype('int64') (or a DataFrame column's "
                            ".astype('int64')), and score later rows the same way.")
    if A.dtype.kind in "US":
        raise BadInputError(f"{what}: X holds text ({A.dtype}), not numbers. Convert it first, e.g. "
                            "X.astype(float), or load the columns as numbers.")
    if A.dtype.kind == "b":
        # Why refused, as a frame's True/False column is: read as 1/0 here, the same rows in SQL (a BOOLEAN) were
        # refused, so a model fitted on an array of flags scored rows no query could pass it
        raise BadInputError(f"{what}: X holds True/False values ({A.dtype}), not numbers, which SQL refuses as a "
                            "feature (a BOOLEAN), so the detector does too: read them as 1/0 first, X.astype(np.int8), "
                            "and score later rows the same way (in SQL, col::INTEGER).")
    try:
        return A.astype(np.float64, copy=False)
    except TypeError:
        # only then: looking at each value of an object array costs more than the cast itself
        if A.dtype != object or (filled := _pandas_na_as_nan(A)) is A:
            raise  # a TypeError (a dict in an object array) keeps numpy's message, as scikit-learn's
    except ValueError as e:
        raise BadInputError(f"{what}: X is not all numbers ({e}). Convert its columns to numbers first "
                            "(np.nan for a missing value).") from None
    return _float_rows(filled, what)


def _pandas_na_as_nan(A: np.ndarray) -> np.ndarray:
    """An object array with pandas' ``pd.NA`` (``df.to_numpy()`` of a nullable Int64 or Float64 column) as NaN where
    it stood: numpy reads None as NaN but stops at pd.NA with a bare TypeError. Without pandas loaded, none is there."""
    import sys

    pd = sys.modules.get("pandas")
    if pd is None:
        return A
    na = np.asarray(np.frompyfunc(lambda v: v is pd.NA, 1, 1)(A), dtype=bool)
    return np.where(na, np.nan, A) if na.any() else A


def _repeats(columns: Sequence[Any]) -> str:
    """The names that repeat once written as text, each with its columns where they differ (``'1' and 1``)."""
    seen: dict[str, list[Any]] = {}
    for c in columns:
        seen.setdefault(str(c), []).append(c)
    parts = []
    for name, cs in seen.items():
        if len(cs) > 1:
            same = all(isinstance(c, str) for c in cs)
            parts.append(f"{name!r} ({len(cs)} columns{'' if same else ': ' + ', '.join(map(repr, cs))})")
    return ", ".join(parts)
