"""Which database file ATTACHed on a connection holds a model the connection's own database does not store, for the
Python API's "No model ..." error: the functions read models from the connection's own database only, so a model
of an attached file read as if it were stored nowhere ("known models: none yet"), the file unnamed."""

from __future__ import annotations

import functools
import os
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import duckdb

from .exceptions import ModelNotFoundError
from .optionwords import either
from .sqltext import quote_ident

# what the functions' own error says in general, replaced by the file's name where one is found (udfregistry.Registry.get)
UNUSED = "one stored in an ATTACHed database is not used: score through ad_duckdb.connect(that file)."

F = TypeVar("F", bound=Callable[..., Any])


def holders(con: duckdb.DuckDBPyConnection, name: str, own: str = "") -> list[tuple[str, str]]:
    """(database, path) of each database file attached on ``con`` whose main ``ad_models`` stores ``name``, but not
    the connection's own database (nor, given, the file at ``own``); [] where none does or the catalog cannot be read."""
    found: list[tuple[str, str]] = []
    cur = con.cursor()
    try:
        places = cur.execute(
            "SELECT t.database_name, t.schema_name, d.path FROM duckdb_tables() t JOIN duckdb_databases() d "
            "USING (database_name) WHERE t.table_name = 'ad_models' AND d.path IS NOT NULL AND d.path <> '' "
            "AND t.database_name <> current_database() ORDER BY t.database_name, t.schema_name").fetchall()
        for database, schema, path in places:
            if own and os.path.realpath(path) == os.path.realpath(own):
                continue
            held = cur.execute(f"SELECT count(*) FROM {quote_ident(database)}.{quote_ident(schema)}.ad_models "
                               "WHERE name = ?", [name]).fetchall()[0][0]
            if held:
                found.append((database, path))
    except duckdb.Error:  # an ad_models of other columns, or one we may not read: nothing to tell
        return []
    finally:
        cur.close()
    return found


def python_hint(con: Any, model: str) -> str:
    """Where the model ``model`` ('name' or 'name@N') is stored, for a Python caller, and how to reach it; "" when no
    attached file holds it."""
    name = model.split("@")[0] if isinstance(model, str) else ""
    try:
        found = holders(con, name) if name and isinstance(con, duckdb.DuckDBPyConnection) else []
    except Exception:  # a closed connection: the error as it was
        return ""
    if not found:
        return ""
    database, path = found[0]
    path = os.path.abspath(path)
    file = f"{name}.onnx"
    return (f"{name!r} is stored in the attached database {database!r} ({path}), but ad_duckdb uses the models of the "
            f"connection's own database only: use it through a connection to that file, ad_duckdb.connect({path!r}), "
            "or copy it into this database: " + either(
                f"ad_duckdb.export_model(ad_duckdb.connect({path!r}, read_only=True), {name!r}, {file!r}); then "
                f"ad_duckdb.import_model(con, {file!r}).",
                f"ad-duckdb export {shlex.quote(path)} {shlex.quote(name)} {shlex.quote(file)}, then ad-duckdb import DB "
                f"{shlex.quote(file)}."))


@contextmanager
def said_where(con: Any, model: str) -> Iterator[None]:
    """Add to a ``ModelNotFoundError`` for ``model`` the attached file that holds it (``python_hint``), in place of
    the functions' general sentence on attached databases."""
    try:
        yield
    except ModelNotFoundError as e:
        hint = "" if e.guessed or e.dropped else python_hint(con, model)
        if hint and hint not in str(e):  # a function of the API called by another, or the functions' own hint
            text = str(e)
            e.args = (text.replace(UNUSED, hint) if UNUSED in text else f"{text} {hint}",)
        raise


def names_the_file(fn: F) -> F:
    """``said_where`` around a function of the Python API called as ``fn(con, model, ...)``."""
    @functools.wraps(fn)
    def wrapper(con: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
        with said_where(con, model):
            return fn(con, model, *args, **kwargs)
    return wrapper  # type: ignore[return-value]
