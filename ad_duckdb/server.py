"""``ad-duckdb serve``: a DuckDB database, with the anomaly functions, over the PostgreSQL wire protocol.

BI tools (Superset, Metabase, Tableau), psql, psycopg and SQLAlchemy connect as to PostgreSQL and run
``SELECT anomaly_score('tx_ae', count, amount) FROM transactions`` live. A Python UDF exists only in the
process that registered it, so the server is that process.

Why a small server of our own rather than buenavista 0.5.0 (the one PostgreSQL-wire library that installs
here): its DuckDB backend calls ``fetch_record_batch()``, removed in DuckDB 2.0, and replacing that means
overriding ``DuckDBSession.execute_sql`` whole (it is not an extension point). That method also decides
transaction state by substring (any query containing "begin" starts one), drops unknown ``SET`` statements
silently, and its errors carry no SQLSTATE. The protocol subset BI clients need fits in this module and small
ones beside it: ``serverconfig`` (the configuration), ``serveropen`` (opening the served file), ``serverclients`` (the
clients' places and sessions, their cancels), ``serverstop`` (what a stop says), ``serverrun`` (the command's run and
signals), ``serverlog`` (the log); ``wirehandler`` (one client's connection) with ``wireio`` (its messages),
``wirestartup`` (its start-up and password), ``wireextended`` (Parse, Bind, Describe, Execute), ``wirerows`` (a
result's rows) and ``wirecopy`` (COPY's messages); ``pgtypes`` (type OIDs, values in and out), ``pgsql`` (recognising and splitting SQL text),
``pgcommands`` (the commands the server answers itself), ``pgcatalogsql`` and ``pgsyntax`` (rewriting SQL text),
``pgcatalog`` (the catalogue views and macros of each session), ``pgcursors`` (DECLARE / FETCH / CLOSE),
``pgcopy`` (COPY ... TO STDOUT, and FROM STDIN's options), ``pgcopyin`` (reading COPY ... FROM STDIN's data into
DuckDB), ``pgerrors`` (``ProtocolError``, SQLSTATEs), ``pgbackend`` (the served database), ``pgsession`` (each
client's session, which runs its statements) with ``pgstate`` (the session's state), ``pgsettings`` (SET, SHOW,
RESET), ``pgtxn`` (transactions), ``pgobjects`` (the catalogue objects a session creates), ``pgrewrite`` (its SQL
rewritten for DuckDB) and ``pgdiscard`` (DISCARD, DEALLOCATE), and ``pgresult`` (a statement's result, a portal).
This module owns the listening socket and the server's backends; the ``pg*`` modules import neither it nor the
``server*`` and ``wire*`` ones.

Security is DuckDB's, not ours: the file is opened read-only (unless ``--read-write``), each ``--attach`` file
read-only always, and after the functions are registered the server runs ``SET enable_external_access = false``
(no file, network, ATTACH, COPY TO or extension access), ``SET GLOBAL python_enable_replacements = false`` (no
client's table name read as a Python variable of the server's) and ``SET lock_configuration = true`` (no client can undo
it; only ``TimeZone``, in ``allowed_configs``, stays each session's to SET, and SET GLOBAL, which would change every
session's, is refused: pgsettings.session_set). No SQL text is filtered; the few rewrites (``pgcatalogsql``, ``pgsyntax``) only
answer PostgreSQL catalogue chatter DuckDB lacks.
One refusal is ours, by DuckDB's own statement type: DETACH (pgsession.DETACH_REFUSED), which DuckDB allows for
the files attached at start, and after which it would let a client attach one again for writing.
"""

from __future__ import annotations

import errno
import logging
import socket
import socketserver
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import duckdb

from . import interrupts
from .exceptions import clean_up_after
from .filelocks import HeldFiles
from .pgbackend import Backend
from .pgsession import Session
from .servecmd import PASSWORD_ENV
from .serverclients import Clients
from .serverconfig import ServerConfig, is_loopback
from .serveropen import BackendOpening
from .serverstop import SHUTDOWN_GRACE
from .udfs import refresh as refresh_functions
from .wirehandler import Handler

log = logging.getLogger("ad_duckdb.server")


def _disk_mb(backends: list[Backend]) -> str:
    """The size on disk of the backends' --snapshot copies, in MB."""
    size = 0
    for b in backends:
        try:
            size += sum(f.stat().st_size for f in Path(b.snapshot_dir or "").iterdir()) if b.snapshot_dir else 0
        except OSError:
            pass  # removed meanwhile: its last session ended
    return f"{size / 1e6:,.1f}"


