"""The store's tables: their DDL and columns, the check that a table of a store name is the store, and the
transaction every write of the store runs in."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

import duckdb

from .exceptions import BadInputError, IntegrityError
from .sqltext import quote_literal, sql_name


def schema_sql() -> str:
    return resources.files("ad_duckdb").joinpath("sql/schema.sql").read_text()


# The tables ad_duckdb owns, with every column it reads or writes and its type (sql/schema.sql). ``ad_model_versions``
# keeps the highest version each name ever had, so a dropped 'name@N' is never given to another model.
STORE_TABLES: dict[str, dict[str, str]] = {
    "ad_models": {"name": "VARCHAR", "version": "INTEGER", "created_at": "TIMESTAMP", "format_version": "INTEGER",
                  "kind": "VARCHAR", "features": "JSON", "source": "VARCHAR", "train_rows": "BIGINT", "params": "JSON",
                  "metrics": "JSON", "lib_versions": "JSON", "onnx": "BLOB", "sha256": "VARCHAR"},
    "ad_thresholds": {"model": "VARCHAR", "version": "INTEGER", "threshold_name": "VARCHAR", "value": "DOUBLE",
                      "method": "VARCHAR", "chosen_on": "VARCHAR", "precision": "DOUBLE", "recall": "DOUBLE",
                      "f1": "DOUBLE", "flagged_share": "DOUBLE", "created_at": "TIMESTAMP"},
    "ad_model_versions": {"name": "VARCHAR", "last_version": "INTEGER"},
    # which version the bare name means, once one was promoted; what happened to each version (lifecycle.py)
    "ad_model_current": {"name": "VARCHAR", "version": "INTEGER"},
    "ad_model_log": {"name": "VARCHAR", "version": "INTEGER", "logged_at": "TIMESTAMP", "event": "VARCHAR",
                     "by_user": "VARCHAR", "detail": "JSON"},
}
# Columns without which the stored models themselves are gone: adding the column back gives them no bytes.
_MODEL_DATA = ("format_version", "kind", "features", "onnx", "sha256")


@contextmanager
def transaction(cur: Any) -> Iterator[None]:
    """BEGIN ... COMMIT on ``cur``; on any error (a Ctrl-C too) ROLLBACK, then raise the error that stopped it.

    Why ROLLBACK's own error is dropped: a COMMIT that failed (a full disk) has already ended the transaction, and
    ROLLBACK's "no transaction is active" then took the place of the error that said why.
    """
    cur.execute("BEGIN TRANSACTION")
    try:
        yield
        cur.execute("COMMIT")
    except BaseException:
        try:
            cur.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise


def ensure_schema(cur: Any) -> None:
    for attempt in range(10):
        try:
            cur.execute(schema_sql())
            break
        except duckdb.TransactionException as e:
            # Why again: two threads (dbt's) storing the first models at once both CREATE ... IF NOT EXISTS, and the
            # later commit is refused as a write-write conflict; once the other's tables exist, the statement is a no-op
            if "conflict" not in str(e) or attempt == 9:
                raise
            time.sleep(0.01 * (attempt + 1))
    tables_exist(cur)


def tables_exist(cur: Any) -> bool:
    """Whether the model store exists here; refuses a user's own table that happens to have a store name.

    Why refuse rather than ignore: reading models from, or writing them into, a table of another layout
    would fail with a bare binder error, or worse, mix models into someone's data.
    """
    return bool(store_tables(cur))


def store_tables(cur: Any) -> frozenset[str]:
    """The store's tables (``STORE_TABLES``) present here, checked as ``tables_exist`` checks them; empty when there is
    no store. Why a set: ``stamp`` learns from this one catalog read whether the tables added by later releases
    (``ad_model_versions``, ``ad_model_current``) exist, where asking for each cost a catalog read of its own."""
    found = dict(cur.execute(
        "SELECT table_name, list(column_name) FROM duckdb_columns() WHERE list_contains(?, table_name) "
        "AND schema_name = current_schema() AND database_name = current_database() GROUP BY table_name",
        [list(STORE_TABLES)],
    ).fetchall())
    for table, cols in found.items():
        missing = [c for c in STORE_TABLES[table] if c not in {str(x).lower() for x in cols}]
        if missing and len(missing) <= len(STORE_TABLES[table]) // 2:
            # Why told apart from a user's own table: most of the store's columns are there, so one was dropped (or
            # renamed) by hand, and the fix is to add it back, not to rename the table
            which = f"column {missing[0]} is" if len(missing) == 1 else f"columns {', '.join(missing)} are"
            add = "; ".join(f"ALTER TABLE {table} ADD COLUMN {c} {STORE_TABLES[table][c]}" for c in missing)
            lost = [c for c in missing if table == "ad_models" and c in _MODEL_DATA]
            raise IntegrityError(
                f"Table {table} is ad_duckdb's model store, but its {which} missing (dropped or renamed by hand?), so "
                f"no model can be read or stored. Add {'it' if len(missing) == 1 else 'them'} back: {add} (from the "
                f"command line: ad-duckdb sql DB \"{add}\" --write)"
                + (f"; the models' {', '.join(lost)} went with {'it' if len(lost) == 1 else 'them'}, so then re-train "
                   "or import each model (or restore the database from a backup)." if lost else ".")
            )
        if missing:
            # Why not "USE another schema": ad_duckdb reads and writes the store through cursors of its own, which
            # start in the database's main schema whatever the connection's USE, so that advice never worked
            db, path = cur.execute("SELECT database_name, path FROM duckdb_databases() "
                                   "WHERE database_name = current_database()").fetchall()[0]
            # both go inside the "..." of the suggested con.execute, where a double quote needs its backslash
            attach, alias = (t.replace('"', '\\"') for t in (quote_literal(str(path or "this.duckdb")), sql_name(db)))
            raise BadInputError(
                f"Table {table!r} in this database is not ad_duckdb's model store (it has columns "
                f"{', '.join(cols)}; the store needs {', '.join(STORE_TABLES[table])}). ad_duckdb keeps its "
                f"models in tables named {', '.join(STORE_TABLES)}, in the database's main schema: rename yours "
                f"(ALTER TABLE {table} RENAME TO {table}_data; from the command line: ad-duckdb sql DB \"ALTER TABLE "
                f"{table} RENAME TO {table}_data\" --write), or keep the models in a database file of their own that "
                f"attaches this one: con = ad_duckdb.connect('models.duckdb'); con.execute(\"ATTACH {attach} AS "
                f"{alias} (READ_ONLY)\"), then train and score on {db}.main.your_table."
            )
    if "ad_models" in found and "ad_thresholds" not in found:
        if not cur.execute("SELECT count(*) FROM ad_models").fetchall()[0][0]:
            # Why no store yet, not an error: another thread's or process's ensure_schema is between creating
            # ad_models and ad_thresholds (schema.sql's statements commit one by one), and nothing is stored to read
            return frozenset()
        # Why an IntegrityError (which registering the functions reports at a call, not at once): every read of the
        # store also reads ad_thresholds, so DuckDB's "Table with name ad_thresholds does not exist!" failed each
        # command, also the ALTER TABLE that puts the table back
        raise IntegrityError(
            "Table ad_thresholds of ad_duckdb's model store is missing beside ad_models (dropped or renamed by hand?), "
            "so no model can be read. Rename it back (ALTER TABLE old_name RENAME TO ad_thresholds; from the command "
            "line: ad-duckdb sql DB \"ALTER TABLE old_name RENAME TO ad_thresholds\" --write), or run `ad-duckdb "
            "restore-thresholds DB`, which creates it and stores each version's thresholds again: those training sets "
            "from its training scores, those set by hand from the changelog (ad_model_log)."
        )
    return frozenset(found) if "ad_models" in found else frozenset()


def check_writable(table: str) -> None:
    """Refuse a user write target (``into=``) that is one of the store's tables, or no name at all."""
    if not isinstance(table, str):  # checked first: into=5 ended in "'int' object has no attribute 'strip'"
        raise BadInputError(f"into= takes the name of the table to write, e.g. into='tx_scores'; got "
                            f"{type(table).__name__} {table!r}.")
    last = table.strip().strip('"').split(".")[-1].strip('"').lower()
    if last in STORE_TABLES:
        raise BadInputError(
            f"{table!r} is where ad_duckdb keeps its models; writing scores or reports there would destroy them. "
            "Choose another table name, e.g. tx_scores."
        )
