"""ad_duckdb: deep-learning anomaly detection inside DuckDB.

Train an autoencoder on a table, store it in the same database as ONNX, and score rows from SQL::

    con = ad_duckdb.connect("warehouse.duckdb")
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"])
    con.sql("SELECT *, anomaly_score('tx_ae', count, amount) FROM transactions")
"""

from __future__ import annotations

__version__ = "0.1.0"

# a submodule, imported here because the README calls it as ad_duckdb.compare.compare_versions after a plain
# `import ad_duckdb` (the CLI alone imported it, so the documented call raised AttributeError)
from . import compare as compare
from .api import (
    ModelInfo,
    connect,
    drop_model,
    evaluate,
    export_model,
    import_model,
    list_models,
    load_model,
    plot_scores,
    plot_scores_over_time,
    refresh,
    register,
    score,
    set_threshold,
    train,
)
from .detector import AutoEncoderDetector
from .exceptions import (
    AdDuckDBError,
    AdDuckDBWarning,
    BadInputError,
    DatabaseLockedError,
    DatabaseUnavailableError,
    FeatureMismatchError,
    IntegrityError,
    MissingDependencyError,
    ModelNotFoundError,
    NoRowsError,
    NotFittedError,
    NoTimesError,
    OptionError,
    SourceNotFoundError,
    ThresholdNotFoundError,
)

__all__ = [
    "AdDuckDBError", "AdDuckDBWarning", "AutoEncoderDetector", "BadInputError", "DatabaseLockedError",
    "DatabaseUnavailableError", "FeatureMismatchError", "IntegrityError", "MissingDependencyError", "ModelInfo",
    "ModelNotFoundError", "NoRowsError", "NoTimesError", "NotFittedError", "OptionError", "SourceNotFoundError",
    "ThresholdNotFoundError", "__version__", "connect", "drop_model", "evaluate", "export_model", "import_model",
    "list_models", "load_model", "plot_scores", "plot_scores_over_time", "refresh", "register", "score",
    "set_threshold", "train",
]
