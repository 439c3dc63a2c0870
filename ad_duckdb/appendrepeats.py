"""Rows an ``append=True`` run (``score --append``) adds that the table held already, told by an id column.

Why said: a scheduler retries a failed task and backfills past days, and an incremental job that selects one day's
partition (``WHERE day = '{{ ds }}'``) rather than the ids not scored yet added a day committed before a second time,
without a word: the scores table held each row twice, and every count of anomalies built on it doubled.
"""

from __future__ import annotations

import duckdb

from .features import id_like
from .sqltext import quote_ident, shown_table, sql_name


def id_candidates(types: dict[str, tuple[str, str]]) -> list[str]:
    """The appended table's integer columns named like an id (``transaction_id``, ``merchant_id``): rows alike in
    other columns may be different rows."""
    return [name for name, sql_type in types.values() if id_like(name, sql_type) is not None]


# Why shares, not distinctness: a table a retry already doubled (unfixed) still tells its rows apart by the id, at
# half its rows; a merchant's or customer's id repeats in a day's rows and, once the table holds a few days, in most.
_ADDED_SHARE = 0.75
_HELD_SHARE = 0.25


def id_column(cur: duckdb.DuckDBPyConnection, target: str, candidates: list[str], before: int) -> str | None:
    """Of ``candidates``, the one telling rows apart (after the rows added after rowid ``before``): distinct in most
    of the rows added and in a fair share of the rows held, the most distinct of those there; None without one.

    Why not the first named like an id: a scores table of ``merchant_id, transaction_id, ...`` took merchant_id,
    which every day's rows repeat, and every daily append was said to repeat rows, with a DELETE keeping one row per
    merchant. Why approx_count_distinct: one pass over a large table's ids, without a hash table of all of them."""
    if not candidates:
        return None
    items = ", ".join(
        f"approx_count_distinct({c}) FILTER (WHERE rowid <= $1), count({c}) FILTER (WHERE rowid <= $1), "
        f"approx_count_distinct({c}) FILTER (WHERE rowid > $1), count({c}) FILTER (WHERE rowid > $1)"
        for c in (quote_ident(name) for name in candidates))
    got = cur.execute(f"SELECT {items} FROM {target}", [before]).fetchall()[0]
    best: tuple[int, str] | None = None
    for i, name in enumerate(candidates):
        held_distinct, held, added_distinct, added = (int(v or 0) for v in got[4 * i:4 * i + 4])
        if (held and added and added_distinct >= _ADDED_SHARE * added and held_distinct >= _HELD_SHARE * held
                and (best is None or held_distinct > best[0])):
            best = (held_distinct, name)
    return None if best is None else best[1]


def last_rowid(cur: duckdb.DuckDBPyConnection, target: str) -> int | None:
    """The table's highest rowid before the run adds its rows (inside its transaction), None when it is empty: the
    rows added get higher ones."""
    got = cur.execute(f"SELECT max(rowid) FROM {target}").fetchall()
    return None if not got or got[0][0] is None else int(got[0][0])


def repeated(cur: duckdb.DuckDBPyConnection, target: str, idcol: str, before: int) -> int:
    """How many rows added after rowid ``before`` have an ``idcol`` value a row up to it has (in the same
    transaction, before its commit).

    Why the held rows are read between the added ids' least and greatest: a daily append of 10,000 rows to a
    history of 20 million read every held id (0.3-2.2 s, far more than scoring the rows); ids grow with time, so
    the range skips the held rows' blocks but the last few (0.002 s)."""
    got = cur.execute(f"WITH added AS (SELECT {quote_ident(idcol)} AS id FROM {target} WHERE rowid > $1), "
                      "span AS (SELECT min(id) AS lo, max(id) AS hi FROM added) "
                      f"SELECT count(*) FROM added WHERE id IN (SELECT o.{quote_ident(idcol)} FROM {target} AS o, span "
                      f"WHERE o.rowid <= $1 AND o.{quote_ident(idcol)} BETWEEN span.lo AND span.hi)", [before]).fetchall()
    return int(got[0][0])


def note(into: str, idcol: str, count: int, added: int) -> str:
    """The note on ``count`` of the ``added`` rows repeating an id of ``into``, with the two fixes."""
    col = sql_name(idcol)  # shown, not run: quoted only where SQL needs it
    into = shown_table(into)  # as SQL reads it: "daily scores", not two words
    return (f"{count} of the {added} rows added to {into} have a {idcol} that {into} held already (an earlier run "
            f"scored them: a retry or a backfill of a run that was stored?). Keep each {idcol}'s first row with DELETE "
            f"FROM {into} WHERE rowid NOT IN (SELECT min(rowid) FROM {into} GROUP BY {col}), and select only rows "
            f"not scored yet: ... WHERE {col} NOT IN (SELECT {col} FROM {into}) (or {col} > (SELECT "
            f"coalesce(max({col}), -1) FROM {into})).")

