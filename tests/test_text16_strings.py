"""text16: an exported text model that takes strings (export --string-inputs), and text features' leftovers."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import onnxruntime as ort
import pytest
from click.testing import CliRunner
from readme_textmodel import readme_scores
from test_review11_textcols import ARGS, NUMS

import ad_duckdb
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import AdDuckDBError

from conftest import FAST

COLUMNS = [*NUMS, "channel", "country"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tx_t_master: tuple[Path, Any]) -> Path:
    """A byte copy of conftest's tx_t_master (tx_t on COLUMNS), with tx_n trained on NUMS."""
    path = tmp_path_factory.mktemp("text16") / "warehouse.duckdb"
    shutil.copyfile(tx_t_master[0], path)
    con = ad_duckdb.connect(str(path))
    try:
        ad_duckdb.train(con, "tx_n", "transactions", features=NUMS, **FAST)
    finally:
        con.close()
    return path


def _rows(path: Path) -> tuple[list[tuple[Any, ...]], np.ndarray]:
    """64 real rows (some with a NULL channel), one with a channel training never saw and one with both text NULL,
    with SQL's anomaly_score of each."""
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        got = con.execute(
            f"WITH t AS (SELECT * FROM (SELECT transaction_id, {ARGS} FROM transactions ORDER BY transaction_id LIMIT 62) "
            f"UNION ALL SELECT 10001, 3, 120.0, 0, 'fax', 'US' UNION ALL SELECT 10002, 3, 120.0, 0, NULL, NULL) "
            f"SELECT {ARGS}, anomaly_score('tx_t', {ARGS}) FROM t ORDER BY transaction_id").fetchall()
    finally:
        con.close()
    return [r[:-1] for r in got], np.array([r[-1] for r in got])


def _feed(session: ort.InferenceSession, rows: list[tuple[Any, ...]]) -> np.ndarray:
    numeric_type = np.float64 if session.get_inputs()[0].type == "tensor(double)" else np.float32
    feed = {"numeric": np.array([[np.nan if v is None else v for v in r[:3]] for r in rows], dtype=numeric_type),
            "channel": np.array(["" if r[3] is None else r[3] for r in rows], dtype=object),
            "country": np.array(["" if r[4] is None else r[4] for r in rows], dtype=object)}
    return np.asarray(session.run(["score"], feed)[0])


def test_a_string_inputs_file_takes_the_text_and_scores_as_sql(trained: Path, tmp_path: Path) -> None:
    """The exported graph took only the 0/1 inputs of each category, which a program had to build itself; with
    --string-inputs it takes each text column as strings (a NULL as ''), and scores as SQL does."""
    out = tmp_path / "tx_t.onnx"
    run = CliRunner().invoke(cli, ["export", str(trained), "tx_t", str(out), "--string-inputs"])
    assert run.exit_code == 0, run.output
    session = ort.InferenceSession(str(out))
    assert [(i.name, i.type, i.shape) for i in session.get_inputs()] == [
        ("numeric", session.get_inputs()[0].type, ["n", 3]), ("channel", "tensor(string)", ["n"]),
        ("country", "tensor(string)", ["n"])]
    assert [o.name for o in session.get_outputs()] == ["score", "feature_error"]
    meta = json.loads(session.get_modelmeta().custom_metadata_map["ad_duckdb"])
    inputs = meta["string_inputs"]["inputs"]
    assert [(i["name"], i["type"]) for i in inputs[1:]] == [("channel", "string"), ("country", "string")]
    assert inputs[0]["columns"] == NUMS and inputs[1]["null"] == "" and "web" in inputs[1]["categories"]
    rows, sql = _rows(trained)
    assert sum(r[3] is None for r in rows) >= 3  # real rows with a NULL channel, and the one with both NULL
    scores = _feed(session, rows)
    np.testing.assert_allclose(scores, sql, rtol=2e-4)
    assert scores[-2] > np.quantile(scores[:-2], 0.9)  # 'fax': never seen, scores high as in SQL
    import onnx

    onnx.checker.check_model(onnx.load(str(out)))


