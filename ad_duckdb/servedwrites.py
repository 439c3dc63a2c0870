"""What a ``serve --read-write`` session does once a write of its to the store is committed: the SQL functions,
which every session of the server shares, load the store again, so that the statements after it (of any session)
score with the threshold or model it wrote.

Why: the functions loaded the store when the server started and at SIGHUP only, so a threshold INSERTed through the
server (the fix its own missing-threshold message gave) was "missing" until the operator signalled the process, and
an UPDATE of a cut went unused. Loaded once committed, not at the write: the functions are shared, and another
session must not score with a row a transaction may still roll back (``ad-duckdb sql``, one connection, loads what
its open transaction sees instead: storewrites).
"""

from __future__ import annotations

from typing import Any

import duckdb

from . import udfs
from .exceptions import AdDuckDBError, is_interrupt
from .storewrites import _STORE_TABLES

# the statement kinds that cannot change a table's rows
_READS = ("SELECT", "TRANSACTION", "SET", "VARIABLE_SET", "EXPLAIN", "PRAGMA", "PREPARE", "EXECUTE")


def writes_store(kind: str, query: str) -> bool:
    """Whether a statement of DuckDB's ``kind`` (``StatementType`` name) and text ``query`` may write a table the
    SQL functions load (``ad_models``, ``ad_thresholds``, ...)."""
    return kind not in _READS and _STORE_TABLES.search(query) is not None


def reload_committed(cur: duckdb.DuckDBPyConnection) -> None:
    """Load the store again as committed, on a cursor of its own (``cur``'s may hold a result the client reads),
    when it changed; a store the write left unreadable is said by the next call of a function, as at start."""
    fresh = cur.cursor()
    try:
        udfs.refresh_if_changed(fresh)
    except (duckdb.Error, AdDuckDBError) as e:
        if is_interrupt(e):
            raise
    finally:
        fresh.close()


def after_write(session: Any) -> None:
    """``session`` (pgsession.Session) ran a statement that wrote the store: load it now when the statement
    committed on its own (no transaction open), else when its transaction commits (``ended``)."""
    if session.status == b"I" and not session.implicit and not session.batch:
        reload_committed(session.cur)
    else:
        session.store_written = True


def ended(session: Any, committed: bool) -> None:
    """``session``'s transaction ended: load the store when it committed a write to it."""
    written, session.store_written = session.store_written, False
    if written and committed:
        reload_committed(session.cur)
