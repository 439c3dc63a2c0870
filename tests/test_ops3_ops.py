"""ad_duckdb as a scheduler (cron, Airflow) and dbt run it in production: spill folders, warnings as errors, dbt."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest
import test_ops2_cli
from test_ops2_cli import SPILL, ad_duckdb

from conftest import ROOT, cli_in_process


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
                "assert con.sql('SELECT 42').fetchall() == [(42,)]\n"
                f"con.execute({SPILL!r}).fetchall()\n"
                "print(con.execute('SELECT current_setting(\\'temp_directory\\')').fetchall()[0][0])\n"
                # a second connection to the same file in this process: one instance, one setting, no refusal
                f"again = ad.connect({db!r}, read_only=True)\n"
                "print(again.execute('SELECT count(*) FROM t').fetchone()[0])\n"
                "again.close(); con.close()\n")
        p = _python(code, prefix)
        assert p.returncode == 0, p.stderr
        # the last two lines: DuckDB draws its progress bar on standard output too when the query takes over 2 s
        spill, rows = p.stdout.splitlines()[-2:]
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
        p = _python("from ad_duckdb.pgbackend import Backend\n"
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
        assert con.sql("SELECT 42").fetchall() == [(42,)]  # the check left no half-read result on the connection
        assert con.execute("SELECT current_setting('temp_directory')").fetchone() == (f"{db}.tmp",)
    finally:
        con.close()


@pytest.fixture(scope="module")
def reported_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """test_ops2_cli's database whose `show` and `evaluate` have notes."""
    return str(test_ops2_cli.noted_db.__wrapped__(tmp_path_factory))


MADE_ERROR = " (a note, made an error by PYTHONWARNINGS / -W error)"


@pytest.mark.parametrize("warnings_option", ["error", "error::UserWarning"])
@pytest.mark.parametrize("args", [("show", "{db}", "py_ae"),
                                  ("evaluate", "{db}", "tx_ae", "lab", "--label", "label", "--quiet"),
                                  ("evaluate", "{db}", "tx_ae", "lab", "--label", "label", "--quiet", "--format", "csv")])
def test_report_notes_of_show_and_evaluate_are_errors_under_pythonwarnings_error(
        reported_db: str, args: tuple[str, ...], warnings_option: str) -> None:
    # Before: PYTHONWARNINGS=ignore left out the notes of `show` (the retrain call needs a Python variable) and
    # `evaluate` (few labelled anomalies, thresholds judged on the rows they were chosen on), but =error printed them
    # and exited 0: a job that must stop on a note went on. Now the first note is the Error line, exit 1, before the
    # report, as a Python warning made an error stops the program where it is raised.
    argv = [a.format(db=reported_db) for a in args]
    # without PYTHONWARNINGS in this process; with it, a process of its own (the variable is read as Python starts)
    said = cli_in_process(*argv)
    assert said.returncode == 0, said.stderr
    notes = [ln.strip().removeprefix("note: ") for ln in (said.stdout + said.stderr).splitlines()
             if ln.lstrip().startswith("note: ")]
    assert notes, said.stdout
    strict = ad_duckdb(*argv, env={"PYTHONWARNINGS": warnings_option})
    assert strict.returncode == 1, (strict.returncode, strict.stderr)
    assert strict.stderr == f"Error: {notes[0]}{MADE_ERROR}\n", strict.stderr
    assert strict.stdout == "", strict.stdout
    # --format json's notes are fields of its one object, as PYTHONWARNINGS=ignore keeps them: data, not note lines
    as_json = [*(argv[:argv.index("--format")] if "--format" in argv else argv), "--format", "json"]
    kept = ad_duckdb(*as_json, env={"PYTHONWARNINGS": warnings_option})
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout == cli_in_process(*as_json).stdout


def test_a_threshold_s_note_under_pythonwarnings_error_is_the_error_line_saying_the_threshold_was_stored(
        reported_db: str) -> None:
    # Before: `threshold ... --method max_f1` on 15 labelled anomalies noted that its recall could be anywhere in a
    # wide range and exited 0 under PYTHONWARNINGS=error
    argv = ["threshold", reported_db, "tx_ae", "strict_cut", "--method", "max_f1", "--source", "lab", "--label", "label"]
    strict = ad_duckdb(*argv, env={"PYTHONWARNINGS": "error"})
    assert strict.returncode == 1, strict.stderr
    err = strict.stderr.strip()
    assert err.startswith("Error: chosen on only 15 labelled anomalies") and "\n" not in err, err
    # stored before the note, as a retry needs to know: the threshold is there
    assert err.endswith(f"{MADE_ERROR}; meanwhile threshold 'strict_cut' of tx_ae@1 was stored."), err
    with duckdb.connect(reported_db, read_only=True) as c:
        assert c.execute("SELECT count(*) FROM ad_thresholds WHERE threshold_name = 'strict_cut'").fetchone() == (1,)


