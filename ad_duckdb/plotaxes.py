"""The histograms' axes: a score axis in log10 or linear and its ticks in scores, the thresholds drawn on it, its
bins, and the axis of row counts."""

from __future__ import annotations

from typing import Any

import numpy as np


def _score_axis(ax: Any, use_log: bool) -> None:
    """Label the score axis in scores, also when it is drawn in log10: ticks at 1, 2, 5, 10, ... read as the value
    to give `ad-duckdb threshold --method manual --value`, where log10 ticks (0.5, 1.0) would need converting."""
    if not use_log:
        ax.set_xlabel("anomaly score")
        return
    lo, hi = ax.get_xlim()
    ticks = log_ticks(lo, hi)
    ax.set_xticks(np.log10(ticks), [f"{t:g}" for t in ticks])
    ax.set_xlim(lo, hi)
    ax.set_xlabel("anomaly score (log scale)")


def log_ticks(lo: float, hi: float) -> list[float]:
    """Scores to tick a log axis from 10**lo to 10**hi at: 1 to 9 of each decade, or 1, 2, 5, or 1, 3, or 1,
    whichever gives at most ten ticks (past that, every n-th). Why 1 to 9 first: an axis of under a decade (scores of
    1.5-9, drawn in log for thresholds crowded at its low end) had two ticks at 1, 2, 5."""
    decades = range(int(np.floor(lo)), int(np.ceil(hi)) + 1)
    for mantissas in (tuple(range(1, 10)), (1, 2, 5), (1, 3), (1,)):
        ticks = [m * 10.0**k for k in decades for m in mantissas if lo <= np.log10(m * 10.0**k) <= hi]
        if len(ticks) <= 10:
            return ticks
    return ticks[:: -(-len(ticks) // 10)]


def _count_axis(ax: Any) -> None:
    """A log axis of row counts in plain numbers (1, 10, 1,000; 1, 2, 3 within one decade), from 0.5 up, with no
    tick under 1; a linear one (`FEW_ROWS`) from 0, ticked at whole rows up to its tallest bar.

    Why: matplotlib labelled a dozen rows' axis "2 x 10^0" and 120,000 rows' "10^5", and started the axis at 1,
    so a bar of one row, which rises from the bottom edge to 1, had next to no height."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator

    plain = FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 and float(v).is_integer() else "")
    if ax.get_yscale() != "log":
        tallest = int(max((p.get_height() for p in ax.patches), default=1))
        step = max(1, -(-tallest // 5))
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(FixedLocator(list(range(0, tallest + 1, step))))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))  # 0 too: the axis starts there
        return
    ax.set_ylim(bottom=0.5)
    # the minor ticks from 1 up: those at 0.6-0.9 read as parts of a row
    ax.yaxis.set_minor_locator(LogLocator(subs=tuple(range(2, 10))))
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain if ax.get_ylim()[1] < 20 else NullFormatter())


def _log_axis(s: np.ndarray, thresholds: dict[str, float] | None = None) -> bool:
    """Scores on a log10 axis: when all are positive and span over two orders of magnitude (heavy tails), when the
    middle half of them fills under `_SQUEEZED` of a linear axis and at least twice that share of a log one, or when
    the threshold lines crowd on a linear axis and a log one draws them at least twice as far apart. Why the
    thresholds: scores of 0.6-46 with p90 1.19, p95 1.33 and p99 1.69 got a linear axis, their lines a pixel or two
    apart at its left edge (one hidden under another) and the rows below them one bar."""
    pos = s[s > 0]
    if not (pos.size == s.size and s.size > 0):
        return False
    if pos.max() / max(pos.min(), 1e-300) > 100:
        return True
    logs = np.log10(s)
    if _bulk_share(logs, np.log10(list(_on_axis(logs, thresholds, True).values()))) > 2 * (
            flat := _bulk_share(s, list(_on_axis(s, thresholds, False).values()))) and flat < _SQUEEZED:
        return True
    linear = _least_gap(s, _on_axis(s, thresholds, False).values())
    return linear < _CROWDED and _least_gap(logs, np.log10(list(_on_axis(logs, thresholds, True).values()))) > 2 * linear


# The middle half of the scores within this share of a linear axis are a bar or three of its sixty: the shape of the
# bulk is lost (ADBench cardio's test half: scores 1.1-66, the middle half 1.9-3.2, every normal row in two bars)
_SQUEEZED = 0.05


def _bulk_share(vals: np.ndarray, marks: Any) -> float:
    """The share of the axis (the values and the threshold lines ``marks`` drawn) the middle half of ``vals`` spans."""
    span = np.r_[vals, np.asarray(list(marks), dtype=np.float64)]
    width = float(span.max() - span.min()) if span.size else 0.0
    q1, q3 = np.quantile(vals, [0.25, 0.75])
    return float(q3 - q1) / width if width > 0 else 1.0


# Threshold lines closer than this share of the score axis (about 13 pixels of the 7-inch histogram's axes at the
# plots' 110 dpi) crowd: their dashes merge into one line
_CROWDED = 0.02


def _least_gap(vals: np.ndarray, marks: Any) -> float:
    """The smallest distance between two threshold lines ``marks`` as a share of the axis the values and they
    span; infinite with fewer than two lines."""
    m = np.unique(np.asarray(list(marks), dtype=np.float64))
    span = np.r_[vals, m]
    width = float(span.max() - span.min()) if span.size else 0.0
    return float(np.diff(m).min()) / width if m.size > 1 and width > 0 else float("inf")


def _on_axis(vals: np.ndarray, thresholds: dict[str, float] | None, use_log: bool) -> dict[str, float]:
    """The thresholds drawn as lines: those within twice the drawn values' width of them (so that the rows keep a
    fifth of the axis; for rows of one score, within that score's size of it, or a decade on a log axis). Why not
    all: a manual cut of 1000 beside scores of 1-44 stretched the axis
    to 1000 and pressed every bar into its left twentieth; farther ones are named at the axis' edge instead, as
    are thresholds of 0 or below on a log axis, where they have no place."""
    shown = {k: t for k, t in (thresholds or {}).items() if not (use_log and t <= 0)}
    if not vals.size:
        return shown
    lo, hi = float(vals.min()), float(vals.max())
    reach = 2 * (hi - lo) if hi > lo else 1.0 if use_log else max(abs(hi), 1.0)
    return {k: t for k, t in shown.items() if lo - reach <= (np.log10(t) if use_log else t) <= hi + reach}


def _bins(vals: np.ndarray, thresholds: dict[str, float] | None, use_log: bool, n: int) -> np.ndarray:
    """``n`` histogram bins over the drawn values and the threshold lines. Why the lines too: they widen the axis,
    where bins of the data's range alone were too narrow to see (rows of one score: bins a sixtieth of a unit wide
    on an axis of 36), and the axis must reach them before their labels choose a side."""
    marks = [np.log10(t) if use_log else t for t in (thresholds or {}).values() if not (use_log and t <= 0)]
    span = np.r_[vals, marks]
    return np.histogram_bin_edges(vals, bins=n, range=(span.min(), span.max()) if span.size else None)
