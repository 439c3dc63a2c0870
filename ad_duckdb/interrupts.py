"""The DuckDB connections and cursors a Ctrl-C must stop: the CLI's watcher (``cli._watch_ctrl_c``) interrupts them.

Why cursors too: ``con.interrupt()`` stops only the query of that one connection object, and the long queries of
the library (the scan and the ``CREATE TABLE ... AS`` of ``score --into``, the read of ``train``) run on cursors of
it (``con.cursor()``), which it does not reach; those ran on until DuckDB noticed the signal itself, now and then.
"""
from __future__ import annotations

import threading
import weakref

import duckdb

_LIVE: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
_LOCK = threading.Lock()  # the watcher's thread reads the set while the main thread adds to it


def track(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Let a Ctrl-C interrupt ``con``'s queries; returns ``con``. Weakly held: a closed, dropped one just goes."""
    with _LOCK:
        _LIVE.add(con)
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """``con.cursor()``, tracked so that a Ctrl-C interrupts the queries run on it."""
    return track(con.cursor())


def interrupt_all() -> None:
    """Interrupt the running query, if any, of every tracked connection and cursor."""
    with _LOCK:
        live = list(_LIVE)
    for con in live:
        try:
            con.interrupt()
        except duckdb.Error:
            pass  # closed meanwhile: nothing of it to stop