def test_dbt_threshold_in_a_transactional_hook_is_chosen_on_other_relations_and_names_the_hook_for_its_own(
        tmp_path: Path) -> None:
    # Before: in a hook inside the node's transaction (a hook's default), ad_duckdb_set_threshold refused every
    # source=, also ref('src'), which the node does not write and whose rows are committed: the refusal is for rows
    # the transaction wrote (its own relation, `this`), which the function's own cursor cannot see. And that refusal
    # said "ad_duckdb_set_threshold(...)": the hook to write was left to the user. Now other relations are chosen on
    # at once; the node's own relation (by name, in a query, or through a view) is refused with the hook, written out
    # with the call's own arguments, that works.
    from test_dbt import _stored_thresholds, _threshold_project, run_dbt

    other = ("{{ config(post_hook=\"{{ ad_duckdb_set_threshold('ae', 'best', 'max_f1', source=ref('src'), "
             "label='lab') }}\") }}\nselect a, b from {{ ref('src') }}\n")
    own = ("{{ config(post_hook=\"{{ ad_duckdb_set_threshold('ae', 'own', 'max_f1', source=this, label='lab', "
           "where='a > 3') }}\") }}\nselect * from {{ ref('src') }}\n")
    work = _threshold_project(tmp_path / "tx", {"other.sql": other})
    proc = run_dbt(["run", "--profiles-dir", "."], work)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert _stored_thresholds(work)["best"][0] == "max_f1"
    hook = ("{'sql': \"{{ ad_duckdb_set_threshold('ae', 'own', 'max_f1', source=this, label='lab', where='a > 3') "
            "}}\", 'transaction': false}")
    as_query = own.replace("source=this", "source='select * from ' ~ this")
    for model in (own, as_query):
        (work / "models" / "own.sql").write_text(model)
        proc = run_dbt(["run", "--profiles-dir", ".", "--select", "own"], work)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, out[-4000:]
        assert "which this node writes in its transaction" in out, out[-4000:]
        if model is own:
            assert f"Write the hook as {hook}" in out, out[-4000:]
        assert "own" not in _stored_thresholds(work)
    # what it says to write works
    (work / "models" / "own.sql").write_text("{{ config(post_hook=" + hook + ") }}\nselect * from {{ ref('src') }}\n")
    proc = run_dbt(["run", "--profiles-dir", ".", "--select", "own"], work)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert _stored_thresholds(work)["own"][0] == "max_f1"


