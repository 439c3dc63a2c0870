"""Thresholds as the plots mark them: one colour, dash and marker each in every plot, their lines and the labels
beside them."""

from __future__ import annotations

from typing import Any

import numpy as np

from .numbertext import count_text, share_text
from .plottext import _short, drawable, wrapped

# Threshold colours: the default cycle without C0 and C1 (the bars and the curve: normal blue, anomaly orange) and
# C7 (the grey of the 'random' baseline), so a line never reads as part of the data; the same threshold order gives
# a threshold one colour in every plot.
_THRESHOLD_COLOURS = ("C2", "C3", "C4", "C5", "C6", "C8", "C9")


def _colour(i: int) -> str:
    return _THRESHOLD_COLOURS[i % len(_THRESHOLD_COLOURS)]


# Past the 7 colours, the next round of thresholds gets another dash. Why: the 8th threshold took the 1st one's
# colour with the same marker and line, and a model's 5 training thresholds and a few chosen on labels made pairs
# the legend could not tell apart.
_DASHES = ("--", ":", "-.", (0, (6, 2, 1, 2, 1, 2)))


# The precision-recall points' markers, one per threshold in turn (5, prime to the 7 colours: no two of 35 thresholds
# share both). Why in turn, not a round of 7 each: neighbouring points (p90 and p95, a few rows apart on the curve)
# differed by colour alone, which a colour-blind reader or a grey print cannot tell, and the 8th point was the 1st
# one's colour with only the marker of the next round to tell it by.
_MARKERS = ("o", "s", "^", "D", "P")


def _marker(i: int) -> str:
    return _MARKERS[i % len(_MARKERS)]


