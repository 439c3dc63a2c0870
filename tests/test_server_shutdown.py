"""`ad-duckdb serve` stopped (SIGTERM, Ctrl-C) with clients connected: each session, idle or mid-query, is told
why it ends, as PostgreSQL tells its sessions on a fast shutdown: ErrorResponse FATAL, SQLSTATE 57P01
(admin_shutdown), "terminating connection due to administrator command". Before, the server only closed the
sockets, and clients reported what they report for a crash ("server closed the connection unexpectedly ... terminated
abnormally"). The servers and the minimal protocol client come from tests/test_server.py.
"""

from __future__ import annotations

import asyncio
import select
import signal
import socket
import struct
import threading
import time

import asyncpg
import psycopg
import pytest

from ad_duckdb.servecmd import PASSWORD_ENV

import test_server
from test_server import Wire, _cpu_seconds, serve

warehouse = test_server.warehouse

SHUTDOWN_MESSAGE = "terminating connection due to administrator command"
LONG_QUERY = "select sum(anomaly_score('tx_ae', x, x)) from range(10000000000) t(x)"


def _fields(body: bytes) -> dict[bytes, bytes]:
    return {f[:1]: f[1:] for f in body.split(b"\x00") if f}


def _exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        assert chunk, ("the connection ended inside a message", buf)
        buf += chunk
    return buf


def _rest(w: Wire | socket.socket) -> list[tuple[bytes, bytes]]:
    """Every message the server sends on ``w`` until it closes the connection."""
    sock = w if isinstance(w, socket.socket) else w.sock
    got = []
    while True:
        head = b""
        while len(head) < 5:
            chunk = sock.recv(5 - len(head))
            if not chunk:
                assert head == b"", head  # the connection ends between messages, never inside one
                return got
            head += chunk
        got.append((head[:1], _exact(sock, struct.unpack("!i", head[1:])[0] - 4)))


def test_sigterm_tells_idle_and_running_sessions_the_server_is_shutting_down(warehouse: str) -> None:
    errors: list[BaseException] = []
    with serve(warehouse) as s:
        idle = psycopg.connect(s.url(), autocommit=True)
        assert idle.execute("select 1").fetchall() == [(1,)]  # a session that has worked and now waits
        raw = Wire(s)  # an idle session read byte by byte: what exactly it is sent
        busy = psycopg.connect(s.url(), autocommit=True)

        def long_query() -> None:
            try:
                busy.execute(LONG_QUERY)
            except psycopg.Error as e:
                errors.append(e)

        before = _cpu_seconds(s.proc.pid)
        t = threading.Thread(target=long_query)
        t.start()
        # Stop it only once the query runs (the server spends CPU time on it), not after a fixed sleep
        deadline = time.monotonic() + 60
        while _cpu_seconds(s.proc.pid) < before + 0.5:
            assert time.monotonic() < deadline and t.is_alive(), ("the query did not start", errors)
            time.sleep(0.05)
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(timeout=60) == 0
        t.join(timeout=60)
        assert not t.is_alive()
        with pytest.raises(psycopg.errors.AdminShutdown, match=SHUTDOWN_MESSAGE) as idle_error:
            idle.execute("select 1")  # libpq reads the waiting FATAL as this query's answer, as from PostgreSQL
        told = _rest(raw)
        raw.sock.close()
    idle.close()
    busy.close()
    assert len(errors) == 1 and isinstance(errors[0], psycopg.errors.AdminShutdown), errors
    for e in (errors[0], idle_error.value):
        assert e.sqlstate == "57P01" and e.diag.severity_nonlocalized == "FATAL", e
        assert e.diag.message_primary == SHUTDOWN_MESSAGE, e
    # Once, and nothing else: no ReadyForQuery (PostgreSQL sends none after FATAL), no second error
    assert [(kind, _fields(body)) for kind, body in told] == [
        (b"E", {b"S": b"FATAL", b"V": b"FATAL", b"C": b"57P01", b"M": SHUTDOWN_MESSAGE.encode()})], told
    assert "stopped" in s.stderr and "3 client sessions" in s.stderr, s.stderr


def test_a_client_that_does_not_read_does_not_hold_up_the_stop(warehouse: str) -> None:
    """A client that asked for a huge result and stopped reading it leaves the server blocked in a send: stopping must
    not wait on it (nor on the goodbye it will never read), and the other sessions still get theirs."""
    with serve(warehouse) as s:
        stuck = Wire(s)
        q = b"select range, repeat('x', 100) from range(100000000)\x00"
        stuck.msg(b"Q", q)
        assert stuck.read()[0] == b"T"  # the rows are coming; from here on the client reads nothing
        reader = Wire(s)
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(timeout=60) == 0
        told = _rest(reader)
        reader.sock.close()
        stuck.sock.close()
    assert [(kind, _fields(body).get(b"C")) for kind, body in told] == [(b"E", b"57P01")], told
    assert "stopped" in s.stderr, s.stderr


