"""review16b: a stored text model scored from rows of values and from frames whose text columns pandas typed oddly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_review11_textcols import NUMS

import ad_duckdb
from ad_duckdb.exceptions import AdDuckDBError

from conftest import FAST

COLUMNS = [*NUMS, "channel", "country"]


@pytest.fixture(scope="module")
def detector(tx_t_master: tuple[Path, Any]) -> ad_duckdb.AutoEncoderDetector:
    """tx_t (on COLUMNS) of conftest's tx_t_master, loaded from the store (read only: the file stays as it is)."""
    con = ad_duckdb.connect(str(tx_t_master[0]), read_only=True)
    try:
        return ad_duckdb.AutoEncoderDetector.from_store(con, "tx_t")
    finally:
        con.close()


def test_value_rows_read_a_missing_text_value_as_null_as_a_frame_does(detector: ad_duckdb.AutoEncoderDetector) -> None:
    """Rows from df.to_numpy() (or read from a CSV) hold NaN, not None, where a text value is missing: they were read
    as the string 'nan', "any other value", and scored high, where the same frame read them as NULL."""
    nulls = [[3, 120.0, 0, None, "US"], [3, 120.0, 0, "web", None], [None, 120.0, 0, None, None]]
    want = detector.decision_function(pd.DataFrame(nulls, columns=COLUMNS))
    frame = pd.DataFrame([[3, 120.0, 0, np.nan, "US"], [3, 120.0, 0, "web", pd.NA], [np.nan, 120.0, 0, None, None]],
                         columns=COLUMNS)
    np.testing.assert_allclose(detector.decision_function(frame), want, rtol=1e-6)  # the frame: NaN, pd.NA are NULL
    for rows in (frame.to_numpy(), frame.to_numpy().tolist(), [[3, 120.0, 0, np.nan, "US"], [3, 120.0, 0, "web", pd.NA],
                                                                [pd.NA, 120.0, 0, None, None]]):
        got = detector.decision_function(rows)
        np.testing.assert_allclose(got, want, rtol=1e-6)
        keys = detector.explain(rows)["imputed_keys"]
        assert keys[3].startswith("channel='") and keys[4].startswith("country='"), keys
    lay = detector.__dict__["_layout"]
    np.testing.assert_array_equal(lay.rows([[3, 120.0, 0, np.nan, "US"]]), lay.rows([[3, 120.0, 0, None, "US"]]))


def test_a_number_where_text_belongs_is_refused_as_sql_refuses_it(detector: ad_duckdb.AutoEncoderDetector) -> None:
    """A number in a text column of value rows was read as its digits, any other value, and scored high (SQL
    refuses an INTEGER there); and a frame's object column mixing numbers and text raised pyarrow's ArrowInvalid."""
    with pytest.raises(AdDuckDBError, match=r"'channel'.*\b7\b.*text"):
        detector.decision_function([[3, 120.0, 0, 7, "US"]])
    mixed = pd.DataFrame([[3, 120.0, 0, 7, "US"], [3, 120.0, 0, "web", "US"]], columns=COLUMNS)
    with pytest.raises(AdDuckDBError, match=r"'channel' mixes text.*astype\('string'\)"):
        detector.decision_function(mixed)


def test_a_text_column_pandas_typed_float_because_every_value_is_missing_reads_as_nulls(
        detector: ad_duckdb.AutoEncoderDetector) -> None:
    """A batch whose channel is missing in every row (a CSV column left empty) is float64 NaN in pandas: it was
    refused with X['channel'].astype(str), which would have read each as 'nan', any other value."""
    rows = pd.DataFrame({"count": [3, 4], "amount": [120.0, 80.0], "refunds": [0, 0], "channel": [np.nan, np.nan],
                         "country": ["US", "DE"]})
    want = detector.decision_function(rows.astype({"channel": object}).assign(channel=None))
    np.testing.assert_allclose(detector.decision_function(rows), want, rtol=1e-6)
    with pytest.raises(AdDuckDBError, match=r"'channel' holds double.*astype\('string'\)"):
        detector.decision_function(rows.assign(channel=[1.5, np.nan]))


def test_a_weight_column_of_text_is_refused_in_the_callers_words(tmp_path: Path) -> None:
    """From the command line the refusal of a VARCHAR weight column ended "with the same weight='w'", Python's
    spelling, where every other weight message says --weight w."""
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    db = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(db)
    try:
        con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b, (range % 50 = 0)::INT AS lab, "
                    "'1' AS w FROM range(400)")
        ad_duckdb.train(con, "ae", "t", features=["a", "b"], **FAST)
        with pytest.raises(AdDuckDBError, match=r"with the same weight='w'"):
            ad_duckdb.evaluate(con, "ae", "t", label="lab", weight="w")
    finally:
        con.close()
    got = CliRunner().invoke(cli, ["evaluate", db, "ae", "t", "--label", "lab", "--weight", "w", "--quiet"])
    assert got.exit_code != 0 and "with the same --weight w" in got.output and "weight='w'" not in got.output, got.output


def test_fit_of_a_column_mixing_numbers_and_text_says_how_to_read_it_as_text() -> None:
    """An object column of 'web' and 7 (a code column read with one stray number) was refused as "not numeric" with
    pd.get_dummies, where fit takes a text column itself: the refusal names the mix, and its advice fits."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"amount": rng.normal(100, 5, 300), "count": rng.normal(10, 2, 300),
                      "channel": pd.Series(rng.choice(["web", "store"], 300), dtype=object)})
    X.loc[5, "channel"] = 7
    with pytest.raises(AdDuckDBError, match=r"'channel' mixes text with numbers.*astype\('string'\)") as e:
        ad_duckdb.AutoEncoderDetector(max_steps=20, progress=False).fit(X)
    assert "get_dummies" not in str(e.value), str(e.value)
    X["channel"] = X["channel"].astype("string")
    assert len(ad_duckdb.AutoEncoderDetector(max_steps=20, progress=False).fit(X).decision_function(X)) == 300


def test_compare_on_an_audit_whose_anomalies_all_weigh_one_says_why_it_reads_as_an_audit(tmp_path: Path) -> None:
    """Every anomaly above the alerts (weight 1), none drawn below: compare's audit note said "the anomalies'
    weights w differ across the score", which they do not; it is the normal rows' weights that say so."""
    con = ad_duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(2000)")
        ad_duckdb.train(con, "ae", "t", features=["a", "b"], **FAST)
        ad_duckdb.train(con, "ae", "t", features=["a", "b"], seed=1, **FAST)
        con.execute("CREATE TABLE lab AS SELECT *, (a % 97 = 0 AND s > q)::INT AS y, if(s > q, 1, 20) AS w FROM "
                    "(SELECT *, anomaly_score('ae@1', a, b) AS s, quantile_cont(s, 0.9) OVER () AS q FROM t) "
                    "WHERE s > q OR a % 20 = 0")
        text = str(ad_duckdb.compare_versions(con, "ae@1", "ae@2", "lab", label="y", weight="w"))
    finally:
        con.close()
    assert "the labelled rows are an audit sample" in text, text
    assert "the anomalies' weights" not in text and "the weights w differ across the score as an audit's do" in text
    assert "may stand for more rows than one caught" in text, text
