"""Why the published VAE column is hard to beat on cardio (not a test; prints a table).

ADBench's VAE is PyOD's: standard-scaled inputs, a decoder with a sigmoid output. A sigmoid can only output
values in (0, 1), so on standard-scaled data the reconstruction error of a row grows with its distance from the
centre, whatever the network learned: the score is close to the squared norm of the standardized row. This
script measures, on the semi-supervised protocol (seeds 0-2): PyOD's VAE with the sigmoid output, the same with
an identity output (a plain reconstruction-error detector), and the squared norm of the standardized row.

    python bench/reference_vae.py                 # cardio and thyroid
    python bench/reference_vae.py --files shuttle

Needs PyOD (installed by `make install`).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import DATA, split  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", nargs="*", default=["cardio", "thyroid"], help="substrings of ADBench file names")
    ap.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    from pyod.models.vae import VAE
    from sklearn.preprocessing import StandardScaler

    from ad_duckdb.metrics import auc_roc

    files = [f for f in sorted((DATA / "adbench").glob("*.npz")) if any(s.lower() in f.name.lower() for s in args.files)]
    print("| file | PyOD VAE, sigmoid output | PyOD VAE, identity output | squared standardized norm |")
    print("|---|---|---|---|")
    for path in files:
        d = np.load(path)
        X, y = d["X"].astype(np.float64), d["y"].astype(np.int64)
        res: dict[str, list[float]] = {"sigmoid": [], "identity": [], "norm": []}
        for seed in args.seeds:
            tr, te = split(y, "semi", seed)
            for act in ("sigmoid", "identity"):
                m = VAE(output_activation_name=act, verbose=0, random_state=seed).fit(X[tr])
                res[act].append(auc_roc(m.decision_function(X[te]), y[te]) * 100)
            sc = StandardScaler().fit(X[tr])
            res["norm"].append(auc_roc((np.nan_to_num(sc.transform(X[te])) ** 2).sum(1), y[te]) * 100)
        print(f"| {path.name} | " + " | ".join(f"{np.mean(v):.2f}" for v in res.values()) + " |", flush=True)


if __name__ == "__main__":
    main()
