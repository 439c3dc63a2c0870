"""Sample weights of labelled rows (``evaluate(weight=)``, ``set_threshold(weight=)``): a row of weight w counts as
w rows, as scikit-learn's metrics count it with ``sample_weight``.

Why: labelled rows are often a sample of the traffic, every fraud but 1 in 50 normal rows, or an audit sample with
inclusion weights; unweighted, their precision, false-alarm rate, AUC-PR and the cut of a precision goal describe the
sample, not the traffic. The intervals take Kish's effective sample size (sum w)^2 / sum w^2 of the rows they are
a share of: 50 normal rows of weight 50 are 2,500 rows' worth of false-alarm rate, but the certainty of 50."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

from . import missstrata, optionwords, pysource, smallpaired
from .closenames import did_you_mean
from .exceptions import BadInputError, SourceNotFoundError
from .features import is_numeric_type
from .labelhints import _given_label
from .sampled import NORMAL
from .sqltext import shell_word, sql_name, sql_names, typed_from
from .store import Threshold
from .thresholds import Z95, check_no_nan, wilson

# the words the intervals' text and JSON say (``Report.weights['intervals']``)
INTERVALS = ("Kish's effective sample size (sum w)^2 / sum w^2 of each class stands for its row count (recall's: of "
             "its caught and its missed anomalies apart); precision's interval comes from those of recall and "
             "false-alarm rate, or where the flagged anomalies and normal rows weigh alike, is Wilson's of the flagged "
             "rows; AUC-ROC's is joined, where the anomalies' weights differ across the score (an audit "
             "sample), with the areas under the ends of recall's interval at each cut")


def effective(w: Any) -> float:
    """Kish's effective sample size of rows of weights ``w``: (sum w)^2 / sum w^2; 0 without rows."""
    w = np.asarray(w, dtype=np.float64)
    sq = float(np.sum(w * w))
    return float(np.sum(w)) ** 2 / sq if sq > 0 else 0.0


def check_column(ref: str, source: str, weight: Any, label: str, cols: list[tuple[str, str]]) -> str:
    """The weight column as ``source`` names it, refused by name: not a name, missing (with the near names), the
    label itself, or not numeric (with the cast that makes it one)."""
    if not isinstance(weight, str) or not weight:
        raise BadInputError(f"Model {ref!r}: {optionwords.opt('weight')} must name the column of {source!r} holding "
                            f"each row's weight (how many rows it stands for, e.g. 50 for normal rows sampled 1 in 50); "
                            f"got {_given_label(weight, 'weight')}.")
    types = {c.lower(): (c, t) for c, t in cols}
    if weight.lower() not in types:
        raise SourceNotFoundError(f"Model {ref!r}: weight column {weight!r} is not in {source!r}; its columns: "
                                  f"{sql_names(c for c, _ in cols)}.{did_you_mean(weight, [c for c, _ in cols])}")
    if weight.lower() == label.lower():
        raise BadInputError(f"Model {ref!r}: weight column {weight!r} is the label column; {optionwords.opt('weight')} "
                            "names another column, holding how many rows each labelled row stands for.")
    name, kind = types[weight.lower()]
    if not is_numeric_type(kind):
        col = sql_name(name)
        raise BadInputError(f"Model {ref!r}: weight column {name!r} of {source!r} is {kind}, not a number; cast it in a "
                            f"query and pass that as the source, e.g. {_query(f'TRY_CAST({col} AS DOUBLE)', col, source)} "
                            f"with the same {optionwords.opt('weight', name)}.")
    return name


def _query(expr: str, col: str, source: str) -> str:
    """The query of ``source`` with column ``col`` (SQL) replaced by ``expr``, as the caller pastes it: shell-quoted
    from the command line, a Python string literal otherwise. Why REPLACE, not "SELECT *, expr AS w": beside the
    source's own w, DuckDB named the new column w_1, and weight='w' read the old one again."""
    query = f"SELECT * REPLACE ({expr} AS {col}) FROM {typed_from(source)}"
    return shell_word(query) if pysource.from_command_line() else json.dumps(query, ensure_ascii=False)


# NaN as SQL: DuckDB's NaN equals itself, so nullif(w, NaN) is NULL for a NaN weight and coalesce fills both
NAN_SQL = "'NaN'::DOUBLE"


def check_values(ref: str, source: str, where: str | None, weight: str, w: np.ndarray) -> None:
    """Refuse weights that count no rows or a negative number of them, each with its fix: NULL (or NaN), negative,
    infinite, or all zero."""
    on = f"{source!r}{f' with where={where!r}' if where else ''}"
    col = sql_name(weight)
    bad = int(np.isnan(w).sum())
    if bad:
        raise BadInputError(f"Model {ref!r}: weight column {weight!r} is NULL (or NaN) in {bad} of the {len(w)} rows of "
                            f"{on}, which then count as no known number of rows; fill it (a row sampled with "
                            f"certainty has weight 1: {_query(f'coalesce(nullif({col}, {NAN_SQL}), 1)', col, source)} "
                            f"with the same {optionwords.opt('weight', weight)}), or leave those rows out with "
                            f"{optionwords.opt('where', f'{col} IS NOT NULL AND NOT isnan({col})')}.")
    bad = int((w < 0).sum())
    if bad:
        raise BadInputError(f"Model {ref!r}: weight column {weight!r} is negative in {bad} of the {len(w)} rows of {on} "
                            f"(lowest {float(w.min()):g}); a weight is how many rows a row stands for, 0 or more: fix "
                            f"the column, or leave those rows out with {optionwords.opt('where', f'{col} >= 0')}.")
    bad = int(np.isinf(w).sum())
    if bad:
        raise BadInputError(f"Model {ref!r}: weight column {weight!r} is infinite in {bad} of the {len(w)} rows of {on}; "
                            "a weight is a finite number of rows (an inclusion probability of 0 has no inverse): fix "
                            f"the column or leave those rows out with {optionwords.opt('where')}.")
    if not (w > 0).any():
        raise BadInputError(f"Model {ref!r}: weight column {weight!r} is 0 in every one of the {len(w)} rows of {on}, so "
                            f"they count as no rows; check that {optionwords.opt('weight')} names the column of how many "
                            "rows each one stands for (1 for a row not sampled down).")


