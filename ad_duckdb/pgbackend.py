"""The database ``ad-duckdb serve`` serves (``Backend``: the connection owning the anomaly functions, opened with
the settings that keep clients inside it), what SQL may do with the server's sessions (``Sessions``:
pg_stat_activity, pg_cancel_backend, pg_terminate_backend), the start-up line's list of models, and ``--snapshot``'s
private copy of the file.

Each client's ``pgsession.Session`` runs on a cursor of ``Backend.con``; like the other ``pg*`` helpers, this module
never imports ``server`` and speaks no wire protocol.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from . import interrupts, workfolder
from .attachfiles import Attached, check_schemas
from .attachfiles import attach as attach_file
from .exceptions import clean_up_after
from .pgcatalog import session_sql
from .pgcatalogparsed import CatalogStatements
from .pgjsonb import register as register_jsonb
from .pgjsonedit import register as register_jsonb_edits
from .pgsubstring import register as register_regex_group
from .pgtextcast import register as register_text_casts
from .servefix import Served
from .udfs import register, registry


class Sessions:
    """What the server lets SQL do with its sessions (server.PGServer): list them, and signal one by its pid."""

    def activity(self) -> list[dict[str, Any]]:
        return []

    def signal(self, pid: int, terminate: bool) -> bool:
        """Cancel session ``pid``'s running statement (``terminate``: and end the session); whether it exists."""
        return False


# pg_stat_activity's rows (pgcatalog's view), as the server's Sessions.activity gives them (Session.activity_row)
ACTIVITY_TYPE = duckdb.list_type(duckdb.struct_type({
    "pid": "INTEGER", "application_name": "VARCHAR", "client_addr": "VARCHAR", "client_port": "INTEGER",
    "backend_start": "TIMESTAMPTZ", "xact_start": "TIMESTAMPTZ", "query_start": "TIMESTAMPTZ",
    "state_change": "TIMESTAMPTZ", "state": "VARCHAR", "query": "VARCHAR"}))


def register_sessions(con: duckdb.DuckDBPyConnection, sessions: Sessions | None) -> None:
    """PostgreSQL's pg_cancel_backend(pid) and pg_terminate_backend(pid), and pg_stat_activity_rows() (pgcatalog's
    pg_stat_activity), over the server's ``sessions``.

    Why: Superset's Stop button (and pgAdmin's, DBeaver's) signals a session by the pid it read from pg_backend_pid();
    without them Stop did nothing and the query ran on. Every client is the one role, and PostgreSQL lets a role signal
    its own sessions, so any client may signal any session; what it can do is what a CancelRequest does (interrupt the
    running statement) or what a stop does to one session (FATAL 57P01), never anything to the database.
    """
    s = sessions or Sessions()
    # side effects: DuckDB must call them for each row, never fold them into a constant or skip them
    con.create_function("pg_cancel_backend", lambda pid: s.signal(int(pid), False), ["BIGINT"], "BOOLEAN",
                        side_effects=True)
    con.create_function("pg_terminate_backend", lambda pid: s.signal(int(pid), True), ["BIGINT"], "BOOLEAN",
                        side_effects=True)
    con.create_function("pg_stat_activity_rows", s.activity, [], ACTIVITY_TYPE, side_effects=True)


class Backend:
    """One opened database instance: the parent connection owning the functions, and its open sessions."""

    def __init__(self, path: str, *, read_write: bool, snapshot_dir: str | None = None,
                 attach: Sequence[Attached] = (), sessions: Sessions | None = None, original: str | None = None) -> None:
        """``attach``: other DuckDB files served beside ``path``, attached read-only (``serve --attach``), checked by
        the caller (attachfiles.check); an alias that is a schema of the database, a lock, or a file that is no DuckDB
        database raises attachfiles' errors. ``sessions``: the server's, which pg_stat_activity lists and
        pg_cancel_backend / pg_terminate_backend signal (none: no session is listed, none can be signalled).
        ``original``: the file as the command line named it (a snapshot's, whose copy is ``path``)."""
        self.path = path
        self.attached = tuple(attach)
        self.snapshot_dir = snapshot_dir
        self.sessions = 0
        self.retired = False
        self.read_write = read_write
        self.con = duckdb.connect(path, read_only=not read_write)
        try:
            # a read-only mount's warehouse: a BI tool's query larger than memory spills to the system temporary folder
            workfolder.spill_beside_file(self.con, path)
            check_schemas(self.con, self.attached)
            # Why here, before the settings below: once external access is off DuckDB refuses ATTACH
            for a in self.attached:
                attach_file(self.con, a)
            register(self.con)
            mode = "snapshot" if snapshot_dir is not None else "read-write" if read_write else "read-only"
            registry(self.con).set_surface("serve", Served(mode, original or path, os.getpid()))
            register_sessions(self.con, sessions)
            register_jsonb(self.con)
            register_jsonb_edits(self.con)
            register_regex_group(self.con)
            register_text_casts(self.con)
            # psql's \\dx (pg_extension): the extensions loaded now, which are all there will be (none loads
            # without file access), listed while duckdb_extensions() can still read the extension folder.
            try:
                loaded = self.con.execute("SELECT extension_name, extension_version, description FROM "
                                          "duckdb_extensions() WHERE loaded").fetchall()
            except duckdb.Error:
                loaded = None
            self.catalog_sql = CatalogStatements(session_sql(loaded, read_write))
            # Why after register: registering reads ad_models through the normal path; from here on DuckDB
            # itself refuses files, network, ATTACH, COPY TO and extensions, and refuses to undo that.
            self.con.execute("SET enable_external_access = false")
            # Clients' SQL runs in this process: DuckDB's replacement scan would read an unknown table name as the
            # calling frame's DataFrame / Arrow / numpy variable of that name (or name the server's source line in
            # its error). External access off skips it too today, but only as DuckDB's undocumented coupling; the
            # server's own Arrow reads name what they read (con.register, relation.query), never a frame variable.
            self.con.execute("SET GLOBAL python_enable_replacements = false")
            # TimeZone stays each session's to SET, as in PostgreSQL (a cursor's SET is its own; SET GLOBAL, which
            # would change every session's, is refused by pgsettings.session_set); allowed_configs itself stays locked
            # PostgreSQL's / of integers truncates (Superset's 5-minute grain, minute::int / 5 * interval '5 min'),
            # DuckDB's divides exactly: every session's (a cursor's) statements divide as PostgreSQL's. It binds the
            # SQL parsed from now on only: a view or macro stored in the file keeps DuckDB's division.
            self.con.execute("SET GLOBAL integer_division = true")
            # PostgreSQL sorts a NULL as larger than any value: last ascending, first descending (DuckDB's: last both
            # ways), so a dashboard's top N by score DESC shows what PostgreSQL's would; NULLS FIRST / LAST still decide
            self.con.execute("SET GLOBAL default_null_order = 'nulls_last_on_asc_first_on_desc'")
            self.con.execute("SET allowed_configs = ['TimeZone']")
            self.con.execute("SET lock_configuration = true")
        except BaseException as e:
            # the caller removes a snapshot it took (serveropen.BackendOpening._open_backend); a close that fails too
            # must not hide why the backend could not open
            clean_up_after(e, self.con.close, "closing the database after the failed open")
            raise

    def models(self) -> list[str]:
        from .udfs import registry

        return sorted(registry(self.con).by_ref)

    def models_text(self) -> str:
        from .udfs import registry

        return models_text(self.models(), {n: lm.version for n, lm in registry(self.con).latest.items()})

    def close(self) -> None:
        self.con.close()
        if self.snapshot_dir:
            shutil.rmtree(self.snapshot_dir, ignore_errors=True)


