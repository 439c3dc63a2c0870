"""The precision-recall curve as a figure, each threshold a point on it (with its 95% intervals on few anomalies)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .auc import auc_pr
from .confusion import confusion
from .plotfigure import _subplots
from .plottext import _of, _title, wrapped
from .thresholdmarks import _colour, _fmt_score, _marker, _threshold_groups
from .thresholds import curve


def pr_figure(scores: np.ndarray, labels: np.ndarray, model: str, thresholds: dict[str, float] | None = None,
              source: str | None = None, weights: np.ndarray | None = None, sampled: str | None = None) -> Any:
    """The precision-recall curve `plot` writes, each threshold a point on it (a matplotlib Figure, not pyplot's);
    for rare anomalies, beside it the same on a precision axis scaled to the curve (see `przoom`). ``weights``: the
    rows' sample weights, the curve, its points and the baseline those of the rows each counted as its weight;
    ``sampled``: evaluate's, whose intervals the points' bars draw (``weights.confusion``)."""
    from matplotlib.legend_handler import HandlerTuple
    from matplotlib.lines import Line2D

    from . import przoom
    from . import weights as weighing  # not at the top: weights imports thresholds, which imports this module

    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    c = curve(s, y) if w is None else weighing.curve(s, y, w)
    groups = _threshold_groups(thresholds)
    found = [confusion(s, y, t) if w is None else weighing.confusion(s, y, w, t, sampled) for _, t in groups]
    # the anomalies' share of the rows, or of what the weighted rows stand for: a random ranking's precision
    base = float(y.mean()) if w is None else float(w[y].sum() / w.sum())
    zoom_top = przoom.top(c["recall"], c["precision"], [m["precision"] for m in found if m["tp"] + m["fp"]], base)
    # taller once the legend below the axes is known; wider by the zoomed panel
    fig, axes = _subplots(model, (11.5 if zoom_top else 6, 4.5), ncols=2 if zoom_top else 1)
    ax = axes[0] if zoom_top else axes
    # in steps from recall 0, each precision held over the recall step it adds, as scikit-learn's
    # PrecisionRecallDisplay draws it. Why: straight lines between the points claimed precisions no threshold gives
    # (one anomaly ranked 4th: a line from (0, 0) to (1, 0.25)), and an area unlike the AUC-PR the legend names
    # (rows of one score: the one point as a marker, a line of one vertex is not drawn at all)
    one = len(c["recall"]) == 1
    line = {"x": c["recall"] if one else np.r_[0.0, c["recall"]],
            "y": c["precision"] if one else np.r_[c["precision"][:1], c["precision"]],
            "marker": "o" if one else None}
    ax.plot(line["x"], line["y"], drawstyle="steps-pre", lw=1.5, marker=line["marker"],
            label=f"{model} (AUC-PR {auc_pr(s, y, c=c):.3f})")
    # 3 significant digits, not 3 decimals: 30 anomalies in 95,156 rows read "random (0.000)"
    ax.axhline(base, color="grey", ls=":", label=f"random ({base:.3g})")
    handles, texts = ax.get_legend_handles_labels()
    # wrapped whole: names cut at 40 characters ('max_f1_on_the_validation_split_of_march…') read alike
    texts = [wrapped(x, _PR_LEGEND_CHARS) for x in texts]
    # few anomalies (Kish's effective count, weighted): each point's 95% intervals as bars. Why: on 8 labelled
    # anomalies a point at precision 1 and recall 1 could be at recall 0.68 on another sample, and the picture, shown
    # to a committee beside evaluate's table of intervals, drew it as a sure point
    few = float(y.sum()) if w is None else weighing.effective(w[y])
    bars = bool(groups) and 0 < few < FEW_FOR_BARS
    if bars:
        handles.append(Line2D([], [], color="grey", lw=1, alpha=0.6))  # a bar, no marker: markers are points
        texts.append(wrapped(f"bars: each point's 95% intervals of precision and recall (on "
                             f"{'an effective ' if w is not None else ''}{few:.3g} labelled anomalies a point could "
                             "lie anywhere in its bars on another sample)", _PR_LEGEND_CHARS))
    # thresholds of different values that flag the same rows are one point of the curve: one legend entry naming
    # them all. Why: each had its own entry with the same figures and its marker on the same spot, the later
    # hiding the earlier, so which colour the point showed could not be told
    spots: dict[tuple[float, float], list[int]] = {}
    for i, m in enumerate(found):
        if m["tp"] + m["fp"]:
            spots.setdefault((m["tp"], m["fp"]), []).append(i)
    points: list[dict[str, Any]] = []
    for i, ((names, t), m) in enumerate(zip(groups, found, strict=True)):
        if m["tp"] + m["fp"] == 0:
            # no flag, no precision (the report prints '-'): a point at (0, 0) read as every flag wrong
            handles.append(ax.scatter([], [], color=_colour(i), marker=_marker(i)))
            texts.append(wrapped(f"{names} {_fmt_score(t)}: flags no row", _PR_LEGEND_CHARS))
            continue
        # on or beside the point of another, each drawn over it smaller than it: a ring of each colour shows. Why
        # beside too: ADBench smtp's p90, p95 and default had precisions 0.001-0.009 at recall 1, one marker's width
        # apart, and only default's showed
        under = min(5, sum(1 for n in found[i + 1:] if n["tp"] + n["fp"] and abs(n["recall"] - m["recall"]) < _NEAR
                           and abs(n["precision"] - m["precision"]) < _NEAR))
        spot = spots[(m["tp"], m["fp"])]
        # named in the legend, not beside the point: thresholds a few rows apart sit on one spot of the curve. Whole
        # on the axes' edges (not clipped by them): a threshold whose every flag is wrong sat at (0, 0) as a quarter
        # of a marker in the corner
        points.append({"x": [m["recall"]], "y": [m["precision"]], "zorder": 3, "color": _colour(i),
                       "marker": _marker(i), "s": (6 + 3 * under) ** 2, "clip_on": False})
        ax.scatter(**points[-1])
        if bars and np.isfinite(m["precision_lo"]) and np.isfinite(m["recall_lo"]):
            _interval_bars(ax, m, _colour(i))
        if i == spot[-1]:
            # in the legend at one size: a ring under a near marker was drawn there as large as on the curve
            marks = [Line2D([], [], ls="none", marker=_marker(j), color=_colour(j)) for j in spot]
            handles.append(marks[0] if len(marks) == 1 else tuple(marks))
            named = ", ".join(f"{groups[j][0]} {_fmt_score(groups[j][1])}" for j in spot)
            # wrapped: six names on one line ran the legend past both edges of the figure
            texts.append(wrapped(f"{named}: precision {m['precision']:.3f}, recall {m['recall']:.3f}",
                                 _PR_LEGEND_CHARS))
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02), title=_title(f"Precision-recall: {_of(model, source, s.size, w)}", 6))
    if zoom_top:
        przoom.draw(axes[1], line, points, base, zoom_top)
    # below the axes, not in a corner of them: on rare anomalies (ADBench celeba, precision under 0.11 everywhere)
    # the whole curve and the threshold points the legend lists lay in the lower left corner, under it
    # a shared spot's markers side by side in its entry (matplotlib's default draws a tuple's markers over each other)
    # (their handle long enough that the markers stand apart: a marker is about a font size wide)
    most = max((len(h) for h in handles if isinstance(h, tuple)), default=1)
    ax.legend(handles, texts, loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=7,
              handler_map={tuple: HandlerTuple(ndivide=None)}, handlelength=max(2.0, 1.2 * most))
    # taller by each legend line (the curve, the baseline, each point's entry, wrapped)
    fig.set_figheight(4.5 + 0.17 * sum(x.count("\n") + 1 for x in texts))
    fig.tight_layout()
    return fig


def _interval_bars(ax: Any, m: dict[str, float], colour: Any) -> None:
    """A threshold point's 95% intervals of recall (across) and precision (up) as two open polygons of the axes'
    patches, under the point. Why patches: the curve's lines and the points' collections are what readers of the
    figure (the notebook's Display, tests) take for the curve and its points."""
    from matplotlib.patches import Polygon

    r, p = m["recall"], m["precision"]
    for xy in (((m["recall_lo"], p), (m["recall_hi"], p)), ((r, m["precision_lo"]), (r, m["precision_hi"]))):
        ax.add_patch(Polygon(xy, closed=False, fill=False, edgecolor=colour, lw=1, alpha=0.6, zorder=2,
                             clip_on=False, gid="interval"))


# Below this many labelled anomalies the precision-recall curve draws its points' intervals (evaluation.FEW_ANOMALIES,
# below which evaluate notes that a recall could be far off on another sample)
FEW_FOR_BARS = 30


# Characters on a line of the precision-recall legend: 7-point text in the 6-inch figure, with the markers beside it
_PR_LEGEND_CHARS = 90


# Points of the precision-recall curve closer than this in both precision and recall overlap (a marker is about
# 0.02 of the axes wide)
_NEAR = 0.025
