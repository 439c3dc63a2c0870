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
from test_newuser17_tail import PLANTED, N, _scores, db  # noqa: F401  (the fixture, used by name)

import ad_duckdb
from ad_duckdb.cli import cli
from ad_duckdb.models import ModelInfo, load_model


def test_a_labelled_cut_in_the_gap_flags_the_same_training_share_everywhere(db: str) -> None:  # noqa: F811
    con = ad_duckdb.connect(db)
    try:
        s = np.sort(_scores(con, "m@1"))
        assert s[-PLANTED] > 2 * s[-PLANTED - 1]  # a gap
        con.execute("CREATE TABLE labelled AS SELECT *, (amount = 9000.0)::INTEGER AS fraud FROM tx")  # the planted
        t = ad_duckdb.set_threshold(con, "m@1", "f1", "max_f1", source="labelled", label="fraud")
        assert s[-PLANTED - 1] <= t.value < s[-PLANTED], t.value  # the cut flags the planted rows alone
        shown = ModelInfo.of(load_model(con, "m@1")).flagged_training["f1"]
    finally:
        con.close()
    assert shown == pytest.approx(PLANTED / N, abs=1.5 / N), shown
    out = CliRunner().invoke(cli, ["show", db, "m@1", "--format", "json"])
    assert out.exit_code == 0, out.output
    row = next(r for r in json.loads(out.output)["thresholds"] if r["name"] == "f1")
    assert row["training_flagged_share"] == pytest.approx(PLANTED / N, abs=1.5 / N), row
