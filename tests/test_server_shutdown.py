"""`ad-duckdb serve` stopped (SIGTERM, Ctrl-C) with clients connected: each session, idle or mid-query, is told
why it ends, as PostgreSQL tells its sessions on a fast shutdown: ErrorResponse FATAL, SQLSTATE 57P01
(admin_shutdown), "terminating connection due to administrator command". Before, the server only closed the
sockets, and clients reported what they report for a crash ("server closed the connection unexpectedly ... terminated
abnormally"). The servers and the minimal protocol client come from tests/test_server.py.
"""

from __future__ import annotations

import signal
import struct
import threading
import time

import psycopg
import pytest

import test_server
from test_server import Wire, _cpu_seconds, serve

warehouse = test_server.warehouse

SHUTDOWN_MESSAGE = "terminating connection due to administrator command"
LONG_QUERY = "select sum(anomaly_score('tx_ae', x, x)) from range(10000000000) t(x)"


def _fields(body: bytes) -> dict[bytes, bytes]:
    return {f[:1]: f[1:] for f in body.split(b"\x00") if f}


def _rest(w: Wire) -> list[tuple[bytes, bytes]]:
    """Every message the server sends on ``w`` until it closes the connection."""
    got = []
    while True:
        head = b""
        while len(head) < 5:
            chunk = w.sock.recv(5 - len(head))
            if not chunk:
                assert head == b"", head  # the connection ends between messages, never inside one
                return got
            head += chunk
        got.append((head[:1], w._exact(struct.unpack("!i", head[1:])[0] - 4)))


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
