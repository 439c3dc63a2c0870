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


@pytest.fixture(scope="module")
def tx_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("msgs") / "tx.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=400)
    con.close()
    return path


@pytest.mark.parametrize(("flags", "says", "not_said"), [
    # was: "code_sizes=(2, 4) gives 2 members ..., but n_models=3 (CLI: --n-models): set n_models=2, or leave n_models
    # out": Python's spelling to a user who typed flags
    (["--code-sizes", "2,4", "--n-models", "3"],
     "--code-sizes 2,4 gives 2 autoencoders a code size each, but --n-models 3: set --n-models 2, or leave --n-models "
     "out", "n_models="),
    (["--code-sizes", "2,4,64"], "give sizes of at most 16, e.g. --code-sizes 2,4,8,16", "code_sizes=("),
    (["--code-sizes", ",".join(map(str, range(1, 18)))], "give at most 16 sizes", "code_sizes=("),
])
def test_cli_code_sizes_messages_speak_flags(tx_db: str, flags: list[str], says: str, not_said: str) -> None:
    rc, _, err = invoke("train", tx_db, "tx", "transactions", "-f", "count", "-f", "amount", "--epochs", "1",
                        "--quiet", *flags)
    assert rc == 2, err
    assert "Invalid value for '--code-sizes'" in err and says in " ".join(err.split()), err
    assert not_said not in err and "hidden_dims" not in err, err


def test_code_sizes_with_a_vae_names_what_the_caller_typed(tx_db: str) -> None:
    """The detector's message said kind='vae', which the detector has no parameter for: it says variational=True, and
    ad_duckdb.train's says kind='vae'."""
    import numpy as np

    X = np.random.default_rng(0).normal(size=(100, 2))
    with pytest.raises(ad_duckdb.BadInputError, match=r"variational=True") as e:
        ad_duckdb.AutoEncoderDetector(variational=True, code_sizes=(2, 4), progress=False).fit(X)
    assert "kind=" not in str(e.value)
    con = ad_duckdb.connect(tx_db)
    try:
        with pytest.raises(ad_duckdb.BadInputError, match=r"kind='vae'") as e:
            ad_duckdb.train(con, "v", "transactions", features=["count", "amount"], kind="vae", code_sizes=(2, 4),
                            progress=False)
        assert "variational=True" not in str(e.value)
    finally:
        con.close()


def test_train_refuses_layers_too_large_to_store_before_training(tx_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """hidden_dims has no upper bound of its own (the detector keeps its network in memory, as scikit-learn's MLP
    does), but a stored model may take at most AD_DUCKDB_MAX_MODEL_BYTES: hidden_dims=(3000, 3000) on 2 columns
    trained (27 s for 3 steps, hours for a real run) and was then refused with "raise AD_DUCKDB_MAX_MODEL_BYTES if you
    trust it". Now train refuses it before training, naming hidden_dims, the size and the limit; a model under the
    limit trains and its stored graph is at least the size foreseen."""
    from ad_duckdb.trainer import TrainParams

    monkeypatch.setenv("AD_DUCKDB_MAX_MODEL_BYTES", "200000")
    con = ad_duckdb.connect(tx_db)
    try:
        with pytest.raises(ad_duckdb.BadInputError,
                           match=r"Model 'wide': hidden_dims=\(200, 200\) on 2 features makes .* of weights, over the "
                                 r"limit of .*AD_DUCKDB_MAX_MODEL_BYTES.*the default for 2 features is \(32, 16\)"):
            ad_duckdb.train(con, "wide", "transactions", features=["count", "amount"], hidden_dims=(200, 200),
                            **FAST)
        assert not [m for m in ad_duckdb.list_models(con) if m["name"] == "wide"]
        monkeypatch.delenv("AD_DUCKDB_MAX_MODEL_BYTES")
        ad_duckdb.train(con, "wide", "transactions", features=["count", "amount"], hidden_dims=(200, 200),
                        **{**FAST, "max_steps": 5})
        stored = next(m["onnx_bytes"] for m in ad_duckdb.list_models(con) if m["name"] == "wide")
    finally:
        con.close()
    foreseen = TrainParams(hidden_dims=(200, 200)).weight_bytes(2)
    assert 200_000 < foreseen <= stored
