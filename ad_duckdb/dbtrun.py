"""What ad_duckdb needs to know of the dbt run it is called in, without importing dbt outside one.

A dbt Python model calls ``ad_duckdb.train`` (or ``ad_duckdb.dbt.train_model``) in dbt's own process, and the macro
``ad_duckdb_set_threshold`` calls the plugin's SQL function there too. Three things differ from a plain connection:

- ``dbt build --empty`` builds every ref and source with no rows, so training on one found "no rows" and blamed the
  table and the filter rather than the flag;
- dbt's relations render with the database's name (``"warehouse"."main"."stg"``), the name DuckDB gives the file it
  opened: stored as the model's source, it broke every later read once the file was renamed or copied
  (``prod.duckdb``: no catalog "warehouse");
- the profile's ``schema:`` is where dbt builds, but ad_duckdb's cursors start in ``main``, so a name written without
  a schema (``source: stg_transactions`` in ``dbt run-operation``) was looked up in main and not found, or worse,
  found a table of that name left there by another build; and a model's custom ``+schema: marts`` builds into
  ``analytics_marts``, where its training model's bare name is looked up first.
"""

from __future__ import annotations

import sys

from duckdb import DuckDBPyConnection

from .samesource import SELECT_ALL_FROM
from .sqltext import name_parts, sql_name


def empty_run() -> bool:
    """Whether this process runs a ``dbt ... --empty`` invocation (False outside dbt: dbt is not imported for it)."""
    if "dbt.flags" not in sys.modules:
        return False
    from dbt.flags import get_flags

    try:
        return bool(getattr(get_flags(), "EMPTY", False))
    except Exception:  # noqa: BLE001 - a dbt of another layout: not an --empty run as far as we can tell
        return False


def run_operation() -> bool:
    """Whether this process runs ``dbt run-operation`` (no node runs; False outside dbt)."""
    if "dbt.flags" not in sys.modules:
        return False
    from dbt.flags import get_flags

    try:
        return getattr(get_flags(), "WHICH", None) == "run-operation"
    except Exception:  # noqa: BLE001 - a dbt of another layout: not a run-operation as far as we can tell
        return False


# Why not the nodes' hint (run after the training model, depends_on): a run-operation runs no node to order
RUN_OPERATION_HINT = (" `dbt run-operation` runs no model: build the training model first (`dbt build -s <training "
                      "model>`), then run the operation again, naming the model it stores in --args.")
# A missing version of a model that is stored: no build makes 'ae@7' when 1 and 2 are stored (versions are numbered
# as they are trained), so the fix is the versions there are, which the message lists just before this
RUN_OPERATION_VERSION_HINT = (" `dbt run-operation` reads the versions stored now: pin one of the stored versions in "
                              "--args, or the bare name (its promoted version, else its newest).")


def empty_run_hint() -> str:
    """What a source with no rows means in a ``dbt build --empty`` run ("" in any other)."""
    if not empty_run():
        return ""
    return (" This is a `dbt build --empty` run: every ref() and source() reads no rows, so there is nothing to train "
            "on. Train with ad_duckdb.dbt.train_model(session, ...), which trains nothing under --empty (its table "
            "gets no row), or skip the call when dbt's flags say so (from dbt.flags import get_flags; "
            "get_flags().EMPTY).")


def portable_source(cur: DuckDBPyConnection, source: str) -> str:
    """``source`` as it should be stored: a dbt relation of the connection's own database (``this`` renders
    ``"warehouse"."main"."stg"``, a Python model's ``dbt.ref`` reads ``select * from`` it) as ``"main"."stg"``, which
    reads the same table whatever the file is named; else as given.

    A relation of an attached database keeps its name: that is the alias the profile's ``attach:`` gives it."""
    m = SELECT_ALL_FROM.match(source)
    parts = name_parts(m.group(1) if m else source)
    if parts is None or len(parts) != 3:
        return source
    own = cur.execute("SELECT current_database()").fetchall()[0][0]
    if parts[0].lower() != str(own).lower():  # catalog names are case-insensitive
        return source
    return ".".join(sql_name(p) for p in parts[1:])


def stored_source(con: DuckDBPyConnection, source: str) -> str:
    """``portable_source`` through a cursor of its own: for ``ad_duckdb.train(session, dbt.ref(...).sql_query())``,
    called in a dbt Python model without train_model."""
    cur = con.cursor()
    try:
        return portable_source(cur, source)
    finally:
        cur.close()


