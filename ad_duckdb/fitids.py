"""AutoEncoderDetector.fit's note on a frame's id-like columns, which ``ad_duckdb.train`` leaves out of its features.

Why a note and not leaving them out: fit keeps scikit-learn's meaning, every column given is a feature. But a row
index written out with the data (the shared credit-card CSV's 'Index', every fraud first) tells rows apart by where
they sat in the file, which can be by label, and new rows' ids lie beyond the training range."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import notes
from .columnroles import id_like


def _why(name: str, values: np.ndarray) -> str | None:
    # rising=False: a rising epoch column has a note of its own (warn_epoch_features)
    why = id_like(name, "DOUBLE", values, rising=False)
    given = values[~np.isnan(values)]
    # finite first: np.mod of an infinite value warned "invalid value encountered in remainder" out of fit
    if why is None and len(given) and bool(np.isfinite(given).all()) and bool(np.all(np.mod(given, 1.0) == 0)):
        why = id_like(name, "BIGINT", given, rising=False)  # a row number: 'Transaction_No', distinct
    return why


def warn_id_columns(X: np.ndarray, names: Sequence[str]) -> None:
    """Warn of the columns of ``X`` (a frame's rows, its column ``names``) named like an id, a row index or a row
    number, with the drop that fits without them."""
    found = [(n, why) for j, n in enumerate(names) if (why := _why(str(n), X[:, j])) is not None]
    if not found:
        return
    listed = ", ".join(f"{n!r} ({why})" for n, why in found)
    dropped = ", ".join(repr(str(n)) for n, _ in found)
    notes.warn(
        f"AutoEncoderDetector.fit: X's column{'s' if len(found) > 1 else ''} {listed} "
        f"{'are features' if len(found) > 1 else 'is a feature'}: an id or a row index tells rows apart rather than "
        "describing them (rows written out in label order score by their place in the file), and new rows bring ids "
        "beyond the training range, which score as anomalous; ad_duckdb.train leaves such columns out. Unless it "
        f"describes the rows, fit without it: fit(X.drop(columns=[{dropped}])).",
    )
