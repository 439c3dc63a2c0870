"""Text columns as native features (categorical.py): trained as one 0/1 input per category, scored from SQL with the
text itself, explained as one column, shown, exported and imported."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import onnxruntime as ort
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb import categorical
from ad_duckdb.cli import cli

from conftest import FAST
from generate import generate

FEATURES = ["count", "amount", "distinct_cards", "refunds"]
CHANNELS = "['web', 'store', 'phone'][1 + merchant_id % 3]"  # a merchant's channel
# rows of ordinary numbers given a channel seen only here (0.2% of the rows: under the 1% a category needs)
RARE = "fax"


def _with_channel(path: Path, rows: int = 4000) -> list[int]:
    """The transactions example with a ``channel`` column: web / store / phone by merchant, and ``RARE`` on a few
    rows whose numbers are not planted anomalies; returns those rows' ids."""
    generate(path, rows=rows, seed=5)
    con = duckdb.connect(str(path))
    try:
        con.execute("ALTER TABLE transactions ADD COLUMN channel VARCHAR")
        con.execute(f"UPDATE transactions SET channel = {CHANNELS}")
        rare = [r[0] for r in con.execute(
            "SELECT transaction_id FROM transactions WHERE transaction_id NOT IN (SELECT transaction_id FROM "
            "planted_anomalies) ORDER BY hash(transaction_id) LIMIT 8").fetchall()]
        con.execute(f"UPDATE transactions SET channel = '{RARE}' WHERE transaction_id IN ({', '.join(map(str, rare))})")
    finally:
        con.close()
    return rare


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int], Any]:
    path = tmp_path_factory.mktemp("textcols") / "tx.duckdb"
    rare = _with_channel(path)
    con = ad_duckdb.connect(str(path))
    try:
        info = ad_duckdb.train(con, "tx_ch", "transactions", features=[*FEATURES, "channel"], **FAST)
    finally:
        con.close()
    return path, rare, info


def test_a_text_feature_is_trained_and_scored_with_its_words(trained: tuple[Path, list[int], Any]) -> None:
    path, rare, info = trained
    assert info.features == [*FEATURES, "channel"]
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        args = ", ".join([*FEATURES, "channel"])
        pct = dict(con.execute(f"SELECT transaction_id, anomaly_percentile('tx_ch', {args}) FROM transactions").fetchall())
        # the rare channel's rows, ordinary in their numbers, rank among the highest
        assert min(pct[r] for r in rare) > 0.97, sorted(pct[r] for r in rare)
        # the same rows with a channel never seen in training rank high too; with their merchant's own channel, not
        unseen = con.execute(
            f"SELECT anomaly_percentile('tx_ch', {', '.join(FEATURES)}, 'carrier pigeon'), anomaly_percentile('tx_ch', "
            f"{', '.join(FEATURES)}, {CHANNELS}) FROM transactions WHERE transaction_id IN "
            f"({', '.join(map(str, rare))})").fetchall()
        assert min(u for u, _ in unseen) > 0.97 and float(np.median([o for _, o in unseen])) < 0.9, unseen
        # every function takes the text argument
        row = con.execute(
            f"SELECT is_anomaly('tx_ch', {args}), is_anomaly_at('tx_ch', 'p99', {args}), anomaly_explain('tx_ch', {args}) "
            f"FROM transactions WHERE transaction_id = {rare[0]}").fetchall()[0]
        assert row[0] is True and row[1] is True, row
        # the text column is named once, with its inputs' share summed, and here it is the reason
        named = [p["feature"] for p in row[2]]
        assert sorted(named) == sorted([*FEATURES, "channel"]) and named[0] == "channel", row[2]
        assert sum(p["share"] for p in row[2]) == pytest.approx(1.0)
        # a NULL channel is read as the most common one: as that channel's score
        lay = categorical.layout(ad_duckdb.load_model(con, "tx_ch").features)
        assert lay is not None
        first = lay.text[0][1][0]
        a, b = con.execute(f"SELECT anomaly_score('tx_ch', {', '.join(FEATURES)}, NULL), anomaly_score('tx_ch', "
                           f"{', '.join(FEATURES)}, '{first}') FROM transactions LIMIT 1").fetchall()[0]
        assert a == b
    finally:
        con.close()


