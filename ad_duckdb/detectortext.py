"""A model with text features as ``AutoEncoderDetector.from_store`` scores it (categorical.py): a frame's numeric
columns as numbers and each text column as its 0/1 inputs (``Layout.encode``, as the SQL functions map the strings),
so that the detector scores, predicts and explains as SQL does. Never imports torch.

Why: ``from_store`` refused such a model with the SQL call, and a notebook had no way to score a DataFrame of the
rows it held with the stored graph."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .categorical import Layout, is_missing
from .exceptions import BadInputError
from .scoring import LoadedModel


def text_rows(X: Any, lay: Layout, names: list[str], select: str, library: str) -> np.ndarray:
    """``X`` (a frame with the model's columns, matched by name) as the graph's inputs [n, ``lay.width``]; rows of
    those inputs (what this returns) are passed on as they are."""
    from .detectorrows import _column_names, _frame, _frame_rows, _repeats

    if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind == "f" and X.shape[1] == lay.width:
        return X  # made here: decision_function hands its rows on to score_with_errors
    frame = _frame(value_rows(X, lay, names))
    text = ", ".join(repr(n) for n, _ in lay.text)
    if frame is None:
        one = _one_row_fix(X, len(names))
        if one:
            raise BadInputError(f"AutoEncoderDetector: X is 1-D, of shape ({len(X)},), where this model takes rows of "
                                f"its {len(names)} columns {names}: {one}.")
        raise BadInputError(
            f"AutoEncoderDetector: this model has text features ({text}), which an array of numbers cannot hold: pass "
            f"a DataFrame (pandas, polars or Arrow) with the columns {names}, its text columns as text (got "
            f"{type(X).__name__}), e.g. pd.DataFrame(rows, columns={names!r}), or rows of those values, the text as text "
            "and None for NULL (a list of lists, or an array of dtype=object).")
    columns = _column_names(frame)
    given = [str(c) for c in columns]
    absent = [n for n in names if n not in given]
    if absent or _repeats(columns):
        why = f"missing {absent}" if absent else f"repeated names {_repeats(columns)}"
        raise BadInputError(f"X's columns are not the ones this model takes ({why}): pass {select}, the columns "
                            f"{names}, each once, the text ones ({text}) as text.")
    numeric = names[: lay.numeric]
    if isinstance(frame, pa.Table):
        nums = _frame_rows(frame.select(numeric), "AutoEncoderDetector", library)
        texts = [frame.column(n) for n, _ in lay.text]
    else:
        by_name = {str(c): c for c in columns}
        nums = _frame_rows(frame[[by_name[n] for n in numeric]], "AutoEncoderDetector", library)
        texts = [_pandas_text(frame[by_name[n]], n) for n, _ in lay.text]
    texts = [_as_nulls(t) for t in texts]
    for (n, _), t in zip(lay.text, texts, strict=True):
        if not (pa.types.is_null(t.type) or pa.types.is_string(t.type) or pa.types.is_large_string(t.type)
                or pa.types.is_string_view(t.type) or pa.types.is_dictionary(t.type)):
            raise BadInputError(f"AutoEncoderDetector: column {n!r} holds {t.type} values, but the model reads it as "
                                f"text (its categories): pass it as text, e.g. {_AS_TEXT.format(n=n)}.")
    parts = [nums, *(lay.encode(t, k) for k, t in enumerate(texts))]
    return np.require(np.concatenate(parts, axis=1), requirements=["C", "W"])


def _one_row_fix(X: Any, width: int) -> str:
    """The fix for one row given 1-D (a frame's row ``df.iloc[0]``, a Series; an array of dtype=object), as a numeric
    model's refusal names it; '' for anything else. Why: of a text model they were told that "an array of numbers
    cannot hold" the text, which they held, with no word of the one-row frame or the reshape."""
    from .detectorrows import _series_library

    series = _series_library(X)
    if series is not None and len(X) == width:
        return ("a pandas Series is not a table: pass a DataFrame, X.to_frame().T for one row (or df.iloc[[i]], double "
                "brackets)" if series == "pandas" else "a polars Series is not a table: df[i:i + 1] for one row")
    if isinstance(X, np.ndarray) and X.ndim == 1 and len(X) == width:
        return "reshape it, X.reshape(1, -1) for one row"
    return ""


_AS_TEXT = "X[{n!r}].astype('string') (which keeps a missing value NULL, where astype(str) writes 'nan')"


def _pandas_text(col: Any, name: str) -> Any:
    """A pandas column as Arrow; one mixing text with numbers (an object column of 7 and 'web') is refused by name,
    where pyarrow's own error named neither the column nor what to do."""
    try:
        return pa.array(col, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise BadInputError(f"AutoEncoderDetector: column {name!r} mixes text with other values ({e}), but the model "
                            f"reads it as text (its categories): pass it as text, e.g. {_AS_TEXT.format(n=name)}.") from e


def _as_nulls(t: Any) -> Any:
    """A float column with no value (pandas types a column missing in every row, as a CSV's empty column, float64
    NaN) as the NULLs it holds: the text a model reads there is missing, not refused."""
    if len(t) and pa.types.is_floating(t.type) and t.null_count + (pc.sum(pc.is_nan(t)).as_py() or 0) == len(t):
        return pa.nulls(len(t), pa.string())
    return t


def text_attribution(lm: LoadedModel, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each column's part in each row's score [n, columns] (a text column's the sum of its inputs', as SQL's
    ``anomaly_explain``), which values were missing [n, columns] (a text column's NULL is read as its first
    category, never missing), and the values missing numbers were scored at (NaN elsewhere)."""
    lay = lm.layout
    assert lay is not None
    _, parts, taken = lm.attribution_as_scored(rows)
    k = lay.numeric
    missing = np.zeros(parts.shape, dtype=bool)
    missing[:, :k] = np.isnan(rows[:, :k])
    imputed = np.full(parts.shape, np.nan)
    imputed[:, :k] = np.where(missing[:, :k], taken[:, :k], np.nan)
    return parts, missing, imputed


def read_once(X: Any, lay: Layout, names: list[str]) -> Any:
    """``X`` as a frame that can be read twice (an Arrow reader, dataset or DuckDB relation as an Arrow table; rows of
    values as ``value_rows`` reads them): its rows are read for scoring, then its text NULLs (``text_imputed``)."""
    from .frames import arrow_table
    from .onerow import flat_row

    X = value_rows(flat_row(X, names), lay, names)  # one row as a dict: its columns, read twice
    table = arrow_table(X)
    return X if table is None else table


def value_rows(X: Any, lay: Layout, names: list[str]) -> Any:
    """Rows of values (a list of lists, or an object array: one value per column ``names``, text as text, None for
    NULL, as ``Layout.rows`` takes them) as an Arrow table of those columns; anything else as it is. Why: such rows
    can hold the text and its NULLs, which an array of numbers cannot, and were refused; read as a frame, explain
    keys a text NULL by the category it was read as."""
    if not isinstance(X, list | tuple | np.ndarray) or (isinstance(X, np.ndarray) and X.dtype != object):
        return X
    try:
        values = np.array(X, dtype=object)
    except ValueError:  # rows of different lengths: the array's own message says so
        return X
    if values.ndim != 2 or values.shape[1] != len(names):
        return X
    columns: dict[str, pa.Array] = {}
    for j, name in enumerate(names[: lay.numeric]):
        try:
            columns[name] = pa.array([None if is_missing(v) else float(v) for v in values[:, j]], pa.float64())
        except (TypeError, ValueError) as e:
            raise BadInputError(f"AutoEncoderDetector: the rows' column {j + 1}, {name!r}, holds a value that is not a "
                                f"number ({e}); pass the columns {names} in that order, the text ones as text, None "
                                "for NULL.") from e
    for k, (name, _) in enumerate(lay.text):
        j = lay.numeric + k
        odd = next((v for v in values[:, j] if not (is_missing(v) or isinstance(v, str))), None)
        if odd is not None:  # SQL refuses a number there; read as its digits it was "any other value", scored high
            raise BadInputError(f"AutoEncoderDetector: the rows' column {j + 1}, {name!r}, holds {odd!r} "
                                f"({type(odd).__name__}), but the model reads that column as text (its categories): "
                                f"pass the columns {names} in that order, the text ones as text (str({odd!r}) where "
                                "the value really is that text), None for NULL.")
        columns[name] = pa.array([None if is_missing(v) else v for v in values[:, j]], pa.string())
    return pa.table(columns)


def text_imputed(lay: Layout, X: Any, missing: np.ndarray, imputed: np.ndarray, names: list[str]
                 ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``text_attribution``'s missing values and their imputed values [n, columns], with each text column's NULLs
    of ``X`` (a frame) as SQL's ``anomaly_imputed`` gives them: keyed ``channel='web'`` by the category a NULL is read
    as, with 1.0 (``Layout.null_entries``); and the keys, by column. Why from ``X``: a NULL is encoded as that
    category's input, so the rows scored cannot tell it from the category itself. Rows of inputs (no frame): as they
    are, with ``names``."""
    from .detectorrows import _frame

    frame = _frame(X)
    if frame is None:
        return missing, imputed, names
    if isinstance(frame, pa.Table):
        columns = {c: frame.column(c) for c in frame.column_names}
    else:
        columns = {str(c): pa.array(frame[c], from_pandas=True) for c in frame.columns}
    texts = [columns[n].is_null() for n, _ in lay.text]
    texts = [t.combine_chunks() if isinstance(t, pa.ChunkedArray) else t for t in texts]
    held, values, keys = lay.null_entries(missing, imputed, texts, names)
    return held, np.where(held, values, np.nan), keys.to_pylist()
