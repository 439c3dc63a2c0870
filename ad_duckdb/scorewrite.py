"""``score(into=)``'s write of the scored rows into a table, in one transaction: created, replaced or appended
to, a partition or a condition's rows replaced, the kept columns cast back to their types in the source."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import duckdb
import pyarrow as pa

from . import appendrepeats, flagcut, notes, partitionreplace, replacewhere, storetables
from .addedtop import AddedTop
from .featurechoice import SCORE_COLUMNS
from .intotable import append_value_error, guarded, table_types
from .scorebatches import _scored_view
from .scorecols import CARRIED, mark_statements
from .scoring import LoadedModel
from .sourcedescribe import describe
from .sqltext import quote_ident, shown_table, table_sql


def _write_scores(con: duckdb.DuckDBPyConnection, model: str, source: str, into: str, reader: pa.RecordBatchReader,
                  close: Callable[[], None], failed: list[BaseException], lm: LoadedModel, types: dict[str, str],
                  checked: dict[str, tuple[str, str, str]], held: list[str] | None, outputs: Sequence[str],
                  explained: list[str], _added_top: AddedTop | None, repeats: list[tuple[str, int]],
                  partition: list[str] | None = None, replaced: list[int] | None = None,
                  where: replacewhere.Where | None = None,
                  cuts: tuple[str | None, str] = (None, "default")) -> int:
    """``score(into=)``'s write of ``reader``'s rows into ``into``, in one transaction; the rows written.
    ``explained``: the columns written beside ``outputs`` (``written_beside``); ``repeats``: gets, when appending,
    the id column and how many added rows repeat an id the table held (``appendrepeats``); ``partition``: the
    ``replace_partition`` columns, whose held rows of the new rows' values are deleted (``replaced`` gets how many);
    ``where``: the ``replace_where`` condition, whose held rows are deleted (likewise); ``cuts``: the threshold the
    held rows' ``is_anomaly`` is at (None: unknown) and this run's, marked on it, noted when the rows kept beside
    were written at another (``flagcut``)."""
    target = table_sql(into)
    flags = "is_anomaly" in outputs
    was, threshold = cuts if flags else (None, cuts[1])
    cut_note = ""
    if _added_top is not None:  # the CLI's --top with --append: the rows this run adds
        reader = _added_top.tee(reader)
    gone: list[int] = []  # the rows a replace_partition run deleted, told to ``replaced`` once committed
    with _scored_view(con, reader, close, failed, model, source) as cur:
        with storetables.transaction(cur):
            typed_sql = _source_typed(cur, types, lambda expr, c: guarded(expr, *checked[c], into, lm.ref)
                                      if c in checked else expr)
            # Why the source sees the table as before, though it may read it (the last id scored): its rows are
            # read on a cursor of their own whose query began before this transaction, and DuckDB shows a query
            # no row committed after it began, nor this transaction's uncommitted ones.
            if held is not None:
                held_types = table_types(con, into)
                ids = appendrepeats.id_candidates(held_types)
                if partition or where is not None or appendrepeats.has_own_rowid(held_types):
                    # Why staged: the partition's held rows go only once every new row is scored; and a column
                    # named rowid hides the row ids that tell the rows added from the rows held
                    added = _staged_insert(cur, target, typed_sql, ids, partition or [], repeats, gone,
                                           (lm.ref, into, where) if where is not None else None)
                else:
                    before = appendrepeats.last_rowid(cur, target) if ids else None
                    try:
                        added = cur.execute(f"INSERT INTO {target} BY NAME SELECT {typed_sql} FROM __ad_scored"
                                            ).fetchall()
                    except duckdb.InvalidInputException as e:
                        raise append_value_error(e) or e from None
                    split = appendrepeats.by_rowid(target, before) if before is not None else None
                    idcol = appendrepeats.id_column(cur, split, ids) if split is not None else None
                    if idcol is not None and split is not None and (seen := appendrepeats.repeated(cur, split, idcol)):
                        repeats.append((idcol, seen))
            else:
                gone.append(0)  # the first run of a partitioned job: the table is made
                cur.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT {typed_sql} FROM __ad_scored")
                if where is not None:  # its rows are the condition's too, or the next rerun would keep some
                    replacewhere.check_rows(cur, f"Scoring with {lm.ref!r}", target, into, where)
            # the marks that tell a later re-scoring these columns are ours to replace (a user's of the name not),
            # also on an earlier scoring's column kept (columns=) but not written anew
            again = [f.name for f in reader.schema if f.metadata and CARRIED in f.metadata]
            for mark in mark_statements(target, [*outputs, *explained, *again], lm.ref,
                                        flagcut.mark_text(threshold) if flags else ""):
                cur.execute(mark)
            n = added[0][0] if held is not None else cur.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
            if flags and held is not None and was != threshold:
                kept = cur.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0] - n
                said = (flagcut.note(shown_table(into), was, threshold, int(n), int(kept)) if was is not None else
                        flagcut.unrecorded_note(shown_table(into), threshold, int(n), int(kept)))
                cut_note = said if kept and n else ""
    if replaced is not None and (partition or where is not None):
        # after the commit: a caller told of a failure after it (a note made an error) knows the rows were replaced
        replaced.append(sum(gone))
    if cut_note:  # after the commit, as the other notes of what was written
        notes.warn(cut_note)
    return int(n)


def _staged_insert(cur: duckdb.DuckDBPyConnection, target: str, typed_sql: str, ids: list[str], partition: list[str],
                   repeats: list[tuple[str, int]], replaced: list[int],
                   where: tuple[str, str, replacewhere.Where] | None = None) -> list[tuple[Any, ...]]:
    """``_write_scores``' insert through a temporary table of the scored rows: the held rows of the same
    ``partition`` values deleted (``partitionreplace``), or those ``where`` (the model's ref, the into= name, the
    ``replacewhere`` condition) selects, the repeated ids counted against the rows still held, then the rows
    inserted; DuckDB's answer to the INSERT (the rows added)."""
    staged = partitionreplace.STAGED  # a fixed name
    try:
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {staged} AS SELECT {typed_sql} FROM __ad_scored")
    except duckdb.InvalidInputException as e:
        raise append_value_error(e) or e from None
    said = partitionreplace.not_a_partition(cur, target, partition) if partition else None
    if said:
        # in the transaction: made an error (PYTHONWARNINGS=error), it leaves the table as it was
        notes.warn(said)
    if where is not None:
        replaced.append(replacewhere.delete_held(cur, target, where[2], f"Scoring with {where[0]!r}", where[1]))
    else:
        replaced.append(partitionreplace.delete_held(cur, target, partition) if partition else 0)
    split = appendrepeats.staged(target, staged)
    idcol = appendrepeats.id_column(cur, split, ids)
    if idcol is not None and (seen := appendrepeats.repeated(cur, split, idcol)):
        repeats.append((idcol, seen))
    added = cur.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {staged}").fetchall()
    if where is not None:  # on the table: the rows the condition selects once its held ones went are the new ones
        ref, into, cond = where
        replacewhere.check_rows(cur, f"Scoring with {ref!r}", target, into, cond, int(added[0][0]))
    # made in the run's transaction: a failure before here rolls it back with the rest
    cur.execute(f"DROP TABLE {staged}")
    return added


def _source_typed(cur: duckdb.DuckDBPyConnection, wanted: dict[str, str],
                  item: Callable[[str, str], str] = lambda expr, c: expr) -> str:
    """The select list of ``__ad_scored`` that casts each kept column back to its type in the source (``wanted``, by
    lowercased name) where Arrow changed it (an ENUM arrives as text, even losslessly), so the scores table joins
    and compares as the source does. ``item``: each column's expression and name to the SQL written for it."""
    return ", ".join(
        f"{item(f'CAST({quote_ident(c)} AS {wanted[c.lower()]})', c)} AS {quote_ident(c)}"
        if c.lower() in wanted and c.lower() not in SCORE_COLUMNS and t != wanted[c.lower()] else
        f"{item(quote_ident(c), c)} AS {quote_ident(c)}" for c, t in describe(cur, "__ad_scored"))
