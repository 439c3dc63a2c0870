"""An analyst with a table of millions of rows: the example generator at that size, alarm_rate's statistics over
millions of scores, and what a model trained on a sample says about the rows it learned from."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pytest

from generate import KINDS, generate  # examples/transactions is on sys.path (conftest)


def _reference(rows: int, seed: int, anomaly_share: float = 0.01) -> dict[str, np.ndarray]:
    """The generator's rows as first written: each planted row's quantile read off the whole, current column (a
    pass over every row per planted row, so hours at 10 million rows); the fast one must give the same rows."""
    rng = np.random.default_rng(seed)
    n_merchants = max(20, rows // 60)
    size = rng.lognormal(2.2, 1.0, n_merchants)
    ticket = rng.lognormal(3.4, 0.45, n_merchants)
    merchant = rng.integers(0, n_merchants, rows)
    count = rng.poisson(size[merchant]) + 1
    amount = count * ticket[merchant] * rng.lognormal(0.0, 0.12, rows)
    distinct = np.maximum(1, np.round(count * rng.uniform(0.8, 1.0, rows))).astype(np.int64)
    refunds = rng.binomial(count, 0.02)
    n_anom = max(len(KINDS), int(rows * anomaly_share))
    idx = rng.choice(rows, n_anom, replace=False)
    kinds = np.array([KINDS[i % len(KINDS)] for i in range(n_anom)])
    for i, kind in zip(idx, kinds, strict=True):
        m = merchant[i]
        if kind == "huge_amount":
            amount[i] = count[i] * ticket[m] * rng.uniform(30, 100)
        elif kind == "burst":
            count[i] = int(np.quantile(count, 0.999) * rng.uniform(3, 6))
            amount[i] = count[i] * ticket[m] * rng.lognormal(0, 0.1)
            distinct[i] = int(count[i] * 0.9)
        elif kind == "joint_law":
            count[i] = int(rng.integers(1, 3))
            amount[i] = float(np.quantile(amount, rng.uniform(0.80, 0.95)))
            distinct[i] = count[i]
            refunds[i] = 0
        elif kind == "card_testing":
            count[i] = int(np.quantile(count, rng.uniform(0.80, 0.95)))
            amount[i] = count[i] * rng.uniform(1.0, 3.0)
            distinct[i] = int(rng.integers(1, 3))
        elif kind == "refund_storm":
            count[i] = max(int(count[i]), 10)
            refunds[i] = int(count[i] * rng.uniform(0.7, 1.0))
            amount[i] = count[i] * ticket[m] * rng.lognormal(0, 0.12)
            distinct[i] = int(count[i] * 0.9)
    days = np.datetime64("2026-01-01") + rng.integers(0, 90, rows).astype("timedelta64[D]")
    order = np.argsort(days, kind="stable")
    tx_id = np.empty(rows, dtype=np.int64)
    tx_id[order] = np.arange(1, rows + 1)
    return {"transaction_id": tx_id, "day": days, "merchant_id": merchant, "count": count,
            "amount": np.round(amount, 2), "distinct_cards": distinct, "refunds": refunds, "planted": tx_id[idx],
            "kinds": kinds}


@pytest.mark.parametrize(("rows", "seed"), [(20_000, 7), (3_000, 1), (50, 3)])
def test_generator_rows_are_those_of_the_first_algorithm(tmp_path: Path, rows: int, seed: int) -> None:
    """The generator reads each planted row's quantile without a pass over the whole column (10 million rows took
    hours and ~10 GB, as each of 40,000 quantiles read 10 million values and every value went through a Python
    list), yet writes the same rows, to the cent, and the same planted ones."""
    db = tmp_path / "tx.duckdb"
    planted = generate(db, rows, seed)
    want = _reference(rows, seed)
    con = duckdb.connect(str(db), read_only=True)
    try:
        got = con.sql("SELECT transaction_id, day, merchant_id, count, amount::DOUBLE, distinct_cards, refunds "
                      "FROM transactions ORDER BY rowid").fetchnumpy()
        kinds = con.sql("SELECT transaction_id, kind FROM planted_anomalies ORDER BY rowid").fetchnumpy()
        types = dict(con.sql("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = "
                             "'transactions'").fetchall())
    finally:
        con.close()
    assert types == {"transaction_id": "BIGINT", "day": "DATE", "merchant_id": "INTEGER", "count": "INTEGER",
                     "amount": "DECIMAL(14,2)", "distinct_cards": "INTEGER", "refunds": "INTEGER"}
    for col in ("transaction_id", "merchant_id", "count", "distinct_cards", "refunds"):
        np.testing.assert_array_equal(np.asarray(got[col], dtype=np.int64), want[col], err_msg=col)
    np.testing.assert_array_equal(np.asarray(got["day"], dtype="datetime64[D]"), want["day"])
    np.testing.assert_allclose(np.asarray(got["CAST(amount AS DOUBLE)"]), want["amount"], rtol=0, atol=0.005)
    np.testing.assert_array_equal(np.asarray(kinds["transaction_id"]), want["planted"])
    assert list(kinds["kind"]) == list(want["kinds"])
    assert planted == {k: int((want["kinds"] == k).sum()) for k in KINDS}


def _shared_by_hand(seconds: np.ndarray, series: np.ndarray | None) -> int:
    seen: set[tuple[float, float]] = set()
    shared = 0
    for i, t in enumerate(seconds):
        if not np.isfinite(t):
            continue
        key = (0.0 if series is None else float(series[i]), float(t))
        shared += key in seen
        seen.add(key)
    return shared


@pytest.mark.parametrize("with_series", [False, True])
def test_shared_times_counts_rows_repeating_a_time_of_their_series(with_series: bool) -> None:
    """alarm_rate's check that runs can be told in time order counts the rows sharing a time with an earlier row of
    their series by sorting, not by ``np.unique(axis=0)`` of (series, time) pairs, which took a third of a 10
    million row alarm_rate's run (42 of 127 s); the count is the same: NaN times left out, each series apart."""
    from ad_duckdb import alarmepisodes

    rng = np.random.default_rng(5)
    for n in (0, 1, 2, 7, 300):
        t = rng.integers(0, 40, n).astype(np.float64)
        t[rng.random(n) < 0.1] = np.nan
        s = rng.integers(0, 4, n).astype(np.float64) * 1e17 if with_series else None  # hash()::DOUBLE-sized
        assert alarmepisodes.shared_times(t, s) == _shared_by_hand(t, s), n
    t = np.arange(1000.0)
    assert alarmepisodes.shared_times(t, np.zeros(1000) if with_series else None) == 0
    assert alarmepisodes.shared_times(np.full(5, np.nan), None) == 0


