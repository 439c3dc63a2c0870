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



def unplaced(ax: Any, labels: list[Any], first: Any | None = None) -> list[Any]:
    """Give ``labels`` (texts of ``ax`` placed by `thresholdmarks._mark_thresholds`, one row each down from the top, in
    the order of their values) the rows from the top in turn, each the next free row if its box is clear there of
    every bar under it at the value axis' present top; return the others (for a legend), after taking them off the
    axes. ``first``: the label kept before the others (the default threshold's, what scoring flags by): a label
    above it takes a row only if one is left for it.

    Why row by row: a label over the bulk's bars in its own row can sit clear of them a few rows lower on the other
    side of the axes (the highest thresholds' labels, over the thin tail), where the labels it passed are taken off;
    rows stay as far apart as they were, so no two labels meet."""
    if not labels:
        return []
    fig = ax.get_figure()
    fig.draw_without_rendering()
    to_axes = ax.transAxes.inverted()
    bars = []
    for p in ax.patches:
        if p.get_height() > 0 and p.get_width() > 0:
            (x0, _), (x1, y1) = to_axes.transform(p.get_window_extent())
            bars.append((x0, x1, y1))
    ordered = sorted(labels, key=lambda t: -float(t.xy[1]))
    rows = [float(t.xy[1]) for t in ordered]
    gap = GAP_PT * fig.dpi / 72 / max(ax.bbox.height, 1.0)

    def deepest(t: Any) -> int:
        """The lowest row ``t`` is clear of the bars in (-1: none); every row above it is clear too."""
        patch = t.get_bbox_patch()
        (x0, y0), (x1, _) = to_axes.transform((patch if patch is not None else t).get_window_extent())
        drop = float(t.xy[1]) - y0 + gap  # the box' bottom below its row's line
        under = max((top for a, b, top in bars if a < x1 and b > x0), default=0.0)
        return max((k for k, y in enumerate(rows) if y - drop > max(under, 0.0)), default=-1)

    room = {id(t): deepest(t) for t in ordered}
    gone, k = [], 0
    waiting = first is not None and any(t is first for t in ordered)
    for t in ordered:
        if t is first:
            waiting = False
        # a row taken above ``first`` must leave it one it is clear in
        fits = k <= room[id(t)] and (not waiting or k + 1 <= room[id(first)])
        if fits:
            t.xy = (t.xy[0], rows[k])
            k += 1
        else:
            gone.append(t)
    for t in gone:
        t.remove()
    return gone

def covering(ax: Any, labels: list[Any]) -> list[Any]:
    """Those of ``labels`` (texts of ``ax``) whose box overlaps a bar of ``ax`` as the figure is drawn."""
    fig = ax.get_figure()
    fig.draw_without_rendering()
    bars = [p.get_window_extent() for p in ax.patches if p.get_height() > 0 and p.get_width() > 0]
    out = []
    for t in labels:
        patch = t.get_bbox_patch()
        box = (patch if patch is not None else t).get_window_extent()
        if any(box.overlaps(b) for b in bars):
            out.append(t)
    return out


def colliding(ax: Any, labels: list[Any], first: Any | None = None) -> list[Any]:
    """Those of ``labels`` (texts of ``ax``) whose box, as the figure is drawn, overlaps another text of the axes
    (a note such as 'no rows to draw') or a label kept before it, ``first`` kept first, then from the top row down.

    Why: `unplaced` gives the labels rows clear of the bars; nothing kept them off the axes' other texts, and on an
    axis without rows 30 labels stepped down over its 'no rows to draw'."""
    fig = ax.get_figure()
    fig.draw_without_rendering()

    def box(t: Any) -> Any:
        patch = t.get_bbox_patch()
        return (patch if patch is not None else t).get_window_extent()

    ours = {id(t) for t in labels}
    others = [box(t) for t in ax.texts if id(t) not in ours and t.get_visible() and t.get_text()]
    ordered = sorted(labels, key=lambda t: (t is not first, -float(t.xy[1])))
    kept: list[Any] = []
    out = []
    for t in ordered:
        b = box(t)
        if any(b.overlaps(o) for o in others) or any(b.overlaps(k) for k in kept):
            out.append(t)
        else:
            kept.append(b)
    return out
