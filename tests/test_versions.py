"""An analyst's retrained model over weeks: comparing two versions on the same rows, rolling back, and views that pin
a version. Real DuckDB files, real training, real onnxruntime."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli
from ad_duckdb.compare import compare_versions
from ad_duckdb.exceptions import BadInputError, ModelNotFoundError
from ad_duckdb.sqltext import shell_word

from conftest import FAST, make_transactions


@pytest.fixture(scope="module")
def versions_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """tx_ae@1 with a cut of the analyst's own, and tx_ae@2 retrained with --carry-thresholds."""
    path = str(tmp_path_factory.mktemp("versions") / "v.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=1500)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], seed=0, **FAST)
        ad_duckdb.set_threshold(con, "tx_ae@1", "cut", method="manual", value=3.0)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], seed=1, carry_thresholds=True,
                        **FAST)
    finally:
        con.close()
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def _sql_counts(path: str, threshold: str, top: int) -> tuple[int, int, int, int]:
    """What each version flags at ``threshold``, what both flag, and the top-``top`` overlap, in plain SQL."""
    con = ad_duckdb.connect(path, read_only=True)
    try:
        return con.execute(
            "WITH s AS (SELECT transaction_id, anomaly_score('tx_ae@1', count, amount) sa, "
            "anomaly_score('tx_ae@2', count, amount) sb, is_anomaly_at('tx_ae@1', $t, count, amount) fa, "
            "is_anomaly_at('tx_ae@2', $t, count, amount) fb FROM transactions) "
            "SELECT count(*) FILTER (WHERE fa), count(*) FILTER (WHERE fb), count(*) FILTER (WHERE fa AND fb), "
            "(SELECT count(*) FROM (SELECT transaction_id FROM s ORDER BY sa DESC LIMIT $n) "
            " JOIN (SELECT transaction_id FROM s ORDER BY sb DESC LIMIT $n) USING (transaction_id)) FROM s",
            {"t": threshold, "n": top}).fetchall()[0]
    finally:
        con.close()


def test_compare_counts_what_each_version_flags_and_both_flag(versions_db: str) -> None:
    # Before: no way to see how a retrain changed what is flagged but hand-written SQL with two model refs.
    con = ad_duckdb.connect(versions_db, read_only=True)
    try:
        r = compare_versions(con, "tx_ae@1", "tx_ae", "transactions", top=50)
    finally:
        con.close()
    assert (r.a, r.b, r.rows, r.top) == ("tx_ae@1", "tx_ae@2", 1500, 50)
    by_name = {t.name: t for t in r.thresholds}
    assert r.thresholds[0].name == "default" and {"cut", "p99"} <= set(by_name)
    for name in ("default", "cut"):
        t = by_name[name]
        fa, fb, both, top_overlap = _sql_counts(versions_db, name, 50)
        assert (t.flagged_a, t.flagged_b, t.both) == (fa, fb, both)
        assert r.top_overlap == top_overlap
    assert by_name["cut"].method_a == "manual" and by_name["cut"].chosen_on_b.startswith("carried from tx_ae@1")
    assert r.rank_correlation is not None and -1 <= r.rank_correlation <= 1


def test_compare_command_prints_the_table_and_json(versions_db: str) -> None:
    rc, out, err = invoke("compare", versions_db, "tx_ae@1", "tx_ae@2", "transactions", "--top", "20")
    assert rc == 0, err
    assert out.startswith("tx_ae@1 vs tx_ae@2 on 1500 rows of transactions")
    assert "flagged tx_ae@1" in out and "only tx_ae@2" in out and "carried from tx_ae@1" in out
    assert "top 20 scores: " in out and "rank correlation" in out
    rc, out, err = invoke("compare", versions_db, "tx_ae@1", "tx_ae@2", "transactions", "--format", "json",
                          "--where", "count > 5")
    assert rc == 0, err
    doc = json.loads(out)
    fa, fb, _, _ = _sql_counts(versions_db, "default", 100)
    assert doc["rows"] < 1500 and doc["thresholds"][0]["name"] == "default"
    assert doc["where"] == "count > 5"  # the rows a saved answer is about (it was left out)
    assert doc["thresholds"][0]["flagged_a"] <= fa and doc["thresholds"][0]["flagged_b"] <= fb


def test_compare_refuses_one_version_twice_and_names_a_missing_one(versions_db: str) -> None:
    con = ad_duckdb.connect(versions_db, read_only=True)
    try:
        with pytest.raises(BadInputError, match=r"'tx_ae@2' and 'tx_ae' are both tx_ae@2: name two versions"):
            compare_versions(con, "tx_ae@2", "tx_ae", "transactions")
        with pytest.raises(ModelNotFoundError, match="has no version 9"):
            compare_versions(con, "tx_ae@1", "tx_ae@9", "transactions")
        with pytest.raises(BadInputError, match="top= .* a whole number >= 1; got 0"):
            compare_versions(con, "tx_ae@1", "tx_ae@2", "transactions", top=0)
    finally:
        con.close()
    assert invoke("compare", versions_db, "tx_ae@1", "tx_ae@2", "transactions", "--where", "false")[0] == 7
    assert invoke("compare", versions_db, "tx_ae@1", "tx_ae@2", "no_such_table")[0] == 6


def test_compare_names_a_misspelt_where_filter_and_the_close_column(versions_db: str) -> None:
    # Before: DuckDB's bare "Binder Error: Referenced column "amout" not found ... LINE 1: ...(...) AS sb FROM
    # "transactions" WHERE (amout > 0", the filter unnamed, the excerpt our scoring query
    code, out, err = invoke("compare", versions_db, "tx_ae@1", "tx_ae@2", "transactions", "--where", "amout > 0")
    assert code == 6 and "--where 'amout > 0' does not run on 'transactions'" in err, out + err
    assert 'Candidate bindings: "amount"' in err and "LINE 1" not in err and "AS sb" not in err, err


