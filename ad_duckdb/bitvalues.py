"""Whether a feature argument DuckDB handed over as bytes holds a BIT column's values, for its error message.

Why: DuckDB hands BIT and BLOB alike to a Python function (Arrow's ``binary``), so ``'101'::BIT`` in a feature's
place was "BLOB, not a number", with octet_length(...) as the fix: the size of a bitstring, not its value, which
``CAST(... AS BIGINT)`` reads (and CAST(... AS DOUBLE) reinterprets its bits as a float's).
"""

from __future__ import annotations

from typing import Any

_LOOKED_AT = 10_000  # values judged, as the text arguments' hint judges a batch by its first 10,000


def holds_bits(col: Any) -> bool:
    """Whether every non-NULL value of a binary Arrow column is laid out as DuckDB's BIT is: a first byte giving the
    padding bits (0 to 7), then the bits, the padding ones (the high bits of the second byte) set. A BLOB of other
    bytes breaks it at once; every one of its values would have to fit."""
    values = [v for v in col.slice(0, _LOOKED_AT).to_pylist() if v is not None]
    if not values:
        return False
    for v in values:
        if len(v) < 2 or v[0] > 7:
            return False
        pad = v[0]
        if pad and v[1] >> (8 - pad) != (1 << pad) - 1:
            return False
    return True
