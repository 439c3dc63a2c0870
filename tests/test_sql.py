"""The SQL surface, on real DuckDB (in-memory and file) and real onnxruntime."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from test_thresholds import trained_copy

import ad_duckdb

from conftest import FAST, make_transactions


def scores(con: duckdb.DuckDBPyConnection, sql: str) -> np.ndarray:
    return np.array([r[0] for r in con.execute(sql).fetchall()], dtype=np.float64)


@pytest.fixture(scope="module")
def m_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file of table transactions (``make_transactions``) and model m trained on count and amount."""
    path = tmp_path_factory.mktemp("m") / "m.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        make_transactions(con)
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], **FAST)
    finally:
        con.close()
    return path



def test_every_function_on_table(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        "SELECT anomaly_score('tx_ae', count, amount), is_anomaly('tx_ae', count, amount), "
        "is_anomaly_at('tx_ae', 'p95', count, amount), anomaly_percentile('tx_ae', count, amount), "
        "anomaly_explain('tx_ae', count, amount), anomaly_threshold('tx_ae', 'default') "
        "FROM transactions ORDER BY transaction_id LIMIT 1"
    ).fetchall()[0]
    s, flag, flag95, pct, expl, th = row
    assert s >= 0 and isinstance(flag, bool) and isinstance(flag95, bool)
    assert 0.0 <= pct <= 1.0
    assert [e["feature"] for e in expl] in (["count", "amount"], ["amount", "count"])
    assert sum(e["share"] for e in expl) == pytest.approx(1.0)
    assert expl[0]["share"] >= expl[1]["share"]
    assert th > 0


def test_more_than_one_vector_and_batch_independence(con: duckdb.DuckDBPyConnection) -> None:
    all_rows = scores(con, "SELECT anomaly_score('tx_ae', count, amount) FROM transactions ORDER BY transaction_id")
    assert len(all_rows) == 3000  # two 2048-row vectors
    one = scores(con, "SELECT anomaly_score('tx_ae', count, amount) FROM transactions WHERE transaction_id = 2500")
    assert one[0] == all_rows[2499]  # bit for bit: see test_a_row_scores_the_same_in_any_batch
    assert np.isfinite(all_rows).all()


def test_a_row_scores_the_same_in_any_batch() -> None:
    """A row's score does not depend on how many rows DuckDB hands the function with it. onnxruntime computes the
    log of a heavy-tailed column (its signed log) for the last rows of a run whose row count is not a multiple of its
    vector width in other float32 digits, so a point lookup or a WHERE leaving an odd number of rows scored a row
    differently from a full scan: a materialized score no longer equalled the live one, nor `>=` itself."""
    con = ad_duckdb.connect(":memory:")
    try:
        rng = np.random.default_rng(3)
        count = rng.poisson(8, 3000) + 1
        amount = np.round(count * rng.lognormal(3.0, 1.2, 3000), 2)  # heavy-tailed: trained on its signed log
        con.execute("CREATE TABLE tx AS SELECT unnest(?)::BIGINT AS id, unnest(?)::INTEGER AS count, "
                    "unnest(?)::DOUBLE AS amount, unnest(?)::DOUBLE AS amount2",
                    [list(range(1, 3001)), count.tolist(), amount.tolist(), (amount * 1.5 + count).tolist()])
        for model, feats in (("two", ["count", "amount"]), ("three", ["count", "amount", "amount2"])):
            ad_duckdb.train(con, model, "tx", features=feats, **FAST)
            specs = ad_duckdb.load_model(con, model).features
            assert "slog" in [f.transform for f in specs]  # the path that rounded by batch size
            args = ", ".join(feats)
            full = dict(con.execute(f"SELECT id, anomaly_score('{model}', {args}) FROM tx").fetchall())
            differ = []
            for i in range(1, 201):
                one = con.execute(f"SELECT anomaly_score('{model}', {args}) FROM tx WHERE id = ?", [i]).fetchall()
                if one[0][0] != full[i]:
                    differ.append((i, one[0][0], full[i]))
            for n in range(2, 41):  # batches of every size up to 40 rows
                got = con.execute(f"SELECT id, anomaly_score('{model}', {args}) FROM tx WHERE id <= {n}").fetchall()
                differ += [(i, s, full[i]) for i, s in got if s != full[i]]
            assert differ == [], f"{model}: {len(differ)} rows scored differently alone or in a small batch: {differ[:3]}"
    finally:
        con.close()


def test_where_group_by_order_by_join(con: duckdb.DuckDBPyConnection) -> None:
    n_flag = con.execute("SELECT count(*) FROM transactions WHERE is_anomaly('tx_ae', count, amount)").fetchall()[0][0]
    assert 0 < n_flag < 300  # default threshold flags about 1% of training rows
    g = con.execute(
        "SELECT count % 3 AS g, avg(anomaly_score('tx_ae', count, amount)) FROM transactions GROUP BY g ORDER BY g"
    ).fetchall()
    assert len(g) == 3
    top = con.execute(
        "SELECT transaction_id FROM transactions ORDER BY anomaly_score('tx_ae', count, amount) DESC LIMIT 5"
    ).fetchall()
    assert len(top) == 5
    joined = con.execute(
        "SELECT th.threshold_name, count(*) FILTER (WHERE anomaly_score('tx_ae', t.count, t.amount) > th.value) "
        "FROM transactions t JOIN ad_thresholds th ON th.model = 'tx_ae' GROUP BY ALL ORDER BY 2"
    ).fetchall()
    flagged = dict(joined)
    assert flagged["p90"] > flagged["p99"] >= flagged["p999"]
    assert flagged["default"] == n_flag


