"""The Python API: connect, register, refresh, train, score, top_scored and the plots; evaluate and thresholds
(``evaluation``, ``thresholdset``) and the stored models, export / import (``models``). Each lives in a module of its
own subject (``opendb``, ``training``, ``scorerows``, ``scoreplots``, ...); this module gathers the public names, so that
``from ad_duckdb.api import train`` keeps working."""

from __future__ import annotations

from .evaluation import evaluate
from .models import ModelInfo, drop_model, export_model, import_model, list_models, load_model, read_onnx_file
from .opendb import connect, refresh
from .scoreplots import plot_scores, plot_scores_over_time
from .scorerows import score, top_scored
from .thresholdset import set_threshold
from .training import train
from .udfs import register

__all__ = [
    "ModelInfo", "connect", "drop_model", "evaluate", "export_model", "import_model", "list_models", "load_model",
    "plot_scores", "plot_scores_over_time", "read_onnx_file", "refresh", "register", "score", "set_threshold",
    "top_scored", "train",
]
