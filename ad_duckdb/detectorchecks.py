"""The detector's checks of ``X`` against its names: ``feature_names=`` and ``sql_types=`` one per column, and the
warnings for a 0/1 column named like a label and for columns read by position (a frame after a fit on an array, an
array after a fit on a frame)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import notes
from .detectorrows import _repeats
from .exceptions import BadInputError


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

