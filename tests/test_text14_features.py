"""Text features' gaps (text14): the Python detector fitted on a frame with text columns, a text NULL's imputed
category, a low-cardinality text column swapped with another, serve's case/space note to the client, and the
exported graph fed strings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from readme_textmodel import readme_scores
from test_review11_textcols import ARGS, NUMS
from test_textcols2_gaps import trained  # noqa: F401  (the fixture: tx_t trained on COLUMNS, used by name)

import ad_duckdb
from ad_duckdb import categorical

from conftest import FAST

COLUMNS = [*NUMS, "channel", "country"]




def _frame(path: Path, query: str | None = None) -> tuple[object, object]:
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        df = con.execute(query or f"SELECT {', '.join(COLUMNS)} FROM transactions").df()
        det = ad_duckdb.AutoEncoderDetector.from_store(con, "tx_t")
    finally:
        con.close()
    return df, det


def test_fit_takes_a_frames_text_columns_as_train_does(trained: Path) -> None:  # noqa: F811
    """fit on a text model loaded from_store (or on any frame with text columns) refused the text with
    pd.get_dummies advice, a layout no stored model reads; it now fits the text columns as their categories, as
    ad_duckdb.train does: the same categories, the same inputs, scores of the same rows alike."""
    df, det = _frame(trained)
    stored = categorical.layout(det.specs_)
    det.fit(df)
    assert det.stored_ref_ is None
    assert list(det.feature_names_in_) == COLUMNS and det.n_features_in_ == len(COLUMNS)
    assert categorical.layout(det.specs_) == stored  # the stored categories, in the stored order
    scores = det.decision_function(df)
    assert scores.shape == (len(df),) and np.isfinite(scores).all()
    np.testing.assert_allclose(det.decision_scores_, scores, rtol=1e-5)
    assert det.labels_.mean() == pytest.approx(det.contamination, abs=0.01)
    con = ad_duckdb.connect(str(trained), read_only=True)
    try:
        sql = con.execute(f"SELECT anomaly_score('tx_t', {ARGS}) FROM transactions"
                          ).fetchnumpy()
    finally:
        con.close()
    # trained as ad_duckdb.train trains the same rows with the same options: the stored model's scores
    np.testing.assert_allclose(scores, next(iter(sql.values())), rtol=1e-4, atol=1e-5)
    # a rare value scores high; the text columns come in any order, matched by name
    odd = df.head(5).assign(channel="fax")
    assert (det.decision_function(odd[["country", "channel", *NUMS]]) > det.decision_function(df.head(5))).all()
    why = det.explain(df.head(3), top=2)
    assert set(why["feature_1"]) <= set(COLUMNS), why


def test_a_fresh_detector_fits_a_frame_with_text_and_a_text_of_numbers_keeps_its_hint(trained: Path) -> None:  # noqa: F811
    df, _ = _frame(trained)
    det = ad_duckdb.AutoEncoderDetector(**FAST).fit(df.assign(country=df["country"].astype("category")))
    assert [n for n, _ in categorical.layout(det.specs_).text] == ["channel", "country"]
    assert np.isfinite(det.decision_function(df)).all()
    with pytest.raises(ad_duckdb.BadInputError, match="numbers"):
        ad_duckdb.AutoEncoderDetector(**FAST).fit(df.assign(amount=df["amount"].map(lambda v: f"{v:,.2f}")))
    # an id-like text column is refused with train's rule and its distinct count
    with pytest.raises(ad_duckdb.BadInputError, match="distinct values"):
        ad_duckdb.AutoEncoderDetector(**FAST).fit(df.assign(channel=[f"id{i}" for i in range(len(df))]))


def test_a_text_column_beside_a_date_is_said_to_need_no_fix(trained: Path) -> None:  # noqa: F811
    """A frame with a date and a text column is refused for the date; the refusal advised get_dummies for the text
    column too, which fit now reads as its categories."""
    df, _ = _frame(trained)
    with pytest.raises(ad_duckdb.BadInputError) as err:
        ad_duckdb.AutoEncoderDetector(**FAST).fit(df.assign(day=np.datetime64("2026-01-01", "ns")))
    said = str(err.value)
    assert "'day'" in said and "get_dummies" not in said, said
    assert "the text columns 'channel', 'country' need nothing" in said, said


def test_anomaly_imputed_shows_the_category_a_text_null_was_read_as(trained: Path) -> None:  # noqa: F811
    """anomaly_imputed (a map of numbers) left a text NULL out: a row whose channel was NULL (read as 'web', the most
    common) showed NULL, as a row with nothing missing does. Its entry is now keyed by the column and the category
    (channel='web': 1.0, the category's input as scored), the map's type unchanged; score --explain writes the same."""
    con = ad_duckdb.connect(str(trained), read_only=True)
    try:
        rows = con.execute(
            f"SELECT transaction_id, channel, amount, anomaly_imputed('tx_t', {ARGS.replace('amount', 'NULLIF(amount, amount)', 1)})"
            " AS mi, anomaly_imputed('tx_t', " + ARGS + ") AS ti, typeof(anomaly_imputed('tx_t', " + ARGS + ")) AS t "
            "FROM transactions ORDER BY transaction_id LIMIT 40").fetchall()
    finally:
        con.close()
    assert {r[5] for r in rows} == {"MAP(VARCHAR, DOUBLE)"}
    nulls = [r for r in rows if r[1] is None]
    assert nulls, rows
    for _, channel, _, both, alone, _ in rows:
        if channel is None:
            assert alone == {"channel='web'": 1.0}, alone
            assert set(both) == {"amount", "channel='web'"}, both
        else:
            assert alone is None and set(both) == {"amount"}, (alone, both)
    # score(explain=True)'s anomaly_imputed column (score --explain --into) and explain --format json hold it too
    con = ad_duckdb.connect(str(trained), read_only=True)
    try:
        got = ad_duckdb.score(con, "tx_t", "SELECT * FROM transactions WHERE transaction_id < 41", explain=True,
                              columns=["transaction_id", "channel"])
    finally:
        con.close()
    assert [r["anomaly_imputed"] for r in got.to_pylist() if r["channel"] is None] == [[("channel='web'", 1.0)]] * 2
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    run = CliRunner().invoke(cli, ["explain", str(trained), "tx_t", "transactions", "--where", "transaction_id = 20",
                                   "--format", "json"])
    assert run.exit_code == 0, run.output
    assert '"anomaly_imputed": {\n' in run.output and "\"channel='web'\": 1.0" in run.output, run.output[-400:]


def test_two_text_arguments_swapped_in_a_few_rows_are_named(trained: Path) -> None:  # noqa: F811
    """The swap of two text arguments was caught from 32 rows with a value on; a dashboard's drill-down to one
    transaction, or a WHERE of a few rows, scored them as outliers (37 against a threshold of 9) without a word. Each
    argument then holds only the other's categories, none of its own: refused with both columns and the call."""
    swapped = ARGS.replace("channel, country", "country, channel")
    con = ad_duckdb.connect(str(trained), read_only=True)
    try:
        for where in ("transaction_id = 7", "transaction_id BETWEEN 1 AND 19"):
            with pytest.raises(Exception, match="out of order") as err:
                con.execute(f"SELECT anomaly_score('tx_t', {swapped}) FROM transactions WHERE {where}").fetchall()
            said = str(err.value)
            assert "'channel'" in said and "'country'" in said and f"anomaly_score('tx_t', {ARGS})" in said, said
            assert con.execute(f"SELECT max(anomaly_score('tx_t', {ARGS})) FROM transactions WHERE {where}"
                               ).fetchone()[0] < 30
        # a new channel in one row (its country a country) is scored, not refused
        one = con.execute("SELECT anomaly_score('tx_t', count, amount, refunds, 'fax', country) FROM transactions "
                          "WHERE transaction_id = 7").fetchone()[0]
        assert one > 0
        # a row whose channel holds a country but whose country is a country is a new channel, scored too
        assert con.execute("SELECT anomaly_score('tx_t', count, amount, refunds, country, country) FROM transactions "
                           "WHERE transaction_id = 7").fetchone()[0] > 0
    finally:
        con.close()


def test_serve_sends_the_case_or_space_note_to_the_client_as_a_notice(trained: Path) -> None:  # noqa: F811
    """serve's note of a value that differs from a category only in case or spaces went to its log alone, which a BI
    tool's user never sees; the client whose statement said it now gets it as a NOTICE, each statement, and the log
    keeps one line for the server's run."""
    import psycopg

    from test_server import serve

    odd = ("SELECT * REPLACE (CASE WHEN transaction_id % 7 = 0 THEN 'Web ' ELSE channel END AS channel) "
           "FROM transactions")
    with serve(str(trained)) as server:
        for _ in range(2):
            with psycopg.connect(server.url(), autocommit=True) as pg:
                got: list[str] = []
                pg.add_notice_handler(lambda d, into=got: into.append(f"{d.severity}: {d.message_primary}"))
                pg.execute(f"SELECT avg(anomaly_score('tx_t', {ARGS})) FROM ({odd}) AS t").fetchall()
                pg.execute(f"SELECT avg(anomaly_score('tx_t', {ARGS})) FROM transactions").fetchall()
            assert len(got) == 1 and got[0].startswith("NOTICE: anomaly_score('tx_t@1', ...)"), (got, server.log)
            assert "'Web '" in got[0] and "lower(trim(channel))" in got[0], got
        server.wait_for_log("'Web '")
    assert server.stderr.count("'Web '") == 1, server.stderr


def test_the_readme_feeds_an_exported_text_model_to_onnxruntime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    """The README said a program builds the 0/1 inputs of an exported text model with
    categorical.layout(features).rows(...), with no example; its example now runs as written and gives SQL's scores."""
    sql, scores = readme_scores(tmp_path, monkeypatch, "(1, 3, 120.0, 'web'), (2, 3, 120.0, 'fax')", [],
                                "`ad_duckdb.categorical.layout(features).rows(...)` does it (tested as written)")
    assert scores.shape == (3,) and np.isfinite(scores).all()
    np.testing.assert_allclose(scores[:2], sql, rtol=2e-4)  # rows with every value: SQL's, to float32 rounding
    assert scores[1] > scores[0]
