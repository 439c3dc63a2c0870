"""The precision-recall curve of rare anomalies, on a precision axis scaled to it.

Why: 0.2% anomalies ranked for an AUC-PR of 0.05 draw a curve whose precisions are all under 0.1; on the fixed 0-1
axis scikit-learn draws (and the first panel keeps, to compare models on) the curve, the random baseline and every
threshold's point lay flat along the bottom, where no precision could be read nor the baseline told from zero."""

from __future__ import annotations

from typing import Any

import numpy as np

# The curve gets its own panel when everything it shows lies below this precision (a third of the 0-1 axis)
LOW = 0.3
# The first few anomalies' precisions, up to this recall, may spike above the rest (one in the top ten rows: 0.1,
# two: 0.2): the scaled axis is set by the rest, as the full view shows the spike
SPIKE_RECALL = 0.05


def top(recall: np.ndarray, precision: np.ndarray, points: list[float], baseline: float) -> float | None:
    """The top of the scaled precision axis (room above the highest of the curve past ``SPIKE_RECALL``, the
    threshold ``points``' precisions and the ``baseline``), or None when they fill enough of the 0-1 axis."""
    r, p = np.asarray(recall, dtype=np.float64), np.asarray(precision, dtype=np.float64)
    past = p[r >= SPIKE_RECALL] if (r >= SPIKE_RECALL).any() else p
    highest = max([float(past.max()) if past.size else 0.0, *points, baseline])
    return None if highest <= 0 or highest >= LOW else min(1.02, 1.15 * highest)


def draw(ax: Any, line: dict[str, Any], points: list[dict[str, Any]], baseline: float, ylim_top: float) -> None:
    """The curve ``line`` (x, y, marker as the full view's), the threshold ``points`` (as scattered there: their
    colours and markers are the full view's legend) and the baseline, named beside it, on a precision axis up to
    ``ylim_top``."""
    ax.plot(line["x"], line["y"], drawstyle="steps-pre", lw=1.5, marker=line["marker"])
    # named in a legend of its own in the upper right, which a falling curve leaves empty: beside the line the name
    # lay on the curve, which meets the baseline at recall 1
    ax.axhline(baseline, color="grey", ls=":", label=f"random: the anomalies' share, {baseline:.3g}")
    ax.legend(loc="upper right", fontsize=7)
    for pt in points:
        ax.scatter(**pt)
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, ylim_top))
    ax.set_title(f"The same, precision 0 to {ylim_top:.2g}: scaled to the curve", fontsize=10)