def test_view_and_parquet(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    con.execute("CREATE OR REPLACE VIEW tx_view AS SELECT * FROM transactions WHERE count > 3")
    v = scores(con, "SELECT anomaly_score('tx_ae', count, amount) FROM tx_view ORDER BY transaction_id")
    t = scores(con, "SELECT anomaly_score('tx_ae', count, amount) FROM transactions WHERE count > 3 ORDER BY transaction_id")
    np.testing.assert_allclose(v, t)
    pq = tmp_path / "tx.parquet"
    con.execute(f"COPY transactions TO '{pq}' (FORMAT parquet)")
    p = scores(con, f"SELECT anomaly_score('tx_ae', count, amount) FROM read_parquet('{pq}') ORDER BY transaction_id")
    assert len(p) == 3000
    np.testing.assert_allclose(p[:10], scores(con, "SELECT anomaly_score('tx_ae', count, amount) FROM transactions "
                                                   "ORDER BY transaction_id LIMIT 10"), rtol=1e-6)


def test_mixed_numeric_types_agree(mem_con: duckdb.DuckDBPyConnection) -> None:
    a = scores(mem_con, "SELECT anomaly_score('tx_ae', count, amount) FROM transactions ORDER BY transaction_id")
    b = scores(mem_con, "SELECT anomaly_score('tx_ae', count::DOUBLE, amount_d) FROM transactions ORDER BY transaction_id")
    c = scores(mem_con, "SELECT anomaly_score('tx_ae', count::DECIMAL(10,0), amount::FLOAT) FROM transactions "
                        "ORDER BY transaction_id")
    d = scores(mem_con, "SELECT anomaly_score('tx_ae', count::SMALLINT, amount::DECIMAL(18,4)) FROM transactions "
                        "ORDER BY transaction_id")
    np.testing.assert_allclose(a, b, rtol=1e-5)
    np.testing.assert_allclose(a, c, rtol=1e-4)
    np.testing.assert_allclose(a, d, rtol=1e-5)


def test_wrong_arity(mem_con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.Error, match=r"got 3 feature argument\(s\), but model 'tx_ae@1' takes 2: \(count, amount\)"):
        mem_con.execute("SELECT anomaly_score('tx_ae', count, amount, count) FROM transactions").fetchall()
    with pytest.raises(duckdb.Error, match="takes 2"):
        mem_con.execute("SELECT is_anomaly('tx_ae', 1.0)").fetchall()


def test_unknown_model_lists_known(mem_con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.Error, match=r"No model 'fraud_ae' in table ad_models; known models: 'tx_ae'"):
        mem_con.execute("SELECT anomaly_score('fraud_ae', 1, 2)").fetchall()
    with pytest.raises(duckdb.Error, match="has no version 9"):
        mem_con.execute("SELECT anomaly_score('tx_ae@9', 1, 2)").fetchall()
    with pytest.raises(duckdb.Error, match="has no threshold 'nope'; its thresholds are: 'default'"):
        mem_con.execute("SELECT anomaly_threshold('tx_ae', 'nope')").fetchall()


def test_a_misspelt_model_or_threshold_name_is_pointed_to_the_close_one(mem_con: duckdb.DuckDBPyConnection) -> None:
    # Before: only "known models: 'tx_ae'" / "its thresholds are: ...", though a misspelt table or column gets
    # "Did you mean ...?"
    with pytest.raises(duckdb.Error, match=r"No model 'tx_ea' in table ad_models; .*Did you mean 'tx_ae'\?"):
        mem_con.execute("SELECT anomaly_score('tx_ea', count, amount) FROM transactions").fetchall()
    with pytest.raises(duckdb.Error, match=r"has no threshold 'p99x'; .*Did you mean 'p99'"):
        mem_con.execute("SELECT is_anomaly_at('tx_ae', 'p99x', count, amount) FROM transactions").fetchall()
    with pytest.raises(duckdb.Error, match=r"has no threshold 'p99x'; .*Did you mean 'p99'"):
        mem_con.execute("SELECT anomaly_threshold('tx_ae', 'p99x')").fetchall()
    # a pinned version keeps its pin in the guess, which the close model has; else the guess says its versions
    with pytest.raises(duckdb.Error, match=r"No model 'tx_ea' in table ad_models; .*Did you mean 'tx_ae@1'\?"):
        mem_con.execute("SELECT anomaly_score('tx_ea@1', count, amount) FROM transactions").fetchall()
    with pytest.raises(duckdb.Error, match=r"No model 'tx_ea' .*Did you mean 'tx_ae' \(versions: 1\)\?"):
        mem_con.execute("SELECT anomaly_score('tx_ea@7', count, amount) FROM transactions").fetchall()
    # a name like none of them gets no guess
    with pytest.raises(duckdb.Error, match=r"No model 'fraud_ae'") as e:
        mem_con.execute("SELECT anomaly_score('fraud_ae', 1, 2)").fetchall()
    assert "Did you mean" not in str(e.value)


def test_swapped_columns_detected(mem_con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.Error, match=r"look out of order.*Call anomaly_score\('tx_ae', count, amount\)"):
        mem_con.execute("SELECT anomaly_score('tx_ae', amount, count) FROM transactions").fetchall()


def test_order_check_can_be_turned_off_for_rows_that_really_are_swapped() -> None:
    # the source system swapped lo and hi on some rows: selecting exactly those must still flag them
    con = ad_duckdb.connect()
    con.execute("CREATE TABLE prices AS SELECT i AS id, 10 + (i % 7) * 0.1 AS lo, 1000 + (i % 11) AS hi FROM range(3000) t(i)")
    ad_duckdb.train(con, "px", "prices", features=["lo", "hi"], **FAST)
    con.execute("INSERT INTO prices SELECT 10000 + i, 1000 + (i % 11), 10 + (i % 7) * 0.1 FROM range(2100) t(i)")
    q = "SELECT count(*) FROM prices WHERE lo > hi AND is_anomaly('px', lo, hi)"
    with pytest.raises(duckdb.Error, match=r"look out of order.*connect\(path, check_order=False\)"):
        con.execute(q).fetchall()
    ad_duckdb.register(con, check_order=False)
    assert con.execute(q).fetchall()[0][0] == 2100
    ad_duckdb.refresh(con)  # later refreshes and registrations keep the setting
    ad_duckdb.register(con)
    assert con.execute(q).fetchall()[0][0] == 2100
    con.close()
    con = ad_duckdb.connect(check_order=False)
    con.execute("CREATE TABLE t AS SELECT 10 + (i % 7) * 0.1 AS lo, 1000 + (i % 11) AS hi FROM range(3000) t(i)")
    ad_duckdb.train(con, "px", "t", features=["lo", "hi"], **FAST)
    assert con.execute("SELECT bool_and(is_anomaly('px', hi, lo)) FROM t").fetchall()[0][0]
    con.close()


def test_nulls(mem_con: duckdb.DuckDBPyConnection) -> None:
    med = mem_con.execute("SELECT median(amount)::DOUBLE FROM transactions").fetchall()[0][0]
    s_null, s_med, s_nan = mem_con.execute(
        f"SELECT anomaly_score('tx_ae', 9, NULL), anomaly_score('tx_ae', 9, {med}), "
        "anomaly_score('tx_ae', 9, 'NaN'::DOUBLE)"
    ).fetchall()[0]
    # a missing value takes its most typical value beside the others: never a higher score than the median's
    assert s_null <= s_med * (1 + 1e-5) + 1e-6
    assert s_nan == pytest.approx(s_null, rel=1e-6)
    assert mem_con.execute("SELECT anomaly_score(NULL, 1, 2), is_anomaly(NULL, 1, 2)").fetchall()[0] == (None, None)
    inf = mem_con.execute("SELECT anomaly_score('tx_ae', 9, 'inf'::DOUBLE)").fetchall()[0][0]
    assert np.isfinite(inf) and inf > 1000


def test_extreme_but_proportional_row_scores_high(mem_con: duckdb.DuckDBPyConnection) -> None:
    p99 = mem_con.execute("SELECT anomaly_threshold('tx_ae', 'p99')").fetchall()[0][0]
    typical, extreme = mem_con.execute(
        "SELECT anomaly_score('tx_ae', 9, 9 * 20.0), anomaly_score('tx_ae', 900, 900 * 20.0)"
    ).fetchall()[0]
    assert typical < p99
    assert extreme > 10 * p99


def test_versions_and_pinning(tmp_path: Path) -> None:
    path = str(tmp_path / "v.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con)
        i1 = ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], **FAST)
        s1 = scores(con, "SELECT anomaly_score('m', count, amount) FROM transactions ORDER BY transaction_id")
        i2 = ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], **{**FAST, "seed": 5})
        assert (i1.version, i2.version) == (1, 2)
        s_latest = scores(con, "SELECT anomaly_score('m', count, amount) FROM transactions ORDER BY transaction_id")
        s_pinned = scores(con, "SELECT anomaly_score('m@1', count, amount) FROM transactions ORDER BY transaction_id")
        np.testing.assert_array_equal(s1, s_pinned)
        assert not np.allclose(s_latest, s1)
        assert [m["version"] for m in ad_duckdb.list_models(con)] == [1, 2]
    finally:
        con.close()


