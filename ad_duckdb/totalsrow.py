"""A spreadsheet's totals row among the training rows: found by its values, named with the filter that leaves it out.

Why by its values: with the features named (CLI: -f), the 'Total' cell of an export's last row sits in a column
training never reads, so the row whose amounts sum all the others trained as one transaction the size of all the
others, without a word. A row whose every feature is the sum of the other rows' is that row, whatever its text says
(beside a report's subtotal rows, which sum those rows once more, the sum of the rows that are not totals).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import notes
from .exceptions import is_interrupt
from .readhints import TOTALS, TOTALS_LABEL
from .sqltext import (
    is_query,
    name_parts,
    quote_ident,
    quote_literal,
    shell_word,
    source_sql,
    sql_name,
    strip_sql_ends,
    table_sql,
    where_sql,
)

# A column sum and twice (beside subtotals, three times) the row's value agree to this share of the sum: a spreadsheet's total of amounts in cents
# is exact, one written rounded to whole units (1244596 of 1244596.29) still agrees at 1e-6 of a sum in millions.
_TOLERANCE = 1e-6
# Non-zero values the other rows hold in the matching columns, at least: a sparse count whose largest value happens to
# be the sum of the few others (3 = 1 + 1 + 1) is no totals row.
_MIN_SUMMED = 10
# Values of a slice of rows worked on at once: its temporaries stay within 2 MB (slices of 2M values held 16 MB while
# training read a sample, more than the sample itself), and cache-sized slices run faster (0.15 s a million rows x 30,
# against 0.38 s)
_SLICE_VALUES = 1 << 18
_WORDS = 10  # totals words of a column the filter lists (more: the pattern that found them)
# Text columns searched for the totals row's word (a wide table's every column is not read for a note).
_TEXT_COLUMNS = 50


class TotalsWatch:
    """Column sums and, per column, the row of largest magnitude, over batches of rows read in any order.

    Why per column's largest: a totals row of positive amounts is the largest in each of them, so it is among
    these ``d`` rows, and a source read as a sample (``featureread.TrainingSample``) is watched over all its rows
    while holding ``d`` of them."""

    def __init__(self, d: int) -> None:
        self.sums = np.zeros(d)
        self.nonzero = np.zeros(d, dtype=np.int64)
        # column j's row of largest |value|: rows[top_row[j]] (-1: none yet). Why each row once, by its position in
        # the rows read: a copy per column was a columns x columns matrix, 580 MB beside a 40 x 6,000 table of 2 MB
        self.top_row = np.full(d, -1, dtype=np.int64)
        self.rows: dict[int, np.ndarray] = {}
        self.read = 0
        self.top_abs = np.full(d, -1.0)
        self.second_abs = np.full(d, -1.0)  # the largest |value| of the other rows: a tie is no total
        self.empty = 0  # rows without a value in any column: a spreadsheet's rows of only separators

    def add(self, M: np.ndarray) -> None:
        # Why in slices: the temporaries of a whole million-row matrix cost 4 s, of its slices 0.15 s; and a wide
        # table's (1,555 columns) would take 12 GB at once
        rows = max(1, _SLICE_VALUES // max(1, M.shape[1]))
        for at in range(0, len(M), rows):
            self._add(M[at:at + rows])

    def _add(self, M: np.ndarray) -> None:
        # Why on the columns' transpose: numpy's reductions down the columns of a row-major slice of a few columns
        # (max, count_nonzero, nansum) walked it with a stride each: 0.17 s a 2M x 6 read, most of training's read,
        # against 0.03 s this way (the column sums then add in pairs, to the last digit or so: _TOLERANCE is 1e-6)
        T = np.array(M.T, order="C")  # a copy: changed below (M.T of one column is M itself)
        nan = np.isnan(T)
        self.empty += int(nan.all(axis=0).sum())
        T[nan] = 0.0
        with np.errstate(invalid="ignore"):  # +inf and -inf in a column: a NaN sum, which no row holds
            self.sums += T.sum(axis=1)
        self.nonzero += np.count_nonzero(T, axis=1)  # infinity counts, as any value other than 0
        A = np.abs(T, out=T)
        A[nan | (A == np.inf)] = -1.0  # NaN and infinity are no sums
        cols = np.arange(M.shape[1])
        at = A.argmax(axis=1)
        top = A[cols, at]
        A[cols, at] = -1.0
        runner_up = A.max(axis=1)
        new = top > self.top_abs
        self.second_abs = np.where(new, np.maximum(self.top_abs, runner_up), np.maximum(self.second_abs, top))
        self.top_abs = np.where(new, top, self.top_abs)
        self.top_row[new] = self.read + at[new]
        for i in np.unique(at[new]):
            self.rows[self.read + int(i)] = M[i].copy()
        self.read += len(M)
        if new.any():  # rows no column holds any longer
            held = set(self.top_row.tolist())
            for gone in [r for r in self.rows if r not in held]:
                del self.rows[gone]

    def _top(self, j: int) -> np.ndarray:
        return self.rows[int(self.top_row[j])]

    def totals_row(self, columns: Sequence[int]) -> tuple[np.ndarray, int] | None:
        """The values, in ``columns``, of a row that holds the sum of the other rows in each of them it has a value
        in, and how many times the row the columns' sums hold: 2 (the row and the rows it sums), or 3 (a report's
        subtotals sum those rows once more); None when no row does."""
        cols = list(columns)
        for j in cols:
            if not self.top_abs[j] > max(self.second_abs[j], 0.0):
                continue
            row = self._top(j)[cols]
            times = times_summed(row, self.sums[cols], self.nonzero[cols])
            if times:
                return row, times
        return None


def times_summed(row: np.ndarray, sums: np.ndarray, nonzero: np.ndarray) -> int | None:
    """How many times the column ``sums`` (over the rows ``row`` is one of; ``nonzero``: their non-zero values per
    column) hold ``row`` where it has a value: 2 (a totals row), 3 (a total beside subtotals), or None."""
    held = ~np.isnan(row) & np.isfinite(sums)
    if not held.any() or (nonzero[held] - (row[held] != 0)).max() < _MIN_SUMMED:
        return None
    for times in (2, 3):
        if (np.abs(times * row[held] - sums[held]) <= _TOLERANCE * np.abs(sums[held])).all():
            return times
    return None


def warn_totals_row(cur: object, source: str, where: str | None, described: Sequence[tuple[str, str]],
                    names: Sequence[str], found: tuple[np.ndarray, int], *, model: str,
                    named_by_text: str | None = None, empty: tuple[int, str | None] = (0, None)) -> bool:
    """The note on a totals row found among the training rows (``found``: its values of the features ``names``, and
    ``TotalsWatch.totals_row``'s times): the text that marks it, if a text column holds a totals word, and the
    filter that leaves it out (with a report's subtotals, all of them); whether a filter was given.

    ``named_by_text``: the column whose 'Total' the note on text columns of numbers gave the filter for (the
    features were not named, and that 'Total' made the column text): then no second note. ``empty``: the rows with
    every feature NULL and the filter that leaves them out (``empty_rows_filter``), made part of this one. Why: an
    export ends in its totals row, then rows of only separators; two notes each gave a where= and robust=True, and
    the one taken alone kept the other rows."""
    from .featurechoice import leave_out_with
    from .namelists import listing

    row, times = found
    text = [n for n, t in described if t.upper() == "VARCHAR"]
    exact = _total_words(cur, source, where, text)
    if exact and exact[0] == named_by_text:
        return True
    marked, leave_out = _checked_filter(cur, source, where, names, row, times, text, exact)
    what = f" ({_words_shown(marked[1])} in {marked[0]!r})" if marked else ""
    values = listing([f"{n} {_shown(v)}" for n, v in zip(names, row, strict=True) if not np.isnan(v)])
    n_empty, empty_out = empty
    both = bool(leave_out and n_empty and empty_out)
    if both:
        leave_out = f"{leave_out} AND {empty_out}"
    them = "it" if times == 2 else "them"
    fix = (f"leave {'them' if both else them} out"
           f"{f' (and the {n_empty} rows with every feature NULL, noted next)' if both else ''} with "
           f"{leave_out_with(f'({where}) AND {leave_out}' if where else leave_out, where)}"
           if leave_out else f"train on a query without {them}")
    holds = ("the sum of all the other rows" if times == 2 else
             "the sum of the rows that are not totals (subtotal rows sum them too)")
    notes.warn(
        f"Model {model!r}: a row of {source!r}{what} holds {holds} ({values}): a totals row, as a spreadsheet writes "
        "it, which is trained on as one row the size of all the others (and scores as the top anomaly). To train "
        f"without {them}, {fix}.",
    )
    return bool(leave_out)


def _checked_filter(cur: object, source: str, where: str | None, names: Sequence[str], row: np.ndarray, times: int,
                    text: Sequence[str], exact: tuple[str, list[str]] | None) -> tuple[tuple[str, list[str]] | None,
                                                                                   str | None]:
    """The totals words that mark the totals row ``row`` (with ``times`` 3, every subtotal row too) and the filter
    that leaves it out: by the plain totals words ``exact`` (``_total_words`` of the ``text`` columns), else by the
    labels of a report's subtotals ('North Total'), else by the row's values; no filter when none leaves the rows it
    sums, and the words said only where their filter is the one given (or they are plain totals words).

    Why checked by the sums: a report's subtotal rows beside its grand total ("North Total", ..., "Grand Total")
    were left in by a filter on the grand total's word alone, which the note said left them all out. Why the plain
    words first: the labels' pattern also matches a shop's name ('Total Wine & More', 'Dim Sum House'), which the
    note then gave as the totals row's mark."""
    tried = [exact] if exact else []
    for marked in tried + [None]:
        if marked is None:
            label = _total_words(cur, source, where, text, label=True)
            if label is None or label == exact:
                break
            marked = label
        leave_out = words_left_out(*marked)
        if _leaves_the_summed_rows(cur, source, where, names, row, times, leave_out):
            return marked, leave_out
    if times != 2:
        return exact, None  # by its values, one row: subtotals are several
    by_values = _by_values(cur, source, where, names, row)
    if by_values is not None and _leaves_the_summed_rows(cur, source, where, names, row, times, by_values):
        return exact, by_values
    return exact, None


def _aggregates(cur: object, select: str, source: str, where: str | None) -> tuple[Any, ...] | None:
    """The one row of ``SELECT select FROM source [WHERE where]``; None when the source cannot be read so (a note is
    no reason to fail the training or scoring it is about)."""
    try:
        return cur.execute(f"SELECT {select} FROM {source_sql(source)}"  # type: ignore[attr-defined,no-any-return]
                           + (where_sql(where) if where else "")).fetchall()[0]
    except Exception as e:
        if is_interrupt(e):
            raise
        return None


def _leaves_the_summed_rows(cur: object, source: str, where: str | None, names: Sequence[str], row: np.ndarray,
                            times: int, leave_out: str) -> bool:
    """Whether the rows ``leave_out`` keeps sum to the totals row ``row`` in each feature (the columns' sums over
    all rows being ``times`` that): the rows summed, without a total or a subtotal among them."""
    held = [j for j in range(len(names)) if not np.isnan(row[j])]
    sums = ", ".join(f"sum({quote_ident(names[j])}::DOUBLE) FILTER (WHERE {leave_out}), "
                     f"sum({quote_ident(names[j])}::DOUBLE)" for j in held)
    got = _aggregates(cur, sums, source, where)
    if got is None:
        return False
    for k in range(len(held)):
        kept, every = got[2 * k], got[2 * k + 1]
        if kept is None or every is None or abs(times * kept - every) > _TOLERANCE * abs(every) + 1e-9:
            return False
    return True


def _words_shown(words: Sequence[str]) -> str:
    shown = " and ".join(repr(w) for w in words[:_WORDS])
    return shown if len(words) <= _WORDS else f"{shown} and {len(words) - _WORDS} more"


def empty_rows_filter(cur: object, source: str, where: str | None, names: Sequence[str], empty: int) -> str | None:
    """The filter that leaves out the ``empty`` rows with every feature ``names`` NULL, and no other row (checked by
    counting: a NaN in every feature is missing too, but no NULL); None when there is none such."""
    if not empty:
        return None
    shown = [sql_name(n) for n in names]
    # Why coalesce and not DuckDB's COLUMNS(*) IS NOT NULL: that expands to a IS NOT NULL AND b IS NOT NULL, which
    # leaves out every row missing any one value too
    leave_out = f"{shown[0]} IS NOT NULL" if len(shown) == 1 else f"coalesce({', '.join(shown)}) IS NOT NULL"
    cols = ", ".join(quote_ident(n) for n in names)
    left = _aggregates(cur, f"count(*) FILTER (WHERE coalesce({cols}, NULL) IS NULL)", source, where)
    return leave_out if left is not None and left[0] == empty else None


def warn_empty_rows(cur: object, source: str, where: str | None, empty: int, leave_out: str | None, *, model: str,
                    with_totals: bool = False, columns: Sequence[str] = ()) -> None:
    """The note on ``empty`` rows that have every feature NULL, with the filter that leaves them out
    (``empty_rows_filter``'s); ``with_totals``: the totals row's note gave the filter that leaves out both;
    ``columns``: the source's, to tell rows of only separators from rows whose other columns hold values.

    Why: a spreadsheet export that ends in rows of only separators (';;;;') reads as rows of all NULLs, which
    training fills with the medians and trains on as that many typical rows; the fill counts alone said so."""
    from .featurechoice import leave_out_with

    if not empty:
        return
    # Why counted: a one-feature model's few NULL counts, each in a row with its id and date, were called "a row of
    # only separators", sending the user to look for an export's blank lines that were not there
    blank = (_aggregates(cur, "count(*) FILTER (WHERE " + " AND ".join(f"{quote_ident(c)} IS NULL" for c in columns)
                         + ")", source, where) if columns else None)
    separators = blank is None or blank[0] == empty
    why = (" (a row of only separators, as a spreadsheet leaves them at the end of an export, reads so)" if separators
           else "")
    them = "it" if empty == 1 else "them"
    if with_totals and leave_out:
        fix = f"use the where= given above for the totals row, which leaves {them} out too (its {leave_out})"
    elif leave_out:
        fix = f"leave {them} out with {leave_out_with(f'({where}) AND {leave_out}' if where else leave_out, where)}"
    else:
        fix = f"train on a query without {them}"
    rows = "1 row" if empty == 1 else f"{empty} rows"
    notes.warn(
        f"Model {model!r}: {rows} of {source!r} {'has' if empty == 1 else 'have'} every feature NULL{why}, which "
        f"training fills with the medians and trains on as {'a typical row' if empty == 1 else f'{empty} typical rows'}. To train without "
        f"{'it' if empty == 1 else 'them'}, {fix}.",
    )


def _shown(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))


def words_left_out(column: str, words: Sequence[str]) -> str:
    """The filter that leaves out the rows whose ``column`` holds one of the totals ``words``, and no row without a
    value there (more than ``_WORDS`` of them, a subtotal per group: by the pattern that found them)."""
    c = sql_name(column)
    if len(words) == 1:
        return f"{c} IS DISTINCT FROM {quote_literal(words[0])}"
    if len(words) > _WORDS:
        return f"NOT regexp_full_match(coalesce({c}, ''), {quote_literal(TOTALS_LABEL.pattern)})"
    return f"coalesce({c}, '') NOT IN ({', '.join(quote_literal(w) for w in words)})"


def column_total_words(cur: object, source: str, where: str | None, column: str) -> list[str]:
    """The totals words ``column`` holds, a subtotal's label too ([] when none, or the source cannot be read so)."""
    found = _total_words(cur, source, where, [column], label=True)
    return found[1] if found else []


def _total_words(cur: object, source: str, where: str | None, text: Sequence[str],
                 label: bool = False) -> tuple[str, list[str]] | None:
    """The first text column that holds totals words ('Total', 'Subtotal', 'Grand total:', 'Summe'; with ``label``,
    a subtotal's 'North Total' too), and those words; None when none does or the source cannot be read so."""
    text = list(text)[:_TEXT_COLUMNS]
    if not text:
        return None
    pattern = quote_literal((TOTALS_LABEL if label else TOTALS).pattern)
    picks = ", ".join(f"list(DISTINCT {quote_ident(n)} ORDER BY {quote_ident(n)}) FILTER (WHERE "
                      f"regexp_full_match({quote_ident(n)}, {pattern}))" for n in text)
    found = _aggregates(cur, picks, source, where)
    if found is None:
        return None
    return next(((n, list(v)) for n, v in zip(text, found, strict=True) if v), None)


def _by_values(cur: object, source: str, where: str | None, names: Sequence[str], row: np.ndarray) -> str | None:
    """A filter that leaves out the row of these feature values and no other (checked by counting), or None."""
    parts = [f"{sql_name(n)} = {_shown(v)}" for n, v in zip(names, row, strict=True) if not np.isnan(v)]
    leave_out = f"NOT ({' AND '.join(parts)})"
    counted = _aggregates(cur, f"count(*) FILTER (WHERE {leave_out}), count(*)", source, where)
    return leave_out if counted is not None and counted[0] == counted[1] - 1 else None


def scored_totals_note(cur: object, top_from: str, sums_from: str, source: str, names: Sequence[str], *, db: str,
                       model: str) -> str | None:
    """The note on a totals row scored as the top anomaly, with the source that leaves it out; None when the
    top-scored row of ``top_from`` (a FROM item with ``anomaly_score``) is none: its values of the features ``names``
    are not the sums of the other rows scored, ``sums_from`` (a FROM item of all of them, ``source``'s rows).

    Why: a month's export scored with its totals row showed that row first, as the worst transaction, without a
    word; what marks it is the test training's note makes (``TotalsWatch``), on the one row shown first."""
    feats = [quote_ident(n) for n in names]
    cols = ", ".join(f"{f}::DOUBLE" for f in feats)
    sums = ", ".join(f"sum({f}::DOUBLE), count(*) FILTER (WHERE {f} <> 0)" for f in feats)
    try:
        top = cur.execute(f"SELECT {cols} FROM {top_from} "  # type: ignore[attr-defined]
                          "ORDER BY anomaly_score DESC NULLS LAST LIMIT 1").fetchall()
        row = np.array([np.nan if v is None else v for v in top[0]] if top else [], dtype=np.float64)
        held = np.flatnonzero(~np.isnan(row))
        if not len(held):
            return None
        # Why one column's sum first: on the bulk path (score --into, 1M rows) the sums of all took 7 ms of a 1 s run,
        # one column's 2 ms; and a row that is no total fails it
        j = int(held[0])
        first = cur.execute(f"SELECT sum({quote_ident(names[j])}::DOUBLE) "  # type: ignore[attr-defined]
                            f"FROM {sums_from}").fetchall()[0][0]
        if first is None or not any(abs(t * row[j] - first) <= _TOLERANCE * abs(first) for t in (2, 3)):
            return None
        agg = cur.execute(f"SELECT {sums} FROM {sums_from}").fetchall()[0]  # type: ignore[attr-defined]
    except Exception as e:
        if is_interrupt(e):
            raise
        return None  # a note is no reason to fail a scoring that succeeded
    summed = np.array([np.nan if v is None else v for v in agg[0::2]], dtype=np.float64)
    times = times_summed(row, summed, np.array(agg[1::2], dtype=np.int64))
    return None if times is None else _scored_note(cur, row, times, source, names, db=db, model=model)


class ScoredTop:
    """The top-scored row's feature values among the rows a bulk scoring writes, and the column sums and non-zero
    counts of all of them: the test of ``scored_totals_note`` on rows the table written cannot give back, the rows
    one ``--append`` run added (the table holds earlier runs' too) or a table without the features (``-c``).

    Why the sums only on request: they cost 0.8 ms a batch of 65,536 rows x 30 (7% of scoring them), which the
    plain ``--into`` does not pay (it sums the table written, in SQL)."""

    def __init__(self, d: int, *, sums: bool) -> None:
        self.score = -np.inf
        self.row = np.full(d, np.nan)
        self.sums = np.zeros(d) if sums else None
        self.nonzero = np.zeros(d, dtype=np.int64)

    def add(self, cols: Sequence[object], scores: np.ndarray) -> None:
        """One batch: the feature columns as the source gave them (Arrow arrays) and their scores."""
        if not len(scores):
            return
        at = int(scores.argmax())
        if scores[at] > self.score:  # a NaN score is no top
            self.score = float(scores[at])
            # the source's own values, not the model's input (float32 for many models: 7 digits of a sum in millions)
            self.row = np.array([_as_float(c[at].as_py()) for c in cols], dtype=np.float64)  # type: ignore[index]
        if self.sums is None:
            return
        for j, c in enumerate(cols):
            if _is_text(c):  # a text model's category column: no sum (its NaN leaves the column out of the test)
                self.sums[j] = np.nan
                continue
            values = _summable(c, j + 1)
            self.sums[j] += float(values.sum())
            self.nonzero[j] += int(np.count_nonzero(values))

    def note(self, cur: object, source: str, names: Sequence[str], *, db: str, model: str,
             added_to: str | None = None) -> str | None:
        """``scored_totals_note`` from the rows seen (None without the sums); ``added_to``: the table an
        ``--append`` run added them to."""
        if self.sums is None or np.isnan(self.row).all():
            return None
        times = times_summed(self.row, self.sums, self.nonzero)
        if times is None:
            return None
        return _scored_note(cur, self.row, times, source, names, db=db, model=model, added_to=added_to)


def without_totals_row(scores: np.ndarray, watch: ScoredTop, shown: str) -> tuple[np.ndarray, str]:
    """The ``scores`` a histogram draws, without the top-scored row when ``watch`` (over the same rows) finds it a
    totals row, and ``shown`` (the source as the title names it) saying so.

    Why: the row summing all the others scored far above every one of them, so the histogram's score axis stretched to
    it, the rows and thresholds that matter squeezed into its first bins, and each threshold counted it as a flagged
    row; the note training and ``--top`` give names the filter, which a quick look at the plot never reads."""
    if watch.sums is None or not len(scores) or np.isnan(watch.row).all():
        return scores, shown
    if times_summed(watch.row, watch.sums, watch.nonzero) is None:
        return scores, shown
    return np.delete(scores, int(np.nanargmax(scores))), f"{shown} (its totals row left out)"


def _is_text(c: object) -> bool:
    """Whether Arrow column ``c`` holds text (a text model's category feature), which has no sum.

    Why asked: summed as numbers, `score --into -c id`, `--append` and plot_scores of a text model failed with
    "feature argument 3 is VARCHAR, not a number"."""
    import pyarrow as pa

    t = getattr(c, "type", None)
    return t is not None and (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
                              or pa.types.is_dictionary(t))


def _summable(c: object, pos: int) -> np.ndarray:
    """Feature column ``pos`` (1-based), an Arrow array of numbers, as float64, 0 where NULL (so that summing it and
    counting its non-zeros skip those).

    Why the scoring path's conversion (raw buffers) and not pyarrow.compute: its safe cast refused a BIGINT above
    2^53 (the scoring failed with it), and it and Array.to_numpy import pandas, 0.3 s more CPU a run."""
    from .arrownumbers import column_to_numbers, valid_mask

    values = np.asarray(column_to_numbers(c, pos, "", "score"), dtype=np.float64)
    if c.null_count:  # type: ignore[attr-defined]
        values = np.where(valid_mask(c), values, 0.0)  # type: ignore[arg-type]
    return values


def _as_float(v: object) -> float:
    try:
        return np.nan if v is None else float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.nan


def _scored_note(cur: object, row: np.ndarray, times: int, source: str, names: Sequence[str], *, db: str, model: str,
                 added_to: str | None = None) -> str:
    """The note on the totals row ``row`` scored at the top (``times``: ``times_summed``'s), with the source that
    leaves it out, found by its totals word or its values in ``source`` (with ``added_to``, an ``--append`` run's
    table, in that table when the source no longer reads it: an incremental query past the rows added)."""
    marked: tuple[str, list[str]] | None = None
    leave_out: str | None = None
    looked = [source, *([f"SELECT * FROM {table_sql(added_to)}"] if added_to else [])]
    for where_from in looked:
        try:
            text = [r[0] for r in cur.execute(  # type: ignore[attr-defined]
                f"DESCRIBE SELECT * FROM {source_sql(where_from)}").fetchall() if str(r[1]).upper() == "VARCHAR"]
        except Exception as e:
            if is_interrupt(e):
                raise
            text = []
        marked = _total_words(cur, where_from, None, text)
        if where_from == source:  # the rows scored: the filter checked against their sums
            marked, leave_out = _checked_filter(cur, source, None, names, row, times, text, marked)
        else:
            # the table appended to, with earlier runs' rows: no sums to check it by, so a subtotal's label (whose
            # pattern a shop's name can match) only where the row sums subtotals too
            if marked is None and times == 3:
                marked = _total_words(cur, where_from, None, text, label=True)
            leave_out = words_left_out(*marked) if marked else _by_values(cur, where_from, None, names, row)
        if leave_out:
            break
    what = f" ({_words_shown(marked[1])} in {marked[0]!r})" if marked else ""
    values = ", ".join(f"{n} {_shown(v)}" for n, v in zip(names, row, strict=True) if not np.isnan(v))
    holds = ("the sum of the rows that are not totals" if times == 3 else
             "the sum of all the other rows this run added" if added_to else "the sum of all the other rows")
    frm = f"({strip_sql_ends(source)})" if is_query(source) else source_sql(source)
    if leave_out and added_to:
        # the rows the filter leaves out, said plainly (ID = 'Total', not NOT (ID IS DISTINCT FROM 'Total'))
        left = (f"{sql_name(marked[0])} = {quote_literal(marked[1][0])}" if marked and len(marked[1]) == 1
                and leave_out == words_left_out(*marked)
                else f"{sql_name(marked[0])} IN ({', '.join(quote_literal(w) for w in marked[1])})"
                if marked and len(marked[1]) <= _WORDS and leave_out == words_left_out(*marked)
                else leave_out.removeprefix("NOT (").removesuffix(")") if leave_out.startswith("NOT (")
                else leave_out.removeprefix("NOT "))
        parts = name_parts(added_to)
        target = ".".join(sql_name(p) for p in parts) if parts else table_sql(added_to)
        fix = (f"leave it out of the next runs: ad-duckdb score {shlex.quote(db)} {shlex.quote(model)} "
               f"{shell_word(f'SELECT * FROM {frm} WHERE {leave_out}')} --into {shlex.quote(added_to)} --append; "
               f"and out of {added_to}: ad-duckdb sql {shlex.quote(db)} --write "
               f"{shell_word(f'DELETE FROM {target} WHERE {left}')}")
    elif leave_out:
        fix = (f"score without {'it' if times == 2 else 'them'}: ad-duckdb score {shlex.quote(db)} {shlex.quote(model)} "
               f"{shell_word(f'SELECT * FROM {frm} WHERE {leave_out}')}")
    else:
        fix = f"score a query without {'it' if times == 2 else 'them'}"
    top = f"the top-scored row this run added to {added_to}" if added_to else "the top-scored row"
    return (f"{top}{what} holds {holds}{'' if added_to else ' scored'} ({values}): a totals row, as a spreadsheet writes it, "
            f"not a row of its own; {fix}")
