"""What a training process pays once, in a fresh process, for two first steps, each against what it replaced; each
alternative in its own process, best of ``--repeat``:

- the optimizer's set-up: ``torch.optim.Adam`` (which imports torch._dynamo) against ``adamstep.Adam``, after
  ``import torch``;
- the first conversion of a batch of training rows (DOUBLE with NULLs) from Arrow to numpy: ``Array.to_numpy``
  (whose first call imports pandas) against ``arrownumbers.doubles`` (featureread), after ``import duckdb`` and reading the batch.

Usage: python bench/train_import.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

_OPTIMIZER = """
import sys, time
import torch
p = torch.nn.Parameter(torch.zeros(3))
t = time.perf_counter()
{make}
p.grad = torch.ones(3)
opt.step()
print(time.perf_counter() - t, 'torch._dynamo' in sys.modules)
"""

_ROW_READ = """
import sys, time
import duckdb
from ad_duckdb import arrownumbers
a = duckdb.sql("SELECT CASE WHEN range % 10 = 0 THEN NULL ELSE range::DOUBLE END FROM range(65536)").to_arrow_table()
a = a.column(0).chunk(0)
t = time.perf_counter()
{make}
print(time.perf_counter() - t, 'pandas' in sys.modules)
"""

# (template, what the second line of output says, {label: code}); the first label is the baseline
_CASES = {
    "optimizer set-up": (_OPTIMIZER, "imports torch._dynamo",
                         {"torch.optim.Adam": "opt = torch.optim.Adam([p], lr=1e-3)",
                          "adamstep.Adam": "from ad_duckdb.adamstep import Adam; opt = Adam([p], lr=1e-3)"}),
    "first row batch": (_ROW_READ, "imports pandas",
                        {"Array.to_numpy": "x = a.to_numpy(zero_copy_only=False)",
                         "arrownumbers.doubles": "x = arrownumbers.doubles(a)"}),
}


def _best(code: str, repeat: int) -> tuple[float, str]:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             cwd=HERE).stdout.split()
        runs.append(float(out[0]))
    return min(runs), out[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    for case, (template, says, makes) in _CASES.items():
        best: dict[str, float] = {}
        for label, make in makes.items():
            best[label], flag = _best(template.format(make=make), a.repeat)
            print(f"{case}: {label:22s} {best[label]:6.3f} s  {says}: {flag}")
        base, new = list(makes)
        print(f"{case}: ratio {new}/{base}: {best[new] / best[base]:.4f}")


if __name__ == "__main__":
    main()
