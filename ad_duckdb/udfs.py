"""``register(con)``: the SQL functions, one registration path for Python, the CLI, dbt and the server.

DuckDB shares Python functions across every connection of one database instance, so the state
behind them (which models and versions are known) is one ``Registry`` per instance. The functions
never query the database while they run: what a connection knows is loaded when it registers,
when it trains, and on ``refresh(con)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from . import modelnames, store
from .connarg import check_connection
from .exceptions import BadInputError
from .scoring import LoadedModel
from .udfowners import _LOCK, _REGISTRIES, _create_functions, _install, _registry_for, _remove_functions, _retire, _track
from .udfregistry import Registry

_COUNTER = itertools.count(1)


def register(
    con: duckdb.DuckDBPyConnection,
    *,
    models: Iterable[str] | None = None,
    replace: bool = False,
    check_order: bool | None = None,
) -> duckdb.DuckDBPyConnection:
    """Register the SQL functions on ``con`` (and every connection of its database). Idempotent.

    Parameters
    ----------
    con
        A DuckDB connection; may hold no model yet, and may be read-only.
    models
        Restrict the functions to these stored model names and/or paths of ``.onnx`` files
        exported by ad_duckdb (loaded into memory, not stored; an entry ending in ``.onnx`` is a file,
        as no model name may end so). Default: every stored model.
    replace
        Re-create the functions even if they exist with these ``models=`` (e.g. after a file they read was
        exported again); a ``models=`` list other than the registered one re-creates them anyway.
    check_order
        ``False`` turns off the wrong-argument-order check for this database (every connection of it):
        a 2048-row batch that scores as extreme outliers but as normal with two arguments swapped is
        otherwise refused. Turn it off when the rows themselves have those columns swapped (for example a
        query selecting them on purpose). ``None`` (default) keeps the current setting (on at first).
    """
    return _register(con, models, replace, check_order, later=False)


def register_for_run(con: duckdb.DuckDBPyConnection, models: Iterable[str] | None, check_order: bool | None
                     ) -> duckdb.DuckDBPyConnection:
    """``register``, keeping names of ``models`` not stored yet: the dbt plugin registers when dbt connects, before
    the run's own nodes may train them; each is loaded once trained, as every model is without ``models``."""
    return _register(con, models, False, check_order, later=True)


def _register(con: duckdb.DuckDBPyConnection, models: Iterable[str] | None, replace: bool, check_order: bool | None,
              *, later: bool) -> duckdb.DuckDBPyConnection:
    con = check_connection(con, "register")
    cur = con.cursor()
    try:
        names: list[str] | None = None
        files: list[str] = []
        if models is not None:
            if isinstance(models, str):
                models = [models]
            names = []
            for m in models:
                (files if modelnames.is_model_file(str(m)) else names).append(str(m))
            pinned = [n for n in names if "@" in n]
            if pinned:
                # the functions load a name's versions together; SQL pins a version per call
                raise BadInputError(
                    f"register(models=...) takes model names, not versions; got {pinned}. Pass "
                    f"{sorted({n.split('@')[0] for n in pinned})} and pin the version in SQL: "
                    f"anomaly_score('{pinned[0]}', ...)."
                )
            stored = store.known_models(cur)
            unknown = [n for n in names if n not in stored]
            if unknown and not later:
                raise BadInputError(
                    f"register(models=...) names model(s) not stored in this database: {unknown}; stored models: "
                    f"{', '.join(sorted(stored)) or 'none yet'}. Train them first, or pass exported .onnx files."
                )
        with _LOCK:
            existing = _registry_for(cur, own_cursor=True)
            # Why a models= list unlike the registered one re-creates the functions: ad_duckdb.connect() has
            # registered every stored model, so register(con, models=[file]) after it loaded nothing, and a query
            # of the file's model was told to train one.
            same = models is None or (existing is not None and existing.asked_for(names or [], files))
            if existing is not None and not replace and same:
                if check_order is not None:
                    existing.check_order = check_order
                existing.refresh(cur)
                _track(existing, con, cur)
                return con
            token = f"r{next(_COUNTER)}-{id(con)}"
            reg = Registry(token, names if models is not None else None)
            if check_order is not None:
                reg.check_order = check_order
            elif existing is not None:
                reg.check_order = existing.check_order
            for path in files:
                from .onnxfile import read_file

                reg.files.append(LoadedModel(read_file(Path(path))))
                reg.file_paths[path] = reg.files[-1].name
            reg.refresh(cur)
            _refuse_mixed_versions(files, reg, names or [])
            hold = reg.hold
            if existing is not None:
                hold = reg.hold = existing.hold
                _remove_functions(hold.owner or con, "re-register the anomaly functions (register(con, replace=True))")
                _REGISTRIES.pop(existing.token, None)
                _retire(existing)
                # the removed functions, kept for queries still running them, now serve the new models
                reg.slot = existing.slot
                reg.slot.reg = reg
            _REGISTRIES[token] = reg
            if hold.own_conn is not None:
                _create_functions(hold.own_conn, reg)
                hold.owner = hold.own_conn
            else:
                hold.owner = _install(con, reg)
            hold.token = token
            _track(reg, con, cur)
    finally:
        cur.close()
    return con


