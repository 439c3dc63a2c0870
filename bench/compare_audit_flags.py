"""compare --label --weight on an audit sample: the AUC-ROC difference's test (``weights.paired_auc_roc``) beside the
exact McNemar test of the rows only one version flags at the alert cut (``pairedflags``), by seeded simulation.

bench/compare_delong.py's design ``audit``: 20,000 normal rows N(0, 1) and m anomalies, N(d, 1) for version a and
N(d + delta, 1) for b, the versions' noise correlated 0.6; every row a flags above 2.0 reviewed (weight 1), the rest
of both classes sampled 1 in k (weight k). Both versions flag above 2.0. For each cell: the share of draws with
p < 0.05 (size at delta 0, where 0.05 is right; power at delta 0.5) and the mean width of the AUC difference's 95%
interval (of the -1..1 it can span); the McNemar tests of the anomalies (recall) and of the normal rows (false
alarms), each with the sampling rates of its two cells (as compare runs it) and, to show why those rates are
taken, as if every row weighed alike (expected share 0.5).

    PYTHONPATH=. python bench/compare_audit_flags.py --draws 200 --seed 1 --out bench/results/compare_audit_flags_2026-12-05
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ad_duckdb import pairedflags, weights

try:
    import compare_delong  # run as a script: bench/ is on the path
    import interval_coverage
except ImportError:  # imported from the repository's root
    from bench import compare_delong, interval_coverage

COUNTS = (5, 20, 100, 400)
SHIFTS = (1.0, 2.3)
DELTAS = (0.0, 0.5)
RATES = (10, 50)


def audits(rng: np.random.Generator, m: int, d: float, delta: float, k: int,
           draws: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Any]]:
    """The draws compare tests (a, b's scores, labels, weights and compare's AUC test), of ``draws`` drawn."""
    for _ in range(draws):
        rows = compare_delong.draw(rng, "audit", m, d, delta, k)
        if rows is None:
            continue
        sa, sb, y, w = rows
        assert w is not None
        try:
            p = weights.paired_auc_roc(sa, sb, y, w)
        except ValueError:  # compare refuses an effective size under 2 of a class
            continue
        yield sa, sb, y, w, p


def cell(rng: np.random.Generator, m: int, d: float, delta: float, k: int, draws: int) -> dict[str, float]:
    auc_rej = auc_width = 0.0
    rej = {"anomalies": 0, "normal": 0, "anomalies_plain": 0, "normal_plain": 0}
    counted = 0
    for sa, sb, y, w, p in audits(rng, m, d, delta, k, draws):
        counted += 1
        auc_rej += p.p_value < 0.05
        auc_width += p.high - p.low
        fa, fb = sa > compare_delong.CUT, sb > compare_delong.CUT
        for rows_of, name in ((y, "anomalies"), (~y, "normal")):
            t = pairedflags.test(fa, fb, w, rows_of, name)
            rej[name] += t.p_value < 0.05
            plain = pairedflags.test(fa, fb, None, rows_of, name)
            rej[f"{name}_plain"] += plain.p_value < 0.05
    n = max(counted, 1)
    return {"auc_rejected": auc_rej / n, "auc_width": auc_width / n,
            **{f"{key}_rejected": v / n for key, v in rej.items()}, "tested": counted / draws}


def main() -> None:
    ap = interval_coverage.parser(300)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    rows = []
    t0 = time.time()
    for k in RATES:
        for d in SHIFTS:
            for m in COUNTS:
                for delta in DELTAS:
                    r = {"k": k, "shift": d, "anomalies": m, "delta": delta, **cell(rng, m, d, delta, k, a.draws)}
                    rows.append(r)
                    print(f"k={k} d={d} m={m:<4} delta={delta}: AUC p<0.05 {r['auc_rejected']:.3f} (width "
                          f"{r['auc_width']:.3f}); McNemar anomalies {r['anomalies_rejected']:.3f} (rates ignored "
                          f"{r['anomalies_plain_rejected']:.3f}), normal {r['normal_rejected']:.3f} (rates ignored "
                          f"{r['normal_plain_rejected']:.3f})  ({time.time() - t0:.0f}s)", flush=True)
    if a.out:
        interval_coverage.write_csv(a.out, rows)
        lines = [f"# compare --label --weight on an audit sample: AUC-ROC test and McNemar at the cut ({a.draws} draws "
                 f"a cell, seed {a.seed})", "", (__doc__ or "").split("\n\n")[1].replace("\n", " "), "",
                 "| 1 in k | d | anomalies | AUC: size | AUC: power | AUC width (size / power) | McNemar anomalies: "
                 "size | power | rates ignored: size | McNemar normal: size | rates ignored: size |",
                 "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r0, r1 in zip(rows[::2], rows[1::2], strict=True):
            lines.append(f"| {r0['k']} | {r0['shift']} | {r0['anomalies']} | {r0['auc_rejected']:.3f} | "
                         f"{r1['auc_rejected']:.3f} | {r0['auc_width']:.3f} / {r1['auc_width']:.3f} | "
                         f"{r0['anomalies_rejected']:.3f} | {r1['anomalies_rejected']:.3f} | "
                         f"{r0['anomalies_plain_rejected']:.3f} | {r0['normal_rejected']:.3f} | "
                         f"{r0['normal_plain_rejected']:.3f} |")
        Path(f"{a.out}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
