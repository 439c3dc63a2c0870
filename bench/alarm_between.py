"""Coverage of check-threshold's in-between interval (ad_duckdb.alarmpromise.between): a threshold set for 3 alarms a
day on a stretch of ``--stretch-days`` days (14), checked on later stretches of 1 day to as long as it, whose interval
moves from the one-day interval to the stretch-long one as the t interval's half-width for the mean of k days does.
The two ends are bench/alarm_interval.py's; this measures the stretches between them, which no bench had.

Simulation as alarm_interval.py's: normal scores AR(1) in time (correlation rho between neighbouring readings),
288 readings a day; the cut set by alarmrate.cut, the intervals by alarmperiods.spread on the scores'
autocorrelation (alarmacf), then 8 later weeks of the same process cut into stretches of k days (non-overlapping);
counted: the share of those whose alarms a day fall inside the interval ``between`` gives for k days.

    PYTHONPATH=. python bench/alarm_between.py --reps 200 --out bench/results/alarm_between_2026-12-05
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from alarm_interval import DAY, LATER_WEEKS, RHOS, TARGET, ar1

from ad_duckdb import alarmacf, alarmperiods, alarmpromise, alarmrate

LENGTHS = (1, 2, 3, 4, 7, 10)


def judge(stretch: np.ndarray, later: np.ndarray, m: int) -> dict[int, tuple[float, float]] | None:
    """For one stretch of ``m`` days and the rows after it: for each later stretch length k, (share of later
    stretches of k days inside the interval, its width); under key 0, for one later day, the share inside the
    interval one whole alarm narrower at its upper end (a day's alarms are whole: below 95% there, the one-day
    interval's over-coverage is that of whole counts, which no narrower interval of them avoids)."""
    value, _ = alarmrate.cut(stretch, TARGET / DAY)
    day_of = np.arange(len(stretch)) // DAY
    sp = alarmperiods.spread(stretch > value, day_of, DAY, alarmperiods.lag1(stretch), None,
                             alarmacf.normal_acf(stretch))
    if sp is None:
        return None
    per_day = (later > value).reshape(-1, DAY).sum(axis=1).astype(float)
    lo1, hi1, _ = alarmpromise.between(sp.one, sp.same, 1, m, "day")
    narrower = np.floor(hi1 + 1e-9) - 1
    out = {0: (float(((per_day >= lo1 - 1e-9) & (per_day <= narrower + 1e-9)).mean()), narrower - lo1)}
    for k in (*LENGTHS, m):
        lo, hi, _ = alarmpromise.between(sp.one, sp.same, k, m, "day")
        means = per_day[:len(per_day) // k * k].reshape(-1, k).mean(axis=1)
        out[k] = (float(((means >= lo - 1e-9) & (means <= hi + 1e-9)).mean()), hi - lo)
    return out


def simulate(rhos: tuple[float, ...], reps: int, seed: int, m: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    n_stretch, n_later = m * DAY, LATER_WEEKS * 7 * DAY
    rows: list[dict[str, object]] = []
    for rho in rhos:
        got = [g for x in ar1(rng, reps, n_stretch + n_later, rho)
               if (g := judge(x[:n_stretch], x[n_stretch:], m)) is not None]
        for k in (0, *LENGTHS, m):
            rows.append({"rho": rho, "days": k, "reps": len(got),
                         "coverage": float(np.mean([g[k][0] for g in got])),
                         "width": float(np.median([g[k][1] for g in got]))})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stretch-days", type=int, default=14)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    t = time.time()
    sim = simulate(RHOS, a.reps, a.seed, a.stretch_days)
    lengths = sorted({0, *LENGTHS, a.stretch_days})
    lines = ["# check-threshold's in-between interval: coverage of later stretches shorter than the one set on", "",
             f"AR(1) N(0,1) scores, {DAY} readings a day, cut for {TARGET:g} a day on {a.stretch_days} days, "
             f"{LATER_WEEKS} later weeks cut into stretches of k days; {a.reps} stretches per rho, seed {a.seed}. "
             "Coverage of alarmpromise.between's interval for k days (k = 1: the one-day interval; k = "
             f"{a.stretch_days}: the stretch's), median width in alarms a day in brackets. k = 1 - 1: the one-day "
             "interval with its upper end one whole alarm lower (a day's alarms are whole): where that holds under "
             "95%, the one-day interval's over-coverage is whole counts', not a fault of its width.", "",
             "| rho | " + " | ".join(f"k = {k}" if k else "k = 1 - 1" for k in lengths) + " |", "|---|" + "---|" * len(lengths)]
    for rho in RHOS:
        cells = {int(str(r["days"])): r for r in sim if r["rho"] == rho}
        lines.append(f"| {rho} | " + " | ".join(f"{float(str(cells[k]['coverage'])):.3f} "
                                               f"({float(str(cells[k]['width'])):.1f})" for k in lengths) + " |")
    lines.append(f"\n{time.time() - t:.0f} s")
    print("\n".join(lines), flush=True)
    if a.out:
        a.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
        a.out.with_suffix(".json").write_text(json.dumps(sim, indent=1))


if __name__ == "__main__":
    main()
