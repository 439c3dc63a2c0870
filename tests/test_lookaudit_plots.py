"""Plots read as drawn: a threshold's label beside its line does not cover the bars it is drawn over."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ad_duckdb.histfigures import label_hist_figure, scores_figure


def _transactions_like() -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Scores as the quick start's tx_ae gives the example transactions: a bulk about 2 (19,800 rows), 200 planted
    rows from 5 to 58, and its five training thresholds."""
    rng = np.random.default_rng(0)
    bulk = rng.lognormal(0.75, 0.45, 19_800)
    tail = np.exp(rng.uniform(np.log(5.0), np.log(58.0), 200))
    th = {"p90": 4.17, "p95": 5.444, "default": 9.573, "p99": 9.573, "p999": 37.6}
    return np.r_[bulk, tail], np.r_[np.zeros(19_800, bool), np.ones(200, bool)], th


def _covered(fig: Any) -> list[str]:
    """The threshold labels whose box overlaps a bar, as the figure is saved (110 dpi)."""
    fig.set_dpi(110)
    fig.draw_without_rendering()
    ax = fig.axes[0]
    bars = [p.get_window_extent() for p in ax.patches if p.get_height() > 0 and p.get_width() > 0]
    hit = []
    for t in ax.texts:
        box = t.get_bbox_patch().get_window_extent() if t.get_bbox_patch() else t.get_window_extent()
        if any(b.overlaps(box) for b in bars):
            hit.append(t.get_text())
    return hit


@pytest.mark.parametrize("which", ["scores", "by_label"])
def test_threshold_labels_do_not_cover_the_bars(which: str) -> None:
    """The quick start's `score --plots` histogram wrote 'default = p99 > 9.573: 200 rows (1.00%)' left of its line,
    in a white box over the tops of the bulk's bars (and evaluate's histogram by label over the normal rows' bars):
    the tallest bars read shorter than they are. The score axis leaves the labels room above the bars."""
    s, y, th = _transactions_like()
    fig = scores_figure(s, "tx_ae@1", th, "transactions") if which == "scores" else \
        label_hist_figure(s, y, "tx_ae@1", th, "transactions")
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert any(x.startswith("default = p99 > 9.573") for x in labels), labels
    assert _covered(fig) == []


def test_the_room_for_many_labels_does_not_take_the_count_axis_past_the_rows_drawn() -> None:
    """Fourteen thresholds' labels step down to the bottom of the axes: room under all of them took the row-count
    axis of 20,000 rows to 1,000,000, which reads as more rows than there are. It stops at the rows drawn."""
    s, _, _ = _transactions_like()
    th = {f"cut{i}": float(v) for i, v in enumerate(np.quantile(s, np.linspace(0.5, 0.999, 14)))}
    fig = scores_figure(s, "tx_ae@1", th, "transactions")
    fig.draw_without_rendering()
    lo, hi = fig.axes[0].get_ylim()
    assert 1_100 < hi <= s.size, (lo, hi)


@pytest.mark.parametrize("log", [True, False], ids=["log", "linear"])
def test_the_histogram_by_label_says_what_its_density_is(log: bool) -> None:
    """The y axis read 'density' alone: 33 labelled anomalies among 19,967 normal rows drew bars as tall as the
    normal ones (each label's bars are scaled to an area of 1), and on a log score axis a density per decade of
    score, neither said. The axis says both."""
    s, y, th = _transactions_like()
    if not log:
        s, th = 1 + s / 100, {"default": 1.0957}
    ax = label_hist_figure(s, y, "tx_ae@1", th, "transactions").axes[0]
    assert ("log" in ax.get_xlabel()) == log
    label = ax.get_ylabel()
    assert label.startswith("density") and "each label" in label and "area 1" in label, label
    assert ("per decade" in label) == log, label


def test_a_histogram_of_no_rows_keeps_its_labels_inside_and_says_there_are_none() -> None:
    """`score ... "SELECT * FROM tx WHERE day = current_date" --plots` on a day with no rows yet: the labels of the
    thresholds left of the middle were set right-aligned against matplotlib's empty 0-1 axis, before the lines
    widened it, and ran out of the axes over the tick labels; the empty axes said nothing of why they were empty."""
    _, _, th = _transactions_like()
    fig = scores_figure(np.array([]), "tx_ae@1", th, "transactions")
    fig.set_dpi(110)
    fig.draw_without_rendering()
    ax = fig.axes[0]
    inside = ax.get_window_extent()
    labels = [t for t in ax.texts if " > " in t.get_text()]
    assert len(labels) == 4
    for t in labels:
        box = t.get_bbox_patch().get_window_extent()
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1, (t.get_text(), box, inside)
    assert any(t.get_text() == "no rows to draw" for t in ax.texts), [t.get_text() for t in ax.texts]
