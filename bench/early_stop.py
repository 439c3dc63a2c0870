"""The trainer's split and early-stopping loop for the networks of the bench experiments (not part of the model):
the same validation split, evaluation cadence and patience as trainer.fit_ensemble, around any loss."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np


def split_rows(Z: np.ndarray, p: Any) -> tuple[Any, Any]:
    """The trainer's validation split of rows Z (params ``p``: seed, validation_fraction) as float32 tensors: the
    training rows and the validation rows (the training rows when there are too few to hold any out)."""
    import torch

    n = len(Z)
    perm = np.random.default_rng(p.seed).permutation(n)
    n_val = int(round(n * p.validation_fraction)) if n >= 50 else 0
    Zt = torch.from_numpy(Z[perm[n_val:]].astype(np.float32))
    return Zt, (torch.from_numpy(Z[perm[:n_val]].astype(np.float32)) if n_val else Zt)


def eval_every(n_rows: int, batch: int) -> int:
    """The trainer's evaluation cadence: once per pass over the rows, within 25 to 200 steps."""
    return max(25, min(200, math.ceil(n_rows / batch)))


def train(net: Any, opt: Any, steps: int, every: int, patience: int, batch_loss: Callable[[], Any],
          val_loss: Callable[[], float], tol: float = 1e-7) -> int:
    """Up to ``steps`` optimizer steps on ``batch_loss()``; every ``every`` steps (and at the last) ``val_loss()``
    in eval mode, stopping after ``patience`` evaluations without a gain of ``tol``; the best state is loaded
    back and ``net`` left in eval mode. Returns the steps run."""
    best, best_state, stale, ran = math.inf, None, 0, 0
    for step in range(steps):
        net.train()
        loss = batch_loss()
        opt.zero_grad()
        loss.backward()
        opt.step()
        ran = step + 1
        if ran % every == 0 or ran == steps:
            net.eval()
            v = val_loss()
            if v < best - tol:
                best, stale, best_state = v, 0, {k: t.clone() for k, t in net.state_dict().items()}
            else:
                stale += 1
                if stale >= patience:
                    break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return ran


def calibrated_graph(det: Any, ae: Any, Z: np.ndarray, robust: bool) -> Any:
    """Today's scoring graph (reconstruction, neighbour and range terms, calibrated as trainer.calibrate does on the
    transformed training rows ``Z``) around a network ``ae`` trained by an experiment, with ``det``'s features and
    parameters; in eval mode."""
    from ad_duckdb.nn import ScoringGraph
    from ad_duckdb.trainer import calibrate

    p = det.train_params_
    cal = calibrate(ae, Z, p, robust=robust)
    return ScoringGraph(det.specs_, ae, bank=cal["bank"], knn_k=cal["knn_k"], rec_scale=cal["rec_scale"],
                        knn_scale=cal["knn_scale"], knn_eps=cal["knn_eps"], range_weight=p.range_weight,
                        bank_groups=cal["bank_groups"]).eval()
