"""Shapley values of a row's score over its columns: ``anomaly_explain``'s shares in SQL (on the stored ONNX graph,
``scoring.LoadedModel``) and ``AutoEncoderDetector.explain``'s in Python (on the torch graph it was exported from).
One computation for both, so a row explained in a notebook gets the shares SQL gives it, to float32 rounding.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# anomaly_explain's Shapley values: exact up to this many columns (2^6 = 64 scoring passes), beyond it the mean over
# this many fixed orders (8 (d - 1) + 2 passes, see coalitions: 58 at d = 8, 240 at d = 30). Measured with
# bench/explain.py (9 ADBench files, seeds 0-2): exact values on files of 8-10 columns named the moved columns up to
# 2 points more often than 8 orders, at 4-20x the cost; 16 orders gained under a point over 8.
SHAPLEY_EXACT_MAX = 6
SHAPLEY_ORDERS = 8
# Values (the explained rows times their scored rows times d) per chunk, to bound memory on large batches: 16 MiB
# of float32, as many rows as 1 << 17 at d = 32, fewer for wider tables.
SHAPLEY_VALUES = 1 << 22
# onnxruntime's result for a row depends, in the last float32 digits, on where the row's values start in its run
# and on whether it falls in the run's last partial vector (here modulo 4 values; 16 covers 64-byte vectors). So
# runs hold a multiple of this many rows (run_rows, run_aligned) and each explained row's scored rows a block of a
# multiple of this many values: a row's score and shares were otherwise changed by the rows before it in its batch.
ORT_ALIGN = 16


Run = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
Fill = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
Score = Callable[[np.ndarray], np.ndarray]
# (rows -> their scaled values, scaled rows -> scores): see explaingraph
Cut = tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]


def attribution(X: np.ndarray, run: Run, fill: Fill, score: Score,
                dtype: type[np.floating[Any]] | None = None, cut: Cut | None = None,
                players: Players | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Scores, and each column's part in each row's score [n, d] (>= 0): ``anomaly_explain``'s, and
    ``AutoEncoderDetector.explain``'s on the torch graph of the same model.

    A column's part is its Shapley value in the row's score, with "absent" meaning "at its typical value"
    (the training median, which the graph puts in place of a NaN): how much the score changes when that
    column takes the row's value, averaged over the orders in which the row's values could be put in place
    of the medians. The parts sum to the row's score minus the all-median row's score, so a row is explained
    by what moves it away from typical, and columns that are odd only together share the credit. A row's
    NULL / NaN values stay at their training medians in every subset (the row is scored, ``s`` and ``fe``, with
    them set to what ``fill``, ``missing.fill_missing``, chose): their parts are 0, as a missing value is never a
    reason, and the row's present values share the credit among themselves.

    Why not hold the fill in every subset: a fill in proportion to a value beyond the training range (an amount
    for a count of 200) is itself far out, so the medians plus the fill scored above the row, every present
    column's part came out negative, and the row fell back to the per-feature error, which named a column at its
    median first. Why not let the fill take part and drop its part after: that fill lowers the score once the far
    value joins it (it was chosen to fit it), so the far value's part came out negative, cut to 0, and its credit
    went to the dropped part: an order of qty 13 and amount 4379.6 (40x the usual) with its discount NULL was
    explained 'qty 100%, amount 0%'.

    Why not the drop when one column alone is reset (the explanation before 2026-12-01): that drop misses
    columns odd only jointly (resetting either of two leaves the row odd), and needed a fallback. On held-out
    ADBench rows with two columns pushed 4 robust spreads out (bench/explain.py), the two columns named first
    were the right pair 6 points more often (9 files, seeds 0-2), and a single pushed column was named first
    as often (within 1 point). Why not the graph's per-feature reconstruction error alone: an autoencoder that
    sees one column far off also reconstructs the others badly, so the error lands on columns that are fine.

    Exact (all 2^d subsets of columns) up to ``SHAPLEY_EXACT_MAX`` columns; beyond, the mean over
    ``SHAPLEY_ORDERS`` fixed orders (half of them the other half reversed), so a row always gets the same
    explanation. Costs 2^d (or about 8 d) scoring passes, so it is for explaining rows, not for ranking them.

    ``run``: scores and per-feature errors of rows, a NaN at the graph's median fill; ``fill``: ``X`` with its NaN
    set as scoring sets them (rescoring ``s`` and ``fe`` in place); ``score``: scores of rows, a NaN at the median;
    ``dtype``: what ``score`` takes (``values``); ``cut``: the graph cut where its preprocessing ends (``values``);
    ``players``: the columns of a model with text features (``values``), whose parts are then per column [n, p].
    """
    s, fe = run(X)
    held = None
    if len(X) and np.isnan(X.min()):
        # scored as fill chose its missing values (s and fe); explained with them at the training median in every
        # subset (the graph's fill of a NaN), so that their part is 0 by construction
        held = np.isnan(X)
        fill(X.copy(), s, fe)
    n, d = X.shape
    groups = players.groups if players is not None else np.arange(d)
    p = int(groups.max()) + 1 if d else 0
    parts = np.empty((n, p), dtype=np.float64)
    # Why in chunks: each row becomes up to 2^p (or about 8 p) rows to score.
    step = max(1, SHAPLEY_VALUES // (len(coalitions(p, d)) * d))
    for a in range(0, n, step):
        parts[a:a + step] = values(X[a:a + step], score, dtype, cut, players)
    if held is not None:
        fe = np.where(held, 0.0, fe)
        held = _per_player(held, groups, p) > 0
        parts[held] = 0.0  # a missing value is never a reason, however far out its fill lies
    np.maximum(parts, 0.0, out=parts)
    # Rows no column moves above the all-median row's score (float noise only) keep the per-feature error.
    moved = parts.sum(axis=1) > 1e-6 * (np.abs(s) + 1.0)
    fe = _per_player(fe, groups, p)
    if players is not None:  # a text column at its most common category is never a reason either
        fe[_per_player((X != players.base[None]).astype(np.float64), groups, p) == 0] = 0.0
    return s, np.where(moved[:, None], parts, fe)


@dataclass(frozen=True)
class Players:
    """The players of a row's Shapley values when they are not its graph inputs one by one: a model with text
    features has one input per category, and a text column is one player. ``groups`` [d]: each input's player;
    ``base`` [d]: each input's value when its player is absent, NaN meaning the graph's median fill.

    Why not each category input a player of its own, summed per column after: an input's value alone (web 0, phone
    1: a row of two categories or none) is no row the model saw, each input's part was cut at 0 before the sum, and a
    row flagged for its rare category alone was explained 'channel 0%'. Why a base of the first (most common)
    category, not the fill of 0/1 inputs (0, a row of no category): 'typical' for a text column, as a NULL is read."""

    groups: np.ndarray
    base: np.ndarray


def _per_player(a: np.ndarray, groups: np.ndarray, p: int) -> np.ndarray:
    """[n, d] per input -> [n, p] per player, summed."""
    if p == a.shape[1]:
        return a
    out = np.zeros((a.shape[0], p), dtype=np.float64)
    np.add.at(out.T, groups, a.T.astype(np.float64))
    return out


def ranked(parts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's columns by their share of its ``attribution`` parts, largest first: column indices [n, d], shares
    [n, d] (summing to 1), and which rows have any part at all (a row of missing values only has none: a missing
    value is never a reason; its shares are 0)."""
    n, d = parts.shape
    parts = np.nan_to_num(parts.astype(np.float64), nan=0.0, posinf=np.finfo(np.float64).max / (d + 1))
    tot = parts.sum(axis=1, keepdims=True)
    some = tot[:, 0] > 0
    shares = parts / np.where(some[:, None], tot, 1.0)
    order = np.argsort(-shares, axis=1, kind="stable")
    return order, np.take_along_axis(shares, order, axis=1), some


def values(X: np.ndarray, score: Score, dtype: type[np.floating[Any]] | None = None,
           cut: Cut | None = None, players: Players | None = None) -> np.ndarray:
    """Shapley values [n, d] of the score; NaN in a scored row means "at the training median" (the graph's
    fill), by construction, so ``score`` must not fill them otherwise. Each value comes from the row's own block of
    scored rows (``coalitions``) in a fixed order of operations, so it is the same in any batch. ``dtype``: what
    ``score`` takes (the model's input type), which the scored rows are built in.

    Why built in it: rows handed over in float64 were built in float64 and cast for the graph, a copy of 1,200 rows
    a row at 150 columns (5% of explaining them); casting the row's values first gives the same values.

    ``cut``: (pre, rest), the graph cut where its preprocessing ends (``explaingraph``): ``pre`` gives rows' scaled
    values, ``rest`` scores scaled rows. The scored rows are then built from the scaled values of the rows and of the
    all-median row (preprocessing is elementwise), and ``score`` is not used: the same scores, without preprocessing
    each value of each scored row again (55% of the graph's time at 150 columns).

    ``players``: a text column's inputs are one player, absent at its ``base`` (``Players``); the values are then
    [n, p], one per column."""
    n, width = X.shape
    groups = players.groups if players is not None else np.arange(width)
    d = int(groups.max()) + 1 if width else 0  # the players
    keep = coalitions(d, width)
    keep_in = keep[:, groups] if players is not None else keep  # [m, width]: which inputs keep the row's value
    base = players.base if players is not None else np.full(width, np.nan)
    if dtype is not None:
        with np.errstate(over="ignore"):  # beyond float32: +-inf, as the graph's input cast gives it
            X = X.astype(dtype, copy=False)
    if cut is not None:
        pre, rest = cut
        Z = pre(np.concatenate([X, base[None].astype(X.dtype)]))
        v = np.asarray(rest(np.where(keep_in[None], Z[:n, None, :], Z[n:][None]).reshape(-1, width)))
    else:
        rows = np.where(keep_in[None], X[:, None, :], base.astype(X.dtype)[None, None]).reshape(-1, width)
        v = np.asarray(score(rows.astype(X.dtype, copy=False)))
    v = v.reshape(n, len(keep)).astype(np.float64)
    phi = np.zeros((n, d), dtype=np.float64)
    if d <= SHAPLEY_EXACT_MAX:
        size = keep.sum(axis=1)
        weight = [math.factorial(k) * math.factorial(d - k - 1) / math.factorial(d) for k in range(d)]
        for j in range(d):
            bit = 1 << j
            # Why a loop, not a product with the weights: BLAS sums in an order that depends on the number of rows
            for c in range(1 << d):
                if not c & bit:
                    phi[:, j] += weight[size[c]] * (v[:, c | bit] - v[:, c])
        return phi
    steps = d - 1
    full = v[:, 1 + SHAPLEY_ORDERS * steps, None]
    for i, order in enumerate(orders(d)):
        path = np.concatenate([v[:, :1], v[:, 1 + i * steps:1 + (i + 1) * steps], full], axis=1)
        phi[:, order] += np.diff(path, axis=1)
    return phi / SHAPLEY_ORDERS


@functools.lru_cache(maxsize=64)
def coalitions(d: int, width: int | None = None) -> np.ndarray:
    """[m, d]: which columns keep the row's value (the others NaN: their medians) in each of the rows scored to
    explain one row. Exact: the 2^d subsets, row c holding column j where bit j of c is set. Sampled: the empty
    set, the first 1 .. d - 1 columns of each of ``orders``, then the whole row. Padded with empty rows
    to a multiple of ORT_ALIGN values of rows ``width`` inputs wide (default ``d``: each column one input)."""
    if d <= SHAPLEY_EXACT_MAX:
        codes = np.arange(1 << d)
        keep = ((codes[:, None] >> np.arange(d)) & 1).astype(bool)
    else:
        steps = []
        for order in orders(d):
            k = np.zeros((d - 1, d), dtype=bool)
            k[:, order] = np.tril(np.ones((d - 1, d), dtype=bool))  # step k: the order's first k + 1 columns
            steps.append(k)
        keep = np.concatenate([np.zeros((1, d), dtype=bool), *steps, np.ones((1, d), dtype=bool)])
    unit = ORT_ALIGN // math.gcd(width or d, ORT_ALIGN)
    pad = -len(keep) % unit
    keep = np.concatenate([keep, np.zeros((pad, d), dtype=bool)])
    keep.flags.writeable = False  # cached and shared
    return keep


@functools.lru_cache(maxsize=64)
def orders(d: int) -> tuple[np.ndarray, ...]:
    """SHAPLEY_ORDERS fixed orders of d columns: random ones and their reverses (antithetic: a column early in
    one is late in the other, which halves the variance of the estimate)."""
    rng = np.random.default_rng(d)
    half = [rng.permutation(d) for _ in range(SHAPLEY_ORDERS // 2)]
    out = tuple([*half, *(o[::-1].copy() for o in half)])
    for o in out:
        o.flags.writeable = False  # cached and shared
    return out
