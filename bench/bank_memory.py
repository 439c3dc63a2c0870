"""Peak memory of training and torch scoring at the bank's edge: 16 members x 65,536 codes (not a test).

Why kept: the training side's torch passes (calibration, the detector's scores, the parity check) once took every
row at once, and the latent-neighbour distances are [members, rows, bank]: 2048 calibration rows at this edge asked
for 8.6 GB. They now run in row chunks (ad_duckdb/chunks.py). A child process per run, as a peak (VmHWM) is per
process.

    python bench/bank_memory.py                                   # the edge: 16 members, 65,536 codes
    python bench/bank_memory.py --bank 8192 --code /path/to/other/checkout   # an older version (smaller: it was not chunked)

Prints the seconds and the peak resident memory above the imports of the fit and of scoring --score-rows rows.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import re, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import torch
from ad_duckdb.detector import AutoEncoderDetector

def hwm():
    return int(re.search(r"VmHWM:\s+(\d+) kB", open("/proc/self/status").read()).group(1)) / 1024

def reset():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak resident set (VmHWM) to the current one
    return hwm()

members, bank, score_rows = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
X = np.random.default_rng(0).normal(size=(bank, 2))
X[:, 1] += X[:, 0]
det = AutoEncoderDetector(n_models=members, bank_size=bank, bank_kind="sample", knn_k=4, bank_groups=1024,
                          max_steps=2, progress=False)
base = reset()
t0 = time.perf_counter()
det.fit(X, score_training_rows=False)
print(f"fit: {time.perf_counter() - t0:.1f} s, peak {hwm() - base:.0f} MiB above the start ({base:.0f} MiB), "
      f"bank {det.history_['bank_size']} codes in {det.history_['bank_groups']} groups, k {det.history_['knn_k']}")
base = reset()
t0 = time.perf_counter()
s = det.decision_function(X[:score_rows])
print(f"decision_function on {score_rows} rows: {time.perf_counter() - t0:.1f} s, peak {hwm() - base:.0f} MiB, "
      f"mean score {s.mean():.6f}")
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=16)
    ap.add_argument("--bank", type=int, default=65_536, help="codes in the bank (also the training rows)")
    ap.add_argument("--score-rows", type=int, default=2048)
    ap.add_argument("--code", default=str(ROOT), help="the checkout whose ad_duckdb to run (default: this one)")
    a = ap.parse_args()
    subprocess.run([sys.executable, "-c", _CHILD, a.code, str(a.members), str(a.bank), str(a.score_rows)], check=True)


if __name__ == "__main__":
    main()
