"""Feature specs: type checks, transforms, the NULL / NaN / Inf policy, clear errors."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pytest

import ad_duckdb
from ad_duckdb.features import CLIP, fit_specs, transform
from ad_duckdb.numberhints import as_number_hint
from ad_duckdb.sqltext import source_sql

from conftest import DATA, FAST

# For tests that read only what training says and keeps (its notes, its errors, the features and rows it took, the
# filters it gives), never how well the model fits: those are settled before the first step, so a few steps do, where
# FAST's 600 on a table of thousands of rows cost most of the test.
BRIEF = {**FAST, "max_steps": 20}


def test_heavy_tail_gets_signed_log_and_light_tail_does_not() -> None:
    rng = np.random.default_rng(0)
    X = np.c_[rng.lognormal(3, 1.5, 5000), rng.normal(0, 1, 5000)]
    specs, filled = fit_specs(X, ["amount", "z"], ["DOUBLE", "DOUBLE"], model="m", source="t")
    assert [s.transform for s in specs] == ["slog", "none"]
    assert filled == {"amount": 0, "z": 0}
    Z = transform(X, specs)
    assert abs(np.median(Z[:, 0])) < 0.05 and 0.5 < np.std(Z[:, 1]) < 1.5


def test_nan_filled_with_median_inf_clipped() -> None:
    X = np.c_[np.arange(100.0), np.arange(100.0) * 2]
    X[3, 0] = np.nan
    specs, filled = fit_specs(X, ["a", "b"], ["DOUBLE", "DOUBLE"], model="m", source="t")
    assert filled["a"] == 1
    row = np.array([[np.nan, np.inf], [-np.inf, 1.0]])
    Z = transform(row, specs)
    assert Z[0, 0] == pytest.approx((specs[0].fill - specs[0].center) / specs[0].scale)
    assert Z[0, 1] == CLIP and Z[1, 0] == -CLIP


@pytest.mark.parametrize(
    ("setup", "kwargs", "message"),
    [
        ("CREATE TABLE t AS SELECT 5 AS c, range::DOUBLE AS x FROM range(50)", {"features": ["c", "x"]},
         r"column 'c' is constant \(5.0 in every row\)"),
        ("CREATE TABLE t (x DOUBLE, y DOUBLE)", {}, "has no rows to train on"),
        # a text column is a feature of its categories (categorical.py): one of one value, or of ids, is refused
        ("CREATE TABLE t AS SELECT 'a' AS s, range AS x FROM range(50)", {"features": ["s", "x"]},
         r"text column 's' holds only 'a' \(and NULLs\) .*leave it out of features"),
        ("CREATE TABLE t AS SELECT md5(range::VARCHAR) AS note, range AS x FROM range(80)", {"features": ["note", "x"]},
         r"text column 'note' has 80 distinct values .*leave it out of features"),
        ("CREATE TABLE t AS SELECT range % 2 = 0 AS flag, range AS x FROM range(50)", {"features": ["flag", "x"]},
         r"'flag' of 't' is BOOLEAN, not numeric.*train on a query .*SELECT \* REPLACE \(\"flag\"::INTEGER AS \"flag\"\) "
         r"FROM \"t\" \(1 for true, 0 for false\), and score with the same expression: \"flag\"::INTEGER\."),
        ("CREATE TABLE t AS SELECT DATE '2024-01-01' + range::INTEGER AS d, range AS x FROM range(50)",
         {"features": ["d", "x"]}, r"'d' of 't' is DATE.*rises with time, so every row later than the training rows "
         r"would score as out of the training range\. Drop it from features.*SELECT \* REPLACE \(dayofweek\(\"d\"\) AS "
         r"\"d\"\) FROM \"t\""),
        # a sensor log's timestamp: the fix it gave (train on epoch seconds) flagged 93% of a later run's normal rows
        ("CREATE TABLE t AS SELECT TIMESTAMP '2020-03-09 10:00:00' + INTERVAL (range) SECOND AS datetime, range % 7 AS x "
         "FROM range(50)", {"features": ["datetime", "x"]},
         r"'datetime' of 't' is TIMESTAMP.*epoch\(\"datetime\"\).*rises with time.*Drop it from features \(it stays in "
         r"the table for ORDER BY, windows and GROUP BY date_trunc\(\.\.\.\)\).*SELECT \* REPLACE \(hour\(\"datetime\"\) \+ "
         r"minute\(\"datetime\"\) / 60 AS \"datetime\"\) FROM \"t\".*and score with the same expression"),
        # a duration (the gap between readings) is a number of seconds, not a point in time
        ("CREATE TABLE t AS SELECT INTERVAL (range % 3) SECOND AS gap, range % 7 AS x FROM range(50)",
         {"features": ["gap", "x"]}, r"'gap' of 't' is INTERVAL.*SELECT \* REPLACE \(epoch\(\"gap\"\) AS \"gap\"\) "
         r"FROM \"t\" \(its length in seconds\)"),
        # a row that fails as it is read: it said "Cannot read features ...", the one training error naming no model
        ("CREATE VIEW t AS SELECT range AS x, (CASE WHEN range = 40 THEN 'oops' ELSE range::VARCHAR END)::INTEGER AS y "
         "FROM range(50)", {"features": ["x", "y"]},
         r"^Model 'm': cannot read features \['x', 'y'\] from 't': .*'oops'"),
        ("CREATE TABLE t AS SELECT range AS x FROM range(50)", {"features": ["nope"]},
         r"Column 'nope' is not in 't'; its columns are: x\.$"),
        # a misspelt name gets the close one, as a misspelt source does (it only listed every column)
        ("CREATE TABLE t AS SELECT range AS amount, range % 7 AS count FROM range(50)", {"features": ["count", "amout"]},
         r"Column 'amout' is not in 't'; its columns are: amount, count\. Did you mean 'amount'\?$"),
        # the command line's -f count,amount habit: one text names one column, so this said only "not in 't'"
        ("CREATE TABLE t AS SELECT range AS amount, range % 7 AS count FROM range(50)", {"features": "count, amount"},
         r"Column 'count, amount' is not in 't'; its columns are: amount, count\. features= takes one name per "
         r"entry: features=\['count', 'amount'\]\.$"),
        ("CREATE TABLE t AS SELECT NULL::DOUBLE AS n, range AS x FROM range(50)", {"features": ["n", "x"]},
         r"column 'n' has no finite value"),
        ("CREATE TABLE t AS SELECT 'a' AS s FROM range(5)", {}, "has no numeric column"),
        ("CREATE TABLE t AS SELECT range AS x FROM range(50)", {"features": ["x", "X"]}, "names a column twice"),
        ("CREATE TABLE t AS SELECT range::DOUBLE AS x, range * 1e300 AS \"Big b\" FROM range(50)", {},
         r"column 'Big b' holds values as large as 4.9e\+301 .*float32.*SELECT \* REPLACE \(\"Big b\" / 1e298 AS "
         r"\"Big b\"\) FROM \"t\", and score with the same expression"),
        ("CREATE TABLE t AS SELECT range::DOUBLE AS x, range * 1e37 AS b FROM range(50)", {},
         r"column 'b' holds values as large as 4.9e\+38"),
        # whole numbers near 2^64 that differ in their last digits read as one DOUBLE: it said "constant", which they
        # are not, and the fix it gave (leave the column out) lost them
        ("CREATE TABLE t AS SELECT (18446744073709551605 + range % 11)::UBIGINT AS ub, range::DOUBLE AS x FROM range(50)",
         {"features": ["ub", "x"]},
         r"column 'ub' reads as one value \(1.8446744073709552e\+19\) in every row of 't' once read as DOUBLE.*about 16 "
         r"significant digits.*4096 apart.*SELECT min\(\"ub\"\) FROM \.\.\..*\"ub\" - <that value> AS \"ub_offset\".*"
         r"If it is constant, .*constant_columns='keep'"),
    ],
)
def test_training_input_errors(setup: str, kwargs: dict[str, object], message: str) -> None:
    con = ad_duckdb.connect()
    try:
        con.execute(setup)
        with pytest.raises(ad_duckdb.BadInputError, match=message) as e:
            ad_duckdb.train(con, "m", "t", **kwargs, **BRIEF)  # type: ignore[arg-type]
        assert str(e.value).startswith("Model 'm': ")  # every one names the model
        assert ad_duckdb.list_models(con) == []  # nothing half-stored
    finally:
        con.close()


def test_the_rescaling_query_suggested_for_a_too_large_value_trains_as_given() -> None:
    """Before: the fix was "SELECT *, "a" / 1e36 AS "a_scaled" FROM ...": double quotes inside double quotes, and,
    pasted as the source, SELECT * still held a, so training without features= failed the same way."""
    import pandas as pd

    con = ad_duckdb.connect()
    try:
        big = pd.DataFrame({"a": np.random.default_rng(0).normal(size=600),
                            "b": np.random.default_rng(1).normal(size=600)})
        big.loc[0, "a"] = 1e39
        with pytest.raises(ad_duckdb.BadInputError, match="holds values as large as 1e\\+39") as e:
            ad_duckdb.train(con, "m", "big", **FAST)
        fix = re.search(r"train on that: (SELECT .*?), and score with the same expression: (.+)\.$", str(e.value))
        assert fix, str(e.value)
        assert fix.group(1) == 'SELECT * REPLACE ("a" / 1e36 AS "a") FROM "big"', fix.group(1)
        info = ad_duckdb.train(con, "m", fix.group(1), **FAST)
        assert info.features == ["a", "b"]
        scored = con.execute(f"SELECT anomaly_score('m', {fix.group(2)}, b) FROM big").fetchall()
        assert len(scored) == 600 and all(np.isfinite(s) for s, in scored)
    finally:
        con.close()


def test_many_constant_columns_are_named_in_one_error() -> None:
    """ADBench's InternetAds (1,555 columns) has 247 constant under its normal rows: the error named only the first,
    so one who left it out met the next, 247 runs in a row. One error names how many, the first ones and their
    values; the detector's fix drops them all at once."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 30))
    X[:, 3::2] = 0.0  # 14 constant columns
    names = [f"c{j}" for j in range(30)]
    with pytest.raises(ad_duckdb.BadInputError) as e:
        fit_specs(X, names, ["DOUBLE"] * 30, model="m", source="t")
    assert re.search(r"^Model 'm': 14 columns are constant in 't' \(one value in every row\): 'c3' \(0\.0\), "
                     r"'c5' \(0\.0\), .*'c21' \(0\.0\) and 4 more, so they cannot tell training rows apart; leave "
                     r"them out of features= .*constant_columns='keep'", str(e.value)), str(e.value)
    assert e.value.columns == names[3::2]
    with pytest.raises(ad_duckdb.BadInputError, match=r"14 columns of X are constant \(one value in every row\): "
                       r"3 \(0\.0\), 5 \(0\.0\), .* and 4 more.*X\[:, np\.nanmax\(X, axis=0\) > np\.nanmin\(X, axis=0\)\]"):
        fit_specs(X, names, ["DOUBLE"] * 30, model="m", source=None)
    with pytest.raises(ad_duckdb.BadInputError, match=r"14 columns are constant .*'c3' \(0\.0\).*"
                       r"X\.loc\[:, X\.nunique\(\) > 1\]"):
        fit_specs(X, names, ["DOUBLE"] * 30, model="m", source=None, frame=True)
    X[:, 3::2] = rng.normal(size=(200, 14))
    X[:, 7] = 2.5  # one constant column keeps its message
    with pytest.raises(ad_duckdb.BadInputError, match=r"^Model 'm': column 'c7' is constant \(2\.5 in every row\)"):
        fit_specs(X, names, ["DOUBLE"] * 30, model="m", source="t")


def test_every_non_numeric_feature_is_named_in_one_error_each_with_its_fix(tmp_path: Path) -> None:
    """`train -f count -f has_refund -f channel` named only has_refund; channel's error came on the next run. One
    error names each such column with the fix its type takes; a single one keeps its own message."""
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    path = str(tmp_path / "n.duckdb")
    con = ad_duckdb.connect(path)
    try:
        # (a text column of words, 'channel', is a feature as it is: categorical.py)
        con.execute("CREATE TABLE t AS SELECT range % 9 AS count, range % 7 = 0 AS has_refund, "
                    "INTERVAL (range % 5) MINUTE AS gap, ['web', 'pos', 'phone'][range % 3 + 1] AS channel "
                    "FROM range(200)")
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "m", "t", features=["count", "has_refund", "gap", "channel"], **BRIEF)
        with pytest.raises(ad_duckdb.BadInputError, match=r"^Model 'm': Column 'gap' of 't' is INTERVAL, not "
                                                          r"numeric"):
            ad_duckdb.train(con, "m", "t", features=["count", "gap", "channel"], **BRIEF)
    finally:
        con.close()
    text = str(e.value)
    assert text.startswith("Model 'm': 2 feature columns of 't' are not numeric ('has_refund' BOOLEAN, 'gap' "
                           "INTERVAL); each with its fix: "), text
    assert "Column 'has_refund' of 't' is BOOLEAN, not numeric" in text, text
    assert 'SELECT * REPLACE ("has_refund"::INTEGER AS "has_refund")' in text, text
    assert "Column 'gap' of 't' is INTERVAL, not numeric" in text and 'epoch("gap")' in text, text
    res = CliRunner().invoke(cli, ["train", path, "m", "t", "-f", "count", "-f", "has_refund", "-f", "gap"])
    assert res.exit_code != 0 and len(res.output.strip().splitlines()) == 1, res.output
    assert "'has_refund' of 't' is BOOLEAN" in res.output and "'gap' of 't' is INTERVAL" in res.output, res.output


def test_a_feature_named_with_sql_quotes_is_the_column(tmp_path: Path) -> None:
    """-f '"Amount"' (quoted as SQL quotes a mixed-case name) was "Column '"Amount"' is not in 't'; its columns are:
    Amount"; a column whose name holds the quotes is still named by them."""
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    path = str(tmp_path / "q.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute('CREATE TABLE t AS SELECT (range % 7)::DOUBLE AS "Amount", (range % 5) * 2.0 + random() AS "Tx ""n""", '
                    '(range % 3)::DOUBLE AS """q""" FROM range(300)')
        info = ad_duckdb.train(con, "m", "t", features=['"Amount"', '"Tx ""n"""', '"q"'], **BRIEF)
        assert info.features == ["Amount", 'Tx "n"', '"q"']
        with pytest.raises(ad_duckdb.BadInputError, match="names a column twice"):
            ad_duckdb.train(con, "m", "t", features=['"Amount"', "amount"], **BRIEF)
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["train", path, "m", "t", "-f", '"Amount"', "-f", 'Tx "n"', "--quiet"])
    assert res.exit_code == 0 and "stored m@2: 300 rows, features (Amount, Tx \"n\")" in res.stdout, res.output
    res = CliRunner().invoke(cli, ["train", path, "m", "t", "-f", "amount", "--contamination", "5"])
    assert res.exit_code == 2 and res.output.strip().endswith("For 5%, --contamination 0.05."), res.output


def test_bad_parameters_named() -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range % 10 AS x, range * 2 + random() AS y FROM range(100)")
        with pytest.raises(ad_duckdb.BadInputError, match=r"The 'contamination' parameter must be a number in "
                                                          r"\[1e-06, 0.5\]. Got 0.7 instead."):
            ad_duckdb.train(con, "m", "t", contamination=0.7)
        # a share given as a percent gets the share it likely means, in the caller's spelling
        with pytest.raises(ad_duckdb.BadInputError, match=re.escape("Got 5 instead. For 5%, contamination=0.05.")):
            ad_duckdb.train(con, "m", "t", contamination=5)
        with pytest.raises(ad_duckdb.BadInputError, match=re.escape("For 20%, validation_fraction=0.2.")):
            ad_duckdb.AutoEncoderDetector(validation_fraction=20).fit(np.ones((30, 2)))
        with pytest.raises(ad_duckdb.BadInputError) as e:  # no percent in 0.7 or 500
            ad_duckdb.train(con, "m", "t", contamination=500)
        assert "%" not in str(e.value), e.value
        with pytest.raises(ad_duckdb.BadInputError, match="Unknown parameter"):
            ad_duckdb.train(con, "m", "t", hiden_dims=(3,))
        with pytest.raises(ad_duckdb.BadInputError, match="Model name 'bad name' is not valid"):
            ad_duckdb.train(con, "bad name", "t")
    finally:
        con.close()


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"hidden_dims": 64}, "The 'hidden_dims' parameter must be None or a non-empty list or tuple of positive ints"),
        ({"hidden_dims": "64,32"}, "'hidden_dims' parameter .* Got '64,32' instead"),  # as passed, not ('6', '4', ...)
        ({"hidden_dims": [64, True]}, r"'hidden_dims' parameter .* Got \[64, True\] instead"),
        ({"kl_weight": "big", "kind": "vae"}, r"The 'kl_weight' parameter must be a number in \[0, 1e\+06\]. Got 'big'"),
        ({"kl_weight": -5.0, "kind": "vae"}, "The 'kl_weight' parameter must be a number .* Got -5.0 instead"),
        ({"variational": "no"}, "The 'variational' parameter must be True or False. Got 'no' instead"),
        ({"robust": "yes"}, "The 'robust' parameter must be True, False or None. Got 'yes' instead"),
        ({"progress": 1}, "The 'progress' parameter must be True or False. Got 1 instead"),
        ({"knn_k": True}, "The 'knn_k' parameter must be an int >= 0 .* Got True instead"),
        ({"variational": True}, "kind='autoencoder' and variational=True disagree.*pass kind='vae'"),
        ({"variational": False, "kind": "vae"}, "kind='vae' and variational=False disagree"),
        ({"extra": {"a": 1}}, r"Unknown parameter\(s\) \['extra'\]"),
        ({"where": 1}, r"Model 'm': where= must be a SQL condition .* got 1"),
        ({"features": [1]}, r"Model 'm': features= takes a column name or a list .* got \[1\]"),
        ({"features": 3}, r"Model 'm': features= .* got 3"),
    ],
)
def test_every_bad_training_argument_is_named_with_its_value(kwargs: dict[str, object], named: str) -> None:
    """Each bad value gets a BadInputError naming the argument, the value as passed and what is allowed, before
    any training; none crashes in torch or trains something other than asked (variational='no' is truthy)."""
    con = ad_duckdb.connect()
    try:
        # (x is not id-like: the default feature list would leave such a column out, with a warning)
        con.execute("CREATE TABLE t AS SELECT range % 10 AS x, range * 2 + random() AS y FROM range(100)")
        with pytest.raises(ad_duckdb.BadInputError, match=named):
            ad_duckdb.train(con, "m", "t", **{"epochs": 2, "progress": False, **kwargs})  # type: ignore[arg-type]
        assert ad_duckdb.list_models(con) == []
    finally:
        con.close()


def test_whole_number_floats_are_taken_as_ints() -> None:
    """validate() accepts 2.0 for an int parameter; training gets the int (torch and numpy refuse floats)."""
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range % 10 AS x, range * 2 + random() AS y FROM range(300)")
        ad_duckdb.train(con, "m", "t", n_models=2.0, batch_size=64.0, bank_size=64.0, seed=1.0, max_train_rows=200.0,
                        epochs=2, progress=False)
        params = ad_duckdb.load_model(con, "m").params
        assert params["n_models"] == 2 and isinstance(params["n_models"], int) and params["max_train_rows"] == 200
    finally:
        con.close()