def _sampled_model(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    import ad_duckdb

    con = ad_duckdb.connect(str(tmp_path / "s.duckdb"))
    con.execute("CREATE TABLE t AS SELECT range AS id, DATE '2026-01-01' + (range % 20)::INT AS day, "
                "(range * 7919) % 97 AS a, (range * 104729) % 1000 / 10.0 AS b, (range % 50 = 0)::INT AS label "
                "FROM range(4000)")
    ad_duckdb.train(con, "m", "t", features=["a", "b"], epochs=2, max_train_rows=400)
    return con


def test_alarm_rate_on_a_sampled_models_rows_says_how_many_it_learned_from(tmp_path: Path) -> None:
    """A model of a table above max_train_rows learned from a sample (here 400 of 4000 rows): alarm_rate on the
    table said "4000 of these rows are rows m@1 was trained on, which score lower than rows it did not see", when
    nine in ten of them it never saw; it says the sample, and about how many of these rows it holds."""
    import ad_duckdb

    con = _sampled_model(tmp_path)
    try:
        with pytest.warns(ad_duckdb.AdDuckDBWarning) as caught:
            t = ad_duckdb.set_threshold(con, "m", "r", "alarm_rate", rate="2%", source="t")
        said = [str(w.message) for w in caught if "trained on" in str(w.message)]
        assert len(said) == 1, [str(w.message) for w in caught]
        assert ("the network of m@1 learned from a seeded sample of 400 of its 4,000 training rows, about 400 of "
                "these") in said[0], said
        assert "about 400 of these" in t.chosen_on, t.chosen_on
    finally:
        con.close()


def test_evaluate_on_a_sampled_models_rows_says_how_many_it_learned_from(tmp_path: Path) -> None:
    """The same for evaluate's note that its figures are optimistic on rows the model was trained on: a sampled
    model learned from about a tenth of them."""
    import ad_duckdb

    con = _sampled_model(tmp_path)
    try:
        rep = ad_duckdb.evaluate(con, "m", "t", label="label")
        said = [n for n in rep.notes if "trained on" in n]
        assert len(said) == 1, rep.notes
        assert ("the network of m@1 learned from a seeded sample of 400 of its 4,000 training rows, about 400 of "
                "these") in said[0], said
    finally:
        con.close()


def test_alarm_rate_ranks_its_scores_once_with_the_same_statistics() -> None:
    """The lag-1 correlation and the autocorrelation at every lag both read the scores' ranks (ties: their mean
    rank); alarm_rate ranks its scores in time order once for both (a sort of 10 million scores each, ~10% of the
    run), and each gives what it gives ranking them itself."""
    from scipy.stats import rankdata

    from ad_duckdb import alarmacf, alarmperiods

    rng = np.random.default_rng(2)
    x = np.round(np.cumsum(rng.normal(size=3000)) + rng.normal(size=3000), 1)  # ties
    ranks = alarmacf.mid_ranks(x)
    np.testing.assert_array_equal(ranks, rankdata(x) - 1)
    assert alarmperiods.lag1(x, ranks) == alarmperiods.lag1(x)
    np.testing.assert_array_equal(alarmacf.normal_acf(x, False, ranks), alarmacf.normal_acf(x, False))
    assert len(alarmacf.mid_ranks(np.empty(0))) == 0


def _peak_mib(run: Callable[[], object]) -> float:
    """The most memory numpy and Python held at once during ``run()`` (tracemalloc), in MiB."""
    import tracemalloc

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_evaluate_and_alarm_rate_hold_a_few_numbers_per_row_not_every_feature(tmp_path: Path) -> None:
    """evaluate keeps each row's score and label, alarm_rate its score and time, a batch of features at a time;
    but the label (and time, weight) kept was a view of its batch, which kept every batch's features alive until
    the last was read: 10 million rows of 40 columns held 3.2 GB. Measured as the peak's growth per row from
    130,000 to 260,000 rows of 40 columns (320 bytes of features a row; the batches' own memory is the same at both
    sizes)."""
    import warnings

    import ad_duckdb

    d = 40
    cols = ", ".join(f"((range * {7919 + 2 * j}) % 1009) / 10.0 AS f{j}" for j in range(d))
    con = ad_duckdb.connect(str(tmp_path / "wide.duckdb"))
    try:
        for name, rows in (("small", 130_000), ("big", 260_000)):
            con.execute(f"CREATE TABLE {name} AS SELECT range AS id, TIMESTAMP '2026-01-01' + INTERVAL (range) SECOND "
                        f"AS ts, {cols}, (range % 1000 = 0)::INT AS label FROM range({rows})")
        ad_duckdb.train(con, "m", "SELECT * FROM small LIMIT 2000", features=[f"f{j}" for j in range(d)], epochs=1,
                        progress=False)
        peaks: dict[str, list[float]] = {"evaluate": [], "alarm_rate": []}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in ("small", "big"):
                peaks["evaluate"].append(_peak_mib(lambda n=name: ad_duckdb.evaluate(con, "m", n, label="label")))
                peaks["alarm_rate"].append(_peak_mib(lambda n=name: ad_duckdb.set_threshold(
                    con, "m", "r", "alarm_rate", per_hour=5, time="ts", source=n)))
        for what, (small, big) in peaks.items():
            per_row = (big - small) * 2**20 / 130_000
            assert per_row < d * 8 / 2, (what, per_row, small, big)  # held: 250 a row; now 110 and 15
    finally:
        con.close()
