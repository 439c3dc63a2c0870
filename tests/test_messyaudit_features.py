"""A messy table trained with default features: the fix a refused column's error gives must be the whole fix."""

from __future__ import annotations

import shlex
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb import mostlynull
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import ConstantColumnsError, UnusableColumnsError

# Eight measured columns, a quoted and spaced name among them, an id (left out by the default) and a constant.
_MESSY = ('''CREATE TABLE messy AS SELECT i AS "Tx ID", random() AS a, random() * 2 AS b, random() * 3 AS c,
    random() * 4 AS d, (random() * 1000)::DECIMAL(18, 4) AS "Amount ""USD""", (i % 7)::HUGEINT AS "Channel Code",
    random() AS e, random() AS "F f", 7 AS const_col FROM range(300) r(i)''')
_OTHERS = ["a", "b", "c", "d", 'Amount "USD"', "Channel Code", "e", "F f"]


def _messy(path: Path) -> str:
    db = str(path / "messy.duckdb")
    with duckdb.connect(db) as con:
        con.execute(_MESSY)
    return db


def test_constant_column_without_features_is_left_out_with_a_note(tmp_path: Path) -> None:
    # Trained without features=, a constant column stopped training with "drop it from features": the user had
    # named none, so had to rebuild the list of eight columns the default chose. Since then (looks2) the default
    # leaves it out with a note, as PyOD and scikit-learn's scalers take such a column; named, it still fails.
    con = ad_duckdb.connect(_messy(tmp_path))
    with pytest.warns(ad_duckdb.AdDuckDBWarning) as got:
        info = ad_duckdb.train(con, "m", "messy", progress=False, max_steps=5)
    assert list(info.features) == _OTHERS
    message = next(str(w.message) for w in got if "left out" in str(w.message) and "const_col" in str(w.message))
    assert "'const_col' (" in message and "in every row)" in message, message
    with warnings.catch_warnings(), pytest.raises(ConstantColumnsError) as refused:
        warnings.simplefilter("ignore")
        ad_duckdb.train(con, "m", "messy", features=[*_OTHERS, "const_col"], progress=False, max_steps=5)
    assert refused.value.columns == ["const_col"]


def test_cli_constant_column_note_names_every_other_feature(tmp_path: Path) -> None:
    # The command line's example named the first three columns ("e.g. -f a -f b -f c"): pasted, it trained on three
    # of the eight measured columns without a word. The note's way to keep the constant column names them all,
    # quoted for the shell.
    db = _messy(tmp_path)
    res = CliRunner().invoke(cli, ["train", db, "m", "messy", "--epochs", "1"])
    assert res.exit_code == 0, res.output
    note = next(x for x in res.stderr.splitlines() if "'const_col' (" in x)
    flags = " ".join(f"-f {shlex.quote(c)}" for c in [*_OTHERS, "const_col"])
    assert f"{flags} --constant-columns keep" in note, note
    assert "features (a, b, c, d, Amount \"USD\", Channel Code, e, F f)" in res.stdout, res.stdout


def test_wide_table_constant_column_is_left_out_with_a_note() -> None:
    # 40 columns are too many to paste as features=: the constant one is left out, and the note lists no flags.
    con = ad_duckdb.connect(":memory:")
    cols = ", ".join(f"random() AS x{k}" for k in range(40))
    con.execute(f'CREATE TABLE wide AS SELECT {cols}, 0 AS "Zero col" FROM range(300)')
    with pytest.warns(ad_duckdb.AdDuckDBWarning) as got:
        info = ad_duckdb.train(con, "w", "wide", progress=False, max_steps=5)
    assert len(info.features) == 40 and "Zero col" not in info.features
    message = next(str(w.message) for w in got if "left out" in str(w.message))
    assert "'Zero col' (0 in every row)" in message and "-f x0" not in message, message


def _typed(con: duckdb.DuckDBPyConnection) -> None:
    # amounts depend on the type: code 30's amounts are ten times smaller than code 20's, not between 20's and 40's
    con.execute("""CREATE TABLE tx AS SELECT i AS id, [10, 20, 30, 40, 50, 60][i % 6 + 1]::INTEGER AS "Payment Type",
        [100, 1000, 10, 5000, 300, 50][i % 6 + 1] * (1 + (i * 7919 % 97) / 500) AS amount, i % 5 AS refunds,
        (i % 2)::INTEGER AS channel, i % 4 AS risk_level FROM range(600) r(i)""")