class PGServer(socketserver.ThreadingTCPServer, Clients, BackendOpening):
    """A threaded TCP server; each client gets its own cursor of the current backend's connection. As Sessions, what
    pg_stat_activity lists and pg_cancel_backend / pg_terminate_backend signal (pgbackend.register_sessions)."""

    daemon_threads = True  # close_all() waits for the sessions itself, with a time limit
    allow_reuse_address = True
    block_on_close = False
    # Why not socketserver's 5: a dashboard's tiles or a pool connecting at once overflowed it while the accepting
    # thread waited for the interpreter, and the kernel dropped the rest (each retried after 1 s, 3 s, 7 s ...).
    # PostgreSQL's queue is twice max_connections; this is as deep as the system allows (net.core.somaxconn).
    request_queue_size = socket.SOMAXCONN

    def __init__(self, config: ServerConfig) -> None:
        from .clifail import EXIT_NO_DATABASE, with_exit_code
        from .cliopen import near_files, refuse_empty_path

        refuse_empty_path(config.database)
        # the exit codes every command gives (README, `ad-duckdb --help`), so a start script can tell them apart
        if config.database == ":memory:":
            # Why its own words: "create it first (e.g. ad-duckdb train)" pointed at train, which stores nothing there
            raise with_exit_code(click.ClickException(
                "serve needs a database file: ':memory:' is an in-memory database, which holds no models. Give the "
                ".duckdb file `ad-duckdb train` stored them in (`ad-duckdb sql :memory: ...` queries files without "
                "a server)."), EXIT_NO_DATABASE)
        try:
            exists = Path(config.database).exists()
        except OSError as e:  # a name the file system refuses (ENAMETOOLONG): Path.exists raises it
            raise with_exit_code(click.ClickException(f"Cannot open {config.database!r}: {e.strerror}."),
                                 EXIT_NO_DATABASE) from None
        if not exists:
            raise with_exit_code(click.ClickException(
                f"No database file {config.database!r}; create it first (e.g. ad-duckdb train)."
                f"{near_files(config.database)}"), EXIT_NO_DATABASE)
        if config.snapshot and config.read_write:
            raise with_exit_code(click.ClickException(
                "--snapshot serves a read-only copy; it cannot be combined with --read-write."), 2)  # a wrong option: 2
        if not is_loopback(config.host) and not config.password:
            raise with_exit_code(click.ClickException(
                f"Refusing to listen on {config.host} without a password: set --password or {PASSWORD_ENV}, "
                "or keep the default --host 127.0.0.1."), 2)
        self.config = config
        self._lock = threading.Lock()
        self._closing = threading.Lock()  # a retired backend's close and the renewal of the held files
        self._clients: dict[tuple[int, int], tuple[socket.socket, Session]] = {}
        # Connections accepted and not yet sessions (startup, password): close_all answers them 57P03 and waits for it
        self._starting: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._pids = iter(range(1000, 2**31))
        self._places = 0  # clients past their startup packet, until they end (take_place): --max-connections
        self.held: HeldFiles | None = None
        self._retired: list[Backend] = []  # earlier --snapshot copies that sessions from before still read
        self.backend = self._open_backend(wait=config.wait)
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        self.address_family = family
        try:
            # Why taken now, and kept apart from every backend: see filelocks. The backend has the files attached,
            # so no writer holds them meanwhile.
            self.held = HeldFiles([a.path for a in config.attach])
            super().__init__((config.host, config.port), Handler)
        except BaseException as e:
            # Why: with --snapshot the backend is a full copy of the database in the temporary folder, which a port
            # in use (or a SIGTERM meanwhile) left behind. A close that fails too must not hide why the start failed.
            clean_up_after(e, self._close_database, "closing the database after the failed start")
            if isinstance(e, OSError):  # was a traceback
                fix = (": another process (another ad-duckdb serve?) listens there; stop it, or choose another "
                       "--port (0 picks a free one)" if e.errno == errno.EADDRINUSE else "")
                raise click.ClickException(f"Cannot listen on {config.host}:{config.port} ({e.strerror}){fix}.") from e
            raise
        threading.Thread(target=self.watch_clients, name="ad-duckdb client check", daemon=True).start()

    def reload(self) -> str:
        """Snapshot mode: take a fresh copy and serve it to new clients. Otherwise: re-read the stored models."""
        if not self.config.snapshot:
            refresh_functions(self.backend.con)
            return "models refreshed: " + self.backend.models_text()
        try:
            new = self._open_backend()
            if interrupts.stopping():
                # Why: a stop noted after the copy's own look before its COPY (pgbackend.take_snapshot), as the COPY
                # started or while the copy was opened, interrupted no query, and a stopping server published the copy
                stop = duckdb.InterruptException("INTERRUPT Error: Interrupted!")
                clean_up_after(stop, new.close, "closing the reload's copy as the server stops")  # (its copy goes)
                raise stop
        except BaseException:
            self._renew()  # a new backend that attached the files and failed has closed them
            raise
        with self._lock:
            old, self.backend = self.backend, new
            swapped = datetime.now(UTC)  # sessions that started before are on earlier copies
            old.retired = True
            close_old = old.sessions == 0
            if not close_old:
                self._retired.append(old)
            kept = list(self._retired)
            held = sum(b.sessions for b in kept)
        if close_old:
            self._close_retired(old)
        text = "new snapshot: " + new.models_text()
        if kept:
            # Why said: each copy is the whole database, and a BI tool's pool keeps its connections for days, so a
            # nightly SIGHUP left a copy a night in the temporary folder without a word
            n = len(kept)
            since = swapped.isoformat(sep=" ")
            text += (f"; {n} earlier cop{'y' if n == 1 else 'ies'} ({_disk_mb(kept)} MB in {tempfile.gettempdir()}) "
                     f"kept for {held} session{'' if held == 1 else 's'} connected before: each is removed when "
                     "its last session disconnects (SELECT pid FROM pg_stat_activity WHERE backend_start < "
                     f"'{since}' lists those on earlier copies; pg_terminate_backend(pid) ends one)")
        return text

    def _close_retired(self, backend: Backend) -> None:
        with self._closing:
            try:
                backend.close()
            finally:
                self._renew_held()
        with self._lock:
            if backend not in self._retired:
                return
            self._retired.remove(backend)
        if not self.stopping:
            log.warning("removed an earlier snapshot copy: its last session ended")

    def _renew(self) -> None:
        with self._closing:
            self._renew_held()

    def _renew_held(self) -> None:
        """After a backend closed its handles of the --attach files, which let go of this process's lock on them
        while the served backend still reads them (filelocks); under ``_closing``, as HeldFiles.renew needs."""
        if self.held is not None:
            self.held.renew()

    def _close_database(self) -> None:
        """Close the served backend, then let go of the --attach files: the server's last handles of them."""
        try:
            self.backend.close()
        finally:
            if self.held is not None:
                self.held.release()

    def process_request(self, request: Any, client_address: Any) -> None:
        # Why registered here, in the accepting thread, not by the client's own thread: close_all must wait for a
        # connection whose thread has not run yet
        with self._lock:
            self._starting.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        try:
            super().shutdown_request(request)
        finally:
            with self._lock:
                self._starting.discard(request)

    def close_all(self, timeout: float = 30.0) -> None:
        """End every session, wait for them to end, then close the database.

        Each session ends itself (Handler.say_shutdown): its statement is interrupted and its reading is shut, so
        its own thread, the one writer of its socket, sends the FATAL after whatever it was sending. Only a session
        still blocked in a send after SHUTDOWN_GRACE (a client that stopped reading) has its socket shut for writing.
        Why wait: the functions die with the parent connection, and DuckDB refuses to close a connection
        while a cursor of it still runs a query.
        """
        self._stopping.set()  # before any interrupt: a session's error handling must see it (Handler.send_error)
        self._accept_queued()
        self.server_close()
        with self._lock:
            ended = len(self._clients)
        start = time.monotonic()
        while True:
            with self._lock:
                clients = list(self._clients.values())
                starting = list(self._starting)
            waited = time.monotonic() - start
            if not (clients or starting) or waited > timeout:
                break
            for sock, session in clients:
                # Terminated, as PostgreSQL's fast shutdown terminates each backend: the session looks at it before
                # each statement, where this interrupt, landing between two statements of a batch, is lost and the
                # batch's later writes were committed by a stopping server
                session.terminated = True
                session.cur.interrupt()  # repeated: an interrupt as a statement starts is lost too
                try:
                    sock.shutdown(socket.SHUT_RDWR if waited > SHUTDOWN_GRACE else socket.SHUT_RD)
                except OSError:
                    pass
            if waited > 2 * SHUTDOWN_GRACE:
                # A starting client has had its SHUTDOWN_GRACE to send its startup packet (Handler.check_stop); one
                # that still holds its thread does not read its answer
                for sock in starting:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
            time.sleep(0.1)
        try:
            self._close_database()
        except duckdb.Error as e:
            log.warning("could not close the database cleanly: %s", e)
        log.warning("stopped; %d client session%s ended", ended, "" if ended == 1 else "s")

    def _accept_queued(self) -> None:
        """Take the connections waiting in the listening socket's queue, so that they are answered 57P03 (Handler)
        instead of reset when that socket closes. Why: serve_forever stops accepting as the stop begins, and a client
        connecting meanwhile (a dashboard's refresh) reported a crash."""
        try:
            self.socket.setblocking(False)
        except OSError:  # already closed
            return
        while True:
            try:
                request, address = self.socket.accept()
            except OSError:  # BlockingIOError: none left
                return
            try:
                request.setblocking(True)
                self.process_request(request, address)
            except Exception:  # noqa: BLE001 - as socketserver's own accepting: this client's failure, not the stop's
                self.handle_error(request, address)
                self.shutdown_request(request)
