"""dbt-duckdb plugin: the ad_duckdb SQL functions in every dbt model, test and hook.

Add it to a dbt-duckdb profile::

    my_project:
      target: dev
      outputs:
        dev:
          type: duckdb
          path: warehouse.duckdb
          threads: 4
          plugins:
            - module: ad_duckdb.dbt
              # optional: only these stored models and/or exported .onnx files
              # config: {models: [tx_ae, models/fraud_ae.onnx]}

Why the functions live on dbt-duckdb's parent connection: dbt-duckdb opens one DuckDB connection per
run (``configure_connection`` is called on it once) and hands each dbt thread a *cursor* of it. Cursors
share the database instance, so functions created on the parent are visible to every thread; and the
parent stays open until dbt closes the whole environment (closing it also closes every cursor), so the
Python functions are never called after their owner is gone. Registering on a cursor instead would be
unsafe: dbt closes cursors as threads finish, and DuckDB frees a Python function with the connection
that created it.

The scoring side never imports torch: a dbt run that only scores needs duckdb, pyarrow, numpy and
onnxruntime. A dbt Python model may call ``ad_duckdb.train(session, ...)`` (needs the ``train`` extra);
the model it stores is visible to every later node of the same run.

The plugin also creates ``store_anomaly_threshold``, which the macro ``ad_duckdb_set_threshold`` (the dbt package
in ad_duckdb/dbt_package, see dbtpackage; a copy in examples/dbt_project/macros) calls to store a threshold from a
hook or ``dbt run-operation`` (see dbtthreshold).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from duckdb import DuckDBPyConnection

from . import modelnames, store, storetables
from .closenames import close_names
from .dbtattached import attached_models
from .dbtcalls import create_calls_function
from .dbtnodes import failing_unit_tests, follow_nodes
from .dbtnotes import relay_notes
from .dbtorder import create_order_function
from .dbtrun import (
    RUN_OPERATION_HINT,
    RUN_OPERATION_VERSION_HINT,
    empty_run,
    in_schema,
    portable_source,
    run_operation,
    train_in_dbt,
)
from .dbtrunstart import create_run_start_function
from .dbtthreshold import create_threshold_function
from .exceptions import AdDuckDBError, MissingDependencyError
from .optionwords import without_cli
from .udfs import refresh_if_changed, register_for_run, registry, volatile_store

try:
    from dbt.adapters.duckdb.plugins import BasePlugin
    from dbt.adapters.events.logging import AdapterLogger
    from dbt_common.exceptions import DbtRuntimeError
except ImportError as e:  # pragma: no cover - the dbt extra is installed wherever this module is used
    raise MissingDependencyError(
        f"ad_duckdb.dbt is a dbt-duckdb plugin and needs dbt-duckdb: pip install 'ad_duckdb[dbt]' ({e})."
    ) from e

__all__ = ["Plugin", "train_model"]

_OPTIONS = ("models", "check_order")


def _fail(message: str) -> DbtRuntimeError:
    # dbt prints a DbtRuntimeError as "Runtime Error\n  <message>", without a Python traceback.
    return DbtRuntimeError(f"ad_duckdb dbt plugin (module: ad_duckdb.dbt): {message}")


class Plugin(BasePlugin):
    """Registers ``anomaly_score``, ``is_anomaly``, ... on the connection dbt-duckdb opens.

    Plugin ``config`` keys:

    ``models``
        A model name, comma-separated names (``tx_ae, fraud_ae``, as ``env_var`` renders a list), or a list of
        model names and/or paths of ``.onnx`` files written by
        ``ad_duckdb.export_model`` / ``ad-duckdb export`` (an entry ending in ``.onnx`` is a file, as no model
        name may end so; relative paths are read from the directory dbt runs in). A name not stored yet is kept
        for a model the run trains, unless it is close to a stored name (a typo, refused). Default: every model
        stored in the target database's ``ad_models`` table, including models trained later in the same run.

    ``check_order``
        ``false`` turns off the SQL functions' wrong-argument-order check (see ``ad_duckdb.register``), for
        models that select rows whose columns are swapped on purpose. Default ``true``.
    """

    models: list[str] | None
    check_order: bool = True
    # whether the run's ATTACHed databases were looked at for models (dbt-duckdb attaches after configure_connection)
    _attached_seen: bool = False

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        # dbt-duckdb merges the profile's `settings:` (DuckDB options such as memory_limit) into every
        # plugin's config, so only keys that are neither ours nor settings are mistakes.
        settings = set((self.creds.settings or {}) if self.creds is not None else {})
        unknown = sorted(k for k in plugin_config if k not in _OPTIONS and k not in settings)
        if unknown:
            raise _fail(
                f"unknown config key(s) {', '.join(map(repr, unknown))}; the options are 'models' "
                "(a list of model names or .onnx file paths), e.g. config: {models: [tx_ae]}, and "
                "'check_order' (true or false)."
            )
        check = plugin_config.get("check_order", True)
        if isinstance(check, str) and check.strip().lower() in ("true", "false"):
            # Why: a profile value such as "{{ env_var('AD_CHECK_ORDER', 'true') }}" reaches the plugin as text
            check = check.strip().lower() == "true"
        if not isinstance(check, bool):
            raise _fail(f"config 'check_order' must be true or false; got {check!r}.")
        self.check_order = check
        models = plugin_config.get("models")
        if models is None:
            self.models = None
            return
        if isinstance(models, str):
            # Why split: "{{ env_var('AD_MODELS') }}" or YAML `models: tx_ae, fraud_ae` arrives as one text, and no
            # model name may hold a comma (modelnames.valid_name); a file path that does must be given in a list
            models = [m.strip() for m in models.split(",") if m.strip()]
        if not isinstance(models, list) or not models or not all(isinstance(m, str) and m for m in models):
            raise _fail(
                f"config 'models' must be a non-empty list of model names or .onnx paths (or one text of them, "
                f"comma-separated); got {plugin_config.get('models')!r}. "
                "Example: config: {models: [tx_ae, exported/fraud_ae.onnx]}. Leave it out to load every stored model."
            )
        pinned = [m for m in models if not modelnames.is_model_file(m) and "@" in m]
        if pinned:
            # Why refuse: the functions load a name's versions together, so 'tx_ae@7' here could neither pin
            # version 7 nor be checked; SQL pins a version per call.
            raise _fail(
                f"config 'models' lists model names, not versions; got {', '.join(map(repr, pinned))}. List "
                f"{', '.join(repr(m.split('@')[0]) for m in pinned)} and pin the version in SQL, e.g. "
                f"anomaly_score('{pinned[0]}', ...), or per run, name it with a var: anomaly_score('{{{{ var(\"ad_model_ref\", "
                f"\"{pinned[0].split('@')[0]}\") }}}}', ...) and dbt build --vars '{{ad_model_ref: {pinned[0]}}}'."
            )
        self.models = list(models)

    def _resolved_models(self, conn: DuckDBPyConnection) -> list[str] | None:
        """The configured models, checked: every file present (absolute paths), no name a likely typo of a stored one.

        A name not stored yet is kept, as the run's own nodes may train it (a first build in CI, on a fresh
        database); the functions load it once trained, and a call before that says to ref() the training model.
        Only a name close to a stored one (``tx_ea`` beside ``tx_ae``) is refused, where it reads as a typo."""
        if self.models is None:
            return None
        files = [m for m in self.models if modelnames.is_model_file(m)]
        names = [m for m in self.models if not modelnames.is_model_file(m)]
        out: list[str] = []
        for f in files:
            p = Path(f).expanduser().resolve()
            if not p.is_file():
                raise _fail(
                    f"model file {f!r} (looked for {str(p)!r}) does not exist. Write it with "
                    "`ad-duckdb export DB MODEL FILE`, or fix the path in the profile's plugin config."
                )
            out.append(str(p))
        if names:
            cur = conn.cursor()
            try:
                known = store.known_models(cur)
            finally:
                cur.close()
            missing = [n for n in names if modelnames.parse_ref(n)[0] not in known]
            typos = [(n, close) for n in missing if (close := close_names(n, list(known)))]
            if typos:
                listing = ", ".join(repr(k) for k in sorted(known))
                guesses = "; ".join(f"{' or '.join(map(repr, close))} for {n!r}" for n, close in typos)
                raise _fail(
                    f"no model {', '.join(repr(n) for n, _ in typos)} in table ad_models of this database; "
                    f"known models: {listing}. Did you mean {guesses}? Fix the profile's plugin config 'models'. "
                    "(A name like no stored one is kept for a model the run trains; one this close to a stored name "
                    "is taken for a typo: name the new model further from it, or drop 'models' to load every "
                    "stored model, including ones trained during the run.)"
                )
            out.extend(names)
        return out

    def _store_location(self, conn: DuckDBPyConnection) -> tuple[str, str]:
        """Where the functions read models from, when that is not dbt's target database: the hint a model not found
        adds, and why training would lose its model ("" when it would not).

        ad_duckdb keeps its tables in the main schema of the connection's own database, the file at ``path:``; a
        profile whose target is an attached database (``database: wh``) builds its tables elsewhere. With an
        in-memory ``path:``, a model trained in the run would be gone when dbt closes the connection."""
        target = getattr(self.creds, "database", None)
        cur = conn.cursor()
        try:
            own, path = cur.execute("SELECT database_name, path FROM duckdb_databases() "
                                    "WHERE database_name = current_database()").fetchall()[0]
        finally:
            cur.close()
        if self.creds is None or not target or target == own:
            return "", ""
        shown = self.creds.path
        if path:
            return (f" The functions read models from the main schema of the database at the profile's path: "
                    f"({shown!r}), not from the target database {target!r}: train there (ad-duckdb train {shown} ...), "
                    "or import the model into it."), ""
        entry = next((a for a in self.creds.attach or [] if a.alias == target), None)
        # Why only a plain DuckDB file: a DuckLake, PostgreSQL or MotherDuck target (a type, or a scheme such as
        # ducklake:) is no file to open as path:, and a models file of its own is the way there
        plain = entry is not None and entry.type in (None, "duckdb") and not entry.is_ducklake \
            and not re.match(r"[A-Za-z][\w+.-]+:", entry.path)
        fix = (f"set path: {entry.path} (the file attached as {target!r}; then drop that attach entry and database:), "
               "or " if entry is not None and plain else "")
        fix += ("give the models a file of their own, path: models.duckdb, keeping the attach (a dbt source "
                "reads them with database: models, schema: main).")
        return (f" The functions read models from the main schema of the database at the profile's path: ({shown!r}), "
                f"not from the target database {target!r}; that one is in memory and holds no model at the start of a "
                f"run: {fix}",
                f"the profile's path: is {shown!r} and its target database is {target!r}, but ad_duckdb stores models "
                f"in the main schema of the database at path:, an in-memory one here, so the model would be gone when "
                f"the run ends while the tables that name it stay in {target!r}. To keep it, {fix}")

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        self._attached_seen = False
        relay_notes()
        try:
            register_for_run(conn, self._resolved_models(conn), self.check_order)
            # the macro ad_duckdb_set_threshold's way to set_threshold (macros, hooks and run-operation speak SQL)
            create_threshold_function(conn)
            create_calls_function(conn)  # the macro check_calls': a view's calls checked as it is built
            create_order_function(conn)  # the package's on-run-start: scoring nodes after their training
            create_run_start_function(conn)  # and (a newer package's) views' calls, before any node runs
            # Why: dbt orders nodes only by ref(), so a test that names a model ('tx_ae') without a ref to its
            # training model can run before the training, on a first build; the plain message says to train one.
            reg = registry(conn)
            reg.train_with = train_in_dbt
            in_nodes = (
                " In a dbt run, a model or test that names a model trained in the same run must run after its "
                "training model: select model_ref from it, or add `-- depends_on: {{ ref('<training model>') }}`."
            )
            # Why not the hint above: a dropped version is never trained again (numbers are not reused), so a
            # training model's table that still names one is stale, however the nodes are ordered; and why "if": the
            # function cannot tell a model_ref column from 'ae@1' written in the node's SQL, which no rebuild fixes
            reg.dropped_hint = (
                " In a dbt run, if it comes from a table (a training model's model_ref), that table was built before "
                "the drop: rebuild it, e.g. `dbt build --select <training model>+`; if the node's SQL names it, pin a "
                "stored version there."
            )
            where, reg.volatile_store = self._store_location(conn)
            if self.creds is not None:
                reg.dbt_target = (getattr(self.creds, "database", None), getattr(self.creds, "schema", None))
            # Why only while a unit test runs: the paragraph is about unit tests' mocked inputs, and a plain `dbt run`
            # (which runs none) added it to every model not found
            follow_nodes()
            unit_hint = _unit_test_hint(empty_run())
            reg.not_found_now = lambda stored: (
                (RUN_OPERATION_VERSION_HINT if stored else RUN_OPERATION_HINT) if run_operation() else in_nodes
            ) + where + \
                _unit_test_paragraph(unit_hint, *failing_unit_tests())
            reg.not_found_hint = ""  # all of it said at the miss (not_found_now): a run-operation's differs
            # Why reload on a miss: dbt-duckdb gives the plugin each node's cursor before the node's hooks run, so a
            # threshold a pre_hook with transaction: false commits was not seen by its own model; one stored by a
            # pre_hook in the model's transaction is not committed, and no other cursor can read it, so the message
            # says where to store it (it said to add the threshold the hook had just added); the macro stores through a
            # cursor of its own, committed before the node's SQL runs
            reg.on_missing_threshold(
                " In a dbt run, a threshold stored by the node's own pre_hook inside its transaction (the default) is "
                "not seen by that node: store it with the macro ad_duckdb_set_threshold (in the dbt package ad_duckdb, "
                "whose folder `ad-duckdb dbt-package` prints for packages.yml: pre_hook=\"{{ ad_duckdb.set_threshold("
                "'tx_ae', 'cut', 'manual', value=3.5) }}\"; or copied from the example project's "
                "macros/ad_duckdb_set_threshold.sql), which commits it at once; or give the hook transaction: false (pre_hook: {sql: "
                "\"insert ...\", transaction: false}), or store it in on-run-start or in an earlier node this one runs "
                "after (ref() it, or add `-- depends_on: {{ ref('<that node>') }}`).",
                lambda: _reload(conn),
            )
            # Why: dbt opened the file for this run and holds its write lock, so no other process stores a model
            # meanwhile; advice to refresh the connection (or SIGHUP a server) is no fix a dbt model can apply
            reg.opened_afresh = True
        except DbtRuntimeError:
            raise
        except AdDuckDBError as e:
            raise _fail(str(e)) from e

    def configure_cursor(self, cursor: DuckDBPyConnection) -> None:
        # dbt-duckdb calls this for each node's cursor. Why reload here: an on-run-start hook, or an earlier node's
        # hook, may have stored a threshold or dropped a version with SQL since dbt connected; the functions then
        # failed ("no threshold 'cut'") or, worse, used the value a previous run had stored.
        refresh_if_changed(cursor)
        if not self._attached_seen:
            self._attached_seen = True
            registry(cursor).elsewhere = attached_models(cursor, self.creds.path if self.creds is not None else None)


def _reload(conn: DuckDBPyConnection) -> None:
    """Load the store again if it changed, through a cursor of dbt's connection (which stays open for the run)."""
    cur = conn.cursor()
    try:
        refresh_if_changed(cur)
    finally:
        cur.close()


