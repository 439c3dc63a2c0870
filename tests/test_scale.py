"""How training and scoring scale with the table: no redundant passes, no whole-table copies in Python.

Behaviour only (what is read, scored and kept, and that results equal the simple path); never wall time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import ad_duckdb
from ad_duckdb.detector import AutoEncoderDetector

from conftest import FAST, make_transactions


def test_train_does_not_score_the_training_rows_with_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """ad_duckdb.train takes its thresholds from the ONNX scores of every row; a torch pass over the training
    sample as well was thrown away (about a third of a default training on 1M rows)."""
    calls: list[int] = []
    real = AutoEncoderDetector.decision_function

    def counted(self: AutoEncoderDetector, X: np.ndarray) -> np.ndarray:
        calls.append(len(X))
        return real(self, X)

    monkeypatch.setattr(AutoEncoderDetector, "decision_function", counted)
    con = ad_duckdb.connect(":memory:")
    try:
        make_transactions(con, n=500)
        info = ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        assert calls == []
        # the thresholds still come from the scores SQL computes, over every row
        flagged = con.execute("SELECT avg(is_anomaly('tx_ae', count, amount)::INTEGER) FROM transactions").fetchall()[0][0]
        assert flagged == pytest.approx(info.flagged_shares["default"])
    finally:
        con.close()
    # the detector used on its own still scores its training rows, as scikit-learn-shaped detectors do
    X = np.random.default_rng(0).normal(size=(200, 3))
    det = AutoEncoderDetector(**FAST).fit(X)
    assert calls == [200] and len(det.decision_scores_) == 200 and np.isfinite(det.threshold_)


def _big_table(con: Any, n: int) -> None:
    con.execute(
        "CREATE OR REPLACE TABLE big AS SELECT range AS id, 1 + (random() * 20)::INTEGER AS count, "
        f"round((1 + random() * 20) * (20 + random() * 10), 2) AS amount FROM range({n})"
    )


@pytest.fixture(scope="module")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A file database with table big(id, count, amount) of 1,200,000 rows and model m trained on 2,000 of them."""
    path = str(tmp_path_factory.mktemp("scale") / "big.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("SELECT setseed(0.5)")
        _big_table(con, 1_200_000)
        ad_duckdb.train(con, "m", "SELECT count, amount FROM big LIMIT 2000", **FAST)
    finally:
        con.close()
    return path


def _peak_python_bytes(fn: Any) -> int:
    """The peak of memory allocated through Python and numpy while ``fn`` runs (DuckDB's own is not counted)."""
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_score_top_streams_instead_of_holding_every_scored_row(big_db: str) -> None:
    """`ad-duckdb score --top N` keeps N rows, not the whole scored table (10M rows: 1.2 GiB before)."""
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    def top(source: str) -> Any:
        return lambda: CliRunner().invoke(cli, ["score", big_db, "m", source, "--top", "5", "-c", "id"],
                                          catch_exceptions=False)

    small = _peak_python_bytes(top("(SELECT * FROM big LIMIT 300000)"))
    large = _peak_python_bytes(top("big"))
    # 4x the rows: a whole scored table in memory grows with them, streaming does not
    assert large < 1.5 * small, (small, large)
    # and the rows are those of the whole scored table, sorted
    con = ad_duckdb.connect(big_db, read_only=True)
    try:
        got = ad_duckdb.api.top_scored(con, "m", "big", 5, columns=["id"])
        every = ad_duckdb.score(con, "m", "big", columns=["id"]).sort_by([("anomaly_score", "descending")])
        assert got.column_names == every.column_names
        assert got.to_pylist() == every.slice(0, 5).to_pylist()
    finally:
        con.close()


def test_training_rows_are_read_into_one_matrix(big_db: str) -> None:
    """load_matrix fills one float64 matrix batch by batch: reading the result as an Arrow table and stacking its
    columns held about three copies of the table (10M rows x 6 columns: peak 1.8 -> 1.2 GiB for a whole training).
    The values are those of a plain read, NULLs as NaN, across batch boundaries; a source that returns more rows on
    the second read than it counted (random()) keeps every row of that read."""
    import duckdb

    from ad_duckdb.featureread import LOAD_BATCH_ROWS, load_matrix

    con = duckdb.connect(big_db, read_only=True)
    try:
        cur = con.cursor()
        src = "SELECT id, CASE WHEN id % 7 = 0 THEN NULL ELSE amount END AS amount FROM big"
        X = load_matrix(cur, src, ["id", "amount"])
        assert X.shape == (1_200_000, 2) and X.flags.c_contiguous and len(X) > 3 * LOAD_BATCH_ROWS
        plain = cur.sql(f"SELECT id::DOUBLE, amount::DOUBLE FROM ({src})").fetchnumpy()
        assert np.array_equal(X[:, 0], plain["CAST(id AS DOUBLE)"])
        assert np.array_equal(X[:, 1], np.ma.filled(plain["CAST(amount AS DOUBLE)"], np.nan), equal_nan=True)
        assert np.isnan(X[::7, 1]).all()
        # counted on one read, filled on another: every row of the second read, and only those
        varying = load_matrix(cur, "SELECT id FROM big WHERE random() < 0.5", ["id"])
        assert 500_000 < len(varying) < 700_000 and np.all(np.diff(varying[:, 0]) > 0)
    finally:
        con.close()


_PEAK_RSS_OF_LOAD = """
import duckdb, re
from ad_duckdb.featureread import load_matrix

def hwm():
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) * 1024

con = duckdb.connect()
con.execute("CREATE TABLE big AS SELECT range AS id, (random() * 20)::INTEGER AS count, random() * 100 AS amount "
            "FROM range(4000000)")
cur = con.cursor()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets the peak resident set (VmHWM) to the current one
base = hwm()
X = load_matrix(cur, "big", ["id", "count", "amount"])
print((hwm() - base) / X.nbytes)
"""


def test_reading_the_training_rows_needs_about_one_copy_of_them() -> None:
    """Peak resident memory while load_matrix reads 4M rows x 3 columns, over the matrix's size: 3.6 when the result
    was read as an Arrow table and stacked, 1.6 streamed (the matrix, a batch, DuckDB's buffers). A fresh process,
    as a peak is per process."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _PEAK_RSS_OF_LOAD], capture_output=True, text=True, check=True)
    assert float(out.stdout) < 2.5, out.stdout


def _wide_table(con: Any, n: int, d: int = 8) -> list[str]:
    cols = [f"c{j}" for j in range(d)]
    con.execute(f"CREATE OR REPLACE TABLE wide AS SELECT {', '.join(f'random() * {j + 1} AS c{j}' for j in range(d))}, "
                f"range::INTEGER AS seq FROM range({n})")
    return cols


def test_a_source_above_max_train_rows_trains_the_same_model_from_a_one_pass_sample() -> None:
    """A source of more rows than max_train_rows is read as the sample the detector would draw, then scored batch
    by batch for the thresholds: the model is the one trained on the whole matrix, and the thresholds are
    quantiles of every row's score, as before; a rising integer column is still seen across the whole source."""
    import warnings

    con = ad_duckdb.connect(":memory:")
    try:
        con.execute("SELECT setseed(0.25)")
        cols = _wide_table(con, 5000, d=3)
        params = {**FAST, "max_steps": 100, "max_train_rows": 700}
        info = ad_duckdb.train(con, "m", "wide", features=cols, **params)
        assert info.train_rows == 5000
        X = con.execute(f"SELECT {', '.join(cols)} FROM wide").fetchnumpy()
        X = np.column_stack([X[c] for c in cols])
        det = AutoEncoderDetector(**params, robust=True).fit(X, feature_names=cols)
        rec = ad_duckdb.load_model(con, "m")
        assert rec.features == det.specs_  # the same sample: the same column statistics
        sql = np.array([r[0] for r in con.execute(f"SELECT anomaly_score('m', {', '.join(cols)}) FROM wide").fetchall()])
        assert np.allclose(sql, det.decision_function(X), rtol=1e-4, atol=1e-5)
        got = con.execute("SELECT anomaly_threshold('m', 'p99')").fetchall()[0][0]
        assert got == pytest.approx(float(np.quantile(sql, 0.99)), rel=1e-5)
        # default features: 'seq' rises over all 5000 rows, which the 700 sampled (in random order) cannot show
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ad_duckdb.train(con, "all", "wide", **params)
        assert [c.name for c in ad_duckdb.load_model(con, "all").features] == cols
        assert any("'seq' (distinct integers rising row by row)" in str(w.message) for w in caught)
        # a source that returns other rows on each read still trains, on what the first read returned
        info = ad_duckdb.train(con, "varying", "SELECT * FROM wide WHERE random() < 0.5", features=cols, **params)
        assert 2000 < info.train_rows < 3000
    finally:
        con.close()


def test_training_on_a_source_above_max_train_rows_holds_the_sample_not_the_table() -> None:
    """Python-side peak while training on 400k rows x 8 columns with max_train_rows=2000: the scores of every row
    and a batch, not the 26 MB matrix of every row (which the thresholds alone used to need)."""
    con = ad_duckdb.connect(":memory:")
    try:
        # a first training imports the exporter's modules (160 MB the first time in a process, so the figure
        # depended on which tests the worker ran before): measured on a second
        ad_duckdb.train(con, "warm", "SELECT random() AS a, random() AS b FROM range(300)", **{**FAST, "max_steps": 5})
        cols = _wide_table(con, 400_000)
        matrix_bytes = 400_000 * len(cols) * 8
        peak = _peak_python_bytes(lambda: ad_duckdb.train(con, "m", "wide", features=cols, **{**FAST, "max_steps": 50},
                                                          max_train_rows=2000))
        assert peak < 0.6 * matrix_bytes, (peak, matrix_bytes)
    finally:
        con.close()


def test_row_chunks_bound_the_largest_intermediate_at_the_parameters_edge() -> None:
    """16 members x 65,536 codes: 2048 rows' bank distances were 8.6 GB; a chunk stays under CHUNK_BYTES. At the
    defaults (one member, 256 codes) a chunk holds every row a pass is given, so nothing changes there."""
    from ad_duckdb.chunks import CHUNK_BYTES, row_bytes, row_slices, rows_per_chunk

    edge = row_bytes(16, [64, 32, 8], bank_size=65_536, bank_groups=1024, knn_k=64)
    rows = rows_per_chunk(edge)
    assert edge == 16 * 65_536 * 12 and 1 <= rows and rows * edge <= CHUNK_BYTES < (rows + 1) * edge
    assert rows_per_chunk(row_bytes(1, [64, 32, 8, 64, 30], bank_size=256)) >= 65_536
    assert rows_per_chunk(10**12) == 1  # a single row over the budget still runs, one at a time
    assert row_slices(0, 5) == [slice(0, 5)] and row_slices(11, 5) == [slice(0, 5), slice(5, 10), slice(10, 15)]


@pytest.mark.parametrize("params", [
    {"bank_kind": "sample", "bank_size": 512, "bank_groups": 4, "knn_k": 3},  # topk over groups
    {"bank_kind": "kmeans", "robust": False},  # nearest centroid; k-means in chunks
])
def test_chunked_torch_passes_equal_one_pass(monkeypatch: pytest.MonkeyPatch, params: dict[str, Any]) -> None:
    """The calibration, the detector's scores and the parity check in small row chunks give what one pass gives (up
    to float32 rounding: a matmul over fewer rows may take another kernel)."""
    from ad_duckdb import chunks
    from ad_duckdb.export import parity_check, to_onnx_bytes
    from ad_duckdb.features import transform
    from ad_duckdb.trainer import calibrate

    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 3))
    X[:, 1] += 2 * X[:, 0]
    det = AutoEncoderDetector(n_models=3, max_steps=60, progress=False, **params).fit(X)
    Z = transform(X, det.specs_)
    ae, p, robust = det.graph_.ae, det.train_params_, bool(params.get("robust", True))
    one_pass, scores = calibrate(ae, Z, p, robust=robust), det.decision_function(X)
    errors = det.score_with_errors(X)[1]
    onnx = to_onnx_bytes(det.graph_, 3)
    assert det.graph_.chunk_rows() >= len(X)  # at the default budget a single pass

    monkeypatch.setattr(chunks, "CHUNK_BYTES", 97 * det.graph_.row_bytes())
    assert det.graph_.chunk_rows() == 97
    chunked = calibrate(ae, Z, p, robust=robust)
    # k-means adds each chunk's sums in turn, another order of float32 additions, over 25 iterations
    tol = 1e-4 if params["bank_kind"] == "kmeans" else 1e-5
    for key in ("bank", "knn_scale", "knn_eps", "rec_scale"):
        np.testing.assert_allclose(chunked[key].numpy(), one_pass[key].numpy(), rtol=tol, atol=1e-6, err_msg=key)
    np.testing.assert_allclose(det.decision_function(X), scores, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(det.score_with_errors(X)[1], errors, rtol=1e-5, atol=1e-6)
    assert parity_check(det.graph_, onnx, X[:500], model="m") < 1e-3


_PEAK_RSS_AT_THE_BANK_EDGE = """
import re
import numpy as np
from ad_duckdb.detector import AutoEncoderDetector

def hwm():
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) * 1024

X = np.random.default_rng(0).normal(size=(8192, 2))
X[:, 1] += X[:, 0]
det = AutoEncoderDetector(n_models=16, bank_size=8192, bank_kind="sample", max_steps=2, progress=False)
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets the peak resident set (VmHWM) to the current one
base = hwm()
det.fit(X, score_training_rows=False)
s = det.decision_function(X[:4096])
assert det.history_["bank_size"] == 8192 and np.isfinite(s).all()
print((hwm() - base) / 2**30)
"""


def test_sixteen_members_and_a_large_bank_train_and_score_in_bounded_memory() -> None:
    """16 members x 8192 codes: the calibration's distances for its 2048 rows were 1 GiB per tensor, scoring 4096
    rows 2 GiB; the fit and scoring peaked at 4.3 GiB above the start, in row chunks at 1.05 GiB (bench/
    bank_memory.py measures the 65,536-code edge). A fresh process, as a peak is per process."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _PEAK_RSS_AT_THE_BANK_EDGE], capture_output=True, text=True, check=True)
    assert float(out.stdout) < 1.6, out.stdout


def test_onnxruntime_runs_under_the_budget_give_what_one_run_gives(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Any) -> None:
    """Scoring splits a batch into runs of ``run_rows`` rows when BULK_ORT_ROWS rows' largest intermediate would
    outgrow chunks.CHUNK_BYTES. Forced to 32-row runs, the SQL functions, bulk scoring, the missing-value rescoring
    and the explanations give exactly what 2048-row runs give (runs are cut at a multiple of ORT_ALIGN rows,
    so every row starts where it would in one run)."""
    from ad_duckdb import chunks
    from ad_duckdb.ortruns import BULK_ORT_ROWS, run_rows
    from ad_duckdb.scoring import LoadedModel
    from ad_duckdb.udfs import registry

    path = str(tmp_path / "m.duckdb")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5000, 3))
    X[:, 1] += 2 * X[:, 0]
    X[::97, 2] = np.nan  # rows scored again by _fill_missing
    con = ad_duckdb.connect(path)
    try:
        cols = {"id": pa.array(np.arange(len(X)))} | {k: pa.array(X[:, j], from_pandas=True) for j, k in enumerate("abc")}
        con.register("x_rows", pa.table(cols))  # from_pandas: NaN as NULL
        con.execute("CREATE TABLE t AS SELECT * FROM x_rows")
        ad_duckdb.train(con, "m", "t", features=["a", "b", "c"], n_models=3, bank_kind="sample", bank_size=512,
                        bank_groups=4, knn_k=3, max_steps=60, progress=False)
        rec = ad_duckdb.load_model(con, "m")
    finally:
        con.close()
    one = LoadedModel(rec)
    s_udf, fe_udf = one.run(X[:BULK_ORT_ROWS])
    s_bulk, fe_bulk = one.run(X, bulk=True)
    s_explain, parts = one.attribution(X[:200])
    assert one.row_bytes > 0 and run_rows(one.row_bytes) == BULK_ORT_ROWS  # at the default budget: one run

    monkeypatch.setattr(chunks, "CHUNK_BYTES", 40 * one.row_bytes)
    assert run_rows(one.row_bytes) == 32  # 40 rows fit, cut to a multiple of ORT_ALIGN
    small = LoadedModel(rec)
    for got, want in ((small.run(X[:BULK_ORT_ROWS]), (s_udf, fe_udf)), (small.run(X, bulk=True), (s_bulk, fe_bulk)),
                      (small.attribution(X[:200]), (s_explain, parts))):
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
    assert small._run_rows == 32

    con = ad_duckdb.connect(path)
    try:
        sql = con.execute("SELECT anomaly_score('m', a, b, c) FROM t ORDER BY id").fetchnumpy()
        np.testing.assert_array_equal(next(iter(sql.values())), s_bulk)
        assert registry(con).get("m")._run_rows == 32
    finally:
        con.close()


_SQL_SCORING_PEAK = """
import re, sys
import ad_duckdb

def hwm():
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) * 1024

