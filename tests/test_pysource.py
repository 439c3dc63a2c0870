"""Sources that are Python objects in the caller's code: a DataFrame or Arrow table named as the source, as
``con.sql("SELECT * FROM df")`` reads it."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import ad_duckdb
from ad_duckdb.exceptions import BadInputError

from conftest import FAST


def _frame(n: int = 1500) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    count = rng.poisson(8, n) + 1.0
    amount = np.round(count * rng.lognormal(3.0, 0.25, n), 2)
    label = np.zeros(n, dtype=int)
    count[:15], amount[:15], label[:15] = 1.0, 5000.0, 1  # a tiny count with a huge amount
    return pd.DataFrame({"count": count, "amount": amount, "label": label})


@pytest.mark.parametrize("var", ["df", "source", "X", "cur", "value"])
def test_a_dataframe_is_read_by_its_variable_name_in_every_function(var: str) -> None:
    """Also under names our own functions use for their variables ('source', 'X', 'cur', ...), which DuckDB,
    looking in every frame, would have found first."""
    con = ad_duckdb.connect(":memory:")
    scope = {var: _frame(), "con": con, "ad_duckdb": ad_duckdb, "FAST": FAST}

    def run(call: str) -> object:
        """``call`` run by code whose local variables are ``scope``, as a notebook cell's are."""
        env = dict(scope)
        exec(f"result = {call}", {}, env)  # noqa: S102
        return env["result"]

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = run(f"ad_duckdb.train(con, 'm', {var!r}, features=['count', 'amount'], where='label = 0', **FAST)")
        assert info.train_rows == 1485
        assert run(f"ad_duckdb.evaluate(con, 'm', {var!r}, label='label')").auc_roc > 0.95
        assert run(f"ad_duckdb.score(con, 'm', {var!r}, columns=['label'])").num_rows == 1500
        top = run(f"ad_duckdb.api.top_scored(con, 'm', {var!r}, 15, columns=['label'])")
        assert sum(top.column("label").to_pylist()) >= 14
        # the SQL functions were always fine: DuckDB looks in the frame that runs the query, the caller's
        got = run(f"con.sql(\"SELECT count(*) FROM {var} WHERE is_anomaly('m', count, amount)\").fetchall()")
        assert got[0][0] >= 15
    finally:
        con.close()


def test_a_query_reading_dataframes_and_arrow_tables() -> None:
    df = _frame()
    tbl = pa.Table.from_pandas(df)  # noqa: F841  (read by its name in the SQL below)
    con = ad_duckdb.connect(":memory:")
    try:
        info = ad_duckdb.train(con, "m", "SELECT count, amount FROM df WHERE label = 0", **FAST)
        assert info.train_rows == 1485
        assert ad_duckdb.evaluate(con, "m", "SELECT * FROM tbl", label="label").auc_roc > 0.95
        # a table of the name comes first, as in DuckDB's own queries; it was read without a word, so a notebook
        # whose DataFrame changed after a CREATE TABLE df AS SELECT * FROM df scored the stale table
        con.execute("CREATE TABLE df AS SELECT 10.0 AS count, 300.0 AS amount FROM range(7)")
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"'df' names both a table or view in the database and a "
                          r"DataFrame.*reads the table.*DROP TABLE df") as w:
            assert ad_duckdb.score(con, "m", "df").num_rows == 7
        assert {x.filename for x in w} == {__file__}  # pointing at the caller's line
    finally:
        con.close()


def test_a_dataframe_read_as_duckdb_reads_it_quoted_qualified_or_in_a_from_list() -> None:
    """DuckDB's own con.sql reads a DataFrame named like a keyword in quotes ("order"), as main.df, and every
    name of a FROM list; ours registered only a bare name after FROM or JOIN, so these got 'Table with name order
    does not exist'."""
    order = _frame()  # noqa: F841  (read by its name in the SQL below)
    extra = pd.DataFrame({"k": [1, 2]})  # noqa: F841
    con = ad_duckdb.connect(":memory:")
    try:
        assert ad_duckdb.train(con, "m", 'SELECT count, amount FROM "order" WHERE label = 0', **FAST).train_rows == 1485
        assert ad_duckdb.score(con, "m", "main.order").num_rows == 1500
        assert ad_duckdb.score(con, "m", '"order"').num_rows == 1500
        assert ad_duckdb.score(con, "m", "SELECT o.* FROM main.\"order\" o, extra WHERE extra.k = 1").num_rows == 1500
    finally:
        con.close()