def test_a_string_inputs_file_imports_as_the_stored_graph(trained: Path, tmp_path: Path) -> None:
    """The file's graph differs from the stored one, whose sha256 the metadata holds: import restores the stored
    graph byte for byte, so the model stored is the one exported, scoring the same in SQL."""
    out = tmp_path / "tx_t.onnx"
    con = ad_duckdb.connect(str(trained), read_only=True)
    try:
        ad_duckdb.export_model(con, "tx_t", out, string_inputs=True)
        stored = ad_duckdb.load_model(con, "tx_t")
    finally:
        con.close()
    assert stored.onnx not in out.read_bytes()  # the graph in the file is another
    other = ad_duckdb.connect(str(tmp_path / "other.duckdb"))
    try:
        info = ad_duckdb.import_model(other, out)
        again = ad_duckdb.load_model(other, info.name)
        assert again.onnx == stored.onnx and again.sha256 == stored.sha256
        other.execute(f"ATTACH '{trained}' AS src (READ_ONLY)")
        got = other.execute(f"SELECT anomaly_score('tx_t', {ARGS}) FROM src.transactions ORDER BY transaction_id"
                            ).fetchnumpy()
    finally:
        other.close()
    con = ad_duckdb.connect(str(trained), read_only=True)
    try:
        want = con.execute(f"SELECT anomaly_score('tx_t', {ARGS}) FROM transactions ORDER BY transaction_id"
                           ).fetchnumpy()
    finally:
        con.close()
    np.testing.assert_array_equal(next(iter(got.values())), next(iter(want.values())))
    # the command line imports it too, and SQL functions read the file itself (register(models=[...])) alike
    run = CliRunner().invoke(cli, ["import", str(tmp_path / "third.duckdb"), str(out), "--format", "json"])
    assert run.exit_code == 0 and json.loads(run.output)["stored"] is True, run.output
    plain = duckdb.connect()
    try:
        ad_duckdb.register(plain, models=[str(out)])
        plain.execute(f"ATTACH '{trained}' AS src (READ_ONLY)")
        read = plain.execute(f"SELECT anomaly_score('tx_t', {ARGS}) FROM src.transactions ORDER BY transaction_id"
                             ).fetchnumpy()
    finally:
        plain.close()
    np.testing.assert_array_equal(next(iter(read.values())), next(iter(want.values())))
    # imported into the database it came from: the same model, so nothing is stored
    con = ad_duckdb.connect(str(trained))
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="already this model"):
            assert ad_duckdb.import_model(con, out).version == 1
    finally:
        con.close()


def test_a_string_inputs_file_altered_or_not_fitting_is_refused(trained: Path, tmp_path: Path) -> None:
    """A file whose splice no longer leads back to the stored graph is refused as altered; a model of numbers alone
    has no text to take, and --all writes the set import reads back: each refused with what to do."""
    out = tmp_path / "tx_t.onnx"
    con = ad_duckdb.connect(str(trained), read_only=True)
    try:
        ad_duckdb.export_model(con, "tx_t", out, string_inputs=True)
        with pytest.raises(AdDuckDBError, match=r"'tx_n@1' has no text feature.*without string_inputs=True"):
            ad_duckdb.export_model(con, "tx_n", tmp_path / "n.onnx", string_inputs=True)
    finally:
        con.close()
    assert not (tmp_path / "n.onnx").exists()
    run = CliRunner().invoke(cli, ["export", str(trained), "tx_n", str(tmp_path / "n.onnx"), "--string-inputs"])
    assert run.exit_code != 0 and "without --string-inputs" in run.output, run.output
    run = CliRunner().invoke(cli, ["export", str(trained), "--all", str(tmp_path / "set"), "--string-inputs"])
    assert run.exit_code == 2 and "--string-inputs exports one model" in run.output, run.output
    data = bytearray(out.read_bytes())
    at = data.index(b"ad_duckdb_text/0/code")  # a node name of the splice: the stored graph holds no such name
    data[at + len("ad_duckdb_text/0/")] = ord("k")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(bytes(data))
    other = ad_duckdb.connect(str(tmp_path / "other.duckdb"))
    try:
        with pytest.raises(AdDuckDBError, match="altered"):
            ad_duckdb.import_model(other, bad)
        assert len(ad_duckdb.list_models(other)) == 0
    finally:
        other.close()