def _unit_test_hint(empty: bool) -> str:
    """What a model not stored means in a dbt unit test: the test mocks the model's inputs, but its SQL still calls
    the functions, which need the model stored; in ``dbt build --empty`` no training model stores one."""
    when = (" This is a `dbt build --empty` run: its training model stores no model, so on a new database nothing "
            "is stored for a dbt unit test to use." if empty else "")
    return (" A dbt unit test (unit_tests:) mocks the model's inputs, but its SQL still calls the function, which "
            f"needs the model stored.{when} In a unit test, list under expect: only columns the functions do not "
            "compute (dbt selects only those, so the function is not called, unless the model filters or joins on "
            "a score), and test the logic on the scores in the models downstream, mocking the score table's rows; "
            "or store the model first (a run without --empty of the training model, or `ad-duckdb train`).")


def _unit_test_paragraph(hint: str, certain: bool, unit_tests: list[str]) -> str:
    """``hint`` for a model not found in a unit test (``dbtnodes.failing_unit_tests``): as is when the failing node
    surely is one, as a condition naming them when another node runs beside them (threads), none when it is none."""
    if not unit_tests:
        return ""
    if certain:
        return hint
    # Why "if": with several threads the function may have been called by an ordinary model running beside the unit
    # test, and cannot tell; a model's author then read advice about mocked inputs as the cause
    return (f" If the failing node is the dbt unit test{'s' if len(unit_tests) > 1 else ''} running at the time "
            f"({', '.join(unit_tests)}; another node ran beside it, and the function cannot tell which called it):"
            + hint)


