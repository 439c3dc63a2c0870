"""Model files moved between databases: values inside a file that would spoil only the imported model are refused
(naming the file, the field, the value and the fix) with nothing stored; the per-model ``min_reader`` level; and
round trips (file DB -> file -> :memory: / another file) that keep everything ``show`` prints."""

from __future__ import annotations

import copy
import json
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb import filegoals, integrity, modelnames, onnxfile, readers, store
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions, make_versioned_models


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A file database with table transactions (and lab, labelled) and tx_ae@1, tx_ae@2 (with a manual and a
    max_f1 threshold), and tx_ae@2 exported beside it as tx.onnx."""
    folder = tmp_path_factory.mktemp("import2")
    con = ad_duckdb.connect(str(folder / "dev.duckdb"))
    try:
        make_versioned_models(con)
        ad_duckdb.export_model(con, "tx_ae", folder / "tx.onnx")
    finally:
        con.close()
    yield folder


def _parts(path: Path) -> tuple[bytes, dict[str, Any]]:
    data = path.read_bytes()
    text = integrity.metadata_props(data)["ad_duckdb"]
    return data[: -len(onnxfile.metadata_entry(text))], json.loads(text)


def _crafted(dev: Path, change: Callable[[dict[str, Any]], None], name: str = "crafted.onnx") -> Path:
    """tx.onnx with its metadata changed by ``change`` and both digests made to fit, as a hand edit (or another tool)
    would leave it: only the values themselves are wrong."""
    graph, meta = _parts(dev / "tx.onnx")
    meta = copy.deepcopy(meta)
    meta.pop("metadata_sha256")
    change(meta)
    meta["metadata_sha256"] = onnxfile.metadata_digest(meta)
    out = dev / name
    out.write_bytes(graph + onnxfile.metadata_entry(json.dumps(meta, sort_keys=True)))
    return out


def _feature(i: int, key: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda m: m["features"][i].__setitem__(key, value)


def _threshold(name: str, key: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda m: next(t for t in m["thresholds"] if t["name"] == name).__setitem__(key, value)


ODDITIES: list[tuple[str, Callable[[dict[str, Any]], None], list[str]]] = [
    ("a NUL in a feature name", _feature(0, "name", "co\x00unt"), ["features[0].name", "'co\\x00unt'", "NUL"]),
    ("a megabyte feature name", _feature(1, "name", "a" * 1_000_000),
     ["features[1].name", "(1,000,000 characters)", "over the 4,096"]),
    ("a feature named twice", _feature(1, "name", "count"),
     ["features[0].name = 'count' and features[1].name = 'count'", "named twice"]),
    ("features named twice but for case", _feature(1, "name", "COUNT"), ["features[1].name = 'COUNT'", "named twice"]),
    ("an empty feature name", _feature(1, "name", ""), ["features[1].name = ''", "empty"]),
    ("a NaN threshold", _threshold("default", "value", float("nan")), [".value = nan", "not a finite number"]),
    ("an infinite threshold", _threshold("p99", "value", float("inf")), [".value = inf", "not a finite number"]),
    ("a threshold of text", _threshold("cut", "value", "7.5"), [".value = '7.5'", "not a number"]),
    ("a NUL in a threshold name", _threshold("cut", "name", "c\x00ut"), [".name = 'c\\x00ut'", "NUL"]),
    ("a megabyte threshold name", _threshold("cut", "name", "c" * 1_000_000), ["(1,000,000 characters)"]),
    ("a threshold named twice", lambda m: m["thresholds"].append(dict(m["thresholds"][0])),
     ["two thresholds named", "replace the other"]),
    ("a share above 1", _threshold("best", "precision", 1.5), [".precision = 1.5", "share from 0 to 1"]),
    ("a negative scale", _feature(0, "scale", -2.9), ["features[0].scale = -2.9", "not above 0"]),
    ("a zero scale", _feature(1, "scale", 0.0), ["features[1].scale = 0.0", "not above 0"]),
    ("a scale of text", _feature(0, "scale", "2.9"), ["features[0].scale = '2.9'", "not a number"]),
    ("a NaN centre", _feature(0, "center", float("nan")), ["features[0].center = nan"]),
    ("an infinite fill", _feature(1, "fill", float("-inf")), ["features[1].fill = -inf"]),
    ("a fill of true", _feature(1, "fill", True), ["features[1].fill = True", "not a number"]),
    ("a range upside down", _feature(0, "lo", 50.0), ["features[0].lo = 50.0 above features[0].hi"]),
    ("an unknown transform", _feature(0, "transform", "log"), ["features[0].transform = 'log'", "'none', 'slog'"]),
    ("a NUL in the source", lambda m: m.__setitem__("source", "trans\x00actions"), ["source = 'trans\\x00actions'"]),
    ("a version below 1", lambda m: m.__setitem__("version", -3), ["version = -3"]),
    ("a reordered feature list", lambda m: m.__setitem__("features", m["features"][::-1]),
     ["input column 1", "features[0].fill", "the list is reordered", "not the graph's"]),
    ("an edited fill", _feature(1, "fill", 100.0), ["input column 2", "features[1].fill = 100.0", "not the graph's"]),
    ("an edited scale", _feature(0, "scale", 5.0), ["input column 1", "features[0].scale = 5.0", "not the graph's"]),
    ("a feature list of another length", lambda m: m["features"].append(dict(m["features"][0], name="extra")),
     ["its graph takes 2 input column(s)", "lists 3 feature(s) ('count', 'amount', 'extra')", "not the graph's"]),
]


@pytest.mark.parametrize("what, change, said", ODDITIES, ids=[o[0] for o in ODDITIES])
def test_an_oddity_that_spoils_only_the_imported_model_is_refused_and_nothing_is_stored(
        dev: Path, tmp_path: Path, what: str, change: Callable[[dict[str, Any]], None], said: list[str]) -> None:
    """Each was stored before (a NaN default flagged no row, a feature named twice read one column for both, a
    reordered feature list filled each column's missing values with another's median), or stopped with a bare
    error; now refused, naming the file and the field, with the fix, and the database is left as it was."""
    path = _crafted(dev, change)
    db = tmp_path / "prod.duckdb"
    shutil.copy(dev / "dev.duckdb", db)
    con = ad_duckdb.connect(str(db))
    try:
        before = con.execute("SELECT name, version, sha256 FROM ad_models ORDER BY ALL").fetchall()
        ths = con.execute("SELECT count(*) FROM ad_thresholds").fetchall()
        with pytest.raises(ad_duckdb.IntegrityError) as caught:
            ad_duckdb.import_model(con, path, name="tx_ae")
        msg = str(caught.value)
        assert msg.startswith("Model file "), msg
        assert "crafted.onnx" in msg, msg
        for s in said:
            assert s in msg, (s, msg)
        assert "export it again from the database it came from" in msg, msg
        assert len(msg) < 1200, msg  # a megabyte value is shown cut
        assert con.execute("SELECT name, version, sha256 FROM ad_models ORDER BY ALL").fetchall() == before
        assert con.execute("SELECT count(*) FROM ad_thresholds").fetchall() == ths
    finally:
        con.close()


def test_the_cli_refuses_a_nan_threshold_with_the_integrity_exit_code(dev: Path, tmp_path: Path) -> None:
    path = _crafted(dev, _threshold("default", "value", float("nan")))
    res = CliRunner().invoke(cli, ["import", str(tmp_path / "new.duckdb"), str(path)])
    assert res.exit_code == 8, res.output
    assert "thresholds[" in res.output and ".value = nan" in res.output, res.output
    con = ad_duckdb.connect(str(tmp_path / "new.duckdb"))
    try:
        assert ad_duckdb.list_models(con) == []
    finally:
        con.close()


def test_a_time_with_a_zone_in_a_file_imports_as_utc(dev: Path, tmp_path: Path) -> None:
    """A file whose created_at had a zone ('+05:00', as another tool writes one) stopped the import with a bare
    TypeError ("can't compare offset-naive and offset-aware datetimes") once the name had a version stored."""
    def change(m: dict[str, Any]) -> None:
        m["created_at"] = "2026-01-01T05:00:00+05:00"
        m["threshold_times"] = {"cut": "2026-01-02T00:00:00Z"}
        _threshold("cut", "value", 8.5)(m)  # another model than the stored one's thresholds: it is stored
    path = _crafted(dev, change)
    db = tmp_path / "prod.duckdb"
    shutil.copy(dev / "dev.duckdb", db)
    con = ad_duckdb.connect(str(db))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = ad_duckdb.import_model(con, path)
        assert info.version == 3
        assert con.execute("SELECT created_at::VARCHAR FROM ad_models WHERE version = 3").fetchall() == \
            [("2026-01-01 00:00:00",)]
        assert con.execute("SELECT created_at::VARCHAR FROM ad_thresholds WHERE version = 3 AND threshold_name = "
                           "'cut'").fetchall() == [("2026-01-02 00:00:00",)]
    finally:
        con.close()


def test_every_file_of_older_releases_still_imports(tmp_path: Path) -> None:
    """The checks refuse no file an ad_duckdb export wrote: the kept files of older releases import and score."""
    files = sorted((Path(__file__).parent / "data" / "old_files").glob("*.onnx"))
    assert files
    con = ad_duckdb.connect(":memory:")
    try:
        for f in files:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                info = ad_duckdb.import_model(con, f, name=f.stem.split("_", 1)[0] + "_m")
            assert con.execute(f"SELECT anomaly_score('{info.ref}', 3, 40.0) > 0").fetchall() == [(True,)]
    finally:
        con.close()


def _set_min_reader(con: duckdb.DuckDBPyConnection, ref: str, level: object) -> None:
    name, version = modelnames.parse_ref(ref)
    con.execute("UPDATE ad_models SET lib_versions = json_merge_patch(lib_versions, json_object('min_reader', ?)) "
                "WHERE name = ? AND version = ?", [level, name, version])


def test_a_model_needing_a_newer_reader_is_refused_naming_the_upgrade_and_the_others_score(dev: Path,
                                                                                      tmp_path: Path) -> None:
    """A later build that changes how some models score writes min_reader 2 into those; this build then refuses
    them (where an older build scored them by its own rules without a word) and keeps scoring the others."""
    db = tmp_path / "mixed.duckdb"
    shutil.copy(dev / "dev.duckdb", db)
    con = ad_duckdb.connect(str(db))
    try:
        # a model of numbers needs level 1 (readers.BASE); only one with text features needs 2, this build's READER
        assert ad_duckdb.load_model(con, "tx_ae@2").lib_versions[readers.KEY] == readers.BASE == 1
        assert readers.READER == readers.TEXT_FEATURES == 2
        _set_min_reader(con, "tx_ae@2", readers.READER + 1)
        ad_duckdb.refresh(con)
        assert con.execute("SELECT anomaly_score('tx_ae@1', 3, 40.0) > 0").fetchall() == [(True,)]
        with pytest.raises(duckdb.Error) as caught:
            con.execute("SELECT anomaly_score('tx_ae@2', 3, 40.0)").fetchall()
        assert "needs an ad_duckdb that reads models of level 3 (lib_versions.min_reader)" in str(caught.value)
        assert "Upgrade ad_duckdb" in str(caught.value)
        listed = {m["version"]: m for m in ad_duckdb.list_models(con)}
        # not "damaged", which a user drops: it scores once ad_duckdb is upgraded
        assert listed[1]["status"] == "ok" and listed[2]["status"] == "needs_upgrade", listed
        assert "level 3" in listed[2]["problem"]
        con.close()
        res = CliRunner().invoke(cli, ["list", str(db), "--format", "csv"])
        assert res.exit_code == 0 and [line.rsplit(",", 1)[1] for line in res.output.splitlines() if line.startswith("tx_ae,")] == \
            ["ok", "needs_upgrade"], res.output
        con = ad_duckdb.connect(str(db))
        con.execute("UPDATE ad_models SET format_version = 2, lib_versions = json_remove(lib_versions, "
                    "'$.min_reader') WHERE version = 2")
        assert [m["status"] for m in ad_duckdb.list_models(con)] == ["ok", "needs_upgrade"]
        con.execute("UPDATE ad_models SET format_version = 1, sha256 = 'x' WHERE version = 2")
        assert [m["status"] for m in ad_duckdb.list_models(con)] == ["ok", "damaged"]
        # a model without the field (every model stored before it existed) needs level 1: unchanged
        con.execute("UPDATE ad_models SET lib_versions = json_remove(lib_versions, '$.min_reader') WHERE version = 1")
        ad_duckdb.refresh(con)
        assert con.execute("SELECT anomaly_score('tx_ae@1', 3, 40.0) > 0").fetchall() == [(True,)]
        _set_min_reader(con, "tx_ae@1", "2")
        with pytest.raises(ad_duckdb.IntegrityError, match="min_reader must be a whole number from 1; got '2'"):
            ad_duckdb.load_model(con, "tx_ae@1")
    finally:
        con.close()


def test_a_file_needing_a_newer_reader_is_refused_at_import(dev: Path, tmp_path: Path) -> None:
    path = _crafted(dev, lambda m: m["lib_versions"].__setitem__("min_reader", 3))
    con = ad_duckdb.connect(":memory:")
    try:
        with pytest.raises(ad_duckdb.IntegrityError) as caught:
            ad_duckdb.import_model(con, path)
        msg = str(caught.value)
        assert "crafted.onnx" in msg and "its model tx_ae@2 needs an ad_duckdb that reads models of level 3" in msg, msg
        assert ad_duckdb.list_models(con) == []
    finally:
        con.close()


# What differs by design after a round trip: the version number (numbers start again in each database), the source
# (which names the file and the exported ref), and what follows from them
_BY_DESIGN = {"ref", "version", "source", "versions", "latest_ref", "score_with", "retrain_note"}


def _show(db: str, ref: str) -> dict[str, Any]:
    res = CliRunner().invoke(cli, ["show", db, ref, "--format", "json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out: dict[str, Any] = json.loads(res.output)
    return out


def _answers(con: duckdb.DuckDBPyConnection, ref: str) -> list[tuple[Any, ...]]:
    return con.execute(
        f"SELECT anomaly_score('{ref}', count, amount), is_anomaly('{ref}', count, amount), "
        f"is_anomaly_at('{ref}', 'best', count, amount), anomaly_percentile('{ref}', count, amount), "
        f"anomaly_explain('{ref}', count, amount), anomaly_terms('{ref}', count, amount), "
        f"anomaly_threshold('{ref}', 'cut') FROM (SELECT * FROM transactions UNION ALL SELECT 999, NULL, 55.5, "
        "55.5 UNION ALL SELECT 1000, 80, NULL, NULL) ORDER BY transaction_id, count NULLS FIRST").fetchall()


def test_a_round_trip_keeps_everything_show_prints_and_every_answer(dev: Path, tmp_path: Path) -> None:
    """Export from a file database, import into :memory: and into another file: thresholds (with how and when each
    was set), features, metrics, library versions and the goal of a threshold chosen on labels are equal, and so
    is every function's answer (scores, percentiles, explanations with their baselines, terms)."""
    other = tmp_path / "prod.duckdb"
    mem = ad_duckdb.connect(":memory:")
    src = ad_duckdb.connect(str(dev / "dev.duckdb"), read_only=True)
    try:
        info = ad_duckdb.import_model(mem, dev / "tx.onnx")
        assert info.ref == "tx_ae@1"
        make_transactions(mem)
        original, copied = ad_duckdb.load_model(src, "tx_ae@2"), ad_duckdb.load_model(mem, "tx_ae@1")
        for field in ("features", "thresholds", "threshold_times", "params", "lib_versions", "created_at",
                      "sha256", "onnx", "kind", "train_rows", "format_version"):
            assert getattr(copied, field) == getattr(original, field), field
        # the goal comes along, kept to show, never run (filegoals): under its own key, none to run
        goals = original.metrics.pop(store.GOALS)
        assert copied.metrics.pop(filegoals.IMPORTED) == goals and copied.metrics.pop(store.GOALS, None) is None
        assert copied.metrics == original.metrics
        expected = _answers(src, "tx_ae@2")
        assert _answers(mem, "tx_ae@1") == expected
    finally:
        src.close()
        mem.close()
    con = ad_duckdb.connect(str(other))
    try:
        ad_duckdb.import_model(con, dev / "tx.onnx")
        make_transactions(con)
        assert _answers(con, "tx_ae@1") == expected
    finally:
        con.close()
    a, b = _show(str(dev / "dev.duckdb"), "tx_ae@2"), _show(str(other), "tx_ae@1")
    a["metrics"] = filegoals.from_file(a["metrics"])  # the file's goal: kept to show, never run
    assert {k: v for k, v in a.items() if k not in _BY_DESIGN} == {k: v for k, v in b.items() if k not in _BY_DESIGN}
    assert b["source"] == "imported from tx.onnx (tx_ae@2; transactions)"
    # and back: the copy's export imported into the first database is the model it came from, so nothing is stored
    con = ad_duckdb.connect(str(other))
    try:
        again = ad_duckdb.export_model(con, "tx_ae", tmp_path / "back.onnx")
    finally:
        con.close()
    shutil.copy(dev / "dev.duckdb", tmp_path / "dev_copy.duckdb")
    con = ad_duckdb.connect(str(tmp_path / "dev_copy.duckdb"))
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="tx_ae@2 is already this model"):
            assert ad_duckdb.import_model(con, again).ref == "tx_ae@2"
    finally:
        con.close()