def test_a_pinned_older_version_called_wrongly_is_told_the_call_that_works_for_it(tmp_path: Path, m_file: Path) -> None:
    # Before: "in this order: anomaly_score('m', count, amount) (or 'm@1' to pin this version)", while 'm' was m@2,
    # which takes three columns: the call suggested first failed too
    con = ad_duckdb.connect(trained_copy(m_file, tmp_path / "m.duckdb"))
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="once it is stored, queries calling 'm' get m@2"):
            ad_duckdb.train(con, "m", "transactions", features=["count", "amount", "transaction_id"], **FAST)
        with pytest.raises(duckdb.Error, match=r"m@1' takes 2: \(count, amount\), in this order: anomaly_score\('m@1', "
                                               r"count, amount\) \('m' is now m@2, of other columns\)\.") as e:
            con.execute("SELECT anomaly_score('m@1', count) FROM transactions").fetchall()
        call = str(e.value).split("in this order: ", 1)[1].split(" ('m'", 1)[0]
        assert con.execute(f"SELECT count({call}) FROM transactions").fetchall()[0][0] > 0
        with pytest.raises(duckdb.Error, match=r"in this order: anomaly_score\('m', count, amount, transaction_id\) "
                                               r"\(or 'm@2' to pin this version\)"):
            con.execute("SELECT anomaly_score('m', count) FROM transactions").fetchall()
    finally:
        con.close()


def test_scores_identical_after_reopen_in_new_process(tmp_path: Path, m_file: Path) -> None:
    path = trained_copy(m_file, tmp_path / "persist.duckdb")
    con = ad_duckdb.connect(path)
    try:
        before = scores(con, "SELECT anomaly_score('m', count, amount) FROM transactions ORDER BY transaction_id")
    finally:
        con.close()
    code = (
        "import ad_duckdb, sys\n"
        f"con = ad_duckdb.connect({path!r}, read_only=True)\n"
        "rows = con.execute(\"SELECT anomaly_score('m', count, amount) FROM transactions ORDER BY transaction_id\").fetchall()\n"
        "print('\\n'.join(repr(r[0]) for r in rows))\n"
        "con.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    after = np.array([float(x) for x in out.stdout.split()])
    np.testing.assert_array_equal(before, after)
    assert "leaked" not in out.stderr


def test_register_before_any_model_and_idempotent(tmp_path: Path) -> None:
    con = duckdb.connect()
    try:
        ad_duckdb.register(con)
        ad_duckdb.register(con)  # idempotent
        with pytest.raises(duckdb.Error, match="known models: none yet"):
            con.execute("SELECT anomaly_score('tx_ae', 1, 2)").fetchall()
        make_transactions(con, n=500)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        assert con.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()[0][0] >= 0
        n = con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = 'anomaly_score'").fetchall()
        assert n[0][0] == 1
    finally:
        con.close()


def test_register_with_half_read_result(tmp_path: Path) -> None:
    con = duckdb.connect()
    try:
        make_transactions(con, n=500)
        pending = con.execute("SELECT * FROM transactions")
        pending.fetchone()
        ad_duckdb.register(con)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        assert con.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()[0][0] >= 0
    finally:
        con.close()


def _keeps_half_read_result(con: duckdb.DuckDBPyConnection, call: Any) -> Any:
    """Run ``call()`` while ``con`` holds a half-read result; the rest of that result must still be there."""
    con.execute("SELECT * FROM range(10)")
    assert con.fetchone() == (0,)
    out = call()
    assert con.fetchall() == [(i,) for i in range(1, 10)]
    return out


def test_library_calls_leave_a_half_read_result_alone(tmp_path: Path) -> None:
    """In DuckDB 2.0 a query on a connection replaces its pending result, so no API call may run one on ``con``."""
    con = duckdb.connect()
    try:
        make_transactions(con, n=500)
        _keeps_half_read_result(con, lambda: ad_duckdb.register(con))  # first registration: on a kept cursor
        _keeps_half_read_result(con, lambda: ad_duckdb.register(con))  # again: a refresh
        _keeps_half_read_result(con, lambda: ad_duckdb.train(con, "tx_ae", "transactions",
                                                             features=["count", "amount"], epochs=2, progress=False))
        _keeps_half_read_result(con, lambda: ad_duckdb.refresh(con))
        _keeps_half_read_result(con, lambda: ad_duckdb.score(con, "tx_ae", "transactions", into="s"))
        con.execute("CREATE TABLE lab AS SELECT *, (transaction_id % 50 = 0)::INTEGER AS y FROM transactions")
        _keeps_half_read_result(con, lambda: ad_duckdb.evaluate(con, "tx_ae", "lab", label="y"))
        _keeps_half_read_result(con, lambda: ad_duckdb.set_threshold(con, "tx_ae", "t", "quantile", target=0.9))
        assert _keeps_half_read_result(con, lambda: ad_duckdb.list_models(con))[0]["name"] == "tx_ae"
        _keeps_half_read_result(con, lambda: ad_duckdb.load_model(con, "tx_ae"))
        path = tmp_path / "tx_ae.onnx"
        _keeps_half_read_result(con, lambda: ad_duckdb.export_model(con, "tx_ae", path))
        _keeps_half_read_result(con, lambda: ad_duckdb.import_model(con, path, name="copy"))
        assert _keeps_half_read_result(con, lambda: ad_duckdb.drop_model(con, "copy")) == [1]
        assert con.execute("SELECT anomaly_score('tx_ae', 5, 100) >= 0").fetchall() == [(True,)]
    finally:
        con.close()


def test_replacing_the_functions_during_a_half_read_result_is_refused_clearly() -> None:
    """The functions can only be removed through the connection that made them, which refuses while it holds a
    pending result: a clear error, the functions left whole, and the result still readable."""
    con = ad_duckdb.connect()
    try:
        make_transactions(con, n=500)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], epochs=2, progress=False)
        with pytest.raises(ad_duckdb.BadInputError, match=r"half-read result: fetch the rest"):
            _keeps_half_read_result(con, lambda: ad_duckdb.register(con, replace=True))
        assert con.fetchall() == [(i,) for i in range(1, 10)]
        assert con.execute("SELECT anomaly_score('tx_ae', 5, 100) >= 0").fetchall() == [(True,)]
        ad_duckdb.register(con, replace=True)
        assert con.execute("SELECT anomaly_score('tx_ae', 5, 100) >= 0").fetchall() == [(True,)]
    finally:
        con.close()


