"""Experiment: masked-cell training and a rank-Gaussian input transform (not a test, not part of the model).
Results: bench/results/masked_cells_2026-12-05.md.

Why kept: on 6_cardio (semi-supervised, seeds 0-2) the default scores 92.43 against the reference VAE's 96.55.
Twenty-two families failed (README "Where a published method wins"); this script measures two new ones. For each
(file, protocol, seed) it fits the default detector as bench/quality.py fits it (global_terms.fit_default) and each
candidate on the same training rows. Candidates and constants were written down before the first run.

Family a, masked-cell modelling (mcm25, mcm50). Why: an autoencoder that sees the whole row can pass an extreme
value through to its output; one that must fill in hidden cells from the others learns the columns' joint law, and
a row whose cells do not follow from each other is reconstructed badly under every mask (the idea of MCM, Yin et
al., ICLR 2024, and of NPT-AD's masked reconstruction). Today's transforms and network (64-32-8, one member, the
trainer's budget, validation split and early stopping); in training every cell of every batch row is hidden with
probability P (set to 0, the column's median in the model's robust units) and the loss is the squared error over
all cells of the whole row. At scoring, K = 8 fixed masks (rng(seed + 7000)): G = round(1 / P) groups per round
(at most d), K / G rounds, each round a random permutation of the columns cut into G groups, so every mask hides
about P of the cells and every cell is hidden in exactly K / G masks. Validation loss: the whole-row error under
the same 8 masks. P = 0.25 (mcm25) and 0.5 (mcm50).
    rec_all      sqrt of the whole-row squared error, each column's averaged over the 8 masks, weighted per column
                 as today ("balanced", trainer._reconstruction_scale on 2048 training rows under the same masks)
    rec_masked   the same with each column's error taken only from the masks that hide it
    modes: "score" (rec_X + today's neighbour and range terms, the neighbour term from the unmasked row's code of
           the same network, calibrated as trainer.calibrate does), "alone" (rec_X alone); and "unmasked" (today's
           score of the masked-trained network on whole rows: a diagnostic)
    Graph form: the K masked copies are one Mul by a constant [K, 1, d] and the same Gemms on K x B rows.
Family b, rank-Gaussian inputs (qgauss). Why: signed log + robust scaling leaves discrete and multi-modal columns
(most of cardio's) far from the unit Gaussian a squared-error network treats best; the per-column quantile
transform maps the training rows' marginal to N(0, 1) whatever its shape. Fitted on the training rows: Q =
min(1000, n) quantiles at probabilities (i + 0.5) / Q, a value mapped by linear interpolation to the normal
quantiles (ties: the mean of the interpolation from below and from above, as scikit-learn's QuantileTransformer);
beyond the training range linearly, one unit per robust spread of the column (IQR / 1.349; else its standard
deviation; else 1), so an extreme row stays extreme and today's range term still sees it. The default detector is
then fitted and scored on the transformed rows ("score"); each of its terms alone is a diagnostic.
    Graph form: a piecewise-linear map per column (a sum of Q ReLUs, or a Gather), before today's preprocessing.
Added after the first screen (qgauss lifted cardio to 96.84 but cost thyroid 3.7 points; the constants above were
not changed), both motivated by thyroid, not by cardio:
    qgauss_light the rank-Gaussian map only on the columns today's transforms do not log (|skewness| <= 2): a
                 heavy tail is where thyroid's anomalies lie, and the map squeezes the tail's top ranks to about
                 3 units where the signed log keeps them apart; the logged columns pass through as before
    mode "sum"   the default score + the candidate's score (two networks side by side, as code_sizes' ensemble)
Added while qgauss's full run went on (its first 8 files seen), before its own first run (the same motivation):
    qgauss_both  one network on both views side by side: 2d inputs, the rank-Gaussian columns and the raw columns
                 (which today's transforms log and scale as ever), so the tails stay visible beside the ranks

The rule (written down before the first run; the task's): a candidate is adopted only if cardio >= 96.55, thyroid
>= 98.55, shuttle >= 99.35 (semi-supervised, mean of seeds 0-2) and the 28-file means reach semi >= 86.56 and unsup
>= 78.06. It goes to the full run (28 files x semi/unsup x seeds 0-2) only if it screens >= 95 on cardio.

Usage:
    python bench/masked_cells.py --files cardio thyroid shuttle --protocols semi --out screen.csv
    python bench/masked_cells.py --cands mcm25,qgauss --out full.csv        # 28 files x semi/unsup x seeds 0 1 2
    python bench/masked_cells.py --summarize screen.csv full.csv     # the results tables and the rule
    python bench/masked_cells.py --example --cands mcm25  # the transactions example: planted kinds, joint_law ranks

Added 2026-12-07 (results: bench/results/masked_cells_full_2026-12-07.md): mcm25's full run, lower cell rates
(mcm10, mcm15) on the screen, and --example: on the transactions example's four columns (ad_duckdb.examplerows,
20,000 rows, 1% planted, data seeds 3-5, model seed 0, unlabelled), how each mode ranks the planted rows, since an
autoencoder that fills in hidden cells should see rows that break the columns' joint law (a tiny count with a large
amount), which the default finds only through its neighbour term.
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
from early_stop import eval_every, split_rows, train  # noqa: E402  (the trainer's split and early stopping)
from global_terms import auc_rows, fit_default, main, take_cands  # noqa: E402  (the default fit of bench/quality.py, the command line)

N_MASKS = 8
# mcm10 and mcm15 were added on 2026-12-07 (run only when --cands names them), after mcm25's full run
MASK_RATES = {"mcm10": 0.10, "mcm15": 0.15, "mcm25": 0.25, "mcm50": 0.5}
QUANTILES = 1000
CAL_ROWS = 2048
BARS = {"cardio": 96.55, "thyroid": 98.55, "shuttle": 99.35}
MEAN_BARS = {"semi": 86.56, "unsup": 78.06}
SCREEN_CARDIO = 95.0
# which candidates a run fits: --cands, passed on to the worker processes in the environment
CANDS = os.environ.get("MASKED_CELLS_CANDS", "mcm25,mcm50,qgauss").split(",")


def score_masks(d: int, rate: float, seed: int) -> np.ndarray:
    """K masks [K, d] of 0/1 (1 = hidden): each round a permutation of the columns cut into G groups."""
    rng = np.random.default_rng(seed + 7000)
    groups = max(1, min(d, round(1 / rate)))
    masks = []
    for _ in range(max(1, N_MASKS // groups)):
        for part in np.array_split(rng.permutation(d), groups):
            m = np.zeros(d)
            m[part] = 1.0
            masks.append(m)
    return np.array(masks)


def _masked_errors(ae: Any, Z: Any, masks: Any) -> tuple[Any, Any]:
    """Per-column squared errors [B, d] of the rows Z [B, d] reconstructed under each mask: averaged over all masks,
    and over the masks that hide the column."""

    K, B = masks.shape[0], Z.shape[0]
    zin = (Z.unsqueeze(0) * (1 - masks).unsqueeze(1)).reshape(K * B, -1)
    _, recon = ae(zin)
    err = ((recon[0].reshape(K, B, -1) - Z.unsqueeze(0)) ** 2)
    hidden = masks.unsqueeze(1)
    return err.mean(0), (err * hidden).sum(0) / hidden.sum(0).clamp_min(1.0)


def _fit_masked(Z: np.ndarray, p: Any, robust: bool, rate: float, masks: Any) -> tuple[Any, int]:
    """fit_ensemble's loop for one member, with cells hidden at ``rate`` in training."""
    import torch

    from ad_duckdb.nn import EnsembleAutoEncoder

    Zt, Zv = split_rows(Z, p)
    d = Z.shape[1]
    hidden, latent = p.sizes(d)
    n_tr = len(Zt)
    bs = min(p.batch_size, n_tr)
    torch.manual_seed(p.seed)
    ae = EnsembleAutoEncoder(1, d, hidden, latent)
    gen = torch.Generator().manual_seed(p.seed)
    opt = torch.optim.Adam(ae.parameters(), lr=p.lr, weight_decay=p.weight_decay)

    def batch_loss() -> Any:
        xb = Zt[torch.randint(0, n_tr, (bs,), generator=gen)]
        keep = (torch.rand(xb.shape, generator=gen) >= rate).float()
        _, recon = ae(xb * keep)
        return ((recon[0] - xb) ** 2).mean()

    def val_loss() -> float:
        with torch.no_grad():
            return float(torch.cat([_masked_errors(ae, Zv[i:i + 4096], masks)[0] for i in range(0, len(Zv), 4096)]).mean())

    ran = train(ae, opt, p.n_steps(n_tr, robust), eval_every(n_tr, bs), p.patience, batch_loss, val_loss)
    return ae, ran


