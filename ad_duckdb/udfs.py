"""``register(con)``: the SQL functions, one registration path for Python, the CLI, dbt and the server.

DuckDB shares Python functions across every connection of one database instance, so the state
behind them (which models and versions are known) is one ``Registry`` per instance. The functions
never query the database while they run: what a connection knows is loaded when it registers,
when it trains, and on ``refresh(con)``.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from duckdb.func import FunctionNullHandling, PythonUDFType
from duckdb.sqltypes import BOOLEAN, DOUBLE, VARCHAR, DuckDBPyType

from . import attachedmodels, batchdrift, damagedfile, damagedstore, damagedthresholds, store
from .connarg import check_connection
from .exceptions import (
    AdDuckDBError,
    BadInputError,
    DatabaseUnavailableError,
    FeatureMismatchError,
    IntegrityError,
    ModelNotFoundError,
)
from .frames import IMPUTED_TYPE, imputed_map
from .msevalues import mse
from .optionwords import SURFACE
from .scoreterms import TERM_NAMES
from .scoring import LoadedModel, check_order, to_arrow, to_matrix
from .servefix import Served
from .shapley import ranked
from .sqltext import sql_names

FUNCTIONS = (
    "anomaly_score",
    "is_anomaly",
    "is_anomaly_at",
    "anomaly_percentile",
    "anomaly_explain",
    "anomaly_imputed",
    "anomaly_terms",
    "anomaly_mse",
    "anomaly_threshold",
    "anomaly_model",
)
# The functions that take no feature arguments (the rest take the model, then the features)
NO_FEATURES = ("anomaly_threshold", "anomaly_model")
_TOKEN_FN = "_ad_duckdb_registry"
_REGISTRIES: dict[str, Registry] = {}
# How ad_duckdb.connect opened each connection (database, read_only, other duckdb.connect arguments), so the
# functions can be moved to a connection of ours opened the same way (see _track).
OPEN_ARGS: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, tuple[str, bool, dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)
_COUNTER = itertools.count(1)
_LOCK = threading.Lock()
# The Python functions removed from DuckDB (see _Slot): kept, as a query on another thread may still be calling them.
_RETIRED: list[dict[str, Callable[..., Any]]] = []


class _Slot:
    """The registry the SQL functions of one registration serve.

    Why a slot and _RETIRED: DuckDB drops its reference to a Python function when the function is removed (a
    second connection to the file moves the functions to a connection of ours, ``register(replace=True)``
    re-creates them) or when its connection closes, while a query running on another thread may still call
    it; freed, that call crashed the process. Removed functions are kept, and their slot then points at the
    registry that replaced theirs (or at none, once every connection that registered is gone), so they hold
    no models of their own.
    """

    __slots__ = ("reg",)

    def __init__(self, reg: Registry | None) -> None:
        self.reg = reg

    def current(self) -> Registry:
        reg = self.reg
        if reg is None:
            raise BadInputError(
                "The anomaly functions this query started with were removed: every connection that registered "
                "them has closed. Register the connection you query from (ad_duckdb.register(con)) and run it again."
            )
        return reg


class _Holder:
    """Who keeps the functions alive for one database instance (see ``_track``); outlives re-registrations.

    The connection that created the functions is held by a weak reference when it is the user's: held strongly, it
    outlived the user's last reference, so it was never closed (the file stayed locked) and never checkpointed at
    exit (the models stayed in the .wal file only). ``keep`` holds it strongly only while another connection that
    registered (a cursor of an in-memory database) calls the functions it owns.
    """

    def __init__(self) -> None:
        self._owner: weakref.ref[duckdb.DuckDBPyConnection] | None = None
        self.keep: duckdb.DuckDBPyConnection | None = None
        self.own_conn: duckdb.DuckDBPyConnection | None = None  # ours, once several connections share them
        self.users: dict[int, weakref.ref[duckdb.DuckDBPyConnection]] = {}
        self.token = ""
        self.path = ""  # the file own_conn opened

    @property
    def owner(self) -> duckdb.DuckDBPyConnection | None:
        """The connection that created the functions (ours, the user's or a cursor of it), if still there."""
        return self._owner() if self._owner is not None else None

    @owner.setter
    def owner(self, con: duckdb.DuckDBPyConnection | None) -> None:
        self._owner = weakref.ref(con) if con is not None else None
        self.pin()

    def pin(self) -> None:
        """Hold the owner strongly while a connection other than it registered (see the class)."""
        owner = self.owner
        others = [k for k, r in self.users.items() if (c := r()) is not None and c is not owner]
        self.keep = owner if owner is not None and owner is not self.own_conn and others else None


class Registry:
    """The models one database instance's SQL functions can see."""

    def __init__(self, token: str, names: list[str] | None) -> None:
        self.token = token
        self.names = names
        self.by_ref: dict[str, LoadedModel] = {}
        self.latest: dict[str, LoadedModel] = {}
        self.files: list[LoadedModel] = []
        self.file_paths: dict[str, str] = {}  # each .onnx file of `files` and the model name it holds (for messages)
        self.problems: dict[tuple[str, int], str] = {}  # damaged stored versions, by (name, version)
        self.dropped: dict[str, int] = {}  # the highest version of each name with dropped versions (see store.not_found)
        self.store_error: AdDuckDBError | None = None  # why the store could not be read at all (see refresh)
        self.keepalive: duckdb.DuckDBPyConnection | None = None  # the owning cursor, if any (see _install)
        self.check_order = True  # see register(check_order=)
        self.surface = ""  # see set_surface
        self.served: Served | None = None  # see set_surface
        # what an unknown model means where the functions were registered (the dbt plugin); not said after a guess
        self.not_found_hint = ""
        # how to train a model not stored, where the caller holds no `con` for ad_duckdb.train (the dbt plugin)
        self.train_with: Callable[[str], str] | None = None
        self.dropped_hint = ""  # the same, for a model or version that was dropped (never trained again as such)
        # what to add to not_found_hint when the miss happens: a paragraph that applies only now and then (the dbt
        # plugin: the one for unit tests, said only while one runs)
        # called with whether the name has stored versions (the miss is one of its versions)
        self.not_found_now: Callable[[bool], str] = lambda stored: ""
        self.threshold_hint = ""  # the same, for a threshold a version lacks (LoadedModel.threshold_hint)
        self.reload_thresholds: Callable[[], None] | None = None  # see LoadedModel.reload_thresholds
        # what to say, in place of not_found_hint, for a name stored elsewhere (the dbt plugin: an ATTACHed database)
        self.elsewhere: dict[str, str] = {}
        # why a model stored here is lost when its owner closes (the dbt plugin: an in-memory path: beside the run's
        # target database); training refuses with it
        self.volatile_store = ""
        # the dbt target's (database, schema), where a name without a schema means a relation dbt built (dbtrun.in_schema)
        self.dbt_target: tuple[str | None, str | None] | None = None
        # A command's own connection (cliopen._open), opened for this run: it knows every stored version. Why kept here,
        # not read from pysource.from_command_line() at the call: DuckDB calls a function on any of its threads, where
        # the command's context variable is not set, so `ad-duckdb sql` said "refresh" in some runs only
        self.opened_afresh = False
        self.stamp: store.Stamp | None = None  # store.stamp when the models were last loaded (see refresh)
        self.size_limit: int | None = None  # store.max_model_bytes() then: a refusal for size may load under a new one
        # Why refreshes take turns: one that read the store before a training committed could otherwise swap in its
        # older models after the training's own refresh, under the newer stamp, and no later node would load them
        self.refreshing = threading.Lock()
        self.hold = _Holder()
        self.slot = _Slot(self)
        self.installed: list[dict[str, Callable[..., Any]]] = []  # the functions created for it (see _Slot)

    def _attached_hint(self, name: str) -> str:
        """Which file attached on the database holds ``name`` (``attachedmodels.python_hint``), read through a
        connection that registered, if one is still open; "" otherwise. Why at the miss: a file is attached after
        connect(), usually, and a query of the user's own (con.sql) otherwise said "that file" without naming it."""
        live = [c for r in [*self.hold.users.values()] if (c := r()) is not None]
        for con in [self.hold.owner, *live]:
            if con is not None:
                return attachedmodels.python_hint(con, name)
        return ""

    def asked_for(self, names: list[str], files: list[str]) -> bool:
        """Whether ``register(models=names + files)`` asks for exactly the models this registry was made for."""
        return self.names is not None and sorted(self.names) == sorted(names) and sorted(self.file_paths) == sorted(files)

    def on_missing_threshold(self, hint: str, reload: Callable[[], None] | None) -> None:
        """For the models loaded now and of later refreshes: call ``reload`` before a threshold is taken as missing,
        and say ``hint`` after the message when it still is."""
        self.threshold_hint, self.reload_thresholds = hint, reload
        for lm in [*self.by_ref.values(), *self.files]:
            lm.threshold_hint, lm.reload_thresholds = hint, reload

    def set_surface(self, surface: str, served: Served | None = None) -> None:
        """Say in the models' messages that the functions run in ``surface`` ("sql", "serve"; LoadedModel.surface);
        ``served``: how a server serves the file (what stores a missing threshold then, ``servefix``)."""
        self.surface, self.served = surface, served
        for lm in [*self.by_ref.values(), *self.files]:
            lm.surface, lm.served = surface, served

    def new_statement(self) -> None:
        """A statement starts (``ad-duckdb sql``): the notes the functions said (``LoadedModel.said``) may be said
        again. Why here: DuckDB tells a Python function nothing of the query it runs in, so where no one calls this
        (a Python program's own queries) each note is said once per connection, as Python says a warning once."""
        for lm in [*self.by_ref.values(), *self.files]:
            lm.said.clear()

    def refresh(self, cur: Any, *, changed_only: bool = False, if_changed: bool = False) -> None:
        """Load the store again. ``changed_only``: keep each loaded version whose stored row is unchanged, reading
        only new and changed ones (``store.load_all``'s ``loaded``), as after a write of this process's own; nothing
        when the store's ``stamp`` is the one loaded, unless a version was refused (read again, as it may load now).
        ``if_changed``: the same, a refused version left as it is (``refresh_if_changed``). Neither: read and check
        every version again, as when the functions are registered or the user asks (``refresh(con)``)."""
        with self.refreshing:
            self._refresh(cur, changed_only or if_changed, if_changed)

    def _refresh(self, cur: Any, changed_only: bool, if_changed: bool) -> None:
        try:
            # Why read before the models: a write between the two reads makes the next check load again, never miss
            st = store.stamp(cur)
            # Why stop at an unchanged stamp: it covers every row and column the functions load but the ONNX bytes,
            # which a changed_only refresh never reads again; what a write of ours reads again all the same, as it
            # always did, is a refused version and unreadable thresholds (the limit it broke may have been raised)
            # ... and, at a check (if_changed), a version refused for its size once the limit was changed since
            # (AD_DUCKDB_MAX_MODEL_BYTES raised in this process): refresh(con) loaded it, the check left it refused
            limit = _size_limit() if if_changed and self.problems else None
            if changed_only and st == self.stamp and (if_changed and limit in (None, self.size_limit)
                                                      or not self.problems and st.thresholds_unread is None):
                return
            self.stamp, self.size_limit = st, _size_limit()
            loaded = {(lm.rec.name, lm.rec.version): lm.rec for lm in self.by_ref.values()
                      if lm.rec.digest is not None} if changed_only else None
            recs, problems = store.load_all(cur, self.names, loaded, st)
            dropped, pins = dict(st.dropped), dict(st.promoted)
            db = store.cli_db(cur)
            self.store_error = None
        except (BadInputError, IntegrityError, DatabaseUnavailableError) as e:
            # a user's own table named like the store, or the store missing a column: the functions still register
            # (so the SQL that renames the table, or adds the column back, can run), and a call says what is wrong
            recs, problems, dropped, pins, self.store_error = [], {}, {}, {}, e
            db = "DB"
            self.stamp = None
        except duckdb.Error as e:
            if not damagedfile.is_damage(e):
                raise
            # a block of the store damaged (the models' names, the thresholds): the file's other tables still read, so
            # the functions register and a call names what is lost (damagedstore)
            recs, problems, dropped, pins = [], {}, {}, {}
            self.store_error = damagedstore.store_error(cur, e)
            self.stamp = None
        by_ref: dict[str, LoadedModel] = {}
        latest: dict[str, LoadedModel] = {}
        unread = next((r.thresholds_unread for r in recs if r.thresholds_unread is not None), None)
        lost = None if unread is None else damagedthresholds.message(cur, db, unread)
        for rec in recs:
            # Why reuse: a version never changes once stored, so its session (and warm caches) can be kept.
            old = self.by_ref.get(rec.ref)
            lm = old if old is not None and old.rec.sha256 == rec.sha256 else LoadedModel(rec)
            lm.thresholds = {t.name: float(t.value) for t in rec.thresholds}
            lm.rec.thresholds = rec.thresholds  # with how each was chosen (evaluate's notes read it)
            # and the goals set_threshold stores beside them in metrics (evaluate's overlap note reads them); the rest
            # of a version's metrics never changes
            lm.rec.metrics = rec.metrics
            lm.rec.digest = rec.digest  # of the row just read: a changed_only refresh keeps it while it stays so
            lm.check_order, lm.surface, lm.served = self.check_order, self.surface, self.served
            lm.threshold_hint, lm.reload_thresholds = self.threshold_hint, self.reload_thresholds
            lm.store_db, lm.thresholds_lost = db, lost
            by_ref[rec.ref] = lm
            latest[rec.name] = lm
        for lm in self.files:
            lm.check_order, lm.surface, lm.served = self.check_order, self.surface, self.served
            lm.threshold_hint, lm.reload_thresholds = self.threshold_hint, self.reload_thresholds
            by_ref.setdefault(lm.ref, lm)
            if lm.name not in latest or latest[lm.name].version < lm.version:
                latest[lm.name] = lm
        # 'name' means its promoted version (lifecycle.py), else the newest; when that one is damaged it must fail,
        # not quietly use another one.
        for name, version in pins.items():
            if f"{name}@{version}" in by_ref and latest.get(name) not in self.files:
                latest[name] = by_ref[f"{name}@{version}"]
        for name, version in problems:
            if name not in latest or latest[name] in self.files:
                continue
            pinned = pins.get(name)
            if (version == pinned) if pinned is not None else (latest[name].version < version):
                del latest[name]
        of_name: dict[str, list[LoadedModel]] = {}
        for lm in sorted(by_ref.values(), key=lambda m: m.version, reverse=True):
            of_name.setdefault(lm.name, []).append(lm)
        for lm in by_ref.values():
            lm.siblings = of_name[lm.name]  # one list per name, shared
            now = latest.get(lm.name)
            # a version newer than the promoted one is staged, not superseded
            lm.superseded_by = None if now is None or now is lm or lm.version > now.version else \
                now.ref + (", of other columns" if now.feature_names != lm.feature_names else "")
        # Swap whole dicts so a running query sees either the old or the new set, never a mix.
        self.by_ref, self.latest, self.problems, self.dropped = by_ref, latest, problems, dropped

    def get(self, ref: str) -> LoadedModel:
        if not isinstance(ref, str):  # first: a ModelInfo is unhashable, and the lookups below raised TypeError
            raise store.not_a_model_name(ref)
        lm = self.latest.get(ref)
        if lm is not None:
            return lm
        lm = self.by_ref.get(ref)
        if lm is not None:
            return lm
        if "@" in ref:  # 'tx_ae@01' is 'tx_ae@1'
            name, version = store.parse_ref(ref)
            if f"{name}@{version}" in self.by_ref:
                return self.by_ref[f"{name}@{version}"]
        damaged = [(v, n, msg) for (n, v), msg in self.problems.items() if ref in (n, f"{n}@{v}")]
        if damaged:
            v, name, msg = max(damaged)
            loads = ", ".join(m.ref for m in self.by_ref.values() if m.name == name)
            raise IntegrityError(msg + (f" Versions that load: {loads} (name one, or drop {name}@{v})." if loads else ""))
        if self.store_error is not None:
            raise type(self.store_error)(str(self.store_error))
        if self.names is not None and ref.split("@")[0] not in self.names:
            # Why name each file's model: a file keeps the name it was exported from, whatever the file is called,
            # and models: [fraud_ae.onnx] holding 'tx_ae' read "registered with ([]; ...)"
            held = "; ".join(f"{path!r} holds {name!r}" for path, name in self.file_paths.items())
            files = (f" Its .onnx files: {held} (a file's model keeps the name it was exported under, whatever the "
                     f"file is called: call anomaly_score({next(iter(self.file_paths.values()))!r}, ...)).") if held else ""
            raise ModelNotFoundError(
                f"Model {ref!r} is not among the models these functions were registered with "
                f"({self.names or 'no stored model'}; register(con, models=...) or the dbt plugin's 'models' "
                f"setting).{files} Add it there, or leave the setting out to use every stored model."
            )
        known: dict[str, list[int]] = {}
        for m in self.by_ref.values():
            known.setdefault(m.name, []).append(m.version)
        of_name = {m.version: (m.rec.source or "", m.feature_names) for m in self.by_ref.values()
                   if m.name == ref.split("@")[0]}
        # Why set here: DuckDB runs the function on threads of its own, where the command's SURFACE is not set, and
        # `ad-duckdb sql` (or a psql client of serve) was told to train with ad_duckdb.train(con, ...)
        spelled = SURFACE.set("cli") if self.surface in ("sql", "command", "serve") else None
        try:
            err = store.not_found(ref, known, self.dropped, afresh=self.opened_afresh, stored=of_name,
                                  train_with=self.train_with)
        finally:
            if spelled is not None:
                SURFACE.reset(spelled)
        hint = (" Some stored models failed their integrity check: " + "; ".join(self.problems.values())
                if self.problems else "")
        # Why not after a guess: the hint is for a model not stored yet; beside "did you mean" it sent a typo's
        # author to reorder dbt nodes
        name = store.parse_ref(ref)[0]
        extra = "" if err.guessed else self.dropped_hint if err.dropped else \
            self.elsewhere[name] if name in self.elsewhere else self.not_found_hint + self.not_found_now(name in known)
        if not (err.guessed or err.dropped or self.opened_afresh or name in known):
            # Why: the functions know the models stored when they loaded them; one stored since by SQL (IMPORT
            # DATABASE, an INSERT into ad_models) or by a connection that did not register is in ad_models, but
            # the plain message said it was not there and to train one
            extra += (f" If it was stored after this connection registered (IMPORT DATABASE, an INSERT into ad_models), "
                      f"{store.REFRESH_FIX}; {self._attached_hint(name) or attachedmodels.UNUSED}")
        raise ModelNotFoundError(str(err) + hint + extra, guessed=err.guessed)


def _registry_for(cur: Any, *, own_cursor: bool = False) -> Registry | None:
    """The registry whose functions ``cur``'s database holds; None when no functions are registered in it.

    Why the token function is called on a cursor opened for this call alone (``own_cursor``, else one of ``cur``'s):
    catching its catalog error costs about a tenth of reading duckdb_functions(), which lists some 3,000 functions (2
    ms against 20: every training, connect, score and dbt node asks), and on a caller's cursor the failed statement
    would abort the caller's open transaction. The functions belong to the database, so every cursor sees them."""
    if not own_cursor:
        own = cur.cursor()
        try:
            return _registry_for(own, own_cursor=True)
        finally:
            own.close()
    try:
        token = cur.execute(f"SELECT {_TOKEN_FN}()").fetchall()[0][0]
    except duckdb.CatalogException:
        return None
    return _REGISTRIES.get(token)


def _constant_string(chunk: pa.Array) -> Any:
    """The value of a string column whose every row holds the same non-NULL string, else None.

    Why not ``pc.all(pc.equal(...))``: the model argument is a constant in almost every query, so this
    check runs once per 2048 rows; comparing the raw offsets and bytes costs about a quarter of that.
    """
    n = len(chunk)
    if n == 0 or chunk.null_count or chunk.type != pa.string():
        return None
    off = np.frombuffer(chunk.buffers()[1], dtype=np.int32, count=n + 1, offset=chunk.offset * 4)
    o0 = int(off[0])
    width = int(off[1]) - o0
    if int(off[-1]) - o0 != width * n or (n > 1 and not (np.diff(off) == width).all()):
        return None
    data = chunk.buffers()[2]
    raw = data.to_pybytes()[o0 : o0 + width * n] if data is not None else b""
    first = raw[:width]
    return first.decode() if raw == first * n else None


def _plain_strings(col: Any) -> Any:
    """A name column (model or threshold) as Arrow's ``string``. DuckDB hands VARCHAR over as ``string_view`` under
    ``SET produce_arrow_string_view = true`` with ``arrow_output_version = '1.5'`` and as ``large_string`` under
    ``arrow_large_buffer_size``; ``take`` has no ``string_view`` kernel (is_anomaly_at failed with Arrow's
    "Function 'array_take' has no kernel matching input types (string_view, int64)"), and the constant-name fast
    path reads ``string``'s offsets only."""
    t = col.type
    if pa.types.is_string_view(t) or pa.types.is_large_string(t):
        return col.cast(pa.string())
    return col


def _groups(model_col: Any) -> list[tuple[Any, np.ndarray | None]]:
    """(model name, row index or None for all rows) for each distinct non-NULL model in the column."""
    if isinstance(model_col, pa.ChunkedArray):
        chunk = model_col.chunk(0) if model_col.num_chunks == 1 else model_col.combine_chunks()
    else:
        chunk = model_col
    const = _constant_string(chunk)
    if const is not None:
        return [(const, None)]
    values = np.asarray(chunk.to_pylist(), dtype=object)
    out: list[tuple[Any, np.ndarray | None]] = []
    for v in {x for x in values if x is not None}:
        out.append((v, np.nonzero(values == v)[0]))
    return out


def _says_interrupts(apply: Callable[..., pa.Array]) -> Callable[..., pa.Array]:
    """``apply`` (``_apply``: registry, func, model column, ...), a Ctrl-C in it raised again saying what it stopped
    (``_said_interrupt``)."""

    @functools.wraps(apply)
    def run(registry: Registry, func: str, model_col: Any, *rest: Any, **kwargs: Any) -> pa.Array:
        try:
            return apply(registry, func, model_col, *rest, **kwargs)
        except KeyboardInterrupt as e:
            raise _said_interrupt(e, func, model_col) from None

    return run


def _said_interrupt(e: KeyboardInterrupt, func: str, model_col: Any) -> KeyboardInterrupt:
    """The KeyboardInterrupt (``Terminated`` after a SIGTERM) to raise for one that landed in ``func``'s Python: its
    class kept, its text saying the query was stopped, not wrong.

    Why: DuckDB passes a SQL function's exception on as "Invalid Input Error: Python exception occurred while executing
    the UDF: KeyboardInterrupt: " with the exception's text after it, and a Ctrl-C's is empty, so a user's own
    con.sql(...) stopped with Ctrl-C read as a wrong query. DuckDB's class stays (the function cannot change it);
    ``interrupts.signalled`` still knows the text."""
    if str(e):  # already said (a nested call), or a message of its own
        return e
    model = next((m for m in model_col.to_pylist() if m is not None), None)
    call = f"{func}({model!r}, ...)" if model is not None else f"{func}(...)"
    how = "SIGTERM" if type(e).__name__ == "Terminated" else "Ctrl-C"
    return type(e)(f"{how} stopped the query in {call}; the query itself is fine: run it again (DuckDB reports an "
                   "interrupted SQL function as this Invalid Input Error)")


@_says_interrupts
def _apply(
    registry: Registry,
    func: str,
    model_col: Any,
    cols: Sequence[Any],
    compute: Callable[[LoadedModel, np.ndarray, Any], pa.Array],
    out_type: pa.DataType,
    extra: Any = None,
) -> pa.Array:
    """``compute`` once per distinct model in the model column, on that model's rows; NULL where the model is NULL."""
    model_col = _plain_strings(model_col)
    if extra is not None:
        extra = _plain_strings(extra)
    groups = _groups(model_col)
    if len(groups) == 1 and groups[0][1] is None:
        lm = registry.get(groups[0][0])
        return compute(lm, _matrix(registry, groups[0][0], cols, lm, func), extra)
    parts: list[pa.Array] = []
    # Each row's place in the concatenated parts, -1 (a NULL index: a NULL result) where the model is NULL.
    place = np.full(len(model_col), -1, dtype=np.int64)
    done = 0
    for name, idx in groups:
        assert idx is not None  # None (all rows) comes only alone, as the one group handled above
        lm = registry.get(name)
        take = to_arrow(idx, pa.int64())
        place[idx] = np.arange(done, done + len(idx))
        done += len(idx)
        parts.append(compute(lm, _matrix(registry, name, [c.take(take) for c in cols], lm, func),
                             None if extra is None else extra.take(take)))
    if not parts:
        return pa.nulls(len(model_col), out_type)
    return pa.concat_arrays(parts).take(to_arrow(place, pa.int64(), place >= 0))


def _matrix(registry: Registry, ref: Any, cols: Sequence[Any], lm: LoadedModel, func: str) -> np.ndarray:
    """``to_matrix``, whose feature-count error for a call of the bare name also names the newest other stored
    version that takes as many columns. Why: after a retrain on other features, a query passing the old columns
    fails on the new version, and pinning the old one (still stored) is the fix that touches no column."""
    try:
        return to_matrix(cols, lm, func)
    except FeatureMismatchError as e:
        if not isinstance(ref, str) or "@" in ref:
            raise
        old = next((m for m in lm.siblings if m.n_features == len(cols)), None)  # siblings: newest first
        if old is None:
            raise
        args = sql_names(old.feature_names)
        threshold = ", 'threshold_name'" if func == "is_anomaly_at" else ""
        raise FeatureMismatchError(f"{e} {old.ref!r}, still stored, takes {old.n_features}: ({args}): pin it where a "
                                   f"query keeps those columns: {func}('{old.ref}'{threshold}, {args}).") from None


def _check(lm: LoadedModel, X: np.ndarray, s: np.ndarray, func: str) -> None:
    """A batch's checks after scoring: its arguments' order (``check_order``), then its columns' drift
    (``batchdrift``)."""
    check_order(lm, X, s, func)
    batchdrift.check(lm, X, s, func)


def _score(lm: LoadedModel, X: np.ndarray, _: Any) -> pa.Array:
    s = lm.scores(X)
    _check(lm, X, s, "anomaly_score")
    return to_arrow(s, pa.float64())


def _flag(lm: LoadedModel, X: np.ndarray, _: Any) -> pa.Array:
    s = lm.scores(X)
    _check(lm, X, s, "is_anomaly")
    return to_arrow(s > lm.threshold("default"), pa.bool_())


def _flag_at(lm: LoadedModel, X: np.ndarray, names: Any) -> pa.Array:
    s = lm.scores(X)
    _check(lm, X, s, "is_anomaly_at")
    col = names.combine_chunks() if isinstance(names, pa.ChunkedArray) else names
    const = _constant_string(col)  # the usual case: one name for every row
    if const is not None:
        return to_arrow(s > lm.threshold(const), pa.bool_())
    values = col.to_pylist()
    value_of = {v: lm.threshold(str(v)) for v in set(values) - {None}}
    th = np.array([np.inf if v is None else value_of[v] for v in values])
    # a NULL threshold name gives NULL, as a NULL model name does (and SQL functions do), not False
    return to_arrow(s > th, pa.bool_(), np.array([v is not None for v in values]))


def _percentile(lm: LoadedModel, X: np.ndarray, _: Any) -> pa.Array:
    s = lm.scores(X)
    _check(lm, X, s, "anomaly_percentile")
    return to_arrow(lm.percentile(s.astype(np.float64)), pa.float64())


EXPLAIN_TYPE = pa.list_(pa.struct([("feature", pa.string()), ("share", pa.float64())]))


def explain_rows(lm: LoadedModel, fe: np.ndarray) -> pa.Array:
    """Each column's part in each row's score (``LoadedModel.attribution``) -> list of (feature, share) per row,
    largest share first; shares sum to 1. A row with no part at all (every feature missing: a missing value is
    never a reason) gets an empty list, where equal shares would have named its missing values."""
    n, d = fe.shape
    order, vals, some = ranked(fe)
    if not some.all():
        order, vals = order[some], vals[some]
    # Why Arrow's take (which imports pyarrow.compute, 9 MiB): a numpy gather of the names' bytes was 10x slower.
    names = lm.names_pa.take(to_arrow(order.ravel(), pa.int64()))
    structs = pa.StructArray.from_arrays([names, to_arrow(vals.ravel(), pa.float64())], names=["feature", "share"])
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.where(some, d, 0), out=offsets[1:])
    return pa.ListArray.from_arrays(to_arrow(offsets, pa.int32()), structs)


