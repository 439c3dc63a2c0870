"""Experiment: whitened inputs, random-subspace and multi-scale autoencoder ensembles (not a test, not part of the
model). Results: bench/results/input_views_2026-12-04.md.

Why kept: on 6_cardio (semi-supervised, seeds 0-2) the default scores 92.43 against the reference VAE's 96.55.
Nineteen families failed (README "Where a published method wins"); this script measures three new ones. Each
(file, protocol, seed) gets one default fit (global_terms.fit_default, as bench/quality.py fits it), and each
candidate its own fits on the same training rows. Candidates and constants were written down before the first run.

Family a, whitened inputs. Why: in the model's robust units the squared error weighs a deviation along a direction
in which normal rows hardly vary no more than one along a direction in which they vary widely, so a row that breaks
a tight linear relation of the columns costs little. Whitened, every direction of normal variation has unit
variance (what PCA's score does), and the autoencoder is trained and its error measured there, without a separate
global term. z: today's transformed rows (features.transform); mu, C: their mean and Ledoit-Wolf covariance on the
training rows; C = V diag(lam) V^T.
    whiten_zca   w = (z - mu) V diag(lam^-1/2) V^T (ZCA: each whitened column stays nearest its own column, so
                 each column's error still means that column, as anomaly_explain shows it)
    whiten_pca   w = (z - mu) V diag(lam^-1/2) (PCA whitening: the same up to a rotation, which the balanced
                 per-column error weighting and the network's initialisation do not ignore)
    The default trainer (fit_ensemble) and calibration (calibrate) run on w; the reconstruction and neighbour
    terms are computed in w, the range term stays today's (in z, from the training range).
Family b, random-subspace ensemble (feature bagging: Lazarevic & Kumar 2005; Chen et al. 2017). Why: a member that
does not see some columns cannot reconstruct a deviation of the others from them, so the members' errors differ
where one column's deviation is masked by the whole; averaging members on different views is a cheap ensemble
that the full-feature n_models=3 (ensemble3, no gain) is not.
    subspace4    4 members, each today's detector (seed + m) on a random subset of the columns of size uniform
                 in [ceil(d/2), d] (rng(seed + 7000)); the members' scores (each its terms normalized as today)
                 averaged
Family c, multi-scale code. Why: the right code size depends on the data's unknown intrinsic dimension (latent
2, 4 and 16 each scored within 1.5 points of 8 on cardio, cardio_probes_2026-12-01.md, but on other rows).
    multiscale   4 members, today's detector with latent_dim 2, 4, 8 (the default fit itself), 16, same seed;
                 scores averaged
    Each member alone is also written (latent2, latent4, latent16) as a diagnostic, not a candidate.
    multiscale_batched  (added after the full run, in which multiscale passed the rule: its form as one model, to
                 confirm it before it could be adopted, not a new idea) today's detector with n_models=4 and
                 latent_dim=16, member m's code masked to its first 2, 4, 8, 16 numbers, so the members train side
                 by side as today's ensemble does (one graph, one training loop, independent batches) and the
                 score averages them as the ensemble does (the reconstruction term's mean is inside its square
                 root, not over each member's). Since confirmed, the package's opt-in code_sizes=(2, 4, 8, 16)
                 (README "Quality and speed"); fit_multiscale_batched calls it
    subspace4_batched  (added likewise after subspace4 passed: its form as one model) today's detector with
                 n_models=4, member m seeing only subspace4's columns S_m (the same draws): its input is z with the
                 other columns zeroed, and its reconstruction of them is replaced by the input itself, so that
                 their error is 0 in training and scoring; the range term stays today's, on all columns

Usage:
    python bench/input_views.py --files cardio thyroid shuttle --protocols semi --out screen.csv
    python bench/input_views.py --cands whiten_zca --out full.csv   # 28 files x semi/unsup x seeds 0 1 2
    python bench/input_views.py --summarize full.csv                # the results tables and the rule
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from global_terms import fit_default, main  # noqa: E402  (the default fit, as bench/quality.py fits it)
from residual_terms import summarize  # noqa: E402  (the same tables and rule)

CANDIDATES = ("whiten_zca", "whiten_pca", "subspace4", "multiscale", "multiscale_batched", "subspace4_batched")
SUBSPACE_MEMBERS = 4
SCALES = (2, 4, 16)  # with the default's 8
MULTISCALE_CODE_SIZES = tuple(sorted((*SCALES, 8)))  # multiscale_batched: n_models 4, latent_dim 16 follow
# Set from --cands before the worker processes fork (global_terms.main's ProcessPoolExecutor).
CANDS: tuple[str, ...] = CANDIDATES


def _whitening(Z: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.covariance import ledoit_wolf

    mu = Z.mean(0)
    C, _ = ledoit_wolf(Z - mu, assume_centered=True)
    lam, V = np.linalg.eigh(C)
    W = V / np.sqrt(np.maximum(lam, 1e-12))
    return mu, (W @ V.T if kind == "zca" else W)


def _whitened_terms(det: Any, X: np.ndarray, tr: np.ndarray, te: np.ndarray, kind: str) -> np.ndarray:
    """Score of rows X[te] under a model trained in whitened space: reconstruction and neighbour terms there, the
    default's range term."""
    import torch

    from ad_duckdb.features import transform
    from ad_duckdb.nn import ScoringGraph
    from ad_duckdb.trainer import calibrate, fit_ensemble

    p = det.train_params_
    robust = bool(p.robust)
    Z = transform(X[tr], det.specs_)
    mu, W = _whitening(Z, kind)
    Zw = (Z - mu) @ W
    ae, _ = fit_ensemble(Zw, p, robust=robust, desc="whitened")
    cal = calibrate(ae, Zw, p, robust=robust)
    g = ScoringGraph(det.specs_, ae, bank=cal["bank"], knn_k=cal["knn_k"], rec_scale=cal["rec_scale"],
                     knn_scale=cal["knn_scale"], knn_eps=cal["knn_eps"], range_weight=0.0,
                     bank_groups=cal["bank_groups"]).eval()
    mu_t, W_t = torch.from_numpy(mu.astype(np.float32)), torch.from_numpy(W.astype(np.float32))
    out = []
    with torch.no_grad():
        for i in range(0, len(te), 8192):
            z = g.pre(torch.from_numpy(X[te[i:i + 8192]]))
            w = (z - mu_t) @ W_t
            h, recon = g.ae(w)
            diff = recon - w
            rec = torch.sqrt(((diff * diff) * g.rec_weight).mean(0).sum(-1))
            nb = (g.knn_distance(h) * g.knn_weight).mean(0) if g.knn_k > 0 else 0.0
            out.append((rec + nb).numpy().astype(np.float64))
    return np.concatenate(out) + det.score_terms(X[te])["range"]


