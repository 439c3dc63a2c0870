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

# Scores [n] and per-feature errors [n, d] of rows without missing values (NaN there: the graph's median fill); the
# errors may be None where fill_missing was given none (a caller that needs the scores alone).
Run = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]]


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


class Search:
    """A model's constants the search reads on every call (``fill_missing``), worked out once: held by
    ``scoring.LoadedModel``. Why: built from the column specs per call they were a sixth of the search's own numpy
    time at 10% of rows with a NULL (21 columns, 2048-row calls)."""

    def __init__(self, specs: Sequence[FeatureSpec], cands: Sequence[np.ndarray]) -> None:
        self.specs = specs
        self.cands = cands
        self.has = np.array([len(c) > 0 for c in cands], dtype=bool)
        self.fixed, self.n_fixed, self.first_fixed = _compact(cands)
        self.lo, self.hi = _bounds(specs)
        self.center, self.scale = np.array([f.center for f in specs]), np.array([f.scale for f in specs])
        self.slog = np.array([f.transform == "slog" for f in specs], dtype=bool)
        self.fill = np.array([f.fill for f in specs])


def fill_missing(X: np.ndarray, s: np.ndarray, fe: np.ndarray | None, specs: Sequence[FeatureSpec],
                 cands: Sequence[np.ndarray] | Search, run: Run, *, values: bool = True) -> np.ndarray:
    """Rescore rows with NULL / NaN values in place (``s``, ``fe``: their median-filled scores and errors): each
    missing value takes whichever of its column's ``cands`` (``candidates``), and of the row's values beyond the
    training range (below), gives the row the lowest score, column by column. Returns ``X`` with the values chosen (the training median
    where no candidate scores lower); ``values=False``: ``X`` itself, for a caller that needs the scores alone.

    Why: the graph puts the training median in place of a missing value, and where columns move together
    (amount with count) the median beside an unusual partner is itself odd: a feed that lost its amounts
    flagged a fifth of its rows. A row is judged on the values it has: it scores as the most typical row
    its missing values could make, never higher than with the median. Costs one scoring pass per
    candidate and missing column, for the rows with missing values only.

    ``fe`` None: the caller needs the scores alone, and ``run`` may give None for the errors (the SQL functions' scores
    run the graph for its score output only: the errors of every trial row, copied out and gathered, were a tenth of
    the search's time).
    """
    d = X.shape[1]
    # The rows holding a NaN, from where the NaN lie. Why not isnan(X).any(axis=1): a reduction along each short row
    # cost more than the rest of the setup at 2048 x 21.
    at_nan = np.flatnonzero(np.isnan(X).ravel()) // d
    rows = at_nan[np.r_[True, at_nan[1:] != at_nan[:-1]]] if len(at_nan) else at_nan
    # Why take, not X[rows]: a row gather by take is ~4x cheaper than fancy indexing (the same rows copied)
    best = X.take(rows, axis=0)
    best_s = s[rows]
    best_fe = None if fe is None else fe.take(rows, axis=0)
    held = np.isnan(best)
    # Each row's missing values in column order, in rounds: round r tries every row's r-th missing value (its earlier
    # ones chosen, its later ones at the median, as the column-by-column search had them), every column's in one
    # model run. Why: the search per column cost twice the trial rows' own model time where NULLs spread over many
    # columns (21 runs of ~60 rows, each with its own numpy work, per 2048-row call on cardio); rows are
    # independent, so each row's choices and scores are what they were.
    most = int(np.count_nonzero(held, axis=1).max(initial=0))
    order = np.cumsum(held, axis=1) - 1 if most > 1 else None  # one value a row (the usual case): round 0 is all
    k = cands if isinstance(cands, Search) else Search(specs, cands)
    has, fixed, n_fixed, first_fixed = k.has, k.fixed, k.n_fixed, k.first_fixed
    Z = transform(best, specs)
    outside = ((Z < k.lo) | (Z > k.hi)) & ~held  # the row's present values beyond their column's training range
    center, scale, slog = k.center, k.scale, k.slog
    for r in range(most):
        # each row's r-th missing value (a column without candidates keeps the median), SEARCH_VALUES at a time
        at_r = np.nonzero(held & has if order is None else held & (order == r) & has)
        for start in range(0, len(at_r[0]), SEARCH_VALUES):
            ci, cj = at_r[0][start : start + SEARCH_VALUES], at_r[1][start : start + SEARCH_VALUES]
            cell, tv = _trial_values(ci, cj, outside, Z, fixed, n_fixed, first_fixed, center, scale, slog)
            if not len(cell):  # only from a model whose constants are NaN: the medians stay
                continue
            trial = best.take(ci[cell], axis=0)  # [n_trials, d]: each value's row once per candidate, a copy
            with np.errstate(over="ignore"):  # beyond float32 in a float32 model: infinite, clipped at 1000 units alike
                trial[np.arange(len(cell)), cj[cell]] = tv
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
            if best_fe is not None:
                assert tfe is not None, "a run without errors for a search given errors"
                best_fe[pick] = tfe[at]
            with np.errstate(over="ignore"):  # as for the trial rows above
                best[pick, cj[taken]] = tv[at]
    s[rows] = best_s
    if fe is not None:
        fe[rows] = best_fe
    if not values:
        return X
    out_x = X.copy()
    out_x[rows] = np.where(np.isnan(best), k.fill, best)
    return out_x