def test_dropping_a_version_a_view_pins_names_the_view(tmp_path: pytest.TempPathFactory, versions_db: str) -> None:
    # Before: `drop --keep` said only "dropped tx_ae version(s) 1", and the dashboard's view pinned to 'tx_ae@1' failed
    # at its next refresh, far from the command that broke it.
    import shutil

    path = str(tmp_path / "pinned.duckdb")
    shutil.copy(versions_db, path)
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE VIEW dash_v1 AS SELECT anomaly_score('tx_ae@1', count, amount) AS s FROM transactions")
        con.execute("CREATE VIEW dash_latest AS SELECT anomaly_score('tx_ae', count, amount) AS s FROM transactions")
        con.execute("CREATE VIEW dash_v11 AS SELECT is_anomaly('tx_ae@11', count, amount) AS s FROM transactions")
    finally:
        con.close()
    rc, out, err = invoke("drop", path, "tx_ae", "--keep", "1", "--yes")
    assert rc == 0 and out.strip() == "dropped tx_ae version(s) 1", (out, err)
    assert "note: view dash_v1 calls 'tx_ae@1', no longer stored: its queries fail until it calls a stored version " \
           "('tx_ae@2', or 'tx_ae', which means it)" in err, err
    assert "dash_latest" not in err and "dash_v11" not in err
    con = ad_duckdb.connect(path)
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="view dash_v1 calls 'tx_ae@1'") as seen:
            ad_duckdb.drop_model(con, "tx_ae@2")  # the view's version is gone already: said again, as still broken
        assert "dash_latest" in str(seen[0].message) and "every version of 'tx_ae' is dropped" in str(seen[0].message)
    finally:
        con.close()


def test_importing_a_pinned_version_elsewhere_says_its_new_number(tmp_path: pytest.TempPathFactory,
                                                                  versions_db: str) -> None:
    # Before: the export of tx_ae@2 imported into a fresh database printed only "stored tx_ae@1", and nothing stored
    # said which version it had been, so a view copied from the warehouse pinning 'tx_ae@2' scored with another model.
    onnx = str(tmp_path / "v2.onnx")
    assert invoke("export", versions_db, "tx_ae@2", onnx)[0] == 0
    staging = str(tmp_path / "staging.duckdb")
    rc, out, err = invoke("import", staging, onnx)
    assert rc == 0 and out.strip() == "stored tx_ae@1 (exported as tx_ae@2: pin 'tx_ae@1' here)", (out, err)
    rc, out, _ = invoke("show", staging, "tx_ae@1", "--format", "json")
    assert json.loads(out)["source"] == "imported from v2.onnx (tx_ae@2; transactions)"
    rc, out, _ = invoke("import", staging, onnx)
    assert out.strip() == "already stored tx_ae@1 (exported as tx_ae@2: pin 'tx_ae@1' here)"


def test_a_dropped_pinned_version_names_the_one_version_left(tmp_path: pytest.TempPathFactory,
                                                             versions_db: str) -> None:
    # Before: "'tx_ae' now has version 2. ... pin one of those", with one version left to pin.
    import shutil

    path = str(tmp_path / "one_left.duckdb")
    shutil.copy(versions_db, path)
    con = ad_duckdb.connect(path)
    try:
        ad_duckdb.drop_model(con, "tx_ae@1")
        with pytest.raises(duckdb.Error, match=r"'tx_ae@1' was dropped .* now has version 2\. Version numbers are "
                                            r"never reused: pin 'tx_ae@2', or use 'tx_ae' \(its promoted version, else its newest\)\."):
            con.execute("SELECT anomaly_score('tx_ae@1', 5, 100)").fetchall()
    finally:
        con.close()


def test_compare_of_one_version_twice_suggests_two_that_exist(tmp_path: pytest.TempPathFactory) -> None:
    # Before: a name with one version was told "name two versions, e.g. 'm@1' and 'm@1'".
    con = ad_duckdb.connect(str(tmp_path / "one.duckdb"))
    try:
        make_transactions(con, n=300)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], seed=0, **FAST)
        with pytest.raises(BadInputError, match=r"'tx_ae' and 'tx_ae@1' are both tx_ae@1: 'tx_ae' has one version, "
                                                r"tx_ae@1; train or import another to compare with it\.") as e:
            compare_versions(con, "tx_ae", "tx_ae@1", "transactions")
        assert "'tx_ae@1' and 'tx_ae@1'" not in str(e.value)
    finally:
        con.close()


def test_compare_of_tied_scores_has_no_rank_correlation(versions_db: str) -> None:
    # Before: ranks were row numbers, so rows of one score got ranks in scan order and a table of identical rows
    # reported a rank correlation near 1 (0.86 seen) instead of none.
    con = ad_duckdb.connect(versions_db, read_only=True)
    try:
        r = compare_versions(con, "tx_ae@1", "tx_ae@2", "SELECT 3 AS count, 50.0 AS amount FROM range(40)")
        assert r.rows == 40 and r.rank_correlation is None
        # two groups of ties: Spearman's average ranks give +-1 exactly, as scipy.stats.spearmanr does
        r = compare_versions(con, "tx_ae@1", "tx_ae@2",
                             "SELECT 3 AS count, (i % 2) * 500.0 AS amount FROM range(40) r(i)")
        assert r.rank_correlation is not None and abs(r.rank_correlation) == pytest.approx(1.0)
    finally:
        con.close()


def test_importing_under_another_name_keeps_the_files_own_ref_in_source(tmp_path: pytest.TempPathFactory,
                                                                         versions_db: str) -> None:
    # Before: the source was written after the rename, so the export of tx_ae@2 imported as 'fraud' kept
    # 'fraud@2', a ref that never existed anywhere, instead of the file's tx_ae@2.
    onnx = str(tmp_path / "v2.onnx")
    assert invoke("export", versions_db, "tx_ae@2", onnx)[0] == 0
    staging = str(tmp_path / "renamed.duckdb")
    rc, out, err = invoke("import", staging, onnx, "--name", "fraud")
    assert rc == 0 and out.strip() == "stored fraud@1 (exported as tx_ae@2: pin 'fraud@1' here)", (out, err)
    rc, out, _ = invoke("show", staging, "fraud@1", "--format", "json")
    assert json.loads(out)["source"] == "imported from v2.onnx (tx_ae@2; transactions)"


def test_dropping_a_version_two_views_pin_says_they_fail(tmp_path: pytest.TempPathFactory, versions_db: str) -> None:
    # Before: "view a ...; view b ..., dropped now: their queries fail until it calls a stored version".
    import shutil

    path = str(tmp_path / "two_views.duckdb")
    shutil.copy(versions_db, path)
    con = ad_duckdb.connect(path)
    try:
        for v in ("dash_a", "dash_b"):
            con.execute(f"CREATE VIEW {v} AS SELECT anomaly_score('tx_ae@1', count, amount) AS s FROM transactions")
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as seen:
            ad_duckdb.drop_model(con, "tx_ae@1")
        assert "view dash_a calls 'tx_ae@1'; view dash_b calls 'tx_ae@1', no longer stored: their queries fail until " \
               "they call a stored version ('tx_ae@2', or 'tx_ae', which means it)" in str(seen[0].message)
    finally:
        con.close()