def test_a_second_connection_while_the_first_holds_a_half_read_result(tmp_path: Path) -> None:
    """The functions move off the first connection when a second one registers; while the first holds a pending
    result DuckDB refuses that, so the second is refused clearly and the first keeps its result and functions."""
    path = str(tmp_path / "two.duckdb")
    first = ad_duckdb.connect(path)
    try:
        make_transactions(first, n=500)
        ad_duckdb.train(first, "tx_ae", "transactions", features=["count", "amount"], epochs=2, progress=False)
        with pytest.raises(ad_duckdb.BadInputError, match=r"Cannot share the anomaly functions of .* with a second "
                                                          r"connection while the connection that owns them holds a "
                                                          r"half-read result"):
            _keeps_half_read_result(first, lambda: ad_duckdb.connect(path))
        assert first.fetchall() == [(i,) for i in range(1, 10)]
        second = ad_duckdb.connect(path)
        first.close()  # the functions have moved to a connection of ours: the second one still calls them
        assert second.execute("SELECT anomaly_score('tx_ae', 5, 100) >= 0").fetchall() == [(True,)]
        second.close()
    finally:
        first.close()


def test_refresh_sees_other_connection(tmp_path: Path) -> None:
    con = duckdb.connect()
    try:
        make_transactions(con, n=500)
        ad_duckdb.register(con)
        other = con.cursor()
        ad_duckdb.train(other, "late", "transactions", features=["count", "amount"], **FAST)
        other.close()
        ad_duckdb.refresh(con)
        assert con.execute("SELECT anomaly_score('late', 5, 100)").fetchall()[0][0] >= 0
    finally:
        con.close()


def test_model_name_varies_per_row(mem_con: duckdb.DuckDBPyConnection) -> None:
    rows = mem_con.execute(
        "SELECT m, anomaly_score(m, 9, 180.0) FROM (VALUES ('tx_ae'), (NULL), ('tx_ae@1')) v(m)"
    ).fetchall()
    assert rows[1][1] is None and rows[0][1] == pytest.approx(rows[2][1])


def test_every_function_with_the_model_varying_per_row(mem_con: duckdb.DuckDBPyConnection) -> None:
    """Rows of several models (and NULL models) in one call: each row gets its own model's result, in place."""
    q = ("SELECT i, anomaly_score(m, c, a), is_anomaly(m, c, a), is_anomaly_at(m, 'p99', c, a), "
         "anomaly_percentile(m, c, a), anomaly_explain(m, c, a) FROM (VALUES (1, 'tx_ae@1', 9, 180.0), "
         "(2, NULL, 1, 9000.0), (3, 'tx_ae', 1, 9000.0), (4, NULL, 9, 180.0), (5, 'tx_ae@1', 1, 9000.0)) v(i, m, c, a) "
         "ORDER BY i")
    rows = mem_con.execute(q).fetchall()
    one = {c: mem_con.execute(f"SELECT anomaly_score('tx_ae', {c}), is_anomaly('tx_ae', {c}), "
                              f"is_anomaly_at('tx_ae', 'p99', {c}), anomaly_percentile('tx_ae', {c}), "
                              f"anomaly_explain('tx_ae', {c})").fetchall()[0] for c in ("9, 180.0", "1, 9000.0")}
    assert rows[1][1:] == (None,) * 5 and rows[3][1:] == (None,) * 5
    for i, c in ((0, "9, 180.0"), (2, "1, 9000.0"), (4, "1, 9000.0")):
        assert rows[i][1] == pytest.approx(one[c][0]) and rows[i][2:5] == pytest.approx(one[c][1:4])
        assert [e["feature"] for e in rows[i][5]] == [e["feature"] for e in one[c][4]]
    assert rows[2][2] is True and rows[0][2] is False


def test_explain_never_gives_a_typical_column_the_whole_row() -> None:
    # cnt and amount both extreme, in proportion, z at its median: resetting either extreme column alone does not
    # make the row typical, so the single-column drops are noise and must not hand z 100%
    rng = np.random.default_rng(1)
    c = rng.poisson(20, 5000).astype(float)
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT unnest(?::DOUBLE[]) AS cnt, unnest(?::DOUBLE[]) AS amount, "
                    "unnest(?::DOUBLE[]) AS z", [c.tolist(), (c * 10 + rng.normal(0, 5, 5000)).tolist(),
                                                  rng.normal(0, 1, 5000).tolist()])
        ad_duckdb.train(con, "m", "t", features=["cnt", "amount", "z"], max_steps=200, progress=False)
        for z in (0.0, -0.0065, 0.3):
            top = con.execute(f"SELECT anomaly_explain('m', 200, 2000.0, {z})").fetchall()[0][0]
            assert top[0]["feature"] in ("cnt", "amount") and {d["feature"]: d["share"] for d in top}["z"] < 0.2, top
        top = con.execute("SELECT anomaly_explain('m', 20, 200.0, -6.0)").fetchall()[0][0]
        assert top[0]["feature"] == "z" and top[0]["share"] > 0.8, top
    finally:
        con.close()


