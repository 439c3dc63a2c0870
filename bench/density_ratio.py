"""Experiment: a learned density ratio, a heteroscedastic decoder and a locally scaled neighbour term (not a test,
not part of the model). Results: bench/results/density_ratio_2026-12-05.md.

Why kept: on 6_cardio (semi-supervised, seeds 0-2) the default scores 92.43 against the reference VAE's 96.55, and
twenty-four families failed (README "Where a published method wins"). This script measures three new ones. For each
(file, protocol, seed) it fits the default detector as bench/quality.py fits it (global_terms.fit_default) and each
candidate on the same training rows. Candidates and constants were written down before the first run.

Family a, a learned density ratio (Hempstalk, Frank and Witten 2008, "One-class classification by combining density
and class probability estimation"). Why: a classifier told to separate the training rows from samples of a known
reference law learns log p_train(x) - log p_ref(x) (its logit, up to a constant); a row the classifier places on the
reference side is unlike the training rows in a way the reference makes visible. Classifier: a dense d -> 64 -> 32
-> 1 ReLU network (the encoder's widths), Adam (lr 1e-3, weight decay 1e-4), batches of 256 training rows and 256
fresh reference samples, binary cross-entropy, at most 3000 steps (100 passes), 20% of the training rows held out
(seeded) for early stopping (evaluated every 100 steps against 4096 fresh reference samples, patience 5) and for
the term's scale. Two input spaces:
    z     today's transformed inputs (signed log, robust scaling: the network's input)
    code  the default network's 8-number code of the row
and two references:
    shuffle  each column drawn independently from the training rows (the product of the marginals): the logit is
             then the columns' dependence, what the joint law adds to the marginals
    gauss    an independent Gaussian per column, the training rows' mean and twice their standard deviation (a
             broad reference, as Hempstalk et al.)
Terms: "ratio" = -logit (log p_ref / p_train up to a constant); for gauss also "dens" = -(logit + log p_ref(x)), the
density estimate of Hempstalk et al. (log p_train = logit + log p_ref + const). Each term t is put on the score's
scale by the held-out training rows: (t - median) / (q90 - median) (an affine map: one Gemm in a graph).
    modes: "alone" (t), "add" (default score + scaled t): the candidate; a dense graph of 64-32-1 beside today's.
Family b, a heteroscedastic decoder. Why: squared error treats every column's residual as equally surprising in
every region; a decoder that also predicts each column's variance (Gaussian NLL; Nix and Weigend 1994) scores a
residual by how far it is from what rows like this one vary by. Today's network (64-32-8-32-64, one member, the
trainer's budget, validation split and early stopping) with a last layer of 2d outputs: the mean and
v = softplus(raw) + 1e-2 (variance floor: a tenth of a robust unit of spread, so a column the others fix exactly
does not get an unbounded weight); loss the beta-NLL of Seitzer et al. 2022 (beta 0.5: each row's NLL weighted by
the stopped-gradient v^0.5, which keeps the mean fitted where the variance grows), validation the plain NLL.
Scores, with the network's own neighbour and range terms calibrated as trainer.calibrate does:
    zres score   sqrt(mean_j r_j^2 / v_j) / its training median (the standardized residual) + neighbour + range
    nll score    (NLL - median) / (q90 - median) over 2048 training rows + neighbour + range
    alone rows (zres, nll) and "mse score" (today's score of that network's mean) are diagnostics.
Family c, a locally scaled neighbour term. Why: today's neighbour term is the distance to the nearest centroid of
the codes, divided by one median for all; a tight cluster and a loose one then get the same radius. Dividing each
bank code's distance by its own radius (the median distance of the training codes it is nearest to, at least 8 of
them; else the bank's median radius) scores a row by how far outside its own cluster it lies (the relative density
of LOF, on centroids). In a graph: one Mul by a constant [bank] before today's ReduceMin.
    local score  default - neighbour + local term / its training median (2048 training rows, as calibrate)

Added after the first screen (every candidate above out at it: cardio at most 94.0), constants fixed before their
own first run:
    hetero0      family b with the textbook Gaussian NLL (beta 0) in place of beta-NLL: beta 0.5 was our choice
    goad         family d, classification of random transformations (GOAD, Bergman and Hoshen, ICLR 2020; its
                 published column scores cardio 96.0): M = 64 fixed random projections W_m [d, 32] (N(0, 1),
                 rng(seed + 6000)) of the transformed inputs z; one dense network 32 -> 64 -> 64 -> 32 (LeakyReLU
                 0.2) maps each projection to features, p(m | W_m z) a softmax over minus the squared distances to
                 the M projections' feature centres and one more class at distance 0 (GOAD's eps, so a row far
                 from every centre gets a low probability); cross-entropy over the M projections of batches of 64
                 rows with the batch's centres, Adam lr 1e-3, the trainer's budget, 10% validation split,
                 evaluation cadence and patience; centres for scoring from all training rows. Score
                 -mean_m log p(m | W_m z): a normal row's projections are recognised, a row unlike the training
                 rows' is not. Modes "alone" and "add" (default + the term scaled by the validation rows, as family
                 a). In a graph: one Gemm [d, 32 M], the network on M x B rows, distances to M constant centres, a
                 LogSoftmax and a constant diagonal mask. (A first version with a plain softmax head and no
                 centres scored cardio seed 0 at 53.6 alone, add 91.2: a larger row only makes such a classifier
                 surer; replaced by GOAD's own form before any other run.)

The rule (written down before the first run; the task's): a candidate is adopted only if cardio >= 96.55, thyroid
>= 98.55, shuttle >= 99.35 (semi-supervised, mean of seeds 0-2) and the 28-file means reach semi >= 86.56 and unsup
>= 78.06. It goes to the full run (28 files x semi/unsup x seeds 0-2) only if it screens >= 95 on cardio.

Usage:
    python bench/density_ratio.py --files cardio thyroid shuttle --protocols semi --jobs 1 --out screen.csv
    python bench/density_ratio.py --cands dr --jobs 1 --out full.csv       # 28 files x semi/unsup x seeds 0 1 2
    python bench/density_ratio.py --summarize screen.csv full.csv    # the results tables and the rule
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from early_stop import calibrated_graph, eval_every, split_rows, train  # noqa: E402  (the trainer's split and early stopping)
from global_terms import auc_rows, fit_default, main, take_cands  # noqa: E402  (the default fit of bench/quality.py, the command line)
from masked_cells import summarize  # noqa: E402  (the same tables and rule)

CLF_STEPS = 3000
CLF_EVAL = 100
CLF_PATIENCE = 5
CLF_HOLDOUT = 0.2
GAUSS_WIDTH = 2.0
VAR_FLOOR = 1e-2
BETA = 0.5
GOAD_M = 64
GOAD_R = 32
GOAD_ROWS = 64
LOCAL_MIN_ROWS = 8
CAL_ROWS = 2048
# which families a run fits: --cands, passed on to the worker processes in the environment
CANDS = os.environ.get("DENSITY_RATIO_CANDS", "dr,hetero,local").split(",")  # also: hetero0, goad


def _scaled(t_hold: np.ndarray, t: np.ndarray) -> np.ndarray:
    """t on the score's scale: (t - median) / (q90 - median) of the held-out training rows."""
    med, q90 = np.median(t_hold), np.quantile(t_hold, 0.9)
    return (t - med) / max(float(q90 - med), 1e-6)


