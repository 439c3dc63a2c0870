"""dbt16: the dbt package's checks on by default, with the real dbt executable, and check_calls on column models.

Before: a view with a wrong call (a model of three features given two) built OK unless every model carried the
post-hook ``ad_duckdb.check_calls()``, which few projects add; a call whose model came from a column
(``m.model_ref``, the way the README scores) or whose features were ``*COLUMNS([...])`` was never checked, and nothing
said so; a node naming ``'tx_ae'`` without a ref() to the training model of the same run could run first and score
with the previous version, silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from test_dbt14_dbt import _copy, _make_project

import ad_duckdb
from ad_duckdb.dbtcalls import check_views, create_calls_function
from ad_duckdb.dbtorder import order_problems

from test_dbt import run_dbt


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dbt14 shop project without the post-hook: only the package's own run hooks check."""
    work = _make_project(tmp_path_factory.mktemp("dbt16") / "shop")
    project = work / "dbt_project.yml"
    project.write_text(project.read_text().replace('    +post-hook: "{{ ad_duckdb.check_calls() }}"\n', ""))
    proc = run_dbt(["build", "--profiles-dir", "."], work)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return work


_COLUMN_VIEW = """\
{{ config(materialized='view') }}
with m as (select model_ref from {{ ref('tx_model') }})
select t.*, anomaly_score(m.model_ref, t.count, t.amount) as s from {{ ref('stg_tx') }} t cross join m
"""