@pytest.fixture(scope="module")
def joint_con() -> Iterator[duckdb.DuckDBPyConnection]:
    """Model m on t(z, cnt, amount, r): amount is ten times cnt, r a few refunds of cnt, z independent."""
    rng = np.random.default_rng(2)
    c = rng.poisson(20, 4000).astype(float)
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT unnest(?::DOUBLE[]) AS z, unnest(?::DOUBLE[]) AS cnt, "
                    "unnest(?::DOUBLE[]) AS amount, unnest(?::DOUBLE[]) AS r",
                    [rng.normal(0, 1, 4000).tolist(), c.tolist(), (c * 10 * rng.lognormal(0, 0.05, 4000)).tolist(),
                     rng.binomial(c.astype(int), 0.05).astype(float).tolist()])
        ad_duckdb.train(con, "m", "t", features=["z", "cnt", "amount", "r"], where="true", max_steps=400,
                        progress=False)
        yield con
    finally:
        con.close()


def test_explain_credits_every_column_of_a_joint_pattern(joint_con: duckdb.DuckDBPyConnection) -> None:
    """amount is ten times cnt, r a few refunds of cnt, z independent. A burst (cnt and amount both extreme, in
    proportion) and a joint break (one payment of a busy day's amount) are odd through cnt and amount together, so
    those two lead the explanation, never z or r. (Before Shapley shares, resetting either column alone left a burst
    odd, and its explanation named z or r first on 2 rows in 3.)"""
    for args in ("z, 70, 700.0, r", "z, 4, 250.0, r"):
        rows = joint_con.execute(f"SELECT anomaly_explain('m', {args}), is_anomaly('m', {args}) FROM t LIMIT 300").fetchall()
        flagged = [e for e, f in rows if f]
        assert len(flagged) >= 250, args
        firsts = [{e[0]["feature"], e[1]["feature"]} for e in flagged]
        assert np.mean([f == {"cnt", "amount"} for f in firsts]) >= 0.9, (args, firsts[:5])


def test_a_missing_value_is_never_a_reason(joint_con: duckdb.DuckDBPyConnection) -> None:
    """A NULL is scored at its most typical value beside the others (_fill_missing), and its share is 0: the
    explanation shares the row's score among the values it has. (Before, a NULL count beside a large amount took up to 78% of a
    row's explanation, 14.5% on average.)"""
    for args, missing in (("z, NULL, 250.0, 0", "cnt"), ("z, 4, NULL, r", "amount"), ("NULL, 60, 600.0, r", "z")):
        for (e,) in joint_con.execute(f"SELECT anomaly_explain('m', {args}) FROM t LIMIT 200").fetchall():
            shares = {x["feature"]: x["share"] for x in e}
            assert shares[missing] == 0.0 and sum(shares.values()) == pytest.approx(1.0), (args, shares)
    # a row missing every feature has nothing to explain: an empty list (equal shares named its missing values),
    # beside rows of the same batch that keep theirs
    rows = joint_con.execute(
        "SELECT anomaly_explain('m', CASE WHEN k THEN NULL ELSE z END, CASE WHEN k THEN NULL ELSE cnt END, "
        "CASE WHEN k THEN NULL ELSE amount END, CASE WHEN k THEN NULL ELSE r END), k "
        "FROM (SELECT *, row_number() OVER () % 3 = 0 AS k FROM t LIMIT 300)").fetchall()
    assert all(e == [] for e, k in rows if k) and sum(k for _, k in rows) == 100
    assert all(len(e) == 4 and sum(x["share"] for x in e) == pytest.approx(1.0) for e, k in rows if not k)


def test_shares_are_the_rows_shapley_values() -> None:
    """Exactly (every subset of columns) for narrow rows; for wide rows the sampled values still add up to the row's
    score above the all-median row's, as Shapley values must."""
    from ad_duckdb.scoring import LoadedModel
    from ad_duckdb.shapley import SHAPLEY_EXACT_MAX

    rng = np.random.default_rng(3)
    for d in (3, SHAPLEY_EXACT_MAX + 2):
        X = rng.normal(size=(600, d))
        X[:, 1] += X[:, 0]
        con = ad_duckdb.connect()
        try:
            con.execute("CREATE TABLE t AS SELECT " + ", ".join(f"unnest(?::DOUBLE[]) AS c{i}" for i in range(d)),
                        [X[:, i].tolist() for i in range(d)])
            ad_duckdb.train(con, "m", "t", where="true", max_steps=150, progress=False)
            lm = LoadedModel(ad_duckdb.load_model(con, "m"))
        finally:
            con.close()
        rows = X[:6].astype(lm.input_dtype)
        rows[:, 0] += np.linspace(-4, 4, 6).astype(rows.dtype)
        s = lm.scores(rows, missing=False)

        def value(keep: np.ndarray, lm: LoadedModel = lm, rows: np.ndarray = rows) -> np.ndarray:
            # the score with the other columns at their medians (NaN: the graph's fill)
            return lm.scores(np.where(keep, rows, np.nan).astype(rows.dtype), missing=False).astype(np.float64)

        phi = lm._shapley(rows, bulk=False)
        v0 = value(np.zeros(d, dtype=bool))
        assert phi.sum(axis=1) == pytest.approx(s - v0, rel=1e-4, abs=1e-4)
        if d == 3:
            want = np.zeros_like(phi)
            for j in range(d):
                for others in range(1 << (d - 1)):
                    keep = np.array([(others >> (i - (i > j))) & 1 if i != j else 0 for i in range(d)], dtype=bool)
                    k = int(keep.sum())
                    with_j = keep.copy()
                    with_j[j] = True
                    weight = [2, 1, 2][k] / 6  # k! (d - k - 1)! / d! for d = 3
                    want[:, j] += weight * (value(with_j) - value(keep))
            assert phi == pytest.approx(want, rel=1e-4, abs=1e-5)
        _, parts = lm.attribution(rows)
        assert (parts >= 0).all()


