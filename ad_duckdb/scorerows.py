"""``score``: every row of a source scored in Arrow batches, returned as a Table or written into a table; and
``top_scored``, the highest-scoring rows."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import duckdb
import pyarrow as pa

from . import (
    appendrepeats,
    attachedmodels,
    callerview,
    firstappend,
    flagcut,
    indexcols,
    interrupts,
    notes,
    numbercut,
    optionwords,
    partitionreplace,
    pysource,
    replacewhere,
)
from .addedtop import AddedTop
from .connarg import check_connection
from .drift import DriftTally
from .exceptions import AdDuckDBError, BadInputError, OptionError
from .intotable import (
    SCORE_TYPES,
    check_append_columns,
    check_append_types,
    check_append_values,
    check_replace,
    check_target,
    first_append_error,
    one_append_at_a_time,
    table_columns,
    table_types,
)
from .msevalues import MSE_COLUMN
from .progress import RowProgress
from .progress import rows as progress_rows
from .readhints import passed_on_error, read_error
from .scorebatches import OUTPUTS_ALLOWED, SCORE_OUTPUTS, _drift_note, _scored_batches, _scored_view, written_beside
from .scoreselect import _kept_columns
from .scorewrite import _write_scores
from .sqltext import table_sql
from .totalsrow import ScoredTop


@interrupts.said_as_interrupt("score")
@attachedmodels.names_the_file
@indexcols.keeps_index
def score(
    con: duckdb.DuckDBPyConnection,
    model: str,
    source: str,
    into: str | None = None,
    *,
    columns: Sequence[str] | None = None,
    explain: bool = False,
    replace: bool = False,
    append: bool = False,
    batch_rows: int = 65536,
    outputs: Sequence[str] = SCORE_OUTPUTS,
    mse: bool = False,
    progress: bool = False,
    model_column: bool = False,
    replace_partition: Sequence[str] | str | None = None,
    threshold: str = "default",
    replace_where: str | None = None,
    _added_top: AddedTop | None = None,
    _scored_top: ScoredTop | None = None,
    _replaced: list[int] | None = None,
) -> pa.Table | int:
    """Score every row of ``source`` in large Arrow batches.

    With ``into``, writes a table of the kept columns plus ``outputs`` (default ``anomaly_score``,
    ``anomaly_percentile``, ``is_anomaly``; any non-empty subset, in that order) and, if ``explain``,
    ``anomaly_explain`` and ``anomaly_imputed`` (each NULL feature's value as the row was scored; NULL where none
    was missing; a table an earlier release scored with explain and lacks it is appended to without it),
    in one transaction, and returns the row count (an existing table is refused unless ``replace=True``, which
    overwrites it); without it, returns the scored rows as a pyarrow Table (the
    source's columns, or ``columns``, then ``outputs``): ``.to_pandas()`` makes it a pandas DataFrame (with pandas
    installed), ``polars.from_arrow(t)`` a polars one. A notebook prints the Table itself column by column.

    ``append=True`` (an incremental job: each run scores the rows that came since the last) adds the rows to the
    ``into`` table instead, by column name, all or none, and returns how many were added; it creates the table on
    the first run. The table must have the columns this scoring writes, no more and no fewer (the same
    ``columns``, ``outputs`` and ``explain`` as the run that created it), each of a type the new values convert to
    without loss (a BIGINT column takes INTEGER ids, not the other way round; a DOUBLE column takes BIGINT or
    DECIMAL(18,0) ids it holds exactly, and one it would change, above 2^53, fails the run and adds no row). The
    source may read the table, e.g. ``WHERE id > (SELECT coalesce(max(id), -1) FROM scores)``, and reads it as it
    was before the run.

    ``replace_partition=["day"]`` (CLI: ``--replace-partition day``; a name or a list of names: a nightly job
    re-scoring one day, ``WHERE day = '2026-12-01'``, into its history table) adds the rows as ``append=True`` does,
    and deletes the rows the table held whose values of those columns equal a new row's (NULL matching NULL), in the
    same transaction: a rerun or backfill of a day replaces that day's scores and leaves the other days as they are.
    The new rows are scored into a temporary table first, so a failure at any point (a row the source cannot read, a
    constraint of the table) leaves the table as it was. A run that scores no rows replaces none (the table keeps the
    day's earlier rows: use ``replace_where`` where that matters). The columns must be among those written (kept by
    ``columns=``). ``_replaced`` gets the rows deleted.

    ``replace_where="day = DATE '2026-12-01'"`` (CLI: ``--replace-where``; a condition on the ``into`` table's
    columns, checked as ``where=`` is: one condition) does the same with the rows the condition selects: they are
    deleted whatever the run scores, so a day whose source is now empty is emptied, not left with its earlier scores.
    Every new row must be one the condition selects (else the run is refused, the table as it was): the source
    selects the same rows, ``... WHERE day = DATE '2026-12-01'``. Not with ``replace_partition`` or ``replace``.

    ``threshold="c2"`` (CLI: ``--threshold c2``) reads ``is_anomaly`` at that stored threshold, as
    ``is_anomaly_at('tx_ae', 'c2', ...)`` does, instead of at ``default``: BigQuery ML's ``ML.DETECT_ANOMALIES(MODEL
    tx_ae, STRUCT(0.02 AS contamination), TABLE t)`` is ``set_threshold(con, "tx_ae", "c2", "contamination",
    target=0.02)`` once, then ``score(con, "tx_ae", "t", threshold="c2")``.

    ``model_column=True`` (CLI: ``--model-column``) adds a last column, ``anomaly_model``, holding the version that
    scored each row (``'tx_ae@3'``, also when ``'tx_ae'`` was asked for): a history table appended to across
    retrains then says which version scored which rows. Off by default; a table appended to must have the column
    if and only if the run writes it (``ALTER TABLE t ADD COLUMN anomaly_model VARCHAR`` adds it to one written
    without). Re-scoring a table replaces an earlier scoring's ``anomaly_model``, or without the option leaves it out.

    ``mse=True`` (CLI: ``--mse``) adds ``anomaly_mse`` after the outputs (also named in ``outputs=``): each row's mean
    squared reconstruction error over the features, in units of a typical training row's (about 1 for one), the
    values the SQL function ``anomaly_mse`` gives: BigQuery ML's ``mean_squared_error`` column of
    ``ML.DETECT_ANOMALIES``. Off by default (it costs a second scoring pass); a table appended to has the column if
    and only if the run writes it.

    ``model``: ``'name'`` (its latest version) or ``'name@N'``. ``batch_rows``: rows read and scored at a time
    (default 65536), which bounds the memory a large source takes. ``progress=True``: the rows scored so far on
    stderr while it runs (a bar on a terminal, shown after 2 s; in a log, a line every 30 s); the CLI's
    ``score --into`` does so unless ``--quiet``.

    Examples
    --------
    >>> import ad_duckdb
    >>> con = ad_duckdb.connect()
    >>> _ = con.execute("CREATE TABLE tx AS SELECT range AS id, 1 + range % 20 AS count, "
    ...                 "(1 + range % 20) * (20 + range % 7) AS amount FROM range(1000)")
    >>> _ = ad_duckdb.train(con, "tx_ae", "tx", features=["count", "amount"], progress=False)
    >>> df = ad_duckdb.score(con, "tx_ae", "tx").to_pandas()
    >>> list(df.columns)
    ['id', 'count', 'amount', 'anomaly_score', 'anomaly_percentile', 'is_anomaly']
    >>> df.nlargest(5, "anomaly_score")  # doctest: +SKIP
    >>> ad_duckdb.score(con, "tx_ae", "tx", into="tx_scores", columns=["id"])
    1000
    >>> _ = con.execute("INSERT INTO tx SELECT 1000 + range, 3, 75 FROM range(5)")
    >>> ad_duckdb.score(con, "tx_ae", "SELECT * FROM tx WHERE id > (SELECT max(id) FROM tx_scores)",
    ...                 into="tx_scores", columns=["id"], append=True)
    5
    >>> con.close()
    """
    con = check_connection(con, "score")
    bad = [o for o in outputs if o not in OUTPUTS_ALLOWED]
    if bad or not outputs or isinstance(outputs, str):
        explained = (f"; anomaly_explain comes with {optionwords.opt('explain', True)}"
                     if not isinstance(outputs, str) and "anomaly_explain" in outputs else "")
        raise BadInputError(f"outputs must be a non-empty list drawn from {list(OUTPUTS_ALLOWED)}; got {outputs!r}"
                            f"{explained}.")
    outputs = [o for o in OUTPUTS_ALLOWED if o in outputs or (mse and o == MSE_COLUMN)]
    if not isinstance(threshold, str):  # BigQuery ML's STRUCT(0.02 AS contamination) is a number in the call
        raise BadInputError(numbercut.hint(con, model, threshold))
    kept = _kept_columns(model, columns)
    if not isinstance(batch_rows, int) or isinstance(batch_rows, bool) or batch_rows < 1:
        raise BadInputError(f"Scoring with {model!r}: batch_rows= must be a positive int (rows per Arrow batch; "
                            f"default 65536); got {batch_rows!r}.")
    if isinstance(into, str):  # after the caller's USE: the table its own CREATE TABLE makes, or the one it finds
        into = callerview.into_caller_schema(con, into)
    check_replace(into, replace, f"Scoring with {model!r}", append)
    partition = partitionreplace.columns(f"Scoring with {model!r}", into, replace_partition, replace)
    where = replacewhere.condition(f"Scoring with {model!r}", into, replace_where, replace, partition)
    # the rows are added as by append=True, beside the partitions (the rows the condition does not select) kept
    append = append or bool(partition) or where is not None
    left_out = pysource.index_left_out(source)
    if left_out:
        notes.warn(f"Scoring with {model!r}: {left_out}")
    # an incremental run's rows are read and added while no other run of this process appends to the table
    with interrupts.raised_as_interrupt("score", model), (
            one_append_at_a_time(con, into) if append and into is not None else contextlib.nullcontext()), \
            firstappend.Placeholder(con) as first:
        held = None
        if into is not None:
            # Checked before the reader exists: an unconsumed reader would hold its cursor (and the file) open.
            check_target(con, into, replace, source, in_place=not columns, append=append)
            held = table_columns(con, into) if append else None
            # the threshold the rows held are flagged at (read now: the reader below holds con's result open)
            cut_held = flagcut.held_cut(con, into) if held is not None else None
            if where is not None and held is not None:  # a condition the table cannot read fails before any scoring
                replacewhere.check_target(con, f"Scoring with {model!r}", table_sql(into), into, where)
        tally: list[DriftTally] = []
        types: dict[str, str] = {}
        repeats: list[tuple[str, int]] = []  # an appended run's rows whose id the table held: (id column, rows)
        try:
            # a table an earlier release scored with explain has no anomaly_imputed: its rows are added as they were
            imputed = held is None or "anomaly_imputed" in {c.lower() for c in held}
            lm, reader, close, failed = _scored_batches(con, model, source, kept, batch_rows, explain, outputs, tally,
                                                        lossless=into is not None, source_types=types, watch=_scored_top,
                                                        imputed=imputed, model_column=model_column,
                                                        threshold=threshold)
        except (AdDuckDBError, duckdb.Error) as e:
            if not (append and into is not None and held is None and firstappend.reads_missing(into, e)):
                raise
            # the first run of a job whose source reads the table: made empty, the source reads it as before the run
            if not first.make(into, source, kept, [*outputs, *written_beside(explain, True, model_column)]):
                firstappend.refuse_types(into, source, model, first.failure)
                first_append_error(into, source, model, e)
                raise
            try:
                lm, reader, close, failed = _scored_batches(con, model, source, kept, batch_rows, explain, outputs,
                                                            tally, lossless=True, source_types=types,
                                                            watch=_scored_top, model_column=model_column,
                                                            threshold=threshold)
            except (AdDuckDBError, duckdb.Error) as again:
                if "Binder Error" in str(again):  # it reads a column of the table the run does not write
                    first_append_error(into, source, model, e)
                raise
        checked: dict[str, tuple[str, str, str]] = {}
        if partition and into is not None:
            try:
                partition = partitionreplace.check_written(f"Scoring with {lm.ref!r}", into, partition,
                                                           reader.schema.names)
            except BaseException:
                close()
                raise
        if into is not None and held is not None:
            try:
                check_append_columns(into, held, reader.schema.names, lm.ref, source, types)
                # the types the new rows are written as: the scores' own, each kept column's as in the source
                ours = {*outputs, *written_beside(explain, imputed, model_column)}
                checked = check_append_types(con, into, table_types(con, into), {
                    c: SCORE_TYPES[c] if c in ours else types[c.lower()] for c in reader.schema.names
                    if c in ours or c.lower() in types}, lm.ref)
                check_append_values(con, source, checked, into, lm.ref)
            except BaseException:
                close()
                raise
        bar = progress_rows(f"scoring {f'into {into} ' if into is not None else ''}with {lm.ref}", progress)
        out: pa.Table | None = None
        try:
            reader = _counted(reader, bar, failed)
            if into is None:
                try:
                    out = reader.read_all()
                except OSError as e:  # DuckDB's error reading the source, as pyarrow passes it on
                    if failed:
                        raise
                    raise (read_error(f"Scoring with {model!r}", source, e)
                           or passed_on_error(f"Scoring with {model!r}", source, e)) from e
                finally:
                    close()
            else:
                n = _write_scores(con, model, source, into, reader, close, failed, lm, types, checked, held, outputs,
                                  written_beside(explain, imputed, model_column), _added_top, repeats,
                                  partition, _replaced, where, (cut_held, threshold))
        finally:
            bar.close()
    _drift_note(tally, source)  # after the commit: the scores are written whether or not the note is an error
    if repeats and into is not None and out is None:
        notes.warn(appendrepeats.note(into, repeats[0][0], repeats[0][1], n, partition, table_types(con, into)))
    if out is None:
        return n
    # a frame by its name alone: its row labels, so that .to_pandas() joins back to it (indexcols.with_row_labels)
    frame = pysource.named_frame(source)
    return out if frame is None else indexcols.with_row_labels(frame, out)


def _counted(reader: pa.RecordBatchReader, bar: RowProgress, failed: list[BaseException]) -> pa.RecordBatchReader:
    """``reader``'s batches, unchanged, each counted on ``bar`` as the consumer takes it. A Ctrl-C landing in this
    frame goes in ``failed`` as one in the scoring frame does: DuckDB, reading the stream, would report it as a failed
    read ("Invalid Input Error ... KeyboardInterrupt"), not as the interruption it is."""
    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in reader:
                bar.advance(batch.num_rows)
                yield batch
        except (AdDuckDBError, KeyboardInterrupt) as e:
            if not failed:  # the scoring frame's own, if it came from there
                failed.append(e)
            raise

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


def top_scored(con: duckdb.DuckDBPyConnection, model: str, source: str, n: int, *,
               columns: Sequence[str] | None = None, adds: Sequence[str] = (), model_column: bool = False,
               threshold: str = "default", mse: bool = False) -> pa.Table:
    """The ``n`` highest-scoring rows of ``source`` (as ``score`` returns them, but in DuckDB's lossless Arrow types:
    ``arrow.uuid``, ``arrow.json``, opaque ``time_tz``, ...), highest first. ``adds``: column
    names the caller adds to the rows (the CLI's anomaly_explain), refused in the source as the score columns are.
    ``model_column``: also ``anomaly_model``, the version that scored the rows (as ``score``'s); ``threshold``: the
    stored threshold ``is_anomaly`` is read at (as ``score``'s); ``mse``: also ``anomaly_mse`` (as ``score``'s).

    Why not ``score(...)`` then a sort: that holds every scored row in memory to print a few (10M rows of the
    transactions example: 1.2 GiB). The scored batches stream through DuckDB's top-N instead, which keeps ``n``.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise OptionError(f"Scoring with {model!r}: {optionwords.opt('n', flag='top')} is how many of the highest-scoring rows to "
                          f"return, a whole number from 0; got {n!r}.")
    tally: list[DriftTally] = []
    # Lossless both ways: the table goes back into DuckDB (the command line prints it from there), and DuckDB's
    # default Arrow export printed a UHUGEINT of 2^128 - 1 as -1, a TIME WITH TIME ZONE without its offset.
    _, reader, close, failed = _scored_batches(con, model, source, _kept_columns(model, columns), tally=tally,
                                               adds=adds, lossless=True, model_column=model_column,
                                               threshold=threshold,
                                               outputs=[*SCORE_OUTPUTS, *([MSE_COLUMN] if mse else [])])
    with _scored_view(con, reader, close, failed, model, source) as cur:
        cur.execute("SET SESSION arrow_lossless_conversion = true")  # SESSION: see _scored_batches
        out = cur.sql(f"SELECT * FROM __ad_scored ORDER BY anomaly_score DESC LIMIT {int(n)}").to_arrow_table()
    _drift_note(tally, source)
    return out