def test_a_rerun_deployment_after_a_threshold_was_set_in_prod_adds_no_version(dev: Path, tmp_path: Path) -> None:
    """dev -> prod: the file imported, a threshold of prod's own set on it (c2), then the deployment step re-run.
    The re-run stored the same graph again as a new version without c2 (its thresholds were not the latest's, which
    had one more), so 'tx_ae' came to mean a version on which is_anomaly_at('tx_ae', 'c2', ...) failed."""
    con = ad_duckdb.connect(str(tmp_path / "prod.duckdb"))
    try:
        assert ad_duckdb.import_model(con, dev / "tx.onnx").ref == "tx_ae@1"
        ad_duckdb.set_threshold(con, "tx_ae", "c2", "manual", value=9.0)
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"tx_ae@1 is already this model .*also has threshold 'c2'"):
            assert ad_duckdb.import_model(con, dev / "tx.onnx").ref == "tx_ae@1"
        assert [m["version"] for m in ad_duckdb.list_models(con)] == [1]
        assert con.execute("SELECT anomaly_threshold('tx_ae', 'c2')").fetchall() == [(9.0,)]
        # a threshold of the file's that prod changed is the file's model no longer: the import restores it
        ad_duckdb.set_threshold(con, "tx_ae", "cut", "manual", value=3.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert ad_duckdb.import_model(con, dev / "tx.onnx").ref == "tx_ae@2"
        assert con.execute("SELECT anomaly_threshold('tx_ae', 'cut')").fetchall() == [(7.5,)]
    finally:
        con.close()


def _goal(key: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda m: m["metrics"]["threshold_goals"]["best"].__setitem__(key, value)


def _prod_and_crafted_goal(dev: Path, tmp_path: Path) -> tuple[duckdb.DuckDBPyConnection, Path]:
    """A prod database with transactions, and tx.onnx crafted so that its goal's where reads a secret file and
    raises its text: where it runs, the warning shows it."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4711")
    crafted = _crafted(dev, _goal("where", f"error((SELECT content FROM read_text('{secret}')))"), "goal.onnx")
    con = ad_duckdb.connect(str(tmp_path / "prod.duckdb"))
    make_transactions(con)
    return con, crafted


def test_an_imported_files_goal_sql_never_runs_at_a_carrying_retrain(dev: Path, tmp_path: Path) -> None:
    """A file's threshold goal holds SQL (its source and where), which a retrain with carry_thresholds ran: a crafted
    file made prod read what it chose (here a file, whose text came back in the warning). The imported goal is kept
    for the user to read, never run: the retrain carries the cut and names the command that chooses it again."""
    con, crafted = _prod_and_crafted_goal(dev, tmp_path)
    try:
        con.execute("CREATE TABLE lab AS SELECT *, (amount > 300)::INTEGER AS label FROM transactions")
        ad_duckdb.import_model(con, crafted)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], carry_thresholds=True, **FAST)
        said = "\n".join(str(w.message) for w in seen)
        assert "TOP-SECRET" not in said
        assert "'best'" in said and "imported" in said and "--source lab --label label" in said
        best = con.execute("SELECT method, chosen_on FROM ad_thresholds WHERE model = 'tx_ae' AND version = 2 "
                           "AND threshold_name = 'best'").fetchall()
        assert best[0][0] == "quantile" and best[0][1].startswith("carried from tx_ae@1")
        # naming the source again is the user's choice: the goal is then theirs, and the next retrain chooses it again
        ad_duckdb.set_threshold(con, "tx_ae", "best", "max_f1", source="lab", label="label")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], carry_thresholds=True, **FAST)
        assert con.execute("SELECT method FROM ad_thresholds WHERE model = 'tx_ae' AND version = 3 "
                           "AND threshold_name = 'best'").fetchall() == [("max_f1",)]
    finally:
        con.close()


def test_a_goal_an_earlier_release_imported_as_the_versions_own_is_not_run(dev: Path, tmp_path: Path) -> None:
    """A database where an earlier release imported the crafted file kept its goals under threshold_goals, beside the
    goals of the database's own: its "imported from" source says they came in the file, so they are not run either."""
    con, crafted = _prod_and_crafted_goal(dev, tmp_path)
    try:
        ad_duckdb.import_model(con, crafted)
        # as the earlier release stored it: the file's goals as the version's own, no imported_threshold_goals
        con.execute("UPDATE ad_models SET metrics = json_merge_patch(metrics, json_object('threshold_goals', "
                    "metrics->'imported_threshold_goals', 'imported_threshold_goals', NULL))")
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], carry_thresholds=True, **FAST)
        said = "\n".join(str(w.message) for w in seen)
        assert "TOP-SECRET" not in said and "imported model file" in said
    finally:
        con.close()


