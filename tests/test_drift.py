"""The note on scored rows that moved away from the training data (``ad_duckdb.drift``): Python's score, top_scored
and plot_scores warn, the CLI's score prints it once as a note, evaluate reports it; an ordinary anomaly rate does not."""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb import api, drift, udfs
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import AdDuckDBWarning

from conftest import FAST

MOVED = r"Columns that moved, largest first: 'flow' \(\d+\.\d+% of the rows with a value below its training range"


def _pump(con: duckdb.DuckDBPyConnection, table: str, n: int, seed: int, flow: float = 122.0,
          planted: float = 0.0) -> None:
    """A pump log: flow, pressure and temperature moving together; ``flow`` its operating point; ``planted``: the
    share of rows whose pressure is pushed far off (labelled 1)."""
    rng = np.random.default_rng(seed)
    load = rng.normal(0.0, 1.0, n)
    f = flow + 2.0 * load + rng.normal(0.0, 0.5, n)
    p = 3.0 + 0.2 * load + rng.normal(0.0, 0.05, n)
    t = 60.0 + 1.5 * load + rng.normal(0.0, 0.3, n)
    label = np.zeros(n, dtype=np.int64)
    bad = rng.choice(n, int(round(planted * n)), replace=False)
    p[bad] += rng.choice([-1.0, 1.0], len(bad)) * rng.uniform(1.5, 3.0, len(bad))
    label[bad] = 1
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT unnest(?) AS flow, unnest(?) AS pressure, "
                "unnest(?) AS temperature, unnest(?)::INTEGER AS label",
                [f.tolist(), p.tolist(), t.tolist(), label.tolist()])


@pytest.fixture(scope="module")
def pump_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A file database with pump_ae trained on a pump log at a flow of 122; table moved runs at a flow of 32,
    table planted at 122 with 3% of its rows' pressure pushed far off."""
    path = str(tmp_path_factory.mktemp("drift") / "pump.duckdb")
    con = ad_duckdb.connect(path)
    try:
        _pump(con, "pump", 3000, seed=0)
        ad_duckdb.train(con, "pump_ae", "pump", features=["flow", "pressure", "temperature"], **FAST)
        _pump(con, "moved", 2000, seed=1, flow=32.0)
        _pump(con, "planted", 2000, seed=2, planted=0.03)
    finally:
        con.close()
    return path


@pytest.fixture
def pump(pump_db: str) -> Iterator[duckdb.DuckDBPyConnection]:
    con = ad_duckdb.connect(pump_db)
    yield con
    con.close()


def test_score_of_moved_rows_names_the_column_that_moved(pump: duckdb.DuckDBPyConnection) -> None:
    with pytest.warns(AdDuckDBWarning, match=MOVED) as rec:
        out = ad_duckdb.score(pump, "pump_ae", "moved")
    assert out.num_rows == 2000  # the scores are returned as before
    msg = str(rec[0].message)
    assert "Scoring with 'pump_ae@1': " in msg
    assert "100.00% of the 2000 rows of 'moved' score above the model's default threshold" in msg
    assert "which flags 1.00% of its training rows" in msg
    assert "at least 5x that share, and 20.00%, of 500 or more rows" in msg
    assert re.search(r"median 3[12]\.\d+ against 12[12]\.\d+ in training", msg), msg
    assert "ad_duckdb.train(..., where=...)" in msg and "check 'flow' at its source" in msg
    # the columns that stayed are not named
    assert "'pressure'" not in msg and "'temperature'" not in msg
    assert rec[0].filename == __file__  # points at the caller's line


def test_score_into_warns_after_writing(pump: duckdb.DuckDBPyConnection) -> None:
    with pytest.warns(AdDuckDBWarning, match=MOVED):
        n = ad_duckdb.score(pump, "pump_ae", "moved", into="moved_scores", replace=True, outputs=["anomaly_score"])
    assert n == 2000
    assert pump.execute("SELECT count(*) FROM moved_scores").fetchall() == [(2000,)]