def test_the_readme_feeds_strings_to_an_exported_text_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sql, scores = readme_scores(tmp_path, monkeypatch, "(1, 3, 120.0, 'web'), (2, 3, 120.0, 'fax'), (3, 3, NULL, NULL)",
                                ["--string-inputs"], "ad-duckdb export warehouse.duckdb tx_ch tx_ch.onnx --string-inputs")
    np.testing.assert_allclose(scores[:2], sql[:2], rtol=2e-4)  # rows with every value: SQL's, to float32 rounding
    assert scores[2] >= sql[2] * (1 - 2e-4)  # a missing number: at least SQL's (README, "The .onnx file")
    assert scores[1] > scores[0]


def test_explain_of_value_rows_keys_a_text_null_by_its_category(trained: Path) -> None:
    """explain on an array could not key a text NULL: an array of numbers cannot hold text, and in the 0/1 inputs a
    NULL is its first category's input. Rows of values (a list, or an object array, one value per column, None for
    NULL) are now read as a frame of those columns is: scored alike, a text NULL keyed by the category it was read
    as, as explain on a frame keys it."""
    import pandas as pd

    con = ad_duckdb.connect(str(trained), read_only=True)
    try:
        det = ad_duckdb.AutoEncoderDetector.from_store(con, "tx_t")
    finally:
        con.close()
    rows = [[3, 120.0, 0, None, "US"], [3, 120.0, 0, "fax", None], [2, None, 0, "web", "DE"]]
    frame = det.explain(pd.DataFrame(rows, columns=COLUMNS))
    for given in (rows, np.array(rows, dtype=object)):
        np.testing.assert_allclose(det.decision_function(given), det.decision_function(pd.DataFrame(rows, columns=COLUMNS)))
        got = det.explain(given)
        assert list(got["feature"][:, 0]) == list(frame["feature_1"])
        np.testing.assert_allclose(got["share"][:, 0], frame["share_1"])
        keys = got["imputed_keys"]
        assert keys[:3] == NUMS and keys[3].startswith("channel='") and keys[4].startswith("country='"), keys
        held = [{keys[j]: v[j] for j in np.flatnonzero(~np.isnan(v))} for v in got["imputed"]]
        assert held == [dict(d) for d in frame["imputed"]], (held, list(frame["imputed"]))
        assert held[0] == {keys[3]: 1.0} and set(held[1]) == {keys[4]} and set(held[2]) == {"amount"}


def _fit_frame(**changed: Any) -> Any:
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "ch": rng.choice(["web", "store", "phone"], n)})
    return frame.assign(**changed)


@pytest.mark.parametrize(("changed", "said"), [
    ({"b": 1.0}, r"column 'b' is constant \(1\.0 in every row\).*X\.drop\(columns=\['b'\]\)"),
    ({"a": 0.0, "b": 1.0}, r"2 columns are constant .*X\.loc\[:, X\.nunique\(\) > 1\]"),
    ({"b": np.nan}, r"column 'b' has no finite value .*X\.drop\(columns=\['b'\]\)"),
    ({"b": np.arange(600) * 1e300}, r"column 'b' holds values as large as .*Rescale it before fitting"),
    ({"ch2": [None] * 600}, r"column 'ch2' has no non-NULL value .*X\.drop\(columns=\['ch2'\]\)\), or fit on rows"),
])
def test_fit_on_a_text_frame_says_its_refusals_of_x(changed: dict[str, Any], said: str) -> None:
    """fit of a frame with text columns trains through a table of its own (fit_rows): its refusals of a numeric
    column named that table, model 'model' and features=, none of which the caller has; they are now said of X, as
    a frame of numbers alone is told."""
    det = ad_duckdb.AutoEncoderDetector(n_models=1, max_steps=50, progress=False)
    with pytest.raises(AdDuckDBError) as err:
        det.fit(_fit_frame(**changed))
    text = str(err.value)
    assert text.startswith("AutoEncoderDetector.fit: ") and re.search(said, text), text
    assert not re.search(r"fit_rows|features=|where=|Model 'model'|\bquery\b", text), text


