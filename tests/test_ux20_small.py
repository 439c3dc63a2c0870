"""Small things users hit: -q for --quiet, the note on --where turning robust training off, README's incremental
scoring line on text ids, labels as a list of records, an all-NULL category column's message."""

from __future__ import annotations

import re
import shlex
import warnings
from pathlib import Path
from typing import Any

import click
import duckdb
import pytest

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import ROOT, cli_in_process, copy_tx_ae


def _commands_with_quiet() -> list[str]:
    return sorted(name for name, cmd in cli.commands.items()
                  if any("--quiet" in p.opts for p in cmd.params if isinstance(p, click.Option)))


def test_every_command_with_quiet_takes_q_and_its_help_shows_it() -> None:
    names = _commands_with_quiet()
    assert {"train", "score", "sql", "evaluate", "threshold"} <= set(names), names
    for name in names:
        opts = next(p.opts for p in cli.commands[name].params if isinstance(p, click.Option) and "--quiet" in p.opts)
        assert opts == ["-q", "--quiet"], (name, opts)
        # -q means nothing else on any command (nor on the group, whose options come before the command)
        others = [p for p in cli.commands[name].params if isinstance(p, click.Option) and "-q" in p.opts + p.secondary_opts]
        assert len(others) == 1, name
        assert "-q, --quiet" in cli_in_process(name, "--help").stdout, name
    assert not any("-q" in p.opts for p in cli.params if isinstance(p, click.Option))
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    listed = re.search(r"`--quiet` \(or `-q`: ([a-z, -]+)\)", readme)
    assert listed and sorted(listed.group(1).split(", ")) == names, listed


def test_train_q_shows_no_progress(tmp_path: Path) -> None:
    path = str(tmp_path / "q.duckdb")
    with duckdb.connect(path) as con:
        con.execute("CREATE TABLE t AS SELECT i AS id, random() AS a, random() * 3 AS b FROM range(200) r(i)")
    loud = cli_in_process("train", path, "m", "t", "-f", "a", "-f", "b", "--epochs", "1")
    assert loud.returncode == 0, loud.stderr
    assert "train" in loud.stderr and loud.stderr.strip(), loud.stderr
    res = cli_in_process("train", path, "m", "t", "-f", "a", "-f", "b", "--epochs", "1", "-q")
    assert res.returncode == 0, res.stderr
    assert res.stderr == "", res.stderr
    assert "stored m@2" in res.stdout, res.stdout


def test_train_with_where_says_robust_training_is_off_and_how_to_keep_it(tmp_path: Path) -> None:
    # A filter on dates is no "normal rows only" filter, yet --where turned robust training off without a word
    path = str(tmp_path / "w.duckdb")
    with duckdb.connect(path) as con:
        con.execute("CREATE TABLE t AS SELECT DATE '2024-01-01' + i::INTEGER AS day, random() AS a, random() * 3 AS b "
                    "FROM range(300) r(i)")
    train = ("train", path, "m", "t", "-f", "a", "-f", "b", "-q", "--epochs", "1")
    res = cli_in_process(*train, "--where", "day < '2024-09-01'")
    assert res.returncode == 0, res.stderr
    said = [x for x in res.stdout.splitlines() if x.startswith("robust training off")]
    assert said == ["robust training off: the rows --where \"day < '2024-09-01'\" keeps are taken as normal; if they "
                    "may hold anomalies (the filter picks dates or a region, not labels), add --robust"], res.stdout
    assert res.stderr == "", res.stderr  # a line of the summary, not a note: a job stopping on notes goes on
    with duckdb.connect(path) as con:
        robust = con.execute("SELECT version, json_extract(metrics, '$.robust')::BOOLEAN FROM ad_models "
                             "ORDER BY version").fetchall()
    assert robust == [(1, False)]
    # chosen by the user either way, or no filter: nothing to say
    for given in (("--where", "day < '2024-09-01'", "--robust"), ("--where", "day < '2024-09-01'", "--no-robust"), ()):
        res = cli_in_process(*train, *given)
        assert res.returncode == 0, res.stderr
        assert "robust training" not in res.stdout, (given, res.stdout)


def _incremental_lines() -> list[str]:
    """The README's incremental-scoring command lines (its --append section's block)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("**Incremental scoring (cron): `--append`.**", 1)[1]
    block = re.findall(r"```bash\n(.*?)```", section, flags=re.S)[0]
    return [x for x in block.splitlines() if x.startswith("ad-duckdb score ")]


def _python_incremental_source() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.findall(r'ad_duckdb\.score\(con, "tx_ae", "(SELECT [^"]+)",\s+into="tx_scores", append=True\)', readme)
    assert len(found) == 1, found
    return found[0]


def _run_incremental(path: str, line: str) -> tuple[int, str]:
    """One run of a README incremental line on the database ``path``: a command line (in-process), or the Python
    call's source (``score(into="tx_scores", append=True)``); its exit code and output."""
    if line.startswith("ad-duckdb "):
        words = shlex.split(line)[1:]
        words[1] = path
        res = cli_in_process(*words)
        return res.returncode, res.stdout + res.stderr
    with ad_duckdb.connect(path) as con, warnings.catch_warnings():
        warnings.simplefilter("ignore", ad_duckdb.AdDuckDBWarning)  # a run with no new rows says so
        ad_duckdb.score(con, "tx_ae", line, into="tx_scores", append=True)
    return 0, ""


