"""The training loop: seeded, validation split, early stopping, robust (trimmed) mode, progress bar.

Budgets are in epochs and optimizer steps, never wall-clock time, so a run is reproducible.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .exceptions import BadInputError


@dataclass(frozen=True)
class TrainParams:
    """Model and training options; ``None`` means "sized from the data" (see ``resolve``)."""

    hidden_dims: tuple[int, ...] | None = None
    latent_dim: int | None = None
    n_models: int = 3
    epochs: int | None = None
    max_steps: int = 3000
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-5
    validation_fraction: float = 0.1
    patience: int = 10
    robust: bool | None = None  # None: on when no "normal only" filter was given
    trim_fraction: float = 0.05
    contamination: float = 0.01
    range_weight: float = 1.0
    max_train_rows: int = 200_000
    seed: int = 0
    progress: bool = True
    extra: dict[str, object] = field(default_factory=dict)

    _constraints = {
        "n_models": (int, 1, 16),
        "max_steps": (int, 10, 10_000_000),
        "batch_size": (int, 1, 1_000_000),
        "lr": (float, 1e-7, 1.0),
        "weight_decay": (float, 0.0, 1.0),
        "validation_fraction": (float, 0.0, 0.5),
        "patience": (int, 1, 10_000),
        "trim_fraction": (float, 0.0, 0.5),
        "contamination": (float, 1e-6, 0.5),
        "range_weight": (float, 0.0, 1e6),
        "max_train_rows": (int, 100, 10**9),
        "seed": (int, 0, 2**32 - 1),
    }

    def validate(self) -> None:
        """Check every parameter against its constraint; one message template for all."""
        for name, (kind, lo, hi) in self._constraints.items():
            v = getattr(self, name)
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
            if kind is int:
                ok = ok and float(v).is_integer()
            if not ok or not (lo <= v <= hi):
                raise BadInputError(
                    f"The {name!r} parameter must be {'an int' if kind is int else 'a number'} in "
                    f"[{lo}, {hi}]. Got {v!r} instead."
                )
        if self.epochs is not None and (not isinstance(self.epochs, int) or self.epochs < 1):
            raise BadInputError(f"The 'epochs' parameter must be a positive int or None. Got {self.epochs!r} instead.")
        if self.hidden_dims is not None and (
            len(self.hidden_dims) == 0 or any(not isinstance(h, int) or h < 1 for h in self.hidden_dims)
        ):
            raise BadInputError(
                f"The 'hidden_dims' parameter must be a non-empty tuple of positive ints. Got {self.hidden_dims!r} instead."
            )
        if self.latent_dim is not None and (not isinstance(self.latent_dim, int) or self.latent_dim < 1):
            raise BadInputError(f"The 'latent_dim' parameter must be a positive int. Got {self.latent_dim!r} instead.")

    def sizes(self, d: int) -> tuple[tuple[int, ...], int]:
        """Layer sizes from the feature count: wide enough to model the joint law, narrow at the code."""
        hidden = self.hidden_dims
        if hidden is None:
            h1 = int(min(128, max(16, 2 ** math.ceil(math.log2(max(2 * d, 2))))))
            hidden = (h1, max(8, h1 // 2))
        latent = self.latent_dim if self.latent_dim is not None else int(min(16, max(1, min(d - 1, math.ceil(d / 3)))))
        return tuple(hidden), latent

    def n_epochs(self, n_rows: int) -> int:
        """Epochs so that small tables get enough passes and large ones stay within max_steps."""
        if self.epochs is not None:
            return self.epochs
        steps_per_epoch = max(1, math.ceil(n_rows / self.batch_size))
        return int(min(200, max(5, self.max_steps // steps_per_epoch)))


def _progress(total: int, desc: str, enabled: bool) -> object:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="epoch", disable=not enabled, file=sys.stderr, leave=False)


def fit_autoencoders(Z: np.ndarray, params: TrainParams, *, robust: bool, desc: str = "training") -> tuple[list[object], dict[str, object]]:
    """Train ``params.n_models`` autoencoders on scaled rows ``Z``; returns the modules and a history."""
    import torch

    from .nn import AutoEncoder

    n, d = Z.shape
    rng = np.random.default_rng(params.seed)
    if n > params.max_train_rows:
        Z = Z[rng.choice(n, params.max_train_rows, replace=False)]
        n = Z.shape[0]
    perm = rng.permutation(n)
    n_val = int(round(n * params.validation_fraction)) if n >= 50 else 0
    val_idx, tr_idx = perm[:n_val], perm[n_val:]
    Zt = torch.from_numpy(Z[tr_idx].astype(np.float32))
    Zv = torch.from_numpy(Z[val_idx].astype(np.float32)) if n_val else None
    hidden, latent = params.sizes(d)
    epochs = params.n_epochs(len(tr_idx))
    bs = min(params.batch_size, len(tr_idx))
    warmup = max(1, epochs // 5)
    models: list[object] = []
    history: dict[str, object] = {
        "epochs_budget": epochs,
        "hidden_dims": list(hidden),
        "latent_dim": latent,
        "train_rows_used": int(len(tr_idx)),
        "validation_rows": int(n_val),
        "robust": robust,
    }
    epochs_run: list[int] = []
    best_val: list[float] = []
    bar = _progress(epochs * params.n_models, desc, params.progress)
    threads = torch.get_num_threads()
    # Why one thread: these networks are small, so threads only add synchronisation (measured: about
    # 20x slower per step with 2 threads on a busy 2-core machine), and one thread is reproducible.
    torch.set_num_threads(1)
    try:
        for k in range(params.n_models):
            torch.manual_seed(params.seed * 1000 + k)
            gen = torch.Generator().manual_seed(params.seed * 1000 + k)
            model = AutoEncoder(d, hidden, latent)
            opt = torch.optim.Adam(model.parameters(), lr=params.lr, weight_decay=params.weight_decay)
            best = math.inf
            best_state = None
            stale = 0
            ran = 0
            for epoch in range(epochs):
                model.train()
                order = torch.randperm(len(Zt), generator=gen)
                for i in range(0, len(Zt), bs):
                    xb = Zt[order[i : i + bs]]
                    row_loss = ((model(xb) - xb) ** 2).mean(dim=1)
                    if robust and epoch >= warmup and params.trim_fraction > 0 and len(xb) > 4:
                        # Why: rows the model cannot reconstruct after warm-up are likely anomalies in
                        # unlabelled data; leaving them out keeps the model from learning them as normal.
                        keep = max(1, int(len(xb) * (1.0 - params.trim_fraction)))
                        row_loss = torch.topk(row_loss, keep, largest=False).values
                    loss = row_loss.mean()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                ran = epoch + 1
                model.eval()
                with torch.no_grad():
                    ref = Zv if Zv is not None else Zt
                    v_rows = ((model(ref) - ref) ** 2).mean(dim=1)
                    if robust and len(v_rows) > 4 and params.trim_fraction > 0:
                        keep = max(1, int(len(v_rows) * (1.0 - params.trim_fraction)))
                        v_rows = torch.topk(v_rows, keep, largest=False).values
                    v = float(v_rows.mean())
                bar.update(1)  # type: ignore[attr-defined]
                if v < best - 1e-7:
                    best, stale = v, 0
                    best_state = {kk: vv.clone() for kk, vv in model.state_dict().items()}
                else:
                    stale += 1
                    if stale >= params.patience:
                        bar.update(epochs - ran)  # type: ignore[attr-defined]
                        break
            if best_state is not None:
                model.load_state_dict(best_state)
            model.eval()
            models.append(model)
            epochs_run.append(ran)
            best_val.append(best)
    finally:
        bar.close()  # type: ignore[attr-defined]
        torch.set_num_threads(threads)
    history["epochs_run"] = epochs_run
    history["best_validation_loss"] = best_val
    return models, history


def sizes_summary(hidden: Sequence[int], latent: int, d: int) -> str:
    return " -> ".join(str(x) for x in [d, *hidden, latent, *reversed(list(hidden)), d])
