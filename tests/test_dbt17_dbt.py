"""dbt17: the dbt package's checks, with the real dbt executable where it is a behaviour of a run.

Before: the view check's column probe rebuilt the query around the model argument (``SELECT DISTINCT m.model_ref FROM
... WHERE ...``), dropping its HAVING, LIMIT and any filter of an outer query, so a view that reads fine (an outer
``WHERE model = 'two_ae'`` keeps the rows of the model its call fits) failed its build.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from test_dbt14_dbt import _copy, _make_project

import ad_duckdb
from ad_duckdb.dbtcalls import check_views, create_calls_function

from test_dbt import run_dbt


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    c = ad_duckdb.connect(str(tmp_path_factory.mktemp("dbt17_calls") / "wh.duckdb"))
    c.execute("CREATE TABLE tx AS SELECT range AS id, (5 + range % 17)::INTEGER AS count, "
              "((5 + range % 17) * (20 + range % 11))::DOUBLE AS amount, (3 + range % 13)::INTEGER AS cards "
              "FROM range(600)")
    ad_duckdb.train(c, "tx_ae", "tx", features=["count", "amount", "cards"], max_steps=30, seed=0, progress=False)
    ad_duckdb.train(c, "two_ae", "tx", features=["count", "amount"], max_steps=30, seed=0, progress=False)
    # even ids score with the model of three features, odd ones with the model of two
    c.execute("CREATE TABLE seg AS SELECT id, CASE WHEN id % 2 = 0 THEN 'tx_ae' ELSE 'two_ae' END AS model "
              "FROM range(600) AS r(id)")
    create_calls_function(c)  # as the dbt plugin does on dbt's connection
    yield c
    c.close()


def _check(con: duckdb.DuckDBPyConnection, **queries: str) -> dict[str, list[str]]:
    for name, query in queries.items():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {query}")
    return dict(json.loads(check_views(con, json.dumps([["wh", "main", n, n] for n in queries]))))


_TWO = "anomaly_score(s.model, t.count, t.amount)"  # fits two_ae only
_JOIN = "FROM tx t JOIN seg s USING (id)"


@pytest.mark.parametrize("query", [
    f"SELECT * FROM (SELECT s.model, {_TWO} AS a {_JOIN}) WHERE model = 'two_ae'",  # an outer filter
    f"WITH x AS (SELECT s.model, {_TWO} AS a {_JOIN}) SELECT a FROM x WHERE model = 'two_ae'",  # a CTE's reader's
    f"SELECT s.model, anomaly_score(s.model, avg(t.count), avg(t.amount)) {_JOIN} GROUP BY s.model "
    "HAVING s.model = 'two_ae'",  # HAVING
    f"SELECT {_TWO} {_JOIN} LIMIT 0",  # nothing read, nothing called
])
def test_the_column_probe_sees_only_the_model_names_the_query_passes(con: duckdb.DuckDBPyConnection, query: str) -> None:
    con.execute(query).fetchall()  # it reads fine
    out = _check(con, v_ok=query)
    assert out["failed"] == [] and out["notes"] == [], out
    # the same shape letting the other model's rows through fails, naming that model
    bad = query.replace("'two_ae'", "'tx_ae'")
    if bad != query:
        out = _check(con, v_bad=bad)
        assert len(out["failed"]) == 1 and "v_bad builds, but reading it fails: anomaly_score('tx_ae@1', ...) " \
            "got 2 feature" in out["failed"][0], out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dbt14 shop project (its models carry the post-hook ad_duckdb.check_calls()), built once, with a second
    model of two features and a table naming, per row, the model that scores it."""
    work = _make_project(tmp_path_factory.mktemp("dbt17") / "shop")
    proc = run_dbt(["build", "--profiles-dir", "."], work)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    con = ad_duckdb.connect(str(work / "warehouse.duckdb"))
    try:
        ad_duckdb.train(con, "two_ae", "raw.tx", features=["count", "amount"], max_steps=30, seed=0, progress=False)
        con.execute("CREATE TABLE raw.seg AS SELECT id, CASE WHEN id % 2 = 0 THEN 'tx_ae' ELSE 'two_ae' END AS model "
                    "FROM raw.tx")
    finally:
        con.close()
    return work


def test_a_post_hooked_view_is_checked_once_and_by_the_query_it_runs(built: Path, tmp_path: Path) -> None:
    work = _copy(built, tmp_path / "shop")
    (work / "models" / "two_only.sql").write_text(
        "{{ config(materialized='view') }}\n"
        "select * from (select s.model, anomaly_score(s.model, t.count, t.amount) as a\n"
        "               from {{ ref('stg_tx') }} t join raw.seg s using (id)) where model = 'two_ae'\n")
    (work / "models" / "pat.sql").write_text(
        "{{ config(materialized='view') }}\n"
        "select anomaly_score('tx_ae', *COLUMNS('count|amount|cards')) as s from {{ ref('stg_tx') }}\n")
    proc = run_dbt(["run", "--profiles-dir", ".", "--select", "two_only", "pat"], work)
    out = proc.stdout + proc.stderr
    # Before: the post-hook's probe dropped the outer filter and failed two_only with tx_ae's three features
    assert proc.returncode == 0, out[-4000:]
    # Before: the post-hook and the package's on-run-end each checked pat, and each logged its note
    note = 'ad_duckdb.check_calls: "warehouse"."analytics"."pat": 0 call(s) checked; not checked: '
    assert proc.stdout.count(note) == 1, proc.stdout[-4000:]