def masked_candidate(det: Any, Xtr: np.ndarray, Xte: np.ndarray, rate: float, robust: bool
                     ) -> dict[str, np.ndarray]:
    """The scores of one masked-cell candidate on the scored rows, by mode."""
    import torch

    from ad_duckdb.features import transform
    from ad_duckdb.nn import ScoringGraph
    from ad_duckdb.trainer import _reconstruction_scale, calibrate

    p = det.train_params_
    Z = transform(Xtr, det.specs_)
    masks = torch.from_numpy(score_masks(Z.shape[1], rate, p.seed).astype(np.float32))
    ae, _ = _fit_masked(Z, p, robust, rate, masks)
    cal = calibrate(ae, Z, p, robust=robust)
    g = ScoringGraph(det.specs_, ae, bank=cal["bank"], knn_k=cal["knn_k"], rec_scale=cal["rec_scale"],
                     knn_scale=cal["knn_scale"], knn_eps=cal["knn_eps"], range_weight=p.range_weight,
                     bank_groups=cal["bank_groups"]).eval()
    cal_rows = np.random.default_rng(p.seed + 1000).choice(len(Z), min(len(Z), CAL_ROWS), replace=False)
    with torch.no_grad():
        e_all, e_hid = _masked_errors(ae, torch.from_numpy(Z[cal_rows].astype(np.float32)), masks)
        w_all = 1.0 / (_reconstruction_scale(e_all.unsqueeze(0), "balanced")[0, 0] * Z.shape[1])
        w_hid = 1.0 / (_reconstruction_scale(e_hid.unsqueeze(0), "balanced")[0, 0] * Z.shape[1])
        parts: dict[str, list[np.ndarray]] = {}
        for i in range(0, len(Xte), 8192):
            x = torch.from_numpy(Xte[i:i + 8192].astype(np.float32))
            t = g.terms(x)
            a, h = _masked_errors(ae, g.pre(x), masks)
            other = t.get("neighbour", 0.0) + t.get("range", 0.0)
            got = {"rec_all": torch.sqrt((a * w_all).sum(-1)), "rec_masked": torch.sqrt((h * w_hid).sum(-1))}
            got = {**got, "other": other + 0 * got["rec_all"], "unmasked": t["reconstruction"] + other}
            for k, v in got.items():
                parts.setdefault(k, []).append(v.numpy().astype(np.float64))
    o = {k: np.concatenate(v) for k, v in parts.items()}
    return {"rec_all score": o["rec_all"] + o["other"], "rec_masked score": o["rec_masked"] + o["other"],
            "rec_all alone": o["rec_all"], "rec_masked alone": o["rec_masked"], "unmasked": o["unmasked"]}


