"""What explaining rows will cost, said before a long run starts: ``score --into --explain``, ``score --top`` and
``explain --limit`` on a wide table.

Why: an explanation scores each row ``len(shapley.coalitions(d))`` times (1200 at 150 columns), so 3M rows of a
150-column table ran for hours (about 365 rows/s on 2 cores) with nothing said before, where the same rows score in
seconds without it. The rate is measured, not guessed: a few rows explained on this machine, with this model's graph
(its size, not only its width, sets the cost).
"""

from __future__ import annotations

import time

import numpy as np

from . import shapley
from .scoring import LoadedModel

# Said when the explanations would run longer than this; a shorter run is left to its progress line, as before.
LONG_SECONDS = 60.0
# Below this many scoring passes in all (rows x passes per row) the run is short on any machine (about 5 s at the
# 400k passes/s measured at 150 columns): no probe, no count.
SHORT_PASSES = 2_000_000
# The probe's scoring passes: enough rows for the thread pool's runs to fill it, about 0.2 s.
PROBE_PASSES = 1 << 16


def passes(d: int) -> int:
    """Scoring passes per explained row of ``d`` model inputs (exact Shapley values up to 6, sampled beyond)."""
    return len(shapley.coalitions(d))


def might_be_long(lm: LoadedModel, rows: int) -> bool:
    """Whether ``rows`` explained could run past LONG_SECONDS (then ``rate`` is worth measuring). Why the inputs, not
    the columns: Shapley values are taken over the graph's inputs, one per category of a text column."""
    return rows * passes(lm.n_inputs) >= SHORT_PASSES


def rate(lm: LoadedModel, bulk: bool) -> float:
    """Rows explained per second on this machine with ``lm``, measured on rows of the training medians (the cost of
    a pass does not depend on the values); ``bulk``: over the scoring thread pool, as ``score --into`` explains."""
    n = max(4, PROBE_PASSES // passes(lm.n_inputs) // 3)
    X = np.tile(np.array([f.fill for f in lm.rec.features], dtype=np.float64), (n, 1))
    # the fastest of three: the first runs (the session's allocations, the pool's threads) took twice as long
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        lm.attribution(X, bulk=bulk)
        best = min(best, time.perf_counter() - t0)
    return n / max(best, 1e-9)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def note(lm: LoadedModel, rows: int, bulk: bool, shorter: str) -> str | None:
    """A note that explaining ``rows`` rows will take long, with how long and ``shorter`` (how to explain fewer);
    None for a run under LONG_SECONDS."""
    if not might_be_long(lm, rows):
        return None
    per_second = rate(lm, bulk)
    seconds = rows / per_second
    if seconds < LONG_SECONDS:
        return None
    d, inputs = len(lm.feature_names), lm.n_inputs
    of = f"{d} columns" if inputs == d else f"{d} columns ({inputs} model inputs: a text column's categories each one)"
    return (f"explaining {rows:,} rows of {of} will take about {_duration(seconds)} here (about "
            f"{per_second:,.0f} rows/s: each row is scored {passes(inputs):,} times for its columns' shares); {shorter}")
