"""Room above a histogram's bars for the threshold labels written at the top of its axes.

Why: the labels step down from the top of the axes, one row each, in a white box so that they read over the
threshold lines they cross; the bars were scaled to the axes' full height, so a label beside a line in the bulk of
the scores (the quick start's 'default = p99 > 9.573: 200 rows (1.00%)') covered the tops of its tallest bars, which
then read shorter than they are."""

from __future__ import annotations

from typing import Any

import numpy as np

# The bars keep at least this share of the axes' height: past a dozen labels, room under the lowest would press them
# flat, and the labels' boxes are translucent
LEAST_BAR_SHARE = 0.5
# Points left between a label's box and the bar top under it
GAP_PT = 3.0


def clear_of_bars(ax: Any, highest: float | None = None) -> None:
    """Raise the top of ``ax``'s value axis (linear or log) until no visible text in the axes lies over a bar, the bars
    keeping at least ``LEAST_BAR_SHARE`` of the height, and the top at most ``highest`` (a count axis: the rows
    drawn, as an axis of 20,000 rows reaching 1,000,000 would read as more rows than there are). Call it once the
    figure is laid out: the labels' widths in points are measured against the axes' width."""
    fig = ax.get_figure()
    texts = [t for t in ax.texts if t.get_visible() and t.get_text()]
    bars = [p for p in ax.patches if p.get_height() > 0 and p.get_width() > 0]
    if not texts or not bars:
        return
    fig.draw_without_rendering()  # places the annotations and their boxes
    log = ax.get_yscale() == "log"
    lo, hi = ax.get_ylim()

    def scaled(v: float) -> float:
        return float(np.log10(v)) if log else float(v)

    to_axes = ax.transAxes.inverted()
    spans = [to_axes.transform(p.get_window_extent())[:, 0] for p in bars]
    tops = [scaled(p.get_y() + p.get_height()) for p in bars]
    base, top = scaled(lo), scaled(hi)
    gap = GAP_PT * fig.dpi / 72 / max(ax.bbox.height, 1.0)
    need = top
    for t in texts:
        patch = t.get_bbox_patch()
        (x0, y0), (x1, _) = to_axes.transform((patch if patch is not None else t).get_window_extent())
        room = y0 - gap
        if room <= 0:
            continue
        under = [h for (a, b), h in zip(spans, tops, strict=True) if a < x1 and b > x0 and h > base]
        if under:
            need = max(need, base + (max(under) - base) / room)
    most = base + (max(tops) - base) / LEAST_BAR_SHARE
    if highest is not None and highest > 0:
        most = min(most, scaled(highest))
    need = min(need, max(most, top))
    if need > top:
        new_top = 10**need if log else need
        # not a hair past ``highest`` through log10 and back
        ax.set_ylim(lo, min(new_top, highest) if highest else new_top)
