"""The SQL functions' note of a batch of rows whose numeric column moved out of its training range: said once per
(model version, column) until the registry's next statement (``ad-duckdb sql``: per statement; Python and dbt: per
connection; serve: per run), naming the column, its median against training's (as a factor where both are
positive), and what to check.

Why: a dbt model fed ``count * 50`` (a unit change upstream) had every row flagged by is_anomaly, and nothing said
so: only ``score``'s drift note (drift.py) named the column, and it reads the whole set, which a SQL function (a
batch of up to 2048 rows) never sees. Cheap where the rows are ordinary: one count of the batch's scores; the
medians are taken only of a batch most of whose rows score beyond what 1 in 100 training rows reach.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .drift import _EDGE, _checks, _factor, _how_far, _side, apart, train_where
from .exceptions import AdDuckDBWarning
from .features import RANGE_QUANTILE_UNLABELLED, raw_values
from .numbertext import share_text

# A batch is looked at from this many rows (fewer say little about where a column's values lie; the SQL functions
# get up to 2048 a call) when at least HIGH_SHARE of its scores lie above the training scores' HIGH_QUANTILE point:
# 20x the share of training rows there. Why not lower: a batch of ordinary rows with a few percent of anomalies
# stays far below it, and one that passes still says nothing unless a column's median lies outside its range.
MIN_ROWS = 256
HIGH_QUANTILE = 0.99
HIGH_SHARE = 0.2
# The key of a column's note in LoadedModel.said (whose text notes key on (column, value); no value is this)
MOVED = "\0moved"
# Why a lock: each thread found the column unsaid before any marked it, and two or three said the same note
_SAYING = threading.Lock()


def check(model: Any, X: np.ndarray, scores: np.ndarray, func: str) -> None:
    """Note the numeric columns of batch ``X`` (the graph's inputs, NaN for NULL) whose median lies outside their
    training range, where most of its ``scores`` lie high; each column once until ``Registry.new_statement``."""
    q = model.quantiles
    if q is None or len(scores) < MIN_ROWS or not len(q):
        return
    limit = float(q[min(int(len(q) * HIGH_QUANTILE), len(q) - 1)])
    if np.count_nonzero(scores > limit) < HIGH_SHARE * len(scores):
        return
    numeric = model.n_inputs if model.layout is None else model.layout.numeric
    specs = model.rec.features[:numeric]
    todo = [j for j, f in enumerate(specs) if (f.name, MOVED) not in model.said]
    if not todo:
        return
    lo, hi = _bounds(model)
    cols = np.asarray(X[:, todo], dtype=np.float64)
    # Why counts, not medians: a median lies outside the range only where over half the values with one do, and the
    # counts took a batch whose rows all score high (a query of the flagged rows) from 133 to 33 us (2048 x 2)
    valued = len(cols) - np.count_nonzero(np.isnan(cols), axis=0)
    out = np.maximum(np.count_nonzero(cols > hi[todo], axis=0), np.count_nonzero(cols < lo[todo], axis=0))
    moved = []
    for k in np.flatnonzero((2 * out > valued) & (valued > 0)):
        j = todo[k]
        moved.append((specs[j], float(np.nanmedian(cols[:, k])), float(lo[j]), float(hi[j]), cols[:, k]))
    with _SAYING:  # DuckDB's threads score batches side by side: one of them says a column
        moved = [m for m in moved if (m[0].name, MOVED) not in model.said]
        if not moved:
            return
        model.said.update((f.name, MOVED) for f, *_ in moved)
    share = float(np.count_nonzero(scores > limit)) / len(scores)
    from . import notes

    text = _text(model, func, moved, share, len(scores), limit)
    try:
        notes.warn(text)
    except AdDuckDBWarning:
        # warnings made errors (python -W error, pytest's filterwarnings): the rows scored, and a note of where they
        # lie must not fail the query that scored them (a test of synthetic rows outside every range did); nor go
        # unsaid, which left every row flagged with no word of why: shown as a warning filtered "always" would be
        notes.show(text)


def unsaid(model: Any) -> None:
    """No batch note of ``model``'s columns until ``Registry.new_statement`` (explain: its rows are the ones a
    ``--where`` picked, often the flagged ones, and each row's lines name its values against their training range)."""
    model.said.update((f.name, MOVED) for f in model.rec.features)


@contextmanager
def once_for_both(a: Any, b: Any) -> Iterator[None]:
    """Within it, a column noted by version ``a`` or ``b`` is noted once for both (compare scores every row with
    each, and each said the same column's note); afterwards each holds both's notes as said."""
    own = b.said
    b.said = a.said
    try:
        yield
    finally:
        own.update(a.said)
        b.said = own


_BOUNDS: weakref.WeakKeyDictionary[Any, tuple[np.ndarray, np.ndarray]] = weakref.WeakKeyDictionary()


def _bounds(model: Any) -> tuple[np.ndarray, np.ndarray]:
    """Each input's training range in raw units, widened by drift's float32 edge (kept per model: a batch's check
    reads them)."""
    got = _BOUNDS.get(model)
    if got is None:
        lo = np.array([float(raw_values(f, np.array(f.lo))) for f in model.rec.features])
        hi = np.array([float(raw_values(f, np.array(f.hi))) for f in model.rec.features])
        got = (lo - _EDGE * np.maximum(np.abs(lo), 1e-30), hi + _EDGE * np.maximum(np.abs(hi), 1e-30))
        _BOUNDS[model] = got
    return got


def _text(model: Any, func: str, moved: list[tuple[Any, float, float, float, np.ndarray]], share: float, n: int,
          limit: float) -> str:
    middle = (f" (the middle {1 - 2 * RANGE_QUANTILE_UNLABELLED:.0%} of its training values)"
              if model.rec.metrics.get("robust") else "")
    parts = []
    for f, med, lo, hi, v in moved:
        valued = max(int(np.count_nonzero(~np.isnan(v))), 1)
        above, below = (float(np.count_nonzero(c)) / valued for c in (v > hi, v < lo))
        # the range said as trained, not as widened for the count: a minimum of 0 read "-1e-36 to 3"
        said_lo, said_hi = (float(raw_values(f, np.array(e))) for e in (f.lo, f.hi))
        lo_t, hi_t, med_t, fill_t = apart([said_lo, said_hi, med, f.fill])
        parts.append(f"{f.name!r} ({share_text(above + below)} of the rows with a value {_side(above, below)} its "
                     f"training range {lo_t} to {hi_t}{middle}; median {med_t} against {fill_t} in training"
                     f"{_how_far(f, med)})")
    once = {"sql": "statement", "serve": "run of the server"}.get(model.surface, "connection")
    fix = _checks([(f.name, _factor(med, f.fill)) for f, med, *_ in moved])
    return (f"{func}('{model.ref}', ...): {share_text(share)} of a batch of {n} rows score above {limit:.6g}, which "
            f"{share_text(1 - HIGH_QUANTILE)} of the model's training rows reach, and "
            f"{'these columns lie' if len(moved) > 1 else 'this column lies'} mostly outside {'their' if len(moved) > 1 else 'its'} "
            f"training range: {'; '.join(parts)}. These rows have likely moved away from the training data rather "
            f"than all being anomalies. If these values are normal now, train a model on rows of the new range "
            f"({train_where(model)}); if not, {fix}. (Said once per column in each {once}; "
            f"a query that picks out anomalies on purpose may see it too.)")
