"""Text features' gaps (textcols2): the SQL functions' word on a value that differs from a category only in case or
spaces, a non-feature text column passed in a text feature's place, the Python detector on a text model, the drift
note's category shares, explain's cost of a text model's inputs."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from click.testing import CliRunner
from test_review11_textcols import ARGS, NUMS

import ad_duckdb
from ad_duckdb import drift, explaincost
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import AdDuckDBWarning
from ad_duckdb.scoring import LoadedModel

# every 7th row's channel written 'Web ' (the category 'web' with a capital and a trailing space)
ODD = "SELECT * REPLACE (CASE WHEN transaction_id % 7 = 0 THEN 'Web ' ELSE channel END AS channel) FROM transactions"
# a text column that is no feature, of a value per merchant: passed where channel belongs
MERCHANT_ARGS = ", ".join([*NUMS, "'M' || merchant_id::VARCHAR", "country"])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tx_t_master: tuple[Path, Any]) -> Path:
    """A byte copy of conftest's tx_t_master: tx_t trained on NUMS, channel and country."""
    path = tmp_path_factory.mktemp("textcols2") / "tx.duckdb"
    shutil.copyfile(tx_t_master[0], path)
    return path


def _notes_of(run: Any) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AdDuckDBWarning)
        run()
    return [str(w.message) for w in caught if issubclass(w.category, AdDuckDBWarning)]


def test_a_value_differing_from_a_category_in_case_or_spaces_is_noted_once(trained: Path) -> None:
    """'Web ' scored as any other value, and the SQL functions said nothing: each of its rows could be flagged. Now one
    note per query (not one per batch of rows) names the model, the column, the value and the fix."""
    con = ad_duckdb.connect(str(trained), read_only=True)
    try:
        said = _notes_of(lambda: con.execute(f"SELECT anomaly_score('tx_t', {ARGS}) FROM ({ODD})").fetchall())
        ours = [m for m in said if "'Web '" in m]
        assert len(ours) == 1, said  # 4000 rows: two batches or more, one note
        msg = ours[0]
        assert "'tx_t'" in msg and "'channel'" in msg and "'web'" in msg, msg
        assert "lower(trim(channel))" in msg, msg
        assert f"anomaly_score('tx_t', {', '.join(NUMS)}, lower(trim(channel)), country)" in msg, msg
        # rows holding the categories exactly say nothing
        assert not _notes_of(lambda: con.execute(f"SELECT anomaly_score('tx_t', {ARGS}) FROM transactions").fetchall())
        # the fix it gives reads them as the category: no note, and the scores of the categories' rows
        fixed = ARGS.replace("channel", "lower(trim(channel))")
        got = _notes_of(lambda: con.execute(f"SELECT anomaly_score('tx_t', {fixed}) FROM ({ODD})").fetchall())
        assert not got, got
    finally:
        con.close()


def test_the_sql_command_notes_it_once_per_statement(trained: Path) -> None:
    query = f"SELECT count(*) FILTER (WHERE is_anomaly('tx_t', {ARGS})) AS n FROM ({ODD})"
    out = CliRunner().invoke(cli, ["sql", str(trained), f"{query}; {query};"])
    assert out.exit_code == 0, out.output
    notes = [line for line in out.output.splitlines() if line.startswith("note:") and "'Web '" in line]
    assert len(notes) == 2, out.output  # one per statement
    assert "lower(trim(channel))" in notes[0], notes[0]


def test_a_non_feature_text_column_in_a_text_features_place_is_refused(trained: Path) -> None:
    """A merchant id passed where channel belongs (text in a text place: no type tells) scored every row as "any other
    value" without a word; almost none of its values a category, of more kinds than the column had, it is refused
    as two text features swapped are."""
    con = ad_duckdb.connect(str(trained), read_only=True)
    try:
        with pytest.raises(duckdb.Error) as err:
            con.execute(f"SELECT avg(anomaly_score('tx_t', {MERCHANT_ARGS})) FROM transactions").fetchall()
        msg = str(err.value)
        assert "'channel'" in msg and "training categories" in msg and "'M" in msg, msg
        assert f"anomaly_score('tx_t', {ARGS})" in msg, msg
        assert "check_order=False" in msg, msg
        # a batch of one new channel is no swap: scored (high), not refused, and noted once
        kiosk = ARGS.replace("channel", "'kiosk'")
        said = _notes_of(lambda: con.execute(f"SELECT avg(anomaly_score('tx_t', {kiosk})) FROM transactions").fetchall())
        assert len(said) == 1 and "'kiosk'" in said[0] and "'channel'" in said[0], said
        assert "none of its training categories" in said[0] and "train on rows" in said[0], said
    finally:
        con.close()
    off = ad_duckdb.connect(str(trained), read_only=True, check_order=False)
    try:
        assert off.execute(f"SELECT avg(anomaly_score('tx_t', {MERCHANT_ARGS})) FROM transactions").fetchone()[0] > 0
    finally:
        off.close()


