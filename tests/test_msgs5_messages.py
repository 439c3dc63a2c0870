"""Messages a user meets around text features (msgs5): a text column with no value at all, said as such in every
surface, with the fixes that work (leave it out, or train on rows where it has values)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST


def _rows(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})


@pytest.mark.parametrize("empty", [pd.Series([None] * 200, dtype=object), pd.Series([None] * 200, dtype="string")])
def test_fit_on_a_text_column_of_no_value_says_so(empty: pd.Series) -> None:
    # an object column of None (a query's NULL VARCHAR in .df()) was read as numbers: "no finite value (all NaN or
    # infinite)", of a column that never held a number
    with pytest.raises(ad_duckdb.BadInputError) as err:
        ad_duckdb.AutoEncoderDetector(**FAST).fit(_rows().assign(t=empty))
    text = str(err.value)
    assert "finite" not in text, text
    assert "'t'" in text and "no non-NULL value" in text, text
    assert "X.drop(columns=['t'])" in text and "rows where it has values" in text, text


def test_train_on_a_text_column_of_no_value_says_how_to_fix(tmp_path: Path) -> None:
    path = str(tmp_path / "w.duckdb")
    con = duckdb.connect(path)
    con.execute("CREATE TABLE t AS SELECT random() AS a, random() AS b, NULL::VARCHAR AS t FROM range(200)")
    with pytest.raises(ad_duckdb.BadInputError) as err:
        ad_duckdb.train(con, "m", "t", features=["a", "b", "t"], **FAST)
    text = str(err.value)
    assert text.startswith("Model 'm': text column 't'") and "no non-NULL value" in text, text
    assert "leave it out of features" in text and "where=" in text, text
    # a bare NULL in a query is SQL type NULL: no value, not "turn it into a number with CAST"
    with pytest.raises(ad_duckdb.BadInputError) as err:
        ad_duckdb.train(con, "m", "SELECT a, b, NULL AS t FROM t", features=["a", "b", "t"], **FAST)
    text = str(err.value)
    assert "CAST" not in text and "no non-NULL value" in text and "'t'" in text and "Model 'm'" in text, text
    con.close()
    out = CliRunner().invoke(cli, ["train", path, "m", "t", "-f", "a,b,t", "--epochs", "1"])
    assert out.exit_code != 0
    assert "Model 'm': text column 't'" in out.output and "--where" in out.output and "where=" not in out.output, \
        out.output


_TINY = {"n_models": 1, "max_steps": 50, "progress": False}


@pytest.fixture(scope="module")
def detectors() -> tuple[ad_duckdb.AutoEncoderDetector, ad_duckdb.AutoEncoderDetector]:
    """A detector of two numeric features and one of those plus a text column."""
    frame = _rows(300).assign(ch=np.random.default_rng(1).choice(["web", "store"], 300))
    return (ad_duckdb.AutoEncoderDetector(**_TINY).fit(frame[["a", "b"]]),
            ad_duckdb.AutoEncoderDetector(**_TINY).fit(frame))


@pytest.mark.filterwarnings("ignore:X has no column names")
def test_a_flat_list_of_one_rows_values_scores_as_that_row(detectors: tuple) -> None:  # type: ignore[type-arg]
    # a flat list was refused with "Reshape your data: X.reshape(1, -1)", which a list has not
    numeric, text = detectors
    for det, row in ((numeric, [0.1, 0.2]), (text, [0.1, 0.2, "web"])):
        expected = det.decision_function([row])
        for given in (row, tuple(row)):
            np.testing.assert_allclose(det.decision_function(given), expected, rtol=1e-6)
            assert det.predict(given).shape == (1,)
        assert det.explain(row, top=1)["feature"][0][0] in ("a", "b", "ch")


def test_a_flat_list_of_the_wrong_length_says_what_to_pass(detectors: tuple) -> None:  # type: ignore[type-arg]
    numeric, text = detectors
    with pytest.raises(ad_duckdb.BadInputError) as err:
        numeric.decision_function([0.1, 0.2, 0.3])
    said = str(err.value)
    assert "flat list of 3 values" in said and "2 features ('a', 'b')" in said and "[[" in said, said
    assert "reshape" not in said, said
    with pytest.raises(ad_duckdb.BadInputError) as err:
        text.decision_function([0.1, "web"])
    said = str(err.value)
    assert "flat list of 2 values" in said and "3 features ('a', 'b', 'ch')" in said, said
    # a 1-D array keeps scikit-learn's rule (refused), its message naming the reshape an array has
    with pytest.raises(ad_duckdb.BadInputError, match=r"X\.reshape\(1, -1\)"):
        numeric.decision_function(np.array([0.1, 0.2]))


def test_a_missing_model_from_the_command_lines_sql_says_the_command_to_train(tmp_path: Path) -> None:
    # DuckDB runs a SQL function on threads of its own, where the command line's way of saying things was not set:
    # `ad-duckdb sql` was told to train with ad_duckdb.train(con, ...), a call it has no connection for
    path = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(path)
    con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(300)")
    ad_duckdb.train(con, "ae", "t", **_TINY)
    con.close()
    out = CliRunner().invoke(cli, ["sql", path, "SELECT anomaly_score('nope', 1.0, 2.0)"])
    assert out.exit_code != 0
    first = out.output.splitlines()[0]
    assert first.startswith("Error: No model 'nope'") and "`ad-duckdb train`" in first, out.output
    assert "ad_duckdb.train(con" not in out.output, out.output