class RankGauss:
    """Per-column quantile transform to N(0, 1), fitted on training rows, linear beyond the training range."""

    def __init__(self, X: np.ndarray) -> None:
        from scipy.stats import norm

        q = min(QUANTILES, len(X))
        probs = (np.arange(q) + 0.5) / q
        self.q = np.nanquantile(X, probs, axis=0)  # [Q, d]
        self.g = norm.ppf(probs)
        spread = (np.nanquantile(X, 0.75, axis=0) - np.nanquantile(X, 0.25, axis=0)) / 1.349
        sd = np.nanstd(X, axis=0)
        self.spread = np.where(spread > 0, spread, np.where(sd > 0, sd, 1.0))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        out = np.empty_like(X)
        g = self.g
        for j in range(X.shape[1]):
            x, q = X[:, j], self.q[:, j]
            v = 0.5 * (np.interp(x, q, g) - np.interp(-x, -q[::-1], -g[::-1]))
            lo, hi = x < q[0], x > q[-1]
            v[lo] = g[0] - (q[0] - x[lo]) / self.spread[j]
            v[hi] = g[-1] + (x[hi] - q[-1]) / self.spread[j]
            out[:, j] = np.where(np.isnan(x), np.nan, v)
        return out


def run_one(task: tuple[str, str, int]) -> list[dict[str, Any]]:
    path, protocol, seed = task
    from ad_duckdb.detector import AutoEncoderDetector

    det, X, y, tr, te, fit_s = fit_default(path, protocol, seed)
    rows, add = auc_rows(path, protocol, seed, y[te])

    add("default", "-", det.decision_function(X[te]), fit_s)  # first: the row the progress line shows
    for k, v in det.score_terms(X[te]).items():
        add("default", f"{k} alone", v, fit_s)
    robust = protocol == "unsup"
    for cand, rate in MASK_RATES.items():
        if cand in CANDS:
            t0 = time.perf_counter()
            for mode, v in masked_candidate(det, X[tr], X[te], rate, robust).items():
                add(cand, mode, v, time.perf_counter() - t0)
    s_default = det.decision_function(X[te])
    for cand in ("qgauss", "qgauss_light", "qgauss_both"):
        if cand not in CANDS:
            continue
        t0 = time.perf_counter()
        # qgauss_light: only the columns today's transforms do not log (see the module's docstring)
        cols = (np.array([j for j, sp in enumerate(det.specs_) if sp.transform != "slog"], dtype=int)
                if cand == "qgauss_light" else np.arange(X.shape[1]))
        rg = RankGauss(X[tr][:, cols])

        def view(A: np.ndarray, rg: RankGauss = rg, cols: np.ndarray = cols, both: bool = cand == "qgauss_both"
                 ) -> np.ndarray:
            if both:
                return np.hstack([rg(A), A])
            out = A.copy()
            if len(cols):
                out[:, cols] = rg(A[:, cols])
            return out

        q = AutoEncoderDetector(seed=seed, progress=False, constant_columns="keep", robust=robust).fit(view(X[tr]))
        secs = time.perf_counter() - t0
        Tte = view(X[te])
        s_q = q.decision_function(Tte)
        add(cand, "score", s_q, secs)
        add(cand, "sum", s_q + s_default, secs)
        for k, v in q.score_terms(Tte).items():
            add(cand, f"{k} alone", v, secs)
    return rows


