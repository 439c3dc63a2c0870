"""The ``ad-duckdb serve`` command: its options and help. The server itself (server, pgsession, the catalogue) is
imported when the command runs, so every other command, and ``--help``, starts without loading it."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from .server import PGServer

PASSWORD_ENV = "AD_DUCKDB_SERVER_PASSWORD"
# PostgreSQL's default max_connections; a client beyond it is refused (wirehandler.TOO_MANY_MESSAGE)
MAX_CONNECTIONS = 100


@click.command("serve")
@click.argument("db")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback requires a password.")
@click.option("--port", type=click.IntRange(0, 65535), default=5433, show_default=True,
              help="TCP port (0 picks a free one).")
@click.option("--password", envvar=PASSWORD_ENV, show_envvar=True,
              help="Password every client must give (any user name). Default: none, loopback only.")
@click.option("--max-connections", type=click.IntRange(min=1), default=MAX_CONNECTIONS, show_default=True,
              help="Clients connected at once (PostgreSQL's max_connections, SHOW max_connections); one more is "
                   "refused with PostgreSQL's FATAL 53300 \"sorry, too many clients already\", which pools retry.")
@click.option("--read-write", is_flag=True, help="Open DB for writing (default: read-only).")
@click.option("--snapshot", is_flag=True,
              help="Serve a private copy of DB, so training and dbt can write DB meanwhile; SIGHUP takes a new copy. "
                   "--attach files are not copied: they are served live, read-only.")
@click.option("--attach", "attach", multiple=True, metavar="PATH[=ALIAS]",
              help="Also serve the tables of this DuckDB file, attached read-only as ALIAS (default: its name up to "
                   "the first dot): clients query lake.main.tx with --attach path/to/lake.duckdb. Repeatable; never "
                   "written, even with --read-write, and held open read-only (also with --snapshot) while the server "
                   "runs.")
def serve(db: str, host: str, port: int, password: str | None, max_connections: int, read_write: bool,
          snapshot: bool, attach: tuple[str, ...]) -> None:
    """Serve DB over the PostgreSQL wire protocol, with the anomaly functions registered.

    psql, psycopg, SQLAlchemy, Superset, Metabase and Tableau connect as to PostgreSQL (any user and
    database name) and run anomaly_score(...) live. Read-only and loopback-only by default; DuckDB itself
    refuses file, network, ATTACH, COPY and extension access. SIGHUP re-reads the models (with --snapshot:
    takes a fresh copy). Ctrl-C or SIGTERM (`kill PID`) is how it stops: exit code 0, not 130 or 143.

    \b
    Example:
      ad-duckdb serve warehouse.duckdb --port 5433
      psql "postgresql://analyst@127.0.0.1:5433/warehouse" -c "SELECT anomaly_score('tx_ae', 3, 120.0)"
    Another file's tables served beside DB's (clients run SELECT ... FROM lake.main.tx):
      ad-duckdb serve models.duckdb --attach lake.duckdb
    At most 20 clients at once (a 21st is refused: "sorry, too many clients already"):
      ad-duckdb serve warehouse.duckdb --max-connections 20
    """
    from .cliopen import _attachments
    from .serverconfig import ServerConfig
    from .serverlog import notes_to_log
    from .serverrun import run_server

    # Why the time: the log is often a file (`2> serve.log`), read after the fact, as PostgreSQL's log_line_prefix
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s ad-duckdb serve: %(message)s",
                        datefmt="%Y-%m-%d %H:%M:%S %Z", stream=sys.stderr)
    notes_to_log()
    wait = float(click.get_current_context().find_root().params.get("wait") or 0)
    files = tuple(_attachments(db, attach))  # a wrong one is a one-line error (exit 2 or 3) before anything opens
    config = ServerConfig(db, host, port, password or None, read_write, snapshot, wait, files, max_connections)

    def ready(server: PGServer) -> None:
        h, p = server.server_address[:2]
        assert isinstance(h, str)  # an AF_INET or AF_INET6 socket's name (bytes name only AF_UNIX ones)
        mode = "read-write" if read_write else "read-only snapshot" if snapshot else "read-only"
        models = server.backend.models_text()
        attached = f"; attached read-only: {', '.join(f.alias for f in files)}" if files else ""
        click.echo(f"serving {db} ({mode}; models: {models}{attached}) on {h}:{p}")
        # a wildcard address is where the server listens, not one a client can reach
        shown = "HOST" if h in ("0.0.0.0", "::", "") else h
        click.echo(f"connect: postgresql://USER@{shown}:{p}/{Path(db).stem}")
        sys.stdout.flush()

    run_server(config, ready)
