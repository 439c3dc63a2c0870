"""Sample weights of labelled rows (evaluate / set_threshold weight=, CLI --weight): each row counts as its weight,
as scikit-learn's metrics with sample_weight; intervals on Kish's effective sizes; bad weights refused by name."""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score, roc_auc_score

import ad_duckdb
from ad_duckdb import intervals, thresholds, weights
from ad_duckdb.auc import auc_pr, auc_roc, curve_auc_roc
from ad_duckdb.cli import cli
from ad_duckdb.confusion import confusion
from ad_duckdb.numbertext import count_text
from ad_duckdb.pairedauc import PAIRED_DELONG, paired_auc_roc

from conftest import FAST

# the rows: 1200 normal rows of 50 feature values (so scores tie in runs), 40 anomalies breaking b's law, and 10
# anomalies that copy normal rows (ties across the classes); normal rows sampled 1 in 50 (weight 50), a sixth of
# them 1 in 33.5, anomalies all kept (weight 1), and 20 normal rows given weight 0
ROWS = """
CREATE TABLE lab AS
SELECT range AS id, (range % 50)::DOUBLE AS a, (range % 50) * 2.0 + (range % 7) / 7.0 AS b, 0 AS y,
       CASE WHEN range < 20 THEN 0 WHEN range % 6 = 0 THEN 33.5 ELSE 50 END AS w
FROM range(1200)
UNION ALL
SELECT 5000 + range, (range % 50)::DOUBLE, 100.0 - (range % 50) * 2.0, 1, 1 FROM range(40)
UNION ALL
SELECT 6000 + range, (range % 50)::DOUBLE, (range % 50) * 2.0 + (range % 7) / 7.0, 1, 1 FROM range(10)
"""


def _trained(con: duckdb.DuckDBPyConnection) -> None:
    """Table t of 3000 rows (b follows a) and model m trained on it."""
    con.execute("CREATE TABLE t AS SELECT (range % 50)::DOUBLE AS a, (range % 50) * 2.0 + (range % 7) / 7.0 AS b "
                "FROM range(3000)")
    ad_duckdb.train(con, "m", "t", features=["a", "b"], **FAST)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = str(tmp_path_factory.mktemp("weights") / "w.duckdb")
    con = ad_duckdb.connect(path)
    try:
        _trained(con)
        con.execute(ROWS)
    finally:
        con.close()
    yield path


@pytest.fixture
def con(db: str) -> Iterator[duckdb.DuckDBPyConnection]:
    c = ad_duckdb.connect(db)
    try:
        yield c
    finally:
        c.close()


def _scored(con: duckdb.DuckDBPyConnection) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s, y, w = con.execute("SELECT anomaly_score('m', a, b), y, w FROM lab").fetchnumpy().values()
    return np.asarray(s, dtype=np.float64), np.asarray(y), np.asarray(w, dtype=np.float64)


def test_weighted_evaluate_equals_scikit_learns_sample_weight(con: duckdb.DuckDBPyConnection) -> None:
    s, y, w = _scored(con)
    assert len(np.unique(s)) < len(s) / 2 and np.isin(s[y == 1], s[y == 0]).sum() >= 10  # ties, also across classes
    rep = ad_duckdb.evaluate(con, "m", "lab", label="y", weight="w")
    assert rep.auc_roc == pytest.approx(roc_auc_score(y, s, sample_weight=w), abs=1e-12)
    assert rep.auc_pr == pytest.approx(average_precision_score(y, s, sample_weight=w), abs=1e-12)
    assert rep.auc_roc != pytest.approx(roc_auc_score(y, s), abs=1e-6)  # the weights change it here
    for name, m in rep.at_thresholds.items():
        pred = (s > m["value"]).astype(int)
        assert m["precision"] == pytest.approx(precision_score(y, pred, sample_weight=w, zero_division=0)), name
        assert m["recall"] == pytest.approx(recall_score(y, pred, sample_weight=w)), name
        assert m["f1"] == pytest.approx(f1_score(y, pred, sample_weight=w, zero_division=0)), name
        assert m["flagged_share"] == pytest.approx(w[pred == 1].sum() / w.sum()), name
        assert m["fp"] == pytest.approx(w[(pred == 1) & (y == 0)].sum()), name
    # every candidate cut of the table too
    for r in rep.table:
        pred = (s > r["threshold"]).astype(int)
        assert r["precision"] == pytest.approx(precision_score(y, pred, sample_weight=w, zero_division=0))
        assert r["recall"] == pytest.approx(recall_score(y, pred, sample_weight=w))


def test_weighted_curve_equals_the_rows_repeated() -> None:
    """Integer weights: a row of weight 3 is three rows, for every point of the curve and both AUCs."""
    rng = np.random.default_rng(1)
    s = np.round(rng.normal(size=300), 1)  # ties
    y = (rng.random(300) < 0.2).astype(int)
    w = rng.integers(1, 5, size=300).astype(np.float64)
    c = weights.curve(s, y, w)
    rs, ry = np.repeat(s, w.astype(int)), np.repeat(y, w.astype(int))
    r = thresholds.curve(rs, ry)
    for k in ("threshold", "precision", "recall", "f1", "flagged_share", "tp", "flagged"):
        np.testing.assert_allclose(c[k], r[k], rtol=1e-12, err_msg=k)
    pos, neg = float(w[y == 1].sum()), float(w[y == 0].sum())
    assert curve_auc_roc(c, pos, neg) == pytest.approx(auc_roc(rs, ry), abs=1e-12)
    assert auc_pr(s, y, c=c) == pytest.approx(auc_pr(rs, ry), abs=1e-12)
    for t in (-0.5, 0.0, 0.7):
        a, b = weights.confusion(s, y, w, t), confusion(rs, ry, t)
        for k in ("tp", "fp", "fn", "tn", "precision", "recall", "f1", "flagged_share"):
            assert a[k] == pytest.approx(b[k]), (t, k)


