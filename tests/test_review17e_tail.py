"""The share of training rows a cut in the gap below a few far-out rows flags, as every command says it.

Before: `threshold --method manual` and evaluate read it off the exact top scores the model keeps (scoretail), but
`show`'s flagged_training (and ModelInfo.flagged_training, `threshold`'s line on a labelled cut) read the same cut
off the 1001 quantiles' straight last step: a max_f1 cut flagging the 3 planted rows of 10,000 was said to flag
0.05% of the training rows by `show` and 0.03% by evaluate."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli
from ad_duckdb.models import ModelInfo, load_model

from conftest import FAST

N, PLANTED = 10000, 3


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("tail17e") / "w.duckdb")
    rng = np.random.default_rng(0)
    count = rng.poisson(8, N) + 1
    amount = np.round(count * rng.lognormal(3.0, 0.25, N), 2)
    amount[:PLANTED] = 9000.0
    count[:PLANTED] = 1
    label = np.zeros(N, dtype=int)
    label[:PLANTED] = 1
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE TABLE tx AS SELECT unnest(?)::INTEGER AS count, unnest(?)::DOUBLE AS amount, "
                    "unnest(?)::INTEGER AS fraud", [count.tolist(), amount.tolist(), label.tolist()])
        ad_duckdb.train(con, "m", "tx", features=["count", "amount"], **{**FAST, "max_steps": 100})
    finally:
        con.close()
    return path


def test_a_labelled_cut_in_the_gap_flags_the_same_training_share_everywhere(db: str) -> None:
    con = ad_duckdb.connect(db)
    try:
        s = np.sort([r[0] for r in con.execute("SELECT anomaly_score('m@1', count, amount) FROM tx").fetchall()])
        assert s[-PLANTED] > 2 * s[-PLANTED - 1]  # a gap
        t = ad_duckdb.set_threshold(con, "m@1", "f1", "max_f1", source="tx", label="fraud")
        assert s[-PLANTED - 1] <= t.value < s[-PLANTED], t.value  # the cut flags the planted rows alone
        shown = ModelInfo.of(load_model(con, "m@1")).flagged_training["f1"]
    finally:
        con.close()
    assert shown == pytest.approx(PLANTED / N, abs=1.5 / N), shown
    out = CliRunner().invoke(cli, ["show", db, "m@1", "--format", "json"])
    assert out.exit_code == 0, out.output
    row = next(r for r in json.loads(out.output)["thresholds"] if r["name"] == "f1")
    assert row["training_flagged_share"] == pytest.approx(PLANTED / N, abs=1.5 / N), row
