"""The scikit-learn-shaped detector behind ``ad_duckdb.train`` (a numpy-level object, not a second way in)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from difflib import get_close_matches
from typing import Any

import numpy as np
import pyarrow as pa

from . import notes
from .chunks import row_slices
from .detectorfit import fit_text, refuse_empty, text_columns
from .exceptions import BadInputError, MissingDependencyError, NotFittedError
from .features import RANGE_QUANTILE_UNLABELLED, FeatureSpec, fit_specs, transform
from .fitids import warn_id_columns
from .flagcols import arrow_flags, flags_refused, pandas_flags
from .frames import (
    EPOCH_RISES,
    advice_library,
    arrow_rows,
    arrow_table,
    explanation_frame,
    frame_library,
    text_kept,
)
from .levelcols import column_levels, levels_refused
from .onerow import flat_row
from .trainer import RANGES, TrainParams, calibrate, fit_ensemble


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


def _words(column: Any) -> bool:
    """Whether a pandas column is text of words (a category of strings, or strings not numbers), which ``fit`` reads
    as its categories (detectorfit) once every other column is numbers."""
    if str(column.dtype) == "category":
        return column.dtype.categories.dtype.kind not in "biufcmM"
    values = column.dropna().head(10_000)
    return bool(len(values)) and all(isinstance(v, str) for v in values) and _text_numbers(column) is None


def _mixed(column: Any) -> bool:
    """Whether an object column holds both strings and numbers (missing values aside), of its first 10,000 values."""
    import numbers
    from decimal import Decimal

    if column.dtype != object:
        return False
    kinds = set(column.dropna().head(10_000).map(type))
    return any(issubclass(k, str) for k in kinds) and any(issubclass(k, numbers.Real | Decimal) for k in kinds)


def _numbered_categories(X: Any) -> list[Any]:
    """A DataFrame's category columns whose categories are numbers (``pd.Categorical([1.5, 2.5])``, as
    ``pd.read_parquet`` reads a partition key): SQL scores their values, so the detector does too."""
    return [c for c, t in X.dtypes.items()
            if str(t) == "category" and t.categories.dtype.kind in "biuf"]


def _object_numbers(column: Any) -> bool:
    """Whether an object column holds only numbers and missing values: ``decimal.Decimal`` of ``pd.read_sql`` on a
    NUMERIC column, or Python ints and floats with ``None``, which numpy casts as they are (SQL takes DECIMAL)."""
    import numbers
    from decimal import Decimal

    if column.dtype != object:
        return False
    kinds = set(column.dropna().map(type))
    return all(issubclass(k, numbers.Real | Decimal) for k in kinds)


def _text_numbers(column: Any) -> str | None:
    """For a text column mostly of numbers (a CSV read without its decimal comma, or with a '-' for missing): what it
    holds and the pandas call that reads them as numbers; None for other columns. Judged on its first 10,000 values,
    as the SQL sources' hint is."""
    from .textnumbers import DECIMAL_COMMA, THOUSANDS, written_in, written_words

    if column.dtype.kind not in "OSU" and "str" not in str(column.dtype).lower():
        return None
    values = [str(v) for v in column.dropna().head(10_000) if isinstance(v, str)]
    if not values:
        return None
    # the judgement the SQL sources' hint makes (textnumbers.written_in), so a frame and a table read alike
    share, style = written_in(values)
    if share < 0.5:
        return None
    name = str(column.name)
    if style is not None and (style.money or style.negatives):
        return f"amounts ({written_words(style)}): X[{name!r}] = {_pandas_amounts(column, style)}"
    if style is not None and style.separator == DECIMAL_COMMA:
        return (f"written with a decimal comma (1.234,50): read the file with pd.read_csv(..., decimal=',', "
                f"thousands='.'), or X[{name!r}] = {_pandas_amounts(column, style)}")
    if style is not None and style.separator == THOUSANDS:
        return (f"written with thousands separators (1,234.50): read the file with pd.read_csv(..., thousands=','), "
                f"or X[{name!r}] = {_pandas_amounts(column, style)}")
    if share == 1:  # Why apart: no odd value to quote (a JSON API's numbers, or dtype=str)
        return f"numbers written as text: X[{name!r}] = pd.to_numeric(X[{name!r}])"
    odd = next(v for v in values if not written_in([v])[0])
    return (f"numbers apart from a few such as {odd!r}: X[{name!r}] = pd.to_numeric(X[{name!r}], errors='coerce') "
            "(a value that is not a number becomes NaN, a missing value)")


def _pandas_amounts(column: Any, style: Any) -> str:
    """The pandas call that reads ``column``'s amounts as ``written_in`` found them written (``style``): currency marks
    dropped, "(120.00)" and "120.00-" as -120.00, then the separators."""
    from .textnumbers import _MONEY_MARKS, _NEGATIVE, DECIMAL_COMMA, THOUSANDS

    marks = _MONEY_MARKS.replace("\\x{00A0}", "\\xa0").replace("\\x{202F}", "\\u202f")  # RE2 -> Python escapes
    call = f"X[{str(column.name)!r}].str.strip()"
    if style.money:
        call += f".str.replace(r'{marks}', '', regex=True)"  # no quote in either pattern
    if style.negatives:
        call += f".str.replace(r'{_NEGATIVE}', r'-\\1\\2', regex=True)"
    if style.separator == THOUSANDS:
        call += ".str.replace(',', '', regex=False)"
    elif style.separator == DECIMAL_COMMA:
        call += ".str.replace('.', '', regex=False).str.replace(',', '.', regex=False)"
    return f"pd.to_numeric({call}, errors='coerce') (a value that is not a number becomes NaN, a missing value)"


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


def _check_labels(X: np.ndarray, names: Sequence[str] | None, types: Sequence[str] | None) -> None:
    """``feature_names=`` and ``sql_types=`` one per column of ``X``, names unique: a short list stopped with an
    IndexError deep in the feature statistics, and a repeated name cannot match a DataFrame's column later."""
    d = X.shape[1]
    for what, got, unit in (("feature_names", names, "name"), ("sql_types", types, "type")):
        if got is not None and len(got) != d:
            raise BadInputError(f"AutoEncoderDetector.fit: {what}= has {len(got)} {unit}(s) for X's {d} column(s); "
                                f"give one per column, in X's order.")
    if names is not None and _repeats(names):
        raise BadInputError(f"AutoEncoderDetector.fit: feature_names= repeat: {_repeats(names)}; give each column "
                            "a name of its own.")