def test_intervals_take_kishs_effective_sizes(con: duckdb.DuckDBPyConnection) -> None:
    s, y, w = _scored(con)
    rep = ad_duckdb.evaluate(con, "m", "lab", label="y", weight="w")
    k = rep.weights
    assert k is not None and k["column"] == "w" and k["zero_weight_rows"] == 20
    normal = w[(y == 0) & (w > 0)]
    assert k["effective_normal"] == pytest.approx(normal.sum() ** 2 / (normal ** 2).sum())
    assert k["effective_anomalies"] == pytest.approx(50.0)  # weight 1 each
    assert k["rows"] == pytest.approx(w.sum()) and k["anomalies"] == pytest.approx(50.0)
    assert "Kish" in k["intervals"]
    # recall's interval: Wilson's on the 50 anomalies (weights 1), as unweighted
    m = rep.at_thresholds["default"]
    lo, hi = thresholds.wilson(m["recall"] * 50, 50)
    assert (m["recall_lo"], m["recall_hi"]) == pytest.approx((lo, hi))
    # precision's: from the intervals of recall and false-alarm rate on each class's effective size, as
    # evaluate's precision at a stated share (here the weighted rows' own), not on the thousands of rows they stand for
    pos, neg = w[y == 1].sum(), w[y == 0].sum()
    tp, fp, fn, tn = weights.effective_counts(m, k["effective_anomalies"], k["effective_normal"])
    lo, hi = intervals.precision_at_share(tp, fp, fn, tn, pos / (pos + neg))
    assert (m["precision_lo"], m["precision_hi"]) == pytest.approx((lo, hi))
    assert m["precision_lo"] < m["precision"] < m["precision_hi"]
    text = str(rep)
    assert "weighted by w: " in text and "Kish's effective sample size" in text and "20 rows of weight 0" in text
    assert rep.rows == 1230 and rep.anomalies == 50  # the rows read, weight 0 left out


def test_weighted_goals_choose_the_cut_of_the_rows_repeated(tmp_path: Path) -> None:
    """min_precision, max_f1, flag_budget and min_cost on weighted rows store what they store on the rows
    repeated as many times; chosen_on says the rows were weighted, with Kish's sizes."""
    con = ad_duckdb.connect(str(tmp_path / "g.duckdb"))
    try:
        _trained(con)
        con.execute(ROWS.replace("33.5", "3").replace("ELSE 50", "ELSE 2"))
        con.execute("CREATE TABLE rep AS SELECT lab.* FROM lab, range(1000) r(k) WHERE k < w")
        goals = {"min_precision": {"target": 0.5}, "max_f1": {}, "flag_budget": {"target": 0.05},
                 "min_cost": {"miss_cost": 40.0, "alarm_cost": 1.0}, "min_recall": {"target": 0.8}}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the repeated rows are said to repeat
            for method, kw in goals.items():
                a = ad_duckdb.set_threshold(con, "m", f"w_{method}", method, source="lab", label="y", weight="w", **kw)
                b = ad_duckdb.set_threshold(con, "m", f"r_{method}", method, source="rep", label="y", **kw)
                assert a.value == b.value, method
                for k in ("precision", "recall", "f1", "flagged_share"):
                    assert getattr(a, k) == pytest.approx(getattr(b, k)), (method, k)
                assert "weighted by w: " in (a.chosen_on or "") and "Kish's effective sizes" in (a.chosen_on or "")
        # stored with the threshold, as show gives it
        stored = con.execute("SELECT chosen_on FROM ad_thresholds WHERE threshold_name = 'w_max_f1'").fetchall()
        assert "weighted by w: " in stored[0][0]
    finally:
        con.close()


def test_confident_goal_on_weighted_rows_takes_the_effective_sizes(con: duckdb.DuckDBPyConnection) -> None:
    """confident=True: the lower end of the precision's interval evaluate gives weighted rows meets the target (on
    each class's effective size, not on the fifty times more rows the weights stand for)."""
    s, y, w = _scored(con)
    th = ad_duckdb.set_threshold(con, "m", "sure", "min_precision", target=0.12, confident=True, source="lab",
                                 label="y", weight="w")
    rep = ad_duckdb.evaluate(con, "m", "lab", label="y", weight="w")
    assert rep.at_thresholds["sure"]["precision_lo"] >= 0.12 - 1e-12  # the interval evaluate gives it
    looser = ad_duckdb.set_threshold(con, "m", "loose", "min_precision", target=0.12, source="lab", label="y",
                                     weight="w")
    assert looser.value <= th.value
    assert th.precision == pytest.approx(precision_score(y, (s > th.value).astype(int), sample_weight=w))


def test_bad_weights_are_named_with_their_fix(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE OR REPLACE VIEW bad AS SELECT *, CASE WHEN id = 3 THEN NULL ELSE w END AS w_null, "
                "CASE WHEN id = 3 THEN -2 ELSE w END AS w_neg, w::VARCHAR AS w_text, 0 AS w_zero, "
                "CASE WHEN id = 3 THEN 'infinity'::DOUBLE ELSE w END AS w_inf FROM lab")
    cases = {"wieght": (ad_duckdb.SourceNotFoundError, r"weight column 'wieght' is not in 'bad'; its columns: id, a, b, "
                        r"y, w, w_null"),
             "w_null": (ad_duckdb.BadInputError, r"NULL \(or NaN\) in 1 of the 1250 rows.*coalesce\(nullif\(w_null, 'NaN'::DOUBLE\), 1\)"
                        r".*'w_null IS NOT NULL AND NOT isnan\(w_null\)'"),
             "w_neg": (ad_duckdb.BadInputError, r"negative in 1 of the 1250 rows.*lowest -2.*'w_neg >= 0'"),
             "w_text": (ad_duckdb.BadInputError, r"is VARCHAR, not a number.*TRY_CAST\(w_text AS DOUBLE\)"),
             "w_zero": (ad_duckdb.BadInputError, r"is 0 in every one of the 1250 rows"),
             "w_inf": (ad_duckdb.BadInputError, r"infinite in 1 of the 1250 rows"),
             "y": (ad_duckdb.BadInputError, r"weight column 'y' is the label column")}
    for col, (kind, msg) in cases.items():
        with pytest.raises(kind, match=msg):
            ad_duckdb.evaluate(con, "m", "bad", label="y", weight=col)
        with pytest.raises(kind, match=msg):
            ad_duckdb.set_threshold(con, "m", "x", "max_f1", source="bad", label="y", weight=col)
    with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"Did you mean 'w_neg'"):
        ad_duckdb.evaluate(con, "m", "bad", label="y", weight="w_nag")
    with pytest.raises(ad_duckdb.OptionError, match=r"method 'manual' does not use weight=;"):
        ad_duckdb.set_threshold(con, "m", "x", "manual", value=3.0, weight="w")