def test_kind_and_a_matching_variational_agree_with_what_is_stored() -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range % 10 AS x, range * 2 + random() AS y FROM range(100)")
        ad_duckdb.train(con, "v", "t", kind="vae", variational=True, hidden_dims=[8, 4], epochs=2, progress=False)
        ad_duckdb.train(con, "a", "t", variational=False, epochs=2, progress=False)
        assert [(m["name"], m["kind"]) for m in ad_duckdb.list_models(con)] == [("a", "autoencoder"), ("v", "vae")]
        assert ad_duckdb.load_model(con, "v").params["variational"] is True
        assert ad_duckdb.load_model(con, "a").params["variational"] is False
        assert "extra" not in ad_duckdb.load_model(con, "a").params
    finally:
        con.close()


def test_nulls_at_training_are_filled(tmp_path: object) -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT CASE WHEN range % 10 = 0 THEN NULL ELSE range END AS x, "
                    "range * 2.0 AS y FROM range(500)")
        info = ad_duckdb.train(con, "m", "t", **FAST)
        assert info.metrics["filled_values"] == {"x": 50, "y": 0}
        assert con.execute("SELECT count(*) FROM t WHERE anomaly_score('m', x, y) IS NULL").fetchall()[0][0] == 0
    finally:
        con.close()


_TRAINING_CHILD = """
import sys
import ad_duckdb
con = ad_duckdb.connect()
con.execute("CREATE TABLE t AS SELECT CASE WHEN range % 10 = 0 THEN NULL ELSE range END AS x, "
            "(range * 2.5)::DECIMAL(12, 2) AS y, range % 7 AS z FROM range(3000)")
info = ad_duckdb.train(con, "m", "t", features=["x", "y"], where="z < 6", n_models=1, max_steps=50, progress=False)
print(info.metrics["filled_values"], "pandas" in sys.modules)
"""


def test_training_never_loads_pandas() -> None:
    """Reading the training rows (NULLs, DECIMALs, a filter) goes through Arrow's buffers, not Array.to_numpy,
    whose first call imports pandas: 0.3-0.4 s of every `ad-duckdb train` for a library training never uses."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _TRAINING_CHILD], capture_output=True, text=True, check=False,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.splitlines()[-1] == "{'x': 257, 'y': 0} False", out.stdout


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("transactions", '"transactions"'),
        ("main.transactions", '"main"."transactions"'),
        ("my table", '"my table"'),
        ('we"ird', '"we""ird"'),
        ("SELECT * FROM t", "(SELECT * FROM t\n) AS _ad_src"),
        ("read_parquet('x.parquet')", "read_parquet('x.parquet')"),
        # copied from a SQL editor: comments and semicolons at the ends go, the rest (a '--' in a string) stays
        ("SELECT * FROM t -- all rows", "(SELECT * FROM t\n) AS _ad_src"),
        ("/* nightly */ SELECT * FROM t", "(SELECT * FROM t\n) AS _ad_src"),
        ("-- my query\nSELECT '--x' AS a FROM t; -- done\n", "(SELECT '--x' AS a FROM t\n) AS _ad_src"),
        ("SELECT a -- the id\n, b FROM t", "(SELECT a -- the id\n, b FROM t\n) AS _ad_src"),
        ("transactions -- the table", '"transactions"'),
        ("read_parquet('x.parquet') /* new files */", "read_parquet('x.parquet')"),
        # file paths: a comment the tokenizer sees inside a path is part of the path
        ("exports/*.parquet", '"exports/*.parquet"'),
        ("exports--old/x.parquet", '"exports--old/x.parquet"'),
        ("'exports/*.parquet'", "'exports/*.parquet'"),
        # ... and what follows a path, as after a query: a `;` or a comment with a blank before it
        ("exports/*.parquet;", '"exports/*.parquet"'),
        ("exports/*.parquet -- January's files", '"exports/*.parquet"'),
        ("exports/*.parquet /* the exports */ ;", '"exports/*.parquet"'),
        ("exports/*.parquet\n-- a second line", '"exports/*.parquet"'),
        ("exports/*.parquet*/", '"exports/*.parquet*/"'),  # no comment closed by a path: never the table exports
    ],
)
def test_source_sql(source: str, expected: str) -> None:
    assert source_sql(source) == expected


def test_a_file_glob_as_source_reads_the_files_not_a_table_named_like_its_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # "exports/*.parquet" lost everything from "/*" on (taken for a comment), so a table named exports was read
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exports").mkdir()
    con = ad_duckdb.connect()
    try:
        for m in (1, 2):
            con.execute(f"COPY (SELECT (range % 17)::DOUBLE AS \"Count\", (range % 17) * 3.0 + (range % 5) AS "
                        f"\"Amount\" FROM range(300)) TO 'exports/2024-0{m}.parquet' (FORMAT parquet)")
        con.execute("CREATE TABLE exports AS SELECT range::DOUBLE AS other, sqrt(range) AS columns FROM range(50)")
        for source in ("exports/*.parquet", "'exports/*.parquet'"):
            info = ad_duckdb.train(con, "tx", source, features=["count", "amount"], **FAST)
            assert info.train_rows == 600 and info.features == ["Count", "Amount"]
            assert len(ad_duckdb.score(con, "tx", source)) == 600
        # a comment or `;` after the glob, as pasted from an editor: still the files, never the table exports
        for source in ("exports/*.parquet /* both months */", "exports/*.parquet;", "exports/*.parquet -- both"):
            assert len(ad_duckdb.score(con, "tx", source)) == 600, source
    finally:
        con.close()


def test_train_on_query_view_and_where() -> None:
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range AS id, (range % 17)::DOUBLE AS a, (range % 17) * 3.0 + "
                    "(range % 5) AS b, (range % 100 = 0)::INTEGER AS label FROM range(2000)")
        ad_duckdb.register(con)
        info = ad_duckdb.train(con, "q", "SELECT a, b FROM t WHERE id > 10", **BRIEF)
        assert info.features == ["a", "b"] and info.train_rows == 1989
        info = ad_duckdb.train(con, "w", "t", features=["a", "b"], where="label = 0", **BRIEF)
        assert info.train_rows == 1980 and info.metrics["robust"] is False
        assert "label = 0" in ad_duckdb.load_model(con, "w").source
        ad_duckdb.train(con, "qw", "SELECT a, b, label FROM t WHERE id > 10", features=["a", "b"], where="label = 0",
                        **BRIEF)
        shown = ad_duckdb.load_model(con, "qw").source
        assert shown == "(SELECT a, b, label FROM t WHERE id > 10) WHERE label = 0"
        assert con.execute(f"SELECT count(*) FROM {shown}").fetchall()[0][0] == 1970  # valid SQL as shown
        assert ad_duckdb.train(con, "e", "t", features=["a", "b"], where="  ", **BRIEF).metrics["robust"] is True
    finally:
        con.close()


def test_many_identical_rows_train_and_score() -> None:
    # 100,000 copies of one row and five others: the codes sit far from the origin with almost no spread, where
    # float32 rounding made torch and onnxruntime disagree and training failed its parity check
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE d AS SELECT i AS id, 5 AS cnt, 100.0::DOUBLE AS amount FROM range(100000) r(i)")
        con.execute("INSERT INTO d VALUES (1000001, 6, 120.0), (1000002, 50, 1000.0), (1000003, 5, 100000.0), "
                    "(1000004, 4, 90.0), (1000005, 7, 100.0)")
        ad_duckdb.train(con, "dg", "d", features=["cnt", "amount"], max_steps=100, progress=False)
        flagged = dict(con.execute("SELECT id > 1000000, count(*) FILTER (WHERE is_anomaly('dg', cnt, amount)) "
                                   "FROM d GROUP BY ALL").fetchall())
        assert flagged == {False: 0, True: 5}
    finally:
        con.close()


def test_non_numeric_columns_get_a_hint_that_works_for_their_type() -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TYPE mood AS ENUM ('calm', 'odd')")
        con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS x, sqrt(range) AS y, DATE '2026-01-01' + range::INTEGER AS d, "
                    "INTERVAL 1 HOUR * range AS iv, 'calm'::mood AS m FROM range(200)")
        for col, hint in (("d", 'epoch("d")'), ("iv", 'epoch("iv")')):
            with pytest.raises(ad_duckdb.BadInputError, match=re.escape(hint)):
                ad_duckdb.train(con, "m1", "t", features=["x", col], **FAST)
            # the hint itself runs
            assert len(con.execute(f"SELECT {hint} FROM t").fetchall()) == 200
        # an ENUM is read as the words it holds, as a text column is: here one, which tells no row from another
        with pytest.raises(ad_duckdb.BadInputError, match=re.escape("holds only 'calm' (and NULLs)")):
            ad_duckdb.train(con, "m1", "t", features=["x", "m"], **FAST)
        ad_duckdb.train(con, "m2", "t", features=["x", "y"], **FAST)
        with pytest.raises(duckdb.Error, match=r"argument 2 \(the model was trained on 'y' there\) is DATE.*epoch\(col\)"):
            con.execute("SELECT anomaly_score('m2', x, d) FROM t").fetchall()
    finally:
        con.close()


def test_sources_and_filters_with_editor_comments_train_and_score() -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range AS id, (range % 17)::DOUBLE AS a, (range % 17) * 3.0 + "
                    "(range % 5) AS b FROM range(600)")
        for i, source in enumerate(["SELECT a, b FROM t -- all rows",
                                    "/* nightly */ SELECT a, b FROM t",
                                    "-- my query\nSELECT a, b FROM t;  -- end\n"]):
            info = ad_duckdb.train(con, f"c{i}", source, where="a < 16 -- not the top value", **BRIEF)
            assert info.features == ["a", "b"] and info.train_rows == 600 - 35
            shown = ad_duckdb.load_model(con, info.name).source
            assert con.execute(f"SELECT count(*) FROM {shown}").fetchall()[0][0] == 565  # valid SQL as shown
            assert len(ad_duckdb.score(con, info.name, source)) == 600
    finally:
        con.close()


def test_a_relation_as_source_gets_a_short_message_with_the_fix() -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, sqrt(range) AS b FROM range(5000)")
        rel = con.sql("SELECT * FROM t")
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "r", rel, features=["a", "b"], **BRIEF)  # type: ignore[arg-type]
        msg = str(e.value)
        assert len(msg) < 400 and "DuckDBPyRelation" in msg and "rel.sql_query()" in msg and "create_view" in msg
        assert "┌" not in msg  # not the rendered table
        ad_duckdb.train(con, "r", rel.sql_query(), features=["a", "b"], **BRIEF)  # the suggested fix works
    finally:
        con.close()


def test_a_pivot_of_data_driven_columns_is_refused_for_that_reason() -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range % 3 AS k, (range * 7919) % 1000 AS v, range // 3 AS g FROM range(300)")
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "p", "PIVOT t ON k USING sum(v) GROUP BY g", **BRIEF)
        msg = str(e.value)
        assert "PIVOT whose columns come from the data" in msg and "IN (" in msg and not msg.endswith("..")
        assert "several statements" not in msg
        # the fix it names: the values listed
        info = ad_duckdb.train(con, "p", "PIVOT t ON k IN (0, 1, 2) USING sum(v) GROUP BY g", features=["0", "1", "2"],
                               **BRIEF)
        assert info.features == ["0", "1", "2"]
    finally:
        con.close()


def id_table(con: duckdb.DuckDBPyConnection) -> None:
    """t: id, merchant_id, customerId, seq (rising, not named as an id), a text column of numbers with 'N/A',
    a text name, and the two measurements x, y."""
    con.execute("CREATE TABLE t AS SELECT range AS id, range % 40 AS merchant_id, range % 70 AS customerId, "
                "1000 + 3 * range AS seq, CASE WHEN range % 50 = 7 THEN 'N/A' ELSE (range % 13)::VARCHAR END AS "
                "\"Amount USD\", 'shop ' || (range % 5) AS name, (range % 17)::DOUBLE AS x, sqrt(range) AS y, "
                "range % 11 AS valid, range % 9 AS paid FROM range(800)")


def test_default_features_leave_out_id_like_columns_and_say_what_they_left_out() -> None:
    con = ad_duckdb.connect()
    try:
        id_table(con)
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            info = ad_duckdb.train(con, "d", "t", **BRIEF)
        assert info.features == ["x", "y", "valid", "paid"]  # names ending in 'id' but not ids stay
        texts = [str(w.message) for w in caught]
        assert len(texts) == 2, texts
        ids, text = texts
        for part in ("'id' (named like an id)", "'merchant_id' (named like an id)", "'customerId' (named like an id)",
                     "'seq' (distinct integers rising row by row)", "Features: x, y, valid, paid",
                     "features=['id', 'x', 'y', 'valid', 'paid']"):
            assert part in ids, (part, ids)
        assert "'Amount USD' (VARCHAR, but its values are numbers apart from a few such as 'N/A')" in text
        assert "'name' (VARCHAR)" in text and 'TRY_CAST(trim("Amount USD") AS DOUBLE)' in text
        # the hint runs, and brings the column in
        hinted = 'SELECT * REPLACE (TRY_CAST(trim("Amount USD") AS DOUBLE) AS "Amount USD") FROM t'
        with pytest.warns(ad_duckdb.AdDuckDBWarning):
            assert "Amount USD" in ad_duckdb.train(con, "h", hinted, **BRIEF).features
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"'qty' \(VARCHAR, but all its values are numbers\)"):
            ad_duckdb.train(con, "q", "SELECT x, y, (x % 7)::VARCHAR AS qty FROM t", **BRIEF)
        # named features: an id on purpose is kept, and nothing is reported
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert ad_duckdb.train(con, "e", "t", features=["id", "x", "y"], **BRIEF).features == ["id", "x", "y"]
        # a NULL in a rising column: not a key, kept
        con.execute("CREATE TABLE u AS SELECT CASE WHEN range = 5 THEN NULL ELSE range END AS n, sqrt(range) AS y "
                    "FROM range(300)")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert ad_duckdb.train(con, "n", "u", **BRIEF).features == ["n", "y"]
    finally:
        con.close()


def _vendor_csv(path: Path) -> int:
    """A vendor's CSV: amounts as "1,234.50" (quoted) above 999, 'N/A' and empty cells, and a trailing total row.
    Returns how many amounts are missing (N/A or empty)."""
    rng = np.random.default_rng(0)
    lines, missing = ["Transaction_ID,Count,Amount"], 0
    for i in range(400):
        count = int(rng.poisson(8)) + 1
        amount = count * float(rng.lognormal(5.0, 0.3))  # mostly above 1,000
        cell = f'"{amount:,.2f}"' if amount >= 1000 else f"{amount:.2f}"
        if i % 40 in (7, 21):
            cell, missing = ("N/A" if i % 40 == 7 else ""), missing + 1
        lines.append(f"{i},{count},{cell}")
    lines.append('TOTAL,,"1,234,567.89"')
    path.write_text("\n".join(lines) + "\n")
    return missing


def test_a_csv_column_of_numbers_with_separators_and_n_a_gets_a_hint_that_keeps_every_number(tmp_path: Path) -> None:
    # Before: the column was left out without the hint (most values failed TRY_CAST); had it been given, its
    # TRY_CAST turned every "1,234.50" into NULL (the largest amounts filled with the median); and it took
    # Transaction_ID (which read as DOUBLE becomes a feature) for its example.
    csv_path = tmp_path / "vendor export.csv"
    _vendor_csv(csv_path)
    source = f"read_csv('{csv_path}')"
    con = ad_duckdb.connect()
    try:
        types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        assert types["Amount"] == "VARCHAR"
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            ad_duckdb.train(con, "d", source, **BRIEF)
        text = next(str(w.message) for w in caught if "non-numeric" in str(w.message))
        assert "To use 'Amount'" in text and """TRY_CAST(replace("Amount", ',', '') AS DOUBLE)""" in text, text
    finally:
        con.close()


def test_a_named_csv_column_of_numbers_as_text_gets_a_query_that_runs(tmp_path: Path) -> None:
    # Before: "turn it into a number in a query: CAST("Amount" AS DOUBLE)", which fails on 'N/A' and "1,234.50"
    csv_path = tmp_path / "vendor export.csv"
    missing = _vendor_csv(csv_path)
    source = f"read_csv('{csv_path}')"
    con = ad_duckdb.connect()
    try:
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "m", source, features=["count", "amount"], **FAST)
        msg = str(e.value)
        assert "Column 'Amount'" in msg and "'N/A'" in msg and "thousands separators" in msg, msg
        query = re.search(r"in a query: (SELECT .*?) \(a value", msg).group(1)
        info = ad_duckdb.train(con, "m", query, features=["count", "amount"], **FAST)
        assert info.metrics["filled_values"] == {"Count": 1, "Amount": missing}  # every written number kept
        assert con.execute(f"SELECT max(\"Amount\") FROM ({query})").fetchall()[0][0] == 1234567.89
    finally:
        con.close()


def test_scoring_a_csv_whose_feature_is_text_names_the_column_and_the_query(tmp_path: Path) -> None:
    # Before: "score('m@1', ...): feature argument 2 is VARCHAR, not a number ... CAST(col AS DOUBLE)"
    csv_path = tmp_path / "vendor export.csv"
    _vendor_csv(csv_path)
    source = f"read_csv('{csv_path}')"
    query = f"""SELECT * REPLACE (TRY_CAST(replace("Amount", ',', '') AS DOUBLE) AS "Amount") FROM {source}"""
    con = ad_duckdb.connect()
    try:
        ad_duckdb.train(con, "m", query, features=["count", "amount"], **FAST)
        for into in (None, "scores"):
            with pytest.raises(ad_duckdb.BadInputError, match=r"column 'Amount' of .* is VARCHAR.*feature 'Amount' "
                               r"takes numbers.*'N/A'.*SELECT \* REPLACE \(TRY_CAST\(replace"):
                ad_duckdb.score(con, "m", source, into=into)
        assert len(ad_duckdb.score(con, "m", query)) == 401
    finally:
        con.close()


def test_scoring_a_csv_whose_feature_column_is_empty_says_it_is_empty(tmp_path: Path) -> None:
    """A feed that lost its amounts writes an empty 'Amount' in every row, which DuckDB types VARCHAR; scoring said
    only "is VARCHAR, and feature 'Amount' takes numbers", as if the file held text there."""
    rng = np.random.default_rng(3)
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range AS id, 1 + range % 40 AS Count, "
                    "(1 + range % 40) * (18 + random() * 4) AS Amount FROM range(300)")
        ad_duckdb.train(con, "m", "t", features=["Count", "Amount"], **FAST)
        path = tmp_path / "lost amounts.csv"
        path.write_text("id,Count,Amount\n" + "".join(f"{i},{int(rng.integers(1, 40))},\n" for i in range(300)))
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.score(con, "m", f"'{path}'")
        msg = str(e.value)
        assert "column 'Amount'" in msg and "no value in any row" in msg and "missing" in msg, msg
        query = re.search(r"in a query: (SELECT .*?) FROM \.\.\.", msg).group(1) + f" FROM '{path}'"
        scored = ad_duckdb.score(con, "m", query)
        assert scored.num_rows == 300 and scored.column("anomaly_score").null_count == 0
    finally:
        con.close()


def test_the_text_column_query_reads_a_csv_file_with_n_a_in_it(tmp_path: Path) -> None:
    """DuckDB 2.0 pushes a bare TRY_CAST of a CSV column into the CSV reader, which casts strictly: the query the
    training note and the scoring error gave for an 'Amount' with 'N/A' in it, SELECT * REPLACE (TRY_CAST("Amount"
    AS DOUBLE) ...) FROM 'x.csv', stopped with "Could not convert string 'N/A' to DOUBLE", the very value it was for."""
    rng = np.random.default_rng(2)
    lines = ["Transaction_ID,Count,Amount"]
    for i in range(300):
        count = int(rng.integers(1, 50))
        lines.append(f"{i},{count},{'N/A' if i in (5, 6) else round(count * rng.normal(20, 2), 2)}")
    path = tmp_path / "tx.csv"
    path.write_text("\n".join(lines) + "\n")
    source = f"'{path}'"
    con = ad_duckdb.connect()
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            ad_duckdb.train(con, "d", source, **FAST)
        text = next(str(w.message) for w in caught if "non-numeric" in str(w.message))
        query = re.search(r"reads it as a number: (SELECT .*?) FROM \.\.\.", text).group(1) + f" FROM {source}"
        info = ad_duckdb.train(con, "m", query, features=["Count", "Amount"], **FAST)
        assert info.metrics["filled_values"] == {"Count": 0, "Amount": 2}
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.score(con, "m", source)
        query = re.search(r"in a query: (SELECT .*?) \(a value", str(e.value)).group(1)
        assert len(ad_duckdb.score(con, "m", query)) == 300
    finally:
        con.close()


def _bank_csv(path: Path) -> None:
    """A European bank's export: semicolons, a header of quoted capitals, amounts with a decimal comma and '.' as
    the thousands separator ("1.251,00"), quoted, 'n/a' once, and a trailing empty line."""
    rng = np.random.default_rng(1)
    lines = ['"Transaction_ID";"Count";"Amount"']
    for i in range(300):
        count = int(rng.poisson(8)) + 1
        amount = count * float(rng.lognormal(5.0, 0.3))
        cell = "n/a" if i == 13 else f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
        lines.append(f'"{i}";"{count}";"{cell}"')
    path.write_text("\r\n".join(lines) + "\r\n\r\n")


def test_a_csv_column_with_decimal_commas_gets_the_query_that_reads_it_not_free_text(tmp_path: Path) -> None:
    # Before: "1.251,00" and "937,50" failed TRY_CAST, so the column was left out as plain text without a hint, and
    # naming it as a feature said "it holds free text ... Leave it out of features".
    csv_path = tmp_path / "bank export.csv"
    _bank_csv(csv_path)
    source = f"read_csv('{csv_path}')"
    con = ad_duckdb.connect()
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            ad_duckdb.train(con, "d", source, **FAST)
        text = next(str(w.message) for w in caught if "non-numeric" in str(w.message))
        expr = """TRY_CAST(replace(replace("Amount", '.', ''), ',', '.') AS DOUBLE)"""
        assert "To use 'Amount'" in text and expr in text and "decimal comma" in text, text
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "m", source, features=["Count", "Amount"], **FAST)
        msg = str(e.value)
        assert "free text" not in msg and "'n/a'" in msg and "decimal comma" in msg, msg
        query = re.search(r"in a query: (SELECT .*?) \(a value", msg).group(1)
        info = ad_duckdb.train(con, "m", query, features=["Count", "Amount"], **FAST)
        assert info.metrics["filled_values"] == {"Count": 0, "Amount": 1}
        read = con.execute(f"SELECT list(\"Amount\" ORDER BY \"Transaction_ID\") FROM ({query})").fetchall()[0][0]
        written = [r[2] for r in duckdb.sql(f"SELECT * FROM read_csv('{csv_path}', all_varchar=true)").fetchall()]
        assert read[0] == float(written[0].replace(".", "").replace(",", ".")) and max(v for v in read if v is not None) > 1000
    finally:
        con.close()


def test_only_id_like_numeric_columns_is_an_error_naming_them() -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range AS order_id, 'x' AS s FROM range(100)")
        with pytest.raises(ad_duckdb.BadInputError, match=r"every numeric column of 't' looks like an id "
                                                          r"\('order_id': named like an id\).*features=\['order_id'\] "
                                                          r"if it is a measurement"):
            ad_duckdb.train(con, "o", "t", **BRIEF)
    finally:
        con.close()


def test_only_ids_and_text_numbers_names_the_text_numbers_with_the_query_first(tmp_path: Path) -> None:
    """A semicolon CSV with decimal commas: x and y are text to DuckDB, so 'every numeric column looks like an id ...
    features=['id']' was all the error said, and the numbers to train on went unmentioned."""
    csv_path = tmp_path / "dc.csv"
    duckdb.sql(f"COPY (SELECT i AS id, replace(round(10 + 2*sin(i), 3)::VARCHAR, '.', ',') AS x, "
               f"replace(round(30 + 6*sin(i) + cos(i*7), 3)::VARCHAR, '.', ',') AS y FROM range(500) t(i)) "
               f"TO '{csv_path}' (DELIMITER ';', HEADER)")
    con = ad_duckdb.connect()
    try:
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "dc", str(csv_path), **BRIEF)
        msg = str(e.value)
        assert "'x' (VARCHAR, but all its values are numbers)" in msg and "'y' (VARCHAR" in msg, msg
        assert "decimal comma" in msg and msg.index("'x' (VARCHAR") < msg.index("looks like an id"), msg
        query = re.search(r"as numbers: (SELECT .*?) \(a value", msg).group(1)
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="id-like 'id'"):
            info = ad_duckdb.train(con, "dc", query, **BRIEF)  # the query runs as given, and gives x and y
        assert info.features == ["x", "y"]
        read = con.execute(f"SELECT list(x ORDER BY id) FROM ({query})").fetchall()[0][0]
        assert np.allclose(read, [round(10 + 2 * np.sin(i), 3) for i in range(500)], rtol=0, atol=1e-9)
    finally:
        con.close()


