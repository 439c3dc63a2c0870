"""Stores written by older ad_duckdb releases (format_version 1), opened by this one.

Tests cannot check out old releases, so each builds the old layout itself from what the old release's
sql/schema.sql and store.py wrote: before 2026-12-01 (a01482d) there was no ad_model_versions table.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import duckdb
import pytest
from test_thresholds import trained_copy

import ad_duckdb

from conftest import FAST, ROOT


def _labelled(con: duckdb.DuckDBPyConnection) -> None:
    """Table t: 1000 rows where b follows a (label 0), 30 breaking that law (label 1)."""
    con.execute("CREATE TABLE t AS SELECT range AS id, (range % 50)::DOUBLE AS a, (range % 50) * 2.0 + "
                "(range % 7) / 7.0 AS b, 0 AS label FROM range(1000)")
    con.execute("INSERT INTO t SELECT 10000 + range, (range % 50)::DOUBLE, 100.0 - (range % 50) * 2.0, 1 FROM range(30)")


@pytest.fixture(scope="module")
def m1_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file of ``_labelled``'s table t and m@1 trained on its rows of label 0."""
    path = tmp_path_factory.mktemp("m1") / "m1.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        _labelled(con)
        ad_duckdb.train(con, "m", "t", features=["a", "b"], where="label = 0", **FAST)
    finally:
        con.close()
    return path



def _as_before_versions_table(con: duckdb.DuckDBPyConnection) -> None:
    """The layout of releases before ad_model_versions (2026-11-22 .. 2026-12-01)."""
    con.execute("DROP TABLE ad_model_versions")


def test_retrain_carrying_a_labelled_goal_in_a_store_without_the_versions_table(tmp_path: Path, m1_file: Path) -> None:
    """A store from before ad_model_versions, a threshold chosen on labels, then train --carry-thresholds: the
    retrain stopped with DuckDB's bare 'Table with name ad_model_versions does not exist!' (the next version was
    looked up there before the save created the table)."""
    con = ad_duckdb.connect(trained_copy(m1_file, tmp_path / "old.duckdb"))
    try:
        _as_before_versions_table(con)
        ad_duckdb.set_threshold(con, "m", "f1", "max_f1", source="t", label="label")
        info = ad_duckdb.train(con, "m", "t", features=["a", "b"], where="label = 0", seed=1, carry_thresholds=True,
                               **FAST)
        assert info.version == 2
        f1 = ad_duckdb.load_model(con, "m@2").threshold("f1")
        assert f1 is not None and f1.method == "max_f1"
    finally:
        con.close()


def test_a_stored_name_ending_in_onnx_is_pointed_to_a_move_not_told_to_pick_a_name(tmp_path: Path) -> None:
    """Releases before 2026-12-01 (3e691d3) stored names such as 'fraud.onnx'. Today such a model still scores, but
    a retrain said only "Name it without the ending", as if the model did not exist: the user needs to hear that the
    name came from an older release and how to carry the model, its thresholds and its queries over."""
    path = tmp_path / "old.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        _labelled(con)
        ad_duckdb.train(con, "fraud", "t", features=["a", "b"], where="label = 0", **FAST)
        con.execute("UPDATE ad_models SET name = 'fraud.onnx'")  # as the older release stored it
        con.execute("UPDATE ad_thresholds SET model = 'fraud.onnx'")
        ad_duckdb.refresh(con)
        assert con.execute("SELECT count(*) FROM t WHERE anomaly_score('fraud.onnx', a, b) >= 0").fetchall() == [(1030,)]
        with pytest.raises(ad_duckdb.BadInputError) as caught:
            ad_duckdb.train(con, "fraud.onnx", "t", features=["a", "b"], where="label = 0", **FAST)
        msg = str(caught.value)
        assert "'fraud.onnx' is stored (fraud.onnx@1, by an older ad_duckdb" in msg, msg
        assert f"ad-duckdb export {path} fraud.onnx fraud_v1.onnx" in msg, msg
        assert f"ad-duckdb import {path} fraud_v1.onnx --name fraud" in msg, msg
        assert "anomaly_score('fraud', ...)" in msg, msg
        assert [(m["name"], m["version"]) for m in ad_duckdb.list_models(con)] == [("fraud.onnx", 1)]
    finally:
        con.close()


