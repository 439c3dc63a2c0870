"""``ad-duckdb serve``: a DuckDB database, with the anomaly functions, over the PostgreSQL wire protocol.

BI tools (Superset, Metabase, Tableau), psql, psycopg and SQLAlchemy connect as to PostgreSQL and run
``SELECT anomaly_score('tx_ae', count, amount) FROM transactions`` live. A Python UDF exists only in the
process that registered it, so the server is that process.

Why a small server of our own rather than buenavista 0.5.0 (the one PostgreSQL-wire library that installs
here): its DuckDB backend calls ``fetch_record_batch()``, removed in DuckDB 2.0, and replacing that means
overriding ``DuckDBSession.execute_sql`` whole (it is not an extension point). That method also decides
transaction state by substring (any query containing "begin" starts one), drops unknown ``SET`` statements
silently, and its errors carry no SQLSTATE. The protocol subset BI clients need fits in this module and small
ones beside it: ``pgtypes`` (type OIDs, values in and out), ``pgsql`` (recognising and splitting SQL text),
``pgcommands`` (the commands the server answers itself), ``pgcatalogsql`` and ``pgsyntax`` (rewriting SQL text),
``pgcatalog`` (the catalogue views and macros of each session), ``pgcursors`` (DECLARE / FETCH / CLOSE),
``pgcopy`` (COPY ... TO STDOUT, and FROM STDIN's options), ``pgcopyin`` (reading COPY ... FROM STDIN's data into
DuckDB), ``pgerrors`` (``ProtocolError``, SQLSTATEs), ``pgbackend`` (the served database), ``pgsession`` (each
client's session, which runs its statements) with ``pgstate`` (the session's state), ``pgsettings`` (SET, SHOW,
RESET), ``pgtxn`` (transactions), ``pgobjects`` (the catalogue objects a session creates), ``pgrewrite`` (its SQL
rewritten for DuckDB) and ``pgdiscard`` (DISCARD, DEALLOCATE), and ``pgresult`` (a statement's result, a portal).
This module owns the sockets and the messages; the others never import it.

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
import hashlib
import hmac
import ipaddress
import logging
import os
import re
import secrets
import select
import shutil
import signal
import socket
import socketserver
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import duckdb

from . import attachfiles, lockholder, lockwait, servenotes
from .exceptions import (
    AdDuckDBError,
    DatabaseLockedError,
    clean_up_after,
    held_by_reader,
    is_interrupt,
    without_function_wrapper,
)
from .filelocks import HeldFiles
from .pgarrayparams import array_cast_oids
from .pgbackend import Backend, Sessions, take_snapshot
from .pgcommands import (
    PG_VERSION,
    TXN_WORD,
    datestyle_error,
    intervalstyle_error,
    search_path_sql,
    startup_settings,
    startup_timeout,
)
from .pgerrors import ProtocolError, feature_error, hint_for, in_failed_transaction, sqlstate
from .pgknobs import KNOBS, client_gets, knob_value
from .pgposixzone import posix_rules_hint
from .pgresult import Portal, Result
from .pgsession import Session
from .pgsettings import read_zone, zone_sql
from .pgsql import from_first_word, parameter_casts, typed_parameters
from .pgstate import TIMEOUT_MESSAGE
from .pgtxn import copy_begin, copy_end, sync
from .pgtypes import as_told, decode_param, encode_binary, encode_text
from .servecmd import MAX_CONNECTIONS, PASSWORD_ENV
from .udfs import refresh as refresh_functions

log = logging.getLogger("ad_duckdb.server")


def notes_to_log() -> None:
    """The library's notes (``AdDuckDBWarning``: the SQL functions' note of a text value that differs from a category
    only in case or spaces, textvalues) as lines of the log, ``note: ...``. Why: Python printed them as warnings (a
    source path and line, then a line of code) amid the log's timed lines. Other warnings are shown as before."""
    import warnings

    from .exceptions import AdDuckDBWarning

    shown = warnings.showwarning
    logged: set[str] = set()

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
             line: str | None = None) -> None:
        if issubclass(category, AdDuckDBWarning):
            # to the client whose statement said it (a NOTICE), and once for the server's run to the log
            servenotes.deliver(str(message))
            if str(message) not in logged:
                logged.add(str(message))
                log.warning("note: %s", message)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    # each statement's note reaches its client (servenotes): Python's default says a warning once per code line
    warnings.simplefilter("always", AdDuckDBWarning)


_SSL_REQUEST, _GSS_REQUEST, _CANCEL_REQUEST, _PROTOCOL_3 = 80877103, 80877104, 80877102, 196608
# PostgreSQL's authentication_timeout: a client that has not finished its startup (and password) by then is
# disconnected, so connections that never get that far cannot hold the server's threads.
AUTH_TIMEOUT = 60.0
# How often running statements are checked for a client that has gone (PGServer.watch_clients).
CLIENT_CHECK_INTERVAL = 1.0
# Stopping: each session's goodbye (FATAL 57P01) may wait this long for a client that does not read, and a session
# still blocked sending to such a client after SHUTDOWN_GRACE is cut off, so no client holds up the stop.
SHUTDOWN_SEND_TIMEOUT = 1.0
SHUTDOWN_GRACE = 2.0
# What PostgreSQL sends each session on a fast shutdown (SIGTERM / SIGINT to the postmaster, pg_terminate_backend):
# libpq, JDBC and psycopg (errors.AdminShutdown) report it, rather than "server closed the connection unexpectedly".
SHUTDOWN_MESSAGE, SHUTDOWN_SQLSTATE = "terminating connection due to administrator command", "57P01"
# What PostgreSQL answers a client that connects, or has not finished its startup, once shutdown has begun: libpq
# (psql, psycopg) reports "FATAL:  the database system is shutting down" and asyncpg raises CannotConnectNowError,
# rather than "server closed the connection unexpectedly" or a reset.
STOPPING_MESSAGE, STOPPING_SQLSTATE = "the database system is shutting down", "57P03"
# How often a thread reading a client's startup looks whether the server stops: blocked in recv it would learn of the
# stop only from the client, and the process ended under it without a word.
STARTUP_POLL = 0.2
# Every message type a client may send (PostgreSQL's frontend messages); any other ends the connection.
_FRONTEND_KINDS = frozenset(bytes([c]) for c in b"QPBDECSHXFdcf")
_MAX_MESSAGE = (1 << 30) - 1  # the longest message PostgreSQL reads (PQ_LARGE_MESSAGE_LIMIT)
# The longest password message read before the client has proved anything (PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH).
_MAX_PASSWORD_MESSAGE = 65535
# PostgreSQL's answer to a client beyond max_connections (libpq: "FATAL:  sorry, too many clients already"; psycopg's
# TooManyConnections, PgJDBC's and poolers' cue to wait and retry).
# An idle client unheard of for KEEPALIVE_IDLE s is probed every KEEPALIVE_INTERVAL s; after KEEPALIVE_PROBES
# unanswered its connection is dead (about 2 minutes), its session ends and its place is free (_keep_alive).
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_PROBES = 60, 10, 6
TOO_MANY_MESSAGE, TOO_MANY_SQLSTATE = "sorry, too many clients already", "53300"