# ten rows far out (distinct scores, above the rest), then thirty identical ordinary rows (one score)
_TEN_OUT_THIRTY_SAME = ("SELECT 1 AS count, 5000.0 + 1000 * i AS amount FROM range(10) r(i) "
                        "UNION ALL SELECT 3, 50.0 FROM range(30)")


def test_compare_says_how_many_rows_tie_at_the_top_cut(versions_db: str) -> None:
    # Before: with many rows sharing the N-th highest score, the top-N overlap counted whichever tied rows came
    # first in read order, and nothing said that the "x of N in both" depended on that order.
    con = ad_duckdb.connect(versions_db, read_only=True)
    try:
        r = compare_versions(con, "tx_ae@1", "tx_ae@2", _TEN_OUT_THIRTY_SAME, top=12)
        assert (r.rows, r.top_tied_a, r.top_tied_b) == (40, 30, 30)
        # the cut falls between the ten distinct scores and the tied thirty: no tie at the cut
        r = compare_versions(con, "tx_ae@1", "tx_ae@2", _TEN_OUT_THIRTY_SAME, top=10)
        assert (r.top_overlap, r.top_tied_a, r.top_tied_b) == (10, 0, 0)
        # every row in the top: there is no cut to tie at
        r = compare_versions(con, "tx_ae@1", "tx_ae@2", _TEN_OUT_THIRTY_SAME, top=40)
        assert (r.top_overlap, r.top_tied_a, r.top_tied_b) == (40, 0, 0)
    finally:
        con.close()
    rc, out, err = invoke("compare", versions_db, "tx_ae@1", "tx_ae@2", _TEN_OUT_THIRTY_SAME, "--top", "12")
    assert rc == 0, err
    assert ("(30 rows of tx_ae@1 and 30 rows of tx_ae@2 tie at the cut: the overlap depends on their order)"
            in out), out
    rc, out, err = invoke("compare", versions_db, "tx_ae@1", "tx_ae@2", _TEN_OUT_THIRTY_SAME, "--top", "10")
    assert rc == 0, err
    assert "tie at the cut" not in out, out
    rc, out, err = invoke("compare", versions_db, "tx_ae@1", "tx_ae@2", _TEN_OUT_THIRTY_SAME, "--top", "12",
                          "--format", "json")
    assert rc == 0, err
    doc = json.loads(out)
    assert (doc["top_tied_a"], doc["top_tied_b"]) == (30, 30)


def test_importing_other_features_under_a_stored_name_says_so_as_training_does(tmp_path: pytest.TempPathFactory,
                                                                                versions_db: str) -> None:
    # train() warns when 'name' will mean a version of other features (a query passing the old columns keeps running
    # when their count is the same, each value scored as the new feature in its place); import_model said nothing.
    con = ad_duckdb.connect(str(tmp_path / "imp.duckdb"))
    try:
        make_transactions(con, n=300)
        ad_duckdb.train(con, "swapped", "transactions", features=["amount", "count"], **FAST)
        onnx = ad_duckdb.export_model(con, "swapped", tmp_path / "swapped.onnx")
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        with pytest.warns(ad_duckdb.AdDuckDBWarning,
                          match=r"'tx_ae@2' takes \(amount, count\), but 'tx_ae@1' took \(count, amount\)") as got:
            assert ad_duckdb.import_model(con, onnx, name="tx_ae").ref == "tx_ae@2"
        assert got[0].filename == __file__  # said at the caller's line
    finally:
        con.close()


def test_readme_compare_call_works_after_import_ad_duckdb_alone() -> None:
    """The README's Python call is `ad_duckdb.compare.compare_versions(con, ...)`: after a plain `import ad_duckdb`
    (a fresh process, where no test has imported the submodule) it raised AttributeError."""
    import subprocess
    import sys

    code = ("import ad_duckdb\n"
            "con = ad_duckdb.connect(':memory:')\n"
            "con.execute('CREATE TABLE t AS SELECT i::DOUBLE AS a, (i % 7)::DOUBLE AS b FROM range(300) r(i)')\n"
            "ad_duckdb.train(con, 'm', 't', features=['a', 'b'], epochs=1)\n"
            "ad_duckdb.train(con, 'm', 't', features=['a', 'b'], epochs=1, seed=1)\n"
            "print(ad_duckdb.compare.compare_versions(con, 'm@1', 'm@2', 't').rows)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[-1] == "300"


def test_compare_says_why_a_threshold_of_the_old_version_is_null_in_the_new(versions_db: str, tmp_path: Path) -> None:
    path = str(tmp_path / "v3.duckdb")
    shutil.copyfile(versions_db, path)
    con = ad_duckdb.connect(path)
    try:  # a retrain without carry_thresholds: the analyst's 'cut' stays with the versions that had it
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], seed=2, **FAST)
    finally:
        con.close()
    rc, out, err = invoke("compare", path, "tx_ae@1", "tx_ae@3", "transactions")
    assert rc == 0, err
    assert [ln.split()[2] for ln in out.splitlines() if ln.startswith("cut ")] == ["NULL"], out
    assert (f"note: tx_ae@3 has no threshold 'cut' (thresholds belong to one version): set it again with "
            f"`ad-duckdb threshold {shell_word(path)} tx_ae@3 cut ...`, or give the next retrain --carry-thresholds") in err, err
    assert "note:" not in invoke("compare", path, "tx_ae@1", "tx_ae@2", "transactions")[2]  # carried: no note


# the analyst's labelled rows: every 100th row's count inflated twentyfold, its amount left as it was
LABELLED = ("(SELECT transaction_id, CASE WHEN transaction_id % 100 = 0 THEN count * 20 ELSE count END AS count, "
            "amount, (transaction_id % 100 = 0)::INTEGER AS label, "
            "CASE WHEN transaction_id % 100 = 0 THEN 'fraud' ELSE 'ok' END AS verdict, "
            "CASE WHEN transaction_id % 7 = 0 THEN NULL ELSE (transaction_id % 100 = 0)::INTEGER END AS gappy "
            "FROM transactions)")


