"""Torch modules. Imported only by the training side (trainer, export), never by scoring.

``ScoringGraph`` is what gets exported: raw feature values in, preprocessing folded in,
``score`` [N] and ``feature_error`` [N, d] out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .chunks import row_bytes, rows_per_chunk
from .features import CLIP, FeatureSpec

# Up to this many features, per-column shifts and scales are exported as Gemms with a diagonal (or identity)
# matrix instead of broadcast Sub/Mul: onnxruntime's broadcast kernels loop over rows, so for narrow rows a Gemm
# is several times faster (2048 rows, d=2: 4 us vs 15 us an op), and about equal at d=30; past that the
# Gemm's d^2 multiplications cost more. Whole graph, one thread: d=2 400 -> 350 us, d=30 550 -> 525 us.
NARROW_FEATURES = 32
# A centre this many robust spreads from zero loses detail in float32 (about 7 digits): at 1000, float32's step
# there is under a ten-thousandth of a spread.
OFFSET_SPREADS = 1000.0
_FLOAT32_MAX = 3.4028234663852886e38
_SIGN_GAIN = 1e30


class Preprocess(nn.Module):
    """NULL/NaN fill, signed log where chosen, robust scaling, clipping: the graph form of features.transform.

    A column of large values with a small spread (epoch seconds near 1.7e9, amounts in cents, meter readings)
    keeps its detail only in float64 (float32 steps by 128 at 1.7e9). When some column's centre is over
    OFFSET_SPREADS of its spreads, the graph takes float64 rows and subtracts those centres before its one cast
    to float32 (``input_dtype``). Why only then: the float64 subtraction runs row by row in onnxruntime and
    cost a tenth of the whole graph (2048 rows: d=2 +15 us, d=30 +34 us), for data float32 holds exactly enough.
    """

    # Buffers (register_buffer), declared so that type checkers see tensors rather than Module.__getattr__'s union.
    offset: torch.Tensor
    fill: torch.Tensor
    center: torch.Tensor
    inv_scale: torch.Tensor
    slog: torch.Tensor
    shift: torch.Tensor
    scale_diag: torch.Tensor  # only when narrow

    def __init__(self, specs: Sequence[FeatureSpec]) -> None:
        super().__init__()
        # A logged column keeps offset 0: the signed log needs the raw value, and log space has no such offset.
        offset = [s.center if s.transform != "slog" and abs(s.center) > OFFSET_SPREADS * s.scale else 0.0
                  for s in specs]
        self.register_buffer("offset", torch.tensor(offset, dtype=torch.float64))
        self.has_offset = any(o != 0.0 for o in offset)
        self.input_dtype = torch.float64 if self.has_offset else torch.float32
        # fill and center relative to the offset (computed in float64, then rounded once)
        self.register_buffer("fill", torch.tensor([s.fill - o for s, o in zip(specs, offset, strict=True)],
                                                  dtype=torch.float64).float())
        self.register_buffer("center", torch.tensor([s.center - o for s, o in zip(specs, offset, strict=True)],
                                                    dtype=torch.float64).float())
        self.register_buffer("inv_scale", torch.tensor([1.0 / s.scale for s in specs], dtype=torch.float32))
        self.register_buffer("slog", torch.tensor([s.transform == "slog" for s in specs], dtype=torch.bool))
        self.n_features, self.n_logged = len(specs), int(self.slog.sum())
        self.register_buffer("shift", -self.center * self.inv_scale)
        self.narrow = self.n_features <= NARROW_FEATURES
        if self.narrow:
            self.register_buffer("scale_diag", torch.diag(self.inv_scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # NaN and +-Inf pass the subtraction unchanged; a value beyond float32 becomes +-Inf in the cast
        x = (x.double() - self.offset).float() if self.has_offset else x.float()
        x = torch.where(torch.isnan(x), self.fill, x)
        # Why the cases: the log costs about as much as the rest of the graph's preprocessing, so the exported
        # graph computes it only when some column uses it (and selects only when some do not).
        if self.n_logged == self.n_features:
            x = _slog(x)
        elif self.n_logged > 0:
            x = torch.where(self.slog, _slog(x), x)
        if self.narrow:
            # Why the clamp first: the Gemm multiplies every value by the zeros off the diagonal, and inf * 0 is
            # NaN; a finite value stays finite, and a huge one still ends at +-CLIP.
            x = torch.clamp(x, -_FLOAT32_MAX, _FLOAT32_MAX)
        scaled = _column_affine(x, self.shift, self.inv_scale, self.scale_diag if self.narrow else None)
        return torch.clamp(scaled, -CLIP, CLIP)


def _column_affine(
    x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor | None = None, matrix: torch.Tensor | None = None
) -> torch.Tensor:
    """x * scale + shift, per column: one Gemm when ``matrix`` (diag(scale), or the identity when no scale) is
    given (narrow rows, see NARROW_FEATURES), else broadcast ops."""
    if matrix is not None:
        return torch.addmm(shift, x, matrix)
    return (x if scale is None else x * scale) + shift


def _slog(x: torch.Tensor) -> torch.Tensor:
    """sign(x) * log(1 + |x|), with the sign as clamp(x * 1e30, -1, 1).

    Why not ``torch.sign``: onnxruntime's Sign is a scalar loop, and Mul + Clip is vectorized (2048 rows, d=30,
    one thread: the whole transform 145 -> 110 us). The two differ only for |x| < 1e-30, where both results are
    within 1e-30 of x; +-Inf still maps to +-Inf.

    Why log(1 + |x|) and not ``torch.log1p``: ONNX has no log1p, and the exporter writes log1p as Log(1 + |x|), which
    in float32 keeps only the digits of |x| that 1 + |x| holds (about 10^-4 of 0.001). torch's exact log1p then
    scored otherwise than the stored graph: on ADBench ALOI (values near 0.001, logged, a narrow spread) a row 0.3%
    apart, and training was refused by the parity check. torch now computes what onnxruntime does, so the Python
    detector and SQL agree; an accurate log1p in the graph cost 9% of a 30-column graph's time (measured).
    """
    return torch.clamp(x * _SIGN_GAIN, -1.0, 1.0) * torch.log(1.0 + torch.abs(x))


class EnsembleLinear(nn.Module):
    """``n_models`` independent linear layers applied as one batched matmul: [E, B, i] -> [E, B, o]."""

    def __init__(self, n_models: int, n_in: int, n_out: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(n_in)
        self.weight = nn.Parameter(torch.empty(n_models, n_in, n_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_models, 1, n_out).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2 and self.weight.shape[0] == 1:
            # Why: exported as one Gemm (bias fused); the batched form costs a MatMul plus an Add.
            if self.training:
                # the same numbers through views: a view's gradient is the layer's own, reshaped, where the member's
                # select (weight[0]) makes a zero gradient of the whole parameter and copies into it (a training
                # step's forward and backward about a third faster); the graph exported stays the select's
                return torch.addmm(self.bias.view(-1), x, self.weight.view(self.weight.shape[1:]))
            return torch.addmm(self.bias[0], x, self.weight[0])
        return torch.matmul(x, self.weight) + self.bias


class EnsembleAutoEncoder(nn.Module):
    """An ensemble of dense autoencoders trained side by side (one graph, batched matmuls).

    ``code_sizes``: member m keeps only the first ``code_sizes[m]`` numbers of its code (the others are multiplied by
    0 in training; scoring leaves them out, see ``members``), so members of one graph learn codes of different sizes
    (``TrainParams.code_sizes``). None: every member keeps all ``latent_dim``, and the module is as before the option
    (no buffer, no Mul in the graph).
    """

    code_mask: torch.Tensor | None  # [E, 1, latent_dim] of 0 and 1, or None

    def __init__(
        self, n_models: int, n_features: int, hidden_dims: Sequence[int], latent_dim: int, variational: bool = False,
        code_sizes: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        dims = [n_features, *hidden_dims, latent_dim]
        enc: list[nn.Module] = []
        for i in range(len(dims) - 1):
            # a VAE's encoder also outputs the log-variance of each latent coordinate
            out = dims[i + 1] * (2 if variational and i == len(dims) - 2 else 1)
            enc.append(EnsembleLinear(n_models, dims[i], out))
            if i < len(dims) - 2:
                enc.append(nn.ReLU())
        rev = dims[::-1]
        dec: list[nn.Module] = []
        for i in range(len(rev) - 1):
            dec.append(EnsembleLinear(n_models, rev[i], rev[i + 1]))
            if i < len(rev) - 2:
                dec.append(nn.ReLU())
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)
        self.n_models = n_models
        self.latent_dim = latent_dim
        self.variational = variational
        # Why a buffer made after the layers: the layers draw their initial weights first, as without a cut, and a
        # buffer goes into state_dict (the trainer's best-state copies) and moves with the module.
        mask = None
        if code_sizes is not None:
            assert len(code_sizes) == n_models and max(code_sizes) <= latent_dim and not variational
            mask = (torch.arange(latent_dim)[None, None, :] < torch.tensor(list(code_sizes))[:, None, None]).float()
        self.register_buffer("code_mask", mask)
        # the sizes as plain ints, for the scoring path's slices (``members``); the mask stays what decides
        self.code_sizes = tuple(int(c) for c in code_sizes) if code_sizes is not None else None

    def widths(self) -> list[int]:
        """Each layer's output width (the widest sets how many rows a torch pass may take at once)."""
        return [int(m.weight.shape[-1]) for m in self.modules() if isinstance(m, EnsembleLinear)]

    def encode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Latent mean [E, B, k] and, for a VAE, the log-variance."""
        if z.dim() == 2 and self.n_models > 1:
            z = z.unsqueeze(0).expand(self.n_models, -1, -1)
        h = self.encoder(z)
        if self.variational:
            return h[..., : self.latent_dim], h[..., self.latent_dim :]
        if self.code_mask is not None:
            h = h * (self.code_mask if h.dim() == 3 else self.code_mask[0])  # one member on [B, d]: [1, k]
        return h, None

    def member_code_sizes(self) -> list[int]:
        """How many code numbers each member keeps: ``code_sizes``, or ``latent_dim`` for all without a cut."""
        if self.code_mask is None:
            return [self.latent_dim] * self.n_models
        sizes = getattr(self, "code_sizes", None)  # None: a module pickled before the attribute; the mask says
        return list(sizes) if sizes is not None else [int(c) for c in self.code_mask.sum(-1).flatten().tolist()]

    def members(self, z: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """The scoring path of an ensemble: scaled rows [B, d] -> (each member's code [B, code size], the
        reconstructions [E, B, d]), member by member, each layer one Gemm with its bias fused.

        Why not ``forward``'s batched matmul: that broadcast the rows to [E, B, d] and ran a MatMul and an Add per
        layer over all members (4 members, magic.gamma, onnxruntime: the layers 8.2 -> 1.5 ms; SQL scoring of
        code_sizes=(2, 4, 8, 16) x0.67 of before, bench/results/ensemble_speed_msfast_2026-12-04.md).
        Training keeps ``forward`` (its numbers are unchanged). Why the cut as slices: member m's code is zero past
        its size, so the encoder's last-layer columns and the decoder's first-layer rows past it only ever make or
        meet zeros; left out, the same code numbers come out (the mask folded in, exactly), and the neighbour term
        takes distances over the numbers kept (``ScoringGraph.knn_distance``).
        """
        enc = [m for m in self.encoder if isinstance(m, EnsembleLinear)]
        dec = [m for m in self.decoder if isinstance(m, EnsembleLinear)]
        codes, recons = [], []
        for m, size in enumerate(self.member_code_sizes()):
            h = z
            for i, layer in enumerate(enc):
                w, b = layer.weight[m], layer.bias[m, 0]
                if i == len(enc) - 1:  # also drops a VAE's log-variance columns: it scores with the mean
                    w, b = w[:, :size], b[:size]
                h = torch.addmm(b, h, w)
                if i < len(enc) - 1:
                    h = torch.relu(h)
            r = h
            for i, layer in enumerate(dec):
                w = layer.weight[m] if i else layer.weight[m, :size]
                r = torch.addmm(layer.bias[m, 0], r, w)
                if i < len(dec) - 1:
                    r = torch.relu(r)
            codes.append(h)
            recons.append(r)
        return codes, torch.stack(recons)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Scaled rows [B, d] (or per-member [E, B, d]) -> (latent [E, B, k], reconstruction [E, B, d]).

        Deterministic: a VAE scores with its latent mean, so a row always gets the same score.
        """
        h, _ = self.encode(z)
        recon = self.decoder(h)
        if h.dim() == 2:  # a single member ran on [B, d] (two-dimensional ops export faster)
            return h.unsqueeze(0), recon.unsqueeze(0)
        return h, recon