con = ad_duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET enable_progress_bar = false")  # it prints to stdout
con.execute("SELECT anomaly_score('e', 0.5, 0.5)").fetchall()  # loads the session: its weights are not the peak
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets the peak resident set (VmHWM) to the current one
base = hwm()
s = con.execute("SELECT sum(anomaly_score('e', a, b)) FROM (FROM big LIMIT 4096)").fetchall()[0][0]
assert s > 0
print((hwm() - base) / 2**30)
con.close()
"""


def test_sql_scoring_of_sixteen_members_and_a_large_bank_runs_in_bounded_memory(tmp_path: Any) -> None:
    """16 members x 8192 codes: a 2048-row call of anomaly_score asked onnxruntime for 1 GiB per intermediate, and
    scoring 4096 rows in SQL peaked 4.2 GiB above the start; in runs of run_rows rows (256 here), 0.53 GiB. A fresh
    process, as a peak is per process."""
    import subprocess
    import sys

    path = str(tmp_path / "edge.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE TABLE big AS SELECT x AS a, x + 0.1 * random() AS b FROM (SELECT random() AS x FROM range(8192))")
        ad_duckdb.train(con, "e", "big", n_models=16, bank_size=8192, bank_kind="sample", max_steps=2, progress=False)
    finally:
        con.close()
    out = subprocess.run([sys.executable, "-c", _SQL_SCORING_PEAK, path], capture_output=True, text=True, check=True)
    assert float(out.stdout) < 1.2, out.stdout


def test_missing_values_are_rescored_without_the_other_rows_out_of_range_columns(monkeypatch: pytest.MonkeyPatch
                                                                                 ) -> None:
    """A missing value's row-specific candidates come from the row's own values beyond their training range. Those
    of every column any row of the batch had out of range were scored for every row, NaN (the row as it was) where
    the row had none there: on a 39-column table with 30% NULLs, 91% of the rescoring passes, and scoring it took
    170 times as long as without NULLs. Only a row's own candidates are scored now, and each row scores as it does
    alone."""
    from ad_duckdb.features import transform
    from ad_duckdb.scoring import LoadedModel

    rng = np.random.default_rng(5)
    d = 8
    train = rng.normal(size=(600, d))
    con = ad_duckdb.connect(":memory:")
    try:
        con.register("rows_", pa.table({f"c{j}": train[:, j] for j in range(d)}))
        con.execute("CREATE TABLE t AS SELECT * FROM rows_")
        ad_duckdb.train(con, "m", "t", **FAST)
        lm = LoadedModel(ad_duckdb.load_model(con, "m"))
    finally:
        con.close()
    X = rng.normal(size=(256, d))
    for i in range(len(X)):  # each row: one value far out in a column of its own, two values missing
        X[i, i % d] = 40.0
        X[i, [(i + 1) % d, (i + 3) % d]] = np.nan
    specs = lm.rec.features
    Z = transform(X, specs)
    out = ((Z < [f.lo for f in specs]) | (Z > [f.hi for f in specs])) & ~np.isnan(X)
    cands = lm._candidates()
    own = sum(len(cands[j]) + 2 * int(out[i].sum() - out[i, j])
              for i, j in zip(*np.nonzero(np.isnan(X)), strict=True))
    scored: list[int] = []
    runs = LoadedModel._runs

    def counted(self: LoadedModel, A: np.ndarray, outputs: list[str], bulk: bool) -> list[Any]:
        scored.append(len(A))
        return runs(self, A, outputs, bulk)

    monkeypatch.setattr(LoadedModel, "_runs", counted)
    s = lm.scores(X)
    assert sum(scored) <= len(X) + own, (sum(scored), len(X) + own)
    alone = np.array([lm.scores(X[i : i + 1])[0] for i in range(len(X))])
    np.testing.assert_allclose(s, alone, rtol=1e-5)


def test_training_on_a_large_source_says_how_far_its_passes_over_the_rows_got(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Above max_train_rows, training reads every row for its sample, and scores every row for the thresholds: 5M
    rows spent 4 s in each pass before and after the progress lines of the steps, without a word in a log, and a
    source ten times larger a minute in each. Now each pass reports the rows done, every ROW_LINE_SECONDS (0 here:
    each batch of the pass says it)."""
    from ad_duckdb import featureread, progress

    monkeypatch.setattr(progress, "ROW_LINE_SECONDS", 0.0)
    monkeypatch.setattr(featureread, "LOAD_BATCH_ROWS", 1000)
    con = ad_duckdb.connect()
    try:
        make_transactions(con, n=1500)
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount"],
                        **{**FAST, "max_steps": 20, "max_train_rows": 700, "progress": True})
        said = [x.split(",")[0] for x in capsys.readouterr().err.splitlines() if "rows" in x]
        assert said == ["training m: reading rows for a sample: 1000/1500 rows (66%)",
                        "training m: reading rows for a sample: 1500/1500 rows (100%)",
                        "training m: scoring every row for the thresholds: 1000/1500 rows (66%)",
                        "training m: scoring every row for the thresholds: 1500/1500 rows (100%)"], said
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount"],
                        **{**FAST, "max_steps": 20, "max_train_rows": 700})  # progress=False: nothing
        assert capsys.readouterr().err == ""
    finally:
        con.close()
