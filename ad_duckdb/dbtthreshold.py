"""``store_anomaly_threshold(model, name, method, options)``: ``ad_duckdb.set_threshold`` from SQL in a dbt run.

dbt's macros, hooks and ``dbt run-operation`` speak SQL only, and thresholds were stored from dbt by a Python model
or by an INSERT into ad_thresholds (no goal on labelled rows, no alarm rate). The dbt plugin creates this function on
dbt's connection; the macro ``ad_duckdb_set_threshold`` (the dbt package ad_duckdb/dbt_package) calls it with its keyword
arguments as one JSON object. It stores through a cursor of its own, so the threshold is committed at once, whatever
transaction the calling node holds: the node itself (its pre_hook stored it) and every later node see it.
"""

from __future__ import annotations

import copy
import json
import math
import warnings
from pathlib import Path
from typing import Any

import duckdb
from duckdb import DuckDBPyConnection
from duckdb.func import FunctionNullHandling, PythonUDFType
from duckdb.sqltypes import VARCHAR

from . import dbtpackage, optionwords, pysource
from .dbtrun import in_schema, missing_bare, portable_source
from .exceptions import AdDuckDBError, OptionError
from .samesource import same_source
from .sqltext import quote_literal

FUNCTION = "store_anomaly_threshold"
# set_threshold's keyword arguments a method may take (progress is not: a dbt run has no terminal line to redraw)
OPTIONS = ("value", "target", "source", "label", "where", "confident", "miss_cost", "alarm_cost", "anomaly_share",
           "rate", "per_hour", "per_day", "per_week", "time", "weight", "sampled", "series", "tz", "timestamps_in")
# the names the macro may say it was called by (its option called_as): the package's, and a copy's bare name
MACRO_NAMES = ("ad_duckdb.set_threshold", "ad_duckdb_set_threshold")


def create_threshold_function(conn: DuckDBPyConnection) -> None:
    """Create ``store_anomaly_threshold`` on ``conn``, dbt's connection for the run (every node's cursor sees it)."""

    def store_threshold(model: str | None, name: str | None, method: str | None, options: str | None) -> str:
        return json.dumps(_in_macro_words(conn, model, name, method, options))

    try:  # configured again (a second configure_connection on the connection): the new closure replaces the old
        conn.remove_function(FUNCTION)
    except duckdb.InvalidInputException:
        pass
    # Why side effects: DuckDB would otherwise fold a call of constants once and could reuse it; special NULLs: the
    # default gives NULL for a NULL argument without calling, which stored nothing and said nothing
    conn.create_function(FUNCTION, store_threshold, [VARCHAR, VARCHAR, VARCHAR, VARCHAR], VARCHAR,
                         type=PythonUDFType.NATIVE, null_handling=FunctionNullHandling.SPECIAL, side_effects=True)


def _in_macro_words(conn: DuckDBPyConnection, model: str | None, name: str | None, method: str | None,
                    options: str | None) -> dict[str, Any]:
    """``_store``, its errors, warnings and statement said in the macro's arguments (``tz=``), not with the command
    line's flags beside them (``tz= (CLI: --tz)``), which a dbt user has no command line to pass (optionwords)."""
    failed: AdDuckDBError | None = None
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        sql_caller = pysource.SQL_CALLER.set(True)  # a macro has no Python variable to pass as a source
        try:
            out = _store(conn, model, name, method, options)
        except AdDuckDBError as e:
            failed = e
        finally:
            pysource.SQL_CALLER.reset(sql_caller)
    for w in said:  # as they would have been warned, in the macro's words
        warnings.warn_explicit(optionwords.without_cli(str(w.message)), w.category, w.filename, w.lineno)
    if failed is not None:
        words = optionwords.without_cli(str(failed))
        if words == str(failed) or len(failed.args) != 1:
            raise failed
        again = copy.copy(failed)  # the same class and attributes (an OptionError's cli=), in the macro's words
        again.args = (words,)
        raise again from None
    if isinstance(out.get("chosen_on"), str):  # the statement the macro logs; the stored one keeps both words
        out["chosen_on"] = optionwords.without_cli(out["chosen_on"])
    return out