@pytest.mark.parametrize("ids", ["integer", "text"])
def test_readme_incremental_scoring_lines_score_each_row_once(ids: str, tx_ae_master: Path, tmp_path: Path) -> None:
    # The README's cron line compared the id with coalesce(max(id), -1), which a text id cannot take (DuckDB: "Cannot
    # mix values of type VARCHAR and INTEGER_LITERAL in COALESCE"): its form for any id runs on both, run after run
    lines = _incremental_lines()
    assert len(lines) == 2 and "NOT EXISTS" in lines[0] and "coalesce(max(transaction_id), -1)" in lines[1], lines
    for i, line in enumerate([*lines, _python_incremental_source()]):
        path = copy_tx_ae(tx_ae_master, tmp_path / f"inc{i}.duckdb")
        with duckdb.connect(path) as con:
            if ids == "text":
                con.execute("CREATE OR REPLACE TABLE transactions AS SELECT 'tx-' || transaction_id AS transaction_id, "
                            "* EXCLUDE (transaction_id) FROM transactions")
            con.execute("CREATE TABLE later AS FROM transactions WHERE rowid >= 2500")
            con.execute("DELETE FROM transactions WHERE rowid >= 2500")
        if ids == "text" and "coalesce(max(" in line:
            assert _run_incremental(path, lines[0])[0] == 0  # the table made, as the job's first run makes it
            code, out = _run_incremental(path, line)
            # as the README says of it: the max() form is for integer ids
            assert code != 0 and "Cannot mix values of type VARCHAR and INTEGER_LITERAL in COALESCE" in out, out
            continue
        assert _run_incremental(path, line)[0] == 0  # the first run makes the table, of the rows so far
        with duckdb.connect(path) as con:
            con.execute("INSERT INTO transactions FROM later")
        assert _run_incremental(path, line)[0] == 0 and _run_incremental(path, line)[0] == 0  # the new rows, then none
        with duckdb.connect(path) as con:
            got = con.execute("SELECT count(*), count(DISTINCT transaction_id), typeof(any_value(transaction_id)) "
                              "FROM tx_scores").fetchone()
        assert got == (3000, 3000, "VARCHAR" if ids == "text" else "BIGINT"), (line, got)


def test_labels_as_a_list_of_records_are_read_by_name(tx_ae_master: Path, tmp_path: Path) -> None:
    # df.to_dict('records') or rows from a JSON API: refused as a name that "does not exist as a table or view ...
    # nor as a DataFrame", of a variable the caller could see; and FROM t JOIN labels read JOIN as t's alias
    path = copy_tx_ae(tx_ae_master, tmp_path / "labels.duckdb")
    with ad_duckdb.connect(path) as con:
        ids = [r[0] for r in con.execute("SELECT transaction_id FROM transactions ORDER BY transaction_id").fetchall()]
        labels = [{"transaction_id": i, "label": int(i % 50 == 0)} for i in ids]
        assert labels  # read by its name below
        joined = "SELECT * FROM transactions JOIN labels USING (transaction_id)"
        got = ad_duckdb.evaluate(con, "tx_ae", joined, label="label")
        want = ad_duckdb.evaluate(con, "tx_ae", "SELECT *, (transaction_id % 50 = 0)::INTEGER AS label FROM transactions",
                                  label="label")
        assert (got.rows, got.anomalies, got.auc_roc) == (want.rows, want.anomalies, want.auc_roc) == \
            (3000, 60, want.auc_roc)
        # a whole frame's records, named alone
        records = con.execute("SELECT *, (transaction_id % 50 = 0)::INTEGER AS label FROM transactions").df() \
            .to_dict("records")
        assert records
        assert ad_duckdb.evaluate(con, "tx_ae", "records", label="label").auc_roc == want.auc_roc


@pytest.mark.parametrize(("value", "said"), [
    ([(1, 0), (2, 1)], "'rows' is a list of tuple values, not of records (dicts of column -> value); name its "
                       "columns in a DataFrame, rows_df = pandas.DataFrame(rows, columns=[...]), and read rows_df in "
                       "the query instead of rows."),
    ([{"transaction_id": 1, "label": 0}, {"transaction_id": 2}],
     "'rows' is a list of records whose keys differ: row 0 has ('transaction_id', 'label'), row 1 "
     "('transaction_id'); give every record the same keys, or build a DataFrame of it, rows_df = "
     "pandas.DataFrame(rows) (NULL where a row lacks a key), and read rows_df in the query instead of rows."),
    ([{"transaction_id": 1, "label": 0}, {"transaction_id": "x", "label": 1}],
     "'rows' is a list of records that Arrow cannot read as columns (Could not convert 'x' with type str: tried to "
     "convert to int64); give each key values of one type (numbers, or text, in every record)."),
    ([], "'rows' is an empty list, of no rows and no columns; give its columns in a DataFrame, rows_df = "
         "pandas.DataFrame(columns=[...]), and read rows_df in the query instead of rows."),
])
def test_a_list_that_is_not_records_is_refused_naming_its_shape(value: list[object], said: str,
                                                               mem_con: duckdb.DuckDBPyConnection) -> None:
    rows = value
    assert isinstance(rows, list)  # read by its name below
    with pytest.raises(ad_duckdb.BadInputError) as e:
        ad_duckdb.evaluate(mem_con, "tx_ae", "SELECT * FROM transactions JOIN rows USING (transaction_id)",
                           label="label")
    assert str(e.value) == said