class Reference:
    """Samples of the reference law in a space fitted on training rows T, and (gauss) its log-density."""

    def __init__(self, T: np.ndarray, kind: str) -> None:
        self.T, self.kind = T, kind
        self.mu = T.mean(0)
        self.sd = np.maximum(T.std(0), 1e-3) * GAUSS_WIDTH

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.kind == "shuffle":
            idx = rng.integers(0, len(self.T), (n, self.T.shape[1]))
            return np.take_along_axis(self.T, idx, axis=0)
        return self.mu + self.sd * rng.standard_normal((n, self.T.shape[1]))

    def logpdf(self, A: np.ndarray) -> np.ndarray:
        return -0.5 * (((A - self.mu) / self.sd) ** 2).sum(1) - np.log(self.sd).sum()


def fit_classifier(T: np.ndarray, ref: Reference, seed: int) -> tuple[Any, np.ndarray]:
    """Training rows vs reference samples: the network, and which rows of T were held out."""
    import torch
    from torch import nn

    rng = np.random.default_rng(seed + 5000)
    perm = rng.permutation(len(T))
    n_hold = max(1, int(round(len(T) * CLF_HOLDOUT)))
    hold, fit = perm[:n_hold], perm[n_hold:]
    d = T.shape[1]
    torch.manual_seed(seed + 5000)
    net = nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    bce = nn.BCEWithLogitsLoss()
    Tf = torch.from_numpy(T[fit].astype(np.float32))
    Th = torch.from_numpy(T[hold].astype(np.float32))
    Rv = torch.from_numpy(ref.sample(4096, rng).astype(np.float32))
    yv = torch.cat([torch.ones(len(Th)), torch.zeros(len(Rv))])
    bs = min(256, len(Tf))
    steps = min(CLF_STEPS, 100 * math.ceil(len(Tf) / bs))
    ones, zeros = torch.ones(bs), torch.zeros(bs)
    gen = torch.Generator().manual_seed(seed + 5000)

    def batch_loss() -> Any:
        xb = Tf[torch.randint(0, len(Tf), (bs,), generator=gen)]
        rb = torch.from_numpy(ref.sample(bs, rng).astype(np.float32))
        return bce(net(torch.cat([xb, rb]))[:, 0], torch.cat([ones, zeros]))

    def val_loss() -> float:
        with torch.no_grad():
            return float(bce(net(torch.cat([Th, Rv]))[:, 0], yv))

    train(net, opt, steps, CLF_EVAL, CLF_PATIENCE, batch_loss, val_loss, tol=1e-6)
    return net, hold


