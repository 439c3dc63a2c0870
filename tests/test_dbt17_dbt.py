"""dbt17: the dbt package's checks, without a dbt run (the runs are at the end of test_dbt16_dbt.py, on its project).

Before: the view check's column probe rebuilt the query around the model argument (``SELECT DISTINCT m.model_ref FROM
... WHERE ...``), dropping its HAVING, LIMIT and any filter of an outer query, so a view that reads fine (an outer
``WHERE model = 'two_ae'`` keeps the rows of the model its call fits) failed its build; the order check read only
literal model names (one from var() or config.get() passed silently); a wrong call in a view was found only after
every node ran.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from test_dbt16_dbt import calls_con

import ad_duckdb
from ad_duckdb.dbtcalls import check_views
from ad_duckdb.dbtorder import order_check
from ad_duckdb.dbtrunstart import view_problems


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    c = calls_con(tmp_path_factory.mktemp("dbt17_calls") / "wh.duckdb")
    ad_duckdb.train(c, "two_ae", "tx", features=["count", "amount"], max_steps=30, seed=0, progress=False)
    # even ids score with the model of three features, odd ones with the model of two
    c.execute("CREATE TABLE seg AS SELECT id, CASE WHEN id % 2 = 0 THEN 'tx_ae' ELSE 'two_ae' END AS model "
              "FROM range(600) AS r(id)")
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


# the order check (on-run-start) read model names only as literals: one from var() or config.get() passed silently

def _node(name: str, code: str, deps: list[str] | None = None, python: bool = False, **given: Any) -> dict[str, Any]:
    return {"id": f"model.p.{name}", "name": name, "package": "p", "path": f"models/{name}.{'py' if python else 'sql'}",
            "python": python, "deps": [f"model.p.{d}" for d in deps or []], "code": code,
            "materialized": given.pop("materialized", "table"), **given}


_BY_CONFIG = _node("tx_model", 'name = dbt.config.get("ad_model")\nreturn train_model(\n    session,\n    name,\n'
                   '    dbt.ref("stg"), features=["a", "b"])', python=True, config={"ad_model": "tx_ae"})


@pytest.mark.parametrize("scorer", [
    _node("s", "select anomaly_score('{{ var(\"ad_model\") }}', a, b) from x", vars={"ad_model": "tx_ae"}),
    _node("s", "select anomaly_score('{{ var(\"other\", \"x_ae\") }}', a, b) from x", vars={"other": "tx_ae"}),
    _node("s", "select is_anomaly('{{ config.get(\"m\") }}', a, b) from x", config={"m": "tx_ae"}),
])
def test_order_check_reads_names_from_var_and_config(scorer: dict[str, Any]) -> None:
    nodes = [_BY_CONFIG, scorer]
    problem, notes = order_check(nodes, {n["id"] for n in nodes})
    assert "models/s.sql calls " in problem and "models/tx_model.py trains 'tx_ae'" in problem, problem
    assert notes == [], notes
    # another model's name, or the training among its ancestors: nothing to refuse
    assert order_check([dict(_BY_CONFIG, config={"ad_model": "other_ae"}), scorer], {"model.p.tx_model", "model.p.s"}
                       ) == ("", [])
    assert order_check([_BY_CONFIG, dict(scorer, deps=["model.p.tx_model"])], {"model.p.tx_model", "model.p.s"}
                       ) == ("", [])


def test_order_check_says_what_it_could_not_read() -> None:
    unread = _node("u", "{% set m = 'tx_ae' %}\nselect anomaly_score('{{ m }}', a, b) from x")
    trainer = _node("t", "return train_model(session, pick_name(dbt), dbt.ref('stg'))", python=True)
    nodes = [trainer, unread]
    problem, notes = order_check(nodes, {n["id"] for n in nodes})
    assert problem == "", problem
    assert any("models/t.py trains a model whose name the check cannot read (pick_name(dbt))" in n for n in notes), \
        notes
    assert any("models/u.sql calls anomaly_score('{{ m }}', ...), a model name known only when dbt compiles it; if "
               "t of this run trains that model, u may run first: add `-- depends_on: {{ ref('t') }}` to "
               "models/u.sql" in n for n in notes), notes
    # after the training (ref'd), or without a training in the run: nothing to say
    assert order_check([trainer, dict(unread, deps=["model.p.t"])], {"model.p.t", "model.p.u"}) == ("", [])
    assert order_check(nodes, {"model.p.u"}) == ("", [])


# the on-run-end check found a wrong call in a view only after every node ran: one the view's code names fully is
# probed at on-run-start (through a dbt run: test_dbt16_dbt.py's
# test_a_run_naming_its_trained_model_through_var_and_config_or_a_wrong_view_...)

def test_the_run_start_view_check_leaves_what_only_the_compiled_sql_tells(con: duckdb.DuckDBPyConnection) -> None:
    def view(name: str, code: str) -> dict[str, Any]:
        return _node(name, code, materialized="view")

    bad = "select anomaly_score('tx_ae', a, b) from x"
    left = [view("blocks", "{% if target.name == 'prod' %}" + bad + "{% endif %}select 1"),
            view("column", "select anomaly_score(m.model_ref, a, b) from x, m"),
            view("set", "{% set m = 'tx_ae' %}select anomaly_score('{{ m }}', a, b) from x"),
            view("jinja_features", "select anomaly_score('tx_ae', {{ var('cols') }}) from x"),
            view("pattern", "select anomaly_score('tx_ae', *COLUMNS('a|b')) from x"),
            _node("a_table", bad),
            view("unselected", bad)]
    assert view_problems(con, left, {n["id"] for n in left} - {"model.p.unselected"}) == []
    # a model the run trains: its new version is not stored yet
    trained = [_node("t", "return train_model(session, 'tx_ae', dbt.ref('stg'))", python=True), view("v", bad)]
    assert view_problems(con, trained, {"model.p.t", "model.p.v"}) == []
    assert len(view_problems(con, trained, {"model.p.v"})) == 1
    ok = [view("fine", "select anomaly_score('tx_ae', a, b, c), is_anomaly('two_ae@1', a, b) from x")]
    assert view_problems(con, ok, {"model.p.fine"}) == []


# review17d: a threshold is stored by a hook or a node of the same run (a pre_hook calling set_threshold, the
# project's own on-run-start, which dbt runs after the package's), so at on-run-start only the model and the number
# of features of an is_anomaly_at / anomaly_threshold call were to be checked, not its threshold: the view was refused

def test_the_run_start_view_check_leaves_a_threshold_the_run_may_store(con: duckdb.DuckDBPyConnection) -> None:
    def view(name: str, code: str) -> dict[str, Any]:
        return _node(name, code, materialized="view")

    hooked = [view("at", "{{ config(pre_hook=\"{{ ad_duckdb.set_threshold('tx_ae', 'cut_r17d', 'contamination', "
                         "target=0.02) }}\") }}\nselect is_anomaly_at('tx_ae', 'cut_r17d', a, b, c) from x"),
              view("thr", "select anomaly_threshold('tx_ae', 'cut_r17d') as t, a from x")]
    assert view_problems(con, hooked, {n["id"] for n in hooked}) == []
    # its model and features are still checked there
    wrong = [view("at", "select is_anomaly_at('tx_ae', 'cut_r17d', a, b) from x"),
             view("ea", "select is_anomaly_at('tx_ea', 'cut_r17d', a, b, c) from x")]
    said = view_problems(con, wrong, {n["id"] for n in wrong})
    assert len(said) == 2 and "got 2 feature argument(s), but model 'tx_ae@1' takes 3" in said[0], said
    assert "'tx_ea'" in said[1], said


# review17d: var()'s default was taken when the package's on-run-start did not see the var, but the hook sees only the
# global vars: one dbt_project.yml scopes to the project (vars: {my_project: {ad_model: two_ae}}) gave the node another
# model than the default, and a correct view was refused with the default model's feature count

def test_a_var_the_run_start_check_does_not_see_is_not_read_as_its_default(con: duckdb.DuckDBPyConnection) -> None:
    scoped = _node("scoped", "select anomaly_score('{{ var(\"ad_model\", \"tx_ae\") }}', count, amount) from x",
                   materialized="view", vars={"ad_model": None})
    assert view_problems(con, [scoped], {"model.p.scoped"}) == []
    # a run training the default's model: said as not read, not refused
    problem, notes = order_check([_BY_CONFIG, dict(scoped, materialized="table")], {"model.p.tx_model", "model.p.scoped"})
    assert problem == "" and any("a model name known only when dbt compiles it" in n for n in notes), (problem, notes)
    # the value it sees is read (a global var, --vars)
    seen = dict(scoped, vars={"ad_model": "tx_ae"})
    assert len(view_problems(con, [seen], {"model.p.scoped"})) == 1