@pytest.mark.parametrize("rows", [1, 2, 5, 19])
def test_too_few_rows_are_refused_with_the_count_the_minimum_and_the_fix(rows: int) -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT (range % 7)::DOUBLE AS a, sqrt(range) AS b FROM range(500)")
        src = f"SELECT * FROM t LIMIT {rows}"
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "tiny", src, **BRIEF)
        msg = str(e.value)
        plural = "row" if rows == 1 else "rows"
        assert f"Model 'tiny': the source '{src}' has only {rows} {plural} to train on" in msg
        assert "at least 20" in msg and "a wider filter (where=)" in msg and "constant" not in msg
        assert ad_duckdb.list_models(con) == []
    finally:
        con.close()


def test_few_rows_train_with_a_warning() -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT (range % 7)::DOUBLE AS a, sqrt(range) AS b FROM range(500)")
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"Model 'few' is trained on only 30 rows .*fewer than 100.*"
                                                           r"one training row in 30, 3.3%"):
            assert ad_duckdb.train(con, "few", "SELECT * FROM t LIMIT 30", **BRIEF).train_rows == 30
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ad_duckdb.train(con, "enough", "SELECT * FROM t LIMIT 100", **BRIEF)
    finally:
        con.close()


def test_column_errors_name_the_cli_options_too() -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT 5 AS c, NULL::DOUBLE AS n, (range % 7)::DOUBLE AS x FROM range(50)")
        with pytest.raises(ad_duckdb.BadInputError, match=r"pass constant_columns='keep' to score"):
            ad_duckdb.train(con, "m", "t", features=["c", "x"], **FAST)
        with pytest.raises(ad_duckdb.BadInputError, match=r"has no finite value .*\(features=\[\.\.\.\]\)\.$"):
            ad_duckdb.train(con, "m", "t", features=["n", "x"], **FAST)
    finally:
        con.close()


def test_default_features_say_when_a_label_is_one_and_leave_out_the_filter_column() -> None:
    """Without features= a 0/1 column named like a label became a feature with no word (the model reads the answer,
    found only when evaluate refuses it); under where="label = 0" it stopped training as a constant column."""
    con = ad_duckdb.connect(":memory:")
    try:
        con.execute("CREATE TABLE t AS SELECT (range % 50)::DOUBLE AS a, (range % 50) * 2.0 + (range % 7) / 7.0 AS b, "
                    "(range % 40 = 0)::INTEGER AS is_fraud, (range % 7 = 0)::INTEGER AS is_weekend FROM range(600)")
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as got:
            info = ad_duckdb.train(con, "m", "t", **BRIEF)
        notes = [str(w.message) for w in got]
        assert info.features == ["a", "b", "is_fraud", "is_weekend"]
        assert [n for n in notes if "named like a label" in n] == [
            "Model 'm': no features given, so 'is_fraud', a 0/1 column named like a label, is a feature: a model "
            "trained on its label reads the answer, and evaluate with label='is_fraud' refuses it. "
            "If it is the label, train on the normal rows (where=\"is_fraud = 0\"; that "
            "leaves it out) or name the features (features=[...])."]
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            info = ad_duckdb.train(con, "m", "t", where="is_fraud = 0", **BRIEF)
        assert info.features == ["a", "b", "is_weekend"]
        assert not any("named like a label" in str(w.message) for w in got)
        assert any("'is_fraud', which where='is_fraud = 0' holds at one value" in str(w.message) for w in got)
        assert ad_duckdb.evaluate(con, "m", "t", label="is_fraud").anomalies == 15
    finally:
        con.close()


def test_a_row_index_read_back_as_double_is_not_a_default_feature(tmp_path: Path) -> None:
    """The shared credit-card CSV ends with 'Index' (1.0 ... 492.0 the frauds, then the normal rows): read as DOUBLE it
    was a default feature, so evaluate scored the frauds by where they sat in the file (AUC-ROC 0.976 against 0.952
    without it). A whole-number column named like a row index is left out, as an id is; a measurement of that
    name with fractions stays."""
    csv = tmp_path / "rows.csv"
    rng = np.random.default_rng(0)
    n = 400
    label = (np.arange(n) < 40).astype(int)  # the anomalies first, as the file sorts them
    a = rng.normal(size=n) + 3.0 * label
    b = rng.normal(size=n)
    lines = ["a,b,label,Index,Unnamed: 0,idx"] + [
        f"{a[i]},{b[i]},{label[i]},{i + 1}.0,{i}.0,{0.5 + i / 7}" for i in range(n)]
    csv.write_text("\n".join(lines) + "\n")
    con = ad_duckdb.connect(str(tmp_path / "r.duckdb"))
    try:
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv}')")
        assert dict(con.execute("DESCRIBE t").fetchall()[i][:2] for i in (3, 4)) == {"Index": "DOUBLE",
                                                                                     "Unnamed: 0": "DOUBLE"}
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as got:
            info = ad_duckdb.train(con, "m", "t", where="label = 0", **FAST)
        assert info.features == ["a", "b", "idx"]
        assert any("'Index' (named like a row index, with whole-number values), 'Unnamed: 0' (named like a row "
                   "index, with whole-number values)" in str(w.message) for w in got)
    finally:
        con.close()


def test_a_text_column_named_first_trains_and_the_note_gives_the_call() -> None:
    """A text column of a few words named as a feature trains as its categories (it got a hand-written one-hot query
    to paste before); named first, the note says the order the model takes (numbers first), and that call scores."""
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT ['web', 'store', 'atm', 'phone'][range % 4 + 1] AS channel, "
                    "(range * 7919 % 1000)::DOUBLE AS amount FROM range(600)")
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=re.escape("anomaly_score('m', amount, channel)")):
            info = ad_duckdb.train(con, "m", "t", features=["channel", "amount"], **FAST)
        assert info.features == ["amount", "channel"]
        rec = ad_duckdb.load_model(con, "m")
        assert sorted(c.category for c in rec.features if c.category) == ["atm", "phone", "store", "web"]
        assert con.execute("SELECT count(anomaly_score('m', amount, channel)) FROM t").fetchall()[0][0] == 600
    finally:
        con.close()


def test_a_pandas_category_column_is_a_text_feature() -> None:
    """A pandas ``category`` column (DuckDB reads it as an ENUM) trains as a text column does, and scores from SQL."""
    import pandas as pd

    con = ad_duckdb.connect()
    try:
        rng = np.random.default_rng(0)
        df = pd.DataFrame({"channel": pd.Categorical(rng.choice(["web", "store", "atm"], 600)),  # noqa: F841
                           "amount": rng.lognormal(3, 0.5, 600)})
        info = ad_duckdb.train(con, "m", "df", features=["amount", "channel"], **FAST)
        assert info.features == ["amount", "channel"]
        assert con.execute("SELECT count(anomaly_score('m', amount, channel)) FROM df").fetchall()[0][0] == 600
    finally:
        con.close()


def test_a_boolean_trained_through_the_hinted_query_scores_through_it() -> None:
    """The BOOLEAN hint is a query that keeps the column's name: it trains, and scoring the table itself names that
    query (before: "feature argument 1 ... Pass the model's columns in its order", though they were in order), which
    scores as the same expression in anomaly_score does."""
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range % 7 = 0 AS refund, (range * 7919 % 1000)::DOUBLE AS amount "
                    "FROM range(600)")
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "m", "t", features=["refund", "amount"], **FAST)
        query = re.search(r"turns it into a number, (SELECT .*? FROM \"t\") \(1 for", str(e.value)).group(1)  # type: ignore[union-attr]
        ad_duckdb.train(con, "m", query, features=["refund", "amount"], **FAST)
        with pytest.raises(ad_duckdb.BadInputError, match=r"column 'refund' of 't' is BOOLEAN.* Score a query that "
                                                          r"turns it into a number") as e:
            ad_duckdb.score(con, "m", "t")
        hinted = re.search(r"e\.g\. (SELECT .*? FROM \"t\") \(1 for", str(e.value)).group(1)  # type: ignore[union-attr]
        assert hinted == query
        got = ad_duckdb.score(con, "m", hinted, outputs=["anomaly_score"]).column("anomaly_score").to_pylist()
        want = con.execute("SELECT anomaly_score('m', refund::INTEGER, amount) FROM t ORDER BY rowid").fetchall()
        assert got == [w[0] for w in want] and len(got) == 600
    finally:
        con.close()


def test_scoring_a_table_without_the_columns_a_training_query_made_names_that_query() -> None:
    """A model trained on the category hint's query, scored on the table: the error shows the query that made the
    missing columns (before: only "Rename them in a query: SELECT x AS channel_atm, ...")."""
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT ['web', 'store', 'atm'][range % 3 + 1] AS channel, "
                    "(range * 7919 % 1000)::DOUBLE AS amount FROM range(600)")
        query = "SELECT *, (channel = 'atm')::INTEGER AS channel_atm, (channel = 'web')::INTEGER AS channel_web FROM t"
        ad_duckdb.train(con, "m", query, features=["channel_atm", "channel_web", "amount"], **FAST)
        with pytest.raises(ad_duckdb.SourceNotFoundError,
                           match=rf"lacks \['channel_atm', 'channel_web'\] .*The model was trained on {re.escape(query)}: "
                                 r"score a query that makes them the same way, or rename them"):
            ad_duckdb.score(con, "m", "t")
    finally:
        con.close()


def test_scoring_a_column_of_words_names_the_words_and_what_the_model_was_trained_on() -> None:
    """TRY_CAST, the advice for numbers written as text, would turn every word into NULL and score the rows on
    filled-in values: a column of words gets told what the model was trained on instead."""
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT ['web', 'store', 'atm', 'app'][range % 4 + 1] AS channel, "
                    "(range * 7919 % 1000)::DOUBLE AS amount FROM range(400)")
        con.execute("CREATE VIEW v AS SELECT (channel = 'web')::INTEGER AS channel, amount FROM t")
        ad_duckdb.train(con, "m", "v", features=["channel", "amount"], **FAST)
        with pytest.raises(ad_duckdb.BadInputError, match=r"column 'channel' of 't' holds words \('app', 'atm', 'store', "
                           r"\.\.\.\), and feature 'channel' takes numbers\. .*\(it was trained on v\)") as e:
            ad_duckdb.score(con, "m", "t")
        assert "TRY_CAST" not in str(e.value)
    finally:
        con.close()


def test_an_interrupted_read_stays_an_interruption() -> None:
    # Before: a Ctrl-C (or connection.interrupt()) while training read its source came back as BadInputError
    # "Cannot read features ...: Query interrupted", which callers and the CLI took for a source at fault.
    import threading

    from ad_duckdb.exceptions import is_interrupt
    from ad_duckdb.featureread import count_rows, feature_batches

    con = duckdb.connect()
    try:
        endless = "SELECT r AS a FROM range(100000000000) t(r) WHERE r % 3 = 1"

        def stopper(stopped: threading.Event) -> None:
            # Why again until the read ended: DuckDB forgets an interrupt when a statement starts, so one that landed
            # before the read's query began (the main thread held off on a loaded machine) was lost, and the read of
            # 10^11 rows ran on for hours
            while not stopped.wait(0.5):
                con.interrupt()

        for read in (lambda: count_rows(con, endless, ["a"]), lambda: sum(len(m) for m in feature_batches(
                con, "SELECT a FROM (SELECT r AS a FROM range(100000000000) t(r)) ORDER BY a DESC", ["a"]))):
            stopped = threading.Event()
            thread = threading.Thread(target=stopper, args=(stopped,))
            thread.start()
            try:
                with pytest.raises(BaseException) as got:  # noqa: PT011 (which class DuckDB raises is its own)
                    read()
            finally:
                stopped.set()
                thread.join()
            assert not isinstance(got.value, ad_duckdb.BadInputError), got.value
            assert is_interrupt(got.value), repr(got.value)
    finally:
        con.close()


def test_a_read_interrupted_between_its_batches_stays_an_interruption() -> None:
    # Before: a Ctrl-C landing while training streamed its source (past the first batch: a large table) reached
    # Python as OSError('INTERRUPT Error: Interrupted!') from DuckDB's Arrow stream, which is_interrupt did not know:
    # `ad-duckdb train` said "Cannot read features [...]: INTERRUPT Error: Interrupted!." and exited 1, not 130.
    from ad_duckdb.exceptions import is_interrupt
    from ad_duckdb.featureread import feature_batches

    con = duckdb.connect()
    try:
        batches = feature_batches(con, "SELECT r AS a FROM range(100000000000) t(r)", ["a"])
        next(batches)  # the stream is running: the interrupt lands between two batches, not in the query's start
        con.interrupt()
        with pytest.raises(BaseException) as got:  # noqa: PT011 (which class DuckDB raises is its own)
            for _ in batches:
                pass
        assert not isinstance(got.value, ad_duckdb.BadInputError), got.value
        assert is_interrupt(got.value), repr(got.value)
    finally:
        con.close()


