"""The histograms' threshold labels never cover a bar or each other, however many thresholds; count axes tick whole
rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ad_duckdb.histfigures import label_hist_figure, scores_figure
from ad_duckdb.thresholdmarks import _threshold_groups


def _quick_start_scores() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.r_[rng.lognormal(0.75, 0.45, 19_800), np.exp(rng.uniform(np.log(5.0), np.log(58.0), 200))]


def _fourteen(s: np.ndarray) -> dict[str, float]:
    qs = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.995, 0.999, 0.9999)
    th = {f"p{q * 100:g}": float(np.quantile(s, q)) for q in qs}
    return {**th, "default": float(np.quantile(s, 0.99))}


def _drawn(fig: Any) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig.set_dpi(110)  # as the plots are saved
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _boxes(ax: Any) -> list[tuple[str, Any]]:
    return [(t.get_text(), (t.get_bbox_patch() or t).get_window_extent()) for t in ax.texts if " > " in t.get_text()]


@pytest.mark.parametrize("which", ["scores", "by_label"])
def test_fourteen_threshold_labels_cover_no_bar_and_no_other_label(which: str) -> None:
    """`score --plots` with the quick start's model and 14 thresholds (p50 ... p99.99 and default): the lower
    labels stepped down over the bulk's bars, in white boxes that hid their tops. A label that finds no room above
    the bars goes to the legend below the axes, whole; each threshold is named once, beside its line or there."""
    s = _quick_start_scores()
    th = _fourteen(s)
    y = s > 5
    fig = scores_figure(s, "tx_ae@1", th, "transactions") if which == "scores" else \
        label_hist_figure(s, y, "tx_ae@1", th, "transactions")
    _drawn(fig)
    ax = fig.axes[0]
    bars = [p.get_window_extent() for p in ax.patches if p.get_height() > 0 and p.get_width() > 0]
    boxes = _boxes(ax)
    assert boxes, "no label beside its line"
    covering = [text for text, b in boxes if any(b.overlaps(bar) for bar in bars)]
    assert not covering, covering
    crossing = [(a, b) for i, (a, x) in enumerate(boxes) for b, y2 in boxes[i + 1:] if x.overlaps(y2)]
    assert not crossing, crossing
    assert all(ax.bbox.y0 <= b.y0 and b.y1 <= ax.bbox.y1 for _, b in boxes)
    legend = [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []
    named = [x.split(" > ")[0].lstrip("← ") for x, _ in boxes] + [x.split(" > ")[0] for x in legend if " > " in x]
    assert sorted(named) == sorted(names for names, _ in _threshold_groups(th)), (named, legend)


def test_a_histogram_of_a_few_rows_counts_them_in_whole_numbers() -> None:
    """`score ... "SELECT * FROM transactions WHERE transaction_id = 42" --plots`: one row drew a log count axis
    from 0.5 to 12, its unlabelled minor ticks at 0.6 to 0.9 and labels 1 to 10, as if the bar could hold ten rows.
    A few rows get a plain axis from 0 whose every tick is a whole number of rows, none above the rows drawn."""
    th = {"p90": 4.17, "p95": 5.444, "default": 9.573, "p99": 9.573, "p999": 37.6}
    for s in (np.array([12.0]), np.array([3.0]), np.array([2.2, 2.3, 2.7]), np.r_[np.full(7, 3.0), [40.0]]):
        fig = scores_figure(s, "tx_ae@1", th, "t")
        _drawn(fig)
        ax = fig.axes[0]
        lo, hi = ax.get_ylim()
        assert ax.get_yscale() == "linear" and lo == 0, (s, lo, hi)
        ticks = [v for v in ax.get_yticks() if lo <= v <= hi]
        assert ticks and all(float(v).is_integer() and 0 <= v <= s.size for v in ticks), (s, ticks)
        assert not [v for v in ax.get_yticks(minor=True) if lo <= v <= hi], s
        assert ax.get_ylabel() == "rows", ax.get_ylabel()
        bars = [p.get_window_extent() for p in ax.patches if p.get_height() > 0]
        assert not [t for t, b in _boxes(ax) if any(b.overlaps(bar) for bar in bars)]
        labels = [t.get_text() for t in ax.get_yticklabels() if lo <= t.get_position()[1] <= hi]
        assert labels[0] == "0" and labels[-1] == str(int(max(ticks))), labels


def test_scores_whose_bulk_fills_one_bar_of_a_linear_axis_get_a_log_one() -> None:
    """`evaluate --plots` on ADBench cardio (test half): scores of 1.1-66, under the two decades that choose a log
    axis, with their middle half at 1.9-3.2: every normal row stood in the first two bars of sixty and the rest of
    the axis held the tail alone, so the bulk's shape, and where the labels part, could not be seen. A bulk that
    fills under a twentieth of the linear axis, and at least twice as much of a log one, is drawn on the log axis."""
    rng = np.random.default_rng(0)
    bulk = rng.lognormal(np.log(2.5), 0.35, 840)
    s = np.r_[bulk, rng.uniform(4, 12, 60), rng.uniform(40, 66, 24)]
    y = np.r_[np.zeros(840, bool), np.ones(84, bool)]
    assert s.max() / s.min() < 100
    th = {"p90": 5.34, "p95": 8.10, "default": 26.46, "p99": 26.46, "p999": 65.79}
    for fig in (scores_figure(s, "m@1", th, "t"), label_hist_figure(s, y, "m@1", th, "t")):
        assert "log" in fig.axes[0].get_xlabel(), fig.axes[0].get_xlabel()
    # a bulk spread over the axis keeps the linear one
    even = np.linspace(0.9, 31, 500)
    assert "log" not in scores_figure(even, "m@1", {"p90": 4.3, "default": 10.0}, "t").axes[0].get_xlabel()
