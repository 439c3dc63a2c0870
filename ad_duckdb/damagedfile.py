"""A database file whose bytes are not those DuckDB wrote (cut short, or altered on disk): told as such, with the fix.

Why: DuckDB's own words for it, "IO Error: Could not read enough bytes from file ...: attempted to read 3996 bytes
from location 100" or "Corrupt database file: computed checksum ... does not match stored checksum ... in block at
location 274432", said neither that the file is damaged nor what to do, and the second not even which file; the
command exited 1, as for any error, where a file that cannot be read is 3.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import duckdb

from .exceptions import raised_in_function

# What DuckDB says of a file shorter than its own header and blocks say it is, and of a block whose checksum is wrong
_CUT_SHORT = re.compile(r"Could not read enough bytes from file")
_ALTERED = re.compile(r"Corrupt database file\b")
# The file DuckDB's words for a file cut short name: an attached one (ATTACH in `sql`, --attach) as well as the database
_NAMED = re.compile(r'from file "([^"]+)"')


def is_damage(e: BaseException) -> bool:
    """Whether ``e`` is DuckDB finding the database file damaged (cut short, or a block whose checksum is wrong).

    Not one of our SQL functions' own errors quoting DuckDB's (a model whose block is damaged): those name the model
    and the recovery already, and the file's message around them buried that, with exit 3 where `score` gave 8."""
    return (isinstance(e, duckdb.Error) and bool(_CUT_SHORT.search(str(e)) or _ALTERED.search(str(e)))
            and raised_in_function(str(e)) is None)


def attached_files(con: duckdb.DuckDBPyConnection, database: str) -> list[str]:
    """The files of the databases attached to ``con`` beside ``database`` (--attach, an ATTACH in ``sql``): a block
    whose checksum fails may be one of theirs, and DuckDB's words for it name no file. [] when ``con`` cannot say."""
    try:
        got = con.execute("SELECT path FROM duckdb_databases() WHERE NOT internal AND path IS NOT NULL").fetchall()
    except duckdb.Error:  # a transaction the failure aborted: the database alone is named, as before
        return []
    main = os.path.realpath(database)
    return [p for (p,) in got if p and os.path.realpath(p) != main]


def damaged_message(database: str, e: BaseException, attached: Sequence[str] = ()) -> str:
    """One line for ``is_damage(e)`` on ``database``: what is wrong with the file, that it was left as it is, the fix.
    ``attached``: the files attached beside it (``attached_files``), named too when DuckDB's words name none."""
    said = " ".join(str(e).split())
    named = _NAMED.search(said)
    if named:
        if os.path.realpath(named.group(1)) != os.path.realpath(database):
            # Why the named file: `sql DB "ATTACH 'other.duckdb'"` of a download cut short told the healthy DB to be
            # restored from a backup
            database = named.group(1)
        attached = ()
    which = repr(database) + (f" (or {', '.join(map(repr, attached))}, attached to it)" if attached else "")
    how = ("is shorter than its own header says (cut short: a copy, download or disk that filled up before it ended)"
           if _CUT_SHORT.search(said) else
           "holds a block whose checksum does not match its bytes (altered on disk: a disk fault, or a tool that "
           "wrote into the file)")
    return (f"Cannot read {which}: the database file is damaged, it {how} ({said}). It was left as it is. Fix: "
            "restore the file from a backup or copy it again from where it came; models stored in it can be "
            "trained again or imported from their exported .onnx files (ad-duckdb import DB FILE).")