def _row_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum over the last axis, as a product with a vector of ones (a MatMul in the graph).

    Why not ``t.sum(-1)``: onnxruntime's ReduceSum adds a row's values in an order that depends on where the row
    starts in memory (its alignment), so a row of a width not a multiple of 4 got another score, in the last float32
    digits, when the rows before it in its run changed (a point lookup, a WHERE, a score table against the live
    score: 289 of 656 rows at 6 columns). The MatMul's order is the same wherever the row lies. Why a [d, 1] matrix
    and its one column, not a vector: onnxruntime's MatMul by a vector took 290 us per 2048 rows, by the matrix 10-20.
    Why that column is taken with a sum over its axis of one, not ``[..., 0]``: the exporter writes that as a Gather
    on the last axis, which onnxruntime runs element by element (bench/neighbour_graph.py)."""
    width = t.shape[-1]
    # one value, or rows of whole 16-byte vectors, which start alike: ReduceSum is exact here, and the faster
    if width == 1 or width % 4 == 0:
        return t.sum(-1)
    return torch.matmul(t, t.new_ones(width, 1)).sum(-1)


def _sq_norm(t: torch.Tensor) -> torch.Tensor:
    """Sum of squares over the last axis (torch only: ``neighbour_rounding``'s bound)."""
    return (t * t).sum(-1)


def _members_mean(t: torch.Tensor) -> torch.Tensor:
    """Mean over the ensemble axis; a plain squeeze for one member (no reduction in the graph)."""
    return t[0] if t.shape[0] == 1 else t.mean(0)


class ScoringGraph(nn.Module):
    """Raw features -> (score, per-feature error).

    score = sqrt(reconstruction error, each column's weighted by its typical size: see trainer._reconstruction_scale)
          + latent-neighbour distance (to the nearest k-means centroid of the training codes, or averaged
            over groups of sampled training codes; see ``TrainParams.bank``) / its training median
          + range_weight x how far (in robust units) the row lies outside the training range.

    Each term is averaged over the ensemble. The reconstruction term sees rows that break the joint law of
    the columns; the latent-neighbour term sees rows in sparse regions the decoder still reconstructs well;
    the range term sees extreme-but-proportional rows (an autoencoder that learned "amount rises with count"
    reconstructs them well). ``feature_error`` holds each column's part of the reconstruction and range
    terms, for ``anomaly_explain``.

    Its Python code branches on shapes and attributes only, never on a weight's value: the exported file of one
    structure is then the same but for the weights, which ``exporttemplates`` relies on to skip the exporter.
    """

    # Buffers (register_buffer), declared so that type checkers see tensors rather than Module.__getattr__'s union.
    range_neg_mid: torch.Tensor
    range_neg_half: torch.Tensor
    eye: torch.Tensor  # only when the rows are narrow
    code_neg_center: torch.Tensor
    bank: torch.Tensor
    bank_sq: torch.Tensor
    rec_scale: torch.Tensor
    knn_scale: torch.Tensor
    knn_eps: torch.Tensor
    rec_weight: torch.Tensor
    rec_diag: torch.Tensor | None
    knn_weight: torch.Tensor

    def __init__(
        self,
        specs: Sequence[FeatureSpec],
        ae: EnsembleAutoEncoder,
        *,
        bank: torch.Tensor,
        knn_k: int,
        rec_scale: torch.Tensor,
        knn_scale: torch.Tensor,
        knn_eps: torch.Tensor,
        range_weight: float,
        bank_groups: int = 1,
    ) -> None:
        super().__init__()
        self.pre = Preprocess(specs)
        self.ae = ae
        self.knn_k = int(knn_k)
        self.bank_groups = int(bank_groups)
        self.range_weight = float(range_weight)
        lo = torch.tensor([s.lo for s in specs], dtype=torch.float32)
        hi = torch.tensor([s.hi for s in specs], dtype=torch.float32)
        # The training range [lo, hi] as minus its middle and minus its half-width (added, not subtracted: see
        # _column_affine).
        self.register_buffer("range_neg_mid", -(lo + hi) / 2)
        self.register_buffer("range_neg_half", -(hi - lo) / 2)
        if self.pre.narrow:
            self.register_buffer("eye", torch.eye(len(specs)))
        # Distances are taken from the bank's mean: |a|^2 - 2ab + |b|^2 loses float32 precision in proportion to
        # |a|^2, so on codes far from the origin (data of near-identical rows) torch and onnxruntime disagreed.
        center = bank.mean(dim=1, keepdim=True)  # [E, 1, k]
        bank = bank - center
        self.register_buffer("code_neg_center", -center.detach().clone())
        self.register_buffer("bank", bank.detach().clone())  # [E, n_bank, k]
        self.register_buffer("bank_sq", (bank * bank).sum(-1).unsqueeze(1).detach().clone())  # [E, 1, n_bank]
        self.register_buffer("rec_scale", rec_scale.detach().clone())  # [E, 1], or [E, 1, d] per column
        self.register_buffer("knn_scale", knn_scale.detach().clone())  # [E, 1]
        self.register_buffer("knn_eps", knn_eps.detach().clone())  # [E, 1, 1]
        # Multipliers, not divisors: one Mul per term in the exported graph.
        n_features = len(specs)
        weight = 1.0 / (rec_scale * n_features)
        self.register_buffer("rec_weight", (weight if weight.dim() == 3 else weight.unsqueeze(-1)).detach().clone())
        # Per-column weights of one member on narrow rows: a Gemm with their diagonal, as for the scaling (a
        # broadcast Mul by a [d] vector loops over rows in onnxruntime: 2048 rows, d=2, about 15 us more).
        per_column = self.pre.narrow and weight.dim() == 3 and weight.shape[0] == 1
        self.register_buffer("rec_diag", torch.diag(weight[0, 0]).detach().clone() if per_column else None)
        self.register_buffer("knn_weight", (1.0 / knn_scale).detach().clone())  # [E, 1]

    def row_bytes(self) -> int:
        """Bytes per row of the largest intermediate of a torch pass (``forward``, ``terms``): the bank distances
        [E, rows, bank], topk's selection, or the widest layer."""
        bank = int(self.bank.shape[1]) if self.knn_k > 0 else 0  # no distances when the term is off
        return row_bytes(self.ae.n_models, [*self.ae.widths(), self.pre.n_features], bank_size=bank,
                         bank_groups=self.bank_groups, knn_k=self.knn_k if self.knn_k > 1 else 0)

    def chunk_rows(self, budget: int | None = None) -> int:
        """Rows one torch pass may take so that its largest intermediate stays under ``budget`` bytes (default
        chunks.CHUNK_BYTES)."""
        return rows_per_chunk(self.row_bytes(), budget)

    def neighbour_rounding(self, x: torch.Tensor) -> torch.Tensor:
        """An upper bound on how far float32 rounding may move each raw row's neighbour term [B] (0 when it is off).

        Why: the term is sqrt(|h|^2 - 2 h.b + |b|^2 + eps) (``knn_distance``). Where a code lies far from the bank's
        mean yet near a bank code b (a cluster of training rows far from the others: |h|^2 of thousands), that is a
        small difference of large values: each of its float32 operations rounds by up to 2^-24 of |h|^2 + |b|^2
        (|b| at most |h| plus the distance D), about 2 k of them for k code numbers, and the square root turns an
        error e under it into at most e / (2 D). torch and onnxruntime add in other orders, so each lands elsewhere
        within that bound: the parity check allows it on such rows, where an exporter's mistake is off on every row.
        On a row near the bank's mean the bound is far below the check's own tolerance.
        """
        if self.knn_k == 0:
            return x.new_zeros(len(x))
        h, _ = self.codes(self.pre(x))
        dist = self.knn_distance(h)  # [E, B], at least sqrt(eps)
        members = list(h) if isinstance(h, torch.Tensor) else h
        norm2 = torch.stack([_sq_norm(c + self.code_neg_center[m, :, : c.shape[-1]]) for m, c in enumerate(members)])
        width = torch.tensor([[float(c.shape[-1])] for c in members])  # [E, 1]: each member's code numbers
        size = norm2 + (torch.sqrt(norm2) + dist) ** 2
        rounding = 2 * width * 2.0**-24 * size / (2 * dist)
        return _members_mean(rounding * self.knn_weight)

    def codes(self, z: torch.Tensor) -> tuple[torch.Tensor | list[torch.Tensor], torch.Tensor]:
        """Scaled rows [B, d] -> (the codes, the reconstructions [E, B, d]) as scoring takes them: through
        ``EnsembleAutoEncoder.forward`` (codes [E, B, k]) for one member (its graph as before) and for an uncut
        ensemble scored in torch; else as a list of each member's [B, code size] (``EnsembleAutoEncoder.members``:
        a Gemm per member and layer, codes cut): an ensemble's exported graph, and a cut one's torch scoring.

        Why torch keeps the batched layers of an uncut ensemble: per-member Gemms there were only x0.71 of its
        layers' time (4 members, magic.gamma, one thread: 27 -> 19.5 ms), and torch's batched matmul rounds
        otherwise than its Gemm on some row counts (last float32 bits), so its scores would no longer be the bytes
        they were (tests/test_model.py pins them); onnxruntime's scores differ from torch's within the parity check
        either way."""
        if self.ae.n_models == 1 or (self.ae.code_mask is None and not torch.onnx.is_in_onnx_export()):
            return self.ae(z)
        return self.ae.members(z)

    def knn_distance(self, h: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
        """Latent-neighbour distance of each code (all members' [E, B, k], or a list of each member's [B, k_m]
        with k_m its code size): [E, B].

        The bank is ``bank_groups`` groups of codes; the term is the mean distance to the ``knn_k`` nearest
        codes of each group, averaged over the groups. With k = 1 the nearest code is a ReduceMin, many
        times cheaper in onnxruntime than a TopK; averaging over groups (each a different random sample of
        the training rows) smooths it the way a larger k does.

        Why ``knn_eps``: |a|^2 - 2ab + |b|^2 loses precision near zero distance (duplicate rows), and the
        square root magnifies that; a small floor keeps torch and onnxruntime scores equal.
        """
        if not isinstance(h, torch.Tensor):
            sizes = self.ae.member_code_sizes()  # ints, not h.shape: the exported graph's slices stay constants
            return torch.stack([self._member_distance(m, c, sizes[m]) for m, c in enumerate(h)])
        h = h + self.code_neg_center
        # |h|^2 is the same for every bank code, so it is added after the selection, to [E, B, groups, k]
        # values rather than to all [E, B, bank] distances.
        if h.shape[0] == 1:  # one Gemm: |b|^2 - 2 h.b
            part = torch.addmm(self.bank_sq[0], h[0], self.bank[0].t(), alpha=-2.0).unsqueeze(0)
            near = self._nearest(part.reshape(part.shape[0], -1, self.bank_groups, self.bank.shape[1] // self.bank_groups))
        else:
            # Why one Gemm and selection per member, not a batched MatMul over [E, B, bank]: torch then allocated
            # that whole product and two temporaries of its size per pass (beyond malloc's reuse: fresh pages each
            # time), and onnxruntime ran a Mul and a Sub over it; only the [B, groups, k] selections are stacked.
            # 4 members, ADBench magic.gamma (19,020 rows), one thread: this term 0.10 -> 0.02 s in torch, the whole
            # scoring x0.35 CPU time in torch and x0.82 in onnxruntime (bench/ensemble_speed.py).
            near = torch.stack([
                self._nearest(torch.addmm(self.bank_sq[m], h[m], self.bank[m].t(), alpha=-2.0)
                              .reshape(-1, self.bank_groups, self.bank.shape[1] // self.bank_groups))
                for m in range(h.shape[0])])
        dist = self._group_distances(near, h, self.knn_eps)
        # the mean over groups and k, as _row_sum says why; two sums, not one over a Reshape, which onnxruntime
        # cannot size for a run of no rows ({1, 0, -1})
        return self._groups_mean(dist)

    def _member_distance(self, m: int, h: torch.Tensor, width: int) -> torch.Tensor:
        """Member m's latent-neighbour distance [B] of its codes [B, k_m]: over its first k_m code numbers, where a
        code cut to k_m (``code_sizes``) and its bank (codes of training rows, cut alike, and their mean) are zero
        past them, so the numbers left out add exactly 0. |b|^2 (``bank_sq``) is over all numbers, the same sum."""
        h = h + self.code_neg_center[m, :, :width]
        part = torch.addmm(self.bank_sq[m], h, self.bank[m, :, :width].t(), alpha=-2.0)
        near = self._nearest(part.reshape(-1, self.bank_groups, self.bank.shape[1] // self.bank_groups))
        return self._groups_mean(self._group_distances(near, h, self.knn_eps[m]))

    def _nearest(self, part: torch.Tensor) -> torch.Tensor:
        """The ``knn_k`` smallest of each group's |b|^2 - 2 h.b [..., groups, per group]: [..., groups, knn_k], and
        for k = 1 the smallest [..., groups]. With k = 1 a ReduceMin, many times cheaper in onnxruntime than a TopK;
        why without its axis of one: taking that axis away again (a Gather, as ``x[..., 0]`` exports) was a sixth of
        the whole graph's time in onnxruntime at d=2 (an element-by-element copy)."""
        if self.knn_k == 1:
            return torch.amin(part, dim=-1)
        return torch.topk(part, self.knn_k, dim=-1, largest=False).values

    def _group_distances(self, near: torch.Tensor, h: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Distances from ``_nearest``'s |b|^2 - 2 h.b (codes ``h`` [..., k], centred): |h|^2 added, then the
        square root with the floor ``eps`` (a member's [1, 1] or all members' [E, 1, 1]); the shape of ``near``."""
        sq = _row_sum(h * h)
        if self.knn_k == 1:  # near [..., groups]
            return torch.sqrt(torch.clamp(near + sq[..., None], min=0.0) + eps)
        return torch.sqrt(torch.clamp(near + sq[..., None, None], min=0.0) + eps.unsqueeze(-1))

    def _groups_mean(self, dist: torch.Tensor) -> torch.Tensor:
        """The mean of ``_group_distances`` over the groups (and the k nearest of each) [...]."""
        if self.knn_k == 1:
            return _row_sum(dist) / dist.shape[-1]
        return _row_sum(_row_sum(dist)) / (dist.shape[-1] * dist.shape[-2])

    def terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The score's parts for raw rows ``x``: ``reconstruction``, ``neighbour`` and ``range`` [B] (a term that
        is off is absent), and ``feature_error`` [B, d] (each column's part of the reconstruction and range terms).

        The score is the sum of the three; ``forward`` (the exported graph) adds them in this order.
        """
        z = self.pre(x)
        h, recon = self.codes(z)
        diff = recon - z
        # Why diff * diff: exported as a Mul, about twice as fast in onnxruntime as the Pow of ``** 2``.
        if self.rec_diag is not None:
            per_feature = torch.mm((diff * diff)[0], self.rec_diag)  # [B, d]
        else:
            per_feature = _members_mean(diff * diff * self.rec_weight)  # [B, d]
        out = {"reconstruction": torch.sqrt(_row_sum(per_feature))}
        if self.knn_k > 0:
            out["neighbour"] = _members_mean(self.knn_distance(h) * self.knn_weight)
        if self.range_weight > 0:
            # relu(z - hi) + relu(lo - z) as relu(|z - mid| - half): one per-column operand less (lo <= hi).
            # With the identity Gemm of narrow rows this is exact for the finite, clipped z.
            eye = self.eye if self.pre.narrow else None
            excess = torch.relu(_column_affine(torch.abs(_column_affine(z, self.range_neg_mid, matrix=eye)),
                                               self.range_neg_half, matrix=eye))
            if self.range_weight != 1.0:
                excess = self.range_weight * excess
            out["range"] = _row_sum(excess)
            per_feature = per_feature + excess
        out["feature_error"] = per_feature
        return out

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = self.terms(x)
        score = t["reconstruction"]
        for name in ("neighbour", "range"):
            if name in t:
                score = score + t[name]
        return score, t["feature_error"]
