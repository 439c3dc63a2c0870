"""Thresholds: from training scores (quantiles, contamination) and from labels (goals).

A threshold ``t`` flags rows with ``score > t``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import costs, optionwords, scoretail
from .exceptions import BadInputError, OptionError
from .store import Threshold

QUANTILES = {"p90": 0.90, "p95": 0.95, "p99": 0.99, "p999": 0.999}
METHODS = ("quantile", "contamination", "max_f1", "min_precision", "min_recall", "flag_budget", "min_cost", "manual",
           "alarm_rate")


def method_hint(method: object) -> str:
    """" Did you mean 'min_precision'?" for a method given by its goal's word alone ('precision', 'f1', 'budget') or
    misspelt; else "". Why: a goal is what users name ("a precision threshold"), the method adds min_ or max_."""
    from .closenames import did_you_mean

    if not isinstance(method, str) or not method.strip():
        return ""
    word = method.strip().lower().replace("-", "_")
    part = [m for m in METHODS if word in m.split("_")] or ([_OTHER_WORDS[word]] if word in _OTHER_WORDS else [])
    return f" Did you mean {' or '.join(map(repr, part))}?" if part else did_you_mean(word, METHODS, cutoff=0.7)


# the other words for a method that users write (numpy's and SQL's name for a quantile, a value of one's own)
_OTHER_WORDS = {"percentile": "quantile", "value": "manual", "fixed": "manual"}


def unknown_method(method: object) -> str:
    """The error for a method that is none of METHODS, with the one it may mean."""
    return f"Unknown threshold method {method!r}.{method_hint(method)} Use one of: {', '.join(METHODS)}."


def from_training_scores(scores: np.ndarray, contamination: float, source: str, *,
                         own: bool = False) -> list[Threshold]:
    """The default threshold (``1 - contamination`` quantile) and fixed quantiles of the training scores.

    ``flagged_share`` is the share of training rows each one really flags (``score > t``): with tied scores
    it can be far from the nominal one. ``own``: see ``score_quantiles``.
    """
    v = float(np.quantile(scores, 1.0 - contamination, overwrite_input=own))
    out = [
        Threshold(
            name="default",
            value=v,
            method="contamination",
            chosen_on=f"training scores of {source} (contamination={contamination:g})",
            flagged_share=float(np.mean(scores > v)),
        )
    ]
    for name, q in QUANTILES.items():
        v = float(np.quantile(scores, q, overwrite_input=own))
        out.append(
            Threshold(name=name, value=v, method="quantile", chosen_on=f"training scores of {source}",
                      flagged_share=float(np.mean(scores > v)))
        )
    return out


# Threshold names every training sets from its own scores (from_training_scores); the others are the user's.
FROM_TRAINING = ("default", *QUANTILES)
LABELLED = ("max_f1", "min_precision", "min_recall", "flag_budget", "min_cost")


def replaced_by_user(stored: Sequence[Threshold]) -> list[Threshold]:
    """The thresholds stored under a name of ``FROM_TRAINING`` that are not the training's own: the user's cut put
    in its place (set_threshold warns of it today; older releases did not). A quantile under a 'pNN' name is taken
    for the training's own, as it cuts where that name says."""
    return [t for t in stored if t.name in FROM_TRAINING
            and not (t.method == "quantile" if t.name != "default" else
                     t.method == "contamination" and (t.chosen_on or "").startswith("training scores of "))]


def users_own(stored: Sequence[Threshold]) -> set[str]:
    """The names of ``stored`` a user set rather than the training: names of one's own, and training names whose
    threshold is not the training's (``replaced_by_user``). An import logs these: a file does not say which were set
    by hand, and these are the ones no training would set again."""
    return {t.name for t in stored if t.name not in FROM_TRAINING} | {t.name for t in replaced_by_user(stored)}