@dataclass
class ServerConfig:
    database: str
    host: str = "127.0.0.1"
    port: int = 5433
    password: str | None = None
    read_write: bool = False
    snapshot: bool = False
    wait: float = 0.0  # seconds to retry while another process holds the file (ad-duckdb --wait)
    # other DuckDB files served beside it, read-only (--attach), checked already (attachfiles.check)
    attach: tuple[attachfiles.Attached, ...] = ()
    max_connections: int = MAX_CONNECTIONS  # clients at once, from their startup packet to their session's end


def _disk_mb(backends: list[Backend]) -> str:
    """The size on disk of the backends' --snapshot copies, in MB."""
    size = 0
    for b in backends:
        try:
            size += sum(f.stat().st_size for f in Path(b.snapshot_dir or "").iterdir()) if b.snapshot_dir else 0
        except OSError:
            pass  # removed meanwhile: its last session ended
    return f"{size / 1e6:,.1f}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextmanager
def _layout(message: str) -> Iterator[None]:
    """Reading a message's fields: one that ends early or lacks a terminator is PostgreSQL's "invalid message format"
    (08P01), not Python's "unpack requires a buffer of 2 bytes" or "not enough values to unpack" (XX000)."""
    try:
        yield
    except UnicodeDecodeError:
        raise
    except (struct.error, ValueError) as e:
        raise ProtocolError(f"invalid {message} message format ({e})", "08P01") from e


def _peer_closed(sock: socket.socket) -> bool:
    """Whether the client closed its end: the socket reads as ended (or reset). Pipelined messages are not an end;
    peeking leaves them for the session."""
    try:
        # poll, not select: select refuses a descriptor above 1023, which a server with many clients has
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0)) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):  # reset, or closed by the session meanwhile
        return True


