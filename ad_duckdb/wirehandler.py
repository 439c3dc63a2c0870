"""One client's connection (``Handler``, socketserver's handler of it, on a thread of its own): its start, its
session's message loop, statement_timeout and the simple query protocol. Its parts: wireio (the messages),
wirestartup (start-up and password), wireextended (the extended protocol), wirerows (a result's rows) and wirecopy
(COPY's messages)."""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time

import duckdb

from . import servenotes
from .pgcommands import PG_VERSION, datestyle_error, intervalstyle_error, startup_settings, startup_timeout
from .pgerrors import ProtocolError
from .pgknobs import KNOBS, knob_value
from .pgsession import Session
from .pgtxn import sync
from .serverclients import interrupt_while_running
from .serverstop import _CannotConnectNow
from .wireextended import WireExtended
from .wirestartup import WireStartup

log = logging.getLogger("ad_duckdb.server")


# PostgreSQL's authentication_timeout: a client that has not finished its startup (and password) by then is
# disconnected, so connections that never get that far cannot hold the server's threads.
AUTH_TIMEOUT = 60.0
# Every message type a client may send (PostgreSQL's frontend messages); any other ends the connection.
_FRONTEND_KINDS = frozenset(bytes([c]) for c in b"QPBDECSHXFdcf")
# An idle client unheard of for KEEPALIVE_IDLE s is probed every KEEPALIVE_INTERVAL s; after KEEPALIVE_PROBES
# unanswered its connection is dead (about 2 minutes), its session ends and its place is free (_keep_alive).
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_PROBES = 60, 10, 6
# PostgreSQL's answer to a client beyond max_connections (libpq: "FATAL:  sorry, too many clients already"; psycopg's
# TooManyConnections, PgJDBC's and poolers' cue to wait and retry).
TOO_MANY_MESSAGE, TOO_MANY_SQLSTATE = "sorry, too many clients already", "53300"


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


class Handler(WireStartup, WireExtended):
    """One client's connection, from its startup packet to its session's end."""

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
                    # Why again: one that lands as the statement starts (after the session's look at timed_out) is
                    # forgotten by DuckDB, and the statement ran past its timeout (a long one, for good)
                    interrupt_while_running(s)

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
