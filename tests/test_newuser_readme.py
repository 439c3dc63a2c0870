"""A new analyst follows the README top to bottom on the example transactions: what they read must be what they get."""

from __future__ import annotations

import duckdb
import numpy as np

import ad_duckdb

from conftest import FAST
from generate import generate


def _quick_start_model(tmp_path) -> duckdb.DuckDBPyConnection:  # type: ignore[no-untyped-def]
    """The quick start's model, (count, amount) of the example transactions, on fewer rows."""
    db = str(tmp_path / "warehouse.duckdb")
    generate(db, rows=3000)
    con = ad_duckdb.connect(db)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    return con


def test_anomaly_terms_range_is_zero_inside_the_training_range(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """README (SQL functions): "the range term is 0 inside the training range". A count at the end of that range (the
    day of 1 transaction, the training minimum: hundreds of rows) came out 4.8e-07 beyond it in float32, so
    `WHERE t.range > 0`, the rows outside the training range, held twice as many rows as lie outside it."""
    con = _quick_start_model(tmp_path)
    rows = con.sql("SELECT count, amount, anomaly_terms('tx_ae', count, amount) AS t FROM transactions").fetchall()
    ranges = np.array([r[2]["range"] for r in rows])
    assert (ranges[(ranges > 0)] >= 1e-5).all(), sorted(set(ranges[(ranges > 0) & (ranges < 1e-5)].tolist()))
    # rows beyond it keep their term, and its sum with the other two is still the score
    assert (ranges > 0.01).sum() > 5
    far = con.execute("SELECT anomaly_terms('tx_ae', 5000, 400000.0) AS t, anomaly_score('tx_ae', 5000, 400000.0)").fetchone()
    assert far[0]["range"] > 1 and abs(sum(far[0].values()) - far[1]) < 1e-5 * far[1]
    # the Python detector from the store says the same
    det = ad_duckdb.AutoEncoderDetector.from_store(con, "tx_ae")
    X = np.array([[r[0], float(r[1])] for r in rows])
    assert (det.score_terms(X)["range"] == ranges).all()
    con.close()



def test_detector_score_terms_range_is_zero_inside_the_training_range(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The same of a detector fitted in a notebook on those rows (its torch graph, float32 too)."""
    db = str(tmp_path / "tx.duckdb")
    generate(db, rows=3000)
    with duckdb.connect(db) as con:
        X = np.array(con.execute("SELECT count, amount::DOUBLE FROM transactions").fetchall())
    det = ad_duckdb.AutoEncoderDetector(max_steps=600, progress=False).fit(X)
    r = det.score_terms(X)["range"]
    assert not ((r > 0) & (r < 1e-5)).any(), sorted(set(r[(r > 0) & (r < 1e-5)].tolist()))
    assert (r > 0.01).sum() > 5


def test_serve_start_line_says_which_version_the_name_means_after_a_rollback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """BI tools (serve): the start-up line said "models: tx_ae@1-2 (latest 2)" while 'tx_ae' meant tx_ae@1 (a retrain
    rolled back, or staged with --no-promote): a dashboard's author read that anomaly_score('tx_ae', ...) scores with
    version 2."""
    import os
    import signal
    import subprocess
    import sys

    from conftest import ROOT

    con = _quick_start_model(tmp_path)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    ad_duckdb.rollback(con, "tx_ae")
    assert con.execute("SELECT anomaly_model('tx_ae')").fetchone() == ("tx_ae@1",)
    con.close()
    proc = subprocess.Popen([sys.executable, "-m", "ad_duckdb", "serve", str(tmp_path / "warehouse.duckdb"), "--port",
                             "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        assert proc.stdout is not None
        proc.stdout.close()
    assert "models: tx_ae@1-2 ('tx_ae' means tx_ae@1; newest 2)" in line, line


def _help_example_lines(*command: str) -> list[str]:
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    res = CliRunner().invoke(cli, [*command, "--help"])
    assert res.exit_code == 0, res.output
    return [ln.strip() for ln in res.output.splitlines() if ln.strip().startswith("ad-duckdb ")]


def test_train_and_threshold_help_start_with_the_main_path() -> None:
    """A new user reads `ad-duckdb train --help` after the quick start: its first example was the labelled fraud
    recipe on a cards.duckdb they do not have, and the quick start's unlabelled training came fourth, as "a nightly
    retrain"; `threshold --help`'s examples were all of labelled rows but alarm_rate's, while the README's first
    threshold without labels is a cut read off the score plot."""
    train = _help_example_lines("train")
    assert train[0] == "ad-duckdb train warehouse.duckdb tx_ae transactions -f count -f amount", train
    threshold = _help_example_lines("threshold")
    assert threshold[0] == "ad-duckdb threshold warehouse.duckdb tx_ae cut --method manual --value 12", threshold
    assert threshold[1].startswith("ad-duckdb threshold warehouse.duckdb tx_ae c2 --method contamination"), threshold


def test_group_help_quick_start_says_where_its_table_comes_from() -> None:
    """`ad-duckdb --help`'s quick start trained on warehouse.duckdb's transactions without saying where they come
    from: pasted in an empty folder, its first line failed ("cannot read the source 'transactions'")."""
    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    lines = [ln.strip() for ln in CliRunner().invoke(cli, ["--help"]).output.splitlines()]
    first = lines.index("ad-duckdb train warehouse.duckdb tx_ae transactions -f count -f amount")
    assert lines[first - 1] == "python examples/transactions/generate.py warehouse.duckdb", lines[first - 2:first + 1]


def test_readme_text_column_commands_run_as_written_on_the_example(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """README "Text columns as features": its commands named a `channel` column the example transactions do not
    hold, so the first one a user copied failed ("Column 'channel' is not in 'transactions'"). Each line now runs as
    written, in order, on the example's database; the text column is a feature and the rows score."""
    import re
    import shlex
    from pathlib import Path

    from click.testing import CliRunner

    from ad_duckdb.cli import cli

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    at = readme.index("### Text columns as features")
    block = re.search(r"```sh\n(.*?)```", readme[at:], flags=re.S)
    assert block is not None
    lines = [ln for ln in block.group(1).splitlines() if ln.startswith("ad-duckdb ")]
    assert [shlex.split(ln)[1] for ln in lines] == ["sql", "train", "sql"], lines
    monkeypatch.chdir(tmp_path)
    generate("warehouse.duckdb", rows=3000)
    outs = []
    for ln in lines:
        res = CliRunner().invoke(cli, shlex.split(ln)[1:])
        assert res.exit_code == 0, (ln, res.output)
        outs.append(res.output)
    assert "features (count, amount, channel)" in outs[1], outs[1]
    top = outs[2].splitlines()
    assert "channel" in top[0] and len(top) == 2 + 20, outs[2]
    with duckdb.connect("warehouse.duckdb", read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT channel) FROM tx_channels").fetchone() == (3,)
