"""Models stored in a database a dbt profile ATTACHes, which the SQL functions do not read.

ad_duckdb reads models from the main schema of the connection's own database (the profile's ``path:``). A profile
that keeps them in another file and attaches it (``path: ':memory:'``, ``attach: [{path: models.duckdb}]``) got
"No model 'tx_ae' ...; known models: none yet" and advice to order the node after its training model.
"""

from __future__ import annotations

from typing import Any

import duckdb

from .sqltext import quote_ident


def attached_models(cur: Any, path: str | None) -> dict[str, str]:
    """For each model name stored only in an attached database, what to say when the functions do not find it."""
    own, own_path = cur.execute("SELECT database_name, path FROM duckdb_databases() "
                                "WHERE database_name = current_database()").fetchall()[0]
    shown = path if path is not None else own_path or ":memory:"
    try:
        dbs = cur.execute(
            "SELECT d.database_name, d.path FROM duckdb_databases() AS d JOIN duckdb_tables() AS t "
            "ON t.database_name = d.database_name WHERE t.schema_name = 'main' AND t.table_name = 'ad_models' "
            "AND d.database_name <> ? AND NOT d.internal ORDER BY 1", [own]).fetchall()
    except duckdb.Error:
        return {}  # Why not fail the node: a remote catalog (a PostgreSQL attach) that cannot be listed only loses a hint
    out: dict[str, str] = {}
    for db, db_path in dbs:
        try:
            names = [n for (n,) in cur.execute(
                f"SELECT DISTINCT name FROM {quote_ident(db)}.main.ad_models ORDER BY 1").fetchall()]
        except duckdb.Error:
            continue  # a table named like the store but of another layout holds no model of ours
        where = f"the attached database {db!r}" + (f" ({db_path})" if db_path else "")
        instead = "" if shown == ":memory:" else f", and attach {shown} instead"
        use = f"set the profile's path: {db_path} (dropping its attach entry{instead}), or " if db_path else ""
        for name in names:
            out.setdefault(name, (
                f" {name!r} is stored in {where}, but the functions read models from the main schema of the "
                f"database at the profile's path: ({shown!r}) only: {use}copy the model there "
                f"(ad-duckdb export, then ad-duckdb import)."))
    return out