def test_a_rows_explanation_does_not_depend_on_its_batch() -> None:
    """The same row gets bit-identical shares explained alone, anywhere in a batch of 3000 (either order), through
    SQL (vectors of 2048 rows) and through score(explain=True): exactly (d=6) and from the fixed orders (d=7).
    onnxruntime's result for a row depends on where the row sits in its run (its offset modulo 4 floats, measured
    here), and a BLAS product depends on the number of rows; shares that moved with either came out different in
    the last digits, against "a row always gets the same answer"."""
    from ad_duckdb.shapley import SHAPLEY_EXACT_MAX
    from ad_duckdb.udfbodies import explain_rows

    rng = np.random.default_rng(5)
    for d in (SHAPLEY_EXACT_MAX, SHAPLEY_EXACT_MAX + 1):
        X = rng.normal(size=(3000, d))
        X[:, 1] += X[:, 0]
        X[::3, 0] += 4.0  # odd rows, whose shares are not all float noise
        names = [f"c{i}" for i in range(d)]
        con = ad_duckdb.connect()
        try:
            con.execute("CREATE TABLE t AS SELECT unnest(?::BIGINT[]) AS id, " + ", ".join(
                f"unnest(?::DOUBLE[]) AS {c}" for c in names), [list(range(len(X))), *(X[:, i].tolist() for i in range(d))])
            ad_duckdb.train(con, "m", "t", features=names, where="true", max_steps=100, progress=False)
            lm = ad_duckdb.udfs.registry(con).get("m")
            # rows at every median, which no column moves: their shares are the per-feature errors
            con.execute(f"UPDATE t SET {', '.join(f'{c} = {f.fill!r}' for c, f in zip(names, lm.rec.features, strict=True))} "
                        "WHERE id IN (1, 2, 3, 5, 2049)")
            X = np.array(con.execute(f"SELECT {', '.join(names)} FROM t ORDER BY id").fetchall())
            rows = X.astype(lm.input_dtype)
            args = ", ".join(names)
            got = {
                "sql": [e for (e,) in con.execute(f"SELECT anomaly_explain('m', {args}) FROM t ORDER BY id").fetchall()],
                "score": ad_duckdb.score(con, "m", "t", columns=["id"], explain=True).sort_by("id")
                .column("anomaly_explain").to_pylist(),
                "batch": explain_rows(lm, lm.attribution(rows)[1]).to_pylist(),
                "reversed": explain_rows(lm, lm.attribution(rows[::-1].copy())[1]).to_pylist()[::-1],
            }
        finally:
            con.close()
        for i in (0, 1, 2, 3, 5, 2047, 2049, 2999):
            alone = explain_rows(lm, lm.attribution(rows[i : i + 1].copy())[1]).to_pylist()[0]
            for how, shares in got.items():
                assert shares[i] == alone, (d, i, how)


def test_explaining_wide_rows_holds_a_bounded_number_of_values() -> None:
    """An explanation scores each row 2^d or about 8 d times, in chunks: their size must bound the values held, not
    the rows, or wide tables pay d times over (d=100: 52 MB a chunk and SQL thread, d=200 float64: 210 MB)."""
    import tracemalloc

    rng = np.random.default_rng(1)
    d = 100
    X = rng.normal(size=(400, d))
    names = [f"c{i}" for i in range(d)]
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT " + ", ".join(f"unnest(?::DOUBLE[]) AS {c}" for c in names),
                    [X[:, i].tolist() for i in range(d)])
        ad_duckdb.train(con, "m", "t", features=names, where="true", max_steps=20, progress=False)
        lm = ad_duckdb.udfs.registry(con).get("m")
    finally:
        con.close()
    rows = np.repeat(X, 6, axis=0)[:2048].astype(lm.input_dtype)  # one SQL call's rows
    lm.attribution(rows[:1])  # session loaded outside the measurement
    tracemalloc.start()
    try:
        lm.attribution(rows)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40e6, peak


def test_rows_are_judged_on_the_values_they_have(mem_con: duckdb.DuckDBPyConnection) -> None:
    """amount rises with count: with amount missing, a count that is merely uncommon must not look odd (the median
    amount beside it did: a feed that lost its amounts flagged a fifth of its rows). A row whose present value is
    extreme still is."""
    feed = "SELECT transaction_id, count, NULL::DOUBLE AS amount FROM transactions"
    flagged = mem_con.execute(f"SELECT avg(is_anomaly('tx_ae', count, amount)::INTEGER) FROM ({feed})").fetchall()[0][0]
    assert flagged <= 0.02
    med = mem_con.execute("SELECT median(amount)::DOUBLE FROM transactions").fetchall()[0][0]
    rare, at_median = mem_con.execute(
        f"SELECT anomaly_score('tx_ae', 2, NULL), anomaly_score('tx_ae', 2, {med})").fetchall()[0]
    assert rare < at_median
    assert mem_con.execute("SELECT is_anomaly('tx_ae', 500, NULL)").fetchall()[0][0] is True
    # bulk scoring, with and without explanations, scores such rows as the SQL functions do
    sql = mem_con.execute(f"SELECT list(anomaly_score('tx_ae', count, amount) ORDER BY transaction_id) FROM ({feed})"
                          ).fetchall()[0][0]
    for explain in (False, True):
        tbl = ad_duckdb.score(mem_con, "tx_ae", feed, explain=explain).sort_by("transaction_id")
        np.testing.assert_allclose(tbl.column("anomaly_score").to_numpy(), sql, rtol=1e-5, atol=1e-6)
    shares = mem_con.execute("SELECT anomaly_explain('tx_ae', 500, NULL)").fetchall()[0][0]
    assert shares[0]["feature"] == "count"


def test_a_row_beyond_the_training_range_that_lost_its_amount_scores_as_with_it(mem_con: duckdb.DuckDBPyConnection
                                                                                 ) -> None:
    """Counts far beyond the training range with an amount in proportion (about 21 per item, as trained): without the
    amount the row scored half as high again as with it (the fill values stopped inside the training range, where
    no amount is in proportion), so rows that lost a value rose to the top of a ranking of extreme rows."""
    for count in (60, 200, 500):
        with_it, without = mem_con.execute(
            f"SELECT anomaly_score('tx_ae', {count}, {count * 20.9}), anomaly_score('tx_ae', {count}, NULL)"
        ).fetchall()[0]
        assert without < 1.15 * with_it, (count, with_it, without)
        assert mem_con.execute(f"SELECT is_anomaly('tx_ae', {count}, NULL)").fetchall()[0][0] is True


