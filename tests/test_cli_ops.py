"""The command as a cron / Airflow job runs it: exit codes a script can act on, machine-readable listings,
idempotent deployment, read-only files. Real DuckDB files and real processes."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import IO

import duckdb
import onnx as onnx_pkg
import pytest
from click.testing import CliRunner

import ad_duckdb
import ad_duckdb.cliopen as cliopen_module
from ad_duckdb.cli import cli
from ad_duckdb.cliopen import _open

from conftest import FAST, ROOT, make_transactions


@pytest.fixture(scope="module")
def model_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("ops") / "m.duckdb")
    con = ad_duckdb.connect(path)
    make_transactions(con, n=1500)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    con.close()
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def cli_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ad_duckdb.cli", *args], capture_output=True, text=True,
                          timeout=300, env=env or {**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL)


def test_exit_codes_tell_failures_apart(model_db: str, tmp_path: Path) -> None:
    # Before: every failure exited 1, so a nightly job could not retry a locked file but page on a missing model
    # without parsing the message.
    cases = {
        3: ("score", str(tmp_path / "nope.duckdb"), "tx_ae", "transactions"),
        5: ("score", model_db, "fraud_ae", "transactions"),
        6: ("score", model_db, "tx_ae", "no_such_table"),
        7: ("train", model_db, "tx2", "SELECT * FROM transactions WHERE false", "-f", "count", "--quiet"),
    }
    for code, args in cases.items():
        rc, out, err = invoke(*args)
        assert rc == code, (args, rc, err)
        assert out == "" and err.startswith("Error: "), (out, err)
    # each code with the message that names what is wrong: a code alone would pass on an unrelated failure
    # that happens to map to it
    named = [(5, ("show", model_db, "tx_ae@9"), "Model 'tx_ae' has no version 9 (versions: 1)"),
             (6, ("train", model_db, "tx2", "transactions", "-f", "nope", "--quiet"),
              "Column 'nope' is not in 'transactions'; its columns are: transaction_id, count, amount"),
             (6, ("sql", model_db, "SELECT * FROM no_such_table"), "no_such_table does not exist"),
             # a misspelt column in SQL, as a misspelt -f column (it exited 1); other binder errors stay 1
             (6, ("sql", model_db, "SELECT anomaly_score('tx_ae', count, amont) FROM transactions"),
              '"amont" not found'),
             (1, ("sql", model_db, "SELECT anomaly_score('tx_ae', 'x', amount) FROM transactions"),
              "Could not convert string 'x' to DOUBLE"),
             # a label column the source lacks is a missing column too (it exited 1, like any other error)
             (6, ("evaluate", model_db, "tx_ae", "transactions", "--label", "no_such_label"),
              "label column 'no_such_label' is not in 'transactions'")]
    for code, args, says in named:
        rc, out, err = invoke(*args)
        assert (rc, out) == (code, "") and err.startswith("Error: ") and says in err, (args, rc, err)
    # Before: a command's missing version said "if it was trained in another connection, call
    # ad_duckdb.refresh(con) (a running `ad-duckdb serve`: send it SIGHUP ...)": a command opens the file afresh and
    # sees every stored version, and a shell user has no connection to refresh
    for args in (("show", model_db, "tx_ae@9"), ("score", model_db, "tx_ae@9", "transactions")):
        rc, out, err = invoke(*args)
        assert rc == 5 and "Use 'tx_ae' (its promoted version, else its newest)" in err and "refresh" not in err and "SIGHUP" not in err, err
    # an option value out of range is a wrong option (2), named by its flag: these exited 1, --top -1 in the library's
    # words "n= (CLI: --top)", the training options as "The 'n_models' parameter must be ..."
    for args, flag in ((("score", model_db, "tx_ae", "transactions", "--top", "-1"), "--top"),
                       (("train", model_db, "tx2", "transactions", "-f", "count", "--epochs", "0"), "--epochs"),
                       (("train", model_db, "tx2", "transactions", "-f", "count", "--n-models", "0"), "--n-models"),
                       (("train", model_db, "tx2", "transactions", "-f", "count", "--contamination", "0.9"),
                        "--contamination")):
        rc, out, err = invoke(*args)
        assert rc == 2 and out == "" and flag in err, (args, rc, err)
        assert "parameter" not in err and "n=" not in err, err
    check = ad_duckdb.connect(model_db, read_only=True)
    try:
        assert [r["name"] for r in ad_duckdb.list_models(check)] == ["tx_ae"]
    finally:
        check.close()
    assert invoke("score", model_db, "tx_ae", "transactions", "--top", "1")[0] == 0
    assert "Exit codes:" in invoke("--help")[1]


def _missing_version_error(con: duckdb.DuckDBPyConnection) -> str:
    """The error of a SQL function naming a version that is not stored, raised on a thread of its own."""
    got: list[str] = []

    def run() -> None:
        try:
            con.execute("SELECT anomaly_score('tx_ae@9', 1, 2)").fetchall()
        except duckdb.Error as e:
            got.append(str(e))

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return got[0]


def test_a_commands_missing_version_in_sql_never_says_refresh_whatever_thread_runs_it(model_db: str) -> None:
    # Before: `ad-duckdb sql DB "SELECT anomaly_score('tx_ae@9', ...)"` told the shell user to call
    # ad_duckdb.refresh(con) or SIGHUP a server in some runs and not in others: whether a command runs was a context
    # variable of the command's thread, and DuckDB calls a SQL function on whichever of its threads is free (here: a
    # thread of the test's own, as deterministic stand-in for one of DuckDB's)
    with _open(model_db, read_only=True) as con:
        said = _missing_version_error(con)
    assert "Use 'tx_ae' (its promoted version, else its newest)." in said and "refresh" not in said and "SIGHUP" not in said, said
    # a Python connection knows the versions stored when it registered: there the advice applies, on any thread
    con = ad_duckdb.connect(model_db, read_only=True)
    try:
        assert "call ad_duckdb.refresh(con)" in _missing_version_error(con)
    finally:
        con.close()


def test_a_misspelt_column_exits_6_wherever_it_is_named(model_db: str) -> None:
    # Before: `-f amont` and `sql ... amont` exited 6 (no such column), but the same typo in --where (train, explain,
    # evaluate), in -c, or in a SELECT given as the source exited 1, as any other error; the source query's error
    # also quoted our internal 'DESCRIBE SELECT * FROM (' and asked for "an existing table ... or a SELECT query".
    labelled = "SELECT *, (transaction_id % 50 = 0)::INTEGER AS label FROM transactions"
    cases = [("train", model_db, "tx2", "transactions", "-f", "count", "--where", "amont > 0", "--quiet"),
             ("explain", model_db, "tx_ae", "transactions", "--where", "amont > 0"),
             ("evaluate", model_db, "tx_ae", labelled, "--label", "label", "--where", "amont > 0"),
             ("threshold", model_db, "tx_ae", "f1", "--method", "max_f1", "--source", labelled, "--label", "label",
              "--where", "amont > 0"),
             ("score", model_db, "tx_ae", "SELECT * FROM transactions WHERE amont > 0"),
             ("score", model_db, "tx_ae", "SELECT * FROM transactions WHERE amont > 0", "--into", "s")]
    for args in cases:
        rc, out, err = invoke(*args)
        assert (rc, out) == (6, "") and '"amont" not found' in err, (args, rc, err)
        assert "DESCRIBE" not in err and "Give an existing table" not in err, err
        if args[0] in ("evaluate", "threshold"):  # the label column read with the features is named as a label
            assert "features ['count', 'amount'] and label 'label'" in err, err
    rc, out, err = invoke("score", model_db, "tx_ae", "transactions", "-c", "transaction_id,nope")
    assert (rc, out) == (6, "") and "names ['nope'], not in 'transactions'" in err, (rc, err)


def test_a_missing_database_is_told_which_command_creates_one(model_db: str, tmp_path: Path) -> None:
    # Before: `sql` on a mistyped path, the command that loads data (sql --write), pointed at train only
    missing = str(tmp_path / "nosuch.duckdb")
    rc, _, err = invoke("sql", missing, "SELECT 1")
    assert rc == 3 and "`ad-duckdb sql --write` creates one" in err, err
    rc, _, err = invoke("list", missing)
    assert rc == 3 and "(`ad-duckdb train` creates one)" in err and "--write" not in err, err
    assert not Path(missing).exists()
    # show: a model trained without a filter says so, not Python's None
    rc, out, _ = invoke("show", model_db, "tx_ae")
    where = [line for line in out.splitlines() if line.startswith("train_where ")]
    assert rc == 0 and where and where[0].split(None, 1)[1] == "(none)", where


def test_exit_code_for_a_damaged_model(model_db: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    con = ad_duckdb.connect(str(path))
    con.execute("UPDATE ad_models SET sha256 = repeat('0', 64)")
    con.close()
    rc, _, err = invoke("show", str(path), "tx_ae@1")
    assert rc == 8 and "sha256" in err, err
    # Before: list showed the damaged version like a good one, so a nightly health check passed
    rc, out, err = invoke("list", str(path), "--format", "csv")
    assert rc == 0 and out.splitlines()[1].endswith(",damaged"), out
    assert err.startswith("note: Model 'tx_ae@1'") and "sha256" in err, err
    assert invoke("list", model_db, "--format", "csv")[1].splitlines()[1].endswith(",ok")


HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('HELD', flush=True); time.sleep(120)"


def test_exit_code_for_a_locked_file(model_db: str, tmp_path: Path) -> None:
    path = tmp_path / "locked.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"
        for args in (("list", str(path)), ("score", str(path), "tx_ae", "transactions", "--into", "s", "--replace")):
            p = cli_process(*args)
            assert p.returncode == 4, p.stderr
            assert p.stdout == "" and "another process has it open" in p.stderr, p.stderr
    finally:
        holder.kill()
        holder.communicate()


def test_a_writer_locked_out_by_a_reader_is_not_told_to_open_read_only(model_db: str, tmp_path: Path) -> None:
    # Before: the hint was "open it read-only from a process that only reads" whoever held the file, though a
    # read-only holder (a default `ad-duckdb serve`, a BI tool) already is. DuckDB's text tells the two apart:
    # only a read-only holder's lock adds "you would be able to open this database in read-only mode".
    from ad_duckdb.exceptions import DatabaseLockedError

    path = tmp_path / "read_held.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    said = {}
    for holder_read_only in (True, False):
        hold = HOLD.replace("duckdb.connect(sys.argv[1])", f"duckdb.connect(sys.argv[1], read_only={holder_read_only})")
        holder = subprocess.Popen([sys.executable, "-c", hold, str(path)], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"
            with pytest.raises(DatabaseLockedError) as e:
                ad_duckdb.connect(str(path)).close()
            said[holder_read_only] = str(e.value)
        finally:
            holder.kill()
            holder.communicate()
    assert "another process has it open read-only" in said[True], said[True]
    assert "open it read-only" not in said[True] and "serve DB --snapshot" in said[True], said[True]
    assert "-readonly" not in said[True] and "(PID " in said[True], said[True]  # DuckDB's CLI option, not ours
    # a writer's lock refuses readers too: "open it read-only" was no fix there either (test_intolock_holder)
    assert "open it read-only" not in said[False] and "open for writing" in said[False], said[False]


def test_serve_read_write_locked_out_by_a_reader_says_the_holder_reads(model_db: str, tmp_path: Path) -> None:
    # Before: `serve --read-write` on a file a reader held (a default `ad-duckdb serve`, a BI tool) said "another
    # process has it open for writing ... wait for the training / dbt run to finish", the text the read-only-holder
    # hint of every other command had dropped; with DuckDB's "-readonly parameter in the CLI" sentence beside it.
    path = tmp_path / "read_held.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    hold = HOLD.replace("duckdb.connect(sys.argv[1])", "duckdb.connect(sys.argv[1], read_only=True)")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"
        res = cli_process("serve", str(path), "--read-write", "--port", "0")
    finally:
        holder.kill()
        holder.communicate()
    error = res.stderr.strip().splitlines()[-1]
    assert res.returncode == 4 and "another process has it open read-only" in error, res.stderr
    assert "open for writing" not in error and "-readonly" not in error and "(PID " in error, error
    assert "wait for the reader to finish, or stop it" in error and "--wait SECONDS serve" in error, error


def _as_another_user() -> list[str]:
    """The command prefix that runs a process to which a chmod 444 file is read-only: none for an ordinary user;
    for root (which may write any file) `unshare -U`, a user namespace where root's file permissions apply as to
    anyone. Without it the test fails rather than skips, so that a CI machine lacking it is noticed."""
    if os.geteuid() != 0:
        return []
    try:
        ok = subprocess.run(["unshare", "-U", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    assert ok, "tests run as root need `unshare -U` (user namespaces) to see a file as read-only"
    return ["unshare", "-U"]


def test_read_only_file_scores_and_writing_commands_say_so(model_db: str, tmp_path: Path) -> None:
    # Before: `score --into` on a chmod 444 file failed with DuckDB's bare "IO Error: Cannot open file ...:
    # Permission denied" (exit 1), naming neither that the command writes nor what works on such a file.
    path = tmp_path / "ro.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    path.chmod(0o444)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    prefix = _as_another_user()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, sys.executable, "-m", "ad_duckdb.cli", *args], capture_output=True,
                              text=True, timeout=300, env=env)

    ok = run("score", str(path), "tx_ae", "transactions", "--top", "1")
    assert ok.returncode == 0, ok.stderr
    p = run("score", str(path), "tx_ae", "transactions", "--into", "s")
    assert p.returncode == 3, p.stderr
    assert "for writing" in p.stderr and "score without --into" in p.stderr and "writable copy" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_a_writable_file_in_a_read_only_folder_is_refused_before_the_work(model_db: str, tmp_path: Path) -> None:
    # Before: DuckDB opened the file for writing, the command did its work (a whole training), and the commit failed
    # on the write-ahead log it creates beside the file: "Error: TransactionContext Error: Failed to commit: Cannot
    # open file \".../r.duckdb.wal\": Permission denied", exit 1, naming neither the folder nor a fix.
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "r.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    folder.chmod(0o555)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    prefix = _as_another_user()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, sys.executable, "-m", "ad_duckdb.cli", *args], capture_output=True,
                              text=True, timeout=300, env=env)

    try:
        for args in (("score", str(path), "tx_ae", "transactions", "--into", "s"),
                     ("threshold", str(path), "tx_ae", "cut", "--method", "manual", "--value", "3")):
            p = run(*args)
            assert p.returncode == 3, (args, p.stderr)
            assert "folder" in p.stderr and str(folder) in p.stderr and ".wal" in p.stderr, p.stderr
            assert "Failed to commit" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
        ok = run("score", str(path), "tx_ae", "transactions", "--top", "1")  # reading needs no log
        assert ok.returncode == 0, ok.stderr
    finally:
        folder.chmod(0o755)
    assert not Path(f"{path}.wal").exists()


def test_a_plot_or_export_the_disk_cannot_hold_leaves_no_partial_file_and_names_it(model_db: str,
                                                                                     tmp_path: Path) -> None:
    # Before: on a full disk `score --plots` left an empty tx_ae_v1_scores.png behind, and it and `export` said
    # only "Error: No space left on device.", naming no file. A file size limit (ulimit -f) fails the write as a
    # full disk does, inside the kernel, and DuckDB only reads here.
    import resource

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # then the write fails with EFBIG, as a full disk's ENOSPC
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    # matplotlib's font cache built beforehand, without the limit: on a machine that never drew a plot, building
    # it under the limit failed the command before it reached the file this test is about
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1", "MPLCONFIGDIR": str(tmp_path / "mpl")}
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, check=True, timeout=300)
    plots, out = tmp_path / "plots", tmp_path / "out"
    out.mkdir()
    for args, folder, name in ((["score", model_db, "tx_ae", "transactions", "--plots", str(plots)], plots,
                                "tx_ae_v1_scores.png"),
                               (["export", model_db, "tx_ae", str(out / "tx_ae.onnx")], out, "tx_ae.onnx")):
        p = subprocess.run([sys.executable, "-m", "ad_duckdb.cli", *args], capture_output=True, text=True,
                           timeout=300, env=env, stdin=subprocess.DEVNULL, preexec_fn=limited)
        assert p.returncode == 1, (args, p.stderr)
        last = p.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: ") and str(folder / name) in last, (args, p.stderr)
        assert list(folder.iterdir()) == [], (args, list(folder.iterdir()))


def test_a_malformed_model_or_threshold_name_is_a_wrong_argument_exit_2(model_db: str, tmp_path: Path) -> None:
    # Before: a NAME argument of no valid form ('tx_ae@5' to train, 'new one' to import, a threshold name '') exited 1,
    # "any other error", where --help promises 2 for wrong arguments: a job could not tell a typo in its own
    # command line from a failure worth retrying.
    onnx_file = tmp_path / "tx.onnx"
    assert invoke("export", model_db, "tx_ae", str(onnx_file))[0] == 0
    cases = [("train", model_db, "tx_ae@5", "transactions", "-f", "count", "--quiet"),
             ("import", model_db, str(onnx_file), "--name", "new one"),
             ("threshold", model_db, "tx_ae", "", "--method", "manual", "--value", "3"),
             # a model reference of no valid form, to commands that read a stored model (exited 1 too)
             ("show", model_db, "tx_ae@x"), ("score", model_db, "@3", "transactions"), ("drop", model_db, "tx_ae@0"),
             ("explain", model_db, "tx_ae@1@2", "transactions", "--where", "transaction_id = 1")]
    for args in cases:
        rc, out, err = invoke(*args)
        assert rc == 2 and err.startswith("Error: ") and len(err.strip().splitlines()) == 1, (args, rc, err)
    con = ad_duckdb.connect(model_db, read_only=True)
    try:
        assert [m["version"] for m in ad_duckdb.list_models(con)] == [1]
    finally:
        con.close()


def _interrupted_while_printing(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the command with a full stdout pipe, so that its first line of output (train's and import's "stored
    NAME@N", printed once the model is committed) blocks; send Ctrl-C while it does; return what it said."""
    import fcntl
    import time

    r, w = os.pipe()
    fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ: one page
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, b"x" * 512)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)
    p = subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", *args], stdout=w, stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(w)
    try:
        syscall = Path(f"/proc/{p.pid}/syscall")
        while p.poll() is None and not syscall.read_text().startswith("1 0x1 "):  # write(1, ...): blocked on stdout
            time.sleep(0.05)
        p.send_signal(signal.SIGINT)
        drained = threading.Thread(target=lambda: [None for _ in iter(lambda: os.read(r, 65536), b"")])
        drained.start()
        assert p.stderr is not None
        with p.stderr:
            err = p.stderr.read()
        rc = p.wait(timeout=300)
        drained.join()
    finally:
        os.close(r)
    return subprocess.CompletedProcess(args, rc, "", err)