def test_fit_on_a_text_frame_notes_a_mostly_missing_column_of_x() -> None:
    """The note on a column mostly NaN, from fit of a text frame, named model 'model' and features= / where=."""
    values = np.full(600, np.nan)
    values[:10] = np.arange(10)
    det = ad_duckdb.AutoEncoderDetector(n_models=1, max_steps=50, progress=False)
    with pytest.warns(ad_duckdb.AdDuckDBWarning) as got:
        det.fit(_fit_frame(b=values))
    text = " ".join(str(w.message) for w in got if "NULL or NaN" in str(w.message) or "missing" in str(w.message))
    assert text.startswith("AutoEncoderDetector.fit: column 'b'"), text
    assert "X.drop(columns=['b'])" in text and "X[X['b'].notna()]" in text, text
    assert not re.search(r"fit_rows|features=|where=|Model 'model'", text), text


def test_fit_on_a_text_frame_notes_a_time_column_of_x() -> None:
    """The note on a feature of epoch seconds, from fit of a text frame, named model 'model' and SQL's fix."""
    det = ad_duckdb.AutoEncoderDetector(n_models=1, max_steps=50, progress=False)
    with pytest.warns(ad_duckdb.AdDuckDBWarning) as got:
        det.fit(_fit_frame(ts=1.7e9 + np.arange(600) * 60.0))
    text = " ".join(str(w.message) for w in got if "epoch seconds" in str(w.message))
    assert text.startswith("AutoEncoderDetector.fit: feature 'ts'") and "X.drop(columns=['ts'])" in text, text
    assert "Model 'model'" not in text and "hour(ts)" not in text, text


def test_a_string_inputs_file_of_a_float64_model_with_clashing_names(tmp_path: Path) -> None:
    """A model whose graph takes float64 (a column of a large centre) and text columns named 'x' and 'numeric' (the
    stored graph's input, and the file's numeric one): onnxruntime has no OneHot of doubles, and the names would
    clash; the file casts the 0/1 inputs and names those inputs 'x_text' and 'numeric_text', as its metadata says."""
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 800
    df = pd.DataFrame({"big": 1e12 + rng.normal(size=n) * 1000, "a": rng.normal(size=n),
                       "x": rng.choice(["u", "v", "w"], n), "numeric": rng.choice(["p", "q"], n)})
    con = ad_duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        con.register("df", df)
        con.execute("CREATE TABLE t AS SELECT * FROM df")
        ad_duckdb.train(con, "m", "t", features=["big", "a", "x", "numeric"], n_models=1, max_steps=100, progress=False)
        out = ad_duckdb.export_model(con, "m", tmp_path / "m.onnx", string_inputs=True)
        rows = con.execute("SELECT big, a, x, numeric, anomaly_score('m', big, a, x, numeric) FROM t LIMIT 32").fetchall()
    finally:
        con.close()
    session = ort.InferenceSession(str(out))
    assert [(i.name, i.type) for i in session.get_inputs()] == [
        ("numeric", "tensor(double)"), ("x_text", "tensor(string)"), ("numeric_text", "tensor(string)")]
    meta = json.loads(session.get_modelmeta().custom_metadata_map["ad_duckdb"])
    assert [(i["name"], i.get("column")) for i in meta["string_inputs"]["inputs"][1:]] == [
        ("x_text", "x"), ("numeric_text", "numeric")]
    feed = {"numeric": np.array([r[:2] for r in rows], dtype=np.float64),
            "x_text": np.array([r[2] for r in rows], dtype=object),
            "numeric_text": np.array([r[3] for r in rows], dtype=object)}
    np.testing.assert_allclose(session.run(["score"], feed)[0], [r[4] for r in rows], rtol=2e-4)
    assert session.run(["score"], {k: v[:0] for k, v in feed.items()})[0].shape == (0,)  # no rows: no scores
