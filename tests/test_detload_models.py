"""list_models' status beside `ad-duckdb list`'s, and messages that speak the caller's spelling (CLI flags on the
command line, the detector's own parameter names in Python)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions


def invoke(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def test_list_models_says_which_versions_are_damaged(tmp_path: Path) -> None:
    """`ad-duckdb list` has a status column (ok / damaged); list_models had none, so a nightly check in Python listed
    a damaged version like a good one. Its rows now carry the same status, and the problem's text."""
    path = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=400)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **{**FAST, "max_steps": 50})
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **{**FAST, "max_steps": 50})
        good = ad_duckdb.list_models(con)
        con.execute("UPDATE ad_models SET sha256 = repeat('0', 64) WHERE version = 1")
        rows = ad_duckdb.list_models(con)
    finally:
        con.close()
    assert [r["status"] for r in good] == ["ok", "ok"] and [r["problem"] for r in good] == [None, None]
    # the columns before stay where they were: status and problem come last
    assert list(rows[0])[:9] == ["name", "version", "created_at", "kind", "n_features", "train_rows", "source",
                                 "onnx_bytes", "latest"]
    assert [(r["version"], r["status"]) for r in rows] == [(1, "damaged"), (2, "ok")]
    assert "sha256" in rows[0]["problem"] and rows[1]["problem"] is None
    rc, out, err = invoke("list", path, "--format", "csv")  # the command says the same
    assert rc == 0 and [line.rsplit(",", 1)[1] for line in out.splitlines()[1:]] == ["damaged", "ok"], out
    assert err.startswith("note: Model 'tx_ae@1'") and "sha256" in err, err