def test_the_python_detector_scores_a_text_model_as_sql_does(trained: Path) -> None:
    con = ad_duckdb.connect(str(trained), read_only=True)
    try:
        q = (f"SELECT {', '.join(NUMS)}, channel, country, anomaly_score('tx_t', {ARGS}) AS s FROM "
             "(SELECT * REPLACE (CASE WHEN transaction_id % 50 = 1 THEN 'fax' ELSE channel END AS channel, "
             "CASE WHEN transaction_id % 40 = 3 THEN NULL ELSE amount END AS amount) FROM transactions) "
             "ORDER BY transaction_id LIMIT 600")
        df = con.execute(q).df()
        det = ad_duckdb.AutoEncoderDetector.from_store(con, "tx_t")
    finally:
        con.close()
    assert list(det.feature_names_in_) == [*NUMS, "channel", "country"]
    frame = df.drop(columns="s")
    got = det.decision_function(frame)
    np.testing.assert_allclose(got, df["s"].to_numpy(), rtol=1e-5, atol=1e-6)
    # NULL channels (read as the most common category) and a pandas category column read alike
    as_cat = frame.assign(country=frame["country"].astype("category"))
    np.testing.assert_allclose(det.decision_function(as_cat), got, rtol=1e-6)
    # an Arrow table (a polars or DuckDB frame becomes one) reads alike
    np.testing.assert_allclose(det.decision_function(pa.Table.from_pandas(frame, preserve_index=False)), got, rtol=1e-6)
    # columns in another order are matched by name
    np.testing.assert_allclose(det.decision_function(frame[["country", "channel", *NUMS]]), got, rtol=1e-6)
    assert (det.predict(frame) == (df["s"].to_numpy() > det.threshold_)).all()
    why = det.explain(frame.head(3), top=None)
    assert set(why["feature_1"]) <= {*NUMS, "channel", "country"}, why
    np.testing.assert_allclose(why[[f"share_{i}" for i in range(1, 6)]].sum(axis=1), 1.0, rtol=1e-5)
    # a text column that is missing is named
    with pytest.raises(ad_duckdb.BadInputError, match="channel"):
        det.decision_function(frame.drop(columns="channel"))


def test_the_drift_note_gives_a_text_columns_category_shares(trained: Path) -> None:
    """The PSI note named the medians of numeric columns only: a channel mix that moved (most rows 'phone', 10% in
    training) was not said. Now each text column's share of unseen values and its largest share shift are."""
    con = ad_duckdb.connect(str(trained), read_only=True)
    try:
        lm = LoadedModel(ad_duckdb.load_model(con, "tx_t"))
        rows = con.execute(f"SELECT {', '.join(NUMS)}, 'phone', country FROM transactions").fetchall()
    finally:
        con.close()
    assert lm.layout is not None
    cats = dict(lm.layout.text)["channel"]
    shares = lm.rec.metrics["category_shares"]["channel"]  # read as scored: a NULL (5% of rows) as 'web'
    assert len(shares) == len(cats) + 1 and abs(shares[cats.index("phone")] - 0.1) < 0.01, shares
    X = lm.layout.rows(rows)
    tally = drift.DriftTally(lm)
    tally.add(X, lm.scores(X))
    said = tally.text_shifts()
    text = " ".join(said)
    assert "'channel'" in text and "'phone': 100" in text and "against 10" in text, said
    assert "'country'" not in text, said  # its mix is the training one
    note = tally.note("rows of 'transactions'") or ""
    assert "'phone'" in note, note


def test_explains_cost_counts_a_text_models_inputs(trained: Path) -> None:
    con = ad_duckdb.connect(str(trained), read_only=True)
    try:
        lm = LoadedModel(ad_duckdb.load_model(con, "tx_t"))
    finally:
        con.close()
    assert lm.n_inputs == 3 + 4 + 4 and len(lm.feature_names) == 5
    rows = explaincost.SHORT_PASSES // explaincost.passes(lm.n_inputs) + 1
    assert rows * explaincost.passes(5) < explaincost.SHORT_PASSES  # counted by columns, it looked short
    assert explaincost.might_be_long(lm, rows)


def test_a_text_frame_needs_its_columns_by_name(trained: Path) -> None:
    con = ad_duckdb.connect(str(trained), read_only=True)
    try:
        det = ad_duckdb.AutoEncoderDetector.from_store(con, "tx_t")
    finally:
        con.close()
    with pytest.raises(ad_duckdb.BadInputError, match="DataFrame"):
        det.decision_function(np.zeros((2, 5)))
    assert pd.api.types.is_float_dtype(det.decision_function(pd.DataFrame(
        {"count": [3], "amount": [40.0], "refunds": [0], "channel": ["web"], "country": ["US"]})))


def test_serve_logs_the_note_as_a_line_of_its_log(trained: Path) -> None:
    """In serve, the SQL functions' note went to stderr as a Python warning (a source path, line and code line),
    amid the log's own timed lines; it is now one log line, said once for the server's run."""
    import psycopg

    from test_server import serve

    with serve(str(trained)) as server:
        with psycopg.connect(server.url(), autocommit=True) as pg:
            for _ in range(2):
                pg.execute(f"SELECT avg(anomaly_score('tx_t', {ARGS})) FROM ({ODD}) AS t").fetchall()
        line = server.wait_for_log("'Web '")
    assert "ad-duckdb serve: note: anomaly_score('tx_t@1', ...)" in line and "lower(trim(channel))" in line, line
    assert server.stderr.count("'Web '") == 1, server.stderr
    assert "AdDuckDBWarning" not in server.stderr, server.stderr