@pytest.mark.parametrize("call", ["score", "top_scored", "plot_scores"])
def test_no_note_on_ordinary_anomalies(pump: duckdb.DuckDBPyConnection, call: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", AdDuckDBWarning)
        if call == "score":
            flagged = ad_duckdb.score(pump, "pump_ae", "planted").column("is_anomaly").to_pylist()
            assert 0.02 < sum(flagged) / len(flagged) < 0.2  # anomalies flagged, at an ordinary rate
        elif call == "top_scored":
            api.top_scored(pump, "pump_ae", "planted", 5)
        else:
            ad_duckdb.plot_scores(pump, "pump_ae", "planted")


def test_too_few_rows_give_no_note(pump: duckdb.DuckDBPyConnection) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", AdDuckDBWarning)
        flagged = ad_duckdb.score(pump, "pump_ae", f"SELECT * FROM moved LIMIT {drift.MIN_ROWS - 1}")
    assert all(flagged.column("is_anomaly").to_pylist())  # every row flagged, but too few rows to say why


def test_top_scored_and_plot_scores_warn_on_moved_rows(pump: duckdb.DuckDBPyConnection) -> None:
    with pytest.warns(AdDuckDBWarning, match=MOVED):
        api.top_scored(pump, "pump_ae", "moved", 3)
    with pytest.warns(AdDuckDBWarning, match=MOVED):
        ad_duckdb.plot_scores(pump, "pump_ae", "moved")


def test_sql_functions_note_the_column_once(pump: duckdb.DuckDBPyConnection, pump_db: str) -> None:
    """They stayed silent; now a batch's moved column is noted once per connection (batchdrift), and a note made an
    error (warnings as errors) does not fail the query."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AdDuckDBWarning)
        n = pump.execute("SELECT count(*) FILTER (WHERE is_anomaly('pump_ae', flow, pressure, temperature)) "
                         "FROM moved").fetchall()[0][0]
    assert n == 2000
    said = [str(w.message) for w in caught if "training range" in str(w.message)]
    assert len(said) == 1 and "'flow'" in said[0] and "'pressure'" not in said[0], said
    fresh = ad_duckdb.connect(pump_db)  # its note not said yet
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", AdDuckDBWarning)
            assert len(fresh.execute("SELECT anomaly_score('pump_ae', flow, pressure, temperature) FROM moved"
                                     ).fetchall()) == 2000
    finally:
        fresh.close()


def test_cli_score_prints_the_note_once(pump_db: str, tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["score", pump_db, "pump_ae", "moved", "--top", "3", "--plots", str(tmp_path)],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    notes = [line for line in res.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1, res.stderr  # --plots reads the rows again: the same note is not repeated
    assert "'flow'" in notes[0] and "median 3" in notes[0]
    res = CliRunner().invoke(cli, ["score", pump_db, "pump_ae", "moved", "--into", "moved_cli", "--replace"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "wrote 2000 scored rows to moved_cli" in res.stdout
    assert "note: Scoring with 'pump_ae@1': " in res.stderr and "'flow'" in res.stderr
    res = CliRunner().invoke(cli, ["score", pump_db, "pump_ae", "planted", "--top", "3"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "note:" not in res.stderr


def test_evaluate_notes_moved_normal_rows(pump: duckdb.DuckDBPyConnection, pump_db: str) -> None:
    pump.execute("CREATE OR REPLACE TABLE moved_lab AS SELECT * FROM moved UNION ALL "
                 "(SELECT flow, pressure + 3, temperature, 1 FROM moved LIMIT 40)")
    rep = ad_duckdb.evaluate(pump, "pump_ae", "moved_lab", label="label")
    moved = [n for n in rep.notes if "moved away" in n]
    assert len(moved) == 1
    assert "100.00% of the 2000 rows labelled normal (0) score above" in moved[0]
    assert "'flow'" in moved[0]
    rep = ad_duckdb.evaluate(pump, "pump_ae", "planted", label="label")
    assert not [n for n in rep.notes if "moved away" in n]
    pump.close()
    res = CliRunner().invoke(cli, ["evaluate", pump_db, "pump_ae", "moved_lab", "--label", "label"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "note: " in res.stdout and "labelled normal (0)" in res.stdout and "'flow'" in res.stdout


def test_columns_beyond_the_few_named_are_counted(pump: duckdb.DuckDBPyConnection,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drift, "MAX_COLUMNS", 1)
    src = "SELECT flow, pressure + 5 AS pressure, temperature - 30 AS temperature FROM moved"
    with pytest.warns(AdDuckDBWarning, match="Columns that moved, largest first: '") as rec:
        ad_duckdb.score(pump, "pump_ae", src)
    assert "; and 2 more columns. If these values are normal now" in str(rec[0].message)


def test_a_mostly_null_column_gives_its_share_outside_of_the_rows_with_a_value(pump: duckdb.DuckDBPyConnection) -> None:
    """60% of the moved rows have no flow: every flow they have is outside the training range, which the note said as
    40% of the rows (the NULL ones counted as inside); it says 100% of the rows with a value, and the NULL share."""
    src = "SELECT CASE WHEN row_number() OVER () % 5 < 3 THEN NULL ELSE flow END AS flow, pressure, temperature FROM moved"
    with pytest.warns(AdDuckDBWarning, match="Columns that moved") as rec:
        ad_duckdb.score(pump, "pump_ae", src, outputs=["anomaly_score"])
    msg = str(rec[0].message)
    assert "'flow' (100.00% of the rows with a value below its training range" in msg, msg
    assert re.search(r"; 60\.\d\d% of the rows NULL\)", msg), msg


def test_a_model_without_a_default_threshold_notes_by_the_one_it_names(pump_db: str, tmp_path: Path) -> None:
    """A removed 'default' threshold silenced the note: it goes by the largest stored quantile threshold, then by the
    training scores' 99% point, and says which."""
    path = str(tmp_path / "copy.duckdb")
    shutil.copy(pump_db, path)
    con = ad_duckdb.connect(path)
    try:
        con.execute("DELETE FROM ad_thresholds WHERE threshold_name = 'default'")
        ad_duckdb.refresh(con)
        p999 = udfs.registry(con).get("pump_ae").thresholds["p999"]
        with pytest.warns(AdDuckDBWarning, match=MOVED) as rec:
            ad_duckdb.score(con, "pump_ae", "moved", outputs=["anomaly_score"])
        msg = str(rec[0].message)
        assert (f"of the 2000 rows of 'moved' score above the model's threshold 'p999' (it has no 'default' "
                f"threshold) ({p999:.6g}), which flags") in msg, msg
        con.execute("DELETE FROM ad_thresholds")
        ad_duckdb.refresh(con)
        with pytest.warns(AdDuckDBWarning, match=MOVED) as rec:
            ad_duckdb.plot_scores(con, "pump_ae", "moved")
        msg = str(rec[0].message)
        assert "score above the 99% point of the model's training scores (it has no 'default' or p90 ... p999 " \
               "threshold)" in msg, msg
        assert "which flags 1.00% of its training rows" in msg, msg
    finally:
        con.close()


def test_the_columns_moved_are_judged_on_every_batch_alike(pump: duckdb.DuckDBPyConnection) -> None:
    """The sample took about 1024 rows of each batch, so a short last batch counted in full: 3000 rows in range and
    then 2000 at another flow, read in batches of 4096, said 'flow' moved with 61% of the rows outside its range (the
    last 904 rows, all outside, were half the sample). It is 40%, and the flow median is where it was."""
    src = ("SELECT flow, pressure, temperature FROM (SELECT *, 0 AS part FROM pump UNION ALL "
           "SELECT *, 1 AS part FROM moved) ORDER BY part")
    with pytest.warns(AdDuckDBWarning, match="of the 5000 rows") as rec:
        ad_duckdb.score(pump, "pump_ae", src, outputs=["anomaly_score"], batch_rows=4096)
    msg = str(rec[0].message)
    assert "No column's median is far from its training median" in msg, msg


def test_the_sample_weighs_every_row_alike_whatever_the_batches(pump: duckdb.DuckDBPyConnection,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows seen in batches of any size are sampled at one stride over all of them, thinned as it grows."""
    monkeypatch.setattr(drift, "SAMPLE_ROWS", 1000)
    lm = udfs.registry(pump).get("pump_ae")
    for sizes in ([5000], [4096, 904], [1, 2047, 3, 2949], [700] * 7 + [100]):
        tally = drift.DriftTally(lm)
        start = 0
        for n in sizes:
            X = np.arange(start, start + n, dtype=np.float64)[:, None].repeat(3, axis=1)
            tally.add(X, np.zeros(n))
            start += n
        kept = np.concatenate(tally._sample)[:, 0]
        assert kept[0] == 0 and 500 <= len(kept) <= 1000, (sizes, len(kept))
        assert len(set(np.diff(kept).tolist())) == 1, (sizes, kept)


def test_the_training_range_of_an_unlabelled_model_is_said_to_be_its_middle_values() -> None:
    """Unlabelled training takes the range term's bounds from the middle 99% of the training values (the anomalies
    among them lie outside), but the note called them "its training range 9.99 to 33" of counts that ran from 2 to
    400 in the very rows trained on: a number the user could check and find wrong. With where= (rows known normal)
    the bounds are every value's, and said so plainly."""
    rng = np.random.default_rng(0)
    con = ad_duckdb.connect()
    try:
        x = rng.normal(100.0, 5.0, 3000)
        x[:10] = 400.0  # a few anomalies among the training rows (under 0.5%)
        y = x * 2 + rng.normal(0.0, 1.0, 3000)
        con.execute("CREATE TABLE t AS SELECT unnest(?) AS x, unnest(?) AS y, 0 AS label", [x.tolist(), y.tolist()])
        con.execute("CREATE TABLE moved AS SELECT x + 1000 AS x, y + 2000 AS y FROM t")
        hi = con.execute("SELECT max(x) FROM t").fetchall()[0][0]
        for name, extra, middle in (("u", {}, True), ("n", {"where": "label = 0"}, False)):
            ad_duckdb.train(con, name, "t", features=["x", "y"], **FAST, **extra)
            with pytest.warns(AdDuckDBWarning, match="Columns that moved") as rec:
                ad_duckdb.score(con, name, "moved")
            msg = next(str(w.message) for w in rec if "Columns that moved" in str(w.message))
            upper = float(re.search(r"'x' \(.*?above its training range[^)]*? to ([\d.e+-]+)", msg).group(1))
            if middle:
                assert upper < hi and "the middle 99% of its training values" in msg, msg
            else:
                assert upper == pytest.approx(hi, rel=1e-3) and "middle" not in msg, msg
    finally:
        con.close()


def test_a_note_made_an_error_after_the_scores_are_written_says_they_are(pump_db: str, tmp_path: Path) -> None:
    # Before: a nightly `score --into --append` run with PYTHONWARNINGS=error::UserWarning (stop on a note) exited 1
    # on the note on moved rows, which comes after the commit, and its Error: line did not say that the scores were
    # stored: the scheduler's retry of the "failed" job added the same rows a second time.
    import os
    import subprocess
    import sys

    from conftest import ROOT

    path = tmp_path / "strict.duckdb"
    shutil.copy(pump_db, path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "error::UserWarning"}

    def strict(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ad_duckdb.cli", "score", str(path), "pump_ae", "moved",
                               "--quiet", *args], capture_output=True, text=True, timeout=300, env=env,
                              stdin=subprocess.DEVNULL)

    for args, said in [(("--into", "strict_scores"), "strict_scores was written (2000 rows, model pump_ae@1)"),
                       (("--into", "strict_scores", "--append"),
                        "2000 scored rows were added to strict_scores (now 4000 rows, model pump_ae@1)")]:
        p = strict(*args)
        line = p.stderr.strip()
        assert p.returncode == 1 and line.startswith("Error: Scoring with 'pump_ae@1': ") and "\n" not in line, (
            args, p.stderr)
        assert "PYTHONWARNINGS" in line and said in line, (args, line)
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM strict_scores").fetchall() == [(4000,)]
    finally:
        con.close()


