"""Plots with many thresholds: the precision-recall points told apart past the colours, threshold labels that never
cover another text, and a plot over time whose axes keep their height however long its legend."""

from __future__ import annotations

import numpy as np
import pytest

from ad_duckdb.histfigures import label_hist_figure, scores_figure
from ad_duckdb.prfigure import pr_figure


def _scores(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.1
    return np.exp(rng.normal(size=n) + 1.5 * y), y


@pytest.mark.parametrize("n", [8, 12, 30])
def test_precision_recall_points_differ_in_marker_from_their_neighbours_and_stay_unique_past_the_colours(n: int) -> None:
    """The 8th threshold took the 1st one's colour, and the 1st to 7th one marker: neighbours on the curve (p90 and
    p95, a few rows apart) differed by colour alone, which a colour-blind reader or a grey print cannot tell, and past
    28 thresholds a colour and marker came back. Each point's marker now differs from its neighbours' too, and no two
    of up to 35 share both."""
    from matplotlib.colors import to_hex

    s, y = _scores()
    th = {f"t{i:02d}": float(q) for i, q in enumerate(np.quantile(s, np.linspace(0.5, 0.99, n)))}
    fig = pr_figure(s, y, "m@1", th)
    points = [c for c in fig.axes[0].collections if len(c.get_offsets())]
    assert len(points) == n
    order = np.argsort([float(c.get_offsets()[0][0]) for c in points])[::-1]  # by threshold: recall falls
    looks = [(to_hex(points[k].get_facecolor()[0]), points[k].get_paths()[0].vertices.round(3).tobytes())
             for k in order]
    assert len(set(looks)) == n, "two thresholds share a colour and a marker"
    assert all(a[1] != b[1] and a[0] != b[0] for a, b in zip(looks, looks[1:], strict=False)), \
        "neighbouring thresholds share a marker or a colour"


def _boxes(fig: object, ax: object) -> list[tuple[str, object]]:
    fig.draw_without_rendering()  # type: ignore[attr-defined]
    out = []
    for t in ax.texts:  # type: ignore[attr-defined]
        if t.get_visible() and t.get_text():
            patch = t.get_bbox_patch()
            out.append((t.get_text(), (patch if patch is not None else t).get_window_extent()))
    return out


@pytest.mark.parametrize("n", [12, 30, 45])
def test_threshold_labels_never_cover_another_text_of_the_axes(n: int) -> None:
    """A source with no rows yet (today's partition not loaded) and 30 thresholds: the labels stepped down the empty
    axes over its 'no rows to draw', which read as 'no rows to dr...' between two labels. A label that would cover
    another text is listed below the axes instead, with the others left out."""
    th = {f"threshold_named_longer_{i:02d}": float(v) for i, v in enumerate(np.linspace(0.5, 12, n))}
    th["default"] = 7.0
    fig = scores_figure(np.array([]), "m@1", th, "t")
    ax = fig.axes[0]
    boxes = _boxes(fig, ax)
    assert any(t == "no rows to draw" for t, _ in boxes)
    hits = [(a, b) for i, (a, x) in enumerate(boxes) for b, y in boxes[i + 1:] if x.overlaps(y)]
    assert not hits, hits
    labelled = {t.split(" > ")[0] for t, _ in boxes if " > " in t and "…" not in t.split(" > ")[0]}
    assert "default" in labelled
    listed = {t.get_text().split(" > ")[0].replace("\n", "") for t in ax.get_legend().get_texts() if " > " in t.get_text()}
    assert labelled | listed == set(th), set(th) - labelled - listed  # each named once, beside its line or below


def test_the_plot_over_time_keeps_its_axes_height_with_many_thresholds() -> None:
    """32 thresholds made a legend of 12 rows under a figure of fixed height: the axes the scores are drawn in shrank
    to a strip an inch tall, their lines packed into it. The figure grows by the legend's rows instead."""
    from ad_duckdb import timeplot

    rng = np.random.default_rng(0)
    t = np.datetime64("2026-01-01", "us") + (np.arange(500) * 86_400_000_000 // 5).astype("timedelta64[us]")
    s = np.exp(rng.normal(size=500))

    def axes_inches(k: int) -> float:
        th = {f"q{i:02d}": float(q) for i, q in enumerate(np.quantile(s, np.linspace(0.5, 0.999, k)))}
        th["default"] = float(np.quantile(s, 0.99))
        flagged = {name: int((s > v).sum()) for name, v in th.items()}
        series = timeplot.Series(t=t, top=s, median=None, labelled=np.zeros(s.size, bool), flagged=flagged,
                                 rows=s.size, untimed=0, anomalies=0, per="")
        fig = timeplot.figure(series, "m@1", th, "src", "ts")
        fig.draw_without_rendering()
        ax = fig.axes[0]
        legend = ax.get_legend().get_window_extent()
        assert legend.y0 >= 0, "the legend runs off the figure"
        return float(ax.get_window_extent().height / fig.dpi)

    few, many = axes_inches(4), axes_inches(32)
    assert many >= 0.9 * few, (few, many)


@pytest.mark.parametrize("n", [20, 40])
def test_a_legend_of_lines_whose_styles_repeat_says_so(n: int) -> None:
    """Past 28 thresholds (7 colours, 4 dashes) two lines share a colour and a dash, and a threshold listed below the
    histogram could be read off either; the legend says that the styles repeat and how to tell the line."""
    s, y = _scores(5000)
    th = {f"t{i:02d}": float(q) for i, q in enumerate(np.quantile(s, np.linspace(0.3, 0.999, n)))}
    for fig in (scores_figure(s, "m@1", th, "t"), label_hist_figure(s, y, "m@1", th)):
        legend = fig.axes[0].get_legend()
        texts = [t.get_text().replace("\n", " ") for t in legend.get_texts()] if legend is not None else []
        noted = [t for t in texts if "styles repeat" in t]
        assert bool(noted) == (n > 28), texts
        if noted:
            assert "by its value" in noted[0], noted