def test_a_latin_1_csv_gets_the_read_csv_encoding_that_reads_it(tmp_path: Path) -> None:
    # Before: DuckDB's "not utf-8 encoded" and then "Give an existing table or view name, ... a table function such
    # as read_parquet('file.parquet'), or a SELECT query": the file exists; what it lacks is encoding='latin-1'.
    csv_path = tmp_path / "bank export.csv"
    csv_path.write_bytes(b"Count;Amount;Merchant\n" + "".join(
        f"{i % 9 + 1};{i * 2.5};{'Café' if i % 2 else 'Bäckerei'}\n" for i in range(200)).encode("latin-1"))
    con = ad_duckdb.connect()
    try:
        for source, fixed in ((str(csv_path), f"read_csv('{csv_path}', encoding='latin-1')"),
                              (f"read_csv('{csv_path}', delim=';')", f"read_csv('{csv_path}', delim=';', encoding='latin-1')")):
            with pytest.raises(ad_duckdb.BadInputError) as e:
                ad_duckdb.train(con, "m", source, **BRIEF)
            msg = str(e.value)
            assert "not UTF-8" in msg and fixed in msg and "read_parquet" not in msg, msg
            assert ad_duckdb.train(con, "m", fixed, features=["Count", "Amount"], **BRIEF).features == ["Count", "Amount"]
    finally:
        con.close()


def test_a_csv_with_n_a_past_duckdbs_type_sample_names_the_value_and_the_read_csv_option(tmp_path: Path) -> None:
    # Before: DuckDB's conversion error as it stands, and from score() "reading the stream registered as
    # '__ad_scored' failed", naming neither the model nor the read_csv option that reads 'n/a' as missing.
    csv_path = tmp_path / "big.csv"
    csv_path.write_text("Count;Amount\n" + "".join(
        f"{'n/a' if i == 25000 else i % 9 + 1};{i % 13 * 2.5}\n" for i in range(25100)))
    fixed = f"read_csv('{csv_path}', nullstr=['n/a', ''])"
    con = ad_duckdb.connect()
    try:
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "m", str(csv_path), **FAST)
        msg = str(e.value)
        assert "'Count'" in msg and "'n/a'" in msg and fixed in msg, msg
        ad_duckdb.train(con, "m", fixed, **FAST)
        for into in (None, "scores"):
            with pytest.raises(ad_duckdb.BadInputError) as e:
                ad_duckdb.score(con, "m", f"read_csv('{csv_path}')", into=into)
            msg = str(e.value)
            assert "'m'" in msg and "__ad_scored" not in msg and fixed in msg, msg
        assert len(ad_duckdb.score(con, "m", fixed)) == 25100
    finally:
        con.close()


def test_a_read_csv_hint_replaces_an_option_the_call_already_has(tmp_path: Path) -> None:
    # Before: the option was appended, so read_csv('x', encoding='utf-8') was told to use
    # read_csv('x', encoding='utf-8', encoding='latin-1'): DuckDB's "Duplicate named argument".
    csv_path = tmp_path / "bank.csv"
    csv_path.write_bytes(b"Count;Amount\n" + "".join(f"{i % 9 + 1};{i * 2.5}\n" for i in range(200)).encode()
                         + "7;1,5 Café\n".encode("latin-1"))
    con = ad_duckdb.connect()
    try:
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "m", f"read_csv('{csv_path}', delim=';', encoding = 'utf-8')", **BRIEF)
        fixed = f"read_csv('{csv_path}', delim=';', encoding='latin-1')"
        assert fixed in str(e.value), str(e.value)
        con.execute(f"SELECT count(*) FROM {fixed}").fetchall()  # the hint's call runs
    finally:
        con.close()
    from ad_duckdb.readhints import with_csv_options

    # a missing-value list keeps what the call had, with the new value added
    assert with_csv_options("read_csv('x.csv', nullstr='NA', delim=';')", "nullstr=['n/a', '']") == \
        "read_csv('x.csv', delim=';', nullstr=['NA', 'n/a', ''])"
    assert with_csv_options("read_csv('x.csv', nullstr=['NA', '-'])", "nullstr=['n/a', '']") == \
        "read_csv('x.csv', nullstr=['NA', '-', 'n/a', ''])"
    assert with_csv_options("read_csv('x.csv', sample_size=20480)", "sample_size=-1") == \
        "read_csv('x.csv', sample_size=-1)"


@pytest.mark.parametrize(("name", "label"), [
    ("FraudFound_P", True), ("isFraud", True), ("isFlaggedFraud", True), ("is_fraud", True), ("fraud_flag", True),
    ("Class", True), ("label", True), ("target", True), ("Anomaly", True), ("outlier_label", True), ("y", True),
    ("IS_FRAUD", True), ("has_discount", False), ("is_weekend", False), ("WitnessPresent", False),
    ("business_class", False), ("y_pos", False), ("classification", False), ("labelled", False)])
def test_a_0_1_column_whose_name_has_a_label_word_gets_the_label_note(name: str, label: bool) -> None:
    """The note matched whole names only (is_fraud, label): FraudFound_P and isFraud, the labels of two public fraud
    data sets, became features without a word; ordinary flags (is_weekend, WitnessPresent) must stay quiet."""
    con = ad_duckdb.connect()
    try:
        con.execute(f"CREATE TABLE t AS SELECT (range % 50)::DOUBLE AS a, (range * 7 % 13)::DOUBLE AS b, "
                    f"(range % 40 = 0)::INTEGER AS \"{name}\" FROM range(300)")
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            info = ad_duckdb.train(con, "m", "t", **FAST)
        assert name in info.features
        assert any(f"so {name!r}, a 0/1 column named like a label" in str(w.message) for w in got) == label
    finally:
        con.close()


def test_the_claims_csv_notes_its_label_and_a_query_for_its_text_columns_that_trains() -> None:
    """On the vehicle-insurance claims CSV (23 text columns, label FraudFound_P) the label trained as a feature
    without a word, and the note on the text columns stopped at "are left out". The note's query runs as given."""
    source = f"read_csv('{DATA / 'fraud' / 'fraud_oracle_vehicle_insurance.csv'}')"
    con = ad_duckdb.connect()
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as got:
            ad_duckdb.train(con, "m", source, **BRIEF)
        notes = [str(w.message) for w in got]
        assert any("so 'FraudFound_P', a 0/1 column named like a label" in n for n in notes), notes
        text = next(n for n in notes if "non-numeric" in n)
        query = re.search(r"e\.g\. (SELECT \* REPLACE \(.*\) FROM read_csv\('[^']*'\))$", text).group(1)
        assert 'count(*) OVER (PARTITION BY "Month") / count(*) OVER () AS "Month"' in query, text
        assert '"PoliceReportFiled"::INTEGER AS "PoliceReportFiled"' in query, text
        with pytest.warns(ad_duckdb.AdDuckDBWarning):  # PolicyNumber (an id) and the other text columns
            info = ad_duckdb.train(con, "q", query, where="FraudFound_P = 0", **BRIEF)
        assert {"Month", "PoliceReportFiled"} <= set(info.features) and "FraudFound_P" not in info.features
        assert len(ad_duckdb.score(con, "q", query)) == 15420
    finally:
        con.close()


def test_the_note_on_left_out_columns_gives_one_query_by_type_that_trains() -> None:
    """BOOLEAN, date and ENUM columns were left out with only their names; the note's one query reads each kind as a
    number, runs as given, and leaves out a BOOLEAN named like a label (as a feature it would read the answer)."""
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TYPE mood AS ENUM ('low', 'mid', 'high')")
        con.execute("CREATE TABLE t AS SELECT (range * 7919 % 1000)::DOUBLE AS amount, range % 3 = 0 AS is_fraud, "
                    "range % 5 = 0 AS refund, TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (range) MINUTE AS at, "
                    "(['low', 'mid', 'high'][least(range % 7, 2) + 1])::mood AS mood, uuid() AS u FROM range(300)")
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as got:
            ad_duckdb.train(con, "m", "t", **BRIEF)
        text = next(str(w.message) for w in got if "non-numeric" in str(w.message))
        query = re.search(r"e\.g\. (SELECT .* FROM \"t\")$", text).group(1)  # last, to copy as it stands
        # a timestamp as its hour of the day, not epoch seconds, which rise with time (every later row out of range)
        # in the zone of the session that trained, named: hour() of a TIMESTAMPTZ is the hour in each session's zone
        zone = con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0]
        at = f"timezone('{zone}', \"at\")"
        assert query == (f'SELECT * REPLACE ("refund"::INTEGER AS "refund", hour({at}) + minute({at}) / 60 AS "at", '
                         'count(*) OVER (PARTITION BY "mood") / count(*) OVER () AS "mood") FROM "t"'), text
        assert "a BOOLEAN becomes 1 or 0" in text and "a timestamp becomes its hour of the day" in text
        # the sentence ran "the training rows span whole days or weeks of (as epoch seconds either would rise ...)"
        assert ("a date its day of the week, for a daily or weekly cycle (when the training rows span whole days or "
                "weeks; epoch seconds would rise with time, so every later row would be out of the training range)") in text
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"columns 'is_fraud' \(BOOLEAN\), 'u' \(UUID\) of"):
            info = ad_duckdb.train(con, "q", query, **BRIEF)
        assert info.features == ["amount", "refund", "at", "mood"]
    finally:
        con.close()


def test_the_note_on_left_out_bignum_columns_gives_a_query_that_trains() -> None:
    """A BIGNUM column (an integer of any size) was left out as "non-numeric" with no way to use it; the note's query
    reads it as a DOUBLE, and the model trained on that query scores the query's rows."""
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT (range % 50)::DOUBLE AS a, ((range % 50) * 2 + range % 7)::BIGNUM AS b "
                    "FROM range(400)")
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as got:
            ad_duckdb.train(con, "m", "t", **FAST)
        text = next(str(w.message) for w in got if "non-numeric" in str(w.message))
        assert "a BIGNUM (an integer of any size) becomes a DOUBLE" in text, text
        query = re.search(r"e\.g\. (SELECT .* FROM \"t\")$", text).group(1)
        assert query == 'SELECT * REPLACE (CAST("b" AS DOUBLE) AS "b") FROM "t"', text
        assert ad_duckdb.train(con, "q", query, **FAST).features == ["a", "b"]
        assert ad_duckdb.score(con, "q", query).num_rows == 400
    finally:
        con.close()


@pytest.mark.parametrize(("column", "expr"), [
    ("blb", 'octet_length("blb")'), ("lst", 'len("lst")'), ("st", '"st".a'), ("mp", 'cardinality("mp")'),
    ("iv", 'epoch("iv")')])
def test_a_blob_list_struct_or_map_feature_gets_an_expression_that_reads_it_as_a_number(column: str, expr: str) -> None:
    """Naming a BLOB, LIST, STRUCT or MAP column as a feature (or passing one to anomaly_score) advised
    CAST(col AS DOUBLE), which DuckDB refuses for every value of those types; the advice given now runs."""
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT (range * 7919 % 1000)::DOUBLE AS amount, (range % 17)::DOUBLE AS n, "
                    "encode('x' || range) AS blb, [range, range + 1] AS lst, {'a': range} AS st, "
                    "MAP {'k': range} AS mp, INTERVAL (range % 50) DAY AS iv FROM range(300)")
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "m", "t", features=["amount", column], **FAST)
        assert expr in str(e.value) and "CAST(" not in str(e.value), str(e.value)
        assert con.execute(f"SELECT count(({expr})::DOUBLE) FROM t").fetchall() == [(300,)]
        ad_duckdb.train(con, "m", "t", features=["amount", "n"], **FAST)
        with pytest.raises(duckdb.Error, match="feature argument 2") as e:
            con.execute(f"SELECT anomaly_score('m', amount, {column}) FROM t").fetchall()
        assert expr.replace(f'"{column}"', "col") in str(e.value) and "CAST(" not in str(e.value), str(e.value)
    finally:
        con.close()


def test_a_uuid_feature_is_called_an_id_not_given_a_cast_that_fails() -> None:
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT (range * 7919 % 1000)::DOUBLE AS amount, uuid() AS u FROM range(300)")
        with pytest.raises(ad_duckdb.BadInputError, match=r"^Model 'm': Column 'u' of 't' is UUID, an id, which tells "
                           r"rows apart rather than describing them: leave it out of the features\.$") as e:
            ad_duckdb.train(con, "m", "t", features=["amount", "u"], **BRIEF)
        # one text, where training refuses the column and where a SQL function is given one (as_number_hint)
        assert as_number_hint("col", "UUID").removeprefix("a UUID is ") in str(e.value)
    finally:
        con.close()


def test_suggested_sql_quotes_a_column_named_like_a_keyword() -> None:
    """Names were left bare in suggested SQL whenever they were plain identifiers, so a column named order, select,
    group or left was suggested as CAST(order AS TIMESTAMP), SELECT x AS select, ...: syntax errors in DuckDB. Each
    suggestion here is run as given."""
    from ad_duckdb.sqltext import sql_name

    assert [sql_name(n) for n in ("amount", "Order", "select", "left", "year", "a b")] == [
        "amount", '"Order"', '"select"', '"left"', "year", '"a b"']
    con = ad_duckdb.connect()
    try:
        con.execute("""CREATE TABLE t AS SELECT TIMESTAMP '2024-01-01' + INTERVAL (range) MINUTE AS ts,
                       (range * 7919 % 1000)::DOUBLE AS "order", (range % 17)::DOUBLE AS "select",
                       CASE WHEN range % 50 = 0 THEN NULL ELSE (range % 40 = 0)::INTEGER END AS "group",
                       CAST(TIMESTAMP '2024-01-01' + INTERVAL (range) MINUTE AS VARCHAR) AS "left",
                       {'select': range::DOUBLE} AS st FROM range(300)""")
        ad_duckdb.train(con, "kw", "t", features=["order", "select"], **FAST)
        # sourcecols: a source without "order"
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=r'SELECT x AS "order", \.\.\.'):
            ad_duckdb.score(con, "kw", 'SELECT * EXCLUDE ("order") FROM t')
        assert ad_duckdb.score(con, "kw", 'SELECT * EXCLUDE ("order"), "select" * 2 AS "order" FROM t').num_rows == 300
        # labelled: the label is a feature; the label has NULLs
        with pytest.raises(ad_duckdb.BadInputError, match="is one of its features") as e:
            ad_duckdb.evaluate(con, "kw", "t", label="select")
        assert """where='"select" = 0'""" in str(e.value), str(e.value)
        assert con.execute('SELECT count(*) FROM t WHERE "select" = 0').fetchall() == [(18,)]
        with pytest.raises(ad_duckdb.BadInputError, match="is NULL") as e:
            ad_duckdb.evaluate(con, "kw", "t", label="group")
        assert """'"group" IS NOT NULL'""" in str(e.value), str(e.value)
        assert ad_duckdb.evaluate(con, "kw", "t", label="group", where='"group" IS NOT NULL').rows == 294
        # timeplot: a time column stored as text
        with pytest.raises(ad_duckdb.BadInputError, match="not a DATE or TIMESTAMP") as e:
            ad_duckdb.plot_scores_over_time(con, "kw", "t", time="left")
        cast = 'SELECT * REPLACE (CAST("left" AS TIMESTAMP) AS "left") FROM ...'
        assert cast in str(e.value), str(e.value)
        assert con.execute(cast.replace("...", "t") + " LIMIT 1").fetchall()
        # scoring: a STRUCT passed as a feature, its field named select
        with pytest.raises(duckdb.Error, match="feature argument 2") as e:
            con.execute("SELECT anomaly_score('kw', \"order\", st) FROM t").fetchall()
        assert 'STRUCT("select" DOUBLE)' in str(e.value) and 'col."select" picks' in str(e.value), str(e.value)
        assert con.execute('SELECT count(st."select") FROM t').fetchall() == [(300,)]
    finally:
        con.close()


def test_a_zoned_timestamp_suggested_as_its_hour_names_the_zone_so_every_session_reads_the_same_hour() -> None:
    """hour(ts) of a TIMESTAMP WITH TIME ZONE is the hour in the session's zone: trained from the command line on a
    server in New York and scored from a notebook in Berlin, every row's hour moved by 6 and the scores with it,
    silently. The suggested expression names the zone the training session read it in."""
    con = ad_duckdb.connect()
    try:
        con.execute("SET GLOBAL TimeZone = 'America/New_York'")
        con.execute("CREATE TABLE t AS SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (range) MINUTE AS at, "
                    "(range * 7919 % 1000)::DOUBLE AS amount FROM range(300)")
        with pytest.raises(ad_duckdb.BadInputError) as got:
            ad_duckdb.train(con, "m", "t", features=["amount", "at"], **FAST)
        expr = "hour(timezone('America/New_York', \"at\")) + minute(timezone('America/New_York', \"at\")) / 60"
        assert f"score with the same expression: {expr}." in str(got.value)
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as notes:
            ad_duckdb.train(con, "m", "t", **FAST)
        assert f"SELECT * REPLACE ({expr} AS \"at\") FROM \"t\"" in "".join(str(w.message) for w in notes)
        hours = []
        for zone in ("America/New_York", "Europe/Berlin"):
            con.execute(f"SET TimeZone = '{zone}'")
            hours.append(con.execute(f"SELECT list(h ORDER BY \"at\") FROM (SELECT \"at\", {expr} AS h FROM t)").fetchall()[0][0])
        assert hours[0] == hours[1] and hours[0][0] == 19
    finally:
        con.close()


def test_the_suggested_drop_of_constant_columns_keeps_columns_with_missing_values() -> None:
    """fit takes NaN as a missing value, but the array fix for several constant columns was X[:, np.ptp(X, axis=0)
    > 0]: np.ptp of a column with one NaN is NaN, so the fix dropped every column with a missing value too."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 5))
    X[:, 1] = 3.0
    X[:, 3] = 0.0
    X[7, 4] = np.nan  # a varying column with one missing value
    with pytest.raises(ad_duckdb.BadInputError) as e:
        fit_specs(X, [f"c{j}" for j in range(5)], ["DOUBLE"] * 5, model="m", source=None)
    fix = re.search(r"drop them from X before fitting \((X\[.*\])\)", str(e.value))
    assert fix is not None, str(e.value)
    kept = eval(fix.group(1), {"np": np, "X": X})  # the fix as the user would run it
    assert kept.shape == (200, 3) and np.isnan(kept[7, 2]), (fix.group(1), kept.shape)
    fit_specs(kept, ["c0", "c2", "c4"], ["DOUBLE"] * 3, model="m", source=None)


def test_a_view_whose_column_is_gone_is_told_to_fix_the_view_not_a_query() -> None:
    # Before: a view over a table whose column was renamed since said "Fix the column's name in the query.", as if
    # the user had given a query; they gave the view's name, whose stored query is what names the column
    con = ad_duckdb.connect(":memory:")
    try:
        con.execute("CREATE TABLE t AS SELECT 1.0 AS a, 2.0 AS b")
        con.execute("CREATE VIEW v AS SELECT a, b FROM t")
        con.execute("ALTER TABLE t RENAME b TO c")
        with pytest.raises(ad_duckdb.SourceNotFoundError) as e:
            ad_duckdb.train(con, "m", "v", **BRIEF)
        assert 'Referenced column "b" not found' in str(e.value), e.value
        assert "in the query" not in str(e.value), e.value
        assert "The view's query names a column that is not there: recreate the view (CREATE OR REPLACE VIEW " \
               "v AS ...) or the column it reads." in str(e.value), e.value
        # a query given as the source is still told to fix the query
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"Fix the column's name in the query\.$"):
            ad_duckdb.train(con, "m", "SELECT a, b FROM t", **BRIEF)
    finally:
        con.close()


def test_default_features_leave_out_the_score_columns_of_a_scored_table() -> None:
    """Retraining on a table written by score(into=) took its anomaly_score and anomaly_percentile as features: the
    new model read the old one's verdict, and could not score the raw rows (they have no such columns)."""
    con = ad_duckdb.connect(":memory:")
    try:
        con.execute("CREATE TABLE t AS SELECT (range % 50)::DOUBLE AS a, (range % 50) * 2.0 + (range % 7) / 7.0 AS b "
                    "FROM range(400)")
        ad_duckdb.train(con, "m", "t", **FAST)
        ad_duckdb.score(con, "m", "t", into="scored", explain=True)
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"'anomaly_score', 'anomaly_percentile'.*score\(into=\)"):
            info = ad_duckdb.train(con, "m2", "scored", **FAST)
        assert info.features == ["a", "b"]
        assert ad_duckdb.score(con, "m2", "t").num_rows == 400
        # named on purpose: kept, without a word
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert ad_duckdb.train(con, "m3", "scored", features=["a", "anomaly_score"], **FAST).features == [
                "a", "anomaly_score"]
        # a table of scores alone: refused naming the columns and the fix
        with pytest.raises(ad_duckdb.BadInputError, match=r"'anomaly_score'.*features=\["):
            ad_duckdb.train(con, "m4", "SELECT anomaly_score, anomaly_percentile FROM scored", **FAST)
    finally:
        con.close()


