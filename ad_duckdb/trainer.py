"""The training loop: seeded, validation split, early stopping, robust (trimmed) mode, progress bar.

Budgets are in epochs and optimizer steps, never wall-clock time, so a run is reproducible.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .exceptions import BadInputError


@dataclass(frozen=True)
class TrainParams:
    """Model and training options; ``None`` means "chosen from the data" (see the methods below)."""

    hidden_dims: tuple[int, ...] | None = None
    latent_dim: int | None = None
    n_models: int = 1
    epochs: int | None = None
    max_steps: int = 2000
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    validation_fraction: float = 0.1
    patience: int = 5
    robust: bool | None = None  # None: on when no "normal only" filter was given
    trim_fraction: float = 0.0
    knn_k: int | None = None
    bank_size: int = 2048
    contamination: float = 0.01
    range_weight: float = 1.0
    max_train_rows: int = 1_000_000
    constant_columns: str = "error"  # or "keep"
    variational: bool = False  # a VAE: KL-regularised latent, scored with its mean
    kl_weight: float = 1.0
    seed: int = 0
    progress: bool = True
    extra: dict[str, object] = field(default_factory=dict)

    def validate(self) -> None:
        """Check every parameter against its constraint; one message template for all."""
        constraints: dict[str, tuple[type, float, float]] = {
            "n_models": (int, 1, 16),
            "max_steps": (int, 1, 10_000_000),
            "batch_size": (int, 1, 1_000_000),
            "lr": (float, 1e-7, 1.0),
            "weight_decay": (float, 0.0, 1.0),
            "validation_fraction": (float, 0.0, 0.5),
            "patience": (int, 1, 10_000),
            "trim_fraction": (float, 0.0, 0.5),
            "bank_size": (int, 2, 65_536),
            "contamination": (float, 1e-6, 0.5),
            "range_weight": (float, 0.0, 1e6),
            "max_train_rows": (int, 100, 10**9),
            "seed": (int, 0, 2**32 - 1),
        }
        for name, (kind, lo, hi) in constraints.items():
            v = getattr(self, name)
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
            if kind is int:
                ok = ok and float(v).is_integer()
            if not ok or not (lo <= v <= hi):
                raise BadInputError(
                    f"The {name!r} parameter must be {'an int' if kind is int else 'a number'} in "
                    f"[{lo:g}, {hi:g}]. Got {v!r} instead."
                )
        for name in ("epochs", "latent_dim"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
                raise BadInputError(f"The {name!r} parameter must be a positive int or None. Got {v!r} instead.")
        if self.constant_columns not in ("error", "keep"):
            raise BadInputError(
                f"The 'constant_columns' parameter must be 'error' or 'keep'. Got {self.constant_columns!r} instead."
            )
        if self.knn_k is not None and (not isinstance(self.knn_k, int) or self.knn_k < 0):
            raise BadInputError(f"The 'knn_k' parameter must be an int >= 0 (0 turns it off). Got {self.knn_k!r}.")
        if self.hidden_dims is not None and (
            len(self.hidden_dims) == 0 or any(not isinstance(h, int) or h < 1 for h in self.hidden_dims)
        ):
            raise BadInputError(
                "The 'hidden_dims' parameter must be a non-empty tuple of positive ints. "
                f"Got {self.hidden_dims!r} instead."
            )

    def sizes(self, d: int) -> tuple[tuple[int, ...], int]:
        """Layer sizes: d -> 64 -> 32 -> 8 -> 32 -> 64 -> d unless given.

        Why fixed rather than scaled with d: on the 28 ADBench files, sizes that grew or shrank with the
        feature count did no better on average (bench/quality.py), and small fixed sizes keep scoring fast.
        """
        hidden = self.hidden_dims if self.hidden_dims is not None else (64, 32)
        latent = self.latent_dim if self.latent_dim is not None else 8
        return tuple(hidden), latent

    def neighbours(self, robust: bool) -> int:
        """k of the latent-neighbour term.

        Why larger when robust: unlabelled data hold anomalies, and a few similar anomalies would be each
        other's nearest neighbours; averaging over more neighbours keeps them far from "normal".
        """
        if self.knn_k is not None:
            return self.knn_k
        return 20 if robust else 10

    def n_steps(self, n_rows: int, robust: bool) -> int:
        """Optimizer steps: ``epochs`` passes over the rows (default 100, robust 30), capped at ``max_steps``
        (robust: at most 600).

        Why shorter when robust: an autoencoder learns the common structure first and the rare rows last, so
        stopping early is what keeps it from learning to reconstruct the anomalies in unlabelled data
        (ADBench unsupervised protocol: 73.6 -> 77.8 mean AUC-ROC; see bench/quality.py).
        """
        per_epoch = max(1, math.ceil(n_rows / self.batch_size))
        if self.epochs is not None:
            return int(self.epochs * per_epoch)
        if robust:
            return int(min(30 * per_epoch, min(self.max_steps, 600)))
        return int(min(100 * per_epoch, self.max_steps))


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", disable=not enabled, file=sys.stderr, leave=False,
                mininterval=0.5)


def fit_ensemble(
    Z: np.ndarray, params: TrainParams, *, robust: bool, desc: str = "training"
) -> tuple[Any, dict[str, Any]]:
    """Train the autoencoder ensemble on scaled rows ``Z``; returns the module and a history."""
    import torch

    from .nn import EnsembleAutoEncoder

    rng = np.random.default_rng(params.seed)
    n, d = Z.shape
    if n > params.max_train_rows:
        Z = Z[rng.choice(n, params.max_train_rows, replace=False)]
        n = Z.shape[0]
    perm = rng.permutation(n)
    n_val = int(round(n * params.validation_fraction)) if n >= 50 else 0
    val_idx, tr_idx = perm[:n_val], perm[n_val:]
    Zt = torch.from_numpy(Z[tr_idx].astype(np.float32))
    Zv = torch.from_numpy(Z[val_idx].astype(np.float32)) if n_val else Zt
    hidden, latent = params.sizes(d)
    E = params.n_models
    n_tr = len(Zt)
    bs = min(params.batch_size, n_tr)
    steps = params.n_steps(n_tr, robust)
    eval_every = max(25, min(200, math.ceil(n_tr / bs)))
    warmup = int(0.2 * steps)
    keep = max(1, int(round(bs * (1.0 - params.trim_fraction))))

    threads = torch.get_num_threads()
    # Why one thread: these networks are small, so threads only add synchronisation (measured about 20x
    # slower per step with 2 threads on a busy 2-core machine), and one thread is reproducible.
    torch.set_num_threads(1)
    torch.manual_seed(params.seed)
    gen = torch.Generator().manual_seed(params.seed)
    ae = EnsembleAutoEncoder(E, d, hidden, latent, variational=params.variational)
    opt = torch.optim.Adam(ae.parameters(), lr=params.lr, weight_decay=params.weight_decay)
    best, best_state, stale, ran = math.inf, None, 0, 0
    curve: list[float] = []
    bar = _progress(steps, desc, params.progress)
    try:
        for step in range(steps):
            ae.train()
            idx = torch.randint(0, n_tr, (E, bs), generator=gen)  # an independent batch for each member
            xb = Zt[idx]
            if params.variational:
                mu, logvar = ae.encode(xb)
                assert logvar is not None
                noise = torch.randn(mu.shape, generator=gen)
                recon = ae.decoder(mu + noise * torch.exp(0.5 * logvar))
                kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(-1) / d
                row_loss = ((recon - xb) ** 2).mean(-1) + params.kl_weight * kl
            else:
                _, recon = ae(xb)
                row_loss = ((recon - xb) ** 2).mean(-1)  # [E, bs]
            if robust and params.trim_fraction > 0 and step >= warmup and bs > 4:
                # Why: rows a member cannot reconstruct after warm-up are likely anomalies in unlabelled
                # data; leaving them out keeps the model from learning them as normal.
                row_loss = torch.topk(row_loss, keep, dim=1, largest=False).values
            loss = row_loss.mean() * E
            opt.zero_grad()
            loss.backward()
            opt.step()
            ran = step + 1
            if ran % eval_every == 0 or ran == steps:
                bar.update(ran - bar.n)
                ae.eval()
                with torch.no_grad():
                    v_rows = ((ae(Zv)[1] - Zv) ** 2).mean(-1)
                    if robust and params.trim_fraction > 0 and v_rows.shape[1] > 4:
                        k = max(1, int(v_rows.shape[1] * (1.0 - params.trim_fraction)))
                        v_rows = torch.topk(v_rows, k, dim=1, largest=False).values
                    v = float(v_rows.mean())
                curve.append(v)
                bar.set_postfix(val_loss=f"{v:.4g}", refresh=False)
                if v < best - 1e-7:
                    best, stale = v, 0
                    best_state = {k: t.clone() for k, t in ae.state_dict().items()}
                else:
                    stale += 1
                    if stale >= params.patience:
                        break
        bar.update(steps - bar.n)
    finally:
        bar.close()
        torch.set_num_threads(threads)
    if best_state is not None:
        ae.load_state_dict(best_state)
    ae.eval()
    history = {
        "hidden_dims": list(hidden),
        "latent_dim": latent,
        "n_models": E,
        "steps_budget": steps,
        "steps_run": ran,
        "stopped_early": ran < steps,
        "validation_loss": [round(x, 6) for x in curve],
        "best_validation_loss": best,
        "train_rows_used": n_tr,
        "validation_rows": n_val,
        "robust": robust,
    }
    return ae, history


def calibrate(ae: Any, Z: np.ndarray, params: TrainParams, *, robust: bool) -> dict[str, Any]:
    """Latent bank and the medians that put the score's terms on one scale."""
    import torch

    rs = np.random.default_rng(params.seed + 1000)
    n = len(Z)
    nb = min(params.bank_size, n)
    zb = torch.from_numpy(Z[rs.choice(n, nb, replace=False)].astype(np.float32))
    k = min(params.neighbours(robust), max(0, nb - 1))
    with torch.no_grad():
        hb, rb = ae(zb)
        # Floors keep the terms' scales meaningful on data with many duplicate rows (medians near zero).
        rec_scale = ((rb - zb) ** 2).mean(-1).median(dim=1, keepdim=True).values.clamp_min(1e-4)
        code_scale = hb.var(dim=1).mean(-1, keepdim=True).sqrt().clamp_min(1e-6)  # [E, 1]
        knn_eps = (0.05 * code_scale).pow(2).unsqueeze(-1)  # [E, 1, 1]
        knn_scale = torch.ones_like(rec_scale)
        if k > 0:
            sq = (hb * hb).sum(-1)
            d2 = sq.unsqueeze(-1) - 2.0 * hb @ hb.transpose(1, 2) + sq.unsqueeze(1)
            d2 = d2 + torch.eye(nb).unsqueeze(0) * 1e30  # leave each bank code out of its own neighbours
            near = torch.topk(d2, k, dim=-1, largest=False).values.clamp_min(0.0)
            near = torch.sqrt(near + knn_eps).mean(-1)
            knn_scale = torch.maximum(near.median(dim=1, keepdim=True).values, 0.05 * code_scale)
        out = {"bank": hb, "knn_k": k, "rec_scale": rec_scale, "knn_scale": knn_scale, "knn_eps": knn_eps}
    return out
