"""What training's optimizer costs to set up in a fresh process: ``torch.optim.Adam`` (which imports torch._dynamo)
against ``adamstep.Adam``, after ``import torch``; each in its own process, best of ``--repeat``.

Usage: python bench/train_import.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

_CODE = """
import sys, time
import torch
p = torch.nn.Parameter(torch.zeros(3))
t = time.perf_counter()
{make}
p.grad = torch.ones(3)
opt.step()
print(time.perf_counter() - t, 'torch._dynamo' in sys.modules)
"""

_MAKES = {"torch.optim.Adam": "opt = torch.optim.Adam([p], lr=1e-3)",
          "adamstep.Adam": "from ad_duckdb.adamstep import Adam; opt = Adam([p], lr=1e-3)"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    best: dict[str, float] = {}
    for label, make in _MAKES.items():
        runs = []
        for _ in range(a.repeat):
            out = subprocess.run([sys.executable, "-c", _CODE.format(make=make)], capture_output=True, text=True,
                                 check=True, cwd=HERE).stdout.split()
            runs.append(float(out[0]))
        best[label] = min(runs)
        print(f"{label:18s} first step incl. set-up {best[label]:6.3f} s  imports torch._dynamo: {out[1]}")
    print(f"ratio adamstep/torch.optim: {best['adamstep.Adam'] / best['torch.optim.Adam']:.4f}")


if __name__ == "__main__":
    main()
