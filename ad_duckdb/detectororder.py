"""AutoEncoderDetector's note on an array whose columns look out of order: the SQL functions' check (``argorder``)
on the detector's own scores. A note, not an error: scikit-learn reads an array by position, and rows that really
hold other columns are the caller's to score."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from . import notes
from .argorder import looks_like, order_found


def warn_if_out_of_order(det: Any, X: np.ndarray, scores: np.ndarray) -> None:
    """Warn when the rows of array ``X`` score as extreme outliers but as normal with their columns in another order.
    Why: an array of (amount, count) scored by a detector fitted on (count, amount) flagged every row, and the only
    note was that an array is read by position, said of every array alike."""
    stored = det._stored_model()  # from_store: the stored model's training-score quantiles and features
    if stored is not None:
        quantiles, specs, text = stored.quantiles, stored.rec.features, stored.layout is not None
    else:
        # set by fit with decision_scores_ (none yet while fit scores its rows). Why not here: sorting a million
        # training scores at each call cost more than scoring a batch, and predict must leave __dict__ as it is
        quantiles = det.__dict__.get("_score_quantiles")
        specs, text = det.specs_, det.__dict__.get("_layout") is not None
    if quantiles is None or text or len(scores) < 32:
        return  # text features: their 0/1 inputs are not columns of X to reorder
    names = [str(c) for c in det.feature_names_in_]
    view = SimpleNamespace(quantiles=quantiles, n_features=len(names), layout=None,
                           rec=SimpleNamespace(features=specs), feature_names=names,
                           scores=lambda rows: det.score_with_errors(rows)[0])
    order = order_found(view, X, scores)
    if order is None:
        return
    notes.warn(
        f"AutoEncoderDetector: X's columns look out of order: its rows score as extreme outliers, but as normal "
        f"once read in the order their values fit: {looks_like(order, names, 'column')}. An array is read by "
        f"position, in the order fit saw: ({', '.join(names)}); pass X[:, {order}], or a DataFrame with those "
        "column names; if they are in fit's order, these rows are that far out."
    )

