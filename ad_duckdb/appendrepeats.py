"""Rows an ``append=True`` run (``score --append``) adds that the table held already, told by an id column.

Why said: a scheduler retries a failed task and backfills past days, and an incremental job that selects one day's
partition (``WHERE day = '{{ ds }}'``) rather than the ids not scored yet added a day committed before a second time,
without a word: the scores table held each row twice, and every count of anomalies built on it doubled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import duckdb

from .columnroles import _CAMEL_ID, _ID_NAME, _NUMBER_NAME, id_like
from .optionwords import opt
from .sqltext import quote_ident, shown_table, sql_name

# Text, UUID and date-time columns taken for an id: named as ids are (order_id, OrderNo) or as keys and references
# are (event_uuid, order_ref, txn_key); a UUID column by its type alone, as a UUID is made to tell rows apart.
_KEY_NAME = re.compile(r"(?i)(^|[_\s.-])(u?uid|guid|ref|reference|key)$|[a-z0-9](Uuid|UUID|Guid|GUID|Ref|Key)$")
_TEXT_TYPES = re.compile(r"(?i)(VARCHAR|TEXT|STRING|CHAR|BPCHAR|UUID|DATE|TIMESTAMP.*)$")


def id_candidates(types: dict[str, tuple[str, str]]) -> list[str]:
    """The appended table's columns named like an id: integers (``transaction_id``, ``merchant_id``), and text, UUID
    and date-time ones (``order_id``, ``order_ref``, ``event_uuid``; any UUID): rows alike in other columns may be
    different rows.

    Why text and UUIDs too: a retried day of orders keyed 'o-000123', or by a UUID, was added a second time without
    a word, as only integer ids were checked."""
    out = []
    for name, sql_type in types.values():
        if id_like(name, sql_type) is not None:
            out.append(name)
        elif _TEXT_TYPES.match(sql_type.strip()) and (
                sql_type.strip().upper() == "UUID" or _ID_NAME.search(name) or _CAMEL_ID.search(name)
                or _NUMBER_NAME.search(name.strip()) or _KEY_NAME.search(name.strip())):
            out.append(name)
    return out


@dataclass(frozen=True)
class Split:
    """Where the rows a run holds and adds are read: ``held`` and ``added``, each a subquery or table, with
    ``params`` for both. ``by_rowid``: the table's rows up to and after its highest rowid before the run; ``staged``:
    the table (before the new rows go in) and the table of the new rows."""

    held: str
    added: str
    params: list[Any] = field(default_factory=list)


def by_rowid(target: str, before: int) -> Split:
    """The rows of ``target`` up to rowid ``before`` (held) and after it (added by the run, in its transaction)."""
    return Split(f"(SELECT * FROM {target} WHERE rowid <= $1)", f"(SELECT * FROM {target} WHERE rowid > $1)", [before])


def staged(target: str, added: str) -> Split:
    """``target`` as it holds its rows before the run's are inserted, and ``added``, the table holding those."""
    return Split(target, added)


def has_own_rowid(types: dict[str, tuple[str, str]]) -> bool:
    """Whether the table has a column named rowid, which hides DuckDB's row ids (``rowid`` then reads the column).

    Why it matters: the check read the user's values (an export of a SQLite table keeps its rowid) as the rows'
    positions, and a day added twice went without a word; such a table's new rows are staged instead."""
    return "rowid" in types


# Why shares, not distinctness: a table a retry already doubled (unfixed) still tells its rows apart by the id, at
# half its rows; a merchant's or customer's id repeats in a day's rows and, once the table holds a few days, in most.
_ADDED_SHARE = 0.75
_HELD_SHARE = 0.25
# The held rows read for their distinct share: this many times the rows added, at least _HELD_MIN
_HELD_READ = 10
_HELD_MIN = 100_000