def test_compare_with_labels_judges_both_versions_as_scikit_learn_and_delong_do(versions_db: str) -> None:
    """compare --label: each version's AUC-ROC, AUC-PR, precision and recall at each threshold on the same rows, and
    DeLong's paired test of the AUC-ROC difference (before, a retrain's gain could only be read from two evaluate
    runs, with no way to tell it from chance)."""
    import numpy as np
    from sklearn.metrics import average_precision_score, roc_auc_score

    con = ad_duckdb.connect(versions_db, read_only=True)
    try:
        r = compare_versions(con, "tx_ae@1", "tx_ae@2", LABELLED, label="label")
        sa, sb, y = (np.array(c) for c in zip(*con.execute(
            f"SELECT anomaly_score('tx_ae@1', count, amount), anomaly_score('tx_ae@2', count, amount), label "
            f"FROM {LABELLED}").fetchall(), strict=True))
        flagged = con.execute(f"SELECT count(*) FILTER (WHERE is_anomaly('tx_ae@1', count, amount) AND label = 1), "
                              f"count(*) FILTER (WHERE is_anomaly('tx_ae@1', count, amount)) FROM {LABELLED}"
                              ).fetchall()[0]
    finally:
        con.close()
    j = r.labelled
    assert j is not None and (j.rows, j.anomalies) == (1500, 15)
    assert j.auc_roc_a == pytest.approx(roc_auc_score(y, sa), abs=1e-12)
    assert j.auc_roc_b == pytest.approx(roc_auc_score(y, sb), abs=1e-12)
    assert j.auc_pr_a == pytest.approx(average_precision_score(y, sa), abs=1e-12)
    assert j.auc_pr_b == pytest.approx(average_precision_score(y, sb), abs=1e-12)
    assert j.auc_roc_diff == pytest.approx(j.auc_roc_b - j.auc_roc_a)
    assert j.auc_roc_diff_low <= j.auc_roc_diff <= j.auc_roc_diff_high and 0 <= j.p_value <= 1
    default = next(t for t in r.thresholds if t.name == "default")
    assert default.precision_a == pytest.approx(flagged[0] / flagged[1]) and default.recall_a == flagged[0] / 15


def test_delongs_paired_test_matches_its_definition() -> None:
    """The fast form (midranks) against DeLong's structural components computed pair by pair, ties counted half."""
    import math

    import numpy as np

    from ad_duckdb.pairedauc import paired_auc_roc

    rng = np.random.default_rng(1)
    y = rng.random(80) < 0.3
    a = rng.normal(size=80) + y
    b = np.round(a + rng.normal(size=80) * 0.5 + 0.3 * y, 1)  # rounded: ties within and across the classes
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)

    def psi(u: float, w: float) -> float:
        return 1.0 if u > w else 0.5 if u == w else 0.0

    v10 = np.array([[np.mean([psi(s[i], s[k]) for k in neg]) for i in pos] for s in (a, b)])
    v01 = np.array([[np.mean([psi(s[i], s[k]) for i in pos]) for k in neg] for s in (a, b)])
    cov = np.cov(v10) / len(pos) + np.cov(v01) / len(neg)
    diff = v10[1].mean() - v10[0].mean()
    se = math.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    # the statistic read as a Student t of Welch-Satterthwaite's degrees of freedom (scipy's t as the reference)
    from scipy import stats

    part_pos, part_neg = np.var(v10[1] - v10[0], ddof=1) / len(pos), np.var(v01[1] - v01[0], ddof=1) / len(neg)
    df = (part_pos + part_neg) ** 2 / (part_pos**2 / (len(pos) - 1) + part_neg**2 / (len(neg) - 1))
    got = paired_auc_roc(a, b, y)
    assert (got.auc_a, got.auc_b, got.diff) == pytest.approx((v10[0].mean(), v10[1].mean(), diff), abs=1e-12)
    assert got.df == pytest.approx(df, rel=1e-9)
    assert got.p_value == pytest.approx(2 * stats.t.sf(abs(diff) / se, df), rel=1e-9)
    q = stats.t.ppf(0.975, df)
    assert (got.low, got.high) == pytest.approx((diff - q * se, diff + q * se), rel=1e-4)
    same = paired_auc_roc(a, a, y)
    assert (same.diff, same.p_value) == (0.0, 1.0)


def test_compare_with_a_label_it_cannot_use_says_why_as_evaluate_does(versions_db: str) -> None:
    con = ad_duckdb.connect(versions_db, read_only=True)
    try:
        for label, kind, says in (
                ("lable", ad_duckdb.SourceNotFoundError, r"label column 'lable' is not in"),
                ("verdict", BadInputError, r"'verdict' .* is VARCHAR, not 0 \(normal\) / 1 \(anomaly\).*'fraud'"),
                ("gappy", BadInputError, r"'gappy' is NULL \(or NaN\) in \d+ of the 1500 rows"),
                ("count", BadInputError, r"label column 'count' is one of its features")):
            with pytest.raises(kind, match=says):
                compare_versions(con, "tx_ae@1", "tx_ae@2", LABELLED, label=label)
        with pytest.raises(ad_duckdb.NoRowsError, match=r"1 labelled anomaly and 99 normal row\(s\).*at least 2"):
            compare_versions(con, "tx_ae@1", "tx_ae@2", LABELLED, label="label", where="transaction_id <= 100")
    finally:
        con.close()


def test_compare_command_with_a_label_prints_the_verdict_and_json(versions_db: str) -> None:
    rc, out, err = invoke("compare", versions_db, "tx_ae@1", "tx_ae@2", LABELLED, "--label", "label")
    assert rc == 0, err
    assert "precision tx_ae@1" in out and "recall tx_ae@2" in out
    assert "on 1500 rows labelled by label (15 anomalies): AUC-ROC tx_ae@1 " in out
    # both versions rank the 15 anomalies first: DeLong's variance is 0, and the score intervals are joined instead
    assert ("DeLong's paired test" in out or "DeLong's variance is 0" in out) and \
        ("unlikely to be chance" in out or "could be chance" in out), out
    rc, out, err = invoke("compare", versions_db, "tx_ae@1", "tx_ae@2", LABELLED, "--label", "label",
                          "--format", "json")
    assert rc == 0, err
    j = json.loads(out)["labelled"]
    assert j["anomalies"] == 15 and set(j) >= {"auc_roc_a", "auc_roc_b", "auc_pr_a", "auc_pr_b", "p_value"}


