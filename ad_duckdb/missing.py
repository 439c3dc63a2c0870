"""The missing-value policy at scoring time: a NULL / NaN takes its column's most typical value beside the row's
other values. numpy only; shared by the SQL functions (``scoring.LoadedModel``, on the ONNX graph) and
``AutoEncoderDetector`` (on the torch graph), so that both score a row with missing values alike."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .features import FeatureSpec, raw_values, transform

# Missing values searched in one model run at most (fill_missing). Why a bound: bulk scoring's batches hold tens of
# thousands of rows with NULLs, whose trial rows in one run (and its [values x candidates] arrays) took twice the
# wall time of the search per column; 2048 is the SQL functions' call, where one run is the gain.
SEARCH_VALUES = 2048

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


def _bounds(specs: Sequence[FeatureSpec]) -> tuple[np.ndarray, np.ndarray]:
    """Each column's training range in scaled units (``lo``, ``hi``)."""
    return np.array([f.lo for f in specs]), np.array([f.hi for f in specs])


def fill_missing(X: np.ndarray, s: np.ndarray, fe: np.ndarray, specs: Sequence[FeatureSpec],
                 cands: list[np.ndarray], run: Run, *, values: bool = True) -> np.ndarray:
    """Rescore rows with NULL / NaN values in place (``s``, ``fe``: their median-filled scores and errors): each
    missing value takes whichever of its column's ``cands`` (``candidates``), and of the row's values beyond the
    training range (below), gives the row the lowest score, column by column. Returns ``X`` with the values chosen (the training median
    where no candidate scores lower); ``values=False``: ``X`` itself, for a caller that needs the scores alone.

    Why: the graph puts the training median in place of a missing value, and where columns move together
    (amount with count) the median beside an unusual partner is itself odd: a feed that lost its amounts
    flagged a fifth of its rows. A row is judged on the values it has: it scores as the most typical row
    its missing values could make, never higher than with the median. Costs one scoring pass per
    candidate and missing column, for the rows with missing values only.
    """
    rows = np.nonzero(np.isnan(X).any(axis=1))[0]
    best = X[rows]  # a copy (fancy indexing)
    best_s, best_fe = s[rows], fe[rows]
    held = np.isnan(best)
    # Each row's missing values in column order, in rounds: round r tries every row's r-th missing value (its earlier
    # ones chosen, its later ones at the median, as the column-by-column search had them), every column's in one
    # model run. Why: the search per column cost twice the trial rows' own model time where NULLs spread over many
    # columns (21 runs of ~60 rows, each with its own numpy work, per 2048-row call on cardio); rows are
    # independent, so each row's choices and scores are what they were.
    most = int(held.sum(axis=1).max(initial=0))
    order = np.cumsum(held, axis=1) - 1 if most > 1 else held - 1  # one value a row (the usual case): round 0
    has = np.array([len(c) > 0 for c in cands])
    fixed = _padded(cands)  # [d, K]
    Z = transform(X[rows], specs)
    lo, hi = _bounds(specs)
    outside = ((Z < lo) | (Z > hi)) & ~held  # the row's present values beyond their column's training range
    center, scale = np.array([f.center for f in specs]), np.array([f.scale for f in specs])
    slog = np.array([f.transform == "slog" for f in specs])
    for r in range(most):
        # each row's r-th missing value (a column without candidates keeps the median), SEARCH_VALUES at a time
        at_r = np.nonzero(held & (order == r) & has)
        for start in range(0, len(at_r[0]), SEARCH_VALUES):
            ci, cj = at_r[0][start : start + SEARCH_VALUES], at_r[1][start : start + SEARCH_VALUES]
            # Per value, its candidates in order: the column's fixed ones, then as many robust units above its median as
            # each of the row's present values beyond their own column's training range lies, then below (NaN where a
            # partner is in range). Why those: the fixed candidates stay inside the training range, so beside a count
            # far beyond it no amount was in proportion, and a row that lost its amount scored twice what it did with
            # it; columns that move together are as unusual together. In this order ties go as they always did.
            cols = np.nonzero(outside[ci].any(axis=0))[0]
            out = outside[ci][:, cols]
            out[cj[:, None] == cols[None, :]] = False  # a value is no partner of itself
            beyond = np.full((len(ci), 2 * len(cols)), np.nan)
            oi, oc = np.nonzero(out)
            if len(oi):  # worked out for the partners only (most rows have none): raw_values' arithmetic, per column
                z = Z[ci[oi], cols[oc]]
                beyond[oi, oc], beyond[oi, oc + len(cols)] = _raw(np.concatenate([z, -z]), np.tile(cj[oi], 2), center,
                                                                  scale, slog).reshape(2, -1)
            vals = np.concatenate([fixed[cj], beyond], axis=1)
            # Only each row's own candidates: a beyond-range one is NaN where the row has no value out of range in
            # that column (another row of the batch has), and would score the row as it is. Those were 91% of the
            # passes on a 39-column table with 30% NULLs, which then scored 170 times slower than without NULLs.
            cell, kk = np.nonzero(~np.isnan(vals))
            if not len(cell):  # only from a model whose constants are NaN: the medians stay
                continue
            trial = best[ci[cell]]  # [n_trials, d]: a copy (fancy indexing)
            with np.errstate(over="ignore"):  # beyond float32 in a float32 model: infinite, clipped at 1000 units alike
                trial[np.arange(len(cell)), cj[cell]] = vals[cell, kk]
            ts_run, tfe = run(trial)
            # Each value's lowest-scoring candidate, the first of equal ones (as np.argmin over its candidates in order
            # chose): ``cell`` runs in order, each value's candidates together and in order. A NaN among them makes
            # the lowest NaN, which no row takes, as argmin's NaN was not.
            new_cell = np.r_[True, cell[1:] != cell[:-1]]
            low = np.minimum.reduceat(ts_run, np.flatnonzero(new_cell))
            hit = np.flatnonzero(ts_run == low[np.cumsum(new_cell) - 1])
            first = hit[np.r_[True, cell[hit[1:]] != cell[hit[:-1]]]] if len(hit) else hit
            c_first = cell[first]
            win = np.nonzero(ts_run[first] < best_s[ci[c_first]])[0]
            taken, at = c_first[win], first[win]
            pick = ci[taken]
            best_s[pick] = ts_run[at]
            best_fe[pick] = tfe[at]
            with np.errstate(over="ignore"):  # as for the trial rows above
                best[pick, cj[taken]] = vals[cell[at], kk[at]]
    s[rows], fe[rows] = best_s, best_fe
    if not values:
        return X
    fill = np.array([f.fill for f in specs])
    out_x = X.copy()
    out_x[rows] = np.where(np.isnan(best), fill, best)
    return out_x


def _padded(cands: list[np.ndarray]) -> np.ndarray:
    """``cands`` as one matrix [d, most candidates of a column], NaN after a column's own."""
    M = np.full((len(cands), max((len(c) for c in cands), default=0)), np.nan)
    for j, c in enumerate(cands):
        M[j, : len(c)] = c
    return M


def _raw(z: np.ndarray, cj: np.ndarray, center: np.ndarray, scale: np.ndarray, slog: np.ndarray) -> np.ndarray:
    """``raw_values`` of each value of ``z`` [n] in its own column ``cj`` [n]: the same float64 arithmetic, on
    contiguous arrays as there (numpy's vectorized expm1 then takes every element alike)."""
    with np.errstate(over="ignore"):  # a value clipped at 1000 units is infinite raw, and clipped again alike
        t = center[cj] + scale[cj] * z
        logged = np.nonzero(slog[cj])[0]
        if len(logged):
            tl = t[logged]
            t[logged] = np.sign(tl) * np.expm1(np.abs(tl))
    return t
