"""The command line as a scheduler (cron, Airflow) runs it and its log reads it: real `ad-duckdb` processes where the
process is what is tested (its working folder, its environment: PYTHONWARNINGS); in this process (click's CliRunner,
as the script calls it) for what a command prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from ad_duckdb.cli import cli

from conftest import ROOT, cli_in_process

AD_DUCKDB = str(Path(sys.executable).parent / "ad-duckdb")


def ad_duckdb(*args: str, cwd: str | None = None, env: dict[str, str] | None = None,
              prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """The venv's `ad-duckdb` script, run on this checkout."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([*prefix, AD_DUCKDB, *args], capture_output=True, text=True, timeout=300, env=full,
                          cwd=cwd)


def _choice_option(command: click.Command) -> str | None:
    """The first option of ``command`` taking one of a few words (--format), if any."""
    return next((max(p.opts, key=len) for p in command.params
                 if isinstance(p, click.Option) and isinstance(p.type, click.Choice)), None)


def _usage_error_lines(p: subprocess.CompletedProcess[str], command: str) -> list[str]:
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stdout == "", p.stdout
    lines = p.stderr.strip().splitlines()
    assert lines[0].startswith("Error: "), p.stderr  # the first line a log shows, and the one grep finds
    assert [ln for ln in lines if "Error" in ln] == lines[:1], p.stderr  # one Error line, with all it says
    assert lines[1].startswith(f"Usage: ad-duckdb {command}".rstrip()), p.stderr  # then the usage, as the hint
    assert lines[-1] == f"Try 'ad-duckdb {command} --help' for help.".replace("  ", " "), p.stderr
    return lines


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_a_usage_error_leads_with_its_error_line_naming_the_fix_for_every_command(command: str) -> None:
    # Before: click printed "Usage: ad-duckdb train [OPTIONS] DB NAME SOURCE" and "Try 'ad-duckdb train --help' for
    # help." first and "Error: Missing argument 'DB'." last: a log read by its first line, or grepped for Error,
    # got the usage without the error, or the error without the command or the fix.
    arguments = [p.human_readable_name for p in cli.commands[command].params
                 if isinstance(p, click.Argument) and p.required]
    if arguments:  # dbt-package takes none: run bare, it prints its path
        missing = _usage_error_lines(cli_in_process(command), command)
        assert missing[0].startswith(f"Error: Missing argument '{arguments[0]}'. ad-duckdb {command} takes "
                                     f"{arguments[0]}"), missing
    unknown = _usage_error_lines(cli_in_process(command, "x.duckdb", "--no-such-option-here"), command)
    assert unknown[0] == (f"Error: No such option '--no-such-option-here'. 'ad-duckdb {command} --help' lists its "
                          "options."), unknown
    option = _choice_option(cli.commands[command])
    if option is not None:
        bad = _usage_error_lines(cli_in_process(command, "x.duckdb", option, "nope"), command)
        assert bad[0].startswith(f"Error: Invalid value for '{option}': 'nope' is not one of "), bad


def test_a_usage_error_of_the_command_itself_leads_with_its_error_line() -> None:
    p = cli_in_process("drift", "x.duckdb")
    lines = _usage_error_lines(p, "")
    assert lines[0] == f"Error: No such command 'drift'. The commands: {', '.join(sorted(cli.commands))}.", lines
    close = _usage_error_lines(cli_in_process("scroe", "x.duckdb"), "")
    assert close[0] == "Error: No such command 'scroe'. Did you mean 'score'?", close
    wait = _usage_error_lines(cli_in_process("--wait", "soon", "list", "x.duckdb"), "")
    assert wait[0].startswith("Error: Invalid value for '--wait'"), wait
    label = _usage_error_lines(cli_in_process("evaluate", "x.duckdb", "m", "t"), "evaluate")
    assert label[0] == ("Error: Missing option '--label'. Give it as --label TEXT (Label column: 1 = anomaly, "
                        "0 = normal)."), label


