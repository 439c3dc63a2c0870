"""anomaly_terms: the score's reconstruction, neighbour and range terms, read from the stored ONNX graph."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb import scoreterms
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import IntegrityError

from conftest import FAST, make_transactions, unwrapped

TERMS_SQL = ("SELECT transaction_id, anomaly_score('{m}', count, amount) AS s, anomaly_terms('{m}', count, amount) AS t "
             "FROM {src} ORDER BY transaction_id")


def _terms(con: duckdb.DuckDBPyConnection, model: str = "tx_ae", src: str = "transactions") -> tuple[np.ndarray, ...]:
    rows = con.execute(TERMS_SQL.format(m=model, src=src)).fetchall()
    s = np.array([r[1] for r in rows], dtype=np.float64)
    t = np.array([[r[2][k] for k in scoreterms.TERM_NAMES] for r in rows], dtype=np.float64)
    return s, t


def test_terms_sum_to_the_score_on_every_row(con: duckdb.DuckDBPyConnection) -> None:
    """More than one 2048-row vector, on an in-memory and a file database."""
    s, t = _terms(con)
    assert len(s) == 3000
    assert (t >= 0).all()
    np.testing.assert_allclose(t.sum(axis=1), s, rtol=1e-6, atol=1e-6)
    # the model's default has all three terms, and the reconstruction and neighbour terms are each about 1 on a
    # typical row (each is divided by its training median)
    assert np.median(t[:, 0]) == pytest.approx(1.0, rel=0.5)
    assert np.median(t[:, 1]) == pytest.approx(1.0, rel=0.5)
    assert (t[:, 2] > 0).any()


def test_the_struct_names_its_terms(mem_con: duckdb.DuckDBPyConnection) -> None:
    typ = mem_con.execute("SELECT typeof(anomaly_terms('tx_ae', 3, 90.5))").fetchall()[0][0]
    assert typ == 'STRUCT(reconstruction DOUBLE, neighbour DOUBLE, "range" DOUBLE)'
    row = mem_con.execute("SELECT t.reconstruction, t.neighbour, t.range FROM "
                          "(SELECT anomaly_terms('tx_ae', 3, 90.5) AS t)").fetchall()[0]
    assert all(isinstance(v, float) for v in row)


def test_the_range_term_is_zero_inside_the_training_range_and_grows_outside(mem_con: duckdb.DuckDBPyConnection) -> None:
    rows = mem_con.execute(
        "SELECT anomaly_terms('tx_ae', c, a).range FROM (VALUES (8, 160.0), (80, 1600.0), (800, 16000.0)) v(c, a)"
    ).fetchall()
    inside, out, further = (r[0] for r in rows)
    assert inside == 0.0
    assert 0 < out < further


def test_a_row_with_a_null_takes_the_values_its_score_does(mem_con: duckdb.DuckDBPyConnection) -> None:
    """The terms of a row with a missing value sum to its score, which fills the value as missing.py says."""
    rows = mem_con.execute(
        "SELECT anomaly_score('tx_ae', c, a), anomaly_terms('tx_ae', c, a) FROM "
        "(VALUES (NULL, 160.0), (300, NULL), (NULL, NULL), (8, 160.0)) v(c, a)").fetchall()
    for s, t in rows:
        assert sum(t.values()) == pytest.approx(s, rel=1e-6)


def test_null_model_gives_null(mem_con: duckdb.DuckDBPyConnection) -> None:
    assert mem_con.execute("SELECT anomaly_terms(NULL, 3, 90.5)").fetchall()[0][0] is None


@pytest.mark.parametrize("params", [
    {"knn_k": 0}, {"range_weight": 0.0}, {"knn_k": 0, "range_weight": 0.0}, {"n_models": 2}, {"range_weight": 2.5},
])
def test_each_training_variant_shows_its_terms(params: dict[str, Any]) -> None:
    """A term the model leaves out is 0; the others still sum to the score, for one member or an ensemble."""
    con = ad_duckdb.connect(":memory:")
    make_transactions(con, n=600)
    ad_duckdb.train(con, "v", "transactions", features=["count", "amount"], **{**FAST, "max_steps": 60, **params})
    s, t = _terms(con, "v")
    np.testing.assert_allclose(t.sum(axis=1), s, rtol=1e-6, atol=1e-6)
    on = scoreterms.terms_on({**FAST, **params})
    for i, name in enumerate(scoreterms.TERM_NAMES):
        if on[i]:
            assert (t[:, i] > 0).any(), name
        else:
            assert (t[:, i] == 0).all(), name


def test_terms_agree_with_the_python_detector() -> None:
    """``train`` fits the detector behind it: the same rows and parameters give the same model, whose torch terms
    (AutoEncoderDetector.score_terms) the stored graph's must equal."""
    con = ad_duckdb.connect(":memory:")
    make_transactions(con, n=800)
    params = {**FAST, "max_steps": 60}
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **params)
    X = np.array(con.execute("SELECT count, amount FROM transactions ORDER BY transaction_id").fetchall(), dtype=float)
    det = ad_duckdb.AutoEncoderDetector(**params).fit(X)
    s, t = _terms(con)
    np.testing.assert_allclose(det.decision_function(X), s, rtol=1e-3, atol=1e-4)
    torch_terms = det.score_terms(X)
    for i, name in enumerate(scoreterms.TERM_NAMES):
        np.testing.assert_allclose(t[:, i], torch_terms[name], rtol=1e-3, atol=1e-4, err_msg=name)
    # rows with missing values: both fill them as missing.py says, then take the filled row's terms
    con.execute("CREATE TABLE q AS SELECT * FROM (VALUES (1, NULL, 160.0), (2, 300, NULL), (3, NULL, NULL), "
                "(4, 900, NULL)) v(transaction_id, count, amount)")
    _, tq = _terms(con, src="q")
    Q = np.array([[np.nan, 160.0], [300, np.nan], [np.nan, np.nan], [900, np.nan]])
    torch_q = det.score_terms(Q)
    for i, name in enumerate(scoreterms.TERM_NAMES):
        np.testing.assert_allclose(tq[:, i], torch_q[name], rtol=1e-3, atol=1e-4, err_msg=name)


