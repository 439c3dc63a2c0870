"""The plots of a source's scores: their histogram with the stored thresholds, and the scores over time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from . import attachedmodels, indexcols, interrupts, totalsrow
from .connarg import check_connection
from .drift import DriftTally
from .exceptions import BadInputError
from .scorebatches import _drift_note, _scored_batches, _scored_view
from .sqltext import shown_source
from .swappedargs import model_named
from .totalsrow import ScoredTop


@attachedmodels.names_the_file
def plot_scores(con: duckdb.DuckDBPyConnection, model: str, source: str, out_dir: str | Path | None = None) -> Any:
    """Write ``<model>_v<version>_scores.png`` in ``out_dir`` (``tx_ae_v1_scores.png``): a histogram of the scores
    of every row of ``source``, with each stored threshold and how many of those rows it flags; returns its path. A
    spreadsheet's totals row (the top-scored row, the sum of all the others) is left out, and the title says so.
    For choosing a threshold without labels (CLI: ``ad-duckdb score ... --plots DIR``); with labels,
    ``evaluate(plots_dir=)`` draws precision and recall.

    Without ``out_dir``, returns the matplotlib Figure instead, for a notebook (shown as a cell's value;
    ``fig.savefig(path)`` writes it). It is not registered with pyplot: ``plt.show()`` and the backend are left alone.
    """
    with interrupts.raised_as_interrupt("plot_scores", model):
        con = check_connection(con, "plot_scores")
        from . import histfigures, plotfiles

        lm = model_named(con, model, source)
        if out_dir is not None:
            plotfiles.plots_folder(out_dir, lm.ref)
        # one narrow column kept beside the score: the plot needs the scores only
        tally: list[DriftTally] = []
        watch = ScoredTop(len(lm.feature_names), sums=True)  # the top-scored row, for a spreadsheet's totals row
        with _scored_view(con, *_scored_batches(con, model, source, lm.feature_names[:1], outputs=["anomaly_score"],
                                                tally=tally, watch=watch)[1:], model, source) as cur:
            scores = cur.sql("SELECT anomaly_score FROM __ad_scored").fetchnumpy()["anomaly_score"]
        _drift_note(tally, source)
        s, shown = totalsrow.without_totals_row(np.asarray(scores, dtype=np.float64), watch,
                                                shown_source(source, n=40))
        if out_dir is None:
            return histfigures.scores_figure(s, lm.ref, lm.thresholds, shown)
        return plotfiles.plot_scores(s, out_dir, lm.ref, lm.thresholds, shown)


@attachedmodels.names_the_file
@indexcols.keeps_index  # a frame indexed by its times (a pandas time series) is read with them, as score reads it
@indexcols.keeps_times  # and so is one whose index of times has no name (pd.date_range(...) as the index)
def plot_scores_over_time(con: duckdb.DuckDBPyConnection, model: str, source: str, out_dir: str | Path | None = None,
                          *, time: str | None = None) -> Any:
    """Write ``<model>_v<version>_scores_over_time.png`` in ``out_dir``: the score of every row of ``source``
    against its date or timestamp column (``time``, or the one such column it has), each stored threshold a
    horizontal line, the rows the ``default`` threshold flags marked; returns its path. Above 5000 rows, each of
    600 time buckets is drawn as its highest and median score, computed in DuckDB; rows that share their times
    (daily rows of many merchants), each time's. Without ``out_dir``, returns
    the matplotlib Figure (as ``plot_scores``, with its note on rows that moved away from the training data).
    A time column NULL or infinite in every row (or no row) raises ``NoTimesError`` (a ``BadInputError``), as no such column
    does. CLI: ``ad-duckdb score ... --plots DIR [--time COLUMN]``.
    """
    with interrupts.raised_as_interrupt("plot_scores_over_time", model):
        con = check_connection(con, "plot_scores_over_time")
        from . import plotfiles, timeplot

        lm = model_named(con, model, source)
        if out_dir is not None:
            plotfiles.plots_folder(out_dir, lm.ref)
        col, note = timeplot.choose(con, lm.ref, source, time)
        if col is None:
            raise BadInputError(f"Model {lm.ref!r}: " + (note or f"no scores-over-time plot: {source} has no DATE or "
                                "TIMESTAMP column; score a query that casts one, e.g. \"SELECT * REPLACE (CAST(day AS DATE) "
                                "AS day) FROM ...\", and name it with time=."))
        tally: list[DriftTally] = []  # the drift note plot_scores gives, from the plot's own scoring pass
        out = timeplot.plot(con, lm, source, col, out_dir, shown_source(source, n=40), tally=tally)
        _drift_note(tally, source)
        return out
