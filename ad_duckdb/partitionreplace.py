"""``score(into=T, replace_partition=[...])`` (CLI: ``--replace-partition COL``): a re-scoring of some partitions
(a day) replaces the rows ``T`` holds of them, in the one transaction that adds the new rows.

Why: a nightly job re-scoring one day (a rerun, a backfill, a retrained model) into its history table had to DELETE
that day by hand first, in a transaction of its own: a scoring that then failed left the day missing, and one
that was skipped left it doubled (``append=True`` adds, it does not replace). Here the rows go to a table of their
own first, and only once every one is scored are the held rows of the same partition values deleted and the new ones
inserted, so a failure at any point leaves the table as it was.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from . import optionwords
from .exceptions import BadInputError, OptionError
from .optionwords import opt
from .sqltext import quote_ident, shell_word, shown_table

STAGED = "__ad_partition_rows"  # the temporary table of a run's scored rows, on the run's own cursor


def columns(who: str, into: str | None, replace_partition: Sequence[str] | str | None, replace: bool) -> list[str]:
    """The partition columns asked for ([] for none), refused without ``into`` or with ``replace``."""
    if replace_partition is None:
        return []
    cols = [replace_partition] if isinstance(replace_partition, str) else list(replace_partition)
    if not cols or not all(isinstance(c, str) and c.strip() for c in cols):
        raise OptionError(f"{who}: {opt('replace_partition')} names the columns whose values "
                          f"the re-scored rows replace, e.g. ['day']; got {replace_partition!r}.")
    if into is None:
        raise OptionError(f"{who}: {opt('replace_partition')} replaces rows of the {opt('into')} table, and "
                          "none was given; name the table, or leave replace_partition out.")
    if replace:
        raise OptionError(f"{who}: {opt('replace_partition')} replaces the rows of the partitions "
                          f"re-scored and keeps the others, {opt('replace', True)} every row of the table; "
                          "give one of them, not both.")
    return cols


def check_written(who: str, into: str, cols: list[str], written: list[str]) -> list[str]:
    """``cols`` as the written columns spell them; refused, naming each missing one and the columns written, when the
    rows written lack one (a column the source lacks, or one ``columns=`` leaves out)."""
    by_lower = {w.lower(): w for w in written}
    missing = [c for c in cols if c.lower() not in by_lower]
    if missing:
        keep = (f"-c {shell_word(missing[0])} ..." if optionwords.SURFACE.get() == "cli" else
                f"columns=[{missing[0]!r}, ...]")
        raise BadInputError(
            f"{who}: replace_partition column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} "
            f"{'are' if len(missing) > 1 else 'is'} not among the columns written to {into!r} "
            f"({', '.join(map(repr, written))}): the rows of {into!r} replaced are those whose values there equal the "
            f"new rows'. Name a column of the source (e.g. {opt('replace_partition', 'day')}), and keep it when "
            f"{opt('columns', flag='column')} is given ({keep}).")
    return [by_lower[c.lower()] for c in cols]


def delete_held(cur: duckdb.DuckDBPyConnection, target: str, cols: list[str]) -> int:
    """Delete the rows of ``target`` whose ``cols`` equal those of a staged row (NULL matching NULL: a NULL day is a
    partition too); the rows deleted. Run inside the transaction that then inserts the staged rows."""
    quoted = [quote_ident(c) for c in cols]
    keys_match = " AND ".join(f"o.{c} IS NOT DISTINCT FROM p.{c}" for c in quoted)
    cols_sql = ", ".join(quoted)
    got = cur.execute(f"DELETE FROM {target} AS o USING (SELECT DISTINCT {cols_sql} FROM {STAGED}) AS p "
                      f"WHERE {keys_match}").fetchall()
    return int(got[0][0]) if got else 0


# A column "partitions" the rows when its values repeat: above this share of distinct values among the new rows (of
# at least _FEW rows), it is more like a row's time or id, and a rerun keeps the held rows of values that are gone.
_DISTINCT_SHARE = 0.5
_FEW = 20


def not_a_partition(cur: duckdb.DuckDBPyConnection, into: str, cols: list[str]) -> str | None:
    """The note when the staged rows' ``cols`` values are nearly all distinct (a TIMESTAMP of each event, an id), else
    None.

    Why: a rerun replaces the held rows whose values equal a new row's, so with a timestamp column every rerun
    replaced only the events at the very same instants, and a day's events that moved or went upstream stayed
    beside the new ones, without a word."""
    cols_sql = ", ".join(quote_ident(c) for c in cols)
    rows, distinct = cur.execute(f"SELECT count(*), count(DISTINCT ({cols_sql})) FROM {STAGED}").fetchall()[0]
    if rows < _FEW or distinct <= _DISTINCT_SHARE * rows:
        return None
    keys = ", ".join(cols)
    return (f"{opt('replace_partition').rstrip('=')} {keys}: {distinct} distinct values in the {rows} new rows, "
            f"so {keys} does not partition them (a time or an id of each row?): the rows of "
            f"{shown_table(into)} replaced are only those of these very values, and a rerun keeps the held rows of "
            "values no new row has. Partition by a column whose values repeat, e.g. a day: SELECT *, CAST(ts AS DATE) "
            "AS day FROM ... and --replace-partition day.")