@pytest.fixture(scope="module")
def noted_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database whose `show` and `evaluate` have notes: a model trained on a DataFrame (a Python variable),
    another evaluated on labelled rows with few anomalies, a threshold chosen on them."""
    import warnings

    import ad_duckdb as ad

    from conftest import FAST, make_transactions

    path = str(tmp_path_factory.mktemp("ops2") / "n.duckdb")
    con = ad.connect(path)
    make_transactions(con, n=1500)
    con.execute("CREATE TABLE lab AS SELECT *, (amount > (SELECT quantile_cont(amount, 0.99) FROM transactions))"
                "::INTEGER AS label FROM transactions")
    df = con.sql("SELECT count, amount FROM transactions").df()  # noqa: F841 (read by name, as a replacement scan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ad.train(con, "py_ae", "df", **FAST)
        ad.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        ad.set_threshold(con, "tx_ae", "best", method="max_f1", source="lab", label="label")
    con.close()
    return path


IGNORE_NOTES = {"PYTHONWARNINGS": "ignore::UserWarning"}


@pytest.mark.parametrize("args", [("show", "{db}", "py_ae"), ("evaluate", "{db}", "tx_ae", "lab", "--label", "label")])
def test_notes_show_and_evaluate_print_with_their_figures_are_left_out_as_every_other_note(noted_db: str,
                                                                                         args: tuple[str, ...]) -> None:
    # Before: `show` (the retrain call's note) and `evaluate` (few anomalies, a threshold chosen on these rows) printed
    # their notes on stdout themselves, so PYTHONWARNINGS=ignore::UserWarning, which README and --help say leaves
    # every note out, left them in a log that must hold errors alone.
    argv = [a.format(db=noted_db) for a in args]
    # without PYTHONWARNINGS in this process; with it, a process of its own (the variable is read as Python starts)
    said = cli_in_process(*argv, "--quiet") if args[0] == "evaluate" else cli_in_process(*argv)
    assert said.returncode == 0, said.stderr
    notes = [ln for ln in said.stdout.splitlines() if ln.lstrip().startswith("note: ")]
    assert notes, said.stdout
    quiet = ad_duckdb(*argv, "--quiet", env=IGNORE_NOTES) if args[0] == "evaluate" else ad_duckdb(*argv, env=IGNORE_NOTES)
    assert quiet.returncode == 0, quiet.stderr
    assert "note" not in quiet.stderr, quiet.stderr
    # the rest, data a script reads, kept as it was
    assert quiet.stdout.splitlines() == [ln for ln in said.stdout.splitlines() if ln not in notes], quiet.stdout
    # --format json's notes are fields of the one object: kept, as its other fields
    as_json = [*argv, "--format", "json"]
    assert ad_duckdb(*as_json, env=IGNORE_NOTES).stdout == cli_in_process(*as_json).stdout


def test_evaluate_on_rows_labelled_normal_only_reports_each_threshold_s_false_alarm_rate(noted_db: str) -> None:
    # Before: evaluate on rows all labelled 0 (a day known to be clean, the usual check of a new model before it
    # pages anyone) failed with exit 1, "none of the 1500 labelled rows is an anomaly", although the figure it is run
    # for, each threshold's false-alarm rate, is defined there; a nightly job could not record it.
    import json
    import math

    import duckdb

    import ad_duckdb as ad

    with duckdb.connect(noted_db) as c:
        c.execute("CREATE OR REPLACE TABLE clean AS SELECT *, 0 AS label FROM transactions")
    con = ad.connect(noted_db, read_only=True)
    try:
        rep = ad.evaluate(con, "tx_ae", "clean", label="label")
        flagged, rows = con.execute("SELECT count_if(is_anomaly_at('tx_ae', 'default', count, amount)), count(*) "
                                    "FROM clean").fetchone()
    finally:
        con.close()
    assert (rep.rows, rep.anomalies) == (1500, 0)
    m = rep.at_thresholds["default"]
    assert (m["fp"], m["tn"], m["tp"], m["fn"]) == (flagged, rows - flagged, 0, 0)
    assert m["false_alarm_rate"] == m["flagged_share"] == flagged / rows
    assert m["false_alarm_rate_lo"] <= m["false_alarm_rate"] <= m["false_alarm_rate_hi"]
    assert all(math.isnan(m[k]) for k in ("recall", "f1")) and math.isnan(rep.auc_roc) and math.isnan(rep.auc_pr)
    assert rep.table == []  # no anomaly to trade recall against: no candidate cut-offs
    assert any("false-alarm rate" in n and "undefined" in n for n in rep.notes), rep.notes

    table = cli_in_process("evaluate", noted_db, "tx_ae", "clean", "--label", "label", "--quiet")
    assert table.returncode == 0, table.stderr
    out = table.stdout
    assert "AUC-ROC undefined (no labelled anomaly)" in out, out
    header = next(ln for ln in out.splitlines() if ln.startswith("threshold "))
    assert "false-alarm rate" in header and "recall" not in header, out
    assert "candidate thresholds: none (no labelled anomaly" in out, out
    row = next(ln for ln in out.splitlines() if ln.startswith("default "))
    assert f"{flagged}" in row.split() and f"{100 * flagged / rows:.2f}%" in row, row

    as_json = cli_in_process("evaluate", noted_db, "tx_ae", "clean", "--label", "label", "--quiet", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    doc = json.loads(as_json.stdout)
    d = doc["at_thresholds"]["default"]
    assert (doc["anomalies"], doc["auc_roc"], doc["auc_pr"], doc["table"]) == (0, None, None, [])
    assert (d["false_alarm_rate"], d["fp"], d["recall"], d["f1"]) == (flagged / rows, flagged, None, None)
    assert doc["auc_roc_interval"] == [None, None], doc["auc_roc_interval"]

    costs = cli_in_process("evaluate", noted_db, "tx_ae", "clean", "--label", "label", "--miss-cost", "400",
                      "--alarm-cost", "5")
    assert costs.returncode == 0, costs.stderr  # a false alarm's cost is defined too: no miss to count
    assert "per row: false alarms alone" in costs.stdout and "(lowest cost)" not in costs.stdout, costs.stdout
    into = cli_in_process("evaluate", noted_db, "tx_ae", "clean", "--label", "label", "--quiet", "--into", "clean_cuts")
    assert into.returncode == 0, into.stderr  # was DuckDB's "executemany requires a non-empty list", exit 1
    with duckdb.connect(noted_db, read_only=True) as c:
        assert c.execute("SELECT count(*) FROM clean_cuts").fetchone() == (0,)


def _read_only_folder(tmp_path: Path) -> tuple[str, tuple[str, ...]]:
    """A working folder this test's processes cannot write (chmod 555, run through `unshare -U` as root, to whom a
    chmod is no obstacle: see test_cli_ops' read-only tests), and the prefix that runs them so."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() != 0:
        return str(folder), ()
    ok = subprocess.run(["unshare", "-U", "true"], capture_output=True, timeout=30).returncode == 0
    assert ok, "tests run as root need `unshare -U` (user namespaces) to see a folder as read-only"
    return str(folder), ("unshare", "-U")


