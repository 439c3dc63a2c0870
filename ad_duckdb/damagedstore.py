"""A model store whose block holding the models' names is damaged: the file still opens, and what is lost is named.

Why: DuckDB stores the small columns of every stored model (names, versions, features, sources, training figures,
sha256) in one block; a changed byte there made ``ad_duckdb.connect`` and every command fail on the whole file
("the database file is damaged ... restore the file from a backup"), the user's own tables too, though those are in
other blocks and read well. No model of the file can be read back then (their ONNX bytes alone say neither their
names nor their columns), so the message names the models the file held (its changelog, ``ad_model_log``, and its
thresholds are other blocks), the tables that still read, and how to carry those to a new file.
"""

from __future__ import annotations

from typing import Any

import duckdb

from . import damagedthresholds, typedpaths
from .damagedfile import attached_files, damaged_message, is_damage
from .exceptions import DatabaseUnavailableError
from .sqltext import sql_name

# the store's own tables, not carried as the user's (ad_duckdb's DDL: storetables.ensure_schema and lifecycle)
STORE_TABLES = ("ad_models", "ad_thresholds", "ad_model_log", "ad_model_current", "ad_model_versions")


def _read(cur: Any, query: str) -> list[tuple[Any, ...]] | None:
    """``query``'s rows, None when a damaged block (or anything else) stops it: the message is built on what reads."""
    try:
        return list(cur.execute(query).fetchall())
    except duckdb.Error:
        return None


def _database_path(cur: Any) -> str:
    row = _read(cur, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
    return typedpaths.as_typed(str(row[0][0])) if row and row[0][0] else "DB"


def held_models(cur: Any) -> list[str]:
    """The model names the store's changelog and thresholds know ([] when they too cannot be read)."""
    names: set[str] = set()
    for query in ("SELECT DISTINCT name FROM ad_model_log", "SELECT DISTINCT model FROM ad_thresholds"):
        names.update(str(n) for (n,) in _read(cur, query) or [] if n is not None)
    return sorted(names)


def user_tables(cur: Any) -> list[str]:
    """The file's tables other than the store's, as SQL names them (schema-qualified outside ``main``)."""
    rows = _read(cur, "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() "
                      "AND NOT internal AND NOT temporary ORDER BY schema_name, table_name") or []
    return [sql_name(t) if s == "main" else f"{sql_name(s)}.{sql_name(t)}" for s, t in rows
            if not (s == "main" and t in STORE_TABLES)]


def store_damaged(cur: Any, e: BaseException) -> DatabaseUnavailableError:
    """The error for ``e`` (``is_damage``), met reading the names of the models stored: which block, which models are
    lost, what still reads, and the recovery."""
    db = _database_path(cur)
    said = " ".join(str(e).split())
    held = held_models(cur)
    tables = user_tables(cur)
    models = (f"; it held {', '.join(map(repr, held))} (its changelog, ad_model_log, and its thresholds still read)"
              if held else "")
    shown = ", ".join(tables[:8]) + (f" and {len(tables) - 8} more" if len(tables) > 8 else "")
    still = f", as do its own tables ({shown})" if tables else ""
    first = tables[0] if tables else "t"
    quoted = db.replace("'", "''")
    copy = (f"ad-duckdb sql NEW.duckdb --write \"ATTACH '{quoted}' AS damaged (READ_ONLY); CREATE TABLE {first} AS FROM "
            f"damaged.{first}\"")
    return DatabaseUnavailableError(
        f"Cannot read {db!r}: the database file is damaged, it holds a block whose checksum does not match its bytes "
        f"(altered on disk: a disk fault, or a tool that wrote into the file) ({said}): the block holding the stored "
        f"models' names, features and training figures (table ad_models), so no model stored in it can be loaded, "
        f"scored, shown or exported{models}. It was left as it is; its other blocks still read{still}. Fix: restore the "
        f"file from a backup; or copy its tables to a new file ({copy}, a table at a time) and there import each "
        "model from its exported .onnx file (ad-duckdb import NEW.duckdb FILE, or the folder of an export --all) or "
        "train it again.")


def store_error(cur: Any, e: BaseException) -> DatabaseUnavailableError:
    """The error a SQL function call raises when the store met ``e`` (``is_damage``) loading the models:
    ``store_damaged``'s for the block of the names, ``damagedthresholds``' for that of the thresholds, else the
    damaged file's."""
    db = _database_path(cur)
    th = damagedthresholds.unreadable(cur)
    return names_unreadable(cur) or DatabaseUnavailableError(
        damagedthresholds.message(cur, db, th) if th is not None else damaged_message(db, e))


def file_message(con: Any, database: str, e: BaseException) -> str:
    """The message for ``e`` (``is_damage``) met by a command on ``database``: ``store_damaged``'s when the models'
    names are what cannot be read, ``damagedthresholds``' when the thresholds are, else
    ``damagedfile.damaged_message``'s (naming the files attached beside it)."""
    unread = names_unreadable(con)
    if unread is not None:
        return str(unread)
    th = damagedthresholds.unreadable(con)
    return (damagedthresholds.message(con, database, th) if th is not None
            else damaged_message(database, e, attached_files(con, database)))


def names_unreadable(cur: Any) -> DatabaseUnavailableError | None:
    """``store_damaged``'s error when the stored models' names cannot be read for a damaged block, else None."""
    try:
        cur.execute("SELECT name, version, sha256, metrics::VARCHAR FROM ad_models").fetchall()
    except duckdb.Error as e:
        if is_damage(e):
            return store_damaged(cur, e)
    return None
