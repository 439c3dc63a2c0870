"""One row given to a fitted detector as a flat Python list (or tuple) of its values: ``det.decision_function([1.5,
20, 'web'])``, read as ``[[1.5, 20, 'web']]`` when it holds one value per feature.

Why a list and not a 1-D array: a list of plain values reads one way only (a row, as a DataFrame's row is written
out), and it was refused with "X.reshape(1, -1)", which a list has not; a 1-D array keeps scikit-learn's rule (its
reshape named in the refusal), as a pipeline built on scikit-learn expects. Why not for one feature: ``[1, 2, 3]``
is then as likely three rows as one, so only a list of one value is a row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .exceptions import BadInputError


def _plain(v: Any) -> bool:
    """A value of a row (a number, a text, None, NaN, pandas' NA, a date), not a row or a record of its own."""
    return not isinstance(v, (list, tuple, dict, set, np.ndarray)) and np.ndim(v) == 0


def flat_row(X: Any, names: Sequence[str]) -> Any:
    """``X`` as a list of one row when it is a flat list or tuple of ``len(names)`` plain values (a number, a text,
    None, NaN); refused, with the shape to pass, when it is flat but of another length; a dict of plain values
    (``{'amount': 120.0, 'channel': 'web'}``) as a dict of columns of one value each, matched by name as a frame's
    columns are; else as it is.

    Why a dict: it names each value's column, so it reads one way only, as a row; it was refused as a dict of
    columns ("'float' object is not iterable") where the flat list of its values scored."""
    if isinstance(X, dict) and X and not hasattr(X, "nnz") and all(_plain(v) for v in X.values()):
        return {k: [v] for k, v in X.items()}
    if not isinstance(X, (list, tuple)) or not X or not all(_plain(v) for v in X):
        return X
    d = len(names)
    if len(X) == d:
        return [list(X)]
    shown = ", ".join(repr(str(n)) for n in names[:10]) + (f", ... ({d - 10} more)" if d > 10 else "")
    one_feature = (f"; for {len(X)} rows of its one feature, one list per row: [[v] for v in X]" if d == 1 else "")
    raise BadInputError(
        f"AutoEncoderDetector: X is a flat list of {len(X)} values, read as one row, but this model has {d} "
        f"feature{'s' if d != 1 else ''} ({shown}): pass one row as a list of {d} value{'s' if d != 1 else ''} in that "
        f"order, or rows as a list of lists, [[...], [...]], each of {d}{one_feature}.")