def test_rows_that_moved_without_crossing_the_threshold_in_numbers_get_the_psi_note(
        pump: duckdb.DuckDBPyConnection) -> None:
    """The note came only once 20% of the rows scored above the default threshold: a pump whose flow ran 3 units
    higher (1.5 of its spreads, every row) had a few percent flagged and no word. The population stability index of
    the scores over the training scores' deciles says it, with the column whose median moved; fresh rows of the
    training's own kind stay silent."""
    _pump(pump, "fresh", 2000, seed=3)
    _pump(pump, "higher", 2000, seed=4, flow=125.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AdDuckDBWarning)
        ad_duckdb.score(pump, "pump_ae", "fresh")
    with pytest.warns(AdDuckDBWarning, match="population stability index") as rec:
        flagged = ad_duckdb.score(pump, "pump_ae", "higher").column("is_anomaly").to_pylist()
    assert sum(flagged) / len(flagged) < drift.MIN_SHARE  # the first rule alone stays silent
    msg = str(rec[0].message)
    assert "the scores of the 2000 rows of 'higher' are distributed unlike the training rows'" in msg, msg
    psi = float(re.search(r"population stability index (\d+\.\d+)", msg).group(1))  # type: ignore[union-attr]
    assert psi >= drift.MIN_PSI
    assert re.search(r"'flow' \(median 12[45](\.\d+)? against 12[12]\.\d+ in training, \+\d\.\d\d spreads\)", msg), msg
    assert "'pressure'" not in msg and "'temperature'" not in msg