def _store(conn: DuckDBPyConnection, model: str | None, name: str | None, method: str | None,
           options: str | None) -> dict[str, Any]:
    from .thresholdset import set_threshold
    from .udfs import registry

    for arg, v in (("model", model), ("name", name), ("method", method)):
        if v is None:
            raise OptionError(f"{FUNCTION}: {arg} is NULL; pass the model's name, the threshold's name and its "
                              "method, e.g. ad_duckdb_set_threshold('tx_ae', 'cut', 'contamination', target=0.01).")
    assert model is not None and name is not None and method is not None
    try:
        opts = json.loads(options or "{}")
    except ValueError:
        opts = None
    if not isinstance(opts, dict):
        raise OptionError(f"{FUNCTION}: options must be a JSON object of set_threshold's keyword arguments, e.g. "
                          f"'{{\"target\": 0.01}}'; got {options!r}.")
    # the macro's, inside a node's transaction: the relation (``this``) the node writes there, uncommitted
    node = opts.pop("in_transaction_of", None)
    _check_copy(opts.pop("package_version", None))
    zone = opts.pop("session_zone", None)  # the calling node's TimeZone (the macro's; None from an older copy)
    # the name the macro was called by: the package's ad_duckdb.set_threshold passes it; a copy in macros/ is called
    # by its bare name, which a project with the package only does not have
    called = opts.pop("called_as", None)
    built_in = opts.pop("node_schema", None)  # [database, schema] of the hook's node (this); None elsewhere
    macro = called if called in MACRO_NAMES else MACRO_NAMES[1]
    unknown = sorted(set(opts) - set(OPTIONS))
    if unknown:
        raise OptionError(f"Threshold {name!r} for {model!r}: unknown option(s) {', '.join(map(repr, unknown))}; the "
                          f"options are {', '.join(OPTIONS)} (each method takes some of them).")
    cur = conn.cursor()
    try:
        if isinstance(zone, str) and zone:
            # Why: a profile's settings (TimeZone) are SET on each dbt cursor, and this cursor of dbt's connection
            # holds the process's zone: a TIMESTAMPTZ's days were read in UTC, unlike every model of the run
            cur.execute(f"SET TimeZone = {quote_literal(zone)}")
        if isinstance(opts.get("source"), str):
            # a bare name as dbt means it (the target schema's), and stored as a name that outlives the file's (dbtrun)
            beside = (built_in[0], built_in[1]) if isinstance(built_in, list) and len(built_in) == 2 else None
            opts["source"] = portable_source(cur, in_schema(cur, opts["source"], registry(cur).dbt_target, beside))
            if missing := missing_bare(cur, opts["source"], registry(cur).dbt_target, beside):
                raise OptionError(f"Threshold {name!r} of {model!r}: source {opts['source']!r} is {missing}: name it "
                                  "with its schema (raw.tx), or pass a relation, source=ref('...') or "
                                  "source('...', '...').")
        if isinstance(node, str):  # as source= is: the hook a refusal writes out says source=this for the node's own
            node = portable_source(cur, node)
        if isinstance(node, str) and isinstance(opts.get("source"), str) and _reads(cur, opts["source"], node):
            raise OptionError(
                f"Threshold {name!r} of {model!r} is chosen on rows of {opts['source']}, which this node writes in its "
                "transaction (a hook's default), uncommitted: the function reads committed rows only, so it would "
                f"choose on the rows before them. Write the hook as {_hook(macro, model, name, method, opts, node)} (it "
                "runs after the node's transaction commits), or call it in on-run-end or with dbt run-operation.")
        th = set_threshold(cur, model, name, method, **{k: v for k, v in opts.items() if v is not None})
        ref = registry(cur).get(model).ref  # 'tx_ae' names its latest version: the one the threshold belongs to
    finally:
        cur.close()
    out: dict[str, Any] = {"model": ref, "name": th.name, "value": th.value, "method": th.method,
                           "chosen_on": th.chosen_on}
    for k in ("precision", "recall", "f1", "flagged_share"):
        v = getattr(th, k)
        out[k] = None if v is None or not math.isfinite(v) else v
    return out