def _check_registered(session: Any, name: str) -> None:
    """Refuse to train in a dbt run without the plugin: the functions would land on a short-lived cursor."""
    cur = session.cursor()
    try:
        q = "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'anomaly_score'"
        n = cur.execute(q).fetchall()[0][0]
    finally:
        cur.close()
    if not n:
        raise _fail(
            f"training model {name!r} in a dbt run needs the plugin in profiles.yml, under the output: "
            "`plugins: [{module: ad_duckdb.dbt}]`. Without it the SQL functions would belong to one dbt thread's "
            "cursor, which dbt closes while later models still call them."
        )


def _check_loaded(session: Any, name: str) -> None:
    """Refuse to train a model the profile's plugin config ``models`` leaves out: the run's SQL functions would not
    load it, so it stored a version and every node scoring with it failed after the training (a wasted run)."""
    listed = registry(session).names
    if listed is None or name in listed:
        return
    shown = ", ".join(listed)
    raise _fail(
        f"training model {name!r}: the profile's plugin config 'models' lists {shown or 'no stored model name'}, so the SQL "
        f"functions of this run would not load {name!r} once trained, and every node scoring with it would fail. "
        f"Add it there, config: {{models: [{', '.join([*listed, name])}]}}, or leave 'models' out to load every "
        "stored model."
    )


