"""`ad-duckdb serve DB --attach PATH[=ALIAS]`: another DuckDB file's tables served beside DB's, read-only.

Real servers (subprocesses, as in test_server) and real clients (psycopg, psql). The file must come out of the
server as it went in: no write, no DETACH and re-ATTACH for writing, in any mode (read-only, --read-write,
--snapshot and its SIGHUP reload).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psycopg
import pytest

import ad_duckdb

import test_server
from test_server import PSQL_MISSING, serve

warehouse = test_server.warehouse  # the session fixtures: a database with table transactions and model tx_ae
expected = test_server.expected


def _lake(path: Path, warehouse: str) -> Path:
    """A plain DuckDB file (no model tables) with table tx: the warehouse's transactions."""
    con = duckdb.connect(str(path))
    try:
        con.execute("ATTACH ? AS w (READ_ONLY)", [warehouse])
        con.execute("CREATE TABLE tx AS SELECT * FROM w.main.transactions")
    finally:
        con.close()
    return path


def _state(path: Path) -> tuple[str, int, bool]:
    """The file's bytes (hash), its mtime, and whether a write-ahead log appeared beside it."""
    return (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns,
            Path(f"{path}.wal").exists())


def test_attached_tables_are_served_and_scored_and_never_written(warehouse: str, expected: dict[str, float],
                                                                  tmp_path: Path) -> None:
    lake = _lake(tmp_path / "lake.duckdb", warehouse)
    db = tmp_path / "models.duckdb"
    shutil.copy(warehouse, db)
    before = _state(lake)
    with serve(str(db), "--read-write", "--attach", str(lake)) as s, \
            psycopg.connect(s.url(), autocommit=True) as conn:
        assert conn.execute("select count(*) from lake.main.tx").fetchall() == [(2000,)]
        total = conn.execute("select sum(anomaly_score('tx_ae', count, amount)) from lake.main.tx").fetchall()[0][0]
        assert total == pytest.approx(expected["total"], rel=1e-9)
        flagged = conn.execute("select count(*) from lake.main.tx where is_anomaly('tx_ae', count, amount)")
        assert flagged.fetchall() == [(expected["flagged"],)]
        # --read-write writes DB, from the attached rows ...
        conn.execute("create table flagged as select * from lake.main.tx where is_anomaly('tx_ae', count, amount)")
        assert conn.execute("select count(*) from flagged").fetchall() == [(expected["flagged"],)]
        # ... and never the attached file
        for sql in ("insert into lake.main.tx select * from lake.main.tx limit 1", "delete from lake.main.tx",
                    "create table lake.main.evil (a int)", "drop table lake.main.tx"):
            with pytest.raises(psycopg.Error, match='database "lake" which is attached in read-only mode'):
                conn.execute(sql)
        # nor detached, to attach it again for writing (DuckDB's external-access setting allows both for a file
        # attached before it was set); DB neither, once a client has made lake its default
        for sql in ("detach lake", "detach database if exists lake", "DETACH DATABASE lake"):
            with pytest.raises(psycopg.Error, match="DETACH is refused on this server") as err:
                conn.execute(sql)
            assert err.value.sqlstate == "42501", sql
        conn.execute("use lake")
        with pytest.raises(psycopg.Error, match="DETACH is refused on this server"):
            conn.execute("detach models")
        conn.execute("use models")
        # attached already, it cannot be attached again (for writing) under another name; another file not at all
        with pytest.raises(psycopg.Error, match="already attached"):
            conn.execute(f"attach '{lake}' as lake2 (read_write)")
        with pytest.raises(psycopg.Error, match="disabled by configuration") as err:
            conn.execute(f"attach '{tmp_path / 'other.duckdb'}' as other")
        assert err.value.sqlstate == "42501" and not (tmp_path / "other.duckdb").exists()
        # still attached, for every client
        with psycopg.connect(s.url(), autocommit=True) as other:
            assert other.execute("select count(*) from lake.main.tx").fetchall() == [(2000,)]
    assert _state(lake) == before
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("select count(*) from flagged").fetchall() == [(expected["flagged"],)]
    finally:
        con.close()