def test_a_ctrl_c_after_the_model_is_stored_says_it_is_stored(model_db: str, tmp_path: Path) -> None:
    # Before: a Ctrl-C landing once train or import had committed the model (while it printed what it stored) said
    # "Nothing is left half-written: each model ... is stored ... whole or not at all", which reads as "nothing was
    # stored", so the job ran again and stored the model twice; a new database made by that train was removed.
    db = tmp_path / "w.duckdb"
    db.write_bytes(Path(model_db).read_bytes())
    onnx_file = tmp_path / "tx.onnx"
    assert invoke("export", model_db, "tx_ae", str(onnx_file))[0] == 0
    fresh = tmp_path / "fresh.duckdb"
    for args, ref, path in (
            (["train", str(db), "tx_ae", "transactions", "-f", "count", "-f", "amount", "--quiet", "--epochs", "1"],
             "tx_ae@2", db),
            (["import", str(db), str(onnx_file), "--name", "imp"], "imp@1", db),
            (["import", str(fresh), str(onnx_file)], "tx_ae@1", fresh),
            # and a threshold, and a drop: their first line of output is printed once they are committed too
            (["threshold", str(db), "tx_ae", "cut", "--method", "manual", "--value", "3"],
             "threshold 'cut' of tx_ae@2", db),
            (["drop", str(db), "imp", "--yes"], "imp version(s) 1 were dropped", db)):
        p = _interrupted_while_printing(args)
        assert p.returncode == 130, (args, p.stderr)
        last = p.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: interrupted (Ctrl-C)") and (ref if " " in ref else f"{ref} was stored") in last \
            and "no need to run the command again" in last, (args, p.stderr)
        if args[0] in ("threshold", "drop"):
            continue
        con = ad_duckdb.connect(str(path), read_only=True)
        try:
            assert ref in {f"{m['name']}@{m['version']}" for m in ad_duckdb.list_models(con)}, args
        finally:
            con.close()


def test_a_file_the_system_refuses_to_open_is_exit_3() -> None:
    # Before: a file the system refuses with EPERM rather than EACCES (an immutable file, chattr +i; a sandbox's
    # guard) failed with DuckDB's bare "IO Error: Cannot open file ...: Operation not permitted" and exit 1, where
    # the README promises 3 for a file that cannot be opened (permissions). The text is DuckDB's, as seen on a
    # chattr +i file (setting the flag needs privileges a test run may lack); the error it maps to is the one the
    # read-only test above sees exit 3 for.
    import duckdb

    from ad_duckdb.exceptions import DatabaseUnavailableError
    from ad_duckdb.opendb import _open_error

    e = duckdb.IOException('IO Error: Cannot open file "/data/w.duckdb": Operation not permitted')
    err = _open_error("/data/w.duckdb", False, e)
    assert isinstance(err, DatabaseUnavailableError)
    assert "for writing" in str(err) and "Operation not permitted" in str(err)
    assert "reading works on a read-only file" in str(err)
    assert _open_error("/data/w.duckdb", False, duckdb.IOException("IO Error: disk quota exceeded")) is None


def test_a_folder_or_a_file_that_is_not_a_database_is_exit_3(tmp_path: Path) -> None:
    # Before: DuckDB's bare 'IO Error: Could not read from file ".../data": Is a directory' and '... exists, but it
    # is not a valid DuckDB database file!', exit 1, where the README promises 3 for a file that cannot be opened.
    folder = tmp_path / "data"
    folder.mkdir()
    junk = tmp_path / "notes.duckdb"
    junk.write_text("not a database\n")
    for path, wanted in ((folder, "is a folder"), (junk, "not a DuckDB database file")):
        for args in (("list", str(path)), ("train", str(path), "m", "t", "-f", "a", "--quiet")):
            rc, out, err = invoke(*args)
            assert rc == 3, (args, rc, err)
            assert out == "" and err.startswith("Error: ") and len(err.strip().splitlines()) == 1, err
            assert repr(str(path)) in err and wanted in err, err
    assert junk.read_text() == "not a database\n"  # left as it was


def test_list_and_show_are_machine_readable(model_db: str, tmp_path: Path) -> None:
    # Before: list and show printed only a clipped table, so a pruning script had to cut columns out of it.
    import csv
    import io
    import json

    rc, out, err = invoke("list", model_db, "--format", "json")
    assert rc == 0 and err == ""
    rows = json.loads(out)
    assert [(r["name"], r["version"]) for r in rows] == [("tx_ae", 1)] and rows[0]["n_features"] == 2
    got = list(csv.DictReader(io.StringIO(invoke("list", model_db, "--format", "csv")[1])))
    assert got[0]["name"] == "tx_ae" and got[0]["version"] == "1"
    doc = json.loads(invoke("show", model_db, "tx_ae", "--format", "json")[1])
    assert doc["ref"] == "tx_ae@1" and [f["name"] for f in doc["features"]] == ["count", "amount"]
    assert {t["name"] for t in doc["thresholds"]} >= {"default", "p99"} and len(doc["sha256"]) == 64
    empty = tmp_path / "empty.duckdb"
    ad_duckdb.connect(str(empty)).close()
    assert json.loads(invoke("list", str(empty), "--format", "json")[1]) == []


