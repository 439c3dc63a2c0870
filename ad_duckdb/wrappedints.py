"""A UHUGEINT of 2^127 or more that reached a SQL function wrapped to a negative number: refused, not scored.

Why: our functions take their feature arguments after the first as ``*cols``, which DuckDB's Python function API
declares as ANY (a typed ``*cols`` would make a function of fixed arity, and ``create_function`` takes no type for
the rest), so DuckDB casts nothing and hands each argument over in its default Arrow export. That export writes
UHUGEINT as decimal128(38, 0), as it writes HUGEINT, and wraps 2^127 and above to negative numbers (2^128 - 1 arrives
as -1): the row scored as if its value were a large negative one. The Arrow type no longer tells a UHUGEINT from a
HUGEINT, so only a value below -(10^38 - 1), which DECIMAL(38,0) cannot hold and a HUGEINT rarely does, shows the
wrap; from 2^128 - 10^38 up (about 2.4e38), UHUGEINT values arrive as negatives a HUGEINT may hold too (README).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from .exceptions import BadInputError

_DECIMAL_38 = 10**38 - 1  # the largest magnitude DECIMAL(38,0) holds


def check(col: Any, values: np.ndarray, pos: int, model: str, func: str, expected: str | None) -> None:
    """Refuse the argument ``col`` (read as ``values``) when it holds a value that can be a wrapped UHUGEINT."""
    t = col.type
    if not (pa.types.is_decimal128(t) and t.precision == 38 and t.scale == 0):
        return
    # float64 rounds near the bound: the candidates first, then their exact values
    candidates = np.flatnonzero(values <= -1e38)
    if not len(candidates):
        return
    wrapped = next((int(v) for v in col.take(pa.array(candidates)).to_pylist()
                    if v is not None and int(v) < -_DECIMAL_38), None)
    if wrapped is None:
        return
    name = f" ({expected!r})" if expected else ""
    raise BadInputError(
        f"{func}('{model}', ...): feature argument {pos}{name} reached the function as {wrapped}, beyond DECIMAL(38,0): "
        f"a UHUGEINT of {wrapped + 2**128} wrapped to a negative number (DuckDB hands UHUGEINT to Python functions "
        f"as a signed 128-bit decimal), or a HUGEINT that low. Cast the argument to DOUBLE in the query, e.g. "
        f"{expected or 'col'}::DOUBLE (or run SET arrow_lossless_conversion = true; first, which hands it over whole)."
    )