def test_a_version_whose_model_row_was_deleted_by_hand_is_not_reused_while_its_thresholds_remain(
        tmp_path: Path, m1_file: Path
) -> None:
    """Releases before ad_model_versions dropped models by deleting rows, and users clean ad_models by hand: the
    thresholds of the deleted version stayed, and the next training took the same number, so its save ran into
    their primary key (or a threshold the new model never had would have joined it)."""
    con = ad_duckdb.connect(trained_copy(m1_file, tmp_path / "old.duckdb"))
    try:
        ad_duckdb.set_threshold(con, "m", "mine", "manual", value=1.5)
        _as_before_versions_table(con)
        con.execute("DELETE FROM ad_models WHERE name = 'm'")
        info = ad_duckdb.train(con, "m", "t", features=["a", "b"], where="label = 0", seed=1, **FAST)
        assert info.version == 2
        assert ad_duckdb.load_model(con, "m@2").threshold("mine") is None
        assert con.execute("SELECT count(*) FROM ad_thresholds WHERE model = 'm' AND version = 1").fetchall() != [(0,)]
    finally:
        con.close()


def test_a_labelled_threshold_an_older_release_stored_without_its_goal_is_carried_with_a_warning(
        tmp_path: Path, m1_file: Path
) -> None:
    """Releases before 2026-12-01 (dffb181) stored a threshold chosen on labels without its goal (no
    threshold_goals in ad_models.metrics). train --carry-thresholds moved it to the same point of the new training
    scores and printed "carried f1: ..., at the same point of the training scores", while --help says one chosen on
    labels is chosen again, and not chosen again only with a warning: the user took it for re-chosen on labels."""
    con = ad_duckdb.connect(trained_copy(m1_file, tmp_path / "old.duckdb"))
    try:
        ad_duckdb.set_threshold(con, "m", "f1", "max_f1", source="t", label="label")
        ad_duckdb.set_threshold(con, "m", "mine", "manual", value=1.5)
        (metrics,) = con.execute("SELECT metrics::VARCHAR FROM ad_models WHERE name = 'm'").fetchone() or ("",)
        old = {k: v for k, v in json.loads(metrics).items() if k != "threshold_goals"}  # as the older release wrote
        con.execute("UPDATE ad_models SET metrics = ?::JSON WHERE name = 'm'", [json.dumps(old)])
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            ad_duckdb.train(con, "m", "t", features=["a", "b"], where="label = 0", seed=1, carry_thresholds=True,
                            **FAST)
        said = [str(w.message) for w in caught if "'f1'" in str(w.message)]
        assert len(said) == 1 and not [w for w in caught if "'mine'" in str(w.message)], [str(w.message) for w in caught]
        msg = said[0]
        assert msg.startswith("Threshold 'f1' (max_f1, chosen on t (label label, 1030 rows, 30 anomalies)) is carried "
                              "to m@2 at the same point of its training scores, not chosen again on its labels: the "
                              "older ad_duckdb that stored it on m@1 kept no record of its goal."), msg
        # the version the goal is missing on (a staged retrain leaves 'm' meaning m@1); from Python, Python's words
        assert "ad_duckdb.set_threshold(con, 'm@2', 'f1', 'max_f1', source=..., label=...)" in msg, msg
        assert "ad-duckdb threshold" not in msg, msg
        f1 = ad_duckdb.load_model(con, "m@2").threshold("f1")
        assert f1 is not None and f1.method == "quantile"
    finally:
        con.close()


# Exported by ddc14af (600 rows of a, b; epochs=3, seed=0; threshold by_hand = 2.5 set by hand): the releases from
# f02ea31 to b62705b appended producer_name, producer_version and model_version after the graph and said so in
# the metadata (graph_bytes, producer_version); anomaly_score('tx_ae', 3.0, 40.0) was 6.804555416107178 there.
PRODUCER_FILE = ROOT / "tests" / "data" / "old_files" / "ddc14af_tx_ae.onnx"


