"""The training loop: seeded, validation split, early stopping, robust (trimmed) mode.

Budgets are in epochs and optimizer steps, never wall-clock time, so a run is reproducible.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import optionwords, progress
from .adamstep import Adam
from .chunks import row_bytes, row_slices, rows_per_chunk
from .exceptions import BadInputError, OptionError
from .torchthreads import one_thread

# Rows of at most this many features get the narrower default layers (see TrainParams.sizes).
NARROW_ROWS = 3


# Numeric parameters: (int or float, lowest, highest allowed).
RANGES: dict[str, tuple[type, float, float]] = {
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
    "kl_weight": (float, 0.0, 1e6),
    "max_train_rows": (int, 100, 10**9),
    "seed": (int, 0, 2**32 - 1),
}


def vae_code_sizes(sizes: tuple[int, ...], typed: str, instead: str) -> str:
    """Why code_sizes and a variational autoencoder do not go together, with the caller's spelling of the latter
    (``typed``: ``variational=True`` to the detector, ``kind='vae'`` to ``ad_duckdb.train``) and its way out."""
    return (f"code_sizes={sizes} cuts the codes of plain autoencoders; a variational one ({typed}) adds noise to every "
            f"code number in training, so the cut would not hold. Leave code_sizes out, or {instead}.")


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# shares of the training rows, which a user may give as a percent (5 for 5%)
_SHARES = ("contamination", "validation_fraction", "trim_fraction")


def _refuse(name: str, allowed: str, value: object) -> None:
    hint = ""
    if name in _SHARES and isinstance(value, (int, float)) and not isinstance(value, bool) and 1 < value <= 100:
        # Why: "--contamination 5" was refused with the range alone, though 5% is how the share is said
        hint = f" For {value:g}%, {optionwords.opt(name, value / 100)}."
    raise BadInputError(f"The {name!r} parameter must be {allowed}. Got {value!r} instead.{hint}")


# Weight initialisation draws from torch's one global generator: trainings on several threads at once (a dbt run
# with threads > 1) would draw from each other's seeding, so the same seed gave another model depending on timing.
# The lock covers only the seeding and the initialisation; the training steps draw from each training's own generator.
_INIT_LOCK = threading.Lock()


@dataclass(frozen=True)
class TrainParams:
    """Model and training options; ``None`` means "chosen from the data" (see the methods below)."""

    hidden_dims: tuple[int, ...] | None = None
    latent_dim: int | None = None
    n_models: int = 1
    # Member m keeps the first code_sizes[m] numbers of its code (a multi-scale ensemble); see with_code_sizes.
    code_sizes: tuple[int, ...] | None = None
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
    bank_size: int = 256
    bank_groups: int | None = None
    bank_kind: str | None = None  # "kmeans" (centroids of the training codes) or "sample" (training codes)
    contamination: float = 0.01
    range_weight: float = 1.0
    max_train_rows: int = 1_000_000
    constant_columns: str = "error"  # or "keep"
    feature_errors: str = "balanced"  # or "pooled": see calibrate
    variational: bool = False  # a VAE: KL-regularised latent, scored with its mean
    kl_weight: float = 1.0
    seed: int = 0
    progress: bool = True

    def validate(self) -> None:
        """Check every parameter against its constraint; one message template for all (the value as passed)."""
        for name, (kind, lo, hi) in RANGES.items():
            v = getattr(self, name)
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
            if kind is int:
                ok = ok and float(v).is_integer()  # 1e6 rows is a common way to write a million
            if not ok or not (lo <= v <= hi):
                # Why whole bounds for an int: :g printed --seed's as [0, 4.29497e+09], a figure no one types back
                bounds = f"[{int(lo)}, {int(hi)}]" if kind is int else f"[{lo:g}, {hi:g}]"
                _refuse(name, f"{'an int' if kind is int else 'a number'} in {bounds}", v)
        for name in ("epochs", "latent_dim"):
            v = getattr(self, name)
            if v is not None and (not _is_int(v) or v < 1):
                _refuse(name, "a positive int or None", v)
        if self.bank_groups is not None and (not _is_int(self.bank_groups) or not 1 <= self.bank_groups <= 1024):
            _refuse("bank_groups", "an int in [1, 1024] or None", self.bank_groups)
        if self.knn_k is not None and (not _is_int(self.knn_k) or self.knn_k < 0):
            _refuse("knn_k", "an int >= 0 (0 turns it off) or None", self.knn_k)
        if self.bank_kind not in (None, "kmeans", "sample"):
            _refuse("bank_kind", "'kmeans', 'sample' or None", self.bank_kind)
        if self.constant_columns not in ("error", "keep"):
            _refuse("constant_columns", "'error' or 'keep'", self.constant_columns)
        if self.feature_errors not in ("balanced", "pooled"):
            _refuse("feature_errors", "'balanced' or 'pooled'", self.feature_errors)
        # Why strictly bool: any non-empty string is truthy, so variational='no' would train a VAE.
        for name in ("variational", "progress"):
            if not isinstance(getattr(self, name), bool):
                _refuse(name, "True or False", getattr(self, name))
        if self.robust is not None and not isinstance(self.robust, bool):
            _refuse("robust", "True, False or None", self.robust)
        c = self.code_sizes
        if c is not None and (not isinstance(c, (list, tuple)) or not c or not all(_is_int(x) and x >= 1 for x in c)):
            _refuse("code_sizes", "None or a non-empty list or tuple of positive ints, e.g. (2, 4, 8, 16)", c)
        h = self.hidden_dims
        # Why not any iterable: a string or a number would be taken apart ('64,32' -> '6', '4', ...) or fail in tuple()
        if h is not None and (not isinstance(h, (list, tuple)) or not h or not all(_is_int(x) and x >= 1 for x in h)):
            _refuse("hidden_dims", "None or a non-empty list or tuple of positive ints, e.g. (64, 32)", h)

    def sizes(self, d: int) -> tuple[tuple[int, ...], int]:
        """Layer sizes: d -> 64 -> 32 -> 8 -> 32 -> 64 -> d unless given; up to NARROW_ROWS features, half
        as wide (32, 16).

        Why fixed rather than scaled with d: on the 28 ADBench files, sizes that grew or shrank with the
        feature count did no better on average (bench/quality.py), and small fixed sizes keep scoring fast.
        Why narrower for 2-3 columns: such a row has little to encode, and the smaller network detects as
        well (ADBench d=3 files http and smtp, seeds 0-2: semi-supervised 94.82 -> 96.26, unlabelled 96.63 ->
        96.97; the transactions example on (count, amount), seeds 3-7, all planted rows: AUC-ROC 0.893 ->
        0.902, on three columns 0.859 -> 0.862) while scoring costs a quarter less (d=2, 2048 rows, one
        thread: 350 -> 266 us).
        """
        default = (32, 16) if d <= NARROW_ROWS else (64, 32)
        hidden = self.hidden_dims if self.hidden_dims is not None else default
        latent = self.latent_dim if self.latent_dim is not None else max(self.code_sizes or (8,))
        return tuple(hidden), latent

    def weight_bytes(self, d: int) -> int:
        """Bytes of the ensemble's dense-layer weights and biases as float32 for ``d`` features: a lower bound of the
        stored ONNX graph's size (which adds the neighbour bank and the preprocessing), known before training."""
        hidden, latent = self.sizes(d)
        widths = [d, *hidden, latent, *reversed(hidden), d]
        return 4 * self.n_models * sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))

    def with_code_sizes(self, given: Collection[str]) -> TrainParams:
        """These parameters with ``code_sizes`` checked against ``n_models`` and ``latent_dim``: ``n_models`` is the
        number of sizes unless ``given`` names it (``latent_dim`` not given is the largest size, ``sizes``).

        Why the option: one code size fits one data set and not the next (the data's intrinsic dimension is not
        known), so four members with codes of 2, 4, 8 and 16 numbers average over it. Unlabelled, it raised the 28
        ADBench files' mean AUC-ROC by 0.90 and the mean of SKAB, NAB and a claims file by 0.59, on every seed; with
        rows known normal it lowered ADBench's by 0.22, yet is allowed there (bench/results/input_views_2026-12-04.md,
        confirm_multiscale_2026-12-04.md). Why not the default: it scores each row through four networks (ONNX x3-4
        a row) and trains x1.45-3.2 as long.
        """
        c = self.code_sizes
        if c is None:
            return self
        sizes = tuple(c)
        shown = f"code_sizes={sizes}"
        flag = f"--code-sizes {','.join(map(str, sizes))}"  # the command line's spelling, for its message (cli=)
        if self.variational:  # the detector's spelling; ad_duckdb.train says kind='vae' before this (vae_code_sizes)
            raise OptionError(vae_code_sizes(sizes, "variational=True", "leave variational out"))
        hi = int(RANGES["n_models"][2])
        if len(sizes) > hi:
            raise OptionError(f"{shown} gives {len(sizes)} members a code size each, but n_models (one member per "
                              f"size) is at most {hi}: give at most {hi} sizes.",
                              cli=f"--code-sizes gives {len(sizes)} autoencoders a code size each, but --n-models (one "
                                  f"per size) is at most {hi}: give at most {hi} sizes.")
        if "n_models" in given and self.n_models != len(sizes):
            raise OptionError(f"{shown} gives {len(sizes)} members a code size each, but n_models={self.n_models}: set "
                              f"n_models={len(sizes)}, or leave n_models out (it is then the number of sizes).",
                              cli=f"{flag} gives {len(sizes)} autoencoders a code size each, but --n-models "
                                  f"{self.n_models}: set --n-models {len(sizes)}, or leave --n-models out (it is then "
                                  "the number of sizes).")
        latent = self.sizes(1)[1]
        if max(sizes) > latent:
            raise OptionError(f"{shown} cuts codes to at most {max(sizes)} numbers, but latent_dim={latent} makes "
                              f"codes of {latent}: set latent_dim={max(sizes)} (or more), or leave latent_dim out "
                              "(it is then the largest size).",
                              cli=f"{flag} cuts codes to at most {max(sizes)} numbers, but --latent-dim {latent} makes "
                                  f"codes of {latent}: set --latent-dim {max(sizes)} (or more), or leave --latent-dim "
                                  "out (it is then the largest size).")
        return replace(self, code_sizes=sizes, n_models=len(sizes))

    def check_code(self, d: int, who: str) -> None:
        """Refuse a code wider than the last hidden layer it is computed from, for ``d`` features (``who``: whose).

        Why that bound: the code is an affine map of that layer's numbers, so past its width (16 for 2-3 features by
        default, 32 above) a code holds nothing more, and only costs (the neighbour bank holds codes that long;
        latent_dim=1000 was accepted). Why not the feature count: the default code of 8 on 2 features, and the
        documented code_sizes=(2, 4, 8, 16) on 2, are the models as measured and kept.
        """
        if self.latent_dim is None and self.code_sizes is None:
            # The default code under narrower hidden_dims of the user's: what such models always trained (and what
            # show's retrain line must reproduce), not a size the user asked for.
            return
        hidden, latent = self.sizes(d)
        width = hidden[-1]
        if latent <= width:
            return
        features = f"{d} feature{'s' if d != 1 else ''}"
        layers = f"hidden_dims={hidden}" + ("" if self.hidden_dims is not None else f", the default for {features}")
        # sizes that fit, for the example (a layer narrower than 2 fits only its own width)
        fits = tuple(c for c in (2, 4, 8, 16) if c <= width) or (width,)
        # what leaving latent_dim out gives: the largest code size, else the default code
        left_out = max(self.code_sizes) if self.code_sizes else TrainParams().sizes(d)[1]
        if self.latent_dim is not None:
            shown = f"latent_dim={latent}"
            fix = f"set latent_dim to at most {width} (or leave it out: {left_out})"
        else:
            shown = f"code_sizes={self.code_sizes}"
            fix = f"give sizes of at most {width}, e.g. code_sizes={fits}"
        why = (f"the code is computed from the last hidden layer's {width} numbers ({{}}), so a code of more than "
               f"{width} holds nothing more, only costs: ")
        # the same in the command line's flags
        cli_layers = (f"--hidden-dims {','.join(map(str, hidden))}" if self.hidden_dims is not None
                      else f"the default for {features}")
        if self.latent_dim is not None:
            cli = (f"--latent-dim {latent} on {features} ({who}): " + why.format(cli_layers)
                   + f"set --latent-dim to at most {width} (or leave it out: {left_out})")
        else:
            cli = (f"--code-sizes {','.join(map(str, self.code_sizes or ()))} on {features} ({who}): "
                   + why.format(cli_layers) + f"give sizes of at most {width}, e.g. --code-sizes "
                   + ",".join(map(str, fits)))
        cli += f", or widen the last of --hidden-dims to at least {latent}."
        raise OptionError(f"{shown} on {features} ({who}): {why.format(layers)}{fix}, or widen the last of hidden_dims "
                          f"to at least {latent}.", cli=cli)

    def bank(self, robust: bool) -> tuple[str, int, int]:
        """The latent-neighbour term: (bank kind, groups, k nearest per group).

        Rows known normal: the distance to the nearest of 256 k-means centroids of the training codes.
        Unlabelled rows: anomalies would win centroids of their own, so the bank is 8 random groups of 32
        training codes and the term is the distance to the nearest code of each group, averaged over the
        groups (a subsampled nearest-neighbour ensemble: a few similar anomalies rarely share a group).
        Why nearest-only: onnxruntime's ReduceMin is about 5x faster than TopK over the same bank, and with
        a 2048-code TopK bank this term cost 10x the autoencoder itself; on the 28 ADBench files the
        cheaper term gives up little (bench/results). Why not 128 codes (2048 rows, one thread: d=2 345 -> 300 us,
        d=30 520 -> 485 us): the 28 files score the same (semi-supervised 86.40, unlabelled 78.53 vs 78.21), but
        the example's joint-law rows lose (AUC-ROC 0.975 -> 0.967, 0.994 -> 0.982, 0.988 -> 0.968 on seeds 3-5).
        """
        kind = self.bank_kind or ("sample" if robust else "kmeans")
        groups = self.bank_groups if self.bank_groups is not None else (8 if kind == "sample" else 1)
        k = self.knn_k if self.knn_k is not None else 1
        return kind, groups, k

    def n_steps(self, n_rows: int, robust: bool) -> int:
        """Optimizer steps: with ``epochs`` given, exactly that many passes over the rows; otherwise 100 passes
        (robust: 30), capped at ``max_steps`` (robust: at most 600).

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


def fit_ensemble(
    Z: np.ndarray, params: TrainParams, *, robust: bool, desc: str = "training"
) -> tuple[Any, dict[str, Any]]:
    """Train the autoencoder ensemble on scaled rows ``Z``; returns the module and a history.

    ``Z`` is used whole: ``AutoEncoderDetector.fit`` has already sampled it down to ``params.max_train_rows``
    (before fitting the column statistics, on the same sample).
    """
    # Why one thread: these networks are small, so threads only add synchronisation (measured about 20x
    # slower per step with 2 threads on a busy 2-core machine), and one thread is reproducible.
    with one_thread():
        return _fit_ensemble(Z, params, robust=robust, desc=desc)


def _fit_ensemble(Z: np.ndarray, params: TrainParams, *, robust: bool, desc: str) -> tuple[Any, dict[str, Any]]:
    """``fit_ensemble``'s work, in one torch thread."""
    import torch

    from .nn import EnsembleAutoEncoder

    rng = np.random.default_rng(params.seed)
    n, d = Z.shape
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

    # fork_rng: the caller's own torch draws go on as if no fit had run (as a scikit-learn estimator leaves the
    # global random state), rather than from seed 0 after every fit
    with _INIT_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(params.seed)
        ae = EnsembleAutoEncoder(E, d, hidden, latent, variational=params.variational, code_sizes=params.code_sizes)
    gen = torch.Generator().manual_seed(params.seed)
    # torch.optim.Adam's arithmetic, without importing torch._dynamo as torch.optim does (adamstep)
    opt = Adam(ae.parameters(), lr=params.lr, weight_decay=params.weight_decay)
    best, best_state, stale, ran = math.inf, None, 0, 0
    # Why in chunks: the validation rows (a tenth of up to max_train_rows) through every member at once
    val_slices = row_slices(len(Zv), rows_per_chunk(row_bytes(E, [*ae.widths(), d])))
    t_start = time.perf_counter()
    curve: list[float] = []
    bar = progress.start(steps, desc, params.progress, params.patience)
    try:
        for step in range(steps):
            if not ae.training:  # (set again only after a validation pass: 40 us a call, a step's twentieth)
                ae.train()
            idx = torch.randint(0, n_tr, (E, bs), generator=gen)  # an independent batch for each member
            # Why 2-D for one member: plain Gemm kernels, about twice as fast per step as the batched form.
            xb = Zt[idx[0]] if E == 1 else Zt[idx]
            if params.variational:
                mu, logvar = ae.encode(xb)
                assert logvar is not None
                noise = torch.randn(mu.shape, generator=gen)
                recon = ae.decoder(mu + noise * torch.exp(0.5 * logvar))
                kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(-1) / d
                row_loss = ((recon - xb) ** 2).mean(-1) + params.kl_weight * kl
            else:
                _, recon = ae(xb)
                row_loss = ((recon - xb) ** 2).mean(-1)
            row_loss = row_loss.reshape(E, -1)  # [E, bs]
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
                ae.eval()
                with torch.no_grad():
                    v_rows = torch.cat([((ae(Zv[sl])[1] - Zv[sl]) ** 2).mean(-1) for sl in val_slices], dim=1)
                    if robust and params.trim_fraction > 0 and v_rows.shape[1] > 4:
                        k = max(1, int(v_rows.shape[1] * (1.0 - params.trim_fraction)))
                        v_rows = torch.topk(v_rows, k, dim=1, largest=False).values
                    v = float(v_rows.mean())
                curve.append(v)
                bar.advance(ran, v)
                if v < best - 1e-7:
                    best, stale = v, 0
                    best_state = {k: t.clone() for k, t in ae.state_dict().items()}
                else:
                    stale += 1
                    if stale >= params.patience:
                        break
        bar.finish(ran, best, stopped_early=ran < steps)
    finally:
        bar.close()
    if best_state is not None:
        ae.load_state_dict(best_state)
    ae.eval()
    history = {
        "hidden_dims": list(hidden),
        "latent_dim": latent,
        "n_models": E,
        # only when set: a default model's stored metrics stay as they were
        **({"code_sizes": list(params.code_sizes)} if params.code_sizes is not None else {}),
        "steps_budget": steps,
        "steps_run": ran,
        "stopped_early": ran < steps,
        "validation_loss": [round(x, 6) for x in curve],
        "best_validation_loss": best,
        "train_rows_used": n_tr,
        "validation_rows": n_val,
        "robust": robust,
        "loop_seconds": round(time.perf_counter() - t_start, 3),  # the optimisation steps and validation passes
    }
    return ae, history


