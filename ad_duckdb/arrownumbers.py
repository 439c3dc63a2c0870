"""A SQL function's Arrow argument columns as numbers (one matrix per call), and numbers back as Arrow arrays."""

from __future__ import annotations

import dataclasses
import functools
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from . import categorical, wrappedints
from .argorder import _call
from .exceptions import BadInputError, FeatureMismatchError
from .numberhints import UUID_IS_AN_ID, as_number_hint
from .ortruns import BULK_ORT_ROWS
from .sqltext import is_query, sql_name, sql_names
from .textnumbers import THOUSANDS, number_expr, written_in, written_words

if TYPE_CHECKING:
    from .scoring import LoadedModel


def _sql_type_name(t: pa.DataType) -> str:
    """The DuckDB type a user wrote for a column that reached a function as Arrow type ``t`` (for messages)."""
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "VARCHAR"
    if isinstance(t, pa.OpaqueType):  # a DuckDB type Arrow has no equivalent for, e.g. BIGNUM (VARINT)
        return str(t.type_name).upper()
    if isinstance(t, pa.BaseExtensionType) and t.extension_name in ("arrow.uuid", "arrow.json"):
        return t.extension_name.removeprefix("arrow.").upper()  # how DuckDB hands them over losslessly
    if pa.types.is_timestamp(t):
        return "TIMESTAMP WITH TIME ZONE" if t.tz else "TIMESTAMP"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return f"{_sql_type_name(t.value_type)}[]"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_dictionary(t):  # how DuckDB hands an ENUM to Arrow
        return "ENUM"
    if pa.types.is_struct(t):  # with its fields, so the hint can name one to pick
        return "STRUCT(" + ", ".join(f"{sql_name(f.name)} {_sql_type_name(f.type)}" for f in t) + ")"
    if t.id in _SQL_NAME_OF:
        return _SQL_NAME_OF[t.id]
    for check, name in ((pa.types.is_boolean, "BOOLEAN"), (pa.types.is_date, "DATE"), (pa.types.is_time, "TIME"),
                        (pa.types.is_interval, "INTERVAL"), (pa.types.is_binary, "BLOB"), (pa.types.is_struct, "STRUCT"),
                        (pa.types.is_map, "MAP")):
        if check(t):
            return name
    return str(t).upper()


_FLOAT64_ID = pa.float64().id
# Arrow's fixed-width numeric types: the numpy dtype of their values and the DuckDB type they come from.
_NUMERIC = (
    (pa.float16(), np.float16, "FLOAT"), (pa.float32(), np.float32, "FLOAT"), (pa.float64(), np.float64, "DOUBLE"),
    (pa.int8(), np.int8, "TINYINT"), (pa.int16(), np.int16, "SMALLINT"), (pa.int32(), np.int32, "INTEGER"),
    (pa.int64(), np.int64, "BIGINT"), (pa.uint8(), np.uint8, "UTINYINT"), (pa.uint16(), np.uint16, "USMALLINT"),
    (pa.uint32(), np.uint32, "UINTEGER"), (pa.uint64(), np.uint64, "UBIGINT"),
)
_NUMPY_OF = {t.id: np.dtype(n) for t, n, _ in _NUMERIC}
_SQL_NAME_OF = {t.id: name for t, _, name in _NUMERIC}
# Why numpy for NULLs and DECIMAL(p <= 18) instead of pyarrow.compute.cast: importing pyarrow.compute adds 9 MiB
# to every scoring process; only wider decimals still need it.
_DECIMAL128_ID = pa.decimal128(1, 0).id

# Why the scoring path moves data between Arrow and numpy through raw buffers, never Array.to_numpy or pa.array:
# pyarrow's first such call imports pandas (to check for pandas objects), which makes a scoring process 56 MiB
# larger and its first query 0.3-0.5 s slower, for a library it never uses (bench/speed.py, 10M rows at d=2, peak
# RSS: bulk scoring 349 -> 324 MiB, the SQL path 243 -> 212 MiB).


def values_view(arr: pa.Array) -> np.ndarray:
    """A fixed-width numeric Arrow array's values as a read-only numpy view (NULL slots hold arbitrary values)."""
    dt = _NUMPY_OF[arr.type.id]
    buf = arr.buffers()[1]
    if buf is None or len(arr) == 0:
        return np.empty(0, dtype=dt)
    return np.frombuffer(buf, dtype=dt, count=len(arr), offset=arr.offset * dt.itemsize)


