"""Which connection owns the SQL functions of a database instance, and keeps them callable: DuckDB frees a
Python function when the connection that created it closes, or when the function is removed, while another
connection or a running query may still call it."""

from __future__ import annotations

import atexit
import functools
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from duckdb.func import FunctionNullHandling, PythonUDFType
from duckdb.sqltypes import BOOLEAN, DOUBLE, VARCHAR, DuckDBPyType

from .exceptions import BadInputError
from .scoreterms import TERM_NAMES
from .udfbodies import _make_functions
from .udfnames import FUNCTIONS

if TYPE_CHECKING:  # udfregistry imports this module
    from .udfregistry import Registry

_TOKEN_FN = "_ad_duckdb_registry"
_REGISTRIES: dict[str, Registry] = {}
# How ad_duckdb.connect opened each connection (database, read_only, other duckdb.connect arguments), so the
# functions can be moved to a connection of ours opened the same way (see _track).
OPEN_ARGS: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, tuple[str, bool, dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)
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
    # The function held, not looked up: a connection collected in the interpreter's teardown (as under a tracer or
    # a profiler, coverage's too) found the module's names None already and printed "Exception ignored ... TypeError".
    hold.users[key] = weakref.ref(con, functools.partial(_user_gone, hold, key))
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


class _Exit:
    """Set at interpreter exit: connections collected then must not hand functions back. A class, not a module
    global, so that ``_user_gone`` reads it through its own default argument in the teardown, when the module's
    globals are None."""

    now = False


@atexit.register
def _release_all() -> None:
    """Close our connections (see ``_track``) and stop handing functions back, before the interpreter's teardown.

    Why: a script with two connections to one file (ad_duckdb.connect, then duckdb.connect + register) that ended
    without close() aborted at exit (exit code 134, "terminate called ... import of sys halted"): the connections
    were collected while the modules were torn down, and handing the functions back ran Python code there."""
    _Exit.now = True
    with _LOCK:
        for hold in list({id(r.hold): r.hold for r in _REGISTRIES.values()}.values()):
            if hold.own_conn is not None:
                _release(hold)


def _user_gone(hold: _Holder, key: int, _ref: object = None, exiting: type[_Exit] = _Exit) -> None:
    if exiting.now:
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
