"""threshold and compare with --weight and --sampled, as evaluate has it: ``normal`` (every anomaly kept, the normal
rows sampled by their own strata) gives evaluate --sampled normal's intervals to a --confident goal and DeLong's
paired test to compare, where the normal rows' weights alone read as an audit's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from builtonce import built_once
from click.testing import CliRunner
from test_labels7_sampled import weighted_rows

import ad_duckdb
from ad_duckdb import store, thresholds, weights
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import AdDuckDBError
from ad_duckdb.pairedauc import PAIRED_DELONG

from conftest import FAST

# the normal rows' weight by a stratum whose rate rises with the score (1 where a + c - b > 2, else 20), every anomaly
# kept: read from the weights alone, an audit's
STRATA = "SELECT *, if(lab = 1, 1, if(a + c - b > 2, 1, 20)) AS w2 FROM t"


def _build(folder: Path) -> None:
    """labels7's rows (200 anomalies of weight 1 beside 3,000 normal rows weighing their merchant's rate, 1 to 7,
    and w_mixed, an audit's anomalies of weights 1 and 20), ae@1 and ae@2, a shorter training."""
    frame = weighted_rows()
    con = ad_duckdb.connect(str(folder / "s.duckdb"))
    try:
        con.register("frame", frame)
        con.execute("CREATE TABLE t AS SELECT * FROM frame")
        ad_duckdb.train(con, "ae", "SELECT * FROM t WHERE lab = 0", features=["a", "b", "c"], **FAST)
        ad_duckdb.train(con, "ae", "SELECT * FROM t WHERE lab = 0", features=["a", "b", "c"],
                        **{**FAST, "max_steps": 200})
    finally:
        con.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(built_once("sampled_tc", tmp_path_factory, _build) / "s.duckdb")


def _rows(con: duckdb.DuckDBPyConnection, model: str, source: str, weight: str) -> tuple[np.ndarray, ...]:
    """The scores of ``model``, labels and weights of ``source``."""
    f = con.execute(f"SELECT anomaly_score('{model}', a, b, c) AS s, lab, {weight} AS w FROM ({source})").df()
    return f["s"].to_numpy(np.float64), f["lab"].to_numpy().astype(bool), f["w"].to_numpy(np.float64)


def _compared(path: str) -> tuple[Any, ...]:
    """compare of ae@1 and ae@2 on STRATA's rows read as an audit's and with sampled='normal', then the two versions'
    scores, the labels and the weights."""
    con = ad_duckdb.connect(path, read_only=True)
    try:
        audit = ad_duckdb.compare_versions(con, "ae@1", "ae@2", STRATA, label="lab", weight="w2")
        r = ad_duckdb.compare_versions(con, "ae@1", "ae@2", STRATA, label="lab", weight="w2", sampled="normal")
        sa, y, w = _rows(con, "ae@1", STRATA, "w2")
        return audit, r, sa, _rows(con, "ae@2", STRATA, "w2")[0], y, w
    finally:
        con.close()


def test_threshold_sampled_refused_without_weight_and_for_anomalies_of_differing_weights(db: str) -> None:
    """As evaluate refuses them, in the threshold's own words (not "evaluate ...")."""
    con = ad_duckdb.connect(db)
    try:
        with pytest.raises(AdDuckDBError, match=r"^Threshold 'r' for 'ae@1': sampled='normal' describes.*weight="):
            ad_duckdb.set_threshold(con, "ae@1", "r", "max_f1", source="t", label="lab", sampled="normal")
        with pytest.raises(AdDuckDBError, match=r"^Threshold 'r' for 'ae@1': sampled='normal' says every anomaly was "
                                                r"kept.*'w_mixed' run from 1 to 20.*sampled='rows'"):
            ad_duckdb.set_threshold(con, "ae@1", "r", "min_recall", target=0.6, confident=True, source="t",
                                    label="lab", weight="w_mixed", sampled="normal")
        with pytest.raises(AdDuckDBError, match=r"^Threshold 'r' for 'ae@1': sampled='all' is not a sampling"):
            ad_duckdb.set_threshold(con, "ae@1", "r", "max_f1", source="t", label="lab", weight="w", sampled="all")
        with pytest.raises(AdDuckDBError, match=r"method 'quantile' does not use sampled="):
            ad_duckdb.set_threshold(con, "ae@1", "r", "quantile", target=0.99, sampled="normal")
        assert "r" not in {t.name for t in ad_duckdb.load_model(con, "ae@1").thresholds}
    finally:
        con.close()
    bad = CliRunner().invoke(cli, ["threshold", db, "ae@1", "r", "--method", "min_recall", "--target", "0.6",
                                   "--confident", "--source", "t", "--label", "lab", "--weight", "w_mixed",
                                   "--sampled", "normal", "--quiet"])
    assert bad.exit_code != 0 and "Threshold 'r' for 'ae@1': --sampled normal says every anomaly" in bad.output, \
        bad.output
    assert "--sampled rows" in bad.output and "evaluate" not in bad.output, bad.output
    bad = CliRunner().invoke(cli, ["threshold", db, "ae@1", "r", "--method", "max_f1", "--source", "t", "--label",
                                   "lab", "--sampled", "normal", "--quiet"])
    assert bad.exit_code != 0 and "--sampled normal describes" in bad.output and "--weight COLUMN" in bad.output, \
        bad.output