def check_classes(ref: str, weight: str, y: np.ndarray, w: np.ndarray) -> None:
    """Refuse weights of 0 on every row of a class the rows hold. Why: the rows of weight 0 are left out, and then
    "none of the rows is an anomaly" blamed the label column and the filter, not the weights."""
    for value, what in ((1, "anomaly (label 1)"), (0, "normal row (label 0)")):
        rows = y == value
        if rows.any() and not (w[rows] > 0).any():
            raise BadInputError(f"Model {ref!r}: weight column {weight!r} is 0 on every {what}, all "
                                f"{int(rows.sum())} of them, so they count as none; a weight is how many rows a row "
                                "stands for: check the column (1 for a row not sampled down, e.g. each anomaly kept).")


def curve(scores: np.ndarray, labels: np.ndarray, w: np.ndarray, sampled: str | None = None) -> dict[str, np.ndarray]:
    """``thresholds.curve`` of rows of weights ``w`` (all above 0): ``tp`` and ``flagged`` are the weights of the
    anomalies and rows flagged at each cut, and precision, recall, F1 and ``flagged_share`` are theirs, as
    scikit-learn's ``precision_recall_curve(sample_weight=)``; ``tp_w2`` and ``flagged_w2``: their sums of squared
    weights, for Kish's effective sizes; ``weighted``: marks the curve as one of weights. ``sampled``:
    ``sampled.NORMAL`` marks it (``alike``) as one of every anomaly kept, whose ``lower_ends`` are then
    ``confusion(sampled=NORMAL)``'s."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    check_no_nan(s, "threshold curve")
    order = np.argsort(-s, kind="stable")
    s_sorted = s[order]
    ws = np.asarray(w, dtype=np.float64)[order]
    ys = y[order]
    yw = np.where(ys, ws, 0.0)
    distinct = np.r_[np.nonzero(s_sorted[1:] != s_sorted[:-1])[0], len(s) - 1]
    tp = np.cumsum(yw)[distinct]
    flagged = np.cumsum(ws)[distinct]
    pos, total = float(tp[-1]), float(flagged[-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(flagged > 0, tp / flagged, 0.0)
        recall = tp / pos if pos > 0 else np.zeros_like(tp)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
        mid = (s_sorted[distinct[:-1]] + s_sorted[distinct[1:]]) / 2.0
    values = np.r_[np.where(np.isfinite(mid), mid, s_sorted[distinct[1:]]), np.nextafter(s_sorted[-1], -np.inf)]
    return {"threshold": values, "precision": precision, "recall": recall, "f1": f1, "flagged_share": flagged / total,
            "tp": tp, "flagged": flagged, "scores": s_sorted[distinct],
            "tp_w2": np.cumsum(yw * ws)[distinct], "flagged_w2": np.cumsum(ws * ws)[distinct],
            "weighted": np.ones(1, dtype=bool),
            # the rows sorted, for the strata at each cut a confident goal reads (lower_ends: missstrata.per_cut)
            "sorted_scores": s_sorted, "sorted_labels": ys, "sorted_weights": ws, "last": distinct,
            **({"alike": np.ones(1, dtype=bool)} if sampled == NORMAL else {})}


def confusion(scores: np.ndarray, labels: np.ndarray, w: np.ndarray, threshold: float,
              sampled: str | None = None) -> dict[str, float]:
    """``confusion.confusion`` with each row counted ``w`` times: tp, fp, fn, tn are sums of weights; the intervals of
    precision and recall are ``cell_intervals``'. ``sampled``: ``sampled.NORMAL`` where every anomaly was kept (no
    stratum of unseen misses, the two anomaly cells weigh alike)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    flag = s > threshold
    tp, fp = float(w[flag & y].sum()), float(w[flag & ~y].sum())
    fn, tn = float(w[~flag & y].sum()), float(w[~flag & ~y].sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    w2 = w * w
    ends = cell_intervals(tp, float(w2[flag & y].sum()), fn, float(w2[~flag & y].sum()),
                          fp, float(w2[flag & ~y].sum()), tn, float(w2[~flag & ~y].sum()),
                          unseen_fp=_nearest_scale(s, ~flag & ~y, w) if fp == 0 else None,
                          strata=((None, None) if sampled == NORMAL else
                                  (missstrata.unseen_caught(s, y, w, flag), missstrata.heaviest_miss(s, y, w, flag))),
                          alike=sampled == NORMAL)
    total = tp + fp + fn + tn
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall, "f1": f1,
            "flagged_share": (tp + fp) / total if total else 0.0, **ends}


def _nearest_scale(s: np.ndarray, rows: np.ndarray, w: np.ndarray) -> float | None:
    """The rows an effective row stands for (sum w^2 / sum w) among ``rows`` at their highest score: the weight a
    flagged row of their class would have had, read off those scoring nearest below the cut; None for no row."""
    if not rows.any():
        return None
    top = rows & (s == s[rows].max())
    return float((w[top] ** 2).sum() / w[top].sum()) if w[top].sum() > 0 else None


def cell_intervals(tp: float, tp2: float, fn: float, fn2: float, fp: float, fp2: float, tn: float,
                   tn2: float, unseen_fp: float | None = None,
                   strata: tuple[float | None, float | None] = (None, None), alike: bool = False) -> dict[str, float]:
    """The 95% intervals of precision and recall at a threshold (``precision_lo``, ``precision_hi``, ``recall_lo``,
    ``recall_hi``) from its four cells' sums of weights (``tp``...) and of squared weights (``tp2``...): recall's
    from its caught and missed anomalies apart (``recall_interval``), precision's from it and the false-alarm rate's
    Wilson interval on Kish's size of the normal rows (``precision_interval``); precision NaN where no row is
    flagged; ``unseen_fp``: where no normal row is flagged, the weight one would have had (``precision_interval``);
    ``strata``: the weight a caught anomaly would have had where none is, and that of a stratum that may hide missed
    anomalies none of which was drawn (``recall_interval``'s ``unseen_tp`` and ``heaviest_miss``); ``alike``: the
    caught and missed anomalies weigh alike (``recall_interval``'s).
    Why one function: ``confusion`` (evaluate) and ``figure_intervals`` (threshold's printed intervals,
    from its chosen_on) gave one figure two intervals on an audit sample."""
    pos, neg = tp + fn, fp + tn
    n_pos = pos * pos / (tp2 + fn2) if tp2 + fn2 > 0 else 0.0
    n_neg = neg * neg / (fp2 + tn2) if fp2 + tn2 > 0 else 0.0
    r_lo, r_hi = recall_interval(tp, tp2, fn, fn2, fp, fp2, tn, tn2, *strata, alike=alike)
    p_lo, p_hi = precision_interval(tp / pos if pos else 0.0, fp / neg if neg else 0.0, pos, neg, n_pos, n_neg,
                                    recall_ends=(r_lo, r_hi), flagged=(tp, tp2, fp, fp2), unseen_fp=unseen_fp)
    if tp + fp == 0:
        p_lo, p_hi = float("nan"), float("nan")  # no row flagged: no precision, as Wilson's of 0 rows
    return {"precision_lo": float(p_lo), "precision_hi": float(p_hi), "recall_lo": float(r_lo),
            "recall_hi": float(r_hi)}