@pytest.fixture(scope="module")
def three_versions_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """m@1 and m@2 of (count, amount), m@3 of (count, amount_d): a retrain on other features."""
    path = tmp_path_factory.mktemp("three") / "three.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        make_transactions(con, n=300)
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], **FAST)
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], seed=1, **FAST)
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="takes"):
            ad_duckdb.train(con, "m", "transactions", features=["count", "amount_d"], **FAST)
    finally:
        con.close()
    return path


def _three_versions(template: Path, path: str, view: str | None = None) -> None:
    """A byte copy of three_versions_file's models at ``path`` (each test changes its own); ``view``, a CREATE VIEW
    run after them (a dashboard calling one of them)."""
    shutil.copyfile(template, path)
    if view is not None:
        con = ad_duckdb.connect(path)
        try:
            con.execute(view)
        finally:
            con.close()


def test_dropping_the_latest_says_the_name_now_means_a_version_of_other_features(tmp_path: Path, three_versions_file: Path) -> None:
    # Before: `drop m@3` said only "dropped m version(s) 3"; 'm' then meant m@2, of (count, amount), and a view passing
    # m@3's (count, amount_d) kept running, each value scored as the column in its place. train and import say so.
    path = str(tmp_path / "rollback.duckdb")
    _three_versions(three_versions_file, path, "CREATE VIEW dash AS SELECT anomaly_score('m', count, amount_d) AS s FROM transactions")
    rc, out, err = invoke("drop", path, "m@3", "--yes")
    assert rc == 0 and out.strip() == "dropped m version(s) 3: 'm' is now m@2", (out, err)
    assert ("note: 'm' is now m@2, which takes (count, amount), but m@3 took (count, amount_d): queries calling 'm' "
            "must pass m@2's columns in its order") in err, err
    assert "view dash calls 'm'" in err, err
    # the same drop from Python warns; pruning older versions leaves 'm' as it was, and says nothing of it
    _three_versions(three_versions_file, str(tmp_path / "py.duckdb"))
    con = ad_duckdb.connect(str(tmp_path / "py.duckdb"))
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"'m' is now m@2, which takes \(count, amount\)") as got:
            assert ad_duckdb.drop_model(con, "m@3") == [3]
        assert got[0].filename == __file__
    finally:
        con.close()
    rc, out, err = invoke("drop", path, "m", "--keep", "1", "--yes")
    assert rc == 0 and out.strip() == "dropped m version(s) 1", (out, err)
    assert "is now" not in err, err


def test_a_view_pinning_a_dropped_version_is_pointed_at_a_stored_version_of_its_columns(tmp_path: Path, three_versions_file: Path) -> None:
    # Before: the note advised 'm@3' (the latest), which takes other columns: the view then failed with a
    # feature-count error, or, with as many columns, scored each value as another feature.
    path = str(tmp_path / "pinned.duckdb")
    _three_versions(three_versions_file, path, "CREATE VIEW dash_v2 AS SELECT anomaly_score('m@2', count, amount) AS s FROM transactions")
    shutil.copyfile(path, str(tmp_path / "pruned.duckdb"))
    rc, out, err = invoke("drop", path, "m@2", "--yes")
    assert rc == 0, err
    assert ("note: view dash_v2 calls 'm@2', no longer stored: its queries fail until it calls a stored version: "
            "'m@1' takes the columns 'm@2' took (count, amount)") in err, err
    assert "('m@3', or 'm', which means it)" not in err, err
    # pruned with m@1: the view's columns are now in no stored version
    rc, _, err = invoke("drop", str(tmp_path / "pruned.duckdb"), "m", "--keep", "1", "--yes")
    assert rc == 0, err
    assert "view dash_v2 calls 'm@2', no longer stored" in err, err
    assert "'m@2' took (count, amount), which no stored version takes ('m@3' takes (count, amount_d))" in err, err


def test_the_old_columns_after_a_retrain_on_other_features_are_told_the_version_that_takes_them(
        tmp_path: Path) -> None:
    # Before: "got 2 feature argument(s), but model 'm@3' takes 2 ..." named only the new version's call; the old
    # query's own version, still stored, was not named, so the fix looked like rewriting every dashboard.
    path = str(tmp_path / "arity.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=300)
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], **FAST)
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="takes"):
            ad_duckdb.train(con, "m", "transactions", features=["count", "amount", "amount_d"], **FAST)
        with pytest.raises(duckdb.Error, match=r"'m@1', still stored, takes 2: \(count, amount\): pin it where a "
                                               r"query keeps those columns: anomaly_score\('m@1', count, amount\)"):
            con.execute("SELECT anomaly_score('m', count, amount) FROM transactions").fetchall()
        with pytest.raises(duckdb.Error, match=r"is_anomaly_at\('m@1', 'threshold_name', count, amount\)"):
            con.execute("SELECT is_anomaly_at('m', 'default', count, amount) FROM transactions").fetchall()
        with pytest.raises(duckdb.Error) as e:  # no stored version takes 1 column: nothing more to say
            con.execute("SELECT anomaly_score('m', count) FROM transactions").fetchall()
        assert "pin it where" not in str(e.value)
    finally:
        con.close()


def test_threshold_says_which_version_it_was_stored_for(tmp_path: Path, three_versions_file: Path) -> None:
    # Before: "stored threshold 'cut' = 20 (manual)": a threshold belongs to one version, and 'm' named none.
    path = str(tmp_path / "th.duckdb")
    _three_versions(three_versions_file, path)
    rc, out, err = invoke("threshold", path, "m", "cut", "--method", "manual", "--value", "20")
    assert rc == 0 and re.fullmatch(r"stored threshold 'cut' = 20 \(manual, flagged_share [0-9.]+\) for m@3", out.splitlines()[0]), \
        (out, err)
    rc, out, err = invoke("threshold", path, "m@1", "cut", "--method", "manual", "--value", "12")
    assert rc == 0 and re.fullmatch(r"stored threshold 'cut' = 12 \(manual, flagged_share [0-9.]+\) for m@1", out.splitlines()[0]), \
        (out, err)


