"""A client's start-up (``WireStartup``, a part of wirehandler.Handler): its startup packet (SSL and GSS declined, a
CancelRequest, protocol 3.0 negotiated), the md5 password, the end of a start-up past its deadline, and the
search_path and TimeZone the client gives at connect."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import socket
import struct
import threading

import duckdb

from .pgcommands import search_path_sql
from .pgerrors import ProtocolError
from .pgposixzone import posix_rules_hint
from .pgsession import Session
from .pgsettings import read_zone, zone_sql
from .wireio import WireIO

log = logging.getLogger("ad_duckdb.server")


_SSL_REQUEST, _GSS_REQUEST, _CANCEL_REQUEST, _PROTOCOL_3 = 80877103, 80877104, 80877102, 196608
# The longest password message read before the client has proved anything (PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH).
_MAX_PASSWORD_MESSAGE = 65535


class WireStartup(WireIO):
    """A client's start-up, up to its session (Handler.handle)."""

    _startup_lock: threading.Lock
    _started: bool
    _overdue: bool

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
