"""Coverage of evaluate(weight=)'s 95% intervals (recall, precision, AUC-ROC; Kish's effective sizes) when the
labelled rows are a sample: a table of ``NORMAL`` normal rows and m anomalies, its normal rows sampled 1 in k (weight
k), every anomaly kept (weight 1), as a fraud team labels its traffic.

Two truths each draw: the table's own figures (the rows sampled from; its recall is the sample's, every anomaly
being kept, so only its precision and AUC-ROC are uncertain) and the process's (the score distributions the table
is drawn from: the figures of the next table of traffic). Scores as bench/interval_coverage.py: normal rows N(0, 1);
anomalies N(d, 1), or a mix, a share of them at N(4, 1) and the rest like normal rows. Threshold: a score above CUT.

``--audit``: the other common design, every row scoring above CUT (the alerts) reviewed (weight 1) and the rest of
both classes sampled 1 in k (weight k, a Bernoulli draw): the weights then depend on the score, and a missed anomaly
is only seen when the audit draws one.

    PYTHONPATH=. python bench/weighted_coverage.py --draws 2000 --out bench/results/weighted_coverage_2026-12-05
    PYTHONPATH=. python bench/weighted_coverage.py --draws 1000 --audit --out bench/results/weighted_coverage_audit_2026-12-05
    PYTHONPATH=. python bench/weighted_coverage.py --draws 300 --audit --seed 1 --out STEM  # AUC-ROC before / after
    (bench/results/weighted_coverage_audit_auc_2026-12-05.md: weights.auc_band joined, seeds 1 and 2)
    PYTHONPATH=. python bench/weighted_coverage.py --draws 300 --audit --seed 0 --out STEM  # precision: Wilson's of the alerts
    PYTHONPATH=. python bench/weighted_coverage.py --draws 300 --audit --at 3.5 --out STEM  # a threshold above the audit's
    (bench/results/weighted_coverage_audit_at_2026-12-05.md)
    (bench/results/weighted_coverage_audit_precision_2026-12-05.md)

``--strata``: every anomaly kept (weight 1), each normal row of the table in one of seven strata (a merchant, a day;
drawn whatever its score) sampled 1 in k * j / 4 for stratum j = 1..7 (weight k * j / 4, a Bernoulli draw);
``--sampled normal``: the intervals as ``evaluate(sampled='normal')`` makes them (the caller says every anomaly was
kept), else as evaluate reads the weights by default.

    PYTHONPATH=. python bench/weighted_coverage.py --draws 300 --strata --out STEM                    # before
    PYTHONPATH=. python bench/weighted_coverage.py --draws 300 --strata --sampled normal --out STEM   # after
    (bench/results/weighted_coverage_strata_2026-12-06.md)
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from ad_duckdb import intervals, metrics, weights

try:
    import interval_coverage  # run as a script: bench/ is on the path
except ImportError:  # imported from the repository's root
    from bench import interval_coverage

_phi = interval_coverage._phi

SCENARIOS = {k: v for k, v in interval_coverage.SCENARIOS.items() if k != "mix 60% found"}
COUNTS = (5, 20, 100, 500)
KS = (10, 50, 200)
NORMAL = 20_000  # normal rows of the table sampled from
CUT = 2.0
# the threshold evaluated (--at): the audit's cut unless another is given; above it, the flagged rows are some of the
# alerts, and the missed anomalies both alerts (weight 1) and audited rows (weight k)
AT = CUT
METRICS = ("recall", "precision", "auc_roc")


def process_truth(found: float, shift: float, m: int) -> dict[str, float]:
    """The figures of the process the table is drawn from, at its share of anomalies."""
    recall = found * (1 - _phi(AT - shift)) + (1 - found) * (1 - _phi(AT))
    fpr, share = 1 - _phi(AT), m / (m + NORMAL)
    return {"recall": recall, "precision": share * recall / (share * recall + (1 - share) * fpr),
            "auc_roc": found * _phi(shift / math.sqrt(2)) + (1 - found) * 0.5}


def table_truth(pos: np.ndarray, neg_sorted: np.ndarray) -> dict[str, float]:
    """The figures of the whole table (every normal row), AUC-ROC by placing each anomaly among the normal rows."""
    tp = int((pos > AT).sum())
    fp = len(neg_sorted) - int(np.searchsorted(neg_sorted, AT, side="right"))
    below = np.searchsorted(neg_sorted, pos, side="left")
    ties = np.searchsorted(neg_sorted, pos, side="right") - below
    return {"recall": tp / len(pos), "precision": tp / (tp + fp) if tp + fp else float("nan"),
            "auc_roc": float(np.sum(below + ties / 2.0)) / (len(pos) * len(neg_sorted))}


def cell(rng: np.random.Generator, m: int, k: int, found: float, shift: float, draws: int,
         audit: bool = False, strata: bool = False, sampled: str | None = None) -> dict[str, float]:
    proc = process_truth(found, shift, m)
    n = NORMAL // k
    hits = {f"{t}_{x}": 0 for t in ("table", "process") for x in METRICS}
    counted = dict.fromkeys(hits, 0)
    width = dict.fromkeys(METRICS, 0.0)
    w = np.r_[np.ones(m), np.full(n, float(k))]
    y = np.r_[np.ones(m, bool), np.zeros(n, bool)]
    eff = (float(m), float(n))  # Kish's effective sizes: equal weights within each class
    for _ in range(draws):
        pos = np.where(rng.random(m) < found, rng.normal(shift, 1, m), rng.normal(0, 1, m))
        neg = rng.normal(0, 1, NORMAL)
        table = table_truth(pos, np.sort(neg))
        if audit:  # the alerts all reviewed, the rest of both classes 1 in k
            s = np.r_[pos, neg]
            keep = (s > CUT) | (rng.random(len(s)) < 1 / k)
            s, y, w = s[keep], np.r_[np.ones(m, bool), np.zeros(NORMAL, bool)][keep], np.where(s > CUT, 1.0, k)[keep]
            if y.all() or not y.any():
                continue
            eff = (weights.effective(w[y]), weights.effective(w[~y]))
        elif strata:  # every anomaly kept, each normal row's stratum sampled at its own rate, whatever the score
            rate = k * rng.integers(1, 8, NORMAL) / 4.0
            keep = rng.random(NORMAL) < 1 / rate
            s, w = np.r_[pos, neg[keep]], np.r_[np.ones(m), rate[keep]]
            y = np.r_[np.ones(m, bool), np.zeros(int(keep.sum()), bool)]
            eff = (float(m), weights.effective(w[~y]))
        else:
            s = np.r_[pos, neg[:n]]  # the first n of iid rows: a simple random sample of the table's normal rows
        conf = weights.confusion(s, y, w, AT, sampled)
        c = weights.curve(s, y, w)
        p_w, n_w = float(w[y].sum()), float(w[~y].sum())
        auc = metrics.curve_auc_roc(c, p_w, n_w)
        ci = intervals.auc_roc(c, p_w, n_w, auc, eff=eff, band=sampled != "normal")
        got = {"recall": (conf["recall_lo"], conf["recall_hi"]), "precision": (conf["precision_lo"], conf["precision_hi"]),
               "auc_roc": (ci.low, ci.high)}
        for x, (lo, hi) in got.items():
            if np.isfinite(hi - lo):
                width[x] += hi - lo
            for t, truth in (("table", table[x]), ("process", proc[x])):
                if np.isfinite(truth) and np.isfinite(lo):  # no row flagged: no precision, nor an interval
                    counted[f"{t}_{x}"] += 1
                    hits[f"{t}_{x}"] += bool(lo <= truth <= hi)
    return {**{h: hits[h] / counted[h] if counted[h] else float("nan") for h in hits},
            **{f"{x}_width": width[x] / draws for x in METRICS}, **{f"true_{x}": proc[x] for x in METRICS}}


def main() -> None:
    ap = interval_coverage.parser(1000)
    ap.add_argument("--audit", action="store_true", help="rows above the threshold all kept, the rest sampled 1 in k")
    ap.add_argument("--strata", action="store_true", help="every anomaly kept, normal rows sampled by stratum")
    ap.add_argument("--sampled", choices=["rows", "normal"], help="evaluate's sampled= (default: not given)")
    ap.add_argument("--at", type=float, default=CUT, help="the threshold evaluated (default: the audit's cut)")
    ap.add_argument("--scenario", action="append", choices=list(SCENARIOS), help="only these scenarios")
    a = ap.parse_args()
    global AT
    AT = a.at
    rng = np.random.default_rng(a.seed)
    rows = []
    t0 = time.time()
    for name, (found, shift) in SCENARIOS.items():
        if a.scenario and name not in a.scenario:
            continue
        for m in COUNTS:
            for k in KS:
                r = {"scenario": name, "anomalies": m, "k": k, "normal_sampled": NORMAL // k,
                     **cell(rng, m, k, found, shift, a.draws, a.audit, a.strata, a.sampled)}
                rows.append(r)
                print(f"{name:<15} {m:>4} 1-in-{k:<3} " + " ".join(
                    f"{x} {r['table_' + x]:.3f}/{r['process_' + x]:.3f}" for x in METRICS) +
                    f"  ({time.time() - t0:.0f}s)", flush=True)
    if a.out:
        interval_coverage.write_csv(a.out, rows)
        design = (f"every row scoring above {CUT} kept (weight 1), the rest of both classes sampled 1 in k (weight k); "
                  "the table's recall is then uncertain too" if a.audit else
                  "every anomaly kept (weight 1), each normal row in one of 7 strata j sampled 1 in k * j / 4 "
                  f"(weight k * j / 4); intervals with sampled={a.sampled!r}" if a.strata else
                  "its normal rows sampled 1 in k (weight k), every anomaly kept (weight 1)")
        lines = [f"# Coverage of evaluate(weight=)'s 95% intervals on sampled rows ({a.draws} draws a cell, seed {a.seed})",
                 "", f"A table of {NORMAL:,} normal rows and m anomalies; {design}; a threshold at score {AT}. "
                 "Share of draws whose interval holds the truth "
                 "(0.95 is right): of the table sampled from / of the process it was drawn from; mean width in brackets. "
                 "With every anomaly kept the table's recall is the sample's, so its coverage is 1.", "",
                 "| scenario | anomalies | k | normal rows sampled | recall (table / process) | precision | AUC-ROC |",
                 "|---|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            def c(x: str, r: dict = r) -> str:
                return f"{r['table_' + x]:.3f} / {r['process_' + x]:.3f} ({r[x + '_width']:.3f})"
            lines.append(f"| {r['scenario']} | {r['anomalies']} | {r['k']} | {r['normal_sampled']} | {c('recall')} | "
                         f"{c('precision')} | {c('auc_roc')} |")
        Path(f"{a.out}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
