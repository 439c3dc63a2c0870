"""The scored batches of a source as an Arrow reader: the outputs scoring may write, the cut ``is_anomaly`` is
read at, each batch's computed columns, the view DuckDB reads the reader as, and the drift note once all are read."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from . import interrupts, msevalues, notes, numbercut, pysource, scoreahead
from .arrownumbers import to_arrow, to_matrix
from .drift import DriftTally
from .exceptions import AdDuckDBError, ThresholdNotFoundError
from .featurechoice import MODEL_COLUMN
from .msevalues import MSE_COLUMN
from .ortruns import ort_pool
from .readahead import _prefetched
from .readhints import read_error, stream_error
from .scorecols import CARRIED
from .scoreselect import scoring_select
from .scoring import LoadedModel
from .sqltext import shown_source
from .swappedargs import model_named
from .totalsrow import ScoredTop

SCORE_OUTPUTS = ("anomaly_score", "anomaly_percentile", "is_anomaly")
# what outputs= may name: the default three, and the opt-in anomaly_mse (mse=True) after them
OUTPUTS_ALLOWED = (*SCORE_OUTPUTS, MSE_COLUMN)


def score_cut(con: duckdb.DuckDBPyConnection, lm: LoadedModel, model: str, threshold: str,
              outputs: Sequence[str]) -> float:
    """The score ``is_anomaly`` is cut at (infinite where it is not an output)."""
    # the same refusal as SQL's is_anomaly_at when the model has no such threshold, never all False
    try:
        return lm.threshold(threshold) if "is_anomaly" in outputs else np.inf
    except ThresholdNotFoundError as e:
        if numbercut.as_number(threshold) is None:
            raise
        raise ThresholdNotFoundError(numbercut.hint(con, model, threshold)) from e  # --threshold 0.02


def _scored_batches(con: duckdb.DuckDBPyConnection, model: str, source: str, kept: Sequence[str] = (),
                    batch_rows: int = 65536, explain: bool = False, outputs: Sequence[str] = SCORE_OUTPUTS,
                    tally: list[DriftTally] | None = None, adds: Sequence[str] = (),
                    lossless: bool = False,
                    source_types: dict[str, str] | None = None,
                    watch: ScoredTop | None = None,
                    imputed: bool = True,
                    model_column: bool = False,
                    threshold: str = "default") -> tuple[LoadedModel, Any, Any, list[BaseException]]:
    """A reader of (the ``kept`` source columns, or all of them, the chosen ``outputs``[, anomaly_explain,
    anomaly_imputed]), its
    closer, and a list that receives the error the reader stopped on. ``tally``: a list that receives the
    ``DriftTally`` the batches are counted into, for the drift note (``_drift_note``) once all are read.
    ``adds``: names the caller adds to the rows itself, refused in the source as the outputs' are (``_kept_select``).
    ``lossless``: the kept columns come as DuckDB's lossless Arrow types (``arrow_lossless_conversion``), for a
    caller that writes them back into DuckDB (``score(into=)``): by default a UHUGEINT above 2^127 wraps to a
    negative number, a TIME WITH TIME ZONE loses its offset and a BIT arrives as the bytes it is stored in.
    ``source_types``: a dict that receives each source column's SQL type, by its lowercased name.
    ``watch``: receives each batch's feature columns and scores (the CLI's note on a totals row scored at the top).
    ``imputed``: with ``explain``, also anomaly_imputed (False: appending to a table an earlier release wrote without it).
    ``model_column``: last, ``MODEL_COLUMN``, the version that scored the rows (``lm.ref``) in each.
    ``threshold``: the stored threshold ``is_anomaly`` is read at, as ``is_anomaly_at`` reads it.

    Call the closer when done, also after an error: it stops the read-ahead thread and closes the cursor
    at once instead of whenever the garbage collector reaches an abandoned reader. Why the list: DuckDB,
    reading the batches, reports our error (or a Ctrl-C) as "reading the stream failed" with a traceback
    in the text; the caller raises the original instead.
    """
    lm = model_named(con, model, source)
    counted = DriftTally(lm)
    if tally is not None:
        tally.append(counted)
    cut = score_cut(con, lm, model, threshold, outputs)
    cur = pysource.cursor(con, source)
    try:
        written = {*outputs, *explained_columns(explain, imputed), *([MODEL_COLUMN] if model_column else []), *adds}
        select, feats, carried = scoring_select(cur, con, lm, source, kept, written, lossless, source_types)
        reader = cur.sql(select).to_arrow_reader(batch_rows)
    except BaseException as e:
        cur.close()  # no reader holds it yet: an error here must not leave it (and the file) open
        # a source small enough to fail in its first batch fails here, not mid-stream: the same words as there
        known = read_error(f"Scoring with {lm.ref!r}", source, e) if isinstance(e, duckdb.Error) else None
        if known:
            raise known from e
        raise
    n_keep = len(reader.schema) - len(feats)
    keep_fields = [f.with_metadata({CARRIED: b"1"}) if f.name.lower() in carried else f
                   for f in (reader.schema.field(i) for i in range(n_keep))]
    types = {"anomaly_score": pa.float64(), "anomaly_percentile": pa.float64(), "is_anomaly": pa.bool_(),
             MSE_COLUMN: pa.float64()}
    out_fields = [*keep_fields, *(pa.field(o, types[o]) for o in outputs)]
    if explain:
        from .frames import IMPUTED_TYPE
        from .udfbodies import EXPLAIN_TYPE

        out_fields.append(pa.field("anomaly_explain", EXPLAIN_TYPE))
        if imputed:
            out_fields.append(pa.field("anomaly_imputed", IMPUTED_TYPE))
    if model_column:
        out_fields.append(pa.field(MODEL_COLUMN, pa.string()))
    schema = pa.schema(out_fields)
    failed: list[BaseException] = []

    # read here, in the caller's context: DuckDB pulls the batches on threads of its own, where it is not set
    memo = scoreahead.active()

    def gen() -> Any:
        batches = _prefetched(reader, cur)
        try:
            for batch in batches:
                columns = [batch.column(n_keep + i) for i in range(len(feats))]
                X = to_matrix(columns, lm, "score")
                hit = memo.take(lm, cut, outputs, explain, X, columns) if memo is not None else None
                s64, computed = hit if hit is not None else batch_outputs(lm, X, columns, outputs, explain, imputed,
                                                                          cut)
                if hit is not None and explain and not imputed:
                    computed = computed[:-1]  # scored ahead with anomaly_imputed, which this table has not
                counted.add(X, s64)
                if watch is not None:
                    watch.add(columns, s64)
                arrays = [*(batch.column(i) for i in range(n_keep)), *computed]
                if model_column:
                    arrays.append(pa.repeat(pa.scalar(lm.ref, pa.string()), batch.num_rows))
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        except (AdDuckDBError, KeyboardInterrupt) as e:  # ours; the source's own errors stay DuckDB's
            failed.append(e)
            raise
        finally:
            # Why close first: the scan thread must stop before its cursor closes.
            batches.close()
            cur.close()

    batches = gen()
    return lm, pa.RecordBatchReader.from_batches(schema, batches), batches.close, failed


def batch_outputs(lm: LoadedModel, X: np.ndarray, columns: Sequence[Any], outputs: Sequence[str], explain: bool,
                  imputed: bool, cut: float) -> tuple[np.ndarray, list[pa.Array]]:
    """One batch's scores (float64) and its computed columns: ``outputs`` in order, then with ``explain``
    anomaly_explain and (``imputed``) anomaly_imputed. ``X``: the batch's feature matrix, from ``columns``, its
    feature columns as read. The costly part of scoring (``scoreahead`` does it before the file is locked)."""
    from .udfbodies import explain_rows, imputed_rows

    if explain:
        s, fe, taken = lm.attribution_as_scored(X, bulk=True)
    else:
        s, fe, taken = lm.scores(X, bulk=True), None, X
    s64 = s.astype(np.float64)
    arrays: list[pa.Array] = []
    for o in outputs:
        if o == "anomaly_score":
            arrays.append(to_arrow(s64, pa.float64()))
        elif o == "is_anomaly":
            arrays.append(to_arrow(s64 > cut, pa.bool_()))
        elif o == MSE_COLUMN:  # the values of the SQL function anomaly_mse, from its own pass
            arrays.append(to_arrow(msevalues.mse(lm, X)[1], pa.float64()))
        else:
            # Why in halves on the pool: np.interp releases the GIL, and it is a fifth of the work at d=2.
            arrays.append(to_arrow(np.concatenate(list(ort_pool().map(lm.percentile, np.array_split(s64, 2)))),
                                   pa.float64()))
    if fe is not None:
        arrays.append(explain_rows(lm, fe))
        if imputed:
            arrays.append(imputed_rows(lm, X, taken, [] if lm.layout is None else columns[lm.layout.numeric:]))
    return s64, arrays


def explained_columns(explain: bool, imputed: bool = True) -> list[str]:
    """The columns ``explain=True`` adds to the scores: the shares and (``imputed``) the values NULLs were scored at."""
    return (["anomaly_explain", "anomaly_imputed"] if imputed else ["anomaly_explain"]) if explain else []


def written_beside(explain: bool, imputed: bool, model_column: bool) -> list[str]:
    """The columns scoring writes after its outputs: the explanation ones (``explained_columns``), the model column."""
    return [*explained_columns(explain, imputed), *([MODEL_COLUMN] if model_column else [])]


def _drift_note(tally: list[DriftTally], source: str) -> None:
    """Warn (``AdDuckDBWarning``) when the scored rows look moved away from the training data (``drift``)."""
    note = tally[0].note(f"rows of {shown_source(source)!r}") if tally else None
    if note:
        notes.warn(f"Scoring with {tally[0].lm.ref!r}: {note}")


@contextmanager
def _scored_view(con: duckdb.DuckDBPyConnection, reader: pa.RecordBatchReader, close: Callable[[], None],
                 failed: list[BaseException], model: str, source: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on which ``_scored_batches``' reader is the view ``__ad_scored``; closes both after. DuckDB reports
    our error in a batch as a failed stream read: the original is raised instead."""
    cur = interrupts.cursor(con)
    try:
        cur.register("__ad_scored", reader)
        try:
            yield cur
        except duckdb.Error as e:
            if failed:
                raise failed[0] from None
            # the source's own read failed mid-stream: for a CSV's late 'n/a', which model, file and option; for
            # another error, the source's own words (not our stream's)
            known = read_error(f"Scoring with {model!r}", source, e) or stream_error(f"Scoring with {model!r}", source, e)
            if known:
                raise known from e
            raise
        finally:
            cur.unregister("__ad_scored")
    finally:
        cur.close()
        close()
