"""The refusal of scikit-learn's calls that take the detector for a binary classifier (a curve display's
``from_estimator``), naming ``from_predictions`` of its scores instead."""

from __future__ import annotations

from typing import Any

from .exceptions import BadInputError


def _refuse_as_binary_classifier() -> None:
    """Raise when scikit-learn asks whether this detector is a binary classifier to take its scores from it (a curve
    display's ``from_estimator``, a threshold tuner): it refuses every outlier detector there, IsolationForest too,
    with "Expected 'estimator' to be a binary classifier", which does not say that the display's ``from_predictions``
    plots the same curve from ``decision_function``. Passing as a classifier instead would be a lie others act on
    (stratified folds, classifier scorers)."""
    import sys

    frame: Any = sys._getframe(1).f_back  # skip __sklearn_tags__ (the caller of this): who asked for the tags
    asking = None
    for _ in range(12):
        if frame is None:
            return
        name, module = frame.f_code.co_name, frame.f_globals.get("__name__", "")
        if asking is None and name == "_get_response_values_binary" and module.startswith("sklearn."):
            asking = "This scikit-learn call"
        elif asking is not None and name == "from_estimator" and isinstance(frame.f_locals.get("cls"), type):
            asking = f"{frame.f_locals['cls'].__name__}.from_estimator"
            break
        frame = frame.f_back
    if asking is None:
        return
    display = asking.split(".")[0] if asking.endswith(".from_estimator") else "PrecisionRecallDisplay"
    raise BadInputError(
        f"{asking} takes a binary classifier; AutoEncoderDetector is an outlier detector (scikit-learn refuses its "
        f"IsolationForest the same way). Pass its scores: {display}.from_predictions(y, det.decision_function(X)) "
        "(higher = more anomalous: y's 1 is the anomaly). ad_duckdb.evaluate(con, model, table, label=...) gives "
        "AUC-PR and AUC-ROC of a stored model.")