def _keep_alive(sock: socket.socket) -> None:
    """TCP keepalive, as PostgreSQL turns on for every client, probing after KEEPALIVE_IDLE. Why: a client whose network
    dropped without a word (a laptop asleep, a VPN gone) sends no FIN, and its idle session waited in recv forever,
    holding one of --max-connections' places; with the system's own timing (2 hours idle) it held it all day."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if hasattr(socket, "TCP_KEEPIDLE"):  # Linux; elsewhere the system's timing
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, KEEPALIVE_IDLE)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, KEEPALIVE_INTERVAL)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, KEEPALIVE_PROBES)
    except OSError:
        pass  # a client already gone: its first read says so


class _Stopping(ConnectionError):
    """The server stops: the session ends with FATAL 57P01 (Handler.say_shutdown) instead of answering its statement."""


class _CannotConnectNow(Exception):
    """The server stops while this client is still starting: it is answered FATAL 57P03 (Handler.say_shutdown)."""



def _interrupt_while_running(session: Session, every: float = 0.05, within: float = 10.0) -> None:
    """After a cancel's interrupt: interrupt the session's message again every ``every`` seconds while that same
    message runs (at most ``within`` seconds). Why again: DuckDB forgets an interrupt that comes before its query
    starts, and the session's own look for a cancel (Session.run) comes just before it starts, so an interrupt
    landing between the two was lost and the statement ran on (a query over 10^10 rows: for good)."""
    message = session.message_no

    def interrupt() -> bool:
        if not session.busy or session.message_no != message:
            return False
        try:
            session.cur.interrupt()
        except duckdb.Error:
            return False  # the session ended meanwhile and closed its cursor
        return True

    def repeat() -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            time.sleep(every)
            if not interrupt():
                return

    if session.busy:
        threading.Thread(target=repeat, name="interrupt", daemon=True).start()


class PGServer(socketserver.ThreadingTCPServer, Sessions):
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
        from .cliopen import refuse_empty_path

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
                f"No database file {config.database!r}; create it first (e.g. ad-duckdb train)."), EXIT_NO_DATABASE)
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

    def watch_clients(self) -> None:
        """Interrupt the statement of a client that has closed its connection.

        Why: a session notices the close only when it next writes or reads, which a long aggregate never does; a
        closed dashboard's query kept its thread and a core busy until it ended (for some, never). PostgreSQL's
        client_connection_check_interval does the same: a closed (or half-closed) connection cancels the query.
        """
        while not self._stopping.wait(CLIENT_CHECK_INTERVAL):
            with self._lock:
                busy = [(sock, session) for sock, session in self._clients.values() if session.busy]
            for sock, session in busy:
                if _peer_closed(sock):
                    try:
                        session.cur.interrupt()
                    except duckdb.Error:
                        pass  # the session ended meanwhile and closed its cursor

    def _open_backend(self, wait: float | None = None) -> Backend:
        """The served database; at start-up (``wait`` given), retried for up to ``wait`` seconds while another
        process holds the file.

        Why wait: a server started right after the nightly retrain (`ad-duckdb --wait 600 serve ...`) failed at once
        while the training still held the file, though --wait says it retries.
        """
        cfg = self.config
        deadline = time.monotonic() + (wait or 0)
        # Why kept across retries: a copy taken again at each retry copied DB twice a second while an --attach file
        # was held by a writer that took it between the look below and the Backend's attach
        copy: tuple[str, str] | None = None
        said = False

        def say_waiting(e: DatabaseLockedError) -> None:
            # Why: a server waiting in silence for up to --wait seconds looked hung in its log, where every other
            # command says in one line what it waits for (lockwait.retry_while_locked)
            nonlocal said
            if wait and not said:
                log.warning("%s", lockwait.waiting_note(e, wait, "--wait"))
                said = True

        try:
            while True:
                try:
                    if wait is not None:
                        # Why the --attach files first, at start-up: while one is held by a writer, DB is neither
                        # opened (for writing, with --read-write: other users blocked) nor copied. Not at a SIGHUP
                        # reload, whose served backend holds them: closing the look's handle would let go of its lock
                        for a in cfg.attach:
                            attachfiles.probe(a)
                    # Why the --attach files live, not copied with --snapshot: a copy of a warehouse file per start
                    # and per SIGHUP; they are open read-only, so a process writing one waits for the server to stop
                    if not cfg.snapshot:
                        return Backend(cfg.database, read_write=cfg.read_write, attach=cfg.attach, sessions=self,
                                       original=cfg.database)
                    copy = copy or self._take_snapshot()
                    backend = Backend(copy[0], read_write=False, snapshot_dir=copy[1], attach=cfg.attach,
                                      sessions=self, original=cfg.database)
                    copy = None  # the backend's now: it removes the copy when it closes
                    return backend
                except duckdb.IOException as e:
                    if "lock" not in str(e).lower():
                        raise self._not_openable(e) from e
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise self._locked(e, wait) from e
                    say_waiting(DatabaseLockedError(self._locked(e, None).message))
                    time.sleep(min(0.5, left))
                except DatabaseLockedError as e:  # an --attach file another process writes (attachfiles.attach)
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise self._attach_failed(e, wait) from e
                    say_waiting(e)
                    time.sleep(min(0.5, left))
                except AdDuckDBError as e:  # an --attach file that is no DuckDB database, an alias taken by a schema
                    raise self._attach_failed(e, wait) from e
                except duckdb.CatalogException as e:
                    if "in-memory" not in str(e):
                        raise
                    raise self._not_openable(e) from e
        finally:
            if copy is not None:
                shutil.rmtree(copy[1], ignore_errors=True)  # a copy nobody serves: not left in the temp folder

    def _take_snapshot(self) -> tuple[str, str]:
        """take_snapshot, with a copy that fails for lack of room (or of a writable temporary folder) as one line
        naming the folder, the room needed and TMPDIR. Why: a copy that did not fit in a small /tmp printed DuckDB's
        TransactionException as a traceback at start-up, and a SIGHUP reload logged it without the fix."""
        try:
            return take_snapshot(self.config.database)
        except duckdb.IOException as e:
            if "lock" in str(e).lower() or is_interrupt(e):
                raise  # a writer holds DB: _open_backend waits or says so
            raise self._not_copyable(e) from e
        except (duckdb.Error, OSError) as e:
            if is_interrupt(e):
                raise
            raise self._not_copyable(e) from e

    def _not_copyable(self, e: BaseException) -> BaseException:
        """A copy that failed: for DB no DuckDB database (a folder, a text or Parquet file) that, as without
        --snapshot (``_not_openable``), not the lack of room in the temporary folder it was blamed on."""
        # only what says DB is no database: the copy's own writes fail too (no room, a temporary folder this user
        # may not write), and those are the temporary folder's, which _snapshot_failed names
        text = str(e).lower()
        no_database = isinstance(e, duckdb.Error) and (
            "not a valid duckdb database file" in text or Path(self.config.database).is_dir()
            or (isinstance(e, duckdb.CatalogException) and "in-memory" in text))
        said = self._not_openable(e) if no_database and isinstance(e, duckdb.Error) else e
        return said if said is not e else self._snapshot_failed(e)

    def _snapshot_failed(self, e: BaseException) -> click.ClickException:
        folder = tempfile.gettempdir()
        try:
            size = f" ({Path(self.config.database).stat().st_size / 1e6:,.1f} MB)"
        except OSError:
            size = ""
        reason = " ".join(str(e).split())
        return click.ClickException(
            f"Cannot take the --snapshot copy of {self.config.database!r} in the temporary folder {folder}: "
            f"{reason}. The copy needs room for the whole database{size} there: free some space, or point TMPDIR at "
            f"a folder on a disk with room (TMPDIR=/path/with/room ad-duckdb serve ... --snapshot).")

    def _not_openable(self, e: duckdb.Error) -> BaseException:
        """DB as no DuckDB database the server can open (a folder, a text file, a Parquet file DuckDB opens as an
        in-memory database) in the words, and with the exit code (3), every other command gives. Why: serve printed
        DuckDB's error as a traceback, exit 1; other errors are returned as they are."""
        from .clifail import EXIT_NO_DATABASE, with_exit_code
        from .opendb import _not_a_database, _open_error

        db = self.config.database
        said = (_not_a_database(db) if isinstance(e, duckdb.CatalogException)
                else _open_error(db, not self.config.read_write, e) if isinstance(e, duckdb.IOException) else None)
        return e if said is None else with_exit_code(click.ClickException(str(said)), EXIT_NO_DATABASE)

    def _locked(self, e: duckdb.IOException, wait: float | None) -> click.ClickException:
        """The lock error, with the fix; ``wait``: how long start-up waited (None: a SIGHUP reload)."""
        # Why two texts: with --snapshot the copy itself needs a moment without a writer; advising
        # --snapshot to someone using it sends them in a circle
        fix = ("--snapshot copies the file only while no process writes it: wait for the training / dbt run "
               "to finish, then start the server again, or send a running one SIGHUP again"
               if self.config.snapshot else
               "wait for the training / dbt run to finish, or serve a copy with --snapshot")
        how = ("" if wait is None else f" (waited {wait:g}s with --wait)" if wait else
               " `ad-duckdb --wait SECONDS serve ...` waits for the file to be free.")
        duckdb_text = held_by_reader(str(e))
        holder = lockholder.describe(str(e))
        if duckdb_text is not None:  # only --read-write meets a reader: a reading server shares the file with one
            err = click.ClickException(
                f"Cannot open {self.config.database!r} for writing: another process has it open read-only "
                f"({duckdb_text}).{holder} DuckDB allows no writing process beside reading ones: wait for the reader "
                f"to finish, or stop it (another server, a BI tool, a scoring job).{how}")
        else:
            err = click.ClickException(
                f"Cannot open {self.config.database!r}: another process has it open for writing ({e}).{holder} "
                f"DuckDB allows one writing process per file: {fix}.{how}")
        from .clifail import EXIT_LOCKED, with_exit_code

        return with_exit_code(err, EXIT_LOCKED)  # as every other command's locked file: a script retries it later

    def _attach_failed(self, e: AdDuckDBError, wait: float | None) -> click.ClickException:
        """An --attach file's error as the other commands give it (one line, exit 3 or 4); ``wait`` as in _locked."""
        from .clifail import _failure

        how = ("" if not isinstance(e, DatabaseLockedError) or wait is None else
               f" (waited {wait:g}s with --wait)" if wait else
               " `ad-duckdb --wait SECONDS serve ...` waits for the file to be free.")
        # an alias that is a schema of DB: a wrong option, exit 2, as the other commands' (cliopen._open)
        return _failure(f"{e}{how}", e, code=2 if isinstance(e, attachfiles.AttachOptionError) else None)

    def reload(self) -> str:
        """Snapshot mode: take a fresh copy and serve it to new clients. Otherwise: re-read the stored models."""
        if not self.config.snapshot:
            refresh_functions(self.backend.con)
            return "models refreshed: " + self.backend.models_text()
        try:
            new = self._open_backend()
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

    def take_place(self) -> bool:
        """A place for one more client, or False when --max-connections are taken. Why: every client got a thread and
        a DuckDB cursor, without limit, so a runaway pool or a script connecting in a loop took the process down.
        Taken, as PostgreSQL's, once the startup packet is read and before authentication (a client at the password
        holds one: PostgreSQL's backend has its slot by then); freed when the client's thread ends (Handler.finish),
        however the session ended."""
        with self._lock:
            if self._places >= self.config.max_connections:
                return False
            self._places += 1
            return True

    def free_place(self) -> None:
        with self._lock:
            self._places -= 1

    def open_session(self, sock: socket.socket) -> tuple[Backend, Session, int, int]:
        with self._lock:
            # Checked under the lock close_all takes to list the sessions: a client either is among them, and is told
            # 57P01 with them, or is refused here
            if self.stopping:
                raise _CannotConnectNow
            backend = self.backend
            cur = backend.con.cursor()
            try:
                session = Session(cur, backend.catalog_sql, read_only=not backend.read_write)
                session.max_connections = self.config.max_connections
            except duckdb.Error:
                cur.close()
                raise
            backend.sessions += 1
            pid, key = next(self._pids), secrets.randbits(31)
            session.pid = pid
            self._clients[(pid, key)] = (sock, session)
            self._starting.discard(sock)
        return backend, session, pid, key

    def close_session(self, backend: Backend, session: Session, pid: int, key: int) -> None:
        with self._lock:
            self._clients.pop((pid, key), None)
            session.cur.close()
            backend.sessions -= 1
            close_old = backend.retired and backend.sessions == 0
        if close_old:
            self._close_retired(backend)

    def cancel(self, pid: int, key: int) -> None:
        with self._lock:
            client = self._clients.get((pid, key))
        # As in PostgreSQL, a cancel reaches only a running statement: between statements (or between the
        # pages of a result) interrupting would abort the client's transaction for nothing.
        if client is not None and client[1].busy:
            client[1].cancel_requested = True  # COPY FROM STDIN between two messages of data: it checks this
            client[1].cur.interrupt()
            _interrupt_while_running(client[1])

    def activity(self) -> list[dict[str, Any]]:
        with self._lock:
            sessions = [session for _, session in self._clients.values()]
        return [s.activity_row() for s in sorted(sessions, key=lambda s: s.pid)]

    def signal(self, pid: int, terminate: bool) -> bool:
        """pg_cancel_backend / pg_terminate_backend(pid): as a CancelRequest, a cancel interrupts only a running
        statement; a terminate also shuts the session's reading, so it ends with FATAL 57P01 (Handler.say_shutdown)
        once its statement has stopped, or at once if it was idle."""
        with self._lock:
            found = [(sock, session) for (p, _), (sock, session) in self._clients.items() if p == pid]
        if not found:
            return False
        sock, session = found[0]
        if terminate:
            session.terminated = True
            try:
                sock.shutdown(socket.SHUT_RD)  # an idle session's read ends: it says why, then ends
            except OSError:
                pass
        if session.busy or terminate:
            session.cancel_requested = True
            try:
                session.cur.interrupt()
            except duckdb.Error:
                pass  # the session ended meanwhile and closed its cursor
            _interrupt_while_running(session)
        return True

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

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
                session.cur.interrupt()  # repeated: an interrupt between two statements of a batch is lost
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


