"""score(into=, replace_where=) with a condition naming the table's columns by the table (review9)."""

from __future__ import annotations

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