def id_column(cur: duckdb.DuckDBPyConnection, split: Split, candidates: list[str]) -> str | None:
    """Of ``candidates``, the one telling rows apart: distinct in most of the rows added and in a fair share of the
    rows held (``split``), the most distinct of those there; None without one.

    Why not the first named like an id: a scores table of ``merchant_id, transaction_id, ...`` took merchant_id,
    which every day's rows repeat, and every daily append was said to repeat rows, with a DELETE keeping one row per
    merchant. Why approx_count_distinct: one pass over a large table's ids, without a hash table of all of them."""
    if not candidates:
        return None
    items = ", ".join(f"approx_count_distinct({c}), count({c})" for c in (quote_ident(name) for name in candidates))
    held_rows, added_rows = split.held, split.added
    added = cur.execute(f"SELECT count(*), {items} FROM {added_rows}", split.params).fetchall()[0]
    # Why a bounded share of the held rows: their distinct share is what tells an id from a merchant's, and a few
    # times the rows added tell it as well as a history of 20 million, which a text id made slow to read whole
    # (0.3 s more per daily append of a 5-million-row table)
    most = max(_HELD_READ * int(added[0]), _HELD_MIN)
    held = cur.execute(f"SELECT {items} FROM (SELECT * FROM {held_rows} LIMIT {int(most)})", split.params).fetchall()[0]
    added = added[1:]
    best: tuple[int, str] | None = None
    for i, name in enumerate(candidates):
        held_distinct, held_count = (int(v or 0) for v in held[2 * i:2 * i + 2])
        added_distinct, added_count = (int(v or 0) for v in added[2 * i:2 * i + 2])
        if (held_count and added_count and added_distinct >= _ADDED_SHARE * added_count
                and held_distinct >= _HELD_SHARE * held_count and (best is None or held_distinct > best[0])):
            best = (held_distinct, name)
    return None if best is None else best[1]


def last_rowid(cur: duckdb.DuckDBPyConnection, target: str) -> int | None:
    """The table's highest rowid before the run adds its rows (inside its transaction), None when it is empty: the
    rows added get higher ones."""
    got = cur.execute(f"SELECT max(rowid) FROM {target}").fetchall()
    return None if not got or got[0][0] is None else int(got[0][0])


def repeated(cur: duckdb.DuckDBPyConnection, split: Split, idcol: str) -> int:
    """How many rows added have an ``idcol`` value a row held has (``split``; in the run's transaction, before its
    commit).

    Why the held rows are read between the added ids' least and greatest: a daily append of 10,000 rows to a
    history of 20 million read every held id (0.3-2.2 s, far more than scoring the rows); ids grow with time, so
    the range skips the held rows' blocks but the last few (0.002 s)."""
    held_rows, added_rows = split.held, split.added
    got = cur.execute(f"WITH added AS (SELECT {quote_ident(idcol)} AS id FROM {added_rows}), "
                      "span AS (SELECT min(id) AS lo, max(id) AS hi FROM added) "
                      f"SELECT count(*) FROM added WHERE id IN (SELECT o.{quote_ident(idcol)} FROM {held_rows} AS o, "
                      f"span WHERE o.{quote_ident(idcol)} BETWEEN span.lo AND span.hi)", split.params).fetchall()
    return int(got[0][0])


def note(into: str, idcol: str, count: int, added: int, partition: list[str] | None = None,
         types: dict[str, tuple[str, str]] | None = None) -> str:
    """The note on ``count`` of the ``added`` rows repeating an id of ``into``, with the fixes; ``partition``: the
    columns of a ``replace_partition`` run, whose held rows of the same values were replaced; ``types``: the table's
    columns (``intotable.table_types``), for fixes that fit the id's type and a column named rowid."""
    col = sql_name(idcol)  # shown, not run: quoted only where SQL needs it
    into = shown_table(into)  # as SQL reads it: "daily scores", not two words
    types = types or {}
    which = "latest" if partition else "first"
    # Why two forms: a column named rowid hides DuckDB's row ids, and the DELETE by rowid would read the user's
    keep = (f"CREATE OR REPLACE TABLE {into} AS SELECT DISTINCT ON ({col}) * FROM {into} (one row of each, "
            "whichever comes first)" if has_own_rowid(types) else
            f"DELETE FROM {into} WHERE rowid NOT IN (SELECT {'max' if partition else 'min'}(rowid) FROM {into} "
            f"GROUP BY {col})")
    if partition:
        keys = ", ".join(partition)
        return (f"{count} of the {added} rows added to {into} have a {idcol} that {into} holds under another "
                f"{keys} than the new rows' ({opt('replace_partition').rstrip('=')} replaced the rows of the "
                f"new rows' {keys} only): a row restated under another {keys}, or a partition column that does not "
                f"partition the rows? Each such {idcol} now has two rows; keep each {idcol}'s {which} with {keep}.")
    held_type = types.get(idcol.lower(), (idcol, "BIGINT"))[1]
    after = (f" (or {col} > (SELECT coalesce(max({col}), -1) FROM {into}))" if id_like(idcol, held_type) else "")
    return (f"{count} of the {added} rows added to {into} have a {idcol} that {into} held already (an earlier run "
            f"scored them: a retry or a backfill of a run that was stored?). Keep each {idcol}'s {which} row with "
            f"{keep}, and select only rows not scored yet: ... WHERE {col} NOT IN (SELECT {col} FROM {into}){after}; "
            f"or re-score a day with {opt('replace_partition', 'day')}, which replaces its rows.")