def _logit(net: Any, A: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return np.concatenate([net(torch.from_numpy(A[i:i + 65536].astype(np.float32)))[:, 0].numpy()
                               for i in range(0, len(A), 65536)]).astype(np.float64)


def _spaces(det: Any, Xtr: np.ndarray, Xte: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The default model's transformed inputs z and codes of the training and scored rows."""
    import torch

    g = det.graph_
    out: dict[str, list[list[np.ndarray]]] = {"z": [[], []], "code": [[], []]}
    with torch.no_grad():
        for j, X in enumerate((Xtr, Xte)):
            for i in range(0, len(X), 65536):
                z = g.pre(torch.from_numpy(X[i:i + 65536].astype(np.float32)))
                h, _ = g.ae(z)
                out["z"][j].append(z.numpy().astype(np.float64))
                out["code"][j].append(h.mean(0).numpy().astype(np.float64))
    return {k: (np.concatenate(a), np.concatenate(b)) for k, (a, b) in out.items()}


def density_ratio(det: Any, Xtr: np.ndarray, Xte: np.ndarray, seed: int) -> dict[str, dict[str, np.ndarray]]:
    """cand -> mode -> family a's terms on the scored rows ("alone": scaled term; the caller adds)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for space, (Ttr, Tte) in _spaces(det, Xtr, Xte).items():
        for kind in ("shuffle", "gauss"):
            ref = Reference(Ttr, kind)
            net, hold = fit_classifier(Ttr, ref, seed)
            lt, lh = _logit(net, Tte), _logit(net, Ttr[hold])
            out[f"dr_{space}_{kind}"] = {"ratio": _scaled(-lh, -lt)}
            if kind == "gauss":
                out[f"dr_{space}_dens"] = {"ratio": _scaled(-(lh + ref.logpdf(Ttr[hold])), -(lt + ref.logpdf(Tte)))}
    return out


def _hetero_module(d: int, hidden: Any, latent: int) -> Any:
    """Today's autoencoder with a last layer of 2d outputs (mean, raw variance); forward gives (code, mean) as
    EnsembleAutoEncoder's does, so trainer.calibrate and ScoringGraph take it."""
    import torch

    from ad_duckdb.nn import EnsembleAutoEncoder, EnsembleLinear

    class Hetero(EnsembleAutoEncoder):
        def __init__(self) -> None:
            super().__init__(1, d, hidden, latent)
            self.decoder[-1] = EnsembleLinear(1, self.decoder[-1].weight.shape[-2], 2 * d)

        def mean_var(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            h, _ = self.encode(z)
            o = self.decoder(h)
            return o[..., :d], torch.nn.functional.softplus(o[..., d:]) + VAR_FLOOR

        def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            h, _ = self.encode(z)
            mu = self.decoder(h)[..., :d]
            return (h.unsqueeze(0), mu.unsqueeze(0)) if h.dim() == 2 else (h, mu)

        def members(self, z: torch.Tensor) -> Any:  # ScoringGraph takes forward for one member
            raise NotImplementedError

    return Hetero()


def _nll(ae: Any, Z: Any) -> tuple[Any, Any]:
    """Per-row Gaussian NLL (without the constant) and mean squared standardized residual."""
    import torch

    mu, v = ae.mean_var(Z)
    r2 = (mu - Z) ** 2 / v
    return 0.5 * (torch.log(v) + r2).sum(-1), r2.mean(-1)


def hetero_candidate(det: Any, Xtr: np.ndarray, Xte: np.ndarray, robust: bool, beta: float = BETA
                     ) -> dict[str, np.ndarray]:
    import torch

    from ad_duckdb.features import transform

    p = det.train_params_
    Z = transform(Xtr, det.specs_)
    Zt, Zv = split_rows(Z, p)
    n, d = Z.shape
    hidden, latent = p.sizes(d)
    n_tr = len(Zt)
    bs = min(p.batch_size, n_tr)
    torch.manual_seed(p.seed)
    ae = _hetero_module(d, hidden, latent)
    gen = torch.Generator().manual_seed(p.seed)
    opt = torch.optim.Adam(ae.parameters(), lr=p.lr, weight_decay=p.weight_decay)

    def batch_loss() -> Any:
        xb = Zt[torch.randint(0, n_tr, (bs,), generator=gen)]
        mu, v = ae.mean_var(xb)
        nll = 0.5 * (torch.log(v) + (mu - xb) ** 2 / v)
        return (nll * v.detach() ** beta).mean() if beta else nll.mean()

    def val_loss() -> float:
        with torch.no_grad():
            return float(torch.cat([_nll(ae, Zv[i:i + 4096])[0] for i in range(0, len(Zv), 4096)]).mean())

    train(ae, opt, p.n_steps(n_tr, robust), eval_every(n_tr, bs), p.patience, batch_loss, val_loss)
    g = calibrated_graph(det, ae, Z, robust)
    cal_rows = np.random.default_rng(p.seed + 1000).choice(n, min(n, CAL_ROWS), replace=False)
    with torch.no_grad():
        nll_c, r2_c = (t.numpy().astype(np.float64) for t in _nll(ae, torch.from_numpy(Z[cal_rows].astype(np.float32))))
        parts: dict[str, list[np.ndarray]] = {}
        for i in range(0, len(Xte), 8192):
            x = torch.from_numpy(Xte[i:i + 8192].astype(np.float32))
            t = g.terms(x)
            nll, r2 = _nll(ae, g.pre(x))
            other = t.get("neighbour", 0.0) + t.get("range", 0.0) + 0 * nll
            for k, val in {"nll": nll, "r2": r2, "other": other, "mse": t["reconstruction"] + other}.items():
                parts.setdefault(k, []).append(val.numpy().astype(np.float64))
    o = {k: np.concatenate(val) for k, val in parts.items()}
    zres = np.sqrt(o["r2"]) / max(float(np.median(np.sqrt(r2_c))), 1e-6)
    nll_s = _scaled(nll_c, o["nll"])
    return {"zres score": zres + o["other"], "nll score": nll_s + o["other"], "zres alone": zres,
            "nll alone": o["nll"], "mse score": o["mse"]}


def local_neighbour(det: Any, Xtr: np.ndarray, Xte: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Family c's term on the training calibration rows and the scored rows (mean over the bank's groups of the
    smallest distance / radius)."""
    import torch

    g = det.graph_
    bank = (g.bank[0] - g.code_neg_center[0]).numpy().astype(np.float64)  # [n_bank, k], in code units
    groups = g.bank_groups
    per = len(bank) // groups

    def codes(X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return np.concatenate([g.ae(g.pre(torch.from_numpy(X[i:i + 65536].astype(np.float32))))[0].mean(0).numpy()
                                   for i in range(0, len(X), 65536)]).astype(np.float64)

    def dists(H: np.ndarray) -> np.ndarray:  # [B, n_bank]
        return np.sqrt(np.maximum((H * H).sum(1)[:, None] - 2 * H @ bank.T + (bank * bank).sum(1)[None], 0.0))

    cal = np.random.default_rng(seed + 1000).choice(len(Xtr), min(len(Xtr), CAL_ROWS), replace=False)
    Dc = dists(codes(Xtr))
    radius = np.empty(len(bank))
    for gi in range(groups):
        sl = slice(gi * per, (gi + 1) * per)
        D = Dc[:, sl]
        near = D.argmin(1)
        dmin = D.min(1)
        typical = max(float(np.median(dmin)), 1e-6)
        for j in range(per):
            mine = dmin[near == j]
            radius[gi * per + j] = max(float(np.median(mine)), 0.05 * typical) if len(mine) >= LOCAL_MIN_ROWS else typical

    def term(D: np.ndarray) -> np.ndarray:
        R = D / radius[None]
        return np.mean([R[:, gi * per:(gi + 1) * per].min(1) for gi in range(groups)], axis=0)

    return term(Dc[cal]), term(dists(codes(Xte)))


def goad(det: Any, Xtr: np.ndarray, Xte: np.ndarray, robust: bool) -> np.ndarray:
    """Family d's term on the scored rows, scaled by the validation rows."""
    import torch
    from torch import nn

    from ad_duckdb.features import transform

    p = det.train_params_
    Z = transform(Xtr, det.specs_)
    d = Z.shape[1]
    W = torch.from_numpy(np.random.default_rng(p.seed + 6000).standard_normal((d, GOAD_M * GOAD_R)).astype(np.float32))
    Zt, Zv = split_rows(Z, p)
    torch.manual_seed(p.seed)
    net = nn.Sequential(nn.Linear(GOAD_R, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2),
                        nn.Linear(64, GOAD_R))
    centres: list[torch.Tensor] = []  # [M, r] of the training rows, set after training

    def feats(zb: torch.Tensor) -> torch.Tensor:  # [B, M, r]
        return net((zb @ W).reshape(-1, GOAD_M, GOAD_R))

    def nll(zb: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """[B]: -mean_m log p(m | W_m z), p from the distances to the M centres and one more class at distance 0."""
        f = feats(zb)
        c = f.mean(0) if c is None else c  # in training: the batch's centres (GOAD's)
        # [B, M (projection), M (centre)], expanded: the difference tensor [B, M, M, r] is 1 GB at 2048 rows
        dist = ((f * f).sum(-1, keepdim=True) - 2 * f @ c.T + (c * c).sum(-1)).clamp_min(0.0)
        logits = torch.cat([-dist, torch.zeros(*dist.shape[:2], 1)], -1)
        return -torch.log_softmax(logits, -1)[..., :GOAD_M].diagonal(dim1=1, dim2=2).mean(-1)

    def chunked(A: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return torch.cat([nll(A[i:i + 1024], centres[0] if centres else None) for i in range(0, len(A), 1024)])

    def set_centres() -> None:
        with torch.no_grad():
            centres[:] = [torch.cat([feats(Zt[i:i + 2048]) for i in range(0, len(Zt), 2048)]).mean(0)]

    n_tr = len(Zt)
    bs = min(GOAD_ROWS, n_tr)
    per_epoch = math.ceil(n_tr / bs)
    steps = p.n_steps(n_tr, robust) if p.epochs is not None else int(min((30 if robust else 100) * per_epoch,
                                                                         600 if robust else p.max_steps))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(p.seed)

    def val_loss() -> float:
        set_centres()
        return float(chunked(Zv).mean())

    train(net, opt, steps, eval_every(n_tr, bs), p.patience,
          lambda: nll(Zt[torch.randint(0, n_tr, (bs,), generator=gen)]).mean(), val_loss)
    set_centres()
    Zte = torch.from_numpy(transform(Xte, det.specs_).astype(np.float32))
    return _scaled(chunked(Zv).numpy().astype(np.float64), chunked(Zte).numpy().astype(np.float64))


def run_one(task: tuple[str, str, int]) -> list[dict[str, Any]]:
    path, protocol, seed = task

    det, X, y, tr, te, fit_s = fit_default(path, protocol, seed)
    rows, add = auc_rows(path, protocol, seed, y[te])

    s = det.decision_function(X[te])
    add("default", "-", s, fit_s)  # first: the row the progress line shows
    terms = det.score_terms(X[te])
    for k, v in terms.items():
        add("default", f"{k} alone", v, fit_s)
    robust = protocol == "unsup"
    if "dr" in CANDS:
        t0 = time.perf_counter()
        got = density_ratio(det, X[tr], X[te], seed)
        secs = (time.perf_counter() - t0) / len(got)
        for cand, modes in got.items():
            t = modes["ratio"]
            add(cand, "alone", t, secs)
            add(cand, "add", s + t, secs)
    if "hetero" in CANDS:
        t0 = time.perf_counter()
        got = hetero_candidate(det, X[tr], X[te], robust)
        secs = time.perf_counter() - t0
        for mode, v in got.items():
            add("hetero", mode, v, secs)
    if "hetero0" in CANDS:
        t0 = time.perf_counter()
        got = hetero_candidate(det, X[tr], X[te], robust, beta=0.0)
        secs = time.perf_counter() - t0
        for mode, v in got.items():
            add("hetero0", mode, v, secs)
    if "goad" in CANDS:
        t0 = time.perf_counter()
        t = goad(det, X[tr], X[te], robust)
        secs = time.perf_counter() - t0
        add("goad", "alone", t, secs)
        add("goad", "add", s + t, secs)
    if "local" in CANDS and "neighbour" in terms:
        t0 = time.perf_counter()
        lc, lt = local_neighbour(det, X[tr], X[te], seed)
        loc = lt / max(float(np.median(lc)), 1e-9)
        secs = time.perf_counter() - t0
        add("local", "local alone", loc, secs)
        add("local", "local score", s - terms["neighbour"] + loc, secs)
    return rows


if __name__ == "__main__":
    take_cands("DENSITY_RATIO_CANDS", CANDS)
    main(run_one, summarize, __doc__)
