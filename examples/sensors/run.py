"""Sensor readings with a known-normal start: the classic recipe on SKAB, scored against its published leaderboard.

Data: ../shared/data/timeseries/skab/data (the Skoltech Anomaly Benchmark): 34 experiments on a water-pump testbed,
8 sensors read once a second (accelerometers, current, pressure, temperatures, voltage, flow); each experiment runs
normally for a while, then a fault is induced (a valve closed, a cavity, a rotor imbalance, ...). The `anomaly`
column marks the faulty readings.

Steps: load every experiment into one DuckDB table `readings` (one row per reading, with `experiment` and `rn`, the
reading's position in its experiment); train one model per experiment on its first 400 readings (`where="experiment
= '...' AND rn < 400"`: the known-normal start, as SKAB's own baselines train); flag every reading with
`is_anomaly(...)` in SQL at the model's default threshold; print SKAB's figures (F1, false- and missed-alarm rates over
all experiments) beside its published leaderboard; set a second threshold per model, `alarm_rate` at 60 alarms an
hour, on the readings after the training ones (400-549, believed normal), and print the alarms a day both thresholds
give on the normal readings after those; then the oddest readings of one experiment with the sensors behind them, and
a scores-over-time plot of it.

What it shows: with a normal period to train on, a row-wise autoencoder with a default threshold lands near the top
of a leaderboard of time-series methods (several of which read windows of rows); and that the default threshold, 1% of
the training readings, flags most later normal readings (tens of thousands of alarms a day), which a threshold set
by alarm rate on later readings cuts, though not to its target here (the readings after a fault differ from those
before it). What it does not: the first 400 readings of `other/2` are mostly faulty, so its model learns the fault as
normal (SKAB's protocol keeps it in).

Usage: python examples/sensors/run.py [--data DIR] [--db out/sensors.duckdb] [--plots DIR] [--seed 0]
       [--show valve1/1]
"""

from __future__ import annotations

import argparse
import csv
import re
import warnings
from pathlib import Path

import ad_duckdb

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / "shared" / "data"
DEFAULT_DATA = SHARED / "timeseries" / "skab" / "data"
LEADERBOARD = SHARED / "reference" / "skab_outlier_leaderboard.csv"
NORMAL_START = 400  # readings known normal at the start of each experiment (SKAB's baselines train on these)
# The stretch after the training readings, believed normal (as a plant's operator would take last week's readings),
# on which the alarm_rate threshold is set; the readings after it, never trained or set on, judge both thresholds
RATE_STRETCH = (NORMAL_START, 550)
PER_HOUR = 60  # the alarm_rate target: about one alarm a minute, at SKAB's one reading a second
SENSORS = ["Accelerometer1RMS", "Accelerometer2RMS", "Current", "Pressure", "Temperature", "Thermocouple", "Voltage",
           "Volume Flow RateRMS"]


def _idents(names: list[str]) -> str:
    return ", ".join('"' + n.replace('"', '""') + '"' for n in names)


def experiments(data: Path) -> list[tuple[str, Path]]:
    """(name, path) of each labelled experiment, e.g. ('valve1/1', .../valve1/1.csv); the anomaly-free run has no
    fault to find."""
    found = [p for p in data.rglob("*.csv") if p.parent.name != "anomaly-free"]
    return sorted(((f"{p.parent.name}/{p.stem}", p) for p in found), key=lambda e: (e[0].split("/")[0], int(e[1].stem)))


