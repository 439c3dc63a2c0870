"""AutoEncoderDetector.explain's ``imputed`` on a stored text model (polish15): a text NULL is keyed by the category
it was read as, as SQL's anomaly_imputed and the command line key it (channel='web': 1.0)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from test_review11_textcols import ARGS
from test_text14_features import COLUMNS
from test_textcols2_gaps import trained  # noqa: F401  (the fixture: tx_t trained on COLUMNS, used by name)

import ad_duckdb

QUERY = (f"SELECT {', '.join(c if c != 'amount' else 'CASE WHEN transaction_id % 3 = 0 THEN NULL ELSE amount END AS amount' for c in COLUMNS)}"
         " FROM transactions ORDER BY transaction_id LIMIT 40")


def test_explains_imputed_keys_a_text_null_as_sql_does(trained: Path) -> None:  # noqa: F811
    # Before: a row whose channel was NULL showed None (or only its numbers) in explain's imputed, where
    # anomaly_imputed gave {"channel='web'": 1.0}.
    con = ad_duckdb.connect(str(trained), read_only=True)
    try:
        df = con.execute(QUERY).df()
        sql = [r[0] for r in con.execute(f"SELECT anomaly_imputed('tx_t', {ARGS}) FROM ({QUERY})").fetchall()]
        det = ad_duckdb.AutoEncoderDetector.from_store(con, "tx_t")
    finally:
        con.close()
    assert df["channel"].isna().any() and any(m is not None and "channel='web'" in m for m in sql), sql
    for frame, got in ((df, list(det.explain(df)["imputed"])),
                       (pl.from_pandas(df), det.explain(pl.from_pandas(df))["imputed"].to_list())):
        got = [None if m is None else dict(m) if isinstance(m, dict) else {k: v for k, v in m} for m in got]
        assert len(got) == len(sql), frame
        for mine, theirs in zip(got, sql, strict=True):
            if theirs is None:
                assert mine is None, (mine, theirs)
                continue
            assert mine is not None and set(mine) == set(theirs), (mine, theirs)
            assert all(abs(mine[k] - theirs[k]) <= 1e-4 * max(1.0, abs(theirs[k])) for k in theirs), (mine, theirs)
