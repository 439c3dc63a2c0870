"""``COPY ... FROM STDIN (FORMAT csv)``'s plain lines read by Arrow at once (``pgcopyin.CsvReader.plain_lines``).

Why: a large COPY spent most of its time in Python, splitting each line at the delimiter and then gathering the
values of each column into a batch (3.5 million rows of three columns: two thirds of the load). Lines with nothing
but values and delimiters, the bulk of a machine-written CSV, read the same as PostgreSQL's CSV whichever way they
are split, so Arrow's string kernels split a whole CopyData's lines in one pass; any other line (a quote, a
carriage return, a wrong number of fields, bytes that are no UTF-8) leaves the CopyData to the line-by-line reader,
which says what is wrong where.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

# the largest text read at once: Arrow's strings hold up to 2 GiB each
_MAX_BYTES = 1 << 30


def plain_columns(whole: bytes, delimiter: str, null: str, fields: int) -> list[pa.Array] | None:
    """The string columns of the lines of ``whole`` (complete lines, without the last line break), each line
    ``fields`` values split at ``delimiter``, a value equal to ``null`` NULL; None where a line is not such a plain
    row (see the module's doc) or the text is too large to read at once."""
    if len(whole) > _MAX_BYTES or b"\r" in whole:
        return None
    try:
        text = whole.decode()
    except UnicodeDecodeError:
        return None
    lines = pc.split_pattern(pa.array([text], pa.string()), "\n").flatten()
    values = pc.split_pattern(lines, delimiter)
    counts = pc.min_max(pc.list_value_length(values)).as_py()
    if counts["min"] != fields or counts["max"] != fields:
        return None
    flat = values.flatten()
    none = pa.scalar(None, pa.string())
    out = []
    for j in range(fields):
        column = pc.list_element(values, j) if fields > 1 else flat
        out.append(pc.if_else(pc.equal(column, null), none, column))
    return out