def test_training_notes_an_integer_category_code_read_as_a_number() -> None:
    # "Payment Type" holds six codes naming kinds; as one number, code 30 lay between 20 and 40 and its rows were
    # judged beside theirs. On six types, 100 rows planted with another type's amount were 22 of the top 100 scores
    # with the code as a number, 62 with one 0/1 column per code; training said nothing of it.
    con = ad_duckdb.connect(":memory:")
    _typed(con)
    with pytest.warns(ad_duckdb.AdDuckDBWarning, match="looks like a category code") as got:
        ad_duckdb.train(con, "m", "tx", features=["Payment Type", "amount", "refunds", "channel", "risk_level"],
                        progress=False, max_steps=5)
    coded = [str(w.message) for w in got if "category code" in str(w.message)]
    assert len(coded) == 1, coded
    message = coded[0]
    assert "column 'Payment Type' looks like a category code" in message, message
    assert "6 distinct values: 10, 20, 30, 40, 50, 60" in message, message
    # 0/1 channel is its own one-hot; refunds and risk_level are not named as codes
    assert "'channel'" not in message and "'refunds'" not in message and "'risk_level'" not in message, message
    query = message.split("score with the same query: ")[1].split(", with its 0/1 columns")[0]
    assert query.startswith('SELECT *, ("Payment Type" = 10)::INTEGER AS "Payment Type_10"'), query
    assert query.endswith('FROM "tx"'), query
    assert "-f amount" not in message and "CLI" not in message, message  # from Python: no command-line flags
    # the query it gives trains, with no note on the codes
    hot = [f"Payment Type_{c}" for c in (10, 20, 30, 40, 50, 60)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = ad_duckdb.train(con, "m_hot", query, features=[*hot, "amount", "refunds"], progress=False, max_steps=5)
    assert list(info.features) == [*hot, "amount", "refunds"]


def test_no_category_code_note_for_measures_or_many_codes() -> None:
    con = ad_duckdb.connect(":memory:")
    con.execute("""CREATE TABLE t AS SELECT i % 5 AS "Count", random() AS amount, (i % 200)::INTEGER AS zip_code,
        (i % 3)::DOUBLE AS type_share FROM range(600) r(i)""")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # a count of few values, a code with 200 values (too many to write out), a DOUBLE named so
        ad_duckdb.train(con, "m", "t", features=["Count", "amount", "zip_code", "type_share"], progress=False,
                        max_steps=5)


def test_mostly_null_note_says_the_rows_with_a_value_take_the_flags() -> None:
    # A column filled in 5% of the rows by design (not a broken feed): the note said to leave it out only "if its
    # values are missing by mistake", yet the default threshold's flags went to the rows that have a value. On the
    # messy transactions table, those 1000 rows (5%) held about 180 of the 200 flags (18% of them flagged, against
    # 0.1% of the others), and the planted anomalies' AUC fell from 0.998 without the column to 0.973 with it.
    con = ad_duckdb.connect(":memory:")
    con.execute("""CREATE TABLE t AS SELECT i AS id, 10 + (i * 7919 % 101) / 10.0 AS a,
        2 * (10 + (i * 7919 % 101) / 10.0) + (i * 104729 % 13) / 10.0 AS b,
        CASE WHEN i % 20 = 0 THEN 100 + (i * 15485863 % 997) END AS sparse FROM range(4000) r(i)""")
    with pytest.warns(ad_duckdb.AdDuckDBWarning, match="NULL or NaN in 95.00%") as got:
        ad_duckdb.train(con, "m", "t", features=["a", "b", "sparse"], progress=False, max_steps=300)
    message = next(str(w.message) for w in got if "NULL or NaN in" in str(w.message))
    scores = con.execute("""SELECT sparse IS NOT NULL AS has, count(*) AS n,
        count(*) FILTER (WHERE is_anomaly('m', a, b, sparse)) AS flagged FROM t GROUP BY ALL""").fetchall()
    split = {has: (n, flagged) for has, n, flagged in scores}
    n_has, f_has = split[True]
    n_not, f_not = split[False]
    assert f_has / n_has > 2 * f_not / n_not, split  # the case the note is for
    assert (f"the {n_has} training rows with a value hold {f_has} of the {f_has + f_not} rows the default "
            "threshold flags") in message, message
    assert "whether or not its values are missing by mistake" in message, message


def test_mostly_null_split_said_only_when_the_rows_with_a_value_take_the_flags() -> None:
    # 4000 rows, 5% with a value; the default threshold (1%) flags 40 rows. Spread evenly, the note says nothing more.
    X = np.column_stack([np.arange(4000.0), np.where(np.arange(4000) % 20 == 0, 1.0, np.nan)])
    even = np.where(np.arange(4000) % 100 == 1, 10.0, 1.0)  # 40 flagged, 2 of them (5%) with a value
    split = mostlynull.flag_split(X, ["a", "sparse"], even, 0.01)
    assert split == {"sparse": (200, 0, 3800, 40)} and not mostlynull.lopsided(split["sparse"])
    taken = np.where(np.arange(4000) % 20 == 0, 10.0, 1.0) + np.arange(4000) * 1e-6  # the rows with a value on top
    split = mostlynull.flag_split(X, ["a", "sparse"], taken, 0.01)
    assert split["sparse"][1] == 40 and mostlynull.lopsided(split["sparse"])
    with pytest.warns(ad_duckdb.AdDuckDBWarning) as got:
        mostlynull.warn_mostly_null("m", ["a", "sparse"], {"sparse": 3800}, 4000, None,
                                    flags=mostlynull.flag_split(X, ["a", "sparse"], even, 0.01))
    assert "training rows with a value hold" not in str(got[0].message)
    assert "If its values are missing by mistake" in str(got[0].message)


def test_lost_digits_column_error_without_features_lists_the_others() -> None:
    # A HUGEINT near 1e20 reads as one DOUBLE; its error's "if it is constant, drop it from features" left the user
    # who had named none to rebuild the list, as the constant column's error did.
    con = ad_duckdb.connect(":memory:")
    con.execute("""CREATE TABLE h AS SELECT 100000000000000000000::HUGEINT + (i % 1000)::HUGEINT AS serial_no,
        random() AS x, random() * 5 AS "Y y" FROM range(300) r(i)""")
    message = _refused_without_features(con, "h")
    assert "'serial_no' reads as one value" in message, message
    assert "features=['x', 'Y y']." in message and "CLI" not in message, message


def test_no_category_code_note_for_counts_of_codes() -> None:
    # status_changes (how often an order's status changed: 0-4) and channel_count (how many channels a customer
    # used: 1-6) are measures whose names hold a code word; they got the category-code note, which told the user to
    # split a count into one 0/1 column per value. A name with a counting word is a measure.
    con = ad_duckdb.connect(":memory:")
    con.execute("""CREATE TABLE t AS SELECT i % 5 AS status_changes, 1 + i % 6 AS channel_count,
        (i % 4) AS "Num Categories", random() AS amount FROM range(600) r(i)""")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ad_duckdb.train(con, "m", "t", features=["status_changes", "channel_count", "Num Categories", "amount"],
                        progress=False, max_steps=5)


def test_unusable_columns_without_features_are_all_left_out() -> None:
    # Two empty columns and a constant one among the measures: the first empty column's error offered
    # features=[...] holding the second empty one and the constant one, which pasted failed again, one column at a
    # time. The default now leaves every column that cannot train out, with one note naming each.
    con = ad_duckdb.connect(":memory:")
    con.execute("""CREATE TABLE e AS SELECT random() AS a, NULL::DOUBLE AS empty1, random() * 3 AS b,
        NULL::DOUBLE AS empty2, 5.0 AS const FROM range(300) r(i)""")
    with pytest.warns(ad_duckdb.AdDuckDBWarning) as got:
        info = ad_duckdb.train(con, "e", "e", progress=False, max_steps=5)
    assert list(info.features) == ["a", "b"]
    message = next(str(w.message) for w in got if "left out" in str(w.message))
    for part in ("'empty1' (no value", "'empty2' (no value", "'const' (5 in every row)", "Features: a, b."):
        assert part in message, message


def _refused_without_features(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The UnusableColumnsError's message of training a model on ``table`` without features=."""
    with warnings.catch_warnings(), pytest.raises(UnusableColumnsError) as got:
        warnings.simplefilter("ignore")
        ad_duckdb.train(con, table, table, progress=False, max_steps=5)
    return str(got.value)