def _bits(bits: pa.Buffer, arr: pa.Array) -> np.ndarray:
    """A bitmap of ``arr`` (its validity, or a BOOLEAN's values) as numpy bools, from ``arr``'s offset."""
    unpacked = np.unpackbits(np.frombuffer(bits, dtype=np.uint8), count=arr.offset + len(arr), bitorder="little")
    return unpacked[arr.offset :].astype(bool)


def valid_mask(arr: pa.Array) -> np.ndarray:
    """True where ``arr`` is not NULL."""
    bits = arr.buffers()[0]
    return np.ones(len(arr), dtype=bool) if bits is None else _bits(bits, arr)


def _nan_where_null(out: np.ndarray, arr: pa.Array) -> np.ndarray:
    """``out`` (a writable float copy of ``arr``'s values) with NaN where ``arr`` is NULL."""
    if arr.null_count:
        out[~valid_mask(arr)] = np.nan
    return out


def doubles(arr: pa.Array) -> np.ndarray:
    """A DOUBLE Arrow array as float64, NaN for NULL (a read-only view when it has no NULL); another type through
    pyarrow's own conversion. Why: that conversion imports pandas (above), 0.3-0.4 s of each training process."""
    if not pa.types.is_float64(arr.type):
        return np.asarray(arr.to_numpy(zero_copy_only=False))
    if not arr.null_count:
        return values_view(arr)
    return _nan_where_null(np.array(values_view(arr)), arr)


def flags(arr: pa.Array) -> np.ndarray:
    """A BOOLEAN Arrow array as numpy bools, False for NULL (its values are bits, not bytes)."""
    bits = arr.buffers()[1]
    if bits is None or len(arr) == 0:
        return np.zeros(len(arr), dtype=bool)
    out = _bits(bits, arr)
    return out & valid_mask(arr) if arr.null_count else out


def to_arrow(values: np.ndarray, typ: pa.DataType, valid: np.ndarray | None = None) -> pa.Array:
    """A numpy vector as an Arrow array of ``typ`` (DOUBLE, BIGINT, INTEGER or BOOLEAN), NULL where ``valid``
    is False; built from buffers (see above)."""
    mask = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    if typ == pa.bool_():
        data = np.packbits(np.asarray(values, dtype=bool), bitorder="little")
    else:
        data = np.ascontiguousarray(values, dtype=_NUMPY_OF[typ.id])
    return pa.Array.from_buffers(typ, len(values), [mask, pa.py_buffer(data)])


def string_array(items: Sequence[str]) -> pa.Array:
    """Python strings as an Arrow string array, built from buffers (see above)."""
    data = [s.encode() for s in items]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in data], out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(data), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))])


def column_to_numbers(col: Any, pos: int, model: str, func: str, expected: str | None = None,
                      trained_on: str | None = None) -> np.ndarray:
    """One argument column (any numeric Arrow type, possibly with nulls) as a numpy vector, NaN for NULL.

    Its dtype is the column's own when that needs no conversion (a zero-copy view), else float64; ``to_matrix``
    stacks all columns as the model's input type."""
    if isinstance(col, pa.ChunkedArray):
        if col.num_chunks == 1:
            return column_to_numbers(col.chunk(0), pos, model, func, expected, trained_on)
        return np.concatenate([column_to_numbers(c, pos, model, func, expected, trained_on) for c in col.chunks]
                              or [np.empty(0)])
    t = col.type
    # Why a dict of type ids first: this runs for every column of every 2048-row call, and the
    # common case (DOUBLE / integer without NULLs) needs no cast, only a zero-copy view.
    if t.id in _NUMPY_OF:
        if col.null_count == 0:
            return values_view(col)
        return _nan_where_null(values_view(col).astype(np.float64), col)
    if t.id == _DECIMAL128_ID and t.precision <= 18 and sys.byteorder == "little" and len(col):
        # DuckDB's DECIMAL(p <= 18, s): the unscaled value fits the low 64 bits of each 128-bit slot.
        unscaled = np.frombuffer(col.buffers()[1], dtype=np.int64, count=2 * len(col), offset=col.offset * 16)[::2]
        return _nan_where_null(unscaled / float(10**t.scale), col)
    if (isinstance(t, pa.OpaqueType) and t.type_name in ("hugeint", "uhugeint") and t.storage_type == pa.binary(16)
            and sys.byteorder == "little"):
        return _wide_integers(col.storage, signed=t.type_name == "hugeint")
    if isinstance(t, pa.OpaqueType) and t.type_name in ("bignum", "varint") and (
            pa.types.is_binary(t.storage_type) or pa.types.is_large_binary(t.storage_type)):
        return _bignums(col.storage)
    if pa.types.is_null(t):
        return np.full(len(col), np.nan)
    # Why no BOOLEAN: models train on numeric columns only, and DuckDB's binder already refuses a
    # BOOLEAN first feature; scoring true as 1.0 in other positions would be a silent wrong score.
    if not (pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t)):
        from .bitvalues import holds_bits

        sql_type = "BIT" if pa.types.is_binary(t) and holds_bits(col) else _sql_type_name(t)
        raise BadInputError(
            f"{func}('{model}', ...): feature argument {pos}{f' (the model was trained on {expected!r} there)' if expected else ''} "
            f"is {sql_type}, not a number. Pass the model's columns in its order, or turn this one into a "
            f"number: {text_numbers_hint(col) or as_number_hint('col', sql_type)}"
            # the query that made the model's numbers says how: a date it read as its day of the week is not epoch()
            f"{f'; the model was trained on {trained_on}' if trained_on and is_query(trained_on) else ''}."
        )
    import pyarrow.compute as pc  # here, not at the top: see _DECIMAL128_ID

    try:
        f = pc.cast(col, pa.float64())
    except pa.ArrowInvalid as e:
        raise BadInputError(f"{func}('{model}', ...): feature argument {pos} cannot be read as a number ({e}).") from e
    out = _nan_where_null(values_view(f).copy(), f)
    wrappedints.check(col, out, pos, model, func, expected)
    return out


_UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def text_numbers_hint(col: pa.Array) -> str | None:
    """For text arguments mostly of numbers written as an export writes amounts ("$1,234.50", "1.234,50 €",
    "(120.00)"): the expression that reads them, for the argument ``col``; for text of UUIDs, that they are ids;
    None for other arguments.

    Why: the general advice, TRY_CAST(col AS DOUBLE), reads every such value as NULL, and the rows were then scored
    on a filled-in value without a word."""
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_string_view(col.type)):
        return None
    values = [v for v in col.slice(0, 10_000).to_pylist() if v is not None]
    # Why: DuckDB hands a UUID over as text, for which TRY_CAST(col AS DOUBLE), the general advice, is NULL
    if values and sum(_UUID_TEXT.fullmatch(v) is not None for v in values) * 2 >= len(values):
        return f"these are UUIDs ({values[0]!r}), and a UUID is {UUID_IS_AN_ID}"
    share, style = written_in(values)
    if share < 0.5 or style is None:
        return None
    if style.separator is None and any("." in v for v in values):
        # A batch may hold none of the amounts above 999: "$561.86" tells a decimal point, so "$1,234.50" in a later
        # batch has a thousands separator, which the expression must drop too
        style = dataclasses.replace(style, separator=THOUSANDS)
    example = next(v for v in values if written_in([v])[0])
    return f"{number_expr('col', style)} reads numbers written as these are ({example!r}, {written_words(style)})"


def _wide_integers(arr: pa.Array, *, signed: bool) -> np.ndarray:
    """HUGEINT / UHUGEINT as DuckDB hands them over under ``SET arrow_lossless_conversion = true`` (16 bytes each,
    the low half first), as float64 with NaN for NULL. Why: as opaque values they were refused as "not a number"."""
    if len(arr) == 0:
        return np.empty(0)
    words = np.frombuffer(arr.buffers()[1], dtype=np.uint64, count=2 * len(arr), offset=arr.offset * 16)
    lo, hi = words[0::2], words[1::2]
    negative = hi.view(np.int64) < 0 if signed else np.zeros(len(arr), dtype=bool)
    # a negative value's magnitude (two's complement), so that -40 is not -2^64 + (2^64 - 40), which float64 rounds to 0
    mag_lo = np.where(negative, ~lo + np.uint64(1), lo)
    mag_hi = np.where(negative, ~hi + (mag_lo == 0).astype(np.uint64), hi)
    out = mag_hi.astype(np.float64) * 2.0**64 + mag_lo.astype(np.float64)
    return _nan_where_null(np.where(negative, -out, out), arr)


