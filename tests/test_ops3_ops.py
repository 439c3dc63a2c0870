"""ad_duckdb as a scheduler (cron, Airflow) and dbt run it in production: spill folders, warnings as errors, dbt."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

from conftest import ROOT
from test_ops2_cli import SPILL, ad_duckdb


def _read_only_folder_with_db(tmp_path: Path) -> tuple[Path, tuple[str, ...]]:
    """A DuckDB file ``w.duckdb`` with a table in a folder this test's processes cannot write (chmod 555, through
    `unshare -U` as root, as test_ops2_cli's read-only tests do), and the prefix that runs them so."""
    folder = tmp_path / "ro"
    folder.mkdir()
    with duckdb.connect(str(folder / "w.duckdb")) as c:
        c.execute("CREATE TABLE t AS SELECT range AS x FROM range(10)")
    folder.chmod(0o555)
    if os.geteuid() != 0:
        return folder, ()
    ok = subprocess.run(["unshare", "-U", "true"], capture_output=True, timeout=30).returncode == 0
    assert ok, "tests run as root need `unshare -U` (user namespaces) to see a folder as read-only"
    return folder, ("unshare", "-U")


def _python(code: str, prefix: tuple[str, ...] = (), cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_file_database_in_a_read_only_folder_spills_to_the_system_temporary_folder(tmp_path: Path) -> None:
    # Before: DuckDB spills a file database to "w.duckdb.tmp" beside the file; a warehouse on a read-only mount (a
    # BI server's or a scoring job's read-only copy) failed any query larger than memory with "IO Error: Failed to
    # create directory \".../w.duckdb.tmp\": Permission denied". It spills to the system's temporary folder there now.
    folder, prefix = _read_only_folder_with_db(tmp_path)
    db = str(folder / "w.duckdb")
    own = str(tmp_path / "own spill")
    try:
        p = ad_duckdb("sql", db, SPILL, "--format", "csv", prefix=prefix)
        assert p.returncode == 0, p.stderr
        assert p.stdout.splitlines()[-1] == "600000", p.stdout
        code = ("import ad_duckdb as ad\n"
                f"con = ad.connect({db!r}, read_only=True)\n"
                f"con.execute({SPILL!r}).fetchall()\n"
                "print(con.execute('SELECT current_setting(\\'temp_directory\\')').fetchall()[0][0])\n"
                # a second connection to the same file in this process: one instance, one setting, no refusal
                f"again = ad.connect({db!r}, read_only=True)\n"
                "print(again.execute('SELECT count(*) FROM t').fetchone()[0])\n"
                "again.close(); con.close()\n")
        p = _python(code, prefix)
        assert p.returncode == 0, p.stderr
        spill, rows = p.stdout.split()
        assert Path(spill).parent == Path(tempfile.gettempdir()) and Path(spill).name.startswith("ad_duckdb_"), spill
        assert not Path(spill).exists()  # DuckDB removes the folder it created when the database closes
        assert rows == "10"
        # a temp_directory the user chose is theirs, however it is set
        p = _python("import ad_duckdb as ad\n"
                    f"con = ad.connect({db!r}, read_only=True, config={{'Temp_Directory': {own!r}}})\n"
                    "print(con.execute('SELECT current_setting(\\'temp_directory\\')').fetchone()[0])\n", prefix)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == own, p.stdout
        # the server's read-only backend, which a BI tool's queries reach
        p = _python("from ad_duckdb.pgsession import Backend\n"
                    f"b = Backend({db!r}, read_write=False)\n"
                    "print(b.con.execute('SELECT current_setting(\\'temp_directory\\')').fetchone()[0])\n"
                    "b.close()\n", prefix)
        assert p.returncode == 0, p.stderr
        assert Path(p.stdout.strip()).parent == Path(tempfile.gettempdir()), p.stdout
        assert sorted(os.listdir(folder)) == ["w.duckdb"]
    finally:
        folder.chmod(0o755)


def test_a_file_database_in_a_folder_it_may_write_keeps_duckdb_s_spill_folder_beside_the_file(tmp_path: Path) -> None:
    # DuckDB's own choice stays where it works: beside the file is on the data's disk (the system temporary folder
    # may be a small tmpfs), also when the working folder is elsewhere
    import ad_duckdb as ad

    db = tmp_path / "data" / "w.duckdb"
    db.parent.mkdir()
    con = ad.connect(str(db))
    try:
        assert con.execute("SELECT current_setting('temp_directory')").fetchone() == (f"{db}.tmp",)
    finally:
        con.close()