# ---------------------------------------------------------------- the protocol, one client


class Handler(socketserver.BaseRequestHandler):
    server: PGServer

    def setup(self) -> None:
        _keep_alive(self.request)
        self.rfile = self.request.makefile("rb")
        self.out = bytearray()
        self.broken = False  # a send failed part-way: the client's stream is cut mid-message, nothing more can follow
        self.starting = True  # startup and password: read unbuffered, watching for a stop (read_starting)
        self.awaiting_password = False
        self.stop_seen: float | None = None  # when a starting client's thread first saw the stop
        self.said_ready = False  # the first ReadyForQuery is sent: the client is connected
        self.reported: dict[str, str] = {}  # the GUC_REPORT settings' values the client was last sent (ready)
        self.placed = False  # holds one of the server's --max-connections places (PGServer.take_place)

    def finish(self) -> None:
        # socketserver runs it after handle() whatever happened, so a client that vanished frees its place too
        try:
            super().finish()
        finally:
            if self.placed:
                self.placed = False
                self.server.free_place()

    # -- low-level IO
    def read_exact(self, n: int) -> bytes:
        if self.starting:
            return self.read_starting(n)
        data = self.rfile.read(n)
        if len(data) != n:
            raise ConnectionError("client closed the connection")
        return data

    def read_starting(self, n: int) -> bytes:
        """``n`` bytes of the client's startup or password. Unbuffered, so nothing past them is taken from the session's
        reader (rfile); in STARTUP_POLL slices, so a stop that begins meanwhile is seen (check_stop)."""
        data = b""
        poller = select.poll()
        poller.register(self.request, select.POLLIN)
        while len(data) < n:
            while not poller.poll(STARTUP_POLL * 1000):
                self.check_stop()
            chunk = self.request.recv(n - len(data))
            if not chunk:
                raise ConnectionError("client closed the connection")
            data += chunk
        return data

    def check_stop(self) -> None:
        """Raise _CannotConnectNow once a starting client should be told the server stops. A client waiting for our
        answer (at the password) is told at once; one still sending its startup packet is read for SHUTDOWN_GRACE
        more, so the answer follows the packet, where libpq reads it (sent first, it was taken as the answer to the
        SSLRequest, and the close of a socket with the packet unread resets the connection)."""
        if not self.server.stopping:
            return
        if self.stop_seen is None:
            self.stop_seen = time.monotonic()
        if self.awaiting_password or time.monotonic() - self.stop_seen > SHUTDOWN_GRACE:
            raise _CannotConnectNow

    def read_message(self, limit: int = _MAX_MESSAGE, what: str = "message") -> tuple[bytes, bytes]:
        """The client's next message: its type and body. A length no message has ends the connection, as in
        PostgreSQL (FATAL 08P01): where the next message starts is lost, and reading a length under 4 (a negative
        count) waited for the client to close."""
        kind = self.read_exact(1)
        n = struct.unpack("!i", self.read_exact(4))[0]
        if not 4 <= n <= limit:
            self.fatal(f"invalid {what} length")
            raise ConnectionError(f"invalid message length {n}")
        return kind, self.read_exact(n - 4)

    def fatal(self, message: str, code: str = "08P01") -> None:
        """A FATAL error, as PostgreSQL sends before it ends a connection it cannot go on with."""
        self.send(b"E", b"SFATAL\x00VFATAL\x00C" + code.encode() + b"\x00M" + message.encode() + b"\x00\x00")
        self.flush()

    def send(self, kind: bytes, body: bytes = b"") -> None:
        self.out += kind + struct.pack("!i", len(body) + 4) + body
        if len(self.out) > 1 << 16:
            self.flush()

    def flush(self) -> None:
        if self.out:
            try:
                self.request.sendall(self.out)
            except OSError:
                self.broken = True
                raise
            self.out.clear()

    def say_shutdown(self) -> None:
        """The server stops: send this session's FATAL 57P01 once, after what it has sent, then it ends. PostgreSQL
        sends no ReadyForQuery after it. A client not connected yet (no ReadyForQuery) is told 57P03 instead, as
        PostgreSQL tells one that connects during a shutdown. Best effort: a client that does not read gets
        SHUTDOWN_SEND_TIMEOUT."""
        if self.broken:
            return
        try:
            self.request.settimeout(SHUTDOWN_SEND_TIMEOUT)
            if self.said_ready:
                self.fatal(SHUTDOWN_MESSAGE, SHUTDOWN_SQLSTATE)
            else:
                self.fatal(STOPPING_MESSAGE, STOPPING_SQLSTATE)
        except OSError:  # gone, not reading, or its socket shut by close_all
            pass

    def send_error(self, e: BaseException) -> None:
        s = getattr(self, "session", None)
        if s is not None:
            self.send_notices(s)  # a statement's warnings come before its error
        if s is not None and (self.server.stopping or s.terminated):
            # The interrupt of a stop (or any error meanwhile) is not the statement's error: the session ends with
            # PostgreSQL's FATAL instead (handle), which an ERROR and ReadyForQuery sent first would hide
            raise _Stopping("the server is stopping") from e
        if s is not None and s.timed_out and isinstance(e, duckdb.InterruptException):
            e = ProtocolError(TIMEOUT_MESSAGE, "57014")  # our timer's interrupt, not the client's cancel
        elif s is not None and s.cancel_requested and isinstance(e, duckdb.InterruptException):
            e = ProtocolError("canceling statement due to user request", "57014")  # PostgreSQL's words for it
        e = feature_error(e)
        msg = without_function_wrapper(str(e).replace("\x00", ""))
        if isinstance(e, duckdb.InvalidInputException) and sqlstate(e) in ("42P01", "42704", "42883"):
            # our regclass lookup's error, current_setting's of an unset dotted setting and round's of a double
            # (pgresulttypes), worded as PostgreSQL's
            msg = msg.removeprefix("Invalid Input Error: ")
        fields = [b"SERROR", b"VERROR", b"C" + sqlstate(e).encode(), b"M" + msg.encode()]
        hint = getattr(e, "hint", "") or hint_for(msg)
        if hint:
            fields.append(b"H" + str(hint).replace("\x00", "").encode())
        where = getattr(e, "where", "")  # pgcopyin.CopyError's; clients show it as CONTEXT
        if where:
            fields.append(b"W" + str(where).replace("\x00", "").encode())
        routine = getattr(e, "routine", "")
        if routine:
            fields.append(b"R" + routine.encode())
        self.send(b"E", b"\x00".join(fields) + b"\x00\x00")

    def ready(self, status: bytes) -> None:
        s = getattr(self, "session", None)
        if s is not None and self.said_ready:
            # As PostgreSQL reports a changed GUC_REPORT setting (SET / RESET application_name or TimeZone, DISCARD
            # ALL, a ROLLBACK undoing one): a ParameterStatus before the ReadyForQuery, which drivers keep as the
            # connection's (psycopg reads TimeZone to give timestamptz values their zone)
            for name, value in (("application_name", s.application_name), ("TimeZone", s.time_zone)):
                if self.reported.get(name) != value:
                    self.send(b"S", name.encode() + b"\x00" + value.encode() + b"\x00")
                    self.reported[name] = value
        if s is not None:
            self.send_notices(s)  # a note said while the rows were read (servenotes), before the statement ends
            # idle before the client is told so: one that read the ReadyForQuery and asked pg_stat_activity at once
            # on another connection (a tool's Stop button, a monitor) still saw the session 'active'
            s.busy = False
        self.send(b"Z", status)
        self.flush()
        self.said_ready = True

    # -- startup and authentication
    def startup(self) -> dict[str, str] | None:
        while True:
            n = struct.unpack("!i", self.read_exact(4))[0]
            if not 8 <= n <= 10000:  # PostgreSQL's limit; the client learns why it was dropped (it did not)
                self.fatal("invalid length of startup packet")
                return None
            body = self.read_exact(n - 4)
            code = struct.unpack("!i", body[:4])[0]
            if code in (_SSL_REQUEST, _GSS_REQUEST):
                self.request.sendall(b"N")  # no TLS: clients with sslmode=prefer go on in plain text
                continue
            if code == _CANCEL_REQUEST:
                pid, key = struct.unpack("!ii", body[4:12])
                self.server.cancel(pid, key)
                return None
            if code >> 16 != _PROTOCOL_3 >> 16:
                self.fatal(f"unsupported frontend protocol {code >> 16}.{code & 0xFFFF}: server supports 3.0 to 3.0",
                           "0A000")
                return None
            # Why checked: a parameter that is not UTF-8 raised in this thread, so the client got no answer and the
            # server's log a traceback; PostgreSQL refuses a packet without its final terminator the same way.
            try:
                text = body[4:].decode()
            except UnicodeDecodeError:
                self.fatal("invalid startup packet: parameter names and values must be UTF-8")
                return None
            if not text.endswith("\x00"):
                self.fatal("invalid startup packet layout: expected terminator as last byte")
                return None
            parts = text.split("\x00")
            params = {parts[i]: parts[i + 1] for i in range(0, len(parts) - 1, 2) if parts[i]}
            # A newer 3.x (libpq 18's max_protocol_version=3.2) or protocol options (_pq_.*) are negotiated down, as
            # PostgreSQL does: the client learns we speak 3.0 without them and goes on (an error ended its connection).
            unknown = [k for k in params if k.startswith("_pq_.")]
            if code != _PROTOCOL_3 or unknown:
                self.send(b"v", struct.pack("!ii", _PROTOCOL_3, len(unknown)) + b"".join(k.encode() + b"\x00" for k in unknown))
            return {k: v for k, v in params.items() if k not in unknown}

    def authenticate(self, user: str) -> bool:
        password = self.server.config.password
        if password:
            # md5 rather than cleartext: the password never crosses the (unencrypted) wire.
            salt = os.urandom(4)
            self.send(b"R", struct.pack("!i", 5) + salt)
            self.flush()
            self.awaiting_password = True
            # Why a limit of its own: the client has proved nothing yet, and a 1 GiB "password" was read into memory.
            kind, got = self.read_message(_MAX_PASSWORD_MESSAGE, "password message")
            got = got.rstrip(b"\x00")
            inner = hashlib.md5((password + user).encode()).hexdigest().encode()
            want = b"md5" + hashlib.md5(inner + salt).hexdigest().encode()
            if kind != b"p" or not hmac.compare_digest(got, want):
                # FATAL, as PostgreSQL ends the connection: psql shows "FATAL:", which a script or a monitor matches
                self.fatal(f'password authentication failed for user "{user}"', "28P01")
                # %r: the name is the client's, and a line break in it would forge a log line
                log.warning("refused %s: wrong or missing password for user %r", self.client_address[0], user)
                return False
        self.send(b"R", struct.pack("!i", 0))
        return True

    def _end_overdue_startup(self) -> None:
        with self._startup_lock:
            if not self._started:
                self._overdue = True
                try:
                    self.request.shutdown(socket.SHUT_RDWR)  # wakes the thread waiting in recv
                except OSError:
                    pass

    def handle(self) -> None:
        # Why: each connection is a thread; one that connected and sent nothing (or stopped at the password) held
        # its thread until the client went away, without ever proving it may connect. The socket timeout ends a
        # silent client; the timer is the deadline for the whole startup (a timeout restarts at every byte, so a
        # client sending one byte a minute was never ended).
        self.request.settimeout(AUTH_TIMEOUT)
        self._startup_lock, self._started, self._overdue = threading.Lock(), False, False
        overdue = threading.Timer(AUTH_TIMEOUT, self._end_overdue_startup)
        overdue.daemon = True
        overdue.start()
        try:
            params = self.startup()
            if params is None:
                return
            if self.server.stopping:  # as PostgreSQL: the startup packet is read, then the client is refused
                raise _CannotConnectNow
            self.placed = self.server.take_place()
            if not self.placed:  # as PostgreSQL: after the startup packet, before authentication
                self.fatal(TOO_MANY_MESSAGE, TOO_MANY_SQLSTATE)
                log.warning("refused %s: too many clients, --max-connections %d are connected already",
                            self.client_address[0], self.server.config.max_connections)
                return
            user = params.get("user", "")
            if not self.authenticate(user):
                return
        except _CannotConnectNow:
            self.say_shutdown()
            return
        except (ConnectionError, OSError, struct.error):  # TimeoutError is an OSError
            return
        finally:
            overdue.cancel()
        with self._startup_lock:
            if self._overdue:  # the deadline passed just as the password arrived: the socket is already shut
                return
            self._started = True
        self.starting = False
        self.request.settimeout(None)  # a session may stay idle as long as its client likes, as in PostgreSQL
        try:
            settings = startup_settings(params)
            timeout = startup_timeout(params)
            # as SET DateStyle / IntervalStyle check them: a style the server cannot write was taken, and dates and
            # intervals went on in the server's own
            for name, refusal in (("datestyle", datestyle_error), ("intervalstyle", intervalstyle_error)):
                style = settings.get(name)
                if style is not None and (err := refusal(style)) is not None:
                    raise err
            # options='-c work_mem=64MB': the session's own, which RESET goes back to (a value PostgreSQL refuses
            # is its FATAL, as any bad startup setting)
            knobs = {k: knob_value(k, v) for k, v in settings.items() if k in KNOBS}
        except ProtocolError as e:
            self.fatal(str(e), e.sqlstate)  # PostgreSQL's answer to an invalid startup setting
            return
        try:
            backend, session, pid, key = self.server.open_session(self.request)
        except _CannotConnectNow:
            self.say_shutdown()
            return
        except duckdb.Error as e:
            self.send_error(e)
            self.flush()
            return
        session.timeout_ms = session.timeout_default = timeout
        session.application_name = session.application_name_default = settings.get("application_name", "")
        session.client = (str(self.client_address[0]), int(self.client_address[1]))
        session.custom_settings, session.knob_defaults = dict(knobs), knobs
        self.session = session
        try:
            import ad_duckdb

            if not self.startup_path(session, settings.get("search_path")):
                return
            notice = self.startup_zone(session, settings.get("timezone"))
            tz = session.time_zone
            for k, v in {"server_version": f"{PG_VERSION} (ad_duckdb {ad_duckdb.__version__})",
                         "server_encoding": "UTF8", "client_encoding": "UTF8", "DateStyle": "ISO, MDY",
                         "IntervalStyle": "postgres", "TimeZone": tz, "integer_datetimes": "on",
                         "standard_conforming_strings": "on", "is_superuser": "off", "session_authorization": user,
                         "application_name": session.application_name}.items():
                self.send(b"S", k.encode() + b"\x00" + v.encode() + b"\x00")
            self.reported = {"application_name": session.application_name, "TimeZone": tz}
            self.send(b"K", struct.pack("!ii", pid, key))
            self.ready(session.status)
            if notice:
                self.warning(notice)
                self.flush()
            self.loop(session)
        except (ConnectionError, OSError):
            pass
        except duckdb.Error:
            if not self.server.stopping:  # the stop's interrupt of the TimeZone query: the client is told why below
                raise
        finally:
            if self.server.stopping or session.terminated:
                self.say_shutdown()
            self.server.close_session(backend, session, pid, key)

    def startup_path(self, s: Session, path: str | None) -> bool:
        """Apply the search_path the client gave at startup (Superset's engine parameters: options='-c
        search_path=analytics'); False when it cannot (the client was told why, FATAL, as PostgreSQL refuses a bad
        startup setting). Why refuse a schema that does not exist, which PostgreSQL skips: DuckDB's search path takes
        none, and the session would read another schema's tables of the same names without a word."""
        if path is None:
            return True
        sql = search_path_sql(f"SET search_path TO {path}")
        try:
            if sql is None:
                raise ProtocolError(f"invalid value for parameter \"search_path\": \"{path}\" (a list of schema names)",
                                    "22023")
            s.cur.execute(sql)
        except (duckdb.Error, ProtocolError) as e:
            self.fatal(f"search_path {path!r} given at connect: {e}", "3F000" if isinstance(e, duckdb.Error) else "22023")
            return False
        if sql != "RESET search_path":
            s.held_defaults["search_path"] = sql
        return True

    def startup_zone(self, s: Session, asked: str | None) -> str | None:
        """Apply the TimeZone the client gave at connect (PgJDBC sends the JVM's; libpq's options='-c TimeZone=...'),
        which RESET and DISCARD ALL go back to; the warning to send when DuckDB knows no such zone. Why a warning
        where PostgreSQL refuses the connection: PgJDBC always sends the JVM's zone, and a JVM's name DuckDB lacks
        must not keep a Java tool from connecting; the session keeps the server's zone, and the client is told."""
        read_zone(s)
        if asked is None or asked.strip().lower() in ("default", "local"):
            return None
        try:
            sql, zone = zone_sql(asked.strip())
            s.cur.execute(sql)
        except ProtocolError as e:  # an offset it cannot hold (SET TIME ZONE 30)
            return f"{e} given at connect, so this session's time zone is the server's, {s.time_zone!r}"
        except duckdb.Error:
            if (hint := posix_rules_hint(asked)) is not None:  # (PGTZ of a POSIX TZ variable)
                return (f'invalid value for parameter "TimeZone": "{asked}" given at connect ({hint}), so this '
                        f"session's time zone is the server's, {s.time_zone!r}; SET TimeZone to one of those.")
            return (f'invalid value for parameter "TimeZone": "{asked}" given at connect: DuckDB knows no such zone, '
                    f"so this session's time zone is the server's, {s.time_zone!r}; SET TimeZone to a zone it knows "
                    "(SELECT name FROM pg_timezone_names()), or convert in SQL (timezone('Europe/Paris', ts)).")
        s.held_defaults["timezone"], s.default_zone = sql, zone
        read_zone(s, zone)
        return None

    def warning(self, msg: str, code: str = "01000", severity: str = "WARNING") -> None:
        """PostgreSQL's NoticeResponse (of severity WARNING unless told), unless the session's client_min_messages
        is above its level."""
        s = getattr(self, "session", None)
        if s is not None and not client_gets(severity, s.custom_settings.get("client_min_messages")):
            return
        level = severity.encode()
        self.send(b"N", b"S" + level + b"\x00V" + level + b"\x00C" + code.encode() + b"\x00M"
                  + msg.replace("\x00", "").encode() + b"\x00\x00")

    def send_notices(self, s: Session) -> None:
        """The notices of the statement that just ran (Session.notices), before its result, as PostgreSQL sends them."""
        while s.notices:
            self.warning(*s.notices.pop(0))

    def loop(self, s: Session) -> None:
        skip_to_sync = False  # after an error in the extended protocol, PostgreSQL ignores messages until Sync
        while True:
            kind, body = self.read_message()
            if kind == b"X":
                return
            if kind == b"S":
                skip_to_sync = False
                try:
                    sync(s)
                except duckdb.Error as e:  # the COMMIT of the implicit transaction failed: the client must know
                    self.send_error(e)
                self.ready(s.status)
                continue
            if kind == b"H":
                self.flush()
                continue
            if kind not in _FRONTEND_KINDS:
                # As PostgreSQL: where the client's messages stand is unknown, so the connection ends. Answered with
                # an error, a client waited for a ReadyForQuery that comes only after a Sync it did not plan to send.
                self.fatal(f"invalid frontend message type {kind[0]}")
                return
            if skip_to_sync:
                continue
            s.timed_out = s.cancel_requested = False  # (before busy: a cancel from now on is this message's)
            s.message_no += 1
            s.busy = True
            timer = self.arm_timeout(s) if s.timeout_ms and kind in (b"Q", b"D", b"E") else None
            running = servenotes.statement(s)
            running.__enter__()
            try:
                if kind == b"Q":
                    self.simple_query(s, body.rstrip(b"\x00").decode())
                elif kind == b"P":
                    self.parse(s, body)
                elif kind == b"B":
                    self.bind(s, body)
                elif kind == b"D":
                    self.describe(s, body)
                elif kind == b"E":
                    self.execute(s, body)
                elif kind == b"C":
                    name = body[1:].rstrip(b"\x00").decode()
                    if body[:1] == b"S":
                        s.statements.pop(name, None)
                        s.described.pop(name, None)
                    else:
                        closed = s.portals.pop(name, None)
                        s.forget(closed.result if closed else None)
                        if closed is None and name in s.cursors.open:
                            s.close_cursors(name)  # an SQL cursor is a portal too, as in PostgreSQL
                    self.send(b"3")
                elif kind in (b"d", b"c", b"f"):
                    continue  # COPY data after the COPY failed (or never began): ignored, as PostgreSQL does
                else:  # FunctionCall (libpq's PQfn, large objects): answered like a Query, with ReadyForQuery
                    raise ProtocolError("FunctionCall messages are not supported; call the function in a query "
                                        "(SELECT f(...)).", "0A000")
            except (ConnectionError, OSError):
                raise
            except Exception as e:  # noqa: BLE001 - any failure is this client's error, never the server's end
                if isinstance(e, UnicodeDecodeError):  # PostgreSQL's text for it (it was Python's, SQLSTATE XX000)
                    e = ProtocolError(f'invalid byte sequence for encoding "UTF8": 0x{e.object[e.start]:02x}', "22021")
                if not isinstance(e, duckdb.Error | ProtocolError | ValueError | struct.error):
                    log.exception("unexpected error serving %s", self.client_address[0])
                self.send_error(e)
                if kind in (b"Q", b"F"):
                    self.ready(s.status)
                else:
                    skip_to_sync = True
                    s.implicit_failed = s.implicit or s.unsynced  # unsynced: a SET before it is undone at Sync
                    self.flush()
            finally:
                running.__exit__(None, None, None)
                if timer is not None:
                    with s.timer_lock:
                        s.deadline = None
                    timer.cancel()
                s.busy = False

    def arm_timeout(self, s: Session) -> threading.Timer:
        """statement_timeout: interrupt this message's statement if it still runs after ``s.timeout_ms``."""
        s.deadline = time.monotonic() + s.timeout_ms / 1000

        def fire() -> None:
            with s.timer_lock:  # the message may have ended meanwhile: then there is nothing to interrupt
                if s.deadline is not None:
                    s.timed_out = True
                    s.cur.interrupt()

        t = threading.Timer(s.timeout_ms / 1000, fire)
        t.daemon = True
        t.start()
        return t

    # -- simple query protocol
    def simple_query(self, s: Session, sql: str) -> None:
        if s.implicit or s.unsynced:  # extended-protocol statements not yet ended by a Sync: a Query ends them first
            sync(s)
        if not sql.strip().strip(";").strip():
            self.send(b"I")
            self.ready(s.status)
            return
        results = s.run(sql)
        try:
            for r in results:
                self.send_notices(s)
                if r.copy_in is not None:
                    self.copy_in(s, r, extended=False)
                    continue
                formats = [1] * len(r.columns) if r.binary and r.columns else None
                if r.columns is not None and r.copy is None:
                    self.row_description(r.columns, formats)
                self.data_rows(r, 0, formats)
        except duckdb.Error as e:
            self.send_error(e)
        finally:
            results.close()  # a batch's implicit transaction ends now (rolled back after an error), not when collected
        self.ready(s.status)

    # -- extended query protocol
    def parse(self, s: Session, body: bytes) -> None:
        with _layout("Parse"):
            name, rest = body.split(b"\x00", 1)
            query, rest = rest.split(b"\x00", 1)
            (n,) = struct.unpack("!H", rest[:2])  # unsigned, as PostgreSQL reads it: up to 65,535 parameters
            oids = list(struct.unpack(f"!{n}i", rest[2:2 + 4 * n])) if n else []
        # (the client's own text too: an error quotes it, not the parameters' casts added, pgerrorline)
        # (a parameter cast to an array, $1::text[], takes that type, as PostgreSQL infers it: pgarrayparams)
        s.statements[name.decode()] = (typed_parameters(query.decode(), oids), array_cast_oids(query.decode(), oids),
                                       query.decode())
        s.described.pop(name.decode(), None)
        self.send(b"1")

    def bind(self, s: Session, body: bytes) -> None:
        with _layout("Bind"):
            portal, rest = body.split(b"\x00", 1)
            stmt, rest = rest.split(b"\x00", 1)
        if stmt.decode() not in s.statements:
            raise ProtocolError(f'prepared statement "{stmt.decode()}" does not exist', "26000")
        sql, oids, written = s.statements[stmt.decode()]
        pos = 0

        def i16(fmt: str = "!h") -> int:
            nonlocal pos
            v = struct.unpack(fmt, rest[pos:pos + 2])[0]
            pos += 2
            return int(v)

        with _layout("Bind"):
            # Counts are unsigned, as PostgreSQL reads them: read signed, 32,768 parameters or more came out negative
            formats = [i16() for _ in range(i16("!H"))]
            values: list[bytes | None] = []
            for _ in range(i16("!H")):
                ln = struct.unpack("!i", rest[pos:pos + 4])[0]
                pos += 4
                if ln > len(rest) - pos:
                    raise struct.error("a parameter value runs past the message's end")
                values.append(None if ln < 0 else rest[pos:pos + ln])
                if ln > 0:
                    pos += ln
            result_formats = [i16() for _ in range(i16("!H"))]
        if len(formats) not in (0, 1, len(values)) or any(c not in (0, 1) for c in formats):
            raise ProtocolError(f"Bind gave parameter format codes {formats} for {len(values)} parameters.")
        fmts = [formats[0] if len(formats) == 1 else formats[i] if formats else 0 for i in range(len(values))]
        if any(f == 1 and (i >= len(oids) or not oids[i]) for i, f in enumerate(fmts)):
            # A binary value of a parameter untyped since the statement's Parse: asyncpg without its statement cache
            # (behind PgBouncer) Parses again before each Bind and encodes by the types the first Describe gave.
            # PostgreSQL types parameters at Parse; here they are typed once a binary one needs it (text ones cast).
            oids = self._type_parameters(s, stmt.decode())
        params = []
        for i, raw in enumerate(values):
            fmt = fmts[i]
            params.append(decode_param(raw, oids[i] if i < len(oids) else 0, fmt))
        old = s.portals.get(portal.decode())
        s.forget(old.result if old else None)
        s.portals[portal.decode()] = Portal(sql, params, result_formats, described=s.described.get(stmt.decode()),
                                            written=written)
        self.send(b"2")

    def _run_portal(self, s: Session, p: Portal) -> Result:
        if p.result is None:
            p.result = s.run_one(p.sql, p.params or None, p.written)
        return p.result

    @staticmethod
    def _type_parameters(s: Session, name: str) -> list[int]:
        """The statement ``name``'s parameter types, as its ParameterDescription gives them, kept for Bind (and its
        result columns, in ``s.described``). A parameter the client left untyped takes the type the query casts it
        to ($1::INTEGER), else the one DuckDB binds it as (amount > $1), else 0, text (DuckDB casts text to the type
        the query needs)."""
        sql, oids, written = s.statements[name]
        n = max([len(oids), *(int(x) for x in re.findall(r"\$(\d+)", sql))])
        cols, bound = s.describe(sql, n)
        s.described[name] = cols
        cast = parameter_casts(sql)
        oids = [o or cast.get(i + 1) or bound.get(i + 1, 0) for i, o in enumerate(oids + [0] * (n - len(oids)))]
        s.statements[name] = (sql, oids, written)
        return oids

    def describe(self, s: Session, body: bytes) -> None:
        what, name = body[:1], body[1:].rstrip(b"\x00").decode()
        if what == b"S":
            if name not in s.statements:
                raise ProtocolError(f'prepared statement "{name}" does not exist', "26000")
            oids = self._type_parameters(s, name)
            types = [o or 25 for o in oids]
            self.send(b"t", struct.pack(f"!H{len(types)}i", len(types), *types))
            cols = s.described[name]
        else:
            if name not in s.portals and name in s.cursors.open:
                # psycopg's named cursors DECLARE, then Describe the portal of the cursor's name for its columns
                c = s.cursors.open[name]
                cols = c.source.columns
                if cols is not None:
                    self.row_description(cols, [int(c.binary)] * len(cols))
                    return
            elif name not in s.portals:
                raise ProtocolError(f'portal "{name}" does not exist', "34000")
            else:
                p = s.portals[name]
                r = self._run_portal(s, p)
                # A COMMIT / ROLLBACK ends its transaction's portals, but not itself: its Execute comes next
                s.portals.setdefault(name, p)
                cols = p.described = None if r.copy else r.columns  # COPY: NoData, as in PostgreSQL
            if cols is not None:
                self.row_description(cols, p.formats(len(cols)))
                return
        if cols is None:
            self.send(b"n")
        else:
            self.row_description(cols)

    def execute(self, s: Session, body: bytes) -> None:
        with _layout("Execute"):
            name, rest = body.split(b"\x00", 1)
            (max_rows,) = struct.unpack("!i", rest[:4])
        portal = s.portals.get(name.decode())
        if portal is None:
            raise ProtocolError(f'portal "{name.decode()}" does not exist', "34000")
        if portal.sql.strip().strip(";").strip() == "":
            self.send(b"I")
            return
        if s.status == b"E" and not TXN_WORD.match(from_first_word(portal.sql)):
            raise in_failed_transaction()
        r = self._run_portal(s, portal)
        self.send_notices(s)
        if r.sent == 0 and r.columns is not None and portal.plan_changed(r.columns):
            s.forget(r)
            if s.status == b"T":
                s.status = b"E"  # as any error in a transaction block
            # PostgreSQL's error and routine, on which asyncpg and PgJDBC prepare the statement again and retry
            raise ProtocolError("cached plan must not change result type", "0A000", routine="RevalidateCachedQuery")
        if r.copy_in is not None:
            self.copy_in(s, r, extended=True)
            return
        self.data_rows(r, max_rows, portal.formats(len(r.columns)) if r.columns else None, portal.described)

    # -- results
    def row_description(self, cols: list[tuple[str, int, int]], formats: list[int] | None = None) -> None:
        body = struct.pack("!h", len(cols))
        for i, (name, oid, size) in enumerate(cols):
            body += name.encode() + b"\x00" + struct.pack("!ihihih", 0, 0, oid, size, -1, formats[i] if formats else 0)
        self.send(b"T", body)

    def data_rows(self, r: Result, max_rows: int, formats: list[int] | None = None,
                  described: list[tuple[str, int, int]] | None = None) -> None:
        if r.copy is not None:
            self.copy_out(r)
            return
        if r.columns is None:
            self.send(b"C", r.tag.encode() + b"\x00")
            return
        # Binary where the client asked for it (JDBC does from a statement's fifth run on, psycopg's binary cursors).
        encoders = [encode_binary if formats and formats[i] else encode_text for i in range(len(r.columns))]
        oids = [c[1] for c in r.columns]
        # The client decodes by the types it was told at Describe; a run whose parameters changed a column's type
        # is sent as that type, or refused, never as bytes of another type.
        told = [c[1] for c in described] if described and len(described) == len(oids) else oids
        page = 0  # rows sent by this Execute (its row limit counts these, not the portal's total)
        for row in r.rows:
            body = bytearray(struct.pack("!h", len(row)))
            for i, (v, oid, enc) in enumerate(zip(row, oids, encoders, strict=True)):
                if v is None:
                    body += b"\xff\xff\xff\xff"
                    continue
                if told[i] != oid:
                    v, oid = as_told(v, oid, told[i], r.columns[i][0]), told[i]
                try:
                    t = enc(v, oid)
                except (struct.error, OverflowError) as e:
                    raise ProtocolError(f"Column {r.columns[i][0]!r}: {v!r} does not fit type OID {oid} ({e}); cast it in "
                                        "the query.", "22003") from e
                body += struct.pack("!i", len(t)) + t
            self.send(b"D", bytes(body))
            r.sent += 1
            page += 1
            if max_rows and page == max_rows:
                self.send(b"s")  # PortalSuspended: the client asks for more with another Execute
                return
        # PostgreSQL's tags count rows, also those of INSERT / UPDATE / DELETE ... RETURNING
        tag = {"SELECT": f"SELECT {r.sent}", "INSERT": f"INSERT 0 {r.sent}", "UPDATE": f"UPDATE {r.sent}",
               "DELETE": f"DELETE {r.sent}", "FETCH": f"FETCH {r.sent}"}.get(r.tag, r.tag)
        self.send(b"C", tag.encode() + b"\x00")

    def copy_in(self, s: Session, r: Result, extended: bool) -> None:
        """COPY ... FROM STDIN: CopyInResponse, then the client's CopyData loaded in batches until CopyDone (``COPY
        n``) or CopyFail; all rows or none. After an error the client's remaining CopyData are ignored (the loop
        drops them), as PostgreSQL does."""
        load, r.copy_in = r.copy_in, None  # one run: a second Execute of the portal finds it done
        assert load is not None
        n = len(load.names)
        fmt = int(load.spec.binary)
        self.send(b"G", struct.pack(f"!bh{n}h", fmt, n, *[fmt] * n))
        self.flush()
        s.cancel_requested = False

        def data() -> bytes | None:
            """The next CopyData's bytes; None at CopyDone. (DuckDB calls this from its threads while this one waits
            for the INSERT that reads the rows.)"""
            while True:
                kind, body = self.read_message()
                if s.cancel_requested:
                    raise ProtocolError("canceling statement due to user request", "57014")
                if s.deadline is not None and time.monotonic() > s.deadline:
                    s.timed_out = True
                    raise ProtocolError(TIMEOUT_MESSAGE, "57014")
                if kind == b"d":
                    return body
                if kind == b"c":
                    return None
                if kind == b"f":
                    reason = body.rstrip(b"\x00").decode(errors="replace")
                    raise ProtocolError(f"COPY from stdin failed: {reason}", "57014")
                if kind == b"X":
                    raise ConnectionError("client closed the connection during COPY FROM STDIN")
                if kind not in (b"H", b"S"):  # PostgreSQL ignores Flush and Sync during COPY (libpq may send them)
                    raise ProtocolError(f"unexpected message type 0x{kind[0]:02X} during COPY from stdin", "08P01")

        own = copy_begin(s, extended)
        ok = False
        try:
            count = load.run(data)
            ok = True
        finally:
            copy_end(s, own, ok)
        self.send(b"C", f"COPY {count}".encode() + b"\x00")

    def copy_out(self, r: Result) -> None:
        """COPY ... TO STDOUT: CopyOutResponse, a CopyData per line as the rows are read, CopyDone, ``COPY n``."""
        assert r.copy is not None and r.columns is not None
        n = len(r.columns)
        self.send(b"H", struct.pack(f"!bh{n}h", 0, n, *[0] * n))  # text format, every column
        if r.copy.header:
            self.send(b"d", r.copy.header_line([c[0] for c in r.columns]))
        oids = [c[1] for c in r.columns]
        for row in r.rows:
            self.send(b"d", r.copy.line(row, oids))
            r.sent += 1
        self.send(b"c")
        self.send(b"C", f"COPY {r.sent}".encode() + b"\x00")


# ---------------------------------------------------------------- the command


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