def _bignums(arr: pa.Array) -> np.ndarray:
    """BIGNUM as DuckDB hands it over (3 header bytes, the first's top bit set for a number >= 0, then the magnitude's
    bytes, most significant first, each inverted for a negative number) as float64, NaN for NULL. Why not refused: a
    BIGNUM first feature is cast to DOUBLE by DuckDB itself, so the same column scored in one position and failed in
    another. Summed from the least significant byte up, as DuckDB's CAST(... AS DOUBLE) sums them, so the two agree
    to the last bit (a correctly rounded int-to-float conversion differed in 1 of 40 values); a value beyond DOUBLE,
    which that cast refuses, is +-inf, clipped as an infinite DOUBLE is."""
    n = len(arr)
    if n == 0:
        return np.empty(0)
    width = 8 if pa.types.is_large_binary(arr.type) else 4
    off = np.frombuffer(arr.buffers()[1], dtype=np.int64 if width == 8 else np.int32, count=n + 1,
                        offset=arr.offset * width).astype(np.int64)
    raw = arr.buffers()[2]
    data = np.frombuffer(raw, dtype=np.uint8) if raw is not None else np.empty(0, dtype=np.uint8)
    size = off[1:] - off[:-1] - 3  # the magnitude's bytes; negative for a NULL's empty slot
    ok = valid_mask(arr) & (size >= 0)
    negative = np.zeros(n, dtype=bool)
    negative[ok] = data[off[:-1][ok]] < 0x80
    out = np.zeros(n)
    step = 1.0
    # 128 bytes reach 2^1024, past DOUBLE's largest; the sum can overflow to inf before that, as DuckDB's would
    with np.errstate(over="ignore"):
        for k in range(min(int(size[ok].max(initial=0)), 128)):
            rows = np.nonzero(ok & (size > k))[0]
            b = data[off[1:][rows] - 1 - k].astype(np.float64)
            out[rows] += np.where(negative[rows], 255.0 - b, b) * step
            step *= 256.0
    out[ok & (size > 128)] = np.inf
    out[negative] *= -1.0
    out[~ok] = np.nan
    return out


def to_matrix(cols: Sequence[Any], model: LoadedModel, func: str) -> np.ndarray:
    """Arrow argument columns -> one [n, d] matrix of the model's input type (the one cast-and-stack per call):
    float64 where the graph subtracts a column's centre before its own cast to float32 (see nn.Preprocess), so
    that large values with a small spread keep their detail; else float32."""
    if len(cols) != model.n_features:
        args = sql_names(model.feature_names)
        # Why: DuckDB expands COLUMNS(...) inside a call into one call per column, each with one argument, which
        # the plain count ("got 1") left unexplained to whoever wrote COLUMNS(...) for the model's columns
        many = (" If you wrote COLUMNS(...) for them: in a call it makes one call per column, each with one "
                "argument; *COLUMNS(...) passes its columns as the arguments.") \
            if len(cols) == 1 and model.n_features > 1 and func != "score" else ""
        raise FeatureMismatchError(
            f"{func}('{model.ref}', ...) got {len(cols)} feature argument(s), but model {model.ref!r} takes "
            f"{model.n_features}: ({args}), in this order: {_call(func, model)}.{many}"
        )
    # Why errstate: a value beyond float32 becomes +-inf when a graph takes float32 rows, which the graph clips
    # like any Inf; numpy's overflow warning would otherwise fail the query where warnings are errors.
    dtype = model.input_dtype
    if model.layout is not None:
        return categorical.to_inputs(cols, model, func, dtype)
    with np.errstate(over="ignore"):
        doubles = _single_chunk_doubles(cols) if len(cols[0]) <= BULK_ORT_ROWS else None
        if doubles is not None:
            # Why: the SQL functions take DOUBLE arguments, so this is the common case; Arrow builds the row-major
            # matrix (NULL as NaN) in one C++ call, and with DuckDB calling from two threads at once that beats a
            # Python loop over the columns (d=30, SQL path: 3.3M -> 4.1M rows/s with the model run included).
            # Why only for UDF-sized calls: alone in a thread it is slower (65536 x 30: 2.3 ms vs 1.8 ms), and
            # bulk scoring converts its large batches in one thread (d=30: 3.9M vs 4.1M rows/s).
            tensor = pa.RecordBatch.from_arrays(doubles, names=_column_names(len(doubles))).to_tensor(
                null_to_nan=True, row_major=True)
            return np.asarray(tensor).astype(dtype, copy=False)
        return np.stack([column_to_numbers(c, i + 1, model.ref, func, model.feature_names[i], model.rec.source)
                         for i, c in enumerate(cols)], axis=1, dtype=dtype)


def _single_chunk_doubles(cols: Sequence[Any]) -> list[pa.Array] | None:
    """The columns as plain DOUBLE arrays, or None when any is of another type or in several chunks."""
    out = []
    for c in cols:
        if isinstance(c, pa.ChunkedArray):
            if c.num_chunks != 1:
                return None
            c = c.chunk(0)
        if c.type.id != _FLOAT64_ID or len(c) == 0:
            return None
        out.append(c)
    return out


@functools.cache
def _column_names(d: int) -> list[str]:
    return [f"x{i}" for i in range(d)]
