"""The scikit-learn-shaped detector behind ``ad_duckdb.train`` (a numpy-level object, not a second way in)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa

from .chunks import row_slices
from .detectorchecks import _check_labels, _warn_if_label, _warn_if_named, _warn_if_unnamed
from .detectorexplain import ExplainMixin
from .detectorfit import fit_text, refuse_empty, text_columns
from .detectorparams import _OTHER_NAMES, _plain, check_names
from .detectorpredict import PredictMixin
from .detectorrows import _column_names, _float_rows, _frame, _frame_rows, _repeats, _selection, _series_library
from .exceptions import BadInputError, MissingDependencyError, NotFittedError
from .features import RANGE_QUANTILE_UNLABELLED, FeatureSpec, fit_specs, transform
from .fitids import warn_id_columns
from .frames import advice_library
from .notclassifier import _refuse_as_binary_classifier
from .onerow import flat_row
from .trainer import RANGES, TrainParams, calibrate, fit_ensemble

_PARAMS = TrainParams.__dataclass_fields__


class AutoEncoderDetector(PredictMixin, ExplainMixin):
    """Ensemble of dense autoencoders scored by reconstruction error, latent-neighbour distance and range.

    Parameters
    ----------
    **params
        Any field of :class:`ad_duckdb.trainer.TrainParams` (``hidden_dims``, ``latent_dim``, ``n_models``,
        ``epochs``, ``batch_size``, ``lr``, ``robust``, ``contamination``, ``seed``, ...). ``code_sizes=(2, 4, 8,
        16)``: four members whose codes keep that many numbers each (``TrainParams.with_code_sizes``).

    Attributes
    ----------
    specs_ : list of FeatureSpec
        Per-feature transform, fill value and scaling learned from the training rows.
    decision_scores_ : ndarray of shape (n_samples,)
        Scores of the rows ``fit`` was given, in their order (higher = more anomalous); all of them, also above
        ``max_train_rows``, where training itself uses a sample.
    threshold_ : float
        The ``1 - contamination`` quantile of ``decision_scores_``.
    labels_ : ndarray of int of shape (n_samples,)
        1 for the rows of ``decision_scores_`` above ``threshold_``, 0 for the others (PyOD's ``labels_``).
    n_features_in_ : int
        Number of features seen by ``fit``.
    feature_names_in_ : ndarray of str
        A DataFrame's column names, or ``fit``'s ``feature_names=`` (a later DataFrame is matched by these names),
        else ``x0, x1, ...``.
    classes_ : ndarray of int
        ``[0, 1]``, the labels ``predict`` gives (for ``cross_val_predict(..., method="decision_function")``).
    stored_ref_ : str or None
        The stored model a detector made by ``from_store`` scores with (``'tx_ae@2'``); None after ``fit``.
    threshold_name_ : str
        The stored threshold ``threshold_`` is, when ``from_store`` was given one (``threshold='c2'``); unset after
        ``fit``.

    Notes
    -----
    Works with ``clone``, ``Pipeline``, ``GridSearchCV`` and ``cross_val_score``, and pickles (for your own
    caching; ``ad_duckdb.train`` stores ONNX, never pickles). Where it departs from scikit-learn's estimator
    checks (``check_estimator``), on purpose:

    - ``predict`` and ``fit_predict`` return PyOD's 1 = anomaly, 0 = normal, not scikit-learn's -1/1, to match
      ``is_anomaly`` in SQL. ``decision_function`` is higher = more anomalous (PyOD); ``score_samples`` is its
      negative, scikit-learn's higher = more normal (as ``IsolationForest.score_samples``).
    - PyOD's ``labels_``, ``predict_proba(X, method='linear' | 'unify')``, ``predict_confidence`` and
      ``return_confidence=`` are here (the confidence without SciPy); ``predict_with_rejection`` is not.
    - Parameters are ``**params`` checked against ``TrainParams``, one list shared with ``ad_duckdb.train``, and
      held in ``self.params``; ``get_params()`` returns the ones you set (the rest take ``TrainParams``'s
      defaults). Each is also an attribute, as in PyOD: ``det.contamination`` reads it (its default if unset),
      ``det.contamination = 0.05`` sets it for the next ``fit``. The seed is ``seed`` (default 0, so fits are reproducible), not ``random_state``.
    - ``classes_`` is ``[0, 1]``, the labels ``predict`` gives, so ``cross_val_predict(det, X, y,
      method="decision_function")`` works (given ``y``, scikit-learn orders the output by ``classes_``); yet it is
      no classifier: ``PrecisionRecallDisplay.from_estimator`` (and the ROC and DET displays) refuse it, as they
      refuse ``IsolationForest``, with a message naming ``from_predictions(y, det.decision_function(X))``.
    - ``fit`` needs at least 20 rows: the scaling and the thresholds are statistics of the training rows.
    - Unfitted, it raises ``ad_duckdb.NotFittedError`` (a ``ValueError`` and ``AttributeError``, as scikit-learn's
      is), not ``sklearn.exceptions.NotFittedError``: scikit-learn is not a dependency.
    - Scores are float32 computations: a row scored alone and in a batch can differ in the last digits (about
      1e-6 relative).
    """

    def __init__(self, **params: Any) -> None:
        self.params = params

    def __getattr__(self, name: str) -> Any:
        """A parameter as an attribute, its default if unset (``det.contamination``), as PyOD's and scikit-learn's
        detectors keep theirs. Only called when ``name`` is not in ``__dict__``; the dict is read directly, as
        unpickling asks before ``params`` exists."""
        if name in _PARAMS:
            params = self.__dict__.get("params", {})
            return params[name] if name in params else _PARAMS[name].default
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        # Why into params: set on the instance, ``det.contamination = 0.2`` was ignored by fit without a word. A new
        # dict: copy.copy(det) shares the old one, and the original's parameter changed with its copy's
        if name in _PARAMS:
            self.params = {**self.params, name: value}
        elif name in _OTHER_NAMES:  # det.random_state = 7: an attribute fit never reads, the seed left as it was
            check_names({name: value})
        else:
            super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *_PARAMS})

    def __repr__(self) -> str:
        shown = f"AutoEncoderDetector({', '.join(f'{k}={v!r}' for k, v in self.params.items())})"
        ref = self.__dict__.get("stored_ref_")
        cut = self.__dict__.get("threshold_name_")
        return f"{shown}, from_store({ref!r}{'' if cut is None else f', threshold={cut!r}'})" if ref else shown

    def __getstate__(self) -> dict[str, Any]:
        # a stored model's onnxruntime session cannot be pickled; it is made again from the record on first use
        return {k: v for k, v in self.__dict__.items() if k != "_scorer"}

    @classmethod
    def from_store(cls, con: Any, model: str, threshold: str | None = None) -> AutoEncoderDetector:
        """A stored model (``'name'``, its latest version, or ``'name@N'``) as a fitted detector, without retraining:
        what ``ad_duckdb.train`` or ``ad-duckdb train`` stored, in a notebook.

        It scores with the stored ONNX graph, as SQL does: ``decision_function`` equals ``anomaly_score`` on the same
        rows (NULL / NaN values filled the same way), ``predict`` is ``is_anomaly`` (``threshold_`` is the stored
        ``default`` threshold), or with ``threshold='c2'`` that stored threshold (``is_anomaly_at(model, 'c2', ...)``;
        a name the version does not store is refused, listing those it stores), ``explain`` gives ``anomaly_explain``'s shares and ``score_terms``
        ``anomaly_terms``'. Torch is not needed (a scoring-only install loads and scores). A DataFrame's columns
        are matched by the model's feature names (``feature_names_in_``); an array is read by position, in that
        order. A model with text features takes a DataFrame (pandas, polars, Arrow) with its columns, each text one as
        text, read as SQL reads it (a value that is not a category as any other value, a NULL as the most common
        category); ``n_features_in_`` counts its columns. ``stored_ref_`` says which version (``'tx_ae@2'``); the
        connection may be closed afterwards.

        ``get_params()`` returns the options the model was trained with (those that differ from the defaults, and
        the seed). ``fit(X)`` trains a new model on ``X`` with them, as ``fit`` always does, and from then on scores
        with that one (``stored_ref_`` becomes None); the stored model is left as it is (``ad_duckdb.train`` stores
        a new version). ``decision_scores_`` and ``labels_`` are not set, as the store keeps no score per training
        row; ``predict_proba`` and ``predict_confidence`` read the summary of them stored with the model (its
        quantiles, mean, standard deviation and the scores of the ranks around the threshold's), and equal those of
        a detector fitted on the same rows. A model stored by an earlier release keeps the quantiles only: there
        ``predict_proba(X)`` ('linear') works, and 'unify' and the confidence raise ``NotFittedError`` saying to
        retrain it. One imported from a file that carried no summary of its training scores has none of it: every
        ``predict_proba`` and the confidence raise ``NotFittedError`` saying so, and how to get a file that does.

        Examples
        --------
        >>> det = AutoEncoderDetector.from_store(con, "tx_ae@1")  # doctest: +SKIP
        >>> det.decision_function(df)  # anomaly_score('tx_ae@1', count, amount) of df's rows  # doctest: +SKIP
        """
        from .attachedmodels import said_where
        from .fromstore import stored_state

        with said_where(con, model):
            params, state = stored_state(con, model, threshold)
        det = cls(**params)
        det.__dict__.update(state)
        return det

    def _stored_model(self) -> Any:
        """The stored model this detector scores with (a ``scoring.LoadedModel``), None after ``fit``."""
        rec = self.__dict__.get("_record")
        if rec is None:
            return None
        if "_scorer" not in self.__dict__:
            from .scoring import LoadedModel

            self.__dict__["_scorer"] = LoadedModel(rec)
        return self.__dict__["_scorer"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters (scikit-learn's signature, so ``clone`` and grid searches work; nothing is nested)."""
        return dict(self.params)

    def set_params(self, **params: Any) -> AutoEncoderDetector:
        """Change parameters (scikit-learn's ``set_params``); an unknown name is refused here, as scikit-learn does,
        not at the next ``fit``."""
        check_names(params)
        self.params = {**self.params, **params}  # a new dict, as __setattr__'s
        return self

    def __sklearn_tags__(self) -> Any:
        """What scikit-learn >= 1.6 asks every estimator before ``GridSearchCV`` or ``cross_val_score`` use it (without
        it they stop with an AttributeError): an outlier detector, ``y`` optional, NaN allowed (filled). scikit-learn
        is imported only here, when it is the caller."""
        from sklearn.utils import InputTags, Tags, TargetTags

        _refuse_as_binary_classifier()
        return Tags(estimator_type="outlier_detector", target_tags=TargetTags(required=False),
                    input_tags=InputTags(allow_nan=True))

    def _train_params(self) -> TrainParams:
        check_names(self.params)
        p = TrainParams(**{k: _plain(v) for k, v in self.params.items()})
        p.validate()  # before any conversion, so a message shows the value as passed
        if p.hidden_dims is not None and not isinstance(p.hidden_dims, tuple):
            p = replace(p, hidden_dims=tuple(p.hidden_dims))
        # validate() accepts whole-number floats for int parameters (max_train_rows=1e6); torch and numpy need ints
        whole: dict[str, Any] = {name: int(getattr(p, name)) for name, (kind, _, _) in RANGES.items()
                                 if kind is int and not isinstance(getattr(p, name), int)}
        return (replace(p, **whole) if whole else p).with_code_sizes(self.params)

    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        feature_names: Sequence[str] | None = None,
        sql_types: Sequence[str] | None = None,
        model_name: str = "model",
        source: str | None = None,
        score_training_rows: bool = True,
    ) -> AutoEncoderDetector:
        """Fit on raw feature values (NaN allowed: filled with the training median). ``y`` is ignored (unsupervised,
        as in scikit-learn); a DataFrame's column names become the feature names, or ``feature_names=`` an array's,
        by which a DataFrame scored later is matched (an array is read by position, and so is a DataFrame after a fit
        on an array without ``feature_names=``, with a warning, as scikit-learn's). ``model_name`` and ``source`` are
        what ``ad_duckdb.train`` passes (its errors then speak of the table); without ``source``, of ``X``. A frame's
        text columns (a channel) are read as their categories, trained as ``ad_duckdb.train`` trains them (README,
        "Text columns as features"; ``detectorfit``).

        Training is robust by default, for rows that may hold anomalies. For rows known to be normal (the classic
        recipe: ``fit(X[y == 0])``), construct it with ``robust=False``, the training ``ad_duckdb.train`` gives
        rows picked by ``where=`` (it trains longer, and the neighbour term compares with k-means centroids of all
        the training rows): the same rows then score as that model does, to float32 rounding.

        ``score_training_rows=False`` leaves ``decision_scores_`` and ``threshold_`` unset, for a caller that scores
        the rows itself (``ad_duckdb.train`` takes its thresholds from the ONNX scores of every source row, so a
        torch pass over the training sample here was thrown away: 4.4 s of a 14 s training on 10M rows x 4 columns,
        5.4 s of 14 s on 1M rows x 30)."""
        p = self._train_params()
        try:
            import torch  # noqa: F401  (the trainer imports it lazily; without this, a bare ModuleNotFoundError from deep inside)
        except ImportError as e:
            raise MissingDependencyError(
                f"AutoEncoderDetector.fit needs torch: pip install 'ad_duckdb[train]' ({e})."
            ) from e
        series = _series_library(X)
        frame = _frame(X)
        from_frame = frame is not None
        named_by_frame = names_given = False
        if frame is not None:
            library = advice_library(X)  # the frame given: X is its Arrow table from here
            X = frame
            repeats = _repeats(_column_names(X))
            if repeats:
                # Why refuse, as scikit-learn does: a later frame is matched by name, and '1' and 1 (or two 'a')
                # cannot be told apart, so a frame with them swapped was scored against the wrong features
                raise BadInputError(
                    f"AutoEncoderDetector.fit: X's column names repeat: {repeats}. Give each "
                    "column a name of its own, e.g. X.columns = [...] with a new name for each repeat."
                )
            if source is None:  # ad_duckdb.train's own refusal names its table (categorical, features)
                refuse_empty(X)  # of X's own names, which X.drop takes also when feature_names= renames them
            # text columns (a channel): their categories, as ad_duckdb.train reads them (detectorfit)
            if source is None and (text := text_columns(X)) is not None:
                return fit_text(self, *text, feature_names, model_name, score_training_rows)
            named_by_frame = feature_names is None
            # pandas' 0, 1, 2 (pd.DataFrame(X)) name nothing: an array scored later is read by position quietly
            names_given = list(_column_names(X)) != list(range(len(_column_names(X))))
            if feature_names is None:
                feature_names = [str(c) for c in _column_names(X)]
            X = _frame_rows(X, "AutoEncoderDetector.fit", library)
        X = _float_rows(X, "AutoEncoderDetector.fit")
        who = "AutoEncoderDetector.fit" if source is None else f"Model {model_name!r}"
        if X.ndim != 2:
            one = (f" (a {series} Series is one feature: X.to_frame())" if series
                   else " (one feature: X.reshape(-1, 1))" if X.ndim == 1 else "")
            raise BadInputError(f"{who}: X must be 2-D (rows, features); got shape {X.shape}{one}.")
        if X.shape[1] == 0:  # else a ZeroDivisionError from the network's weight initialisation
            raise BadInputError(f"{who}: X has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
        _check_labels(X, feature_names, sql_types)
        if from_frame and named_by_frame and feature_names is not None:
            _warn_if_label(X, feature_names)
            if source is None:  # ad_duckdb.train leaves these out of its default features, with its own note
                warn_id_columns(X, feature_names)
        if source is None:  # ad_duckdb.train says it itself, of the rows as its source orders them
            from .columnroles import warn_epoch_features

            warn_epoch_features(list(feature_names) if feature_names is not None else
                                [f"x{j}" for j in range(X.shape[1])], X, None, fit=True, frame=from_frame)
        # every row: decision_scores_ and labels_ are one per row of X, as PyOD's, also when training on a sample
        # (not held otherwise: training would keep the whole matrix beside the sample)
        given = X if score_training_rows else None
        if len(X) > p.max_train_rows:
            # Why before fitting the transforms: training uses at most max_train_rows rows, and the column
            # statistics from the same random sample keep a 10M-row table to seconds instead of a minute.
            X = X[np.random.default_rng(p.seed).choice(len(X), p.max_train_rows, replace=False)]
        d = X.shape[1]
        p.check_code(d, who)
        names = list(feature_names) if feature_names is not None else [f"x{j}" for j in range(d)]
        types = list(sql_types) if sql_types is not None else ["DOUBLE"] * d
        robust = bool(p.robust) if p.robust is not None else True
        rq = RANGE_QUANTILE_UNLABELLED if robust else 0.0
        specs, filled = fit_specs(X, names, types, model=model_name, source=source, range_quantile=rq,
                                  constant_columns=p.constant_columns, frame=from_frame)
        Z = transform(X, specs)
        ae, history = fit_ensemble(Z, p, robust=robust, desc=f"training {model_name}")
        cal = calibrate(ae, Z, p, robust=robust)
        from .nn import ScoringGraph

        # loaded by from_store: from now on this model scores, at its own threshold_, not that one
        for name in ("_record", "_scorer", "_flag_share", "threshold_name_", "_layout"):
            self.__dict__.pop(name, None)
        self.stored_ref_ = None
        self.train_params_ = p
        self.specs_: list[FeatureSpec] = specs
        self.graph_ = ScoringGraph(
            specs, ae, bank=cal["bank"], knn_k=cal["knn_k"], rec_scale=cal["rec_scale"],
            knn_scale=cal["knn_scale"], knn_eps=cal["knn_eps"], range_weight=p.range_weight,
            bank_groups=cal["bank_groups"],
        ).eval()
        self.history_ = {**history, "knn_k": cal["knn_k"], "bank_size": int(cal["bank"].shape[1]),
                         "bank_groups": cal["bank_groups"], "bank_kind": cal["bank_kind"],
                         "filled_values": filled}
        self.n_features_in_ = d
        self.feature_names_in_ = np.array(names, dtype=object)
        # the labels predict gives, so cross_val_predict(det, X, y, method="decision_function") can order its output
        self.classes_ = np.array([0, 1])
        # then a DataFrame given later is matched by column name; also after feature_names= on an array, which
        # names the columns as a frame's header would
        self._fitted_on_frame = from_frame or feature_names is not None
        self._fitted_on_names = False  # given, below, is fit's own array of the frame's rows
        if given is not None:
            self.decision_scores_ = self.decision_function(given)
            self.threshold_ = float(np.quantile(self.decision_scores_, 1.0 - p.contamination))
            # for the order note on arrays scored later (detectororder), as SQL's check reads a stored model's
            self._score_quantiles = np.quantile(self.decision_scores_, np.linspace(0.0, 1.0, 1001))
            self.labels_ = (self.decision_scores_ > self.threshold_).astype(np.int64)
        else:  # a refit must not keep an earlier fit's, which predict() would use against this model
            for name in ("decision_scores_", "threshold_", "labels_", "_score_quantiles"):
                self.__dict__.pop(name, None)
        self._fitted_on_names = from_frame and names_given  # an array scored later is warned of, as scikit-learn's
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "graph_") and "_record" not in self.__dict__:
            raise NotFittedError("This AutoEncoderDetector is not fitted yet; call fit(X) first.")

    def _as_rows(self, X: np.ndarray, given: bool = False) -> np.ndarray:
        """``X`` (a frame, in fit's column order, or an array) as checked float64 rows; ``given``: ``X`` is what the
        user passed, not rows this detector made of it."""
        X = flat_row(X, [str(c) for c in self.feature_names_in_])
        lay = self.__dict__.get("_layout")
        if lay is not None:  # a stored model with text features (from_store): a frame's text columns as their inputs
            from .detectortext import text_rows

            return text_rows(X, lay, [str(c) for c in self.feature_names_in_], _selection(X), advice_library(X))
        series = _series_library(X)
        frame = _frame(X)
        if frame is not None:
            X = self._frame_in_fit_order(frame, _selection(X), advice_library(X))
        # writable and C-ordered: torch.from_numpy shares the memory (and warns on a read-only array)
        X = np.require(_float_rows(X, "AutoEncoderDetector"), requirements=["C", "W"])
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            hint = ""
            if X.ndim == 1 and series:  # a Series has no reshape: the frame it came from, or a frame made of it
                # a polars row is a DataFrame already (df[i:i + 1]): a Series of one row's values has no names
                row = (", X.to_frame().T for one row (or df.iloc[[i]], double brackets)" if series == "pandas"
                       else ", df[i:i + 1] for one row of a DataFrame")
                hint = (f". A {series} Series is not a table: pass a DataFrame"
                        + (row if len(X) == self.n_features_in_ > 1
                           else ", X.to_frame() for one feature" if self.n_features_in_ == 1 else ""))
            elif X.ndim == 1:  # which reshape depends on whether the 1-D array is one row or one column
                hint = (". Reshape your data: X.reshape(1, -1) for one row" if len(X) == self.n_features_in_ > 1
                        else ". Reshape your data: X.reshape(-1, 1) for one feature" if self.n_features_in_ == 1 else "")
            elif X.ndim == 2:
                names = ", ".join(repr(str(c)) for c in self.feature_names_in_[:10])
                more = f", ... ({self.n_features_in_ - 10} more)" if self.n_features_in_ > 10 else ""
                hint = (f". This AutoEncoderDetector was fitted on {self.n_features_in_} features ({names}{more}): "
                        "pass rows of those columns, in that order, or fit it again on these")
            raise BadInputError(f"X must have shape (n, {self.n_features_in_}); got shape {X.shape}{hint}.")
        if given and frame is None and getattr(self, "_fitted_on_names", False):
            _warn_if_unnamed(self.feature_names_in_)
        return X

    def _frame_in_fit_order(self, X: Any, select: str = "X[det.feature_names_in_]", library: str = "arrow"
                            ) -> np.ndarray:
        """A DataFrame's columns in the order ``fit`` saw them. By position, a frame whose columns came in another
        order was scored silently against the wrong features. ``select``: the call that picks the fitted columns
        of the frame as given (``_selection``)."""
        if not getattr(self, "_fitted_on_frame", False):
            _warn_if_named(_column_names(X), self.n_features_in_)
        else:
            columns = _column_names(X)
            names = [str(c) for c in columns]
            if _repeats(columns):  # which of the two is the feature cannot be told
                raise BadInputError(
                    f"X's column names repeat: {_repeats(columns)}, so they cannot be matched to the "
                    f"features this AutoEncoderDetector was fitted on. Pass {select} with each "
                    "column once (or rename the repeats)."
                )
            fitted = [str(c) for c in self.feature_names_in_]
            if names != fitted:
                missing = [c for c in fitted if c not in names]
                extra = [c for c in names if c not in fitted]
                if missing or extra:
                    parts = ([f"missing {missing}"] if missing else []) + ([f"not fitted on {extra}"] if extra else [])
                    raise BadInputError(
                        f"X's columns are not the ones this AutoEncoderDetector was fitted on ({'; '.join(parts)}). "
                        f"Pass {select} (the fitted columns), or fit again on these columns."
                    )
                by_name = {str(c): c for c in columns}
                X = X.select(fitted) if isinstance(X, pa.Table) else X[[by_name[c] for c in fitted]]
        return _frame_rows(X, "AutoEncoderDetector", library)

    def _graph_batches(self, X: np.ndarray, batch_size: int, part: Any) -> list[Any]:
        """``part(graph, rows)`` on each batch of ``X`` (checked), without gradients; a batch is cut further to the
        graph's ``chunk_rows`` (a large bank's distances are [members, rows, bank] values)."""
        self._check_fitted()
        import torch

        X = self._as_rows(X)
        rows = max(1, min(int(batch_size), self.graph_.chunk_rows()))
        with torch.no_grad():
            return [part(self.graph_, torch.from_numpy(X[sl])) for sl in row_slices(len(X), rows)]

    def score_with_errors(self, X: np.ndarray, batch_size: int = 65536) -> tuple[np.ndarray, np.ndarray]:
        """Scores and per-feature errors computed by the torch graph (the reference for the ONNX one); by the stored
        ONNX graph for a detector loaded with ``from_store``."""
        stored = self._stored_model()
        if stored is not None:
            return stored.run(self._as_rows(X), missing=False)  # type: ignore[no-any-return]
        outs = self._graph_batches(X, batch_size, lambda g, x: g(x))
        return np.concatenate([s.numpy() for s, _ in outs]), np.concatenate([e.numpy() for _, e in outs])

    def score_terms(self, X: np.ndarray, batch_size: int = 65536) -> dict[str, np.ndarray]:
        """The score's parts per row: ``reconstruction``, ``neighbour`` and ``range`` (a term that is off is
        absent); they sum to ``decision_function(X)``. For seeing which term finds a data set's anomalies."""
        stored = self._stored_model()
        if stored is not None:  # SQL's anomaly_terms, which fills missing values as the score does
            from .scoreterms import TERM_NAMES, terms_on

            parts = stored.terms(self._as_rows(X, given=True))[1]
            return {t: parts[:, i] for i, (t, on) in enumerate(zip(TERM_NAMES, terms_on(stored.rec.params),
                                                                  strict=True)) if on}
        from .scoreterms import range_cleared

        outs = self._graph_batches(self._filled(X, batch_size)[0], batch_size, lambda g, x: g.terms(x))
        got = {k: np.concatenate([o[k].numpy() for o in outs]).astype(np.float64) for k in outs[0] if k != "feature_error"}
        if "range" in got:
            got["range"] = range_cleared(got["range"])  # as SQL's anomaly_terms: an end of the range is inside it
        return got


    def _filled(self, X: Any, batch_size: int) -> tuple[np.ndarray, np.ndarray | None]:
        """``X`` (checked) with each missing value set as SQL sets it (``missing.fill_missing``: the column's most
        typical value beside the row's others), and the rows' scores when filling worked them out (None: no value
        was missing). Why: the graph alone fills the training median, so a count of 500 without its amount scored
        a third higher here than the same model in SQL."""
        from .missing import candidates, fill_missing

        self._check_fitted()
        X = self._as_rows(X, given=True)
        if not (len(X) and np.isnan(X.min())):
            return X, None
        s, fe = self.score_with_errors(X, batch_size)
        filled = fill_missing(X, s, fe, self.specs_, candidates(self.specs_),
                              lambda trial: self.score_with_errors(trial, batch_size))
        return filled, s  # s rescored in place, as SQL's scores are: no second pass over the filled rows

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Anomaly score of each row, higher = more anomalous (``anomaly_score`` in SQL); NaN is allowed, and
        scored as SQL scores a NULL (the column's most typical value beside the row's others)."""
        filled, s = self._filled(X, 65536)
        scores = (self.score_with_errors(filled)[0] if s is None else s).astype(np.float64)
        if isinstance(X, (np.ndarray, list, tuple)):  # read by position: the columns may be in another order
            from .detectororder import warn_if_out_of_order

            warn_if_out_of_order(self, filled, scores)
        return scores

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit, then 1 for the training rows above ``threshold_`` (anomalies), 0 for the others: ``labels_``."""
        return self.fit(X).labels_.copy()

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """scikit-learn's convention (higher = more normal): minus ``decision_function``."""
        return -self.decision_function(X)
