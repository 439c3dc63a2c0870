"""Torch modules. Imported only by the training side (train, export), never by scoring.

``ScoringGraph`` is what gets exported: raw feature values in, preprocessing folded in,
``score`` [N] and ``feature_error`` [N, d] out.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .features import CLIP, FeatureSpec


class Preprocess(nn.Module):
    """NULL/NaN fill, signed log where chosen, robust scaling, clipping: the graph form of features.transform."""

    def __init__(self, specs: Sequence[FeatureSpec]) -> None:
        super().__init__()
        self.register_buffer("fill", torch.tensor([s.fill for s in specs], dtype=torch.float32))
        self.register_buffer("slog", torch.tensor([s.transform == "slog" for s in specs], dtype=torch.bool))
        self.register_buffer("center", torch.tensor([s.center for s in specs], dtype=torch.float32))
        self.register_buffer("inv_scale", torch.tensor([1.0 / s.scale for s in specs], dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.where(torch.isnan(x), self.fill, x)
        logged = torch.sign(x) * torch.log1p(torch.abs(x))
        x = torch.where(self.slog, logged, x)
        return torch.clamp((x - self.center) * self.inv_scale, -CLIP, CLIP)


class AutoEncoder(nn.Module):
    """A dense autoencoder on scaled features; ``hidden_dims`` mirrored in the decoder."""

    def __init__(self, n_features: int, hidden_dims: Sequence[int], latent_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        enc: list[nn.Module] = []
        prev = n_features
        for h in hidden_dims:
            enc += [nn.Linear(prev, h), nn.ReLU()]
            if dropout > 0:
                enc.append(nn.Dropout(dropout))
            prev = h
        enc.append(nn.Linear(prev, latent_dim))
        dec: list[nn.Module] = []
        prev = latent_dim
        for h in reversed(list(hidden_dims)):
            dec += [nn.Linear(prev, h), nn.ReLU()]
            prev = h
        dec.append(nn.Linear(prev, n_features))
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(z))


class ScoringGraph(nn.Module):
    """Raw features -> (score, per-feature error).

    The per-feature error is the squared reconstruction error averaged over the ensemble, plus
    ``range_weight`` times the squared distance outside the training range [lo, hi] (scaled units).
    Why the range term: an autoencoder that learned a linear relation between columns reconstructs
    an extreme-but-proportional row well, so reconstruction alone would rank it as normal.
    """

    def __init__(
        self, specs: Sequence[FeatureSpec], models: Sequence[nn.Module], range_weight: float = 1.0
    ) -> None:
        super().__init__()
        self.pre = Preprocess(specs)
        self.models = nn.ModuleList(models)
        self.range_weight = float(range_weight)
        self.register_buffer("lo", torch.tensor([s.lo for s in specs], dtype=torch.float32))
        self.register_buffer("hi", torch.tensor([s.hi for s in specs], dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.pre(x)
        err = torch.zeros_like(z)
        for m in self.models:
            err = err + (m(z) - z) ** 2
        err = err / float(len(self.models))
        if self.range_weight > 0:
            excess = torch.relu(z - self.hi) + torch.relu(self.lo - z)
            err = err + self.range_weight * excess * excess
        return err.mean(dim=1), err
