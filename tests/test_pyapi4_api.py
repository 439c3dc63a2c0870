"""The Python API as a notebook user meets it: bool frame columns, MultiIndex frames, names in messages."""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import ad_duckdb
from ad_duckdb import AutoEncoderDetector
from ad_duckdb.exceptions import BadInputError

from conftest import FAST

PARAMS = {**FAST, "max_steps": 100}


def _flags(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    return pd.DataFrame({"amount": rng.normal(100, 10, n), "is online": rng.random(n) < 0.3})


@pytest.fixture(scope="module")
def fitted() -> AutoEncoderDetector:
    return AutoEncoderDetector(**PARAMS).fit(_flags().astype({"is online": "int8"}))


@pytest.mark.parametrize("kind", ["pandas", "pandas nullable", "polars", "arrow", "duckdb"])
def test_a_bool_column_is_refused_as_sql_refuses_boolean(kind: str, fitted: AutoEncoderDetector) -> None:
    """SQL refuses a BOOLEAN feature (training names it, anomaly_score's binder refuses it as the first argument), so
    the detector refused none and read True as 1: a model fitted on a frame then differed from ad_duckdb.train on
    the same frame (which left the column out). The detector now refuses it too, naming the column and the cast, in
    the frame's own library, in fit and in scoring."""
    df = _flags()
    frame: object = {"pandas": df, "pandas nullable": df.astype({"is online": "boolean"}), "polars": pl.from_pandas(df),
                     "arrow": pa.Table.from_pandas(df), "duckdb": duckdb.from_arrow(pa.Table.from_pandas(df))}[kind]
    fix = {"pandas": "X.astype({'is online': 'int8'})", "pandas nullable": "X.astype({'is online': 'Int8'})",
           "polars": "X.with_columns(pl.col('is online').cast(pl.Int8))",
           "arrow": """duckdb.sql('SELECT * REPLACE ("is online"::INTEGER AS "is online") FROM X')""",
           "duckdb": """X.project('* REPLACE ("is online"::INTEGER AS "is online")')"""}[kind]
    for call in (lambda: AutoEncoderDetector(**PARAMS).fit(frame), lambda: fitted.decision_function(frame),
                 lambda: fitted.explain(frame)):
        with pytest.raises(BadInputError) as e:
            call()
        msg = str(e.value)
        assert "'is online'" in msg and fix in msg and '"is online"::INTEGER' in msg, msg


def _aggregated() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    raw = pd.DataFrame({"amount": rng.normal(100, 10, 2000), "store": np.arange(2000) % 100,
                        "day": np.arange(2000) // 100})
    return raw.groupby(["store", "day"]).agg(["mean", "max"])  # columns ('amount', 'mean'), ('amount', 'max')


def test_a_frame_with_a_multiindex_of_columns_is_told_how_to_flatten_it(fitted: AutoEncoderDetector) -> None:
    """groupby(...).agg([...])'s columns are tuples: the detector and ad_duckdb.train named the features
    "('amount', 'mean')", which SQL then had to quote as such. Both refuse the frame with the call that flattens it;
    its flat names then train and score from SQL. A MultiIndex of rows (the groups) is kept by explain."""
    X = _aggregated()
    for call in (lambda: AutoEncoderDetector(**PARAMS).fit(X), lambda: fitted.decision_function(X)):
        with pytest.raises(BadInputError, match=r"MultiIndex of 2 levels .*X\.columns = \['_'\.join.*'amount_mean'"):
            call()
    con = ad_duckdb.connect(":memory:")
    with pytest.raises(BadInputError, match=r"The DataFrame 'X': the columns of X are a MultiIndex.*X\.columns = "):
        ad_duckdb.train(con, "agg", "X", **PARAMS)
    X.columns = ['_'.join(str(p) for p in c if str(p)) for c in X.columns]
    ad_duckdb.train(con, "agg", "X", **PARAMS)
    assert con.sql("SELECT anomaly_score('agg', amount_mean, amount_max) FROM X").fetchall()
    det = AutoEncoderDetector(**PARAMS).fit(X)
    assert list(det.feature_names_in_) == ["amount_mean", "amount_max"]
    assert det.explain(X).index.names == ["store", "day"]


def _scored_db(tmp_path: object) -> str:
    path = f"{tmp_path}/w.duckdb"
    con = ad_duckdb.connect(path)
    con.execute("CREATE TABLE t AS SELECT (range % 50)::DOUBLE AS a, (range * 7 % 13)::DOUBLE AS b FROM range(300)")
    ad_duckdb.train(con, "m", "t", **FAST)
    con.close()
    return path


def test_score_into_says_the_table_as_sql_reads_it(tmp_path: object) -> None:
    """`score --into 'my scores'` said "wrote 300 scored rows to my scores": pasted into SQL that is two words. The
    report names the table as SQL reads it, quoted where it needs to be, written as given where it is SQL already."""
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    db = _scored_db(tmp_path)
    for into, shown in (("my scores", '"my scores"'), ('"Q1"."x"', '"Q1"."x"'), ("Q1.order", 'Q1."order"'), ("plain", "plain")):
        args = ["score", db, "m", "t", "--into", into]
        res = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert res.exit_code == 0 and f"wrote 300 scored rows to {shown} (model m@1)" in res.output, res.output
        res = CliRunner().invoke(cli, [*args, "--append"], catch_exceptions=False)
        assert res.exit_code == 0 and f"added 300 scored rows to {shown} (now 600 rows" in res.output, res.output
        if into == "my scores":
            duckdb.connect(db).execute("CREATE SCHEMA Q1").close()


def test_into_a_dotted_text_of_two_existing_tables_is_refused_with_both(tmp_path: object) -> None:
    """into='Sales Data.Scores' (no SQL name as written: DuckDB refuses it) is refused with its two readings before
    any scoring, as when neither table exists; before, once a table of the whole name existed in main, --append added
    to it even with "Sales Data".Scores there too, and the report named neither as SQL reads it. Each reading, written
    as SQL reads it, appends to its own table."""
    db = _scored_db(tmp_path)
    con = ad_duckdb.connect(db)
    con.execute('CREATE SCHEMA "Sales Data"')
    ad_duckdb.score(con, "m", "t", into='"Sales Data.Scores"')
    for append in (False, True):
        with pytest.raises(BadInputError) as e:
            ad_duckdb.score(con, "m", "t", into="Sales Data.Scores", append=append)
        msg = str(e.value)
        assert '''into='"Sales Data".Scores\'''' in msg and '''into='"Sales Data.Scores"\'''' in msg, msg
        assert "exists in main" in msg, msg
    ad_duckdb.score(con, "m", "t", into='"Sales Data.Scores"', append=True)
    assert con.execute('SELECT count(*) FROM "Sales Data.Scores"').fetchall() == [(600,)]


def test_explain_lines_keep_to_the_width_in_terminal_columns() -> None:
    """explain's lines were cut by characters: a CJK name or value takes two terminal columns a character, so its
    lines ran to twice the width and the terminal folded them mid-word. They are cut by display width now; the
    spaces that align a column's share and bar are kept."""
    from ad_duckdb import explainlines
    from ad_duckdb.textwidth import width

    W = explainlines.WIDTH
    cells = [f"{'顧客番号' * 2}_{i}='{'東京都港区' * 2}'" for i in range(12)]
    lines = explainlines.row_lines(cells)
    assert all(width(line) <= W for line in lines), [width(line) for line in lines]
    assert "".join(line.strip() for line in lines).replace(",", ", ").startswith("row " + cells[0])
    text = " ".join(["売上金額が訓練時の中央値から大きく離れています"] * 8)
    lines = explainlines.wrapped(text)
    assert len(lines) > 1 and all(width(line) <= W for line in lines), [width(line) for line in lines]
    assert " ".join(line.strip() for line in lines) == text
    head = "  数量" + " " * 16 + "  42.0% ################"
    lines = explainlines.column_lines(head, "(" + "値は中央値の三倍です " * 6 + ")", 20)
    assert lines[0].startswith(head) and all(width(line) <= W for line in lines), lines
    ascii_lines = explainlines.wrapped("word " * 60, first="  ", rest="    ")
    assert ascii_lines[0].startswith("  word") and ascii_lines[1].startswith("    word")
    assert max(map(len, ascii_lines)) <= W


def test_column_lists_in_messages_are_written_as_sql_reads_them() -> None:
    """"takes 3: (Betrag €, n.items, x)" and "its columns: Betrag €, x" named columns a user could not paste into a
    query (a space, a dot); the lists are written as SQL reads them, as the suggested call beside them was."""
    con = ad_duckdb.connect(":memory:")
    rng = np.random.default_rng(0)
    con.execute('CREATE TABLE "sales.q1" AS SELECT unnest(?) AS "Betrag €", unnest(?) AS "n.items", unnest(?) AS x',
                [rng.normal(100, 5, 400).tolist(), rng.normal(1000, 50, 400).tolist(), rng.normal(0, 1, 400).tolist()])
    ad_duckdb.train(con, "m", '"sales.q1"', **PARAMS)
    listed = '"Betrag €", "n.items", x'
    with pytest.raises(duckdb.Error, match=f"takes 3: \\({listed}\\), in this order"):
        con.sql("""SELECT anomaly_score('m', "Betrag €") FROM "sales.q1\"""").fetchall()
    with pytest.raises(ad_duckdb.SourceNotFoundError, match='its columns: "Betrag €", x\\)'):
        ad_duckdb.score(con, "m", 'SELECT "Betrag €", x FROM "sales.q1"')
    with pytest.raises(ad_duckdb.SourceNotFoundError, match=f"its columns: {listed}\\."):
        ad_duckdb.evaluate(con, "m", '"sales.q1"', label="nope")
    with pytest.raises(ad_duckdb.SourceNotFoundError, match=f"its columns are: {listed}\\."):
        ad_duckdb.train(con, "m2", '"sales.q1"', features=["Betrag", "x"], **PARAMS)


def test_a_missing_option_is_told_its_help_with_its_example_whole(tmp_path: object) -> None:
    """`explain` without --where said "(SQL filter selecting the row(s) to explain, e.g)": the help's first sentence
    was cut at the "e.g. " inside it. The example is kept whole."""
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    db = _scored_db(tmp_path)
    res = CliRunner().invoke(cli, ["explain", db, "m", "t"])
    assert res.exit_code == 2, res.output
    assert '''Give it as --where TEXT (SQL filter selecting the row(s) to explain, e.g. "transaction_id = 42").''' \
        in res.output, res.output
    res = CliRunner().invoke(cli, ["train", db, "m2", "t", "--where"])
    assert '''(SQL filter for training rows, e.g. "label = 0" to train on normal rows only).''' in res.output, res.output


def test_scoring_a_frame_by_name_keeps_its_index_as_columns() -> None:
    """A notebook's frame indexed by its ids (set_index('tid'), as the README's detector example does) scored by
    name came back without the ids, DuckDB reads no index: the scores could not be joined back. A note then named
    the index and the reset_index() that keeps it (none for a MultiIndex of unnamed levels, pd.concat's keys). The
    index now comes back as leading columns, as reset_index() makes them; a level named as a column cannot, and the
    note gives the reset_index(names=...) that keeps it; a plain RangeIndex adds nothing."""
    rng = np.random.default_rng(0)
    plain = pd.DataFrame({"count": rng.poisson(5, 300).astype(float), "amount": rng.normal(50, 5, 300)})
    indexed = plain.set_index(pd.Index(np.arange(300) + 1000, name="tid"))  # noqa: F841  (read by its name)
    grouped = plain.set_index(pd.MultiIndex.from_arrays([np.arange(300) % 3, np.arange(300)], names=["store", "i"]))  # noqa: F841  (read by its name)
    concat = pd.concat({"a": plain.iloc[:100], "b": plain.iloc[100:]})  # noqa: F841  (read by its name)
    clash = plain.set_index(pd.Index(np.arange(300), name="count"), drop=False)
    con = ad_duckdb.connect(":memory:")
    ad_duckdb.train(con, "m", "plain", **PARAMS)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ad_duckdb.score(con, "m", "plain").column_names[0] == "count"
        out = ad_duckdb.score(con, "m", "indexed")
        assert out.column_names[0] == "tid" and out["tid"][0].as_py() == 1000
        out = ad_duckdb.score(con, "m", "grouped", columns=["store", "i"])
        assert out.column_names[:2] == ["store", "i"] and out["i"][299].as_py() == 299
        out = ad_duckdb.score(con, "m", "concat")
        assert out.column_names[:2] == ["level_0", "level_1"] and out["level_0"][100].as_py() == "b"
        assert ad_duckdb.score(con, "m", "SELECT * FROM grouped WHERE store = 2").num_rows == 100
        assert ad_duckdb.score(con, "m", "grouped", into="kept") == 300
        assert con.execute("SELECT count(DISTINCT store) FROM kept").fetchall() == [(3,)]
    with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"index of 'clash' \('count'\).*'count' is also a column's "
                                                       r"name.*clash\.reset_index\(names=\['count_index'\]\)") as w:
        out = ad_duckdb.score(con, "m", "clash")
    assert out.column_names[0] == "count", out.column_names
    fixed = next(str(x.message) for x in w if "reset_index" in str(x.message))
    call = re.search(r"clash_r = clash\.reset_index\(names=(\[.*?\])\)", fixed)
    assert call is not None, fixed
    clash_r = clash.reset_index(names=eval(call.group(1)))  # noqa: F841, S307  (read by its name)
    assert ad_duckdb.score(con, "m", "clash_r").column_names[0] == "count_index"
    # training reads the columns alone: an index level of numbers is no feature
    assert ad_duckdb.train(con, "g", "grouped", **PARAMS).features == ["count", "amount"]
