"""compare --label --weight on an audit sample: the power of its AUC-ROC test (``weights.paired_auc_roc``: each
version's interval joined by the AUCs' correlation, Zou and Donner's MOVER) against a paired test on the same audited
rows, a stratified paired bootstrap (the rows resampled within each class and weight, both versions' weighted AUCs
computed on each resample, p the two-sided share of resampled differences on the far side of 0), by seeded
simulation.

bench/compare_delong.py's design ``audit``: 20,000 normal rows N(0, 1) and m anomalies, N(d, 1) for version a and
N(d + delta, 1) for b, noise correlated 0.6; every row a flags above 2.0 reviewed (weight 1), the rest sampled 1 in k
(weight k). The share of draws with p < 0.05: size at delta 0 (0.05 is right), power at delta 0.5.

    PYTHONPATH=. python bench/compare_audit_paired.py --draws 100 --boot 200 --rates 10 --shifts 1.0 2.3 --seed 1 \
        --out bench/results/compare_audit_paired_2026-12-05
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

try:
    import compare_audit_flags  # run as a script: bench/ is on the path
    import interval_coverage
except ImportError:  # imported from the repository's root
    from bench import compare_audit_flags, interval_coverage

COUNTS = (20, 100, 400)
SHIFTS = (1.0, 2.3)
DELTAS = (0.0, 0.5)
RATES = (10, 50)
BOOT = 400


def _aucs(s: np.ndarray, y: np.ndarray, cw: np.ndarray) -> np.ndarray:
    """The weighted AUC-ROC of scores ``s`` (no ties: continuous draws) for each row of weights ``cw`` (B x rows)."""
    order = np.argsort(s, kind="stable")
    pos, c = y[order], cw[:, order]
    neg_w = np.where(pos, 0.0, c)
    below = np.cumsum(neg_w, axis=1) - neg_w  # the normal rows' weight below each row
    u = (np.where(pos, c, 0.0) * below).sum(axis=1)
    return u / (np.where(pos, c, 0.0).sum(axis=1) * neg_w.sum(axis=1))


def bootstrap_p(rng: np.random.Generator, sa: np.ndarray, sb: np.ndarray, y: np.ndarray, w: np.ndarray,
                boot: int = BOOT) -> float:
    """The paired stratified bootstrap's two-sided p of AUC(b) - AUC(a) = 0."""
    counts = np.zeros((boot, len(y)))
    for cls in (True, False):
        for wt in np.unique(w[y == cls]):
            idx = np.flatnonzero((y == cls) & (w == wt))
            counts[:, idx] = rng.multinomial(len(idx), np.full(len(idx), 1.0 / len(idx)), size=boot)
    cw = counts * w
    ok = ((cw * y).sum(axis=1) > 0) & ((cw * ~y).sum(axis=1) > 0)
    diff = (_aucs(sb, y, cw) - _aucs(sa, y, cw))[ok]
    if not len(diff):
        return 1.0
    return float(min(1.0, 2 * min((diff <= 0).mean(), (diff >= 0).mean())))


def cell(rng: np.random.Generator, m: int, d: float, delta: float, k: int, draws: int,
         boot: int = BOOT) -> dict[str, float]:
    rej = {"mover": 0, "bootstrap": 0}
    counted = 0
    for sa, sb, y, w, p in compare_audit_flags.audits(rng, m, d, delta, k, draws):
        counted += 1
        rej["mover"] += p.p_value < 0.05
        rej["bootstrap"] += bootstrap_p(rng, sa, sb, y, w, boot) < 0.05
    n = max(counted, 1)
    return {**{f"{key}_rejected": v / n for key, v in rej.items()}, "tested": counted / draws}


def main() -> None:
    ap = interval_coverage.parser(200)
    ap.add_argument("--rates", type=int, nargs="+", default=list(RATES))
    ap.add_argument("--shifts", type=float, nargs="+", default=list(SHIFTS))
    ap.add_argument("--counts", type=int, nargs="+", default=list(COUNTS))
    ap.add_argument("--boot", type=int, default=BOOT, help="resamples a draw")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    rows = []
    t0 = time.time()
    for k in a.rates:
        for d in a.shifts:
            for m in a.counts:
                for delta in DELTAS:
                    r = {"k": k, "shift": d, "anomalies": m, "delta": delta,
                         **cell(rng, m, d, delta, k, a.draws, a.boot)}
                    rows.append(r)
                    print(f"k={k} d={d} m={m:<4} delta={delta}: p<0.05 MOVER {r['mover_rejected']:.3f}, paired "
                          f"bootstrap {r['bootstrap_rejected']:.3f}  ({time.time() - t0:.0f}s)", flush=True)
    if a.out:
        interval_coverage.write_csv(a.out, rows)
        lines = [f"# compare's AUC test on an audit sample against a paired bootstrap of the same rows ({a.draws} "
                 f"draws a cell, seed {a.seed}, {a.boot} resamples)", "", (__doc__ or "").split("\n\n")[1].replace("\n", " "),
                 "", "| 1 in k | d | anomalies | MOVER: size | power | paired bootstrap: size | power |",
                 "|---:|---:|---:|---:|---:|---:|---:|"]
        for r0, r1 in zip(rows[::2], rows[1::2], strict=True):
            lines.append(f"| {r0['k']} | {r0['shift']} | {r0['anomalies']} | {r0['mover_rejected']:.3f} | "
                         f"{r1['mover_rejected']:.3f} | {r0['bootstrap_rejected']:.3f} | {r1['bootstrap_rejected']:.3f} |")
        Path(f"{a.out}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
