"""Coverage of two intervals made for few labelled rows, over simulated draws: the figures quoted in
``ad_duckdb/smallpaired.py`` and ``ad_duckdb/costintervals.py``.

    python bench/small_intervals.py delong [--draws 2000] [--seed 1]   # compare --label's AUC-ROC difference
    python bench/small_intervals.py delong-weighted [--draws 2000] [--seed 1]   # the same with --weight
    python bench/small_intervals.py costs [--draws 4000] [--seed 0]    # evaluate's cost per row

``delong``: bench/compare_delong.py's designs (plain, ties); for each case the share of draws whose interval holds the
true difference, the mean width and the share called different (p < 0.05), for DeLong's interval alone and for the
one shipped (on 10 labelled anomalies or fewer: the hull of DeLong's and MOVER's). ``costs``: the cost per row's
interval from each error rate's Wilson interval (as before) and its continuity-corrected one (as shipped), on
binomial draws of missed anomalies and false alarms; then single rates near 0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare_delong as cd  # noqa: E402  (a bench script beside this one, not a package)

from ad_duckdb import costintervals, costs, metrics, smallpaired, weights  # noqa: E402
from ad_duckdb.thresholds import wilson  # noqa: E402

Rate = Callable[[int, int], tuple[float, float]]


def delong(draws: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    print(f"{'design':<7}{'d':>5}{'m':>5}{'delta':>6} | {'DeLong cov (width) called':>27} | {'shipped cov (width) called':>28}")
    cells = [("plain", d, m, delta) for d, delta in ((2.3, 0.5), (2.3, 0.0), (1.0, 0.0), (1.0, 0.5)) for m in (3, 5, 10)]
    cells += [("ties", 2.3, m, 0.5) for m in (3, 5, 10)] + [("plain", 2.3, 11, 0.5), ("plain", 2.3, 20, 0.5)]
    for design, d, m, delta in cells:
        tally = _paired_cell(lambda: cd.draw(rng, design, m, d, delta),  # noqa: B023  (called within the loop)
                             lambda sa, sb, y, _w: metrics.paired_auc_roc(sa, sb, y), cd.truth(d, delta), draws)
        print(f"{design:<7}{d:>5}{m:>5}{delta:>6} |{tally}", flush=True)


def delong_weighted(draws: int, seed: int) -> None:
    """``delong`` on weighted rows: bench/compare_delong.py's ``sampled`` design (20,000 normal rows sampled 1 in
    ``k``, weight ``k``; every anomaly kept, weight 1), which ``weights.paired_auc_roc`` tests with DeLong's paired
    test on weighted placements. (Normal rows sampled at rates that differ across the score, every anomaly kept,
    take the audit sample's test instead, ``weights._audit_paired``: not measured here.)"""
    rng = np.random.default_rng(seed)
    print(f"{'k':>4}{'d':>5}{'m':>5}{'delta':>6} | {'DeLong cov (width) called':>27} | "
          f"{'shipped cov (width) called':>28}")
    cells = [(50, d, m, delta) for d, delta in ((2.3, 0.5), (2.3, 0.0), (1.0, 0.0), (1.0, 0.5)) for m in (3, 5, 10)]
    cells += [(10, 2.3, m, 0.5) for m in (3, 5, 10)] + [(50, 2.3, 11, 0.5), (50, 2.3, 20, 0.5)]
    for k, d, m, delta in cells:
        tally = _paired_cell(lambda: cd.draw(rng, "sampled", m, d, delta, k),  # noqa: B023  (called within the loop)
                             weights.paired_auc_roc, cd.truth(d, delta), draws)
        print(f"{k:>4}{d:>5}{m:>5}{delta:>6} |{tally}", flush=True)


def _paired_cell(draw: Callable[[], Any], test: Callable[..., Any], true: float, draws: int) -> str:
    """Each of ``draws`` draws' rows (``draw``: scores a, b, labels, weights; None for a draw refused) tested by
    ``test`` with DeLong's interval alone and as shipped (below smallpaired.FEW anomalies, joined with MOVER's): for
    each, the share of draws holding ``true``, the mean width and the share called different (p < 0.05)."""
    few = smallpaired.FEW
    tally = {"delong": [0, 0, 0.0, 0], "shipped": [0, 0, 0.0, 0]}
    for _ in range(draws):
        rows = draw()
        if rows is None:
            continue
        try:
            smallpaired.FEW = 0  # DeLong's alone
            alone = test(*rows)
        except ValueError:
            continue
        finally:
            smallpaired.FEW = few
        for key, p in (("delong", alone), ("shipped", test(*rows))):
            t = tally[key]
            t[0] += 1
            t[1] += p.low <= true <= p.high
            t[2] += p.high - p.low
            t[3] += p.p_value < 0.05
    out = ""
    for key in ("delong", "shipped"):
        n, held, width, called = tally[key]
        out += f" {held / n:>12.3f} ({width / n:.3f}) {called / n:>6.3f} |"
    return out


def _per_row(rate: Rate, missed: int, alarms: int, pos: int, neg: int, prices: costs.Prices) -> tuple[float, float]:
    share = pos / (pos + neg)
    lo = hi = 0.0
    for count, of, price, weight in ((missed, pos, prices.miss_cost, share), (alarms, neg, prices.alarm_cost, 1 - share)):
        r_lo, r_hi = rate(count, of)
        lo += price * weight * r_lo
        hi += price * weight * r_hi
    return lo, hi


def cost_intervals(draws: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    prices = costs.Prices(400, 5, None)
    rates: dict[str, Rate] = {"wilson": wilson, "wilson_cc": costintervals.wilson_cc}
    cases = [(5, 32, 0.2, 0.01), (10, 32, 0.05, 0.01), (10, 200, 0.05, 0.0), (10, 200, 0.0, 0.005),
             (20, 200, 0.3, 0.02), (80, 1500, 0.1, 0.005), (8, 32, 0.02, 0.03), (40, 40, 0.01, 0.01),
             (5, 1000, 0.1, 0.001), (3, 37, 0.05, 0.02)]
    print(f"{'anomalies, normal, miss, alarm':<32}{'wilson':>8}{'wilson_cc':>10}{'width cc/wilson':>17}")
    for pos, neg, fnr, fpr in cases:
        true = 400 * pos / (pos + neg) * fnr + 5 * neg / (pos + neg) * fpr
        missed, alarms = rng.binomial(pos, fnr, draws), rng.binomial(neg, fpr, draws)
        held, width = {}, {}
        for name, rate in rates.items():
            ivs = [_per_row(rate, int(m), int(a), pos, neg, prices) for m, a in zip(missed, alarms, strict=True)]
            held[name] = np.mean([lo <= true + 1e-12 and true <= hi + 1e-12 for lo, hi in ivs])
            width[name] = np.mean([hi - lo for lo, hi in ivs])
        print(f"{str((pos, neg, fnr, fpr)):<32}{held['wilson']:>8.3f}{held['wilson_cc']:>10.3f}"
              f"{width['wilson_cc'] / width['wilson']:>17.2f}")
    print("one rate near 0 (the miss rate of n anomalies): share of draws held")
    for n, r in ((10, 0.05), (10, 0.01), (20, 0.02), (32, 0.01), (50, 0.005), (5, 0.05)):
        ks = rng.binomial(n, r, draws)
        line = f"  n={n:<4} r={r:<6}"
        for name, rate in rates.items():
            line += f" {name} {np.mean([rate(int(k), n)[0] <= r <= rate(int(k), n)[1] for k in ks]):.3f}"
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("which", choices=["delong", "delong-weighted", "costs"])
    ap.add_argument("--draws", type=int, help="draws a case (default: delong 2000, costs 4000)")
    ap.add_argument("--seed", type=int, help="the generator's seed (default: delong 1, costs 0)")
    args = ap.parse_args()
    if args.which == "delong":
        delong(args.draws or 2000, 1 if args.seed is None else args.seed)
    elif args.which == "delong-weighted":
        delong_weighted(args.draws or 2000, 1 if args.seed is None else args.seed)
    else:
        cost_intervals(args.draws or 4000, 0 if args.seed is None else args.seed)


if __name__ == "__main__":
    main()
