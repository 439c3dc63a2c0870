"""Multi-scale ensembles (code_sizes=) across versions: what a retrain that leaves the option out says."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import make_transactions

QUICK = {"max_steps": 60, "progress": False}


def test_a_retrain_that_leaves_code_sizes_out_says_the_ensemble_is_gone() -> None:
    """A nightly `ad-duckdb train ... --carry-thresholds` copied from the README (no --code-sizes) turned tx_ms from
    a multi-scale ensemble into one autoencoder: its scores changed and nothing said why. Each training takes its own
    options, so it is said, with the option that keeps it; the same sizes again, or a first opt-in, say nothing."""
    con = ad_duckdb.connect()
    try:
        make_transactions(con, n=600)
        feats = ["count", "amount"]
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # opting in on a new version says nothing
            ad_duckdb.train(con, "tx_ms", "transactions", features=feats, **QUICK)
            ad_duckdb.train(con, "tx_ms", "transactions", features=feats, code_sizes=(1, 2), **QUICK)
            ad_duckdb.train(con, "tx_ms", "transactions", features=feats, code_sizes=[1, 2], **QUICK)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # other sizes, given: the user's choice
            ad_duckdb.train(con, "tx_ms", "transactions", features=feats, code_sizes=(2,), **QUICK)
        with pytest.warns(ad_duckdb.AdDuckDBWarning,
                          match=r"'tx_ms@5' is one autoencoder, but 'tx_ms@4' was a multi-scale ensemble "
                                r"\(code_sizes=\(2,\)\).*train again with code_sizes=\(2,\); pin"):
            ad_duckdb.train(con, "tx_ms", "transactions", features=feats, **QUICK)
        assert ad_duckdb.load_model(con, "tx_ms").params["code_sizes"] is None  # said, not refused
        ad_duckdb.train(con, "tx_ms", "transactions", features=feats, code_sizes=(1, 2), **QUICK)
        with pytest.warns(ad_duckdb.AdDuckDBWarning,
                          match=r"'tx_ms@7' is an ensemble of 3 autoencoders with whole codes, but 'tx_ms@6' was a "
                                r"multi-scale ensemble \(code_sizes=\(1, 2\)\)"):
            ad_duckdb.train(con, "tx_ms", "transactions", features=feats, n_models=3, **QUICK)
    finally:
        con.close()


def test_show_and_train_say_what_an_ensemble_is_made_of(tmp_path: Path) -> None:
    """`show` of a multi-scale model printed "latent_dim 4" and nothing else in its head: read as every member's code
    being 4 numbers, when the member cut to 1 keeps one. And train's line said "3 members" only for code_sizes, so
    an n_models=3 ensemble looked like one network."""
    path = str(tmp_path / "ms.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=600)
    finally:
        con.close()
    out = {}
    for name, extra in (("ms", ["--code-sizes", "1,4"]), ("ens", ["--n-models", "3"]), ("one", [])):
        res = CliRunner().invoke(cli, ["train", path, name, "transactions", "-f", "count,amount", "--epochs", "2",
                                       "--quiet", *extra], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        out[name] = res.output
        res = CliRunner().invoke(cli, ["show", path, name], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        out[f"show {name}"] = res.output
    assert "latent 4, codes cut to 1, 4 (2 members)" in out["ms"], out["ms"]
    assert "latent 8, 3 members" in out["ens"], out["ens"]
    assert "latent 8," in out["one"] and "member" not in out["one"], out["one"]
    head = {k: v.splitlines()[0] for k, v in out.items() if k.startswith("show")}
    assert "kind=autoencoder (a multi-scale ensemble of 2: codes of 1 and 4 numbers)" in head["show ms"], head
    assert "kind=autoencoder (an ensemble of 3)" in head["show ens"], head
    assert "ensemble" not in head["show one"], head
    assert re.search(r"^latent_dim +4 \(members keep 1 and 4\)$", out["show ms"], re.M), out["show ms"]
