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


def training_scores_note(ref: str, what: str, needs: str) -> str:
    """Why ``what`` (predict_proba(method='unify'), ...) is not available on a detector loaded from a model an earlier
    release stored, which keeps only 1001 quantiles of its training scores; ``needs``: what of them it reads."""
    return (f"This AutoEncoderDetector was loaded with from_store({ref!r}), a model stored by an earlier release of "
            f"ad_duckdb, which kept its training scores as 1001 quantiles only; {what} needs {needs}, which a model "
            "stored now keeps. Train it again to store them (ad_duckdb.train(...) or ad-duckdb train, the same "
            "options: get_params()); meanwhile decision_function(X) gives the scores, predict(X) the stored default "
            "threshold's answer and predict_proba(X) (method='linear') a 0-1 scale.")
