"""The ``ad-duckdb sql`` command's progress on a long statement (a query scoring millions of rows), on stderr, as
``score`` shows its own: DuckDB's estimate of the share done, read while the statement runs.

Why DuckDB's estimate, read from a second thread: the statement runs inside one DuckDB call, and the anomaly
functions see batches of rows but not the query they belong to (how many rows it will read, when it starts).
Why not DuckDB's own bar: it prints to stdout, which holds the results (a CSV, a JSON array) and must stay data.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from . import progress

# how often the share done is read; the display itself redraws or writes a line far less often
POLL_SECONDS = 0.2


def enable(con: duckdb.DuckDBPyConnection) -> None:
    """Have DuckDB track each statement's progress on ``con`` without printing its own bar (to stdout)."""
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")


@contextmanager
def watching(con: duckdb.DuckDBPyConnection, desc: str, enabled: bool) -> Iterator[None]:
    """Show the progress of the statement run on ``con`` inside the block (after ``enable(con)``), named ``desc``."""
    if not enabled:
        yield
        return
    shown = progress.share(desc, True)
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(POLL_SECONDS):
            try:
                done = con.query_progress()
            except (duckdb.Error, RuntimeError):  # the connection closing under a Ctrl-C: no progress to show
                return
            if done >= 0:  # -1 while no statement runs, or before DuckDB has an estimate
                shown.update(done)

    # Why a daemon: a Ctrl-C ends the command while the statement may still be running; the thread must not hold
    # the process open
    watcher = threading.Thread(target=poll, name="ad-duckdb sql progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
        shown.close()
