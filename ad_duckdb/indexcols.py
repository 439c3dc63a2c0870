"""A pandas frame's index, kept as leading columns when ``ad_duckdb.score`` reads the frame by its variable's name.

Why: DuckDB reads no index, so a frame indexed by its ids (``set_index('tid')``), a groupby's keys or ``pd.concat``'s
keys (a MultiIndex, its levels unnamed) came back scored without them: the scores could not be joined back to the
rows, and for unnamed levels nothing said so. Scoring keeps every source column beside the scores, so the index
levels are kept the same way, as ``frame.reset_index()`` makes them columns (``level_0``, ``level_1`` for unnamed
levels of a MultiIndex); pandas shares the columns' data with such a frame (copy-on-write), so only the index is
copied. Training does not (its default features would take an index level of numbers as a feature).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_KEEP: ContextVar[bool] = ContextVar("ad_duckdb_keep_index", default=False)
# Set where the rows' times are needed (a plot over time): an index of times is kept even when unnamed
_TIMES: ContextVar[bool] = ContextVar("ad_duckdb_keep_times", default=False)


@contextmanager
def kept() -> Iterator[None]:
    """While inside: a frame read by name (``pysource.cursor``) comes with its index as columns (``as_columns``)."""
    token = _KEEP.set(True)
    try:
        yield
    finally:
        _KEEP.reset(token)


def keeps_index(func: F) -> F:
    """``func`` run ``kept()``: its reads of a frame by name come with the frame's index as columns."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        with kept():
            return func(*args, **kwargs)

    return run  # type: ignore[return-value]


def keeps_times(func: F) -> F:
    """``func`` run where the rows' times are needed: its reads of a frame by name whose index holds times (a pandas
    time series) come with that index as columns, unnamed too (``index``, as ``reset_index()`` names it).

    Why unnamed too, and only here: ``pd.date_range(...)`` as the index (the usual shape of a series built in a
    notebook) has no name, and the plot over time refused it; ``score`` keeps such an index as the rows' labels instead
    (``with_row_labels``), which joins the scores back to the frame."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        token = _TIMES.set(True)
        try:
            return func(*args, **kwargs)
        finally:
            _TIMES.reset(token)

    return run  # type: ignore[return-value]


def keeping() -> bool:
    return _KEEP.get()


def _times_index(value: Any) -> bool:
    """Whether ``value`` is a pandas DataFrame with a level of times (datetime64) in its index."""
    if type(value).__module__.split(".")[0] != "pandas" or not hasattr(value, "columns"):
        return False
    index = value.index
    return any(getattr(index.get_level_values(i).dtype, "kind", "") == "M" for i in range(index.nlevels))


def has_index(value: Any) -> bool:
    """Whether ``value`` is a pandas DataFrame whose index says something: a MultiIndex, or a named index (a plain
    RangeIndex, or the row labels a filter left, are no ids)."""
    if type(value).__module__.split(".")[0] != "pandas" or not hasattr(value, "columns"):
        return False
    index = value.index
    return index.nlevels > 1 or index.names[0] is not None


def as_columns(value: Any) -> Any | None:
    """``value.reset_index()`` for a frame whose index a read now keeps (``has_index`` inside ``kept()``; one of times
    inside ``keeps_times``), None where that cannot be done (an index level named as a column, which pandas refuses)
    or for anything else."""
    if not (has_index(value) and keeping() or _TIMES.get() and _times_index(value)):
        return None
    try:
        return value.reset_index()
    except ValueError:  # "cannot insert a, already exists"
        return None


def with_row_labels(value: Any, table: Any) -> Any:
    """``table``, the scores of every row of the pandas frame ``value`` in its order, carrying the frame's row labels
    as ``pa.Table.from_pandas`` keeps them (a range in its metadata; other labels as ``__index_level_0__``), so that
    ``.to_pandas()`` gives the frame's own index; ``table`` as it is for any other value, an index ``has_index`` keeps
    as columns, the default 0..n-1, or another row count.

    Why: a filtered frame (``sub = df[df.qty > 5]``) keeps its rows' labels, and its scores came back numbered
    0..n-1: ``sub["score"] = scores["anomaly_score"]``, pandas' usual way back, aligned them by label, leaving most
    rows NaN and giving the rest another row's score, without a word."""
    if type(value).__module__.split(".")[0] != "pandas" or not hasattr(value, "columns") or has_index(value):
        return table
    import pyarrow as pa

    index = value.index
    plain = type(index).__name__ == "RangeIndex" and index.start == 0 and index.step == 1
    if len(index) != table.num_rows or plain:
        return table
    try:
        labels = pa.Table.from_pandas(value.iloc[:, :0])  # the frame's index alone
    except (pa.ArrowException, TypeError, ValueError):  # labels Arrow cannot hold (mixed objects): as before
        return table
    for name in labels.column_names:
        if name in table.column_names:
            return table
        table = table.append_column(labels.schema.field(name), labels.column(name))
    meta = json.loads(labels.schema.metadata[b"pandas"])
    # Why none: the labels' frame has no columns, so pandas typed its (empty) column index int64, and to_pandas then
    # cast the score table's column names to it; without one they are the names as they are
    meta["column_indexes"] = []
    return table.replace_schema_metadata({**(table.schema.metadata or {}), b"pandas": json.dumps(meta).encode()})