def imputed_rows(lm: LoadedModel, X: np.ndarray, filled: np.ndarray, text: Sequence[Any] = ()) -> pa.Array:
    """Per row, each NULL / NaN feature of ``X`` -> the value scoring took for it, read from ``filled`` (the rows
    as scored: ``LoadedModel.scored_as``'s, or ``attribution_as_scored``'s), beside ``explain_rows``' shares (which
    give a missing value none); NULL for a row with no value missing. ``text``: a text model's text argument
    columns, whose NULLs are keyed by the category they were read as (``Layout.null_entries``)."""
    held = np.isnan(X)
    if lm.layout is None or not text:
        return imputed_map(held, filled[held], lm.names_pa)
    held, values, names = lm.layout.null_entries(held, filled, text, lm.feature_names)
    return imputed_map(held, values[held], names)


def _explain(lm: LoadedModel, X: np.ndarray, _: Any) -> pa.Array:
    s, fe = lm.attribution(X)
    _check(lm, X, s, "anomaly_explain")
    return explain_rows(lm, fe)


def _imputed(lm: LoadedModel, X: np.ndarray, nulls: Any) -> pa.Array:
    # Why a function of its own: anomaly_explain gives a missing value no share, and the value it was scored at was
    # written by score --explain (anomaly_imputed) but could not be asked for in SQL (a dbt model, a BI query)
    s, filled = lm.scored_as(X)
    _check(lm, X, s, "anomaly_imputed")
    # nulls: each argument's NULLs (_null_masks), of which a text model's text ones are keyed by their category
    text = [] if lm.layout is None else [nulls.field(lm.layout.numeric + k) for k in range(len(lm.layout.text))]
    return imputed_rows(lm, X, filled, text)


