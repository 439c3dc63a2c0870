"""The stored metrics the scoring side reads as numbers, checked where a model is read (a row, an imported file).

Why: they were read as numbers only once every model of the database was loaded for the SQL functions, so one
row edited by hand (or one imported file) whose ``score_quantiles`` held a word stopped every command on every model,
``list`` included, with a ValueError traceback; checked with the rest of a model's metadata, only that model is
refused, named, with the fix.
"""

from __future__ import annotations

import math
from typing import Any

from .scoretail import TOP
from .trainscores import RANKS, STD


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _numbers(value: object) -> bool:
    return isinstance(value, list) and all(_number(v) for v in value)


def check(metrics: dict[str, Any]) -> None:
    """Raise ValueError naming the first metric the scoring side could not read as it needs."""
    q = metrics.get("score_quantiles")
    if q is not None and not (_numbers(q) and all(a <= b for a, b in zip(q, q[1:], strict=False))):
        raise ValueError("metrics.score_quantiles must be a list of finite numbers in ascending order")
    for key in ("train_score_mean", STD):
        if metrics.get(key) is not None and not _number(metrics[key]):
            raise ValueError(f"metrics.{key} must be a finite number")
    ranks = metrics.get(RANKS)
    if ranks and not (isinstance(ranks, dict) and _numbers(ranks.get("scores"))
                      and type(ranks.get("first")) is int and ranks["first"] >= 0):
        raise ValueError(f"metrics.{RANKS} must hold 'scores' (a list of numbers) and 'first' (a whole number >= 0)")
    top = metrics.get(TOP)
    if top and not (isinstance(top, dict) and _numbers(top.get("scores"))
                    and all(a <= b for a, b in zip(top["scores"], top["scores"][1:], strict=False))
                    and type(top.get("first")) is int and top["first"] >= 0):
        raise ValueError(f"metrics.{TOP} must hold 'scores' (a list of numbers in ascending order) and 'first' (a "
                         "whole number >= 0)")