def _warn_if_label(X: np.ndarray, names: Sequence[str]) -> None:
    """Warn when a frame's column named like a label (``columnroles.named_like_label``) holds 0 and 1 only: a model
    fitted on the label reads the answer. As ``ad_duckdb.train`` says of its default features; a PyOD user's df
    often still holds its 'Class' column."""

    from .columnroles import named_like_label

    labels = [n for j, n in enumerate(names) if named_like_label(n)
              and set(np.unique(X[:, j][~np.isnan(X[:, j])]).tolist()) == {0.0, 1.0}]
    if labels:
        listed = ", ".join(repr(n) for n in labels)
        notes.warn(
            f"AutoEncoderDetector.fit: X's column{'s' if len(labels) > 1 else ''} {listed}, a 0/1 column named like a "
            f"label, {'is a feature' if len(labels) == 1 else 'are features'}: a model fitted on its label reads the "
            f"answer. If it is the label, fit on the other columns, e.g. fit(X.drop(columns=[{listed}])) (the normal "
            "rows alone, if you know them).",
        )


def _warn_if_named(columns: Sequence[Any], d: int) -> None:
    """Warn that a frame with column names of its own is read by position, as scikit-learn does: fit saw an array,
    so a frame whose columns come in another order would be scored against the wrong features. pandas' 0, 1, 2
    (``pd.DataFrame(X)``) name nothing."""

    if list(columns) == list(range(len(columns))):
        return
    shown = ", ".join(repr(str(c)) for c in columns[:10]) + (", ..." if len(columns) > 10 else "")
    notes.warn(
        f"X has column names ({shown}), but this AutoEncoderDetector was fitted on an array without column names, "
        f"so X's columns are read by position, as fit's {d} columns in fit's order. To match them by name, fit on a "
        "DataFrame, or on the array with fit(X, feature_names=[...]) in its column order.",
    )


def _warn_if_unnamed(fitted: np.ndarray) -> None:
    """Warn that an array is read by position though fit saw a DataFrame, as scikit-learn does: an array of the
    columns in another order (``new_df[cols].to_numpy()``) would be scored against the wrong features."""

    shown = ", ".join(repr(str(c)) for c in fitted[:10]) + (", ..." if len(fitted) > 10 else "")
    notes.warn(
        f"X has no column names, but this AutoEncoderDetector was fitted on a DataFrame ({shown}), so X's columns "
        "are read by position, as those columns in that order. Pass a DataFrame (its columns are matched by name), "
        "or X[det.feature_names_in_].to_numpy() of one to make the order fit's.",
    )


# scikit-learn's and PyOD's names for parameters this detector has under another name: their users type them first
_OTHER_NAMES = {"random_state": "seed", "epoch_num": "epochs", "hidden_neuron_list": "hidden_dims",
                "learning_rate": "lr", "max_iter": "epochs", "n_estimators": "n_models", "verbose": "progress"}


def _name_hint(name: str, other_names: dict[str, str], valid: Sequence[str]) -> str | None:
    if name in other_names:
        return f"{name}= is {other_names[name]}= here"
    close = get_close_matches(name, valid, 1, 0.75)  # a typo: epoch= for epochs=
    return f"did you mean {close[0]}=?" if close else None


def check_names(params: dict[str, Any], keywords: Sequence[str] = (), other_names: dict[str, str] | None = None
                ) -> None:
    """Refuse parameters TrainParams does not have. ``keywords``: the caller's own (ad_duckdb.train's features=,
    where=, ...), listed among the valid ones; ``other_names``: names users type for them."""
    unknown = set(params) - set(TrainParams.__dataclass_fields__)
    if unknown:
        known = ", ".join(sorted({*TrainParams.__dataclass_fields__, *keywords}))
        names = {**_OTHER_NAMES, **(other_names or {})}
        valid = [*TrainParams.__dataclass_fields__, *keywords]
        hints = (_name_hint(k, names, valid) for k in sorted(unknown))
        alias = ", ".join(h for h in hints if h)
        raise BadInputError(f"Unknown parameter(s) {sorted(unknown)}{f' ({alias})' if alias else ''}; "
                            f"valid ones are: {known}.")