def test_cli_weight_in_evaluate_and_threshold(db: str) -> None:
    res = CliRunner().invoke(cli, ["evaluate", db, "m", "lab", "--label", "y", "--weight", "w", "--quiet",
                                   "--format", "json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["weights"]["column"] == "w" and "Kish" in doc["weights"]["intervals"]
    assert doc["weights"]["effective_anomalies"] == pytest.approx(50.0)
    res = CliRunner().invoke(cli, ["threshold", db, "m", "p30w", "--method", "min_precision", "--target", "0.3",
                                   "--source", "lab", "--label", "y", "--weight", "w", "--quiet", "--format", "json"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    stored = json.loads(res.stdout)  # the object on stdout; notes (its target met by the figure alone) on stderr
    assert "weighted by w: " in stored["chosen_on"]
    # the intervals evaluate --weight gives it (from the totals and effective sizes its chosen_on records)
    con = ad_duckdb.connect(db, read_only=True)
    try:
        m = ad_duckdb.evaluate(con, "m", "lab", label="y", weight="w").at_thresholds["p30w"]
    finally:
        con.close()
    for k in ("precision_lo", "precision_hi", "recall_lo", "recall_hi"):
        assert stored[k] == pytest.approx(m[k], abs=2e-3), k
    for cmd in ("evaluate", "threshold"):
        help_text = CliRunner().invoke(cli, [cmd, "--help"]).output
        assert "--weight" in help_text and "1 in 50" in help_text


def test_zero_weight_rows_count_as_none(con: duckdb.DuckDBPyConnection) -> None:
    a = ad_duckdb.evaluate(con, "m", "lab", label="y", weight="w")
    b = ad_duckdb.evaluate(con, "m", "lab", label="y", weight="w", where="w > 0")
    assert (a.auc_roc, a.auc_pr, a.rows) == (b.auc_roc, b.auc_pr, b.rows)
    assert a.at_thresholds == b.at_thresholds


def test_unweighted_evaluate_is_as_before(con: duckdb.DuckDBPyConnection) -> None:
    """Without weight= nothing changes: no weights in the report, and unit weights give the same figures."""
    a = ad_duckdb.evaluate(con, "m", "lab", label="y")
    b = ad_duckdb.evaluate(con, "m", "SELECT *, 1 AS one FROM lab", label="y", weight="one")
    assert a.weights is None and "weighted" not in str(a)
    from dataclasses import asdict

    assert "weights" not in asdict(a) and "weights" not in asdict(b)  # evaluate --format json adds it when weighted
    assert b.auc_roc == pytest.approx(a.auc_roc, abs=1e-12) and b.auc_pr == pytest.approx(a.auc_pr, abs=1e-12)
    assert b.auc_roc_interval == pytest.approx(a.auc_roc_interval, abs=1e-9)
    for name, m in a.at_thresholds.items():
        # (precision's interval on weighted rows comes from recall's and the false-alarm rate's, not Wilson's)
        for k in ("precision", "recall", "recall_lo", "recall_hi"):
            assert b.at_thresholds[name][k] == pytest.approx(m[k], abs=1e-12), (name, k)


def test_a_retrain_chooses_a_weighted_goal_again_weighted(tmp_path: Path) -> None:
    con = ad_duckdb.connect(str(tmp_path / "c.duckdb"))
    try:
        _trained(con)
        con.execute(ROWS)
        ad_duckdb.set_threshold(con, "m", "p30w", "min_precision", target=0.3, source="lab", label="y", weight="w")
        ad_duckdb.train(con, "m", "t", features=["a", "b"], carry_thresholds=True, **{**FAST, "seed": 1})
        (chosen_on, value), = con.execute("SELECT chosen_on, value FROM ad_thresholds WHERE version = 2 AND "
                                          "threshold_name = 'p30w'").fetchall()
        assert "weighted by w: " in chosen_on and "chosen again for this version" in chosen_on
        s, y, w = (np.asarray(v, dtype=np.float64) for v in con.execute(
            "SELECT anomaly_score('m@2', a, b), y, w FROM lab").fetchnumpy().values())
        assert precision_score(y, (s > value).astype(int), sample_weight=w) >= 0.3
    finally:
        con.close()


def test_weighted_paired_auc_matches_scikit_learn_and_the_unweighted_test() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.2).astype(int)
    a, b = np.round(rng.normal(size=400) + y, 1), np.round(rng.normal(size=400) + 1.5 * y, 1)  # ties
    p, q = paired_auc_roc(a, b, y), weights.paired_auc_roc(a, b, y, np.ones(400))
    for k in ("auc_a", "auc_b", "diff", "low", "high", "p_value"):
        assert getattr(q, k) == pytest.approx(getattr(p, k), abs=1e-12), k
    w = rng.integers(1, 6, 400).astype(np.float64)
    q = weights.paired_auc_roc(a, b, y, w)
    assert q.auc_a == pytest.approx(roc_auc_score(y, a, sample_weight=w), abs=1e-12)
    assert q.auc_b == pytest.approx(roc_auc_score(y, b, sample_weight=w), abs=1e-12)


@pytest.fixture(scope="module")
def two_versions_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file holding model m@1 and m@2 (another seed) and the table lab."""
    path = tmp_path_factory.mktemp("weights2") / "two.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        _trained(con)
        ad_duckdb.train(con, "m", "t", features=["a", "b"], **{**FAST, "seed": 1})
        con.execute(ROWS)
    finally:
        con.close()
    return path


def _two_versions(template: Path, path: str) -> duckdb.DuckDBPyConnection:
    """A connection to a new file at ``path``, a byte copy of two_versions_file's (each test's own to change)."""
    shutil.copyfile(template, path)
    return ad_duckdb.connect(path)


def test_compare_weighs_its_labelled_rows(tmp_path: Path, two_versions_file: Path) -> None:
    con = _two_versions(two_versions_file, str(tmp_path / "cmp.duckdb"))
    try:
        from ad_duckdb.compare import compare_versions

        r = compare_versions(con, "m@1", "m@2", "lab", label="y", weight="w")
        s1, s2, y, w = (np.asarray(v, dtype=np.float64) for v in con.execute(
            "SELECT anomaly_score('m@1', a, b), anomaly_score('m@2', a, b), y, w FROM lab").fetchnumpy().values())
        j = r.labelled
        assert j is not None and j.weights is not None and j.weights["column"] == "w"
        assert j.auc_roc_a == pytest.approx(roc_auc_score(y, s1, sample_weight=w), abs=1e-12)
        assert j.auc_roc_b == pytest.approx(roc_auc_score(y, s2, sample_weight=w), abs=1e-12)
        assert j.auc_pr_b == pytest.approx(average_precision_score(y, s2, sample_weight=w), abs=1e-12)
        d = next(t for t in r.thresholds if t.name == "default")
        assert d.precision_b == pytest.approx(precision_score(y, (s2 > d.value_b).astype(int), sample_weight=w))
        assert "weighted by w (" in str(r) and "anomalies; Kish's effective sizes" in str(r)
        with pytest.raises(ad_duckdb.OptionError, match="give label="):
            compare_versions(con, "m@1", "m@2", "lab", weight="w")
        with pytest.raises(ad_duckdb.BadInputError, match="is negative in"):
            compare_versions(con, "m@1", "m@2", "SELECT *, -w AS nw FROM lab", label="y", weight="nw")
    finally:
        con.close()


def test_weights_of_0_on_a_whole_class_and_a_column_given_as_values_are_named(con: duckdb.DuckDBPyConnection) -> None:
    """Anomalies all of weight 0 were left out, and the error blamed the label column and the filter; a DataFrame's
    column passed as weight=df.w printed its thousands of values."""
    src = "SELECT * REPLACE (CASE WHEN y = 1 THEN 0 ELSE w END AS w) FROM lab"
    with pytest.raises(ad_duckdb.BadInputError, match=r"weight column 'w' is 0 on every anomaly \(label 1\), all 50"):
        ad_duckdb.evaluate(con, "m", src, label="y", weight="w")
    with pytest.raises(ad_duckdb.BadInputError, match=r"is 0 on every normal row \(label 0\), all 1200"):
        ad_duckdb.set_threshold(con, "m", "x", "max_f1", source="SELECT * REPLACE (y AS w) FROM lab", label="y",
                                weight="w")
    df = con.execute("SELECT * FROM lab").df()
    with pytest.raises(ad_duckdb.BadInputError, match=r"got a pandas Series of 1250 values; pass its name: "
                                                      r"weight='w'\.$"):
        ad_duckdb.evaluate(con, "m", "df", label="y", weight=df.w)
    assert ad_duckdb.evaluate(con, "m", "df", label="y", weight="w").weights is not None


def test_precision_interval_of_a_sample_holds_the_whole_tables_precision() -> None:
    """300 anomalies (187 flagged) and 2700 normal rows (26 flagged): precision 0.878. A sample of every anomaly and
    1 in 10 normal rows (weight 10) that drew 1 flagged normal row reads 0.949; Wilson's interval on the flagged rows'
    effective size (187 + 1 rows: 135) was 0.90-0.98, without the table's 0.878. The uncertainty is in how many false
    alarms the one sampled row stands for, which the false-alarm rate's interval on 270 normal rows carries."""
    y = np.r_[np.ones(300), np.zeros(270)].astype(int)
    s = np.r_[np.ones(187), np.zeros(113), np.ones(1), np.zeros(269)]
    w = np.where(y == 1, 1.0, 10.0)
    m = weights.confusion(s, y, w, 0.5)
    assert m["precision"] == pytest.approx(187 / 197)
    assert m["precision_lo"] < 187 / 213 < m["precision_hi"]


def test_csv_of_a_weighted_evaluation_says_its_figures_are_weighted(db: str) -> None:
    res = CliRunner().invoke(cli, ["evaluate", db, "m", "lab", "--label", "y", "--weight", "w", "--quiet", "--format",
                                   "csv"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "count each row as its 'w' rows (--weight)" in res.stderr and "weight" not in res.stdout


def test_weighted_plots_draw_what_the_weights_stand_for(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # the precision-recall curve, its threshold points and the histogram by label of weighted rows are those of the
    # rows repeated, as the report's figures; they drew each row once, under a note saying so
    s, y, w = _scored(con)
    rep = ad_duckdb.evaluate(con, "m", "lab", label="y", weight="w", plots_dir=str(tmp_path))
    assert not [n for n in rep.notes if "each row once" in n]
    assert {Path(p).name for p in rep.plots} >= {"m_v1_pr_curve.png", "m_v1_score_hist.png"}
    keep = w > 0
    ax = rep.pr_curve().axes[0]
    line = ax.get_lines()[0]
    c = weights.curve(s[keep], y[keep], w[keep])
    assert np.allclose(line.get_ydata()[1:], c["precision"]) and np.allclose(line.get_xdata()[1:], c["recall"])
    share = float(w[y == 1].sum() / w.sum())
    assert ax.get_lines()[1].get_ydata()[0] == pytest.approx(share)  # the random baseline: the weighted share
    points = [tuple(p.get_offsets()[0]) for p in ax.collections if len(p.get_offsets())]
    for name, m in rep.at_thresholds.items():
        if m["tp"] + m["fp"]:
            assert any(np.allclose(p, (m["recall"], m["precision"])) for p in points), name
    texts = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert f"AUC-PR {rep.auc_pr:.3f}" in texts
    hist = rep.score_hist().axes[0]
    legend = " ".join(t.get_text() for t in hist.get_legend().get_texts())
    assert f"weighted {count_text(float(w[y == 0].sum()))}" in legend  # the rows the normal rows stand for
    # each class's bars: the density of its rows counted by weight (a sixth of the normal rows weigh 33.5, not 50)
    vals = np.log10(s[keep]) if "log" in hist.get_xlabel() else s[keep]
    for bars, rows in zip(hist.containers, (y[keep] == 0, y[keep] == 1), strict=True):
        edges = np.r_[[p.get_x() for p in bars], bars[-1].get_x() + bars[-1].get_width()]
        # the outer edges read back from the drawn bars (x + width) can land an ulp inside the lowest or highest
        # score, which the drawn histogram counted: widen them by a hair so np.histogram counts those rows too
        edges[0], edges[-1] = np.nextafter(edges[0], -np.inf), np.nextafter(edges[-1], np.inf)
        want = np.histogram(vals[rows], bins=edges, weights=w[keep][rows], density=True)[0]
        assert np.allclose([p.get_height() for p in bars], want)
    normal = hist.containers[0]
    once = np.histogram(vals[y[keep] == 0], bins=np.r_[[p.get_x() for p in normal], normal[-1].get_x()
                                                      + normal[-1].get_width()], density=True)[0]
    assert not np.allclose([p.get_height() for p in normal], once)  # the weights change the normal rows' bars


def test_few_anomalies_note_and_counts_use_the_effective_sizes() -> None:
    # 40 anomalies, 30 of them of weight 1 and 10 of weight 100 (a stratum sampled 1 in 100): an effective 10.6
    # anomalies, a recall as uncertain as of 11, not of 40; the note said nothing (40 >= 30)
    con = ad_duckdb.connect()
    try:
        _trained(con)
        con.execute("CREATE TABLE lab AS SELECT (range % 50)::DOUBLE AS a, (range % 50) * 2.0 AS b, 0 AS y, 10 AS w "
                    "FROM range(500) UNION ALL SELECT (range % 50)::DOUBLE, 100.0 - (range % 50) * 2.0, 1, "
                    "if(range < 10, 100, 1) FROM range(40)")
        rep = ad_duckdb.evaluate(con, "m", "lab", label="y", weight="w")
        eff = rep.weights["effective_anomalies"]
        assert eff == pytest.approx(weights.effective(np.r_[np.full(10, 100.0), np.ones(30)]))
        few = [n for n in rep.notes if "labelled anomal" in n and "could be anywhere" in n]
        assert len(few) == 1 and f"an effective {eff:.1f}" in few[0], rep.notes
        lo, hi = thresholds.wilson(eff / 2, eff)
        assert f"{lo:.2f}-{hi:.2f}" in few[0]
        # unweighted rows of as many anomalies: no note
        plain = ad_duckdb.evaluate(con, "m", "lab", label="y")
        assert not [n for n in plain.notes if "could be anywhere" in n]
        # and the printed report says the effective sizes beside the rows read
        text = str(rep)
        assert "effective" in text and f"{eff:.1f}" in text, text
    finally:
        con.close()


def _covered(rng: np.random.Generator, draws: int, m: int, k: int, audit: bool = False) -> dict[str, float]:
    """The share of ``draws`` whose 95% intervals (recall and precision at a score of 2, AUC-ROC) hold the figures of
    the process the labelled rows come from: 20,000 normal rows N(0, 1) and ``m`` anomalies N(2.3, 1) a draw; normal
    rows sampled 1 in ``k`` (weight k), anomalies all kept, as bench/weighted_coverage.py. ``audit``: instead every
    row scoring above 2 kept (weight 1) and the rest of both classes sampled 1 in ``k``."""
    import math

    phi = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))  # noqa: E731
    recall, share = 1 - phi(2.0 - 2.3), m / (m + 20_000)
    truth = {"recall": recall, "precision": share * recall / (share * recall + (1 - share) * (1 - phi(2.0))),
             "auc": phi(2.3 / math.sqrt(2))}
    hits = dict.fromkeys(truth, 0)
    for _ in range(draws):
        s = np.r_[rng.normal(2.3, 1, m), rng.normal(0, 1, 20_000)]
        y = np.r_[np.ones(m, bool), np.zeros(20_000, bool)]
        if audit:
            keep = (s > 2.0) | (rng.random(len(s)) < 1 / k)
            w = np.where(s > 2.0, 1.0, float(k))[keep]
        else:
            keep = y | (np.arange(len(s)) < m + 20_000 // k)
            w = np.where(y, 1.0, float(k))[keep]
        s, y = s[keep], y[keep]
        conf = weights.confusion(s, y, w, 2.0)
        c = weights.curve(s, y, w)
        pos, neg = float(w[y].sum()), float(w[~y].sum())
        auc = curve_auc_roc(c, pos, neg)
        ci = intervals.auc_roc(c, pos, neg, auc, eff=(weights.effective(w[y]), weights.effective(w[~y])))
        for key, lo, hi in (("recall", conf["recall_lo"], conf["recall_hi"]),
                            ("precision", conf["precision_lo"], conf["precision_hi"]), ("auc", ci.low, ci.high)):
            hits[key] += bool(lo <= truth[key] <= hi)
    return {key: v / draws for key, v in hits.items()}


def test_intervals_of_normal_rows_sampled_1_in_k_cover_the_process() -> None:
    # bench/results/weighted_coverage_2026-12-05.md: 93-100% in every case of 2,000 draws; here 400 draws of two
    # cases (a band of about +-3 points)
    rng = np.random.default_rng(7)
    for m, k in ((20, 50), (100, 200)):
        got = _covered(rng, 400, m, k)
        assert all(0.9 <= v <= 1.0 for v in got.values()), (m, k, got)


def test_recall_interval_of_an_audit_sample_covers_the_process() -> None:
    # every alert reviewed (weight 1), the rest of the rows audited 1 in 50 (weight 50): a missed anomaly is seen
    # only when the audit draws one, and stands for 50. Recall's interval on Kish's effective size of the anomalies
    # (mostly the alerts, of weight 1) held the true recall in 11-83% of draws (bench/results/
    # weighted_coverage_audit_2026-12-05.md): with no missed anomaly drawn it read 0.96-1 where the recall is 0.62
    rng = np.random.default_rng(11)
    for m, k in ((20, 50), (100, 50)):
        got = _covered(rng, 300, m, k, audit=True)
        assert 0.9 <= got["recall"] <= 1.0, (m, k, got)
    # precision's interval (from the intervals of recall and false-alarm rate) takes that recall interval
    got = _covered(rng, 300, 100, 10, audit=True)
    assert 0.9 <= got["precision"] <= 1.0 and 0.9 <= got["recall"] <= 1.0, got


def test_recall_interval_of_equal_weights_in_a_class_is_wilsons() -> None:
    # every anomaly kept (weight 1), normal rows 1 in 50: recall's interval is Wilson's on the anomalies, caught or
    # all caught, as without weights
    y = np.r_[np.ones(30), np.zeros(200)].astype(bool)
    w = np.where(y, 1.0, 50.0)
    for caught in (30, 21):
        s = np.r_[np.ones(caught), np.zeros(30 - caught), np.ones(3), np.zeros(197)]
        m = weights.confusion(s, y, w, 0.5)
        assert (m["recall_lo"], m["recall_hi"]) == pytest.approx(thresholds.wilson(caught, 30)), caught


def test_threshold_cli_few_anomalies_note_counts_the_effective_anomalies(tmp_path: Path) -> None:
    # a goal chosen on 40 anomalies of which 10 weigh 100: an effective 10.6; the note said nothing (40 rows)
    path = str(tmp_path / "few.duckdb")
    con = ad_duckdb.connect(path)
    try:
        _trained(con)
        con.execute("CREATE TABLE lab AS SELECT (range % 50)::DOUBLE AS a, (range % 50) * 2.0 AS b, 0 AS y, 10 AS w "
                    "FROM range(500) UNION ALL SELECT (range % 50)::DOUBLE, 100.0 - (range % 50) * 2.0, 1, "
                    "if(range < 10, 100, 1) FROM range(40)")
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["threshold", path, "m", "f1w", "--method", "max_f1", "--source", "lab", "--label",
                                   "y", "--weight", "w", "--quiet"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "chosen on only an effective 10.6 labelled anomalies (40 weighted rows; Kish's effective size)" in res.output
    res = CliRunner().invoke(cli, ["threshold", path, "m", "f1w2", "--method", "max_f1", "--source", "lab", "--label",
                                   "y", "--weight", "w", "--quiet", "--format", "json"], catch_exceptions=False)
    assert "effective_anomalies" not in json.loads(res.stdout)  # the JSON object as before


def test_compare_counts_flags_as_the_weighted_rows_its_figures_are_of(tmp_path: Path, two_versions_file: Path) -> None:
    """compare --label --weight printed each threshold's flagged, both and only counts as sampled rows beside
    precisions and recalls of the weighted rows: 51 rows flagged read against the 2,500 rows the sample stands for.
    The counts printed are the weighted ones, said so; JSON has both."""
    con = _two_versions(two_versions_file, str(tmp_path / "cmpw.duckdb"))
    try:
        from ad_duckdb.compare import compare_versions

        r = compare_versions(con, "m@1", "m@2", "lab", label="y", weight="w")
        s1, s2, w = (np.asarray(v, dtype=np.float64) for v in con.execute(
            "SELECT anomaly_score('m@1', a, b), anomaly_score('m@2', a, b), w FROM lab").fetchnumpy().values())
        d = next(t for t in r.thresholds if t.name == "default")
        assert d.value_a is not None and d.value_b is not None
        fa, fb = s1 > d.value_a, s2 > d.value_b
        assert (d.flagged_a, d.flagged_b, d.both) == (int(fa.sum()), int(fb.sum()), int((fa & fb).sum()))
        assert d.flagged_a_weighted == pytest.approx(w[fa].sum())
        assert d.flagged_b_weighted == pytest.approx(w[fb].sum())
        assert d.both_weighted == pytest.approx(w[fa & fb].sum())
        assert d.flagged_a_weighted != d.flagged_a  # normal rows of weight 50 flagged: the two counts differ
        text = str(r)
        head = text.splitlines()[2]
        assert "flagged m@1 (weighted)" in head and "both (weighted)" in head and "only m@2 (weighted)" in head
        row = next(x for x in text.splitlines() if x.startswith("default"))
        assert count_text(w[fa].sum()) in row and count_text(w[fa & ~fb].sum()) in row
        assert f"{count_text(w.sum())} rows" in text  # what the rows stand for, as evaluate says it
        con.close()
        out = CliRunner().invoke(cli, ["compare", str(tmp_path / "cmpw.duckdb"), "m@1", "m@2", "lab", "--label", "y",
                                       "--weight", "w", "--format", "json"])
        assert out.exit_code == 0, out.output
        got = next(t for t in json.loads(out.output)["thresholds"] if t["name"] == "default")
        assert got["flagged_a"] == int(fa.sum()) and got["flagged_a_weighted"] == pytest.approx(w[fa].sum())
        con = ad_duckdb.connect(str(tmp_path / "cmpw.duckdb"))
        plain = compare_versions(con, "m@1", "m@2", "lab", label="y")
        assert next(t for t in plain.thresholds if t.name == "default").flagged_a_weighted is None
        assert "(weighted)" not in str(plain)
    finally:
        con.close()


def test_threshold_prints_the_intervals_evaluate_gives_at_its_value_on_an_audit_sample(tmp_path: Path) -> None:
    """On an audit sample (the alerts all kept, weight 1; the rest sampled, weight 20 or 50) threshold printed
    intervals from the classes' Kish sizes in its chosen_on, while evaluate --weight at the same value gives recall's
    from its caught and missed anomalies apart: two intervals for one figure on the same rows. Now one code path."""
    path = str(tmp_path / "audit.duckdb")
    con = ad_duckdb.connect(path)
    try:
        _trained(con)
        con.execute(ROWS)
        src = ("SELECT *, CASE WHEN y = 0 THEN w WHEN id % 5 = 0 THEN 20 ELSE 1 END AS aw FROM lab "
               "WHERE y = 1 OR w > 0")
        con.execute(f"CREATE VIEW audit AS {src}")
        goals = {"f1": dict(method="max_f1"), "p": dict(method="min_precision", target=0.05),
                 "r": dict(method="min_recall", target=0.6, confident=True)}
        for name, goal in goals.items():
            th = ad_duckdb.set_threshold(con, "m", name, source="audit", label="y", weight="aw", **goal)  # type: ignore[arg-type]
            at = ad_duckdb.evaluate(con, "m", "audit", label="y", weight="aw").at_thresholds[name]
            ci = thresholds.figure_intervals(th)
            for k in ("precision_lo", "precision_hi", "recall_lo", "recall_hi"):
                assert ci[k] == pytest.approx(at[k], abs=1e-6), (name, k)
        s, y, w = (np.asarray(v, dtype=np.float64) for v in con.execute(
            "SELECT anomaly_score('m', a, b), y, aw FROM audit").fetchnumpy().values())
        c = weights.confusion(s, y, w, th.value)
        assert c["recall_lo"] != pytest.approx(thresholds.wilson(c["recall"] * weights.effective(w[y == 1]),
                                                                 weights.effective(w[y == 1]))[0], abs=1e-3)
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["threshold", path, "m", "f1b", "--method", "max_f1", "--source", "audit", "--label",
                                   "y", "--weight", "aw", "--quiet", "--format", "json"], catch_exceptions=False)
    out = json.loads(res.stdout)
    con = ad_duckdb.connect(path, read_only=True)
    try:
        at = ad_duckdb.evaluate(con, "m", "audit", label="y", weight="aw").at_thresholds["f1b"]
    finally:
        con.close()
    assert out["recall_lo"] == pytest.approx(at["recall_lo"], abs=1e-6)
    assert out["precision_hi"] == pytest.approx(at["precision_hi"], abs=1e-6)


def test_auc_interval_of_an_audit_sample_covers_the_process() -> None:
    """Alerts all reviewed (weight 1), the rest audited 1 in k: the AUC-ROC rests on the few audited missed
    anomalies, mostly none drawn, and DeLong's interval on weighted placements held the process's AUC in 15-51% of
    draws with 100 anomalies audited 1 in 50-200 (bench/results/weighted_coverage_audit_2026-12-05.md). The band of
    recall's cell intervals over the false-alarm rate joins it."""
    rng = np.random.default_rng(13)
    for m, k in ((100, 50), (100, 200), (20, 50)):
        assert _covered(rng, 200, m, k, audit=True)["auc"] >= 0.93, (m, k)


def test_auc_interval_of_weights_alike_across_the_score_is_delongs() -> None:
    """Where no cut's caught and missed anomalies weigh differently the band adds nothing: all weights 1 give the
    unweighted interval exactly, and every anomaly kept with normal rows sampled 1 in k the interval as before."""
    rng = np.random.default_rng(3)
    s = np.round(np.r_[rng.normal(1.5, 1, 60), rng.normal(0, 1, 900)], 1)  # ties, within and across the classes
    y = np.r_[np.ones(60, bool), np.zeros(900, bool)]
    auc = curve_auc_roc(thresholds.curve(s, y), 60, 900)
    plain = intervals.auc_roc(thresholds.curve(s, y), 60, 900, auc)
    ones = np.ones(len(s))
    c = weights.curve(s, y, ones)
    assert weights.auc_band(c) is None
    assert intervals.auc_roc(c, 60.0, 900.0, curve_auc_roc(c, 60.0, 900.0), eff=(60.0, 900.0)) == plain
    w = np.where(y, 1.0, 50.0)
    c = weights.curve(s, y, w)
    assert weights.auc_band(c) is None
    got = intervals.auc_roc(c, 60.0, 45000.0, curve_auc_roc(c, 60.0, 45000.0), eff=(60.0, 900.0))
    assert got.method == intervals.AUC_METHOD
    # an audit of the same rows: the anomalies below 1.0 weigh 20, the ones above 1: the band joins, and the
    # method says so
    w = np.where(s > 1.0, 1.0, 20.0)
    c = weights.curve(s, y, w)
    pos, neg = float(w[y].sum()), float(w[~y].sum())
    band = weights.auc_band(c)
    assert band is not None and band[0] < curve_auc_roc(c, pos, neg) < band[1]
    got = intervals.auc_roc(c, pos, neg, curve_auc_roc(c, pos, neg),
                            eff=(weights.effective(w[y]), weights.effective(w[~y])))
    assert got.method == intervals.AUC_METHOD_BAND and got.low <= band[0] and got.high >= band[1]


def _audited_pair(rng: np.random.Generator, m: int, delta: float, k: int = 50) -> tuple[np.ndarray, ...]:
    """Two versions' scores of one audit sample (as bench/compare_delong.py): 20,000 normal rows N(0, 1), ``m``
    anomalies N(2.3, 1) for version a and N(2.3 + delta, 1) for b, the versions' noise correlated 0.6; every row a
    scores above 2 reviewed (weight 1), the rest of both classes audited 1 in ``k`` (weight k)."""
    y = np.r_[np.ones(m, bool), np.zeros(20_000, bool)]
    e1, e2 = rng.normal(size=len(y)), rng.normal(size=len(y))
    sa, sb = 2.3 * y + e1, (2.3 + delta) * y + 0.6 * e1 + 0.8 * e2
    keep = (sa > 2.0) | (rng.random(len(y)) < 1 / k)
    return sa[keep], sb[keep], y[keep], np.where(sa > 2.0, 1.0, float(k))[keep]


def test_compares_paired_test_on_an_audit_sample_holds_its_size() -> None:
    """compare --label --weight on an audit sample (the alerts of the version in production all reviewed, the rest
    audited 1 in 50): DeLong's paired test on weighted placements, from the anomalies drawn, said p < 0.05 for two
    equally good versions in 40% of draws with 100 anomalies, and its interval held the true difference in 47% where
    one was better (bench/results/compare_delong_2026-12-05.md). Each version's AUC interval (as evaluate's) joined
    by their correlation holds both."""
    import math

    phi = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))  # noqa: E731
    rng = np.random.default_rng(5)
    same = [weights.paired_auc_roc(*_audited_pair(rng, 100, 0.0)) for _ in range(150)]
    assert np.mean([p.p_value < 0.05 for p in same]) <= 0.08
    assert all(p.method == weights.PAIRED_AUDIT for p in same)
    truth = phi(2.8 / math.sqrt(2)) - phi(2.3 / math.sqrt(2))
    better = [weights.paired_auc_roc(*_audited_pair(rng, 100, 0.5)) for _ in range(150)]
    assert np.mean([p.low <= truth <= p.high for p in better]) >= 0.93
    # every anomaly kept, normal rows sampled 1 in 50: the anomalies weigh alike, and the test is DeLong's as before
    y = np.r_[np.ones(40, bool), np.zeros(400, bool)]
    sa, sb = 2 * y + rng.normal(size=440), 2.3 * y + rng.normal(size=440)
    w = np.where(y, 1.0, 50.0)
    p = weights.paired_auc_roc(sa, sb, y, w)
    assert p.method == PAIRED_DELONG


def test_compare_on_an_audit_sample_says_which_test_it_ran(tmp_path: Path, two_versions_file: Path) -> None:
    con = _two_versions(two_versions_file, str(tmp_path / "cmpa.duckdb"))
    try:
        from ad_duckdb.compare import compare_versions

        src = ("SELECT *, CASE WHEN y = 0 THEN w WHEN id % 5 = 0 THEN 20 ELSE 1 END AS aw FROM lab "
               "WHERE y = 1 OR w > 0")
        r = compare_versions(con, "m@1", "m@2", src, label="y", weight="aw")
        assert r.labelled is not None and r.labelled.test == weights.PAIRED_AUDIT
        assert "audit sample" in str(r) and "Zou and Donner's MOVER" in str(r)
        plain = compare_versions(con, "m@1", "m@2", "lab", label="y", weight="w")
        assert plain.labelled is not None and plain.labelled.test == PAIRED_DELONG
        assert "audit sample" not in str(plain) and "DeLong's paired test" in str(plain)
    finally:
        con.close()


def _top_overlap_of_rows_repeated(sa: np.ndarray, sb: np.ndarray, w: np.ndarray, top: int) -> int:
    """The top-``top`` overlap of the rows each repeated its (whole) weight times, ties in the order of the copies."""
    ra, rb = np.repeat(sa, w.astype(int)), np.repeat(sb, w.astype(int))
    ids = np.arange(len(ra))
    ta = set(ids[np.argsort(-ra, kind="stable")][:top])
    tb = set(ids[np.argsort(-rb, kind="stable")][:top])
    return len(ta & tb)


def test_compare_top_overlap_counts_the_rows_the_weights_stand_for(tmp_path: Path, two_versions_file: Path) -> None:
    """compare --label --weight gave its top-N overlap of the sampled rows read (100 rows standing for thousands)
    beside flagged counts and figures of the rows stood for; now also the overlap of the top N of the rows stood for,
    as the rows repeated by their weights give it."""
    from ad_duckdb.compare import compare_versions, weighted_top_overlap

    rng = np.random.default_rng(2)
    sa, sb = rng.normal(size=300), rng.normal(size=300)
    w = rng.integers(1, 7, 300).astype(np.float64)
    for top in (1, 37, 100, 2000):
        got, size = weighted_top_overlap(sa, sb, w, top)
        assert size == min(top, w.sum())
        assert got == pytest.approx(_top_overlap_of_rows_repeated(sa, sb, w, top)), top
    # rows tied at the cut share its rest by weight: the figure does not depend on their order
    ta, tb = np.array([3.0, 2.0, 2.0, 1.0]), np.array([3.0, 2.0, 2.0, 0.0])
    assert weighted_top_overlap(ta, tb, np.array([1.0, 2.0, 2.0, 5.0]), 3) == (pytest.approx(3.0), 3.0)
    k = [3, 2, 0, 1]  # the same rows read in another order
    assert weighted_top_overlap(ta[k], tb[k], np.array([1.0, 2.0, 2.0, 5.0])[k], 3)[0] == pytest.approx(3.0)
    assert weighted_top_overlap(ta, np.array([3.0, 2.0, 1.0, 0.0]), np.array([1.0, 2.0, 2.0, 5.0]), 3)[0] == \
        pytest.approx(2.0)  # b's top: rows 0 and 1 whole; a's holds half of row 1
    con = _two_versions(two_versions_file, str(tmp_path / "cmpt.duckdb"))
    try:
        r = compare_versions(con, "m@1", "m@2", "lab", label="y", weight="w", top=500)
        s1, s2, w = (np.asarray(v, dtype=np.float64) for v in con.execute(
            "SELECT anomaly_score('m@1', a, b), anomaly_score('m@2', a, b), w FROM lab").fetchnumpy().values())
        assert r.top_weighted == 500.0
        assert r.top_overlap_weighted == pytest.approx(weighted_top_overlap(s1, s2, w, 500)[0])
        assert r.top_overlap_weighted != r.top_overlap  # normal rows of weight 50 among the highest scores
        text = str(r)
        assert f"top 500 scores of the rows the labelled rows stand for (weighted by w): " \
               f"{count_text(round(r.top_overlap_weighted, 9))} in both" in text, text
        assert compare_versions(con, "m@1", "m@2", "lab", label="y").top_overlap_weighted is None
    finally:
        con.close()


def test_compare_caveat_of_few_anomalies_counts_the_effective_anomalies() -> None:
    """A weighted comparison's test takes Kish's effective anomalies: 40 anomaly rows, 3 of them of weight 50, are
    an effective 4.6, where DeLong's test calls differences too often; the caveat counted the 40 rows and was left
    out."""
    from ad_duckdb.compare import LabelledComparison, VersionComparison

    y = np.r_[np.ones(40), np.zeros(10)]
    w = np.r_[np.full(3, 50.0), np.ones(37), np.ones(10)]
    j = LabelledComparison("y", 50, 40, 0.8, 0.9, 0.7, 0.8, 0.1, 0.02, 0.18, 0.01, weights.summary("w", y, w))
    text = str(VersionComparison("m@1", "m@2", "t", 50, 10, 5, 0.5, labelled=j))
    assert "allows for only an effective 4.6 labelled anomalies (Kish's, of the 40 weighted)" in text, text
    j.weights = None
    assert "allows for only" not in str(VersionComparison("m@1", "m@2", "t", 50, 10, 5, 0.5, labelled=j))


def test_precision_interval_of_an_audit_sample_with_few_anomalies_covers_the_process() -> None:
    """Alerts all reviewed (weight 1), the rest audited 1 in 10, 5 anomalies a table: precision's interval took the
    anomalies' total as known, and with 1 or 2 caught and no missed one audited it held the process's precision in
    80% of draws (bench/results/weighted_coverage_audit_2026-12-05.md). Joined with Wilson's of the flagged rows'
    effective size, as unweighted rows have it."""
    rng = np.random.default_rng(17)
    assert _covered(rng, 300, 5, 10, audit=True)["precision"] >= 0.93


def test_auc_band_of_an_audit_sample_is_narrower_and_still_covers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The band took recall's pointwise 95% ends at every cut at once and held the AUC in 97-100% of simulated audits
    (mean width 0.715); from 90% ones it holds it in 96.5-100%, narrower (bench/results/
    weighted_coverage_audit_band_2026-12-05.md). Where it is tightest: 500 anomalies, audited 1 in 200."""
    import math

    truth = 0.5 * math.erfc(-(2.3 / math.sqrt(2)) / math.sqrt(2))
    rng = np.random.default_rng(19)
    drawn = []
    for _ in range(150):
        s = np.r_[rng.normal(2.3, 1, 500), rng.normal(0, 1, 20_000)]
        y = np.r_[np.ones(500, bool), np.zeros(20_000, bool)]
        keep = (s > 2.0) | (rng.random(len(s)) < 1 / 200)
        drawn.append((s[keep], y[keep], np.where(s > 2.0, 1.0, 200.0)[keep]))

    def run() -> tuple[float, float]:
        held, width = 0, 0.0
        for s, y, w in drawn:
            c = weights.curve(s, y, w)
            pos, neg = float(w[y].sum()), float(w[~y].sum())
            ci = intervals.auc_roc(c, pos, neg, curve_auc_roc(c, pos, neg),
                                   eff=(weights.effective(w[y]), weights.effective(w[~y])))
            held += ci.low <= truth <= ci.high
            width += ci.high - ci.low
        return held / len(drawn), width / len(drawn)

    now = run()
    monkeypatch.setattr(weights, "AUC_BAND_Z", thresholds.Z95)
    before = run()
    assert now[0] >= 0.93 and now[1] < before[1], (now, before)


def test_compare_rank_correlation_counts_the_rows_the_weights_stand_for(tmp_path: Path, two_versions_file: Path) -> None:
    """compare --label --weight gave the rank correlation of the sampled rows read, each once, beside flagged counts,
    a top overlap and figures of the rows stood for: with normal rows sampled 1 in 50 the anomalies weighed 50 times
    their share in it. Now also Spearman's of the rows stood for, as the rows repeated by their weights give it."""
    from scipy import stats

    from ad_duckdb.compare import compare_versions
    from ad_duckdb.weightedrank import weighted_spearman

    rng = np.random.default_rng(4)
    a = np.round(rng.normal(size=200), 1)  # rounded: ties
    b = np.round(a + rng.normal(size=200), 1)
    w = rng.integers(0, 6, 200).astype(np.float64)  # 0: a row that counts as none
    reps = w.astype(int)
    assert weighted_spearman(a, b, w) == pytest.approx(
        stats.spearmanr(np.repeat(a, reps), np.repeat(b, reps))[0], abs=1e-12)
    assert weighted_spearman(a, b, np.ones(200)) == pytest.approx(stats.spearmanr(a, b)[0], abs=1e-12)
    assert weighted_spearman(np.ones(200), b, w) is None and weighted_spearman(a, b, np.zeros(200)) is None
    con = _two_versions(two_versions_file, str(tmp_path / "cmpr.duckdb"))
    try:
        con.execute("CREATE VIEW labw AS SELECT * REPLACE (ceil(w) AS w) FROM lab")  # whole weights, 0 among them
        r = compare_versions(con, "m@1", "m@2", "labw", label="y", weight="w")
        s1, s2, w = (np.asarray(v, dtype=np.float64) for v in con.execute(
            "SELECT anomaly_score('m@1', a, b), anomaly_score('m@2', a, b), w FROM labw").fetchnumpy().values())
        reps = w.astype(int)
        assert np.array_equal(reps, w)  # whole weights: the rows stood for are the rows repeated
        want = stats.spearmanr(np.repeat(s1, reps), np.repeat(s2, reps))[0]
        assert r.rank_correlation_weighted == pytest.approx(want, abs=1e-9)
        assert r.rank_correlation == pytest.approx(stats.spearmanr(s1, s2)[0], abs=1e-9)  # the rows read, as before
        assert f"rank correlation of the rows stood for: {want:.3f}" in str(r), str(r)
        assert compare_versions(con, "m@1", "m@2", "labw", label="y").rank_correlation_weighted is None
    finally:
        con.close()