def test_a_file_exported_with_producer_fields_imports_and_scores_as_it_did(tmp_path: Path) -> None:
    """b62705b stopped writing the producer fields and, with them, stopped reading them: a file a teammate exported
    with those releases was refused on import as "the sha256 of its graph does not match its metadata; the file was
    altered", though it was intact."""
    con = ad_duckdb.connect(str(tmp_path / "new.duckdb"))
    try:
        info = ad_duckdb.import_model(con, PRODUCER_FILE)
        assert info.ref == "tx_ae@1"
        assert con.execute("SELECT anomaly_score('tx_ae', 3.0, 40.0)").fetchall() == [(6.804555416107178,)]
        by_hand = ad_duckdb.load_model(con, "tx_ae").threshold("by_hand")
        assert by_hand is not None and by_hand.value == 2.5
        # the graph stored is the graph alone (its sha256), so an export today is today's layout of the same graph
        again = ad_duckdb.export_model(con, "tx_ae", tmp_path / "again.onnx")
        assert ad_duckdb.import_model(con, again, name="again").ref == "again@1"
    finally:
        con.close()
    # still checked: a producer version changed after export is an altered file
    data = PRODUCER_FILE.read_bytes()
    altered = tmp_path / "altered.onnx"
    altered.write_bytes(data.replace(b"\x1a\x050.1.0", b"\x1a\x050.1.9", 1))
    assert altered.read_bytes() != data
    con = ad_duckdb.connect(str(tmp_path / "other.duckdb"))
    try:
        with pytest.raises(ad_duckdb.IntegrityError, match="altered"):
            ad_duckdb.import_model(con, altered)
    finally:
        con.close()


def test_a_model_stored_before_code_sizes_loads_scores_and_retrains_as_before(tmp_path: Path) -> None:
    """Records stored before the code_sizes option have no such key in their params (and graphs without a code
    cut): they load, score the same, and their retrain call is the one they had."""
    from ad_duckdb.retrain import retrain_call

    path = str(tmp_path / "old.duckdb")
    con = ad_duckdb.connect(path)
    try:
        _labelled(con)
        ad_duckdb.train(con, "m", "t", features=["a", "b"], **FAST)
        query = "SELECT list(anomaly_score('m', a, b) ORDER BY id) FROM t"
        scores = con.execute(query).fetchone()[0]
        call = retrain_call(ad_duckdb.load_model(con, "m"))
        con.execute("UPDATE ad_models SET params = json_remove(params, '$.code_sizes')")
        assert "code_sizes" not in json.loads(con.execute("SELECT params FROM ad_models").fetchone()[0])
    finally:
        con.close()
    con = ad_duckdb.connect(path)
    try:
        rec = ad_duckdb.load_model(con, "m")
        assert "code_sizes" not in rec.params and rec.params["n_models"] == 1
        assert con.execute(query).fetchone()[0] == scores
        assert retrain_call(rec) == call and call is not None and "code_sizes" not in call
    finally:
        con.close()


def _as_an_older_client_carried(con: duckdb.DuckDBPyConnection, name: str, version: int, threshold: str,
                                from_version: int) -> None:
    """Make ``name@version``'s ``threshold`` what a release before dffb181 wrote when train --carry-thresholds
    carried it from ``name@from_version``: method 'quantile', its origin in chosen_on, and no goal in the metrics."""
    (value, method) = con.execute("SELECT value, method FROM ad_thresholds WHERE model = ? AND version = ? AND "
                                  "threshold_name = ?", [name, from_version, threshold]).fetchone() or (0.0, "")
    con.execute("UPDATE ad_thresholds SET method = 'quantile', chosen_on = ? WHERE model = ? AND version = ? AND "
                "threshold_name = ?",
                [f"carried from {name}@{from_version} ({method}, {value:.6g}: the 97.03% point of its training scores), "
                 "at the same point of these; its precision and recall held for that version: choose it again on "
                 "labels to know them here", name, version, threshold])
    (metrics,) = con.execute("SELECT metrics::VARCHAR FROM ad_models WHERE name = ? AND version = ?",
                             [name, version]).fetchone() or ("",)
    old = {k: v for k, v in json.loads(metrics).items() if k != "threshold_goals"}
    con.execute("UPDATE ad_models SET metrics = ?::JSON WHERE name = ? AND version = ?", [json.dumps(old), name, version])