def recall_interval(tp: Any, tp2: Any, fn: Any, fn2: Any, fp: Any, fp2: Any, tn: Any, tn2: Any,
                    unseen_tp: Any = None, heaviest_miss: Any = None,
                    alike: bool = False) -> tuple[Any, Any]:
    """The 95% interval of recall tp / (tp + fn) of weighted rows (elementwise), from the cells' sums of weights
    (``tp``...) and of squared weights (``tp2``...): each of the two anomaly cells counts as Kish's effective number of
    rows (sum w)^2 / sum w^2, each of them standing for sum w^2 / sum w rows; Wilson's interval of the missed share of
    those effective rows, turned back into a recall by the two cells' scales.

    Why not Wilson's on the anomalies' effective size, as before: when every alert is reviewed (weight 1) and the rest
    of the rows audited 1 in 50, a missed anomaly is seen only when the audit draws one and stands for 50; Kish's size
    of the anomalies is that of the alerts, and the interval held the true recall in 11-83% of draws
    (bench/results/weighted_coverage_audit_2026-12-05.md). A cell without rows takes the scale of its weights had it
    had some: weights read as a product of one factor per class and one per side of the threshold (a missed anomaly of
    an audit weighs as the unflagged normal rows; of normal rows sampled 1 in k with every anomaly kept, as the caught
    anomalies), or the anomalies' own scale where that cannot be read. Equal weights within the anomalies give
    Wilson's interval of their count, as unweighted. ``unseen_tp``: where no anomaly is caught, the weight one would
    have had, read from the rows around the cut (``missstrata.unseen_caught``). ``heaviest_miss``: where a stratum heavier than every missed
    anomaly drawn may hide more (a cut above an audit's), the lower end reads the missed cell with one more count
    at that weight (``missstrata.upper_cell``). Both a number, or one per cut NaN where none is
    (``missstrata.per_cut``). ``alike``: every anomaly was kept (``sampled.NORMAL``), so an empty
    cell weighs as the anomalies drawn, not as the normal rows' strata beside it say."""
    with np.errstate(invalid="ignore", divide="ignore"):
        tp, tp2, fn, fn2, fp, fp2, tn, tn2 = (np.asarray(v, dtype=np.float64) for v in (tp, tp2, fn, fn2, fp, fp2, tn, tn2))
        scale = {k: np.where(s > 0, s2 / s, np.nan) for k, s, s2 in
                 (("tp", tp, tp2), ("fn", fn, fn2), ("fp", fp, fp2), ("tn", tn, tn2))}
        own = (tp2 + fn2) / (tp + fn)
        # unseen_tp, heaviest_miss: a number, or one per cut, NaN where there is none (missstrata.per_cut)
        unseen = np.nan if unseen_tp is None else np.asarray(unseen_tp, dtype=np.float64)
        s_tp = np.where(tp > 0, scale["tp"], np.where(np.isfinite(unseen), unseen, scale["fp"] * scale["fn"] / scale["tn"]))
        s_fn = np.where(fn > 0, scale["fn"], scale["tn"] * scale["tp"] / scale["fp"])
        s_tp, s_fn = np.where(np.isfinite(s_tp), s_tp, own), np.where(np.isfinite(s_fn), s_fn, own)
        if alike:
            s_tp = s_fn = own
        e_tp = np.where(tp > 0, tp * tp / tp2, 0.0)
        e_fn = np.where(fn > 0, fn * fn / fn2, 0.0)
        lo, hi = _recall_ends(e_tp, e_fn, s_tp, s_fn)
        if heaviest_miss is not None:
            h = np.asarray(heaviest_miss, dtype=np.float64)
            e_up, s_up = missstrata.upper_cell(fn, fn2, np.where(np.isfinite(h), h, 0.0))
            lo = np.where(np.isfinite(h), _recall_ends(e_tp, e_up, s_tp, s_up)[0], lo)[()]
        return lo, hi


def _alike(s_fn: Any, s_tp: Any) -> Any:
    """Where a missed and a caught anomaly stand for as many rows (``_recall_ends`` takes Wilson's there)."""
    return np.isclose(s_fn, s_tp, rtol=1e-9)