def _reads(cur: DuckDBPyConnection, source: str, node: str, depth: int = 0) -> bool:
    """Whether ``source`` (a table's name or a query) reads relation ``node`` (dbt's ``this``), directly or through
    views; True when it cannot be told (a query DuckDB cannot parse, views nested very deep), as refusing is safe."""
    from .sqltext import name_parts

    parts = name_parts(node)
    if parts is None or depth > 8:
        return True
    if same_source(source, node):
        return True
    if (own := name_parts(source)) is not None:
        names = [own[-1]]
    else:
        try:
            names = sorted(cur.get_table_names(source, qualified=False))
        except duckdb.Error:
            return True
    for table in names:
        if table.lower() == parts[-1].lower():  # a name alike in another schema too: refused, as it cannot hurt
            return True
        views = cur.execute("SELECT sql FROM duckdb_views() WHERE lower(view_name) = lower(?) AND NOT internal",
                            [table]).fetchall()
        if any(_reads(cur, _view_query(sql), node, depth + 1) for (sql,) in views):
            return True
    return False


def _view_query(sql: str) -> str:
    """The query of a view's ``CREATE VIEW name AS query;`` as duckdb_views() gives it."""
    import re

    m = re.match(r"(?is)\s*create\s+(?:or\s+replace\s+)?(?:temp(?:orary)?\s+)?view\s+.*?\s+as\s+(.*)$", sql)
    return (m.group(1) if m else sql).strip().rstrip(";")


def _hook(macro: str, model: str, name: str, method: str, opts: dict[str, Any], node: str) -> str:
    """The hook, with the call's macro and arguments and ``'transaction': false``, that stores this threshold after the
    node's transaction commits: ``{'sql': "{{ ad_duckdb.set_threshold('tx_ae', 'cut', ..., source=this) }}", ...}``."""

    def jinja(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        return "'" + str(v).replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"') + "'"

    args = [jinja(model), jinja(name), jinja(method)]
    for k in OPTIONS:  # the macro's order
        if opts.get(k) is not None:
            args.append(f"{k}=this" if k == "source" and opts[k] == node else f"{k}={jinja(opts[k])}")
    return "{'sql': \"{{ " + macro + "(" + ", ".join(args) + ") }}\", 'transaction': false}"


def _check_copy(declared: Any) -> None:
    """Refuse a macro from another release than the installed ad_duckdb (``declared``: the version it passes, None
    from a copy made before macros passed it), naming both versions and the command that refreshes the copy.

    Why: ``ad-duckdb dbt-package --copy-to`` (or the file copied into macros/) freezes the macros at a release, and a
    project that upgraded ad_duckdb kept running them against the new plugin, whose function they call."""
    installed = dbtpackage.package_version()
    if declared == installed:
        return
    folder = _installed_copy()
    was = declared if isinstance(declared, str) else (dbtpackage.package_version(folder) if folder else None)
    refresh = (f"ad-duckdb dbt-package --copy-to {dbtpackage.local_path(folder)} and dbt deps" if folder is not None else
               "ad-duckdb dbt-package --copy-to FOLDER (the local: of packages.yml) and dbt deps, or copy "
               "macros/ad_duckdb_set_threshold.sql again from the folder `ad-duckdb dbt-package` prints")
    raise OptionError(
        f"The macro ad_duckdb_set_threshold is from the dbt package ad_duckdb {was or 'of an earlier release'} (a "
        f"copy), but the installed ad_duckdb is {installed}, whose plugin runs it: refresh the copy with {refresh}, "
        "so that the macros are the installed release's.")


def _installed_copy() -> Path | None:
    """The copy of the dbt package this dbt project installed (``dbt deps`` links a ``local:`` package into
    dbt_packages/ad_duckdb), if it is a copy rather than the installed package's own folder."""
    try:
        from dbt.flags import get_flags

        project = Path(getattr(get_flags(), "PROJECT_DIR", None) or Path.cwd())
    except (ImportError, AttributeError):  # outside a dbt run, or a dbt without flags: the working folder
        project = Path.cwd()
    linked = project / dbtpackage.INSTALL_FOLDER / dbtpackage.PACKAGE_NAME
    if not (linked / "dbt_project.yml").is_file():
        return None
    real = linked.resolve()
    return None if real == dbtpackage.package_dir() else real