def test_default_features_do_not_call_a_users_label_of_a_score_name_a_score() -> None:
    """A label of the user's called is_anomaly (0/1) was left out of the default features as "scores as score(into=)
    writes them", which it is not; it is still left out (as a label, it would give the answer away), and said so."""
    con = ad_duckdb.connect(":memory:")
    try:
        con.execute("CREATE TABLE t AS SELECT (range % 50)::DOUBLE AS a, (range % 50) * 2.0 + (range % 7) / 7.0 AS b, "
                    "(range % 97 = 0)::INTEGER AS is_anomaly FROM range(400)")
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            assert ad_duckdb.train(con, "m", "t", **FAST).features == ["a", "b"]
        said = " ".join(str(w.message) for w in seen)
        assert "'is_anomaly' of 't', a column named as score(into=) names its outputs" in said, said
        assert "a label or an earlier scoring's output" in said and "scores as" not in said, said
    finally:
        con.close()


@pytest.mark.parametrize("features", [None, ["count"], ["count", "count_1"]])
def test_a_query_naming_two_columns_alike_is_refused_by_that_name(features: list[str] | None) -> None:
    # Before: DuckDB renamed the second 'count' to 'count_1' outside the query, so features=['count'] silently took
    # the first of the two, and without features= the model took a 'count_1' the user never wrote.
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE tx AS SELECT range % 7 AS count, (range * 37) % 101 AS amount FROM range(150)")
        query = "SELECT count, amount AS Count FROM tx"
        with pytest.raises(ad_duckdb.BadInputError,
                           match=r"^Model 'm': the query .* has 2 columns named 'count' \(DuckDB names them "
                                 r"'count', 'Count_1' outside it\).*AS"):
            ad_duckdb.train(con, "m", query, features=features, **BRIEF)  # type: ignore[arg-type]
        assert ad_duckdb.list_models(con) == []
        # a view makes the names unique itself, and shows them: that trains as before
        con.execute(f"CREATE VIEW v AS {query}")
        assert ad_duckdb.train(con, "m", "v", **BRIEF).features == ["count", "Count_1"]
    finally:
        con.close()


def _hive_lake(tmp_path: Path) -> Path:
    """lake/month=1..3/*.parquet: count and amount in the files, month only in the folder names."""
    lake = tmp_path / "lake"
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT (range % 3) + 1 AS month, (range % 17 + 1)::DOUBLE AS count, "
                    "(range % 17 + 1) * 12.5 + range % 5 AS amount FROM range(3000)")
        con.execute(f"COPY t TO '{lake}' (FORMAT parquet, PARTITION_BY (month))")
    finally:
        con.close()
    return lake


@pytest.mark.parametrize("form", ["{lake}/*/*.parquet", "read_parquet('{lake}/**/*.parquet', hive_partitioning = true)",
                                  "SELECT * FROM '{lake}/*/*.parquet' WHERE amount > 0",
                                  "read_parquet('{lake}')", "read_parquet('{lake}/')", "read_parquet('{lake}/month=1')"])
def test_default_features_leave_out_hive_partition_keys(tmp_path: Path, form: str) -> None:
    """A folder's month=4 is beyond every training month: as a default feature, the month trained on flagged a new
    partition's rows as out of range (4.7% against 1%), and one year=2024 folder stopped training as constant.
    A folder given to read_parquet is every file below it, its key=value names columns too: the keys were looked for
    only in globs' file names, so read_parquet('lake') trained on 'month', and read_parquet('lake/month=1') stopped
    as constant."""
    source = form.format(lake=_hive_lake(tmp_path))
    con = ad_duckdb.connect()
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            info = ad_duckdb.train(con, "m", source, **BRIEF)
    finally:
        con.close()
    assert info.features == ["count", "amount"]
    note = next(str(w.message) for w in caught if "partition" in str(w.message))
    assert "'month' (folders month=1, ...)" in note and "features=['month', 'count', 'amount']" in note, note


def test_a_partition_key_named_as_a_feature_is_kept(tmp_path: Path) -> None:
    source = f"{_hive_lake(tmp_path)}/*/*.parquet"
    con = ad_duckdb.connect()
    try:
        assert ad_duckdb.train(con, "m", source, features=["month", "count"], **BRIEF).features == ["month", "count"]
    finally:
        con.close()


def _month_files(tmp_path: Path, rows: int = 300) -> Path:
    """Two monthly Parquet files of one folder whose 'amount' became text in the newer one, with an empty string for
    a missing value (an export step changed), so DuckDB, typing the folder from its first file, cannot read it."""
    folder = tmp_path / "tx"
    folder.mkdir()
    con = duckdb.connect()
    try:
        rows = f"SELECT range % 9 + 1 AS count, (range % 13) * 2.5 + 1 AS amount FROM range({rows})"
        con.execute(f"COPY ({rows}) TO '{folder}/tx_01.parquet' (FORMAT parquet)")
        con.execute(f"COPY (SELECT count, CASE WHEN count = 3 THEN '' ELSE amount::VARCHAR END AS amount FROM ({rows})) "
                    f"TO '{folder}/tx_02.parquet' (FORMAT parquet)")
    finally:
        con.close()
    return folder


@pytest.mark.parametrize(("form", "rows"), [("{folder}/*.parquet", 300), ("read_parquet('{folder}/*.parquet')", 300),
                                            ("{folder}/*.parquet", 100_000)])
def test_a_folder_whose_newer_file_holds_a_column_as_text_names_the_file_and_the_read_that_works(
        tmp_path: Path, form: str, rows: int) -> None:
    """Before: scoring stopped with DuckDB's "reading the stream registered as '__ad_scored' failed" and a Python
    traceback in the message (files of 100,000 rows: the second file failed mid-stream; of 300, in the first batch,
    with DuckDB's conversion error); training with that error, naming no query that reads the files."""
    folder = _month_files(tmp_path, rows)
    source = form.format(folder=folder)
    fixed = (f"SELECT * REPLACE (TRY_CAST(trim(\"amount\") AS DOUBLE) AS \"amount\") FROM "
             f"read_parquet('{folder}/*.parquet', union_by_name=true)")
    con = ad_duckdb.connect()
    try:
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "m", source, **FAST)
        msg = str(e.value)
        assert "'amount'" in msg and "tx_02.parquet" in msg and fixed in msg, msg
        ad_duckdb.train(con, "m", f"{folder}/tx_01.parquet", **FAST)
        for into in (None, "scores"):
            with pytest.raises(ad_duckdb.BadInputError) as e:
                ad_duckdb.score(con, "m", source, into=into)
            msg = str(e.value)
            assert "Scoring with 'm" in msg and fixed in msg, msg
            assert "Traceback" not in msg and "__ad_scored" not in msg, msg
        assert len(ad_duckdb.score(con, "m", fixed)) == 2 * rows
    finally:
        con.close()


@pytest.mark.parametrize(("name", "is_id"), [
    ("Merchant ID", True), ("Customer Id", True), ("store-id", True), ("Merchant.ID", True), ("ID", True),
    ("merchant_id", True), ("merchantId", True), ("Paid", False), ("Valid", False), ("Rapid Count", False),
    ("Amount Paid", False), ("ID Count", False)])
def test_an_id_named_as_a_spreadsheet_or_csv_header_writes_it_is_left_out(name: str, is_id: bool) -> None:
    """A CSV export's 'Merchant ID' (a space, capitals) trained as a feature by default: a new merchant's number,
    beyond the training range, scored its rows as anomalous, where 'merchant_id' was left out with a note."""
    from ad_duckdb.columnroles import id_like

    assert (id_like(name, "BIGINT") == "named like an id") is is_id
    con = ad_duckdb.connect()
    try:
        con.execute(f"CREATE TABLE t AS SELECT (range * 37 % 300)::BIGINT AS \"{name}\", (range % 9 + 1)::DOUBLE AS "
                    "\"Count\", (range % 13 * 2.5 + 1)::DOUBLE AS \"Amount\" FROM range(300)")
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            info = ad_duckdb.train(con, "m", "t", **FAST)
        assert (name not in info.features) is is_id, info.features
        assert any(f"{name!r} (named like an id)" in str(w.message) for w in got) is is_id
    finally:
        con.close()


@pytest.mark.parametrize("form", ["{folder}/*.parquet", "read_parquet('{folder}/*.parquet')"])
def test_a_folder_whose_newer_file_renamed_a_column_names_it_and_the_read_that_joins_the_two(
        tmp_path: Path, form: str) -> None:
    """Before: DuckDB's "schema mismatch in glob: column "amount" ... could not be found in file ...", from score()
    naming no model, and its advice, union_by_name=True, alone scored that file's rows with 'amount' missing."""
    folder = tmp_path / "tx"
    folder.mkdir()
    con = ad_duckdb.connect()
    try:
        rows = "SELECT range % 9 + 1 AS count, (range % 13) * 2.5 + 1 AS amount FROM range(300)"
        con.execute(f"COPY ({rows}) TO '{folder}/tx_01.parquet' (FORMAT parquet)")
        con.execute(f"COPY (SELECT count, amount AS total_amount FROM ({rows})) TO '{folder}/tx_02.parquet' (FORMAT parquet)")
        source = form.format(folder=folder)
        fixed = (f"SELECT * EXCLUDE (total_amount) REPLACE (coalesce(amount, total_amount) AS amount) FROM "
                 f"read_parquet('{folder}/*.parquet', union_by_name=true)")
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "m", source, **FAST)
        msg = str(e.value)
        assert "tx_02.parquet" in msg and "'amount'" in msg and "'total_amount'" in msg and fixed in msg, msg
        ad_duckdb.train(con, "m", f"{folder}/tx_01.parquet", **FAST)
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.score(con, "m", source)
        msg = str(e.value)
        assert "Scoring with 'm" in msg and fixed in msg, msg
        scored = ad_duckdb.score(con, "m", fixed)
        assert len(scored) == 600 and scored.column("amount").null_count == 0
    finally:
        con.close()


@pytest.mark.parametrize("form", ["read_parquet('{p}')", "{p}", "read_csv('{p}', delim=';')"])
def test_a_file_or_glob_that_matches_nothing_says_so_and_where_a_relative_path_is_read_from(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    """Before: DuckDB's "No files found that match the pattern" and then "Give an existing table or view name, ..., a
    table function such as read_parquet('file.parquet')", which the source was; a cron job run from another folder
    was not told where the relative path was looked for."""
    monkeypatch.chdir(tmp_path)
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range % 9 + 1 AS count, range % 13 * 2.5 AS amount FROM range(100)")
        ad_duckdb.train(con, "m", "t", **FAST)
        for p, where in (("exports/2026-04*.parquet", f" (a relative path, read from the working folder {tmp_path})"),
                         (f"{tmp_path}/tx_04.parquet", "")):
            source = form.format(p=p)
            for training in (True, False):
                with pytest.raises(ad_duckdb.SourceNotFoundError) as e:
                    if training:
                        ad_duckdb.train(con, "m2", source, **FAST)
                    else:
                        ad_duckdb.score(con, "m", source)
                msg = str(e.value)
                assert f"no file matches {p!r}{where}." in msg and "Give an existing table" not in msg, msg
    finally:
        con.close()


@pytest.mark.parametrize("form", ["{p}", "read_csv('{p}')"])
def test_a_missing_file_whose_path_holds_a_double_quote_is_named_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    """DuckDB does not escape a '"' inside the quoted path of "No files found that match the pattern": the message
    named the path up to that quote ('exports/no' for 'exports/no"te.csv'), a file the user never gave."""
    from ad_duckdb.sourcedescribe import describe

    monkeypatch.chdir(tmp_path)
    (tmp_path / "exports").mkdir()
    con = duckdb.connect()
    try:
        for p in ('exports/no"te.csv', 'exports/a "b" c.csv'):
            with pytest.raises(ad_duckdb.SourceNotFoundError) as e:
                describe(con, form.format(p=p), "m")
            assert f"no file matches {p!r} (a relative path, read from the working folder {tmp_path})." in str(e.value), \
                str(e.value)
    finally:
        con.close()


def test_a_csv_timestamp_read_as_text_is_named_with_the_strptime_that_reads_it(tmp_path: Path) -> None:
    """A sensor log whose timestamps DuckDB's CSV reader leaves as text ('02.12.2013 21:15'): training on the first
    days with --where "ts < '05.12.2013'" compared text and took the rows of days 1-4 of every month, with only
    "'ts' (VARCHAR) is left out" said. The note says the column holds times, the strptime that reads them, and that
    the filter on it compares text; --time names the same strptime."""
    csv = tmp_path / "log.csv"
    start = np.datetime64("2013-12-02T21:15")
    times = [start + np.timedelta64(30 * i, "m") for i in range(3000)]  # about two months
    rng = np.random.default_rng(0)
    with csv.open("w") as f:
        f.write("ts,value,load\n")
        for t, v in zip(times, rng.normal(80, 3, len(times)), strict=True):
            f.write(f"{t.item():%d.%m.%Y %H:%M},{v:.3f},{v / 2 + rng.normal():.3f}\n")
    con = ad_duckdb.connect()
    try:
        con.execute(f"CREATE TABLE log AS SELECT * FROM read_csv('{csv}')")
        assert con.execute("SELECT data_type FROM duckdb_columns() WHERE column_name = 'ts'").fetchall() == [
            ("VARCHAR",)]
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="non-numeric column") as rec:
            ad_duckdb.train(con, "m", "log", where="ts < '05.12.2013'", **FAST)
        msg = next(str(w.message) for w in rec if "non-numeric" in str(w.message))
        read = "strptime(ts, '%d.%m.%Y %H:%M')"
        assert re.search(r"'ts' \(VARCHAR, but its values are times written as text, such as "
                         r"'\d\d\.\d\d\.201[34] \d\d:\d\d': strptime\(ts, '%d\.%m\.%Y %H:%M'\) reads them as times", msg), msg
        assert f"where= compares it as text, not as times: where=\"{read} < ...\"" in msg, msg
        # the strptime the note names reads the first days, and trains
        fixed = f"{read} < TIMESTAMP '2013-12-05'"
        assert con.execute(f"SELECT count(*) FROM log WHERE {fixed}").fetchall() == [(102,)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ad_duckdb.AdDuckDBWarning)
            assert ad_duckdb.train(con, "m", "log", where=fixed, **FAST).train_rows == 102
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.plot_scores_over_time(con, "m", "log", time="ts")
        assert f"SELECT * REPLACE ({read} AS ts) FROM ..." in str(e.value), str(e.value)
        # ISO text compares in the order of its times: CAST reads it, and a filter on it is not flagged
        con.execute(f"CREATE TABLE iso AS SELECT strftime({read}, '%Y-%m-%d %H:%M:%S') AS ts, value, load FROM log")
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="non-numeric column") as rec:
            ad_duckdb.train(con, "m", "iso", where="ts < '2013-12-05'", **FAST)
        msg = next(str(w.message) for w in rec if "non-numeric" in str(w.message))
        assert ": CAST(ts AS TIMESTAMP) reads them as times) of 'iso'" in msg, msg
    finally:
        con.close()


def _erp_csv(path: Path) -> list[tuple[float | None, float | None]]:
    """An ERP/accounting export: a BOM, ';' separators, 'Amount (USD)' as "$1,234.50" with "($120.00)" for a
    negative, 'Montant (€)' as "1.234,50 €" with SAP's trailing minus ("12,50- €"), 'N/A', '-' and empty cells
    for missing. Returns each row's (amount, montant) as written, None where missing."""
    rng = np.random.default_rng(4)
    lines, values = ['ID;Count;"Amount (USD)";"Montant (€)"'], []
    for i in range(300):
        count = int(rng.poisson(8)) + 1
        usd = round(count * float(rng.lognormal(4.0, 0.3)) * (-1 if i % 10 == 3 else 1), 2)
        eur = round(usd * 0.9, 2)
        us_cell = f"(${-usd:,.2f})" if usd < 0 else f"${usd:,.2f}"
        eu_num = f"{abs(eur):,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
        eu_cell = f"{eu_num}- €" if eur < 0 else f"{eu_num} €"
        if i % 25 == 6:
            us_cell, eu_cell, usd, eur = ("N/A", "-", None, None) if i % 2 else ("", "N/A", None, None)
        lines.append(f'{i};{count};"{us_cell}";"{eu_cell}"')
        values.append((usd, eur))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return values


def test_money_written_with_currency_signs_and_accounting_negatives_gets_a_query_that_reads_it(tmp_path: Path) -> None:
    # Before: "$1,234.50" and "1.234,50 €" were no numbers to the hint, so both columns were left out with no word
    # and naming one as a feature said "it holds free text ... Leave it out of features"; and the query given for
    # a column of "1,234.50" with "(120.00)" in it read every negative amount as NULL (filled with the median).
    csv_path = tmp_path / "erp export.csv"
    written = _erp_csv(csv_path)
    source = f"read_csv('{csv_path}')"
    con = ad_duckdb.connect()
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            ad_duckdb.train(con, "d", source, **FAST)
        note = next(str(w.message) for w in caught if "non-numeric" in str(w.message))
        assert "'Amount (USD)' (VARCHAR, but" in note and "'Montant (€)' (VARCHAR, but" in note, note
        for column, k in (("Amount (USD)", 0), ("Montant (€)", 1)):
            with pytest.raises(ad_duckdb.BadInputError) as e:
                ad_duckdb.train(con, "m", source, features=["Count", column], **FAST)
            msg = str(e.value)
            assert "free text" not in msg and f"Column {column!r}" in msg, msg
            query = re.search(r"in a query: (SELECT .*?) \(a value", msg).group(1)
            read = con.execute(f'SELECT list("{column}" ORDER BY ID) FROM ({query})').fetchall()[0][0]
            assert read == pytest.approx([v[k] for v in written]), msg
            info = ad_duckdb.train(con, f"m{k}", query, features=["Count", column], **FAST)
            assert info.metrics["filled_values"][column] == sum(v[k] is None for v in written)
    finally:
        con.close()