def test_importing_the_same_file_twice_adds_no_version(model_db: str, tmp_path: Path) -> None:
    # Before: a deployment step run twice (a retried task) stored tx_ae@1 and tx_ae@2, the same model twice.
    onnx = tmp_path / "tx_ae.onnx"
    assert invoke("export", model_db, "tx_ae", str(onnx))[0] == 0
    target = str(tmp_path / "prod.duckdb")
    rc, out, _ = invoke("import", target, str(onnx))
    assert rc == 0 and out.strip() == "stored tx_ae@1"
    rc, out, err = invoke("import", target, str(onnx))
    assert rc == 0 and out.strip() == "already stored tx_ae@1", out  # before: "stored tx_ae@1", as if it had been
    assert "already this model" in err and "nothing imported" in err
    con = ad_duckdb.connect(target)
    try:
        assert [r["version"] for r in ad_duckdb.list_models(con)] == [1]
        make_transactions(con, n=1500)
        src = ad_duckdb.connect(model_db, read_only=True)
        q = "SELECT sum(anomaly_score('tx_ae', count, amount)) FROM transactions WHERE transaction_id <= 200"
        assert con.execute(q).fetchall() == src.execute(q).fetchall()  # same scores after deployment
        src.close()
        ad_duckdb.set_threshold(con, "tx_ae", "cut", "manual", value=3.0)
    finally:
        con.close()
    # a threshold set since in this database is not the file's: still the same model, and no version without it
    assert invoke("import", target, str(onnx))[1].strip() == "already stored tx_ae@1"
    con = ad_duckdb.connect(target)
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning, match="replaces the stored one"):
            ad_duckdb.set_threshold(con, "tx_ae", "default", "manual", value=3.0)
    finally:
        con.close()
    # a different model under the name (here: the same graph with another value of one of its thresholds) is a new one
    assert invoke("import", target, str(onnx))[1].strip() == "stored tx_ae@2 (exported as tx_ae@1: pin 'tx_ae@2' here)"


