"""Scores over time: `--plots` on a source with a date or timestamp column also draws each row's score against it,
with the thresholds as horizontal lines in the histogram's colours, flagged rows marked, labelled anomalies shaded;
many rows are bucketed in SQL. A source without such a column gets exactly the plots it got before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.colors import to_rgba
from matplotlib.image import imread

import ad_duckdb
from ad_duckdb import timeplot
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import AdDuckDBWarning, BadInputError, NoTimesError, SourceNotFoundError
from ad_duckdb.histfigures import label_hist_figure
from ad_duckdb.numbertext import share_text
from ad_duckdb.plotaxes import _log_axis
from ad_duckdb.thresholdmarks import _colour, _fmt_score, _threshold_groups

from conftest import FAST

# Why: the plots' tables (a day's, an hour's, 200,000 readings a second) are series other than the one valve_ae was
# trained on, so scoring them notes that their scores are distributed unlike the training rows'; the plots are
# what is tested here (tests/test_drift.py tests the note)
pytestmark = pytest.mark.filterwarnings("ignore:.*distributed unlike the training rows")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A file database: `readings` (a reading a minute over three days, a fault in the afternoon of day two, labelled),
    model `valve_ae` on its two sensors, and `big` (200,000 readings a second) for bucketing."""
    path = str(tmp_path_factory.mktemp("timeplot") / "plant.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("""
            CREATE TABLE readings AS
            SELECT TIMESTAMP '2024-03-01 00:00:00' + INTERVAL (i) MINUTE AS ts, i,
                   sin(i / 30.0) + 0.05 * ((i * 7919) % 100) / 100.0 AS pressure,
                   cos(i / 30.0) + 0.05 * ((i * 104729) % 100) / 100.0 AS temperature,
                   CASE WHEN i BETWEEN 2280 AND 2300 THEN 1 ELSE 0 END AS anomaly
            FROM range(4320) r(i)""")
        con.execute("UPDATE readings SET pressure = pressure + 6 WHERE anomaly = 1")
        ad_duckdb.train(con, "valve_ae", "readings", features=["pressure", "temperature"], where="anomaly = 0", **FAST)
        con.execute("""
            CREATE TABLE big AS SELECT TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND AS ts, sin(i / 500.0) AS pressure,
                   cos(i / 500.0) + CASE WHEN i = 123456 THEN 40 ELSE 0 END AS temperature
            FROM range(200000) r(i)""")
        con.execute("CREATE TABLE untimed AS SELECT pressure, temperature FROM readings")
        con.execute("CREATE TABLE two_times AS SELECT ts, CAST(ts AS DATE) AS day, pressure, temperature FROM readings")
        con.execute("CREATE TABLE text_time AS SELECT CAST(ts AS VARCHAR) AS ts, pressure, temperature FROM readings")
        # daily rows of 60 valves over 90 days, and hourly ones of 30 over 10 days: more rows than are drawn one by
        # one, but fewer distinct times than buckets
        con.execute("""
            CREATE TABLE daily AS SELECT DATE '2024-01-01' + (i // 60)::INTEGER AS day, sin(i / 7.0) AS pressure,
                   cos(i / 7.0) AS temperature FROM range(5400) r(i)""")
        con.execute("""
            CREATE TABLE hourly AS SELECT TIMESTAMP '2024-01-01' + INTERVAL (i // 30) HOUR AS ts, sin(i / 7.0) AS pressure,
                   cos(i / 7.0) AS temperature FROM range(7200) r(i)""")
    finally:
        con.close()
    yield path


def invoke(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.stdout, res.stderr


def test_scores_over_time_draw_each_row_against_its_time_with_thresholds_and_flags(db: str) -> None:
    con = ad_duckdb.connect(db, read_only=True)
    try:
        lm = ad_duckdb.udfs.registry(con).get("valve_ae")
        fig = ad_duckdb.plot_scores_over_time(con, "valve_ae", "readings")
        scores = con.execute("SELECT anomaly_score('valve_ae', pressure, temperature) FROM readings ORDER BY ts"
                             ).fetchnumpy()["anomaly_score('valve_ae', pressure, temperature)"]
    finally:
        con.close()
    ax = fig.axes[0]
    line = ax.lines[0]
    x = np.asarray(line.get_xdata())
    assert x.size == 4320 and np.all(np.diff(x.astype("datetime64[us]").astype(np.int64)) == 60_000_000)
    np.testing.assert_allclose(line.get_ydata(), scores, rtol=1e-6)
    # each threshold group a horizontal line in the colour the histogram gives it, its legend saying what it flags
    groups = _threshold_groups(lm.thresholds)
    hlines = {ln.get_label(): ln for ln in ax.lines[1:]}
    for i, (names, t) in enumerate(groups):
        (label,) = [k for k in hlines if k.startswith(f"{names} > {_fmt_score(t)}: {(scores > t).sum()} rows")]
        assert to_rgba(hlines[label].get_color()) == to_rgba(_colour(i))
        if not label.endswith("the axis)"):
            assert list(hlines[label].get_ydata()) == [t, t]
    # the rows the default threshold flags, marked in its colour
    (marks,) = ax.collections
    default_i = next(i for i, (names, _) in enumerate(groups) if "default" in names.split(" = "))
    assert len(marks.get_offsets()) == int((scores > lm.thresholds["default"]).sum()) > 0
    assert to_rgba(marks.get_facecolor()[0]) == to_rgba(_colour(default_i))
    assert ax.get_xlabel() == "ts" and "valve_ae@1" in ax.get_title() and "4320 rows" in ax.get_title()


def test_flags_are_not_marked_when_most_rows_are_flagged(db: str) -> None:
    """Data unlike the training rows (a sensor shifted by 100): every row is flagged, and dots on every point hid the
    line; the legend says how many are above the default threshold instead."""
    con = ad_duckdb.connect(db, read_only=True)
    try:
        # the note plot_scores gives on such rows, from the same scoring pass (it gave none)
        with pytest.warns(AdDuckDBWarning, match=r"Scoring with 'valve_ae@1': 100\.00% of the 4320 rows .* moved away"):
            fig = ad_duckdb.plot_scores_over_time(con, "valve_ae",
                                                  "SELECT ts, pressure + 100 AS pressure, temperature FROM readings")
    finally:
        con.close()
    ax = fig.axes[0]
    assert not ax.collections
    labels = ax.get_legend_handles_labels()[1]
    assert "100% of the rows drawn are above the default threshold: not marked" in labels, labels


def test_many_rows_are_bucketed_in_sql_to_their_highest_score(db: str) -> None:
    """200,000 rows: 600 points of each bucket's highest score (the one outlier among them), not 200,000."""
    con = ad_duckdb.connect(db, read_only=True)
    try:
        fig = ad_duckdb.plot_scores_over_time(con, "valve_ae", "big")
        top = con.execute("SELECT max(anomaly_score('valve_ae', pressure, temperature)) FROM big").fetchall()[0][0]
    finally:
        con.close()
    ax = fig.axes[0]
    highest, median = ax.lines[0], ax.lines[1]
    assert len(highest.get_xdata()) == timeplot.BUCKETS == len(median.get_xdata())
    assert highest.get_label().startswith("highest score per 5.56 min") and median.get_label().startswith("median")
    assert max(highest.get_ydata()) == pytest.approx(top, rel=1e-6)
    # the outlier's bucket is where its time is: 123456 s after the start, in bucket 123456 // 334
    peak = np.asarray(highest.get_xdata())[int(np.argmax(highest.get_ydata()))].astype("datetime64[s]")
    assert abs(peak - np.datetime64("2024-01-01T00:00:00") - np.timedelta64(123456, "s")) < np.timedelta64(334, "s")
    assert np.all(np.asarray(median.get_ydata()) <= np.asarray(highest.get_ydata()))


@pytest.mark.parametrize("raw", [True, False], ids=["rows", "buckets"])
def test_infinite_times_are_not_drawn_as_1970_or_folded_into_the_last_bucket(db: str, raw: bool) -> None:
    """DuckDB's 'infinity' / '-infinity' timestamps (open-ended validity columns) have no epoch: epoch_us gives NULL,
    which the row plot drew at 1970 and least(NULL, ...) put in the last bucket. They are left out, as NULL times."""
    src = "readings" if raw else "big"
    q = (f"SELECT CASE WHEN row_number() OVER () % 10 = 0 THEN 'infinity'::TIMESTAMP "
         f"WHEN row_number() OVER () % 10 = 1 THEN '-infinity'::TIMESTAMP ELSE ts END AS ts, pressure, temperature "
         f"FROM {src}")
    con = ad_duckdb.connect(db, read_only=True)
    try:
        total = con.execute(f"SELECT count(*) FROM {src}").fetchall()[0][0]
        lm = ad_duckdb.udfs.registry(con).get("valve_ae")
        s = timeplot.series(con, lm, q, "ts")
    finally:
        con.close()
    infinite = total // 10 + (total + 9) // 10
    assert (s.rows, s.untimed) == (total - infinite, infinite)
    first = np.datetime64("2024-03-01T00:00:00" if raw else "2024-01-01T00:00:00", "us")
    assert s.t.min() >= first
    assert s.t.size == (total - infinite if raw else timeplot.BUCKETS)


@pytest.mark.parametrize(("table", "time", "points", "per"), [("daily", "day", 90, "per day"),
                                                             ("hourly", "ts", 240, "at each ts")])
def test_coarse_times_are_drawn_one_point_per_time_not_per_bucket(db: str, table: str, time: str, points: int,
                                                                  per: str) -> None:
    """90 days of daily rows were drawn as 'highest score per 3.6 h', each point one day's rows at a made-up time
    between two days: a bucket narrower than the data's step. Few distinct times get a point each, at that time."""
    con = ad_duckdb.connect(db, read_only=True)
    try:
        fig = ad_duckdb.plot_scores_over_time(con, "valve_ae", table)
        want = con.execute(f"SELECT {time}::TIMESTAMP AS t, max(anomaly_score('valve_ae', pressure, temperature)) AS top "
                           f"FROM {table} GROUP BY t ORDER BY t").fetchnumpy()
    finally:
        con.close()
    highest, median = fig.axes[0].lines[0], fig.axes[0].lines[1]
    assert highest.get_label() == f"highest score {per}" and median.get_label() == f"median score {per}"
    x = np.asarray(highest.get_xdata()).astype("datetime64[us]")
    assert x.size == points
    np.testing.assert_array_equal(x, np.asarray(want["t"]).astype("datetime64[us]"))
    np.testing.assert_allclose(highest.get_ydata(), want["top"], rtol=1e-6)


def test_a_long_daily_series_is_bucketed_in_whole_days(db: str) -> None:
    """Over 600 days of daily rows, a bucket of 1.83 days held one day or two: the width is rounded up to days."""
    con = ad_duckdb.connect(db, read_only=True)
    try:
        fig = ad_duckdb.plot_scores_over_time(
            con, "valve_ae", "SELECT DATE '2020-01-01' + (i // 5)::INTEGER AS day, sin(i / 7.0) AS pressure, "
                             "cos(i / 7.0) AS temperature FROM range(5500) r(i)")
    finally:
        con.close()
    highest = fig.axes[0].lines[0]
    assert highest.get_label() == "highest score per 2 days"
    x = np.asarray(highest.get_xdata()).astype("datetime64[us]").astype(np.int64)
    assert x.size == 550 and set(np.diff(x)) == {2 * 86_400_000_000}


def test_rows_all_at_one_time_are_one_bucket_with_their_true_flagged_share(db: str) -> None:
    """8640 rows at one instant: drawn as "per 1 µs" with "100% of the buckets drawn are above the default
    threshold" though a few percent of the rows are; now one point saying so, and the rows' share."""
    q = ("SELECT TIMESTAMP '2024-05-01 12:00' AS ts, pressure, temperature FROM readings UNION ALL "
         "SELECT TIMESTAMP '2024-05-01 12:00', pressure, temperature FROM readings")
    con = ad_duckdb.connect(db, read_only=True)
    try:
        fig = ad_duckdb.plot_scores_over_time(con, "valve_ae", q)
        t = ad_duckdb.udfs.registry(con).get("valve_ae").thresholds["default"]
        flagged = con.execute(f"SELECT count(*) FROM ({q}) WHERE anomaly_score('valve_ae', pressure, temperature) > ?",
                              [t]).fetchall()[0][0]
    finally:
        con.close()
    ax = fig.axes[0]
    assert len(ax.lines[0].get_xdata()) == 1
    labels = ax.get_legend_handles_labels()[1]
    assert labels[0] == "highest score of the rows, all at one time", labels
    assert not [x for x in labels if "µs" in x], labels
    assert 0 < flagged < 8640 * 0.1
    said = (f"100% of the times drawn hold rows above the default threshold ({share_text(flagged / 8640)} "
            "of the rows): not marked")
    assert said in labels, labels


def test_a_time_column_without_a_time_gives_a_note_and_no_plot(db: str, tmp_path: Path) -> None:
    """Every time NULL or infinite: an empty plot on a 1970 axis was written; now a note (an error in Python, as for
    no time column), and the other plots."""
    q = ("SELECT CASE WHEN i % 2 = 0 THEN NULL ELSE 'infinity'::TIMESTAMP END AS ts, pressure, temperature, anomaly "
         "FROM readings")
    note = "no scores-over-time plot: ts is NULL or infinite in every one of the 4320 rows of SELECT"
    code, out, err = invoke("score", db, "valve_ae", q, "--top", "1", "--plots", str(tmp_path / "a"))
    assert code == 0, out + err
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["valve_ae_v1_scores.png"]
    assert f"note: {note}" in err and "choose another column with --time" in err, err
    con = ad_duckdb.connect(db, read_only=True)
    try:
        with pytest.raises(NoTimesError, match=f"^Model 'valve_ae@1': {note}"):
            ad_duckdb.plot_scores_over_time(con, "valve_ae", q, tmp_path / "b")
        rep = ad_duckdb.evaluate(con, "valve_ae", q, label="anomaly", plots_dir=tmp_path / "c")
    finally:
        con.close()
    assert not (tmp_path / "b" / "valve_ae_v1_scores_over_time.png").exists()
    assert [Path(p).name for p in rep.plots] == ["valve_ae_v1_pr_curve.png", "valve_ae_v1_score_hist.png"]
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["valve_ae_v1_pr_curve.png",
                                                                  "valve_ae_v1_score_hist.png"]
    assert [n for n in rep.notes if n.startswith(note)], rep.notes


def test_score_plots_add_the_time_plot_only_for_a_source_with_one_time_column(db: str, tmp_path: Path) -> None:
    code, out, err = invoke("score", db, "valve_ae", "readings", "--top", "1", "--plots", str(tmp_path / "a"))
    assert code == 0, out + err
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["valve_ae_v1_scores.png",
                                                                  "valve_ae_v1_scores_over_time.png"]
    assert f"plot: {tmp_path / 'a' / 'valve_ae_v1_scores_over_time.png'}" in out
    assert imread(tmp_path / "a" / "valve_ae_v1_scores_over_time.png").shape[1] == 1100
    # no time column: as before, one plot and no word about time
    code, out, err = invoke("score", db, "valve_ae", "untimed", "--top", "1", "--plots", str(tmp_path / "b"))
    assert code == 0 and err == "" and "over_time" not in out and "note" not in out, out + err
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["valve_ae_v1_scores.png"]
    # two: a note naming them and --time; --time picks one (also with --into)
    code, out, err = invoke("score", db, "valve_ae", "two_times", "--top", "1", "--plots", str(tmp_path / "c"))
    assert code == 0 and [p.name for p in (tmp_path / "c").iterdir()] == ["valve_ae_v1_scores.png"]
    assert "note: no scores-over-time plot: two_times has 2 date/timestamp columns (ts, day); choose one with --time" in err
    code, out, err = invoke("score", db, "valve_ae", "two_times", "--into", "scored", "--plots", str(tmp_path / "d"),
                            "--time", "DAY")
    assert code == 0 and (tmp_path / "d" / "valve_ae_v1_scores_over_time.png").is_file(), out + err


def test_a_wrong_time_column_fails_before_anything_is_written(db: str, tmp_path: Path) -> None:
    for source, time, says in (
        ("readings", "tss", "time column 'tss' (--time) is not in 'readings'; its date and timestamp columns: ts."),
        ("text_time", "ts", "time column 'ts' of 'text_time' is VARCHAR, not a DATE or TIMESTAMP; score a query that "
                            "casts it, e.g. 'SELECT * REPLACE (CAST(ts AS TIMESTAMP) AS ts) FROM ...'"),
    ):
        code, out, err = invoke("score", db, "valve_ae", source, "--into", "never", "--plots", str(tmp_path / "p"),
                                "--time", time)
        assert code != 0 and says in err, out + err
    code, out, err = invoke("score", db, "valve_ae", "readings", "--top", "1", "--time", "ts")
    assert code != 0 and "--time ts names the column of the scores-over-time plot" in err and "give --plots too" in err
    assert "CLI:" not in err and "time=" not in err and "plots_dir=" not in err, err
    con = duckdb.connect(db, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'never'").fetchall() == [(0,)]
    finally:
        con.close()
    con = ad_duckdb.connect(db, read_only=True)
    try:
        with pytest.raises(BadInputError, match=r"'valve_ae@1': no scores-over-time plot: untimed has no DATE or "
                                                r"TIMESTAMP column; .*name it with time=\."):
            ad_duckdb.plot_scores_over_time(con, "valve_ae", "untimed")
        with pytest.raises(SourceNotFoundError, match="Did you mean"):
            ad_duckdb.plot_scores_over_time(con, "valve_ae", "readings", time="tsx")
    finally:
        con.close()


def test_a_numeric_time_column_gets_a_query_that_runs(db: str, tmp_path: Path) -> None:
    """A time column of epoch seconds (INTEGER) is named with the query that reads it as a time, and that query runs:
    it said CAST(epoch AS TIMESTAMP), which DuckDB refuses for an integer (Unimplemented type for cast)."""
    con = duckdb.connect(db)
    try:
        con.execute("CREATE OR REPLACE TABLE epoch_time AS SELECT epoch(ts)::INTEGER AS t_epoch, pressure, temperature "
                    "FROM readings")
    finally:
        con.close()
    code, out, err = invoke("score", db, "valve_ae", "epoch_time", "--plots", str(tmp_path / "p"), "--time", "t_epoch")
    assert code != 0 and "time column 't_epoch' of 'epoch_time' is INTEGER" in err, out + err
    query = err.split("e.g. '", 1)[1].split("'", 1)[0]
    assert query.endswith(" FROM ..."), err
    code, out, err = invoke("score", db, "valve_ae", query.replace(" FROM ...", " FROM epoch_time"), "--plots",
                            str(tmp_path / "p"), "--time", "t_epoch", "--top", "1")
    assert code == 0 and (tmp_path / "p" / "valve_ae_v1_scores_over_time.png").is_file(), out + err


def test_evaluate_plots_shade_the_labelled_anomalies_over_time(db: str, tmp_path: Path) -> None:
    con = ad_duckdb.connect(db, read_only=True)
    try:
        rep = ad_duckdb.evaluate(con, "valve_ae", "readings", label="anomaly", where="i >= 1440",
                                 plots_dir=tmp_path)
        lm = ad_duckdb.udfs.registry(con).get("valve_ae")
        s = timeplot.series(con, lm, "readings", "ts", "i >= 1440", "anomaly")
    finally:
        con.close()
    assert [Path(p).name for p in rep.plots] == ["valve_ae_v1_pr_curve.png", "valve_ae_v1_score_hist.png",
                                                 "valve_ae_v1_scores_over_time_labelled.png"]
    assert s.rows == 2880 and s.anomalies == 21 and int(s.labelled.sum()) == 21
    fig = timeplot.figure(s, lm.ref, lm.thresholds, "readings WHERE i >= 1440", "ts")
    ax = fig.axes[0]
    (span,) = [p for p in ax.patches if p.get_label().startswith("labelled anomalies")]
    assert span.get_label() == "labelled anomalies (21 rows)"
    x0, x1 = span.get_x(), span.get_x() + span.get_width()
    from matplotlib.dates import num2date

    assert num2date(x0).strftime("%H:%M:%S") == "13:59:30" and num2date(x1).strftime("%H:%M:%S") == "14:20:30"
    assert np.asarray(ax.lines[0].get_xdata())[0] == np.datetime64("2024-03-02T00:00:00")  # the filter kept


def test_score_and_evaluate_time_plots_in_one_folder_keep_each_other(db: str, tmp_path: Path) -> None:
    """`score --plots DIR` and `evaluate --plots DIR` both drew the scores over time into
    <model>_v<version>_scores_over_time.png, so the second silently replaced the first (evaluate's has the labels
    shaded and only its --where rows). score's keeps its name (README, plot_scores_over_time); evaluate's has its own."""
    out_dir = tmp_path / "plots"
    code, out, err = invoke("score", db, "valve_ae", "readings", "--top", "1", "--plots", str(out_dir), "--time", "ts")
    assert code == 0, out + err
    scored = out_dir / "valve_ae_v1_scores_over_time.png"
    before = scored.read_bytes()
    code, out, err = invoke("evaluate", db, "valve_ae", "readings", "--label", "anomaly", "--where", "i >= 1440",
                            "--plots", str(out_dir), "--time", "ts")
    assert code == 0, out + err
    labelled = out_dir / "valve_ae_v1_scores_over_time_labelled.png"
    assert f"plots: {out_dir / 'valve_ae_v1_pr_curve.png'}, {out_dir / 'valve_ae_v1_score_hist.png'}, {labelled}" in out
    assert scored.read_bytes() == before and labelled.is_file()
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "valve_ae_v1_pr_curve.png", "valve_ae_v1_score_hist.png", "valve_ae_v1_scores.png",
        "valve_ae_v1_scores_over_time.png", "valve_ae_v1_scores_over_time_labelled.png"]


@pytest.mark.parametrize("raw", [True, False], ids=["rows", "buckets"])
def test_zoned_times_are_drawn_at_their_instants_in_utc_across_a_daylight_saving_change(db: str, raw: bool) -> None:
    """A TIMESTAMP WITH TIME ZONE was drawn at its wall-clock time in the zone of the machine drawing it: where the
    clocks went back (New York, 2024-11-03 06:00 UTC), an hour of readings fell on the hour before it, the line
    zigzagging between the two, and a plot drawn on another machine put every reading elsewhere. Its instants, in UTC
    (the axis says so), are the same everywhere and one per reading."""
    src = "readings" if raw else "big"
    unit = "MINUTE" if raw else "SECOND"
    q = (f"SELECT TIMESTAMPTZ '2024-11-03 04:00:00+00' + INTERVAL (row_number() OVER (ORDER BY ts) - 1) {unit} "
         f"AS ts, pressure, temperature FROM {src}")
    con = ad_duckdb.connect(db, read_only=True)
    try:
        con.execute("SET GLOBAL TimeZone = 'America/New_York'")  # the zone of a machine in New York, for every cursor
        total = con.execute(f"SELECT count(*) FROM {src}").fetchall()[0][0]
        lm = ad_duckdb.udfs.registry(con).get("valve_ae")
        s = timeplot.series(con, lm, q, "ts")
        fig = timeplot.figure(s, lm.ref, lm.thresholds, "readings", "ts")
    finally:
        con.execute("SET GLOBAL TimeZone = 'UTC'")
        con.close()
    first = np.datetime64("2024-11-03T04:00:00", "us")
    last = first + np.timedelta64(total - 1, "m" if raw else "s")
    t = s.t.astype(np.int64)
    if raw:
        assert s.t.size == total and s.t[0] == first and np.all(np.diff(t) == 60_000_000)
    else:
        width = -(-(int((last - first) / np.timedelta64(1, "us")) + 1) // timeplot.BUCKETS)
        assert s.t.size == timeplot.BUCKETS and np.all(np.diff(t) == width)
        assert first <= s.t[0] < first + np.timedelta64(width, "us") and s.t[-1] <= last
    assert fig.axes[0].get_xlabel() == "ts (UTC)"


@pytest.mark.parametrize("raw", [True, False], ids=["rows", "buckets"])
def test_a_gap_without_readings_breaks_the_line_instead_of_drawing_a_ramp_across_it(db: str, raw: bool) -> None:
    """NAB's rogue_agent_key_hold stops reporting for up to 45 hours at a time: the line joined the readings on each
    side, a ramp from a low score to a high one that looked like a day of rising scores with no reading in it. The
    line breaks at a gap over 10 steps (the legend says how many), and a lone reading between two gaps keeps a dot."""
    src, unit, at = ("readings", "MINUTE", 2000) if raw else ("big", "SECOND", 100000)
    q = (f"SELECT ts + CASE WHEN i >= {at} THEN INTERVAL 2 DAY ELSE INTERVAL 0 DAY END "
         f"+ CASE WHEN i > {at} THEN INTERVAL 2 DAY ELSE INTERVAL 0 DAY END AS ts, pressure, temperature "
         f"FROM (SELECT row_number() OVER (ORDER BY ts) - 1 AS i, * FROM {src})")
    con = ad_duckdb.connect(db, read_only=True)
    try:
        lm = ad_duckdb.udfs.registry(con).get("valve_ae")
        s = timeplot.series(con, lm, q, "ts")
        fig = timeplot.figure(s, lm.ref, lm.thresholds, src, "ts")
    finally:
        con.close()
    ax = fig.axes[0]
    for line in ax.lines[:1 if raw else 2]:
        x = np.asarray(line.get_xdata()).astype("datetime64[us]").astype(np.int64)
        y = np.asarray(line.get_ydata(), dtype=np.float64)
        assert np.isfinite(y).sum() == s.t.size  # every point still drawn
        joined = np.isfinite(y[1:]) & np.isfinite(y[:-1])
        assert np.diff(x)[joined].max() < 86_400_000_000  # no segment spans the two days without readings
        # the reading alone between the two gaps: a dot, as a line of one vertex is not drawn
        lone = np.nonzero(np.isfinite(y) & ~np.r_[False, joined] & ~np.r_[joined, False])[0].tolist()
        assert len(lone) == 1 and list(line.get_markevery()) == lone
    assert any(t.startswith("line broken at 2 gaps of over ") for t in ax.get_legend_handles_labels()[1])


def test_the_legend_of_a_busy_labelled_plot_stays_within_the_figure() -> None:
    """evaluate --plots on ADBench celeba with a time column: the labelled span, two score lines, five thresholds and
    the long '98% of the buckets drawn hold rows above the default threshold (...): not marked' entry in three
    columns made a legend wider than the figure, its first and last entries cut off at both edges."""
    t = (np.datetime64("2026-01-01T00:00:00", "us") + np.arange(600) * np.timedelta64(337, "s")).astype("datetime64[us]")
    rng = np.random.default_rng(0)
    top = 9.0 + rng.exponential(2.0, 600)
    th = {"p90": 5.158, "p95": 6.212, "default": 8.924, "p99": 8.924, "p999": 12.21}
    s = timeplot.Series(t=t, top=top, median=np.full(600, 2.5), labelled=np.ones(600, bool),
                        flagged={"p90": 21395, "p95": 10731, "default = p99": 2154, "p999": 223}, rows=202599,
                        untimed=0, anomalies=4547, per=" per 5.63 min")
    fig = timeplot.figure(s, "celeba_ae@1", th, "SELECT *, TIMESTAMP '2026-01-01' + INTERVAL (id) SECOND AS ...", "ts")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig.set_dpi(110)  # as `write` saves it: text is wider against the figure at 110 dpi than at the default 100
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    legend = fig.axes[0].get_legend()
    box = legend.get_window_extent(canvas.get_renderer())
    texts = [x.get_text() for x in legend.get_texts()]
    assert any("not marked" in x for x in texts) and any("labelled anomalies" in x for x in texts), texts
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width and 0 <= box.y0, (box, fig.bbox)
    # nor does it touch the axis label above it (a fraction of the axes' height below them left the label on its frame)
    label = fig.axes[0].xaxis.label.get_window_extent(canvas.get_renderer())
    assert box.y1 < label.y0, (box, label)


@pytest.mark.parametrize("raw", [True, False], ids=["rows", "buckets"])
def test_rows_all_at_one_time_are_drawn_as_points_on_an_axis_around_that_time(raw: bool) -> None:
    """Today's rows scored alone (`score ... "SELECT * FROM tx WHERE day = current_date" --plots`): every row has one
    date, matplotlib widened the axis to two years either side (2024-2028 for a day of 2026), and the row line ran up
    and down through the rows at that one spot. They are dots, on an axis of a day either side of their time."""
    day = np.datetime64("2026-01-01T00:00:00", "us")
    top = np.linspace(1.0, 14.0, 30) if raw else np.array([14.0])
    s = timeplot.Series(t=np.full(top.size, day), top=top, median=None if raw else np.array([2.0]),
                        labelled=np.zeros(top.size, bool), flagged={"default": 1}, rows=30, untimed=0, anomalies=0,
                        per="" if raw else " of the rows, all at one time")
    fig = timeplot.figure(s, "tiny_ae@1", {"default": 12.55}, "tiny", "d")
    ax = fig.axes[0]
    from matplotlib.dates import date2num

    lo, hi = ax.get_xlim()
    assert lo < date2num(day) < hi and hi - lo <= 2.0, (lo, hi)  # matplotlib's date units are days
    line = ax.lines[0]
    assert line.get_linestyle() == "None" and line.get_marker() not in (None, "None", ""), (line.get_linestyle(),
                                                                                              line.get_marker())


def test_shaded_buckets_say_they_are_times_holding_a_labelled_anomaly() -> None:
    """evaluate --plots on the transactions example (200 labelled anomalies in 20,000 daily rows): 83 of its 90 days
    hold one, so nearly the whole axis was shaded as 'labelled anomalies (200 rows)', which read as most of the
    period being anomalous. The legend says what a shaded span is: a day holding at least one."""
    t = (np.datetime64("2026-01-01T12:00:00", "us") + np.arange(90) * np.timedelta64(1, "D")).astype("datetime64[us]")
    labelled = np.ones(90, bool)
    labelled[::8] = False
    s = timeplot.Series(t=t, top=np.linspace(5, 50, 90), median=np.full(90, 2.0), labelled=labelled,
                        flagged={"default": 200}, rows=20000, untimed=0, anomalies=200, per=" per day")
    ax = timeplot.figure(s, "tx_ae@1", {"default": 9.57}, "transactions", "day").axes[0]
    labels = [p.get_label() for p in ax.patches if "labelled" in (p.get_label() or "")]
    assert labels == ["times holding labelled anomalies (78 of the 90 drawn; 200 rows)"], labels


def test_a_text_column_of_times_is_named_when_no_time_plot_is_drawn(db: str, tmp_path: Path) -> None:
    """A source whose times are text (a CSV's '01.03.2024 00:00' left VARCHAR) got the histogram alone, with no word
    of why there was no plot over time: a note names the column and the query that reads it as times."""
    con = duckdb.connect(db)
    try:
        con.execute("CREATE OR REPLACE TABLE eu_time AS SELECT strftime(ts, '%d.%m.%Y %H:%M') AS ts, pressure, "
                    "temperature FROM readings")
    finally:
        con.close()
    for source, read in (("eu_time", "strptime(ts, '%d.%m.%Y %H:%M')"), ("text_time", "CAST(ts AS TIMESTAMP)")):
        code, out, err = invoke("score", db, "valve_ae", source, "--top", "0", "--plots", str(tmp_path / source))
        assert code == 0, out + err
        assert (f"note: no scores-over-time plot: {source} has no DATE or TIMESTAMP column, but its text column 'ts' "
                f"holds times") in err, err
        assert f"score SELECT * REPLACE ({read} AS ts) FROM \"{source}\" for one" in err, err
        fixed = f"SELECT * REPLACE ({read} AS ts) FROM {source}"
        code, out, err = invoke("score", db, "valve_ae", fixed, "--top", "0", "--plots", str(tmp_path / "fixed"))
        assert code == 0 and (tmp_path / "fixed" / "valve_ae_v1_scores_over_time.png").is_file(), out + err
    code, out, err = invoke("score", db, "valve_ae", "untimed", "--top", "0", "--plots", str(tmp_path / "u"))
    assert code == 0 and err == "", err


def test_a_month_first_text_time_is_read_month_first_once_a_day_above_12_shows_it() -> None:
    """Was: only the first 1000 values were looked at, and a day-first layout won wherever both orders read them, so
    a US log starting '01/02/2024 00:00' (2 January) was offered as strptime(ts, '%d/%m/%Y %H:%M'): 1 February."""
    from ad_duckdb.texttimes import text_time_formats

    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE us AS SELECT strftime(TIMESTAMP '2024-01-02' + INTERVAL (i) MINUTE, '%m/%d/%Y %H:%M') "
                    "AS ts FROM range(20000) r(i)")
        assert text_time_formats(con, "us", ["ts"])["ts"][0] == "%m/%d/%Y %H:%M"
        con.execute("CREATE TABLE eu AS SELECT strftime(TIMESTAMP '2024-01-02' + INTERVAL (i) MINUTE, '%d/%m/%Y %H:%M') "
                    "AS ts FROM range(20000) r(i)")
        assert text_time_formats(con, "eu", ["ts"])["ts"][0] == "%d/%m/%Y %H:%M"
    finally:
        con.close()


def test_a_text_time_whose_days_and_months_read_either_way_says_so(db: str, tmp_path: Path) -> None:
    """Three days of a US log ('03/01/2024' is 1 March) read either way round: the note offered the day-first query
    alone (3 January), with nothing to say that the order was a guess."""
    con = duckdb.connect(db)
    try:
        con.execute("CREATE OR REPLACE TABLE us_time AS SELECT strftime(ts, '%m/%d/%Y %H:%M') AS ts, pressure, "
                    "temperature FROM readings")
    finally:
        con.close()
    code, out, err = invoke("score", db, "valve_ae", "us_time", "--top", "0", "--plots", str(tmp_path))
    assert code == 0, out + err
    assert "strptime(ts, '%d/%m/%Y %H:%M')" in err, err
    assert "strptime(ts, '%m/%d/%Y %H:%M') if its months come first" in err, err


def _date_axis(start: str, days: int) -> tuple[list[str], str]:
    """The x tick labels and the offset text (the date context under the axis' right end) of a plot of one point an
    hour from ``start`` for ``days`` days, as the figure is saved."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    n = days * 24
    t = (np.datetime64(start, "us") + np.arange(n) * np.timedelta64(1, "h")).astype("datetime64[us]")
    s = timeplot.Series(t=t, top=np.linspace(1, 9, n), median=None, labelled=np.zeros(n, bool),
                        flagged={"default": 10}, rows=n, untimed=0, anomalies=0, per="")
    fig = timeplot.figure(s, "mt_ae@1", {"default": 8.5}, "mt", "timestamp")
    fig.set_dpi(110)
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    return [x.get_text() for x in ax.get_xticklabels()], ax.xaxis.get_offset_text().get_text()


def test_a_date_axis_over_several_months_names_their_years_not_the_last_month() -> None:
    """NAB's machine temperature (2 December 2013 to 19 February 2014) was drawn with ticks 'Dec 15 Jan 15 Feb 15'
    and '2014-Feb' under the axis: nothing said December was 2013's, and every day read as one of February 2014. The
    transactions example (January to March 2026) read '2026-Apr'. Ticks naming months take the year(s) as context,
    and the first of January its year, as matplotlib does for ticks of whole months."""
    ticks, offset = _date_axis("2013-12-02T21:00:00", 79)
    assert offset == "2013–2014", (ticks, offset)
    assert "2014" in ticks and "Jan" not in ticks and "Dec" in ticks, ticks
    ticks, offset = _date_axis("2026-01-01T00:00:00", 89)
    assert offset == "2026" and "Feb" in ticks, (ticks, offset)
    # within one month the ticks are days alone: the offset still names the month
    ticks, offset = _date_axis("2024-03-03T00:00:00", 20)
    assert offset == "2024-Mar" and "Mar" not in ticks, (ticks, offset)


def test_a_log_score_axis_over_time_reads_in_plain_numbers() -> None:
    """The credit-card scores over time (1 to 600: a log axis) were labelled 10⁰, 10¹, 10² where the histograms of
    the same scores read 1, 2, 5, 10, ... 500: values to give `threshold --method manual --value`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    t = (np.datetime64("2013-09-01T00:00:00", "us") + np.arange(300) * np.timedelta64(5, "m")).astype("datetime64[us]")
    top = np.geomspace(1.2, 600.0, 300)
    s = timeplot.Series(t=t, top=top, median=None, labelled=np.zeros(300, bool), flagged={"default": 30}, rows=300,
                        untimed=0, anomalies=0, per="")
    fig = timeplot.figure(s, "card_ae@1", {"default": 38.86}, "cards", "ts")
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    lo, hi = ax.get_ylim()
    shown = [(x.get_position()[1], x.get_text()) for x in ax.get_yticklabels() if x.get_text()]
    shown = [(v, text) for v, text in shown if lo <= v <= hi]
    assert len(shown) >= 3 and all(text == f"{v:g}" for v, text in shown), shown
    assert "100" in [text for _, text in shown], shown


def test_a_log_score_axis_over_time_is_labelled_as_the_histograms_are() -> None:
    """NAB machine_temperature: bucket highs of 1.5-400 on a log axis were labelled 10 and 100 alone, so where its
    bottom lay (1? 2?) and the thresholds between (4.3, 5.1, 6.9, 13) could not be read off it. Its ticks are the
    histograms' score ticks: 1, 2, 5 of each decade while that gives at most ten."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    t = (np.datetime64("2026-01-01T00:00:00", "us") + np.arange(600) * np.timedelta64(1, "h")).astype("datetime64[us]")
    top = np.clip(np.exp(np.random.default_rng(0).normal(1.5, 0.5, 600)), 1.5, 60)
    top[[100, 300]] = [1.5, 400.0]
    s = timeplot.Series(t=t, top=top, median=None, labelled=np.zeros(600, bool), flagged={"default": 10}, rows=600,
                        untimed=0, anomalies=0, per="")
    fig = timeplot.figure(s, "mt_ae@1", {"default": 6.894, "p90": 4.251}, "mt", "ts")
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    shown = [x.get_text() for x in ax.get_yticklabels() if x.get_text() and lo <= x.get_position()[1] <= hi]
    assert shown == ["2", "5", "10", "20", "50", "100", "200", "500"], shown


def test_rows_of_one_date_get_an_axis_of_days_not_hours() -> None:
    """`score warehouse.duckdb tx_ae "SELECT * FROM transactions WHERE transaction_id < 6" --plots`: five rows of one
    DATE, drawn on an axis of a day either side ticked 06:00, 12:00, 18:00, hours a DATE column does not have. Rows
    all at midnight are ticked in days; rows at one time of day keep the hours that place them."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for at, hours in (("2026-01-01T00:00:00", False), ("2026-01-01T10:15:00", True)):
        day = np.datetime64(at, "us")
        s = timeplot.Series(t=np.full(5, day), top=np.linspace(2.2, 2.8, 5), median=None, labelled=np.zeros(5, bool),
                            flagged={"default": 0}, rows=5, untimed=0, anomalies=0, per="")
        fig = timeplot.figure(s, "tx_ae@1", {"default": 9.573}, "transactions", "day")
        FigureCanvasAgg(fig).draw()
        labels = [x.get_text() for x in fig.axes[0].get_xticklabels() if x.get_text()]
        assert labels and any(":" in x for x in labels) == hours, labels
        if not hours:  # the rows' day named in full, not as the year matplotlib labels a first of January with
            assert "2026-01-01" in labels, labels


def test_the_time_plot_takes_its_score_scale_from_every_row_as_the_histogram_does(db: str) -> None:
    """Each plot chose a log or linear score axis from the scores it drew: the histogram from every row, the plot
    over time from each bucket's highest. Scores of 0.08-185 (a histogram in log) whose bucket highs were 2.5-185
    drew over time on a linear axis, so one model's two plots of one run read on different scales. The plot over
    time takes the range of every scored row (untimed ones too), as the histogram does."""
    t = (np.datetime64("2026-01-01T00:00:00", "us") + np.arange(600) * np.timedelta64(1, "m")).astype("datetime64[us]")
    top = np.geomspace(2.52, 185.0, 600)
    th = {"p90": 15.5}
    assert not _log_axis(top, th) and _log_axis(np.r_[0.078, top], th)
    s = timeplot.Series(t=t, top=top, median=np.full(600, 1.0), labelled=np.zeros(600, bool), flagged={"p90": 60},
                        rows=6000, untimed=0, anomalies=0, per=" per 1 min", score_range=(0.078, 185.0))
    assert timeplot.figure(s, "m@1", th, "t", "ts").axes[0].get_yscale() == "log"
    # the range is every scored row's, those without a time included (the histogram counts them)
    con = ad_duckdb.connect(db, read_only=True)
    try:
        src = "SELECT CASE WHEN temperature > 10 THEN NULL ELSE ts END AS ts, pressure, temperature FROM big"
        lm = ad_duckdb.udfs.registry(con).get("valve_ae")
        got = timeplot.series(con, lm, src, "ts")
        lo, hi = con.execute(f"SELECT min(s), max(s) FROM (SELECT anomaly_score('valve_ae', pressure, temperature) AS s "
                             f"FROM ({src}))").fetchall()[0]
        raw = timeplot.series(con, lm, f"SELECT * FROM ({src}) WHERE ts < TIMESTAMP '2024-01-01 00:30:00' OR ts IS NULL",
                              "ts")
    finally:
        con.close()
    assert got.untimed == 1 and got.score_range == pytest.approx((lo, hi), rel=1e-6)
    assert got.top.max() < hi / 2  # the untimed outlier is not drawn, but sets the scale
    assert raw.per == "" and raw.untimed == 1 and raw.top.max() < hi / 2
    assert raw.score_range is not None and raw.score_range[1] == pytest.approx(hi, rel=1e-6)


def test_long_threshold_names_in_the_time_plot_legend_are_wrapped_whole() -> None:
    """The legend cut threshold names at 40 characters: two chosen on labels, named alike up to their last words,
    read the same. They are wrapped whole within the figure."""
    t = (np.datetime64("2026-01-01T00:00:00", "us") + np.arange(300) * np.timedelta64(5, "m")).astype("datetime64[us]")
    th = {"max_f1_on_the_validation_split_of_march_2026_by_the_fraud_team": 3.0,
          "max_f1_on_the_validation_split_of_march_2026_by_the_risk_team": 4.0, "default": 5.0}
    s = timeplot.Series(t=t, top=np.linspace(1, 8, 300), median=None, labelled=np.zeros(300, bool),
                        flagged={k: 10 for k in th}, rows=300, untimed=0, anomalies=0, per="")
    fig = timeplot.figure(s, "m@1", th, "t", "ts")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig.set_dpi(110)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    legend = fig.axes[0].get_legend()
    texts = [x.get_text().replace("\n", "").replace(" ", "") for x in legend.get_texts()]  # broken mid-word too
    assert all(any(x.startswith(f"{k}>") for x in texts) for k in th), texts
    box = legend.get_window_extent(canvas.get_renderer())
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width and 0 <= box.y0, (box, fig.bbox)


def test_evaluate_draws_the_lowest_cost_cut_over_time_in_the_histograms_colour(db: str, tmp_path: Path) -> None:
    """evaluate --miss-cost --alarm-cost drew its 'lowest cost' cut in the histogram by label but not over time, and
    as colours go by each threshold's place among them, every threshold above it had one colour in the histogram and
    another over time. Both draw the same thresholds in the same colours."""
    from matplotlib.colors import to_hex

    con = ad_duckdb.connect(db, read_only=True)
    try:
        rep = ad_duckdb.evaluate(con, "valve_ae", "readings", label="anomaly", plots_dir=str(tmp_path), miss_cost=400,
                                 alarm_cost=5)
        lm = ad_duckdb.udfs.registry(con).get("valve_ae")
        marked = {**lm.thresholds, "lowest cost": rep.costs.best["value"]}
        over_time = timeplot.plot(con, lm, "readings", "ts", None, "readings", label="anomaly", thresholds=marked)
        s = con.execute("SELECT anomaly_score('valve_ae', pressure, temperature) AS score, anomaly FROM readings"
                        ).fetchnumpy()
    finally:
        con.close()
    written = next(p for p in rep.plots if p.endswith("_scores_over_time_labelled.png"))
    over_time.savefig(tmp_path / "expected.png", dpi=110, format="png")  # as `write` saves it
    assert np.array_equal(imread(written), imread(tmp_path / "expected.png"))  # evaluate drew these thresholds
    hist = label_hist_figure(s["score"], s["anomaly"] == 1, lm.ref, marked)
    in_hist = sorted(to_hex(ln.get_color()) + str(ln.get_linestyle()) for ln in hist.axes[0].lines)
    groups = {names for names, _ in _threshold_groups(marked)}
    lines = [ln for ln in over_time.axes[0].get_lines() if ln.get_label().split(" > ")[0] in groups]
    texts = [ln.get_label() for ln in lines]
    assert any("lowest cost" in t.split(" > ")[0].split(" = ") for t in texts), texts
    assert sorted(to_hex(ln.get_color()) + str(ln.get_linestyle()) for ln in lines) == in_hist


@pytest.mark.parametrize("gap", [False, True], ids=["week", "two_stretches"])
def test_rows_sharing_their_times_are_drawn_a_point_per_time_not_a_line_through_every_row(db: str, gap: bool) -> None:
    """Last week's daily rows of 60 valves (`score ... "SELECT * FROM tx WHERE day >= ..." --plots`, under the 5,000
    rows drawn one by one): the line ran up and down through each day's 60 rows and then from the last row read of a
    day to the first of the next, a slope that was only the rows' order; and as most steps between rows were 0, no
    gap was ever broken, so a stretch in January and one in March were joined by a line across February. Rows that
    share their times are drawn as the larger sets are: each time's highest and median score, at that time."""
    days = "day < DATE '2024-01-04' OR day >= DATE '2024-03-01'" if gap else "day >= DATE '2024-03-24'"
    q = f"SELECT * FROM daily WHERE {days}"
    con = ad_duckdb.connect(db, read_only=True)
    try:
        want = con.execute(f"SELECT day::TIMESTAMP AS t, max(s) AS top, median(s) AS med FROM (SELECT day, anomaly_score("
                           f"'valve_ae', pressure, temperature) AS s FROM ({q})) GROUP BY t ORDER BY t").fetchnumpy()
        n = con.execute(f"SELECT count(*) FROM ({q})").fetchall()[0][0]
        fig = ad_duckdb.plot_scores_over_time(con, "valve_ae", q)
    finally:
        con.close()
    assert n <= timeplot.RAW_ROWS and n == 60 * want["t"].size
    highest, median = fig.axes[0].lines[0], fig.axes[0].lines[1]
    assert highest.get_label() == "highest score per day" and median.get_label() == "median score per day"
    for line, expected in ((highest, want["top"]), (median, want["med"])):
        x = np.asarray(line.get_xdata()).astype("datetime64[us]")
        y = np.asarray(line.get_ydata(), dtype=np.float64)
        drawn = np.isfinite(y)
        np.testing.assert_array_equal(x[drawn], np.asarray(want["t"]).astype("datetime64[us]"))
        np.testing.assert_allclose(y[drawn], expected, rtol=1e-6)
        joined = drawn[1:] & drawn[:-1]
        steps = np.diff(x.astype(np.int64))[joined]
        assert steps.max() == 86_400_000_000  # one day to the next: no segment across the weeks without rows
    assert fig.axes[0].get_title().endswith(f"({n} rows)")


def test_two_times_are_two_dots_not_a_line_between_them() -> None:
    """Three rows of 1 January and one of 10 February (a handful of ids looked up): one straight line from the first
    day's score to the last's read as forty days of steadily rising scores, though no row lies between them. With
    two points there is no usual step to tell a gap by: each is a dot, unjoined."""
    t = np.array(["2026-01-01", "2026-02-10"], dtype="datetime64[D]").astype("datetime64[us]")
    s = timeplot.Series(t=t, top=np.array([2.7, 41.0]), median=np.array([2.4, 41.0]), labelled=np.zeros(2, bool),
                        flagged={"default": 1}, rows=4, untimed=0, anomalies=0, per=" per day")
    ax = timeplot.figure(s, "tx_ae@1", {"default": 9.57}, "tx", "day").axes[0]
    for line in ax.lines[:2]:
        assert line.get_linestyle() == "None" and line.get_marker() not in (None, "None", ""), line.get_label()


def test_a_source_of_no_rows_is_said_to_have_none_not_null_times(db: str) -> None:
    """A day with no rows yet (`score ... "SELECT * FROM readings WHERE ts > now()" --plots`) was told its time
    column 'is NULL or infinite in every one of the 0 rows' and to choose another column or fill it: there is
    nothing to fill. It says the source has no rows."""
    con = ad_duckdb.connect(db, read_only=True)
    try:
        with pytest.raises(NoTimesError) as e:
            ad_duckdb.plot_scores_over_time(con, "valve_ae", "SELECT * FROM readings WHERE false")
    finally:
        con.close()
    said = str(e.value)
    assert "has no rows" in said and "NULL or infinite" not in said and "fill it" not in said, said