def test_a_totals_row_at_the_end_of_a_large_csv_is_named_as_one_with_the_read_that_leaves_it_out(tmp_path: Path) -> None:
    """A spreadsheet export ends in "Total;;11555179.61", past the rows DuckDB types columns from. The fix given was
    nullstr=['Total', ''], "if 'Total' means a missing value": that kept the row, whose amount is the sum of all
    the others, to train on and to score as the top anomaly."""
    csv_path = tmp_path / "export.csv"
    rows = [f"{i};{i % 9 + 1};{(i % 9 + 1) * 25.5}" for i in range(25000)]
    csv_path.write_text("ID;Count;Amount\n" + "\n".join(rows) + f"\nTotal;;{sum((i % 9 + 1) * 25.5 for i in range(25000))}\n",
                        encoding="utf-8-sig")
    con = ad_duckdb.connect()
    try:
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "m", f"read_csv('{csv_path}')", **FAST)
        msg = str(e.value)
        assert "totals row" in msg and "nullstr" not in msg.split(" (Conversion Error")[0], msg
        query = re.search(r"without it: (SELECT .*?)\. \(", msg).group(1)
        assert con.execute(f"SELECT count(*), max(Amount), count(ID) FROM ({query})").fetchall() == \
            [(25000, 9 * 25.5, 25000)], msg
        assert ad_duckdb.train(con, "m", query, features=["Count", "Amount"], **FAST).metrics["train_rows_used"] > 0
    finally:
        con.close()


def test_a_totals_row_in_a_small_csv_is_named_in_the_note_with_the_filter_that_leaves_it_out(tmp_path: Path) -> None:
    """A spreadsheet export of 300 rows ends in "Total;2450;127399.50": DuckDB reads ID as text (so it is left out,
    "apart from a few such as 'Total'") and trains on the totals row, whose count and amount sum all the others,
    without a word that it is one."""
    csv_path = tmp_path / "export.csv"
    rows = [(i, i % 9 + 1, (i % 9 + 1) * 25.5) for i in range(300)]
    csv_path.write_text("ID;Count;Amount\n" + "".join(f"{i};{c};{a}\n" for i, c, a in rows)
                        + f"Total;{sum(r[1] for r in rows)};{sum(r[2] for r in rows)}\n")
    source = f"read_csv('{csv_path}')"
    con = ad_duckdb.connect()
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            ad_duckdb.train(con, "d", source, **FAST)
        note = next(str(w.message) for w in caught if "non-numeric" in str(w.message))
        assert "totals row" in note and "robust=True, which a where= alone turns off" in note, note
        where = re.search(r'where="(.*?)"', note).group(1)
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:  # ID, all numbers now, is still text
            info = ad_duckdb.train(con, "d", source, where=where, **FAST)
        assert info.metrics["train_rows_used"] + info.metrics["validation_rows"] == 300, note
        assert not any("totals row" in str(w.message) for w in caught)
    finally:
        con.close()


def test_few_rows_note_does_not_promise_a_flagged_row_that_tied_scores_leave_unflagged() -> None:
    """The note on few training rows said "the default threshold flags at least one training row in 50, 2.0%,
    whatever the contamination" while the same training printed "flags 0.00% of training rows": where the highest
    scores tie (repeated rows), the threshold is that score and flags none of them."""
    con = ad_duckdb.connect()
    try:
        # 25 distinct rows, each twice: every score is shared by at least two rows, so the top one too
        con.execute("CREATE TABLE t AS SELECT (range % 25 % 7)::DOUBLE AS a, (range % 25 % 5)::DOUBLE AS b "
                    "FROM range(50)")
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"only 50 rows") as notes:
            ad_duckdb.train(con, "tied", "t", **FAST)
        share = con.execute("SELECT flagged_share FROM ad_thresholds WHERE model = 'tied' AND threshold_name = "
                            "'default'").fetchall()[0][0]
        assert share == 0.0
        said = " ".join(str(n.message) for n in notes if "only 50 rows" in str(n.message))
        assert "flags at least one" not in said, said
        assert "steps of one training row in 50, 2.0%" in said and "tied scores" in said, said
    finally:
        con.close()


def _totals_notes(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "totals row" in str(w.message)]


def test_a_totals_row_is_named_when_the_features_are_named(tmp_path: Path) -> None:
    """`-f Count -f Amount` on an export that ends in "Total;2450;127399.50": the 'Total' cell was never read, so
    the row whose count and amount sum all the others trained as one transaction, without a word; training with the
    features inferred named it."""
    csv_path = tmp_path / "export.csv"
    rows = [(i, i % 9 + 1, (i % 9 + 1) * 25.5) for i in range(300)]
    csv_path.write_text("ID;Count;Amount\n" + "".join(f"{i};{c};{a}\n" for i, c, a in rows)
                        + f"Total;{sum(r[1] for r in rows)};{sum(r[2] for r in rows)}\n\n\n")
    source = f"read_csv('{csv_path}')"
    con = ad_duckdb.connect()
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            ad_duckdb.train(con, "d", source, features=["Count", "Amount"], **FAST)
        notes = _totals_notes(caught)
        assert len(notes) == 1 and "'Total' in 'ID'" in notes[0], notes
        where = re.search(r'where="(.*?)"', notes[0]).group(1)
        # a where= turns robust training off (it reads as "the normal rows"): the note keeps it on
        assert "robust=True, which a where= alone turns off" in notes[0], notes
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            info = ad_duckdb.train(con, "d", source, features=["Count", "Amount"], where=where, robust=True, **FAST)
        assert info.metrics["train_rows_used"] + info.metrics["validation_rows"] == 300, notes
        assert info.metrics["robust"] is True
        assert not _totals_notes(caught)
        # the features inferred: the note on the text ID names it, and only once
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            ad_duckdb.train(con, "d", source, **FAST)
        assert len(_totals_notes(caught)) == 1, _totals_notes(caught)
    finally:
        con.close()


def test_a_totals_row_without_a_total_word_is_named_by_its_values(tmp_path: Path) -> None:
    """A Parquet export whose last row has no id and no label, only the column sums: named all the same, with a
    filter that leaves out that row alone (read over a sample too, a source above max_train_rows)."""
    con = ad_duckdb.connect()
    try:
        rng = np.random.default_rng(1)
        count = rng.poisson(8, 500) + 1
        amount = np.round(count * rng.lognormal(3.0, 0.25, 500), 2)
        path = tmp_path / "x.parquet"
        con.execute("COPY (SELECT unnest(?)::BIGINT AS id, unnest(?)::INTEGER AS n, unnest(?)::DOUBLE AS amount "
                    "UNION ALL SELECT NULL, ?, ?) TO '" + str(path) + "'",
                    [list(range(500)), count.tolist(), amount.tolist(), int(count.sum()), float(amount.sum())])
        source = f"'{path}'"
        for extra in ({}, {"max_train_rows": 200}):
            with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
                ad_duckdb.train(con, "v", source, features=["n", "amount"], **BRIEF, **extra)
            notes = _totals_notes(caught)
            assert len(notes) == 1, (extra, notes)
            where = re.search(r'where="(.*?)"', notes[0]).group(1)
            assert con.execute(f"SELECT count(*), max(n) FROM {source} WHERE {where}").fetchall() == \
                [(500, count.max())], notes
    finally:
        con.close()


def test_no_totals_row_note_on_ordinary_data(tmp_path: Path) -> None:
    """No false alarm: the example transactions, an ADBench set, and a sparse count column whose largest value
    happens to equal the sum of the others (3 = 1 + 1 + 1)."""
    from generate import generate

    db = tmp_path / "tx.duckdb"
    generate(db, rows=3000, seed=5)
    con = ad_duckdb.connect(str(db))
    try:
        data = np.load(DATA / "adbench" / "38_thyroid.npz")
        X = data["X"]
        con.execute("CREATE TABLE thyroid AS SELECT * FROM (SELECT unnest(?) AS a, unnest(?) AS b, unnest(?) AS c, "
                    "unnest(?) AS d, unnest(?) AS e, unnest(?) AS f)", [X[:, j].tolist() for j in range(6)])
        con.execute("CREATE TABLE sparse AS SELECT range::DOUBLE AS x, (CASE WHEN range = 7 THEN 3 WHEN range IN "
                    "(1, 2, 3) THEN 1 ELSE 0 END)::INTEGER AS refunds FROM range(300)")
        for name, source, features in [("tx", "transactions", ["count", "amount", "distinct_cards", "refunds"]),
                                       ("tx2", "transactions", None),
                                       ("th", "thyroid", ["a", "b", "c", "d", "e", "f"]),
                                       ("sp", "sparse", ["refunds"]), ("sp2", "sparse", ["x", "refunds"])]:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ad_duckdb.train(con, name, source, features=features, **BRIEF)
            assert not _totals_notes(caught), (name, _totals_notes(caught))
    finally:
        con.close()


@pytest.mark.parametrize("sql_type", ["HUGEINT", "DECIMAL(38,0)", "UHUGEINT"])
def test_an_id_written_to_parquet_as_double_or_decimal_is_left_out(tmp_path: Path, sql_type: str) -> None:
    """A HUGEINT transaction_id reads back from Parquet as DOUBLE (DuckDB writes it so; pandas an int column with a
    missing value too), a DECIMAL(38,0) one as DECIMAL(38,0): neither was recognised as an id, so it became a
    feature, and every new transaction's id scored out of the training range."""
    path = tmp_path / "tx.parquet"
    con = ad_duckdb.connect()
    try:
        con.execute(f"COPY (SELECT (1000 + range)::{sql_type} AS transaction_id, range % 7 + 1 AS n, "
                    f"(range % 7 + 1) * 12.5 + range % 3 AS amount FROM range(300)) TO '{path}'")
        typed = dict(con.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall()[i][:2] for i in range(3))
        assert typed["transaction_id"] in ("DOUBLE", "DECIMAL(38,0)"), typed
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"id-like 'transaction_id' \(named like an id\)"):
            info = ad_duckdb.train(con, "m", f"'{path}'", **FAST)
        assert info.features == ["n", "amount"]
        # a DOUBLE named like an id that holds fractions is a measurement
        from ad_duckdb.columnroles import id_like
        assert id_like("rate_id", "DOUBLE", np.array([1.5, 2.0])) is None
        assert id_like("amount", "DOUBLE", np.array([1.0, 2.0, 3.0])) is None
    finally:
        con.close()


def test_the_note_on_text_columns_gives_the_expression_for_decimal_comma_amounts(tmp_path: Path) -> None:
    """An ERP export (';', decimal commas, a document number, a 'Summe' row, empty lines at the end): the note said
    'Betrag (€)' held "all numbers" and showed the expression for the document number only, TRY_CAST(trim(...)),
    which reads each "1.234,50" as NULL; and its totals sentence was glued to the end of the query it gave to copy."""
    rows = [(100000 + i, f"{i % 28 + 1:02d}.01.2025", i % 9 + 1, (i % 9 + 1) * 1234.5 + i % 7, i % 10 + 0.5)
            for i in range(300)]
    def comma(x: float) -> str:
        return f"{x:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    csv_path = tmp_path / "erp.csv"
    csv_path.write_text("Belegnummer;Buchungsdatum;Menge;Betrag (€);Rabatt %\n"
                        + "".join(f"{b};{d};{m};{comma(a)};{comma(r)}\n" for b, d, m, a, r in rows)
                        + f"Summe;;{sum(r[2] for r in rows)};{comma(sum(r[3] for r in rows))};\n\n\n",
                        encoding="utf-8")
    source = f"read_csv('{csv_path}')"
    con = ad_duckdb.connect()
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            ad_duckdb.train(con, "erp", source, **BRIEF)
        note = next(str(w.message) for w in caught if "non-numeric" in str(w.message))
        use = re.search(r"train on a query that reads (?:it|them) as (?:a )?numbers?: SELECT \* REPLACE \((.*?)\) FROM "
                        r"\.\.\.", note)
        assert use is not None and "replace(replace(\"Betrag (€)\", '.', ''), ',', '.')" in use.group(1), note
        query = re.search(r"e\.g\. (SELECT .*)$", note)
        assert query is not None and query.group(1).endswith(f"FROM {source}"), note
        where = re.search(r'where="(.*?)"', note).group(1)
        read = f"SELECT * REPLACE ({use.group(1)}) FROM {source} WHERE {where}"
        assert con.execute(f"SELECT count(*), max(\"Betrag (€)\") FROM ({read})").fetchall() == \
            [(300, max(r[3] for r in rows))], note
    finally:
        con.close()


def test_scoring_an_export_with_several_text_amount_features_gives_one_query_for_all(tmp_path: Path) -> None:
    """A model trained on an export's decimal-comma columns read as numbers, scored on the raw export: the error named
    the first text column and a query reading it alone, so the next run stopped on the second, and so on."""
    csv_path = tmp_path / "export.csv"
    def comma(x: float) -> str:
        return f"{x:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    csv_path.write_text("Menge;Netto;Steuer\n" + "".join(f"{i % 9 + 1};{comma((i % 9 + 1) * 1234.5)};"
                                                          f"{comma((i % 9 + 1) * 234.56)}\n" for i in range(200)))
    source = f"read_csv('{csv_path}')"
    con = ad_duckdb.connect()
    try:
        exprs = ", ".join(f"TRY_CAST(replace(replace({c}, '.', ''), ',', '.') AS DOUBLE) AS {c}" for c in ("Netto", "Steuer"))
        ad_duckdb.train(con, "m", f"SELECT * REPLACE ({exprs}) FROM {source}", **FAST)
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.score(con, "m", source)
        msg = str(e.value)
        query = re.search(r"(SELECT \* REPLACE .*? FROM \S+)", msg)
        assert query is not None and "'Netto'" in msg and "'Steuer'" in msg, msg
        assert len(ad_duckdb.score(con, "m", query.group(1))) == 200, msg
    finally:
        con.close()


def test_a_windows_1252_csv_is_not_sent_to_latin_1_which_duckdb_refuses_for_it(tmp_path: Path) -> None:
    """An Excel export on Windows (cp1252) with 'Betrag (€)': the hint was encoding='latin-1', and that read failed
    with "File is not latin-1 encoded" and the advice to give "an existing table or view name" (DuckDB's Latin-1
    has no €, curly quotes or dashes, bytes 0x80-0x9F of cp1252)."""
    csv_path = tmp_path / "Umsätze export.csv"
    text = "Menge;Betrag (€);Kunde\n" + "".join(f"{i % 9 + 1};{i * 2.5};„Müller“ – {i % 4}\n" for i in range(200))
    csv_path.write_bytes(text.encode("cp1252"))
    con = ad_duckdb.connect()
    try:
        for source in (str(csv_path), f"read_csv('{csv_path}', encoding='latin-1')"):
            with pytest.raises(ad_duckdb.BadInputError) as e:
                ad_duckdb.train(con, "m", source, **BRIEF)
            msg = str(e.value)
            assert "cp1252" in msg and "Read it with read_csv" not in msg, msg
            assert "table or view name" not in msg, msg
            command = re.search(r"iconv -f cp1252 -t utf-8 (.*?) > (.*?)\)?[.;,]? ", msg)
            assert command is not None, msg
        converted = tmp_path / "converted.csv"
        converted.write_text(csv_path.read_bytes().decode("cp1252"), encoding="utf-8")
        info = ad_duckdb.train(con, "m", str(converted), features=["Menge", "Betrag (€)"], **BRIEF)
        assert info.features == ["Menge", "Betrag (€)"]
    finally:
        con.close()


def test_the_index_pandas_writes_to_parquet_is_left_out_when_not_in_order(tmp_path: Path) -> None:
    """pandas writes a frame's index to Parquet as '__index_level_0__' unless it is a plain range (after a filter,
    or sorted by amount): out of order, it was not seen as an index, and became a feature."""
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"qty": rng.poisson(5, 400) + 1, "amount": np.round(rng.lognormal(3, 0.3, 400), 2)})
    df.sort_values("amount").to_parquet(tmp_path / "sorted.parquet")
    con = ad_duckdb.connect()
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"'__index_level_0__' \(named like an id\)"):
            info = ad_duckdb.train(con, "m", f"'{tmp_path / 'sorted.parquet'}'", **BRIEF)
        assert info.features == ["qty", "amount"]
    finally:
        con.close()


def test_a_report_with_subtotals_and_a_total_names_the_filter_that_leaves_out_all_of_them(tmp_path: Path) -> None:
    """A spreadsheet report: a 'Subtotal' row after each month and a 'Total' row at the end. The grand total is a
    third of all rows' sum (details + subtotals + itself), so it was not found; and a filter on one word kept the
    other's rows (the features inferred: ID IS DISTINCT FROM 'Subtotal' kept 'Total')."""
    lines, detail = ["ID;Count;Amount"], []
    for month in range(3):
        rows = [(month * 100 + i, i % 9 + 1, (i % 9 + 1) * 25.5 + month) for i in range(100)]
        detail += rows
        lines += [f"{i};{c};{a}" for i, c, a in rows]
        lines.append(f"Subtotal;{sum(r[1] for r in rows)};{sum(r[2] for r in rows)}")
    lines.append(f"Total;{sum(r[1] for r in detail)};{sum(r[2] for r in detail)}")
    csv_path = tmp_path / "report.csv"
    csv_path.write_text("\n".join(lines) + "\n")
    source = f"read_csv('{csv_path}')"
    con = ad_duckdb.connect()
    try:
        for features in (["Count", "Amount"], None):
            with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
                ad_duckdb.train(con, "r", source, features=features, **BRIEF)
            notes = _totals_notes(caught)
            assert len(notes) == 1, (features, notes)
            where = re.search(r'where="(.*?)"', notes[0]).group(1)
            assert con.execute(f"SELECT count(*) FROM {source} WHERE {where}").fetchall() == [(300,)], notes
    finally:
        con.close()


def test_the_totals_watch_of_a_wide_table_holds_no_more_than_its_rows(tmp_path: Path) -> None:
    """The watch for a totals row kept, per column, a copy of the row of that column's largest value: a matrix of
    columns x columns. A table of 40 rows and 6,000 columns (2 MB) took 580 MB more to train, and one of 20,000
    columns 6 GB. It holds each such row once: never more than the rows read; the totals row is still found."""
    import tracemalloc

    from ad_duckdb.totalsrow import TotalsWatch

    rng = np.random.default_rng(0)
    X = rng.random((40, 6000))
    tracemalloc.start()
    try:
        watch = TotalsWatch(X.shape[1])
        for at in range(0, len(X), 7):  # in batches, as a source read in one pass gives them
            watch.add(X[at:at + 7])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * X.nbytes, f"{peak / 1e6:.0f} MB for a {X.nbytes / 1e6:.0f} MB matrix"
    assert watch.totals_row(range(X.shape[1])) is None
    with_total = np.vstack([X[:20], X.sum(axis=0), X[20:]])  # mid-table, and in the middle batch
    watch = TotalsWatch(X.shape[1])
    for at in range(0, len(with_total), 7):
        watch.add(with_total[at:at + 7])
    found = watch.totals_row(range(X.shape[1]))
    assert found is not None and found[1] == 2 and np.allclose(found[0], X.sum(axis=0))
    assert watch.totals_row([3, 17]) is not None


def _empty_rows_notes(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "every feature NULL" in str(w.message)]


