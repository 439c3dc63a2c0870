"""Each SQL function's Arrow body: the scores, flags, percentiles, explanations, imputed values, terms and
thresholds of a batch, checked after scoring (argument order, drift)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from . import batchdrift
from .argorder import check_order
from .arrownumbers import to_arrow
from .frames import IMPUTED_TYPE, imputed_map
from .msevalues import mse
from .scoreterms import TERM_NAMES
from .scoring import LoadedModel
from .shapley import ranked
from .udfargs import _apply, _constant_string, _null_masks

if TYPE_CHECKING:  # udfowners imports this module
    from .udfowners import _Slot


def _check(lm: LoadedModel, X: np.ndarray, s: np.ndarray, func: str) -> None:
    """A batch's checks after scoring: its arguments' order (``check_order``), then its columns' drift
    (``batchdrift``)."""
    check_order(lm, X, s, func)
    batchdrift.check(lm, X, s, func)


def _score(lm: LoadedModel, X: np.ndarray, _: Any) -> pa.Array:
    s = lm.scores(X)
    _check(lm, X, s, "anomaly_score")
    return to_arrow(s, pa.float64())


def _flag(lm: LoadedModel, X: np.ndarray, _: Any) -> pa.Array:
    s = lm.scores(X)
    _check(lm, X, s, "is_anomaly")
    return to_arrow(s > lm.threshold("default"), pa.bool_())


def _flag_at(lm: LoadedModel, X: np.ndarray, names: Any) -> pa.Array:
    s = lm.scores(X)
    _check(lm, X, s, "is_anomaly_at")
    col = names.combine_chunks() if isinstance(names, pa.ChunkedArray) else names
    const = _constant_string(col)  # the usual case: one name for every row
    if const is not None:
        return to_arrow(s > lm.threshold(const), pa.bool_())
    values = col.to_pylist()
    value_of = {v: lm.threshold(str(v)) for v in set(values) - {None}}
    th = np.array([np.inf if v is None else value_of[v] for v in values])
    # a NULL threshold name gives NULL, as a NULL model name does (and SQL functions do), not False
    return to_arrow(s > th, pa.bool_(), np.array([v is not None for v in values]))


def _percentile(lm: LoadedModel, X: np.ndarray, _: Any) -> pa.Array:
    s = lm.scores(X)
    _check(lm, X, s, "anomaly_percentile")
    return to_arrow(lm.percentile(s.astype(np.float64)), pa.float64())


EXPLAIN_TYPE = pa.list_(pa.struct([("feature", pa.string()), ("share", pa.float64())]))


def explain_rows(lm: LoadedModel, fe: np.ndarray) -> pa.Array:
    """Each column's part in each row's score (``LoadedModel.attribution``) -> list of (feature, share) per row,
    largest share first; shares sum to 1. A row with no part at all (every feature missing: a missing value is
    never a reason) gets an empty list, where equal shares would have named its missing values."""
    n, d = fe.shape
    order, vals, some = ranked(fe)
    if not some.all():
        order, vals = order[some], vals[some]
    # Why Arrow's take (which imports pyarrow.compute, 9 MiB): a numpy gather of the names' bytes was 10x slower.
    names = lm.names_pa.take(to_arrow(order.ravel(), pa.int64()))
    structs = pa.StructArray.from_arrays([names, to_arrow(vals.ravel(), pa.float64())], names=["feature", "share"])
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.where(some, d, 0), out=offsets[1:])
    return pa.ListArray.from_arrays(to_arrow(offsets, pa.int32()), structs)


def imputed_rows(lm: LoadedModel, X: np.ndarray, filled: np.ndarray, text: Sequence[Any] = ()) -> pa.Array:
    """Per row, each NULL / NaN feature of ``X`` -> the value scoring took for it, read from ``filled`` (the rows
    as scored: ``LoadedModel.scored_as``'s, or ``attribution_as_scored``'s), beside ``explain_rows``' shares (which
    give a missing value none); NULL for a row with no value missing. ``text``: a text model's text argument
    columns, whose NULLs are keyed by the category they were read as (``Layout.null_entries``)."""
    held = np.isnan(X)
    if lm.layout is None or not text:
        return imputed_map(held, filled[held], lm.names_pa)
    held, values, names = lm.layout.null_entries(held, filled, text, lm.feature_names)
    return imputed_map(held, values[held], names)


def _explain(lm: LoadedModel, X: np.ndarray, _: Any) -> pa.Array:
    s, fe = lm.attribution(X)
    _check(lm, X, s, "anomaly_explain")
    return explain_rows(lm, fe)


def _imputed(lm: LoadedModel, X: np.ndarray, nulls: Any) -> pa.Array:
    # Why a function of its own: anomaly_explain gives a missing value no share, and the value it was scored at was
    # written by score --explain (anomaly_imputed) but could not be asked for in SQL (a dbt model, a BI query)
    s, filled = lm.scored_as(X)
    _check(lm, X, s, "anomaly_imputed")
    # nulls: each argument's NULLs (_null_masks), of which a text model's text ones are keyed by their category
    text = [] if lm.layout is None else [nulls.field(lm.layout.numeric + k) for k in range(len(lm.layout.text))]
    return imputed_rows(lm, X, filled, text)


TERMS_TYPE = pa.struct([(name, pa.float64()) for name in TERM_NAMES])


def _terms(lm: LoadedModel, X: np.ndarray, _: Any) -> pa.Array:
    s, t = lm.terms(X)
    _check(lm, X, s, "anomaly_terms")
    return pa.StructArray.from_arrays([to_arrow(np.ascontiguousarray(t[:, i]), pa.float64())
                                       for i in range(len(TERM_NAMES))], fields=list(TERMS_TYPE))


def _mse(lm: LoadedModel, X: np.ndarray, _: Any) -> pa.Array:
    # Why a function of its own: BigQuery ML's ML.DETECT_ANOMALIES gives mean_squared_error, which users migrating
    # look for (score's mse=True column has the same values: msevalues)
    s, m = mse(lm, X)
    _check(lm, X, s, "anomaly_mse")
    return to_arrow(m, pa.float64())


def _make_functions(slot: _Slot) -> dict[str, Callable[..., Any]]:
    def anomaly_score(model: Any, *cols: Any) -> pa.Array:
        return _apply(slot.current(), "anomaly_score", model, cols, _score, pa.float64())

    def is_anomaly(model: Any, *cols: Any) -> pa.Array:
        return _apply(slot.current(), "is_anomaly", model, cols, _flag, pa.bool_())

    def is_anomaly_at(model: Any, threshold_name: Any, *cols: Any) -> pa.Array:
        return _apply(slot.current(), "is_anomaly_at", model, cols, _flag_at, pa.bool_(), extra=threshold_name)

    def anomaly_percentile(model: Any, *cols: Any) -> pa.Array:
        return _apply(slot.current(), "anomaly_percentile", model, cols, _percentile, pa.float64())

    def anomaly_explain(model: Any, *cols: Any) -> pa.Array:
        return _apply(slot.current(), "anomaly_explain", model, cols, _explain, EXPLAIN_TYPE)

    def anomaly_imputed(model: Any, *cols: Any) -> pa.Array:
        return _apply(slot.current(), "anomaly_imputed", model, cols, _imputed, IMPUTED_TYPE,
                      extra=_null_masks(cols) if cols else None)

    def anomaly_terms(model: Any, *cols: Any) -> pa.Array:
        return _apply(slot.current(), "anomaly_terms", model, cols, _terms, TERMS_TYPE)

    def anomaly_mse(model: Any, *cols: Any) -> pa.Array:
        return _apply(slot.current(), "anomaly_mse", model, cols, _mse, pa.float64())

    def anomaly_threshold(model: Any, threshold_name: Any) -> pa.Array:
        registry = slot.current()
        m = model.to_pylist()
        t = threshold_name.to_pylist()
        cache: dict[tuple[str, str], float] = {}
        out: list[float | None] = []
        for mm, tt in zip(m, t, strict=True):
            if mm is None or tt is None:
                out.append(None)
                continue
            key = (mm, tt)
            if key not in cache:
                cache[key] = registry.get(mm).threshold(tt)
            out.append(cache[key])
        valid = np.array([v is not None for v in out], dtype=bool)
        return to_arrow(np.array([0.0 if v is None else v for v in out], dtype=np.float64), pa.float64(), valid)

    def anomaly_model(model: Any) -> pa.Array:
        # Why: a score table written from SQL (a dbt model, a server's client) records which version scored its rows,
        # as score(model_column=True) does: 'tx_ae' means the promoted or newest version, which changes
        registry = slot.current()
        cache: dict[str, str] = {}
        out: list[str | None] = []
        for mm in model.to_pylist():
            if mm is not None and mm not in cache:
                cache[mm] = registry.get(mm).ref
            out.append(None if mm is None else cache[mm])
        return pa.array(out, pa.string())

    return {
        "anomaly_score": anomaly_score,
        "is_anomaly": is_anomaly,
        "is_anomaly_at": is_anomaly_at,
        "anomaly_percentile": anomaly_percentile,
        "anomaly_explain": anomaly_explain,
        "anomaly_imputed": anomaly_imputed,
        "anomaly_terms": anomaly_terms,
        "anomaly_mse": anomaly_mse,
        "anomaly_threshold": anomaly_threshold,
        "anomaly_model": anomaly_model,
    }