def test_a_dataframe_in_a_user_module_whose_name_starts_like_ours(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller's frame was the first whose module name did not start with 'ad_duckdb', so the code of a user's
    module named ad_duckdb_jobs was passed over and its DataFrame not found."""
    (tmp_path / "ad_duckdb_jobs.py").write_text(
        "import ad_duckdb\n"
        "def run(con, frame, params):\n"
        "    nightly = frame\n"
        "    return ad_duckdb.train(con, 'm', 'nightly', features=['count', 'amount'], **params)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import ad_duckdb_jobs

    con = ad_duckdb.connect(":memory:")
    try:
        assert ad_duckdb_jobs.run(con, _frame(), FAST).train_rows == 1500
    finally:
        con.close()


def test_a_dataframe_passed_itself_is_told_to_pass_its_name() -> None:
    frame_of_rows = _frame()
    con = ad_duckdb.connect(":memory:")
    try:
        with pytest.raises(BadInputError, match="pass the name of its variable instead, in quotes: 'frame_of_rows'"):
            ad_duckdb.train(con, "m", frame_of_rows, **FAST)
        assert ad_duckdb.list_models(con) == []
    finally:
        con.close()


def test_a_misspelt_dataframe_name_is_named_with_the_dataframe_meant() -> None:
    """A typo in a DataFrame's name got DuckDB's catalog error, whose "Did you mean" offered 'ad_models or
    pg_depend', with no model named and DataFrames missing from the sources it listed."""
    con = ad_duckdb.connect(":memory:")
    try:
        orders = _frame()
        ad_duckdb.train(con, "m", "orders", features=["count", "amount"], **FAST)
        with pytest.raises(BadInputError) as e:
            ad_duckdb.train(con, "m2", "order", **FAST)
        msg = str(e.value)
        assert msg.startswith("Model 'm2': cannot read the source 'order'") and "Did you mean 'orders'?" in msg, msg
        assert "ad_models" not in msg and "pg_depend" not in msg and "DataFrame" in msg
        with pytest.raises(BadInputError, match=r"^Model 'm@1': cannot read the source 'ordres'.*'orders'"):
            ad_duckdb.score(con, "m", "ordres")
        # a view whose table is gone keeps DuckDB's own words: the name exists, its table does not
        con.execute("CREATE TABLE base AS SELECT * FROM orders")
        con.execute("CREATE VIEW v AS SELECT * FROM base")
        con.execute("DROP TABLE base")
        with pytest.raises(BadInputError, match=r"cannot read the source 'v': Catalog Error.*base"):
            ad_duckdb.score(con, "m", "v")
        del orders
    finally:
        con.close()


def test_a_source_only_the_callers_connection_sees_is_named_with_why(tmp_path: Path) -> None:
    """A TEMP view or table, a table made in the caller's open transaction, or a table of the database chosen by USE:
    the caller's own queries read them, but ad_duckdb reads through cursors of its own, which do not; the error
    said the source "does not exist as a table or view in this database"."""
    con = ad_duckdb.connect(":memory:")
    try:
        orders = _frame()
        con.execute("CREATE TABLE base AS SELECT * FROM orders")
        del orders
        ad_duckdb.train(con, "m", "base", features=["count", "amount"], **FAST)
        con.execute("CREATE TEMP VIEW recent AS SELECT * FROM base WHERE label = 0")
        con.execute("CREATE TEMP TABLE snap AS SELECT * FROM base")
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"^Model 'm2': cannot read the source 'recent': it is a "
                           r"TEMP view.*CREATE VIEW \"recent\" AS .*the source: 'SELECT \* FROM base WHERE "
                           r"\(\"label\" = 0\)'"):
            ad_duckdb.train(con, "m2", "recent", **FAST)
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"^Model 'm@1': cannot read the source 'snap': it is a "
                           r"TEMP table.*CREATE TABLE \"snap\" AS \.\.\., without TEMP"):
            ad_duckdb.score(con, "m", "snap")
        # the view's query, as the message offers, is read
        assert ad_duckdb.score(con, "m", 'SELECT * FROM base WHERE ("label" = 0)').num_rows == 1485
        con.execute("BEGIN")
        con.execute("CREATE TABLE staging AS SELECT * FROM base")
        for source in ("staging", "SELECT * FROM staging"):
            with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"cannot read the source .*staging.*created in "
                               r"this connection's open transaction \(BEGIN without COMMIT\).*COMMIT first"):
                ad_duckdb.score(con, "m", source, into="scored")
        with pytest.raises(ad_duckdb.SourceNotFoundError, match="open transaction"):
            ad_duckdb.evaluate(con, "m", "staging", label="label")
        con.execute("COMMIT")
        assert ad_duckdb.score(con, "m", "staging", into="scored") == 1500
        # USE another database: a cursor starts in the default one, and reads the caller's table of the name
        # (callerview.follow_caller)
        con.execute(f"ATTACH '{tmp_path / 'other.duckdb'}' AS other")
        con.execute("CREATE TABLE other.tx AS SELECT * FROM base LIMIT 700")
        con.execute("USE other")
        assert ad_duckdb.train(con, "m3", "tx", features=["count", "amount"], **FAST).train_rows == 700
        assert ad_duckdb.train(con, "m3", "other.main.tx", features=["count", "amount"], **FAST).train_rows == 700
        # a source that no one can read keeps its message
        with pytest.raises(ad_duckdb.SourceNotFoundError, match="'nothere': it does not exist as a table or view"):
            ad_duckdb.score(con, "m", "nothere")
    finally:
        con.close()