# ---------------------------------------------------------------- clients still starting when the server stops
# PostgreSQL answers a client that connects, or has not finished its startup, once shutdown has begun with FATAL
# 57P03 (cannot_connect_now), "the database system is shutting down", which libpq reports and asyncpg raises as
# CannotConnectNowError. Before, such a client's socket was reset or just closed (the process exited under its thread),
# which clients report as a crash.

CANNOT_CONNECT = (b"E", {b"S": b"FATAL", b"V": b"FATAL", b"C": b"57P03", b"M": b"the database system is shutting down"})


def _startup_packet() -> bytes:
    params = b"user\x00analyst\x00database\x00w\x00\x00"
    return struct.pack("!ii", 8 + len(params), 196608) + params


def _wait_until_closed(host: str, port: int) -> None:
    """Until the server's port refuses connections: the stop has begun (the server closes its listening socket
    first). A probe that still gets through is closed at once, as a client that gives up."""
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection((host, port), timeout=10).close()
        except ConnectionRefusedError:
            return
        assert time.monotonic() < deadline, "the server never stopped listening"
        time.sleep(0.02)


def test_a_client_at_the_password_prompt_when_the_server_stops_cannot_connect_now(warehouse: str) -> None:
    with serve(warehouse, env={PASSWORD_ENV: "s3cret"}) as s:
        w = socket.create_connection((s.host, s.port), timeout=30)
        w.sendall(_startup_packet())
        kind, body = _exact(w, 1), _exact(w, 12)
        assert kind == b"R" and body[4:8] == struct.pack("!i", 5), (kind, body)  # md5: it waits for the password
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(timeout=60) == 0
        told = _rest(w)
        w.close()
    assert [(kind, _fields(body)) for kind, body in told] == [CANNOT_CONNECT], told
    assert "Traceback" not in s.stderr, s.stderr


def test_a_client_that_sends_its_startup_after_the_stop_began_cannot_connect_now(warehouse: str) -> None:
    with serve(warehouse) as s:
        w = socket.create_connection((s.host, s.port), timeout=30)  # connected; its startup packet comes later
        s.proc.send_signal(signal.SIGTERM)
        _wait_until_closed(s.host, s.port)
        w.sendall(_startup_packet())
        told = _rest(w)
        w.close()
        assert s.proc.wait(timeout=60) == 0
    assert [(kind, _fields(body)) for kind, body in told] == [CANNOT_CONNECT], told


def _connect(client: str, url: str) -> None:
    if client == "psycopg":
        psycopg.connect(url, connect_timeout=60).close()
    else:
        async def connect() -> None:
            await (await asyncpg.connect(url, timeout=60)).close()

        asyncio.run(connect())


@pytest.mark.parametrize("client", ["psycopg", "asyncpg"])
def test_a_client_connecting_as_the_server_stops_is_told_it_cannot_connect_now(warehouse: str, client: str) -> None:
    """A connection the server had not accepted yet when the stop began (still in the listening socket's queue) was
    reset by the closing of that socket: psycopg said "server closed the connection unexpectedly". The server runs
    in this process, never serving, so the connection waits in that queue until close_all. Both clients send an
    SSLRequest first, which is answered before the refusal.

    libpq reports the refusal in its message only (psycopg 3 raises OperationalError for any failed connect: it has
    no result to take the SQLSTATE from); asyncpg reads the SQLSTATE and raises CannotConnectNowError."""
    from ad_duckdb.server import PGServer
    from ad_duckdb.serverconfig import ServerConfig

    srv = PGServer(ServerConfig(warehouse, port=0))
    host, port = srv.server_address[:2]
    errors: list[BaseException] = []

    def connect() -> None:
        try:
            _connect(client, f"postgresql://analyst@{host}:{port}/w")
        except Exception as e:  # noqa: BLE001 - whatever it is, the assertions below say what it should be
            errors.append(e)

    t = threading.Thread(target=connect)
    t.start()
    try:
        poller = select.poll()
        poller.register(srv.socket, select.POLLIN)
        assert poller.poll(60_000), "the client never connected"  # its connection waits to be accepted
    finally:
        srv.close_all()
    t.join(timeout=60)
    assert not t.is_alive()
    assert len(errors) == 1, errors
    if client == "psycopg":
        assert isinstance(errors[0], psycopg.OperationalError), errors
        assert "FATAL:  the database system is shutting down" in str(errors[0]), errors
    else:
        assert isinstance(errors[0], asyncpg.exceptions.CannotConnectNowError), errors
        assert errors[0].sqlstate == "57P03" and errors[0].severity == "FATAL", errors  # type: ignore[attr-defined]
        assert str(errors[0]) == "the database system is shutting down", errors
