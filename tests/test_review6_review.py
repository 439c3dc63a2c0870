"""review6: a careful re-read of the append-repeats note, damaged-file reading and stored-metric checks."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import ad_duckdb as ad
from ad_duckdb.exceptions import AdDuckDBWarning


def _daily(tmp_path: Path) -> tuple[object, str]:
    """A database of 2000 transactions of 50 merchants over 5 days (merchant_id before transaction_id) and a model."""
    con = ad.connect(str(tmp_path / "daily.duckdb"))
    con.execute("CREATE TABLE tx AS SELECT (i % 50)::INTEGER AS merchant_id, i::BIGINT AS transaction_id, "
                "(i // 400)::INTEGER AS day, (i * 37 % 101)::DOUBLE AS amount, (i * 13 % 17)::DOUBLE AS x "
                "FROM range(2000) t(i)")
    ad.train(con, "m", "SELECT * FROM tx WHERE day < 3", features=["amount", "x"], epochs=1, progress=False)
    return con, "SELECT merchant_id, transaction_id, amount, x FROM tx WHERE day = {}"


def test_an_append_of_new_transactions_is_not_told_repeated_by_a_merchant_id_before_the_id(tmp_path: Path) -> None:
    # Before: the first integer column named like an id was taken as the rows' id, here merchant_id, which every
    # day's rows repeat: each daily append said "400 of the 400 rows added to s have a merchant_id that s held
    # already" and gave a DELETE keeping one row per merchant, which would have dropped 750 of the 800 scored rows.
    con, day = _daily(tmp_path)
    try:
        ad.score(con, "m", day.format(3), into="s")
        with warnings.catch_warnings():
            warnings.simplefilter("error", AdDuckDBWarning)
            assert ad.score(con, "m", day.format(4), into="s", append=True) == 400
        # a retry of the day is still told, by the column that tells the rows apart
        with pytest.warns(AdDuckDBWarning, match="400 of the 400 rows added to s have a transaction_id that s held"):
            ad.score(con, "m", day.format(4), into="s", append=True)
    finally:
        con.close()


def test_an_append_of_one_merchant_s_rows_is_not_told_repeated_without_a_row_id(tmp_path: Path) -> None:
    # a scores table whose only id-like column is a merchant's: its values repeat in the rows it held, no row id
    con, _ = _daily(tmp_path)
    try:
        q = "SELECT merchant_id, amount, x FROM tx WHERE day = {}"
        ad.score(con, "m", q.format(3), into="s")
        with warnings.catch_warnings():
            warnings.simplefilter("error", AdDuckDBWarning)
            ad.score(con, "m", q.format(4) + " AND merchant_id < 3 AND transaction_id % 50 < 3 LIMIT 3",
                     into="s", append=True)
    finally:
        con.close()


def test_sql_attaching_another_file_cut_short_names_that_file_not_the_database(tmp_path: Path) -> None:
    # Before: `sql DB "ATTACH 'other.duckdb' ..."` of a download cut short said "Cannot read 'DB': the database
    # file is damaged ... restore the file from a backup", of a healthy DB (here one the run had just created),
    # though DuckDB's own words named the other file.
    import os
    import subprocess
    import sys

    import duckdb

    from conftest import ROOT

    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as c:
        c.execute("CREATE TABLE t AS SELECT range AS x FROM range(100000)")
    os.truncate(other, other.stat().st_size // 2)
    db = tmp_path / "main.duckdb"
    with duckdb.connect(str(db)) as c:
        c.execute("CREATE TABLE kept AS SELECT 1 AS a")
    run = subprocess.run([sys.executable, "-m", "ad_duckdb.cli", "sql", str(db), f"ATTACH '{other}' AS o (READ_ONLY)"],
                         capture_output=True, text=True, timeout=300, cwd=str(ROOT),
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 3, run.stderr
    assert f"Cannot read '{other}': the database file is damaged" in run.stderr, run.stderr
    assert f"Cannot read '{db}'" not in run.stderr, run.stderr


def test_sql_reading_a_damaged_block_of_an_attached_file_names_that_file_too(tmp_path: Path) -> None:
    # Before: DuckDB's checksum error names no file, and the message said only the database given was damaged,
    # where the block read was the attached file's
    import os
    import subprocess
    import sys

    import duckdb
    from test_hardaudit_damage import _byte_changed

    from conftest import ROOT

    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as c:
        c.execute("CREATE TABLE t AS SELECT range AS x FROM range(100000)")
    _byte_changed(other, "t", "x")
    db = tmp_path / "main.duckdb"
    with duckdb.connect(str(db)) as c:
        c.execute("CREATE TABLE kept AS SELECT 1 AS a")
    run = subprocess.run([sys.executable, "-m", "ad_duckdb.cli", "sql", str(db),
                          f"ATTACH '{other}' AS o (READ_ONLY); SELECT sum(x) FROM o.t"],
                         capture_output=True, text=True, timeout=300, cwd=str(ROOT),
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 3, run.stderr
    assert f"Cannot read {str(db)!r} (or {str(other)!r}, attached to it): the database file is damaged" in \
        run.stderr, run.stderr


def test_list_under_pythonwarnings_error_fails_before_printing_and_json_holds_the_problem(tmp_path: Path) -> None:
    # Before: the README says a report (show, evaluate, list) fails before it prints, but list printed every row of
    # its table, csv and json, then the Error line with exit 1: a `list --format json | jq` job read a whole answer
    # and failed; and list's json, whose notes the README calls fields of its object, held no word of the problem.
    import json
    import os
    import subprocess
    import sys

    import duckdb

    from conftest import ROOT

    path = tmp_path / "edited.duckdb"
    con = ad.connect(str(path))
    try:
        con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, (range % 7)::DOUBLE AS b FROM range(300)")
        ad.train(con, "good", "t", epochs=1, progress=False)
        ad.train(con, "bad", "t", epochs=1, progress=False)
    finally:
        con.close()
    with duckdb.connect(str(path)) as c:
        c.execute("UPDATE ad_models SET metrics = json_merge_patch(metrics, '{\"train_score_std\": \"wide\"}') "
                  "WHERE name = 'bad'")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ad_duckdb.cli", "list", str(path), *args], capture_output=True,
                              text=True, timeout=300, cwd=str(ROOT),
                              env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "error::UserWarning"})

    for fmt in ("table", "csv"):
        p = run("--format", fmt)
        assert p.returncode == 1 and p.stdout == "", (fmt, p.stdout)
        assert p.stderr.startswith("Error: Model 'bad@1': its stored metadata"), p.stderr
    p = run("--format", "json")
    assert p.returncode == 0, p.stderr
    rows = {r["name"]: r for r in json.loads(p.stdout)}
    assert rows["good"]["problem"] is None and rows["bad"]["status"] == "damaged"
    assert "metrics.train_score_std must be a finite number" in rows["bad"]["problem"]


def test_training_on_a_double_column_mostly_nan_gives_a_where_that_leaves_the_nans_out(tmp_path: Path) -> None:
    # Before: a CSV whose refunds read 'nan' in 80% of the rows was told to train with where='refunds IS NOT NULL',
    # which keeps the NaN rows: the retrain said the same note again, over the same rows.
    csv = tmp_path / "feed.csv"
    con = ad.connect(str(tmp_path / "nan.duckdb"))
    try:
        con.execute(f"COPY (SELECT (i * 37 % 101)::DOUBLE AS a, CASE WHEN i % 10 < 8 THEN 'nan' "
                    f"ELSE ((i * 13 % 17) / 3)::VARCHAR END AS refunds, (i % 13)::DOUBLE AS c, "
                    f"CASE WHEN i % 10 < 8 THEN NULL ELSE i % 5 END AS fees FROM range(3000) t(i)) TO '{csv}'")
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            ad.train(con, "m", str(csv), features=["a", "refunds", "c"], epochs=1, progress=False)
        said = [str(w.message) for w in seen if "NULL or NaN in" in str(w.message)]
        assert len(said) == 1 and "column 'refunds' is NULL or NaN in 80.00% of the 3000" in said[0], said
        where = "refunds IS NOT NULL AND NOT isnan(refunds)"
        assert f"where={where!r}" in said[0], said[0]
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            ad.train(con, "m", str(csv), features=["a", "refunds", "c"], where=where, epochs=1, progress=False)
        assert not [str(w.message) for w in seen if "NULL or NaN in" in str(w.message)]
        # an integer column cannot hold NaN: its where stays the IS NOT NULL alone
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            ad.train(con, "f", str(csv), features=["a", "fees", "c"], epochs=1, progress=False)
        said = [str(w.message) for w in seen if "NULL or NaN in" in str(w.message)]
        assert len(said) == 1 and "where='fees IS NOT NULL'" in said[0], said
    finally:
        con.close()


def test_append_from_a_csv_whose_id_was_renamed_gives_a_source_query_that_runs(tmp_path: Path) -> None:
    # Before: the fix named "SELECT * RENAME (tx_id AS tid) FROM r6/day 2.csv", the file's path pasted as it was
    # given, which DuckDB cannot parse ('syntax error at or near "/"'): the source to score it as must read the file.
    import re

    from ad_duckdb.exceptions import AdDuckDBError

    con = ad.connect(str(tmp_path / "csv.duckdb"))
    day1, day2 = tmp_path / "day 1.csv", tmp_path / "day 2.csv"
    try:
        con.execute(f"COPY (SELECT i AS tid, (i * 37 % 101)::DOUBLE AS a, (i % 13)::DOUBLE AS c FROM range(1000) t(i))"
                    f" TO '{day1}'")
        con.execute(f"COPY (SELECT i AS tx_id, (i * 37 % 101)::DOUBLE AS a, (i % 13)::DOUBLE AS c "
                    f"FROM range(1000, 1100) t(i)) TO '{day2}'")
        ad.train(con, "m", str(day1), features=["a", "c"], epochs=1, progress=False)
        ad.score(con, "m", str(day1), into="s")
        with pytest.raises(AdDuckDBError) as e:
            ad.score(con, "m", str(day2), into="s", append=True)
        got = re.search(r"as SOURCE: (.*?); or rename", str(e.value))
        assert got is not None, str(e.value)
        assert ad.score(con, "m", got.group(1), into="s", append=True) == 100
    finally:
        con.close()


def test_a_true_false_column_of_a_frame_with_integer_column_labels_is_refused_with_a_cast_that_runs() -> None:
    # Before: pd.DataFrame(array)'s columns are labelled 0, 1, 2; the fix said X.astype({'2': 'int8'}), a label the
    # frame lacks ("KeyError: ... '2' not found in columns").
    import re

    import numpy as np
    import pandas as pd

    from ad_duckdb import AutoEncoderDetector
    from ad_duckdb.exceptions import BadInputError

    X = pd.DataFrame({0: np.arange(200) % 7 * 1.0, 1: np.arange(200) % 5 * 1.0, 2: np.arange(200) % 3 == 0})
    with pytest.raises(BadInputError) as e:
        AutoEncoderDetector(epochs=1).fit(X)
    fix = re.search(r"first, (X\.astype\(\{.*?\}\))", str(e.value))
    assert fix is not None and fix.group(1) == "X.astype({2: 'int8'})", str(e.value)
    AutoEncoderDetector(epochs=1).fit(X.astype({2: "int8"}))


def test_compare_under_pythonwarnings_error_fails_before_printing_its_report(tmp_path: Path) -> None:
    # Before: compare printed its whole report, then the note on the thresholds the newer version lacks as the Error
    # line, exit 1; show, evaluate and list fail before they print, as the README says of a report.
    import os
    import subprocess
    import sys

    from conftest import ROOT, cli_in_process

    path = tmp_path / "two.duckdb"
    con = ad.connect(str(path))
    try:
        con.execute("CREATE TABLE t AS SELECT (range * 37 % 101)::DOUBLE AS a, (range % 7)::DOUBLE AS b "
                    "FROM range(300)")
        ad.train(con, "m", "t", epochs=1, progress=False)
        ad.set_threshold(con, "m", "cut", "contamination", target=0.05)
        ad.train(con, "m", "t", epochs=1, progress=False)
    finally:
        con.close()

    def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ad_duckdb.cli", "compare", str(path), "m@1", "m@2", "t"],
                              capture_output=True, text=True, timeout=300, cwd=str(ROOT),
                              env={**os.environ, "PYTHONPATH": str(ROOT), **env})

    plain = cli_in_process("compare", str(path), "m@1", "m@2", "t")  # PYTHONWARNINGS below needs a process
    assert plain.returncode == 0 and "note: m@2 has no threshold 'cut'" in plain.stderr, plain.stderr
    strict = run({"PYTHONWARNINGS": "error::UserWarning"})
    assert strict.returncode == 1 and strict.stdout == "", strict.stdout
    assert strict.stderr.startswith("Error: m@2 has no threshold 'cut'"), strict.stderr


def test_the_repeated_ids_note_on_a_table_named_with_a_space_gives_sql_that_runs(tmp_path: Path) -> None:
    # Before: the note's fix read "DELETE FROM daily scores WHERE rowid NOT IN (SELECT min(rowid) FROM daily scores
    # ...)", the table's name as two words, which does not parse
    import re

    con, day = _daily(tmp_path)
    try:
        ad.score(con, "m", day.format(3), into="daily scores")
        with pytest.warns(AdDuckDBWarning, match="rows added to \"daily scores\" have a transaction_id") as seen:
            ad.score(con, "m", day.format(3), into="daily scores", append=True)
        said = next(str(w.message) for w in seen if "have a transaction_id" in str(w.message))
        delete = re.search(r"with (DELETE FROM .*?\)), and select", said)
        assert delete is not None, said
        con.execute(delete.group(1))
        assert con.execute('SELECT count(*) FROM "daily scores"').fetchall() == [(400,)]
    finally:
        con.close()