def node_target() -> tuple[str | None, str | None] | None:
    """The (database, schema) the dbt node running on this thread builds into (a custom ``+schema: marts`` gives
    ``analytics_marts``), from dbt's node context; None outside a node (``dbt run-operation``, or outside dbt)."""
    if "dbt_common.events.contextvars" not in sys.modules:
        return None
    from dbt_common.events.contextvars import get_node_info

    try:
        relation = get_node_info().get("node_relation") or {}
    except Exception:  # noqa: BLE001 - a dbt of another layout: no node known
        return None
    schema = relation.get("schema") if isinstance(relation, dict) else None
    return (relation.get("database"), schema) if isinstance(schema, str) and schema else None


def in_schema(cur: DuckDBPyConnection, source: str, target: tuple[str | None, str | None] | None,
              node: tuple[str | None, str | None] | None = None) -> str:
    """A table name written without a schema (``stg_transactions``), as the relation of that name in the schema the
    running dbt node builds into (``node``, a hook's ``this``; else ``node_target``), else in the dbt target's schema (``target``: its database and
    schema), when one is there (``"analytics"."stg_transactions"``); else ``source`` as given.

    Why those first: in a dbt project a bare name means a model dbt built, beside the node (a model's custom
    ``+schema:``) or in the profile's ``schema:``; ad_duckdb's own cursors start in main, where it is not (or is an
    older build's)."""
    parts = name_parts(source)
    if parts is None or len(parts) != 1:
        return source
    own = cur.execute("SELECT current_database()").fetchall()[0][0]
    tried = _schemas(target, node)
    for database, schema in tried:
        database = database or own
        found = _found(cur, database, schema, parts[0])
        if found and database == own and schema.lower() == "main":
            return source  # where ad_duckdb's cursors read a bare name anyway: stored as written
        if found:
            named = [found, parts[0]] if database == own else [database, found, parts[0]]
            return ".".join(sql_name(p) for p in named)
    if tried and (found := _found(cur, own, "main", parts[0])):
        # not beside the node nor in the target schema: read where ad_duckdb's cursors start, and said so (the
        # statement of a threshold chosen on it names main.x, not a bare x a reader takes for the target schema's)
        return ".".join(sql_name(p) for p in (found, parts[0]))
    return source


def _schemas(target: tuple[str | None, str | None] | None,
             node: tuple[str | None, str | None] | None) -> list[tuple[str | None, str]]:
    """The (database, schema) a bare name is looked up in, in order: the node's, then the target's."""
    return [(d, s) for d, s in [t for t in (node or node_target(), target) if t is not None] if s]


def _found(cur: DuckDBPyConnection, database: str, schema: str, name: str) -> str | None:
    """The schema's name as stored when it holds a table or view ``name`` (any case), else None."""
    found = cur.execute(
        "SELECT s FROM (SELECT schema_name AS s, table_name AS n, database_name AS d FROM duckdb_tables() "
        "UNION ALL SELECT schema_name, view_name, database_name FROM duckdb_views() WHERE NOT internal) "
        "WHERE d = ? AND lower(s) = lower(?) AND lower(n) = lower(?) LIMIT 1",
        [database, schema, name]).fetchall()
    return str(found[0][0]) if found else None


def missing_bare(cur: DuckDBPyConnection, source: str, target: tuple[str | None, str | None] | None,
                 node: tuple[str | None, str | None] | None = None) -> str:
    """Where a bare name ``in_schema`` left as it was is not ("" when it is not bare, or is found): the schemas it was
    looked up in, for the message, which said only "does not exist in this database"."""
    parts = name_parts(source)
    tried = _schemas(target, node)
    if parts is None or len(parts) != 1 or not tried:
        return ""
    own = cur.execute("SELECT current_database()").fetchall()[0][0]
    if _found(cur, own, "main", parts[0]) or cur.execute(
            "SELECT 1 FROM duckdb_views() WHERE lower(view_name) = lower(?) AND internal", [parts[0]]).fetchall():
        return ""
    kinds = ["beside the node (where it builds)", "the profile's schema:, where dbt builds"]
    said: dict[str, str] = {}
    for i, (_, schema) in enumerate(tried):
        said.setdefault(schema.lower(), f"schema {schema} ({kinds[0] if i == 0 and (node or node_target()) else kinds[1]})")
    main = "" if "main" in said else " nor in main"
    return f"no table or view in {' nor in '.join(said.values())}{main}"


def train_in_dbt(name: str) -> str:
    """How to train model ``name`` from a dbt project, for a model not stored: a dbt node's author holds no ``con``
    for ``ad_duckdb.train(con, ...)``, and trains in a Python model (a training model) that dbt builds."""
    return (f"a dbt Python model (a training model, e.g. models/{name}_model.py) whose model(dbt, session) returns "
            f"ad_duckdb.dbt.train_model(session, {name!r}, dbt.ref('<table>'), features=[...]), built with "
            "`dbt build -s <training model>`")