def _fit_member(X: np.ndarray, protocol: str, seed: int, **params: Any) -> Any:
    from ad_duckdb.detector import AutoEncoderDetector

    return AutoEncoderDetector(seed=seed, progress=False, constant_columns="keep", robust=protocol == "unsup",
                               **params).fit(X, score_training_rows=False)


def _member(X: np.ndarray, tr: np.ndarray, te: np.ndarray, protocol: str, seed: int, **params: Any) -> np.ndarray:
    return _fit_member(X[tr], protocol, seed, **params).decision_function(X[te])


def fit_multiscale_batched(X: np.ndarray, protocol: str, seed: int) -> Any:
    """The multiscale_batched detector (the docstring) fitted on X (bench/confirm_multiscale.py imports it): the
    package's code_sizes option (TrainParams.code_sizes), which took the place of this script's class patch and
    trains the same model (15_Hepatitis unsup seed 0: 66.9346 in input_views_batched_2026-12-04.csv, both ways)."""
    return _fit_member(X, protocol, seed, code_sizes=MULTISCALE_CODE_SIZES)


_ORIGINAL_AE: Any = None
_COLUMN_MASK: Any = None  # [members, 1, d] for subspace4_batched


def _masked_input(n_models: int, n_features: int, hidden_dims: Any, latent_dim: int, variational: bool = False,
                  code_sizes: Any = None) -> Any:
    """An EnsembleAutoEncoder whose member m sees only the columns of _COLUMN_MASK[m] and is not asked for the
    others (its reconstruction of them is the input)."""
    import torch

    class MaskedInput(_ORIGINAL_AE):  # type: ignore[misc, valid-type]
        def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            if z.dim() == 2:
                z = z.unsqueeze(0).expand(self.n_models, -1, -1)
            h, _ = self.encode(z * self.column_mask)
            recon = self.decoder(h)
            return h, recon * self.column_mask + z * (1 - self.column_mask)

    assert n_models == len(_COLUMN_MASK) and not variational and code_sizes is None
    ae = MaskedInput(n_models, n_features, hidden_dims, latent_dim)
    ae.register_buffer("column_mask", torch.from_numpy(_COLUMN_MASK).float())
    return ae