def test_show_says_which_version_the_name_means(tmp_path: Path, three_versions_file: Path) -> None:
    # Before: `show m@2` printed the version alone, nothing of m@3 beside it, nor that 'm' (what dashboards call) now
    # means m@3, of other columns; the only hint was the pinned 'm@2' in its "score with" line.
    path = str(tmp_path / "show.duckdb")
    _three_versions(three_versions_file, path)
    rc, out, err = invoke("show", path, "m@2")
    assert rc == 0, err
    assert out.splitlines()[1] == "versions: 1, 2, 3; 'm' is m@3, of other columns (count, amount_d)", out
    rc, out, err = invoke("show", path, "m@1")
    assert out.splitlines()[1] == "versions: 1, 2, 3; 'm' is m@3, of other columns (count, amount_d)", out
    rc, out, err = invoke("show", path, "m")
    assert rc == 0 and out.splitlines()[1] == "versions: 1, 2, 3; 'm' is this one, m@3", out
    doc = json.loads(invoke("show", path, "m@2", "--format", "json")[1])
    assert (doc["versions"], doc["latest_ref"]) == ([1, 2, 3], "m@3")
    con = ad_duckdb.connect(path)
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="'m' is now m@2"):
            ad_duckdb.drop_model(con, "m@3")
    finally:
        con.close()
    rc, out, err = invoke("show", path, "m@1")
    assert out.splitlines()[1] == "versions: 1, 2; 'm' is m@2, of the same columns", out


def test_list_marks_the_version_the_bare_name_means(tmp_path: Path, three_versions_file: Path) -> None:
    # Before: list printed every version alike; which one 'm' (what dashboards call) scores with was left to the
    # reader, and a damaged newest version, with which 'm' fails, read as one damaged row among good ones.
    path = str(tmp_path / "list.duckdb")
    _three_versions(three_versions_file, path)
    rows = json.loads(invoke("list", path, "--format", "json")[1])
    assert [(r["version"], r["latest"], r["status"]) for r in rows] == [(1, False, "ok"), (2, False, "ok"),
                                                                         (3, True, "ok")]
    rc, out, _ = invoke("list", path)
    header, _, *lines = out.splitlines()
    assert header.split()[-2:] == ["latest", "status"] and [ln.split()[-2] for ln in lines] == ["no", "no", "yes"]


def test_a_threshold_missing_from_the_latest_names_the_version_that_has_it(tmp_path: Path, three_versions_file: Path) -> None:
    # Before: "pin the version it was set on ('name@N')": after a retrain without carry_thresholds, the dashboard's
    # author had to find which of the stored versions held 'cut' (SELECT ... FROM ad_thresholds).
    path = str(tmp_path / "th_home.duckdb")
    _three_versions(three_versions_file, path)
    con = ad_duckdb.connect(path)
    try:
        ad_duckdb.set_threshold(con, "m@1", "cut", "manual", value=3.0)
        ad_duckdb.set_threshold(con, "m@2", "cut", "manual", value=4.0)
        for sql in ("SELECT is_anomaly_at('m', 'cut', count, amount_d) FROM transactions",
                    "SELECT anomaly_threshold('m', 'cut')"):
            with pytest.raises(duckdb.Error, match=r"has no threshold 'cut'.* 'cut' is set on m@2 \(and m@1\): pin "
                                                   r"'m@2' where a query needs it"):
                con.execute(sql).fetchall()
        with pytest.raises(duckdb.Error) as e:  # a name no version has: nothing to point at
            con.execute("SELECT anomaly_threshold('m', 'nope')").fetchall()
        assert "is set on" not in str(e.value)
    finally:
        con.close()


def test_compare_takes_a_label_column_named_like_its_own_score_columns(versions_db: str) -> None:
    """A label column named sa or sb (any case) was refused as "must name a column ... holding 1 or 0", though it
    held just that: the comparison's own score columns took those names in its query."""
    con = ad_duckdb.connect(versions_db, read_only=True)
    try:
        want = compare_versions(con, "tx_ae@1", "tx_ae@2", LABELLED, label="label").labelled
        for name in ("sa", "SB"):
            got = compare_versions(con, "tx_ae@1", "tx_ae@2", f"SELECT *, label AS {name} FROM {LABELLED}",
                                   label=name).labelled
            assert got is not None and want is not None
            assert (got.rows, got.anomalies, got.auc_roc_a, got.auc_roc_b) == (
                want.rows, want.anomalies, want.auc_roc_a, want.auc_roc_b)
    finally:
        con.close()


def test_compare_reads_a_dataframe_by_its_name_as_the_other_functions_do(versions_db: str) -> None:
    """In a notebook, compare_versions(con, "tx_ae@1", "tx_ae@2", "df") said "cannot read the source 'df' ... Did you
    mean 'df'?": it read the source through a cursor of its own that did not know the caller's DataFrames, which
    train, score and evaluate read by their variable's name."""
    con = ad_duckdb.connect(versions_db, read_only=True)
    try:
        df = con.sql("SELECT *, (amount > 400)::INTEGER AS label FROM transactions").df()  # noqa: F841  (by name)
        on_table = compare_versions(con, "tx_ae@1", "tx_ae@2", "SELECT *, (amount > 400)::INTEGER AS label "
                                    "FROM transactions", label="label")
        for source in ("df", "SELECT * FROM df WHERE transaction_id > 0"):
            got = compare_versions(con, "tx_ae@1", "tx_ae@2", source, label="label")
            assert (got.rows, got.top_overlap) == (on_table.rows, on_table.top_overlap)
            assert got.rank_correlation == pytest.approx(on_table.rank_correlation, rel=1e-9)  # DuckDB's sum order
            assert got.labelled is not None and on_table.labelled is not None
            assert (got.labelled.auc_roc_a, got.labelled.auc_roc_b, got.labelled.anomalies) == pytest.approx(
                (on_table.labelled.auc_roc_a, on_table.labelled.auc_roc_b, on_table.labelled.anomalies), rel=1e-12)
    finally:
        con.close()


