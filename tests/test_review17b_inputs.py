"""review17b: one row given as a dict or a pandas Series, a missing value as an Arrow null column, and label joins on
text or UUID ids that repeat rows: as a data scientist with labels meets them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import ad_duckdb

_TINY = {"n_models": 1, "max_steps": 50, "progress": False}


@pytest.fixture(scope="module")
def detectors() -> tuple[ad_duckdb.AutoEncoderDetector, ad_duckdb.AutoEncoderDetector]:
    """A detector of two numeric features and one of those plus a text column."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300),
                          "ch": rng.choice(["web", "store"], 300)})
    return (ad_duckdb.AutoEncoderDetector(**_TINY).fit(frame[["a", "b"]]),
            ad_duckdb.AutoEncoderDetector(**_TINY).fit(frame))


def test_a_dict_of_one_rows_values_scores_as_that_row(detectors: tuple) -> None:  # type: ignore[type-arg]
    # {'a': 0.1, 'b': 0.2} was refused: "X is a dict, which is read as a table ... ('float' object is not
    # iterable)", where a flat list of the same values scored; its keys name the columns, in any order
    numeric, text = detectors
    for det, row in ((numeric, {"b": 0.2, "a": 0.1}), (text, {"ch": "web", "a": 0.1, "b": 0.2})):
        expected = det.decision_function(pd.DataFrame([row]))
        np.testing.assert_allclose(det.decision_function(row), expected, rtol=1e-6)
        assert det.predict(row).shape == (1,)
        # explained as a dict of columns is: an Arrow table, one row
        assert det.explain(row, top=1)["feature_1"].to_pylist()[0] in ("a", "b", "ch")
    # a missing value of such a row (None) is a missing value, as in a flat list
    np.testing.assert_allclose(text.decision_function({"a": None, "b": 0.2, "ch": "web"}),
                               text.decision_function([None, 0.2, "web"]), rtol=1e-6)


def test_an_arrow_column_of_nulls_scores_as_missing_values(detectors: tuple) -> None:  # type: ignore[type-arg]
    # an Arrow (or polars) column with no value is of type null: refused as "not numeric", with a 0/1 column per
    # category to make, where pandas' column of None scored as missing values
    numeric, text = detectors
    expected = numeric.decision_function(pd.DataFrame({"a": [0.1, 0.3], "b": [None, None]}))
    got = numeric.decision_function(pa.table({"a": [0.1, 0.3], "b": pa.nulls(2)}))
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    got = text.decision_function(pa.table({"a": pa.nulls(1), "b": [0.2], "ch": ["web"]}))
    np.testing.assert_allclose(got, text.decision_function([None, 0.2, "web"]), rtol=1e-6)


def test_a_series_row_of_a_text_model_says_how_to_pass_it(detectors: tuple) -> None:  # type: ignore[type-arg]
    # df.iloc[0] (a Series) of a text model was told that "an array of numbers cannot hold" the text, with no word
    # of the one-row frame a numeric model's refusal names
    _, text = detectors
    with pytest.raises(ad_duckdb.BadInputError) as err:
        text.decision_function(pd.Series({"a": 0.1, "b": 0.2, "ch": "web"}))
    said = str(err.value)
    assert "Series" in said and "X.to_frame().T" in said and "df.iloc[[i]]" in said, said
    assert "array of numbers" not in said, said
    with pytest.raises(ad_duckdb.BadInputError) as err:
        text.decision_function(np.array([0.1, 0.2, "web"], dtype=object))
    said = str(err.value)
    assert "X.reshape(1, -1)" in said, said


def test_text_and_uuid_ids_repeated_by_a_label_join_are_said(tmp_path: Path) -> None:
    # only integer ids were checked: a label table holding a VARCHAR or UUID transaction id twice doubled its rows
    # in every figure without a word
    con = ad_duckdb.connect(str(tmp_path / "r.duckdb"))
    try:
        con.execute("CREATE TABLE t AS SELECT 'TX-' || range AS tx_id, uuid() AS ref, (range % 37)::DOUBLE AS a, "
                    "(range * 7 % 13)::DOUBLE AS b, (range % 40 = 0)::INT AS lab, 'web' AS channel_name "
                    "FROM range(400)")
        ad_duckdb.train(con, "m", "t", features=["a", "b"], **_TINY)
        for idcol in ("tx_id", "ref"):
            twice = f"SELECT {idcol}, a, b, lab, channel_name FROM t UNION ALL SELECT {idcol}, a, b, lab, " \
                    "channel_name FROM t WHERE lab = 1"
            said = [n for n in ad_duckdb.evaluate(con, "m", twice, label="lab").notes if "repeat" in n]
            assert len(said) == 1 and "10 of these 410 rows repeat another row" in said[0], said
            assert f"id column {idcol!r}" in said[0], said
        # a text column not named as an id (a channel's name repeats over rows) is no row key
        assert not [n for n in ad_duckdb.evaluate(con, "m", "SELECT a, b, lab, channel_name FROM t UNION ALL "
                                                  "SELECT a, b, lab, channel_name FROM t WHERE lab = 1",
                                                  label="lab").notes if "repeat another row" in n]
    finally:
        con.close()


def _audit_rows(below: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores, labels and weights of an audit: the 30 highest-scoring rows reviewed (weight 1, 11 anomalies among
    them, and the top two if ``below``), the rest audited 1 in 10 (weight 10), two anomalies drawn there if
    ``below``; ties at some scores."""
    rng = np.random.default_rng(3)
    s = np.round(np.sort(rng.normal(size=230))[::-1] * 20) / 20
    y = np.zeros(230, dtype=bool)
    y[[*([0, 1] if below else []), 4, 5, 8, 11, 15, 19, 22, 24, 26, 28, 29, *([70, 150] if below else [])]] = True
    w = np.where(np.arange(230) < 30, 1.0, 10.0)
    return s, y.astype(int), w


def test_confident_goals_read_the_lower_ends_threshold_prints() -> None:
    # --confident's lower ends read the missed cell as drawn, where evaluate's and threshold's printed intervals
    # count a stratum below the audit's cut that may hide misses: min_recall --target 0.6 --confident stored a cut
    # whose printed recall interval began at 0.583
    from ad_duckdb import missstrata, weights

    seen = set()
    for below in (True, False):
        s, y, w = _audit_rows(below)
        c = weights.curve(s, y, w)
        at = missstrata.per_cut(c["sorted_scores"], c["sorted_labels"], c["sorted_weights"], c["last"])
        seen |= {k for k in ("heaviest_miss", "unseen_caught", "unseen_fp") if np.isfinite(at[k]).any()}
        p_lo, r_lo = weights.lower_ends(c)
        for i, cut in enumerate(c["threshold"]):
            m = weights.confusion(s, y, w, float(cut))
            assert r_lo[i] == pytest.approx(m["recall_lo"], abs=1e-9), (below, i, cut, r_lo[i], m)
            if m["tp"] + m["fp"] > 0:
                assert p_lo[i] == pytest.approx(m["precision_lo"], abs=1e-9), (below, i, cut, p_lo[i], m)
    # the audits meet each stratum somewhere: misses hidden below, no anomaly caught, no normal row flagged
    assert seen == {"heaviest_miss", "unseen_caught", "unseen_fp"}, seen