def test_a_wrong_call_in_a_view_fails_the_build_without_the_post_hook(built: Path, tmp_path: Path) -> None:
    work = _copy(built, tmp_path / "shop")
    (work / "models" / "bad_col.sql").write_text(_COLUMN_VIEW)
    proc = run_dbt(["build", "--profiles-dir", ".", "--select", "bad_col"], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "ad_duckdb.on-run-end.0 failed" in out and '"analytics"."bad_col" builds, but reading it fails' in out, \
        out[-4000:]
    assert "got 2 feature argument(s), but model 'tx_ae@1' takes 3" in out, out[-4000:]
    # turned off with one var
    off = run_dbt(["build", "--profiles-dir", ".", "--select", "bad_col", "--vars", "{ad_duckdb_checks: false}"], work)
    assert off.returncode == 0, off.stdout[-4000:] + off.stderr[-2000:]


def test_the_checks_turn_off_with_the_var_scoped_to_the_project_or_to_the_package(built: Path, tmp_path: Path) -> None:
    # Before: `vars: {shop: {ad_duckdb_checks: false}}`, the form a project scoping its vars uses, left the checks on
    # (a package's hook reads the vars scoped to the package, not to the project); the package's name scoped them
    work = _copy(built, tmp_path / "shop")
    (work / "models" / "bad_col.sql").write_text(_COLUMN_VIEW)
    project = work / "dbt_project.yml"
    plain = project.read_text()
    build = ["build", "--profiles-dir", ".", "--select", "bad_col"]
    for scoped in ("shop", "ad_duckdb"):
        project.write_text(plain + f"vars:\n  {scoped}:\n    ad_duckdb_checks: false\n")
        off = run_dbt(build, work)
        assert off.returncode == 0, (scoped, off.stdout[-4000:] + off.stderr[-2000:])
    # read after --vars and the global var: a project's global `true` keeps the checks on; and a node's var scoped to
    # its project, as dbt reads it (a string rendered: an env_var() picks it per environment), names the model the
    # on-run-start check reads (before, it was not seen: "not checked", and the view failed only after every node ran)
    project.write_text(plain + "vars:\n  ad_duckdb_checks: true\n  shop:\n    ad_duckdb_checks: false\n"
                               "    view_model: \"{{ env_var('SHOP_VIEW_MODEL', 'tx_ae') }}\"\n")
    (work / "models" / "scoped_view.sql").write_text(
        "{{ config(materialized='view') }}\n-- depends_on: {{ ref('tx_model') }}\n"
        "select anomaly_score('{{ var(\"view_model\") }}', count, amount) as s from {{ ref('stg_tx') }}\n")
    on = run_dbt([*build, "scoped_view"], work)
    out = on.stdout + on.stderr
    assert on.returncode != 0, out[-4000:]
    assert "dbt view scoped_view (models/scoped_view.sql) would build, but reading it fails: anomaly_score('tx_ae@1', " \
           "...) got 2 feature argument(s), but model 'tx_ae@1' takes 3" in out, out[-4000:]
    assert "found by the dbt package ad_duckdb's on-run-start check, before any node ran" in out, out[-4000:]


def test_a_node_naming_a_model_its_run_trains_without_a_ref_fails_before_anything_runs(
        built: Path, tmp_path: Path) -> None:
    work = _copy(built, tmp_path / "shop")
    (work / "models" / "racy.sql").write_text(
        "select *, anomaly_score('tx_ae', count, amount, cards) as s from {{ ref('stg_tx') }}\n")
    proc = run_dbt(["build", "--profiles-dir", "."], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "models/racy.sql calls anomaly_score('tx_ae', ...), and models/ml/tx_model.py trains 'tx_ae'" in out, \
        out[-4000:]
    assert "Add `-- depends_on: {{ ref('tx_model') }}` to models/racy.sql" in out, out[-4000:]
    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    try:  # nothing ran: no new version, no racy table
        assert con.execute("SELECT count(*) FROM ad_models").fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'racy'").fetchall() == [(0,)]
    finally:
        con.close()
    # the ref the message names fixes it; a run that does not train tx_ae has no race to refuse
    alone = run_dbt(["run", "--profiles-dir", ".", "--select", "racy"], work)
    assert alone.returncode == 0, alone.stdout[-4000:] + alone.stderr[-2000:]
    (work / "models" / "racy.sql").write_text(
        "-- depends_on: {{ ref('tx_model') }}\n" + (work / "models" / "racy.sql").read_text())
    fixed = run_dbt(["build", "--profiles-dir", "."], work)
    assert fixed.returncode == 0, fixed.stdout[-4000:] + fixed.stderr[-2000:]


def test_a_call_the_check_cannot_run_is_named_in_the_log(built: Path, tmp_path: Path) -> None:
    work = _copy(built, tmp_path / "shop")
    (work / "models" / "pat.sql").write_text(
        "{{ config(materialized='view') }}\n-- depends_on: {{ ref('tx_model') }}\n"
        "select anomaly_score('tx_ae', *COLUMNS('count|amount|cards')) as s from {{ ref('stg_tx') }}\n")
    proc = run_dbt(["run", "--profiles-dir", ".", "--select", "pat"], work)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "ad_duckdb.check_calls: \"warehouse\".\"analytics\".\"pat\": 0 call(s) checked; not checked: " \
           "anomaly_score('tx_ae', UNPACK(COLUMNS('count|amount|cards')))" in proc.stdout, proc.stdout[-4000:]


def calls_con(path: Path) -> duckdb.DuckDBPyConnection:
    """A database with table tx and model tx_ae (its three columns), the check's functions on it as in a dbt run."""
    c = ad_duckdb.connect(str(path))
    c.execute("CREATE TABLE tx AS SELECT range AS id, (5 + range % 17)::INTEGER AS count, "
              "((5 + range % 17) * (20 + range % 11))::DOUBLE AS amount, (3 + range % 13)::INTEGER AS cards "
              "FROM range(600)")
    ad_duckdb.train(c, "tx_ae", "tx", features=["count", "amount", "cards"], max_steps=30, seed=0, progress=False)
    c.execute("CREATE TABLE tm AS SELECT * FROM (VALUES ('tx_ae@1'), (NULL)) AS t(model_ref)")
    create_calls_function(c)  # as the dbt plugin does on dbt's connection
    return c


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    c = calls_con(tmp_path_factory.mktemp("dbt16_calls") / "wh.duckdb")
    yield c
    c.close()


def _views(con: duckdb.DuckDBPyConnection, **queries: str) -> str:
    for name, query in queries.items():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {query}")
    return check_views(con, json.dumps([["wh", "main", n, n] for n in queries]))


def test_a_call_whose_model_is_a_column_is_probed_per_model_name(con: duckdb.DuckDBPyConnection) -> None:
    out = _views(
        con,
        v_col_ok="WITH m AS (SELECT model_ref FROM tm) SELECT anomaly_score(m.model_ref, t.count, t.amount, t.cards) "
                 "FROM tx t CROSS JOIN m",
        v_col_bad="WITH m AS (SELECT model_ref FROM tm) SELECT t.id, sum(is_anomaly(m.model_ref, t.count, t.amount)"
                  "::INT) FROM tx t CROSS JOIN m WHERE t.id > 3 GROUP BY t.id",
        v_list_bad="SELECT anomaly_score('tx_ae', *COLUMNS(['count', 'amount'])) FROM tx",
        v_list_ok="SELECT anomaly_score('tx_ae', *COLUMNS(['count', 'amount', 'cards'])) FROM tx")
    assert 'v_col_bad builds, but reading it fails: is_anomaly(\'tx_ae@1\', ...) got 2 feature' in out, out
    assert "v_list_bad builds, but reading it fails: anomaly_score('tx_ae@1', ...) got 2 feature" in out, out
    assert "v_col_ok" not in out and "v_list_ok" not in out, out


def test_a_column_of_model_names_that_cannot_be_read_is_named(con: duckdb.DuckDBPyConnection) -> None:
    # dbt17: a model name from a correlated subquery's outer row is read (the view's query runs with the calls
    # recorded); a query that fails when it is read leaves its calls unchecked, and says why
    out = _views(con, v_corr="SELECT (SELECT anomaly_score(o.m, 1, 2)) FROM (SELECT 'tx_ae' AS m) o")
    assert "v_corr builds, but reading it fails: anomaly_score('tx_ae@1', ...) got 2 feature" in out, out
    out = _views(con, v_err="SELECT anomaly_score(o.m, 1, 2, 3) FROM (SELECT error('no names') AS m) o")
    assert "v_err: 0 call(s) checked; not checked: anomaly_score(o.m, 1, 2, 3) (its model comes from a column: " \
           "its model names could not be read (Invalid Input Error: no names)" in out, out


def test_order_problems_reads_bare_names_and_the_refs_between_nodes() -> None:
    trainer = {"id": "model.p.tx_model", "name": "tx_model", "package": "p", "path": "models/tx_model.py",
               "python": True, "deps": [], "code": "return train_model(session, 'tx_ae', dbt.ref('stg'))"}
    scorer = {"id": "model.p.s", "name": "s", "package": "p", "path": "models/s.sql", "python": False,
              "deps": ["model.p.mid"], "code": "select anomaly_score('tx_ae', a, b) from x"}
    mid = {"id": "model.p.mid", "name": "mid", "package": "p", "path": "models/mid.sql", "python": False, "deps": [],
           "code": ""}
    ids = {"model.p.tx_model", "model.p.s", "model.p.mid"}
    assert "-- depends_on: {{ ref('tx_model') }}` to models/s.sql" in order_problems([trainer, scorer, mid], ids)
    assert order_problems([trainer, scorer, mid], ids - {"model.p.tx_model"}) == ""  # the training is not in the run
    assert order_problems([trainer, scorer, dict(mid, deps=["model.p.tx_model"])], ids) == ""  # after it, through mid
    pinned = dict(scorer, code="select anomaly_score('tx_ae@3', a, b) from x")  # a version no training changes
    assert order_problems([trainer, pinned, mid], ids) == ""


def test_a_bare_source_in_run_operation_says_the_schema_it_was_read_in(built: Path, tmp_path: Path) -> None:
    # Before: a name not in the profile's schema (analytics) was read in main, and the log said `only_main (1200
    # rows)`, no schema; a name in neither said "does not exist as a table or view in this database", not where it
    # was looked up
    work = _copy(built, tmp_path / "shop")
    con = duckdb.connect(str(work / "warehouse.duckdb"))
    try:
        con.execute("CREATE TABLE main.only_main AS SELECT * FROM raw.tx")
    finally:
        con.close()
    args = "{model: tx_ae, name: daily, method: alarm_rate, source: %s, rate: 0.01}"
    proc = run_dbt(["run-operation", "ad_duckdb.set_threshold", "--profiles-dir", ".", "--args", args % "only_main"],
                   work)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "(alarm_rate, main.only_main (1200 rows)" in proc.stdout, proc.stdout[-3000:]
    proc = run_dbt(["run-operation", "ad_duckdb.set_threshold", "--profiles-dir", ".", "--args", args % "nowhere"],
                   work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "source 'nowhere' is no table or view in schema analytics (the profile's schema:, where dbt builds) " \
           "nor in main" in out, out[-4000:]


# review16a: the order check refused valid projects (a call in a comment, an ephemeral model or a view read only by
# nodes after the training), and missed a table reading such a view before the training; the view check failed a
# view whose CASE gives each model its own call.

def _node(name: str, code: str, deps: list[str] | None = None, materialized: str = "table",
          python: bool = False) -> dict[str, Any]:
    return {"id": f"model.p.{name}", "name": name, "package": "p", "path": f"models/{name}.{'py' if python else 'sql'}",
            "python": python, "deps": [f"model.p.{d}" for d in deps or []], "code": code, "materialized": materialized}


_TRAINER = _node("tx_model", "return train_model(session, 'tx_ae', dbt.ref('stg'))", python=True)


def test_order_check_reads_no_call_in_a_comment() -> None:
    nodes = [_TRAINER,
             _node("a", "-- was: anomaly_score('tx_ae', a, b) as s\nselect a from x"),
             _node("b", "/* anomaly_score('tx_ae', a, b) */ select 'it''s -- not a comment' as c, a from x"),
             _node("c", "{# is_anomaly('tx_ae', a, b) #}\nselect a from x"),
             _node("old_model", "# return train_model(session, 'tx_ae', dbt.ref('stg'))\nreturn None", python=True),
             _node("d", "select anomaly_score('tx_ae', a, b) from x", deps=["tx_model"])]
    assert order_problems(nodes, {n["id"] for n in nodes}) == ""
    # a call after a string holding '--' is still read
    racy = _node("e", "select '--' as c, anomaly_score('tx_ae', a, b) from x")
    assert "models/e.sql calls anomaly_score('tx_ae', ...)" in order_problems(
        [*nodes, racy], {n["id"] for n in [*nodes, racy]})


def test_order_check_follows_views_and_ephemeral_models_to_the_nodes_that_read_them() -> None:
    eph = _node("eph", "select anomaly_score('tx_ae', a, b) as s from x", materialized="ephemeral")
    view = _node("v", "select anomaly_score('tx_ae', a, b) as s from x", materialized="view")
    after = _node("after", "select * from eph join v using (s)", deps=["eph", "v", "tx_model"])
    nodes = [_TRAINER, eph, view, after]
    # a view's query runs when it is read, an ephemeral model's inside its reader: both read after the training
    assert order_problems(nodes, {n["id"] for n in nodes}) == ""
    before = _node("before", "select * from v", deps=["v"])
    said = order_problems([*nodes, before], {n["id"] for n in [*nodes, before]})
    assert "models/before.sql reads v (models/v.sql), which calls anomaly_score('tx_ae', ...)" in said, said
    assert "Add `-- depends_on: {{ ref('tx_model') }}` to models/v.sql" in said, said
    assert "models/eph.sql" not in said and "after" not in said, said


def test_a_valid_project_with_a_commented_call_an_ephemeral_model_and_a_lone_view_builds(
        built: Path, tmp_path: Path) -> None:
    work = _copy(built, tmp_path / "shop")
    (work / "models" / "commented.sql").write_text(
        "-- was: anomaly_score('tx_ae', count, amount, cards) as s (too slow; good_view has it)\n"
        "select id, count from {{ ref('stg_tx') }}\n")
    (work / "models" / "eph.sql").write_text(
        "{{ config(materialized='ephemeral') }}\n"
        "select id, anomaly_score('tx_ae', count, amount, cards) as s from {{ ref('stg_tx') }}\n")
    (work / "models" / "uses_eph.sql").write_text("-- depends_on: {{ ref('tx_model') }}\nselect * from {{ ref('eph') }}\n")
    (work / "models" / "lone_view.sql").write_text(
        "{{ config(materialized='view') }}\n"
        "select id, anomaly_score('tx_ae', count, amount, cards) as s from {{ ref('stg_tx') }}\n")
    proc = run_dbt(["build", "--profiles-dir", "."], work)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    # a table reading the view without the training among its ancestors could read it first: refused
    (work / "models" / "reads_view.sql").write_text("select * from {{ ref('lone_view') }}\n")
    # SQL written in capitals is read too (was: a node without 'anomaly' in lower case was never looked at)
    (work / "models" / "upper.sql").write_text("SELECT ANOMALY_SCORE('tx_ae', count, amount, cards) AS S "
                                               "FROM {{ ref('stg_tx') }}\n")
    proc = run_dbt(["build", "--profiles-dir", "."], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "models/reads_view.sql reads lone_view (models/lone_view.sql), which calls anomaly_score('tx_ae', ...)" \
        in out, out[-4000:]
    assert "models/upper.sql calls anomaly_score('tx_ae', ...)" in out, out[-4000:]


def test_a_call_in_a_case_branch_is_probed_with_the_models_its_branch_reads(con: duckdb.DuckDBPyConnection) -> None:
    ad_duckdb.train(con, "two_ae", "tx", features=["count", "amount"], max_steps=30, seed=0, progress=False)
    con.execute("CREATE TABLE seg AS SELECT id, CASE WHEN id % 2 = 0 THEN 'tx_ae' ELSE 'two_ae' END AS model "
                "FROM range(600) AS r(id)")
    query = ("SELECT t.id, CASE WHEN s.model = 'tx_ae' THEN anomaly_score(s.model, t.count, t.amount, t.cards) "
             "ELSE anomaly_score(s.model, t.count, t.amount) END AS a, "
             "if(s.model = 'two_ae', is_anomaly(s.model, t.count, t.amount), NULL) AS b "
             "FROM tx t JOIN seg s USING (id)")
    assert len(con.execute(query).fetchall()) == 600  # it reads fine
    bad = query.replace("ELSE anomaly_score(s.model, t.count, t.amount)", "ELSE anomaly_score(s.model, t.count)")
    out = _views(con, v_case_ok=query, v_case_bad=bad)
    assert "v_case_ok" not in out, out
    assert "v_case_bad builds, but reading it fails: anomaly_score('two_ae@1', ...) got 1 feature" in out, out


def test_the_on_run_end_failure_names_its_check_and_how_to_turn_it_off(con: duckdb.DuckDBPyConnection) -> None:
    # Before: "(found by ad_duckdb.check_calls: ...)", a post-hook the project never added, and no way to turn it off
    out = json.loads(_views(con, v_three="SELECT anomaly_score('tx_ae', count, amount) FROM tx"))["failed"]
    assert len(out) == 1 and "v_three builds, but reading it fails" in out[0], out
    assert "found by the dbt package ad_duckdb's on-run-end check" in out[0], out
    assert "vars: {ad_duckdb_checks: false} in dbt_project.yml turns its checks off" in out[0], out


# dbt17: the package's checks read a name from var() or config.get(), probe a view's calls at on-run-start when its
# code names them, read a column's model names with the view's own query, and check a post-hooked view once

def _with_two_models(built: Path, tmp_path: Path) -> Path:
    """A copy of the built project with a second model, of two features, and a table naming, per row, the model
    that scores it."""
    work = _copy(built, tmp_path / "shop")
    con = ad_duckdb.connect(str(work / "warehouse.duckdb"))
    try:
        ad_duckdb.train(con, "two_ae", "raw.tx", features=["count", "amount"], max_steps=30, seed=0, progress=False)
        con.execute("CREATE TABLE raw.seg AS SELECT id, CASE WHEN id % 2 = 0 THEN 'tx_ae' ELSE 'two_ae' END AS model "
                    "FROM raw.tx")
    finally:
        con.close()
    return work


def test_a_post_hooked_view_is_checked_once_and_by_the_query_it_runs(built: Path, tmp_path: Path) -> None:
    work = _with_two_models(built, tmp_path)
    hooked = "{{ config(materialized='view', post_hook=\"{{ ad_duckdb.check_calls() }}\") }}\n"
    (work / "models" / "two_only.sql").write_text(
        hooked +
        "select * from (select s.model, anomaly_score(s.model, t.count, t.amount) as a\n"
        "               from {{ ref('stg_tx') }} t join raw.seg s using (id)) where model = 'two_ae'\n")
    (work / "models" / "pat.sql").write_text(
        hooked +
        "select anomaly_score('tx_ae', *COLUMNS('count|amount|cards')) as s from {{ ref('stg_tx') }}\n")
    proc = run_dbt(["run", "--profiles-dir", ".", "--select", "two_only", "pat"], work)
    out = proc.stdout + proc.stderr
    # Before: the post-hook's probe dropped the outer filter and failed two_only with tx_ae's three features
    assert proc.returncode == 0, out[-4000:]
    # Before: the post-hook and the package's on-run-end each checked pat, and each logged its note
    note = 'ad_duckdb.check_calls: "warehouse"."analytics"."pat": 0 call(s) checked; not checked: '
    assert proc.stdout.count(note) == 1, proc.stdout[-4000:]


def test_a_run_naming_its_trained_model_through_var_and_config_or_a_wrong_view_is_refused_before_it_runs(
        built: Path, tmp_path: Path) -> None:
    work = _with_two_models(built, tmp_path)
    train = work / "models" / "ml" / "tx_model.py"
    train.write_text(train.read_text().replace('"tx_ae"', 'dbt.config.get("ad_model")'))
    yml = work / "models" / "ml" / "ml.yml"
    yml.write_text(yml.read_text().replace("    config:\n", "    config:\n      ad_model: tx_ae\n"))
    (work / "models" / "racy_var.sql").write_text(
        "select *, anomaly_score('{{ var(\"ad_model\") }}', count, amount, cards) as s from {{ ref('stg_tx') }}\n")
    (work / "models" / "racy_set.sql").write_text(
        "{% set m = 'tx_' ~ 'ae' %}\nselect *, anomaly_score('{{ m }}', count, amount, cards) as s "
        "from {{ ref('stg_tx') }}\n")
    # and a view calling a model the run does not train with a feature too many (found before: after every node ran)
    (work / "models" / "bad_view.sql").write_text(
        "{{ config(materialized='view') }}\n"
        "select *, anomaly_score('{{ var(\"view_model\") }}', count, amount, cards) as s from {{ ref('stg_tx') }}\n")
    proc = run_dbt(["build", "--profiles-dir", ".", "--vars", "{ad_model: tx_ae, view_model: two_ae}"], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "dbt view bad_view (models/bad_view.sql) would build, but reading it fails: anomaly_score('two_ae@1', " \
           "...) got 3 feature argument(s), but model 'two_ae@1' takes 2" in out, out[-4000:]
    assert "found by the dbt package ad_duckdb's on-run-start check, before any node ran" in out, out[-4000:]
    assert "models/racy_var.sql calls anomaly_score('tx_ae', ...), and models/ml/tx_model.py trains 'tx_ae'" in out, \
        out[-4000:]
    assert "not checked: models/racy_set.sql calls anomaly_score('{{ m }}', ...), a model name known only when dbt " \
           "compiles it" in out, out[-4000:]
    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    try:  # nothing ran: no new version
        assert con.execute("SELECT count(*) FROM ad_models WHERE name = 'tx_ae'").fetchall() == [(1,)]
    finally:
        con.close()


def test_a_project_with_a_seed_and_a_view_at_a_threshold_its_pre_hook_stores_builds(
        built: Path, tmp_path: Path) -> None:
    """review17d: a seed's depends_on has no nodes, and the Undefined stopped the package's on-run-start (`Object of
    type Undefined is not JSON serializable`) in every run of a project with a seed; a view at a threshold its own
    pre_hook stores was refused by the on-run-start (the threshold not stored yet)."""
    work = _copy(built, tmp_path / "shop")
    (work / "seeds").mkdir(exist_ok=True)
    (work / "seeds" / "regions.csv").write_text("id,region\n1,north\n2,south\n")
    (work / "models" / "cut_view.sql").write_text(
        "{{ config(materialized='view', pre_hook=\"{{ ad_duckdb.set_threshold('tx_ae', 'cut_r17d', 'contamination', "
        "target=0.02) }}\") }}\n"
        "select id, is_anomaly_at('tx_ae', 'cut_r17d', count, amount, cards) as flagged from {{ ref('stg_tx') }}\n")
    proc = run_dbt(["build", "--profiles-dir", ".", "--select", "regions", "cut_view"], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "not checked" not in out and "WARN" not in out.replace("WARN=0", ""), out[-4000:]