def test_compare_with_inverted_labels_says_so_as_evaluate_does(versions_db: str) -> None:
    """compare --label on labels with 1 on the normal rows (1 = inlier) judged both versions at AUC-ROC near 0 with
    no word, and its verdict named the version that ranks the real anomalies worse as the better one; evaluate
    and threshold ask whether the label is inverted."""
    inverted = f"(SELECT *, 1 - label AS inlier FROM {LABELLED})"
    con = ad_duckdb.connect(versions_db, read_only=True)
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"Is label column 'inlier' inverted\?") as got:
            r = compare_versions(con, "tx_ae@1", "tx_ae@2", inverted, label="inlier")
        assert r.labelled is not None and max(r.labelled.auc_roc_a, r.labelled.auc_roc_b) < 0.3
        assert len(got) == 1 and got[0].filename == __file__
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # right labels: no such note
            compare_versions(con, "tx_ae@1", "tx_ae@2", LABELLED, label="label")
    finally:
        con.close()
    rc, out, err = invoke("compare", versions_db, "tx_ae@1", "tx_ae@2", inverted, "--label", "inlier")
    assert rc == 0, err
    assert "note: " in err and "Is label column 'inlier' inverted?" in err, err


def test_compare_gives_no_precision_to_a_threshold_that_flags_no_row(versions_db: str, tmp_path: Path) -> None:
    """compare --label printed precision 0.000 (JSON 0.0) for a threshold that flags no row, read as every flag
    wrong; evaluate prints '-' there, as a precision of no flags is undefined."""
    path = str(tmp_path / "high.duckdb")
    shutil.copyfile(versions_db, path)
    con = ad_duckdb.connect(path)
    try:
        for ref in ("tx_ae@1", "tx_ae@2"):
            ad_duckdb.set_threshold(con, ref, "never", method="manual", value=1e9)
        r = compare_versions(con, "tx_ae@1", "tx_ae@2", LABELLED, label="label")
    finally:
        con.close()
    never = next(t for t in r.thresholds if t.name == "never")
    assert (never.flagged_a, never.flagged_b) == (0, 0)
    assert (never.precision_a, never.precision_b) == (None, None) and (never.recall_a, never.recall_b) == (0.0, 0.0)
    rc, out, err = invoke("compare", path, "tx_ae@1", "tx_ae@2", LABELLED, "--label", "label")
    assert rc == 0, err
    cells = next(line for line in out.splitlines() if line.startswith("never")).split()
    # name, the two values, flagged a / b, both, only a / b, then precision a, recall a, precision b, recall b (a
    # recall with its 95% interval, "0.000 (0.000-0.0821)"; a precision of no flags has none)
    assert [cells[8], cells[9], cells[11], cells[12]] == ["-", "0.000", "-", "0.000"], cells
    assert cells[10].startswith("(0.000-") and cells[13].startswith("(0.000-"), cells
    rc, out, err = invoke("compare", path, "tx_ae@1", "tx_ae@2", LABELLED, "--label", "label", "--format", "json")
    assert rc == 0, err
    j = next(t for t in json.loads(out)["thresholds"] if t["name"] == "never")
    assert (j["precision_a"], j["precision_b"], j["recall_a"]) == (None, None, 0.0)


def test_compare_rank_correlation_is_the_same_on_every_run(versions_db: str) -> None:
    # `compare --format json` printed 0.4581866427967568 on one run and 0.4581866427967593 on the next: DuckDB's
    # parallel corr() adds its partial sums in whichever order the threads finish, so a nightly diff of the JSON
    # (or a check against a stored answer) saw a change where there was none.
    from scipy.stats import spearmanr

    # enough rows for DuckDB to split the aggregate over threads; ties in both versions' scores
    source = ("SELECT transaction_id * 100 + i AS transaction_id, count + i % 5 AS count, amount + (i % 11) * 3 AS "
              "amount FROM transactions, range(40) r(i)")
    runs = set()
    for _ in range(6):
        rc, out, err = invoke("compare", versions_db, "tx_ae@1", "tx_ae@2", source, "--format", "json")
        assert rc == 0, err
        runs.add(json.loads(out)["rank_correlation"])
    assert len(runs) == 1, runs
    con = ad_duckdb.connect(versions_db, read_only=True)
    try:
        sa, sb = zip(*con.execute(f"SELECT anomaly_score('tx_ae@1', count, amount), anomaly_score('tx_ae@2', count, "
                                  f"amount) FROM ({source})").fetchall(), strict=True)
    finally:
        con.close()
    assert runs.pop() == pytest.approx(spearmanr(sa, sb).statistic, rel=1e-12, abs=1e-12)


def test_a_comparison_prints_the_table_the_compare_command_prints(versions_db: str) -> None:
    """print(compare_versions(...)) in a notebook dumped the dataclass, every threshold's every field on one line;
    it shows the command's table now (the same text), a notebook cell the same, and repr() stays one short line."""
    con = ad_duckdb.connect(versions_db, read_only=True)
    try:
        plain = compare_versions(con, "tx_ae@1", "tx_ae@2", "transactions", top=20, where="count > 1")
        judged = compare_versions(con, "tx_ae@1", "tx_ae@2", LABELLED, label="label")
    finally:
        con.close()
    shown: list[str] = []
    printer = type("Printer", (), {"text": lambda self, t: shown.append(t)})()
    for r, extra in ((plain, ["--top", "20", "--where", "count > 1"]), (judged, ["--label", "label"])):
        rc, out, err = invoke("compare", versions_db, "tx_ae@1", "tx_ae@2", r.source, *extra)
        assert rc == 0, err
        assert str(r) == out.rstrip("\n")
        r._repr_pretty_(printer, False)
        assert shown.pop() == str(r)
        short = repr(r)
        assert len(short) < 300 and "\n" not in short and short.startswith("VersionComparison(a='tx_ae@1', "
                                                                           "b='tx_ae@2', rows="), short
        assert "print(" in short, short
    assert "only tx_ae@2" in str(plain) and "top 20 scores: " in str(plain) and "DeLong" in str(judged)


def test_compare_verdict_on_few_anomalies_says_what_the_test_can_tell() -> None:
    """The p-value is a Student t's now (its size holds on 3 anomalies), so a difference found stands; but on so few
    a clearly better version goes unseen in most draws, and "neither version is shown better" read as "alike"."""
    from ad_duckdb.compare import LabelledComparison, VersionComparison

    def said(anomalies: int, p: float) -> str:
        j = LabelledComparison("y", 300, anomalies, 0.80, 0.95, 0.3, 0.5, 0.15, 0.02, 0.28, p, df=anomalies - 1.0)
        return str(VersionComparison("m@1", "m@2", "t", 300, 100, 60, 0.8, labelled=j))

    found, unseen = said(3, 0.01), said(3, 0.4)
    assert "m@2 ranks the anomalies better" in found and "allows for only 3 labelled anomalies" in found, found
    assert "label more anomalies" in found and "Student's t on 2.0 degrees of freedom" in found, found
    assert "neither version is shown better" in unseen and "says little about whether the versions are alike" in \
        unseen and "label more anomalies" in unseen, unseen
    assert "label more anomalies" not in said(10, 0.01) + said(10, 0.4)


