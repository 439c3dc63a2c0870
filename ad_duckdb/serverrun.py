"""Running ``ad-duckdb serve``: the server until SIGINT / SIGTERM, SIGHUP's reload, and the signal handlers given back
when it ends."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

import click
import duckdb

from .exceptions import clean_up_after, is_interrupt
from .server import PGServer
from .serverconfig import ServerConfig

log = logging.getLogger("ad_duckdb.server")


def run_server(config: ServerConfig, ready: Callable[[PGServer], None] | None = None) -> None:
    """Serve until SIGINT / SIGTERM; SIGHUP reloads (a fresh snapshot with --snapshot, else re-read models)."""
    # Why caught before the database opens: SIGHUP's default action ends the process, and one that arrived while the
    # server started (waiting with --wait for the training that then sends it, copying DB for --snapshot) killed it
    # without a word and left its copy behind. It is done once the server serves (_serve).
    early_hup = threading.Event()
    # given back when the server ends: a notebook's or script's process goes on, and its interrupt key must raise
    # KeyboardInterrupt again, not stop a server long gone
    taken = _signal_handlers()
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda *_: early_hup.set())
    try:
        server = PGServer(config)
        try:
            _serve(server, ready, early_hup)
        except BaseException as e:
            # Why here, not after serve_forever only: a SIGTERM before the handlers below are installed raises
            # (interrupts.Terminated) and must still close the database (and remove a --snapshot copy); a close that
            # fails too must not hide why the server ended
            clean_up_after(e, server.close_all, "stopping the server after the failed start")
            raise
        server.close_all()
    finally:
        for sig, handler in taken.items():
            if handler is not None:  # None: set outside Python, which cannot be put back from here
                signal.signal(sig, handler)


def _signal_handlers() -> dict[signal.Signals, Any]:
    """The handlers of the signals the server takes (SIGINT, SIGTERM, SIGHUP), when it runs in the main thread (the
    only one that may set them); none otherwise."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    sigs = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    return {s: signal.getsignal(s) for s in sigs}


def _serve(server: PGServer, ready: Callable[[PGServer], None] | None, early_hup: threading.Event) -> None:
    threads: list[threading.Thread] = []

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    def reload(*_: Any) -> None:
        def work() -> None:
            try:
                log.warning("reloaded: %s", server.reload())
            except (duckdb.Error, click.ClickException, RuntimeError) as e:
                # only a stop (SIGTERM, Ctrl-C: cli's watcher) interrupts the copy (pgbackend.take_snapshot)
                if is_interrupt(e):
                    log.warning("reload abandoned: the server stops")
                    return
                if isinstance(e, RuntimeError) and not isinstance(e, duckdb.Error):
                    raise
                log.warning("reload failed, still serving the previous copy: %s", e)

        t = threading.Thread(target=work, daemon=True)
        threads.append(t)
        t.start()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, reload)
    if ready is not None:
        ready(server)
    if early_hup.is_set():
        log.warning("SIGHUP received while starting: reloading now")
        reload()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        for t in threads:
            t.join(timeout=30)
