"""What a numeric column's name and values say it is besides a measurement: an id (a row key, a row number, a row
index written out), a point in time as a number (epoch seconds rising row by row), or a label. Default features
leave ids and points in time out (``featurechoice.default_features``); a column named like a label is noted."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from . import notes
from .features import is_integer_type
from .optionwords import FIT, SURFACE

# a DECIMAL(38,0) holds integers (Spark writes a HUGEINT or a long id so, and an Oracle NUMBER(p))
_WHOLE_DECIMAL = re.compile(r"(?i)^(DECIMAL|NUMERIC)\(\d+,\s*0\)$")
_ID_NAME = re.compile(r"(^|[_\s.-])id$", re.IGNORECASE)  # id, transaction_id, USER_ID, a CSV header's Merchant ID
_CAMEL_ID = re.compile(r"[a-z0-9]I[dD]$")  # merchantId, customerID (not PAID, valid)
# a row's number or key: Transaction_No, 'Invoice Number', order_nr, 'Beleg Nr.', TxnNo, InvoiceNumber (not Casino,
# 'Number of cards'); an id only with a distinct value in every row, as a count of things named so has repeats
_NUMBER_NAME = re.compile(r"(?i:(^|[_\s.-])(no|nr|num|number)\.?)$|[a-z0-9](No|Nr|Num|Number)$")
# a row index written out (pandas' to_parquet: '__index_level_0__' for an index that is not a plain range)
_INDEX_NAME = re.compile(r"(?i)index|idx|unnamed: ?0|level_0|rowid|row_?num(ber)?|__index_level_\d+__")
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
