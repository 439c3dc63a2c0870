"""Labelled rows read and scored: a model's scores and the 0 / 1 labels of a source's rows (and their weights),
with the checks that refuse a label that is no 0 / 1 column; the hints that fix one are ``labelhints``."""

from __future__ import annotations

import duckdb
import numpy as np

from . import categorical, optionwords, pysource, repeatedrows, weights
from .closenames import did_you_mean
from .drift import DriftTally
from .exceptions import BadInputError, NoRowsError, SourceNotFoundError
from .featureread import feature_batches
from .features import is_numeric_type
from .labelhints import (
    _expression_over,
    _given_label,
    _label_counts,
    _label_mapping_hint,
    _label_query_hint,
    _null_labels,
    _shown_counts,
    _unlisted_as_normal_hint,
)
from .progress import rows as progress_rows
from .scoring import LoadedModel
from .sourcecols import feature_columns
from .sourcedescribe import describe
from .sqltext import sql_name, sql_names, strip_sql_ends
from .swappedargs import model_named
from .trainoverlap import _where_fix


def _labelled_scores(con: duckdb.DuckDBPyConnection, model: str | LoadedModel, source: str, label: str,
                     where: str | None, tally: list[DriftTally] | None = None, repeats: list[str] | None = None,
                     progress: str | None = None, weight: str | None = None,
                     weights_read: list[np.ndarray] | None = None, *,
                     scored: bool = True) -> tuple[LoadedModel, np.ndarray, np.ndarray]:
    """Scores and 0/1 labels of the rows of ``source`` (``model``: a name, or a model not stored yet). ``tally``:
    a list that receives a ``DriftTally`` of the rows labelled 0, for the drift note; ``repeats``: a list that
    receives ``repeatedrows.note`` when rows repeat; ``progress``: the rows scored so far on stderr, as ``score``'s,
    headed by this text and the model (``'evaluating '``: "evaluating tx_ae@1: 65536 rows"). ``weight``: a
    column of ``source`` holding each row's weight, read with the rows (checked by ``weights``) and appended to
    ``weights_read``. ``scored=False``: the labels' checks alone, no row scored (the scores returned are empty): for
    a caller that wants evaluate's error for a label before it scores anything (compare --label)."""
    lm = model if isinstance(model, LoadedModel) else model_named(con, model, source)
    counted = DriftTally(lm)
    if tally is not None:
        tally.append(counted)
    if not isinstance(label, str) or not label:
        raise BadInputError(f"Model {lm.ref!r}: {optionwords.opt('label')} must name the column of {source!r} that "
                            f"holds 1 (anomaly) or 0 (normal), e.g. {optionwords.opt('label', 'is_fraud')}; got "
                            f"{_given_label(label)}.")
    if label.lower() in {f.lower() for f in lm.feature_names}:
        # the filter as SQL that runs: a name with a space or a quote in it needs SQL's quotes
        col = sql_name(label)
        normal = f"where='{col} = 0'" if '"' in col else f'where="{col} = 0"'
        raise BadInputError(
            f"Model {lm.ref!r}: label column {label!r} is one of its features, so its scores read the answer. Evaluate "
            f"a model trained without it: {optionwords.either('features= leaving out', '-f for each column but')} "
            f"{label!r}, or, on the normal rows, {optionwords.opt('where', f'{col} = 0', py=normal[6:])} without "
            f"{optionwords.either('features=', '-f')} (which leaves the label out)."
        )
    cur = pysource.cursor(con, source)
    try:
        cols = describe(cur, source, lm.ref, caller=con)
        feats = feature_columns(cols, lm, source, cur)
        label_type = {c.lower(): t for c, t in cols}.get(label.lower())
        if label_type is None:
            if _expression_over(cur, source, label, [c for c, _ in cols]):
                hint = _label_query_hint("Make it a 0 / 1 column", strip_sql_ends(label), source, name_source=True)
                raise SourceNotFoundError(f"Model {lm.ref!r}: label column {label!r} is not in {source!r}, but reads "
                                          f"as an expression over its columns; {optionwords.opt('label')} names a column. "
                                          f"{hint}")
            raise SourceNotFoundError(f"Model {lm.ref!r}: label column {label!r} is not in {source!r}; its columns: "
                                f"{sql_names(c for c, _ in cols)}.{did_you_mean(label, [c for c, _ in cols])}")
        wcol = None if weight is None else weights.check_column(lm.ref, source, weight, label, cols)
        # Scored a batch at a time, keeping each row's score and label: an evaluation holds two numbers per row,
        # not every feature of every row (10M rows x 6 columns: 0.5 GB).
        read_src, read_where = categorical.read_source(lm.rec.features, source, where)  # text features as numbers
        # the ids' hashes read with the rows: whether an id repeats, without reading the source (a label join) again
        ids = repeatedrows.id_columns(cols, feats, label) if repeats is not None and scored else []
        batches = feature_batches(cur, read_src, [*feats, label, *([wcol] if wcol else [])], read_where,
                                  what=f"features {list(feats)} and label {label!r}"
                                       f"{f' and weight {wcol!r}' if wcol else ''}", who=f"Model {lm.ref!r}",
                                  also=repeatedrows.id_hashes(ids) or None)
        scores, labels, read_w = [np.empty(0)], [np.empty(0)], [np.empty(0)]
        hashes = [np.empty((0, len(ids)))]
        # Why: scoring is most of an evaluation's time (2M rows: 2 s of 3), and 50M rows ran minutes without a word
        bar = progress_rows(f"{progress}{lm.ref}", progress is not None)
        try:
            while True:
                try:
                    M = next(batches)
                except StopIteration:
                    break
                except BadInputError as e:
                    if is_numeric_type(label_type) or label_type.upper() == "BOOLEAN":
                        raise
                    # the values as they are, so that the user maps the one that marks an anomaly (not our guess 'yes')
                    counts = _label_counts(cur, source, label, where)
                    nulls = _null_labels(cur, source, label, where)
                    shown = _shown_counts(counts) + (f", NULL ({nulls} row{'' if nulls == 1 else 's'})" if nulls else "")
                    raise BadInputError(
                        f"Model {lm.ref!r}: label column {label!r} of {source!r} is {label_type}, not 0 (normal) / 1 "
                        f"(anomaly); its values: {shown}. {_label_mapping_hint(label, counts, source, nulls)}"
                    ) from e
                if ids:  # the ids' hashes read last: the rest as without them
                    hashes.append(M[:, -len(ids):].copy())
                    M = M[:, :-len(ids)]
                if wcol is not None:  # the weight read last: the rest as without one
                    read_w.append(M[:, -1].copy())
                    M = M[:, :-1]
                # copies: a view kept past the batch keeps its every feature alive (10M rows x 40 columns: 3.2 GB)
                labels.append(M[:, -1].copy())
                if scored:
                    X = categorical.inputs(lm.rec.features, M[:, :-1])
                    scores.append(lm.scores(X).astype(np.float64))
                    # the normal rows only: the labelled anomalies are meant to score above the threshold
                    normal = M[:, -1] == 0
                    counted.add(X[normal], scores[-1][normal])
                bar.advance(len(M))
        finally:
            bar.close()
        s, y = np.concatenate(scores), np.concatenate(labels)
        counts = _label_counts(cur, source, label, where) if len(y) and not np.isin(y, (0, 1)).all() else []
        repeated = (repeatedrows.note(cur, source, where, cols, feats, label, len(y),
                                      np.concatenate(hashes) if ids else None)
                    if repeats is not None and len(y) else None)
        del hashes
    finally:
        cur.close()
    filt = f" with {optionwords.opt('where', where)}" if where else ""
    if len(y) == 0:
        raise NoRowsError(f"No labelled rows to judge {lm.ref!r} on: {source!r}"
                            f"{filt} has no rows. Check the source and the filter.")
    missing = int(np.isnan(y).sum())
    if missing == len(y):
        # Why not the filter below: "IS NOT NULL" would keep no row here, and then fail as "has no rows"
        raise BadInputError(f"Model {lm.ref!r}: label column {label!r} is NULL (or NaN) in every one of the {len(y)} "
                            f"rows of {source!r}{filt}, so no row is labelled; "
                            f"check that {optionwords.opt('label')} names the column holding 1 (anomaly) or 0 (normal), "
                            "and that the filter keeps rows whose labels are filled in.")
    if missing:
        col = sql_name(label)
        keep = f"{col} IS NOT NULL" + (f" AND NOT isnan({col})" if label_type.upper() in ("DOUBLE", "FLOAT", "REAL")
                                       else "")
        keep = f"({where}) AND {keep}" if where else keep
        given = y[~np.isnan(y)]
        if (given == 1).all():
            raise BadInputError(f"Model {lm.ref!r}: label column {label!r} is NULL (or NaN) in {missing} of the "
                                f"{len(y)} rows of {source!r}{filt}, and every "
                                f"row labelled is 1 (anomaly). {_unlisted_as_normal_hint(col, source)}")
        raise BadInputError(f"Model {lm.ref!r}: label column {label!r} is NULL (or NaN) in {missing} of the {len(y)} "
                            f"rows of {source!r}{filt}, which are neither normal "
                            f"nor anomalies; judge the labelled rows only: {_where_fix(keep)}.")
    if counts:
        # checked before the integer cast, which would quietly turn 0.7 into 0 and 1.5 into 1
        raise BadInputError(f"Model {lm.ref!r}: label column {label!r} must hold 0 (normal) or 1 (anomaly); its values "
                            f"in {source!r}: {_shown_counts(counts)}. {_label_mapping_hint(label, counts, source)}")
    if repeated and repeats is not None:
        repeats.append(repeated)
    if wcol is not None:
        w = np.concatenate(read_w)
        weights.check_values(lm.ref, source, where, wcol, w)
        weights.check_classes(lm.ref, wcol, y, w)
        if weights_read is not None:
            weights_read.append(w)
    return lm, s, y.astype(np.int64)
