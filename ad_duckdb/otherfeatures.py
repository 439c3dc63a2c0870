"""The features to train on instead, when training without ``features=`` met columns it cannot use (constant, or
without a finite value). Never imports torch.

Why: the default takes every numeric column, so such a column stopped a user who had named no feature with "drop it
from features"; the list to give was theirs to rebuild, and the command line's example named the first three
columns, which pasted trained on three of eight measured columns without a word.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import notes
from .numberhints import _from_item
from .optionwords import either, features_opt, opt
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
        return f"{lead}; to train on the others: {features_opt(kept)}."
    query = f"SELECT * EXCLUDE ({sql_names(refused)}) FROM {_from_item(source)}"
    return f"{lead}; to train on the {len(kept)} others, train on the query {query}."


def drop_unusable(X: np.ndarray, columns: Sequence[str], keep: list[int], keep_constant: bool, *, model: str,
             source: str, lossy: Sequence[str] = ()) -> list[int]:
    """``keep`` (indices of ``columns``, the default's features so far) less those `unusable` finds, with a note
    naming each and why; ``keep`` as it is when every one is unusable (training's error then names them all).

    Why not an error: the user named no feature, and a schema-version column (one value in every row) or an empty
    one stopped the default with "drop them from features"; PyOD and scikit-learn's scalers take such a column
    without failing. Named in features= it still fails: the user asked for that column."""
    names = [columns[j] for j in keep]
    # ``lossy``: exact columns whose one value may be digits a DOUBLE lost (a HUGEINT serial near 1e20): training's
    # own error says that, where "5 in every row" would not be true
    bad = set(unusable(X[:, keep], names, keep_constant)) - set(lossy)
    if not bad or len(bad) == len(keep):
        return keep
    why = []
    for j in keep:
        if columns[j] in bad:
            finite = X[:, j][np.isfinite(X[:, j])]
            why.append(f"{columns[j]!r} (no value: all NULL, NaN or infinite)" if finite.size == 0 else
                       f"{columns[j]!r} ({float(finite[0]):.10g} in every row)")
    kept = [j for j in keep if columns[j] not in bad]
    constant = [columns[j] for j in keep if columns[j] in bad and np.isfinite(X[:, j]).any()]
    some = len(bad) > 1
    anyway = ""
    if constant:
        every = [*(columns[j] for j in kept), *constant]
        # every feature or none: a list cut to its first few pasted trained on those alone without a word
        listed = features_opt(every) if len(every) <= LISTED else either("features=[...]", "-f COLUMN for each,")
        keeping = either(f"with {opt('constant_columns', 'keep')} ({listed})", f"({listed} {opt('constant_columns', 'keep')})")
        anyway = (" To train on a constant column anyway (any other value then scores as outside the training range), "
                  f"name it among the features {keeping}.")
    shown = [columns[j] for j in kept]
    more = f" and {len(shown) - LISTED} more" if len(shown) > LISTED else ""
    notes.warn(
        f"Model {model!r}: no features given, so {', '.join(why)} of {source!r} {'are' if some else 'is'} left out: "
        f"{'they tell' if some else 'it tells'} no training row from another. Features: "
        f"{', '.join(shown[:LISTED])}{more}.{anyway}"
    )
    return kept
