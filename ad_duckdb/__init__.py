"""ad_duckdb: deep-learning anomaly detection inside DuckDB.

Train an autoencoder on a table, store it in the same database as ONNX, and score rows from SQL::

    con = ad_duckdb.connect("warehouse.duckdb")
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"])
    con.sql("SELECT *, anomaly_score('tx_ae', count, amount) FROM transactions")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.1"

if TYPE_CHECKING:
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
    from .compare import compare_versions
    from .detector import AutoEncoderDetector
    from .exceptions import (
        AdDuckDBError,
        AdDuckDBWarning,
        BadInputError,
        BadReferenceError,
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
    from .promotion import model_history, promote, rollback
    from .thresholdcheck import check_threshold

# Why loaded on first use (PEP 562), not here: `import ad_duckdb` runs before the `ad-duckdb` command can watch for
# Ctrl-C, and importing DuckDB, numpy and pyarrow takes 1.5 s, in which a Ctrl-C printed a 30-line traceback
# (ad_duckdb.launch). The module each public name lives in:
_HOME = {
    **dict.fromkeys(("ModelInfo", "connect", "drop_model", "evaluate", "export_model", "import_model", "list_models",
                     "load_model", "plot_scores", "plot_scores_over_time", "refresh", "register", "score",
                     "set_threshold", "train"), "api"),
    "AutoEncoderDetector": "detector",
    **dict.fromkeys(("model_history", "promote", "rollback"), "promotion"),
    "compare_versions": "compare",
    "check_threshold": "thresholdcheck",
    **dict.fromkeys(("AdDuckDBError", "AdDuckDBWarning", "BadInputError", "BadReferenceError", "DatabaseLockedError",
                     "DatabaseUnavailableError", "FeatureMismatchError", "IntegrityError", "MissingDependencyError",
                     "ModelNotFoundError", "NoRowsError", "NotFittedError", "NoTimesError", "OptionError",
                     "SourceNotFoundError", "ThresholdNotFoundError"), "exceptions"),
}


def __getattr__(name: str) -> Any:
    """A public name, or a submodule (``ad_duckdb.compare.compare_versions``, the older spelling of
    ``ad_duckdb.compare_versions``, after a plain ``import ad_duckdb``), imported on first use."""
    home = _HOME.get(name)
    if home is None:
        if name.startswith("_"):
            raise AttributeError(f"module 'ad_duckdb' has no attribute {name!r}")
        try:
            value: Any = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module 'ad_duckdb' has no attribute {name!r}") from None
    else:
        value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME, "compare"})


__all__ = [
    "AdDuckDBError", "AdDuckDBWarning", "AutoEncoderDetector", "BadInputError", "BadReferenceError",
    "DatabaseLockedError",
    "DatabaseUnavailableError", "FeatureMismatchError", "IntegrityError", "MissingDependencyError", "ModelInfo",
    "ModelNotFoundError", "NoRowsError", "NoTimesError", "NotFittedError", "OptionError", "SourceNotFoundError",
    "ThresholdNotFoundError", "__version__", "check_threshold", "compare_versions", "connect", "drop_model", "evaluate",
    "export_model", "import_model", "list_models", "load_model", "model_history", "plot_scores", "plot_scores_over_time",
    "promote", "refresh", "register", "rollback", "score",
    "set_threshold", "train",
]
