"""Reading a source's feature columns as float64 matrices, SQL NULL as NaN: in batches, whole, counted,
fingerprinted, or sampled in one pass over a source larger than the training budget (``TrainingSample``); a read
that fails names the source, the filter and the fix."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import NoReturn

import duckdb
import numpy as np

from .arrownumbers import doubles
from .duckerrors import first_part, is_missing_column
from .exceptions import BadInputError, SourceNotFoundError, is_interrupt
from .optionwords import opt
from .progress import RowProgress
from .readhints import read_fix, said
from .sqltext import py_text, quote_ident, quote_literal, source_sql, sql_tokens, where_sql
from .totalsrow import TotalsWatch

# Rows per Arrow batch when reading a training table: a batch is copied into the matrix, then dropped.
LOAD_BATCH_ROWS = 1 << 16


def _feature_query(source: str, names: Sequence[str], where: str | None,
                   also: str | tuple[str, ...] | None = None) -> str:
    # "+ 0": DuckDB 2.0 pushes a bare CAST of a CSV column into the CSV reader, which then parses the column's text as
    # a number: a BOOLEAN label written True/False stopped with "Could not convert string 'True' to 'DOUBLE'". An
    # expression around the cast keeps it in the query (x + 0 is x for every double but -0.0).
    extra = [also] if isinstance(also, str) else list(also or ())
    cols = ", ".join([*(f"CAST({quote_ident(n)} AS DOUBLE) + 0" for n in names), *extra])
    return f"SELECT {cols} FROM {source_sql(source)}" + (where_sql(where) if where else "")


def _raise_read_error(source: str, names: Sequence[str], where: str | None, e: Exception,
                      what: str | None = None, who: str | None = None) -> NoReturn:
    if is_interrupt(e):  # a Ctrl-C, not a source we cannot read: it stays one
        raise e
    fix = read_fix(source, str(e))
    words = first_part(str(e))  # without DuckDB's LINE 1 excerpt of our query around the source
    pandas_and = _pandas_and_hint(where, e)
    if pandas_and:  # DuckDB's eleven lines of the integer '&' it has buried the one fix
        words = words.split("\n")[0].strip().rstrip(".")
    filtered = f" ({opt('where', where)})" if where else ""
    raise (SourceNotFoundError if is_missing_column(e) else BadInputError)(
        f"{f'{who}: c' if who else 'C'}annot read {what or f'features {list(names)}'} from {source!r}"
        f"{filtered}: "
                        + (f"{fix}. ({said(str(e))}.)" if fix else f"{words}.") + _quoted_text_hint(where, e)
                        + pandas_and) from e


def _pandas_and_hint(where: str | None, e: Exception) -> str:
    """For a filter joined as a pandas mask is, ``(split == 'train') & (label == 0)``, which DuckDB refuses as '&' of
    two BOOLEANs (its '&' and '|' are bitwise, on integers): the filter joined with AND and OR; "" otherwise."""
    if not where or not re.search(r"'[&|]\(BOOLEAN, BOOLEAN\)'", str(e)):
        return ""
    try:
        toks = sql_tokens(where)
    except Exception:
        return ""
    ends = [p for p, _ in toks[1:]] + [len(where)]
    texts = [where[p:end].strip() for (p, _), end in zip(toks, ends, strict=True)]
    fixed, last = [], 0
    for i, (p, kind) in enumerate(toks):
        op = where[p:p + 2]
        # Why only between parentheses, as a pandas mask must write it: '(flags & 4 = 4) & (label = 0)' holds a
        # bitwise '&' too, which as AND read flags as a BOOLEAN (any non-zero flags passed)
        joins = 0 < i < len(toks) - 1 and texts[i - 1] == ")" and (texts[i + 1] == "(" or texts[i + 1].lower() == "not")
        if kind == duckdb.token_type.operator and op[:1] in ("&", "|") and op not in ("||", "&&") and joins:
            fixed += [where[last:p], "AND" if op[0] == "&" else "OR"]
            last = p + 1
    if not fixed:
        return ""
    text = "".join([*fixed, where[last:]])
    shown = py_text(text)
    return f" SQL joins conditions with AND and OR: {opt('where', text, py=shown)}."


def _quoted_text_hint(where: str | None, e: Exception) -> str:
    """For a filter whose missing column is a word in double quotes (a pandas query's ``split == "train"``): that
    SQL reads it as a column, and the filter with the text in single quotes; "" otherwise."""
    m = re.search(r'Referenced column "((?:[^"]|"")+)" not found', str(e)) if where and is_missing_column(e) else None
    # Why only where a value goes (after a comparison, in an IN list): '"spilt" = 1', a misspelt column in SQL's own
    # quotes, was told to put it in single quotes, comparing a text to 1
    if m is None or where is None or not re.search(r"(?:[=<>]|\blike|\bin\s*\((?:[^()]*,)?)\s*" + re.escape(f'"{m.group(1)}"'),
                                                    where, re.IGNORECASE):
        return ""
    word = m.group(1).replace('""', '"')
    fixed = where.replace(f'"{m.group(1)}"', quote_literal(word))
    shown = py_text(fixed)
    return (f' SQL reads "{word}" as a column name; if it is a value, text goes in single quotes: '
            f"{opt('where', fixed, py=shown)}.")


def count_rows(cur: object, source: str, names: Sequence[str], where: str | None = None, *,
               who: str | None = None) -> int:
    """The number of rows ``feature_batches`` would read (for a table, a cheap count); ``who`` as there."""
    try:
        return int(cur.sql(_feature_query(source, names, where)).aggregate("count(*)").fetchall()[0][0])  # type: ignore[attr-defined]
    except Exception as e:
        _raise_read_error(source, names, where, e, who=who)


def rows_fingerprint(cur: object, source: str, names: Sequence[str], where: str | None = None) -> str | None:
    """A fingerprint of the rows ``feature_batches`` would read, whatever their order: the sum of a hash of each
    row's values (as DOUBLE, as a model reads them), with the DuckDB version that hashed them; None when the
    source cannot be read so.

    Why: a row count alone said a DataFrame variable reloaded with as many rows of another month held the rows a
    model was trained on (``trainoverlap._training_overlap``); a sum, unlike an XOR, keeps two equal rows from cancelling.
    """
    cols = ", ".join(f"CAST({quote_ident(n)} AS DOUBLE) + 0" for n in names)
    q = f"SELECT sum(hash({cols}))::VARCHAR FROM {source_sql(source)}" + (where_sql(where) if where else "")
    try:
        total = cur.execute(q).fetchall()[0][0]  # type: ignore[attr-defined]
    except Exception as e:
        if is_interrupt(e):
            raise
        return None
    return f"{total or 0}/duckdb {duckdb.__version__}"


def feature_batches(cur: object, source: str, names: Sequence[str], where: str | None = None,
                    what: str | None = None, who: str | None = None,
                    also: str | tuple[str, ...] | None = None) -> Iterator[np.ndarray]:
    """The feature columns as float64 matrices of up to ``LOAD_BATCH_ROWS`` rows, in the source's row order; SQL
    NULL becomes NaN. An error reading the source (a bad filter, a value DOUBLE cannot hold) names it, and
    ``what`` was read (default: "features [...]"; a label column read with them is no feature); ``who`` (say,
    "Model 'm'") begins that error, as the other errors of a training or an evaluation do. ``also``: an SQL
    expression of DOUBLE read as one more, last column of each batch (alarm_rate's row times, read with the rows'
    features so that they stay row for row with them on a source that gives other rows each read); a tuple of
    them: as many more columns, in its order."""
    d = len(names) + (1 if isinstance(also, str) else len(also or ()))
    try:
        reader = cur.sql(_feature_query(source, names, where, also)).to_arrow_reader(LOAD_BATCH_ROWS)  # type: ignore[attr-defined]
    except Exception as e:
        _raise_read_error(source, names, where, e, what, who)
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except Exception as e:
            _raise_read_error(source, names, where, e, what, who)
        M = np.empty((batch.num_rows, d))
        for i in range(d):
            M[:, i] = doubles(batch.column(i))
        yield M


def load_matrix(cur: object, source: str, names: Sequence[str], where: str | None = None,
                n: int | None = None, *, who: str | None = None) -> np.ndarray:
    """Read the feature columns as a float64 matrix; SQL NULL becomes NaN. ``n``: the rows ``count_rows`` counted,
    if the caller has already counted them; ``who`` as for ``feature_batches``.

    Why counted first and streamed into one matrix: reading the whole result as an Arrow table and stacking its
    columns held three copies of the table at once (10M rows x 6 columns: 1.9 GB for a 0.5 GB matrix). The cost:
    a query or a file source runs twice (the count, then the read), a table's count is cheap.
    """
    X = np.empty((count_rows(cur, source, names, where, who=who) if n is None else n, len(names)))
    at = 0
    for M in feature_batches(cur, source, names, where, who=who):
        b = len(M)
        if at + b > len(X):  # a source that changed between the reads (random(), a sample): keep every row
            X = np.concatenate([X, np.empty((max(b, len(X) // 2), len(names)))])
        X[at:at + b] = M
        at += b
    return X[:at] if at < len(X) else X


class TrainingSample:
    """The rows a model trains on, read in one pass over a source larger than its training budget.

    ``totals``: what finds a spreadsheet's totals row among all the rows read, not only the sample's.
    ``rows``: the rows at positions ``default_rng(seed).choice(n, size, replace=False)`` of the source's row order,
    in that order: exactly the sample ``AutoEncoderDetector.fit`` draws from the whole matrix, so a table read
    this way trains the same model while holding ``size`` rows instead of all ``n``. ``rising``: per column,
    whether its values rise from row to row over the whole source (``columnroles.id_like``'s test, which a sample
    cannot make).
    """

    def __init__(self, cur: object, source: str, names: Sequence[str], where: str | None, *, n: int, size: int,
                 seed: int, who: str | None = None, bar: RowProgress | None = None) -> None:
        d = len(names)
        idx = np.random.default_rng(seed).choice(n, size, replace=False)
        order = np.argsort(idx, kind="stable")
        at_sorted = idx[order]
        rows = np.empty((size, d))
        rising = np.ones(d, dtype=bool)
        last = np.full(d, -np.inf)
        self.totals = TotalsWatch(d)
        at = 0
        for M in feature_batches(cur, source, names, where, who=who):
            lo, hi = np.searchsorted(at_sorted, [at, at + len(M)])
            rows[order[lo:hi]] = M[at_sorted[lo:hi] - at]
            self.totals.add(M)
            if bar is not None:
                bar.advance(len(M))
            if len(M):
                rising &= ~np.isnan(M).any(axis=0) & (M[0] > last)
                if len(M) > 1:
                    rising &= (np.diff(M, axis=0) > 0).all(axis=0)
                last = M[-1]
            at += len(M)
        # A source that returned fewer rows than it counted (random(), a sample) leaves some positions unread.
        self.rows = rows if at >= n else rows[idx < at]
        self.n_read = at
        self.rising = rising if at >= 2 else np.zeros(d, dtype=bool)