def summarize(paths: list[str]) -> str:
    """Per candidate and mode: cardio / thyroid / shuttle (semi), the 28-file means where run, the rule's verdict;
    then cardio per seed."""
    import pandas as pd

    df = pd.concat([pd.read_csv(p) for p in paths]).drop_duplicates(["file", "protocol", "seed", "cand", "mode"],
                                                                     keep="last")
    m = df.groupby(["protocol", "file", "cand", "mode"])["auc"].mean().reset_index()
    prots = [p for p in ("semi", "unsup") if p in set(m.protocol)]
    hdr = ["candidate", "mode", "cardio semi", "thyroid semi", "shuttle semi", "semi mean (28)", "unsup mean (28)",
           "cardio per seed", "rule"]
    out = ["| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
    keys = sorted(m[["cand", "mode"]].drop_duplicates().values.tolist(), key=lambda k: (k[0] != "default", k[0], k[1]))
    for cand, mode in keys:
        sub = m[(m.cand == cand) & (m["mode"] == mode)]
        semi = {f: sub[(sub.protocol == "semi") & sub.file.str.contains(f)].auc for f in BARS}
        got = {f: float(v.iloc[0]) if len(v) else float("nan") for f, v in semi.items()}
        means = {p: (float(sub[sub.protocol == p].auc.mean()) if (sub.protocol == p).sum() == 28 else float("nan"))
                 for p in ("semi", "unsup")}
        per_seed = df[(df.cand == cand) & (df["mode"] == mode) & (df.protocol == "semi")
                      & df.file.str.contains("cardio")].sort_values("seed").auc
        full = all(not math.isnan(v) for v in means.values())
        ok = all(got[f] >= b for f, b in BARS.items()) and full and all(means[p] >= MEAN_BARS[p] for p in MEAN_BARS)
        verdict = ("-" if cand == "default" or "alone" in mode or mode == "unmasked"
                   else "MEETS" if ok else "no" if full
                   else "screens >= 95: full run" if got["cardio"] >= SCREEN_CARDIO else "out at the screen")
        cells = [cand, mode, *[f"{got[f]:.2f}" for f in BARS], *[f"{means[p]:.2f}" if full or not math.isnan(means[p])
                                                                 else "-" for p in ("semi", "unsup")],
                 " / ".join(f"{v:.2f}" for v in per_seed), verdict]
        out.append("| " + " | ".join(cells) + " |")
    # where a candidate ran on all 28 files: which files move, and the means per seed (a gain must not rest on one)
    base = m[(m.cand == "default") & (m["mode"] == "-")].set_index(["protocol", "file"])["auc"]
    ps = df.groupby(["protocol", "seed", "cand", "mode"])["auc"].mean()
    hdr2 = ["candidate", "mode", *[f"{p} seed {s}" for p in prots for s in (0, 1, 2)], "files moving >1pt (semi)",
            "files moving >1pt (unsup)"]
    full_rows = []
    for cand, mode in keys:
        sub = m[(m.cand == cand) & (m["mode"] == mode)]
        if cand == "default" or "alone" in mode or len(sub) < 56:
            continue
        seeds = [f"{ps[(p, s, cand, mode)] - ps[(p, s, 'default', '-')]:+.2f}" for p in prots for s in (0, 1, 2)]
        moves = [", ".join(f"{r.file.split('.')[0]} {r.auc - base[(p, r.file)]:+.1f}"
                           for r in sub[sub.protocol == p].itertuples() if abs(r.auc - base[(p, r.file)]) > 1) or "-"
                 for p in ("semi", "unsup")]
        full_rows.append("| " + " | ".join([cand, mode, *seeds, *moves]) + " |")
    if full_rows:
        out += ["", "Change of the 28-file mean against the default, per seed, and the files that move:", "",
                "| " + " | ".join(hdr2) + " |", "|" + "---|" * len(hdr2), *full_rows]
    return "\n".join(out)


def example() -> None:
    """--example: per data seed and mode, AUC-ROC of all planted rows and of each kind, the joint_law rows' median
    rank and the share of them and of all planted rows in the top 1% (the default threshold's share)."""
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(ROOT))
    from ad_duckdb.detector import AutoEncoderDetector
    from ad_duckdb.examplerows import KINDS, example_rows
    from ad_duckdb.metrics import auc_roc

    for data_seed in (3, 4, 5):
        made = example_rows(20_000, data_seed, 0.01)
        X = np.column_stack([made.columns[c].astype(float) for c in ("count", "amount", "distinct_cards", "refunds")])
        kind = np.full(len(X), "", dtype=object)
        kind[made.planted] = made.kinds
        det = AutoEncoderDetector(seed=0, progress=False, robust=True).fit(X)
        got = {"default -": det.decision_function(X)}
        for cand in CANDS:
            if cand in MASK_RATES:
                got |= {f"{cand} {k}": v for k, v in masked_candidate(det, X, X, MASK_RATES[cand], True).items()}
        for name, s in got.items():
            rank = np.empty(len(s), int)
            rank[np.argsort(-s, kind="stable")] = np.arange(1, len(s) + 1)
            top, jl = rank <= len(s) // 100, kind == "joint_law"
            per = " ".join(f"{k} {auc_roc(s[(kind == '') | (kind == k)], kind[(kind == '') | (kind == k)] == k) * 100:.1f}"
                           for k in KINDS)
            print(f"data seed {data_seed} | {name} | all {auc_roc(s, kind != '') * 100:.1f} | {per} | joint_law median "
                  f"rank {np.median(rank[jl]):.0f}, top 1% {top[jl].mean() * 100:.0f}% | planted in top 1% "
                  f"{top[kind != ''].mean() * 100:.0f}%", flush=True)


if __name__ == "__main__":
    take_cands("MASKED_CELLS_CANDS", CANDS)
    if "--example" in sys.argv:
        example()
    else:
        main(run_one, summarize, __doc__)