def test_a_name_the_callers_connection_reads_elsewhere_is_read_there_or_refused(tmp_path: Path) -> None:
    """The same table name in two schemas (main.tx and analytics.tx), as warehouses have: after USE analytics, SET
    search_path or a TEMP table of the name, ad_duckdb's own cursor still read main.tx, so train(con, 'm', 'tx')
    trained on other rows than the user's FROM tx reads, and score(into='scored', replace=True) replaced main.scored,
    all without a word. A source now reads the caller's table (callerview.follow_caller); a target table and a
    TEMP table are refused, naming both tables and the qualified name; qualified names work as before. (A target
    named without a schema is now the caller's: score(into=) writes where the caller's CREATE TABLE would.)"""
    con = ad_duckdb.connect(str(tmp_path / "wh.duckdb"))
    try:
        con.execute("CREATE SCHEMA analytics")
        con.register("frame", _frame(300))
        con.execute("CREATE TABLE analytics.tx AS SELECT count, amount, label FROM frame")
        con.execute("CREATE TABLE main.tx AS SELECT count * 100 AS count, amount * 100 AS amount, label FROM frame")
        con.execute("CREATE TABLE analytics.scored AS SELECT 1 AS a")
        con.execute("CREATE TABLE main.scored AS SELECT 1 AS a")
        con.unregister("frame")
        ad_duckdb.train(con, "m", "analytics.tx", features=["count", "amount"], **FAST)
        con.execute("USE analytics")
        normal = con.execute("SELECT count(*) FROM analytics.tx WHERE label = 0").fetchall()[0][0]
        for source, rows in (("tx", 300), ("SELECT * FROM tx WHERE label = 0", normal)):
            assert ad_duckdb.train(con, "m2", source, features=["count", "amount"], **FAST).train_rows == rows
        ad_duckdb.drop_model(con, "m2")
        assert ad_duckdb.score(con, "m", "tx").column("anomaly_score").to_pylist() == \
            ad_duckdb.score(con, "m", "analytics.tx").column("anomaly_score").to_pylist()
        assert ad_duckdb.evaluate(con, "m", "tx", label="label").rows == 300
        # a target named without a schema: the table the caller's connection finds (or would create) for it
        assert ad_duckdb.score(con, "m", "analytics.tx", into="scored", replace=True) == 300
        assert ad_duckdb.score(con, "m", "analytics.tx", into="fresh") == 300
        assert con.execute("SELECT (SELECT count(*) FROM analytics.scored), (SELECT count(*) FROM analytics.fresh)"
                           ).fetchall() == [(300, 300)]
        assert [m["name"] for m in ad_duckdb.list_models(con)] == ["m"]
        assert con.execute("SELECT * FROM main.scored").fetchall() == [(1,)]
        # named in full, each is the table the user means
        assert ad_duckdb.train(con, "m2", "analytics.tx", features=["count", "amount"], **FAST).train_rows == 300
        assert ad_duckdb.score(con, "m", "analytics.tx", into="analytics.scored", replace=True) == 300
        assert con.execute("SELECT * FROM main.scored").fetchall() == [(1,)]
        con.execute("USE wh.main")
        con.execute("SET search_path = 'analytics,main'")
        assert ad_duckdb.train(con, "m3", "SELECT count, amount FROM tx", **FAST).train_rows == 300
        con.execute("RESET search_path")
        con.execute("CREATE TEMP TABLE tx AS SELECT * FROM analytics.tx LIMIT 50")
        with pytest.raises(BadInputError, match=r"'tx' reads \"temp\".main.tx on your connection \(a TEMP table or "
                           r"view, which only that connection sees\).*reads wh.main.tx\. Create it as a plain table"):
            ad_duckdb.score(con, "m", "tx")
        con.execute("DROP TABLE temp.tx")
        assert ad_duckdb.score(con, "m", "tx").num_rows == 300  # back to one table of the name: read as before
    finally:
        con.close()