def _null_masks(cols: Sequence[Any]) -> pa.StructArray:
    """Each argument's NULLs, as one struct column that ``_apply`` takes for the rows of each model (whose text
    arguments are known only once the model is)."""
    masks = [(c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c).is_null() for c in cols]
    return pa.StructArray.from_arrays(masks, names=[str(i) for i in range(len(cols))])


TERMS_TYPE = pa.struct([(name, pa.float64()) for name in TERM_NAMES])


def _terms(lm: LoadedModel, X: np.ndarray, _: Any) -> pa.Array:
    s, t = lm.terms(X)
    _check(lm, X, s, "anomaly_terms")
    return pa.StructArray.from_arrays([to_arrow(np.ascontiguousarray(t[:, i]), pa.float64())
                                       for i in range(len(TERM_NAMES))], fields=list(TERMS_TYPE))


def _mse(lm: LoadedModel, X: np.ndarray, _: Any) -> pa.Array:
    # Why a function of its own: BigQuery ML's ML.DETECT_ANOMALIES gives mean_squared_error, which users migrating
    # look for (score's mse=True column has the same values: msevalues)
    s, m = mse(lm, X)
    _check(lm, X, s, "anomaly_mse")
    return to_arrow(m, pa.float64())


def _make_functions(slot: _Slot) -> dict[str, Callable[..., Any]]:
    def anomaly_score(model: Any, *cols: Any) -> pa.Array:
        return _apply(slot.current(), "anomaly_score", model, cols, _score, pa.float64())

    def is_anomaly(model: Any, *cols: Any) -> pa.Array:
        return _apply(slot.current(), "is_anomaly", model, cols, _flag, pa.bool_())

    def is_anomaly_at(model: Any, threshold_name: Any, *cols: Any) -> pa.Array:
        return _apply(slot.current(), "is_anomaly_at", model, cols, _flag_at, pa.bool_(), extra=threshold_name)

    def anomaly_percentile(model: Any, *cols: Any) -> pa.Array:
        return _apply(slot.current(), "anomaly_percentile", model, cols, _percentile, pa.float64())

    def anomaly_explain(model: Any, *cols: Any) -> pa.Array:
        return _apply(slot.current(), "anomaly_explain", model, cols, _explain, EXPLAIN_TYPE)

    def anomaly_imputed(model: Any, *cols: Any) -> pa.Array:
        return _apply(slot.current(), "anomaly_imputed", model, cols, _imputed, IMPUTED_TYPE,
                      extra=_null_masks(cols) if cols else None)

    def anomaly_terms(model: Any, *cols: Any) -> pa.Array:
        return _apply(slot.current(), "anomaly_terms", model, cols, _terms, TERMS_TYPE)

    def anomaly_mse(model: Any, *cols: Any) -> pa.Array:
        return _apply(slot.current(), "anomaly_mse", model, cols, _mse, pa.float64())

    def anomaly_threshold(model: Any, threshold_name: Any) -> pa.Array:
        registry = slot.current()
        m = model.to_pylist()
        t = threshold_name.to_pylist()
        cache: dict[tuple[str, str], float] = {}
        out: list[float | None] = []
        for mm, tt in zip(m, t, strict=True):
            if mm is None or tt is None:
                out.append(None)
                continue
            key = (mm, tt)
            if key not in cache:
                cache[key] = registry.get(mm).threshold(tt)
            out.append(cache[key])
        valid = np.array([v is not None for v in out], dtype=bool)
        return to_arrow(np.array([0.0 if v is None else v for v in out], dtype=np.float64), pa.float64(), valid)

    def anomaly_model(model: Any) -> pa.Array:
        # Why: a score table written from SQL (a dbt model, a server's client) records which version scored its rows,
        # as score(model_column=True) does: 'tx_ae' means the promoted or newest version, which changes
        registry = slot.current()
        cache: dict[str, str] = {}
        out: list[str | None] = []
        for mm in model.to_pylist():
            if mm is not None and mm not in cache:
                cache[mm] = registry.get(mm).ref
            out.append(None if mm is None else cache[mm])
        return pa.array(out, pa.string())

    return {
        "anomaly_score": anomaly_score,
        "is_anomaly": is_anomaly,
        "is_anomaly_at": is_anomaly_at,
        "anomaly_percentile": anomaly_percentile,
        "anomaly_explain": anomaly_explain,
        "anomaly_imputed": anomaly_imputed,
        "anomaly_terms": anomaly_terms,
        "anomaly_mse": anomaly_mse,
        "anomaly_threshold": anomaly_threshold,
        "anomaly_model": anomaly_model,
    }


