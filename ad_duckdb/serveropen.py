"""Opening the database ``ad-duckdb serve`` serves (``BackendOpening``, a part of server.PGServer): the file, or its
``--snapshot`` copy, with the ``--attach`` files beside it; at start-up retried while another process holds one
(``--wait``); a file that cannot be opened, copied or attached said in one line, with the exit code every command
gives."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

import click
import duckdb

from . import attachfiles, lockholder, lockwait
from .exceptions import AdDuckDBError, DatabaseLockedError, held_by_reader, is_interrupt
from .pgbackend import Backend, Sessions, take_snapshot
from .serverconfig import ServerConfig

log = logging.getLogger("ad_duckdb.server")


class BackendOpening(Sessions):
    """The server's opening of its backend, at start-up and at a ``--snapshot`` reload (server.PGServer.reload)."""

    config: ServerConfig

    def _open_backend(self, wait: float | None = None) -> Backend:
        """The served database; at start-up (``wait`` given), retried for up to ``wait`` seconds while another
        process holds the file.

        Why wait: a server started right after the nightly retrain (`ad-duckdb --wait 600 serve ...`) failed at once
        while the training still held the file, though --wait says it retries.
        """
        cfg = self.config
        deadline = time.monotonic() + (wait or 0)
        # Why kept across retries: a copy taken again at each retry copied DB twice a second while an --attach file
        # was held by a writer that took it between the look below and the Backend's attach
        copy: tuple[str, str] | None = None
        said = False

        def say_waiting(e: DatabaseLockedError) -> None:
            # Why: a server waiting in silence for up to --wait seconds looked hung in its log, where every other
            # command says in one line what it waits for (lockwait.retry_while_locked)
            nonlocal said
            if wait and not said:
                log.warning("%s", lockwait.waiting_note(e, wait, "--wait"))
                said = True

        try:
            while True:
                try:
                    if wait is not None:
                        # Why the --attach files first, at start-up: while one is held by a writer, DB is neither
                        # opened (for writing, with --read-write: other users blocked) nor copied. Not at a SIGHUP
                        # reload, whose served backend holds them: closing the look's handle would let go of its lock
                        for a in cfg.attach:
                            attachfiles.probe(a)
                    # Why the --attach files live, not copied with --snapshot: a copy of a warehouse file per start
                    # and per SIGHUP; they are open read-only, so a process writing one waits for the server to stop
                    if not cfg.snapshot:
                        return Backend(cfg.database, read_write=cfg.read_write, attach=cfg.attach, sessions=self,
                                       original=cfg.database)
                    copy = copy or self._take_snapshot()
                    backend = Backend(copy[0], read_write=False, snapshot_dir=copy[1], attach=cfg.attach,
                                      sessions=self, original=cfg.database)
                    copy = None  # the backend's now: it removes the copy when it closes
                    return backend
                except duckdb.IOException as e:
                    if "lock" not in str(e).lower():
                        raise self._not_openable(e) from e
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise self._locked(e, wait) from e
                    say_waiting(DatabaseLockedError(self._locked(e, None).message))
                    time.sleep(min(0.5, left))
                except DatabaseLockedError as e:  # an --attach file another process writes (attachfiles.attach)
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise self._attach_failed(e, wait) from e
                    say_waiting(e)
                    time.sleep(min(0.5, left))
                except AdDuckDBError as e:  # an --attach file that is no DuckDB database, an alias taken by a schema
                    raise self._attach_failed(e, wait) from e
                except duckdb.CatalogException as e:
                    if "in-memory" not in str(e):
                        raise
                    raise self._not_openable(e) from e
        finally:
            if copy is not None:
                shutil.rmtree(copy[1], ignore_errors=True)  # a copy nobody serves: not left in the temp folder

    def _take_snapshot(self) -> tuple[str, str]:
        """take_snapshot, with a copy that fails for lack of room (or of a writable temporary folder) as one line
        naming the folder, the room needed and TMPDIR. Why: a copy that did not fit in a small /tmp printed DuckDB's
        TransactionException as a traceback at start-up, and a SIGHUP reload logged it without the fix."""
        try:
            return take_snapshot(self.config.database)
        except duckdb.IOException as e:
            if "lock" in str(e).lower() or is_interrupt(e):
                raise  # a writer holds DB: _open_backend waits or says so
            raise self._not_copyable(e) from e
        except (duckdb.Error, OSError) as e:
            if is_interrupt(e):
                raise
            raise self._not_copyable(e) from e

    def _not_copyable(self, e: BaseException) -> BaseException:
        """A copy that failed: for DB no DuckDB database (a folder, a text or Parquet file) that, as without
        --snapshot (``_not_openable``), not the lack of room in the temporary folder it was blamed on."""
        # only what says DB is no database: the copy's own writes fail too (no room, a temporary folder this user
        # may not write), and those are the temporary folder's, which _snapshot_failed names
        text = str(e).lower()
        no_database = isinstance(e, duckdb.Error) and (
            "not a valid duckdb database file" in text or Path(self.config.database).is_dir()
            or (isinstance(e, duckdb.CatalogException) and "in-memory" in text))
        said = self._not_openable(e) if no_database and isinstance(e, duckdb.Error) else e
        return said if said is not e else self._snapshot_failed(e)

    def _snapshot_failed(self, e: BaseException) -> click.ClickException:
        folder = tempfile.gettempdir()
        try:
            size = f" ({Path(self.config.database).stat().st_size / 1e6:,.1f} MB)"
        except OSError:
            size = ""
        reason = " ".join(str(e).split())
        return click.ClickException(
            f"Cannot take the --snapshot copy of {self.config.database!r} in the temporary folder {folder}: "
            f"{reason}. The copy needs room for the whole database{size} there: free some space, or point TMPDIR at "
            f"a folder on a disk with room (TMPDIR=/path/with/room ad-duckdb serve ... --snapshot).")

    def _not_openable(self, e: duckdb.Error) -> BaseException:
        """DB as no DuckDB database the server can open (a folder, a text file, a Parquet file DuckDB opens as an
        in-memory database) in the words, and with the exit code (3), every other command gives. Why: serve printed
        DuckDB's error as a traceback, exit 1; other errors are returned as they are."""
        from .clifail import EXIT_NO_DATABASE, with_exit_code
        from .opendb import _not_a_database, _open_error

        db = self.config.database
        said = (_not_a_database(db) if isinstance(e, duckdb.CatalogException)
                else _open_error(db, not self.config.read_write, e) if isinstance(e, duckdb.IOException) else None)
        return e if said is None else with_exit_code(click.ClickException(str(said)), EXIT_NO_DATABASE)

    def _locked(self, e: duckdb.IOException, wait: float | None) -> click.ClickException:
        """The lock error, with the fix; ``wait``: how long start-up waited (None: a SIGHUP reload)."""
        # Why two texts: with --snapshot the copy itself needs a moment without a writer; advising
        # --snapshot to someone using it sends them in a circle
        fix = ("--snapshot copies the file only while no process writes it: wait for the training / dbt run "
               "to finish, then start the server again, or send a running one SIGHUP again"
               if self.config.snapshot else
               "wait for the training / dbt run to finish, or serve a copy with --snapshot")
        how = ("" if wait is None else f" (waited {wait:g}s with --wait)" if wait else
               " `ad-duckdb --wait SECONDS serve ...` waits for the file to be free.")
        duckdb_text = held_by_reader(str(e))
        holder = lockholder.describe(str(e))
        if duckdb_text is not None:  # only --read-write meets a reader: a reading server shares the file with one
            err = click.ClickException(
                f"Cannot open {self.config.database!r} for writing: another process has it open read-only "
                f"({duckdb_text}).{holder} DuckDB allows no writing process beside reading ones: wait for the reader "
                f"to finish, or stop it (another server, a BI tool, a scoring job).{how}")
        else:
            err = click.ClickException(
                f"Cannot open {self.config.database!r}: another process has it open for writing ({e}).{holder} "
                f"DuckDB allows one writing process per file: {fix}.{how}")
        from .clifail import EXIT_LOCKED, with_exit_code

        return with_exit_code(err, EXIT_LOCKED)  # as every other command's locked file: a script retries it later

    def _attach_failed(self, e: AdDuckDBError, wait: float | None) -> click.ClickException:
        """An --attach file's error as the other commands give it (one line, exit 3 or 4); ``wait`` as in _locked."""
        from .clifail import _failure

        how = ("" if not isinstance(e, DatabaseLockedError) or wait is None else
               f" (waited {wait:g}s with --wait)" if wait else
               " `ad-duckdb --wait SECONDS serve ...` waits for the file to be free.")
        # an alias that is a schema of DB: a wrong option, exit 2, as the other commands' (cliopen._open)
        return _failure(f"{e}{how}", e, code=2 if isinstance(e, attachfiles.AttachOptionError) else None)