def test_server_log_stays_short_with_many_versions(model_db: str, tmp_path: Path) -> None:
    # Before: "serving DB (read-only snapshot; models: tx_ae@1, tx_ae@10, tx_ae@11, ..., tx_ae@2, ...)": every
    # version of a nightly-retrained name, in text order, on the start-up line and on every SIGHUP.
    import signal
    import threading
    import time

    path = tmp_path / "many.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    con = ad_duckdb.connect(str(path))
    for v in range(2, 13):  # the same stored model as versions 2..12, each row complete (sha256 matches)
        con.execute("INSERT INTO ad_models SELECT * REPLACE (? AS version) FROM ad_models WHERE version = 1", [v])
        con.execute("INSERT INTO ad_thresholds SELECT * REPLACE (? AS version) FROM ad_thresholds WHERE version = 1",
                    [v])
    con.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # A free port (a fixed one collided with other test runs on the machine); the log is read as it is written, so
    # the test waits for the reload's line instead of a fixed sleep.
    proc = subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", "serve", str(path), "--snapshot", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    err_lines: list[str] = []
    reader = threading.Thread(target=lambda: err_lines.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        line = proc.stdout.readline()
        assert "models: tx_ae@1-12 (latest 12))" in line, line
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while not any("new snapshot" in e for e in err_lines):
            assert time.monotonic() < deadline and proc.poll() is None, "".join(err_lines)
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        reader.join(timeout=60)
        proc.stdout.close()
        proc.stderr.close()
    err = "".join(err_lines)
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert "new snapshot: tx_ae@1-12 (latest 12)" in err, err


def test_drop_keep_prunes_old_versions_and_pinned_queries_keep_working(model_db: str, tmp_path: Path) -> None:
    # Before: pruning a month of nightly versions meant one `drop name@N` per version, the N parsed out of `list`.
    path = tmp_path / "prune.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    con = ad_duckdb.connect(str(path))
    for v in range(2, 8):
        con.execute("INSERT INTO ad_models SELECT * REPLACE (? AS version) FROM ad_models WHERE version = 1", [v])
        con.execute("INSERT INTO ad_thresholds SELECT * REPLACE (? AS version) FROM ad_thresholds WHERE version = 1",
                    [v])
    ad_duckdb.refresh(con)
    q = "SELECT sum(anomaly_score('tx_ae@6', count, amount)) FROM transactions"
    before = con.execute(q).fetchall()
    con.close()
    rc, out, _ = invoke("drop", str(path), "tx_ae", "--keep", "2", "--yes")
    assert rc == 0 and out.strip() == "dropped tx_ae version(s) 1, 2, 3, 4, 5", out
    assert invoke("drop", str(path), "tx_ae", "--keep", "2", "--yes")[1].startswith("dropped nothing")
    # a pinned ref is not a name: a wrong combination of arguments (exit 2, as scripts read it; it was 1)
    rc, _, err = invoke("drop", str(path), "tx_ae@6", "--keep", "1", "--yes")
    assert rc == 2 and "give the name without @N ('tx_ae'), or drop 'tx_ae@6' without --keep" in err, err
    con = ad_duckdb.connect(str(path))
    try:
        assert [r["version"] for r in ad_duckdb.list_models(con)] == [6, 7]
        assert con.execute(q).fetchall() == before  # 'tx_ae@6' still answers, with the same scores
        assert ad_duckdb.drop_model(con, "tx_ae", keep=1) == [6]
    finally:
        con.close()
    assert invoke("show", str(path), "tx_ae@3")[0] == 5


HOLD_UNTIL_TOLD = ("import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('HELD', flush=True); "
                   "sys.stdin.readline(); c.close()")


def _holding(path: Path) -> subprocess.Popen[str]:
    """A process that holds ``path`` for writing until ``_let_go``. Why until told, not for a few seconds: on a
    loaded machine a command started meanwhile may reach its open only after those seconds, and then meets no lock."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_UNTIL_TOLD, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"
    return holder


def _let_go(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.write("GO\n")
    holder.stdin.flush()


def _until_waiting(stderr: IO[str] | None) -> str:
    """What a command printed on ``stderr`` up to its line saying it waits for the file (all of it if it ended
    first): a line printed before that one (a library's warning) must not let the holder go early."""
    assert stderr is not None
    said = ""
    while line := stderr.readline():
        said += line
        if "waiting up to" in line:
            break
    return said


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate()


def test_wait_retries_while_another_process_holds_the_file(model_db: str, tmp_path: Path) -> None:
    # Before: a nightly retrain that started while a scoring job still held the file failed at once; the only
    # remedy was a retry loop around the command in every script.

    path = tmp_path / "busy.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    holder = _holding(path)
    try:
        quick = cli_process("list", str(path))
        assert quick.returncode == 4 and "--wait SECONDS" in quick.stderr, quick.stderr
        job = subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", "--wait", "60", "score", str(path), "tx_ae",
                                "transactions", "--into", "s", "--replace"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            said = _until_waiting(job.stderr)  # the holder lets go only once the job met its lock
            _let_go(holder)
            out, err = job.communicate(timeout=120)
        finally:
            _stop(job)
        assert "note: waiting up to 60s (--wait)" in said, (said, err)
        # exit 0 under --wait 60: it went on once the holder let go, not after waiting out its 60 s (exit 4)
        assert job.returncode == 0 and "wrote 1500 scored rows to s" in out, (said, err)
        holder.wait(timeout=30)
        holder2 = _holding(path)
        try:
            env_wait = cli_process("list", str(path), env={**os.environ, "PYTHONPATH": str(ROOT),
                                                           "AD_DUCKDB_WAIT": "1"})
            assert env_wait.returncode == 4 and "waited 1s with --wait" in env_wait.stderr, env_wait.stderr
        finally:
            _stop(holder2)
    finally:
        _stop(holder)


def test_serve_waits_for_a_held_file_with_wait_and_exits_4_without(model_db: str, tmp_path: Path) -> None:
    # Before: `ad-duckdb --wait 600 serve DB`, started right after the nightly retrain, failed at once while the
    # training still held the file (serve ignored --wait), and with exit code 1, not the locked file's 4. It then
    # waited in silence, where every other command says in one line what it waits for.
    path = tmp_path / "busy.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    holder = _holding(path)
    try:
        quick = cli_process("serve", str(path), "--port", "0")
        assert quick.returncode == 4 and "another process has it open" in quick.stderr, quick.stderr
        assert "--wait SECONDS serve" in quick.stderr, quick.stderr
        proc = subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", "--wait", "60", "serve", str(path), "--port",
                                 "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            assert proc.stdout is not None
            said = _until_waiting(proc.stderr)  # the holder lets go only once the server met its lock
            _let_go(holder)
            line = proc.stdout.readline()
            assert line.startswith("serving") and "tx_ae@1" in line, (line, said)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert " UTC ad-duckdb serve: waiting up to 60s (--wait) for the database file: " in said, (said, err)
        assert f"busy.duckdb': another process has it open for writing (PID {holder.pid}, " in said, said
    finally:
        _stop(holder)


CREATE_AND_HOLD = ("import duckdb, sys; c = duckdb.connect(sys.argv[1]); c.execute('CREATE TABLE kept AS SELECT 42 AS x'); "
                   "print('HELD', flush=True); sys.stdin.readline(); c.close()")


@pytest.mark.parametrize("wait", [[], ["--wait", "60"]], ids=["locked", "waited"])
@pytest.mark.parametrize("command", ["train", "sql", "import"])
def test_a_new_database_another_process_created_meanwhile_is_never_removed(
        command: str, wait: list[str], model_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: train, import and sql --write decided "the database is new" when the command started, and removed the
    # file when the command failed. Two nightly jobs started at once on a new file: the one that lost the lock (at
    # once, or after --wait, then failing on its own source) deleted the file the other had created, with its model
    # (the other even printed "stored ..." into a file already gone).
    from ad_duckdb import api

    path = tmp_path / "new.duckdb"
    onnx_bad = tmp_path / "bad.onnx"
    onnx_bad.write_bytes(b"not a model")
    args = {"train": ["train", str(path), "m", "no_such_table", "-f", "x", "--quiet"],
            "sql": ["sql", "--write", str(path), "SELECT * FROM no_such_table"],
            "import": ["import", str(path), str(onnx_bad)]}[command]
    real_connect = api.connect
    holders: list[subprocess.Popen[str]] = []

    def let_go() -> None:
        assert holders[0].stdin is not None
        holders[0].stdin.write("\n")
        holders[0].stdin.flush()

    def connect_once_another_process_created_it(*a: object, **k: object) -> object:
        # the other job creates the file between this command's start and its open, and holds it: with --wait for
        # 3 s, without until the command has ended. Why not 3 s there too: a loaded machine can hold this process
        # off that long before its open, which then met no lock
        if not holders:
            holders.append(subprocess.Popen([sys.executable, "-c", CREATE_AND_HOLD, str(path)], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, text=True))
            assert holders[0].stdout is not None and holders[0].stdout.readline().strip() == "HELD"
            if wait:
                threading.Timer(3, let_go).start()
        return real_connect(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "connect", connect_once_another_process_created_it)
    try:
        rc, _, err = invoke(*wait, *args)
        if not wait:
            let_go()
        # locked at once (4); after the wait, the command's own error: no source (6), not a model file (8)
        assert rc == (4 if not wait else 8 if command == "import" else 6), err
        assert "removed again" not in err, err
        holders[0].wait(timeout=60)
    finally:
        for h in holders:
            h.kill()
            h.communicate()
    monkeypatch.undo()
    assert path.exists(), "the other process's new database was removed"
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT x FROM kept").fetchall() == [(42,)]
    finally:
        con.close()


CREATE_HOLD_REMOVE = ("import duckdb, os, sys; c = duckdb.connect(sys.argv[1]); print('HELD', flush=True); "
                      "sys.stdin.readline(); c.close(); os.remove(sys.argv[1])")


def test_a_new_database_created_after_waiting_out_another_ones_is_removed(tmp_path: Path) -> None:
    # Before: a command that met the lock decided for good that the file was not its own. The other job (a train
    # on the same new path) failed and removed its new file; the waiting command then created its own, failed on
    # its source, and left that empty database behind, the mistyped path's leftover --wait was not to leave.
    # Why the holder removes its file only once the command says it waits: a holder that did so after a fixed time
    # was, on a loaded machine, gone before the command's first open, which then never waited out anything.
    path = tmp_path / "new.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", CREATE_HOLD_REMOVE, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"
        job = subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", "--wait", "60", "train", str(path), "m",
                                "no_such_table", "-f", "x", "--quiet"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            said = _until_waiting(job.stderr)
            _let_go(holder)
            assert holder.wait(timeout=60) == 0
            _, err = job.communicate(timeout=120)
        finally:
            _stop(job)
    finally:
        _stop(holder)
    assert "note: waiting up to 60s (--wait)" in said, (said, err)
    assert job.returncode == 6, err
    assert not path.exists(), "the database this run created after the wait was left behind"


def test_a_file_removed_between_the_look_and_the_open_is_a_new_one_even_on_its_inode(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: the open compared (device, inode) only. The holder removed its file after this run's look at the path
    # and before its open, which created a new file; the file system gave it the removed file's inode number (ext4
    # and tmpfs do at once), so it was taken for the holder's and left behind after the failure (a flaky failure of
    # the test above, whose holder removes its file at a moment of its own). Here that moment is made exact.
    path = tmp_path / "new.duckdb"
    duckdb.connect(str(path)).close()
    real_connect = cliopen_module.api.connect

    def removed_then_opened(db: str, **kwargs: object) -> duckdb.DuckDBPyConnection:
        os.remove(db)  # what the other process does right after this run looked at the path
        return real_connect(db, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cliopen_module.api, "connect", removed_then_opened)
    creation = cliopen_module._Creation()
    con = cliopen_module._connect_once(str(path), False, None, creation)
    con.close()
    assert creation.ours, "the new database this run created in the removed one's place was not taken as its own"


def test_a_new_database_is_removed_when_an_interrupt_lands_while_it_is_opened(tmp_path: Path) -> None:
    # Before: api.connect creates the file, then registers the functions; a Ctrl-C (or SIGTERM) in that window
    # left the command deciding the file was not its own, and the empty new database stayed at the path.
    path = tmp_path / "new.duckdb"
    fired: list[int] = []

    def interrupt(signum: int, _frame: object) -> None:
        # a Ctrl-C, once, and only once the open has created the file
        if not fired and path.exists():
            fired.append(signum)
            raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    # Why a repeating timer: the open runs for tens of milliseconds after the file appears, and a pending signal is
    # handled at the next check (DuckDB's, or Python's between two calls); no fixed sleep to guess
    signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
    try:
        res = CliRunner().invoke(cli, ["train", str(path), "m", "no_such_table", "-f", "x", "--quiet"])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert fired and res.exit_code == 130 and "interrupted (Ctrl-C)" in res.output, (res.output, res.exception)
    assert not path.exists() and not Path(f"{path}.wal").exists(), "the interrupted open left the new file behind"


def test_score_into_from_an_empty_source_says_so_and_top_prints_csv(model_db: str, tmp_path: Path) -> None:
    # Before: a nightly `score --into tx_scores --replace` after a failed upstream load emptied the scores table
    # with only "wrote 0 scored rows" on stdout; and the --top rows printed only as a clipped table.
    import csv
    import io

    path = tmp_path / "empty_src.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    rc, out, err = invoke("score", str(path), "tx_ae", "SELECT * FROM transactions WHERE false", "--into", "s",
                          "--replace")
    assert rc == 0 and out.strip() == "wrote 0 scored rows to s (model tx_ae@1)"
    assert err.startswith("note: ") and "has no rows" in err and "previous rows were replaced" not in err, err
    assert invoke("score", str(path), "tx_ae", "transactions", "--into", "s", "--replace")[2] == ""
    rc, out, err = invoke("score", str(path), "tx_ae", "SELECT * FROM transactions WHERE false", "--into", "s",
                          "--replace")
    assert rc == 0 and "previous rows were replaced" in err
    rc, out, err = invoke("score", str(path), "tx_ae", "transactions", "--top", "2", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rc == 0 and len(rows) == 2 and float(rows[0]["anomaly_score"]) >= float(rows[1]["anomaly_score"])


def test_sql_exit_code_names_an_unknown_model_and_drop_without_yes_in_a_script(model_db: str, tmp_path: Path) -> None:
    # Before: `sql` with an unknown model or threshold in the query exited 1 like any SQL error; `drop` without
    # --yes from cron printed its question on stdout and a bare "Aborted!".
    assert invoke("sql", model_db, "SELECT anomaly_score('fraud_ae', 1, 2)")[0] == 5
    assert invoke("sql", model_db, "SELECT is_anomaly_at('tx_ae', 'nope', 1, 2)")[0] == 5
    assert invoke("sql", model_db, "SELECT anomaly_score('tx_ae', 1, 2)")[0] == 0
    path = tmp_path / "d.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    p = cli_process("drop", str(path), "tx_ae")  # stdin: not a terminal, empty
    assert p.returncode == 2 and p.stdout == "", (p.stdout, p.stderr)
    assert "add --yes" in p.stderr
    assert "Drop tx_ae@1 (its only version) from" in p.stderr, p.stderr
    # a version not stored is said before any question (it was asked about, and only a 'y' told there was none)
    rc, _, err = invoke("drop", str(path), "tx_ae@7")
    assert rc == 5 and "has no version 7" in err and "Drop " not in err, err
    # --keep that prunes nothing asks nothing
    rc, out, _ = invoke("drop", str(path), "tx_ae", "--keep", "3")
    assert rc == 0 and out.startswith("dropped nothing"), out
    for _ in range(2):
        assert invoke("train", str(path), "tx_ae", "transactions", "--epochs", "1", "--quiet")[0] == 0
    # the suggested command keeps --keep: without it, pasting the hint dropped every version instead of pruning
    rc, _, err = invoke("drop", str(path), "tx_ae", "--keep", "1")
    assert rc == 2 and f"ad-duckdb drop {path} tx_ae --keep 1 --yes" in err, err
    assert "Drop tx_ae versions 1, 2 (all but the 1 newest) from" in err, err
    assert invoke("list", str(path), "--format", "json")[1].count('"version"') == 3  # nothing dropped


def test_refused_import_into_a_new_path_leaves_no_empty_database(model_db: str, tmp_path: Path) -> None:
    # Before: a deployment whose .onnx file was damaged in transit failed (exit 8) but left prod.duckdb behind, an
    # empty database that a later step took for a deployed one.
    onnx = tmp_path / "tx_ae.onnx"
    assert invoke("export", model_db, "tx_ae", str(onnx))[0] == 0
    data = bytearray(onnx.read_bytes())
    # a bit of a weight flipped (the largest initializer's middle): the file still parses, its sha256 no longer
    # matches; the file's middle byte, which this took before, lies in the metadata of a graph of fewer nodes
    weights = max((i.raw_data for i in onnx_pkg.load_from_string(bytes(data)).graph.initializer), key=len)
    data[bytes(data).find(weights) + len(weights) // 2] ^= 1
    onnx.write_bytes(bytes(data))
    target = tmp_path / "prod.duckdb"
    rc, _, err = invoke("import", str(target), str(onnx))
    assert rc == 8 and "altered" in err, err
    assert not target.exists() and not Path(f"{target}.wal").exists()


def test_retraining_next_to_a_plain_server_names_snapshot(model_db: str, tmp_path: Path) -> None:
    # Before: the lock error said "stop the other process (a server, ...)" only; the way to keep the server up
    # while the nightly job retrains (serve --snapshot, README) was not named.
    import signal

    path = tmp_path / "served.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", "serve", str(path), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("serving")
        p = cli_process("train", str(path), "tx_ae", "transactions", "-f", "count", "-f", "amount", "--quiet")
        assert p.returncode == 4, p.stderr
        assert "serve DB --snapshot" in p.stderr and "SIGHUP" in p.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)


def test_score_into_names_the_version_it_scored_with(model_db: str, tmp_path: Path) -> None:
    # Before: "wrote 1500 scored rows to tx_scores": with 'tx_ae' meaning the latest version, a nightly log did not
    # say which version the table BI reads was scored with.
    path = tmp_path / "v.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    con = ad_duckdb.connect(str(path))
    con.execute("INSERT INTO ad_models SELECT * REPLACE (2 AS version) FROM ad_models WHERE version = 1")
    con.execute("INSERT INTO ad_thresholds SELECT * REPLACE (2 AS version) FROM ad_thresholds WHERE version = 1")
    con.close()
    out = invoke("score", str(path), "tx_ae", "transactions", "--into", "s")[1]
    assert out.strip() == "wrote 1500 scored rows to s (model tx_ae@2)", out
    out = invoke("score", str(path), "tx_ae@1", "transactions", "--into", "s", "--replace")[1]
    assert out.strip() == "wrote 1500 scored rows to s (model tx_ae@1)", out


def test_every_option_of_every_command_is_explained_in_help() -> None:
    # Before: `train --help` showed "--seed INTEGER [default: 0]" and `threshold --help` the list of methods with no
    # word on which options each needs; `sql --format` had no text either.
    import click

    bare = [(name, p.opts) for name, c in [("", cli), *cli.commands.items()] for p in c.params
            if isinstance(p, click.Option) and not p.help and "--help" not in p.opts and "--version" not in p.opts]
    assert bare == []


def _ctrl_c_able(args: list[str]) -> subprocess.Popen[bytes]:
    """The command in a process that takes Ctrl-C (SIGINT) as a terminal's does. Why reset it: a test run started
    in the background (``make test &``, some CI runners) ignores SIGINT, and a child inherits that, so the command
    would never see the signal these tests send."""
    import signal

    return subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _interrupt_after(args: list[str], stream: str, pattern: str | None = None, busy_seconds: float = 0.0,
                     sig: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command, send it ``sig`` (default SIGINT, Ctrl-C) once ``pattern`` appeared on ``stream`` (or, for a
    command that prints nothing first, once it has spent ``busy_seconds`` of CPU time), and wait for it to end."""
    import re
    import signal
    import time

    p = _ctrl_c_able(args)
    seen = b""
    try:
        if pattern is not None:
            fd = (p.stdout if stream == "stdout" else p.stderr).fileno()  # type: ignore[union-attr]
            while not re.search(pattern.encode(), seen):
                ch = os.read(fd, 1)
                assert ch, f"the command ended before printing {pattern!r}: {seen.decode(errors='replace')}"
                seen += ch
            time.sleep(1)  # into the work that follows (not asserted on)
        ticks = os.sysconf("SC_CLK_TCK")
        while busy_seconds:  # CPU time, not the clock: only the work itself spends it
            assert p.poll() is None, f"the command ended before its work: {p.communicate()!r}"
            fields = Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split()
            if (int(fields[11]) + int(fields[12])) / ticks > busy_seconds:  # utime + stime
                break
            time.sleep(0.2)
        p.send_signal(signal.SIGINT if sig is None else sig)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    return subprocess.CompletedProcess(p.args, p.returncode, out.decode(), (seen if stream == "stderr" else b"").decode()
                                       + err.decode())


def _one_interrupted_line(what: str, p: subprocess.CompletedProcess[str], by: str = "Ctrl-C") -> None:
    assert p.returncode == {"Ctrl-C": 130, "SIGTERM": 143}[by], (what, p.returncode, p.stderr)
    assert "Traceback" not in p.stderr and "Aborted!" not in p.stderr, (what, p.stderr)
    assert p.stderr.strip().splitlines()[-1].startswith(f"Error: interrupted ({by})"), (what, p.stderr)


def test_ctrl_c_in_training_exits_130_with_one_line_and_stores_nothing(model_db: str, tmp_path: Path) -> None:
    # Before: Ctrl-C printed click's bare "Aborted!" and exited 1, the code of any other error, so a script could not
    # tell a stopped job from a failed one.
    path = tmp_path / "ctrl_c.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    p = _interrupt_after(["train", str(path), "tx_ae", "transactions", "-f", "count", "-f", "amount", "--epochs",
                          "1000000"], "stderr", r"training tx_ae: 0/\d{6,} steps\n")
    _one_interrupted_line("training", p)
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        assert [(m["name"], m["version"]) for m in ad_duckdb.list_models(con)] == [("tx_ae", 1)]
        assert ad_duckdb.load_model(con, "tx_ae").version == 1  # loads, its sha256 checked
    finally:
        con.close()


def test_ctrl_c_stops_a_running_query(model_db: str, tmp_path: Path) -> None:
    # Before: DuckDB noticed a Ctrl-C in a running query only now and then (its own check races the signal), so
    # `ad-duckdb sql` on a long query usually ran on until the query ended; when it did notice, a traceback.
    query = tmp_path / "endless.sql"
    query.write_text("SELECT 'started' AS s;\nSELECT count(*) FROM range(9223372036854775807) r WHERE r % 7 = 3;\n")
    for i in range(3):  # the race lost once in a while is not enough: each Ctrl-C must stop it
        p = _interrupt_after(["sql", model_db, "--file", str(query)], "stdout", r"started\n")
        _one_interrupted_line(f"query, run {i}", p)


def test_ctrl_c_reaches_the_cursors_that_score_into_runs_its_queries_on(model_db: str, tmp_path: Path) -> None:
    # Before: the Ctrl-C watcher interrupted the command's connection only, and `score --into` scans and writes on
    # cursors of it, which con.interrupt() does not reach: the write ran on until DuckDB noticed the signal itself
    # (measured: up to 1.2 s after Ctrl-C on 10M rows, and never when no thread checks the signal, as here).
    import threading

    import duckdb

    from ad_duckdb import interrupts

    path = tmp_path / "cursors.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    con = interrupts.track(ad_duckdb.connect(str(path)))  # as the CLI's _open does
    ended: list[BaseException | int] = []

    def run() -> None:  # not the main thread: Python's own Ctrl-C handling never reaches it
        try:
            ended.append(ad_duckdb.score(con, "tx_ae", "SELECT r AS count, r AS amount FROM range(100000000000) t(r)",
                                         into="s"))
        except BaseException as e:
            ended.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        import time

        busy = time.process_time() + 4  # CPU time, not the clock: opening and checking spend under 2 s of it
        while not ended and time.process_time() < busy:
            t.join(0.1)  # until the scoring write is well under way
        interrupts.interrupt_all()  # what the watcher does on SIGINT
        t.join(60)
        assert not t.is_alive(), "score --into ran on after its connection and cursors were interrupted"
        assert len(ended) == 1 and isinstance(ended[0], duckdb.InterruptException), ended
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 's'").fetchall() == [(0,)]
    finally:
        con.close()


def test_ctrl_c_in_score_into_exits_130_and_leaves_the_old_table_whole(model_db: str, tmp_path: Path) -> None:
    # The replaced table is whole or untouched: a Ctrl-C while the new one is written keeps the old one.
    path = tmp_path / "score_into.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    assert CliRunner().invoke(cli, ["score", str(path), "tx_ae", "transactions", "--into", "s"]).exit_code == 0
    p = _interrupt_after(["score", str(path), "tx_ae", "SELECT r AS count, r AS amount FROM range(100000000000) t(r)",
                          "--into", "s", "--replace"], "stderr", busy_seconds=5.0)
    _one_interrupted_line("score --into", p)
    # which it was, said (before: only that nothing is half-written, true whether or not the write went through)
    assert "s was not changed" in p.stderr.strip().splitlines()[-1], p.stderr
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT count(*), count(anomaly_score) FROM s").fetchall() == [(1500, 1500)]
    finally:
        con.close()


def test_ctrl_c_after_score_into_committed_says_the_table_was_written(model_db: str, tmp_path: Path) -> None:
    """A Ctrl-C that lands once the scores table is committed (DuckDB's COMMIT cannot be interrupted; here, while
    --plots scores the source again afterwards) said only "interrupted ... Nothing is left half-written", so a user
    re-ran a long scoring that had gone through. The source has 1500 rows until the table exists, then endless ones:
    the plot's pass runs until the Ctrl-C, which lands after the commit every run. A new table interrupted early
    is named as not created."""
    path = tmp_path / "written.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    source = ("SELECT r AS count, r AS amount FROM range(100000000000) t(r) LIMIT (SELECT CASE WHEN count(*) > 0 "
              "THEN 100000000000 ELSE 1500 END FROM duckdb_tables() WHERE table_name = 'fresh')")
    p = _interrupt_after(["score", str(path), "tx_ae", source, "--into", "fresh", "--plots", str(tmp_path / "plots")],
                         "stdout", r"wrote 1500 scored rows to fresh")
    _one_interrupted_line("score --into, after the commit", p)
    assert "fresh was written (1500 rows, model tx_ae@1)" in p.stderr.strip().splitlines()[-1], p.stderr
    p = _interrupt_after(["score", str(path), "tx_ae", "SELECT r AS count, r AS amount FROM range(100000000000) t(r)",
                          "--into", "other"], "stderr", busy_seconds=5.0)
    _one_interrupted_line("score --into a new table", p)
    assert "other was not created" in p.stderr.strip().splitlines()[-1], p.stderr
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM fresh").fetchall() == [(1500,)]
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'other'").fetchall() == [(0,)]
    finally:
        con.close()


def test_ctrl_c_while_training_reads_its_source_is_an_interruption_not_bad_input(model_db: str,
                                                                                   tmp_path: Path) -> None:
    # Before: the read's "Query interrupted" was wrapped as "Cannot read features ... : Query interrupted", exit 1,
    # as if the source were at fault (and from Python, a BadInputError).
    path = tmp_path / "read.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    # the read prints nothing first; imports and opening spend under 3 s of CPU time
    p = _interrupt_after(["train", str(path), "big_ae", "SELECT r AS count, r AS amount FROM range(100000000000) t(r)",
                          "-f", "count", "-f", "amount"], "stderr", busy_seconds=5.0)
    _one_interrupted_line("reading the source", p)
    assert "Cannot read features" not in p.stderr, p.stderr
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        assert [m["name"] for m in ad_duckdb.list_models(con)] == ["tx_ae"]
    finally:
        con.close()


def test_sigterm_in_training_exits_143_with_one_line_and_stores_nothing(model_db: str, tmp_path: Path) -> None:
    # Before: SIGTERM (Airflow's task timeout, `kill PID`, a Kubernetes pod stop) ended the process at once, with no
    # message and exit -15, so a job log did not say whether a model was stored.
    import signal

    path = tmp_path / "term.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    p = _interrupt_after(["train", str(path), "tx_ae", "transactions", "-f", "count", "-f", "amount", "--epochs",
                          "1000000"], "stderr", r"training tx_ae: 0/\d{6,} steps\n", sig=signal.SIGTERM)
    _one_interrupted_line("training", p, by="SIGTERM")
    assert "Nothing is left half-written" in p.stderr, p.stderr
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        assert [(m["name"], m["version"]) for m in ad_duckdb.list_models(con)] == [("tx_ae", 1)]
        assert ad_duckdb.load_model(con, "tx_ae").version == 1
    finally:
        con.close()


def test_sigterm_stops_the_running_query_of_score_into_and_sql_write(model_db: str, tmp_path: Path) -> None:
    # SIGTERM mid-query: the query is stopped (as for Ctrl-C, by the watcher), the old table kept, and said so.
    import signal

    path = tmp_path / "term_into.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    assert CliRunner().invoke(cli, ["score", str(path), "tx_ae", "transactions", "--into", "s"]).exit_code == 0
    endless = "SELECT r AS count, r AS amount FROM range(100000000000) t(r)"
    p = _interrupt_after(["score", str(path), "tx_ae", endless, "--into", "s", "--replace"], "stderr",
                         busy_seconds=5.0, sig=signal.SIGTERM)
    _one_interrupted_line("score --into", p, by="SIGTERM")
    assert "s was not changed" in p.stderr.strip().splitlines()[-1], p.stderr
    p = _interrupt_after(["sql", str(path), "--write", f"CREATE TABLE w AS {endless}"], "stderr", busy_seconds=5.0,
                         sig=signal.SIGTERM)
    _one_interrupted_line("sql --write", p, by="SIGTERM")
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT count(*), count(anomaly_score) FROM s").fetchall() == [(1500, 1500)]
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'w'").fetchall() == [(0,)]
    finally:
        con.close()


def test_output_the_locale_cannot_encode_is_one_line_naming_the_fix(model_db: str) -> None:
    # Before: a cron job under a Latin-1 locale (or PYTHONIOENCODING=latin-1) that printed a value Latin-1 lacks
    # ended in a UnicodeEncodeError traceback, in every --format.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "latin-1"}
    for fmt in ("csv", "json", "table"):
        p = cli_process("sql", model_db, "SELECT '日本' AS x", "--format", fmt, env=env)
        assert p.returncode == 1 and "Traceback" not in p.stderr, (fmt, p.stderr)
        line = p.stderr.strip()
        assert line.startswith("Error: ") and "\n" not in line, (fmt, p.stderr)
        assert "latin-1" in line and "PYTHONIOENCODING=utf-8" in line, (fmt, line)


def test_python_warning_filters_make_a_note_fail_the_command(model_db: str, tmp_path: Path) -> None:
    # Before: a job that must not go on when training warns (too few rows, features chosen for it) had no way to
    # fail: the notes were printed whatever -W / PYTHONWARNINGS said, and the command exited 0.
    path = tmp_path / "strict.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    args = ("train", str(path), "few_ae", "SELECT * FROM transactions LIMIT 50", "-f", "count", "-f", "amount",
            "--quiet")
    lenient = cli_process(*args)
    assert lenient.returncode == 0 and lenient.stderr.startswith("note: "), lenient.stderr
    strict = cli_process(*args, env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "error::UserWarning"})
    assert strict.returncode == 1 and strict.stdout == "", (strict.stdout, strict.stderr)
    line = strict.stderr.strip()
    assert line.startswith("Error: ") and "\n" not in line and "only 50 rows" in line, strict.stderr
    assert "PYTHONWARNINGS" in line, line
    con = ad_duckdb.connect(str(path), read_only=True)
    try:  # the first version only (the lenient run's): the failed run stored nothing
        assert [m["version"] for m in ad_duckdb.list_models(con) if m["name"] == "few_ae"] == [1]
    finally:
        con.close()


def test_warnings_made_errors_stop_a_retrain_on_other_features_before_it_is_stored(model_db: str, tmp_path: Path) -> None:
    # Before: the "features changed" note was issued after the new version was saved, so under
    # PYTHONWARNINGS=error::UserWarning the command exited 1 and yet 'tx_ae' now meant the version on other features.
    path = tmp_path / "strict_features.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    args = ("train", str(path), "tx_ae", "transactions", "-f", "amount", "-f", "count", "--epochs", "2", "--quiet")
    strict = cli_process(*args, env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "error::UserWarning"})
    assert strict.returncode == 1 and strict.stdout == "", (strict.stdout, strict.stderr)
    line = strict.stderr.strip()
    assert line.startswith("Error: ") and "\n" not in line, strict.stderr
    assert "'tx_ae@2' takes (amount, count), but 'tx_ae@1' took (count, amount)" in line, line
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        assert [(m["name"], m["version"]) for m in ad_duckdb.list_models(con)] == [("tx_ae", 1)]
        assert con.execute("SELECT count(*) FROM ad_thresholds WHERE version <> 1").fetchall() == [(0,)]
    finally:
        con.close()
    lenient = cli_process(*args)  # the same retrain, warned about and stored as the version the note named
    assert lenient.returncode == 0 and lenient.stdout.startswith("stored tx_ae@2:"), (lenient.stdout, lenient.stderr)
    assert lenient.stderr.startswith("note: 'tx_ae@2' takes (amount, count)"), lenient.stderr


PROGRESS_LINE = r"training tx_ae2: "
FINAL_LINE = (r"training tx_ae2: (\d+/\d+ steps|stopped early at \d+/\d+ steps: val_loss did not improve in \d+ checks), "
              r"best val_loss [-+.\de]+, \d+s")


def test_training_progress_in_a_log_is_a_few_plain_lines(model_db: str, tmp_path: Path) -> None:
    # Before: a job log (cron, Airflow, CI: stderr a pipe or a file) got tqdm's bar, \r-joined redraws about twice a
    # second, one "line" that grew for the whole training.
    import re

    path = tmp_path / "log.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    # bytes, not text=True: reading text turns every \r into \n
    raw = subprocess.run([sys.executable, "-m", "ad_duckdb.cli", "train", str(path), "tx_ae2", "transactions", "-f", "count",
                          "-f", "amount", "--epochs", "40"], capture_output=True, timeout=300, stdin=subprocess.DEVNULL,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert b"\r" not in raw.stderr and b"\x1b" not in raw.stderr, raw.stderr
    p = subprocess.CompletedProcess(raw.args, raw.returncode, raw.stdout.decode(), raw.stderr.decode())
    assert p.returncode == 0 and p.stdout.startswith("stored tx_ae2@1:"), (p.stdout, p.stderr)
    lines = [x for x in p.stderr.splitlines() if x.startswith(PROGRESS_LINE)]
    assert lines == p.stderr.splitlines(), p.stderr  # nothing else on stderr
    assert re.fullmatch(r"training tx_ae2: 0/\d+ steps", lines[0]) and re.fullmatch(FINAL_LINE, lines[-1]), lines
    assert 2 <= len(lines) <= 12, lines  # start, at most one per tenth of the steps, the end
    assert cli_process("train", str(path), "tx_ae2", "transactions", "-f", "count", "-f", "amount", "--epochs", "2",
                       "--quiet").stderr == ""


def test_log_lines_come_at_most_once_per_tenth_of_the_steps_however_often_the_loop_reports() -> None:
    import io

    from ad_duckdb import progress

    out = io.StringIO()
    lines = progress._Lines(100_000, "training m", 5, out)
    for ran in range(1, 100_000):
        lines.advance(ran, 0.5)
    lines.finish(100_000, 0.25, stopped_early=False)
    said = out.getvalue().splitlines()
    assert said[0] == "training m: 0/100000 steps" and said[-1].startswith("training m: 100000/100000 steps, "), said
    assert len(said) <= 11 and "\r" not in out.getvalue(), said


def test_training_progress_on_a_terminal_is_the_bar(model_db: str, tmp_path: Path) -> None:
    # The other half of the rule: stderr a terminal (a pty here) keeps the redrawn bar, in optimizer steps.
    import fcntl
    import pty
    import struct
    import termios

    path = tmp_path / "tty.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    leader, follower = pty.openpty()
    # a terminal 100 columns wide: a new pty is 0 wide, into which tqdm draws nothing
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        p = subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", "train", str(path), "tx_ae2", "transactions", "-f",
                              "count", "-f", "amount", "--epochs", "40"], stdout=subprocess.DEVNULL, stderr=follower,
                             stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal's other end closed: the command ended
                break
            if not chunk:
                break
            seen += chunk
        assert p.wait(timeout=300) == 0, seen
    finally:
        os.close(leader)
    text = seen.decode(errors="replace")
    assert "\r" in text and "step/s" in text and "training tx_ae2: 0/" not in text, text


def test_the_python_api_in_a_read_only_folder_refuses_to_write_before_the_work(model_db: str, tmp_path: Path) -> None:
    # The command line refused this before the work (above); from Python, train() trained the whole model, and only
    # its commit failed: "TransactionContext Error: Failed to commit: Cannot open file ...wal: Permission denied".
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "r.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    folder.chmod(0o555)
    script = f"""
import ad_duckdb
con = ad_duckdb.connect({str(path)!r})
for what, call in (("train", lambda: ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"],
                                                      progress=False, max_steps=5)),
                   ("score", lambda: ad_duckdb.score(con, "tx_ae", "transactions", into="s")),
                   ("threshold", lambda: ad_duckdb.set_threshold(con, "tx_ae", "cut", "manual", value=3.0))):
    try:
        call()
        print(what, "went ahead")
    except ad_duckdb.DatabaseUnavailableError as e:
        print(what, "refused:", e)
print(con.execute("SELECT count(*) FROM ad_models").fetchall())
"""
    try:
        p = subprocess.run([*_as_another_user(), sys.executable, "-c", script], capture_output=True, text=True,
                           timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        folder.chmod(0o755)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert [line.split()[:2] for line in lines[:3]] == [["train", "refused:"], ["score", "refused:"],
                                                        ["threshold", "refused:"]], p.stdout
    assert all(str(folder) in line and ".wal" in line and "chmod" in line for line in lines[:3]), p.stdout
    assert lines[3] == "[(1,)]" and "training" not in p.stderr, (p.stdout, p.stderr)


def test_a_database_write_the_disk_cannot_hold_names_the_fix_and_keeps_the_database(model_db: str,
                                                                                      tmp_path: Path) -> None:
    # Before: DuckDB's own "IO Error: Could not write file ...: File too large" (or "No space left on device") came
    # through bare, with no word of what to do or of what became of the database. A file size limit fails the write
    # as a full disk does (see the test above).
    import resource

    path = tmp_path / "full.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    limit = path.stat().st_size + 300_000

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    # Why hashed values: a table of r, 3r and their smooth scores compressed to two 256 KiB blocks, near the
    # limit's 300 KB, and at times one block fitted under it (a run then wrote the table); these take 35 MB.
    rows = "SELECT hash(r) % 1000 AS count, hash(r + 3000000) % 1000000 / 100.0 AS amount, r AS k FROM range(3000000) t(r)"
    p = subprocess.run([sys.executable, "-m", "ad_duckdb.cli", "score", str(path), "tx_ae", rows, "--into", "big"],
                       capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)},
                       stdin=subprocess.DEVNULL, preexec_fn=limited)
    assert p.returncode == 1, p.stderr
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and str(path) in last and "raise it or choose another disk" in last, p.stderr
    assert "whole or not at all" in last and len(p.stderr.strip().splitlines()) == 1, p.stderr
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'big'").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM transactions WHERE is_anomaly('tx_ae', count, amount)").fetchall()[0][0] > 0
    finally:
        con.close()


def test_importing_a_missing_file_exits_6_as_a_missing_source_file_does(model_db: str, tmp_path: Path) -> None:
    # Before: exit code 1 ("any other error"), where the README's 6 is "no such source table, view, file or column",
    # as `score DB tx_ae missing.parquet` gives; a deployment script could not tell a mistyped path from other failures.
    target = tmp_path / "prod.duckdb"
    rc, _, err = invoke("import", str(target), str(tmp_path / "tx_ae.onnx"))
    assert rc == 6 and "does not exist" in err and "tx_ae.onnx" in err, err
    assert not target.exists()
    con = duckdb.connect()
    try:
        with pytest.raises(ad_duckdb.exceptions.SourceNotFoundError, match="does not exist"):
            ad_duckdb.import_model(con, tmp_path / "tx_ae.onnx")
    finally:
        con.close()


def test_an_ascii_locale_reads_utf8_arguments_and_scripts(model_db: str, tmp_path: Path) -> None:
    # Before: under an ASCII locale without Python's UTF-8 mode (PYTHONUTF8=0 LC_ALL=C, a bare cron environment),
    # Python keeps the UTF-8 bytes of an argument or piped script as lone surrogates, which DuckDB refuses: a query
    # holding 'Zürich' ended in a 40-line TypeError traceback from extract_statements.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUTF8": "0", "LC_ALL": "C"}
    env.pop("PYTHONIOENCODING", None)
    p = cli_process("sql", model_db, "SELECT 'Zürich' = 'Z' || chr(252) || 'rich' AS same", "--format", "csv", env=env)
    assert p.returncode == 0 and p.stdout.split() == ["same", "true"], (p.returncode, p.stderr)
    script = subprocess.run([sys.executable, "-m", "ad_duckdb.cli", "sql", model_db, "--format", "csv"],
                            input="SELECT length('Zürich') AS n;".encode(), capture_output=True, timeout=300, env=env)
    assert script.returncode == 0 and script.stdout.split() == [b"n", b"6"], script.stderr.decode(errors="replace")
    # bytes that are not UTF-8 either: one line naming the argument, exit 2 (wrong arguments), not a traceback
    bad = subprocess.run([sys.executable, "-m", "ad_duckdb.cli", "sql", model_db, b"SELECT '\xfc' AS x"],
                         capture_output=True, timeout=300, env=env, stdin=subprocess.DEVNULL)
    err = bad.stderr.decode(errors="replace").strip()
    assert bad.returncode == 2 and err.startswith("Error: ") and "\n" not in err and "UTF-8" in err, (bad.returncode, err)


def test_threshold_notes_go_to_stderr_with_the_others(model_db: str, tmp_path: Path) -> None:
    # Before: `threshold` printed its note on the training rows ("... its figures on them are optimistic") on
    # stdout, the one note there: a job keeping stdout as its result and stderr as its log got the note as data.
    path = tmp_path / "notes.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE transactions ADD COLUMN label INTEGER")
    con.execute("UPDATE transactions SET label = (transaction_id % 50 = 0)::INTEGER")
    con.close()
    rc, out, err = invoke("threshold", str(path), "tx_ae", "f1", "--method", "max_f1", "--source", "transactions",
                          "--label", "label")
    assert rc == 0 and out.startswith("stored threshold 'f1' = ") and "note:" not in out, out
    assert err.startswith("note: ") and "was trained on" in err, (out, err)


def test_serve_start_failures_exit_with_the_readmes_codes(model_db: str, tmp_path: Path) -> None:
    # Before: `serve` on a missing file, `--snapshot --read-write` and `--host 0.0.0.0` without a password all exited
    # 1 ("any other error"), where the README's table (and `ad-duckdb --help`) says 3 for a database file that does not
    # exist and 2 for wrong options, as every other command exits; a start script could not tell them apart.
    env = {k: v for k, v in os.environ.items() if k != "AD_DUCKDB_SERVER_PASSWORD"}
    cases = [(3, ("serve", str(tmp_path / "nope.duckdb"), "--port", "0"), "No database file"),
             (2, ("serve", model_db, "--snapshot", "--read-write", "--port", "0"), "cannot be combined with --read-write"),
             (2, ("serve", model_db, "--host", "0.0.0.0", "--port", "0"), "Refusing to listen on 0.0.0.0 without a "
                                                                           "password")]
    for code, args, says in cases:
        res = cli_process(*args, env={**env, "PYTHONPATH": str(ROOT)})
        assert (res.returncode, res.stdout) == (code, ""), (args, res.returncode, res.stdout, res.stderr)
        assert res.stderr.startswith("Error: ") and says in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_serve_on_memory_names_what_it_needs() -> None:
    """`serve :memory:` said "create it first (e.g. ad-duckdb train)", and train refuses :memory: (it keeps nothing)."""
    res = CliRunner().invoke(cli, ["serve", ":memory:", "--port", "0"], catch_exceptions=False)
    assert res.exit_code == 3, res.output
    assert res.output.startswith("Error: ") and len(res.output.strip().splitlines()) == 1, res.output
    assert "in-memory" in res.output and "ad-duckdb train" in res.output and "create it first" not in res.output, \
        res.output


def test_serve_on_a_file_that_is_no_duckdb_database_says_so_as_other_commands_do(tmp_path: Path) -> None:
    """serve on a folder, a text file or a Parquet file printed DuckDB's error as a traceback (exit 1); with --snapshot
    it blamed the temporary folder's room ("free some space, or point TMPDIR at ...")."""
    folder, text, parquet = tmp_path / "lake", tmp_path / "notes.txt", tmp_path / "tx.parquet"
    folder.mkdir()
    text.write_text("not a database\n")
    duckdb.sql(f"COPY (SELECT 1 AS a) TO '{parquet}'")
    for path, says in ((folder, "it is a folder, not a DuckDB database file"),
                       (text, "it is not a DuckDB database file (DuckDB cannot read it as one"),
                       (parquet, "is not a DuckDB database file (DuckDB opens it as an in-memory database")):
        for more in ([], ["--snapshot"]):
            res = CliRunner().invoke(cli, ["serve", str(path), "--port", "0", *more], catch_exceptions=False)
            assert res.exit_code == 3, (path, more, res.output)
            assert res.output.startswith("Error: ") and len(res.output.strip().splitlines()) == 1, res.output
            assert says in res.output and "TMPDIR" not in res.output, (path, more, res.output)
            # serve creates no database: a "new path creates one" sent the user to a path serve then refused
            assert "new path creates" not in res.output, res.output
    assert text.read_text() == "not a database\n"
    # a typo of the file's name (or extension) beside it: the file meant, for serve and for the other commands
    real = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(real)).close()
    for args in (["serve", str(tmp_path / "warehouse.duckdbx"), "--port", "0"],
                 ["score", str(tmp_path / "warehous.duckdb"), "tx_ae", "transactions"]):
        res = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert res.exit_code == 3 and f"Did you mean {str(real)!r}?" in res.output, res.output


def test_a_device_or_pipe_as_db_is_refused_by_every_command_as_no_database_file(model_db: str, tmp_path: Path) -> None:
    """`train /dev/null ...` trained, then ended in DuckDB's "Could not fsync file "/dev/null"" (exit 1), as import did;
    a named pipe (FIFO) as DB blocked the command until a writer came. Both are refused before any work, exit 3."""
    fifo = tmp_path / "db.fifo"
    os.mkfifo(fifo)
    onnx = tmp_path / "tx.onnx"
    assert invoke("export", model_db, "tx_ae", str(onnx))[0] == 0
    for db, kind in (("/dev/null", "a character device"), (str(fifo), "a named pipe (FIFO)")):
        for args in (("train", db, "m", "SELECT range::DOUBLE AS a FROM range(50)", "--quiet", "--epochs", "1"),
                     ("import", db, str(onnx)), ("list", db), ("sql", "--write", db, "SELECT 1"),
                     ("score", db, "tx_ae", "transactions"), ("drop", db, "tx_ae", "--yes"), ("serve", db, "--port", "0")):
            res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
            assert res.exit_code == 3, (args, res.output)
            assert res.output == f"Error: Cannot open {db!r}: it is {kind}, not a DuckDB database file (DuckDB reads " \
                "and writes a database as a regular file). Give the path of a .duckdb file, e.g. warehouse.duckdb (a " \
                "new path creates one).\n", (args, res.output)
        with pytest.raises(ad_duckdb.DatabaseUnavailableError, match=re.escape(f"it is {kind}, not a DuckDB database file")):
            ad_duckdb.connect(db)
    assert Path("/dev/null").is_char_device() and fifo.is_fifo()
    # a pipe as a file argument that is not the database still reads: import DB /dev/stdin
    with onnx.open("rb") as stdin:
        piped = subprocess.run([sys.executable, "-m", "ad_duckdb", "import", str(tmp_path / "new.duckdb"), "/dev/stdin",
                                "--name", "piped"], stdin=stdin, capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert "piped" in invoke("list", str(tmp_path / "new.duckdb"))[1]


def test_a_path_starting_with_a_dash_gets_how_to_give_it(model_db: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A database named -x.duckdb got click's bare "No such option: -x"; one named --new.duckdb was created as
    " --new.duckdb" (a leading space, which the next command did not find). Now: how to give it, ./ or --."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(model_db, tmp_path / "-x.duckdb")
    code, out, err = invoke("list", "-x.duckdb")
    assert code == 2 and out == "", out
    assert err.startswith("Error: No such option '-x' (from '-x.duckdb'): a word starting with '-' is read as "
                          "options. For a file of that name write ./-x.duckdb, or put -- before the arguments (after "
                          "the options): e.g. cli list ./-x.duckdb\nUsage: cli list"), err
    for args in (("list", "--", "-x.duckdb"), ("list", "./-x.duckdb")):
        code, out, err = invoke(*args)
        assert code == 0 and "tx_ae" in out, (args, out, err)
    code, out, err = invoke("score", "--top", "1", "--format", "csv", "--", "-x.duckdb", "tx_ae", "transactions")
    assert code == 0 and out.count("\n") == 2, (out, err)
    # a new database: not created under another name, and -- creates it as named
    code, _, err = invoke("train", "--new.duckdb", "m", "SELECT range::DOUBLE AS a FROM range(50)")
    assert code == 2 and "write ./--new.duckdb, or put -- before the arguments" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["-x.duckdb"]
    assert invoke("sql", "--write", "--", "--new.duckdb", "CREATE TABLE t AS SELECT 1 AS a")[0] == 0
    assert (tmp_path / "--new.duckdb").is_file() and not (tmp_path / " --new.duckdb").exists()
    # a mistyped option, no file's name: click's own words
    code, _, err = invoke("list", "-y", "-x.duckdb")
    assert code == 2 and err.startswith("Error: No such option '-y'. 'cli list --help' lists its options."), err


def test_a_model_name_ending_in_onnx_is_a_wrong_argument_exit_2(model_db: str, tmp_path: Path) -> None:
    # Before: `import DB FILE --name x.onnx` (and train, threshold ... of such a name) exited 1, "any other error",
    # where `--name 'bad name'` exits 2, as the README promises for wrong arguments.
    onnx_file = tmp_path / "tx.onnx"
    assert invoke("export", model_db, "tx_ae", str(onnx_file))[0] == 0
    fresh = str(tmp_path / "fresh.duckdb")
    for name in ("x.onnx", "bad name"):
        code, _, err = invoke("import", fresh, str(onnx_file), "--name", name)
        assert code == 2 and err.startswith(f"Error: Model name '{name}'"), (name, code, err)
    assert not Path(fresh).exists() or invoke("list", fresh)[1].count("tx_ae") == 0


def test_ctrl_c_while_an_anomaly_function_runs_exits_130(model_db: str, tmp_path: Path) -> None:
    # Before: a Ctrl-C landing in the Python of anomaly_score (where a scoring query spends its time) reached the user
    # as DuckDB's wrapper, "Error: Invalid Input Error: Python exception occurred while executing the UDF:
    # KeyboardInterrupt:", exit 1: a bad-input error, where a plain DuckDB query said "interrupted" and exited 130.
    query = tmp_path / "scoring.sql"
    query.write_text("SELECT 'started' AS s;\n"
                     "SELECT sum(anomaly_score('tx_ae', r % 50, r % 900)) FROM range(1000000000) t(r);\n")
    for i in range(2):
        p = _interrupt_after(["sql", model_db, "--file", str(query)], "stdout", r"started\n")
        _one_interrupted_line(f"scoring query, run {i}", p)
        assert "Invalid Input" not in p.stderr and "KeyboardInterrupt" not in p.stderr, p.stderr


def test_export_to_dash_writes_the_onnx_bytes_to_stdout_and_refuses_a_terminal(model_db: str, tmp_path: Path) -> None:
    """`export DB tx_ae -` wrote a file named '-' (and said "wrote -"), where gzip -c, curl -o - and tar -f - write to
    standard output; piped, the bytes are the .onnx file's, and to a terminal they are refused, as gzip refuses."""
    import pty

    cmd = [sys.executable, "-m", "ad_duckdb.cli", "export", model_db, "tx_ae", "-"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    piped = subprocess.run(cmd, capture_output=True, timeout=300, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert piped.returncode == 0, piped.stderr
    assert not (tmp_path / "-").exists()
    code, _, err = invoke("export", model_db, "tx_ae", str(tmp_path / "tx_ae.onnx"))
    assert code == 0, err
    assert piped.stdout == (tmp_path / "tx_ae.onnx").read_bytes()
    (tmp_path / "piped.onnx").write_bytes(piped.stdout)
    assert ad_duckdb.api.read_onnx_file(tmp_path / "piped.onnx").ref == "tx_ae@1"

    master, slave = pty.openpty()
    try:
        shown = subprocess.run(cmd, stdout=slave, stderr=subprocess.PIPE, timeout=300, env=env, cwd=tmp_path,
                               stdin=subprocess.DEVNULL, text=True)
    finally:
        os.close(slave)
        os.close(master)
    assert shown.returncode == 2, shown.stderr
    assert "standard output is a terminal" in shown.stderr and "> tx_ae.onnx" in shown.stderr, shown.stderr
    assert "Traceback" not in shown.stderr and not (tmp_path / "-").exists()


def test_import_from_dash_reads_the_file_from_stdin_so_export_pipes_into_import(model_db: str, tmp_path: Path) -> None:
    """`export DB tx_ae - | import DB2 -` failed: import took '-' for a file named '-' ("does not exist"), so the
    copy export's `-` was made for (a pipe between two hosts or databases) needed a file in between."""
    import pty

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    target = str(tmp_path / "copy.duckdb")
    with subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", "export", model_db, "tx_ae", "-"],
                          stdout=subprocess.PIPE, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL) as exporter:
        importer = subprocess.run([sys.executable, "-m", "ad_duckdb", "import", target, "-"], stdin=exporter.stdout,
                                  capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert exporter.returncode == 0
    assert importer.returncode == 0, importer.stderr
    assert importer.stdout.strip() == "stored tx_ae@1", importer.stdout
    assert not (tmp_path / "-").exists()
    with duckdb.connect(model_db, read_only=True) as a, duckdb.connect(target, read_only=True) as b:
        sql = "SELECT sha256, source LIKE 'imported from standard input (tx_ae@1; %' FROM ad_models"
        assert b.execute(sql).fetchall() == [(a.execute("SELECT sha256 FROM ad_models").fetchall()[0][0], True)]
        ths = "SELECT threshold_name, value, created_at FROM ad_thresholds ORDER BY 1"
        assert b.execute(ths).fetchall() == a.execute(ths).fetchall()
    con = ad_duckdb.connect(target)
    try:
        assert con.execute("SELECT anomaly_score('tx_ae', 5, 100.0)").fetchall()[0][0] > 0
    finally:
        con.close()

    # not a pipe but bytes that are no model: named as standard input, nothing created
    bad = subprocess.run([sys.executable, "-m", "ad_duckdb.cli", "import", str(tmp_path / "new.duckdb"), "-"],
                         input=b"not a model", capture_output=True, timeout=300, env=env, cwd=tmp_path)
    assert bad.returncode != 0 and b"standard input" in bad.stderr and b"Traceback" not in bad.stderr, bad.stderr
    assert not (tmp_path / "new.duckdb").exists()

    master, slave = pty.openpty()
    try:
        typed = subprocess.run([sys.executable, "-m", "ad_duckdb.cli", "import", str(tmp_path / "t.duckdb"), "-"],
                               stdin=slave, capture_output=True, timeout=300, env=env, cwd=tmp_path, text=True)
    finally:
        os.close(slave)
        os.close(master)
    assert typed.returncode == 2, typed.stderr
    assert "standard input is a terminal" in typed.stderr and "< tx_ae.onnx" in typed.stderr, typed.stderr
    assert "Traceback" not in typed.stderr and not (tmp_path / "t.duckdb").exists()


def test_score_into_in_a_log_says_how_far_it_got_while_it_runs(model_db: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: `score --into` wrote nothing until its `wrote N scored rows` line; 5M rows with --explain ran 140 s in a
    # cron log without a word (train has its progress lines). Now a line each ROW_LINE_SECONDS (30 s; 0 here, so every
    # batch says it), none at all for a run shorter than that, and none with --quiet.
    import re

    from ad_duckdb import progress

    path = tmp_path / "p.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    monkeypatch.setattr(progress, "ROW_LINE_SECONDS", 0.0)
    code, out, err = invoke("score", str(path), "tx_ae", "transactions", "--into", "s", "-c", "transaction_id")
    assert code == 0 and out.startswith("wrote 1500 scored rows to s"), (out, err)
    assert re.fullmatch(r"scoring into s with tx_ae@1: 1500 rows, \d+s\n", err), err
    code, out, err = invoke("score", str(path), "tx_ae", "transactions", "--into", "s", "--replace", "--quiet")
    assert code == 0 and err == "", err
    monkeypatch.setattr(progress, "ROW_LINE_SECONDS", 30.0)
    code, out, err = invoke("score", str(path), "tx_ae", "transactions", "--into", "s", "--replace")
    assert code == 0 and err == "", err  # a short run: its `wrote` line alone


def test_score_progress_from_python_counts_the_rows_batch_by_batch(model_db: str, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from ad_duckdb import progress

    monkeypatch.setattr(progress, "ROW_LINE_SECONDS", 0.0)
    con = ad_duckdb.connect(model_db, read_only=True)
    try:
        table = ad_duckdb.score(con, "tx_ae", "transactions", batch_rows=512, progress=True)
        assert table.num_rows == 1500
        said = capsys.readouterr().err.splitlines()
        assert [x.split(",")[0] for x in said] == [f"scoring with tx_ae@1: {n} rows" for n in (512, 1024, 1500)], said
        ad_duckdb.score(con, "tx_ae", "transactions", batch_rows=512)  # the default: quiet, as before
        assert capsys.readouterr().err == ""
    finally:
        con.close()


def test_a_model_the_disk_cannot_hold_names_the_fix_as_a_scores_table_does(model_db: str, tmp_path: Path) -> None:
    # Before: a training whose model the disk could not hold ended with DuckDB's bare "TransactionContext Error:
    # Failed to commit: Could not write file ".../full.duckdb.wal": No space left on device" (the commit's error is
    # no IO error, so the full-disk hint of `score --into` skipped it). A file size limit fails the write as a full
    # disk does (see the tests above).
    import resource

    path = tmp_path / "full.duckdb"
    path.write_bytes(Path(model_db).read_bytes())

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (10_000, 10_000))  # below the model's ONNX: its WAL record fails

    p = subprocess.run([sys.executable, "-m", "ad_duckdb.cli", "train", str(path), "tx_ae2", "transactions", "-f",
                        "count", "-f", "amount", "--epochs", "2", "--quiet"], capture_output=True, text=True,
                       timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL,
                       preexec_fn=limited)
    assert p.returncode == 1, p.stderr
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and "raise it or choose another disk" in last, p.stderr
    assert "whole or not at all" in last and len(p.stderr.strip().splitlines()) == 1, p.stderr
    con = ad_duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT list(DISTINCT name) FROM ad_models").fetchall() == [(["tx_ae"],)]
    finally:
        con.close()


def test_score_progress_on_a_terminal_without_tqdm_prints_lines(model_db: str, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    # tqdm comes with the train extra only: a scoring-only install scoring from a terminal raised ImportError
    # (after loading the model) where it now prints the log's lines
    from ad_duckdb import progress

    monkeypatch.setattr(progress, "_is_terminal", lambda stream: True)
    for name in ("tqdm", "tqdm.std", "tqdm.auto"):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed: its import fails
    monkeypatch.setattr(progress, "ROW_LINE_SECONDS", 0.0)
    con = ad_duckdb.connect(model_db, read_only=True)
    try:
        table = ad_duckdb.score(con, "tx_ae", "transactions", batch_rows=1024, progress=True)
    finally:
        con.close()
    assert table.num_rows == 1500
    said = capsys.readouterr().err.splitlines()
    assert [x.split(",")[0] for x in said] == [f"scoring with tx_ae@1: {n} rows" for n in (1024, 1500)], said


def test_evaluate_and_threshold_in_a_log_say_how_far_the_scoring_got(model_db: str, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: evaluate and threshold (a goal on labels) scored every labelled row without a word until their
    # result, minutes on 50M rows, where score --into and train print progress. Now the same lines (every
    # ROW_LINE_SECONDS; 0 here, so each batch says it), none with --quiet or for a hand-set value.
    import re

    from ad_duckdb import progress

    path = tmp_path / "p.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    src = "SELECT *, (amount > 250)::INTEGER AS label FROM transactions"
    monkeypatch.setattr(progress, "ROW_LINE_SECONDS", 0.0)
    code, out, err = invoke("evaluate", str(path), "tx_ae", src, "--label", "label")
    assert code == 0 and "AUC-ROC" in out, (out, err)
    assert re.search(r"^evaluating tx_ae@1: 1500 rows, \d+s$", err, re.M), err
    code, out, err = invoke("threshold", str(path), "tx_ae", "f1", "--method", "max_f1", "--source", src,
                            "--label", "label")
    assert code == 0 and out.startswith("stored threshold 'f1'"), (out, err)
    assert re.search(r"^choosing threshold 'f1' for tx_ae@1: 1500 rows, \d+s$", err, re.M), err
    for args in (("evaluate", str(path), "tx_ae", src, "--label", "label", "--quiet"),
                 ("threshold", str(path), "tx_ae", "f1", "--method", "max_f1", "--source", src, "--label", "label",
                  "--quiet"),
                 ("threshold", str(path), "tx_ae", "hand", "--method", "manual", "--value", "3")):
        code, out, err = invoke(*args)
        assert code == 0 and "rows, " not in err, (args, err)


def test_evaluate_and_set_threshold_progress_from_python(model_db: str, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from ad_duckdb import progress

    monkeypatch.setattr(progress, "ROW_LINE_SECONDS", 0.0)
    src = "SELECT *, (amount > 250)::INTEGER AS label FROM transactions"
    con = ad_duckdb.connect(model_db, read_only=True)
    try:
        rep = ad_duckdb.evaluate(con, "tx_ae", src, label="label", progress=True)
        assert rep.rows == 1500
        said = capsys.readouterr().err.splitlines()
        assert [x.split(",")[0] for x in said] == ["evaluating tx_ae@1: 1500 rows"], said
        ad_duckdb.evaluate(con, "tx_ae", src, label="label")  # the default: quiet, as before
        assert capsys.readouterr().err == ""
    finally:
        con.close()


def test_a_retrain_choosing_a_goal_again_says_how_far_its_scoring_got(model_db: str, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    # carry_thresholds chooses each goal threshold again on its labelled rows, scoring them all once more after the
    # training's own progress lines: that pass said nothing either
    from ad_duckdb import progress

    path = tmp_path / "g.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    src = "SELECT *, (amount > 250)::INTEGER AS label FROM transactions"
    monkeypatch.setattr(progress, "ROW_LINE_SECONDS", 0.0)
    con = ad_duckdb.connect(str(path))
    try:
        ad_duckdb.set_threshold(con, "tx_ae", "f1", "max_f1", source=src, label="label")
        capsys.readouterr()
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], carry_thresholds=True,
                        **{**FAST, "max_steps": 20, "progress": True})
    finally:
        con.close()
    said = capsys.readouterr().err.splitlines()
    assert "choosing threshold 'f1' for tx_ae@2: 1500 rows" in [x.split(",")[0] for x in said], said


def test_wait_says_in_the_log_what_it_waits_for(model_db: str, tmp_path: Path) -> None:
    # Before: `ad-duckdb --wait 600 ...` waited in silence: a cron or Airflow log showed nothing for up to ten
    # minutes, as if the job hung, while from Python connect(wait=) logged the wait with the holder's PID.
    path = tmp_path / "busy.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    hold_until_told = ("import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('HELD', flush=True); "
                       "sys.stdin.readline(); c.close()")
    holder = subprocess.Popen([sys.executable, "-c", hold_until_told, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"
        job = subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", "--wait", "120", "score", str(path), "tx_ae",
                                "transactions", "--into", "s", "--replace"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            assert job.stderr is not None
            said = job.stderr.readline()  # said while it waits: the holder lets go only once it is read
            assert holder.stdin is not None
            holder.stdin.write("GO\n")
            holder.stdin.flush()
            out, rest = job.communicate(timeout=120)
        finally:
            if job.poll() is None:
                job.kill()
                job.communicate()
    finally:
        holder.kill()
        holder.communicate()
    assert job.returncode == 0 and "wrote 1500 scored rows to s" in out, (said, rest)
    assert said.startswith("note: waiting up to 120s (--wait) for the database file: ") and rest == "", (said, rest)
    assert "busy.duckdb" in said and f"(PID {holder.pid}, " in said, said
    quiet = cli_process("--wait", "60", "list", str(path))  # a file nobody holds: no note
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr


# A SIGTERM sent to the command at a point of its start (``point``): after its handler is in place but before the
# command runs (main's own set-up), or while click reads the arguments.
TERM_WHILE_STARTING = textwrap.dedent("""
    import os, signal, sys
    import ad_duckdb.cli as cli
    point = sys.argv[1]
    if point == "set-up":
        watch = cli._watch_ctrl_c
        def watch_then_term():
            watch()
            os.kill(os.getpid(), signal.SIGTERM)
        cli._watch_ctrl_c = watch_then_term
    else:
        parse = cli.cli.parse_args
        def term_then_parse(ctx, args):
            os.kill(os.getpid(), signal.SIGTERM)
            return parse(ctx, args)
        cli.cli.parse_args = term_then_parse
    sys.argv = ["ad-duckdb", *sys.argv[2:]]
    cli.main()
""")


@pytest.mark.parametrize("point", ["set-up", "arguments"])
def test_sigterm_while_the_command_starts_is_one_line_and_exit_143(point: str, model_db: str) -> None:
    # Before: a scheduler's SIGTERM landing while the command started (its handler in place, the command not yet
    # running: a loaded machine spends seconds there) printed a 15-line traceback and exited 1, or click's bare
    # "Aborted!" with exit 1, the code of any other failure, where a stop by SIGTERM is 143 with one Error: line.
    p = subprocess.run([sys.executable, "-c", TERM_WHILE_STARTING, point, "list", model_db], capture_output=True,
                       text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL)
    _one_interrupted_line(f"starting ({point})", p, by="SIGTERM")
    assert p.stdout == "" and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "while the command was starting; it did nothing" in p.stderr, p.stderr


def test_a_first_append_whose_source_reads_the_missing_table_exits_6(model_db: str, tmp_path: Path) -> None:
    # Before: the cron job's first run, whose source reads the scores table for the last row scored, exited 1 (any
    # other error), where any other table a source reads and that does not exist exits 6 (no such source table).
    path = tmp_path / "first.duckdb"
    path.write_bytes(Path(model_db).read_bytes())
    # (the README's cron line now makes the table on its first run: tests/test_ops14_first_append.py; a source
    # reading a column the run does not write still cannot run, and says how to start the job)
    since = ("SELECT * FROM transactions WHERE transaction_id > "
             "(SELECT coalesce(max(s.no_such_column), -1) FROM tx_scores s)")
    p = cli_process("score", str(path), "tx_ae", since, "--into", "tx_scores", "-c", "transaction_id", "--append")
    assert p.returncode == 6 and p.stderr.startswith("Error: Scoring with 'tx_ae': table 'tx_scores' does not exist "
                                                     "yet, and the source reads it"), p.stderr
    assert "ad-duckdb score DB tx_ae TABLE --into" in p.stderr and "--append" in p.stderr, p.stderr
