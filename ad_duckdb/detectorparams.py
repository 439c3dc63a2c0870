"""The detector's parameters as given: unknown names refused (with the name this detector uses for scikit-learn's and
PyOD's, or the close match of a typo), numpy numbers as Python ones."""

from __future__ import annotations

from collections.abc import Sequence
from difflib import get_close_matches
from typing import Any

import numpy as np

from .exceptions import BadInputError
from .trainer import TrainParams

# scikit-learn's and PyOD's names for parameters this detector has under another name: their users type them first
_OTHER_NAMES = {"random_state": "seed", "epoch_num": "epochs", "hidden_neuron_list": "hidden_dims",
                "learning_rate": "lr", "max_iter": "epochs", "n_estimators": "n_models", "verbose": "progress"}


def _name_hint(name: str, other_names: dict[str, str], valid: Sequence[str]) -> str | None:
    if name in other_names:
        return f"{name}= is {other_names[name]}= here"
    close = get_close_matches(name, valid, 1, 0.75)  # a typo: epoch= for epochs=
    return f"did you mean {close[0]}=?" if close else None


def check_names(params: dict[str, Any], keywords: Sequence[str] = (), other_names: dict[str, str] | None = None
                ) -> None:
    """Refuse parameters TrainParams does not have. ``keywords``: the caller's own (ad_duckdb.train's features=,
    where=, ...), listed among the valid ones; ``other_names``: names users type for them."""
    unknown = set(params) - set(TrainParams.__dataclass_fields__)
    if unknown:
        known = ", ".join(sorted({*TrainParams.__dataclass_fields__, *keywords}))
        names = {**_OTHER_NAMES, **(other_names or {})}
        valid = [*TrainParams.__dataclass_fields__, *keywords]
        hints = (_name_hint(k, names, valid) for k in sorted(unknown))
        alias = ", ".join(h for h in hints if h)
        raise BadInputError(f"Unknown parameter(s) {sorted(unknown)}{f' ({alias})' if alias else ''}; "
                            f"valid ones are: {known}.")


def _plain(value: Any) -> Any:
    """A numpy number as the Python one it is, also inside a list, tuple or 1-D array (``hidden_dims``). Why: a grid
    built with numpy (``np.arange(2, 6)``, ``rng.integers``) gives ``np.int64`` values, which the checks refused as
    "must be an int" and JSON cannot store; scikit-learn's own checks take them."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return tuple(value.tolist())
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    return value