def test_a_later_drop_does_not_point_a_view_broken_earlier_at_a_version_of_other_columns(tmp_path: Path, three_versions_file: Path) -> None:
    # Before: after `drop m@1` (its note rightly named m@2 for the view pinning m@1), `drop m@2` noted the view again
    # and advised "('m@3', or 'm' for the latest)": m@3 takes (count, amount_d), not the view's (count, amount), so the
    # advice broke the view another way. m@1's columns are read from the changelog's entry of its drop: no stored
    # version takes them (it once said they were no longer known, though history showed them).
    path = str(tmp_path / "pinned.duckdb")
    _three_versions(three_versions_file, path, "CREATE VIEW dash_v1 AS SELECT anomaly_score('m@1', count, amount) AS s FROM transactions")
    rc, _, err = invoke("drop", path, "m@1", "--yes")
    assert rc == 0 and "'m@2' takes the columns 'm@1' took (count, amount)" in err, err
    rc, out, err = invoke("drop", path, "m@2", "--yes")
    assert rc == 0 and out.strip() == "dropped m version(s) 2", (out, err)
    assert "'m@3', or 'm', which means it" not in err, err
    assert ("view dash_v1 calls 'm@1', no longer stored: its queries fail until it calls a stored version: 'm@1' took "
            "(count, amount), which no stored version takes ('m@3' takes (count, amount_d)): change the view's columns, "
            "or train 'm' on them again") in err, err


def test_compares_paired_test_holds_its_size_on_three_to_five_anomalies() -> None:
    """DeLong's statistic read against the normal called two equally good versions different in 9-15% of draws on
    3-5 labelled anomalies (nominal 5%), and its interval held the true difference in 85-91%: the anomalies' part of
    the variance is a variance of 3-5 values. Read as a Student t of Welch-Satterthwaite's degrees of freedom, on a
    fixed seed: at most 7% (bench/results/compare_delong_2026-12-05_t.md: 1-4.4% at 500 draws a cell)."""
    import math

    import numpy as np

    from ad_duckdb.pairedauc import paired_auc_roc

    rng = np.random.default_rng(7)
    for m in (3, 5):
        called = held = 0
        for _ in range(300):
            y = np.r_[np.ones(m, bool), np.zeros(1000, bool)]
            e1, e2 = rng.normal(size=m + 1000), rng.normal(size=m + 1000)
            p = paired_auc_roc(y + e1, y + 0.6 * e1 + 0.8 * e2, y)  # equally good, their noise correlated 0.6
            called += p.p_value < 0.05
            held += p.low <= 0.0 <= p.high
            assert p.df is not None and p.df >= 1.0 and math.isfinite(p.low)
        assert called / 300 <= 0.07 and held / 300 >= 0.93, (m, called, held)


def test_compare_of_two_versions_that_both_rank_every_anomaly_first_gives_an_interval() -> None:
    """Both versions ranked the 8 labelled anomalies of 40 rows above every normal row: DeLong's variance is 0, and
    compare printed "+0.0000 (95% interval +0.0000 to +0.0000, p = 1)", a certainty 8 anomalies cannot give (evaluate
    gave each AUC the interval 0.852-1.000 on those rows). Each version's score interval is joined now."""
    import numpy as np

    from ad_duckdb import intervals
    from ad_duckdb.compare import LabelledComparison, VersionComparison
    from ad_duckdb.pairedauc import PAIRED_NO_SPREAD, paired_auc_roc

    y = np.r_[np.ones(8, bool), np.zeros(32, bool)]
    rng = np.random.default_rng(5)
    a, b = y * 10 + rng.random(40), y * 10 + rng.random(40)  # both: every anomaly above every normal row
    p = paired_auc_roc(a, b, y)
    one = intervals.newcombe(1.0, 8, 32)
    assert (p.auc_a, p.auc_b, p.diff, p.p_value, p.method) == (1.0, 1.0, 0.0, 1.0, PAIRED_NO_SPREAD)
    assert p.low == pytest.approx(-(1.0 - one.low)) and p.high == pytest.approx(1.0 - one.low)
    assert p.high > 0.1
    same = paired_auc_roc(a, a, y)  # the same scores (one model under two names): no difference on any rows
    assert (same.low, same.high, same.p_value) == (0.0, 0.0, 1.0)
    j = LabelledComparison("y", 40, 8, 1.0, 1.0, 1.0, 1.0, 0.0, p.low, p.high, p.p_value, test=p.method)
    text = str(VersionComparison("m@1", "m@2", "t", 40, 10, 10, 0.9, labelled=j))
    assert f"95% interval {p.low:+.4f} to {p.high:+.4f}" in text and "DeLong's variance is 0" in text, text
    assert "audit sample" not in text and "says little about whether the versions are alike" in text, text


def test_a_broken_view_is_pointed_at_the_version_the_name_means_not_a_staged_newer_one(tmp_path: Path) -> None:
    """Before: with tx_ae@1 promoted and tx_ae@3 staged, dropping tx_ae@2 under a view pinning it advised "('tx_ae@3',
    or 'tx_ae' for the latest)": tx_ae@3 is a retrain nobody chose, and 'tx_ae' means tx_ae@1, not the latest."""
    path = str(tmp_path / "staged.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=300)
        for seed in range(2):
            ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], seed=seed, **FAST)
        ad_duckdb.promote(con, "tx_ae@1")
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], seed=2, promote=False, **FAST)
        con.execute("CREATE VIEW dash AS SELECT anomaly_score('tx_ae@2', count, amount) AS s FROM transactions")
    finally:
        con.close()
    rc, _, err = invoke("drop", path, "tx_ae@2", "--yes")
    assert rc == 0, err
    assert "until it calls a stored version ('tx_ae@1', or 'tx_ae', which means it)" in err, err
    rc, _, err = invoke("show", path, "tx_ae@2")
    assert rc != 0 and "use 'tx_ae' (its promoted version, else its newest)" in err, err
