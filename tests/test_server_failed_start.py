"""`ad-duckdb serve` whose start fails half-way: the cleanup that follows (closing the database, removing a --snapshot
copy) may fail too, and then its error replaced the one that says why the server did not start (raised from the
``except`` block, it became the error and the real one only its context). The real failure must be what is raised;
the cleanup's is logged and noted on it.

The start failures are real (a port another socket holds; the start-up callback failing as printing to a closed
stdout does); only the database's close is made to fail, after closing it for real, as a close that raises would.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
from collections.abc import Iterator

import click
import pytest

from ad_duckdb.pgbackend import Backend
from ad_duckdb.server import PGServer
from ad_duckdb.serverconfig import ServerConfig
from ad_duckdb.serverrun import run_server

import test_server

warehouse = test_server.warehouse  # the session fixture: a database with model tx_ae

CLOSE_FAILURE = "the database could not be closed (made to fail by the test)"


@pytest.fixture
def failing_close(monkeypatch: pytest.MonkeyPatch) -> list[Backend]:
    """Backend.close closes, then raises; the backends it closed are listed."""
    closed: list[Backend] = []
    real = Backend.close

    def close(self: Backend) -> None:
        real(self)
        closed.append(self)
        raise RuntimeError(CLOSE_FAILURE)

    monkeypatch.setattr(Backend, "close", close)
    return closed


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_a_port_in_use_is_reported_when_closing_the_database_fails_too(
        warehouse: str, taken_port: int, failing_close: list[Backend], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), pytest.raises(click.ClickException) as e:
        PGServer(ServerConfig(warehouse, port=taken_port))
    assert f"Cannot listen on 127.0.0.1:{taken_port} (Address already in use)" in e.value.message, e.value
    assert isinstance(e.value.__cause__, OSError) and e.value.__cause__.errno == errno.EADDRINUSE
    assert len(failing_close) == 1  # the cleanup ran
    # noted on the socket's error, which the message is made from
    assert any(CLOSE_FAILURE in note for note in getattr(e.value.__cause__, "__notes__", [])), e.value
    assert CLOSE_FAILURE in caplog.text, caplog.text


def test_a_failed_start_up_is_reported_when_stopping_the_server_fails_too(
        warehouse: str, failing_close: list[Backend], caplog: pytest.LogCaptureFixture) -> None:
    def ready(_server: PGServer) -> None:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")  # what printing the "serving ..." line to a closed pipe raises

    with caplog.at_level(logging.WARNING), pytest.raises(BrokenPipeError) as e:
        run_server(ServerConfig(warehouse, port=0), ready)
    assert len(failing_close) == 1
    assert any(CLOSE_FAILURE in note for note in getattr(e.value, "__notes__", [])), e.value
    assert CLOSE_FAILURE in caplog.text, caplog.text


def test_the_server_gives_back_the_signal_handlers_it_took(warehouse: str) -> None:
    """A server run in a Python process's main thread (a notebook, a script calling run_server) took SIGINT, SIGTERM
    and SIGHUP to stop and reload it and kept them after it ended: the kernel's interrupt button then stopped a server
    long gone, and a later `ad_duckdb.score` could no longer be interrupted (KeyboardInterrupt never came)."""
    import signal

    names = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    before = {s: signal.getsignal(s) for s in names}

    def stop_at_once(server: PGServer) -> None:
        assert signal.getsignal(signal.SIGINT) is not before[signal.SIGINT]  # the server's own while it serves
        threading.Thread(target=server.shutdown, daemon=True).start()

    run_server(ServerConfig(warehouse, port=0), stop_at_once)
    assert {s: signal.getsignal(s) for s in names} == before

    def fail(_server: PGServer) -> None:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")  # a failed start: the handlers are given back too

    with pytest.raises(BrokenPipeError):
        run_server(ServerConfig(warehouse, port=0), fail)
    assert {s: signal.getsignal(s) for s in names} == before
