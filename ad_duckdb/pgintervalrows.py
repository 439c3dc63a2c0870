"""A result's interval columns read with their months, days and microseconds apart.

Why: DuckDB hands an INTERVAL to Python as a timedelta, which has no months, so a table's ``1 month 2 days`` went
out as ``32 days 03:00:00.000000`` (PostgreSQL writes ``1 mon 2 days 03:00:00``), a difference of timestamps as
``61 days 00:00:00.000000`` (``61 days``), and the binary format had no months. pgintervalout keeps the months of
the items it can tell are intervals from the text alone (age(...), a cast); any other interval column (a table's,
``ts - ts``, ``max(iv)``) shows itself only in the result's types, after it ran. Such a result is read through
Arrow instead, whose interval (month_day_nano) keeps the three fields, each value an ``Interval`` (pgtypes writes
it). Arrow's Python values are DuckDB's own for the other column types listed in _AS_DUCKDB; a result with any other
type (TIME, which Arrow writes 00:00 for 24:00, TIME WITH TIME ZONE without its offset, a MAP as pairs, a UUID as
text, a list or struct) keeps DuckDB's rows and their timedeltas. DuckDB's Arrow reading of an open result holds the
whole result before its first batch (as Arrow, a copy DuckDB warns of), so only results with an interval column pay
that.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import duckdb

# DuckDB's column types whose values Arrow hands Python as DuckDB's own conversion does (str of the type)
_AS_DUCKDB = frozenset(("BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
                        "UBIGINT", "FLOAT", "DOUBLE", "VARCHAR", "BLOB", "DATE", "TIMESTAMP",
                        "TIMESTAMP WITH TIME ZONE", "JSON", 'UNION("INTERVAL" VARCHAR)', "UNION(JSONB JSON)"))


class Interval(NamedTuple):
    """An interval's three fields, as PostgreSQL and DuckDB keep them."""

    months: int
    days: int
    micros: int


def interval_columns(types: Sequence[Any]) -> list[int] | None:
    """The positions of the INTERVAL columns of a result of ``types`` (DuckDB's) when it is read through Arrow
    (module doc); None when it has none, or a type Arrow would hand over otherwise than DuckDB."""
    names = [str(t).upper() for t in types]
    found = [k for k, name in enumerate(names) if name == "INTERVAL"]
    if not found or not all(name == "INTERVAL" or name in _AS_DUCKDB or name.startswith("DECIMAL(")
                            for name in names):
        return None
    return found


def arrow_chunks(cur: duckdb.DuckDBPyConnection, intervals: list[int], size: int) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``cur``'s open result, ``size`` at a time, each interval column's value an Interval."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (DuckDB's note that the DB-API result is copied: the module doc's cost)
        # read whole at once: a reader left part-read (a portal closed early) would hold the connection, where DuckDB
        # drops an open result at the next statement
        table = cur.to_arrow_table()
    if table is None:  # (no rows left to read: a fetch used them up)
        return
    for batch in table.to_batches(max_chunksize=size):
        columns = [column.to_pylist() for column in batch.columns]
        for k in intervals:
            columns[k] = [None if v is None else Interval(v.months, v.days, v.nanoseconds // 1000) for v in columns[k]]
        yield list(zip(*columns, strict=True))