def test_replace_refuses_to_overwrite_a_database_or_a_data_file_and_a_data_suffix_gets_a_note(
        dev: Path, tmp_path: Path) -> None:
    # Before: `export DB tx_ae victim.duckdb --replace` (arguments swapped in a script) turned another database of
    # models into an ONNX file, and tx.parquet lost its rows, without a word
    victim = tmp_path / "victim.duckdb"
    with duckdb.connect(str(victim)) as con:
        con.execute("CREATE TABLE keep AS SELECT 1 AS x")
    rows = tmp_path / "tx.parquet"
    duckdb.sql(f"COPY (SELECT 1 AS a) TO '{rows}'")
    text = tmp_path / "rows.csv"
    text.write_text("a,b\n1,2\n")
    before = {p: p.read_bytes() for p in (victim, rows, text)}
    for path, kind in ((victim, "a DuckDB database"), (rows, "a Parquet file"), (text, "a text file")):
        res = CliRunner().invoke(cli, ["export", str(dev / "dev.duckdb"), "tx_ae", str(path), "--replace"])
        assert res.exit_code == 1, res.output
        assert f"{str(path)!r} is {kind}, not an .onnx model file" in res.output, res.output
        assert f"e.g. {path.stem}.onnx" in res.output, res.output
    with ad_duckdb.connect(str(dev / "dev.duckdb"), read_only=True) as con:
        with pytest.raises(ad_duckdb.BadInputError, match="is a DuckDB database"):
            ad_duckdb.export_model(con, "tx_ae", victim, replace=True)
        # a model file is replaced, as before
        again = ad_duckdb.export_model(con, "tx_ae", tmp_path / "m.onnx")
        assert ad_duckdb.export_model(con, "tx_ae", again, replace=True) == again
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"named .*out\.parquet.* name it \.onnx \(out\.onnx\)"):
            odd = ad_duckdb.export_model(con, "tx_ae", tmp_path / "out.parquet")
    assert {p: p.read_bytes() for p in before} == before
    with ad_duckdb.connect(str(tmp_path / "other.duckdb")) as con:  # the odd name still imports
        assert ad_duckdb.import_model(con, odd).name == "tx_ae"