def carried(previous: Sequence[Threshold], quantiles: Sequence[float], scores: np.ndarray, ref: str,
            new_quantiles: Sequence[float] | None = None, metrics: dict[str, Any] | None = None) -> list[Threshold]:
    """The user's thresholds of the previous version ``ref`` (not ``FROM_TRAINING``), each at the same point of the
    new model's training scores as it was of the old one's (``quantiles``: the old ``score_quantiles`` grid;
    ``new_quantiles``: the new scores' own, when known; ``metrics``: the old version's, for its exact top scores,
    ``scoretail``).

    Where the new grid is the old one (a retrain on the same rows with the same seed), each value stays as it is:
    the point read back through the grid's 1,001 steps is only near it (a cut of 2.59779 came back 2.59828, and
    moved again on each retrain), while nothing tells those training scores from the old ones.

    Why by that point and not by value: a new model's scores are on another scale, so a value kept as it is flags
    an arbitrary share of rows; the share of training rows a cut leaves above it is what the user chose it for (a
    gap in the histogram, a goal met on labels). A goal's precision and recall held for the version it was chosen
    on, so they are not copied: its ``chosen_on`` says to choose it again on labels to know them. (A retrain chooses
    a goal again itself when its labelled rows can be read: ``carrythresholds.choose_goals_again``; this is its fallback.)

    Each keeps its method where the moved cut is still what it was: a cut typed in stays ``manual`` (its ``chosen_on``
    names the version and value it was set by hand on, through any number of retrains), a quantile or a share of
    training rows stays that. Why: as 'quantile' after the first retrain, nothing said two retrains later that a
    person had chosen the cut, or where. A goal carried by its point is a plain 'quantile' (its figures are gone).
    """
    same = new_quantiles is not None and len(quantiles) > 0 and list(new_quantiles) == list(quantiles)
    grid, probs = scoretail.points(np.asarray(quantiles, dtype=np.float64), metrics)
    out = []
    for t in previous:
        if t.name in FROM_TRAINING:
            continue
        below = float(np.interp(t.value, grid, probs))  # share of the old training scores at or below the cut
        v = float(t.value) if same else float(np.quantile(scores, below))
        where = "as it is: these training scores have its quantiles" if same else "at the same point of these"
        again = "; its precision and recall held for that version: choose it again on labels to know them here" \
            if t.method in LABELLED else ""
        method = t.method if t.method in KEPT_WHEN_CARRIED else "quantile"
        out.append(Threshold(name=t.name, value=v, method=method, flagged_share=float(np.mean(scores > v)),
                             chosen_on=f"carried from {ref} ({t.method}, {t.value:.6g}: the {below:.2%} point of its "
                                       f"training scores), {where}{again}{_hand_origin(t, ref)}"))
    return out


# Methods a carried cut keeps: the cut moved to the same point is still one typed in, a quantile, a share
KEPT_WHEN_CARRIED = ("manual", "quantile", "contamination")
_HAND = re.compile(r"; set by hand on \S+ as \S+$")


def _hand_origin(t: Threshold, ref: str) -> str:
    """``; set by hand on REF as VALUE`` for a cut typed in: the one it was carried with, else ``ref``'s own."""
    if t.method != "manual":
        return ""
    kept = _HAND.search(t.chosen_on or "")
    return kept[0] if kept else f"; set by hand on {ref} as {t.value:.6g}"


def score_quantiles(scores: np.ndarray, n: int = 1001, *, own: bool = False) -> list[float]:
    """Quantile grid of training scores, for ``anomaly_percentile``.

    ``own``: the caller's array may be reordered in place (the same values result). Why: numpy's quantile
    otherwise copies it, 8 bytes per training row (160 MB for 20M rows) on top of the scores themselves.
    """
    return [float(v) for v in np.quantile(scores, np.linspace(0.0, 1.0, n), overwrite_input=own)]


def check_no_nan(scores: np.ndarray, what: str) -> None:
    """NaN scores have no rank, so every curve and AUC over them would be arbitrary: refuse them by name."""
    n = int(np.isnan(scores).sum())
    if n:
        raise BadInputError(f"{what}: {n} of {len(scores)} scores are NaN, which have no rank; drop or fill those rows.")