def test_a_dbt_package_copy_older_than_the_installed_ad_duckdb_names_both_versions_and_the_refresh(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: `ad-duckdb dbt-package --copy-to vendor/ad_duckdb` made a copy that nothing compared with the installed
    # ad_duckdb: after an upgrade of the Python package, the project ran the old macros against the new plugin. Now the
    # macro says which release it is, and a call from another release's copy fails naming both and the command.
    import re

    from test_dbtpkg_package import _HOOKED, _package_project

    import ad_duckdb as ad

    from test_dbt import _stored_thresholds, run_dbt

    work = _package_project(tmp_path / "old", {"hooked.sql": _HOOKED}, "vendor/ad_duckdb")
    monkeypatch.chdir(work)  # the command run in the project's folder, as its user runs it (in this process)
    copied = cli_in_process("dbt-package", "--copy-to", "vendor/ad_duckdb")
    assert copied.returncode == 0, copied.stderr
    vendor = work / "vendor" / "ad_duckdb"
    project, macro = vendor / "dbt_project.yml", vendor / "macros" / "ad_duckdb_set_threshold.sql"
    # the copy as an older release made it: its version, and (before the check) no version in the macro's call
    project.write_text(project.read_text().replace(f'version: "{ad.__version__}"', 'version: "0.0.9"'))
    said = f"package_version = '{ad.__version__}'"
    assert said in macro.read_text()
    for old in (macro.read_text().replace(said, "package_version = '0.0.9'"),
                re.sub(r"\s*\{%- do options.update\(\{'package_version'.*?%\}", "", macro.read_text())):
        macro.write_text(old)
        assert run_dbt(["deps", "--profiles-dir", "."], work).returncode == 0
        proc = run_dbt(["run", "--profiles-dir", "."], work)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, out[-4000:]
        assert (f"the dbt package ad_duckdb 0.0.9 (a copy), but the installed ad_duckdb is {ad.__version__}" in out
                ), out[-4000:]
        assert "ad-duckdb dbt-package --copy-to vendor/ad_duckdb" in out, out[-4000:]
        assert "cut" not in _stored_thresholds(work)
    # the command it names refreshes the copy
    assert cli_in_process("dbt-package", "--copy-to", "vendor/ad_duckdb").returncode == 0
    assert run_dbt(["deps", "--profiles-dir", "."], work).returncode == 0
    proc = run_dbt(["run", "--profiles-dir", "."], work)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "cut" in _stored_thresholds(work)


def test_the_dbt_macro_s_version_is_the_release_s() -> None:
    import ad_duckdb as ad
    from ad_duckdb import dbtpackage

    text = (dbtpackage.package_dir() / "macros" / "ad_duckdb_set_threshold.sql").read_text()
    assert f"{{%- set package_version = '{ad.__version__}' -%}}" in text


def test_what_reads_the_node_s_own_relation_is_told_by_name_query_and_view() -> None:
    # the check behind the transactional hook's refusal (dbtthreshold._reads): a view over the node's table reads its
    # uncommitted rows as much as the table does; another table does not
    from ad_duckdb.dbtthreshold import _reads

    with duckdb.connect() as con:
        con.execute("CREATE TABLE own AS SELECT 1 AS a; CREATE TABLE other AS SELECT 1 AS a; "
                    "CREATE VIEW over_own AS SELECT * FROM own; CREATE VIEW over_view AS SELECT * FROM over_own")
        node = '"memory"."main"."own"'
        for source, reads in (("own", True), ("main.OWN", True), ("other", False), ("over_view", True),
                              ("select * from other join over_own using (a)", True),
                              ("select * from other", False), ("select * from (", True)):
            assert _reads(con, source, node) is reads, source


def test_an_append_run_adding_ids_the_table_holds_already_notes_them(reported_db: str, tmp_path: Path) -> None:
    # Before: an Airflow task scoring one day's partition (`--append` with WHERE day = '{{ ds }}') that was retried,
    # or backfilled, after its rows had been committed added every row a second time without a word: the scores
    # table held each transaction twice, and every daily anomaly count built on it doubled.
    import shutil
    import warnings

    import ad_duckdb as ad
    from ad_duckdb.exceptions import AdDuckDBWarning

    db = str(tmp_path / "append.duckdb")
    shutil.copy(reported_db, db)
    part = "SELECT * FROM transactions WHERE transaction_id BETWEEN 101 AND 300"
    args = ("score", db, "tx_ae", part, "--into", "tx_scores", "--append", "--top", "0", "--quiet")
    first = cli_in_process(*args)  # in this process; PYTHONWARNINGS below, in a process of its own
    assert first.returncode == 0 and "note" not in first.stderr, first.stderr
    again = cli_in_process(*args)
    assert again.returncode == 0, again.stderr
    note = ("note: 200 of the 200 rows added to tx_scores have a transaction_id that tx_scores held already (an "
            "earlier run scored them: a retry or a backfill of a run that was stored?)")
    assert note in again.stderr, again.stderr
    assert "DELETE FROM tx_scores WHERE" in again.stderr and "NOT IN (SELECT transaction_id FROM tx_scores)" in \
        again.stderr, again.stderr
    # a job that stops on a note stops here, saying the rows were added
    strict = ad_duckdb(*args, env={"PYTHONWARNINGS": "error::UserWarning"})
    assert strict.returncode == 1, strict.stderr
    assert "meanwhile 200 scored rows were added to tx_scores (now 600 rows" in strict.stderr, strict.stderr
    # new ids (the README's max(id) job) say nothing; from Python, the same note as a warning
    con = ad.connect(db)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", AdDuckDBWarning)
            assert ad.score(con, "tx_ae", "SELECT * FROM transactions WHERE transaction_id BETWEEN 301 AND 350",
                            into="tx_scores", append=True) == 50
        with pytest.warns(AdDuckDBWarning, match="20 of the 20 rows added to tx_scores have a transaction_id"):
            ad.score(con, "tx_ae", "SELECT * FROM transactions WHERE transaction_id BETWEEN 331 AND 350",
                     into="tx_scores", append=True)
    finally:
        con.close()