def _plain(value: Any) -> Any:
    """A numpy number as the Python one it is, also inside a list, tuple or 1-D array (``hidden_dims``). Why: a grid
    built with numpy (``np.arange(2, 6)``, ``rng.integers``) gives ``np.int64`` values, which the checks refused as
    "must be an int" and JSON cannot store; scikit-learn's own checks take them."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return tuple(value.tolist())
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    return value


_PARAMS = TrainParams.__dataclass_fields__


def _refuse_as_binary_classifier() -> None:
    """Raise when scikit-learn asks whether this detector is a binary classifier to take its scores from it (a curve
    display's ``from_estimator``, a threshold tuner): it refuses every outlier detector there, IsolationForest too,
    with "Expected 'estimator' to be a binary classifier", which does not say that the display's ``from_predictions``
    plots the same curve from ``decision_function``. Passing as a classifier instead would be a lie others act on
    (stratified folds, classifier scorers)."""
    import sys

    frame: Any = sys._getframe(1).f_back  # skip __sklearn_tags__ (the caller of this): who asked for the tags
    asking = None
    for _ in range(12):
        if frame is None:
            return
        name, module = frame.f_code.co_name, frame.f_globals.get("__name__", "")
        if asking is None and name == "_get_response_values_binary" and module.startswith("sklearn."):
            asking = "This scikit-learn call"
        elif asking is not None and name == "from_estimator" and isinstance(frame.f_locals.get("cls"), type):
            asking = f"{frame.f_locals['cls'].__name__}.from_estimator"
            break
        frame = frame.f_back
    if asking is None:
        return
    display = asking.split(".")[0] if asking.endswith(".from_estimator") else "PrecisionRecallDisplay"
    raise BadInputError(
        f"{asking} takes a binary classifier; AutoEncoderDetector is an outlier detector (scikit-learn refuses its "
        f"IsolationForest the same way). Pass its scores: {display}.from_predictions(y, det.decision_function(X)) "
        "(higher = more anomalous: y's 1 is the anomaly). ad_duckdb.evaluate(con, model, table, label=...) gives "
        "AUC-PR and AUC-ROC of a stored model.")


class AutoEncoderDetector:
    """Ensemble of dense autoencoders scored by reconstruction error, latent-neighbour distance and range.

    Parameters
    ----------
    **params
        Any field of :class:`ad_duckdb.trainer.TrainParams` (``hidden_dims``, ``latent_dim``, ``n_models``,
        ``epochs``, ``batch_size``, ``lr``, ``robust``, ``contamination``, ``seed``, ...). ``code_sizes=(2, 4, 8,
        16)``: four members whose codes keep that many numbers each (``TrainParams.with_code_sizes``).

    Attributes
    ----------
    specs_ : list of FeatureSpec
        Per-feature transform, fill value and scaling learned from the training rows.
    decision_scores_ : ndarray of shape (n_samples,)
        Scores of the rows ``fit`` was given, in their order (higher = more anomalous); all of them, also above
        ``max_train_rows``, where training itself uses a sample.
    threshold_ : float
        The ``1 - contamination`` quantile of ``decision_scores_``.
    labels_ : ndarray of int of shape (n_samples,)
        1 for the rows of ``decision_scores_`` above ``threshold_``, 0 for the others (PyOD's ``labels_``).
    n_features_in_ : int
        Number of features seen by ``fit``.
    feature_names_in_ : ndarray of str
        A DataFrame's column names, or ``fit``'s ``feature_names=`` (a later DataFrame is matched by these names),
        else ``x0, x1, ...``.
    classes_ : ndarray of int
        ``[0, 1]``, the labels ``predict`` gives (for ``cross_val_predict(..., method="decision_function")``).
    stored_ref_ : str or None
        The stored model a detector made by ``from_store`` scores with (``'tx_ae@2'``); None after ``fit``.
    threshold_name_ : str
        The stored threshold ``threshold_`` is, when ``from_store`` was given one (``threshold='c2'``); unset after
        ``fit``.

    Notes
    -----
    Works with ``clone``, ``Pipeline``, ``GridSearchCV`` and ``cross_val_score``, and pickles (for your own
    caching; ``ad_duckdb.train`` stores ONNX, never pickles). Where it departs from scikit-learn's estimator
    checks (``check_estimator``), on purpose:

    - ``predict`` and ``fit_predict`` return PyOD's 1 = anomaly, 0 = normal, not scikit-learn's -1/1, to match
      ``is_anomaly`` in SQL. ``decision_function`` is higher = more anomalous (PyOD); ``score_samples`` is its
      negative, scikit-learn's higher = more normal (as ``IsolationForest.score_samples``).
    - PyOD's ``labels_``, ``predict_proba(X, method='linear' | 'unify')``, ``predict_confidence`` and
      ``return_confidence=`` are here (the confidence without SciPy); ``predict_with_rejection`` is not.
    - Parameters are ``**params`` checked against ``TrainParams``, one list shared with ``ad_duckdb.train``, and
      held in ``self.params``; ``get_params()`` returns the ones you set (the rest take ``TrainParams``'s
      defaults). Each is also an attribute, as in PyOD: ``det.contamination`` reads it (its default if unset),
      ``det.contamination = 0.05`` sets it for the next ``fit``. The seed is ``seed`` (default 0, so fits are reproducible), not ``random_state``.
    - ``classes_`` is ``[0, 1]``, the labels ``predict`` gives, so ``cross_val_predict(det, X, y,
      method="decision_function")`` works (given ``y``, scikit-learn orders the output by ``classes_``); yet it is
      no classifier: ``PrecisionRecallDisplay.from_estimator`` (and the ROC and DET displays) refuse it, as they
      refuse ``IsolationForest``, with a message naming ``from_predictions(y, det.decision_function(X))``.
    - ``fit`` needs at least 20 rows: the scaling and the thresholds are statistics of the training rows.
    - Unfitted, it raises ``ad_duckdb.NotFittedError`` (a ``ValueError`` and ``AttributeError``, as scikit-learn's
      is), not ``sklearn.exceptions.NotFittedError``: scikit-learn is not a dependency.
    - Scores are float32 computations: a row scored alone and in a batch can differ in the last digits (about
      1e-6 relative).
    """

    def __init__(self, **params: Any) -> None:
        self.params = params

    def __getattr__(self, name: str) -> Any:
        """A parameter as an attribute, its default if unset (``det.contamination``), as PyOD's and scikit-learn's
        detectors keep theirs. Only called when ``name`` is not in ``__dict__``; the dict is read directly, as
        unpickling asks before ``params`` exists."""
        if name in _PARAMS:
            params = self.__dict__.get("params", {})
            return params[name] if name in params else _PARAMS[name].default
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        # Why into params: set on the instance, ``det.contamination = 0.2`` was ignored by fit without a word. A new
        # dict: copy.copy(det) shares the old one, and the original's parameter changed with its copy's
        if name in _PARAMS:
            self.params = {**self.params, name: value}
        elif name in _OTHER_NAMES:  # det.random_state = 7: an attribute fit never reads, the seed left as it was
            check_names({name: value})
        else:
            super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *_PARAMS})

    def __repr__(self) -> str:
        shown = f"AutoEncoderDetector({', '.join(f'{k}={v!r}' for k, v in self.params.items())})"
        ref = self.__dict__.get("stored_ref_")
        cut = self.__dict__.get("threshold_name_")
        return f"{shown}, from_store({ref!r}{'' if cut is None else f', threshold={cut!r}'})" if ref else shown

    def __getstate__(self) -> dict[str, Any]:
        # a stored model's onnxruntime session cannot be pickled; it is made again from the record on first use
        return {k: v for k, v in self.__dict__.items() if k != "_scorer"}

    @classmethod
    def from_store(cls, con: Any, model: str, threshold: str | None = None) -> AutoEncoderDetector:
        """A stored model (``'name'``, its latest version, or ``'name@N'``) as a fitted detector, without retraining:
        what ``ad_duckdb.train`` or ``ad-duckdb train`` stored, in a notebook.

        It scores with the stored ONNX graph, as SQL does: ``decision_function`` equals ``anomaly_score`` on the same
        rows (NULL / NaN values filled the same way), ``predict`` is ``is_anomaly`` (``threshold_`` is the stored
        ``default`` threshold), or with ``threshold='c2'`` that stored threshold (``is_anomaly_at(model, 'c2', ...)``;
        a name the version does not store is refused, listing those it stores), ``explain`` gives ``anomaly_explain``'s shares and ``score_terms``
        ``anomaly_terms``'. Torch is not needed (a scoring-only install loads and scores). A DataFrame's columns
        are matched by the model's feature names (``feature_names_in_``); an array is read by position, in that
        order. A model with text features takes a DataFrame (pandas, polars, Arrow) with its columns, each text one as
        text, read as SQL reads it (a value that is not a category as any other value, a NULL as the most common
        category); ``n_features_in_`` counts its columns. ``stored_ref_`` says which version (``'tx_ae@2'``); the
        connection may be closed afterwards.

        ``get_params()`` returns the options the model was trained with (those that differ from the defaults, and
        the seed). ``fit(X)`` trains a new model on ``X`` with them, as ``fit`` always does, and from then on scores
        with that one (``stored_ref_`` becomes None); the stored model is left as it is (``ad_duckdb.train`` stores
        a new version). ``decision_scores_`` and ``labels_`` are not set, as the store keeps no score per training
        row; ``predict_proba`` and ``predict_confidence`` read the summary of them stored with the model (its
        quantiles, mean, standard deviation and the scores of the ranks around the threshold's), and equal those of
        a detector fitted on the same rows. A model stored by an earlier release keeps the quantiles only: there
        ``predict_proba(X)`` ('linear') works, and 'unify' and the confidence raise ``NotFittedError`` saying to
        retrain it. One imported from a file that carried no summary of its training scores has none of it: every
        ``predict_proba`` and the confidence raise ``NotFittedError`` saying so, and how to get a file that does.

        Examples
        --------
        >>> det = AutoEncoderDetector.from_store(con, "tx_ae@1")  # doctest: +SKIP
        >>> det.decision_function(df)  # anomaly_score('tx_ae@1', count, amount) of df's rows  # doctest: +SKIP
        """
        from .attachedmodels import said_where
        from .fromstore import stored_state

        with said_where(con, model):
            params, state = stored_state(con, model, threshold)
        det = cls(**params)
        det.__dict__.update(state)
        return det

    def _stored_model(self) -> Any:
        """The stored model this detector scores with (a ``scoring.LoadedModel``), None after ``fit``."""
        rec = self.__dict__.get("_record")
        if rec is None:
            return None
        if "_scorer" not in self.__dict__:
            from .scoring import LoadedModel

            self.__dict__["_scorer"] = LoadedModel(rec)
        return self.__dict__["_scorer"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters (scikit-learn's signature, so ``clone`` and grid searches work; nothing is nested)."""
        return dict(self.params)

    def set_params(self, **params: Any) -> AutoEncoderDetector:
        """Change parameters (scikit-learn's ``set_params``); an unknown name is refused here, as scikit-learn does,
        not at the next ``fit``."""
        check_names(params)
        self.params = {**self.params, **params}  # a new dict, as __setattr__'s
        return self

    def __sklearn_tags__(self) -> Any:
        """What scikit-learn >= 1.6 asks every estimator before ``GridSearchCV`` or ``cross_val_score`` use it (without
        it they stop with an AttributeError): an outlier detector, ``y`` optional, NaN allowed (filled). scikit-learn
        is imported only here, when it is the caller."""
        from sklearn.utils import InputTags, Tags, TargetTags

        _refuse_as_binary_classifier()
        return Tags(estimator_type="outlier_detector", target_tags=TargetTags(required=False),
                    input_tags=InputTags(allow_nan=True))

    def _train_params(self) -> TrainParams:
        check_names(self.params)
        p = TrainParams(**{k: _plain(v) for k, v in self.params.items()})
        p.validate()  # before any conversion, so a message shows the value as passed
        if p.hidden_dims is not None and not isinstance(p.hidden_dims, tuple):
            p = replace(p, hidden_dims=tuple(p.hidden_dims))
        # validate() accepts whole-number floats for int parameters (max_train_rows=1e6); torch and numpy need ints
        whole: dict[str, Any] = {name: int(getattr(p, name)) for name, (kind, _, _) in RANGES.items()
                                 if kind is int and not isinstance(getattr(p, name), int)}
        return (replace(p, **whole) if whole else p).with_code_sizes(self.params)

    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        feature_names: Sequence[str] | None = None,
        sql_types: Sequence[str] | None = None,
        model_name: str = "model",
        source: str | None = None,
        score_training_rows: bool = True,
    ) -> AutoEncoderDetector:
        """Fit on raw feature values (NaN allowed: filled with the training median). ``y`` is ignored (unsupervised,
        as in scikit-learn); a DataFrame's column names become the feature names, or ``feature_names=`` an array's,
        by which a DataFrame scored later is matched (an array is read by position, and so is a DataFrame after a fit
        on an array without ``feature_names=``, with a warning, as scikit-learn's). ``model_name`` and ``source`` are
        what ``ad_duckdb.train`` passes (its errors then speak of the table); without ``source``, of ``X``. A frame's
        text columns (a channel) are read as their categories, trained as ``ad_duckdb.train`` trains them (README,
        "Text columns as features"; ``detectorfit``).

        Training is robust by default, for rows that may hold anomalies. For rows known to be normal (the classic
        recipe: ``fit(X[y == 0])``), construct it with ``robust=False``, the training ``ad_duckdb.train`` gives
        rows picked by ``where=`` (it trains longer, and the neighbour term compares with k-means centroids of all
        the training rows): the same rows then score as that model does, to float32 rounding.

        ``score_training_rows=False`` leaves ``decision_scores_`` and ``threshold_`` unset, for a caller that scores
        the rows itself (``ad_duckdb.train`` takes its thresholds from the ONNX scores of every source row, so a
        torch pass over the training sample here was thrown away: 4.4 s of a 14 s training on 10M rows x 4 columns,
        5.4 s of 14 s on 1M rows x 30)."""
        p = self._train_params()
        try:
            import torch  # noqa: F401  (the trainer imports it lazily; without this, a bare ModuleNotFoundError from deep inside)
        except ImportError as e:
            raise MissingDependencyError(
                f"AutoEncoderDetector.fit needs torch: pip install 'ad_duckdb[train]' ({e})."
            ) from e
        series = _series_library(X)
        frame = _frame(X)
        from_frame = frame is not None
        named_by_frame = names_given = False
        if frame is not None:
            library = advice_library(X)  # the frame given: X is its Arrow table from here
            X = frame
            repeats = _repeats(_column_names(X))
            if repeats:
                # Why refuse, as scikit-learn does: a later frame is matched by name, and '1' and 1 (or two 'a')
                # cannot be told apart, so a frame with them swapped was scored against the wrong features
                raise BadInputError(
                    f"AutoEncoderDetector.fit: X's column names repeat: {repeats}. Give each "
                    "column a name of its own, e.g. X.columns = [...] with a new name for each repeat."
                )
            if source is None:  # ad_duckdb.train's own refusal names its table (categorical, features)
                refuse_empty(X)  # of X's own names, which X.drop takes also when feature_names= renames them
            # text columns (a channel): their categories, as ad_duckdb.train reads them (detectorfit)
            if source is None and (text := text_columns(X)) is not None:
                return fit_text(self, *text, feature_names, model_name, score_training_rows)
            named_by_frame = feature_names is None
            # pandas' 0, 1, 2 (pd.DataFrame(X)) name nothing: an array scored later is read by position quietly
            names_given = list(_column_names(X)) != list(range(len(_column_names(X))))
            if feature_names is None:
                feature_names = [str(c) for c in _column_names(X)]
            X = _frame_rows(X, "AutoEncoderDetector.fit", library)
        X = _float_rows(X, "AutoEncoderDetector.fit")
        who = "AutoEncoderDetector.fit" if source is None else f"Model {model_name!r}"
        if X.ndim != 2:
            one = (f" (a {series} Series is one feature: X.to_frame())" if series
                   else " (one feature: X.reshape(-1, 1))" if X.ndim == 1 else "")
            raise BadInputError(f"{who}: X must be 2-D (rows, features); got shape {X.shape}{one}.")
        if X.shape[1] == 0:  # else a ZeroDivisionError from the network's weight initialisation
            raise BadInputError(f"{who}: X has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
        _check_labels(X, feature_names, sql_types)
        if from_frame and named_by_frame and feature_names is not None:
            _warn_if_label(X, feature_names)
            if source is None:  # ad_duckdb.train leaves these out of its default features, with its own note
                warn_id_columns(X, feature_names)
        if source is None:  # ad_duckdb.train says it itself, of the rows as its source orders them
            from .columnroles import warn_epoch_features

            warn_epoch_features(list(feature_names) if feature_names is not None else
                                [f"x{j}" for j in range(X.shape[1])], X, None, fit=True, frame=from_frame)
        # every row: decision_scores_ and labels_ are one per row of X, as PyOD's, also when training on a sample
        # (not held otherwise: training would keep the whole matrix beside the sample)
        given = X if score_training_rows else None
        if len(X) > p.max_train_rows:
            # Why before fitting the transforms: training uses at most max_train_rows rows, and the column
            # statistics from the same random sample keep a 10M-row table to seconds instead of a minute.
            X = X[np.random.default_rng(p.seed).choice(len(X), p.max_train_rows, replace=False)]
        d = X.shape[1]
        p.check_code(d, who)
        names = list(feature_names) if feature_names is not None else [f"x{j}" for j in range(d)]
        types = list(sql_types) if sql_types is not None else ["DOUBLE"] * d
        robust = bool(p.robust) if p.robust is not None else True
        rq = RANGE_QUANTILE_UNLABELLED if robust else 0.0
        specs, filled = fit_specs(X, names, types, model=model_name, source=source, range_quantile=rq,
                                  constant_columns=p.constant_columns, frame=from_frame)
        Z = transform(X, specs)
        ae, history = fit_ensemble(Z, p, robust=robust, desc=f"training {model_name}")
        cal = calibrate(ae, Z, p, robust=robust)
        from .nn import ScoringGraph

        # loaded by from_store: from now on this model scores, at its own threshold_, not that one
        for name in ("_record", "_scorer", "_flag_share", "threshold_name_", "_layout"):
            self.__dict__.pop(name, None)
        self.stored_ref_ = None
        self.train_params_ = p
        self.specs_: list[FeatureSpec] = specs
        self.graph_ = ScoringGraph(
            specs, ae, bank=cal["bank"], knn_k=cal["knn_k"], rec_scale=cal["rec_scale"],
            knn_scale=cal["knn_scale"], knn_eps=cal["knn_eps"], range_weight=p.range_weight,
            bank_groups=cal["bank_groups"],
        ).eval()
        self.history_ = {**history, "knn_k": cal["knn_k"], "bank_size": int(cal["bank"].shape[1]),
                         "bank_groups": cal["bank_groups"], "bank_kind": cal["bank_kind"],
                         "filled_values": filled}
        self.n_features_in_ = d
        self.feature_names_in_ = np.array(names, dtype=object)
        # the labels predict gives, so cross_val_predict(det, X, y, method="decision_function") can order its output
        self.classes_ = np.array([0, 1])
        # then a DataFrame given later is matched by column name; also after feature_names= on an array, which
        # names the columns as a frame's header would
        self._fitted_on_frame = from_frame or feature_names is not None
        self._fitted_on_names = False  # given, below, is fit's own array of the frame's rows
        if given is not None:
            self.decision_scores_ = self.decision_function(given)
            self.threshold_ = float(np.quantile(self.decision_scores_, 1.0 - p.contamination))
            self.labels_ = (self.decision_scores_ > self.threshold_).astype(np.int64)
        else:  # a refit must not keep an earlier fit's, which predict() would use against this model
            for name in ("decision_scores_", "threshold_", "labels_"):
                self.__dict__.pop(name, None)
        self._fitted_on_names = from_frame and names_given  # an array scored later is warned of, as scikit-learn's
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "graph_") and "_record" not in self.__dict__:
            raise NotFittedError("This AutoEncoderDetector is not fitted yet; call fit(X) first.")

    def _as_rows(self, X: np.ndarray, given: bool = False) -> np.ndarray:
        """``X`` (a frame, in fit's column order, or an array) as checked float64 rows; ``given``: ``X`` is what the
        user passed, not rows this detector made of it."""
        X = flat_row(X, [str(c) for c in self.feature_names_in_])
        lay = self.__dict__.get("_layout")
        if lay is not None:  # a stored model with text features (from_store): a frame's text columns as their inputs
            from .detectortext import text_rows

            return text_rows(X, lay, [str(c) for c in self.feature_names_in_], _selection(X), advice_library(X))
        series = _series_library(X)
        frame = _frame(X)
        if frame is not None:
            X = self._frame_in_fit_order(frame, _selection(X), advice_library(X))
        # writable and C-ordered: torch.from_numpy shares the memory (and warns on a read-only array)
        X = np.require(_float_rows(X, "AutoEncoderDetector"), requirements=["C", "W"])
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            hint = ""
            if X.ndim == 1 and series:  # a Series has no reshape: the frame it came from, or a frame made of it
                # a polars row is a DataFrame already (df[i:i + 1]): a Series of one row's values has no names
                row = (", X.to_frame().T for one row (or df.iloc[[i]], double brackets)" if series == "pandas"
                       else ", df[i:i + 1] for one row of a DataFrame")
                hint = (f". A {series} Series is not a table: pass a DataFrame"
                        + (row if len(X) == self.n_features_in_ > 1
                           else ", X.to_frame() for one feature" if self.n_features_in_ == 1 else ""))
            elif X.ndim == 1:  # which reshape depends on whether the 1-D array is one row or one column
                hint = (". Reshape your data: X.reshape(1, -1) for one row" if len(X) == self.n_features_in_ > 1
                        else ". Reshape your data: X.reshape(-1, 1) for one feature" if self.n_features_in_ == 1 else "")
            elif X.ndim == 2:
                names = ", ".join(repr(str(c)) for c in self.feature_names_in_[:10])
                more = f", ... ({self.n_features_in_ - 10} more)" if self.n_features_in_ > 10 else ""
                hint = (f". This AutoEncoderDetector was fitted on {self.n_features_in_} features ({names}{more}): "
                        "pass rows of those columns, in that order, or fit it again on these")
            raise BadInputError(f"X must have shape (n, {self.n_features_in_}); got shape {X.shape}{hint}.")
        if given and frame is None and getattr(self, "_fitted_on_names", False):
            _warn_if_unnamed(self.feature_names_in_)
        return X

    def _frame_in_fit_order(self, X: Any, select: str = "X[det.feature_names_in_]", library: str = "arrow"
                            ) -> np.ndarray:
        """A DataFrame's columns in the order ``fit`` saw them. By position, a frame whose columns came in another
        order was scored silently against the wrong features. ``select``: the call that picks the fitted columns
        of the frame as given (``_selection``)."""
        if not getattr(self, "_fitted_on_frame", False):
            _warn_if_named(_column_names(X), self.n_features_in_)
        else:
            columns = _column_names(X)
            names = [str(c) for c in columns]
            if _repeats(columns):  # which of the two is the feature cannot be told
                raise BadInputError(
                    f"X's column names repeat: {_repeats(columns)}, so they cannot be matched to the "
                    f"features this AutoEncoderDetector was fitted on. Pass {select} with each "
                    "column once (or rename the repeats)."
                )
            fitted = [str(c) for c in self.feature_names_in_]
            if names != fitted:
                missing = [c for c in fitted if c not in names]
                extra = [c for c in names if c not in fitted]
                if missing or extra:
                    parts = ([f"missing {missing}"] if missing else []) + ([f"not fitted on {extra}"] if extra else [])
                    raise BadInputError(
                        f"X's columns are not the ones this AutoEncoderDetector was fitted on ({'; '.join(parts)}). "
                        f"Pass {select} (the fitted columns), or fit again on these columns."
                    )
                by_name = {str(c): c for c in columns}
                X = X.select(fitted) if isinstance(X, pa.Table) else X[[by_name[c] for c in fitted]]
        return _frame_rows(X, "AutoEncoderDetector", library)

    def _graph_batches(self, X: np.ndarray, batch_size: int, part: Any) -> list[Any]:
        """``part(graph, rows)`` on each batch of ``X`` (checked), without gradients; a batch is cut further to the
        graph's ``chunk_rows`` (a large bank's distances are [members, rows, bank] values)."""
        self._check_fitted()
        import torch

        X = self._as_rows(X)
        rows = max(1, min(int(batch_size), self.graph_.chunk_rows()))
        with torch.no_grad():
            return [part(self.graph_, torch.from_numpy(X[sl])) for sl in row_slices(len(X), rows)]

    def score_with_errors(self, X: np.ndarray, batch_size: int = 65536) -> tuple[np.ndarray, np.ndarray]:
        """Scores and per-feature errors computed by the torch graph (the reference for the ONNX one); by the stored
        ONNX graph for a detector loaded with ``from_store``."""
        stored = self._stored_model()
        if stored is not None:
            return stored.run(self._as_rows(X), missing=False)  # type: ignore[no-any-return]
        outs = self._graph_batches(X, batch_size, lambda g, x: g(x))
        return np.concatenate([s.numpy() for s, _ in outs]), np.concatenate([e.numpy() for _, e in outs])

    def score_terms(self, X: np.ndarray, batch_size: int = 65536) -> dict[str, np.ndarray]:
        """The score's parts per row: ``reconstruction``, ``neighbour`` and ``range`` (a term that is off is
        absent); they sum to ``decision_function(X)``. For seeing which term finds a data set's anomalies."""
        stored = self._stored_model()
        if stored is not None:  # SQL's anomaly_terms, which fills missing values as the score does
            from .scoreterms import TERM_NAMES, terms_on

            parts = stored.terms(self._as_rows(X, given=True))[1]
            return {t: parts[:, i] for i, (t, on) in enumerate(zip(TERM_NAMES, terms_on(stored.rec.params),
                                                                  strict=True)) if on}
        from .scoreterms import range_cleared

        outs = self._graph_batches(self._filled(X, batch_size)[0], batch_size, lambda g, x: g.terms(x))
        got = {k: np.concatenate([o[k].numpy() for o in outs]).astype(np.float64) for k in outs[0] if k != "feature_error"}
        if "range" in got:
            got["range"] = range_cleared(got["range"])  # as SQL's anomaly_terms: an end of the range is inside it
        return got

    def explain(self, X: Any, top: int | None = 3, batch_size: int = 65536) -> Any:
        """Why each row scores as it does: its ``top`` features (None: all) ranked by their share of the score, the
        shares SQL's ``anomaly_explain`` gives the same model and row (Shapley values with the training medians as
        the typical row; a row's shares sum to 1), to float32 rounding. A missing value (NaN) is scored as
        ``decision_function`` scores it and never a reason: its share is 0, and ``imputed`` says the value it was
        scored at. Costs 2^d (or about 8 d beyond 6 features) scoring passes per row: rank with
        ``decision_function``, then explain the rows you look at.

        For a pandas DataFrame, a DataFrame with X's index and columns ``feature_1``, ``share_1``, ...,
        ``feature_{top}``, ``share_{top}`` and ``imputed`` (a dict of feature -> value imputed, None where no value
        was missing). For a polars DataFrame (or LazyFrame), a polars DataFrame of the same columns, in X's row
        order; for an Arrow table (or batch, reader, dataset), a DuckDB relation (``con.sql(...)``, ``con.table(...)``)
        or a dict of columns, an Arrow table, in the order the rows were read (DuckDB queries it by its variable's
        name: ``con.sql("SELECT * FROM why")``; ``con.from_arrow(why)`` makes it a relation); in both, ``imputed`` is a
        map of feature -> value (the type of ``score(explain=True)``'s ``anomaly_imputed``), null where no value was
        missing; a stored text model's text NULL is keyed by the category it was read as, ``"channel='web'": 1.0``,
        as ``anomaly_imputed`` keys it. For an array, as ``score_terms``, a dict of arrays: ``feature`` [n, top] (names, as
        ``feature_names_in_``), ``feature_index`` [n, top] (X's column), ``share`` [n, top] and ``imputed`` [n, d]
        (the value imputed where X had NaN, else NaN); a stored text model's also ``imputed_keys`` [d], each column's
        key (a text column's the category its NULL is read as, ``channel='web'``, imputed 1.0 where it was NULL), and
        it takes rows of values (a list, or an array of dtype=object: the text as text, None for NULL). A row whose
        every value is missing has nothing to explain (SQL's empty list): no feature (None, index -1) and NaN shares.
        ``batch_size``: rows per torch pass, as ``score_terms``'."""
        from . import shapley
        from .missing import candidates, fill_missing

        if top is not None and (isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1):
            raise BadInputError(f"AutoEncoderDetector.explain: top={top!r} must be a whole number of at least 1 (the "
                                "features shown per row), or None for all of them.")
        self._check_fitted()
        index = X.index if _series_library(X) is None and type(X).__module__.startswith("pandas") else None
        library = frame_library(X)
        lay = self.__dict__.get("_layout")
        if lay is not None:
            from .detectortext import read_once, text_attribution, text_imputed

            X = read_once(X, lay, [str(c) for c in self.feature_names_in_])  # its text NULLs are read after its rows
        rows = self._as_rows(X, given=True)
        keys = [str(c) for c in self.feature_names_in_]  # imputed's, by column
        if lay is not None:  # a stored model with text features: SQL's own attribution, and its imputed text NULLs
            parts, missing, imputed = text_attribution(self._stored_model(), rows)
            missing, imputed, keys = text_imputed(lay, X, missing, imputed, keys)
        else:
            scored = [rows]

            def run(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                return self.score_with_errors(r, batch_size)

            def fill(r: np.ndarray, s: np.ndarray, fe: np.ndarray) -> np.ndarray:
                scored[0] = fill_missing(r, s, fe, self.specs_, candidates(self.specs_), run)
                return scored[0]

            _, parts = shapley.attribution(rows, run, fill, lambda r: run(r)[0])
            missing = np.isnan(rows)
            imputed = np.where(missing, scored[0], np.nan)
        order, shares, some = shapley.ranked(parts)
        k = self.n_features_in_ if top is None else min(int(top), self.n_features_in_)
        order, shares = order[:, :k], shares[:, :k]
        order[~some], shares[~some] = -1, np.nan
        names = np.array([*self.feature_names_in_, None], dtype=object)[order]  # index -1: None
        if library is not None:  # the kind of frame given: a polars DataFrame for polars, an Arrow table for Arrow
            return explanation_frame(library, names, shares, imputed, keys)
        if index is None:
            out = {"feature": names, "feature_index": order, "share": shares, "imputed": imputed}
            # a text model's: each column's key as anomaly_imputed has it (channel='web' for a NULL read as 'web')
            return out if lay is None else {**out, "imputed_keys": keys}
        import sys

        pd: Any = sys.modules["pandas"]  # loaded: X is one of its frames
        columns: dict[str, Any] = {}
        for j in range(k):
            columns[f"feature_{j + 1}"] = names[:, j]
            columns[f"share_{j + 1}"] = shares[:, j]
        columns["imputed"] = [None if not m.any() else {keys[j]: float(v[j]) for j in np.flatnonzero(m)}
                              for m, v in zip(missing, imputed, strict=True)] if missing.any() else [None] * len(rows)
        return pd.DataFrame(columns, index=index)

    def _filled(self, X: Any, batch_size: int) -> tuple[np.ndarray, np.ndarray | None]:
        """``X`` (checked) with each missing value set as SQL sets it (``missing.fill_missing``: the column's most
        typical value beside the row's others), and the rows' scores when filling worked them out (None: no value
        was missing). Why: the graph alone fills the training median, so a count of 500 without its amount scored
        a third higher here than the same model in SQL."""
        from .missing import candidates, fill_missing

        self._check_fitted()
        X = self._as_rows(X, given=True)
        if not (len(X) and np.isnan(X.min())):
            return X, None
        s, fe = self.score_with_errors(X, batch_size)
        filled = fill_missing(X, s, fe, self.specs_, candidates(self.specs_),
                              lambda trial: self.score_with_errors(trial, batch_size))
        return filled, s  # s rescored in place, as SQL's scores are: no second pass over the filled rows

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Anomaly score of each row, higher = more anomalous (``anomaly_score`` in SQL); NaN is allowed, and
        scored as SQL scores a NULL (the column's most typical value beside the row's others)."""
        filled, s = self._filled(X, 65536)
        return (self.score_with_errors(filled)[0] if s is None else s).astype(np.float64)

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit, then 1 for the training rows above ``threshold_`` (anomalies), 0 for the others: ``labels_``."""
        return self.fit(X).labels_.copy()

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """scikit-learn's convention (higher = more normal): minus ``decision_function``."""
        return -self.decision_function(X)

    def _check_training_scores(self, what: str | None = None, needs: str = "") -> Any:
        """Refuse a detector without ``threshold_``; ``what``: the method, which needs the training scores too
        (``needs``: 'spread' their standard deviation, 'ranks' each score's rank among them), given back as a
        ``trainscores.TrainingScores``: a fitted detector's ``decision_scores_``, a stored model's summary."""
        from .trainscores import TrainingScores

        self._check_fitted()
        if what is not None and "_record" in self.__dict__:
            from .fromstore import training_scores_note

            rec = self.__dict__["_record"]
            summary = TrainingScores.of_metrics(rec.train_rows, rec.metrics)
            lacking = ("their lowest and highest" if summary is None
                       else "their standard deviation" if needs == "spread" and summary.std is None
                       else "their ranks near the threshold" if needs == "ranks" and not summary.ranks_known else None)
            if lacking is not None:
                raise NotFittedError(training_scores_note(rec, what, lacking, summary=summary is not None))
        if not hasattr(self, "threshold_"):
            raise NotFittedError("This AutoEncoderDetector was fitted with score_training_rows=False, so it has no "
                                 "threshold_ to predict with; fit with score_training_rows=True, or compare "
                                 "decision_function(X) with a threshold of your own.")
        if what is None:
            return None
        return summary if "_record" in self.__dict__ else TrainingScores.of_scores(self.decision_scores_)

    def predict(self, X: np.ndarray, return_confidence: bool = False) -> Any:
        """1 for rows scoring above ``threshold_`` (anomalies), 0 for the others (PyOD's convention);
        ``return_confidence=True``: ``(labels, predict_confidence(X))``."""
        train = self._check_training_scores("predict(X, return_confidence=True)" if return_confidence else None,
                                            "ranks")
        s = self.decision_function(X)
        labels = (s > self.threshold_).astype(np.int64)
        return (labels, self._confidence(train, s)) if return_confidence else labels

    def predict_confidence(self, X: np.ndarray) -> np.ndarray:
        """How consistently each row's ``predict`` would come out if the training rows were slightly different, in
        [0, 1] (PyOD's ``predict_confidence``, Perini et al. 2020): near 0.5 for rows near ``threshold_``, near 1
        far from it. NaN for a row whose score is NaN. Loaded ``from_store``, it reads each score's rank among the
        training scores from the model's stored summary (exact near the threshold, where the confidence is not 1;
        a model stored by an earlier release has none: retrain it)."""
        train = self._check_training_scores("predict_confidence", "ranks")
        return self._confidence(train, self.decision_function(X))

    def _confidence(self, train: Any, s: np.ndarray) -> np.ndarray:
        from .confidence import confidence_at

        share = self.__dict__.get("_flag_share", self.train_params_.contamination)  # from_store(..., threshold=)
        return confidence_at(train.at_or_below(s), train.n, s, self.threshold_, share)

    def predict_proba(self, X: np.ndarray, method: str = "linear", return_confidence: bool = False) -> Any:
        """Scores turned into ``[P(normal), P(anomaly)]`` per row, as PyOD's ``predict_proba``: a rescaling of
        ``decision_function`` by the training scores, not a calibrated probability.

        ``method='linear'``: min-max scaled by ``decision_scores_``, clipped to [0, 1]; ``'unify'``: erf of the
        score standardised by the training scores' mean and standard deviation, clipped to [0, 1].
        ``return_confidence=True``: ``(probabilities, predict_confidence(X))``.

        Loaded ``from_store``, the training scores are those of every row the model was trained on, as SQL scored
        them: the lowest and highest are the stored quantiles' ends, the mean and standard deviation stored with the
        model (one stored by an earlier release has no standard deviation: 'linear' only), so the result equals a
        detector fitted on the same rows to float32 rounding of the scores (within 1e-4 in the tests)."""
        if method not in ("linear", "unify"):
            raise BadInputError(f"method={method!r} is not a probability conversion of AutoEncoderDetector; use "
                                "'linear' (the default) or 'unify'.")
        what = "predict_proba" + ("(method='unify')" if method == "unify" else "")
        train = self._check_training_scores(what + (" with return_confidence=True" if return_confidence else ""),
                                            "ranks" if return_confidence else "spread" if method == "unify" else "")
        if return_confidence and method == "unify":
            self._check_training_scores(what, "spread")
        s = self.decision_function(X)
        if method == "linear":
            span = train.high - train.low
            p = (s - train.low) / (span if span > 0 else 1.0)  # as MinMaxScaler treats a constant column
        else:
            sigma = train.std
            p = np.vectorize(math.erf, otypes=[np.float64])((s - train.mean) / ((sigma if sigma > 0 else 1.0) * math.sqrt(2)))
        p = np.clip(p, 0.0, 1.0)
        proba = np.column_stack([1.0 - p, p])
        return (proba, self._confidence(train, s)) if return_confidence else proba
