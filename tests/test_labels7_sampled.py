"""labels7: evaluate --weight with --sampled normal, the weights of normal rows sampled by their own strata with every
anomaly kept (no audit below the alerts), whose intervals are DeLong's and Newcombe's and recall's as drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb import intervals, thresholds, weights
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import AdDuckDBError

from conftest import FAST


def weighted_rows() -> pd.DataFrame:
    """200 anomalies (weight 1: every one kept) beside 3,000 normal rows each weighing its merchant's sampling rate
    (1 to 7, whatever the score) in w, and an audit of the same rows in w_mixed (alerts weight 1, the rest 1 in 20)."""
    rng = np.random.default_rng(5)
    n, m = 3000, 200
    x = np.r_[rng.normal(0.0, 1.0, (n, 3)), rng.normal(0.0, 1.0, (m, 3)) + np.array([3.0, -3.0, 3.0])]
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["lab"] = np.r_[np.zeros(n, int), np.ones(m, int)]
    frame["w"] = np.r_[rng.integers(1, 8, n).astype(float), np.ones(m)]
    frame["w_mixed"] = np.r_[np.ones(n), np.where(np.arange(m) % 2 == 0, 1.0, 20.0)]
    return frame


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """weighted_rows in table t, and ae trained on its normal rows."""
    frame = weighted_rows()
    path = str(tmp_path_factory.mktemp("labels7") / "w.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.register("frame", frame)
        con.execute("CREATE TABLE t AS SELECT * FROM frame")
        ad_duckdb.train(con, "ae", "SELECT * FROM t WHERE lab = 0", features=["a", "b", "c"], **FAST)
    finally:
        con.close()
    return path


def test_sampled_normal_gives_delongs_auc_interval_and_recall_as_drawn(db: str) -> None:
    """Per-stratum weights of the normal rows with every anomaly kept read as an audit's: the AUC-ROC interval was
    joined with recall's band (0.927-0.999 on these rows where DeLong's and Newcombe's give 0.991-0.999), and recall's
    lower end counted an unseen heavier stratum of missed anomalies. --sampled normal says there is none."""
    con = ad_duckdb.connect(db, read_only=True)
    try:
        default = ad_duckdb.evaluate(con, "ae", "t", label="lab", weight="w")
        rep = ad_duckdb.evaluate(con, "ae", "t", label="lab", weight="w", sampled="normal")
        frame = con.execute("SELECT anomaly_score('ae', a, b, c) AS s, lab, w FROM t").df()
    finally:
        con.close()
    s, y, w = frame["s"].to_numpy(np.float64), frame["lab"].to_numpy().astype(bool), frame["w"].to_numpy(np.float64)
    c = weights.curve(s, y, w)
    pos, neg = float(w[y].sum()), float(w[~y].sum())
    want = intervals.auc_roc(c, pos, neg, rep.auc_roc, eff=(weights.effective(w[y]), weights.effective(w[~y])),
                             band=False)
    assert rep.auc_roc == pytest.approx(default.auc_roc, abs=1e-12)
    assert rep.auc_roc_interval_method == intervals.AUC_METHOD, rep.auc_roc_interval_method
    assert rep.auc_roc_interval == pytest.approx((want.low, want.high), abs=1e-9)
    assert default.auc_roc_interval_method == intervals.AUC_METHOD_BAND  # the default still reads an audit's
    assert default.auc_roc_interval[0] < rep.auc_roc_interval[0] - 1e-3
    # recall's interval: Wilson's of the anomalies' count (all weigh 1), as unweighted rows of the same anomalies
    for cut in np.quantile(s[y], [0.2, 0.5, 0.8]):
        got = weights.confusion(s, y, w, float(cut), sampled="normal")
        flag = s > cut
        lo, hi = thresholds.wilson(float((flag & y).sum()), float(y.sum()))
        assert (got["recall_lo"], got["recall_hi"]) == pytest.approx((lo, hi), rel=1e-9), cut
    assert rep.weights is not None and rep.weights["sampled"] == "normal"
    assert "sampled" not in (default.weights or {})  # the default's JSON stays as it was


def test_sampled_normal_refuses_anomalies_of_differing_weights_and_a_missing_weight(db: str) -> None:
    """--sampled normal says every anomaly was kept: anomalies of weights 1 and 20 are an audit's, refused by name
    with the fix; without --weight there is nothing sampled to describe."""
    con = ad_duckdb.connect(db, read_only=True)
    try:
        with pytest.raises(AdDuckDBError, match=r"sampled='normal' says every anomaly was kept.*'w_mixed' run from 1 to 20.*sampled='rows'"):
            ad_duckdb.evaluate(con, "ae", "t", label="lab", weight="w_mixed", sampled="normal")
        with pytest.raises(AdDuckDBError, match=r"sampled='normal'.*weight="):
            ad_duckdb.evaluate(con, "ae", "t", label="lab", sampled="normal")
        with pytest.raises(AdDuckDBError, match=r"'everything'.*'rows'.*'normal'"):
            ad_duckdb.evaluate(con, "ae", "t", label="lab", weight="w", sampled="everything")
    finally:
        con.close()


def test_cli_sampled_normal_prints_the_delong_interval_and_says_so(db: str, tmp_path: Path) -> None:
    got = CliRunner().invoke(cli, ["evaluate", db, "ae", "t", "--label", "lab", "--weight", "w", "--sampled", "normal",
                                   "--quiet"])
    assert got.exit_code == 0, got.output
    assert "only the normal rows sampled" in got.output, got.output
    bad = CliRunner().invoke(cli, ["evaluate", db, "ae", "t", "--label", "lab", "--weight", "w_mixed", "--sampled",
                                   "normal", "--quiet"])
    assert bad.exit_code != 0 and "--sampled rows" in bad.output and "sampled='rows'" not in bad.output, bad.output


def test_weighted_pr_curve_is_the_weighted_curve_and_its_points_are_the_reports(db: str) -> None:
    """The plots of a weighted evaluation: the curve is weights.curve's (each row its weight), its AUC-PR and title
    say the weighted figures, and each threshold's point and 95% bars are the report's (--sampled normal's too)."""
    src = "SELECT * FROM t QUALIFY lab = 0 OR row_number() OVER (PARTITION BY lab ORDER BY a) <= 20"
    con = ad_duckdb.connect(db, read_only=True)
    try:
        rep = ad_duckdb.evaluate(con, "ae", src, label="lab", weight="w", sampled="normal")
        frame = con.execute(f"SELECT anomaly_score('ae', a, b, c) AS s, lab, w FROM ({src})").df()
    finally:
        con.close()
    s, y, w = frame["s"].to_numpy(np.float64), frame["lab"].to_numpy().astype(bool), frame["w"].to_numpy(np.float64)
    c = weights.curve(s, y, w)
    fig = rep.pr_curve()
    ax = fig.axes[0]
    line = ax.lines[0]
    np.testing.assert_allclose(np.asarray(line.get_xdata())[1:], c["recall"], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(line.get_ydata())[1:], c["precision"], rtol=1e-6)
    assert f"AUC-PR {rep.auc_pr:.3f}" in line.get_label()
    assert "weighted" in ax.get_title(), ax.get_title()
    bars = [p for p in ax.patches if p.get_gid() == "interval"]
    assert bars, "few effective anomalies: each point's intervals drawn"
    want = set()
    for m in rep.at_thresholds.values():
        if m["tp"] + m["fp"] and np.isfinite(m["precision_lo"]):
            want.add((round(m["recall_lo"], 6), round(m["recall_hi"], 6)))
    drawn = {(round(float(p.get_xy()[0][0]), 6), round(float(p.get_xy()[1][0]), 6)) for p in bars[::2]}
    assert drawn == want, (drawn, want)