def _explain_duck_type() -> DuckDBPyType:
    return duckdb.list_type(duckdb.struct_type({"feature": VARCHAR, "share": DOUBLE}))


def _install(con: duckdb.DuckDBPyConnection, reg: Registry) -> duckdb.DuckDBPyConnection:
    """Create the functions on the connection that will own them, and return it.

    DuckDB frees a Python function when the connection that created it closes, and calling it after
    that crashes the process; so the functions belong to ``con`` itself. Only when ``con`` holds a
    half-read result (DuckDB then refuses ``create_function`` on it, and keeps the result) do they go on
    a cursor that the registry keeps open for the life of the process. Why try rather than probe with a
    query first: a query on ``con`` would replace the result the caller is still reading.
    """
    try:
        _create_functions(con, reg)  # the first function it creates is the one refused, so none is left behind
        return con
    except duckdb.ResourceInUseException:
        pass
    reg.keepalive = con.cursor()
    _create_functions(reg.keepalive, reg)
    return reg.keepalive


def _create_functions(owner: duckdb.DuckDBPyConnection, reg: Registry) -> None:
    fns = _make_functions(reg.slot)
    token = reg.token
    fns[_TOKEN_FN] = lambda: token
    reg.installed.append(fns)
    owner.create_function(_TOKEN_FN, fns[_TOKEN_FN], [], VARCHAR, side_effects=False)

    def arrow(name: str, params: Sequence[DuckDBPyType], returns: DuckDBPyType) -> None:
        owner.create_function(name, fns[name], list(params), returns, type=PythonUDFType.ARROW,
                              null_handling=FunctionNullHandling.SPECIAL, side_effects=False)

    arrow("anomaly_score", [VARCHAR, DOUBLE], DOUBLE)
    arrow("is_anomaly", [VARCHAR, DOUBLE], BOOLEAN)
    arrow("is_anomaly_at", [VARCHAR, VARCHAR, DOUBLE], BOOLEAN)
    arrow("anomaly_percentile", [VARCHAR, DOUBLE], DOUBLE)
    arrow("anomaly_explain", [VARCHAR, DOUBLE], _explain_duck_type())
    arrow("anomaly_imputed", [VARCHAR, DOUBLE], duckdb.map_type(VARCHAR, DOUBLE))
    arrow("anomaly_terms", [VARCHAR, DOUBLE], duckdb.struct_type({name: DOUBLE for name in TERM_NAMES}))
    arrow("anomaly_mse", [VARCHAR, DOUBLE], DOUBLE)
    arrow("anomaly_threshold", [VARCHAR, VARCHAR], DOUBLE)
    arrow("anomaly_model", [VARCHAR], VARCHAR)


