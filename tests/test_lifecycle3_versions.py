"""Staging a retrain without moving dashboards (train --no-promote, promote, rollback), and each version's history."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import BadInputError, ModelNotFoundError

from conftest import FAST, copy_tx_ae, make_transactions

ROW = "anomaly_score('{}', 40, 9000.0)"


def _score(path: str, ref: str) -> float:
    """The score of one odd row, through a fresh connection (what a dashboard opening the file gets)."""
    con = ad_duckdb.connect(path)
    try:
        return float(con.execute(f"SELECT {ROW.format(ref)}").fetchone()[0])
    finally:
        con.close()


def _run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.stdout, res.stderr


@pytest.fixture(scope="module")
def two_versions_file(tmp_path_factory: pytest.TempPathFactory, tx_ae_master: Path) -> Path:
    """tx_ae@1 trained, a view calling 'tx_ae', and tx_ae@2 staged with promote=False."""
    path = copy_tx_ae(tx_ae_master, tmp_path_factory.mktemp("lifecycle3") / "w.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE VIEW dash AS SELECT transaction_id, anomaly_score('tx_ae', count, amount) AS s "
                    "FROM transactions")
        info = ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], promote=False,
                               **{**FAST, "seed": 1})
        assert info.version == 2
    finally:
        con.close()
    return Path(path)


@pytest.fixture
def two_versions(two_versions_file: Path, tmp_path: Path) -> str:
    """A file of its own for each test (they promote, drop, retrain), a byte copy of two_versions_file's."""
    path = tmp_path / "w.duckdb"
    shutil.copyfile(two_versions_file, path)
    return str(path)


def test_a_staged_retrain_leaves_the_bare_name_on_the_version_before(two_versions: str) -> None:
    """A month-three analyst retrains to look at the new version: dashboards calling 'tx_ae' switched to it at once,
    as the bare name meant the newest. train(promote=False) stores tx_ae@2 while 'tx_ae' keeps meaning tx_ae@1, in
    SQL (a fresh connection and the view), load_model, list_models and show."""
    one, two = _score(two_versions, "tx_ae@1"), _score(two_versions, "tx_ae@2")
    assert one != two
    assert _score(two_versions, "tx_ae") == one
    con = ad_duckdb.connect(two_versions)
    try:
        assert ad_duckdb.load_model(con, "tx_ae").version == 1
        assert [(m["version"], m["latest"]) for m in ad_duckdb.list_models(con)] == [(1, True), (2, False)]
        view = con.execute("SELECT s FROM dash ORDER BY transaction_id LIMIT 3").fetchall()
        direct = con.execute("SELECT anomaly_score('tx_ae@1', count, amount) FROM transactions "
                             "ORDER BY transaction_id LIMIT 3").fetchall()
        assert view == direct
    finally:
        con.close()
    code, out, _ = _run("show", two_versions, "tx_ae", "--format", "json")
    assert code == 0 and json.loads(out)["latest_ref"] == "tx_ae@1"


def test_promote_and_rollback_move_the_bare_name_and_a_later_training_promotes_as_before(two_versions: str) -> None:
    one, two = _score(two_versions, "tx_ae@1"), _score(two_versions, "tx_ae@2")
    watcher = ad_duckdb.connect(two_versions)  # a connection open across the promotion (a notebook, dbt's)
    try:
        assert ad_duckdb.promote(watcher, "tx_ae@2") == (1, 2)
        assert float(watcher.execute(f"SELECT {ROW.format('tx_ae')}").fetchone()[0]) == two
        assert ad_duckdb.rollback(watcher, "tx_ae") == (2, 1)
        assert float(watcher.execute(f"SELECT {ROW.format('tx_ae')}").fetchone()[0]) == one
        with pytest.raises(BadInputError, match="promote"):
            ad_duckdb.rollback(watcher, "tx_ae@2")
        with pytest.raises(ModelNotFoundError, match="has no version 7"):
            ad_duckdb.promote(watcher, "tx_ae@7")
        # a training without promote=False makes the name mean the new version, pin or not
        info = ad_duckdb.train(watcher, "tx_ae", "transactions", features=["count", "amount"], **{**FAST, "seed": 2})
        assert ad_duckdb.load_model(watcher, "tx_ae").version == info.version == 3
    finally:
        watcher.close()
    # the CLI: promote, then rollback, each saying what the name meant and means
    code, out, err = _run("promote", two_versions, "tx_ae@2")
    assert code == 0, err
    assert out.strip() == "'tx_ae' now means tx_ae@2 (was tx_ae@3)"
    code, out, err = _run("rollback", two_versions, "tx_ae", "--format", "json")
    assert code == 0, err
    assert json.loads(out) == {"name": "tx_ae", "was": 2, "now": 3}
    assert _score(two_versions, "tx_ae") == _score(two_versions, "tx_ae@3")
    # rollback NAME@N is a wrong argument (exit 2), answered in the command line's words with this DB, not with
    # ad_duckdb.promote(con, ...) and a placeholder DB (exit 1)
    code, out, err = _run("rollback", two_versions, "tx_ae@2")
    assert (code, out) == (2, ""), (code, out, err)
    assert err.strip() == (f"Error: rollback takes a model name without @N: ad-duckdb rollback {two_versions} tx_ae; "
                           f"to make 'tx_ae' mean tx_ae@2, promote it: ad-duckdb promote {two_versions} tx_ae@2."), err
    assert _score(two_versions, "tx_ae") == _score(two_versions, "tx_ae@3")


