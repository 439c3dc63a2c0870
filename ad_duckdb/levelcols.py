"""pandas frames whose columns are a MultiIndex (``df.groupby(...).agg([...])``, a pivot table): refused by name,
with the call that flattens them.

Why refused: DuckDB and the detector could name such a column only as the text of its tuple, "('amount', 'mean')",
which a model then stored as its feature, so SQL had to score it as "('amount', 'mean')" and a later frame matched
only if it was never flattened; a flat name ('amount_mean') reads the same in SQL, in a frame and in ``explain``."""

from __future__ import annotations

from typing import Any


def column_levels(value: Any) -> int:
    """The number of levels of a pandas DataFrame's column index when it has more than one; 0 otherwise."""
    if type(value).__module__.split(".")[0] != "pandas" or not hasattr(value, "columns"):
        return 0
    levels = getattr(value.columns, "nlevels", 1)
    return levels if levels > 1 else 0


def levels_refused(value: Any, var: str = "X") -> str:
    """Why ``value`` (named ``var`` in the fix), a frame of ``column_levels``, is refused, and the call that
    flattens its column names."""
    first = value.columns[0] if len(value.columns) else ()
    flat = "_".join(str(p) for p in first if str(p))
    return (f"the columns of {var} are a MultiIndex of {column_levels(value)} levels (e.g. {first!r}), which SQL "
            f"and a later frame can name only as the text of the tuple; flatten them first, {var}.columns = "
            f"['_'.join(str(p) for p in c if str(p)) for c in {var}.columns] (names such as {flat!r}), and "
            "flatten later frames the same way")
