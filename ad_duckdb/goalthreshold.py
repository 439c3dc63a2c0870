"""A threshold chosen for a goal on labelled rows (``max_f1``, ``min_precision``, ... ``min_cost``; an
``alarm_rate`` on rows believed normal), the goal as stored (``_is_goal``). ``set_threshold`` and a retrain's
``choose_goals_again`` both choose through it; the maths is ``thresholds``."""

from __future__ import annotations

from typing import Any, TypeGuard

import duckdb
import numpy as np

from . import alarmrate, costs, notes, thresholds, weights
from . import sampled as sampling
from .exceptions import AdDuckDBError, BadInputError
from .invertedlabels import _A_LITTLE_BELOW, _inverted_labels, _weighted_inverted
from .labelled import _labelled_scores
from .scoring import LoadedModel
from .store import Threshold
from .trainoverlap import _training_overlap


def _is_goal(goal: Any) -> TypeGuard[dict[str, Any]]:
    """Whether a stored goal (ad_models.metrics, which an imported file also brings) has what choosing needs."""
    if isinstance(goal, dict) and goal.get("method") == alarmrate.METHOD:
        return alarmrate.from_goal(goal) is not None
    return (isinstance(goal, dict) and goal.get("method") in thresholds.LABELLED
            and all(isinstance(goal.get(k), str) for k in ("source", "label"))
            and isinstance(goal.get("where"), (str, type(None))) and isinstance(goal.get("confident"), bool)
            and isinstance(goal.get("weight"), (str, type(None)))
            and goal.get("sampled") in (None, *sampling.CHOICES)
            and (goal.get("target") is None or isinstance(goal.get("target"), (int, float)))
            and (goal["method"] != "min_cost" or _costs_ok(goal)))


def _costs_ok(goal: dict[str, Any]) -> bool:
    try:
        costs.prices(goal.get("miss_cost"), goal.get("alarm_cost"), goal.get("anomaly_share"), "")
    except AdDuckDBError:
        return False
    return True


def _goal_threshold(con: duckdb.DuckDBPyConnection, lm: LoadedModel, name: str, goal: dict[str, Any],
                    note: str = "", progress: bool = False) -> Threshold:
    """The threshold meeting ``goal`` (method, target, source, label, where, confident) on the labelled rows, for
    model ``lm``; ``note`` goes into its ``chosen_on`` after the rows; ``progress``: the rows scored, on stderr."""
    if goal["method"] == alarmrate.METHOD:
        want = alarmrate.from_goal(goal)
        if want is None:
            raise BadInputError(f"Threshold {name!r} for {lm.ref!r}: its stored alarm-rate goal {goal!r} is malformed; "
                                "set it again with method 'alarm_rate'.")
        # keep=goal: the retrain's new cut gets its own promise, stored with the goal for the new version
        return alarmrate.choose(con, lm, name, want, goal["source"], goal["where"], progress=progress, note=note,
                                weight=goal.get("weight"), keep=goal, series=goal.get("series"), tz=goal.get("tz"),
                                timestamps_in=goal.get("timestamps_in"))
    from .auc import curve_auc_roc
    from .numbertext import count_text

    source, label, where, weight = goal["source"], goal["label"], goal["where"], goal.get("weight")
    sampled = goal.get("sampled")
    repeats: list[str] = []
    read_w: list[np.ndarray] = []
    _, s, y = _labelled_scores(con, lm, source, label, where, repeats=repeats,
                               progress=f"choosing threshold {name!r} for " if progress else None, weight=weight,
                               weights_read=read_w)
    w = read_w[0] if read_w else None
    on = f"{source}{' WHERE ' + where if where else ''} (label {label}, {len(s)} rows, {int(y.sum())} anomalies"
    if w is not None:
        sampling.check_anomalies(f"Threshold {name!r} for {lm.ref!r}", weight, sampled, y, w)  # type: ignore[arg-type]
        k = weights.summary(weight, y, w)  # type: ignore[arg-type]
        s, y, w = s[w > 0], y[w > 0], w[w > 0]  # a row of weight 0 counts as none
        on += (f"; weighted by {weight}: {count_text(k['rows'])} rows, {count_text(k['anomalies'])} anomalies, "
               f"Kish's effective sizes {weights.size_text(k['effective_anomalies'])} anomalies and "
               f"{weights.size_text(k['effective_normal'])} normal rows")
    sizes = len(on)  # where the flagged cells' sizes go, once the threshold is chosen
    on += ")"
    overlap = _training_overlap(con, lm, source, where, label)
    on += f"; {overlap[:1].lower()}{overlap[1:]}" if overlap else ""
    on += f"; {note}" if note else ""
    try:
        # one sort of the rows for the goal and the inverted-label check's AUC-ROC (each sorted them: 2M rows, 0.5 s)
        c = thresholds.goal_curve(s, y, goal["method"], w, sampled)
        th = thresholds.from_goal(s, y, goal["method"], target=goal["target"], name=name, chosen_on=on,
                                  confident=goal["confident"], miss_cost=goal.get("miss_cost"),
                                  alarm_cost=goal.get("alarm_cost"), anomaly_share=goal.get("anomaly_share"), c=c)
    except BadInputError as e:  # from_goal knows the rows, not the model: name it, as the checks above do
        msg = str(e)
        raise type(e)(f"Threshold {name!r} for {lm.ref!r}: {msg[:1].lower()}{msg[1:]}") from None
    if w is not None and (th.chosen_on or "").startswith(on):  # from_goal may add a note after (confident=True)
        # the cells' effective sizes at the value: threshold prints evaluate's intervals from them (weights.figure_intervals)
        th.chosen_on = on[:sizes] + weights.flagged_sizes(s, y, w, th.value, sampled) + (th.chosen_on or "")[sizes:]
    for said in repeats:
        notes.warn(f"Threshold {name!r} for {lm.ref!r} was chosen on rows that repeat: {said}")
    if w is None:
        anomalies = int(y.sum())
        inverted = _inverted_labels(lm, label, s, y, curve_auc_roc(c, anomalies, len(y) - anomalies))
    else:
        inverted = _weighted_inverted(lm, label, s, y, w, c)
    if inverted:
        how = "no better than chance" if _A_LITTLE_BELOW in inverted else "the wrong way round"
        notes.warn(f"Threshold {name!r} for {lm.ref!r} was chosen on labels {lm.ref} ranks {how}: {inverted}")
    return th
