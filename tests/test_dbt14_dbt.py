"""An analytics engineer's dbt project adding ad_duckdb, run with the real dbt executable: a target schema of its own
(`schema: analytics`), a dbt source in schema raw, the dbt package's macros, and the plugin.

What went wrong before: a view calling anomaly_score wrongly built OK and failed when read; a model trained from a
dbt source stored the file's database name ("warehouse"."raw"."tx"), so the file renamed or copied could not read it;
a bare source name in `dbt run-operation ad_duckdb.set_threshold` was looked up in main, not in the target schema;
`ad_duckdb.train` in a Python model under `dbt build --empty` said the source "has no rows" and to check the table;
a training model's post_hook stored its threshold on the version the bare name means, not the one the node stored.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

import ad_duckdb
from ad_duckdb import dbtpackage

from test_dbt import run_dbt

ROWS = 1200

_PROFILE = """\
shop:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: warehouse.duckdb
      schema: analytics
      threads: 1
      plugins:
        - module: ad_duckdb.dbt
"""

_PROJECT = """\
name: shop
version: "1.0.0"
config-version: 2
profile: shop
flags:
  send_anonymous_usage_stats: false
models:
  shop:
    +materialized: table
    +post-hook: "{{ ad_duckdb.check_calls() }}"
    staging:
      +materialized: view
"""

_SOURCES = """\
version: 2
sources:
  - name: raw
    schema: raw
    tables: [{name: tx}]
"""

_TRAIN = """\
def model(dbt, session):
    from ad_duckdb.dbt import train_model

    dbt.config(materialized="table")
    return train_model(session, "tx_ae", dbt.source("raw", "tx"), features=["count", "amount", "cards"],
                       max_steps=40, seed=0, promote=False)
"""

# the threshold of the version the node stored: model=this reads its model_ref (a staged version too)
_TRAIN_YML = """\
version: 2
models:
  - name: tx_model
    config:
      post_hook:
        - "{{ ad_duckdb.set_threshold(this, 'cut', 'contamination', target=0.02) }}"