def test_compare_sampled_refused_without_weight_and_for_anomalies_of_differing_weights(db: str) -> None:
    con = ad_duckdb.connect(db, read_only=True)
    try:
        with pytest.raises(AdDuckDBError, match=r"^compare 'ae@1' and 'ae@2': sampled='normal' describes.*weight="):
            ad_duckdb.compare_versions(con, "ae@1", "ae@2", "t", label="lab", sampled="normal")
        with pytest.raises(AdDuckDBError, match=r"^compare 'ae@1' and 'ae@2': sampled='normal' says every anomaly "
                                                r"was kept.*'w_mixed' run from 1 to 20.*sampled='rows'"):
            ad_duckdb.compare_versions(con, "ae@1", "ae@2", "t", label="lab", weight="w_mixed", sampled="normal")
    finally:
        con.close()
    bad = CliRunner().invoke(cli, ["compare", db, "ae@1", "ae@2", "t", "--label", "lab", "--weight", "w_mixed",
                                   "--sampled", "normal"])
    assert bad.exit_code != 0 and "compare 'ae@1' and 'ae@2': --sampled normal says every anomaly" in bad.output, \
        bad.output
    assert "evaluate" not in bad.output, bad.output


def test_confident_threshold_on_sampled_normal_rows_takes_evaluates_intervals(db: str) -> None:
    """On every anomaly kept and normal rows weighing their merchant's rate, --sampled rows' recall interval counts
    a heavier stratum of missed anomalies that cannot be there: a --confident recall of 0.6 flagged down to 9.37
    (recall 0.81) where the anomalies drawn vouch for 12.37. With normal, the cut flags no more rows, and its
    intervals are evaluate --sampled normal's."""
    con = ad_duckdb.connect(db)
    try:
        kw = {"target": 0.6, "confident": True, "source": "t", "label": "lab", "weight": "w"}
        rows = ad_duckdb.set_threshold(con, "ae@1", "r_rows", "min_recall", **kw)
        normal = ad_duckdb.set_threshold(con, "ae@1", "r_normal", "min_recall", sampled="normal", **kw)
        p_rows = ad_duckdb.set_threshold(con, "ae@1", "p_rows", "min_precision", **{**kw, "target": 0.95})
        p_normal = ad_duckdb.set_threshold(con, "ae@1", "p_normal", "min_precision", sampled="normal",
                                           **{**kw, "target": 0.95})
        rep = ad_duckdb.evaluate(con, "ae@1", "t", label="lab", weight="w", sampled="normal")
        goals = ad_duckdb.load_model(con, "ae@1").metrics[store.GOALS]
        s, y, w = _rows(con, "ae@1", "SELECT * FROM t", "w")
    finally:
        con.close()
    assert normal.value > rows.value + 1.0, (normal.value, rows.value)  # a higher cut: fewer rows flagged
    assert p_normal.value <= p_rows.value  # a precision goal's cut no higher (recall no lower)
    # the recall lower end that met the target is evaluate's (weights.confusion(sampled='normal'))
    c = weights.curve(s, y, w, "normal")
    i = int(np.flatnonzero(c["threshold"] == normal.value)[0])
    assert weights.lower_ends(c)[1][i] >= 0.6
    assert weights.lower_ends(weights.curve(s, y, w))[1][i] < 0.6  # the audit reading did not vouch for it
    for th in (normal, p_normal):
        assert weights.SAMPLED_NORMAL in (th.chosen_on or ""), th.chosen_on
        got, want = thresholds.figure_intervals(th), rep.at_thresholds[th.name]
        for k in ("precision_lo", "precision_hi", "recall_lo", "recall_hi"):
            assert got[k] == pytest.approx(want[k], rel=1e-9), (th.name, k)
        want_c = weights.confusion(s, y, w, th.value, "normal")
        assert got["recall_lo"] == pytest.approx(want_c["recall_lo"], rel=1e-9)
    assert weights.SAMPLED_NORMAL not in (rows.chosen_on or "")
    # kept with the goal, for a retrain with carry_thresholds; a goal without it stays as it was
    assert goals["r_normal"]["sampled"] == "normal" and "sampled" not in goals["r_rows"]


def test_cli_threshold_sampled_normal_json_carries_it_and_evaluates_bounds(db: str) -> None:
    args = ["threshold", db, "ae@1", "{}", "--method", "min_recall", "--target", "0.6", "--confident", "--source",
            "t", "--label", "lab", "--weight", "w", "--format", "json", "--quiet"]
    got = CliRunner().invoke(cli, [*(a.format("c_normal") for a in args), "--sampled", "normal"])
    assert got.exit_code == 0, got.output
    doc = json.loads(got.stdout)
    plain = CliRunner().invoke(cli, [a.format("c_rows") for a in args])
    assert plain.exit_code == 0, plain.output
    assert doc["sampled"] == "normal" and "sampled" not in json.loads(plain.stdout)
    con = ad_duckdb.connect(db, read_only=True)
    try:
        rep = ad_duckdb.evaluate(con, "ae@1", "t", label="lab", weight="w", sampled="normal")
    finally:
        con.close()
    want = rep.at_thresholds["c_normal"]
    assert (doc["recall_lo"], doc["recall_hi"]) == pytest.approx((want["recall_lo"], want["recall_hi"]), rel=1e-9)
    assert doc["value"] > json.loads(plain.stdout)["value"]
    helped = CliRunner().invoke(cli, ["threshold", "--help"])
    assert "--sampled [rows|normal]" in helped.output and "every anomaly kept" in helped.output


