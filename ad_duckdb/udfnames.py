"""The SQL functions' names, for what reads or rewrites a query that calls them without importing the functions."""

from __future__ import annotations

FUNCTIONS = (
    "anomaly_score",
    "is_anomaly",
    "is_anomaly_at",
    "anomaly_percentile",
    "anomaly_explain",
    "anomaly_imputed",
    "anomaly_terms",
    "anomaly_mse",
    "anomaly_threshold",
    "anomaly_model",
)
# The functions that take no feature arguments (the rest take the model, then the features)
NO_FEATURES = ("anomaly_threshold", "anomaly_model")
