"""``--attach PATH[=ALIAS]``: other DuckDB files whose tables a command reads, attached read-only on its connection.

Why: each ``ad-duckdb`` command opens DB alone, and an ATTACH lasts one process, so a warehouse table in another
file (``lake.main.tx``) could only be read after copying it into DB. Why read-only always: a command must never
write into someone else's database, whatever it does to DB (``score --into``, ``sql --write``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .exceptions import BadInputError, DatabaseUnavailableError
from .sqltext import quote_ident, quote_literal, sql_name

# Names DuckDB refuses for an attached database ("cannot be used because it is a reserved name")
RESERVED = ("main", "system", "temp")
# The schemas of DuckDB's system catalog, which every connection reads as NAME.TABLE (psql's and the server's own
# catalog queries too): an alias of that name makes each of those ambiguous, as a schema of DB does (check_schemas)
SYSTEM_SCHEMAS = ("information_schema", "pg_catalog")


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
    if not spec or (eq and not path and not _exists(spec)):
        # Why before the alias: '' is the folder '.' to Path, so the file checks blamed a folder the user never
        # named, and the no-alias advice (--attach =ALIAS) was this very mistake
        raise AttachOptionError(f"--attach {spec!r} names no file: give the DuckDB file's path, --attach PATH or "
                                f"--attach PATH=ALIAS, e.g. --attach lake.duckdb{'=' + alias if alias else ''}.")
    if not eq or _exists(spec) or "/" in alias or os.sep in alias:
        path, alias = spec, default_alias(spec)
        if not alias:
            raise AttachOptionError(f"--attach {spec!r}: the file's name gives no alias (DuckDB names an attached "
                                    f"file by its name up to the first dot); name one: --attach {spec}=ALIAS.")
    elif not alias:
        raise AttachOptionError(f"--attach {spec!r}: no alias after '='; give PATH=ALIAS, or PATH alone to name the "
                                f"database after its file ({default_alias(path) or 'its name'}).")
    return Attached(path, alias)


def _exists(path: str) -> bool:
    """Path.exists, False for a name the file system refuses (ENAMETOOLONG), which it raises for: ``check`` names it."""
    try:
        return Path(path).exists()
    except OSError:
        return False


def check(files: list[Attached], db: str, db_name: str) -> None:
    """Refuse what ATTACH would refuse, or do wrongly, before any file is opened: ``db`` is the command's database
    (``db_name`` its name in SQL)."""
    seen: dict[str, Attached] = {}
    for a in files:
        fix = f"name it otherwise with --attach {a.path}=ALIAS and its tables ALIAS.main.TABLE"
        if a.alias.lower() in RESERVED:
            raise AttachOptionError(f"--attach {a.path!r}: the alias {a.alias!r} is reserved in DuckDB "
                                    f"({', '.join(RESERVED)}); {fix}.")
        if a.alias.lower() in SYSTEM_SCHEMAS:
            raise AttachOptionError(
                f"--attach {a.path!r}: the alias {a.alias!r} is also the name of a schema of DuckDB's system catalog "
                f"({a.alias.lower()!r}), which DuckDB, psql and ad-duckdb's own catalog queries read as "
                f"{a.alias.lower()}.TABLE, and DuckDB would refuse each as ambiguous; {_other_alias(a)}.")
        if a.alias.lower() == db_name.lower():
            raise AttachOptionError(f"--attach {a.path!r}: the alias {a.alias!r} is DB's own name ({db}); {fix}.")
        other = seen.get(a.alias.lower())
        if other is not None:
            raise AttachOptionError(f"--attach {a.path!r}: the alias {a.alias!r} is given twice (also to "
                                    f"{other.path!r}); {fix}.")
        seen[a.alias.lower()] = a
        p = Path(a.path)
        try:
            there = p.exists()
        except OSError as e:  # a name the file system refuses (ENAMETOOLONG): Path.exists raises it
            raise DatabaseUnavailableError(f"--attach {a.path!r}: {e.strerror}; check the path.") from None
        if not there:
            raise DatabaseUnavailableError(f"--attach {a.path!r} does not exist; check the path (--attach reads an "
                                           "existing DuckDB database file, read-only).")
        if p.is_dir():
            raise DatabaseUnavailableError(
                f"--attach {a.path!r} is a folder, not a DuckDB database file; give the path of a .duckdb file (a "
                "folder of Parquet files is a source itself, without --attach: read_parquet('dir/*.parquet')).")
        if db != ":memory:" and Path(db).exists() and p.samefile(db):
            raise AttachOptionError(f"--attach {a.path!r} is DB itself, whose tables every command reads "
                                    "without --attach (TABLE or main.TABLE).")


def check_schemas(con: duckdb.DuckDBPyConnection, files: Sequence[Attached]) -> None:
    """Refuse an alias that is also the name of a schema of DB (``con``'s database), in any case: DuckDB then refuses
    every two-part name through it (``lake.tx``: DB's schema lake, or the file?) as ambiguous, whether or not either
    holds the table, and its message points at DB's schema only. Known only once DB is open, before any file is
    attached."""
    rows = con.execute("SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()").fetchall()
    schemas = {name.lower(): name for (name,) in rows}
    db_name = con.execute("SELECT current_database()").fetchall()[0][0]
    for a in files:
        schema = schemas.get(a.alias.lower())
        if schema is not None:
            raise AttachOptionError(
                f"--attach {a.path!r}: the alias {a.alias!r} is also the name of a schema of DB ({schema!r}: "
                f"{sql_name(db_name)}.{sql_name(schema)}.TABLE), so DuckDB refuses {sql_name(a.alias)}.TABLE as "
                f"ambiguous (that schema's table, or the file's?); {_other_alias(a)}.")


def _other_alias(a: Attached) -> str:
    return (f"attach the file under another name, --attach {a.path}=OTHER_ALIAS, and read its tables by their "
            "three-part name, OTHER_ALIAS.main.TABLE")


def probe(a: Attached) -> None:
    """Attach ``a`` read-only on a connection of its own and let it go: raises as attach() does (a lock: another
    process writes it), so a command can wait for the file before it opens DB.

    Never while this process has ``a`` attached elsewhere: the file's locks are POSIX record locks, which a process
    holds per file, not per handle, and closing this connection's handle would let go of that attachment's lock too
    (a writer could then open the file while it is read).
    """
    con = duckdb.connect(":memory:")
    try:
        attach(con, a)
    finally:
        con.close()


def statement(a: Attached) -> str:
    # TYPE duckdb: a SQLite or other file is refused, not handed to an extension DuckDB would try to load
    return f"ATTACH {quote_literal(a.path)} AS {quote_ident(a.alias)} (TYPE duckdb, READ_ONLY)"


def attach(con: duckdb.DuckDBPyConnection, a: Attached) -> None:
    """Attach ``a`` read-only; a lock, or a file that is no DuckDB database, said as for DB itself."""
    try:
        con.execute(statement(a))
    except duckdb.IOException as e:
        from .opendb import _open_error

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


def named_in(cur: duckdb.DuckDBPyConnection, *texts: object) -> dict[str, str]:
    """The DuckDB files attached on ``cur``'s connection that ``texts`` (a source, a filter) name as a database
    (``lake.main.tx``, ``FROM lake.tx``): alias -> the file's full path. Kept with a model so that the call and the
    command that train it again can attach the same files (an ATTACH lasts one connection). Not the connection's
    own database, an in-memory one, or one the texts do not name (a training connection may have many attached)."""
    said = " ".join(t for t in texts if isinstance(t, str))  # a frame passed itself is refused later, in its words
    if not said:
        return {}
    # a view of the connection's own database (a view over views too) reads what its SQL names: `train DB m v
    # --attach lake.duckdb`, v being SELECT ... FROM lake.main.tx, needs the same --attach again
    views = dict(cur.execute("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal "
                             "AND database_name = current_database()").fetchall())
    while named := [v for v in views if _names(said, v, qualifier=False)]:
        said += " " + " ".join(str(views.pop(v)) for v in named)
    rows = cur.execute("SELECT database_name, path FROM duckdb_databases() WHERE NOT internal AND path IS NOT NULL "
                       "AND type = 'duckdb' AND database_name <> current_database() ORDER BY database_name").fetchall()
    out = {}
    for alias, path in rows:
        if _names(said, alias, qualifier=True):
            out[str(alias)] = str(path)
    return out


def _names(text: str, name: str, qualifier: bool) -> bool:
    """Whether SQL ``text`` names ``name``, bare or quoted, not inside another word (``wlake`` is not ``lake``); with
    ``qualifier``, as the part before a dot (``lake.main.tx``, ``"lake".tx``)."""
    end = r"\s*\." if qualifier else r'(?![\w"])'
    return re.search(rf'(?<![\w"]){re.escape(name)}{end}|"{re.escape(name)}"{end if qualifier else ""}', text,
                     re.IGNORECASE) is not None


def option_words(files: dict[str, str]) -> list[str]:
    """``--attach PATH`` for each of ``files`` (alias -> path), ``--attach PATH=ALIAS`` where the alias is not the
    one DuckDB gives the file by its name."""
    return [w for alias, path in files.items()
            for w in ("--attach", path if default_alias(path) == alias else f"{path}={alias}")]