def test_the_moved_columns_say_which_way_how_far_and_what_to_check() -> None:
    """'outside its training range 19.43 to 3816; median 2.594e+04 against 259.4 in training' left the reader to
    work out that every amount had grown a hundredfold, and the fix said 'check the column's units and source' of
    no column in particular: the note says above or below, the factor, names the columns to check, and for a
    power of ten the query that converts the column back."""
    rng = np.random.default_rng(0)
    con = ad_duckdb.connect()
    try:
        amount = rng.lognormal(4, 0.5, 3000)
        count = rng.poisson(20, 3000).astype(float) + 1
        con.execute("CREATE TABLE t AS SELECT unnest(?) AS amount, unnest(?) AS count", [amount.tolist(), count.tolist()])
        ad_duckdb.train(con, "m", "t", features=["amount", "count"], **FAST)
        con.execute("CREATE TABLE cents AS SELECT amount * 100 AS amount, count FROM t")
        with pytest.warns(AdDuckDBWarning, match="Columns that moved") as rec:
            ad_duckdb.score(con, "m", "cents", outputs=["anomaly_score"])
        msg = next(str(w.message) for w in rec if "Columns that moved" in str(w.message))
        assert "of the rows with a value above its training range" in msg, msg
        assert re.search(r"median [\d.e+]+ against [\d.]+ in training \((99\.\d|100|101)x\)", msg), msg
        assert "check 'amount' at its source" in msg, msg
        assert "looks like other units" in msg and "(amount / 100 AS amount)" in msg, msg
        assert "'count'" not in msg, msg  # the column that stayed is not named
        # shrunk by a third: below, as a fraction, no units hint for a factor unlike a power of ten
        con.execute("CREATE TABLE small AS SELECT amount / 3 AS amount, count / 3 AS count FROM t")
        with pytest.warns(AdDuckDBWarning, match="Columns that moved") as rec:
            ad_duckdb.score(con, "m", "small", outputs=["anomaly_score"])
        msg = next(str(w.message) for w in rec if "Columns that moved" in str(w.message))
        assert "below its training range" in msg and "(1/3x)" not in msg and "(1/3)" in msg, msg
        assert "check 'count' at its source" in msg, msg
        assert "other units" not in msg, msg
    finally:
        con.close()