# Rows per k-means centroid at least (on average): 4, 8 and 16 gave 86.4, 86.4 and 86.2 mean AUC-ROC on the
# 28 ADBench files (semi-supervised); 1 (a centroid per row on small files) gave 85.6.
CENTROID_ROWS = 8


def _kmeans(codes: Any, init: Any, iters: int = 25) -> Any:
    """Lloyd's k-means per member: codes [E, n, k], initial centroids [E, c, k] -> centroids [E, c, k].

    Rows in chunks: the distances and the one-hot assignment are [E, n, c] (20,000 codes and 65,536 centroids
    in 16 members would be 84 GB each); within the budget one chunk, as before.
    """
    import torch

    cent = init.clone()
    E, c = cent.shape[0], cent.shape[1]
    slices = row_slices(codes.shape[1], rows_per_chunk(row_bytes(E, [c])))
    for _ in range(iters):
        cent_sq = (cent * cent).sum(-1).unsqueeze(1)
        counts = torch.zeros(E, c, dtype=codes.dtype)
        sums = torch.zeros_like(cent)
        for sl in slices:
            part = codes[:, sl]
            d2 = (part * part).sum(-1, keepdim=True) - 2.0 * part @ cent.transpose(1, 2) + cent_sq
            onehot = torch.nn.functional.one_hot(d2.argmin(-1), c).to(codes.dtype)  # [E, rows, c]
            counts += onehot.sum(1)  # [E, c]
            sums += onehot.transpose(1, 2) @ part  # [E, c, k]
        cent = torch.where(counts.unsqueeze(-1) > 0, sums / counts.clamp_min(1).unsqueeze(-1), cent)
    return cent