"""

_GOOD_VIEW = """\
{{ config(materialized='view') }}
-- depends_on: {{ ref('tx_model') }}
select *, anomaly_score('tx_ae', count, amount, cards) as score from {{ ref('stg_tx') }}
"""


def _make_project(root: Path) -> Path:
    """A dbt project in ``root`` over a warehouse file whose schema raw holds table tx (and a decoy main.stg_tx, of
    other rows, that a bare name looked up in main would read)."""
    (root / "models" / "staging").mkdir(parents=True)
    (root / "models" / "ml").mkdir()
    (root / "profiles.yml").write_text(_PROFILE)
    (root / "dbt_project.yml").write_text(_PROJECT)
    (root / "packages.yml").write_text(f"packages:\n  - local: {dbtpackage.package_dir()}\n")
    (root / "models" / "sources.yml").write_text(_SOURCES)
    (root / "models" / "staging" / "stg_tx.sql").write_text(
        "select id, day, count, amount, cards from {{ source('raw', 'tx') }}\n")
    (root / "models" / "ml" / "tx_model.py").write_text(_TRAIN)
    (root / "models" / "ml" / "ml.yml").write_text(_TRAIN_YML)
    (root / "models" / "good_view.sql").write_text(_GOOD_VIEW)
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    try:
        con.execute("CREATE SCHEMA raw")
        con.execute(f"CREATE TABLE raw.tx AS SELECT range AS id, DATE '2024-01-01' + (range // 40)::INT AS day, "
                    f"(5 + range % 17)::INTEGER AS count, ((5 + range % 17) * (20 + range % 11))::DOUBLE AS amount, "
                    f"(3 + range % 13)::INTEGER AS cards FROM range({ROWS})")
        con.execute("CREATE TABLE main.stg_tx AS SELECT * FROM raw.tx LIMIT 50")
    finally:
        con.close()
    proc = run_dbt(["deps", "--profiles-dir", "."], root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = _make_project(tmp_path_factory.mktemp("dbt14") / "shop")
    proc = run_dbt(["build", "--profiles-dir", "."], work)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return work


def _copy(built: Path, dest: Path) -> Path:
    # Why target/ too: its partial_parse.msgpack lets dbt parse only the files a test adds or changes (~1 s less per
    # run), as it does in a user's project folder between runs; a changed profile, project or var parses it all
    shutil.copytree(built, dest, ignore=shutil.ignore_patterns("logs"))
    return dest


def test_source_is_stored_without_the_files_database_name(built: Path, tmp_path: Path) -> None:
    # Before: 'select * from "warehouse"."raw"."tx"': the file copied to prod.duckdb has no catalog "warehouse"
    prod = tmp_path / "prod.duckdb"
    shutil.copy(built / "warehouse.duckdb", prod)
    con = ad_duckdb.connect(str(prod))
    try:
        source, train_source = con.execute(
            "SELECT source, json_extract_string(metrics, '$.train_source') FROM ad_models WHERE version = 1"
        ).fetchall()[0]
        assert source == train_source == "raw.tx"
        assert con.execute(f"SELECT count(*) FROM {train_source}").fetchall() == [(ROWS,)]
    finally:
        con.close()


def test_training_models_post_hook_sets_the_threshold_of_the_version_it_stored(built: Path, tmp_path: Path) -> None:
    # a staged retrain (promote=False): 'tx_ae' still means version 1, and the hook's model=this names version 2
    work = _copy(built, tmp_path / "shop")
    proc = run_dbt(["run", "--profiles-dir", ".", "--select", "tx_model"], work)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "stored threshold 'cut'" in proc.stdout and "for tx_ae@2" in proc.stdout, proc.stdout[-3000:]
    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    try:
        cuts = con.execute("SELECT version FROM ad_thresholds WHERE threshold_name = 'cut' ORDER BY 1").fetchall()
        assert cuts == [(1,), (2,)]
        assert con.execute("SELECT model_ref FROM analytics.tx_model").fetchall() == [("tx_ae@2",)]
    finally:
        con.close()


def test_a_bare_source_name_is_read_in_the_target_schema(built: Path, tmp_path: Path) -> None:
    # Before: `source: stg_tx` was looked up in main (here a decoy of 50 rows; else "does not exist")
    work = _copy(built, tmp_path / "shop")
    proc = run_dbt(["run-operation", "ad_duckdb.set_threshold", "--profiles-dir", ".", "--args",
                    "{model: tx_ae, name: daily, method: alarm_rate, source: stg_tx, rate: 0.01}"], work)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    try:
        chosen_on = con.execute("SELECT chosen_on FROM ad_thresholds WHERE threshold_name = 'daily'").fetchall()[0][0]
    finally:
        con.close()
    assert chosen_on.startswith(f"analytics.stg_tx ({ROWS} rows"), chosen_on


@pytest.mark.parametrize(("call", "said"), [
    ("anomaly_score('tx_ae', count, amount)", "got 2 feature argument(s), but model 'tx_ae@1' takes 3"),
    ("anomaly_score('tx_ea', count, amount, cards)", "Did you mean 'tx_ae'?"),
    ("is_anomaly_at('tx_ae', 'cutt', count, amount, cards)", "cutt"),
])
def test_a_view_with_a_wrong_call_fails_its_build(built: Path, tmp_path: Path, call: str, said: str) -> None:
    # Before: CREATE VIEW binds the call without running it: the build passed, and reading the view failed
    work = _copy(built, tmp_path / "shop")
    (work / "models" / "bad_view.sql").write_text(
        "{{ config(materialized='view') }}\n-- depends_on: {{ ref('tx_model') }}\n"
        f"select *, {call} as s from {{{{ ref('stg_tx') }}}}\n")
    # the package's run hooks off: its on-run-start would refuse the run before any node (dbt17); the post-hook's own
    # check is what this tests
    proc = run_dbt(["run", "--profiles-dir", ".", "--select", "bad_view", "good_view",
                    "--vars", "{ad_duckdb_checks: false}"], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "ERROR=1" in proc.stdout and "OK created sql view model analytics.good_view" in proc.stdout, out[-4000:]
    assert "builds, but reading it fails" in out and said in out and "ad_duckdb.check_calls" in out, out[-4000:]


def test_train_under_build_empty_names_the_flag(tmp_path: Path) -> None:
    # Before: "the source ... has no rows to train on (after the filter). Check the table and the where= filter."
    work = _make_project(tmp_path / "shop")
    (work / "models" / "ml" / "direct_model.py").write_text(
        "def model(dbt, session):\n    import ad_duckdb\n\n    dbt.config(materialized='table')\n"
        "    info = ad_duckdb.train(session, 'direct_ae', dbt.ref('stg_tx').sql_query(), progress=False)\n"
        "    return session.sql(f\"select '{info.ref}' as model_ref\")\n")
    proc = run_dbt(["build", "--profiles-dir", ".", "--empty"], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "This is a `dbt build --empty` run: every ref() and source() reads no rows" in out, out[-4000:]
    assert "Check the table" not in out
    # train_model skips, and says so in the log
    assert "training model 'tx_ae' skipped: this is a `dbt build --empty` run" in out, out[-4000:]


def test_dbt_run_helpers_outside_dbt() -> None:
    from ad_duckdb.dbtrun import in_schema, portable_source

    con = duckdb.connect()
    try:
        con.execute("CREATE SCHEMA analytics; CREATE TABLE analytics.stg AS SELECT 1 AS a")
        assert portable_source(con, 'select * from "memory"."analytics"."stg"') == "analytics.stg"
        assert portable_source(con, '"memory"."analytics"."stg"') == "analytics.stg"
        assert portable_source(con, 'select * from "lake"."analytics"."stg"') == 'select * from "lake"."analytics"."stg"'
        assert in_schema(con, "stg", ("memory", "analytics")) == "analytics.stg"
        assert in_schema(con, "other", ("memory", "analytics")) == "other"
        assert in_schema(con, "stg", None) == "stg"
    finally:
        con.close()


def test_training_a_model_the_profile_does_not_load_is_refused_before_it_trains(built: Path, tmp_path: Path) -> None:
    # Before: with `config: {models: [tx_ae]}` in the profile, a new training model stored fraud_ae@1, and every node
    # scoring with it then failed ("not among the models these functions were registered with")
    work = _copy(built, tmp_path / "shop")
    profile = work / "profiles.yml"
    profile.write_text(profile.read_text().replace("- module: ad_duckdb.dbt",
                                                   "- module: ad_duckdb.dbt\n          config: {models: [tx_ae]}"))
    (work / "models" / "ml" / "fraud_model.py").write_text(
        "def model(dbt, session):\n    from ad_duckdb.dbt import train_model\n\n"
        "    return train_model(session, 'fraud_ae', dbt.ref('stg_tx'), features=['count', 'amount'], max_steps=20)\n")
    proc = run_dbt(["run", "--profiles-dir", ".", "--select", "fraud_model"], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "training model 'fraud_ae'" in out and "config: {models: [tx_ae, fraud_ae]}" in out, out[-4000:]
    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM ad_models WHERE name = 'fraud_ae'").fetchall() == [(0,)]
    finally:
        con.close()


def test_a_misspelt_macro_argument_names_the_arguments(built: Path, tmp_path: Path) -> None:
    # Before: "macro 'dbt_macro__ad_duckdb_set_threshold' takes no keyword argument 'targt'": a name the user never
    # wrote, and not the arguments the macro takes
    work = _copy(built, tmp_path / "shop")
    proc = run_dbt(["run-operation", "ad_duckdb.set_threshold", "--profiles-dir", ".", "--args",
                    "{model: tx_ae, name: cut, method: contamination, targt: 0.02}"], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "ad_duckdb.set_threshold: unknown argument targt for threshold 'cut' of tx_ae" in out, out[-4000:]
    assert "the arguments are value, target, source" in out and "dbt_macro__" not in out, out[-4000:]


def test_an_unknown_model_in_a_dbt_run_says_how_to_train_it_in_dbt(built: Path, tmp_path: Path) -> None:
    # Before: "Train one with ad_duckdb.train(con, ...)": a connection a dbt model's author never holds
    work = _copy(built, tmp_path / "shop")
    (work / "models" / "fraud_scores.sql").write_text(
        "select *, anomaly_score('fraud_detector', count, amount) as s from {{ ref('stg_tx') }}\n")
    proc = run_dbt(["run", "--profiles-dir", ".", "--select", "fraud_scores"], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "No model 'fraud_detector'" in out and "ad_duckdb.train(con" not in out, out[-4000:]
    assert "train_model(session, 'fraud_detector', dbt.ref(" in out and "dbt build -s <training model>" in out, \
        out[-4000:]


def test_ad_duckdb_train_in_a_python_model_stores_the_source_without_the_files_database_name(
        built: Path, tmp_path: Path) -> None:
    # Before: train_model stripped it, but ad_duckdb.train(session, dbt.ref(...).sql_query()) stored
    # 'select * from "warehouse"."analytics"."stg_tx"', which the file copied to prod.duckdb could not read
    work = _copy(built, tmp_path / "shop")
    (work / "models" / "ml" / "direct_model.py").write_text(
        "def model(dbt, session):\n    import ad_duckdb\n\n    dbt.config(materialized='table')\n"
        "    info = ad_duckdb.train(session, 'direct_ae', dbt.ref('stg_tx').sql_query(), features=['count', 'amount'],"
        " max_steps=20, seed=0, progress=False)\n"
        "    return session.sql(f\"select '{info.ref}' as model_ref\")\n")
    proc = run_dbt(["run", "--profiles-dir", ".", "--select", "direct_model"], work)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    prod = tmp_path / "prod.duckdb"
    shutil.copy(work / "warehouse.duckdb", prod)
    con = ad_duckdb.connect(str(prod))
    try:
        source, train_source = con.execute(
            "SELECT source, json_extract_string(metrics, '$.train_source') FROM ad_models WHERE name = 'direct_ae'"
        ).fetchall()[0]
        assert "warehouse" not in source and "warehouse" not in train_source, (source, train_source)
        assert con.execute(f"SELECT count(*) FROM {train_source}").fetchall() == [(ROWS,)]
    finally:
        con.close()


def _marts_run(built: Path, tmp_path: Path, model: str, text: str) -> Path:
    """A copy of ``built`` with a model stg_marts in `schema: marts` (dbt builds it into analytics_marts) and ``model``
    of SQL or Python ``text`` beside it, both run."""
    work = _copy(built, tmp_path / "shop")
    (work / "models" / "marts").mkdir()
    (work / "models" / "marts" / "stg_marts.sql").write_text(
        "{{ config(schema='marts') }}\nselect id, day, count, amount, cards from {{ ref('stg_tx') }}\n")
    (work / "models" / "marts" / model).write_text(text)
    proc = run_dbt(["run", "--profiles-dir", ".", "--select", "stg_marts", model.split(".")[0]], work)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return work


def _one(work: Path, query: str) -> object:
    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(query).fetchall()[0][0]
    finally:
        con.close()


def test_a_bare_source_name_is_read_first_in_the_schema_the_node_builds_into(built: Path, tmp_path: Path) -> None:
    # Before: `stg_marts` was looked up in the profile's schema (analytics) only, then main: a model and its training
    # model with `schema: marts` (dbt builds them into analytics_marts) could not name their own table bare
    work = _marts_run(built, tmp_path, "marts_model.py",
                      "def model(dbt, session):\n    from ad_duckdb.dbt import train_model\n\n"
                      "    dbt.config(materialized='table', schema='marts')\n    dbt.ref('stg_marts')  # built first\n"
                      "    return train_model(session, 'marts_ae', 'stg_marts', features=['count', 'amount'], "
                      "max_steps=20, seed=0)\n")
    source = _one(work, "SELECT source FROM ad_models WHERE name = 'marts_ae'")
    assert source == "analytics_marts.stg_marts", source


def test_a_bare_source_name_in_a_hook_is_read_first_in_the_schema_of_the_hooks_node(built: Path, tmp_path: Path) -> None:
    # Before: the macro's source= 'stg_marts' in a hook of a `schema: marts` model was looked up in analytics, then main
    work = _marts_run(built, tmp_path, "marts_scores.sql",
                      "{{ config(schema='marts', post_hook=\"{{ ad_duckdb.set_threshold('tx_ae', 'marts_daily', "
                      "'alarm_rate', source='stg_marts', rate=0.01) }}\") }}\nselect id from {{ ref('stg_marts') }}\n")
    chosen_on = _one(work, "SELECT chosen_on FROM ad_thresholds WHERE threshold_name = 'marts_daily'")
    assert str(chosen_on).startswith(f"analytics_marts.stg_marts ({ROWS} rows"), chosen_on