def _trial_values(ci: np.ndarray, cj: np.ndarray, outside: np.ndarray, Z: np.ndarray, fixed: np.ndarray,
                  n_fixed: np.ndarray, first_fixed: np.ndarray, center: np.ndarray, scale: np.ndarray,
                  slog: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The trial values of the missing values at rows ``ci`` (of ``outside`` / ``Z``), columns ``cj``: for each
    value in turn, its candidates in order, as ``cell`` (the value's position in ``ci``, ascending) and the value
    tried. A value's candidates: its column's fixed ones (``_compact``), then as many robust units above its median
    as each of the row's present values beyond their own column's training range lies (the columns in order), then
    as many below. Why those: the fixed candidates stay inside the training range, so beside a count far beyond it
    no amount was in proportion, and a row that lost its amount scored twice what it did with it; columns that move
    together are as unusual together. In this order ties go as they always did.

    Why not a [values x candidates] matrix with NaN where a value has no such candidate, read back by np.nonzero:
    that matrix was as wide as the batch's partner columns allow (twice the columns) for every value, most of which
    have no partner at all, and building and reading it cost as much as the model's run of the trial rows at 10% of
    rows with a NULL."""
    m = len(ci)
    nf = n_fixed[cj]
    # the fixed candidates: value i's nf[i] of them, its column's in order
    cell_f = np.repeat(np.arange(m), nf)
    ends_f = np.cumsum(nf)
    k_f = np.arange(int(ends_f[-1]) if m else 0) - np.repeat(ends_f - nf, nf)
    val_f = fixed[np.repeat(first_fixed[cj], nf) + k_f]
    # the partners (a value is no partner of itself: its own column is missing, so never outside)
    rows_out = outside.take(ci, axis=0)
    cols = np.flatnonzero(rows_out.any(axis=0))
    if not len(cols):
        return cell_f, val_f
    oi, oc = np.nonzero(rows_out[:, cols])
    if not len(oi):
        return cell_f, val_f
    # worked out for the values with a partner only (most have none): raw_values' arithmetic, per column, above
    # then below; NaN kept out as they were (only from NaN constants)
    with_p = oi[np.r_[True, oi[1:] != oi[:-1]]]
    place = np.searchsorted(with_p, oi)
    beyond = np.full((len(with_p), 2 * len(cols)), np.nan)
    z = Z[ci[oi], cols[oc]]
    beyond[place, oc], beyond[place, oc + len(cols)] = _raw(np.concatenate([z, -z]), np.tile(cj[oi], 2), center, scale,
                                                            slog).reshape(2, -1)
    bi, bk = np.nonzero(~np.isnan(beyond))
    cell_b = with_p[bi]
    val_b = beyond[bi, bk]
    # each value's fixed candidates first, then its partners', in one array ordered by value
    nb = np.bincount(cell_b, minlength=m)
    counts = nf + nb
    starts = np.cumsum(counts) - counts
    cell = np.repeat(np.arange(m), counts)
    tv = np.empty(len(cell))
    tv[starts[cell_f] + k_f] = val_f
    rank_b = np.arange(len(cell_b)) - np.searchsorted(cell_b, cell_b)
    tv[starts[cell_b] + nf[cell_b] + rank_b] = val_b
    return cell, tv


def _compact(cands: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every column's candidates that are numbers (NaN only from NaN constants, left out as the search always left
    them out), one column after the other: the values, how many each column has, and where each column's start."""
    kept = [c[~np.isnan(c)] for c in cands]
    n = np.array([len(c) for c in kept], dtype=np.intp)
    return (np.concatenate(kept) if kept else np.empty(0)), n, np.cumsum(n) - n


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