@pytest.fixture(scope="module")
def older_client_file(tmp_path_factory: pytest.TempPathFactory, m1_file: Path) -> Path:
    """m@1 with 'f1' chosen on labels (its goal kept), and m@2 as an older client's --carry-thresholds stored it."""
    path = tmp_path_factory.mktemp("older_client") / "team.duckdb"
    con = ad_duckdb.connect(trained_copy(m1_file, path))
    try:
        ad_duckdb.set_threshold(con, "m", "f1", "max_f1", source="t", label="label")
        ad_duckdb.train(con, "m", "t", features=["a", "b"], where="label = 0", seed=1, carry_thresholds=True, **FAST)
        _as_an_older_client_carried(con, "m", 2, "f1", 1)
    finally:
        con.close()
    return path


@pytest.mark.parametrize("old_retrains", [1, 2])
def test_a_goal_an_older_client_carried_without_its_record_is_found_on_the_version_it_came_from(
        tmp_path: Path, old_retrains: int, older_client_file: Path) -> None:
    """A team upgrades its analysts first and the nightly job later: the analyst chose 'f1' on labels (m@1 keeps the
    goal), the old nightly job retrained with --carry-thresholds (m@2, m@3: 'f1' moved as a plain quantile, no
    goal), and the upgraded job's next retrain carried it as a plain quantile again, silently: the goal was lost for
    good, though m@1 still held it and each carried threshold says where it came from."""
    con = ad_duckdb.connect(trained_copy(older_client_file, tmp_path / "team.duckdb"))
    try:
        if old_retrains == 2:
            ad_duckdb.train(con, "m", "t", features=["a", "b"], where="label = 0", seed=3, **FAST)
            con.execute("INSERT INTO ad_thresholds SELECT model, 3, threshold_name, value, method, chosen_on, "
                        "precision, recall, f1, flagged_share, created_at FROM ad_thresholds WHERE version = 2 AND "
                        "threshold_name = 'f1'")
            _as_an_older_client_carried(con, "m", 3, "f1", 2)
        new = f"m@{old_retrains + 2}"
        ad_duckdb.train(con, "m", "t", features=["a", "b"], where="label = 0", seed=2, carry_thresholds=True, **FAST)
        f1 = ad_duckdb.load_model(con, new).threshold("f1")
        assert f1 is not None and f1.method == "max_f1", f1
        assert f1.chosen_on is not None and "the goal of m@1" in f1.chosen_on, f1.chosen_on
        goals = ad_duckdb.load_model(con, new).metrics["threshold_goals"]
        assert goals["f1"]["method"] == "max_f1" and goals["f1"]["source"] == "t", goals
    finally:
        con.close()


def test_a_goal_an_older_client_carried_from_a_version_dropped_since_is_carried_with_a_warning(
        tmp_path: Path, older_client_file: Path) -> None:
    """As above, but m@1 (the goal's record) was pruned before the upgraded retrain: 'f1' can only move by its
    training-score point, and the retrain said nothing, as if it had never been chosen on labels."""
    con = ad_duckdb.connect(trained_copy(older_client_file, tmp_path / "team.duckdb"))
    try:
        ad_duckdb.drop_model(con, "m@1")
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            ad_duckdb.train(con, "m", "t", features=["a", "b"], where="label = 0", seed=2, carry_thresholds=True,
                            **FAST)
        said = [str(w.message) for w in caught if "'f1'" in str(w.message)]
        assert len(said) == 1, [str(w.message) for w in caught]
        assert said[0].startswith("Threshold 'f1' (max_f1, carried from m@1) is carried to m@3 at the same point of "
                                  "its training scores, not chosen again on its labels: the older ad_duckdb that "
                                  "stored it on m@2 kept no record of its goal."), said[0]
        assert "ad_duckdb.set_threshold(con, 'm@3', 'f1', 'max_f1', source=..., label=...)" in said[0], said[0]
    finally:
        con.close()


