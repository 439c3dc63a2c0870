"""What a stopping server says to its clients and how long it waits for them: each session's FATAL 57P01, the 57P03
of a client still starting, and the exceptions that end a session (``_Stopping``) or a start (``_CannotConnectNow``)
with them."""

from __future__ import annotations

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


class _Stopping(ConnectionError):
    """The server stops: the session ends with FATAL 57P01 (Handler.say_shutdown) instead of answering its statement."""


class _CannotConnectNow(Exception):
    """The server stops while this client is still starting: it is answered FATAL 57P03 (Handler.say_shutdown)."""
