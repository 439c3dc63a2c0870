"""``--attach PATH[=ALIAS]``: other DuckDB files whose tables a command reads, attached read-only on its connection.

Why: each ``ad-duckdb`` command opens DB alone, and an ATTACH lasts one process, so a warehouse table in another
file (``lake.main.tx``) could only be read after copying it into DB. Why read-only always: a command must never
write into someone else's database, whatever it does to DB (``score --into``, ``sql --write``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .exceptions import BadInputError, DatabaseUnavailableError
from .sqltext import quote_ident, quote_literal, sql_name

# Names DuckDB refuses for an attached database ("cannot be used because it is a reserved name")
RESERVED = ("main", "system", "temp")


class AttachOptionError(BadInputError):
    """An ``--attach`` value that cannot be right whatever the files hold (an alias taken or reserved): a wrong
    option, which the command line reports as such (exit 2)."""


@dataclass(frozen=True)
class Attached:
    path: str
    alias: str


def default_alias(path: str) -> str:
    """The name DuckDB's ``ATTACH 'path'`` gives the file: its name up to the first dot (``lake.duckdb``: lake)."""
    return Path(path).name.split(".")[0]


def parse(spec: str) -> Attached:
    """``PATH`` or ``PATH=ALIAS``."""
    # Why a file of that whole name first, and no alias with a slash: a path may hold '=' itself (Hive-style
    # folders, day=2026-01-01/lake.duckdb)
    path, eq, alias = spec.rpartition("=")
    if not eq or Path(spec).exists() or "/" in alias or os.sep in alias:
        path, alias = spec, default_alias(spec)
        if not alias:
            raise AttachOptionError(f"--attach {spec!r}: the file's name gives no alias (DuckDB names an attached "
                                    f"file by its name up to the first dot); name one: --attach {spec}=ALIAS.")
    elif not alias:
        raise AttachOptionError(f"--attach {spec!r}: no alias after '='; give PATH=ALIAS, or PATH alone to name the "
                                f"database after its file ({default_alias(path) or 'its name'}).")
    return Attached(path, alias)


def check(files: list[Attached], db: str, db_name: str) -> None:
    """Refuse what ATTACH would refuse, or do wrongly, before any file is opened: ``db`` is the command's database
    (``db_name`` its name in SQL)."""
    seen: dict[str, Attached] = {}
    for a in files:
        fix = f"name it otherwise with --attach {a.path}=ALIAS and its tables ALIAS.main.TABLE"
        if a.alias.lower() in RESERVED:
            raise AttachOptionError(f"--attach {a.path!r}: the alias {a.alias!r} is reserved in DuckDB "
                                    f"({', '.join(RESERVED)}); {fix}.")
        if a.alias.lower() == db_name.lower():
            raise AttachOptionError(f"--attach {a.path!r}: the alias {a.alias!r} is DB's own name ({db}); {fix}.")
        other = seen.get(a.alias.lower())
        if other is not None:
            raise AttachOptionError(f"--attach {a.path!r}: the alias {a.alias!r} is given twice (also to "
                                    f"{other.path!r}); {fix}.")
        seen[a.alias.lower()] = a
        p = Path(a.path)
        if not p.exists():
            raise DatabaseUnavailableError(f"--attach {a.path!r} does not exist; check the path (--attach reads an "
                                           "existing DuckDB database file, read-only).")
        if p.is_dir():
            raise DatabaseUnavailableError(
                f"--attach {a.path!r} is a folder, not a DuckDB database file; give the path of a .duckdb file (a "
                "folder of Parquet files is a source itself, without --attach: read_parquet('dir/*.parquet')).")
        if db != ":memory:" and Path(db).exists() and p.samefile(db):
            raise AttachOptionError(f"--attach {a.path!r} is DB itself, whose tables every command reads "
                                    "without --attach (TABLE or main.TABLE).")


def statement(a: Attached) -> str:
    # TYPE duckdb: a SQLite or other file is refused, not handed to an extension DuckDB would try to load
    return f"ATTACH {quote_literal(a.path)} AS {quote_ident(a.alias)} (TYPE duckdb, READ_ONLY)"


def attach(con: duckdb.DuckDBPyConnection, a: Attached) -> None:
    """Attach ``a`` read-only; a lock, or a file that is no DuckDB database, said as for DB itself."""
    try:
        con.execute(statement(a))
    except duckdb.IOException as e:
        from .api import _open_error

        if "not a valid duckdb database file" in str(e).lower():
            raise DatabaseUnavailableError(
                f"--attach {a.path!r} is not a DuckDB database file (--attach reads DuckDB files only; the file was "
                f"left as it is). A Parquet, CSV or JSON file is a source itself, without --attach: "
                f"{_reader(a.path)}({quote_literal(a.path)}).") from e
        err = _open_error(a.path, True, e)  # a lock: another process writes the file
        if err is not None:
            raise err from e
        raise


def _reader(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return ("read_csv" if suffix in (".csv", ".tsv", ".txt") else "read_json" if suffix in (".json", ".jsonl", ".ndjson")
            else "read_parquet")


def option_hint(db: str) -> str:
    """How the command line reads a table of database ``db``, which is not attached (a fragment, lower case first)."""
    return (f"pass the file it is in with --attach path/to/{db}.duckdb (read-only; --attach PATH={sql_name(db)} for a "
            "file named otherwise)")
