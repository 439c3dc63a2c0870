"""Adam, as ``torch.optim.Adam`` updates CPU tensors, without ``torch.optim``.

Why: constructing any ``torch.optim`` optimizer imports ``torch._dynamo`` (its methods are wrapped in
``torch._disable_dynamo``, which imports the compiler on first call), about 3 s of every training run's start (10 s on
a busy machine), for a compiler training never uses. The arithmetic here is torch's single-tensor Adam (the path torch
takes for CPU tensors: no foreach or fused kernels there), operation for operation, so a model trains to the same
bits (tests/test_ops16_adam.py checks it against ``torch.optim.Adam``; the default model's digest is pinned too).

Why each operation over all parameters at once (``torch._foreach_*``): on CPU such a call runs the one-tensor
operation on each tensor in turn (the same kernel, so the same bits), without a Python round trip per tensor and
operation; a small network's step spent most of its time in those round trips (12 parameters: the step took a third
of a training step's time, 0.55 ms of 1.5).
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
        # by parameter: steps taken, exp_avg, exp_avg_sq. The count as a float: the value torch reads from its step
        # tensor (_get_value: .item()), exact at any count a training reaches
        self.state: dict[int, tuple[float, Any, Any]] = {}

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None  # torch's default, set_to_none=True

    def step(self) -> None:
        import torch

        # the parameters with a gradient, grouped by their step count (one group unless some had no gradient at
        # some step): a group's bias corrections are one number
        groups: dict[float, list[int]] = {}
        for i, param in enumerate(self.params):
            if param.grad is None:
                continue
            if i not in self.state:  # made at a parameter's first step, as torch makes it (_init_group)
                self.state[i] = (0.0, torch.zeros_like(param, memory_format=torch.preserve_format),
                                 torch.zeros_like(param, memory_format=torch.preserve_format))
            count, exp_avg, exp_avg_sq = self.state[i]
            self.state[i] = (count + 1, exp_avg, exp_avg_sq)
            groups.setdefault(count + 1, []).append(i)
        beta1, beta2 = self.betas
        with torch.no_grad():
            for step, members in groups.items():
                params = [self.params[i] for i in members]
                grads = [p.grad for p in params]
                exp_avgs = [self.state[i][1] for i in members]
                exp_avg_sqs = [self.state[i][2] for i in members]
                if self.weight_decay != 0:
                    grads = torch._foreach_add(grads, params, alpha=self.weight_decay)
                torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
                torch._foreach_mul_(exp_avg_sqs, beta2)
                torch._foreach_addcmul_(exp_avg_sqs, grads, grads, value=1 - beta2)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                step_size = self.lr / bias_correction1
                denom = torch._foreach_sqrt(exp_avg_sqs)
                torch._foreach_div_(denom, bias_correction2**0.5)
                torch._foreach_add_(denom, self.eps)
                torch._foreach_addcdiv_(params, exp_avgs, denom, value=-step_size)