def _retrain_flag(name: str, retrain: object) -> bool:
    """``retrain`` as a bool; dbt renders config values such as ``"{{ var('ad_retrain') }}"`` as text ('False')."""
    if isinstance(retrain, bool):
        return retrain
    text = retrain.strip().lower() if isinstance(retrain, str) else None
    if text in ("true", "false"):
        return text == "true"
    # Why refuse rather than take truthiness: the text 'False' is truthy, so it silently stored a new version each run.
    # None is what dbt.config.get gives for a key the model's config does not set: say so, with the default to add.
    unset = (" (dbt.config.get returns None for a config key that is not set: give it a default, "
             "dbt.config.get('retrain', True))" if retrain is None else "")
    raise _fail(
        f"training model {name!r}: retrain= must be true or false (a bool, or the text 'true'/'false' dbt renders); "
        f"got {retrain!r}{unset}. Pass e.g. retrain=dbt.config.get('retrain') with config retrain: \"{{{{ "
        "var('ad_retrain', true) }}\"."
    )


# The options that are lists of sizes (a dbt config renders them as text, "32,16" or "[32, 16]")
_SIZE_LISTS = ("code_sizes", "hidden_dims")


def _text_option_hint(message: str, params: dict[str, Any]) -> str:
    """Why a refused option is text or None, when it is: dbt renders a config value such as ``"{{ var('n') }}"`` as a
    string, and ``dbt.config.get`` returns None for a key the model's config does not set (a misspelt key)."""
    for key, value in params.items():
        if f"The {key!r} parameter" not in message:
            continue
        if value is None:
            return (" dbt.config.get returns None for a config key the model's config does not set: check the key's "
                    f"spelling in its config (.yml or dbt.config(...)), or leave {key}= out to use its default.")
        if not isinstance(value, str):
            continue
        if key in _SIZE_LISTS and value.strip("[] ").replace(",", "").replace(" ", "").isdigit():
            return (f" dbt renders config values as text: convert it in the Python model, e.g. {key}=[int(n) for n "
                    f"in dbt.config.get({key!r}).strip('[]').split(',')].")
        if value.strip().lstrip("+-").isdigit():
            convert = "int"
        else:
            try:
                float(value)
            except ValueError:
                return ""  # not a number as text: the refusal says what the option takes
            convert = "float"
        return (f" dbt renders config values as text: convert it in the Python model, e.g. "
                f"{key}={convert}(dbt.config.get({key!r})).")
    return ""