def test_a_training_thresholds_name_the_user_replaced_is_said_not_carried(tmp_path: Path, m1_file: Path) -> None:
    """An older release stored a threshold of the user's under a name every training sets ('p90' chosen for 90%
    precision, 'default' chosen on labels) without a word. train --carry-thresholds then gave the new version the
    training's own 'p90' and 'default' and said nothing: is_anomaly_at('m', 'p90', ...) went from the 90%-precision
    cut to the training scores' 90% quantile (427 to 464 rows flagged on the fraud data), and is_anomaly from the
    labelled cut to the contamination one. The retrain now names each one it does not carry, and how to keep it."""
    path = tmp_path / "old.duckdb"
    con = ad_duckdb.connect(trained_copy(m1_file, path))
    try:
        ad_duckdb.set_threshold(con, "m", "mine", "manual", value=1.5)
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="replaces the stored one"):
            ad_duckdb.set_threshold(con, "m", "p95", "quantile", target=0.95)  # what training sets anyway
        # as the older release stored them (no note then): the rows of a 'p90' and a 'default' chosen on labels
        con.execute("UPDATE ad_thresholds SET method = 'min_precision', value = 2.5, precision = 0.9, chosen_on = "
                    "'t (label label, 1030 rows, 30 anomalies)' WHERE threshold_name = 'p90'")
        con.execute("UPDATE ad_thresholds SET method = 'max_f1', value = 2.25, chosen_on = 't (label label, 1030 "
                    "rows, 30 anomalies)' WHERE threshold_name = 'default'")
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            ad_duckdb.train(con, "m", "t", features=["a", "b"], where="label = 0", seed=1, carry_thresholds=True,
                            **FAST)
        said = [str(w.message) for w in caught if "not carried" in str(w.message)]
        assert len(said) == 1, [str(w.message) for w in caught]
        msg = said[0]
        assert ("Thresholds 'default' (max_f1, 2.25) and 'p90' (min_precision, 2.5) of m@1 are not carried to m@2: "
                "every training sets its own under these names") in msg, msg
        assert "is_anomaly('m', ...) and is_anomaly_at('m', 'p90', ...) now flag by the training scores of m@2" in msg
        assert "'p95'" not in msg and "'mine'" not in msg, msg
        # the fix: store them again under names of one's own, which later retrains carry; default by --contamination
        assert "ad_duckdb.set_threshold(con, 'm@2', 'p90_min_precision', 'min_precision', ...)" in msg, msg
        assert "ad-duckdb threshold" not in msg, msg
        # (said from Python: the option in Python's spelling alone)
        assert "contamination=" in msg and "--contamination" not in msg, msg
        new = ad_duckdb.load_model(con, "m@2")
        p90, mine = new.threshold("p90"), new.threshold("mine")
        assert p90 is not None and p90.method == "quantile" and mine is not None, new.thresholds
        # the version after carries what m@2 holds: nothing left to say
        with warnings.catch_warnings(record=True) as later:
            warnings.simplefilter("always")
            ad_duckdb.train(con, "m", "t", features=["a", "b"], where="label = 0", seed=2, carry_thresholds=True,
                            **FAST)
        assert not [w for w in later if "not carried" in str(w.message)], [str(w.message) for w in later]
    finally:
        con.close()


