"""The note on a feature NULL (or NaN) in most of the training rows: the model learns its range from the few rows
that have a value, so rows where it has one again score by those few. Never imports torch.

Why: a month whose refunds feed broke (NULL in 90% of the rows) trained a version that the next month, the feed
fixed, flagged 9% of the rows with, where the version before flagged 1%; training had said only how many values it
filled with the median, which read as handled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from . import notes
from .numbertext import share_text
from .optionwords import FIT, SURFACE, features_opt, opt
from .sqltext import sql_name

# Noted from this share of the rows up: a column NULL in a third of them (a field filled only for some merchants)
# still has thousands of values to learn from, and is the user's choice; past half, the median fill is the column.
MOSTLY = 0.5
# The types that hold NaN, which `IS NOT NULL` keeps: a CSV's 'nan' reads as a DOUBLE NaN
_NAN_TYPES = re.compile(r"(FLOAT|FLOAT4|FLOAT8|REAL|DOUBLE)", re.IGNORECASE)


def _has_value(col: str, sql_type: str | None) -> str:
    """The SQL condition of a row whose ``col`` has a value: not NULL, and for a floating type not NaN either. Why
    the type: a CSV whose refunds read 'nan' was told where='refunds IS NOT NULL', and its retrain said the same."""
    has = f"{sql_name(col)} IS NOT NULL"
    return f"{has} AND NOT isnan({sql_name(col)})" if sql_type and _NAN_TYPES.fullmatch(sql_type.strip()) else has


def flag_split(X: np.ndarray, features: Sequence[str], scores: np.ndarray,
               contamination: float) -> dict[str, tuple[int, int, int, int]]:
    """For each feature missing (NaN) in more than MOSTLY of the training rows ``X`` (columns ``features``, scored
    ``scores`` in the same order): (rows with a value, of them flagged, rows without, of them flagged) by the default
    threshold, the ``1 - contamination`` quantile of ``scores`` as ``thresholds.from_training_scores`` takes it.

    Why: the model learns such a column mostly as its median fill, so a row with a real value can read as odd for
    having one; the rows that have it then take the flags meant for odd rows, which the note says in figures."""
    n = len(scores)
    if n == 0 or X.shape[0] != n:
        return {}
    flagged = scores > float(np.quantile(scores, 1.0 - contamination))
    out: dict[str, tuple[int, int, int, int]] = {}
    for j, c in enumerate(features):
        has = ~np.isnan(X[:, j])
        n_has = int(has.sum())
        if n - n_has > MOSTLY * n:
            out[c] = (n_has, int(flagged[has].sum()), n - n_has, int(flagged[~has].sum()))
    return out


def lopsided(split: tuple[int, int, int, int]) -> bool:
    """Whether the rows with a value are flagged at over twice the rate of the others (and at least 3 of them)."""
    n_has, f_has, n_not, f_not = split
    return n_has > 0 and f_has >= 3 and f_has / n_has > 2 * (f_not / n_not if n_not else 0.0)


def _split_text(split: tuple[int, int, int, int]) -> str:
    n_has, f_has, n_not, f_not = split
    return (f"Here already, the {n_has} training rows with a value hold {f_has} of the {f_has + f_not} rows the "
            f"default threshold flags ({share_text(f_has / n_has)} of them, against "
            f"{share_text(f_not / n_not if n_not else 0.0)} of the others): the model learned the column mostly as "
            "its median fill, so a real value reads as odd, whether or not its values are missing by mistake. ")


def warn_mostly_null(name: str, features: Sequence[str], filled: Mapping[str, int], rows: int,
                     where: str | None, types: Mapping[str, str] | None = None,
                     flags: Mapping[str, tuple[int, int, int, int]] | None = None) -> None:
    """Warn of the features NULL or NaN in more than MOSTLY of the ``rows`` training read (``filled``: the count of
    each feature's values filled), with the fixes: leave it out, train on the rows that have it, or fill it upstream.
    ``types``: each feature's SQL type, for the NaN a floating one may hold.
    ``flags``: ``flag_split``'s figures, said for the column named when its rows with a value take the flags.
    """
    if rows <= 0:
        return
    heavy = [(c, n) for c in features if (n := filled.get(c, 0)) > MOSTLY * rows]
    if not heavy:
        return
    col, n = max(heavy, key=lambda cn: cn[1])
    others = [c for c in features if c not in {h for h, _ in heavy}]
    shown = f"column {col!r}" + (f" (and {', '.join(repr(h) for h, _ in heavy if h != col)})"
                                 if len(heavy) > 1 else "")
    has = " AND ".join(_has_value(h, (types or {}).get(h)) for h, _ in heavy)
    rows_with = f"({where}) AND {has}" if where else has
    leave = f"leave it out ({features_opt(others)}), " if others else ""
    have = f"train on the rows that have it ({opt('where', rows_with)})"
    who = f"Model {name!r}: "
    if SURFACE.get() == FIT:  # a frame AutoEncoderDetector.fit trains through a table of its own: said of X
        gone = [h for h, _ in heavy]
        leave = f"drop it from X (X.drop(columns={gone!r})), " if others else ""
        have = "fit on the rows that have it (X[" + " & ".join(f"X[{h!r}].notna()" for h in gone) + "])"
        who = "AutoEncoderDetector.fit: "
    split = (flags or {}).get(col)
    said = _split_text(split) if split is not None and lopsided(split) else ""
    fixes = "Fix it: " if said else "If its values are missing by mistake, "
    notes.warn(
        f"{who}{shown} is NULL or NaN in {share_text(n / rows)} of the {rows} training rows: the model "
        f"learns its range from the {rows - n} rows with a value, and scores a NULL as a typical value, so rows where "
        f"it has a value again (a feed fixed upstream) may score high on it. {said}{fixes}"
        f"{leave}{have}, or fill it upstream."
    )