def test_a_cte_named_like_a_temp_table_is_read_not_refused() -> None:
    """A query's own CTE shadows a TEMP table of the name (WITH recent AS (SELECT ... FROM main.tx) SELECT * FROM
    recent reads main.tx on every connection), yet the check took the CTE's name for the TEMP table and refused the
    query. A TEMP table read outside the CTE's scope, or inside its own (non-recursive) body, is still refused."""
    con = ad_duckdb.connect(":memory:")
    try:
        orders = _frame(300)
        con.execute("CREATE TABLE tx AS SELECT * FROM orders")
        del orders
        ad_duckdb.train(con, "m", "tx", features=["count", "amount"], **FAST)
        con.execute("CREATE TEMP TABLE recent AS SELECT * FROM tx LIMIT 5")
        for query in ("WITH recent AS (SELECT * FROM main.tx) SELECT * FROM recent",
                      "WITH base AS (SELECT * FROM tx), recent AS (SELECT * FROM base) SELECT * FROM recent",
                      "SELECT * FROM (WITH recent AS (SELECT * FROM tx) SELECT * FROM recent)"):
            assert ad_duckdb.score(con, "m", query).num_rows == 300, query
        # a query reading the TEMP table said "created in this connection's open transaction": none was open
        for query in ("SELECT * FROM (WITH recent AS (SELECT * FROM tx) SELECT * FROM recent) UNION ALL "
                      "SELECT * FROM recent",
                      "SELECT * FROM recent"):
            with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"cannot read the source .*: it reads 'recent', a "
                               r"TEMP table, which only the connection that created it sees.*CREATE TABLE \"recent\" "
                               r"AS \.\.\., without TEMP"):
                ad_duckdb.score(con, "m", query)
        con.execute("CREATE TABLE main.recent AS SELECT * FROM tx")  # now both read, other tables
        for query in ("SELECT * FROM (WITH recent AS (SELECT * FROM tx) SELECT * FROM recent) UNION ALL "
                      "SELECT * FROM recent",
                      "WITH recent AS (SELECT * FROM recent) SELECT * FROM recent"):
            with pytest.raises(BadInputError, match=r"reads \"temp\".main.recent on your connection"):
                ad_duckdb.score(con, "m", query)
    finally:
        con.close()


