"""score(into=, replace_where=) with a condition naming the table's columns by the table (review9)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from test_ops4_ops import _cli, _day, days_db  # noqa: F401  (the fixture, used by name)

import ad_duckdb


@pytest.mark.parametrize("qualified", ["hist.day", '"hist".day', "main.hist.day"])
def test_replace_where_reads_a_condition_qualified_by_the_table(days_db: Path, tmp_path: Path,  # noqa: F811
                                                                qualified: str) -> None:
    # Before: "hist.day = DATE '2026-12-01'" passed the check on hist, then, once every row was scored, failed as
    # "cannot be read on hist (Binder Error: Referenced table "hist" not found! ... __ad_partition_rows ...)": the
    # new rows were checked in a temporary table of another name, which the message quoted
    db = tmp_path / "d.duckdb"
    db.write_bytes(days_db.read_bytes())
    cond = f"{qualified} = DATE '2026-12-01'"
    with ad_duckdb.connect(str(db)) as con:
        for _ in range(2):  # the first run creates the table, the second replaces its day
            assert ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", replace_where=cond) == 200
        assert ad_duckdb.score(con, "ev", _day("2026-12-02"), into="hist",
                               replace_where=cond.replace("12-01", "12-02")) == 200
        assert con.execute("SELECT day::VARCHAR, count(*) FROM hist GROUP BY day ORDER BY day").fetchall() == [
            ("2026-12-01", 200), ("2026-12-02", 200)]
        with pytest.raises(ad_duckdb.BadInputError, match=r"200 of the 200 new rows are not selected") as got:
            ad_duckdb.score(con, "ev", _day("2026-12-03"), into="hist", replace_where=cond)
        assert "__ad_" not in str(got.value), got.value
    res = _cli("score", str(db), "ev", _day("2026-12-01"), "--into", "hist", "--replace-where", cond)
    assert res.returncode == 0 and "replaced 200 rows of hist" in res.stdout, res



def test_appending_flags_of_another_threshold_than_the_rows_held_is_noted(days_db: Path, tmp_path: Path,  # noqa: F811
                                                                         ) -> None:
    # Before: a nightly job's --threshold changed (or dropped) between runs added rows whose is_anomaly is another
    # cut's beside the rows held, without a word: the daily count of anomalies moved with the cut, not the data
    db = tmp_path / "d.duckdb"
    db.write_bytes(days_db.read_bytes())
    with ad_duckdb.connect(str(db)) as con:
        ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", replace_where="day = DATE '2026-12-01'",
                        threshold="p90")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the same cut: no note
            ad_duckdb.score(con, "ev", _day("2026-12-02"), into="hist", replace_where="day = DATE '2026-12-02'",
                            threshold="p90")
        with pytest.warns(UserWarning, match=r"this run's 200 rows' is_anomaly is at threshold 'default', and the rows "
                          r"hist held were last written at 'p90' \(400 of them kept\).*at the table's cut, "
                          r"threshold='p90', or"):
            ad_duckdb.score(con, "ev", _day("2026-12-03"), into="hist", append=True)
        # a day re-scored whole, beside rows of the other cut: noted too, in the table's mark since
        with pytest.warns(UserWarning, match=r"this run's 200 rows' is_anomaly is at threshold 'p90', and the rows "
                          r"hist held were last written at 'default' \(400 of them kept\)"):
            ad_duckdb.score(con, "ev", _day("2026-12-01"), into="hist", replace_where="day = DATE '2026-12-01'",
                            threshold="p90")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # every row replaced: none of the other cut is left
            ad_duckdb.score(con, "ev", "events", into="hist", replace_where="true", threshold="p95")
    res = _cli("score", str(db), "ev", _day("2026-12-01"), "--into", "hist", "--append")
    assert res.returncode == 0 and "were last written at 'p95'" in res.stderr, res
