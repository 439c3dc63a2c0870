"""A database path that names a device, a pipe or a socket rather than a regular file: refused before DuckDB opens it.

Why: DuckDB opened ``/dev/null`` for writing and ended with "IO Error: Could not fsync file "/dev/null": Invalid
argument" (exit 1) after the work was done (a model trained for nothing), and a named pipe (FIFO) blocked the command
until a writer came, forever in a script. Such a path is a mistake (a redirection's target, ``/dev/stdin`` given as
DB), so it is told as one: what the path is and what to give instead. A folder is not refused here: DuckDB's own
refusal of it is told with its own fix (opendb._open_error).
"""

from __future__ import annotations

import os
import stat

# What each kind of non-regular file is, in the user's words
_KINDS: tuple[tuple[int, str], ...] = (
    (stat.S_IFCHR, "a character device"),
    (stat.S_IFBLK, "a block device"),
    (stat.S_IFIFO, "a named pipe (FIFO)"),
    (stat.S_IFSOCK, "a socket"),
)


def refusal(database: str) -> str | None:
    """The message refusing ``database`` as a database file when it names an existing device, pipe or socket; None
    for a regular file, a folder, a path that does not exist (created, or refused, later) or one that cannot be
    looked at (the open says why)."""
    try:
        mode = os.stat(database).st_mode  # follows links: /dev/stdin is a link to the pipe or terminal it reads
    except (OSError, ValueError):  # ValueError: a NUL in the path, which DuckDB refuses with its own words
        return None
    kind = next((said for bits, said in _KINDS if stat.S_IFMT(mode) == bits), None)
    if kind is None:
        return None
    return (f"Cannot open {database!r}: it is {kind}, not a DuckDB database file (DuckDB reads and writes a database "
            "as a regular file). Give the path of a .duckdb file, e.g. warehouse.duckdb (a new path creates one).")


def is_duckdb_header(head: bytes) -> bool:
    """Whether ``head``, a file's first 12 bytes or more, is a DuckDB database's header ("DUCK" at bytes 8-11): a
    database given where another argument goes (a model file to import, the model's name)."""
    return head[8:12] == b"DUCK"