# In "balanced" weighting a column's typical error counts as at least this share of the columns' mean typical
# error, so a column the network reconstructs almost exactly does not turn float noise into score.
FEATURE_ERROR_FLOOR = 0.1


def _reconstruction_scale(err: Any, mode: str) -> Any:
    """What each column's squared reconstruction error [E, n, d] is divided by: [E, 1] (one scale) or [E, 1, d].

    "pooled": the median row's mean error, one scale for every column. "balanced": half that, half each column's
    own median error (harmonically: weight 0.5 / pooled + 0.5 / own). Why: a column the other columns determine
    (total = subtotal + tax) is reconstructed almost exactly, so a broken total is a large error for that column
    but small beside columns of independent noise, whose errors dominate a pooled sum. On a table of 8 noise
    columns beside such a total, balanced weighting ranks broken totals and taxes at AUC-ROC 96.8 (unlabelled) /
    98.2 (rows known normal), pooled at 86.1 / 90.4 (seeds 0-2). On the 28 ADBench files it scores alike
    (semi-supervised 86.56 vs 86.50, unlabelled 78.06 vs 78.23); weighting by the column's own error alone
    did worse there (86.46, 77.84).
    """
    import torch

    # Floors keep the scales meaningful on data with many duplicate rows (medians near zero).
    pooled = err.mean(-1).median(dim=1, keepdim=True).values.clamp_min(1e-4)  # [E, 1]
    if mode == "pooled":
        return pooled
    own = err.median(dim=1, keepdim=True).values  # [E, 1, d]
    own = torch.maximum(own, FEATURE_ERROR_FLOOR * own.mean(-1, keepdim=True)).clamp_min(1e-4)
    return 1.0 / (0.5 / pooled.unsqueeze(-1) + 0.5 / own)


