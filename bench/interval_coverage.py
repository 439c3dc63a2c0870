"""Coverage of evaluate's 95% intervals by simulation: AUC-ROC (Hanley-McNeil, as before; DeLong on the logit scale
with t; Newcombe's score interval; the hull of the last two, which evaluate gives) and a threshold's precision at a
stated share of anomalies (the precisions at the ends of the recall's and false-alarm rate's Wilson intervals), on
draws of labelled scores of known truth.

Scores: normal rows N(0, 1); anomalies N(d, 1) (binormal) or a mix, a share of them found at N(4, 1) and the rest
like normal rows (an autoencoder that misses a kind of anomaly). Anomaly counts 5, 20, 100, 1000; normal rows 1, 20
and 200 times as many (at most 20,000).

    PYTHONPATH=. python bench/interval_coverage.py --draws 2000 --out bench/results/interval_coverage_2026-12-04
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

from ad_duckdb import intervals, metrics, thresholds

SCENARIOS = {  # name: (share of anomalies drawn at N(shift, 1), shift); the rest at N(0, 1)
    "binormal d=1.0": (1.0, 1.0),
    "binormal d=2.3": (1.0, 2.3),
    "mix 60% found": (0.6, 4.0),
    "mix 90% found": (0.9, 4.0),
}
COUNTS = (5, 20, 100, 1000)
RATIOS = (1, 20, 200)
MAX_NORMAL = 20_000
# precision at a stated share: the threshold and the share it is judged at
CUT, SHARE = 1.5, 0.002


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def true_auc(found: float, shift: float) -> float:
    return found * _phi(shift / math.sqrt(2)) + (1 - found) * 0.5


def true_precision(found: float, shift: float) -> float:
    recall = found * (1 - _phi(CUT - shift)) + (1 - found) * (1 - _phi(CUT))
    fpr = 1 - _phi(CUT)
    return SHARE * recall / (SHARE * recall + (1 - SHARE) * fpr)


def draw(rng: np.random.Generator, m: int, n: int, found: float, shift: float) -> tuple[np.ndarray, np.ndarray]:
    pos = np.where(rng.random(m) < found, rng.normal(shift, 1, m), rng.normal(0, 1, m))
    return np.r_[pos, rng.normal(0, 1, n)], np.r_[np.ones(m, bool), np.zeros(n, bool)]


def cell(rng: np.random.Generator, m: int, n: int, found: float, shift: float, draws: int) -> dict[str, float]:
    auc_true, prec_true = true_auc(found, shift), true_precision(found, shift)
    hits = {"hanley_mcneil": 0, "delong_logit_t": 0, "newcombe": 0, "evaluate": 0, "precision_at_share": 0}
    width = {k: 0.0 for k in hits}
    for _ in range(draws):
        s, y = draw(rng, m, n, found, shift)
        c = thresholds.curve(s, y)
        auc = metrics.curve_auc_roc(c, m, n)
        dl = intervals.delong_logit(c, m, n, auc)
        if not np.isfinite(dl[0]):  # an AUC of 0 or 1: DeLong alone has no interval (counted as missing)
            dl = (auc, auc)
        nc = intervals.newcombe(auc, m, n)
        ev = intervals.auc_roc(c, m, n, auc)
        conf = metrics.confusion(s, y, CUT)
        ps = intervals.precision_at_share(conf["tp"], conf["fp"], conf["fn"], conf["tn"], SHARE)
        for k, (lo, hi), truth in (("hanley_mcneil", metrics.auc_roc_interval(auc, m, n), auc_true),
                                   ("delong_logit_t", dl, auc_true), ("newcombe", (nc.low, nc.high), auc_true),
                                   ("evaluate", (ev.low, ev.high), auc_true), ("precision_at_share", ps, prec_true)):
            hits[k] += bool(lo <= truth <= hi)
            width[k] += (hi - lo) if np.isfinite(hi - lo) else 0.0
    return {**{k: v / draws for k, v in hits.items()}, **{f"{k}_width": v / draws for k, v in width.items()},
            "auc": auc_true, "precision": prec_true}


def write_csv(stem: str, rows: list[dict]) -> None:
    """``rows`` (each a dict of the same keys) as STEM.csv."""
    import csv

    with open(f"{stem}.csv", "w", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def parser(draws: int) -> argparse.ArgumentParser:
    """The options of a coverage bench: draws a cell, the seed, the results' path stem."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=draws)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="path stem: writes STEM.csv and STEM.md")
    return ap


def main() -> None:
    a = parser(2000).parse_args()
    rng = np.random.default_rng(a.seed)
    rows = []
    t0 = time.time()
    for name, (found, shift) in SCENARIOS.items():
        for m in COUNTS:
            for ratio in RATIOS:
                n = min(m * ratio, MAX_NORMAL)
                if ratio > 1 and n == min(m * RATIOS[RATIOS.index(ratio) - 1], MAX_NORMAL):
                    continue  # capped to the same size as the previous ratio
                r = {"scenario": name, "anomalies": m, "normal": n, **cell(rng, m, n, found, shift, a.draws)}
                rows.append(r)
                print(f"{name:<15} {m:>5} {n:>6}  AUC {r['auc']:.3f}: HM {r['hanley_mcneil']:.3f} "
                      f"DeLong {r['delong_logit_t']:.3f} Newcombe {r['newcombe']:.3f} evaluate {r['evaluate']:.3f}; "
                      f"precision@{SHARE:g} {r['precision']:.4f}: {r['precision_at_share']:.3f}  "
                      f"({time.time() - t0:.0f}s)", flush=True)
    if a.out:
        write_csv(a.out, rows)
        lines = [f"# Coverage of 95% intervals ({a.draws} draws a cell, seed {a.seed})", "",
                 "Share of draws whose interval holds the truth (0.95 is right); mean width in brackets.", "",
                 "| scenario | anomalies | normal | true AUC | Hanley-McNeil (before) | DeLong logit t | Newcombe | "
                 "evaluate (hull) | true precision@0.002 | precision@share |",
                 "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            def c(k: str, r: dict = r) -> str:
                return f"{r[k]:.3f} ({r[k + '_width']:.3f})"
            lines.append(f"| {r['scenario']} | {r['anomalies']} | {r['normal']} | {r['auc']:.3f} | {c('hanley_mcneil')} "
                         f"| {c('delong_logit_t')} | {c('newcombe')} | {c('evaluate')} | {r['precision']:.4f} | "
                         f"{c('precision_at_share')} |")
        Path(f"{a.out}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