def test_attached_file_in_the_start_line_and_in_psql(warehouse: str, tmp_path: Path) -> None:
    lake = _lake(tmp_path / "lake.duckdb", warehouse)
    cmd = [sys.executable, "-m", "ad_duckdb.cli", "serve", warehouse, "--port", "0", "--attach", f"{lake}=wh"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("serving") and "attached read-only: wh" in line, line
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    psql = shutil.which("psql")
    assert psql, PSQL_MISSING
    with serve(warehouse, "--attach", f"{lake}=wh") as s:
        out = subprocess.run([psql, s.url(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c",
                              "select count(*) from wh.main.tx where is_anomaly('tx_ae', count, amount)"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and int(out.stdout) > 0, out.stderr


def test_snapshot_serves_the_attached_file_live_and_reload_attaches_it_again(warehouse: str, tmp_path: Path) -> None:
    lake = _lake(tmp_path / "lake.duckdb", warehouse)
    db = tmp_path / "live.duckdb"
    shutil.copy(warehouse, db)
    before = _state(lake)
    with serve(str(db), "--snapshot", "--attach", str(lake)) as s:
        with psycopg.connect(s.url(), autocommit=True) as conn:
            assert conn.execute("select count(*) from lake.main.tx").fetchall() == [(2000,)]
            # the copy keeps DB's name, so DB.main.t reads the same in both modes (and an alias is checked against it)
            assert conn.execute("select current_database()").fetchall() == [("live",)]
        # --snapshot copies DB only: the attached file is open read-only, so a writer is told so
        with pytest.raises(ad_duckdb.BadInputError, match="another process has it open read-only"):
            ad_duckdb.connect(str(lake))
        s.proc.send_signal(signal.SIGHUP)
        s.wait_for_log("reloaded: new snapshot")
        with psycopg.connect(s.url(), autocommit=True) as conn:
            assert conn.execute("select count(*) from lake.main.tx").fetchall() == [(2000,)]
            with pytest.raises(psycopg.Error, match="DETACH is refused on this server"):
                conn.execute("detach lake")
    assert _state(lake) == before


def _serve_fails(*args: str, wait: str | None = None) -> subprocess.CompletedProcess[str]:
    pre = ["--wait", wait] if wait is not None else []
    return subprocess.run([sys.executable, "-m", "ad_duckdb.cli", *pre, "serve", *args, "--port", "0"],
                          capture_output=True, text=True, timeout=120)


def test_a_bad_attach_stops_the_start_with_the_commands_exit_codes(warehouse: str, tmp_path: Path) -> None:
    lake = _lake(tmp_path / "lake.duckdb", warehouse)

    def fails(code: int, *args: str, wait: str | None = None) -> str:
        r = _serve_fails(warehouse, *args, wait=wait)
        assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
        assert r.stdout == "" and r.stderr.startswith("Error: "), r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
        return r.stderr

    missing = str(tmp_path / "nope.duckdb")
    assert f"--attach {missing!r} does not exist" in fails(3, "--attach", missing)
    assert "alias 'warehouse' is DB's own name" in fails(2, "--attach", f"{lake}=warehouse")
    assert "alias 'lake' is given twice" in fails(2, "--attach", str(lake), "--attach", f"{warehouse}=lake")
    assert "alias 'main' is reserved" in fails(2, "--attach", f"{lake}=main")
    not_duckdb = tmp_path / "x.csv"
    not_duckdb.write_text("a\n1\n")
    assert "is not a DuckDB database file" in fails(3, "--attach", str(not_duckdb))
    # a file another process writes: exit 4, as for DB; --wait waits for it, and says how long
    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('HELD', flush=True); time.sleep(120)"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(lake)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"
        out = fails(4, "--attach", str(lake))
        assert f"Cannot open {str(lake)!r}" in out and "another process has it open for writing" in out, out
        assert "--wait" in out, out
        started = time.monotonic()
        out = fails(4, "--attach", str(lake), wait="1")
        assert time.monotonic() - started >= 1 and "(waited 1s with --wait)" in out, out
        snap = fails(4, "--snapshot", "--attach", str(lake))
        assert f"Cannot open {str(lake)!r}" in snap, snap
    finally:
        holder.kill()
        holder.communicate()
    # --wait: the writer finishes, the server starts
    hold_for = hold.replace("time.sleep(120)", "time.sleep(2); c.close()")
    holder = subprocess.Popen([sys.executable, "-c", hold_for, str(lake)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"
        proc = subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", "--wait", "60", "serve", warehouse,
                                 "--port", "0", "--attach", str(lake)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=dict(os.environ))
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().startswith("serving"), proc.stderr
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
    finally:
        holder.kill()
        holder.communicate()


def test_an_alias_that_is_a_schema_of_db_stops_the_start(warehouse: str, tmp_path: Path) -> None:
    """DuckDB refuses every two-part name through it (lake.tx: DB's schema, or the file?) as ambiguous; the alias
    pg_catalog broke the server's own catalog views. Refused at start, exit 2, as the other commands refuse it."""
    lake = _lake(tmp_path / "lake.duckdb", warehouse)
    db = tmp_path / "models.duckdb"
    shutil.copy(warehouse, db)
    con = duckdb.connect(str(db))
    try:
        con.execute("CREATE SCHEMA lake")
    finally:
        con.close()
    for args, alias, schema in ((["--attach", str(lake)], "lake", "lake"),
                                (["--snapshot", "--attach", f"{lake}=LAKE"], "LAKE", "lake"),
                                (["--attach", f"{lake}=pg_catalog"], "pg_catalog", "pg_catalog")):
        r = _serve_fails(str(db), *args)
        assert r.returncode == 2 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
        assert f"the alias {alias!r} is also the name of a schema of" in r.stderr, r.stderr
        assert f"{schema!r}" in r.stderr and f"--attach {lake}=OTHER_ALIAS" in r.stderr, r.stderr


def test_snapshot_waiting_for_an_attached_file_copies_db_once(warehouse: str, tmp_path: Path) -> None:
    """`serve --snapshot --wait` on an attached file another process writes: DB was copied again at each retry (a
    folder made and removed in the temporary folder twice a second); now once, when the file is free."""
    lake = _lake(tmp_path / "lake.duckdb", warehouse)
    scratch = tmp_path / "tmp"
    scratch.mkdir()

    def copies() -> set[str]:
        return {p.name for p in scratch.glob("ad_duckdb_serve_*")}

    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('HELD', flush=True); time.sleep(120)"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(lake)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"
        proc = subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", "--wait", "120", "serve", warehouse,
                                 "--port", "0", "--snapshot", "--attach", str(lake)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(scratch)})
        try:
            # long past the start-up, with a retry every half second: each copy's folder (a new name each time)
            # lives while its copy is made and served, so a look every few milliseconds sees it
            seen: set[str] = set()
            started = time.monotonic()
            while time.monotonic() - started < 8:
                seen |= copies()
                time.sleep(0.005)
            assert proc.poll() is None, proc.communicate()
            assert seen == set(), seen  # no copy while the file is held
            holder.kill()  # the writer ends: the server starts
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("serving") and "read-only snapshot" in line, (line, proc.stderr)
            assert len(copies()) == 1, copies()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
        assert copies() == set()  # the copy removed at the stop
    finally:
        holder.kill()
        holder.communicate()
