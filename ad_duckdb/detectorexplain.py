"""``AutoEncoderDetector.explain``: each row's features ranked by their share of its score, as SQL's
``anomaly_explain`` gives them, in the kind of frame given."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .detectorrows import _series_library
from .exceptions import BadInputError
from .frames import explanation_frame, frame_library

if TYPE_CHECKING:
    from .features import FeatureSpec


class ExplainMixin:
    """``explain`` of ``AutoEncoderDetector``, which gives the scoring it reads."""

    if TYPE_CHECKING:  # what AutoEncoderDetector gives these methods, declared for the type checker only
        specs_: list[FeatureSpec]
        n_features_in_: int
        feature_names_in_: np.ndarray

        def _check_fitted(self) -> None: ...

        def _stored_model(self) -> Any: ...

        def _as_rows(self, X: np.ndarray, given: bool = False) -> np.ndarray: ...

        def score_with_errors(self, X: np.ndarray, batch_size: int = 65536) -> tuple[np.ndarray, np.ndarray]: ...

    def explain(self, X: Any, top: int | None = 3, batch_size: int = 65536) -> Any:
        """Why each row scores as it does: its ``top`` features (None: all) ranked by their share of the score, the
        shares SQL's ``anomaly_explain`` gives the same model and row (Shapley values with the training medians as
        the typical row; a row's shares sum to 1), to float32 rounding. A missing value (NaN) is scored as
        ``decision_function`` scores it and never a reason: its share is 0, and ``imputed`` says the value it was
        scored at. Costs 2^d (or about 8 d beyond 6 features) scoring passes per row: rank with
        ``decision_function``, then explain the rows you look at.

        For a pandas DataFrame, a DataFrame with X's index and columns ``feature_1``, ``share_1``, ...,
        ``feature_{top}``, ``share_{top}`` and ``imputed`` (a dict of feature -> value imputed, None where no value
        was missing). For a polars DataFrame (or LazyFrame), a polars DataFrame of the same columns, in X's row
        order; for an Arrow table (or batch, reader, dataset), a DuckDB relation (``con.sql(...)``, ``con.table(...)``)
        or a dict of columns, an Arrow table, in the order the rows were read (DuckDB queries it by its variable's
        name: ``con.sql("SELECT * FROM why")``; ``con.from_arrow(why)`` makes it a relation); in both, ``imputed`` is a
        map of feature -> value (the type of ``score(explain=True)``'s ``anomaly_imputed``), null where no value was
        missing; a stored text model's text NULL is keyed by the category it was read as, ``"channel='web'": 1.0``,
        as ``anomaly_imputed`` keys it. For an array, as ``score_terms``, a dict of arrays: ``feature`` [n, top] (names, as
        ``feature_names_in_``), ``feature_index`` [n, top] (X's column), ``share`` [n, top] and ``imputed`` [n, d]
        (the value imputed where X had NaN, else NaN); a stored text model's also ``imputed_keys`` [d], each column's
        key (a text column's the category its NULL is read as, ``channel='web'``, imputed 1.0 where it was NULL), and
        it takes rows of values (a list, or an array of dtype=object: the text as text, None for NULL). A row whose
        every value is missing has nothing to explain (SQL's empty list): no feature (None, index -1) and NaN shares.
        ``batch_size``: rows per torch pass, as ``score_terms``'."""
        from . import shapley
        from .missing import candidates, fill_missing

        if top is not None and (isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1):
            raise BadInputError(f"AutoEncoderDetector.explain: top={top!r} must be a whole number of at least 1 (the "
                                "features shown per row), or None for all of them.")
        self._check_fitted()
        index = X.index if _series_library(X) is None and type(X).__module__.startswith("pandas") else None
        library = frame_library(X)
        lay = self.__dict__.get("_layout")
        if lay is not None:
            from .detectortext import read_once, text_attribution, text_imputed

            X = read_once(X, lay, [str(c) for c in self.feature_names_in_])  # its text NULLs are read after its rows
        rows = self._as_rows(X, given=True)
        keys = [str(c) for c in self.feature_names_in_]  # imputed's, by column
        if lay is not None:  # a stored model with text features: SQL's own attribution, and its imputed text NULLs
            parts, missing, imputed = text_attribution(self._stored_model(), rows)
            missing, imputed, keys = text_imputed(lay, X, missing, imputed, keys)
        else:
            scored = [rows]

            def run(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                return self.score_with_errors(r, batch_size)

            def fill(r: np.ndarray, s: np.ndarray, fe: np.ndarray) -> np.ndarray:
                scored[0] = fill_missing(r, s, fe, self.specs_, candidates(self.specs_), run)
                return scored[0]

            _, parts = shapley.attribution(rows, run, fill, lambda r: run(r)[0])
            missing = np.isnan(rows)
            imputed = np.where(missing, scored[0], np.nan)
        order, shares, some = shapley.ranked(parts)
        k = self.n_features_in_ if top is None else min(int(top), self.n_features_in_)
        order, shares = order[:, :k], shares[:, :k]
        order[~some], shares[~some] = -1, np.nan
        names = np.array([*self.feature_names_in_, None], dtype=object)[order]  # index -1: None
        if library is not None:  # the kind of frame given: a polars DataFrame for polars, an Arrow table for Arrow
            return explanation_frame(library, names, shares, imputed, keys)
        if index is None:
            out = {"feature": names, "feature_index": order, "share": shares, "imputed": imputed}
            # a text model's: each column's key as anomaly_imputed has it (channel='web' for a NULL read as 'web')
            return out if lay is None else {**out, "imputed_keys": keys}
        import sys

        pd: Any = sys.modules["pandas"]  # loaded: X is one of its frames
        columns: dict[str, Any] = {}
        for j in range(k):
            columns[f"feature_{j + 1}"] = names[:, j]
            columns[f"share_{j + 1}"] = shares[:, j]
        columns["imputed"] = [None if not m.any() else {keys[j]: float(v[j]) for j in np.flatnonzero(m)}
                              for m, v in zip(missing, imputed, strict=True)] if missing.any() else [None] * len(rows)
        return pd.DataFrame(columns, index=index)