def curve(scores: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and flagged share for every distinct threshold (flag ``score > t``); ``tp`` and ``flagged``,
    the anomalies and rows flagged there, and ``scores``, the distinct scores from the highest (what AUC-ROC and the candidate table read,
    so that an evaluation sorts its rows once: a sort of 50M scores takes seconds)."""
    tp, flagged, desc, n = curve_counts(scores, labels)
    pos = float(tp[-1]) if len(tp) else 0.0
    precision = tp / flagged
    recall = tp / pos if pos > 0 else np.zeros_like(tp)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {
        "threshold": cut_values(desc),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "flagged_share": flagged / n,
        "tp": tp,
        "flagged": flagged,
        "scores": desc,
    }


def curve_counts(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``curve``'s ``tp``, ``flagged`` and ``scores`` (the distinct scores from the highest), and the rows' count:
    what every other array of the curve is computed from."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    check_no_nan(s, "threshold curve")
    # The scores sorted, not the rows with their labels: each anomaly is then found among the distinct scores. Why: an
    # argsort carrying each row's label along took 0.2-0.5 s at 2M rows, np.sort 0.02 s
    rows = np.sort(s)
    # the last index of each run of equal scores but the highest's (`!=`, as np.diff makes inf - inf a NaN and would
    # split a run of infinite scores)
    ends = np.flatnonzero(rows[1:] != rows[:-1])
    # Why each array written in place, ascending, and read from the highest as a view: each holds a value per
    # distinct score, 80 MB at 10 million rows (evaluate's peak)
    rising = np.empty(len(ends) + 1)
    np.take(rows, ends, out=rising[:-1], mode="clip")  # "raise" buffers a copy of the whole output
    rising[-1] = rows[-1]
    del rows  # the distinct scores are all that is read from here on
    # the rows flagged by "score >= s_i", from the highest score: a run and those above it
    flagged = np.empty(len(rising))
    from_top = flagged[::-1]
    from_top[0] = len(s)
    np.subtract(len(s) - 1, ends, out=from_top[1:])
    del ends, from_top
    # each anomaly's run, from the highest score's (0); the anomalies flagged at a run: those of it and the runs above
    # (counted as floats, summed in place: whole counts, exact)
    run = len(rising) - 1 - np.searchsorted(rising, s[y])
    tp = np.bincount(run, weights=np.ones(len(run)), minlength=len(rising))
    np.cumsum(tp, out=tp)
    desc = rising[::-1]
    return tp, flagged, desc, len(s)


def cut_values(desc: np.ndarray) -> np.ndarray:
    """``curve``'s ``threshold``: a cut below each of the distinct scores ``desc`` (from the highest) that flags it
    and those above. Flagging "score >= s_i" equals "score > t" for any t between s_i and the next lower score; the
    midpoint keeps the choice stable under float32 rounding of recomputed scores."""
    # Why written into one array: each is a value per distinct score, 80 MB at 10 million rows
    values = np.empty(len(desc))
    mid, lower = values[:-1], desc[1:]
    with np.errstate(invalid="ignore"):
        np.add(desc[:-1], lower, out=mid)
        mid /= 2.0
    # beside an infinite score the midpoint is inf or NaN; the lower score itself still separates the runs
    odd = ~np.isfinite(mid)
    mid[odd] = lower[odd]
    values[-1] = np.nextafter(desc[-1], -np.inf)
    return values


# 95% two-sided normal quantile, for the intervals of labelled figures
Z95 = 1.959963984540054
# the end of chosen_on of a threshold chosen with confident=True (how `show` and the CLI tell it apart)
CONFIDENT_NOTE = "the target met by the lower end of its 95% interval"


def wilson(k: Any, n: Any, z: float = Z95) -> tuple[Any, Any]:
    """The Wilson score interval of a proportion k / n (95% by default), elementwise; NaN where n = 0.

    Why Wilson rather than p +- z sqrt(p(1-p)/n): at the proportions thresholds are judged by (precision near 1,
    a handful of labelled anomalies) that interval collapses to a point or leaves [0, 1]; Wilson's stays inside
    and keeps its coverage."""
    k, n = np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1.0 + z * z / n
        mid = (p + z * z / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
        # exact ends where the interval touches them: float rounding left 1 - 2e-16 above a recall of 1.0
        lo = np.where(k == 0, 0.0, np.maximum(0.0, mid - half))
        hi = np.where(k == n, 1.0, np.minimum(1.0, mid + half))
    lo, hi = np.where(n > 0, lo, np.nan), np.where(n > 0, hi, np.nan)
    return (float(lo), float(hi)) if lo.ndim == 0 else (lo, hi)


def check_labels(scores: np.ndarray, labels: np.ndarray, what: str) -> None:
    if len(scores) != len(labels) or len(scores) == 0:
        raise BadInputError(f"{what}: need as many labels as scores, at least one; got {len(scores)} and {len(labels)}.")
    u = set(np.unique(labels).tolist())
    if not u <= {0, 1}:
        raise BadInputError(f"{what}: labels must be 0 (normal) or 1 (anomaly); found values {sorted(u)[:5]}.")
    if not np.any(labels):
        raise BadInputError(f"{what}: none of the {len(labels)} labelled rows is an anomaly (label 1), so precision and "
                            f"recall are undefined; check the label column and the filter "
                            f"({optionwords.opts('label', 'where')}), which must keep some rows labelled 1.")


def pick(c: dict[str, np.ndarray], i: int, name: str, method: str, chosen_on: str) -> Threshold:
    """The threshold of cut ``i`` of ``curve`` ``c``, with its figures."""
    t = float(c["threshold"][i])
    if not np.isfinite(t):
        # flag everything when the lowest score is -inf: no value lies below it, and the lowest finite one
        # flags every other row
        t = float(np.finfo(np.float64).min)
    return Threshold(
        name=name, value=t, method=method, chosen_on=chosen_on, precision=float(c["precision"][i]),
        recall=float(c["recall"][i]), f1=float(c["f1"][i]), flagged_share=float(c["flagged_share"][i]),
    )


def percent_hint(target: float | None) -> str:
    """A guess at the share a target given as a percent means (90 for 0.9), for the refusal of a target above 1;
    empty when it cannot be one. Why: ``--target 90`` was refused with the range alone, though "90% precision" is
    how the goal is said. A question, which ends the sentence (no full stop after it)."""
    if target is None or not 1.0 < float(target) <= 100.0:
        return ""
    share = f"{float(target) / 100:g}"
    return f"; did you mean {optionwords.opt('target', float(share))}, for {float(target):g}%?"


TARGETED = ("min_precision", "min_recall", "flag_budget")


def goal_target(method: str, target: float | None) -> float:
    """The target of goal ``method`` (one of ``TARGETED``), refused outside (0, 1]; checked before the labelled rows
    are read and scored too."""
    if target is None or not (0.0 < float(target) <= 1.0):
        # the example fits the goal: a budget of 0.9 would flag 90% of rows
        what = "the largest share of rows to flag, e.g. 0.01" if method == "flag_budget" else \
            f"the {method[4:]} to reach, e.g. 0.9"
        raise OptionError(f"Threshold goal {method!r} needs {optionwords.opt('target')} in (0, 1], {what}; "
                          f"{optionwords.got(target)}{percent_hint(target) or '.'}")
    return float(target)


def check_goal_labels(s: np.ndarray, y: np.ndarray, method: str) -> None:
    """``check_labels``, and rows all labelled 1 refused, as a goal needs them."""
    check_labels(s, y, f"threshold {method!r}")
    if np.all(y):
        # Why refused here and not in check_labels: evaluate's recall figures hold on anomalies alone, but a goal
        # chosen on them stored a threshold flagging every row as "precision 1.000, recall 1.000"
        raise BadInputError(f"threshold {method!r}: none of the {len(y)} labelled rows is normal (label 0), so precision "
                            "is 1 at every threshold and the goal would pick one that flags every row; check the label "
                            f"column and the filter ({optionwords.opts('label', 'where')}), which must keep some rows "
                            "labelled 0.")


def goal_curve(s: np.ndarray, y: np.ndarray, method: str, w: np.ndarray | None = None,
               sampled: str | None = None) -> dict[str, np.ndarray]:
    """The ``curve`` goal ``method`` is chosen on, its labels checked first (``from_goal``'s refusals); ``w``: the
    rows' weights (all above 0), for a ``weights.curve``; ``sampled``: which rows they drew (``weights.curve``'s)."""
    check_goal_labels(s, y, method)
    if w is None:
        return curve(s, y)
    from .weights import curve as weighted  # not at the top: weights imports this module

    return weighted(s, y, w, sampled)


def from_goal(
    scores: Sequence[float] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    method: str,
    *,
    target: float | None = None,
    name: str | None = None,
    chosen_on: str = "",
    confident: bool = False,
    miss_cost: float | None = None,
    alarm_cost: float | None = None,
    anomaly_share: float | None = None,
    c: dict[str, np.ndarray] | None = None,
) -> Threshold:
    """A threshold meeting a goal on labelled scores.

    ``max_f1``: the best F1. ``min_precision``: the highest recall with precision >= target.
    ``min_recall``: the highest precision with recall >= target. ``flag_budget``: the best F1
    among thresholds flagging at most ``target`` (a share, e.g. 0.01) of rows. ``min_cost``: the lowest
    ``missed anomalies x miss_cost + false alarms x alarm_cost`` per row, at ``anomaly_share`` (the share of
    anomalies in the rows the cut will judge; ``None``: these rows' own); its ``chosen_on`` ends with
    ``costs.note``'s account of it.

    ``confident`` (``min_precision`` / ``min_recall``): the target must be met by the lower end of the figure's
    95% Wilson interval, not by the figure itself. Why: on 50 labelled anomalies a precision of 0.9 could be 0.79
    on other rows; a threshold whose interval starts at the target is one the labels vouch for.

    ``c``: the rows' ``goal_curve``, when the caller needs it too (it sorts the rows: 0.2 s at 2M rows).
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    if c is None:
        check_goal_labels(s, y, method)
    if (miss_cost is not None or alarm_cost is not None or anomaly_share is not None) and method != "min_cost":
        raise OptionError(f"{optionwords.opts('miss_cost', 'alarm_cost', 'anomaly_share')} are for min_cost, not "
                          f"{method!r}.")
    prices = costs.prices(miss_cost, alarm_cost, anomaly_share, f"threshold {method!r} needs") \
        if method == "min_cost" else None
    if confident and method not in ("min_precision", "min_recall"):
        raise OptionError(f"{optionwords.opt('confident')} is for min_precision and min_recall, not {method!r}.")
    c = curve(s, y) if c is None else c
    label = name or method
    if method == "max_f1":
        i = int(np.argmax(c["f1"]))
        return pick(c, i, label, method, chosen_on)
    if prices is not None:
        k = costs.at_cuts(c, len(s), prices)
        i = costs.cheapest(k)
        costs.refuse_flagging_none(k, i, prices)
        note = costs.note(k, i, prices)
        return pick(c, i, label, method, f"{chosen_on}; {note}" if chosen_on else note)
    target = goal_target(method, target)
    if confident and target >= 1.0:
        # the lower end is n / (n + z^2) at best: below 1 on any finite number of labels
        raise OptionError(f"With {optionwords.opt('confident', True)} {method[4:]} can never reach 1 at the lower end "
                          "of its 95% interval, on any number of labels; use a target below 1, e.g. 0.99.")
    which = "the lower end of its 95% interval" if confident else ""
    if method == "min_precision":
        prec = _lower_ends(c, len(s), float(y.sum()))[0] if confident else c["precision"]
        ok = np.nonzero(prec >= target)[0]
        if ok.size == 0:
            best = float(np.max(prec))
            raise BadInputError(
                f"No threshold reaches precision >= {target:g}{' at ' + which if which else ''} on "
                f"{chosen_on or 'these labels'} (the best is {best:.3f}); lower the target"
                f"{', or label more rows' if confident else ''}."
            )
        i = int(ok[np.argmax(c["recall"][ok])])
    elif method == "min_recall":
        rec = _lower_ends(c, len(s), float(y.sum()))[1] if confident else c["recall"]
        ok = np.nonzero(rec >= target)[0]
        if ok.size == 0:
            raise BadInputError(
                f"No threshold reaches recall >= {target:g} at {which} on {chosen_on or 'these labels'}: with "
                f"{int(y.sum())} labelled anomalies even flagging every row leaves the interval at "
                f"{float(np.max(rec)):.3f}; lower the target, or label more anomalies."
            )
        # ties in precision broken by recall: among cut-offs of one precision (all of them 1.0 above a clean
        # gap) the first met the target with the fewest anomalies caught, a point the lower ones dominate
        i = int(ok[np.lexsort((-c["recall"][ok], -c["precision"][ok]))[0]])
    elif method == "flag_budget":
        ok = np.nonzero(c["flagged_share"] <= target)[0]
        if ok.size == 0:
            top = int(c["flagged_share"][0] * len(s) + 0.5)
            why = (f"the {top} rows tied at the top score are {100 * top / len(s):.3g}% of the {len(s)} rows" if top > 1
                   else f"even one row is {100 / len(s):.3g}% of {len(s)}")
            raise BadInputError(f"No threshold flags at most {100 * target:.3g}% of rows ({why}); raise the budget.")
        i = int(ok[np.argmax(c["f1"][ok])])
    else:
        raise BadInputError(unknown_method(method))
    if confident:
        chosen_on = f"{chosen_on}; {CONFIDENT_NOTE}" if chosen_on else CONFIDENT_NOTE
    return pick(c, i, label, method, chosen_on)



def _lower_ends(c: dict[str, np.ndarray], n: int, pos: float) -> tuple[np.ndarray, np.ndarray]:
    """The lower ends of the 95% intervals of precision and recall at each cut of ``curve`` ``c`` (of ``n`` rows,
    ``pos`` anomalies): Wilson's; of a ``weights.curve``, ``weights.lower_ends``."""
    if "weighted" in c:
        from .weights import lower_ends  # not at the top: weights imports this module

        return lower_ends(c)
    flagged = np.rint(c["flagged_share"] * n)
    tp = np.rint(c["precision"] * flagged)
    return wilson(tp, flagged)[0], wilson(tp, pos)[0]


# the labelled rows of a goal, as goalthreshold._goal_threshold starts its chosen_on: "... (label y, 738 rows, 49 anomalies)"
_CHOSEN_ROWS = re.compile(r"\(label .+?, (\d+) rows, (\d+) anomal(?:y|ies)\)")


def figure_intervals(t: Threshold, share: float | None = None) -> dict[str, Any]:
    """The 95% Wilson intervals of a goal threshold's precision and recall on the labelled rows it was chosen on
    (``precision_lo``, ``precision_hi``, ``recall_lo``, ``recall_hi``, as evaluate names them; ``anomalies``: how
    many); empty for a threshold without such figures (manual, from training scores, carried). ``share`` (min_cost's
    anomaly_share): also its precision where anomalies are that share of the rows, with its interval
    (``precision_at_share``, ``_lo``, ``_hi``, as evaluate's). Why: the precision above is at the labelled rows'
    share, which a cost stated at another share does not meet.

    Why from chosen_on: the stored threshold keeps its figures, not the counts behind them, and the rows and
    anomalies its chosen_on names give those counts back (flagged rows, caught anomalies)."""
    if t.method not in LABELLED or None in (t.precision, t.recall, t.flagged_share):
        return {}
    if "; weighted by " in (t.chosen_on or ""):
        from .weights import figure_intervals as weighted  # not at the top: weights imports this module

        return weighted(t, share)
    found = _CHOSEN_ROWS.findall(t.chosen_on or "")
    if not found:
        return {}
    rows, pos = (int(v) for v in found[-1])  # the last: a source's own text comes first
    flagged, tp = round(float(t.flagged_share) * rows), round(float(t.recall) * pos)  # type: ignore[arg-type]
    p_lo, p_hi = wilson(tp, flagged)
    r_lo, r_hi = wilson(tp, pos)
    out = {"precision_lo": p_lo, "precision_hi": p_hi, "recall_lo": r_lo, "recall_hi": r_hi, "anomalies": pos}
    if share is not None:
        from .confusion import at_share  # not at the top: confusion imports this module

        out.update(at_share({"tp": tp, "fp": flagged - tp, "fn": pos - tp, "tn": rows - pos - (flagged - tp)}, share))
    return out
