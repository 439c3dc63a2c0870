"""`score --into`'s scoring, done before the database file is opened for writing and reused by the write.

Why: a run opened the file for writing from its start until its rows were committed, scoring included (1M rows:
1.5 s of a 2.8 s run, 12 s of 14 with --explain), and DuckDB lets no other process open a file one writes, not even
to read. Now the command first reads the source's feature columns on a read-only open (a read lock, for the read
alone), closes the file, and scores those rows with no lock held (``read``, ``Pending.score``); it then opens the
file for writing and runs the scoring exactly as before, except that a batch whose feature values equal a batch
scored ahead, for the same model version (its ONNX digest and percentile curve), cut and outputs, takes those
results instead of being scored again (``reused``; the results are the same values, so the table written is too).

What is written is still decided under the write lock alone: the source is read again there, so an --append source
that reads the table for the last row scored selects the rows not in it then (a run that appended meanwhile is seen,
and no row is added twice); the name means the version it means then; a batch that changed meanwhile (new rows, a
retrain) is scored there, as before. The read-ahead is best effort: any failure (the file held by a writer, a source
that fails, a first --append whose source reads the table not made yet) leaves the scoring to the write, whose
checks and messages are the ones a user gets.
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

from .exceptions import AdDuckDBError
from .scoring import LoadedModel

# Why a bound: the feature columns read ahead and the results kept wait in memory until the write takes them; rows
# past it are scored under the write lock, as before. 1M rows of 30 features: ~0.24 GB of doubles (and as much
# again of results; an explanation's count 4 times).
MAX_CELLS = 30_000_000

_ACTIVE: ContextVar[Ahead | None] = ContextVar("scoreahead", default=None)


class Ahead:
    """The rows scored ahead, in the order read, taken by the write batch by batch while each matches the next rows.

    Why by rows, not by batch: DuckDB cuts a streamed result into batches of sizes that vary with the read (65536
    and 57344 rows read alone; others while scoring overlaps the read), so the write's batches are not the same.
    """

    def __init__(self, model: tuple[Any, ...], X: np.ndarray, text: list[pa.ChunkedArray], scores: np.ndarray,
                 computed: list[pa.ChunkedArray]) -> None:
        self._model, self._X, self._text, self._scores, self._computed = model, X, text, scores, computed
        self._at = 0
        self._stale = False  # a batch differed: the rest is scored by the write
        self.taken = 0  # rows the write took (a test's way to see them reused)

    def take(self, lm: LoadedModel, cut: float, outputs: Sequence[str], explain: bool, X: np.ndarray,
             columns: Sequence[Any]) -> tuple[np.ndarray, list[pa.Array]] | None:
        """The scores and computed columns of the batch of feature matrix ``X`` (from ``columns``), where it is the
        next rows scored ahead, by the same model version, cut and outputs; else None, from then on."""
        n, at = len(X), self._at
        if self._stale or _model(lm, cut, outputs, explain) != self._model or at + n > len(self._X) or \
                X.dtype != self._X.dtype or X.tobytes() != self._X[at:at + n].tobytes() or \
                any(not pa.chunked_array([c]).equals(t.slice(at, n)) for c, t in zip(_text(lm, columns), self._text,
                                                                                     strict=True)):
            self._stale = True
            self._X, self._text, self._computed = self._X[:0], [], []  # its memory goes
            return None
        self._at += n
        self.taken += n
        return self._scores[at:at + n], [c.slice(at, n).combine_chunks() for c in self._computed]


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
        from .api import batch_outputs
        from .progress import rows as progress_rows
        from .scoring import to_matrix

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
                     [pa.chunked_array([c[i] for c in computed]) for i in range(width)])


def read(con: duckdb.DuckDBPyConnection, model: str, source: str, kept: Sequence[str], outputs: Sequence[str],
         explain: bool, threshold: str, model_column: bool, batch_rows: int = 65536) -> Pending | None:
    """The feature batches of ``source`` as ``score(into=)`` reads them (the same query and batches), up to
    ``MAX_CELLS``; None where they cannot be read (the write then scores, and says what is wrong)."""
    from . import pysource
    from .api import MODEL_COLUMN, explained_columns, registry, score_cut, scoring_select

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
                    if cells >= MAX_CELLS:
                        break
            finally:
                cur.close()
    except duckdb.InterruptException:
        raise  # a Ctrl-C: the command stops
    except (AdDuckDBError, duckdb.Error, pa.ArrowException, OSError, ValueError):
        return None
    return Pending(lm, cut, outputs, explain, batches)
