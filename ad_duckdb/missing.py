"""The missing-value policy at scoring time: a NULL / NaN takes its column's most typical value beside the row's
other values. numpy only; shared by the SQL functions (``scoring.LoadedModel``, on the ONNX graph) and
``AutoEncoderDetector`` (on the torch graph), so that both score a row with missing values alike."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .features import FeatureSpec, raw_values, transform

# Scores [n] and per-feature errors [n, d] of rows without missing values (NaN there: the graph's median fill).
Run = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def candidates(specs: Sequence[FeatureSpec]) -> list[np.ndarray]:
    """Per column, raw values a missing value may take: the training median plus and minus 0.5, 1 and 2
    robust spreads (after the column's signed log), kept inside the training range. The median itself is
    what the graph fills, so it is the starting point, not a candidate."""
    out = []
    for f in specs:
        k = np.unique(np.clip(np.array([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0]), f.lo, f.hi))
        out.append(raw_values(f, k[k != 0.0]))
    return out


def beyond_range(specs: Sequence[FeatureSpec], X: np.ndarray, j: int) -> np.ndarray:
    """Row-specific raw values column ``j`` may take, [2 k, m]: as many robust units above and below its median
    as each of the row's present values that lie outside their own column's training range (NaN, which the
    graph fills with the median, where a row has none there). Why: the fixed candidates stay inside the
    training range, so beside a count far beyond it no amount was in proportion, and a row that lost its
    amount scored twice what it did with it; columns that move together are as unusual together."""
    Z = transform(X, specs)
    lo, hi = np.array([f.lo for f in specs]), np.array([f.hi for f in specs])
    out = ((Z < lo) | (Z > hi)) & ~np.isnan(X)
    out[:, j] = False
    cols = np.nonzero(out.any(axis=0))[0]
    if not len(cols):
        return np.empty((0, len(X)))
    z = np.where(out[:, cols], Z[:, cols], np.nan).T  # [k, m]
    with np.errstate(over="ignore"):  # a value clipped at 1000 units is infinite raw, and clipped again alike
        return raw_values(specs[j], np.concatenate([z, -z]))


def fill_missing(X: np.ndarray, s: np.ndarray, fe: np.ndarray, specs: Sequence[FeatureSpec],
                 cands: list[np.ndarray], run: Run) -> np.ndarray:
    """Rescore rows with NULL / NaN values in place (``s``, ``fe``: their median-filled scores and errors): each
    missing value takes whichever of its column's ``cands`` (``candidates``, and ``beyond_range`` for the row)
    gives the row the lowest score, column by column. Returns ``X`` with the values chosen (the training median
    where no candidate scores lower).

    Why: the graph puts the training median in place of a missing value, and where columns move together
    (amount with count) the median beside an unusual partner is itself odd: a feed that lost its amounts
    flagged a fifth of its rows. A row is judged on the values it has: it scores as the most typical row
    its missing values could make, never higher than with the median. Costs one scoring pass per
    candidate and missing column, for the rows with missing values only.
    """
    rows = np.nonzero(np.isnan(X).any(axis=1))[0]
    best = X[rows].copy()
    best_s, best_fe = s[rows], fe[rows]
    for j in np.nonzero(np.isnan(best).any(axis=0))[0]:
        idx = np.nonzero(np.isnan(X[rows, j]))[0]
        if not len(cands[j]):
            continue
        vals = np.concatenate([np.repeat(cands[j][:, None], len(idx), axis=1),
                               beyond_range(specs, X[rows[idx]], int(j))])  # [K, m]
        # Only each row's own candidates: a beyond-range one is NaN where the row has no value out of range in
        # that column (another row of the batch has), and would score the row as it is. Those were 91% of the
        # passes on a 39-column table with 30% NULLs, which then scored 170 times slower than without NULLs.
        kk, ii = np.nonzero(~np.isnan(vals))
        trial = best[idx[ii]]  # [n_trials, d]: a copy (fancy indexing)
        with np.errstate(over="ignore"):  # beyond float32 in a float32 model: infinite, clipped at 1000 units alike
            trial[:, j] = vals[kk, ii]
        ts_run, tfe = run(trial)
        ts = np.full(vals.shape, np.inf)
        ts[kk, ii] = ts_run
        at = np.zeros(vals.shape, dtype=np.intp)  # each candidate's row in the run
        at[kk, ii] = np.arange(len(kk))
        k = np.argmin(ts, axis=0)
        better = ts[k, np.arange(len(idx))] < best_s[idx]
        pick = idx[better]
        chosen = (k[better], np.nonzero(better)[0])
        best_s[pick] = ts[chosen]
        best_fe[pick] = tfe[at[chosen]]
        with np.errstate(over="ignore"):  # as for the trial rows above
            best[pick, j] = vals[chosen]
    s[rows], fe[rows] = best_s, best_fe
    fill = np.array([f.fill for f in specs])
    out = X.copy()
    out[rows] = np.where(np.isnan(best), fill, best)
    return out
