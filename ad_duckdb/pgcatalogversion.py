"""Which statements may change what the catalogue holds (tables, views and their columns), and a process-wide count
of such changes, for the caches of catalogue lookups (pgjsoncols' JSON column names).

Why: those lookups scan every column of every table (~0.12-0.25 s on a file of 62,000 columns), and pgjsonb asks
one for each statement with an undecided ``||``. The server's sessions are the file's only writers while it serves it
(DuckDB's lock keeps other processes out), so a change of the catalogue is a statement of theirs: one that may change
it (CREATE, ALTER, DROP, ATTACH, ..., any kind not known to leave it) bumps the count once it ran, and so does the end
of a transaction that ran one (its commit shows the change to the other sessions; a rollback undoes it). A lookup
cached at the count it read is good while the count stays."""

from __future__ import annotations

import threading

# DuckDB's statement kinds (StatementType) that leave the catalogue as it was
_KEEP = frozenset(("SELECT", "INSERT", "UPDATE", "DELETE", "PREPARE", "EXECUTE", "TRANSACTION", "COPY", "ANALYZE",
                   "VARIABLE_SET", "SET", "EXPLAIN", "EXPORT", "VACUUM", "RELATION", "LOGICAL_PLAN"))


def changes_catalogue(kind: str) -> bool:
    """Whether a statement of DuckDB's ``kind`` may change the catalogue (an unknown kind may)."""
    return kind not in _KEEP


class CatalogueVersion:
    """A count that grows with each (possible) change of the catalogue; any thread may bump or read it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0

    def now(self) -> int:
        with self._lock:
            return self._value

    def bump(self) -> None:
        with self._lock:
            self._value += 1


VERSION = CatalogueVersion()