def model_name(experiment: str) -> str:
    return "pump_" + experiment.replace("/", "_")


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def run(data: Path, db: Path, seed: int = 0, plots_dir: Path | None = None, show: str | None = None
        ) -> dict[str, float]:
    """Build ``db`` and print the figures; returns them (F1, FAR and MAR over all experiments; the alarms a day of
    each threshold on the normal readings after the alarm_rate stretch). ``show``: the
    experiment whose oddest readings and plot are shown, by default a typical one (the median F1). The plot goes to
    ``plots_dir``, by default the database's folder."""
    plots_dir = db.parent if plots_dir is None else plots_dir
    runs = experiments(data)
    if show is not None and show not in dict(runs):
        raise SystemExit(f"--show {show}: no such experiment; they are {', '.join(n for n, _ in runs)}")
    db.parent.mkdir(parents=True, exist_ok=True)
    if db.exists():
        db.unlink()
    con = ad_duckdb.connect(str(db))
    try:
        columns = ", ".join(f'"{c}" DOUBLE' for c in SENSORS)
        con.execute(f"CREATE TABLE readings (experiment VARCHAR, rn INTEGER, datetime TIMESTAMP, {columns}, "
                    "anomaly INTEGER)")
        for name, path in runs:
            # rn: the reading's place in its experiment, in file order (the timestamps are one second apart)
            con.execute(f"INSERT INTO readings SELECT ?, row_number() OVER () - 1, datetime, {_idents(SENSORS)}, "
                        f"anomaly::INTEGER FROM read_csv(?, delim = ';')", [name, str(path)])
        total = con.execute("SELECT count(*), sum(anomaly) FROM readings").fetchone() or (0, 0)
        print(f"loaded {total[0]} readings of {len(runs)} experiments ({total[1]} faulty) into {db}")

        tp = fp = tn = fn = 0
        f1s: dict[str, float] = {}
        counts: dict[str, tuple[int, int, int, int]] = {}
        rated = [0] * 8  # see the query that adds to it
        # Why the SQL functions' notes are gathered: each says that a batch of readings mostly scores high with a
        # sensor's median outside its training range, right here (a fault runs for about a third of an experiment,
        # and the readings after it come back changed), so one line after the results says it for all the models
        moved: dict[str, list[str]] = {}
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always", ad_duckdb.AdDuckDBWarning)
            for name, _ in runs:
                where = f"experiment = '{name}' AND rn < {NORMAL_START}"
                ad_duckdb.train(con, model_name(name), "readings", features=SENSORS, where=where, seed=seed,
                                progress=False)
                row = con.execute(
                    f"SELECT count(*) FILTER (WHERE flagged AND anomaly = 1), count(*) FILTER (WHERE flagged AND anomaly = 0),"
                    f" count(*) FILTER (WHERE NOT flagged AND anomaly = 0), count(*) FILTER (WHERE NOT flagged AND anomaly = 1)"
                    f" FROM (SELECT anomaly, is_anomaly('{model_name(name)}', {_idents(SENSORS)}) AS flagged "
                    f"FROM readings WHERE experiment = ?)", [name]).fetchone()
                assert row is not None
                tp, fp, tn, fn = tp + row[0], fp + row[1], tn + row[2], fn + row[3]
                f1s[name], counts[name] = _f1(row[0], row[1], row[3]), row
                with warnings.catch_warnings():
                    # Why quiet: 150 readings give about 2.5 alarms' worth, fewer than alarm_rate's 20 for a firm cut,
                    # which it says; the readings after the stretch judge it below
                    warnings.simplefilter("ignore", ad_duckdb.AdDuckDBWarning)
                    ad_duckdb.set_threshold(con, model_name(name), "per_hour", "alarm_rate", source="readings",
                                            where=f"experiment = '{name}' AND rn >= {RATE_STRETCH[0]} AND rn < {RATE_STRETCH[1]}",
                                            per_hour=PER_HOUR, time="datetime")
                # the normal readings of the stretch and after it: how many, how many each threshold flags; the faults
                later = con.execute(
                    f"SELECT count(*) FILTER (WHERE anomaly = 0 AND after), count(*) FILTER (WHERE anomaly = 0 AND after AND "
                    f"flagged), count(*) FILTER (WHERE anomaly = 0 AND after AND at_rate), count(*) FILTER (WHERE anomaly = 0 "
                    f"AND NOT after), count(*) FILTER (WHERE anomaly = 0 AND NOT after AND at_rate), count(*) FILTER (WHERE "
                    f"anomaly = 1 AND at_rate), count(*) FILTER (WHERE anomaly = 1 AND flagged), count(*) FILTER (WHERE anomaly = 1) "
                    f"FROM (SELECT anomaly, rn >= {RATE_STRETCH[1]} AS after, "
                    f"is_anomaly('{model_name(name)}', {_idents(SENSORS)}) AS flagged, "
                    f"is_anomaly_at('{model_name(name)}', 'per_hour', {_idents(SENSORS)}) AS at_rate "
                    f"FROM readings WHERE experiment = ? AND rn >= ?)", [name, RATE_STRETCH[0]]).fetchone()
                assert later is not None
                rated = [a + b for a, b in zip(rated, later, strict=True)]
        for w in seen:
            if not issubclass(w.category, ad_duckdb.AdDuckDBWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            elif got := re.match(r"\w+\('([^']+)', \.\.\.\).*?training range: '([^']+)'", str(w.message)):
                moved.setdefault(got[2], []).append(got[1])
        f1, far, mar = _f1(tp, fp, fn), 100 * fp / (fp + tn), 100 * fn / (fn + tp)
        print(f"trained {len(runs)} models, each on its experiment's first {NORMAL_START} readings (known normal)\n")
        print(f"SKAB outlier detection, every reading of the {len(runs)} experiments, flagged by is_anomaly(...) "
              f"at each model's default threshold:\n  F1 {f1:.3f}   false alarms {far:.1f}%   missed {mar:.1f}%")
        if LEADERBOARD.is_file():
            with open(LEADERBOARD) as f:
                board = ", ".join(f"{r['algorithm']} {float(r['f1']):.2f}" for r in csv.DictReader(f))
            print(f"  published (SKAB leaderboard, F1): {board}")
        normal, at_default, at_rate, stretch, on_stretch, caught, caught_default, faults = rated
        day = 86400  # readings a day, at one a second
        print(f"\nalarms a day (at one reading a second) on the normal readings after reading {RATE_STRETCH[1] - 1}, "
              f"which no threshold was set on:\n  {at_default / normal * day:>7,.0f} at the default threshold (1% of "
              f"the training readings; it flags {at_default / normal:.1%} of these)\n  {at_rate / normal * day:>7,.0f} "
              f"at alarm_rate --per-hour {PER_HOUR} ({PER_HOUR * 24:,} a day), set on readings {RATE_STRETCH[0]}-"
              f"{RATE_STRETCH[1] - 1} of each experiment (believed normal; {on_stretch / stretch * day:,.0f} a day "
              f"there), catching {caught / faults:.1%} of the faulty readings after reading {RATE_STRETCH[0] - 1} (the "
              f"default {caught_default / faults:.1%})\n  far above its target: the normal readings after a fault come back "
              "changed, so a cut set before the fault flags them more often than its own stretch; set it on a stretch "
              "like the readings it will judge")
        if moved:
            said = "; ".join(f"'{col}' ({len(set(ms))} models)" for col, ms in sorted(moved.items()))
            print(f"  the SQL functions noted batches of readings that mostly score high with a sensor's median outside "
                  f"its training range: {said}.\n  Expected here (the faults, and the changed readings after them); "
                  "on a live feed the same note says a sensor moved, one to check or to train on again")

        if show is None:
            show = sorted(f1s, key=lambda n: f1s[n])[len(f1s) // 2]
            print(f"\nexperiment {show}, a typical one (its F1 {f1s[show]:.3f} is the median of the {len(f1s)}): "
                  "its 5 oddest readings, with the sensors behind each:")
        else:
            print(f"\nexperiment {show} (F1 {f1s[show]:.3f}): its 5 oddest readings, with the sensors behind each:")
        c = counts[show]
        print(f"  flagged {c[0]} of its {c[0] + c[3]} faulty readings and {c[1]} of its {c[1] + c[2]} normal ones")
        m = model_name(show)
        for r in con.execute(
            f"SELECT rn, datetime, anomaly, round(anomaly_score('{m}', {_idents(SENSORS)}), 2) AS score, "
            # a share under 5% is no reason: "Accelerometer1RMS 100%, Current 0%" listed a sensor that made none of it
            f"array_to_string(list_transform(list_filter(anomaly_explain('{m}', {_idents(SENSORS)}), "
            f"lambda e: e.share >= 0.05)[1:2], "
            f"lambda e: e.feature || ' ' || round(100 * e.share)::INTEGER || '%'), ', ') AS why "
            f"FROM readings WHERE experiment = ? ORDER BY score DESC LIMIT 5", [show]).fetchall():
            print(f"  reading {r[0]:>4} at {r[1]}  labelled {'faulty' if r[2] else 'normal'}  score {r[3]:>8}  {r[4]}")
        plots_dir.mkdir(parents=True, exist_ok=True)
        view = f"readings_{show.replace('/', '_')}"
        con.execute(f"CREATE VIEW {view} AS SELECT * FROM readings WHERE experiment = '{show}'")
        with warnings.catch_warnings():
            # Why quiet: the note that many rows score above the threshold is right, and expected here: the fault
            # runs for about a third of each experiment
            warnings.simplefilter("ignore", ad_duckdb.AdDuckDBWarning)
            png = ad_duckdb.plot_scores_over_time(con, m, view, plots_dir, time="datetime")
        print(f"\nscores over time (the threshold a line, flagged readings marked): {png}")
        print(f"\nNext: .venv/bin/ad-duckdb explain {db} {m} {view} --where 'rn = 700'")
        return {"f1": f1, "far": far, "mar": mar, "alarms_a_day_default": at_default / normal * day,
                "alarms_a_day_alarm_rate": at_rate / normal * day}
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="the SKAB data folder (valve1/, valve2/, other/)")
    ap.add_argument("--db", default=str(HERE / "out" / "sensors.duckdb"))
    ap.add_argument("--plots", help="folder for the PNG plot (default: the folder of --db)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", help="the experiment whose oddest readings and plot are shown, e.g. valve1/1 "
                                   "(default: the one with the median F1)")
    args = ap.parse_args()
    data = Path(args.data)
    if not data.is_dir() or not experiments(data):  # checked before run() replaces the last run's database
        ap.error(f"no SKAB experiments (valve1/*.csv, ...) under {data}. The example reads them from "
                 f"shared/data/timeseries/skab/data in the folder that holds the repository ({HERE.parents[2]}); "
                 "put them there, or pass the folder with --data DIR.")
    run(data, Path(args.db), args.seed, Path(args.plots) if args.plots else None, args.show)


if __name__ == "__main__":
    main()
