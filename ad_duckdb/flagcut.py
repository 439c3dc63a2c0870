"""The threshold a scores table's ``is_anomaly`` was written at, kept in its column mark, so that a run adding rows
flagged at another cut says so.

Why: ``score(threshold=)`` (CLI: ``--threshold``) reads ``is_anomaly`` at a stored threshold of the user's. A nightly
job whose threshold changed, or was dropped, between runs added rows flagged at another cut beside the rows held
(``append``, ``replace_where``, ``replace_partition``) without a word, and a daily count of anomalies built on the
table moved with the cut, not with the data. A mark written before this (no cut in it), or none (a copy: CREATE
TABLE AS drops comments), reads as unknown: the first run that adds rows beside says so (``unrecorded_note``), as
its own cut is then recorded for the whole table.
"""

from __future__ import annotations

import json
import re

import duckdb

from .intotable import named_objects
from .optionwords import opt
from .scorecols import MARK
from .sqltext import table_sql

_FLAGS = "is_anomaly"
_CUT = re.compile(r", is_anomaly at threshold (\"(?:[^\"\\\\]|\\\\.)*\")")


def mark_text(cut: str) -> str:
    """What the ``is_anomaly`` column's mark adds after the model's version: the threshold it was written at."""
    return f", is_anomaly at threshold {json.dumps(cut)}"


def held_cut(con: duckdb.DuckDBPyConnection, into: str) -> str | None:
    """The threshold the ``is_anomaly`` of the table ``into`` was last written at, as its mark says; None without
    a mark naming one (a table scored before the cut was marked, or not by score)."""
    cur = con.cursor()  # of its own: the source may be a reader holding a result of ``con`` open
    try:
        tables = named_objects(cur, table_sql(into))
        rows = cur.execute("SELECT database_name, schema_name, table_name, comment FROM duckdb_columns() "
                           "WHERE lower(column_name) = ? AND starts_with(comment, ?)", [_FLAGS, MARK]).fetchall()
    finally:
        cur.close()
    for database, schema, table, comment in rows:
        if (database.lower(), schema.lower(), table.lower()) in tables:
            found = _CUT.search(comment)
            return str(json.loads(found.group(1))) if found else None
    return None


def note(into: str, was: str, now: str, added: int, kept: int) -> str:
    """The note for a run that added ``added`` rows flagged at threshold ``now`` beside ``kept`` rows of ``into``
    last written at ``was``."""
    return (f"this run's {added} rows' is_anomaly is at threshold {now!r}, and the rows {into} held were last written "
            f"at {was!r} ({kept} of them kept): the table's flags then mean two cuts, and a count of anomalies moves "
            f"with the cut, not the data. Score at the table's cut, {opt('threshold', was)}, or "
            f"re-score the whole table at the new one ({opt('replace', True)}).")


def unrecorded_note(into: str, now: str, added: int, kept: int) -> str:
    """The note for a run that added ``added`` rows flagged at threshold ``now`` beside ``kept`` rows of ``into``
    whose ``is_anomaly`` records no threshold (``held_cut`` None): the run's mark records ``now`` from here on."""
    return (f"{into}'s is_anomaly records no threshold for the {kept} rows it held (scored by a build before the "
            f"threshold was recorded in the column's comment, or copied with CREATE TABLE AS, which drops comments); "
            f"this run's {added} rows are at threshold {now!r}, and the column now records {now!r} for the whole "
            f"table. If the rows held were flagged at another threshold (score {opt('threshold')}), the "
            f"table's flags mean two cuts: re-score them at {now!r} (the days concerned with {opt('replace_where')}, "
            f"or the whole table with {opt('replace', True)}).")
