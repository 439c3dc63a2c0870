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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_KEEP: ContextVar[bool] = ContextVar("ad_duckdb_keep_index", default=False)


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


def keeping() -> bool:
    return _KEEP.get()


def has_index(value: Any) -> bool:
    """Whether ``value`` is a pandas DataFrame whose index says something: a MultiIndex, or a named index (a plain
    RangeIndex, or the row labels a filter left, are no ids)."""
    if type(value).__module__.split(".")[0] != "pandas" or not hasattr(value, "columns"):
        return False
    index = value.index
    return index.nlevels > 1 or index.names[0] is not None


def as_columns(value: Any) -> Any | None:
    """``value.reset_index()`` for a frame ``has_index``, None where that cannot be done (an index level named as a
    column, which pandas refuses) or for anything else."""
    if not has_index(value):
        return None
    try:
        return value.reset_index()
    except ValueError:  # "cannot insert a, already exists"
        return None
