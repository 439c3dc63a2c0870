"""Multi-scale ensembles (code_sizes=) across versions: what a retrain that leaves the option out says."""

from __future__ import annotations

import warnings

import pytest

import ad_duckdb

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
                                r"\(code_sizes=\(2,\)\).*code_sizes=\(2,\) \(CLI: --code-sizes 2\)"):
            ad_duckdb.train(con, "tx_ms", "transactions", features=feats, **QUICK)
        assert ad_duckdb.load_model(con, "tx_ms").params["code_sizes"] is None  # said, not refused
        ad_duckdb.train(con, "tx_ms", "transactions", features=feats, code_sizes=(1, 2), **QUICK)
        with pytest.warns(ad_duckdb.AdDuckDBWarning,
                          match=r"'tx_ms@7' is an ensemble of 3 autoencoders with whole codes, but 'tx_ms@6' was a "
                                r"multi-scale ensemble \(code_sizes=\(1, 2\)\)"):
            ad_duckdb.train(con, "tx_ms", "transactions", features=feats, n_models=3, **QUICK)
    finally:
        con.close()