def _dash(i: int) -> Any:
    """The line style of the ``i``-th threshold (by value) in every plot."""
    return _DASHES[i // len(_THRESHOLD_COLOURS) % len(_DASHES)]


def _fmt_score(t: float) -> str:
    """A threshold as `ad-duckdb threshold --method manual --value` would take it back (4 significant digits)."""
    return f"{t:.4g}"


def _threshold_groups(thresholds: dict[str, float] | None) -> list[tuple[str, float]]:
    """Thresholds by value, lowest first; names of one value joined ('default = p99'), as they mark one spot."""
    groups: dict[float, list[str]] = {}
    for name, t in sorted((thresholds or {}).items(), key=lambda kv: (kv[1], kv[0])):
        groups.setdefault(float(t), []).append(name)
    return [(" = ".join(names), t) for t, names in groups.items()]


# The figure's width the axes do not get (tick labels, axis label): to cut a name to the room beside its line
# before anything is drawn
_NOT_AXES_IN = 1.15


def _text_pt(text: str, size: float) -> float:
    """The width of ``text`` in points, drawn at ``size`` points in the default font (no figure drawn). Why measured:
    an average letter's width made 'default = p99' too long for the half of the axes right of a line mid-axis,
    where the whole label fitted with room to spare, and it read 'default = … > 14.03'."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    return float(TextToPath().get_text_width_height_descent(text, FontProperties(size=size), ismath=False)[0])


def _fitted(names: str, text: str, room_pt: float, size: float) -> str:
    """``names`` and then ``text``, the names cut (to no fewer than 8 characters, nor more than 40) to fit
    ``room_pt`` points."""
    names = drawable(names)  # cut as drawn: a name's escapes are longer than it
    n = min(40, len(names))
    while n > 8 and _text_pt(_short(names, n) + text, size) > room_pt:
        n -= 1
    return _short(names, n) + text


# Threshold labels beside their lines at most: past two dozen, at the 6.5 points they need, they printed into each
# other and over every bar
MAX_THRESHOLD_LABELS = 24


def _labelled(groups: list[tuple[str, float]]) -> set[int]:
    """The threshold groups labelled beside their lines: all up to ``MAX_THRESHOLD_LABELS``; past that, the one
    holding ``default`` (what scoring flags by) and the others spread evenly over the values, lowest and highest
    included, so that the labels still read the scale of the thresholds."""
    n = len(groups)
    if n <= MAX_THRESHOLD_LABELS:
        return set(range(n))
    keep = {i for i, (names, _) in enumerate(groups) if "default" in names.split(" = ")}
    keep |= {int(i) for i in np.round(np.linspace(0, n - 1, MAX_THRESHOLD_LABELS - len(keep)))}
    keep |= set(sorted(set(range(n)) - keep)[: MAX_THRESHOLD_LABELS - len(keep)])  # rounding can repeat an index
    return keep


def _mark_thresholds(ax: Any, thresholds: dict[str, float] | None, use_log: bool, scores: np.ndarray | None,
                     on_axis: dict[str, float], weights: np.ndarray | None = None,
                     beside: list[tuple[Any, tuple[Any, str]]] | None = None) -> list[tuple[Any, str]]:
    """A dashed line per threshold value of ``on_axis``, labelled with its name(s), its value and (given ``scores``)
    how many of them it flags (``weights``: the rows those flagged stand for); the others only labelled, at the
    axis' edge on their side, with an arrow. Labels step down from the top, one line each, so that close thresholds
    stay readable; right of the middle they sit left of their line, so that they stay inside the plot. Past
    ``MAX_THRESHOLD_LABELS``, those `_labelled` leaves out are returned as (handle, text) for a legend instead, as are
    those whose names the label had to cut (given whole). ``beside``: receives each threshold's label (None for
    one listed only) with its legend entry, by value, for `_laid_out_below_labels` to list a label instead where it
    finds no room above the bars."""
    from matplotlib.lines import Line2D

    lo, hi = ax.get_xlim()
    drawn = set(on_axis.values())
    axes_pt = (ax.figure.get_figwidth() - _NOT_AXES_IN) * 72
    groups = _threshold_groups(thresholds)
    labelled = _labelled(groups)
    # a row each down the axes, closer and smaller past twelve. Why not again from the top after twelve: the
    # 13th label printed over the 1st
    step = min(0.075, 0.9 / max(len(labelled), 1))
    size = 8 if len(labelled) <= 16 else 6.5
    listed: list[tuple[Any, str]] = []
    row = 0
    for i, (names, t) in enumerate(groups):
        text = f" > {_fmt_score(t)}"
        if scores is not None:
            n: float
            total: float
            if weights is None:
                n, total = int((scores > t).sum()), max(scores.size, 1)
            else:
                n, total = float(weights[scores > t].sum()), float(weights.sum())
            text += f": {count_text(n)} {'row' if n == 1 else 'rows'} ({share_text(n / total)})"
        colour = _colour(i)
        if t in drawn:
            tv = float(np.log10(t)) if use_log else t
            ax.axvline(tv, color=colour, ls=_dash(i), lw=1)
            at = (tv - lo) / (hi - lo) if hi > lo else 0.5
            right = at > 0.55
            room = at if right else 1 - at
        else:  # off the axis: at its edge, the arrow pointing where the threshold lies
            right = not (use_log and t <= 0) and (np.log10(t) if use_log else t) > hi
            tv = hi if right else lo
            room = 1.0
        where = "" if t in drawn else " (right of the axis)" if right else " (left of the axis)"
        whole = (Line2D([], [], color=colour, ls=_dash(i), lw=1), wrapped(f"{names}{text}{where}", _LISTED_CHARS))
        if i not in labelled:
            listed.append(whole)
            if beside is not None:
                beside.append((None, whole))
            continue
        # the name cut to what its side of the line holds beside the value and the count. Why: a 40-character name
        # with its count ran past the axes' edge, and tight_layout moved the axes (and the title above them) aside
        # (less the label's offset from its line and its box' padding)
        fitted = _fitted(names, text, room * axes_pt - 6, size)
        if not fitted.startswith(drawable(names) + " > "):
            # whole in the legend too: names alike for their first 40 characters were cut to the same label
            listed.append(whole)
        text = fitted
        if t not in drawn:
            text = text + " →" if right else "← " + text
        # in its line's colour: a label left of its line crosses the lines of lower thresholds
        label = ax.annotate(text, (tv, 0.95 - step * row), xycoords=ax.get_xaxis_transform(), fontsize=size,
                            color=colour, textcoords="offset points", xytext=(-3 if right else 3, 0),
                            ha="right" if right else "left", va="top",
                            bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})
        if beside is not None:
            beside.append((label, whole))
        row += 1
    return listed


# Characters on a line of a listed threshold's legend entry: two columns of 7-point text fit the 6-inch histogram
_LISTED_CHARS = 42