def run_one(task: tuple[str, str, int]) -> list[dict[str, Any]]:
    global _ORIGINAL_AE, _COLUMN_MASK
    path, protocol, seed = task
    from ad_duckdb.metrics import auc_roc

    det, X, y, tr, te, fit_s = fit_default(path, protocol, seed)
    s = det.decision_function(X[te])
    y_te = y[te]
    base = {"file": Path(path).name, "protocol": protocol, "seed": seed, "fit_s": fit_s}
    rows: list[dict[str, Any]] = [{**base, "cand": "default", "mode": "-", "auc": auc_roc(s, y_te) * 100,
                                   "extra_s": 0.0}]

    def add(cand: str, mode: str, v: np.ndarray, t0: float) -> None:
        rows.append({**base, "cand": cand, "mode": mode, "auc": auc_roc(v, y_te) * 100,
                     "extra_s": time.perf_counter() - t0})

    for kind in ("zca", "pca"):
        if f"whiten_{kind}" in CANDS:
            t0 = time.perf_counter()
            add(f"whiten_{kind}", "-", _whitened_terms(det, X, tr, te, kind), t0)
    if "subspace4" in CANDS:
        t0 = time.perf_counter()
        d = X.shape[1]
        rng = np.random.default_rng(seed + 7000)
        acc = np.zeros(len(te))
        for m in range(SUBSPACE_MEMBERS):
            cols = np.sort(rng.choice(d, int(rng.integers(math.ceil(d / 2), d + 1)), replace=False))
            acc += _member(X[:, cols], tr, te, protocol, seed + m)
        add("subspace4", "mean", acc / SUBSPACE_MEMBERS, t0)
    if "subspace4_batched" in CANDS:
        from ad_duckdb import nn as adnn

        t0 = time.perf_counter()
        d = X.shape[1]
        rng = np.random.default_rng(seed + 7000)
        mask = np.zeros((SUBSPACE_MEMBERS, 1, d))
        for m in range(SUBSPACE_MEMBERS):
            mask[m, 0, rng.choice(d, int(rng.integers(math.ceil(d / 2), d + 1)), replace=False)] = 1.0
        _ORIGINAL_AE, _COLUMN_MASK = adnn.EnsembleAutoEncoder, mask
        adnn.EnsembleAutoEncoder = _masked_input  # type: ignore[assignment, misc]
        try:
            sb = _member(X, tr, te, protocol, seed, n_models=SUBSPACE_MEMBERS)
        finally:
            adnn.EnsembleAutoEncoder = _ORIGINAL_AE
        add("subspace4_batched", "-", sb, t0)
    if "multiscale" in CANDS:
        t0 = time.perf_counter()
        acc = s.copy()
        for k in SCALES:
            t1 = time.perf_counter()
            sk = _member(X, tr, te, protocol, seed, latent_dim=k)
            add(f"latent{k}", "alone", sk, t1)
            acc += sk
        add("multiscale", "mean", acc / (len(SCALES) + 1), t0)
    if "multiscale_batched" in CANDS:
        t0 = time.perf_counter()
        add("multiscale_batched", "-", fit_multiscale_batched(X[tr], protocol, seed).decision_function(X[te]), t0)
    return rows


def _take_cands(argv: list[str]) -> tuple[str, ...]:
    """--cands NAME ... out of argv (global_terms.main parses the rest)."""
    if "--cands" not in argv:
        return CANDIDATES
    i = argv.index("--cands")
    j = i + 1
    while j < len(argv) and not argv[j].startswith("--"):
        j += 1
    names = tuple(argv[i + 1:j])
    del argv[i:j]
    unknown = set(names) - set(CANDIDATES)
    if unknown or not names:
        sys.exit(f"--cands: choose from {', '.join(CANDIDATES)}")
    return names


if __name__ == "__main__":
    CANDS = _take_cands(sys.argv)
    main(run_one, summarize, __doc__)
