"""A stored model version as an ``AutoEncoderDetector``'s fitted state (``AutoEncoderDetector.from_store``): the
options it was trained with as the detector's parameters, and its ONNX graph as the scorer, so that a notebook
scores, predicts and explains exactly as SQL does. Never imports torch."""

from __future__ import annotations

import shlex
from dataclasses import fields
from typing import Any

import duckdb
import numpy as np

from . import categorical
from .closenames import did_you_mean
from .exceptions import ThresholdNotFoundError
from .optionwords import either
from .retrain import stored_options
from .store import ModelRecord, imported_parts
from .trainer import TrainParams
from .trainscores import TrainingScores

_FIELDS = {f.name for f in fields(TrainParams)}


def _as_param(value: Any) -> Any:
    """A stored JSON value as the detector's parameter: sizes as tuples, as ``hidden_dims=(64, 32)`` is documented."""
    return tuple(value) if isinstance(value, list) else value


def stored_state(con: duckdb.DuckDBPyConnection, model: str,
                 threshold: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The detector parameters and the fitted attributes of the stored model ``model`` ('name' or 'name@N');
    ``threshold``: the stored threshold ``threshold_`` is (None: ``default``, if the model has one)."""
    from .models import load_model

    rec: ModelRecord = load_model(con, model)
    # a model with text features (categorical.py): its graph takes each category as a 0/1 input, which the detector
    # makes of a frame's text columns (detectortext), as the SQL functions make them of the strings
    lay = categorical.layout(rec.features)
    # the detector's own defaults (robust on), so that fit(X) trains what these options say
    params = {k: _as_param(v) for k, v in stored_options(rec, robust_default=True).items()}
    if rec.kind == "vae":  # the detector has no kind=: variational=True is what kind='vae' sets
        params["variational"] = True
    state: dict[str, Any] = {
        "stored_ref_": rec.ref,
        "_record": rec,
        "specs_": rec.features,
        "n_features_in_": len(rec.feature_names),  # the columns a frame passes (a text column once)
        "_layout": lay,
        "feature_names_in_": np.array(rec.feature_names, dtype=object),
        "classes_": np.array([0, 1]),  # as fit sets it: the labels predict gives
        # the stored columns have names: a frame is matched by them, an array read by position (as SQL takes them)
        "_fitted_on_frame": True,
        "_fitted_on_names": False,
        "train_params_": TrainParams(**{k: _as_param(v) for k, v in (rec.params or {}).items() if k in _FIELDS}),
    }
    if threshold is None:
        default = rec.threshold("default")
        if default is not None:
            state["threshold_"] = float(default.value)
        return params, state
    chosen = rec.threshold(threshold)
    if chosen is None:
        raise _no_threshold(rec, model, threshold)
    state["threshold_"] = float(chosen.value)
    state["threshold_name_"] = threshold
    summary = TrainingScores.of_metrics(rec.train_rows, rec.metrics)
    if summary is not None and threshold != "default":
        # Why: predict_confidence turns at the rank of threshold_ among the training scores, which PyOD reads off the
        # contamination; for another cut, the share of training rows it flags (+ half a row: confidence_at floors it)
        above = summary.n - int(summary.at_or_below(np.array([chosen.value]))[0])
        state["_flag_share"] = (above + 0.5) / summary.n
    return params, state


def _no_threshold(rec: ModelRecord, model: str, name: str) -> ThresholdNotFoundError:
    """The refusal of ``from_store(con, model, threshold=name)`` for a name ``rec`` does not store."""
    stored = sorted(rec.thresholds, key=lambda t: t.name)
    known = ", ".join(f"{t.name!r} ({t.value:.6g})" for t in stored) or "none"
    guess = did_you_mean(name, [t.name for t in stored])
    pick = f" Pass one of them: from_store(con, {model!r}, threshold={stored[0].name!r})." if stored else ""
    # Why not after a guess: 'C10' is a typo of 'c10', and storing it would make a second cut beside it
    store = "" if guess else (
        " Or store it on this version: " + either(f"ad_duckdb.set_threshold(con, {rec.ref!r}, {name!r}, METHOD, ...).",
                                                   f"ad-duckdb threshold DB {rec.ref} {shlex.quote(name)} --method METHOD."))
    return ThresholdNotFoundError(
        f"Model {rec.ref!r} has no threshold {name!r}; its thresholds are: {known}.{guess}{pick}{store}")


def training_scores_note(rec: ModelRecord, what: str, needs: str, *, summary: bool) -> str:
    """Why ``what`` (predict_proba(method='unify'), ...) is not available on a detector loaded from ``rec``;
    ``needs``: what of its training scores it reads. ``summary``: whether ``rec`` keeps their 1001 quantiles (a model
    an earlier release stored) rather than nothing of them (one imported from a file that carried none)."""
    loaded = f"This AutoEncoderDetector was loaded with from_store({rec.ref!r}), "
    if summary:
        return (f"{loaded}a model stored by an earlier release of ad_duckdb, which kept its training scores as 1001 "
                f"quantiles only; {what} needs {needs}, which a model stored now keeps. Train it again to store them "
                "(ad_duckdb.train(...), the same options: get_params()); meanwhile "
                "decision_function(X) gives the scores, predict(X) the stored default threshold's answer and "
                "predict_proba(X) (method='linear') a 0-1 scale.")
    # Why not "an earlier release": every release stored the quantiles; a record without them came from a file
    # (another program's, or one whose metadata was rewritten), and 'linear' needs them as well
    meanwhile = ("meanwhile decision_function(X) gives the scores and predict(X) the stored default threshold's "
                 "answer.")
    # Why Python's calls alone: the reader holds a Python object (AutoEncoderDetector), not a command line
    again = "train it again (ad_duckdb.train(...), the same options: get_params())"
    imported = imported_parts(rec.source)
    if imported:
        return (f"{loaded}a model imported from {imported[0]!r}, whose file carried no summary of its training "
                f"scores (their quantiles, mean and count); {what} needs {needs}. Export it again from the database "
                "that trained it (ad_duckdb.export_model: its file carries them) and import that "
                f"file (ad_duckdb.import_model), or {again}; {meanwhile}")
    return (f"{loaded}a model stored without a summary of its training scores (ad_models.metrics holds no "
            f"score_quantiles); {what} needs {needs}. To store them, {again}; {meanwhile}")