def test_torch_and_onnxruntime_agree_and_a_reopened_file_scores_the_same(trained: tuple[Path, list[int], Any]) -> None:
    path, _, info = trained
    assert info.metrics["parity_max_abs_diff"] < 1e-3
    args = ", ".join([*FEATURES, "channel"])
    q = f"SELECT anomaly_score('tx_ch', {args}) FROM transactions ORDER BY transaction_id"
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        first = [r[0] for r in con.execute(q).fetchall()]
        rows = con.execute(f"SELECT {args} FROM transactions ORDER BY transaction_id").fetchall()
        rec = ad_duckdb.load_model(con, "tx_ch")
    finally:
        con.close()
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        again = [r[0] for r in con.execute(q).fetchall()]
    finally:
        con.close()
    assert first == again
    # the stored graph on its own, fed the 0/1 inputs the text maps to, gives the SQL scores
    lay = categorical.layout(rec.features)
    assert lay is not None and lay.width == len(rec.features) == len(FEATURES) + len(lay.text[0][1]) + 1
    sess = ort.InferenceSession(rec.onnx, providers=["CPUExecutionProvider"])
    X = lay.rows(rows).astype(np.float32 if sess.get_inputs()[0].type == "tensor(float)" else np.float64)
    direct = sess.run(["score"], {"x": X})[0] if "score" in [o.name for o in sess.get_outputs()] else \
        sess.run(None, {"x": X})[0]
    assert np.allclose(direct, first, rtol=1e-5, atol=1e-5)


def test_text_in_the_wrong_place_says_the_right_call(trained: tuple[Path, list[int], Any]) -> None:
    path, _, _ = trained
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        with pytest.raises(duckdb.Error) as e:
            con.execute("SELECT anomaly_score('tx_ch', count, amount, channel, refunds, distinct_cards) "
                        "FROM transactions").fetchall()
    finally:
        con.close()
    text = str(e.value)
    assert "feature argument 3 is VARCHAR, but the model takes a number there ('distinct_cards')" in text, text
    assert "anomaly_score('tx_ch', count, amount, distinct_cards, refunds, channel)" in text, text


def test_cli_show_score_explain_and_an_exported_file(trained: tuple[Path, list[int], Any], tmp_path: Path) -> None:
    path, rare, _ = trained
    runner = CliRunner()
    shown = runner.invoke(cli, ["show", str(path), "tx_ch"])
    assert shown.exit_code == 0, shown.output
    assert re.search(r"text feature 'channel': 3 categories \('(web|store|phone)', .*\), and any other value",
                     shown.output), shown.output
    assert RARE not in shown.output
    # the columns a call passes, not the graph's inputs
    assert [m["n_features"] for m in _listed(path) if m["name"] == "tx_ch"] == [5]
    top = runner.invoke(cli, ["score", str(path), "tx_ch", "transactions", "--top", "30"])
    assert top.exit_code == 0, top.output
    assert top.output.count(f" {RARE} ") >= 6, top.output
    ex = runner.invoke(cli, ["explain", str(path), "tx_ch", "transactions", "--where", f"transaction_id = {rare[0]}"])
    assert ex.exit_code == 0, ex.output
    assert f"'{RARE}', not one of its 3 training categories" in " ".join(ex.output.split()), ex.output
    js = runner.invoke(cli, ["explain", str(path), "tx_ch", "transactions", "--where", f"transaction_id = {rare[0]}",
                             "--format", "json"])
    assert js.exit_code == 0, js.output
    assert json.loads(js.output)[0]["anomaly_explain"][0]["feature"] == "channel"
    # an exported file, imported into another database, scores the same
    onnx_path = tmp_path / "tx_ch.onnx"
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        ad_duckdb.export_model(con, "tx_ch", onnx_path)
        before = con.execute("SELECT anomaly_score('tx_ch', count, amount, distinct_cards, refunds, channel) "
                             "FROM transactions ORDER BY transaction_id").fetchall()
        con.execute(f"COPY transactions TO '{tmp_path / 'tx.parquet'}'")
    finally:
        con.close()
    other = ad_duckdb.connect(str(tmp_path / "other.duckdb"))
    try:
        ad_duckdb.import_model(other, onnx_path)
        after = other.execute(f"SELECT anomaly_score('tx_ch', count, amount, distinct_cards, refunds, channel) FROM "
                              f"read_parquet('{tmp_path / 'tx.parquet'}') ORDER BY transaction_id").fetchall()
    finally:
        other.close()
    assert after == before


def _listed(path: Path) -> list[dict[str, Any]]:
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        return ad_duckdb.list_models(con)
    finally:
        con.close()