SPILL = ("SET memory_limit = '20MB'; SET threads = 1; "
         "SELECT count(*) AS n FROM (SELECT md5(range::VARCHAR) AS h FROM range(600000) ORDER BY h)")


def test_an_in_memory_query_larger_than_memory_runs_from_a_read_only_working_folder(tmp_path: Path) -> None:
    # Before: DuckDB spills an in-memory database to ".tmp" in the working folder; a scheduler's working folder
    # (a read-only image, another user's home) failed the query with "IO Error: Failed to create directory
    # \".tmp\": Permission denied", naming neither the folder nor a fix. It spills to the system's temporary folder
    # there now, which DuckDB removes when the connection closes.
    folder, prefix = _read_only_folder(tmp_path)
    try:
        p = ad_duckdb("sql", ":memory:", SPILL, "--format", "csv", cwd=folder, prefix=prefix)
        assert p.returncode == 0, p.stderr
        assert p.stdout.splitlines()[-1] == "600000", p.stdout
        assert os.listdir(folder) == []
    finally:
        Path(folder).chmod(0o755)
    # a folder it may write keeps DuckDB's own choice
    import ad_duckdb as ad

    os.chdir(tmp_path)
    try:
        con = ad.connect()
        assert con.execute("SELECT current_setting('temp_directory')").fetchone() == (".tmp",)
        con.close()
    finally:
        os.chdir(ROOT)


def test_plots_to_a_folder_that_cannot_be_created_name_the_working_folder_and_the_option(tmp_path: Path,
                                                                                          noted_db: str) -> None:
    # Before: `--plots plots` from a read-only working folder failed with "Permission denied: 'plots'; permission
    # denied; choose a path you may use, ...": neither where 'plots' was (the scheduler's working folder) nor the
    # option to change was named.
    folder, prefix = _read_only_folder(tmp_path)
    try:
        for args in (("score", noted_db, "tx_ae", "transactions", "--top", "1"),
                     ("evaluate", noted_db, "tx_ae", "lab", "--label", "label")):
            p = ad_duckdb(*args, "--plots", "plots", cwd=folder, prefix=prefix)
            assert p.returncode == 1, p.stderr
            err = p.stderr.strip()
            assert "\n" not in err and err.startswith("Error: "), err
            assert f"'plots' (in the working folder {folder})" in err, err
            assert "--plots" in err and "absolute path" in err, err
            assert "anomaly_score" not in p.stdout, p.stdout  # failed before any row was printed
        # any other relative path given to a command: the same folder named
        p = ad_duckdb("export", noted_db, "tx_ae", "tx.onnx", cwd=folder, prefix=prefix)
        assert p.returncode == 1, p.stderr
        assert f"'tx.onnx' (in the working folder {folder}); permission denied" in p.stderr, p.stderr
    finally:
        Path(folder).chmod(0o755)


