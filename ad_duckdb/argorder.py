"""The SQL functions' wrong-argument-order check, and the call their messages suggest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .exceptions import FeatureMismatchError
from .sqltext import sql_name, sql_names

if TYPE_CHECKING:
    from .scoring import LoadedModel


def _call(func: str, model: LoadedModel) -> str:
    """The call a message suggests, with the threshold-name argument is_anomaly_at takes (and score's bulk form).
    Why sql_name: a CSV header's "Merchant Count", bare in a call to paste, was a syntax error."""
    if func == "score":
        return f"columns ({', '.join(model.feature_names)})"
    args = ", ".join(sql_name(f) for f in model.feature_names)
    threshold = ", 'threshold_name'" if func == "is_anomaly_at" else ""
    if model.superseded_by is not None:
        return f"{func}('{model.ref}'{threshold}, {args}) ('{model.name}' is now {model.superseded_by})"
    return f"{func}('{model.name}'{threshold}, {args}) (or '{model.ref}' to pin this version)"


def _alike_pairs(model: Any) -> set[tuple[int, int]]:
    """Pairs of features (i < j) whose training medians each lie within one robust spread of the other's: swapped,
    each value stays where its column's values lie, so a swap that lowers a batch's score tells no wrong order.

    Why: a reading and its rolling mean (the README's window features) hold the same values; on NAB's
    ambient_temperature, later rows beyond the training range scored lower with the two swapped, and the query
    failed as if its arguments were out of order."""
    from .features import raw_values

    specs = model.rec.features
    bands = [raw_values(f, np.array([-1.0, 1.0])) for f in specs]
    return {(i, j) for i in range(len(specs)) for j in range(i + 1, len(specs))
            if min(bands[i]) <= specs[j].fill <= max(bands[i]) and min(bands[j]) <= specs[i].fill <= max(bands[j])}


# How a user turns the SQL functions' argument-order checks off (this module's and categorical.check_text_order), by
# LoadedModel.surface. Why serve's names none: the server registers the functions with the check for every client,
# and no SET of a session reaches it.
ORDER_CHECK_OFF = {
    "": ("turn this check off: ad_duckdb.connect(path, check_order=False), `ad-duckdb sql --no-order-check`, "
         "or check_order: false in the dbt plugin config."),
    "sql": "turn this check off: `ad-duckdb sql --no-order-check`.",
    "serve": ("`ad-duckdb serve` keeps this check on for every client: pass the columns in the model's order "
              "(swap them back in the call)."),
}

def order_check_off(model: LoadedModel) -> str:
    """How to get past the order check where ``model``'s functions run."""
    return ORDER_CHECK_OFF.get(model.surface, ORDER_CHECK_OFF[""])


def check_order(model: LoadedModel, X: np.ndarray, scores: np.ndarray, func: str) -> None:
    """Raise when a batch looks like its columns were passed in the wrong order (``order_found``), naming the two
    arguments to swap, or which argument looks like which feature."""
    if not model.check_order:
        return
    order = order_found(model, X, scores)
    if order is None:
        return
    names = model.feature_names
    right = sql_names(names)
    moved = [f for f in range(len(order)) if order[f] != f]
    if len(moved) == 2:
        i, j = moved
        raise FeatureMismatchError(
            f"{func}('{model.ref}', ...): the arguments look out of order: these rows score as extreme "
            f"outliers, but as normal once arguments {i + 1} and {j + 1} ({names[i]!r} and "
            f"{names[j]!r}) are swapped. The model's features are, in order: ({right}). "
            f"Call {_call(func, model)}. If these rows really hold those two columns swapped "
            f"(e.g. you select them on purpose), {order_check_off(model)}"
        )
    raise FeatureMismatchError(
        f"{func}('{model.ref}', ...): the arguments look out of order: these rows score as extreme outliers, but as "
        f"normal once read in the order their values fit: {looks_like(order, names)}. The model's features are, in "
        f"order: ({right}). Call {_call(func, model)}. If these rows really hold those columns in this order, "
        f"{order_check_off(model)}"
    )


def looks_like(order: list[int], names: Sequence[str], what: str = "argument") -> str:
    """"argument 1 looks like 'amount', argument 2 looks like 'count'", for the moved arguments of ``order``."""
    return ", ".join(f"{what} {k + 1} looks like {names[f]!r}" for k, f in sorted((order[f], f) for f in range(len(order)))
                     if k != f)


def order_found(model: Any, X: np.ndarray, scores: np.ndarray) -> list[int] | None:
    """The order of the columns of ``X`` (``order[f]``: the column read as feature f) in which a batch that scores
    as extreme outliers scores as normal, where it is not the order given; None otherwise. ``model``: a stored
    model's ``LoadedModel``, or anything with its ``quantiles``, ``n_features``, ``layout``, ``rec.features``,
    ``feature_names`` and ``scores`` (the detector's, ``detectororder``).

    Only runs when the batch is, as a whole, outside normal (median score above the training 99%
    quantile: half the rows beyond what 1 in 100 training rows reach); then, if swapping two arguments
    makes the batch look normal (median at most the training 90% quantile), the order is almost surely
    wrong, and beyond one swap, so is the order where each column's median sits nearest a feature's training
    median (``_closest_order``). Cheap in the normal case: one count per call. Why 99% rather than 99.9%: a model
    trained for few steps scored the swapped example below its 99.9% quantile and flagged every row
    unchallenged; on the transactions example, batches of only planted or only flagged rows still pass (2 and 4
    features, default and 100-step training).
    """
    q = model.quantiles
    if q is None or len(scores) < 32 or model.n_features < 2 or model.n_features > 12:
        return None
    hi = float(q[int(len(q) * 0.99)]) if len(q) > 1 else float(q[-1])
    limit = max(hi, 1e-12)
    # Why count first: the median can only exceed the limit if at least half the scores do, and a
    # count is ~10x cheaper than a median; normal batches (nearly all) stop here.
    if 2 * int(np.count_nonzero(scores > limit)) < len(scores):
        return None
    med = float(np.median(scores))
    if not med > limit:
        return None
    sample = X[:256]
    normal = float(q[int(len(q) * 0.9)])
    # a text column's inputs are 0/1 in every order: the numeric columns (the first ones) are the ones to swap
    d = model.n_features if model.layout is None else model.layout.numeric
    alike = _alike_pairs(model)
    for i in range(d):
        for j in range(i + 1, d):
            if (i, j) in alike:
                continue
            # Only rows holding both values: a missing value takes its most typical value wherever it sits (see
            # _fill_missing), so swapping it would make any batch of such rows look normal.
            sw = sample[~(np.isnan(sample[:, i]) | np.isnan(sample[:, j]))]
            if len(sw) < 32:
                continue
            sw[:, [i, j]] = sw[:, [j, i]]
            if float(np.median(model.scores(sw))) <= normal:
                order = list(range(d))
                order[i], order[j] = j, i
                return order
    return _reordered(model, sample, d, normal)


def _closest_order(model: Any, sample: np.ndarray, d: int) -> list[int] | None:
    """The order of the first ``d`` arguments that puts each where its values lie closest to a feature's training
    values (``order[k]``: the argument read as feature k), when it is not the order given; None when it is, or
    where the columns cannot be told apart (``_alike_pairs``). Each argument's median against each feature's
    training median, in that feature's robust spreads: one number a pair, so up to 7 features every order is
    tried, beyond that each feature takes the nearest argument left."""
    from itertools import permutations

    from .features import transform

    specs = model.rec.features[:d]
    med = np.median(sample[:, :d], axis=0)  # rows with every value (_reordered's)
    if not np.isfinite(med).all():
        return None
    # cost[k, f]: argument k's median read as feature f, in f's robust spreads from its training median
    cost = np.abs(transform(np.repeat(med[:, None], d, axis=1), specs)
                  - transform(np.array([[s.fill for s in specs]]), specs))
    if d <= 7:
        best = min(permutations(range(d)), key=lambda p: float(cost[list(p), range(d)].sum()))
        order = list(best)
    else:
        order, left = [], set(range(d))
        for f in range(d):
            k = min(left, key=lambda a: cost[a, f])
            order.append(k)
            left.remove(k)
    given = float(np.trace(cost))
    moved = [f for f in range(d) if order[f] != f]
    alike = _alike_pairs(model)
    if not moved or float(cost[order, range(d)].sum()) > 0.5 * given or all(
            (min(f, order[f]), max(f, order[f])) in alike for f in moved):
        return None
    return order


def _reordered(model: Any, sample: np.ndarray, d: int, normal: float) -> list[int] | None:
    """``_closest_order`` where the batch reads as normal in it, beyond one swap: two pairs swapped (amount, count,
    refunds, distinct_cards for count, amount, distinct_cards, refunds) passed the check of single swaps, and every
    row was flagged with a note that blamed the data."""
    # Only rows holding every value: a missing one takes its most typical value wherever it sits (as for a swap)
    rows = sample[~np.isnan(sample[:, :d]).any(axis=1)]
    if len(rows) < 32:
        return None
    order = _closest_order(model, rows, d)
    if order is None:
        return None
    moved = rows.copy()
    moved[:, :d] = rows[:, order]
    return order if float(np.median(model.scores(moved))) <= normal else None
