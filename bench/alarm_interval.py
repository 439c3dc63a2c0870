"""Coverage of alarm_rate's intervals for later periods: the rows' Wilson interval (rows taken as independent)
against the periods' t intervals (ad_duckdb.alarmperiods: one later period; the mean over a later stretch as long).

1. Simulation: normal scores that are AR(1) in time (correlation rho between neighbouring readings), 288 readings
   a day; the cut set for 3 alarms a day on a stretch of 7 days; then 8 later weeks of the same process. Counted:
   the share of later days whose alarms fall inside the one-day interval, and of later weeks whose alarms a day
   fall inside the week interval and inside Wilson's (times the rows a day, as `chosen_on` says it). With
   --per hour: the cut for 0.5 alarms an hour (12 readings an hour), later hours and later stretches of 7 days.
2. NAB: series of realKnownCause / realAWSCloudwatch / realTraffic / realAdExchange with at least 5 weeks of
   readings; the default model trained on the first week, `set_threshold(..., "alarm_rate", per_day=3, time=...)`
   on the second, then counted on every later whole week and day that holds no labelled anomaly window.

    PYTHONPATH=. python bench/alarm_interval.py --reps 400 --out bench/results/alarm_interval_2026-12-04

The library's interval before the lag-1 correction (ad_duckdb 69cb7a3) is measured by running this script with
PYTHONPATH at that checkout: ``spread`` there takes no correlation.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ad_duckdb import alarmperiods, alarmrate, thresholds

DAY = 288
STRETCH_DAYS = 7
LATER_WEEKS = 8
TARGET = 3.0
# --per hour: 12 readings an hour, 0.5 alarms an hour
PER = "day"
PER_ROWS = {"day": DAY, "hour": DAY // 24}
PER_TARGET = {"day": TARGET, "hour": 0.5}
RHOS = (0.0, 0.5, 0.9, 0.98, 0.995)
# --true-acf: the simulation's intervals from the AR(1)'s own autocorrelation (rho^k) instead of the one read off the
# stretch: how much of a shortfall is the estimate's
TRUE_RHO: float | None = None
TRUE_ACF = False
NAB = Path(__file__).resolve().parents[2] / "shared" / "data" / "timeseries" / "nab"
NAB_DIRS = ("realKnownCause", "realAWSCloudwatch", "realTraffic", "realAdExchange")


def ar1(rng: np.random.Generator, reps: int, n: int, rho: float) -> np.ndarray:
    """``reps`` series of n readings of a stationary AR(1) with N(0, 1) marginals (one row each)."""
    e = rng.standard_normal((reps, n)) * np.sqrt(1 - rho * rho)
    x = np.empty((reps, n))
    x[:, 0] = rng.standard_normal(reps)
    for i in range(1, n):
        x[:, i] = rho * x[:, i - 1] + e[:, i]
    return x


def judge(stretch: np.ndarray, later: np.ndarray, day_of: np.ndarray, later_day: np.ndarray,
          rows_a_day: float) -> dict[str, float]:
    """One stretch and what follows it: the cut for the target a period (as set_threshold puts it), then judge_at."""
    value, _ = alarmrate.cut(stretch, PER_TARGET[PER] / rows_a_day)
    return judge_at(stretch, later, value, day_of, later_day, rows_a_day)


def simulate(rhos: tuple[float, ...], reps: int, seed: int) -> list[dict[str, float]]:
    global TRUE_RHO
    rng = np.random.default_rng(seed)
    n_stretch, n_later = STRETCH_DAYS * DAY, LATER_WEEKS * 7 * DAY
    rows = PER_ROWS[PER]
    day = np.arange(n_stretch + n_later) // rows
    out = []
    for rho in rhos:
        TRUE_RHO = rho if TRUE_ACF else None
        got = [judge(x[:n_stretch], x[n_stretch:], day[:n_stretch], day[n_stretch:] - n_stretch // rows, rows)
               for x in ar1(rng, reps, n_stretch + n_later, rho)]
        ok = [g for g in got if "days" in g]
        out.append({"rho": rho, "reps": len(ok), **{key: float(np.nanmean([g[key] for g in ok]))
                                                     for key in ("days", "weeks", "weeks_wilson")},
                    **{f"{key}_width": float(np.median([g[key][1] - g[key][0] for g in ok]))  # type: ignore[index]
                       for key in ("one", "same", "wilson")}})
    return out


def _windows() -> dict[str, list[tuple[np.datetime64, np.datetime64]]]:
    raw = json.loads((NAB / "labels" / "combined_windows.json").read_text())
    return {k: [(np.datetime64(a.replace(" ", "T")), np.datetime64(b.replace(" ", "T"))) for a, b in v]
            for k, v in raw.items()}


def nab(max_series: int) -> list[dict[str, object]]:
    """The real path on NAB: train, set_threshold alarm_rate per_day=3 on the second week, count later ones."""
    import duckdb

    import ad_duckdb
    windows = _windows()
    out: list[dict[str, object]] = []
    for sub in NAB_DIRS:
        for f in sorted((NAB / "data" / sub).glob("*.csv")):
            if len(out) >= max_series:
                return out
            key = f"{sub}/{f.name}"
            con = ad_duckdb.connect()
            try:
                con.execute(f"CREATE TABLE s AS SELECT timestamp AS ts, value, value - lag(value) OVER (ORDER BY "
                            f"timestamp) AS diff FROM read_csv('{f}') ORDER BY ts")
                t0, t1, n = con.execute("SELECT min(ts), max(ts), count(*) FROM s").fetchall()[0]
                days = (t1 - t0).total_seconds() / 86400
                if days < 35:
                    continue
                a_day = n / days
                w1, w2 = t0 + np.timedelta64(7, "D").item(), t0 + np.timedelta64(14, "D").item()
                con.execute("UPDATE s SET diff = 0 WHERE diff IS NULL")
                ad_duckdb.train(con, "m", "s", features=["value", "diff"], where=f"ts < '{w1}'", seed=0)
                try:
                    th = ad_duckdb.set_threshold(con, "m", "three", "alarm_rate", source="s", per_day=TARGET,
                                                 time="ts", where=f"ts >= '{w1}' AND ts < '{w2}'")
                except ad_duckdb.AdDuckDBError as e:
                    out.append({"series": key, "skipped": str(e)[:120]})
                    continue
                rows = con.execute("SELECT epoch(ts), anomaly_score('m', value, diff) FROM s ORDER BY ts").fetchall()
            except duckdb.Error as e:
                out.append({"series": key, "skipped": str(e)[:120]})
                continue
            finally:
                con.close()
            t = np.array([r[0] for r in rows], dtype=float)
            s = np.array([r[1] for r in rows], dtype=float)
            # epoch() of a naive timestamp reads it as UTC, as numpy does
            e1 = float(np.datetime64(w1, "s").astype(np.int64))
            e2 = float(np.datetime64(w2, "s").astype(np.int64))
            day = np.floor((t - e1) / 86400).astype(np.int64)
            in_stretch = (t >= e1) & (t < e2)
            bad = np.zeros(len(t), bool)
            for a, b in windows.get(key, []):
                bad |= (t >= a.astype("datetime64[s]").astype(np.int64)) & (t <= b.astype("datetime64[s]").astype(
                    np.int64))
            later_day = np.where(t >= e2, day - 7, -1)
            # a later day touching an anomaly window is left out, and so is the week holding it
            bad_days = set(later_day[bad & (later_day >= 0)].tolist())
            later_day = np.where(np.isin(later_day, list(bad_days)), -1, later_day)
            # renumber the clean days so that weeks are of clean days
            clean = np.unique(later_day[later_day >= 0])
            later_day = np.where(later_day >= 0, np.searchsorted(clean, later_day), -1)
            stretch_day = np.where(in_stretch, day, -1)
            g = judge_at(s[in_stretch], s, th.value, stretch_day[in_stretch], later_day, a_day)
            out.append({"series": key, "rows_a_day": round(a_day, 1), **g})
    return out


def judge_at(stretch: np.ndarray, later: np.ndarray, value: float, day_of: np.ndarray, later_day: np.ndarray,
             rows_a_day: float) -> dict[str, float]:
    """judge's counting at a cut already set (the library's own, by set_threshold)."""
    # the stretch in time order, as set_threshold reads its autocorrelation (the library before 2026-12-05's
    # alarmacf its lag-1 correlation, and before that none)
    try:
        from ad_duckdb import alarmacf
    except ImportError:
        alarmacf = None  # type: ignore[assignment]
    if alarmacf is not None:
        if TRUE_RHO is None:
            acf, r1 = alarmacf.normal_acf(stretch), alarmperiods.lag1(stretch)
        else:
            acf, r1 = TRUE_RHO ** np.arange(1.0, len(stretch)), TRUE_RHO
        sp = alarmperiods.spread(stretch > value, day_of, rows_a_day, r1, None, acf)
    elif hasattr(alarmperiods, "lag1"):
        sp = alarmperiods.spread(stretch > value, day_of, rows_a_day, alarmperiods.lag1(stretch))
    else:
        sp = alarmperiods.spread(stretch > value, day_of, rows_a_day)
    k, n = int((stretch > value).sum()), len(stretch)
    lo, hi = thresholds.wilson(k, n)
    ok = later_day >= 0
    rows = np.bincount(later_day[ok])
    alarms = np.bincount(later_day[ok], weights=(later > value)[ok].astype(float), minlength=len(rows))
    whole = rows >= 0.9 * rows_a_day
    per_day = alarms[whole] / rows[whole] * rows_a_day
    # later stretches as long as the one the cut was set on (the simulation's STRETCH_DAYS; NAB's week)
    span = STRETCH_DAYS * (24 if PER == "hour" else 1)
    weeks = np.array([per_day[i:i + span].mean() for i in range(0, len(per_day) - span + 1, span)])
    if sp is None:
        return {"n_days": len(per_day), "n_weeks": len(weeks)}

    def share(x: np.ndarray, band: tuple[float, float]) -> float:
        return float(((x >= band[0] - 1e-9) & (x <= band[1] + 1e-9)).mean()) if len(x) else float("nan")

    return {"days": share(per_day, sp.one), "weeks": share(weeks, sp.same),
            "weeks_wilson": share(weeks, (lo * rows_a_day, hi * rows_a_day)), "n_days": len(per_day),
            "n_weeks": len(weeks), "stretch_a_day": round(k / n * rows_a_day, 2),
            "one": [round(x, 2) for x in sp.one], "same": [round(x, 2) for x in sp.same],
            "wilson": [round(lo * rows_a_day, 2), round(hi * rows_a_day, 2)],
            "later_week_rates": [round(float(w), 2) for w in weeks]}


def main() -> None:
    global STRETCH_DAYS, PER
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--nab-series", type=int, default=12)
    ap.add_argument("--stretch-days", type=int, default=STRETCH_DAYS,
                    help="days the cut is set on in the simulation (its 'weeks' are later stretches as long)")
    ap.add_argument("--per", choices=("day", "hour"), default="day",
                    help="the period counted: hour takes 0.5 alarms an hour in the simulation (no NAB)")
    ap.add_argument("--rho", type=float, action="append", help="only these neighbour correlations (default: all)")
    ap.add_argument("--true-acf", action="store_true",
                    help="the simulation's intervals from the AR(1)'s own autocorrelation, not the stretch's estimate")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    global TRUE_ACF
    STRETCH_DAYS, PER, TRUE_ACF = a.stretch_days, a.per, a.true_acf
    if STRETCH_DAYS != 7 or PER != "day":
        a.nab_series = 0  # NAB's stretch is its second week
    t = time.time()
    sim = simulate(tuple(a.rho or RHOS), a.reps, a.seed)
    lines = ["# alarm_rate intervals: coverage of later days / weeks", "",
             f"Simulation: AR(1) N(0,1) scores, {DAY} readings a day, cut for {PER_TARGET[PER]:g} {alarmrate._a(PER)} on "
             f"{STRETCH_DAYS} days, {LATER_WEEKS} later weeks; {a.reps} stretches per rho, seed {a.seed}. Coverage of "
             f"the one-{PER} interval over later {PER}s, of the stretch interval over later stretches as long; widths "
             f"in alarms {alarmrate._a(PER)} (medians).", "",
             f"| rho | later {PER}s in one-{PER} | later stretches in stretch | later stretches in Wilson | width "
             f"one-{PER} | width stretch | width Wilson |", "|---|---|---|---|---|---|---|"]
    for r in sim:
        lines.append(f"| {r['rho']} | {r['days']:.3f} | {r['weeks']:.3f} | {r['weeks_wilson']:.3f} | "
                     f"{r['one_width']:.2f} | {r['same_width']:.2f} | {r['wilson_width']:.2f} |")
    print("\n".join(lines), flush=True)
    real = nab(a.nab_series) if a.nab_series else []
    if real:  # none with --nab-series 0, --per hour or another --stretch-days
        lines += ["", "NAB (default model trained on week 1, per_day=3 set on week 2; later clean days and weeks):", "",
                  "| series | rows a day | later days in one-day | later weeks in week | in Wilson | later weeks' "
                  "alarms a day | week | Wilson |", "|---|---|---|---|---|---|---|---|"]
        for r in real:
            if "skipped" in r:
                lines.append(f"| {r['series']} | skipped: {r['skipped']} | | | | | | |")
            elif "days" in r:
                lines.append(f"| {r['series']} | {r['rows_a_day']} | {r['days']:.2f} ({r['n_days']}) | "
                             f"{r['weeks']:.2f} ({r['n_weeks']}) | {r['weeks_wilson']:.2f} | {r['later_week_rates']} | "
                             f"{r['same']} | {r['wilson']} |")
        pooled = [r for r in real if "days" in r]
        for key, n in (("days", "n_days"), ("weeks", "n_weeks"), ("weeks_wilson", "n_weeks")):
            tot = sum(int(r[n]) for r in pooled if r[key] == r[key])  # type: ignore[arg-type]
            hit = sum(float(r[key]) * int(r[n]) for r in pooled if r[key] == r[key])  # type: ignore[arg-type]
            med = float(np.median([float(r[key]) for r in pooled if r[key] == r[key]])) if pooled else float("nan")  # type: ignore[arg-type]
            lines.append(f"\nNAB {key}: pooled {hit / tot if tot else float('nan'):.3f} of {tot}, median over series "
                         f"{med:.3f}")
        lines.append("\nThe pooled figures are led by the series of most days, ambient_temperature (252 later days), "
                     "whose level drifts with the seasons: a week of December says little of May's. A stretch like the "
                     "rows the threshold will judge is what the interval assumes.")
    lines.append(f"\n{time.time() - t:.0f} s")
    print("\n".join(lines[-8:]))
    if a.out:
        a.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
        a.out.with_suffix(".json").write_text(json.dumps({"simulation": sim, "nab": real}, indent=1, default=str))


if __name__ == "__main__":
    main()