def _recall_ends(e_tp: Any, e_fn: Any, s_tp: Any, s_fn: Any, z: float = Z95, alike: Any = None) -> tuple[Any, Any]:
    """The 95% interval of recall (``z``: another level's) from Kish's effective counts of the caught and missed
    anomalies (``e_tp``, ``e_fn``) and the rows each of their effective rows stands for (``s_tp``, ``s_fn``),
    elementwise: the missed share of the effective anomalies, turned back into a recall by the scales. ``alike``:
    ``_alike(s_fn, s_tp)``, where the caller has it already (it does not depend on ``z``)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        # the missed share of the effective anomalies: Wilson's where the two cells weigh alike; with continuity
        # correction where they do not, since the scales' ratio magnifies Wilson's ends of a count of 1 or 2 (one
        # audited missed anomaly of 50: "at least 0.2 of a row" read as 9 missed anomalies, where 1.3 were possible)
        alike = _alike(s_fn, s_tp) if alike is None else alike
        q_lo, q_hi = np.where(alike, wilson(e_fn, e_tp + e_fn, z), _wilson_cc(e_fn, e_tp + e_fn, z))

        def at(q: Any) -> Any:
            return np.where(q < 1, s_tp * (1 - q) / (s_tp * (1 - q) + s_fn * q), 0.0)[()]

        return at(q_hi), at(q_lo)


# The normal quantile of recall's pointwise intervals whose areas make AUC-ROC's 95% band (auc_band): 90% ones.
# Why not 95% ones, as before: the band's two ends take every cut's end at once, and it held the AUC in 97-100% of
# simulated audits (mean width 0.715); with 90% ones in 96.5-100% (0.686), with 85% ones 95.5-100% and with 80%
# ones 93-100%, under 95% (bench/results/weighted_coverage_audit_band_2026-12-05.md)
AUC_BAND_Z = 1.6448536269514722


def auc_band(c: dict[str, np.ndarray], z: float = AUC_BAND_Z, rtol: float = 1e-9) -> tuple[float, float] | None:
    """The ends of AUC-ROC's interval of a ``curve`` of weighted rows, from recall's pointwise intervals at ``z``
    (``AUC_BAND_Z`` for evaluate's 95% one), where its anomalies above and below a cut weigh differently: the areas
    under the lower and the upper ends of recall's interval at each cut (its caught and missed anomalies apart, as
    ``recall_interval``), over the false-alarm rate. None where at every cut the two
    weigh alike (every anomaly kept, normal rows sampled; all weights 1): there DeLong's interval holds. ``rtol``:
    how far apart the two may weigh and count as alike.

    Why: with the alerts all reviewed (weight 1) and the rest audited 1 in k, the AUC-ROC rests on the few audited
    missed anomalies, each standing for k, and mostly none is drawn; DeLong's interval, from the placements of the
    anomalies drawn, held the truth in 5-100% of draws (5-31% with 100 anomalies audited 1 in 200), this one in
    97-100%, wider (bench/results/weighted_coverage_audit_auc_2026-12-05.md). An empty cell at a cut weighs as the normal
    rows on its side of the cut times the ratio of the classes' weights among the highest scores, where both
    classes are flagged (1 for an audit, 1/k for normal rows sampled 1 in k). Why not recall_interval's reading of
    an empty cell (the other three cells' product): below the audit's own cut the flagged normal rows mix weights 1
    and k, and it read a missed anomaly there as standing for 1.3 rows, not k."""
    parts = _band_parts(c, rtol)
    return None if parts is None else _band_ends(parts, z)


def _band_parts(c: dict[str, np.ndarray], rtol: float = 1e-9) -> tuple[Any, ...] | None:
    """What ``auc_band`` reads of the curve ``c`` at every level: each cut's effective caught and missed anomalies,
    the rows each stands for and whether they weigh alike, and the false-alarm steps; None where the band adds
    nothing. Why apart from the level: compare's p-value (``_audit_paired``) takes the band at 20 levels."""
    tp, fp = c["tp"], c["flagged"] - c["tp"]
    tp2, fp2 = c["tp_w2"], c["flagged_w2"] - c["tp_w2"]
    pos, neg = float(tp[-1]), float(fp[-1])
    if pos <= 0 or neg <= 0:
        return None
    fn, fn2, tn, tn2 = pos - tp, float(tp2[-1]) - tp2, neg - fp, float(fp2[-1]) - fp2
    with np.errstate(invalid="ignore", divide="ignore"):
        # a cell's weight left by rounding (the total less the cumulative sum) counts as none
        held = {k: v > 1e-12 * (pos if k in ("tp", "fn") else neg) for k, v in (("tp", tp), ("fn", fn), ("fp", fp),
                                                                               ("tn", tn))}
        s_tp, s_fn = np.where(held["tp"], tp2 / tp, np.nan), np.where(held["fn"], fn2 / fn, np.nan)
        s_fp, s_tn = np.where(held["fp"], fp2 / fp, np.nan), np.where(held["tn"], tn2 / tn, np.nan)
        both = np.flatnonzero(held["tp"] & held["fp"])
        ratio = float(s_tp[both[0]] / s_fp[both[0]]) if len(both) else 1.0
        own = float(tp2[-1]) / pos
        s_tp = np.where(held["tp"], s_tp, np.nan_to_num(s_fp * ratio, nan=own))
        s_fn = np.where(held["fn"], s_fn, np.nan_to_num(s_tn * ratio, nan=own))
        if np.isclose(s_fn, s_tp, rtol=rtol).all():
            return None
        e_tp, e_fn = np.where(held["tp"], tp * tp / tp2, 0.0), np.where(held["fn"], fn * fn / fn2, 0.0)
    return e_tp, e_fn, s_tp, s_fn, _alike(s_fn, s_tp), np.diff(fp, prepend=0.0) / neg


def _band_ends(parts: tuple[Any, ...], z: float) -> tuple[float, float]:
    """``auc_band``'s ends at the level of ``z`` from ``_band_parts``."""
    e_tp, e_fn, s_tp, s_fn, alike, step = parts
    with np.errstate(invalid="ignore", divide="ignore"):
        lo, hi = _recall_ends(e_tp, e_fn, s_tp, s_fn, z, alike)
    # recall 0 before the first cut, 1 after the last; the trapezoids between cuts, as the AUC's ties count half
    lo, hi = np.r_[0.0, np.nan_to_num(lo, nan=0.0)], np.r_[0.0, np.nan_to_num(hi, nan=1.0)]
    lo[-1] = hi[-1] = 1.0
    return float(np.sum(step * (lo[:-1] + lo[1:]) / 2.0)), float(np.sum(step * (hi[:-1] + hi[1:]) / 2.0))


def _wilson_cc(k: Any, n: Any, z: float = Z95) -> Any:
    """Wilson's interval of k / n with continuity correction (Newcombe 1998, method 4), elementwise; NaN where n = 0.
    Its ends near 0 and n hold about the exact (Clopper-Pearson) interval's, where plain Wilson's fall short."""
    k, n = np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 2 * (n + z * z)
        lo = (2 * k + z * z - 1 - z * np.sqrt(np.maximum(z * z - 2 - 1 / n + 4 * p * (n * (1 - p) + 1), 0))) / den
        hi = (2 * k + z * z + 1 + z * np.sqrt(np.maximum(z * z + 2 - 1 / n + 4 * p * (n * (1 - p) - 1), 0))) / den
        lo, hi = np.where(k > 0, np.clip(lo, 0, 1), 0.0), np.where(k < n, np.clip(hi, 0, 1), 1.0)
        return np.where(n > 0, lo, np.nan), np.where(n > 0, hi, np.nan)


def precision_interval(recall: Any, false_alarms: Any, pos: float, neg: float, n_pos: float, n_neg: float,
                       recall_ends: tuple[Any, Any] | None = None,
                       flagged: tuple[Any, Any, Any, Any] | None = None, unseen_fp: Any = None) -> Any:
    """The 95% interval of the precision of weighted rows, pos x recall / (pos x recall + neg x false-alarm rate)
    (``pos``, ``neg``: the classes' weights), from the Wilson intervals of recall and false-alarm rate on Kish's
    effective sizes ``n_pos`` and ``n_neg`` (elementwise): ``intervals.precision_at_share``'s ends. ``recall_ends``:
    recall's interval from its cells (``recall_interval``) instead of Wilson's on ``n_pos``; the same where the
    anomalies' weights are alike, wider where a missed anomaly stands for more rows than a caught one.

    Why not Wilson's on the flagged rows' effective size: with normal rows sampled 1 in 10, 187 anomalies and one
    normal row of weight 10 flagged were an effective 135 rows, and the interval 0.90-0.98 left out the precision of
    the whole table, 0.878; the uncertainty is in how many false alarms the few sampled normal rows stand for.

    ``flagged``: the flagged anomalies' and normal rows' sums of weights and of squared weights (tp, tp2, fp, fp2);
    where the flagged anomalies and normal rows weigh alike (an audit's alerts, all reviewed), the interval is joined
    with Wilson's of the flagged rows' effective size, as unweighted rows have it: they are then a census (or an
    even sample) of the flagged rows, and the anomalies' share of them a proportion. Why: the ends above take the
    anomalies' total ``pos`` as known, and on an audit sample (alerts all reviewed, the rest audited 1 in 10) of 5
    anomalies, 1 or 2 of them caught and no missed one audited, it read as 1 or 2, and the interval held the
    process's precision in 80% of draws (bench/results/weighted_coverage_audit_2026-12-05.md). Why not where they
    weigh unlike: the example above (one sampled normal row of weight 10 among 187 anomalies).

    ``unseen_fp``: where only anomalies are flagged, the weight a flagged normal row would have had (that of the
    normal rows scoring nearest below the cut); where it is the flagged anomalies' own, the flagged rows are all the
    alerts there are, and precision is Wilson's of them alone. Why: above an audit's cut (every row above 2 reviewed,
    the rest 1 in 10), a cut of 4.5 flagging 7 anomalies and no normal row read 0.056-1 (joined with the ends above),
    where 7 of 7 say 0.646-1 (bench/results/weighted_coverage_audit_at_2026-12-05.md)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r_lo, r_hi = wilson(np.asarray(recall) * n_pos, n_pos) if recall_ends is None else recall_ends
        if neg <= 0:  # no normal row: every flag is right
            return np.ones_like(r_lo)[()], np.ones_like(r_hi)[()]
        f_lo, f_hi = wilson(np.asarray(false_alarms) * n_neg, n_neg)

        def at(r: Any, f: Any) -> Any:
            caught, alarms = pos * r, neg * f
            return np.where(caught + alarms > 0, caught / (caught + alarms), 1.0)[()]

        lo, hi = at(r_lo, f_hi), at(r_hi, f_lo)
        if flagged is None:
            return lo, hi
        tp, tp2, fp, fp2 = (np.asarray(v, dtype=np.float64) for v in flagged)
        e = np.where(tp2 + fp2 > 0, (tp + fp) ** 2 / (tp2 + fp2), 0.0)
        w_lo, w_hi = wilson(np.where(tp + fp > 0, tp / (tp + fp), 0.0) * e, e)
        # rows flagged, of one class or the two weighing alike (each flagged cell's sum w^2 / sum w, the rows an
        # effective row stands for)
        alike = (tp <= 0) | (fp <= 0) | np.isclose(tp2 * fp, fp2 * tp, rtol=1e-9)
        held = (e > 0) & alike
        # both classes flagged, weighing alike: the flagged rows are an even sample of the alerts (or all of them),
        # and precision, the anomalies' share of the alerts, is Wilson's of it alone. Why not joined with the ends
        # above: they carry recall's uncertainty, how many anomalies the unflagged rows hide, which precision does
        # not depend on; 100 of 500 alerts reviewed (weight 5, 76 frauds) beside 100 of 49,500 other rows (weight
        # 495) read precision 0.760 (95% 0.025-0.983), where 76 of 100 say 0.668-0.833. One class alone flagged
        # leaves the other's weight there unknown (a normal row sampled 1 in 50 may be flagged unseen): joined
        even = held & (tp > 0) & (fp > 0)
        if unseen_fp is not None:  # no normal row flagged, where one would have weighed as the flagged anomalies
            even = even | (held & (tp > 0) & (fp <= 0) & np.isclose(tp2, unseen_fp * tp, rtol=1e-9))
        return (np.where(even, w_lo, np.where(held, np.fmin(lo, w_lo), lo))[()],
                np.where(even, w_hi, np.where(held, np.fmax(hi, w_hi), hi))[()])


def lower_ends(c: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The lower ends of the 95% intervals of precision (``precision_interval``) and recall (``recall_interval``)
    at each cut of a ``curve`` ``c``, for a goal with ``confident=True``; of a curve of every anomaly kept (its
    ``alike``), as ``confusion(sampled=NORMAL)`` gives them: no stratum of unseen misses."""
    fp, fp2 = c["flagged"] - c["tp"], c["flagged_w2"] - c["tp_w2"]
    pos, neg = float(c["tp"][-1]), float(fp[-1])
    n_pos = pos * pos / float(c["tp_w2"][-1])
    n_neg = neg * neg / float(fp2[-1]) if fp2[-1] > 0 else 0.0
    pos2, neg2 = float(c["tp_w2"][-1]), float(fp2[-1])
    # the strata at each cut, as confusion reads them off the rows at one; why here, not in curve: a third of its
    # time on 2M rows, which evaluate's curve has no use for
    at = missstrata.per_cut(c["sorted_scores"], c["sorted_labels"], c["sorted_weights"], c["last"])
    alike = "alike" in c
    recall = recall_interval(c["tp"], c["tp_w2"], pos - c["tp"], pos2 - c["tp_w2"], fp, fp2, neg - fp, neg2 - fp2,
                             None if alike else at["unseen_caught"], None if alike else at["heaviest_miss"],
                             alike=alike)
    precision = precision_interval(c["recall"], fp / neg if neg > 0 else np.zeros_like(fp), pos, neg, n_pos, n_neg,
                                   recall_ends=recall, flagged=(c["tp"], c["tp_w2"], fp, fp2),
                                   unseen_fp=at["unseen_fp"])[0]
    return precision, recall[0]


# what flagged_sizes adds where only anomalies are flagged and a normal row there would have weighed as they do
ALIKE_BELOW = ", the normal rows nearest below it weighing as the flagged anomalies"
# what goalthreshold._goal_threshold writes of weighted rows: "(label y, 1250 rows, 50 anomalies; weighted by w: 55816
# rows, 50 anomalies, Kish's effective sizes 50 anomalies and 1160.412 normal rows, 38.5 and 3 of them above the
# threshold)"; before the sizes of the flagged cells were written, without them (and the sizes to one decimal)
# what flagged_sizes adds where the missed anomalies are split by weight (missstrata): the heaviest a missed one
# could weigh, and the weight a caught one would have where none is
HEAVIEST_MISS, UNSEEN_CAUGHT = ", a missed anomaly weighing up to ", ", a caught one weighing "
# what flagged_sizes adds for a goal chosen with sampled='normal' (every anomaly kept): figure_intervals then gives
# evaluate's intervals of sampled='normal'
SAMPLED_NORMAL = ", only the normal rows sampled, every anomaly kept"
_CHOSEN = re.compile(r"\(label .+?, (\d+) rows, (\d+) anomal(?:y|ies); weighted by .+?: ([\d.e+]+) rows, ([\d.e+]+) "
                     r"anomal(?:y|ies), Kish's effective sizes ([\d.]+) anomalies and ([\d.]+) normal rows"
                     r"(?:, ([\d.]+) and ([\d.]+) of them above the threshold)?(" + ALIKE_BELOW + r")?"
                     r"(?:" + HEAVIEST_MISS + r"([\d.]+))?(?:" + UNSEEN_CAUGHT + r"([\d.]+))?(" + SAMPLED_NORMAL + r")?\)")


def size_text(v: float) -> str:
    """A Kish effective size as a chosen_on writes it: 7 significant digits, no exponent (figure_intervals reads
    it back; to one decimal, an effective 1.3 missed anomalies moved recall's interval in its third place)."""
    return np.format_float_positional(float(v), precision=7, fractional=False, trim="-")


def flagged_sizes(scores: np.ndarray, labels: np.ndarray, w: np.ndarray, threshold: float,
                  sampled: str | None = None) -> str:
    """What a chosen_on says of the cells above ``threshold`` after the classes' effective sizes: ", 38.5 and 3 of
    them above the threshold", Kish's effective sizes of the flagged anomalies and flagged normal rows; with the
    figures, they give back the cells' sums of squared weights that evaluate's intervals take; and ``ALIKE_BELOW``
    where only anomalies are flagged and the normal rows scoring nearest below weigh as they do; ``HEAVIEST_MISS``
    and ``UNSEEN_CAUGHT``, where recall's interval splits the missed anomalies by weight (``missstrata``). Why
    said: threshold's printed interval is evaluate's only with them; the totals alone read the missed cell as
    drawn, and an audit's stratum where it drew no anomaly as empty. ``sampled``: ``sampled.NORMAL`` says
    ``SAMPLED_NORMAL`` in place of the strata, which evaluate reads none of then."""
    s, y = np.asarray(scores), np.asarray(labels).astype(bool)
    flag = s > threshold
    tp = w[flag & y]
    # Why said: evaluate's precision there is Wilson's of the flagged rows (confusion's unseen_fp), which the
    # figures and sizes alone cannot tell from a cut where a normal row flagged would have weighed more
    unseen = None if (flag & ~y).any() else _nearest_scale(s, ~flag & ~y, w)
    alike = unseen is not None and tp.sum() > 0 and bool(np.isclose((tp * tp).sum(), unseen * tp.sum(), rtol=1e-9))
    heaviest, caught = ((None, None) if sampled == NORMAL else
                        (missstrata.heaviest_miss(s, y, w, flag), missstrata.unseen_caught(s, y, w, flag)))
    return (f", {size_text(effective(tp))} and {size_text(effective(w[flag & ~y]))} of them above the threshold"
            f"{ALIKE_BELOW if alike else ''}" + ("" if heaviest is None else HEAVIEST_MISS + size_text(heaviest))
            + ("" if caught is None else UNSEEN_CAUGHT + size_text(caught))
            + (SAMPLED_NORMAL if sampled == NORMAL else ""))


def sampled_normal(chosen_on: str | None) -> bool:
    """Whether a goal's ``chosen_on`` says it was chosen with ``sampled='normal'`` (``SAMPLED_NORMAL`` closing the
    weighted rows' statement, as ``flagged_sizes`` writes it; a retrain choosing it again keeps it there)."""
    found = _CHOSEN.findall(chosen_on or "")
    return bool(found and found[-1][11])


def figure_intervals(t: Threshold, share: float | None = None) -> dict[str, Any]:
    """``thresholds.figure_intervals`` of a goal chosen on weighted rows: the intervals ``evaluate(weight=)`` gives
    its precision and recall (``cell_intervals``), from the weighted totals and Kish's effective sizes its
    ``chosen_on`` records; empty when it records none. A chosen_on of before the flagged cells' sizes were written
    has recall's interval as Wilson's on the anomalies' effective size, which evaluate gives only where the
    anomalies' weights are alike."""
    found = _CHOSEN.findall(t.chosen_on or "")
    if not found or None in (t.precision, t.recall, t.flagged_share):
        return {}
    rows, anomalies, total, pos, n_pos, n_neg = (float(v) for v in found[-1][:6])
    neg = total - pos
    recall, flagged = float(t.recall), float(t.flagged_share) * total  # type: ignore[arg-type]
    m = {"tp": _snap(recall * pos, pos), "fn": 0.0}
    m["fn"] = _snap(pos - m["tp"], pos)
    m["fp"] = _snap(max(flagged - m["tp"], 0.0), neg)
    m["tn"] = _snap(neg - m["fp"], neg)
    if found[-1][6]:
        e_tp, e_fp = float(found[-1][6]), float(found[-1][7])
        pos2 = pos * pos / n_pos if n_pos > 0 else 0.0
        neg2 = neg * neg / n_neg if n_neg > 0 else 0.0
        tp2 = m["tp"] ** 2 / e_tp if e_tp > 0 else 0.0
        fp2 = m["fp"] ** 2 / e_fp if e_fp > 0 else 0.0
        # stored where only anomalies were flagged and a normal row there would have weighed as they do: the weight
        # cell_intervals compares with theirs, as evaluate's confusion reads it off the rows
        alike = bool(found[-1][8]) and m["tp"] > 0
        # as cell_intervals takes them: the weight of a caught anomaly where none is, then the heaviest miss
        strata = tuple(float(v) if v else None for v in (found[-1][10], found[-1][9]))
        out: dict[str, Any] = cell_intervals(m["tp"], tp2, m["fn"], _snap(pos2 - tp2, pos2), m["fp"], fp2, m["tn"],
                                             _snap(neg2 - fp2, neg2), unseen_fp=tp2 / m["tp"] if alike else None,
                                             strata=strata,  # type: ignore[arg-type]
                                             alike=bool(found[-1][11]))
    else:
        p_lo, p_hi = precision_interval(recall, m["fp"] / neg if neg > 0 else 0.0, pos, neg, n_pos, n_neg)
        r_lo, r_hi = wilson(recall * n_pos, n_pos)
        out = {"precision_lo": float(p_lo), "precision_hi": float(p_hi), "recall_lo": r_lo, "recall_hi": r_hi}
    out.update({"anomalies": int(anomalies), "effective_anomalies": n_pos})
    if share is not None:
        from .confusion import at_share  # where used: confusion imports intervals, which this module imports so

        out.update(at_share(m, share, counts=effective_counts(m, n_pos, n_neg)))
    return out


def _snap(v: float, total: float) -> float:
    """``v``, a cell's weight worked back from a figure times a total, as 0 where it is rounding away from it: a
    recall of 1 times the anomalies' weight left 1e-12 of a missed anomaly, a cell with rows to recall_interval."""
    return 0.0 if abs(v) <= 1e-9 * max(abs(total), 1.0) else v


def effective_counts(m: dict[str, float], n_pos: float, n_neg: float) -> tuple[float, float, float, float]:
    """``m``'s tp, fp, fn, tn scaled to Kish's effective sizes ``n_pos`` (anomalies) and ``n_neg`` (normal rows):
    the counts intervals of recall and false-alarm rate take."""
    pos, neg = m["tp"] + m["fn"], m["fp"] + m["tn"]
    tp = m["tp"] / pos * n_pos if pos else 0.0
    fp = m["fp"] / neg * n_neg if neg else 0.0
    return tp, fp, n_pos - tp, n_neg - fp


def summary(weight: str, y: np.ndarray, w: np.ndarray) -> dict[str, Any]:
    """What a report says of the weights: the column, the rows and anomalies they stand for, and Kish's effective
    sizes of each class (``INTERVALS``)."""
    yb = y.astype(bool)
    return {"column": weight, "rows": float(w.sum()), "anomalies": float(w[yb].sum()),
            "effective_anomalies": effective(w[yb]), "effective_normal": effective(w[~yb]),
            "zero_weight_rows": int((w == 0).sum()), "intervals": INTERVALS}


def paired_auc_roc(scores_a: np.ndarray, scores_b: np.ndarray, labels: np.ndarray, w: np.ndarray,
                   z: float | None = None,
                   curves: tuple[dict[str, np.ndarray], dict[str, np.ndarray]] | None = None,
                   sampled: str | None = None) -> Any:
    """``pairedauc.paired_auc_roc`` of rows of weights ``w`` (all above 0): each version's AUC-ROC as scikit-learn's
    ``roc_auc_score(sample_weight=)``, and DeLong's paired test on weighted placement values (each anomaly's share of
    the normal rows' weight below it, ties half; each normal row's share of the anomalies' weight above it), their
    covariances weighted and their certainty that of Kish's effective sizes of each class. Unit weights give
    ``pairedauc.paired_auc_roc``'s figures. On an audit sample (the anomalies' weights differing across a version's
    score), the interval and p-value are ``_audit_paired``'s; ``curves``: the versions' ``curve``, when at hand.
    ``sampled``: ``sampled.NORMAL`` (every anomaly kept, the normal rows sampled by their own strata) says no
    audit: DeLong's test holds whatever the normal rows' weights, as evaluate's AUC-ROC interval is then DeLong's."""
    # where used: pairedauc imports intervals, which this module imports so
    from .pairedauc import PAIRED_DELONG, paired_df, paired_test

    z = Z95 if z is None else z
    y = np.asarray(labels).astype(bool)
    w = np.asarray(w, dtype=np.float64)
    wp, wn = w[y], w[~y]
    e_pos, e_neg = effective(wp), effective(wn)
    if e_pos < 2 or e_neg < 2:
        raise ValueError("paired_auc_roc needs an effective size of at least 2 anomalies and 2 normal rows")
    aucs, v_pos, v_neg = [], [], []
    for s in (np.asarray(scores_a, dtype=np.float64), np.asarray(scores_b, dtype=np.float64)):
        check_no_nan(s, "paired_auc_roc")
        x, o = s[y], s[~y]
        v_pos.append(_share_below(x, o, wn))
        v_neg.append(1.0 - _share_below(o, x, wp))
        aucs.append(float(np.sum(wp * v_pos[-1]) / wp.sum()))
    # the covariances weighted, divided by the weights' sum (bias=True); the certainty is the effective sizes'
    cov_pos = np.cov(np.vstack(v_pos), aweights=wp, bias=True) / (e_pos - 1)
    cov_neg = np.cov(np.vstack(v_neg), aweights=wn, bias=True) / (e_neg - 1)
    cov = cov_pos + cov_neg
    if curves is None:
        curves = (curve(scores_a, y, w), curve(scores_b, y, w))
    # an audit sample: at some cut a missed anomaly stands for twice the rows a caught one does, or half (auc_band,
    # which reads an empty cell's scale from the normal rows beside it). Why not any difference, as evaluate's
    # interval takes: with every anomaly kept (weight 1) and normal rows of weights 33.5 and 50, the scales read for
    # no missed anomaly were 0.7-1.5, and DeLong's test, which holds there (the bench's "sampled"), was set aside
    # With every anomaly kept there is no audited missed anomaly the AUCs rest on; a normal stratum's rate rising
    # with the score reads as an audit's weights by them alone, so the caller's word decides
    if z == Z95 and sampled != NORMAL and any(auc_band(c, rtol=0.5) is not None for c in curves):
        return _audit_paired(aucs, cov, curves, (e_pos, e_neg))
    same = np.array_equal(np.asarray(scores_a), np.asarray(scores_b))  # as pairedauc.paired_auc_roc
    p = paired_test(aucs, cov, z, paired_df(cov_pos, cov_neg, e_pos - 1, e_neg - 1), None if same else (e_pos, e_neg))
    if e_pos < smallpaired.FEW and p.method == PAIRED_DELONG and p.high > p.low:
        # few effective anomalies: DeLong's too narrow, as unweighted (every anomaly kept, normal rows sampled 1 in
        # 50: it held a better version's gain in 77-85% of draws at 3-10 anomalies; smallpaired)
        p.low, p.high, p.p_value = smallpaired.widen((aucs[0], aucs[1]), p.low, p.high, p.p_value, cov, curves,
                                                     (float(wp.sum()), float(wn.sum())), z, (e_pos, e_neg))
        p.method = smallpaired.METHOD
    return p


# what compare says of its test on an audit sample (``PairedAUC.method``)
PAIRED_AUDIT = ("each version's AUC-ROC interval (as evaluate's on an audit sample) joined by the two AUCs' DeLong "
                "correlation (Zou and Donner's MOVER)")


def _audit_paired(aucs: list[float], cov: np.ndarray, curves: tuple[dict[str, np.ndarray], dict[str, np.ndarray]],
                  eff: tuple[float, float]) -> Any:
    """``paired_auc_roc`` where the anomalies' weights differ across a version's score (an audit sample, which
    ``auc_band`` tells): the difference's interval from each version's own AUC-ROC interval (``intervals.auc_roc``,
    joined with ``auc_band``) by Zou and Donner's MOVER (2008), the two AUCs' correlation DeLong's; the p-value the
    level at which that interval's nearer end reaches 0.

    Why: DeLong's variance comes from the placements of the anomalies drawn, and on an audit sample the AUCs rest on
    the few audited missed anomalies, each standing for k, mostly none drawn: with two equally good versions the
    paired test gave p < 0.05 in up to 41% of draws and its interval held the true difference in 1-65% where one version
    was better (bench/results/compare_delong_2026-12-05.md); the same blind spot as evaluate's AUC interval had."""
    from . import intervals  # not at the top: intervals imports thresholds, as this module does
    from .pairedauc import PairedAUC

    sd = math.sqrt(max(float(cov[0, 0]), 0.0) * max(float(cov[1, 1]), 0.0))
    r = max(-1.0, min(1.0, float(cov[0, 1]) / sd)) if sd > 0 else 0.0
    pos, neg = float(curves[0]["tp"][-1]), float(curves[0]["flagged"][-1] - curves[0]["tp"][-1])
    diff = aucs[1] - aucs[0]

    parts = [_band_parts(c) for c in curves]  # the bands' share that is the same at every level bisected below

    def ends(z: float) -> tuple[float, float]:
        (la, ua), (lb, ub) = (_auc_ends(intervals, c, pos, neg, auc, z, eff, part)
                              for c, auc, part in zip(curves, aucs, parts, strict=True))
        a_lo, a_hi, b_lo, b_hi = aucs[0] - la, ua - aucs[0], aucs[1] - lb, ub - aucs[1]
        low = diff - math.sqrt(max(b_lo * b_lo + a_hi * a_hi - 2 * r * b_lo * a_hi, 0.0))
        high = diff + math.sqrt(max(b_hi * b_hi + a_lo * a_lo - 2 * r * b_hi * a_lo, 0.0))
        return low, high

    low, high = ends(Z95)
    p = 1.0
    if diff != 0:  # the level whose interval's nearer end is 0: bisected on z, each interval wider with it
        side = 0 if diff > 0 else 1
        lo_z, hi_z = 0.0, 7.0  # p below 3e-12: a t quantile of 1 degree breaks down further out
        if (ends(hi_z)[side] > 0) == (diff > 0):
            lo_z = hi_z
        else:
            for _ in range(18):  # z to 3e-5: p to its third digit; each step costs both versions a band
                mid = (lo_z + hi_z) / 2
                lo_z, hi_z = (mid, hi_z) if (ends(mid)[side] > 0) == (diff > 0) else (lo_z, mid)
        p = math.erfc(lo_z / math.sqrt(2))
    return PairedAUC(aucs[0], aucs[1], diff, max(low, -1.0), min(high, 1.0), p, PAIRED_AUDIT)


def _auc_ends(intervals: Any, c: dict[str, np.ndarray], pos: float, neg: float, auc: float, z: float,
              eff: tuple[float, float], parts: tuple[Any, ...] | None) -> tuple[float, float]:
    """A version's AUC-ROC interval at the level of ``z`` as evaluate gives it at 95%: DeLong's and Newcombe's,
    joined with ``auc_band`` (``parts``: ``_band_parts(c)``)."""
    ci = intervals.auc_roc(c, pos, neg, auc, z, eff)
    band = None if parts is None else _band_ends(parts, z * AUC_BAND_Z / Z95)  # at 95%, evaluate's own band
    return (ci.low, ci.high) if band is None else (min(ci.low, band[0]), max(ci.high, band[1]))


def _share_below(x: np.ndarray, other: np.ndarray, w_other: np.ndarray) -> np.ndarray:
    """For each value of ``x``, the share of ``other``'s weight (``w_other``) below it, ties counted half."""
    order = np.argsort(other, kind="stable")
    sorted_o = other[order]
    cum = np.r_[0.0, np.cumsum(w_other[order])]
    lo, hi = np.searchsorted(sorted_o, x, side="left"), np.searchsorted(sorted_o, x, side="right")
    return (cum[lo] + (cum[hi] - cum[lo]) / 2.0) / cum[-1]