def test_batches_missing_a_column_are_not_taken_for_swapped_arguments(mem_con: duckdb.DuckDBPyConnection) -> None:
    """The order check swaps two arguments and rescores; a missing value takes its most typical value wherever it
    sits, so swapping it would make any such batch look normal. Those rows are left out of the swap test."""
    for v in (60, 100, 200, 300):
        scores = mem_con.execute(
            f"SELECT anomaly_score('tx_ae', {v} + range % 3, NULL::DOUBLE) FROM range(64)").fetchall()
        assert len(scores) == 64


def test_thresholds_count_rows_with_missing_values_as_sql_scores_them() -> None:
    """Training scores (thresholds, percentiles) come from the same scoring as SQL, missing values included: the
    default threshold flags its contamination share of the training rows, with and without a NULL."""
    con = ad_duckdb.connect()
    try:
        make_transactions(con)
        con.execute("UPDATE transactions SET amount = NULL WHERE transaction_id % 10 < 3")
        ad_duckdb.train(con, "nulls_ae", "transactions", features=["count", "amount"], contamination=0.05, **FAST)
        share = con.execute("SELECT avg(is_anomaly('nulls_ae', count, amount)::INTEGER) FROM transactions").fetchall()
        assert abs(share[0][0] - 0.05) < 0.0007  # two rows in 3000 (with median-filled training scores: 0.0487)
    finally:
        con.close()


def test_prepared_statements_views_and_macros_after_a_retrain(tmp_path: Path, m_file: Path) -> None:
    """What the README promises about a retrain: parameters, columns, views and macros see the new version at once;
    a PREPAREd call whose arguments are all constants keeps the value DuckDB worked out when it planned it."""
    c = ad_duckdb.connect(trained_copy(m_file, tmp_path / "m.duckdb"))
    try:
        c.execute("PREPARE by_param AS SELECT anomaly_score($1, 5, 100)")
        c.execute("PREPARE by_column AS SELECT anomaly_score('m', count, amount) FROM transactions "
                  "ORDER BY transaction_id LIMIT 1")
        c.execute("PREPARE constant AS SELECT anomaly_score('m', 5, 100)")
        c.execute("CREATE MACRO point_score() AS anomaly_score('m', 5, 100)")
        c.execute("CREATE VIEW point_view AS SELECT anomaly_score('m', 5, 100) AS s")
        v1 = c.execute("SELECT anomaly_score('m@1', 5, 100)").fetchall()[0][0]
        assert c.execute("EXECUTE constant").fetchall()[0][0] == v1
        ad_duckdb.train(c, "m", "transactions", features=["count", "amount"], where="count < 10", **FAST)
        v2 = c.execute("SELECT anomaly_score('m@2', 5, 100)").fetchall()[0][0]
        first_row = c.execute("SELECT anomaly_score('m@2', count, amount) FROM transactions "
                              "ORDER BY transaction_id LIMIT 1").fetchall()[0][0]
        assert v2 != v1
        assert c.execute("EXECUTE by_param('m')").fetchall()[0][0] == v2
        assert c.execute("EXECUTE by_column").fetchall()[0][0] == first_row
        assert c.execute("SELECT point_score()").fetchall()[0][0] == v2
        assert c.execute("SELECT s FROM point_view").fetchall()[0][0] == v2
        # DuckDB folds the constant call into the plan: the README tells to PREPARE again after a retrain
        assert c.execute("EXECUTE constant").fetchall()[0][0] == v1
        c.execute("PREPARE constant AS SELECT anomaly_score('m', 5, 100)")
        assert c.execute("EXECUTE constant").fetchall()[0][0] == v2
    finally:
        c.close()


def test_the_call_a_wrong_arity_or_order_error_suggests_quotes_column_names_with_spaces() -> None:
    """A CSV header's columns ("Merchant Count", "Total Amount") were suggested bare: "in this order:
    anomaly_score('m', Merchant Count, Total Amount)" and "Call is_anomaly(...)" were syntax errors when pasted."""
    con = ad_duckdb.connect()
    try:
        con.execute('CREATE TABLE t AS SELECT 1 + range % 20 AS "Merchant Count", (1 + range % 20) * (20 + range % 7) '
                    'AS "Total Amount" FROM range(600)')
        ad_duckdb.train(con, "m", "t", features=["Merchant Count", "Total Amount"], **FAST)
        with pytest.raises(duckdb.Error) as e:
            con.execute('SELECT anomaly_score(\'m\', "Merchant Count") FROM t').fetchall()
        call = str(e.value).split("in this order: ", 1)[1].split(" (or 'm@1'", 1)[0]
        assert call == 'anomaly_score(\'m\', "Merchant Count", "Total Amount")', str(e.value)
        assert con.execute(f"SELECT count({call}) FROM t").fetchall() == [(600,)]
        with pytest.raises(duckdb.Error, match="look out of order") as e:
            con.execute('SELECT is_anomaly(\'m\', "Total Amount", "Merchant Count") FROM t').fetchall()
        call = str(e.value).split("Call ", 1)[1].split(" (or 'm@1'", 1)[0]
        assert call == 'is_anomaly(\'m\', "Merchant Count", "Total Amount")', str(e.value)
        assert con.execute(f"SELECT count({call}) FROM t").fetchall() == [(600,)]
    finally:
        con.close()


def test_a_row_that_lost_a_value_beside_a_far_out_one_is_explained_by_the_far_out_one(
        joint_con: duckdb.DuckDBPyConnection) -> None:
    """A count far beyond the training range with its amount missing is flagged, and the missing amount is scored in
    proportion to the count (_fill_missing). Holding that fill in every subset made the row of medians plus the
    fill the baseline, which scored above the row itself: no column moved it up, and the explanation fell back to
    the per-feature error, naming r (at its training median, so never a reason) first, with 73%."""
    fill = {f.name: f.fill for f in ad_duckdb.load_model(joint_con, "m").features}
    z, r = fill["z"], fill["r"]
    for args, far in ((f"{z}, 200, NULL, {r}", "cnt"), (f"{z}, 60, NULL, {r}", "cnt"),
                      (f"{z}, NULL, 5000.0, {r}", "amount")):
        flagged, e = joint_con.execute(f"SELECT is_anomaly('m', {args}), anomaly_explain('m', {args})").fetchall()[0]
        shares = {x["feature"]: x["share"] for x in e}
        assert flagged and e[0]["feature"] == far and shares["z"] < 0.01 and shares["r"] < 0.01, (args, e)


