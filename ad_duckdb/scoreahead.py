"""`score --into`'s scoring, done before the database file is opened for writing and reused by the write.

Why: a run opened the file for writing from its start until its rows were committed, scoring included (1M rows:
1.5 s of a 2.8 s run, 12 s of 14 with --explain), and DuckDB lets no other process open a file one writes, not even
to read. Now the command first reads the source's feature columns on a read-only open (a read lock, for the read
alone), closes the file, and scores those rows with no lock held (``read``, ``Pending.score``); it then opens the
file for writing and runs the scoring exactly as before, except that a row whose feature values equal a row scored
ahead, for the same model version (its ONNX digest and percentile curve), cut and outputs, takes those results
instead of being scored again (``reused``; the results are the same values, so the table written is too).

What is written is still decided under the write lock alone: the source is read again there, so an --append source
that reads the table for the last row scored selects the rows not in it then (a run that appended meanwhile is seen,
and no row is added twice); the name means the version it means then; rows that changed meanwhile (new rows, a
retrain) are scored there, as before (the rows not changed keep their results: ``Ahead``). The read-ahead is best
effort: any failure (the file held by a writer, a source that fails, a first --append whose source reads the table
not made yet) leaves the scoring to the write, whose checks and messages are the ones a user gets.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from . import envints
from .exceptions import AdDuckDBError
from .scoring import LoadedModel

# Why a bound: the feature columns read ahead and the results kept wait in memory until the write takes them; rows
# past it are scored under the write lock, as before. 1M rows of 30 features: ~0.24 GB of doubles (and as much
# again of results; an explanation's count 4 times). AD_DUCKDB_SCORE_AHEAD_VALUES sets another (max_values).
MAX_CELLS = 30_000_000
VALUES_VARIABLE = "AD_DUCKDB_SCORE_AHEAD_VALUES"


def max_values() -> int:
    """The feature values read and scored ahead at most: ``AD_DUCKDB_SCORE_AHEAD_VALUES``, else ``MAX_CELLS``.
    Why a setting: a machine with less memory to spare keeps fewer rows waiting (the rest are scored under the
    write lock, as before)."""
    # the read ahead's own failures are not said (the write scores), so a typo is refused here, not ignored
    return envints.positive_int(VALUES_VARIABLE, MAX_CELLS, "feature values to score before the file is opened for "
                                "writing", 5000000)

_ACTIVE: ContextVar[Ahead | None] = ContextVar("scoreahead", default=None)


class Ahead:
    """The rows scored ahead, in the order read, taken by the write batch by batch: as the next rows where the batch
    is them, else row by row where a row read ahead holds the same feature values (``_aligned``).

    Why by rows, not by batch: DuckDB cuts a streamed result into batches of sizes that vary with the read (65536
    and 57344 rows read alone; others while scoring overlaps the read), so the write's batches are not the same.
    Why by content past the first change: one row updated, added or deleted meanwhile left every row after it to be
    scored again under the write lock (1M rows with --explain: minutes); a row's results depend on its feature
    values alone (the model's arithmetic runs row by row), so a row read ahead with the same values has them.
    """

    def __init__(self, model: tuple[Any, ...], X: np.ndarray, text: list[pa.ChunkedArray], scores: np.ndarray,
                 computed: list[pa.Array]) -> None:
        self._model, self._X, self._text, self._scores, self._computed = model, X, text, scores, computed
        self._at = 0
        # the rows' keys sorted, and their rows. Why made now, with no lock held: made by the first batch that
        # differed, it took longer under the write lock than scoring the batch (0.5-1 s of 1M rows)
        keys = _row_keys(X)
        order = np.argsort(keys)  # any of equal rows will do: equal values, equal results
        self._index = keys[order], order
        self.taken = 0  # rows the write took (a test's way to see them reused)

    def take(self, lm: LoadedModel, cut: float, outputs: Sequence[str], explain: bool, X: np.ndarray,
             columns: Sequence[Any]) -> tuple[np.ndarray, list[pa.Array]] | None:
        """The scores and computed columns of the batch of feature matrix ``X`` (from ``columns``), scored by the
        same model version, cut and outputs: its rows read ahead taken, any other scored here; None where the model
        differs or no row of the batch was read ahead (the caller scores it)."""
        n, at = len(X), self._at
        if _model(lm, cut, outputs, explain) != self._model or X.dtype != self._X.dtype or \
                (len(X) and X.shape[1:] != self._X.shape[1:]):
            return None
        text = _text(lm, columns)
        if at + n <= len(self._X) and X.tobytes() == self._X[at:at + n].tobytes() and \
                all(pa.chunked_array([c]).equals(t.slice(at, n)) for c, t in zip(text, self._text, strict=True)):
            self._at += n
            self.taken += n
            return self._scores[at:at + n], [c.slice(at, n) for c in self._computed]  # no copy
        return self._aligned(lm, cut, outputs, explain, X, columns, text)

    def _aligned(self, lm: LoadedModel, cut: float, outputs: Sequence[str], explain: bool, X: np.ndarray,
                 columns: Sequence[Any], text: list[Any]) -> tuple[np.ndarray, list[pa.Array]] | None:
        """``take`` for a batch that is not the next rows read ahead: each row's results from a row read ahead with
        the same feature values (any of them: equal values, equal results), the other rows scored here."""
        from .scorebatches import batch_outputs

        sorted_keys, order = self._index
        if not len(X) or not len(sorted_keys):
            return None
        keys = _row_keys(X)
        # Why the keys looked up in their order: at random, each look-up missed the caches (0.1-0.3 s a batch of 65536
        # in 1M rows, as long as scoring it); sorted, each starts where the last ended
        by_key = np.argsort(keys)
        at = np.empty(len(keys), dtype=np.intp)
        at[by_key] = np.minimum(np.searchsorted(sorted_keys, keys[by_key]), len(sorted_keys) - 1)
        rows = order[at]
        # the key finds a row; the values themselves decide (a key shared by two different rows is scored here)
        hit = (sorted_keys[at] == keys) & _same_rows(self._X[rows], X)
        for c, t in zip(text, self._text, strict=True):
            hit &= _same_values(t.take(pa.array(rows)), pa.chunked_array([c]))
        if not hit.any():
            return None
        found, missing = np.flatnonzero(hit), np.flatnonzero(~hit)
        self.taken += len(found)
        early = pa.array(rows[found])
        if not len(missing):
            return self._scores[rows], [c.take(early) for c in self._computed]
        # with anomaly_imputed, as read ahead: the caller leaves it out where the table has not got it
        s64, fresh = batch_outputs(lm, X[missing], [c.take(pa.array(missing)) for c in columns], outputs, explain,
                                   True, cut)
        scores = np.empty(len(X), dtype=np.float64)
        scores[found], scores[missing] = self._scores[rows[found]], s64
        # the rows found then the rows scored, put back in the batch's order
        back = pa.array(np.argsort(np.concatenate([found, missing]), kind="stable"))
        return scores, [pa.concat_arrays([c.take(early), f]).take(back)
                        for c, f in zip(self._computed, fresh, strict=True)]


def _row_keys(X: np.ndarray) -> np.ndarray:
    """A 64-bit key of each row's bytes (equal rows, equal keys), computed a column at a time."""
    if not len(X):  # no row read ahead (a nightly --append with no new rows): reshape(0, -1) cannot size it
        return np.empty(0, dtype=np.uint64)
    u = np.ascontiguousarray(X).reshape(len(X), -1)
    u = u.view(np.uint64) if u.itemsize == 8 else u.view(np.uint32 if u.itemsize == 4 else np.uint8)
    h = np.full(len(X), 0xCBF29CE484222325, dtype=np.uint64)
    for j in range(u.shape[1]):  # FNV-1a's step over whole values, and a shift to spread the high bits down
        h ^= u[:, j].astype(np.uint64)
        h *= np.uint64(0x100000001B3)
        h ^= h >> np.uint64(29)
    return h


def _same_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each row of ``a`` holds the bytes of ``b``'s (a NaN equal to itself, as scored)."""
    return np.all(np.ascontiguousarray(a).view(np.uint8).reshape(len(a), -1) ==
                  np.ascontiguousarray(b).view(np.uint8).reshape(len(b), -1), axis=1)


def _same_values(a: pa.ChunkedArray, b: pa.ChunkedArray) -> np.ndarray:
    """Whether each value of ``a`` equals ``b``'s, NULL equal to NULL."""
    import pyarrow.compute as pc

    same = pc.or_kleene(pc.equal(a, b), pc.and_(pc.is_null(a), pc.is_null(b)))
    return np.asarray(pc.fill_null(same, False).to_numpy(zero_copy_only=False), dtype=bool)


def _model(lm: LoadedModel, cut: float, outputs: Sequence[str], explain: bool) -> tuple[Any, ...]:
    """What, beside the rows, the results depend on: the model version (its ONNX and percentile curve), the cut and
    the columns computed."""
    curve = hashlib.blake2b(lm.quantiles.tobytes()).hexdigest() if lm.quantiles is not None else None
    return lm.ref, lm.rec.sha256, curve, float(cut), tuple(outputs), explain


def _text(lm: LoadedModel, columns: Sequence[Any]) -> list[Any]:
    """A text model's text feature columns (their values beside the codes ``X`` holds)."""
    return list(columns[lm.layout.numeric:]) if lm.layout is not None else []


def active() -> Ahead | None:
    """The batches scored ahead for the scoring running now (``reused``), if any."""
    return _ACTIVE.get()


@contextmanager
def reused(ahead: Ahead | None) -> Iterator[None]:
    """Scorings inside take their batches from ``ahead`` where they match."""
    token = _ACTIVE.set(ahead)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


class Pending:
    """A source's feature batches, read; ``score`` scores them once the file is closed."""

    def __init__(self, lm: LoadedModel, cut: float, outputs: Sequence[str], explain: bool,
                 batches: list[pa.RecordBatch]) -> None:
        self.lm, self.cut, self.outputs, self.explain, self.batches = lm, cut, list(outputs), explain, batches

    def score(self, progress: bool = False, into: str = "") -> Ahead:
        """The batches scored; ``progress``: the rows so far on stderr, in the words of the write's own count (which
        the command then leaves out), ``into`` the table written."""
        from .arrownumbers import to_matrix
        from .progress import rows as progress_rows
        from .scorebatches import batch_outputs

        lm, Xs, scores, computed = self.lm, [], [], []
        bar = progress_rows(f"scoring into {into} with {lm.ref}", progress)
        try:
            for batch in self.batches:
                X = to_matrix(batch.columns, lm, "score")
                # with anomaly_imputed: the write leaves it out for a table an earlier release scored without it
                s64, arrays = batch_outputs(lm, X, batch.columns, self.outputs, self.explain, True, self.cut)
                Xs.append(X)
                scores.append(s64)
                computed.append(arrays)
                bar.advance(batch.num_rows)
        finally:
            bar.close()
        text = [pa.chunked_array([b.column(i) for b in self.batches], type=self.batches[0].schema.field(i).type)
                for i in range(lm.layout.numeric, len(lm.feature_names))] if lm.layout is not None and self.batches \
            else []
        self.batches = []
        width = len(computed[0]) if computed else 0
        return Ahead(_model(lm, self.cut, self.outputs, self.explain),
                     np.concatenate(Xs) if Xs else np.empty((0, 0)), text,
                     np.concatenate(scores) if scores else np.empty(0),
                     # Why one array each, made here: the write's batches, cut elsewhere than these, were copied
                     # together from two of them under the write lock (0.3 s of 1M rows' explanations)
                     [pa.concat_arrays([c[i] for c in computed]) for i in range(width)])


def read(con: duckdb.DuckDBPyConnection, model: str, source: str, kept: Sequence[str], outputs: Sequence[str],
         explain: bool, threshold: str, model_column: bool, batch_rows: int = 65536) -> Pending | None:
    """The feature batches of ``source`` as ``score(into=)`` reads them (the same query and batches), up to
    ``max_values()``; None where they cannot be read (the write then scores, and says what is wrong)."""
    from . import pysource
    from .featurechoice import MODEL_COLUMN
    from .scorebatches import explained_columns, score_cut
    from .scoreselect import scoring_select
    from .udfs import registry

    limit = max_values()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the write's own read says each note once
            lm = registry(con).get(model)
            cut = score_cut(con, lm, model, threshold, outputs)
            cur = pysource.cursor(con, source)
            try:
                written = {*outputs, *explained_columns(explain), *([MODEL_COLUMN] if model_column else [])}
                select, feats, _ = scoring_select(cur, con, lm, source, kept, written, True, None)
                reader = cur.sql(select).to_arrow_reader(batch_rows)
                first = len(reader.schema) - len(feats)
                batches, cells = [], 0
                for batch in reader:
                    batches.append(batch.select(range(first, batch.num_columns)))
                    # an explanation keeps a (name, share) entry per feature and row: ~4 doubles' worth
                    cells += batch.num_rows * len(feats) * (4 if explain else 1)
                    if cells >= limit:
                        break
            finally:
                cur.close()
    except duckdb.InterruptException:
        raise  # a Ctrl-C: the command stops
    except (AdDuckDBError, duckdb.Error, pa.ArrowException, OSError, ValueError):
        return None
    return Pending(lm, cut, outputs, explain, batches)
