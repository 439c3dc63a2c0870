"""A Python list of records (``df.to_dict('records')``, rows from a JSON API: ``[{"transaction_id": 1, "label": 1},
...]``) as a source by its variable's name, read as the Arrow table of those columns.

Why: DuckDB scans DataFrames and Arrow tables by name, not lists, so labels kept as records were refused as a name
that "does not exist as a table or view ... nor as a DataFrame", of a variable the caller could see. A list of dicts
that all have the same keys has one reading, a row per dict and a column per key, so it is read; any other list is
refused naming its shape and the DataFrame that reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import pyarrow as pa

from .exceptions import BadInputError


def as_table(name: str, value: list[Any], bare: bool) -> pa.Table:
    """The caller's list ``value`` (variable ``name``) of records as an Arrow table, a column per key in the first
    record's order; BadInputError naming its shape and the fix for any other list (``bare``: the source is the name
    alone, else a query reading it)."""
    then = f"then pass '{name}_df'" if bare else f"and read {name}_df in the query instead of {name}"
    frame = f"{name}_df = pandas.DataFrame({name})"
    if not value:
        _refuse(name, "an empty list, of no rows and no columns",
                f"give its columns in a DataFrame, {name}_df = pandas.DataFrame(columns=[...]), {then}")
    first = value[0]
    if not all(isinstance(row, Mapping) for row in value):
        odd = next(row for row in value if not isinstance(row, Mapping))
        _refuse(name, f"a list of {type(odd).__name__} values, not of records (dicts of column -> value)",
                f"name its columns in a DataFrame, {name}_df = pandas.DataFrame({name}, columns=[...]), {then}")
    keys = list(first)
    if not all(isinstance(k, str) for k in keys):
        _refuse(name, f"a list of records whose keys are not all text {_keys(keys)}",
                f"make the keys the columns' names, or build a DataFrame of it, {frame}, {then}")
    wanted = set(keys)
    for i, row in enumerate(value):
        if set(row) != wanted:
            # Why refused, not filled: which columns a row lacks says more about the data than a NULL would
            _refuse(name, f"a list of records whose keys differ: row 0 has {_keys(keys)}, row {i} {_keys(list(row))}",
                    f"give every record the same keys, or build a DataFrame of it, {frame} (NULL where a row lacks "
                    f"a key), {then}")
    try:
        return pa.Table.from_pylist(value)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
        _refuse(name, f"a list of records that Arrow cannot read as columns ({str(e).splitlines()[0]})",
                "give each key values of one type (numbers, or text, in every record)")


def _keys(keys: list[Any]) -> str:
    shown = ", ".join(map(repr, keys[:8]))
    return f"({shown}{', ...' if len(keys) > 8 else ''})"


def _refuse(name: str, shape: str, fix: str) -> NoReturn:
    raise BadInputError(f"{name!r} is {shape}; {fix}.")