def _text_features_hint(features: object) -> str:
    """Why ``features`` was taken for one column, when it holds several names as one text (as dbt renders a list)."""
    if not isinstance(features, str) or not any(c in features for c in ",[]"):
        return ""
    names = [n.strip().strip("'\"") for n in features.strip("[] ").split(",") if n.strip().strip("'\"")]
    return (f" features= is one text (dbt renders config values as text): pass a list of column names, e.g. "
            f"features={names!r}.")


def train_model(
    session: Any,
    name: str,
    source: Any,
    *,
    features: Sequence[str] | None = None,
    where: str | None = None,
    retrain: bool | str = True,
    **params: Any,
) -> Any:
    """Train (or reuse) model ``name`` from a dbt Python model; returns a one-row pyarrow Table describing it.

    Use it as the body of a dbt Python model, so the models that score can ``ref()`` it and dbt runs them
    after training::

        def model(dbt, session):
            from ad_duckdb.dbt import train_model
            return train_model(session, "tx_ae", dbt.ref("stg_transactions"),
                               features=["count", "amount"], max_steps=500)

    ``source`` is a table name, a query, or the relation ``dbt.ref(...)`` returns. With ``retrain=False``
    (or the text ``'false'``, as a dbt config value renders) the latest stored version is reused when there is
    one, unless the ``features``, ``code_sizes``, ``hidden_dims`` or ``n_models`` given differ from its own. The table has the
    columns ``model``, ``version``, ``model_ref`` (``'name@N'``, to pin scoring to this version), ``features``,
    ``train_rows``, ``default_threshold``, ``train_seconds`` and ``trained``.
    In a ``dbt build --empty`` it trains nothing and returns that table with no row.
    """
    from .models import load_model
    from .training import train

    _check_registered(session, name)
    if name is None:
        # Why: name = dbt.config.get('ad_model') is None when the model's config does not set that key (misspelt);
        # the store's "Model name None is not valid" sent the user to the naming rules instead
        raise _fail(
            "training model: name= is None (dbt.config.get returns None for a config key the model's config does "
            "not set: check the key's spelling in its config (.yml or dbt.config(...)), or pass the name, e.g. "
            "train_model(session, 'tx_ae', ...))."
        )
    retrain = _retrain_flag(name, retrain)
    lost = volatile_store(session)
    if lost:
        raise _fail(f"training model {name!r}: {lost}")
    _check_loaded(session, name)
    if empty_run():
        # Why: `dbt build --empty` builds SQL models with no rows to check their schemas; a training model then had
        # no rows to learn from (or stored a new version from a dry run). Its table keeps its columns, with no row,
        # and the store's tables exist, as after a real run, for models and tests that read them as a dbt source.
        cur = session.cursor()
        try:
            storetables.ensure_schema(cur)
        finally:
            cur.close()
        # Why said: a build that stored no version looked like one that trained, until a later node found no model
        AdapterLogger("ad_duckdb").info(
            f"training model {name!r} skipped: this is a `dbt build --empty` run, whose refs and sources "
            "read no rows; its table gets no row and no version is stored.")
        return _describe(name, [], [], [], [], [], [], [])
    # A dbt relation (DuckDBPyRelation) carries the query that reads the referenced table.
    if not isinstance(source, str) and not hasattr(source, "sql_query"):
        # Why refuse: str() of a DataFrame (dbt.ref(...).df()) is its printout, which was then looked up as a table
        kind = f"{type(source).__name__} ({type(source).__module__})"
        raise _fail(
            f"training model {name!r}: source= is a {kind}, not a table: pass the relation dbt.ref(...) returns "
            "(filter its rows with where=, or in a SQL model to ref), a table name or a SELECT query."
        )
    try:
        cur = session.cursor()
        try:
            known = store.known_models(cur)
            # the relation as a name that outlives the file's (dbtrun.portable_source); a bare name as dbt means it
            src = portable_source(cur, source.sql_query()) if hasattr(source, "sql_query") else \
                in_schema(cur, source, registry(session).dbt_target)
        finally:
            cur.close()
        rec = load_model(session, name) if not retrain and name in known else None
        if rec is not None and features is not None and \
                [f.lower() for f in features] != [f.lower() for f in rec.feature_names]:
            # retrain=False keeps a model only for the features asked for; scoring other columns with it would
            # give wrong scores and no error
            rec = None
        if rec is not None and _asks_other_members(params, rec.params or {}):
            rec = None  # likewise for the network: code_sizes, hidden_dims or n_models asked for must not be a no-op
        if rec is not None:
            version, feats, rows = rec.version, rec.feature_names, rec.train_rows
            th = {t.name: float(t.value) for t in rec.thresholds}
            seconds, trained = rec.metrics.get("train_seconds"), False
        else:
            params.setdefault("progress", False)
            info = train(session, name, src, features=features, where=where, **params)
            version, feats, rows, th = info.version, info.features, info.train_rows, info.thresholds
            seconds, trained = info.metrics.get("train_seconds"), True
    except AdDuckDBError as e:
        # without_cli: train_model's keywords are the user's words here; a dbt run has no `ad-duckdb` flag to pass
        message, listed = without_cli(str(e)), _text_features_hint(features)
        if listed:  # Why: the same fix as train's own "one name per entry" sentence, with dbt's reason, said once
            message = re.sub(r" features= takes one name per entry: features=\[[^\]]*\]\.", "", message)
        # Why from None: dbt-duckdb prints a failed Python model with its chained causes, so the internal frames and
        # the same message came twice; the message names the model, the mistake and the fix on its own
        raise _fail(f"training model {name!r} failed: {message}{_text_option_hint(message, params)}{listed}") from None
    return _describe(name, [version], [f"{name}@{version}"], [", ".join(feats)], [rows], [th.get("default")],
                     [seconds], [trained])


