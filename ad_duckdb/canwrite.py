"""Whether the database file can be written, asked before the work that writes it: read-only, or its folder not
writable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .exceptions import BadInputError, DatabaseUnavailableError
from .sqltext import shell_word


def check_can_write(cur: Any, what: str) -> None:
    """Refuse early, with the fix, what would otherwise fail at the end with DuckDB's bare read-only error, or
    with its "Failed to commit" on a log it cannot create (``unwritable_folder``)."""
    row = cur.execute(
        "SELECT readonly, path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    if row and row[0][0]:
        raise BadInputError(
            f"{what}: the database is open read-only. Open it for writing (ad_duckdb.connect(path) without "
            "read_only=True), from a process that is the file's only user."
        )
    said = unwritable_folder(row[0][1]) if row and row[0][1] else None
    if said:
        raise DatabaseUnavailableError(f"{what}: {said}")


def unwritable_folder(db: str, reads: str = "score() without into=, list_models, export_model, SQL") -> str | None:
    """Why a write to the database file ``db`` would fail at its commit, with the fix and what still works
    (``reads``); None if it would not.

    Why asked before the work: DuckDB creates its write-ahead log (DB.wal) beside the file at the first commit, so a
    writable file in a read-only folder opened fine, the work was done (a whole training), and only the commit
    failed: "TransactionContext Error: Failed to commit: Cannot open file ...wal: Permission denied".
    """
    folder = Path(db).absolute().parent
    if not folder.is_dir() or os.access(folder, os.W_OK | os.X_OK):
        return None
    if _mounted_read_only(folder):
        # Why said apart: "make the folder writable (chmod u+w)" cannot help on a read-only mount (a job's copy of
        # the models on a read-only volume or image), and root, whom permissions do not stop, was told it too
        return (f"its folder {str(folder)!r} is on a file system mounted read-only, where DuckDB can write neither "
                f"the file nor its log {Path(db).name + '.wal'!r}. Fix: work on a copy in a writable folder (e.g. "
                f"cp {shell_word(db)} /tmp/), or mount it read-write; reading works ({reads}).")
    return (f"its folder {str(folder)!r} is not writable by this user, and DuckDB writes its log "
            f"{Path(db).name + '.wal'!r} there at every commit. Fix: make the folder writable (chmod u+w), or work on a "
            f"copy in a writable folder; reading works ({reads}).")


def _mounted_read_only(folder: Path) -> bool:
    """Whether ``folder`` is on a file system mounted read-only (False where that cannot be told)."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # AttributeError: a platform without statvfs
        return False
