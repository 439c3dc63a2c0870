"""A SQL function call's arguments as Arrow hands them over: the rows of each model named, as a matrix of its
features; a Ctrl-C in a call said as such."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from .arrownumbers import to_arrow, to_matrix
from .exceptions import FeatureMismatchError
from .scoring import LoadedModel
from .sqltext import sql_names

if TYPE_CHECKING:  # udfregistry imports this module, through udfowners
    from .udfregistry import Registry


def _constant_string(chunk: pa.Array) -> Any:
    """The value of a string column whose every row holds the same non-NULL string, else None.

    Why not ``pc.all(pc.equal(...))``: the model argument is a constant in almost every query, so this
    check runs once per 2048 rows; comparing the raw offsets and bytes costs about a quarter of that.
    """
    n = len(chunk)
    if n == 0 or chunk.null_count or chunk.type != pa.string():
        return None
    off = np.frombuffer(chunk.buffers()[1], dtype=np.int32, count=n + 1, offset=chunk.offset * 4)
    o0 = int(off[0])
    width = int(off[1]) - o0
    if int(off[-1]) - o0 != width * n or (n > 1 and not (np.diff(off) == width).all()):
        return None
    data = chunk.buffers()[2]
    raw = data.to_pybytes()[o0 : o0 + width * n] if data is not None else b""
    first = raw[:width]
    return first.decode() if raw == first * n else None


def _plain_strings(col: Any) -> Any:
    """A name column (model or threshold) as Arrow's ``string``. DuckDB hands VARCHAR over as ``string_view`` under
    ``SET produce_arrow_string_view = true`` with ``arrow_output_version = '1.5'`` and as ``large_string`` under
    ``arrow_large_buffer_size``; ``take`` has no ``string_view`` kernel (is_anomaly_at failed with Arrow's
    "Function 'array_take' has no kernel matching input types (string_view, int64)"), and the constant-name fast
    path reads ``string``'s offsets only."""
    t = col.type
    if pa.types.is_string_view(t) or pa.types.is_large_string(t):
        return col.cast(pa.string())
    return col


def _groups(model_col: Any) -> list[tuple[Any, np.ndarray | None]]:
    """(model name, row index or None for all rows) for each distinct non-NULL model in the column."""
    if isinstance(model_col, pa.ChunkedArray):
        chunk = model_col.chunk(0) if model_col.num_chunks == 1 else model_col.combine_chunks()
    else:
        chunk = model_col
    const = _constant_string(chunk)
    if const is not None:
        return [(const, None)]
    values = np.asarray(chunk.to_pylist(), dtype=object)
    out: list[tuple[Any, np.ndarray | None]] = []
    for v in {x for x in values if x is not None}:
        out.append((v, np.nonzero(values == v)[0]))
    return out


def _says_interrupts(apply: Callable[..., pa.Array]) -> Callable[..., pa.Array]:
    """``apply`` (``_apply``: registry, func, model column, ...), a Ctrl-C in it raised again saying what it stopped
    (``_said_interrupt``)."""

    @functools.wraps(apply)
    def run(registry: Registry, func: str, model_col: Any, *rest: Any, **kwargs: Any) -> pa.Array:
        try:
            return apply(registry, func, model_col, *rest, **kwargs)
        except KeyboardInterrupt as e:
            raise _said_interrupt(e, func, model_col) from None

    return run


def _said_interrupt(e: KeyboardInterrupt, func: str, model_col: Any) -> KeyboardInterrupt:
    """The KeyboardInterrupt (``Terminated`` after a SIGTERM) to raise for one that landed in ``func``'s Python: its
    class kept, its text saying the query was stopped, not wrong.

    Why: DuckDB passes a SQL function's exception on as "Invalid Input Error: Python exception occurred while executing
    the UDF: KeyboardInterrupt: " with the exception's text after it, and a Ctrl-C's is empty, so a user's own
    con.sql(...) stopped with Ctrl-C read as a wrong query. DuckDB's class stays (the function cannot change it);
    ``interrupts.signalled`` still knows the text."""
    if str(e):  # already said (a nested call), or a message of its own
        return e
    model = next((m for m in model_col.to_pylist() if m is not None), None)
    call = f"{func}({model!r}, ...)" if model is not None else f"{func}(...)"
    how = "SIGTERM" if type(e).__name__ == "Terminated" else "Ctrl-C"
    return type(e)(f"{how} stopped the query in {call}; the query itself is fine: run it again (DuckDB reports an "
                   "interrupted SQL function as this Invalid Input Error)")


@_says_interrupts
def _apply(
    registry: Registry,
    func: str,
    model_col: Any,
    cols: Sequence[Any],
    compute: Callable[[LoadedModel, np.ndarray, Any], pa.Array],
    out_type: pa.DataType,
    extra: Any = None,
) -> pa.Array:
    """``compute`` once per distinct model in the model column, on that model's rows; NULL where the model is NULL."""
    model_col = _plain_strings(model_col)
    if extra is not None:
        extra = _plain_strings(extra)
    groups = _groups(model_col)
    if len(groups) == 1 and groups[0][1] is None:
        lm = registry.get(groups[0][0])
        return compute(lm, _matrix(registry, groups[0][0], cols, lm, func), extra)
    parts: list[pa.Array] = []
    # Each row's place in the concatenated parts, -1 (a NULL index: a NULL result) where the model is NULL.
    place = np.full(len(model_col), -1, dtype=np.int64)
    done = 0
    for name, idx in groups:
        assert idx is not None  # None (all rows) comes only alone, as the one group handled above
        lm = registry.get(name)
        take = to_arrow(idx, pa.int64())
        place[idx] = np.arange(done, done + len(idx))
        done += len(idx)
        parts.append(compute(lm, _matrix(registry, name, [c.take(take) for c in cols], lm, func),
                             None if extra is None else extra.take(take)))
    if not parts:
        return pa.nulls(len(model_col), out_type)
    return pa.concat_arrays(parts).take(to_arrow(place, pa.int64(), place >= 0))


def _matrix(registry: Registry, ref: Any, cols: Sequence[Any], lm: LoadedModel, func: str) -> np.ndarray:
    """``to_matrix``, whose feature-count error for a call of the bare name also names the newest other stored
    version that takes as many columns. Why: after a retrain on other features, a query passing the old columns
    fails on the new version, and pinning the old one (still stored) is the fix that touches no column."""
    try:
        return to_matrix(cols, lm, func)
    except FeatureMismatchError as e:
        if not isinstance(ref, str) or "@" in ref:
            raise
        old = next((m for m in lm.siblings if m.n_features == len(cols)), None)  # siblings: newest first
        if old is None:
            raise
        args = sql_names(old.feature_names)
        threshold = ", 'threshold_name'" if func == "is_anomaly_at" else ""
        raise FeatureMismatchError(f"{e} {old.ref!r}, still stored, takes {old.n_features}: ({args}): pin it where a "
                                   f"query keeps those columns: {func}('{old.ref}'{threshold}, {args}).") from None


def _null_masks(cols: Sequence[Any]) -> pa.StructArray:
    """Each argument's NULLs, as one struct column that ``_apply`` takes for the rows of each model (whose text
    arguments are known only once the model is)."""
    masks = [(c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c).is_null() for c in cols]
    return pa.StructArray.from_arrays(masks, names=[str(i) for i in range(len(cols))])