def test_the_stored_bytes_stay_as_they_are(tmp_path: Path) -> None:
    """The terms come from a second session on the bytes with outputs appended; the stored model is untouched, and a
    new process's connection reads the same terms."""
    path = str(tmp_path / "t.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=600)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **{**FAST, "max_steps": 60})
    before = con.execute("SELECT onnx, sha256 FROM ad_models").fetchall()[0]
    s1, t1 = _terms(con)
    after = con.execute("SELECT onnx, sha256 FROM ad_models").fetchall()[0]
    assert after == before and hashlib.sha256(after[0]).hexdigest() == after[1]
    con.close()
    con = ad_duckdb.connect(path)
    s2, t2 = _terms(con)
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_array_equal(s1, s2)
    con.close()


def test_a_graph_of_another_shape_is_refused_not_guessed(mem_con: duckdb.DuckDBPyConnection) -> None:
    """A model whose score is not the Add chain its parameters say (here: told of three terms, the graph holds two)."""
    con = ad_duckdb.connect(":memory:")
    make_transactions(con, n=600)
    ad_duckdb.train(con, "v", "transactions", features=["count", "amount"], **{**FAST, "max_steps": 60, "knn_k": 0})
    onnx = con.execute("SELECT onnx FROM ad_models").fetchall()[0][0]
    with pytest.raises(IntegrityError, match=r"Model 'v@1'.*anomaly_terms cannot read them.*anomaly_score"):
        scoreterms.term_tensors(onnx, (True, True, True), model="v@1")
    assert scoreterms.term_tensors(onnx, (True, False, True), model="v@1")[1] is None


def test_explain_says_which_term_made_a_flagged_row_odd(tmp_path: Path) -> None:
    path = str(tmp_path / "t.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=1000)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **{**FAST, "max_steps": 200})
    con.execute("INSERT INTO transactions VALUES (5001, 900, 40000.0, 40000.0), (5002, 8, 160.0, 160.0)")
    con.close()
    res = CliRunner().invoke(cli, ["explain", path, "tx_ae", "transactions", "--where", "transaction_id > 5000"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    flagged, normal = res.output.split("row transaction_id=")[1:]
    assert "ANOMALY" in flagged and "  terms: reconstruction " in flagged
    assert "+ range " in flagged and ": mostly " in flagged
    assert "normal" in normal and "  terms: reconstruction " in normal and "mostly" not in normal


def test_a_model_whose_terms_cannot_be_read_is_still_scored_and_explained(tmp_path: Path) -> None:
    """Stored parameters edited by hand (knn_k 0, where the graph has the neighbour term): anomaly_terms says what
    it cannot do and what still works; explain prints the row without its terms line; the other functions score."""
    path = str(tmp_path / "t.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=600)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **{**FAST, "max_steps": 60})
    con.execute("UPDATE ad_models SET params = json_merge_patch(params, '{\"knn_k\": 0}')")
    con.close()
    con = ad_duckdb.connect(path)
    with pytest.raises(duckdb.Error, match=r"Model 'tx_ae@1'.*anomaly_terms cannot read them.*Re-train"):
        con.execute("SELECT anomaly_terms('tx_ae', 3, 90.5)").fetchall()
    assert con.execute("SELECT anomaly_score('tx_ae', 3, 90.5)").fetchall()[0][0] > 0
    con.close()
    res = CliRunner().invoke(cli, ["explain", path, "tx_ae", "transactions", "--where", "transaction_id = 1"],
                             catch_exceptions=False)
    assert res.exit_code == 0 and "  score " in res.output and "terms:" not in res.output, res.output


def test_explain_leaves_out_the_terms_a_model_does_not_have(tmp_path: Path) -> None:
    """A model trained with knn_k=0 and range_weight=0 has no neighbour or range term: explain's terms line shows only
    its reconstruction term. Why: "neighbour 0" read as "this row sits inside a group of training rows", which the
    model never measured."""
    path = str(tmp_path / "t.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=600)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"],
                    **{**FAST, "max_steps": 60, "knn_k": 0, "range_weight": 0.0})
    con.execute("INSERT INTO transactions VALUES (5001, 900, 40000.0, 40000.0)")
    con.close()
    res = CliRunner().invoke(cli, ["explain", path, "tx_ae", "transactions", "--where", "transaction_id = 5001"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    line = next(s for s in unwrapped(res.output).splitlines() if s.startswith("  terms: "))
    assert "reconstruction " in line and "neighbour" not in line and "range" not in line, line


def test_explain_of_a_one_column_model_does_not_speak_of_columns_going_together(tmp_path: Path) -> None:
    """A model of one column has no columns to go together: its reconstruction term says the value is unlike the
    training values. Why: "its values break how the columns go together" sent the user looking for a second column."""
    path = str(tmp_path / "t.duckdb")
    con = ad_duckdb.connect(path)
    con.execute("CREATE TABLE t AS SELECT i, CASE WHEN i % 2 = 0 THEN 10 ELSE 100 END + (i % 50) / 50 AS v "
                "FROM range(1000) r(i)")
    ad_duckdb.train(con, "m", "t", features=["v"], **{**FAST, "max_steps": 200})
    con.execute("INSERT INTO t VALUES (5001, 150.0)")
    con.close()
    res = CliRunner().invoke(cli, ["explain", path, "m", "t", "--where", "i = 5001"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    line = next(s for s in unwrapped(res.output).splitlines() if s.startswith("  terms: "))
    assert "mostly reconstruction" in line, line
    assert "columns" not in line and "unlike the training values" in line, line


def test_explain_says_mostly_only_of_a_term_that_is_most_of_the_score() -> None:
    """A sensor row 15 spreads out scored reconstruction 86.8 + neighbour 93.9 + range 12.5, and explain said "mostly
    neighbour (49%: ...)": under half is not "mostly", and the reconstruction term, as large, went unexplained."""
    from ad_duckdb.explainwords import TERM_MEANINGS, _terms_text

    even = _terms_text({"reconstruction": 86.8, "neighbour": 93.9, "range": 12.5}, flagged=True)
    assert "mostly" not in even, even
    assert (f"neighbour (49%: {TERM_MEANINGS['neighbour']}) and reconstruction (45%: "
            f"{TERM_MEANINGS['reconstruction']})") in even, even
    one = _terms_text({"reconstruction": 37.1, "neighbour": 7.0, "range": 0.0}, flagged=True)
    assert one.endswith(f": mostly reconstruction (84%: {TERM_MEANINGS['reconstruction']})"), one
