"""Plots with many thresholds: the precision-recall points told apart past the colours, threshold labels that never
cover another text, and a plot over time whose axes keep their height however long its legend."""

from __future__ import annotations

import numpy as np
import pytest

from ad_duckdb import metrics


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
    fig = metrics.pr_figure(s, y, "m@1", th)
    points = [c for c in fig.axes[0].collections if len(c.get_offsets())]
    assert len(points) == n
    order = np.argsort([float(c.get_offsets()[0][0]) for c in points])[::-1]  # by threshold: recall falls
    looks = [(to_hex(points[k].get_facecolor()[0]), points[k].get_paths()[0].vertices.round(3).tobytes())
             for k in order]
    assert len(set(looks)) == n, "two thresholds share a colour and a marker"
    assert all(a[1] != b[1] and a[0] != b[0] for a, b in zip(looks, looks[1:], strict=False)), \
        "neighbouring thresholds share a marker or a colour"