def _asks_other_members(params: dict[str, Any], stored: dict[str, Any]) -> bool:
    """Whether ``code_sizes``, ``hidden_dims``, ``n_models`` or ``latent_dim``, where given, differ from the stored
    version's ``params``: what the model is made of, as its features are (a training budget such as max_steps is not,
    and reuses it). The stored ``hidden_dims`` and ``latent_dim`` are the sizes trained, given or chosen."""
    for key in (*_SIZE_LISTS, "n_models", "latent_dim"):
        if params.get(key) is None:
            continue
        given = params[key]
        try:
            asked: Any = [int(n) for n in given] if key in _SIZE_LISTS else int(given)
        except (TypeError, ValueError):
            return True  # not a value train takes: training refuses it with the fix
        if asked != stored.get(key):
            return True
    return False


def _describe(name: str, versions: list[int], refs: list[str], features: list[str], rows: list[int | None],
              thresholds: list[float | None], seconds: list[float | None], trained: list[bool]) -> Any:
    """train_model's table, one row per version described (none in a ``dbt build --empty``)."""
    import pyarrow as pa

    return pa.table({
        "model": pa.array([name] * len(versions), pa.string()), "version": pa.array(versions, pa.int64()),
        "model_ref": pa.array(refs, pa.string()), "features": pa.array(features, pa.string()),
        "train_rows": pa.array(rows, pa.int64()), "default_threshold": pa.array(thresholds, pa.float64()),
        "train_seconds": pa.array(seconds, pa.float64()), "trained": pa.array(trained, pa.bool_()),
    })