def models_text(refs: list[str], means: dict[str, int] | None = None) -> str:
    """'tx_ae@1'...'tx_ae@35' as "tx_ae@1-35 (latest 35)": one entry per name, versions in number order, runs joined.
    ``means``: the version each bare name scores with, where promote, rollback or a staged retrain made it another
    than the newest: "tx_ae@1-35 ('tx_ae' means tx_ae@34; newest 35)".

    Why: a nightly retrain gives a name dozens of versions; listed one by one, in text order (tx_ae@1, tx_ae@10,
    tx_ae@11, ...), the start-up and SIGHUP lines grew without bound and hid which version was the latest. Why
    ``means``: after a rollback the line said "(latest 2)" while clients calling 'tx_ae' scored with version 1.
    """
    by_name: dict[str, list[int]] = {}
    for ref in refs:
        name, _, v = ref.rpartition("@")
        by_name.setdefault(name, []).append(int(v))
    parts = []
    for name in sorted(by_name):
        vs = sorted(by_name[name])
        runs: list[str] = []
        start = prev = vs[0]
        for n in [*vs[1:], None]:
            if n is not None and n == prev + 1:
                prev = n
                continue
            runs.append(str(start) if start == prev else f"{start}-{prev}")
            if n is not None:
                start = prev = n
        meant = (means or {}).get(name, vs[-1])
        latest = "" if len(vs) == 1 else f" (latest {vs[-1]})" if meant == vs[-1] else \
            f" ({name!r} means {name}@{meant}; newest {vs[-1]})"
        parts.append(f"{name}@{','.join(runs)}{latest}")
    return ", ".join(parts) or "none yet"


def _unless_stopping() -> None:
    if interrupts.stopping():
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")


def take_snapshot(source: str) -> tuple[str, str]:
    """Copy ``source`` into a private temporary file through DuckDB (a consistent copy); (path, its folder).

    The source is attached read-only for the copy only, so training and dbt can write it the rest of the time. The
    copy has the source's file name, so DuckDB names its database as the source's: ``warehouse.main.tx`` reads the
    same with and without --snapshot, and an --attach alias is checked against that one name.
    """
    folder = tempfile.mkdtemp(prefix="ad_duckdb_serve_")
    try:
        dst = str(Path(folder) / Path(source).name)
        # tracked: a stop (SIGTERM, Ctrl-C) interrupts the copy, which on a large database took the stop's whole wait
        helper = interrupts.track(duckdb.connect(":memory:"))
        try:
            helper.execute("ATTACH ? AS src (READ_ONLY)", [source])
            helper.execute("ATTACH ? AS dst", [dst])
            # Why: a stop whose interrupt() came between the statements reached no running query, and DuckDB forgets
            # it when the COPY starts, so the whole copy was taken (and published by a stopping server; one noted
            # later is looked at by server.PGServer.reload once the copy is open)
            _unless_stopping()
            helper.execute("COPY FROM DATABASE src TO dst")
        except BaseException as e:
            # before the removal: the copy's file is still open until then; a failing close must not hide the cause
            clean_up_after(e, helper.close, "closing the snapshot's copy after the failed copy")
            raise
        helper.close()
    except BaseException:
        # Why any exception, not only duckdb.Error: a Ctrl-C or SIGTERM during the COPY (Terminated, or DuckDB's
        # RuntimeError('Query interrupted')) left a full copy of the database in the temporary folder.
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return dst, folder
