"""The features to train on instead, when training without ``features=`` met columns it cannot use (constant, or
without a finite value). Never imports torch.

Why: the default takes every numeric column, so such a column stopped a user who had named no feature with "drop it
from features"; the list to give was theirs to rebuild, and the command line's example named the first three
columns, which pasted trained on three of eight measured columns without a word.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .features import _from_item, cli_feature_flags
from .sqltext import sql_names

# Up to this many features are listed to paste; a wider table gets a query leaving the refused columns out.
LISTED = 20


def others(refused: Sequence[str], chosen: Sequence[str]) -> list[str]:
    """The ``chosen`` features (those the default took, ids already left out) but the ``refused`` ones."""
    out = set(refused)
    return [c for c in chosen if c not in out]


def unusable(X: np.ndarray, names: Sequence[str], keep_constant: bool) -> list[str]:
    """The columns of ``X`` (named ``names``) that cannot train: no finite value, or (unless ``keep_constant``) one
    value in every row. Why all of them: the error names the first it met, and a list to paste holding another
    failed again, one column at a time (two empty columns and a constant one: three tries)."""
    out = []
    for j, c in enumerate(names):
        finite = X[:, j][np.isfinite(X[:, j])]
        if finite.size == 0 or not keep_constant and float(finite.min()) == float(finite.max()):
            out.append(c)
    return out


def python_hint(source: str, refused: Sequence[str], chosen: Sequence[str]) -> str:
    """What to pass from Python (and the command line) to train on every other column the default chose."""
    kept = others(refused, chosen)
    if not kept:
        return ""
    lead = "Without features= every numeric column but id-like ones is a feature"
    if len(kept) <= LISTED:
        return f"{lead}; to train on the others: features={kept!r} (CLI: {cli_feature_flags(kept)})."
    query = f"SELECT * EXCLUDE ({sql_names(refused)}) FROM {_from_item(source)}"
    return f"{lead}; to train on the {len(kept)} others, train on the query {query}."
