"""``score(into=T, replace_where="day = DATE '2026-12-01'")`` (CLI: ``--replace-where``): a re-scoring replaces the
rows of ``T`` the condition selects, in the one transaction that adds the new rows (Delta Lake's replaceWhere).

Why beside ``replace_partition``: that mode takes the partitions to replace from the new rows, so a run whose source
is now empty (a day's rows withdrawn upstream, or moved to another day) replaced nothing, and the day kept
yesterday's stale scores. The condition says which rows the run stands for whatever it scores; a new row the
condition does not select is refused (it would be added beside rows the next rerun keeps), the table as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import duckdb

from . import heldvalues
from .exceptions import BadInputError, OptionError
from .optionwords import opt
from .sqltext import shown_table, where_sql


class Where(NamedTuple):
    """A run's ``replace_where``: as given (for messages), and as the `` WHERE (...)`` clause run."""
    text: str
    clause: str


def condition(who: str, into: str | None, replace_where: str | None, replace: bool,
              partition: Sequence[str] | str | None) -> Where | None:
    """``replace_where`` checked (``sqltext.where_sql``: one condition, nothing reaching past it), None without it;
    refused without ``into``, or beside ``replace`` or ``replace_partition``."""
    if replace_where is None:
        return None
    if not isinstance(replace_where, str) or not replace_where.strip():
        raise OptionError(f"{who}: {opt('replace_where')} is a condition on the {opt('into')} table's columns "
                          f"selecting the rows the run replaces, e.g. \"day = DATE '2026-12-01'\"; got "
                          f"{replace_where!r}.")
    if into is None:
        raise OptionError(f"{who}: {opt('replace_where')} replaces rows of the {opt('into')} table, and none was "
                          "given; name the table, or leave replace_where out.")
    if replace:
        raise OptionError(f"{who}: {opt('replace_where')} replaces the rows it selects and keeps the "
                          f"others, {opt('replace', True)} every row of the table; give one of them, not both.")
    if partition:
        raise OptionError(f"{who}: {opt('replace_where')} and {opt('replace_partition')} each say which rows a run "
                          "replaces; give one of them: the condition replaces its rows even when the run scores "
                          "none, the partition columns those of the new rows' values.")
    return Where(replace_where, where_sql(replace_where))


def _bind_error(who: str, into: str, where: Where, e: duckdb.Error, types: dict[str, str]) -> BadInputError:
    held = heldvalues.message(who, into, where.text, e, types) if isinstance(e, duckdb.ConversionException) else None
    if held is not None:
        return BadInputError(held)
    said = " ".join(str(e).split())
    return BadInputError(f"{who}: {opt('replace_where', where.text)} cannot be read on "
                         f"{shown_table(into)} ({said}); write a condition on its columns, e.g. \"day = DATE "
                         "'2026-12-01'\".")


def check_target(cur: duckdb.DuckDBPyConnection, who: str, target: str, into: str, where: Where) -> None:
    """Refuse, before any row is scored, a condition the ``into`` table (``target``, which exists) cannot read: a
    column it lacks, a type mismatch, a value that is not one (DATE '' of a date command that failed in a cron line).

    Why LIMIT 1, not 0: DuckDB converts the condition's constants only once it evaluates it on a row, so DATE '' passed
    a check that read none and failed after the whole scoring, quoting our temporary table's name."""
    clause = where.clause
    types = heldvalues.types(cur, target)
    try:
        cur.execute(f"SELECT 1 FROM {target}{clause} LIMIT 1").fetchall()
    except (duckdb.BinderException, duckdb.ConversionException, duckdb.ParserException) as e:
        raise _bind_error(who, into, where, e, types) from None


def check_rows(cur: duckdb.DuckDBPyConnection, who: str, table: str, into: str, where: Where,
               added: int | None = None) -> None:
    """Refuse the run (inside its transaction: the table stays as it was) when a new row is not one the condition
    selects (false or NULL). ``table``: the table just created (its rows all new), or, with ``added``, the ``into``
    table once ``delete_held`` ran and the run's ``added`` rows were inserted: the rows it selects then are new ones.

    Why on the table itself, not on the staged rows: a condition naming the table ("hist.day = ...", as a DELETE
    reads it) passed ``check_target``, then failed once every row was scored, quoting a temporary table's name."""
    clause = where.clause
    types = heldvalues.types(cur, table)
    try:
        total = added if added is not None else cur.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        kept = cur.execute(f"SELECT count(*) FROM {table}{clause}").fetchall()[0][0]
    except (duckdb.BinderException, duckdb.ConversionException) as e:
        raise _bind_error(who, into, where, e, types) from None
    if kept != total:
        raise BadInputError(
            f"{who}: {total - kept} of the {total} new rows are not selected by "
            f"{opt('replace_where', where.text)}: they would be added beside the rows a rerun keeps. "
            f"{shown_table(into)} was left as it was. Make the source select the same rows (... WHERE "
            f"{where.text}), or widen the condition.")


def delete_held(cur: duckdb.DuckDBPyConnection, target: str, where: Where, who: str, into: str) -> int:
    """Delete the rows of ``target`` the condition selects; the rows deleted (in the run's transaction). A held
    value the condition cannot convert is refused with the column, the value and a condition that reads it
    (``heldvalues``)."""
    clause = where.clause
    types = heldvalues.types(cur, target)
    try:
        got = cur.execute(f"DELETE FROM {target}{clause}").fetchall()
    except duckdb.ConversionException as e:
        raise _bind_error(who, into, where, e, types) from None
    return int(got[0][0]) if got else 0