def test_importing_an_export_older_than_the_latest_version_says_queries_now_score_with_it(
        tmp_path: Path, m1_file: Path
) -> None:
    """After an upgrade and a retrain (m@2), a colleague's export of the old model (m@1) was imported to compare:
    stored as m@3, the latest, so every query, dbt run and server naming 'm' scored with the older model from then
    on, and the import said only "stored m@3". It now says so, with how to compare without it and how to go back."""
    con = ad_duckdb.connect(trained_copy(m1_file, tmp_path / "w.duckdb"))
    try:
        ad_duckdb.export_model(con, "m@1", tmp_path / "old.onnx")
        ad_duckdb.train(con, "m", "t", features=["a", "b"], where="label = 0", seed=1, **FAST)
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            info = ad_duckdb.import_model(con, tmp_path / "old.onnx")
        assert info.version == 3
        msg = " ".join(str(w.message) for w in caught)
        assert "'m' now scores with m@3, imported from 'old.onnx' (m@1, created " in msg, msg
        assert "before m@2, the latest version until now" in msg, msg
        assert "pin 'm@2' in queries that must keep it" in msg, msg
        assert "import it under another name instead (name='m_imported')" in msg, msg
        assert "ad_duckdb.drop_model(con, 'm@3')" in msg, msg
        # under a name of its own, or into a database without newer versions: nothing to say
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ad_duckdb.import_model(con, tmp_path / "old.onnx", name="m_imported")
    finally:
        con.close()
    other = ad_duckdb.connect(str(tmp_path / "other.duckdb"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ad_duckdb.import_model(other, tmp_path / "old.onnx")
    finally:
        other.close()


# The keys of ad_models.params the first release (01bc746) stored: no knn_k, as its score had no neighbour term.
_FIRST_RELEASE_PARAMS = ("batch_size", "contamination", "epochs", "hidden_dims", "latent_dim", "lr", "max_steps",
                         "max_train_rows", "n_models", "patience", "progress", "range_weight", "robust", "seed",
                         "trim_fraction", "validation_fraction", "weight_decay")


def test_anomaly_terms_of_a_first_release_model_says_so_and_is_no_integrity_failure(tmp_path: Path) -> None:
    """A model the first release stored (its graph averages the members' errors, with no terms kept apart): after
    the upgrade, anomaly_terms failed with exit 8, "a stored or imported model failed its integrity check", and
    "its ONNX graph does not add its score from the three terms as ad_duckdb's exporter writes it", which reads as a
    damaged model, though it scores as it always did. It now says where the model comes from, exit 1."""
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    path = str(tmp_path / "old.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, (range * 2 % 97)::DOUBLE AS b, (range % 7)::DOUBLE "
                    "AS c FROM range(600)")
        ad_duckdb.train(con, "m", "t", features=["a", "b", "c"], **FAST)
        graph = (ROOT / "tests" / "data" / "old_graphs" / "01bc746_ens3_d3.onnx").read_bytes()
        (params,) = con.execute("SELECT params::VARCHAR FROM ad_models").fetchone() or ("",)
        old = {k: v for k, v in json.loads(params).items() if k in _FIRST_RELEASE_PARAMS}
        con.execute("UPDATE ad_models SET onnx = ?, sha256 = sha256(?), params = ?::JSON",
                    [graph, graph, json.dumps(old)])
    finally:
        con.close()
    con = ad_duckdb.connect(path)
    try:
        assert con.execute("SELECT count(anomaly_score('m', a, b, c)) FROM t").fetchall() == [(600,)]
        with pytest.raises(duckdb.Error) as e:
            con.execute("SELECT anomaly_terms('m', a, b, c) FROM t").fetchall()
        msg = str(e.value)
        assert "Model 'm@1' was stored by one of the first ad_duckdb releases" in msg, msg
        assert "anomaly_score, anomaly_explain and its thresholds work as they did" in msg, msg
        assert "integrity" not in msg and "as ad_duckdb's exporter writes it" not in msg, msg
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["sql", path, "SELECT anomaly_terms('m', a, b, c) FROM t"])
    assert res.exit_code == 1, (res.exit_code, res.output)
    assert "one of the first ad_duckdb releases" in res.output, res.output
