"""``AutoEncoderDetector``'s labels, probabilities and confidences (PyOD's ``predict``, ``predict_proba``,
``predict_confidence``): ``decision_function`` against ``threshold_`` and the training scores, a fitted detector's
``decision_scores_`` or a stored model's summary of them."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .exceptions import BadInputError, NotFittedError

if TYPE_CHECKING:
    from .trainer import TrainParams


class PredictMixin:
    """``predict``, ``predict_confidence`` and ``predict_proba`` of ``AutoEncoderDetector``, which gives the scores."""

    if TYPE_CHECKING:  # what AutoEncoderDetector gives these methods, declared for the type checker only
        threshold_: float
        decision_scores_: np.ndarray
        train_params_: TrainParams

        def _check_fitted(self) -> None: ...

        def decision_function(self, X: np.ndarray) -> np.ndarray: ...

    def _check_training_scores(self, what: str | None = None, needs: str = "") -> Any:
        """Refuse a detector without ``threshold_``; ``what``: the method, which needs the training scores too
        (``needs``: 'spread' their standard deviation, 'ranks' each score's rank among them), given back as a
        ``trainscores.TrainingScores``: a fitted detector's ``decision_scores_``, a stored model's summary."""
        from .trainscores import TrainingScores

        self._check_fitted()
        if what is not None and "_record" in self.__dict__:
            from .fromstore import training_scores_note

            rec = self.__dict__["_record"]
            summary = TrainingScores.of_metrics(rec.train_rows, rec.metrics)
            lacking = ("their lowest and highest" if summary is None
                       else "their standard deviation" if needs == "spread" and summary.std is None
                       else "their ranks near the threshold" if needs == "ranks" and not summary.ranks_known else None)
            if lacking is not None:
                raise NotFittedError(training_scores_note(rec, what, lacking, summary=summary is not None))
        if not hasattr(self, "threshold_"):
            raise NotFittedError("This AutoEncoderDetector was fitted with score_training_rows=False, so it has no "
                                 "threshold_ to predict with; fit with score_training_rows=True, or compare "
                                 "decision_function(X) with a threshold of your own.")
        if what is None:
            return None
        return summary if "_record" in self.__dict__ else TrainingScores.of_scores(self.decision_scores_)

    def predict(self, X: np.ndarray, return_confidence: bool = False) -> Any:
        """1 for rows scoring above ``threshold_`` (anomalies), 0 for the others (PyOD's convention);
        ``return_confidence=True``: ``(labels, predict_confidence(X))``."""
        train = self._check_training_scores("predict(X, return_confidence=True)" if return_confidence else None,
                                            "ranks")
        s = self.decision_function(X)
        labels = (s > self.threshold_).astype(np.int64)
        return (labels, self._confidence(train, s)) if return_confidence else labels

    def predict_confidence(self, X: np.ndarray) -> np.ndarray:
        """How consistently each row's ``predict`` would come out if the training rows were slightly different, in
        [0, 1] (PyOD's ``predict_confidence``, Perini et al. 2020): near 0.5 for rows near ``threshold_``, near 1
        far from it. NaN for a row whose score is NaN. Loaded ``from_store``, it reads each score's rank among the
        training scores from the model's stored summary (exact near the threshold, where the confidence is not 1;
        a model stored by an earlier release has none: retrain it)."""
        train = self._check_training_scores("predict_confidence", "ranks")
        return self._confidence(train, self.decision_function(X))

    def _confidence(self, train: Any, s: np.ndarray) -> np.ndarray:
        from .confidence import confidence_at

        share = self.__dict__.get("_flag_share", self.train_params_.contamination)  # from_store(..., threshold=)
        return confidence_at(train.at_or_below(s), train.n, s, self.threshold_, share)

    def predict_proba(self, X: np.ndarray, method: str = "linear", return_confidence: bool = False) -> Any:
        """Scores turned into ``[P(normal), P(anomaly)]`` per row, as PyOD's ``predict_proba``: a rescaling of
        ``decision_function`` by the training scores, not a calibrated probability.

        ``method='linear'``: min-max scaled by ``decision_scores_``, clipped to [0, 1]; ``'unify'``: erf of the
        score standardised by the training scores' mean and standard deviation, clipped to [0, 1].
        ``return_confidence=True``: ``(probabilities, predict_confidence(X))``.

        Loaded ``from_store``, the training scores are those of every row the model was trained on, as SQL scored
        them: the lowest and highest are the stored quantiles' ends, the mean and standard deviation stored with the
        model (one stored by an earlier release has no standard deviation: 'linear' only), so the result equals a
        detector fitted on the same rows to float32 rounding of the scores (within 1e-4 in the tests)."""
        if method not in ("linear", "unify"):
            raise BadInputError(f"method={method!r} is not a probability conversion of AutoEncoderDetector; use "
                                "'linear' (the default) or 'unify'.")
        what = "predict_proba" + ("(method='unify')" if method == "unify" else "")
        train = self._check_training_scores(what + (" with return_confidence=True" if return_confidence else ""),
                                            "ranks" if return_confidence else "spread" if method == "unify" else "")
        if return_confidence and method == "unify":
            self._check_training_scores(what, "spread")
        s = self.decision_function(X)
        if method == "linear":
            span = train.high - train.low
            p = (s - train.low) / (span if span > 0 else 1.0)  # as MinMaxScaler treats a constant column
        else:
            sigma = train.std
            p = np.vectorize(math.erf, otypes=[np.float64])((s - train.mean) / ((sigma if sigma > 0 else 1.0) * math.sqrt(2)))
        p = np.clip(p, 0.0, 1.0)
        proba = np.column_stack([1.0 - p, p])
        return (proba, self._confidence(train, s)) if return_confidence else proba
