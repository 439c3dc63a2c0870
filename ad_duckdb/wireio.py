"""One client's messages (``WireIO``, the base of wirehandler.Handler): reading them (the startup unbuffered, watching
for a stop), writing them buffered, and the answers every part of the protocol sends: an error, a notice, the
ReadyForQuery with the settings that changed, the FATAL that ends a connection."""

from __future__ import annotations

import select
import socketserver
import struct
import time
from typing import TYPE_CHECKING, Any

import duckdb

from .exceptions import without_function_wrapper
from .pgerrors import ProtocolError, feature_error, hint_for, sqlstate
from .pgknobs import client_gets
from .pgsession import Session
from .pgstate import TIMEOUT_MESSAGE
from .serverstop import (
    SHUTDOWN_GRACE,
    SHUTDOWN_MESSAGE,
    SHUTDOWN_SEND_TIMEOUT,
    SHUTDOWN_SQLSTATE,
    STOPPING_MESSAGE,
    STOPPING_SQLSTATE,
    _CannotConnectNow,
    _Stopping,
)

if TYPE_CHECKING:
    from .server import PGServer


# How often a thread reading a client's startup looks whether the server stops: blocked in recv it would learn of the
# stop only from the client, and the process ended under it without a word.
STARTUP_POLL = 0.2
_MAX_MESSAGE = (1 << 30) - 1  # the longest message PostgreSQL reads (PQ_LARGE_MESSAGE_LIMIT)


class WireIO(socketserver.BaseRequestHandler):
    """A client's connection as messages in and out; its state is set in Handler.setup."""

    server: PGServer
    rfile: Any
    out: bytearray
    broken: bool
    starting: bool
    awaiting_password: bool
    stop_seen: float | None
    said_ready: bool
    reported: dict[str, str]
    placed: bool
    session: Session

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