def test_a_two_dimensional_numpy_array_is_refused_not_read_transposed() -> None:
    """DuckDB reads a 2-D numpy array with each of its rows as a column: X of shape (300, 25) trained a model of
    300 features on 25 rows without a word, and scoring X gave 25 rows. A 1-D array (one column) still reads."""
    X = np.random.default_rng(0).normal(size=(300, 25))
    amounts = np.random.default_rng(1).lognormal(3.0, 0.5, 300)
    con = ad_duckdb.connect(":memory:")
    try:
        with pytest.raises(BadInputError, match=r"'X' is a numpy array of shape \(300, 25\), which DuckDB reads with "
                                                r"each row as a column.*pd.DataFrame\(X, columns="):
            ad_duckdb.train(con, "m", "X", **FAST)
        with pytest.raises(BadInputError, match=r"'X' is a numpy array"):
            ad_duckdb.train(con, "m", "SELECT * FROM X", **FAST)
        assert ad_duckdb.list_models(con) == []
        assert ad_duckdb.train(con, "m", "amounts", **FAST).train_rows == 300
        with pytest.raises(BadInputError, match=r"'X' is a numpy array"):
            ad_duckdb.score(con, "m", "X")
        del X, amounts  # read by name only
    finally:
        con.close()


def test_the_refusal_of_an_array_gives_a_fix_that_works_in_either_orientation_and_for_3d() -> None:
    """An array of shape (2, 300) built from two columns (np.array([amount, count])) was told to become
    pd.DataFrame(X, columns=[...]): 2 rows of 300 features; a 3-D array was told the same, which pandas refuses."""
    rng = np.random.default_rng(2)
    C = np.array([rng.lognormal(3.0, 0.5, 300), rng.normal(size=300)])
    B = np.zeros((300, 3, 2))
    con = ad_duckdb.connect(":memory:")
    try:
        with pytest.raises(BadInputError, match=r"\(2 columns of 300 values\).*with 300 names if each row of C is a "
                                                r"record.*pd.DataFrame\(C.T, columns=\[...\]\) with 2 names if each row "
                                                r"of C is a column"):
            ad_duckdb.train(con, "m", "C", **FAST)
        C_df = pd.DataFrame(C.T, columns=["amount", "count"])
        assert ad_duckdb.train(con, "m", "C_df", **FAST).train_rows == 300
        with pytest.raises(BadInputError, match=r"shape \(300, 3, 2\); a source has rows and columns only.*"
                                                r"pd.DataFrame\(B.reshape\(300, -1\)") as e:
            ad_duckdb.train(con, "m3", "B", **FAST)
        assert "each row as a column" not in str(e.value)
        B_df = pd.DataFrame(B.reshape(300, -1) + rng.normal(size=(300, 6)), columns=list("abcdef"))
        assert ad_duckdb.train(con, "m3", "B_df", **FAST).train_rows == 300
        del C_df, B_df  # read by name only
    finally:
        con.close()


def test_a_duckdb_relation_or_a_dict_of_arrays_is_read_by_its_name_as_duckdb_reads_it() -> None:
    """The caller's own con.sql reads a relation (rel = con.sql(...)) and a dict of numpy arrays by name; ours said
    the source "does not exist ... nor as a DataFrame or Arrow table variable", about a variable right there. A
    relation of another connection, which DuckDB cannot read here, got the same words instead of why and the fix."""
    df = _frame()
    con = ad_duckdb.connect(":memory:")
    try:
        normal = con.sql("SELECT count, amount FROM df WHERE label = 0")  # noqa: F841  (read by its name below)
        assert ad_duckdb.train(con, "m", "normal", **FAST).train_rows == 1485
        cols = {"count": df["count"].to_numpy(), "amount": df["amount"].to_numpy(),  # noqa: F841
                "label": df["label"].to_numpy()}
        want = ad_duckdb.score(con, "m", "df").column("anomaly_score")
        assert ad_duckdb.score(con, "m", "cols").column("anomaly_score").equals(want)
        assert ad_duckdb.evaluate(con, "m", "cols", label="label").auc_roc > 0.95
        everything = con.sql("SELECT * FROM df")  # noqa: F841
        assert ad_duckdb.score(con, "m", "SELECT * FROM everything").column("anomaly_score").equals(want)
        assert ad_duckdb.score(con, "m", "everything", into="scored") == 1500
        elsewhere = duckdb.connect().sql("SELECT * FROM df")  # noqa: F841
        with pytest.raises(BadInputError, match=r"'elsewhere' is a DuckDB relation of another connection.*"
                                                r"elsewhere_tbl = elsewhere.to_arrow_table\(\).*'elsewhere_tbl'"):
            ad_duckdb.score(con, "m", "elsewhere")
    finally:
        con.close()