def test_a_list_passed_itself_is_told_to_pass_its_name(mem_con: duckdb.DuckDBPyConnection) -> None:
    labels = [{"transaction_id": 1, "label": 0}]
    with pytest.raises(ad_duckdb.BadInputError, match=r"got a list; pass the name of its variable instead, in quotes: "
                                                      r"'labels' \(ad_duckdb reads a list of records by name"):
        ad_duckdb.evaluate(mem_con, "tx_ae", labels, label="label")  # type: ignore[arg-type]
    with pytest.raises(ad_duckdb.BadInputError, match=r"got a list; ad_duckdb reads a list of records .* by the name "
                                                      r"of a variable holding it: assign it to one first"):
        ad_duckdb.evaluate(mem_con, "tx_ae", [{"transaction_id": 1, "label": 0}], label="label")  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "got"), [(None, "got None"), (5, "got an int"), (0.5, "got a float")])
def test_a_scalar_source_is_told_what_a_source_is_not_to_pass_its_variables_name(
        value: object, got: str, mem_con: duckdb.DuckDBPyConnection) -> None:
    # a variable that happened to hold None or a number (an unset config value) is no data DuckDB reads by name
    source = value
    with pytest.raises(ad_duckdb.BadInputError) as e:
        ad_duckdb.evaluate(mem_con, "tx_ae", source, label="label")  # type: ignore[arg-type]
    assert str(e.value) == (f"The source must be a string: a table or view name, a table function or a query; {got}; "
                            "e.g. 'transactions', \"read_parquet('tx.parquet')\" or 'SELECT ... FROM ...'.")


def _frame_with_empty_category() -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.random(300), "b": rng.random(300)})
    # a category of numbers (as pandas reads a folder's key) is read as its numbers: all missing, it said "no finite
    # value (all NaN or infinite)", as of a numeric column
    df["shop"] = pd.Categorical([None] * 300, categories=[101, 102])
    return df


def test_a_category_column_with_no_value_is_said_so_in_fit() -> None:
    import pyarrow as pa

    df = _frame_with_empty_category()
    said = ("AutoEncoderDetector.fit: category column 'shop' has no non-NULL value in the training rows (all NULL), so "
            "it tells no row from another; drop it from X (X.drop(columns=['shop'])), or fit on rows where it has "
            "values.")
    for X in (df, pa.Table.from_pandas(df, preserve_index=False)):
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.AutoEncoderDetector(max_steps=20, progress=False).fit(X)
        assert str(e.value) == said


def test_a_category_column_with_no_value_is_said_so_in_train() -> None:
    df = _frame_with_empty_category()
    assert len(df)  # read by its name below
    with ad_duckdb.connect() as con, pytest.raises(ad_duckdb.BadInputError) as e:
        ad_duckdb.train(con, "m", "df", features=["a", "b", "shop"], progress=False)
    assert str(e.value) == ("Model 'm': category column 'shop' has no non-NULL value in the training rows (all NULL), "
                            "so it tells no row from another; leave it out of features, or train on rows where it has "
                            "values (another source, or where= picking them).")
    assert e.value.columns == ["shop"]  # type: ignore[attr-defined]  (the command line's -f example leaves it out)


def test_a_first_incremental_run_failing_on_types_says_duckdbs_reason(tx_ae_master: Path, tmp_path: Path) -> None:
    # The max() form on a text id, first run: it was told it read a column "an empty table of the columns this run
    # writes would not have", of the very id column the table gets
    path = copy_tx_ae(tx_ae_master, tmp_path / "first.duckdb")
    with duckdb.connect(path) as con:
        con.execute("CREATE OR REPLACE TABLE transactions AS SELECT 'tx-' || transaction_id AS transaction_id, "
                    "* EXCLUDE (transaction_id) FROM transactions")
    line = _incremental_lines()[1]
    code, out = _run_incremental(path, line)
    assert code == 1, out
    assert "Cannot compare values of type VARCHAR and type INTEGER" in out, out
    assert "would not have" not in out and out.strip().endswith(
        "A text id cannot take coalesce(max(id), -1), a number: select the rows not scored yet with ... t WHERE NOT "
        "EXISTS (SELECT 1 FROM tx_scores s WHERE s.id = t.id), which takes an id of any type."), out
    with duckdb.connect(path) as con:  # the table made for the run is gone again
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'tx_scores'").fetchone() == (0,)
