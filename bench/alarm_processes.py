"""Coverage of alarm_rate's by-period intervals on score processes other than AR(1): the library reads how readings
move together off the stretch's scores, and an AR(1) taken from the lag-1 correlation alone misjudges a process
whose correlation falls off otherwise. Each process: 288 readings a day, the cut for 3 alarms a day set on a stretch
of 7 days, then 8 later weeks of the same process; counted as bench/alarm_interval.py counts (the share of later
days inside the one-day interval, of later weeks inside the week interval), over fixed seeds.

Processes (marginals need not be normal: the cut and the correlation are of ranks):
- ar1_0 / ar1_0.9 / ar1_0.995: AR(1) of that lag-1 correlation (bench/alarm_interval.py's);
- ar2: x_t = 1.6 x_{t-1} - 0.65 x_{t-2} + e (lag-1 0.97, its correlation falling off slower than 0.97^k at first);
- ar1_plus_noise: an AR(1) of 0.995 plus as much independent noise (lag-1 about 0.5, but half the variance moves
  slowly: the lag-1 correlation says far less dependence than there is);
- weekly: AR(1) of 0.9 plus a daily cycle and a weekend level (days of the week differ, each later week alike);
- heavy: AR(1) of 0.98 driven by Student t(2.5) innovations (an outlier reading decays over many readings, so alarms
  cluster more than a normal AR(1) of that lag-1 correlation).

    PYTHONPATH=. python bench/alarm_processes.py --reps 300 --out bench/results/alarm_processes_2026-12-05
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

DAY = 288
STRETCH = 7 * DAY
LATER = 8 * 7 * DAY


def _interval_bench() -> object:
    spec = importlib.util.spec_from_file_location("alarm_interval", Path(__file__).with_name("alarm_interval.py"))
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _ar(rng: np.random.Generator, reps: int, n: int, phi: tuple[float, ...], e: np.ndarray | None = None,
        burn: int = 3000) -> np.ndarray:
    if e is None:
        e = rng.standard_normal((reps, n + burn))
    x = np.zeros((reps, n + burn))
    for i in range(len(phi), n + burn):
        x[:, i] = sum(p * x[:, i - j - 1] for j, p in enumerate(phi)) + e[:, i]
    return x[:, burn:]


def _ar1_exact(rng: np.random.Generator, reps: int, n: int, rho: float) -> np.ndarray:
    """bench/alarm_interval.py's AR(1): stationary from its first reading."""
    return _interval_bench().ar1(rng, reps, n, rho)  # type: ignore[attr-defined, no-any-return]


def _weekly(rng: np.random.Generator, reps: int, n: int) -> np.ndarray:
    t = np.arange(n)
    cycle = 0.6 * np.sin(2 * np.pi * t / DAY)
    weekend = np.where((t // DAY) % 7 >= 5, 0.8, 0.0)
    return _ar1_exact(rng, reps, n, 0.9) + cycle + weekend


PROCESSES: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "ar1_0": lambda rng, reps, n: _ar1_exact(rng, reps, n, 0.0),
    "ar1_0.9": lambda rng, reps, n: _ar1_exact(rng, reps, n, 0.9),
    "ar1_0.995": lambda rng, reps, n: _ar1_exact(rng, reps, n, 0.995),
    "ar2": lambda rng, reps, n: _ar(rng, reps, n, (1.6, -0.65)),
    "ar1_plus_noise": lambda rng, reps, n: _ar1_exact(rng, reps, n, 0.995) + rng.standard_normal((reps, n)),
    "weekly": _weekly,
    "heavy": lambda rng, reps, n: _ar(rng, reps, n, (0.98,), rng.standard_t(2.5, (reps, n + 3000))),
}


def measure(names: tuple[str, ...], reps: int, seed: int) -> list[dict[str, object]]:
    """Each process's coverage at ``reps`` stretches, its own seed from ``seed`` and its place in PROCESSES (so one
    process's figures do not move when another is added or left out)."""
    bench = _interval_bench()
    day = np.arange(STRETCH + LATER) // DAY
    out: list[dict[str, object]] = []
    for name in names:
        rng = np.random.default_rng([seed, list(PROCESSES).index(name)])
        x = PROCESSES[name](rng, reps, STRETCH + LATER)
        got = [bench.judge(r[:STRETCH], r[STRETCH:], day[:STRETCH], day[STRETCH:] - 7, DAY)  # type: ignore[attr-defined]
               for r in x]
        ok = [g for g in got if "days" in g]
        out.append({"process": name, "reps": len(ok),
                    **{k: float(np.nanmean([g[k] for g in ok])) for k in ("days", "weeks", "weeks_wilson")},
                    **{f"{k}_width": float(np.median([g[k][1] - g[k][0] for g in ok])) for k in ("one", "same")}})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--process", action="append", choices=list(PROCESSES))
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    t = time.time()
    rows = measure(tuple(a.process or PROCESSES), a.reps, a.seed)
    lines = ["# alarm_rate intervals on several score processes", "",
             f"288 readings a day, the cut for 3 a day on 7 days, 8 later weeks; {a.reps} stretches a process, seed "
             f"{a.seed}. Coverage of the one-day interval over later days and of the week interval over later weeks; "
             "median widths in alarms a day.", "",
             "| process | later days in one-day | later weeks in week | later weeks in Wilson | width one-day | "
             "width week |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['process']} | {r['days']:.3f} | {r['weeks']:.3f} | {r['weeks_wilson']:.3f} | "
                     f"{r['one_width']:.2f} | {r['same_width']:.2f} |")
    lines.append(f"\n{time.time() - t:.0f} s")
    print("\n".join(lines), flush=True)
    if a.out:
        a.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
        a.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
