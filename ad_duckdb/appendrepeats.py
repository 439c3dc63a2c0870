"""Rows an ``append=True`` run (``score --append``) adds that the table held already, told by an id column.

Why said: a scheduler retries a failed task and backfills past days, and an incremental job that selects one day's
partition (``WHERE day = '{{ ds }}'``) rather than the ids not scored yet added a day committed before a second time,
without a word: the scores table held each row twice, and every count of anomalies built on it doubled.
"""

from __future__ import annotations

import duckdb

from .features import id_like
from .sqltext import quote_ident, sql_name


def id_column(types: dict[str, tuple[str, str]]) -> str | None:
    """The appended table's first integer column named like an id (``transaction_id``), None without one: rows alike
    in other columns may be different rows."""
    return next((name for name, sql_type in types.values() if id_like(name, sql_type) is not None), None)


def last_rowid(cur: duckdb.DuckDBPyConnection, target: str) -> int | None:
    """The table's highest rowid before the run adds its rows (inside its transaction), None when it is empty: the
    rows added get higher ones."""
    got = cur.execute(f"SELECT max(rowid) FROM {target}").fetchall()
    return None if not got or got[0][0] is None else int(got[0][0])


def repeated(cur: duckdb.DuckDBPyConnection, target: str, idcol: str, before: int) -> int:
    """How many rows added after rowid ``before`` have an ``idcol`` value a row up to it has (in the same
    transaction, before its commit)."""
    got = cur.execute(f"SELECT count(*) FROM {target} AS n WHERE n.rowid > ? AND n.{quote_ident(idcol)} IN "
                      f"(SELECT o.{quote_ident(idcol)} FROM {target} AS o WHERE o.rowid <= ?)",
                      [before, before]).fetchall()
    return int(got[0][0])


def note(into: str, idcol: str, count: int, added: int) -> str:
    """The note on ``count`` of the ``added`` rows repeating an id of ``into``, with the two fixes."""
    col = sql_name(idcol)  # shown, not run: quoted only where SQL needs it
    return (f"{count} of the {added} rows added to {into} have a {idcol} that {into} held already (an earlier run "
            f"scored them: a retry or a backfill of a run that was stored?). Keep each {idcol}'s first row with DELETE "
            f"FROM {into} WHERE rowid NOT IN (SELECT min(rowid) FROM {into} GROUP BY {col}), and select only rows "
            f"not scored yet: ... WHERE {col} NOT IN (SELECT {col} FROM {into}) (or {col} > (SELECT "
            f"coalesce(max({col}), -1) FROM {into})).")