def _export_with_separator_rows(path: Path, n: int = 300, empty: int = 5) -> str:
    """A spreadsheet export: ``n`` rows, then ``empty`` rows of only separators (';;;'), as one leaves them."""
    rows = [(i, i % 9 + 1, (i % 9 + 1) * 25.5 + i % 4) for i in range(n)]
    path.write_text("ID;Count;Amount;Memo\n" + "".join(f"{i};{c};{a};x\n" for i, c, a in rows) + ";;;\n" * empty)
    return f"read_csv('{path}')"


def test_rows_of_only_separators_are_named_at_training_with_the_filter_that_leaves_them_out(tmp_path: Path) -> None:
    """An export ending in ';;;' rows (DuckDB reads them as rows of all NULLs) trained them as median-filled rows:
    only the fill counts said so, Count 5 and Amount 5, easy to miss. The note names them and the filter."""
    source = _export_with_separator_rows(tmp_path / "export.csv")
    con = ad_duckdb.connect()
    try:
        for features, extra in ((["Count", "Amount"], {}), (["Count", "Amount"], {"max_train_rows": 200}),
                                (None, {})):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ad_duckdb.train(con, "e", source, features=features, **BRIEF, **extra)
            notes = _empty_rows_notes(caught)
            assert len(notes) == 1 and "5 rows of" in notes[0], (features, extra, notes)
            assert "robust=True, which a where= alone turns off" in notes[0], notes
            where = re.search(r'where="(.*?)"', notes[0]).group(1)
            assert con.execute(f"SELECT count(*) FROM {source} WHERE {where}").fetchall() == [(300,)], notes
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                info = ad_duckdb.train(con, "e", source, features=features, where=where, robust=True, **BRIEF, **extra)
            assert not _empty_rows_notes(caught), _empty_rows_notes(caught)
            assert info.metrics["filled_values"] == {"Count": 0, "Amount": 0}, info.metrics["filled_values"]
        # a row missing one value is no empty row: it stays, and no note
        con.execute(f"CREATE TABLE partial AS SELECT * REPLACE (CASE WHEN ID % 50 = 0 THEN NULL ELSE Amount END AS "
                    f"Amount) FROM {source} WHERE ID IS NOT NULL")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ad_duckdb.train(con, "p", "partial", features=["Count", "Amount"], **BRIEF)
        assert not _empty_rows_notes(caught), _empty_rows_notes(caught)
    finally:
        con.close()


def test_no_empty_rows_note_on_the_examples_and_adbench_data(tmp_path: Path) -> None:
    """No false alarm on the example transactions and an ADBench set."""
    from generate import generate

    db = tmp_path / "tx.duckdb"
    generate(db, rows=3000, seed=5)
    con = ad_duckdb.connect(str(db))
    try:
        X = np.load(DATA / "adbench" / "38_thyroid.npz")["X"]
        con.execute("CREATE TABLE thyroid AS SELECT * FROM (SELECT unnest(?) AS a, unnest(?) AS b, unnest(?) AS c, "
                    "unnest(?) AS d, unnest(?) AS e, unnest(?) AS f)", [X[:, j].tolist() for j in range(6)])
        for name, source, features in [("tx", "transactions", None), ("th", "thyroid", None)]:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ad_duckdb.train(con, name, source, features=features, **BRIEF)
            assert not _empty_rows_notes(caught), (name, _empty_rows_notes(caught))
    finally:
        con.close()


def test_a_totals_row_and_rows_of_only_separators_get_one_filter_that_leaves_out_both(tmp_path: Path) -> None:
    """An export ending in its totals row and then ';;;' rows got two notes, each with its own where= and
    robust=True: the second filter given alone trained on the totals row again, and the two had to be combined by
    hand. The totals row's note gives the one filter for both; the other note points to it."""
    path = tmp_path / "export.csv"
    rows = [(i, i % 9 + 1, (i % 9 + 1) * 25.5 + i % 4) for i in range(300)]
    path.write_text("ID;Count;Amount;Memo\n" + "".join(f"{i};{c};{a};x\n" for i, c, a in rows)
                    + f"Total;{sum(r[1] for r in rows)};{sum(r[2] for r in rows)};\n" + ";;;\n" * 4)
    source = f"read_csv('{path}')"
    con = ad_duckdb.connect()
    try:
        for features in (["Count", "Amount"], None):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ad_duckdb.train(con, "e", source, features=features, **BRIEF)
            said = [str(w.message) for w in caught]
            wheres = [w for n in said for w in re.findall(r'where="(.*?)"', n)]
            assert len(wheres) == 1, (features, said)
            assert sum("robust=True, which a where= alone turns off" in n for n in said) == 1, (features, said)
            assert any("4 rows of" in n and "every feature NULL" in n for n in said), (features, said)
            assert con.execute(f"SELECT count(*) FROM {source} WHERE {wheres[0]}").fetchall() == [(300,)], said
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ad_duckdb.train(con, "e", source, features=features, where=wheres[0], robust=True, **BRIEF)
            again = [str(w.message) for w in caught if "totals row" in str(w.message) or "every feature NULL"
                     in str(w.message)]
            assert not again, again
    finally:
        con.close()


def test_a_filter_with_text_in_double_quotes_is_told_single_quotes() -> None:
    """A notebook user writes a pandas query's filter, where='split == "train"': SQL reads "train" as a column, and
    train and evaluate stopped with DuckDB's 'Referenced column "train" not found ... Candidate bindings: "label"',
    which names no fix. The error now says that text goes in single quotes, with the filter that runs."""
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300), "label": (np.arange(300) % 30 == 0) * 1,  # noqa: F841  (read by its name)
                       "split": np.where(np.arange(300) % 2 == 0, "train", "test")})
    con = ad_duckdb.connect()
    try:
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"Referenced column \"train\" not found") as e:
            ad_duckdb.train(con, "m", "df", features=["a", "b"], where='label == 0 and split == "train"', **BRIEF)
        fix = re.search(r"text goes in single quotes: where=(\".*?\")", str(e.value))
        assert fix, str(e.value)
        where = fix.group(1)[1:-1]
        assert where == "label == 0 and split == 'train'", where
        ad_duckdb.train(con, "m", "df", features=["a", "b"], where=where, **BRIEF)
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"text goes in single quotes: "
                           r"where=\"split = 'test'\""):
            ad_duckdb.evaluate(con, "m", "df", label="label", where='split = "test"')
        # a misspelt column (not a quoted one) is not told about quotes
        with pytest.raises(ad_duckdb.SourceNotFoundError) as e:
            ad_duckdb.evaluate(con, "m", "df", label="label", where="splt = 'test'")
        assert "single quotes" not in str(e.value), str(e.value)
    finally:
        con.close()


def _grouped_export(path: Path, label: Callable[[str], str], grand: str) -> str:
    """A ledger export grouped by region, each group followed by its subtotal row (``label(region)``, as Excel's
    Data > Subtotal writes "North Total"), and a grand total row (``grand``) at the end."""
    rng = np.random.default_rng(7)
    lines, total = [], 0.0
    for region in ("North", "South", "East", "West"):
        amounts = np.round(rng.lognormal(5, 0.6, 60), 2)
        lines += [f"{region};{4000 + i};{a:.2f}" for i, a in enumerate(amounts)]
        lines.append(f"{label(region)};;{amounts.sum():.2f}")
        total += amounts.sum()
    lines.append(f"{grand};;{total:.2f}")
    path.write_text("Region;Account;Amount\n" + "\n".join(lines) + "\n")
    return f"read_csv('{path}')"


def test_subtotal_rows_named_after_their_group_are_left_out_with_the_grand_total(tmp_path: Path) -> None:
    """A ledger with a subtotal row per group ("North Total", as Excel's Subtotal writes it, or "Subtotal North")
    and a grand total: the note said it holds the sum of the rows that are not totals and to "leave them out", but
    its where= named 'Grand Total' alone, and training on it kept the four subtotal rows, each a group's sum."""
    con = ad_duckdb.connect()
    try:
        for label, grand in ((lambda r: f"{r} Total", "Grand Total"), (lambda r: f"Subtotal {r}", "Total")):
            source = _grouped_export(tmp_path / "ledger.csv", label, grand)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ad_duckdb.train(con, "l", source, features=["Amount"], **BRIEF)
            notes = _totals_notes(caught)
            assert len(notes) == 1 and "not totals" in notes[0], notes
            where = re.search(r'where="(.*?)"', notes[0]).group(1)
            assert con.execute(f"SELECT count(*), count(Account) FROM {source} WHERE {where}").fetchall() == \
                [(240, 240)], (where, notes)
    finally:
        con.close()


def test_a_filter_joined_with_pandas_ampersand_is_told_and_or() -> None:
    """A pandas mask's (split == 'train') & (label == 0) as where=: DuckDB's '&' is bitwise, and train and evaluate
    stopped with "No function matches ... '&(BOOLEAN, BOOLEAN)'" and eleven lines of its integer overloads. The
    error is now one line saying SQL joins conditions with AND / OR, with the filter that runs."""
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300), "label": (np.arange(300) % 30 == 0) * 1,  # noqa: F841  (read by its name)
                       "split": np.where(np.arange(300) % 2 == 0, "train", "test")})
    con = ad_duckdb.connect()
    try:
        with pytest.raises(ad_duckdb.BadInputError, match=r"&\(BOOLEAN, BOOLEAN\)") as e:
            ad_duckdb.train(con, "m", "df", features=["a", "b"], where="(split == 'train') & (label == 0)", **BRIEF)
        assert "\n" not in str(e.value) and "Candidate functions" not in str(e.value), str(e.value)
        fix = re.search(r"conditions with AND and OR: where=(\".*?\")", str(e.value))
        assert fix, str(e.value)
        where = fix.group(1)[1:-1]
        assert where == "(split == 'train') AND (label == 0)", where
        ad_duckdb.train(con, "m", "df", features=["a", "b"], where=where, **BRIEF)
        with pytest.raises(ad_duckdb.BadInputError, match=r"where=\"\(split = 'a & b'\) OR \(label = 1\)\"") as e:
            ad_duckdb.evaluate(con, "m", "df", label="label", where="(split = 'a & b') | (label = 1)")
        assert "\n" not in str(e.value), str(e.value)
    finally:
        con.close()


def test_a_merchant_named_with_a_totals_word_is_not_taken_for_a_totals_label(tmp_path: Path) -> None:
    """A shop column holding 'Total Wine & More' and 'Dim Sum House' beside a grand total row 'Total': the note
    said those shops marked the totals row too, and gave a filter by the row's float values instead of the plain
    merchant IS DISTINCT FROM 'Total' (the subtotal pattern, "North Total", matched the shops' names)."""
    rng = np.random.default_rng(3)
    shops = ["Total Wine & More" if i % 50 == 0 else "Dim Sum House" if i % 7 == 0 else f"Shop {i % 13}"
             for i in range(500)]
    amount, qty = np.round(rng.lognormal(3, 0.4, 500), 2), (np.arange(500) % 5 + 1).astype(float)
    path = tmp_path / "tx.csv"
    path.write_text("merchant;ref;amount;qty\n" + "".join(f"{s};T{i};{a:.2f};{q:g}\n" for i, (s, a, q) in
                                                         enumerate(zip(shops, amount, qty, strict=True)))
                    + f"Total;Total;{amount.sum():.2f};{qty.sum():g}\n")
    con = ad_duckdb.connect()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ad_duckdb.train(con, "m", f"read_csv('{path}')", features=["amount", "qty"], **BRIEF)
        notes = _totals_notes(caught)
        assert len(notes) == 1 and "('Total' in 'merchant')" in notes[0], notes
        assert "where=\"merchant IS DISTINCT FROM 'Total'\"" in notes[0], notes
    finally:
        con.close()


def test_where_hints_leave_a_bitwise_and_and_a_quoted_column_name_alone() -> None:
    """The pandas-mask hint turned every '&' into AND, the bitwise one too: '(flags & 4 = 4) & (label = 0)' was told
    to run '(flags AND 4 = 4) AND (label = 0)', which reads flags as a BOOLEAN (any non-zero flags passes). And a
    misspelt column in double quotes ('"spilt" = 1') was told to put it in single quotes, comparing a text to 1."""
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300), "flags": np.arange(300) % 8,  # noqa: F841
                       "label": (np.arange(300) % 30 == 0) * 1, "split": np.where(np.arange(300) % 2 == 0, "a", "b")})
    con = ad_duckdb.connect()
    try:
        for given, want in (("(flags & 4 = 4) & (label = 0)", "(flags & 4 = 4) AND (label = 0)"),
                            ("(flags | 1 = 1) | (label = 0)", "(flags | 1 = 1) OR (label = 0)")):
            with pytest.raises(ad_duckdb.BadInputError) as e:
                ad_duckdb.train(con, "m", "df", features=["a", "b"], where=given, **FAST)
            assert f'where="{want}"' in str(e.value), str(e.value)
        with pytest.raises(ad_duckdb.SourceNotFoundError) as e:
            ad_duckdb.train(con, "m", "df", features=["a", "b"], where='"split" = \'a\' AND "spilt" = 1', **FAST)
        assert "single quotes" not in str(e.value), str(e.value)
    finally:
        con.close()