def test_a_view_over_a_registered_dataframe_says_so_not_an_open_transaction() -> None:
    """A plain view over a DataFrame registered on the connection (con.register; dbt-duckdb's plugin source
    materialized as a view is one): ad_duckdb's cursor finds the view but not the DataFrame, and the error blamed "an
    open transaction (BEGIN without COMMIT)" that was never opened. The registered DataFrame named itself got the
    fix of a TEMP view, with a query of DuckDB's internal scan to pass."""
    con = ad_duckdb.connect(":memory:")
    try:
        con.register("raw_orders", _frame())
        con.execute("CREATE VIEW orders_v AS SELECT count, amount FROM raw_orders")
        con.execute("CREATE VIEW big_orders AS SELECT * FROM orders_v WHERE amount > 10")  # a view over the view
        registered = (r"a DataFrame \(or other Python object\) registered on your connection \(con.register\), which "
                      r"only that connection sees.*Create a table from it \(CREATE TABLE \"raw_orders_table\" AS SELECT "
                      r"\* FROM \"raw_orders\"\) and read that, or pass the DataFrame itself")
        for source, through in [("orders_v", "orders_v"), ("SELECT * FROM orders_v", "orders_v"),
                                ("big_orders", "big_orders")]:
            with pytest.raises(ad_duckdb.SourceNotFoundError, match=rf"^Model 'm': cannot read the source "
                               rf"'{re.escape(source)}': it reads 'raw_orders' \(through the view '{through}'\), "
                               f"{registered}") as e:
                ad_duckdb.train(con, "m", source, **FAST)
            assert "BEGIN without COMMIT" not in str(e.value)
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=rf"'raw_orders': it is {registered}"):
            ad_duckdb.train(con, "m", "raw_orders", **FAST)
        # the fix the message gives works, and scoring the view says the same
        con.execute('CREATE TABLE "raw_orders_table" AS SELECT * FROM "raw_orders"')
        ad_duckdb.train(con, "m", "raw_orders_table", features=["count", "amount"], **FAST)
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=rf"^Model 'm@1': .*'orders_v'\), {registered}"):
            ad_duckdb.score(con, "m", "orders_v")
    finally:
        con.close()


def test_a_view_over_a_registered_dataframe_is_told_so_beside_a_view_of_its_name_in_another_schema() -> None:
    """The views followed were looked up by name alone, in every schema: a view of the same name in another schema (a
    dbt project's staging.events beside main.events) could stand in for the one read, and the error blamed "an open
    transaction (BEGIN without COMMIT)" again."""
    con = ad_duckdb.connect(":memory:")
    try:
        con.register("raw_events", _frame())
        con.execute("CREATE VIEW events AS SELECT count, amount FROM raw_events")
        con.execute("CREATE SCHEMA staging")
        con.execute("CREATE TABLE staging.t AS SELECT 1.0 AS count, 2.0 AS amount")
        con.execute("CREATE VIEW staging.events AS SELECT * FROM staging.t")
        with pytest.raises(ad_duckdb.SourceNotFoundError, match=r"^Model 'm': cannot read the source 'events': it "
                           r"reads 'raw_events' \(through the view 'events'\), a DataFrame") as e:
            ad_duckdb.train(con, "m", "events", **FAST)
        assert "BEGIN without COMMIT" not in str(e.value)
    finally:
        con.close()
