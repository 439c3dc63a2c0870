"""``Registry``: the models one database instance's SQL functions can see, loaded from the store and loaded again
when it changed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import duckdb

from . import attachedmodels, damagedfile, damagedstore, damagedthresholds, modelnames, notfound, storeload, storestamp, typedpaths
from .exceptions import AdDuckDBError, BadInputError, DatabaseUnavailableError, IntegrityError, ModelNotFoundError
from .optionwords import SURFACE
from .scoring import LoadedModel
from .servefix import Served
from .udfowners import _Holder, _Slot


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
        self.dropped: dict[str, int] = {}  # the highest version of each name with dropped versions (see notfound.not_found)
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
        self.stamp: storestamp.Stamp | None = None  # storestamp.stamp when the models were last loaded (see refresh)
        self.size_limit: int | None = None  # storeload.max_model_bytes() then: a refusal for size may load under a new one
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
        only new and changed ones (``storeload.load_all``'s ``loaded``), as after a write of this process's own; nothing
        when the store's ``stamp`` is the one loaded, unless a version was refused (read again, as it may load now).
        ``if_changed``: the same, a refused version left as it is (``refresh_if_changed``). Neither: read and check
        every version again, as when the functions are registered or the user asks (``refresh(con)``)."""
        with self.refreshing:
            self._refresh(cur, changed_only or if_changed, if_changed)

    def _refresh(self, cur: Any, changed_only: bool, if_changed: bool) -> None:
        try:
            # Why read before the models: a write between the two reads makes the next check load again, never miss
            st = storestamp.stamp(cur)
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
            recs, problems = storeload.load_all(cur, self.names, loaded, st)
            dropped, pins = dict(st.dropped), dict(st.promoted)
            db = typedpaths.cli_db(cur)
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
            raise modelnames.not_a_model_name(ref)
        lm = self.latest.get(ref)
        if lm is not None:
            return lm
        lm = self.by_ref.get(ref)
        if lm is not None:
            return lm
        if "@" in ref:  # 'tx_ae@01' is 'tx_ae@1'
            name, version = modelnames.parse_ref(ref)
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
            err = notfound.not_found(ref, known, self.dropped, afresh=self.opened_afresh, stored=of_name,
                                  train_with=self.train_with)
        finally:
            if spelled is not None:
                SURFACE.reset(spelled)
        hint = (" Some stored models failed their integrity check: " + "; ".join(self.problems.values())
                if self.problems else "")
        # Why not after a guess: the hint is for a model not stored yet; beside "did you mean" it sent a typo's
        # author to reorder dbt nodes
        name = modelnames.parse_ref(ref)[0]
        extra = "" if err.guessed else self.dropped_hint if err.dropped else \
            self.elsewhere[name] if name in self.elsewhere else self.not_found_hint + self.not_found_now(name in known)
        if not (err.guessed or err.dropped or self.opened_afresh or name in known):
            # Why: the functions know the models stored when they loaded them; one stored since by SQL (IMPORT
            # DATABASE, an INSERT into ad_models) or by a connection that did not register is in ad_models, but
            # the plain message said it was not there and to train one
            extra += (f" If it was stored after this connection registered (IMPORT DATABASE, an INSERT into ad_models), "
                      f"{notfound.REFRESH_FIX}; {self._attached_hint(name) or attachedmodels.UNUSED}")
        raise ModelNotFoundError(str(err) + hint + extra, guessed=err.guessed)


def _size_limit() -> int | None:
    """``storeload.max_model_bytes()``; None when AD_DUCKDB_MAX_MODEL_BYTES is malformed (the load that reads it says so)."""
    try:
        return storeload.max_model_bytes()
    except BadInputError:
        return None