def test_a_drop_never_moves_the_name_to_a_version_nobody_promoted(two_versions: str) -> None:
    """'tx_ae' means tx_ae@1 and tx_ae@2 is staged: dropping tx_ae@1 would make dashboards score with tx_ae@2, so it
    is refused with the fix; drop --keep 1 keeps the promoted version besides the newest."""
    code, _, err = _run("drop", two_versions, "tx_ae@1", "--yes")
    assert code == 1
    assert "Cannot drop tx_ae@1: it is what 'tx_ae' means" in err and "promote DB tx_ae@2" in err, err
    code, out, err = _run("drop", two_versions, "tx_ae", "--keep", "1", "--yes")
    assert code == 0 and "dropped nothing" in out, (out, err)
    assert _score(two_versions, "tx_ae") == _score(two_versions, "tx_ae@1")
    # promoted, the older version drops, and the name stays where it is
    assert _run("promote", two_versions, "tx_ae@2")[0] == 0
    code, out, err = _run("drop", two_versions, "tx_ae@1", "--yes")
    assert code == 0 and out.strip() == "dropped tx_ae version(s) 1", (out, err)


def test_history_says_per_version_what_it_was_trained_on_who_promoted_it_and_keeps_a_dropped_sha(
        two_versions: str) -> None:
    con = ad_duckdb.connect(two_versions)
    try:
        sha1 = ad_duckdb.load_model(con, "tx_ae@1").sha256
        ad_duckdb.promote(con, "tx_ae@2")
        ad_duckdb.drop_model(con, "tx_ae@1")
        doc = ad_duckdb.model_history(con, "tx_ae")
    finally:
        con.close()
    assert doc["current"] == 2
    v1, v2 = doc["versions"]
    assert (v1["version"], v1["status"], v1["sha256"]) == (1, "dropped", sha1)
    assert v1["source"] == "transactions" and v1["train_rows"] == 3000 and v1["features"] == ["count", "amount"]
    assert "default" in v1["thresholds"] and "train_score_mean" in v1["figures"]
    assert [e["event"] for e in v1["events"]] == ["trained", "dropped"]
    assert v2["status"] == "current"
    assert [(e["event"], e["was"]) for e in v2["events"]] == [("trained", 1), ("promoted", 1)]
    assert v2["events"][0]["promoted"] is False and all(e["by"] for e in v2["events"])
    code, out, err = _run("history", two_versions, "tx_ae")
    assert code == 0, err
    assert out.startswith("tx_ae: 'tx_ae' means tx_ae@2 (times UTC)")
    assert f"sha256 {sha1}" in out
    assert "trained (staged: 'tx_ae' stayed tx_ae@1) by " in out and "promoted: 'tx_ae' was tx_ae@1 by " in out
    assert "tx_ae@1  dropped" in out


