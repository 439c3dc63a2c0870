"""The server's clients (``Clients``, a part of server.PGServer): their places under ``--max-connections``, their
sessions, a CancelRequest or pg_cancel_backend / pg_terminate_backend of one, pg_stat_activity's rows, and the watch
that interrupts the statement of a client gone."""

from __future__ import annotations

import secrets
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import duckdb

from .pgbackend import Backend, Sessions
from .pgsession import Session
from .serverconfig import ServerConfig
from .serverstop import _CannotConnectNow

# How often running statements are checked for a client that has gone (PGServer.watch_clients).
CLIENT_CHECK_INTERVAL = 1.0


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


def interrupt_while_running(session: Session, every: float = 0.05, within: float = 10.0) -> None:
    """After a cancel's (or statement_timeout's) interrupt: interrupt the session's message again every ``every``
    seconds while that same message runs (at most ``within`` seconds). Why again: DuckDB forgets an interrupt that
    comes before its query starts, and the session's own look for a cancel (Session.run) comes just before it starts,
    so an interrupt landing between the two was lost and the statement ran on (a query over 10^10 rows: for good)."""
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


class Clients(Sessions):
    """The server's clients, from their accepted connection to their session's end."""

    config: ServerConfig
    backend: Backend
    _lock: threading.Lock
    _clients: dict[tuple[int, int], tuple[socket.socket, Session]]
    _starting: set[socket.socket]
    _stopping: threading.Event
    _pids: Iterator[int]
    _places: int
    _close_retired: Callable[[Backend], None]

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
            interrupt_while_running(client[1])

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
            interrupt_while_running(session)
        return True

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()