def calibrate(ae: Any, Z: np.ndarray, params: TrainParams, *, robust: bool) -> dict[str, Any]:
    """Latent bank and the medians that put the score's terms on one scale, in one torch thread (torchthreads: with
    more, the k-means summed in another order, and the same seed stored another model)."""
    with one_thread():
        return _calibrate(ae, Z, params, robust=robust)


def _calibrate(ae: Any, Z: np.ndarray, params: TrainParams, *, robust: bool) -> dict[str, Any]:
    import torch

    rs = np.random.default_rng(params.seed + 1000)
    n = len(Z)
    kind, groups, k = params.bank(robust)
    groups = groups if min(params.bank_size, n) // groups >= 2 else 1
    # Why fewer centroids than rows: a centroid fitted to a handful of rows sits on them, and the term
    # (calibrated on training rows) would then measure nothing but noise.
    per_group = (min(params.bank_size, max(1, n // CENTROID_ROWS)) if kind == "kmeans" else min(params.bank_size, n)) // groups
    nb = per_group * groups
    bank_idx = rs.choice(n, nb, replace=False)
    # Calibration rows: a sample of the training rows; a row that is also in the bank is left out of its
    # own neighbours, as a new row would be.
    cal_idx = rs.choice(n, min(n, 2048), replace=False)
    k = min(k, max(0, per_group - (1 if kind == "sample" else 0)))
    zb = torch.from_numpy(Z[bank_idx].astype(np.float32))
    zc = torch.from_numpy(Z[cal_idx].astype(np.float32))
    with torch.no_grad():
        hb, _ = _run_chunked(ae, zb)
        if kind == "kmeans":  # the sampled codes are the initial centroids
            fit_codes = _run_chunked(ae, torch.from_numpy(Z[rs.choice(n, min(n, 20_000), replace=False)].astype(np.float32)))[0]
            hb = _kmeans(fit_codes, hb)
            bank_idx = np.full(nb, -1)
        hc, rc = _run_chunked(ae, zc)
        rec_scale = _reconstruction_scale((rc - zc) ** 2, params.feature_errors)
        # The code floor is relative to the codes' size, as float32 rounding of the codes is.
        code_rms = (hc * hc).mean((1, 2)).sqrt().unsqueeze(-1)  # [E, 1]
        code_scale = torch.maximum(hc.var(dim=1).mean(-1, keepdim=True).sqrt(), 1e-4 * code_rms).clamp_min(1e-6)
        # distances from the bank's mean, as the scoring graph takes them (ScoringGraph)
        center = hb.mean(dim=1, keepdim=True)
        bank, hb, hc = hb, hb - center, hc - center
        knn_eps = (0.05 * code_scale).pow(2).unsqueeze(-1)  # [E, 1, 1]
        knn_scale = torch.ones_like(code_scale)
        if k > 0:
            # Calibration rows in chunks: their distances to the bank are [E, rows, bank] (8.6 GB for 2048 rows at
            # 16 members and 65,536 codes); within the budget one chunk, as before.
            rows = rows_per_chunk(row_bytes(hb.shape[0], [], bank_size=nb, bank_groups=groups, knn_k=k))
            hb_sq = (hb * hb).sum(-1).unsqueeze(1)
            near = torch.cat([_near_codes(hc[:, sl], hb, hb_sq, cal_idx[sl], bank_idx, groups, k, knn_eps)
                              for sl in row_slices(len(cal_idx), rows)], dim=1)
            knn_scale = torch.maximum(near.median(dim=1, keepdim=True).values, 0.05 * code_scale)
        out = {"bank": bank, "knn_k": k, "bank_groups": groups, "bank_kind": kind, "rec_scale": rec_scale, "knn_scale": knn_scale,
               "knn_eps": knn_eps}
    return out


def _run_chunked(ae: Any, z: Any) -> tuple[Any, Any]:
    """``ae(z)`` (codes, reconstructions [E, rows, .]) in row chunks sized to the widest layer of every member."""
    import torch

    outs = [ae(z[sl]) for sl in row_slices(len(z), rows_per_chunk(row_bytes(ae.n_models, [*ae.widths(), z.shape[1]])))]
    if len(outs) == 1:
        return outs[0]
    return torch.cat([h for h, _ in outs], dim=1), torch.cat([r for _, r in outs], dim=1)


def _near_codes(hc: Any, hb: Any, hb_sq: Any, cal_idx: np.ndarray, bank_idx: np.ndarray, groups: int, k: int,
                knn_eps: Any) -> Any:
    """Each calibration code's latent-neighbour distance [E, rows], as ScoringGraph.knn_distance takes it; a row
    that is also in the bank is left out of its own neighbours."""
    import torch

    d2 = (hc * hc).sum(-1, keepdim=True) - 2.0 * hc @ hb.transpose(1, 2) + hb_sq
    same = torch.from_numpy(cal_idx[:, None] == bank_idx[None, :])
    d2 = torch.where(same, torch.full_like(d2, 1e30), d2).reshape(d2.shape[0], len(cal_idx), groups, -1)
    near = torch.topk(d2, k, dim=-1, largest=False).values.clamp_min(0.0)
    return torch.sqrt(near + knn_eps.unsqueeze(-1)).mean((-1, -2))