def test_a_store_made_before_the_changelog_reads_as_before_and_history_says_what_it_lacks(tmp_path: Path,
                                                                                          tx_ae_master: Path) -> None:
    """A file of an older release has no ad_model_current / ad_model_log: the bare name is the newest version, a
    read-only open works, and history says a version dropped back then left no record."""
    path = copy_tx_ae(tx_ae_master, tmp_path / "old.duckdb")
    con = ad_duckdb.connect(path)
    try:
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **{**FAST, "seed": 1})
        ad_duckdb.drop_model(con, "tx_ae@1")
        con.execute("DROP TABLE ad_model_current; DROP TABLE ad_model_log")
    finally:
        con.close()
    con = ad_duckdb.connect(path, read_only=True)
    try:
        assert ad_duckdb.load_model(con, "tx_ae").version == 2
        assert float(con.execute(f"SELECT {ROW.format('tx_ae')}").fetchone()[0]) == \
            float(con.execute(f"SELECT {ROW.format('tx_ae@2')}").fetchone()[0])
        doc = ad_duckdb.model_history(con, "tx_ae")
    finally:
        con.close()
    assert [(v["version"], v["status"], v.get("unrecorded", False)) for v in doc["versions"]] == \
        [(1, "dropped", True), (2, "current", False)]
    code, out, err = _run("history", path, "tx_ae")
    assert code == 0 and "dropped before this database kept a changelog" in out, (out, err)


def test_train_no_promote_on_the_command_line_says_what_the_name_still_means(two_versions: str) -> None:
    code, out, err = _run("train", two_versions, "tx_ae", "transactions", "-f", "count", "-f", "amount", "--quiet",
                          "--no-promote", "--max-train-rows", "500")
    assert code == 0, err
    assert "staged: 'tx_ae' still means tx_ae@1" in out and "promote" in out and "tx_ae@3" in out, out
    assert _score(two_versions, "tx_ae") == _score(two_versions, "tx_ae@1")


def test_anomaly_model_says_in_sql_and_through_serve_which_version_a_call_scores_with(two_versions: str) -> None:
    """score --model-column's anomaly_model column had no SQL counterpart, so a score table written by a dbt model or
    a client of `serve` could not record which version scored it: anomaly_model('tx_ae') is 'tx_ae@1' while tx_ae@2
    is staged, 'tx_ae@2' once promoted, and NULL for NULL."""
    import psycopg

    from test_server import serve

    con = ad_duckdb.connect(two_versions)
    try:
        assert con.execute("SELECT anomaly_model('tx_ae'), anomaly_model('tx_ae@2'), anomaly_model(NULL)").fetchall() \
            == [("tx_ae@1", "tx_ae@2", None)]
        with pytest.raises(duckdb.Error, match="Did you mean 'tx_ae'"):
            con.execute("SELECT anomaly_model('tx_aee')").fetchall()
    finally:
        con.close()
    with serve(two_versions) as server, psycopg.connect(server.url(), autocommit=True) as conn:
        assert conn.execute("SELECT anomaly_model('tx_ae')").fetchall() == [("tx_ae@1",)]
    con = ad_duckdb.connect(two_versions)
    try:
        ad_duckdb.promote(con, "tx_ae@2")
        rows = con.execute("SELECT anomaly_model('tx_ae') AS m, count(*) FROM transactions GROUP BY m").fetchall()
        assert rows == [("tx_ae@2", 3000)]
    finally:
        con.close()


def test_an_import_can_be_staged_and_history_says_it_was_imported(two_versions: str, tmp_path: Path) -> None:
    """A model trained in dev and imported into prod moved prod's dashboards at once; import --no-promote stages it,
    and the changelog says the version was imported, not trained here."""
    onnx = str(tmp_path / "v2.onnx")
    assert _run("export", two_versions, "tx_ae@2", onnx)[0] == 0
    prod = str(tmp_path / "prod.duckdb")
    con = ad_duckdb.connect(prod)
    try:
        make_transactions(con)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **{**FAST, "seed": 5})
    finally:
        con.close()
    code, out, err = _run("import", prod, onnx, "--no-promote")
    assert code == 0, err
    assert out.splitlines() == ["stored tx_ae@2", "staged: 'tx_ae' still means tx_ae@1 (queries, views and dashboards "
                                f"calling it do not move); score the new one as 'tx_ae@2', then `ad-duckdb promote "
                                f"{prod} tx_ae@2`"], out
    assert _score(prod, "tx_ae") == _score(prod, "tx_ae@1") != _score(prod, "tx_ae@2")
    con = ad_duckdb.connect(prod)
    try:
        events = [(e["event"], e.get("promoted")) for e in ad_duckdb.model_history(con, "tx_ae")["versions"][1]["events"]]
    finally:
        con.close()
    assert events == [("imported", False)]


