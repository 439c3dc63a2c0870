"""What two new-user reviews met (lifecycle and own data): a plots path that names a file, a mistyped file source, a
dot command given as an argument of its own, a label named as a feature, a pinned version that cannot be dropped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import ad_duckdb

from conftest import FAST, cli_in_process, make_transactions


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("review18")
    path = folder / "w.duckdb"
    with ad_duckdb.connect(str(path)) as con:
        make_transactions(con)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        con.execute(f"COPY (FROM transactions) TO '{folder / 'tx.parquet'}'")
    yield path


def _versions(path: Path, name: str, n: int) -> duckdb.DuckDBPyConnection:
    """A connection to a new file database holding transactions and ``n`` versions of ``name``."""
    con = ad_duckdb.connect(str(path))
    make_transactions(con)
    for _ in range(n):
        ad_duckdb.train(con, name, "transactions", features=["count", "amount"], **FAST)
    return con


def test_a_plots_path_naming_an_image_file_is_refused_before_any_folder_is_made(db: Path) -> None:
    # Before: --plots plots/x.png made a folder x.png holding tx_ae_scores.png
    target = db.parent / "plots" / "x.png"
    res = cli_in_process("score", str(db), "tx_ae", "transactions", "--top", "1", "--plots", str(target))
    assert res.returncode == 1, res
    assert "looks like an image file's name, but plots go to a folder" in res.stderr, res.stderr
    assert f"e.g. {target.parent}/" in res.stderr, res.stderr
    assert not (db.parent / "plots").exists()
    with duckdb.connect(str(db), read_only=True) as con:
        ad_duckdb.register(con)
        with pytest.raises(ad_duckdb.BadInputError, match="plots go to a folder"):
            ad_duckdb.evaluate(con, "tx_ae", "transactions", label="count > 20", plots_dir=str(target))


def test_a_mistyped_file_source_gets_the_file_it_is_close_to(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: 'tx.parqet' was read as table parqet of a schema tx, with the fix of attaching a file tx.duckdb
    monkeypatch.chdir(db.parent)
    res = cli_in_process("score", str(db), "tx_ae", "tx.parqet", "--top", "1")
    assert res.returncode == 6, res
    assert "no table, view or file 'tx.parqet'. Did you mean 'tx.parquet'?" in res.stderr, res.stderr
    assert "--attach" not in res.stderr, res.stderr
    other = cli_in_process("score", str(db), "tx_ae", "foo.bar", "--top", "1")  # no file near: the schema message
    assert other.returncode == 6 and "'foo' is neither a schema" in other.stderr, other


def test_a_dot_command_given_as_its_own_argument_gets_a_fix_that_runs(db: Path) -> None:
    # Before: the fix joined the two by a space, '.mode csv SELECT 1 AS x', which fails: a dot command ends its line
    res = cli_in_process("sql", str(db), ".mode csv", "SELECT 1 AS x")
    assert res.returncode == 2, res
    assert "ad-duckdb sql " in res.stderr and "$'.mode csv\\nSELECT 1 AS x'" in res.stderr, res.stderr
    assert "--format csv" in res.stderr, res.stderr
    fixed = cli_in_process("sql", str(db), ".mode csv\nSELECT 1 AS x")
    assert fixed.returncode == 0 and fixed.stdout.split() == ["x", "1"], fixed


def test_a_label_named_as_a_feature_gets_the_note_default_features_give(tmp_path: Path) -> None:
    con = ad_duckdb.connect(":memory:")
    try:
        make_transactions(con)
        con.execute("CREATE TABLE lab AS SELECT *, (amount > 300)::INTEGER AS label FROM transactions")
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"'label', a 0/1 column named like a label, is a feature: "
                          r".*leave it out \(features=\['count', 'amount'\]\) and train on the normal rows "
                          r"\(where=\"label = 0\"\)"):
            ad_duckdb.train(con, "m", "lab", features=["count", "amount", "label"], **FAST)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error", ad_duckdb.AdDuckDBWarning)
            ad_duckdb.train(con, "m2", "lab", features=["count", "amount"], **FAST)  # no such note
    finally:
        con.close()


def test_a_pinned_version_with_only_newer_ones_left_says_what_the_pin_is(tmp_path: Path) -> None:
    # Before: "the versions left (api@2) were never promoted", said after api@2 had been promoted and rolled back from
    con = _versions(tmp_path / "p.duckdb", "api", 2)
    try:
        ad_duckdb.promote(con, "api@2")
        ad_duckdb.rollback(con, "api")
        with pytest.raises(ad_duckdb.BadInputError, match=r"Cannot drop api@1: it is what 'api' means \(set by "
                           r"promote or rollback\), and the versions left \(api@2\) are newer") as e:
            ad_duckdb.drop_model(con, "api@1")
        assert "never promoted" not in str(e.value)
        assert ad_duckdb.load_model(con, "api").version == 1
    finally:
        con.close()


def test_a_text_literal_where_a_feature_goes_names_the_function_and_the_fix(db: Path) -> None:
    # Before: DuckDB's "Could not convert string 'p95' to DOUBLE" alone
    res = cli_in_process("sql", str(db), "SELECT count(*) FROM transactions WHERE is_anomaly('tx_ae', 'p95', count, "
                         "amount)")
    assert res.returncode != 0, res
    assert ("the text 'p95' is given to is_anomaly where the model's first feature goes, as a number; a threshold by "
            "name goes to is_anomaly_at('tx_ae', 'p95', ...)") in res.stderr, res.stderr
    fixed = cli_in_process("sql", str(db), "SELECT count(*) FROM transactions WHERE is_anomaly_at('tx_ae', 'p95', "
                           "count, amount)")
    assert fixed.returncode == 0, fixed
    res = cli_in_process("sql", str(db), "SELECT anomaly_score('tx_ae', 'abc', 100.0)")
    assert "the text 'abc' is given to anomaly_score where the model's first feature goes" in res.stderr, res.stderr
    assert "is_anomaly_at" not in res.stderr, res.stderr


def test_a_carried_threshold_whose_labelled_table_is_gone_is_not_told_to_rename_columns(tmp_path: Path) -> None:
    con = ad_duckdb.connect(str(tmp_path / "k.duckdb"))
    try:
        make_transactions(con)
        con.execute("CREATE TABLE labt AS SELECT *, (amount > 300)::INTEGER AS label FROM transactions")
        ad_duckdb.train(con, "tx", "transactions", features=["count", "amount"], **FAST)
        ad_duckdb.set_threshold(con, "tx", "best", "max_f1", source="labt", label="label")
        con.execute("DROP TABLE labt")
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match=r"Threshold 'best' is carried") as got:
            ad_duckdb.train(con, "tx", "transactions", features=["count", "amount"], carry_thresholds=True, **FAST)
        said = next(str(w.message) for w in got if "Threshold 'best' is carried" in str(w.message))
        assert "SOURCE: where the labelled rows are now" in said and "RENAME" not in said, said
    finally:
        con.close()


def test_history_of_one_version_shows_that_version(tmp_path: Path) -> None:
    # Before: history DB tx@2 printed every version, the @2 unread
    con = _versions(tmp_path / "h.duckdb", "tx", 3)
    try:
        ad_duckdb.drop_model(con, "tx@2")
        assert [v["version"] for v in ad_duckdb.model_history(con, "tx")["versions"]] == [1, 2, 3]
        one = ad_duckdb.model_history(con, "tx@2")
        assert [(v["version"], v["status"], v["features"]) for v in one["versions"]] == [(2, "dropped", ["count", "amount"])]
        with pytest.raises(ad_duckdb.ModelNotFoundError, match=r"has no version 7, stored or dropped"):
            ad_duckdb.model_history(con, "tx@7")
    finally:
        con.close()
    res = cli_in_process("history", str(tmp_path / "h.duckdb"), "tx@2")
    assert res.returncode == 0 and "\ntx@2  dropped" in res.stdout and "\ntx@3  " not in res.stdout, res