def test_evaluate_plots_on_rows_labelled_normal_only_draw_no_precision_recall_curve(noted_db: str,
                                                                                    tmp_path: Path) -> None:
    # Before: --plots on rows all labelled 0 wrote a precision-recall curve with every threshold at "precision 0.000,
    # recall 0.000" and "AUC-PR nan", though the report beside it says recall and AUC-PR are undefined there
    import duckdb

    import ad_duckdb as ad
    from ad_duckdb.exceptions import BadInputError

    with duckdb.connect(noted_db) as c:
        c.execute("CREATE OR REPLACE TABLE clean_plots AS SELECT *, 0 AS label FROM transactions")
    con = ad.connect(noted_db, read_only=True)
    try:
        rep = ad.evaluate(con, "tx_ae", "clean_plots", label="label", plots_dir=str(tmp_path))
    finally:
        con.close()
    assert sorted(Path(p).name for p in rep.plots) == ["tx_ae_v1_score_hist.png"], rep.plots
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tx_ae_v1_score_hist.png"]
    assert rep.score_hist() is not None
    with pytest.raises(BadInputError, match="no row labelled an anomaly"):
        rep.pr_curve()


def test_unexpected_extra_arguments_are_told_what_the_command_takes_and_that_an_option_takes_one_value() -> None:
    # Before: "Error: Got unexpected extra argument (b)" alone for `train db m tx -f a b` (one -f, two columns, the
    # usual slip), naming neither what train takes nor the fix
    train = _usage_error_lines(cli_in_process("train", "x.duckdb", "m", "tx", "-f", "a", "b"), "train")
    assert train[0] == ("Error: Got unexpected extra argument (b). ad-duckdb train takes DB NAME SOURCE; an option "
                        "takes one value each: give it again for the next (-f a -f b)."), train
    listed = _usage_error_lines(cli_in_process("list", "x.duckdb", "extra"), "list")
    assert listed[0] == "Error: Got unexpected extra argument (extra). ad-duckdb list takes DB.", listed
    # one argument has no order to keep
    bare = _usage_error_lines(cli_in_process("list"), "list")
    assert bare[0] == "Error: Missing argument 'DB'. ad-duckdb list takes DB.", bare


def test_a_temp_directory_of_the_user_s_own_is_kept_from_a_read_only_working_folder_however_it_is_cased(
        tmp_path: Path) -> None:
    # Before: DuckDB takes its settings' names in any case, but only config["temp_directory"] was seen as the user's
    # own: config={"TEMP_DIRECTORY": ...} from a read-only working folder got a second key beside it, and the
    # connection spilled to the system temporary folder instead of the folder the user chose
    folder, prefix = _read_only_folder(tmp_path)
    own = str(tmp_path / "spill here")
    code = ("import ad_duckdb as ad\n"
            f"con = ad.connect(config={{'TEMP_DIRECTORY': {own!r}}})\n"
            "print(con.execute(\"SELECT current_setting('temp_directory')\").fetchone()[0])\n")
    try:
        p = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                           cwd=folder, env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        Path(folder).chmod(0o755)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == own, p.stdout


def test_an_option_given_no_value_leads_with_its_error_line_and_what_it_takes() -> None:
    # Before: `score ... --into` (its table left out, the usual slip at a line's end) printed the one line "Error:
    # Option '--into' requires an argument." with neither the usage nor the --help hint nor what the option takes:
    # click's parser raises it without the command's context.
    p = cli_in_process("score", "x.duckdb", "m", "t", "--top", "3", "--into")
    lines = _usage_error_lines(p, "score")
    assert lines[0] == ("Error: Option '--into' requires an argument. Give it as --into TEXT (Write a table of the rows "
                        "with anomaly_score, anomaly_percentile, is_anomaly)."), lines
