"""Each row's mean squared reconstruction error (BigQuery ML's ``mean_squared_error``), one definition for the SQL
function ``anomaly_mse`` and ``score``'s opt-in ``anomaly_mse`` column, so the two never disagree."""

from __future__ import annotations

import numpy as np

from .scoring import LoadedModel

# The column score(mse=True) writes (CLI: --mse), named as the SQL function that gives the same values
MSE_COLUMN = "anomaly_mse"


def mse(lm: LoadedModel, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The scores [n] and each row's mean squared reconstruction error over the features [n] (each column's in units of
    its typical error, so about 1 for a typical training row); a NULL / NaN value takes what scoring chose for it.

    Why the square of the reconstruction term: that term is the square root of this mean (nn.ScoringGraph)."""
    s, t = lm.terms(X)
    rec = np.ascontiguousarray(t[:, 0])
    return s, rec * rec
