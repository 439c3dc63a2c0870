"""What `ad-duckdb sql` loads into its SQL functions after a statement that changed the store: what its own
connection sees, so that inside BEGIN ... COMMIT the next statements use the transaction's own threshold writes.

Why: the functions were loaded through a cursor, a connection of its own that sees committed rows only, so a script's
``BEGIN; INSERT INTO ad_thresholds ...; SELECT is_anomaly_at('tx_ae', 'mine', ...)`` failed with "no threshold
'mine'" (and an UPDATE's new value went unused) until COMMIT. The command's process has this one connection, so the
functions may hold what its transaction sees; after COMMIT or ROLLBACK they load again (ROLLBACK: the rows as
committed). A Python program's connections share one set of functions, where one connection's uncommitted rows
must not reach the others: there they are seen once committed (the missing threshold's message says so).
"""

from __future__ import annotations

import re

import duckdb

from . import udfs
from .exceptions import is_interrupt

_STORE_TABLES = re.compile(r"ad_(?:models|thresholds|model_versions|model_current)", re.IGNORECASE)


def after_statement(con: duckdb.DuckDBPyConnection, kind: duckdb.StatementType, query: str) -> None:
    """Load the store again as ``con`` sees it, when the statement that ran (of ``kind``, text ``query``) may have
    changed what the functions should hold: it wrote a store table, or began or ended a transaction (COMMIT, and
    ROLLBACK or a COMMIT of a transaction a failed statement aborted, which drop its rows); a few cheap queries when
    nothing changed."""
    if kind != duckdb.StatementType.TRANSACTION and (kind == duckdb.StatementType.SELECT or
                                                      not _STORE_TABLES.search(query)):
        return
    try:
        udfs.refresh_if_changed(con)  # on con itself: its open transaction's rows too
    except duckdb.Error as e:
        if is_interrupt(e):
            raise
        # a store the statement left unreadable: the next call of a function says what is wrong with it
