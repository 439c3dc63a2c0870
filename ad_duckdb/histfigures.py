"""The score histograms as figures: by label (evaluate's) and of unlabelled scores (score's), each threshold a line."""

from __future__ import annotations

from typing import Any

import numpy as np

from .numbertext import count_text
from .plotaxes import _bins, _count_axis, _log_axis, _on_axis, _score_axis
from .plotfigure import _subplots
from .plotlegend import _laid_out_below_labels, _Legend, _list_thresholds
from .plottext import _of, _title
from .thresholdmarks import _mark_thresholds


def label_hist_figure(scores: np.ndarray, labels: np.ndarray, model: str,
                      thresholds: dict[str, float] | None = None, source: str | None = None,
                      weights: np.ndarray | None = None) -> Any:
    """The score histogram by label `plot` writes, with each threshold's line (a matplotlib Figure, not pyplot's).
    ``weights``: the rows' sample weights, each row a bar's height as its weight and each threshold's count the
    rows its flags stand for."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    fig, ax = _subplots(model, (6, 4.5))
    use_log = _log_axis(s, thresholds)
    vals = np.log10(s) if use_log else s
    bins = _bins(vals, _on_axis(vals, thresholds, use_log), use_log, 60)
    for rows, what in ((~y, "normal"), (y, "anomaly")):
        if rows.any():  # an empty group has no density (numpy would warn dividing by zero)
            n = f"n={int(rows.sum())}" + ("" if w is None else f", weighted {count_text(float(w[rows].sum()))}")
            ax.hist(vals[rows], bins=bins, alpha=0.6, density=True, weights=None if w is None else w[rows],
                    label=f"{what} ({n})")
    # with how many rows each flags, as in the other plots: bars of densities do not show it
    beside: list[tuple[Any, tuple[Any, str]]] = []
    listed = _mark_thresholds(ax, thresholds, use_log, s, _on_axis(vals, thresholds, use_log), w, beside)
    _score_axis(ax, use_log)
    # what the bars' heights are: each label's scaled to an area of 1 (33 anomalies stand as tall as 19,967 normal
    # rows), per decade of score on a log axis. Why said: 'density' alone left both to guess
    per = "density per decade of score" if use_log else "density"
    ax.set(ylabel=f"{per} (each label: area 1)",
           title=_title(f"Score histogram by label: {_of(model, source, s.size, w)}", 6))
    data = list(zip(*ax.get_legend_handles_labels(), strict=True))
    if listed:
        _list_thresholds(ax, [*data, *listed], -0.13)
    else:
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)  # below: the labels fill the top
    _laid_out_below_labels(fig, ax, beside=beside, legend=_Legend(ax, data, beside, listed))
    return fig


def scores_figure(scores: np.ndarray, model: str, thresholds: dict[str, float], source: str) -> Any:
    """The figure `plot_scores` writes (a matplotlib Figure, not registered with pyplot: nothing to close)."""
    s = np.asarray(scores, dtype=np.float64)
    s = s[np.isfinite(s)]
    use_log = _log_axis(s, thresholds)
    vals = np.log10(s) if use_log else s
    fig, ax = _subplots(model, (7, 4.5))
    tallest = 0.0
    if vals.size:
        counts, _, _ = ax.hist(vals, bins=_bins(vals, _on_axis(vals, thresholds, use_log), use_log, 80),
                               color="tab:blue", alpha=0.8)
        tallest = float(np.max(counts))
        if tallest > FEW_ROWS:  # not without rows: matplotlib warns that it has nothing to scale
            ax.set_yscale("log")
        _count_axis(ax)
    else:
        _no_rows_axis(ax, thresholds)
    beside: list[tuple[Any, tuple[Any, str]]] = []
    listed = _mark_thresholds(ax, thresholds, use_log, s, _on_axis(vals, thresholds, use_log), beside=beside)
    _score_axis(ax, use_log)
    _list_thresholds(ax, listed, -0.13)
    rows = f"{s.size} {'row' if s.size == 1 else 'rows'}"
    ax.set(ylabel="rows (log scale)" if tallest > FEW_ROWS else "rows",
           title=_title(f"Scores of {source} by {model} ({rows})", 7))
    _laid_out_below_labels(fig, ax, rows=int(vals.size) or None, beside=beside, legend=_Legend(ax, [], beside, listed))
    return fig


def _no_rows_axis(ax: Any, thresholds: dict[str, float]) -> None:
    """Axes of no rows: the score axis spanning the thresholds, and saying why it is empty. Why the span first: the
    labels choose their side of each line by where it falls on the axis, and on matplotlib's empty 0-1 axis every
    line fell right of the middle, so labels set left of lines near the left edge ran out over the tick labels."""
    ax.text(0.5, 0.5, "no rows to draw", transform=ax.transAxes, ha="center", va="center", color="grey")
    values = [float(t) for t in thresholds.values() if np.isfinite(t)]
    if values:
        lo, hi = min(values), max(values)
        pad = 0.05 * (hi - lo) if hi > lo else 0.5 * max(abs(hi), 1.0)
        ax.set_xlim(lo - pad, hi + pad)


# A histogram whose tallest bar holds at most this many rows counts them on a plain axis from 0. Why: one row drew a
# log axis from 0.5 to 12, ticked 1 to 10 (as if the bar could hold ten rows) with unlabelled ticks at 0.6-0.9
FEW_ROWS = 10
