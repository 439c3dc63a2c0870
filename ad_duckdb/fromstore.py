"""A stored model version as an ``AutoEncoderDetector``'s fitted state (``AutoEncoderDetector.from_store``): the
options it was trained with as the detector's parameters, and its ONNX graph as the scorer, so that a notebook
scores, predicts and explains exactly as SQL does. Never imports torch."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import duckdb
import numpy as np

from .retrain import stored_options
from .store import ModelRecord
from .trainer import TrainParams

_FIELDS = {f.name for f in fields(TrainParams)}


def _as_param(value: Any) -> Any:
    """A stored JSON value as the detector's parameter: sizes as tuples, as ``hidden_dims=(64, 32)`` is documented."""
    return tuple(value) if isinstance(value, list) else value


def stored_state(con: duckdb.DuckDBPyConnection, model: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The detector parameters and the fitted attributes of the stored model ``model`` ('name' or 'name@N')."""
    from .models import load_model

    rec: ModelRecord = load_model(con, model)
    # the detector's own defaults (robust on), so that fit(X) trains what these options say
    params = {k: _as_param(v) for k, v in stored_options(rec, robust_default=True).items()}
    if rec.kind == "vae":  # the detector has no kind=: variational=True is what kind='vae' sets
        params["variational"] = True
    state: dict[str, Any] = {
        "stored_ref_": rec.ref,
        "_record": rec,
        "specs_": rec.features,
        "n_features_in_": len(rec.features),
        "feature_names_in_": np.array(rec.feature_names, dtype=object),
        "classes_": np.array([0, 1]),  # as fit sets it: the labels predict gives
        # the stored columns have names: a frame is matched by them, an array read by position (as SQL takes them)
        "_fitted_on_frame": True,
        "_fitted_on_names": False,
        "train_params_": TrainParams(**{k: _as_param(v) for k, v in (rec.params or {}).items() if k in _FIELDS}),
    }
    default = rec.threshold("default")
    if default is not None:
        state["threshold_"] = float(default.value)
    return params, state


def training_scores_note(ref: str, what: str) -> str:
    """Why ``what`` (predict_proba, ...) is not available on a detector loaded from the store, and what to use."""
    return (f"This AutoEncoderDetector was loaded with from_store({ref!r}); the store keeps a model's training scores "
            f"as 1001 quantiles, not one per row, and {what} needs them. Use decision_function(X) for the scores, "
            "predict(X) for the stored default threshold, or SQL's anomaly_percentile(...) for a 0-1 scale; or "
            "fit(X) to train a new model with these options.")