def test_compare_sampled_normal_uses_delongs_paired_test_and_says_so(db: str) -> None:
    """Normal rows weighing 1 or 20 by a stratum whose rate rises with the score read as an audit's: compare joined
    each version's AUC-ROC interval (an interval of the difference some 0.24 wide). Said to be every anomaly kept,
    DeLong's paired test holds and is used, and the thresholds' intervals are evaluate --sampled normal's."""
    audit, r, sa, sb, y, w = _compared(db)
    assert audit.labelled is not None and audit.labelled.test == weights.PAIRED_AUDIT  # the default, as before
    j = r.labelled
    assert j is not None and j.test == PAIRED_DELONG, j.test
    p = weights.paired_auc_roc(sa, sb, y, w, sampled="normal")
    assert (j.auc_roc_diff_low, j.auc_roc_diff_high, j.p_value) == pytest.approx((p.low, p.high, p.p_value), rel=1e-9)
    assert j.auc_roc_diff_high - j.auc_roc_diff_low < (audit.labelled.auc_roc_diff_high
                                                       - audit.labelled.auc_roc_diff_low) / 10
    assert j.weights is not None and j.weights["sampled"] == "normal"
    assert audit.labelled.weights is not None and "sampled" not in audit.labelled.weights
    t = next(t for t in r.thresholds if t.name == "p99")
    want = weights.confusion(sa, y, w, float(t.value_a), "normal")  # type: ignore[arg-type]
    assert (t.recall_a_lo, t.recall_a_hi) == pytest.approx((want["recall_lo"], want["recall_hi"]), rel=1e-9)
    assert "DeLong's paired test holds" in str(r) and "DeLong's paired test):" in str(r)
    got = CliRunner().invoke(cli, ["compare", db, "ae@1", "ae@2", STRATA, "--label", "lab", "--weight", "w2",
                                   "--sampled", "normal", "--format", "json"])
    assert got.exit_code == 0, got.output
    doc = json.loads(got.stdout)["labelled"]
    assert doc["test"] == PAIRED_DELONG and doc["weights"]["sampled"] == "normal", doc
    helped = CliRunner().invoke(cli, ["compare", "--help"])
    assert "--sampled [rows|normal]" in helped.output and "DeLong's paired test holds" in helped.output


def test_compare_sampled_normal_tests_the_anomalies_only_one_version_catches_at_one_rate(
        db: str, tmp_path: Path) -> None:
    """Every anomaly kept (weight 1), the normal rows 1 or 20: at a cut where ae@2 alone catches 7 anomalies and ae@1
    alone none, the audit's reading (the default) gave the empty cell the normal rows' rate 1/20, expected 95% of
    those rows to be ae@2's if alike, and called 7 of 7 chance (p = 1). Said to be sampled normal, both anomaly cells
    were drawn at one rate: McNemar's 0.5, p = 2 / 2^7."""
    copy = tmp_path / "s.duckdb"
    copy.write_bytes(Path(db).read_bytes())
    con = ad_duckdb.connect(str(copy))
    try:
        ad_duckdb.set_threshold(con, "ae@1", "cut", "manual", value=6.0)
        ad_duckdb.set_threshold(con, "ae@2", "cut", "manual", value=3.0)
    finally:
        con.close()
    audit, r, sa, sb, y, w = _compared(str(copy))
    fa, fb = sa > 6.0, sb > 3.0
    only_b = int((y & fb & ~fa).sum())
    assert only_b >= 5 and not (y & fa & ~fb).any(), only_b  # the rows this test is about
    before = next(t for t in audit.thresholds if t.name == "cut").paired
    after = next(t for t in r.thresholds if t.name == "cut").paired
    assert before is not None and after is not None
    assert before[0].rows == after[0].rows == "anomalies"
    assert before[0].expected_b_share > 0.9 and before[0].p_value > 0.5  # the audit's caution, as before
    assert (after[0].only_a, after[0].only_b, after[0].expected_b_share) == (0, only_b, 0.5)
    assert after[0].p_value == pytest.approx(2 / 2 ** only_b, rel=1e-9)
    assert after[0].only_b_weighted == pytest.approx(float(w[y & fb & ~fa].sum()))
    # the normal rows' cells: both have rows, so each keeps its own rate either way
    assert after[1].expected_b_share == pytest.approx(before[1].expected_b_share, rel=1e-12)
    assert "ae@2 catches more anomalies, unlikely to be chance" in str(r)
    assert "ae@2 catches more anomalies" not in str(audit)