def _refuse_mixed_versions(paths: list[str], reg: Registry, names: list[str]) -> None:
    """Refuse a ``models=`` list whose files share a model name with a listed stored name (unless the file is a
    stored version's own export), or a version (of other bytes) with each other. Why: version numbers start again
    in each database, so the stored tx_ae@1 silently won over a file's tx_ae@1 (whose scores were never used), and
    a file of a higher version took 'tx_ae' beside them."""
    seen: dict[str, tuple[str, str]] = {}
    for path, lm in zip(paths, reg.files, strict=True):
        stored = reg.by_ref.get(lm.ref)  # the stored version of that ref wins there (Registry.refresh)
        if lm.name in names and (stored is lm or stored is None or stored.rec.sha256 != lm.rec.sha256):
            raise BadInputError(
                f"register(models=...) or the dbt plugin's 'models': {lm.name!r} is both a stored model named in "
                f"models= and the model of {path!r} (exported as {lm.ref}); their versions would mix under one "
                "name. Import the file under another name (ad-duckdb import DB FILE --name NEW_NAME) and list that "
                "name, or list only one of them."
            )
        first, sha = seen.setdefault(lm.ref, (path, lm.rec.sha256))
        if sha != lm.rec.sha256:
            raise BadInputError(
                f"register(models=...) or the dbt plugin's 'models': {first!r} and {path!r} both hold {lm.ref}, "
                "other models (exported from other databases); SQL could reach only one. List one of them, or "
                "import one under another name (ad-duckdb import DB FILE --name NEW_NAME) and list that name."
            )


def refresh(con: duckdb.DuckDBPyConnection, *, changed_only: bool = False) -> None:
    """Make the SQL functions see models trained, imported or dropped since they were registered. ``changed_only``
    (after a write of ad_duckdb's own: a training, a drop, a threshold set): read only the versions stored or changed
    since (``Registry.refresh``)."""
    con = check_connection(con, "refresh")
    cur = con.cursor()
    try:
        reg = _registry_for(cur, own_cursor=True)
        if reg is None:
            cur.close()
            register(con)
            return
        reg.refresh(cur, changed_only=changed_only)
    finally:
        cur.close()


def refresh_if_changed(cur: Any) -> None:
    """``refresh`` when the store changed since the functions loaded it; a few cheap queries when it did not.

    For the dbt plugin, at each node's cursor: a hook or a macro writes ``ad_thresholds`` or ``ad_models`` with SQL
    (no Python at hand there), and the nodes after it must score with what it committed, not with what was stored
    when dbt connected."""
    reg = _registry_for(cur)
    if reg is None:
        return
    reg.refresh(cur, if_changed=True)


def volatile_store(con: Any) -> str:
    """Why a model stored through ``con`` would be lost (``Registry.volatile_store``); "" when it would not, or when no
    functions are registered (nothing registers them just to ask)."""
    cur = con.cursor()
    try:
        reg = _registry_for(cur, own_cursor=True)
    finally:
        cur.close()
    return reg.volatile_store if reg is not None else ""


def dbt_target(con: Any) -> tuple[str | None, str | None] | None:
    """The dbt target's (database, schema) when ``con`` is a dbt run's connection (``Registry.dbt_target``), else None
    (nothing registers the functions just to ask)."""
    cur = con.cursor()
    try:
        reg = _registry_for(cur, own_cursor=True)
    finally:
        cur.close()
    return reg.dbt_target if reg is not None else None


def loaded_models() -> list[LoadedModel]:
    """Every registry's loaded models (``servenotes.said_again``)."""
    return [lm for reg in list(_REGISTRIES.values()) for lm in [*reg.by_ref.values(), *reg.files]]


def registry(con: duckdb.DuckDBPyConnection) -> Registry:
    """The registry behind ``con``'s functions, registering them first if needed."""
    cur = con.cursor()
    try:
        reg = _registry_for(cur, own_cursor=True)
    finally:
        cur.close()
    if reg is None:
        register(con)
        return registry(con)
    return reg