def test_an_id_or_free_text_is_refused_with_its_distinct_count() -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range % 17 AS count, md5(range::VARCHAR) AS note, "
                    "'c' || (range % 60)::VARCHAR AS city FROM range(600)")
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "m", "t", features=["count", "note"], **FAST)
        text = str(e.value)
        assert "Model 'm': text column 'note' has 600 distinct values" in text, text
        assert "leave it out of features" in text, text
        # 60 even kinds: none reaches 1% of the rows by much, and 24 of them cannot cover most rows
        with pytest.raises(ad_duckdb.BadInputError, match=r"text column 'city' has 60 distinct values.*group the rare "
                                                          r"ones in a query"):
            ad_duckdb.train(con, "m", "t", features=["count", "city"], **FAST)
        # text alone cannot stand first in a call
        with pytest.raises(ad_duckdb.BadInputError, match=r"names only text columns of 't' \('city' VARCHAR\)"):
            ad_duckdb.train(con, "m", "t", features=["city"], **FAST)
    finally:
        con.close()


def test_text_of_numbers_keeps_its_hint_and_an_enum_is_a_text_feature() -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TYPE kind AS ENUM ('a', 'b', 'c')")
        con.execute("CREATE TABLE t AS SELECT range % 13 AS count, '$' || (1000 + range)::VARCHAR || '.50' AS paid, "
                    "['a', 'b', 'c'][range % 3 + 1]::kind AS k FROM range(300)")
        with pytest.raises(ad_duckdb.BadInputError, match=r"'paid' of 't' is VARCHAR, not numeric, but all its values "
                                                          r"are numbers"):
            ad_duckdb.train(con, "m", "t", features=["count", "paid"], **FAST)
        info = ad_duckdb.train(con, "m", "t", features=["count", "k"], **FAST)
        assert info.features == ["count", "k"]
        n = con.execute("SELECT count(anomaly_score('m', count, k)) FROM t").fetchall()[0][0]
        assert n == 300
    finally:
        con.close()


def test_a_model_of_numbers_stores_and_shows_no_category_keys(tmp_path: Path) -> None:
    path = str(tmp_path / "n.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE TABLE t AS SELECT range % 13 AS a, (range * 7) % 11 AS b FROM range(300)")
        ad_duckdb.train(con, "m", "t", **FAST)
        stored = json.loads(con.execute("SELECT features FROM ad_models").fetchall()[0][0])
        assert ad_duckdb.load_model(con, "m").lib_versions["min_reader"] == 1
    finally:
        con.close()
    assert all("category" not in f for f in stored), stored
    shown = CliRunner().invoke(cli, ["show", path, "m", "--format", "json"])
    assert shown.exit_code == 0 and "category" not in shown.output, shown.output


def test_a_text_model_needs_a_reader_of_text_features(trained: tuple[Path, list[int], Any]) -> None:
    """A build before text features would read each category input as a column of its own: a text model asks for
    reader level 2 (readers.py), which builds since min_reader refuse to score by their rules."""
    path, _, _ = trained
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        assert ad_duckdb.load_model(con, "tx_ch").lib_versions["min_reader"] == 2
    finally:
        con.close()


def test_the_python_detector_takes_a_text_models_columns_in_a_frame(trained: tuple[Path, list[int], Any]) -> None:
    """from_store refused a text model; it now loads, and an array of numbers (which cannot hold the text) is refused
    with the columns a DataFrame must have (test_textcols2_gaps compares its scores with SQL's)."""
    path, _, _ = trained
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        det = ad_duckdb.AutoEncoderDetector.from_store(con, "tx_ch")
    finally:
        con.close()
    with pytest.raises(ad_duckdb.BadInputError, match=re.escape(
            "pass a DataFrame (pandas, polars or Arrow) with the columns ['count', 'amount', 'distinct_cards', "
            "'refunds', 'channel']")):
        det.decision_function(np.zeros((3, 5)))


