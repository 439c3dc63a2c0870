"""Adam, as ``torch.optim.Adam`` updates CPU tensors, without ``torch.optim``.

Why: constructing any ``torch.optim`` optimizer imports ``torch._dynamo`` (its methods are wrapped in
``torch._disable_dynamo``, which imports the compiler on first call), about 3 s of every training run's start (10 s on
a busy machine), for a compiler training never uses. The arithmetic here is torch's single-tensor Adam (the path torch
takes for CPU tensors: no foreach or fused kernels there), operation for operation, so a model trains to the same
bits (tests/test_ops16_adam.py checks it against ``torch.optim.Adam``; the default model's digest is pinned too).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class Adam:
    """``torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)`` (betas 0.9, 0.999; eps 1e-8; no amsgrad), for
    ``zero_grad()`` and ``step()``."""

    def __init__(self, params: Iterable[Any], lr: float, weight_decay: float = 0.0,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.params = list(params)
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self.state: dict[int, tuple[Any, Any, Any]] = {}  # by parameter: step, exp_avg, exp_avg_sq

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None  # torch's default, set_to_none=True

    def step(self) -> None:
        import torch

        beta1, beta2 = self.betas
        with torch.no_grad():
            for i, param in enumerate(self.params):
                grad = param.grad
                if grad is None:
                    continue
                if i not in self.state:  # made at a parameter's first step, as torch makes it (_init_group)
                    wide = torch.get_default_dtype() == torch.float64  # torch's _get_scalar_dtype
                    self.state[i] = (torch.tensor(0.0, dtype=torch.float64 if wide else torch.float32),
                                     torch.zeros_like(param, memory_format=torch.preserve_format),
                                     torch.zeros_like(param, memory_format=torch.preserve_format))
                step_t, exp_avg, exp_avg_sq = self.state[i]
                step_t += 1
                if self.weight_decay != 0:
                    grad = grad.add(param, alpha=self.weight_decay)
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                step = step_t.item()
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                step_size = self.lr / bias_correction1
                denom = (exp_avg_sq.sqrt() / bias_correction2**0.5).add_(self.eps)
                param.addcdiv_(exp_avg, denom, value=-step_size)