def test_a_date_feature_scored_from_its_table_is_told_the_expression_training_took_not_epoch() -> None:
    """Training refuses a DATE feature and says to train on dayofweek(...) of it; a model so trained, scored on the
    table itself, was told to score SELECT * REPLACE (epoch("d") AS "d") ..., and anomaly_score(m, d, ...) to pass
    epoch(d): epoch seconds lie far beyond the days of the week it learned, so that advice flagged every row."""
    rng = np.random.default_rng(0)
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t (d DATE, x DOUBLE, y DOUBLE)")
        con.executemany("INSERT INTO t VALUES (DATE '2026-01-01' + ?::INTEGER, ?, ?)",
                        [(i // 10, float(a), float(a + b)) for i, (a, b) in enumerate(rng.normal(size=(700, 2)))])
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "m", "t", features=["d", "x", "y"], **FAST)
        trained = re.search(r"train on a query that takes its day of the week, 0 for Sunday, (SELECT .*? FROM \"t\")",
                            str(e.value)).group(1)
        ad_duckdb.train(con, "m", trained, features=["x", "d", "y"], **FAST)  # d second: the function's own check

        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.score(con, "m", "t")
        assert trained in str(e.value), str(e.value)  # the query the model was trained on
        advised = re.search(r"e\.g\. (SELECT .*? FROM \"t\")", str(e.value)).group(1)
        flagged = ad_duckdb.score(con, "m", advised).column("is_anomaly").to_pylist()
        assert sum(flagged) / len(flagged) < 0.05, (advised, sum(flagged))

        with pytest.raises(duckdb.Error) as e:
            con.execute("SELECT anomaly_score('m', x, d, y) FROM t").fetchall()
        expr = re.search(r"e\.g\. (\w+\(col\))", str(e.value)).group(1).replace("col", "d")
        assert trained in str(e.value), str(e.value)
        share = con.execute(f"SELECT avg(is_anomaly('m', x, {expr}, y)::INTEGER) FROM t").fetchall()[0][0]
        assert share < 0.05, (expr, share)
    finally:
        con.close()


def test_rows_missing_every_feature_but_holding_other_values_are_not_called_separator_rows(tmp_path: Path) -> None:
    """A one-feature model of a table with a few NULL counts said each such row was "a row of only separators, as a
    spreadsheet leaves them at the end of an export": its id and date were there, so the note sent the user looking
    for an export's blank lines that did not exist. Rows empty in every column are still named so."""
    con = ad_duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT range AS tx_id, DATE '2026-01-01' + (range // 10)::INTEGER AS day, "
                    "CASE WHEN range % 100 = 7 THEN NULL ELSE range % 13 + 1 END AS n FROM range(600)")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ad_duckdb.train(con, "m", "t", features=["n"], **BRIEF)
        notes = _empty_rows_notes(caught)
        assert len(notes) == 1 and "6 rows of" in notes[0], notes
        assert "separators" not in notes[0], notes
        assert 'where="n IS NOT NULL"' in notes[0], notes  # the fix is still given

        source = _export_with_separator_rows(tmp_path / "export.csv")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ad_duckdb.train(con, "e", source, features=["Count", "Amount"], **BRIEF)
        notes = _empty_rows_notes(caught)
        assert len(notes) == 1 and "a row of only separators" in notes[0], notes
    finally:
        con.close()


@pytest.mark.parametrize(("name", "distinct", "left_out"), [
    ("Transaction_No", True, True), ("Invoice Number", True, True), ("order_nr", True, True), ("TxnNo", True, True),
    ("InvoiceNumber", True, True), ("Transaction_No", False, False), ("Count", True, False),
    ("Number of cards", True, False), ("Rapid Nos", True, False)])
def test_a_row_number_column_in_shuffled_order_is_left_out_as_an_id(name: str, distinct: bool, left_out: bool) -> None:
    """A CSV's 'Transaction_No' (a distinct whole number per row, not in row order) trained as a feature by default,
    without a word: new rows bring numbers beyond the training range, which score as anomalies. Named like a number
    or key of a row (No, Nr, Number) and distinct in every row, it is an id; with repeats, a measurement."""
    rng = np.random.default_rng(0)
    n = 400
    ids = rng.permutation(n) + 1000 if distinct else rng.integers(0, 50, n)
    con = ad_duckdb.connect()
    try:
        con.execute(f"CREATE TABLE t AS SELECT unnest(?) AS \"{name}\", unnest(?) AS \"Cnt\", unnest(?) AS \"Amount\"",
                    [ids.tolist(), rng.poisson(20, n).tolist(), rng.gamma(5, 50, n).tolist()])
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            info = ad_duckdb.train(con, "m", "t", **FAST)
        assert (name not in info.features) is left_out, info.features
        said = any(f"{name!r} (named like a row number, a distinct value in every row)" in str(w.message) for w in got)
        assert said is left_out, [str(w.message) for w in got]
    finally:
        con.close()


def _two_months(tmp_path: Path, first: str, later: str, kind: str = "parquet") -> Path:
    """A folder of two monthly files, of the rows of the queries ``first`` and ``later`` (the newer one)."""
    folder = tmp_path / "tx"
    folder.mkdir()
    fmt = "(FORMAT parquet)" if kind == "parquet" else "(FORMAT csv, HEADER)"
    con = duckdb.connect()
    try:
        con.execute(f"COPY ({first}) TO '{folder}/tx_01.{kind}' {fmt}")
        con.execute(f"COPY ({later}) TO '{folder}/tx_02.{kind}' {fmt}")
    finally:
        con.close()
    return folder


def _notes_of_training(con: duckdb.DuckDBPyConnection, source: str, **kwargs: object) -> tuple[list[str], list[str]]:
    """The features trained on, and the notes the training gave."""
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        info = ad_duckdb.train(con, "m", source, **kwargs, **FAST)  # type: ignore[arg-type]
    return info.features, [str(w.message) for w in got]


_MONTH = "SELECT range % 9 + 1 AS count, (range % 13) * 2 + 1 AS amount FROM range(300)"


@pytest.mark.parametrize(("first", "later"), [("DECIMAL(8,2)", "DOUBLE"), ("INTEGER", "BIGINT"),
                                              ("DECIMAL(8,2)", "DECIMAL(18,2)")])
def test_a_folder_whose_newer_file_holds_a_wider_number_is_read_with_its_largest_value_kept(
        tmp_path: Path, first: str, later: str) -> None:
    """Before: a month whose 'amount' was written as DOUBLE after one of DECIMAL(8,2) (a pipeline's type change) got
    the read TRY_CAST("amount" AS DECIMAL(8,2)) ... union_by_name=true, which made the one amount too large for the
    first file's type NULL, filled in with the median: the row that stopped DuckDB, the top anomaly, scored typical."""
    folder = _two_months(tmp_path, f"SELECT count, amount::{first} AS amount FROM ({_MONTH})",
                         f"SELECT count, CASE WHEN count = 3 AND amount = 7 THEN 9000000000 ELSE amount END::{later} "
                         f"AS amount FROM ({_MONTH})")
    con = ad_duckdb.connect()
    try:
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "m", f"{folder}/*.parquet", **FAST)
        msg = str(e.value)
        assert "tx_02.parquet" in msg and "'amount'" in msg, msg
        fixed = re.search(r"Read it with (.*?)\. \(", msg)
        assert fixed, msg
        ad_duckdb.train(con, "m", f"{folder}/tx_01.parquet", **FAST)
        scored = ad_duckdb.score(con, "m", fixed.group(1)).to_pylist()
        assert len(scored) == 600, len(scored)
        top = max(scored, key=lambda r: r["anomaly_score"])
        assert top["amount"] == 9000000000 and top["is_anomaly"], top
    finally:
        con.close()


@pytest.mark.parametrize(("kind", "form"), [("parquet", "{folder}/*.parquet"),
                                            ("parquet", "read_parquet('{folder}/*.parquet')"),
                                            ("csv", "read_csv('{folder}/*.csv')")])
def test_a_column_only_newer_files_hold_is_named_with_the_read_that_has_it(tmp_path: Path, kind: str,
                                                                           form: str) -> None:
    """Before: DuckDB reads a glob's columns from its first file, so 'risk', which the export added in February,
    was dropped without a word by a default training, and features=['count', 'risk'] said "Column 'risk' is not in
    ...; its columns are: count, amount", as if no file held it; scoring with a model trained on it said to rename
    some column x to risk."""
    folder = _two_months(tmp_path, _MONTH, _MONTH.replace(" FROM", ", range % 5 AS risk FROM"), kind)
    source = form.format(folder=folder)
    fixed = f"read_{kind}('{folder}/*.{kind}', union_by_name=true)"
    con = ad_duckdb.connect()
    try:
        features, notes = _notes_of_training(con, source)
        assert features == ["count", "amount"]
        notes = [n for n in notes if "'risk'" in n]
        assert len(notes) == 1 and f"tx_02.{kind}" in notes[0] and fixed in notes[0], notes
        with pytest.raises(ad_duckdb.SourceNotFoundError) as e:
            ad_duckdb.train(con, "m2", source, features=["count", "risk"], **FAST)
        msg = str(e.value)
        assert f"tx_02.{kind}" in msg and fixed in msg, msg
        assert ad_duckdb.train(con, "m2", fixed, features=["count", "risk"], **FAST).features == ["count", "risk"]
        with pytest.raises(ad_duckdb.SourceNotFoundError) as e:
            ad_duckdb.score(con, "m2", source)
        msg = str(e.value)
        assert f"tx_02.{kind}" in msg and fixed in msg and "x AS risk" not in msg, msg
        assert len(ad_duckdb.score(con, "m2", fixed)) == 600
    finally:
        con.close()


@pytest.mark.parametrize(("first", "later", "said"), [
    # 'rate' whole in January (BIGINT), DOUBLE in February: every 0.05 ... 0.45 read as 0
    ("(range % 3)::BIGINT AS rate", "(range % 5) / 10 + 0.05 AS rate", "its 0.05 is read as 0"),
    # cents written as DOUBLE after DECIMAL(12,2): 2.2000000000000002 read as 2.20 loses nothing
    ("((range % 13) * 2.1 + 0.1)::DECIMAL(12,2) AS rate", "((range % 13) * 2.1 + 0.1)::DOUBLE * 3 / 3 AS rate", None),
    # the same columns in every file
    ("range % 5 AS rate", "range % 7 AS rate", None)])
@pytest.mark.parametrize("features", [None, ["count", "rate"]])
def test_a_feature_whose_values_a_newer_file_holds_so_that_duckdb_changes_them_is_named_with_the_read_that_keeps_them(
        tmp_path: Path, first: str, later: str, said: str | None, features: list[str] | None) -> None:
    """DuckDB reads every file of a glob as the first file's types, casting without a word: a 'rate' written as
    BIGINT in January and DOUBLE in February was read as 0 for every one of February's values, and the model
    trained on the rounded values without a note."""
    folder = _two_months(tmp_path, f"SELECT range % 9 + 1 AS count, {first} FROM range(300)",
                         f"SELECT range % 9 + 1 AS count, {later} FROM range(300)")
    fixed = f"read_parquet('{folder}/*.parquet', union_by_name=true)"
    con = ad_duckdb.connect()
    try:
        trained, notes = _notes_of_training(con, f"{folder}/*.parquet", features=features)
        assert trained == ["count", "rate"]
        notes = [n for n in notes if "union_by_name" in n]
        if said is None:
            assert notes == []
        else:
            assert len(notes) == 1 and said in notes[0] and "tx_02.parquet" in notes[0] and fixed in notes[0], notes
            assert not [n for n in _notes_of_training(con, fixed, features=features)[1] if "'rate'" in n]
    finally:
        con.close()


@pytest.mark.parametrize("source", ["'s3://lake/tx/*.parquet'", "read_parquet('s3://lake/tx/*.parquet')",
                                    "read_csv(['https://example.com/a.csv', 'https://example.com/b.csv'])",
                                    "'gs://lake/tx/*.csv'"])
def test_the_files_of_a_remote_glob_are_not_listed_nor_opened_to_compare_their_columns(source: str) -> None:
    """Comparing a glob's files by name lists the glob and opens every file (up to 1000, then 50 more one by one,
    and scans them all when a type differs): over S3 or HTTP that is a request per file, at every training and every
    refused score, for a note. Training from a remote glob did those reads (and, without httpfs, tried to download
    it). Local files only; DuckDB's own query log shows what the comparison ran."""
    from ad_duckdb.filecols import later_column_fix, later_columns, warn_cast_columns

    con = ad_duckdb.connect()
    try:
        con.execute("CALL enable_logging('QueryLog')")
        assert later_columns(con, source) is None
        assert later_column_fix(con, source, ["amount"]) == ""
        warn_cast_columns(con, source, ["amount"], model="m")
        ran = [m for (m,) in con.execute("SELECT message FROM duckdb_logs WHERE type = 'QueryLog'").fetchall()
               if "duckdb_logs" not in m and "enable_logging" not in m]
        assert ran == [], ran
    finally:
        con.close()


def test_a_default_training_on_a_glob_compares_its_files_by_name_once(tmp_path: Path) -> None:
    """A default training on a glob said both notes (a column only a later file holds, a column whose values a later
    file's type changes) from two comparisons of the files, each listing the glob and reading every file's columns
    by name: twice the cost, at every training. DuckDB's query log counts the reads by name."""
    folder = _two_months(tmp_path, "SELECT range % 9 + 1 AS count, (range % 3)::BIGINT AS rate FROM range(300)",
                         "SELECT range % 9 + 1 AS count, (range % 5) / 10 + 0.05 AS rate, range % 4 AS risk "
                         "FROM range(300)")
    con = ad_duckdb.connect()
    try:
        con.execute("CALL enable_logging('QueryLog')")
        trained, notes = _notes_of_training(con, f"{folder}/*.parquet")
        assert trained == ["count", "rate"]
        assert len([n for n in notes if "'risk'" in n and "left out" in n]) == 1, notes
        assert len([n for n in notes if "its 0.05 is read as 0" in n]) == 1, notes
        ran = [m for (m,) in con.execute("SELECT message FROM duckdb_logs WHERE type = 'QueryLog'").fetchall()
               if "DESCRIBE" in m and "union_by_name" in m]
        assert len(ran) == 1, ran
    finally:
        con.close()


def _header_repeated(tmp_path: Path, rows: int, at: int) -> str:
    """A CSV of ``rows`` rows whose header line comes again before row ``at`` (two exports joined with cat)."""
    path = tmp_path / "joined.csv"
    con = duckdb.connect()
    try:
        con.execute(f"COPY (SELECT range AS id, range % 9 + 1 AS count, (range % 13) * 2 AS amount FROM range({rows}))"
                    f" TO '{path}' (HEADER)")
    finally:
        con.close()
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[: at + 1], lines[0], *lines[at + 1:]]) + "\n")
    return str(path)


def test_a_csv_whose_header_line_comes_again_mid_file_is_named_with_the_read_that_drops_it(tmp_path: Path) -> None:
    """Two monthly exports joined with cat repeat the header line mid-file. Within DuckDB's sample, every column was
    typed VARCHAR and training said "no numeric column ... SELECT CAST(x AS DOUBLE) AS x", a cast that fails on the
    header's 'count'; beyond it, the read stopped on 'count' and the advice was nullstr=['count', ''] (which stops on
    'id' next) or sample_size=-1 (every column VARCHAR again)."""
    con = ad_duckdb.connect()
    try:
        for rows, at, features in [(400, 200, None), (100_000, 60_000, ["count", "amount"])]:
            source = _header_repeated(tmp_path, rows, at)
            with pytest.raises(ad_duckdb.BadInputError) as e:
                ad_duckdb.train(con, "m", source, features=features, **BRIEF)
            msg = str(e.value).split(" (Conversion Error")[0]  # ours, without DuckDB's own advice kept after it
            assert "header" in msg and "nullstr" not in msg and "CAST(x AS DOUBLE)" not in msg, msg
            fixed = re.search(r"ead it with: (.*?)(?:, which |$)", msg)
            assert fixed, msg
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                info = ad_duckdb.train(con, "m", fixed.group(1), features=features, **BRIEF)
            assert info.train_rows == rows and info.features == ["count", "amount"], (info.train_rows, info.features)
    finally:
        con.close()


@pytest.mark.parametrize("features", [None, ["count", "amount"]])
def test_a_csv_whose_last_line_is_cut_off_is_named_with_the_read_that_leaves_it_out(
        tmp_path: Path, features: list[str] | None) -> None:
    """A CSV still being written ends mid-line. DuckDB found no delimiter that splits every line alike and read each
    line as one text column, 'id,count,amount': training said "Column 'count' is not in ...; its columns are:
    id,count,amount", or that the source has no numeric column, as if the file held none."""
    path = tmp_path / "today.csv"
    con = ad_duckdb.connect()
    try:
        con.execute(f"COPY (SELECT range AS id, range % 9 + 1 AS count, (range % 13) * 2 AS amount FROM range(400)) "
                    f"TO '{path}' (HEADER)")
        text = path.read_text()
        path.write_text(text[: text.index("\n300,") + 3])  # the line of id 300 written up to its first digits
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "m", str(path), features=features, **BRIEF)
        msg = str(e.value)
        assert "one text column" in msg and "cut off" in msg and "'count' is not in" not in msg, msg
        fixed = re.search(r"read it with (.*?), which", msg)
        assert fixed, msg
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = ad_duckdb.train(con, "m", fixed.group(1), features=features, **BRIEF)
        assert info.train_rows == 300 and info.features == ["count", "amount"], (info.train_rows, info.features)
    finally:
        con.close()


def test_a_glob_whose_newest_csv_is_cut_off_names_that_file_and_the_read_that_leaves_its_line_out(
        tmp_path: Path) -> None:
    """The day's CSV, still being written, ends mid-line: DuckDB read it as one column and stopped on "Schema mismatch
    between globbed files ... Column with name: "id" is missing", advising union_by_name=true, which reads the file's
    lines as a text column 'id,count,amount' beside the others, NULL."""
    folder = tmp_path / "days"
    folder.mkdir()
    con = ad_duckdb.connect()
    try:
        for day in (1, 2):
            con.execute(f"COPY (SELECT range AS id, range % 9 + 1 AS count, (range % 13) * 2 AS amount FROM "
                        f"range(400)) TO '{folder}/day_{day}.csv' (HEADER)")
        text = (folder / "day_2.csv").read_text()
        (folder / "day_2.csv").write_text(text[: text.index("\n300,") + 3])
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.train(con, "m", f"{folder}/*.csv", features=["count", "amount"], **BRIEF)
        msg = str(e.value).split(" (Invalid Input Error")[0]
        assert "day_2.csv" in msg and "cut off" in msg and "union_by_name" not in msg, msg
        fixed = re.search(r"read it with (.*?), which", msg)
        assert fixed, msg
        assert ad_duckdb.train(con, "m", fixed.group(1), features=["count", "amount"], **BRIEF).train_rows == 700
    finally:
        con.close()


def test_a_parquet_file_still_being_written_is_named_as_such(tmp_path: Path) -> None:
    """A folder's newest Parquet file, copied in as the training ran, ends before Parquet's footer: DuckDB said "No
    magic bytes found at end of file", which says nothing of a file being written, nor what to do."""
    folder = _two_months(tmp_path, _MONTH, _MONTH)
    data = (folder / "tx_02.parquet").read_bytes()
    (folder / "tx_02.parquet").write_bytes(data[: len(data) // 2])
    con = ad_duckdb.connect()
    try:
        for features in (None, ["count", "amount"]):
            with pytest.raises(ad_duckdb.BadInputError) as e:
                ad_duckdb.train(con, "m", f"{folder}/*.parquet", features=features, **BRIEF)
            msg = str(e.value)
            assert "tx_02.parquet" in msg and "being written" in msg and "tx_01" not in msg, msg
    finally:
        con.close()


def test_scoring_a_csv_whose_header_line_comes_again_names_it_with_the_read_that_drops_it(tmp_path: Path) -> None:
    """Scoring such a file said to read 'count' and 'amount' with TRY_CAST, which kept the header's line as a row of
    NULLs, scored on filled-in values and written with the scores as if it were a transaction."""
    source = _header_repeated(tmp_path, 400, 200)
    con = ad_duckdb.connect()
    try:
        ad_duckdb.train(con, "m", f"SELECT TRY_CAST(count AS DOUBLE) AS count, TRY_CAST(amount AS DOUBLE) AS amount "
                        f"FROM '{source}' WHERE id <> 'id'", **FAST)
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.score(con, "m", source)
        msg = str(e.value)
        assert "header" in msg, msg
        fixed = re.search(r"ead it with: (.*)$", msg)
        assert fixed, msg
        assert len(ad_duckdb.score(con, "m", fixed.group(1))) == 400
    finally:
        con.close()


def test_scoring_a_glob_whose_newer_file_holds_a_feature_that_duckdb_changes_notes_it_with_the_read_that_keeps_it(
        tmp_path: Path) -> None:
    """Training on such a glob named the column and the union_by_name read; scoring it did not: a model trained on
    last quarter's files scored this month's folder, January's 'rate' BIGINT and February's DOUBLE, and every one of
    February's 0.05 ... 0.45 was scored as 0, silently. score (a table or the rows), evaluate and the CLI's explain
    now say it as training does; a read by name, or files of one type, get no note."""
    folder = _two_months(tmp_path, "SELECT range AS id, range % 9 + 1 AS count, (range % 3)::BIGINT AS rate, "
                         "range % 2 AS label FROM range(300)",
                         "SELECT 300 + range AS id, range % 9 + 1 AS count, (range % 5) / 10 + 0.05 AS rate, "
                         "range % 2 AS label FROM range(300)")
    fixed = f"read_parquet('{folder}/*.parquet', union_by_name=true)"
    db = str(tmp_path / "m.duckdb")
    con = ad_duckdb.connect(db)
    try:
        ad_duckdb.train(con, "m", fixed, features=["count", "rate"], **FAST)
        calls: dict[str, Callable[[str], object]] = {
            "score": lambda s: ad_duckdb.score(con, "m", s),
            "score into": lambda s: ad_duckdb.score(con, "m", s, into="scores", replace=True),
            "evaluate": lambda s: ad_duckdb.evaluate(con, "m", s, label="label"),
        }
        for what, call in calls.items():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                call(f"{folder}/*.parquet")
            notes = [str(w.message) for w in caught if "union_by_name" in str(w.message)]
            assert len(notes) == 1, (what, [str(w.message) for w in caught])
            assert "its 0.05 is read as 0" in notes[0] and "tx_02.parquet" in notes[0] and fixed in notes[0], notes
            assert "'m@1'" in notes[0], notes
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                call(fixed)
            assert not [w for w in caught if "'rate'" in str(w.message)], (what, [str(w.message) for w in caught])
    finally:
        con.close()
    from click.testing import CliRunner

    from ad_duckdb.cli import cli
    out = CliRunner().invoke(cli, ["explain", db, "m", f"{folder}/*.parquet", "--where", "id = 301"])
    assert out.exit_code == 0, out.output
    assert "its 0.05 is read as 0" in out.output and fixed in out.output, out.output
    out = CliRunner().invoke(cli, ["evaluate", db, "m", f"{folder}/*.parquet", "--label", "label"])
    assert out.exit_code == 0, out.output
    notes = [line for line in out.stderr.splitlines() if "its 0.05 is read as 0" in line]
    assert len(notes) == 1 and notes[0].startswith("note: Model 'm@1'"), out.stderr


@pytest.mark.parametrize("reader", ["pandas", "arrow"])
def test_default_features_leave_out_the_partition_keys_of_a_frame_read_from_a_hive_folder(
        tmp_path: Path, reader: str) -> None:
    """pd.read_parquet('lake') (and pyarrow's read_table) read a hive folder's keys as category (dictionary) columns
    of numbers, which DuckDB reads as INTEGER: train(con, 'm', 'df') took 'month' as a feature (next month's 4 beyond
    every training month, its rows flagged as out of range), and a one-year lake's 'year=2026' stopped the training
    as a constant column. A frame's category columns of numbers are now left out as a path's keys are, with a note."""
    import pandas as pd
    import pyarrow.parquet as pq

    lake = _hive_lake(tmp_path)
    frame = pq.read_table(str(lake)) if reader == "arrow" else pd.read_parquet(str(lake))
    assert "month" in frame.column_names if reader == "arrow" else "month" in frame.columns
    con = ad_duckdb.connect()
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            info = ad_duckdb.train(con, "m", "frame", **BRIEF)
        assert info.features == ["count", "amount"]
        note = next(str(w.message) for w in caught if "partition" in str(w.message))
        assert "'month' (" in note and "category" in note and "features=['month', 'count', 'amount']" in note, note
        # named, it is trained on
        assert ad_duckdb.train(con, "m2", "frame", features=["month", "count"], **BRIEF).features == ["month", "count"]
    finally:
        con.close()


def test_a_name_with_two_neighbouring_letters_swapped_gets_did_you_mean() -> None:
    """--time dya for a column 'day': difflib's ratio of two three-letter names with two letters swapped is 0.67,
    under the 0.75 cutoff, so the message offered nothing; a swap of neighbours is the commonest typo."""
    from ad_duckdb.closenames import close_names, did_you_mean
    assert did_you_mean("dya", ["day", "value", "diff"]) == " Did you mean 'day'?"
    assert close_names("TS", ["st", "value"]) == ["st"]
    assert close_names("amuont", ["amount", "account"])[0] == "amount"
    assert close_names("xyz", ["day", "value"]) == []
