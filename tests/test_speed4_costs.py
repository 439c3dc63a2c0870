"""Work skipped or done faster, with the same answers: rows with NULLs search their missing values in one model run per
round, compare --label refuses a label it cannot use before it scores a row, and `explain --format json` writes its
nested values without the general JSON walk. Each test keeps the code or
the text it replaced as its reference. No timing here (bench/speed4.py measures)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import random
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb import jsonvalues, missing
from ad_duckdb.cli import cli
from ad_duckdb.compare import compare_versions
from ad_duckdb.features import CLIP, FeatureSpec, raw_values, signed_log, transform
from ad_duckdb.udfs import registry

from conftest import FAST, load_adbench, make_transactions


@pytest.fixture(scope="module")
def labels_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """m@1 and m@2 on transactions, and a table 'lab' of them with label columns a comparison can and cannot use."""
    path = str(tmp_path_factory.mktemp("speed4") / "s.duckdb")
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=1200)
        for seed in (0, 1):
            ad_duckdb.train(con, "m", "transactions", features=["count", "amount_d"], seed=seed, **FAST)
        con.execute("""CREATE TABLE lab AS SELECT *, (transaction_id % 50 = 0)::INTEGER AS y,
            CASE WHEN transaction_id % 50 = 0 THEN 'fraud' ELSE 'ok' END AS verdict,
            CASE WHEN transaction_id % 7 = 0 THEN NULL ELSE (transaction_id % 50 = 0)::INTEGER END AS gappy,
            (transaction_id % 50 = 0)::INTEGER * 2 AS two, 0 AS zeros, transaction_id % 3 AS three,
            1.0 + (transaction_id % 50 = 0)::INTEGER AS w, CASE WHEN transaction_id % 50 = 0 THEN 0.0 ELSE 1.0 END AS w0
            FROM transactions""")
    finally:
        con.close()
    return path


_COLUMNS = "transaction_id, count, amount, amount_d, y, verdict, gappy, two, zeros, three, w, w0"
_NO_ROWS = ("NoRowsError: label={label!r}: {m} labelled anomal{ies} and {n} normal row(s) among the {rows} compared; "
            "judging which version ranks anomalies better needs at least 2 of each (a --where that keeps more labelled "
            "rows, or more labels).")
# What compare_versions said for each label before this change (ad_duckdb 3c5ea48), after scoring every row
_REFUSED = [
    ({"label": "yy"}, f"SourceNotFoundError: Model 'm@1': label column 'yy' is not in 'lab'; its columns: {_COLUMNS}."),
    ({"label": "verdict"},
     "BadInputError: Model 'm@1': label column 'verdict' of 'lab' is VARCHAR, not 0 (normal) / 1 (anomaly); its "
     "values: 'ok' (1176 rows), 'fraud' (24 rows). Map the value that marks an anomaly to 1 in a query and pass that "
     "column, e.g. \"SELECT *, (verdict = 'fraud')::INTEGER AS is_anomaly FROM ...\" with label='is_anomaly' if "
     "'fraud' (as its word says) marks anomalies."),
    ({"label": "gappy"},
     "BadInputError: Model 'm@1': label column 'gappy' is NULL (or NaN) in 171 of the 1200 rows of 'lab', which are "
     "neither normal nor anomalies; judge the labelled rows only: where=\"gappy IS NOT NULL\"."),
    ({"label": "two"},
     "BadInputError: Model 'm@1': label column 'two' must hold 0 (normal) or 1 (anomaly); its values in 'lab': 0 "
     "(1176 rows), 2 (24 rows). Map the value that marks an anomaly to 1 in a query and pass that column, e.g. "
     "\"SELECT *, (two = 2)::INTEGER AS is_anomaly FROM ...\" with label='is_anomaly' if 2 (0 reads as normal) marks "
     "anomalies."),
    ({"label": "three"},
     "BadInputError: Model 'm@1': label column 'three' must hold 0 (normal) or 1 (anomaly); its values in 'lab': 0 "
     "(400 rows), 1 (400 rows), 2 (400 rows). Map the values that mark an anomaly to 1 in a query and pass that "
     "column, e.g. \"SELECT *, (three IN (...))::INTEGER AS is_anomaly FROM ...\" with label='is_anomaly'."),
    ({"label": "count"},
     "BadInputError: Model 'm@1': label column 'count' is one of its features, so its scores read the answer. "
     "Evaluate a model trained without it: features= leaving out 'count', or, on the "
     "normal rows, where=\"count = 0\" without features= (which leaves the label out)."),
    ({"label": ""}, "BadInputError: Model 'm@1': label= must name the column of 'lab' that holds 1 "
                    "(anomaly) or 0 (normal), e.g. label='is_fraud'; got ''."),
    ({"label": "zeros"}, _NO_ROWS.format(label="zeros", m=0, ies="ies", n=1200, rows=1200)),
    ({"label": "y", "where": "transaction_id <= 60"}, _NO_ROWS.format(label="y", m=1, ies="y", n=59, rows=60)),
    ({"label": "zeros", "weight": "w"}, _NO_ROWS.format(label="zeros", m=0, ies="ies", n=1200, rows=1200)),
    ({"label": "y", "weight": "w0"},
     "BadInputError: Model 'm@2': weight column 'w0' is 0 on every anomaly (label 1), all 24 of them, so they count as "
     "none; a weight is how many rows a row stands for: check the column (1 for a row not sampled down, e.g. each "
     "anomaly kept)."),
    ({"label": "two", "weight": "w"},
     "BadInputError: Model 'm@1': label column 'two' must hold 0 (normal) or 1 (anomaly); its values in 'lab': 0 "
     "(1176 rows), 2 (24 rows). Map the value that marks an anomaly to 1 in a query and pass that column, e.g. "
     "\"SELECT *, (two = 2)::INTEGER AS is_anomaly FROM ...\" with label='is_anomaly' if 2 (0 reads as normal) marks "
     "anomalies."),
]


@pytest.mark.parametrize(("options", "said"), _REFUSED, ids=[str(o) for o, _ in _REFUSED])
def test_compare_refuses_a_label_it_cannot_use_before_scoring_a_row(labels_db: str, options: dict[str, str],
                                                                    said: str) -> None:
    """compare --label with a label not 0 / 1, of one class, missing or a feature scored every row with both versions
    (and then with one of them again, for evaluate's message) before saying so. Now the label is read first: the same
    error, and neither version's graph is ever loaded (onnxruntime's session is made on the first row scored)."""
    con = ad_duckdb.connect(labels_db, read_only=True)
    try:
        with pytest.raises(ad_duckdb.AdDuckDBError) as caught:
            compare_versions(con, "m@1", "m@2", "lab", **options)  # type: ignore[arg-type]
        assert f"{type(caught.value).__name__}: {caught.value}" == said
        assert [registry(con).get(ref)._session for ref in ("m@1", "m@2")] == [None, None]
    finally:
        con.close()


def test_compare_with_a_usable_label_still_judges_both_versions(labels_db: str) -> None:
    """The label read first changes nothing for a label that reads: the verdict is the one worked out from the scores."""
    con = ad_duckdb.connect(labels_db, read_only=True)
    try:
        for options in ({"label": "y"}, {"label": "y", "weight": "w"}, {"label": "y", "where": "transaction_id > 100"}):
            j = compare_versions(con, "m@1", "m@2", "lab", **options).labelled  # type: ignore[arg-type]
            where = options.get("where", "true")
            y = np.array(con.execute(f"SELECT y FROM lab WHERE {where}").fetchall(), dtype=np.float64)[:, 0]
            assert j is not None and (j.rows, j.anomalies) == (len(y), int(y.sum()))
            assert 0.0 <= j.auc_roc_a <= 1.0 and 0.0 <= j.auc_roc_b <= 1.0
    finally:
        con.close()


def _old_nested(v: object) -> str:
    """jsonvalues._nested_text as it was: the general walk."""
    return jsonvalues._encoded(jsonvalues.jsonable(v), 1, 1).replace("\n", "\n ")


def _random_value(rng: random.Random, depth: int = 0) -> object:
    """A value as DuckDB hands nested results over: lists, structs and maps of numbers, text, NULL, NaN, dates."""
    scalars = [None, True, False, 0, -7, 2**70, 0.1, -1e-300, 1e308, math.nan, math.inf, -math.inf, 5.960464477539063e-08,
               "", "naïve \"q\" \\ \n\t €", "名前", "%s %d {}", decimal.Decimal("1.25"), decimal.Decimal("12345678901234567890.5"),
               dt.date(2024, 2, 29), dt.datetime(2024, 1, 1, 12), dt.timedelta(days=1, seconds=5), b"\x00\xff",
               np.float64(1.5), np.float32(0.25)]
    r = rng.random()
    if depth >= 18 or r < 0.5:
        return rng.choice(scalars)
    n = rng.randrange(0, 4)
    if r < 0.7:
        return [_random_value(rng, depth + 1) for _ in range(n)]
    if r < 0.8:
        return tuple(_random_value(rng, depth + 1) for _ in range(n))
    if r < 0.95:
        return {rng.choice(["feature", "share", "ä %s", "", "x\ny"]) + str(i): _random_value(rng, depth + 1)
                for i in range(n)}
    return {rng.choice([1, dt.date(2024, 1, 2), 2.5, None, "k"]): _random_value(rng, depth + 1) for _ in range(n)}


def test_nested_json_values_are_written_as_the_general_walk_wrote_them() -> None:
    """The fast path for lists and dicts (anomaly_explain, anomaly_terms, anomaly_imputed, any nested column of
    `sql --format json`) writes the bytes the general walk wrote: NaN and infinities as null, unicode as is, a map's
    number and date keys as text, deep nesting, the same dict keys over and over (the templates' cache)."""
    rng = random.Random(4)
    for _ in range(3000):
        v = _random_value(rng)
        assert jsonvalues._nested_text(v) == _old_nested(v), v
    deep: object = [{"share": 0.5}]
    for _ in range(25):
        deep = [{"feature": "ä", "share": deep}]
    assert jsonvalues._nested_text(deep) == _old_nested(deep)
    explain = [{"feature": f"c{i} %", "share": s} for i, s in enumerate([0.5, math.nan, 0.0, 1e-9])]
    assert jsonvalues._nested_text(explain) == _old_nested(explain)
    assert jsonvalues._nested_text([]) == _old_nested([]) and jsonvalues._nested_text({}) == _old_nested({})


def test_explain_json_is_what_the_general_encoder_writes(tmp_path: object, labels_db: str) -> None:
    """`explain --format json` on rows with NULL features (anomaly_imputed), NaN, unicode and quoted names: the text is
    json.dumps(..., indent=1) of what it holds, as the general encoder wrote it, and the explanations are the SQL
    function's own."""
    source = ("(SELECT transaction_id AS \"名前 €\", count, amount_d, 'NaN'::DOUBLE AS \"ñ \"\"q\"\"\", NULL AS \"n%s\", "
              "CASE WHEN transaction_id % 3 = 0 THEN NULL ELSE amount_d END AS amount_d_gappy FROM lab)")
    res = CliRunner().invoke(cli, ["explain", labels_db, "m@1", f"(SELECT * REPLACE (amount_d_gappy AS amount_d) "
                                   f"FROM {source})", "--where", "true", "--limit", "300", "--format", "json"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.stderr
    rows = json.loads(res.stdout)
    assert len(rows) == 300 and any(r["anomaly_imputed"] for r in rows) and rows[0]["ñ \"q\""] is None
    assert res.stdout == json.dumps(rows, indent=1, ensure_ascii=False) + "\n"
    con = ad_duckdb.connect(labels_db, read_only=True)
    try:
        want = dict(con.execute("SELECT transaction_id, anomaly_explain('m@1', count, CASE WHEN transaction_id % 3 = 0 "
                                "THEN NULL ELSE amount_d END) FROM lab").fetchall())
    finally:
        con.close()
    assert all(r["anomaly_explain"] == want[r["名前 €"]] for r in rows)


def _old_transform(X: np.ndarray, specs: list[FeatureSpec]) -> np.ndarray:
    """features.transform as it was (ad_duckdb 3c5ea48): a column at a time."""
    out = np.empty(X.shape, dtype=np.float64)
    for j, s in enumerate(specs):
        col = np.where(np.isnan(X[:, j]), s.fill, X[:, j])
        if s.transform == "slog":
            col = signed_log(col)
        with np.errstate(over="ignore", invalid="ignore"):
            out[:, j] = np.clip((col - s.center) / s.scale, -CLIP, CLIP)
    return out


def _old_beyond_range(specs: list[FeatureSpec], X: np.ndarray, j: int) -> np.ndarray:
    """missing.beyond_range as it was (ad_duckdb 3c5ea48)."""
    Z = _old_transform(X, specs)
    lo, hi = np.array([f.lo for f in specs]), np.array([f.hi for f in specs])
    out = ((Z < lo) | (Z > hi)) & ~np.isnan(X)
    out[:, j] = False
    cols = np.nonzero(out.any(axis=0))[0]
    if not len(cols):
        return np.empty((0, len(X)))
    z = np.where(out[:, cols], Z[:, cols], np.nan).T
    with np.errstate(over="ignore"):
        return raw_values(specs[j], np.concatenate([z, -z]))


def _old_fill_missing(X: np.ndarray, s: np.ndarray, fe: np.ndarray, specs: list[FeatureSpec],
                      cands: list[np.ndarray], run: Any) -> np.ndarray:
    """missing.fill_missing as it was (ad_duckdb 3c5ea48): one model run per column holding a missing value."""
    rows = np.nonzero(np.isnan(X).any(axis=1))[0]
    best = X[rows].copy()
    best_s, best_fe = s[rows], fe[rows]
    for j in np.nonzero(np.isnan(best).any(axis=0))[0]:
        idx = np.nonzero(np.isnan(X[rows, j]))[0]
        if not len(cands[j]):
            continue
        vals = np.concatenate([np.repeat(cands[j][:, None], len(idx), axis=1),
                               _old_beyond_range(specs, X[rows[idx]], int(j))])
        kk, ii = np.nonzero(~np.isnan(vals))
        trial = best[idx[ii]]
        with np.errstate(over="ignore"):
            trial[:, j] = vals[kk, ii]
        ts_run, tfe = run(trial)
        ts = np.full(vals.shape, np.inf)
        ts[kk, ii] = ts_run
        at = np.zeros(vals.shape, dtype=np.intp)
        at[kk, ii] = np.arange(len(kk))
        k = np.argmin(ts, axis=0)
        better = ts[k, np.arange(len(idx))] < best_s[idx]
        pick = idx[better]
        chosen = (k[better], np.nonzero(better)[0])
        best_s[pick] = ts[chosen]
        best_fe[pick] = tfe[at[chosen]]
        with np.errstate(over="ignore"):
            best[pick, j] = vals[chosen]
    s[rows], fe[rows] = best_s, best_fe
    fill = np.array([f.fill for f in specs])
    out = X.copy()
    out[rows] = np.where(np.isnan(best), fill, best)
    return out


@pytest.fixture(scope="module")
def cardio_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, np.ndarray]:
    """Cardio (real values) with a heavy-tailed column added, and a model of it in float32 and one in float64 (a
    column of large values with a small spread: see nn.Preprocess)."""
    X, _ = load_adbench("cardio")
    rng = np.random.default_rng(7)
    X = np.c_[X, np.exp(rng.normal(size=len(X)) * 2.5), 1e9 + rng.normal(size=len(X))]
    names = [f"c{i}" for i in range(X.shape[1])]
    path = str(tmp_path_factory.mktemp("speed4_nulls") / "c.duckdb")
    con = ad_duckdb.connect(path)
    try:
        con.execute("CREATE TABLE cardio AS SELECT " + ", ".join(f"unnest(?::DOUBLE[]) AS {n}" for n in names),
                    [X[:, i].tolist() for i in range(X.shape[1])])
        ad_duckdb.train(con, "c32", "cardio", features=names[:-1], seed=0, **FAST)
        ad_duckdb.train(con, "c64", "cardio", features=names, seed=0, **FAST)
    finally:
        con.close()
    return path, X


def _holed(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``X`` with NULLs as feeds lose them: a tenth of rows one value, some two or three, some all but one, a few
    every value; and values far beyond the training range beside the holes (the beyond-range candidates)."""
    H = X.copy()
    n, d = H.shape
    for share, k in ((0.10, 1), (0.05, 2), (0.03, 3), (0.01, d - 1), (0.005, d)):
        hit = np.nonzero(rng.random(n) < share)[0]
        for i in hit:
            H[i, rng.choice(d, k, replace=False)] = np.nan
    far = rng.random(n) < 0.05
    H[far, rng.integers(0, d, int(far.sum()))] *= rng.choice([-1e6, 50.0, 1e12], int(far.sum()))
    return H


@pytest.mark.parametrize("model", ["c32", "c64"])
def test_rows_with_nulls_score_as_the_search_per_column_scored_them(cardio_models: tuple[str, np.ndarray],
                                                                     model: str) -> None:
    """The missing-value search now tries every column's candidates in one model run per round (a row's first
    missing value, then its second, ...) instead of one per column: on real data with 10% to all of a row's values
    missing and values far out, the scores, per-feature errors and values chosen are exactly those of the search it
    replaced, in the SQL functions' path and bulk scoring's, and anomaly_score in SQL gives them."""
    path, X = cardio_models
    con = ad_duckdb.connect(path, read_only=True)
    try:
        lm = registry(con).get(model)
        H = _holed(X[:, : lm.n_features], np.random.default_rng(11))
        for bulk in (False, True):
            # bulk scoring's batch: more missing values than one model run of the search takes (SEARCH_VALUES)
            M = (np.tile(H, (8, 1)) if bulk else H).astype(lm.input_dtype)
            assert not bulk or np.isnan(M).any(axis=1).sum() > missing.SEARCH_VALUES
            s, fe = lm.run(M, bulk=bulk, missing=False)
            want_s, want_fe = s.copy(), fe.copy()
            want_x = _old_fill_missing(M, want_s, want_fe, lm.rec.features, lm._candidates(),
                                       lambda t, b=bulk: lm.run(t, bulk=b, missing=False))
            got_s, got_fe = lm.run(M, bulk=bulk)
            assert np.array_equal(got_s, want_s) and np.array_equal(got_fe, want_fe)
            held = np.isnan(M)
            assert np.array_equal(lm.as_scored(M)[held], want_x.astype(np.float64)[held])
            assert np.array_equal(lm.scores(M, bulk=bulk), want_s)
        changed = np.isnan(M).any(axis=1) & (want_s < s)
        assert changed.sum() > 100  # the search chose other values than the median for many rows
        cols = ", ".join(lm.feature_names)
        con.execute("CREATE TEMP TABLE holed AS SELECT " + ", ".join(
            f"nullif(unnest(?::DOUBLE[]), 'NaN'::DOUBLE) AS {n}" for n in lm.feature_names),
            [H[:, i].tolist() for i in range(lm.n_features)])
        sql = np.array(con.execute(f"SELECT anomaly_score('{model}', {cols}) FROM holed").fetchall())[:, 0]
        assert np.array_equal(sql, want_s[: len(H)].astype(np.float64))
    finally:
        con.close()


def test_transform_of_every_column_at_once_is_the_column_by_column_arithmetic(
        cardio_models: tuple[str, np.ndarray]) -> None:
    """features.transform works every column in one numpy call each step: the same digits as a column at a time, for
    float32 rows (a float32 model's), float64 and integer ones, with NaN, infinities, values beyond float32 and
    heavy-tailed (signed log) columns."""
    path, X = cardio_models
    con = ad_duckdb.connect(path, read_only=True)
    try:
        specs = [list(registry(con).get(m).rec.features) for m in ("c32", "c64")]
    finally:
        con.close()
    assert any(f.transform == "slog" for f in specs[1])
    rng = np.random.default_rng(3)
    for feats in specs:
        H = _holed(X[:, : len(feats)], rng)
        H[rng.random(H.shape) < 0.01] = np.inf
        H[rng.random(H.shape) < 0.01] = -1e300
        with np.errstate(over="ignore"):  # beyond float32: infinite, as to_matrix makes it
            rows = [H, H.astype(np.float32), np.clip(np.nan_to_num(H), -1e15, 1e15).astype(np.int64)]
        for M in rows:
            with np.errstate(over="ignore", invalid="ignore"):
                assert np.array_equal(transform(M, feats), _old_transform(M, feats), equal_nan=True)