def _remove_functions(owner: duckdb.DuckDBPyConnection, doing: str) -> None:
    """Remove the functions (to re-create them), refusing clearly while ``owner`` holds a half-read result: only
    the connection that created a function can remove it, and DuckDB refuses that while a result is pending."""
    try:
        owner.remove_function(_TOKEN_FN)  # the first one refused, so the functions stay whole
    except duckdb.ResourceInUseException as e:
        raise BadInputError(
            f"Cannot {doing} while the connection that owns them holds a half-read result: fetch the rest of it "
            "(e.g. fetchall()) first, and run queries you read bit by bit on a cursor (con.cursor())."
        ) from e
    for name in FUNCTIONS:
        owner.remove_function(name)


def _track(reg: Registry, con: duckdb.DuckDBPyConnection, cur: Any) -> None:
    """Note one more connection using the functions; from the second on, move them to a connection of ours.

    Why: DuckDB frees a Python function when the connection that created it closes, and a later call
    from another connection of the same database then crashes the process. Two connections to one file
    in one process are common (a notebook cell that connects, run twice, drops the first connection).
    Our connection closes when every connection that registered is gone (garbage-collected), which
    releases the file; when one is left, it gets the functions back and ours closes (see _hand_back). An
    in-memory database has no second connection but cursors, which close with it.
    """
    hold = reg.hold
    key = id(con)
    if key in hold.users and hold.users[key]() is con:
        return
    hold.users = {k: r for k, r in hold.users.items() if r() is not None}
    hold.users[key] = weakref.ref(con, lambda _ref: _user_gone(hold, key))
    hold.pin()
    if len(hold.users) < 2 or hold.own_conn is not None or hold.owner is None:
        return
    # Reopen the database as ad_duckdb.connect opened it (same settings, or DuckDB refuses a second
    # connection to the instance); else by the path DuckDB reports.
    args = next((OPEN_ARGS[c] for r in hold.users.values() if (c := r()) is not None and c in OPEN_ARGS), None)
    if args is None:
        path, read_only = cur.execute(
            "SELECT path, readonly FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()[0]
        if not path:
            return  # a private in-memory database: its other connections are cursors, which close with it
        args = (path, bool(read_only), {})
    if args[0] in ("", ":memory:"):
        return  # a private in-memory database: reopening it would open another, empty one
    try:
        own = duckdb.connect(args[0], read_only=args[1], **args[2])
    except duckdb.Error as e:
        # Why refuse rather than go on: the functions stay with the first connection, and closing it would
        # crash this one at its next call.
        hold.users.pop(key, None)
        raise BadInputError(
            f"Cannot share the anomaly functions of {args[0]!r} with a second connection: DuckDB refused to open "
            f"the file again ({e}). Open every connection with ad_duckdb.connect(path, config=...) (it records "
            "the settings, so the file can be reopened with them), or use one connection and cursors of it."
        ) from e
    try:
        _remove_functions(hold.owner, f"share the anomaly functions of {args[0]!r} with a second connection")
    except BadInputError:
        own.close()
        hold.users.pop(key, None)
        raise
    _retire(reg)
    _create_functions(own, reg)
    hold.owner = hold.own_conn = own
    hold.path = args[0]


def _retire(reg: Registry) -> None:
    """Keep the functions just removed from DuckDB for queries still calling them (see _Slot)."""
    _RETIRED.extend(reg.installed)
    reg.installed = []


_EXITING = False  # set at interpreter exit: connections collected then must not hand functions back


@atexit.register
def _release_all() -> None:
    """Close our connections (see ``_track``) and stop handing functions back, before the interpreter's teardown.

    Why: a script with two connections to one file (ad_duckdb.connect, then duckdb.connect + register) that ended
    without close() aborted at exit (exit code 134, "terminate called ... import of sys halted"): the connections
    were collected while the modules were torn down, and handing the functions back ran Python code there."""
    global _EXITING
    _EXITING = True
    with _LOCK:
        for hold in list({id(r.hold): r.hold for r in _REGISTRIES.values()}.values()):
            if hold.own_conn is not None:
                _release(hold)


def _user_gone(hold: _Holder, key: int) -> None:
    if _EXITING:
        return
    hold.users.pop(key, None)
    hold.pin()
    if not hold.users:
        _release(hold)
    elif len(hold.users) == 1 and hold.own_conn is not None:
        _hand_back(hold)


def _hand_back(hold: _Holder) -> None:
    """One connection that registered is left: give it the functions back and close ours.

    Why: a notebook cell that connects, run twice, leaves one connection, the first one dropped; ours kept the file
    open after that one's close(), so another process could not open it, where closing a plain connection releases
    the file. Left as it is (closed when the last connection goes) when the last one holds a half-read result, is
    closed already (then ours closes now), or this runs inside ``register`` (a collection there must not change
    what ``register`` is changing).
    """
    if not _LOCK.acquire(blocking=False):
        return
    try:
        own, reg = hold.own_conn, _REGISTRIES.get(hold.token)
        last = next((c for r in list(hold.users.values()) if (c := r()) is not None), None)
        if own is None or reg is None or last is None:
            return
        if _closed(last):
            _release(hold)
            return
        try:
            _remove_functions(own, "hand the anomaly functions back")  # ours never runs a query, so never refused
        except BadInputError:
            return
        _retire(reg)
        try:
            _create_functions(last, reg)
        except duckdb.Error:  # a half-read result on it: DuckDB refuses; ours keeps them
            _create_functions(own, reg)
            return
        hold.own_conn, hold.path = None, ""
        hold.owner = last
        own.close()
    finally:
        _LOCK.release()


def _closed(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        con.cursor().close()  # not a query: one on con would replace a result its owner is still reading
    except duckdb.ConnectionException:
        return True
    return False


def _same_file(a: str, b: str) -> bool:
    return bool(a) and bool(b) and Path(a).resolve() == Path(b).resolve()


def release_closed(database: str) -> bool:
    """Close our connection to ``database`` (see ``_track``) when every connection that registered its functions
    is closed; True if one was closed. For a reopen DuckDB refused as "a different configuration": closed
    connections still referenced (a notebook's variables) are not garbage, so ours kept the file open."""
    with _LOCK:
        holds = {id(r.hold): r.hold for r in _REGISTRIES.values()}.values()
        for hold in holds:
            if hold.own_conn is None or not _same_file(hold.path, database):
                continue
            users = [c for r in list(hold.users.values()) if (c := r()) is not None]
            if all(_closed(c) for c in users):
                _release(hold)
                return True
    return False


def open_settings(database: str) -> tuple[bool, dict[str, Any]] | None:
    """(read_only, other duckdb.connect arguments) of a connection ad_duckdb.connect opened to ``database``
    that is still open, if any."""
    for con, (path, read_only, kwargs) in list(OPEN_ARGS.items()):
        if _same_file(path, database) and not _closed(con):
            return read_only, kwargs
    return None


def _release(hold: _Holder) -> None:
    """Close our connection of ``hold`` (see ``_track``), once no connection that registered is left open."""
    if hold.own_conn is not None:
        own, hold.own_conn, hold.owner = hold.own_conn, None, None
        reg = _REGISTRIES.pop(hold.token, None)
        # Why remove before closing: a connection we never saw (a plain duckdb.connect, a cursor) may still be
        # open; it then gets "function does not exist" (register it again) instead of calling freed code.
        for name in (*FUNCTIONS, _TOKEN_FN):
            try:
                own.remove_function(name)
            except duckdb.Error:
                pass
        own.close()
        if reg is not None:
            _retire(reg)
            reg.slot.reg = None  # a query still running there gets an error saying so, and the models are freed


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
                (files if store.is_model_file(str(m)) else names).append(str(m))
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


def _size_limit() -> int | None:
    """``store.max_model_bytes()``; None when AD_DUCKDB_MAX_MODEL_BYTES is malformed (the load that reads it says so)."""
    try:
        return store.max_model_bytes()
    except BadInputError:
        return None


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