def test_a_missing_value_beside_a_value_beyond_float32_after_the_log_scores_without_a_warning() -> None:
    """A count about 80 robust units out, with its amount missing: the amount in proportion (beyond_range) is above
    float32's largest value once the signed log is undone, and casting it printed "RuntimeWarning: overflow
    encountered in cast" under the result (and failed the query where warnings are errors). The graph clips such a
    value at 1000 units anyway, as it does the infinite one."""
    rng = np.random.default_rng(0)
    count = rng.poisson(rng.lognormal(2.2, 1.0, 3000)) + 1
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT unnest(?::INTEGER[]) AS count, unnest(?::DOUBLE[]) AS amount",
                    [count.tolist(), (count * 30 * rng.lognormal(0, 0.3, 3000)).tolist()])
        ad_duckdb.train(con, "m", "t", where="true", n_models=1, max_steps=300, progress=False)
        assert [f.transform for f in ad_duckdb.load_model(con, "m").features] == ["slog", "slog"]
        rows = con.execute("SELECT anomaly_score('m', c, NULL), anomaly_explain('m', c, NULL) "
                           "FROM (VALUES (1e27), (1e29), (1e31), (1e36)) v(c)").fetchall()
    finally:
        con.close()
    assert all(np.isfinite(s) and e[0]["feature"] == "count" for s, e in rows), rows


def test_a_row_of_a_model_of_any_width_scores_the_same_wherever_it_lies_in_its_batch() -> None:
    """onnxruntime's ReduceSum (the score's sum over the columns) added a row's values in an order that depends on
    where the row starts in memory; a row of a width not a multiple of 4 columns then scored differently, in the last
    float32 digits, when the rows before it changed: after a WHERE that left out one row in front of it, or alone
    (289 of 656 rows at 6 columns). The sums are now products with a vector of ones, whose order does not move."""
    con = ad_duckdb.connect(":memory:")
    try:
        rng = np.random.default_rng(5)
        cols = [f"c{j}" for j in range(6)]
        data = np.exp(rng.normal(size=(3000, 6))) * rng.uniform(1, 100, 6)
        con.execute("CREATE TABLE w AS SELECT unnest(?)::BIGINT AS id, " + ", ".join(
            f"unnest(?)::DOUBLE AS {c}" for c in cols), [list(range(1, 3001)), *(data[:, j].tolist() for j in range(6))])
        for model, feats in (("six", cols), ("five", cols[:5])):
            ad_duckdb.train(con, model, "w", features=feats, **FAST)
            call = f"anomaly_score('{model}', {', '.join(feats)})"
            full = dict(con.execute(f"SELECT id, {call} FROM w").fetchall())
            differ = []
            for where in ("id > 1", "id > 2", "id > 3", "id % 2 = 0", "id % 3 <> 1", "id BETWEEN 7 AND 700"):
                got = con.execute(f"SELECT id, {call} FROM w WHERE {where}").fetchall()
                differ += [(where, i, s, full[i]) for i, s in got if s != full[i]]
            for i in range(2, 60, 3):
                one = con.execute(f"SELECT {call} FROM w WHERE id = ?", [i]).fetchall()[0][0]
                differ += [("alone", i, one, full[i])] if one != full[i] else []
            assert differ == [], f"{model}: {len(differ)} rows scored differently elsewhere in a batch: {differ[:3]}"
    finally:
        con.close()


def test_a_model_stored_by_sql_after_register_is_not_said_to_be_missing_from_ad_models(tmp_path: Path) -> None:
    """IMPORT DATABASE (or an INSERT into ad_models) stores models the functions have not loaded; the query said
    "No model 'tx_ae' in table ad_models; known models: none yet. Train one", though ad_models then held it, and
    named no refresh(), which is the fix."""
    src = ad_duckdb.connect(str(tmp_path / "a.duckdb"))
    try:
        make_transactions(src, n=500)
        ad_duckdb.train(src, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        src.execute(f"EXPORT DATABASE '{tmp_path / 'exp'}'")
    finally:
        src.close()
    con = ad_duckdb.connect(str(tmp_path / "b.duckdb"))
    try:
        con.execute(f"IMPORT DATABASE '{tmp_path / 'exp'}'")
        with pytest.raises(duckdb.Error, match=r"No model 'tx_ae'.*call ad_duckdb\.refresh\(con\)"):
            con.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()
        ad_duckdb.refresh(con)
        assert con.execute("SELECT anomaly_score('tx_ae', 5, 100)").fetchall()[0][0] >= 0
    finally:
        con.close()


def test_anomaly_imputed_gives_in_sql_the_values_score_explain_writes(mem_con: duckdb.DuckDBPyConnection) -> None:
    # Before: the value a NULL feature was scored at (which anomaly_explain gives no share) was written by
    # `score --explain` (anomaly_imputed) and printed by explain, but no SQL function returned it: a dbt model or a BI
    # query explaining rows with NULLs could not say what they were scored with.
    mem_con.execute("CREATE OR REPLACE TABLE holes AS SELECT transaction_id AS id, CASE WHEN transaction_id % 3 = 0 "
                    "THEN NULL ELSE count END AS count, CASE WHEN transaction_id % 5 = 0 THEN NULL ELSE amount END "
                    "AS amount FROM transactions WHERE transaction_id <= 60")
    sql = mem_con.execute("SELECT id, anomaly_imputed('tx_ae', count, amount) FROM holes ORDER BY id").fetchall()
    bulk = ad_duckdb.score(mem_con, "tx_ae", "SELECT * FROM holes ORDER BY id", columns=["id"], explain=True)
    assert [m for _, m in sql] == [m if m is None else dict(m) for m in bulk.column("anomaly_imputed").to_pylist()]
    for i, m in sql:
        missing = {k for k, gone in (("count", i % 3 == 0), ("amount", i % 5 == 0)) if gone}
        assert (m is None) == (not missing) and set(m or {}) == missing, (i, m)
    both = dict(sql)[15]
    lm = ad_duckdb.udfs.registry(mem_con).get("tx_ae")
    assert both == dict(zip(["count", "amount"], lm.as_scored(np.array([[np.nan, np.nan]]))[0].tolist(), strict=True))
    assert mem_con.execute("SELECT typeof(anomaly_imputed('tx_ae', 3, NULL))").fetchall() == [("MAP(VARCHAR, DOUBLE)",)]
    mem_con.execute("DROP TABLE holes")
