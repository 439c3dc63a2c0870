"""Training's Adam (``adamstep``) updates parameters to the same bits as ``torch.optim.Adam``, and training no longer
imports ``torch._dynamo`` (which any ``torch.optim`` optimizer imports)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from ad_duckdb.adamstep import Adam


@pytest.mark.parametrize("weight_decay", [0.0, 1e-4])
def test_the_same_bits_as_torch_adam(weight_decay: float) -> None:
    torch.manual_seed(3)
    ours, theirs = (torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 5))
                    for _ in range(2))
    theirs.load_state_dict(ours.state_dict())
    opt_ours = Adam(ours.parameters(), lr=3e-3, weight_decay=weight_decay)
    opt_theirs = torch.optim.Adam(theirs.parameters(), lr=3e-3, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(5)
    for _ in range(200):
        x = torch.randn(32, 5, generator=gen)
        for model, opt in ((ours, opt_ours), (theirs, opt_theirs)):
            loss = ((model(x) - x) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a, b)


def test_training_does_not_import_the_torch_compiler() -> None:
    code = ("import sys, numpy as np, ad_duckdb\n"
            "con = ad_duckdb.connect()\n"
            "con.execute('CREATE TABLE t AS SELECT range % 17 AS a, range % 5 AS b FROM range(2000)')\n"
            "ad_duckdb.train(con, 'm', 't', n_models=1, max_steps=50, progress=False)\n"
            "print('torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stdout + out.stderr
