"""Size and power of ``compare --label``'s paired test of two model versions (DeLong's, ``metrics.paired_auc_roc``;
with ``--weight``, ``weights.paired_auc_roc``), by seeded simulation.

Two versions score the same rows: normal rows N(0, 1), anomalies N(d, 1) for version a and N(d + delta, 1) for b,
the two versions' noise correlated (rho). Size: the share of draws with p < 0.05 when delta = 0 (0.05 is right);
power: the same share when b is better (delta > 0); coverage: the share whose 95% interval holds the true
difference of the process, Phi((d + delta) / sqrt 2) - Phi(d / sqrt 2).

Designs: ``plain`` (m anomalies, 1000 normal rows, unweighted); ``ties`` (the same, scores rounded to 0.5, as a
model scoring few distinct values); ``sampled`` (a table of 20,000 normal rows, every anomaly kept, normal rows
sampled 1 in k with weight k); ``audit`` (the same table, every row version a flags above 2.0 reviewed, weight 1,
the rest of both classes sampled 1 in k, weight k: a sample drawn by the version in production).

    PYTHONPATH=. python bench/compare_delong.py --draws 500 --seed 1 --out STEM
    PYTHONPATH=. python bench/compare_delong.py --draws 300 --seed 1 --designs audit --out STEM
    (bench/results/compare_delong_2026-12-05.md: before and after the audit sample's test)
    PYTHONPATH=. python bench/compare_delong.py --draws 500 --seed 1 --designs plain,ties,sampled --out STEM
    (bench/results/compare_delong_2026-12-05_t.md: the p-value and interval read as a Student t)
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from ad_duckdb import metrics, weights

try:
    import interval_coverage  # run as a script: bench/ is on the path
except ImportError:  # imported from the repository's root
    from bench import interval_coverage

_phi = interval_coverage._phi

NORMAL = 20_000
PLAIN_NORMAL = 1000
CUT = 2.0
RHO = 0.6
DESIGNS = ("plain", "ties", "sampled", "audit")
COUNTS = (3, 5, 10, 20, 100)
SHIFTS = (1.0, 2.3)
DELTAS = (0.0, 0.5)
K = 50


def truth(d: float, delta: float) -> float:
    """The difference of the two versions' AUC-ROC in the process the rows are drawn from."""
    return _phi((d + delta) / math.sqrt(2)) - _phi(d / math.sqrt(2))


def draw(rng: np.random.Generator, design: str, m: int, d: float, delta: float,
         k: int = K) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None] | None:
    """One draw's scores of the two versions, labels and weights (None unweighted); None where a class is empty."""
    n = PLAIN_NORMAL if design in ("plain", "ties") else NORMAL
    y = np.r_[np.ones(m, bool), np.zeros(n, bool)]
    e1, e2 = rng.normal(size=m + n), rng.normal(size=m + n)
    sa = d * y + e1
    sb = (d + delta) * y + RHO * e1 + math.sqrt(1 - RHO * RHO) * e2
    if design == "ties":
        sa, sb = np.round(sa * 2) / 2, np.round(sb * 2) / 2
    if design in ("plain", "ties"):
        return sa, sb, y, None
    if design == "sampled":
        keep = y | (np.arange(m + n) < m + n // k)
        w = np.where(y, 1.0, float(k))
    else:
        keep = (sa > CUT) | (rng.random(m + n) < 1 / k)
        w = np.where(sa > CUT, 1.0, float(k))
    sa, sb, y, w = sa[keep], sb[keep], y[keep], w[keep]
    if y.all() or not y.any():
        return None
    return sa, sb, y, w


def test(sa: np.ndarray, sb: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> metrics.PairedAUC | None:
    """The test compare runs on these rows (None where it refuses them, as compare does)."""
    try:
        return metrics.paired_auc_roc(sa, sb, y) if w is None else weights.paired_auc_roc(sa, sb, y, w)
    except ValueError:
        return None


def cell(rng: np.random.Generator, design: str, m: int, d: float, delta: float, draws: int) -> dict[str, float]:
    true = truth(d, delta)
    rejected = covered = counted = 0
    width = 0.0
    for _ in range(draws):
        rows = draw(rng, design, m, d, delta)
        p = None if rows is None else test(*rows)
        if p is None:
            continue
        counted += 1
        rejected += p.p_value < 0.05
        covered += p.low <= true <= p.high
        width += p.high - p.low
    return {"rejected": rejected / counted if counted else float("nan"),
            "covered": covered / counted if counted else float("nan"),
            "width": width / counted if counted else float("nan"), "tested": counted / draws}


def main() -> None:
    ap = interval_coverage.parser(1000)
    ap.add_argument("--designs", default=",".join(DESIGNS))
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    rows = []
    t0 = time.time()
    for design in a.designs.split(","):
        for d in SHIFTS:
            for m in COUNTS:
                for delta in DELTAS:
                    r = {"design": design, "shift": d, "anomalies": m, "delta": delta,
                         **cell(rng, design, m, d, delta, a.draws)}
                    rows.append(r)
                    print(f"{design:<8} d={d} m={m:<4} delta={delta}: p<0.05 in {r['rejected']:.3f}, covers "
                          f"{r['covered']:.3f} (width {r['width']:.3f}; tested {r['tested']:.2f})  "
                          f"({time.time() - t0:.0f}s)", flush=True)
    if a.out:
        interval_coverage.write_csv(a.out, rows)
        lines = [f"# compare --label's paired test: size and power ({a.draws} draws a cell, seed {a.seed})", "",
                 f"Versions a and b, noise correlation {RHO}; normal rows N(0, 1), anomalies N(d, 1) for a and "
                 f"N(d + delta, 1) for b. Share of draws with p < 0.05 (size at delta 0: 0.05 is right; power at "
                 f"delta 0.5), share whose 95% interval holds the process's difference (0.95 is right), mean width. "
                 f"Designs: plain ({PLAIN_NORMAL} normal rows), ties (plain, scores rounded to 0.5), sampled "
                 f"({NORMAL:,} normal rows sampled 1 in {K}, every anomaly kept), audit (a's alerts above {CUT} "
                 f"reviewed, the rest sampled 1 in {K}).", "",
                 "| design | d | anomalies | size: p < 0.05 | covers (width) | power: p < 0.05 | covers (width) |",
                 "|---|---:|---:|---:|---:|---:|---:|"]
        for r0, r1 in zip(rows[::2], rows[1::2], strict=True):
            lines.append(f"| {r0['design']} | {r0['shift']} | {r0['anomalies']} | {r0['rejected']:.3f} | "
                         f"{r0['covered']:.3f} ({r0['width']:.3f}) | {r1['rejected']:.3f} | "
                         f"{r1['covered']:.3f} ({r1['width']:.3f}) |")
        Path(f"{a.out}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