def test_labels_evaluate_and_choose_thresholds_for_a_text_model(trained: tuple[Path, list[int], Any],
                                                                 tmp_path: Path) -> None:
    """evaluate and set_threshold read the features as numbers: a text feature is read as its categories there too
    (before: CAST('web' AS DOUBLE) failed)."""
    path, rare, _ = trained
    src = ad_duckdb.connect(str(path), read_only=True)
    try:
        ad_duckdb.export_model(src, "tx_ch", tmp_path / "m.onnx")
    finally:
        src.close()
    con = ad_duckdb.connect(str(tmp_path / "copy.duckdb"))
    try:
        ad_duckdb.import_model(con, tmp_path / "m.onnx")
        con.execute(f"ATTACH '{path}' AS src (READ_ONLY)")
        con.execute(f"CREATE TABLE tx AS SELECT *, (transaction_id IN ({', '.join(map(str, rare))}))::INTEGER AS label "
                    "FROM src.transactions")
        con.execute("DETACH src")
        report = ad_duckdb.evaluate(con, "tx_ch", "tx", label="label")
        assert report.auc_roc > 0.95, report
        ad_duckdb.set_threshold(con, "tx_ch", "r90", "min_recall", target=0.9, source="tx", label="label")
        flagged = con.execute("SELECT count(*) FILTER (WHERE label = 1 AND is_anomaly_at('tx_ch', 'r90', count, amount, "
                              "distinct_cards, refunds, channel)) FROM tx").fetchall()[0][0]
        assert flagged >= 0.9 * len(rare)
    finally:
        con.close()


def test_the_text_argument_reads_the_same_from_every_arrow_form() -> None:
    """DuckDB hands a text argument over as a string array, an ENUM as a dictionary array, a bare NULL as a null
    array: each maps to the same 0/1 inputs (a category's own, any other value the last, NULL the first)."""
    import pyarrow as pa

    lay = categorical.Layout(1, (("channel", ("web", "store")),))
    want = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=float)
    values = ["web", "store", "fax", None]
    for col in (pa.array(values), pa.array(values, pa.large_string()), pa.array(values).dictionary_encode(),
                pa.chunked_array([pa.array(values[:2]), pa.array(values[2:])])):
        assert (lay.encode(col, 0) == want).all(), col.type
    assert (lay.encode(pa.nulls(2), 0) == [[1, 0, 0], [1, 0, 0]]).all()
    # the training read (categories' numbers, NaN for NULL) expands to the same inputs
    codes = np.array([[5.0, 0], [6.0, 1], [7.0, 2], [8.0, np.nan]])
    assert (lay.expand(codes)[:, 1:] == want).all()
    assert (lay.rows([[5.0, v] for v in values])[:, 1:] == want).all()


def test_a_row_flagged_for_its_category_alone_is_explained_by_that_column() -> None:
    # Before: each category input was a player of its own (absent at 0, a row of no category), each cut at 0 before
    # the sum, so rows flagged only for their rare channel were explained 'channel 0%', and typical 'web' rows
    # credited to the channel. Now the column is one player, absent at its most common category.
    rng = np.random.default_rng(0)
    n = 4000
    rows = {"qty": rng.poisson(5, n) + 1, "price": rng.lognormal(3, 0.4, n), "ratio": rng.normal(0, 1, n),
            "channel": rng.choice(["web", "store", "phone"], n, p=[0.6, 0.3, 0.1])}
    con = ad_duckdb.connect(":memory:")
    try:
        con.execute("CREATE TABLE t AS SELECT * FROM (SELECT unnest($1) AS qty, unnest($2) AS price, unnest($3) AS "
                    "ratio, unnest($4) AS channel)", [rows[k].tolist() for k in ("qty", "price", "ratio", "channel")])
        ad_duckdb.train(con, "m", "t", features=["qty", "price", "ratio", "channel"], where="true", **FAST)
        got = con.execute("""
            SELECT channel, anomaly_score('m', qty, price, ratio, channel) - anomaly_score('m', qty, price, ratio, 'web')
                   AS by_channel, anomaly_score('m', qty, price, ratio, channel) AS s,
                   list_filter(anomaly_explain('m', qty, price, ratio, channel), lambda e: e.feature = 'channel')[1]
                   .share AS share
            FROM t""").fetchall()
    finally:
        con.close()
    web = [share for ch, _d, _s, share in got if ch == "web"]
    assert max(web) == 0.0, max(web)  # the typical value: never a reason
    # among the top 5% of the scores: rows whose channel raises them by over half their score get a large share,
    # rows it barely moves a small one
    top = float(np.quantile([s for _c, _d, s, _sh in got], 0.95))
    carried = [share for ch, d, s, share in got if ch != "web" and s > top and d > 0.5 * s]
    ordinary = [share for ch, d, s, share in got if ch != "web" and s > top and d < 0.1 * s]
    assert len(carried) >= 10 and float(np.median(carried)) > 0.4, (len(carried), sorted(carried))
    assert len(ordinary) >= 5 and float(np.median(ordinary)) < 0.2, (len(ordinary), sorted(ordinary))