def test_promoting_a_version_without_the_thresholds_of_its_own_the_name_had_says_so(two_versions: str) -> None:
    """A threshold set on 'tx_ae' (tx_ae@1) while tx_ae@2 was staged: promoting tx_ae@2 broke is_anomaly_at('tx_ae',
    'cut', ...) in every dashboard with no word. The promotion names the threshold and the command that sets it."""
    con = ad_duckdb.connect(two_versions)
    try:
        ad_duckdb.set_threshold(con, "tx_ae", "cut", "manual", value=3.0)
        assert ad_duckdb.load_model(con, "tx_ae@1").threshold("cut") is not None
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"'tx_ae' now means tx_ae@2, which has no threshold 'cut' "
                                                           r"that tx_ae@1 has") as rec:
            ad_duckdb.promote(con, "tx_ae@2")
        assert "ad-duckdb threshold DB tx_ae@2 cut --method" in str(rec[0].message)
    finally:
        con.close()


@pytest.mark.parametrize("given", ["connection", None, 3])
def test_connect_refuses_what_is_not_a_path_rather_than_create_a_file_named_after_it(
        given: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ad_duckdb.connect(con) (a connection where a path belongs, as one reopening a read-only file writes) created
    a database file named "<_duckdb.DuckDBPyConnection object at 0x...>" in the working folder, with no model in
    it: refused, pointing at register(con) for a connection."""
    monkeypatch.chdir(tmp_path)
    raw = duckdb.connect()
    try:
        with pytest.raises(BadInputError, match="takes a database file's path") as e:
            ad_duckdb.connect(raw if given == "connection" else given)  # type: ignore[arg-type]
        assert ("ad_duckdb.register(con)" in str(e.value)) == (given == "connection")
    finally:
        raw.close()
    assert list(tmp_path.iterdir()) == []


def test_history_calls_a_version_rolled_back_from_stored_not_staged(two_versions: str) -> None:
    con = ad_duckdb.connect(two_versions)
    try:
        assert [v["status"] for v in ad_duckdb.model_history(con, "tx_ae")["versions"]] == ["current", "staged"]
        ad_duckdb.promote(con, "tx_ae@2")
        ad_duckdb.rollback(con, "tx_ae")
        assert [v["status"] for v in ad_duckdb.model_history(con, "tx_ae")["versions"]] == ["current", "stored"]
    finally:
        con.close()


def test_the_recipes_threshold_query_reads_the_version_the_name_means(two_versions: str) -> None:
    """sql/recipes.sql and the example's walkthrough.sql count what each stored threshold flags, joining
    ad_thresholds of max(version): with tx_ae@2 staged, that listed the staged version's cuts beside scores of
    tx_ae@1, the one 'tx_ae' means. Both files now read the version from anomaly_model('tx_ae')."""
    root = Path(__file__).resolve().parents[1]
    con = ad_duckdb.connect(two_versions)
    try:
        ad_duckdb.set_threshold(con, "tx_ae@1", "mine", "manual", value=1.0)
        ad_duckdb.set_threshold(con, "tx_ae@2", "theirs", "manual", value=2.0)
        for path, marker in ((root / "sql" / "recipes.sql", "-- Rows flagged by each stored threshold"),
                             (root / "examples" / "transactions" / "walkthrough.sql", "-- 3. How many rows")):
            query = path.read_text().split(marker, 1)[1].split("\n", 1)[1].split(";", 1)[0]
            # the recipes name the example's columns; the fixture's model takes two
            query = query.replace(", t.distinct_cards, t.refunds", "")
            names = {r[0] for r in con.execute(query).fetchall()}
            assert "mine" in names and "theirs" not in names, (path.name, names)
    finally:
        con.close()


def test_compare_on_a_source_row_that_cannot_be_computed_names_the_versions_and_the_source(two_versions: str) -> None:
    """A row of the source's query DuckDB cannot compute (error(), a cast of text) was DuckDB's words alone, "Invalid
    Input Error: feed broke", naming neither the versions compared nor the source."""
    bad = ("SELECT count, CASE WHEN transaction_id = 7 THEN error('feed broke') ELSE amount END AS amount "
           "FROM transactions")
    code, out, err = _run("compare", two_versions, "tx_ae@1", "tx_ae@2", bad)
    assert (code, out) == (1, ""), (code, out, err)
    assert err.strip() == f"Error: Comparing tx_ae@1 and tx_ae@2: cannot read {bad!r}: Invalid Input Error: feed broke.", err
    # an error of the functions themselves keeps its own words
    code, _, err = _run("compare", two_versions, "tx_ae@1", "tx_ae@2", "SELECT 'x' AS count, amount FROM transactions")
    assert code == 1 and "Comparing" not in err and "column 'count'" in err, err
