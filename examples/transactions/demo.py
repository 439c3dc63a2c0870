"""`make demo`: generate example transactions, train, store, score from SQL, print the top anomalies.

Run: python examples/transactions/demo.py [--rows 20000] [--db examples/transactions/out/transactions.duckdb]
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import ad_duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402

FEATURES = ["count", "amount", "distinct_cards", "refunds"]


def _cell(v: object) -> str:
    """A value as `ad-duckdb sql` prints it: a long float (an average, 0.02586206896551724) to 6 significant digits."""
    if isinstance(v, float) and (len(repr(v)) > 15 or "e" in repr(v)):
        return f"{v:.6g}"
    return str(v)


def show(con: object, sql: str) -> None:
    rel = con.sql(sql)  # type: ignore[attr-defined]
    cols = rel.columns
    rows = rel.fetchall()
    cells = [[_cell(v) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--db", default=str(HERE / "out" / "transactions.duckdb"))
    args = ap.parse_args()
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)

    planted = generate(args.db, rows=args.rows)
    print(f"1. generated {args.rows} transaction aggregates in {args.db}; planted anomalies: {planted}\n")

    con = ad_duckdb.connect(args.db)
    try:
        info = ad_duckdb.train(con, "tx_ae", "transactions", features=FEATURES)
        print(f"2. trained and stored {info.ref} on {info.train_rows} unlabelled rows "
              f"(robust mode: {info.metrics['robust']}); default threshold {info.thresholds['default']:.4g}\n")

        print("3. scored from SQL (examples/transactions/walkthrough.sql):\n")
        for stmt in (HERE / "walkthrough.sql").read_text().split(";"):
            body = "\n".join(ln for ln in stmt.splitlines() if not ln.strip().startswith("--")).strip()
            if body:
                title = next((ln for ln in stmt.splitlines() if ln.strip().startswith("-- ") and ln[3:4].isdigit()), "")
                num, _, text = title.strip("- ").partition(". ")
                print(f"3.{num} {text}")  # the walk-through's own numbers, inside this step 3
                show(con, body)
                print()

        print("4. how the planted anomalies rank (1 = most anomalous):")
        args_sql = ", ".join(FEATURES)
        # beside the model, the per-column baseline people reach for first: a row's largest robust z-score
        # (|x - median| / (1.4826 MAD)), which cannot see a row whose columns are each usual but not together
        stats = ", ".join(f"median({f}) AS med_{f}" for f in FEATURES)
        mads = ", ".join(f"median(abs({f} - med_{f})) * 1.4826 + 1e-9 AS mad_{f}" for f in FEATURES)
        z = "greatest(" + ", ".join(f"abs({f} - med_{f}) / mad_{f}" for f in FEATURES) + ")"
        show(con, f"""
            WITH m AS (SELECT {stats} FROM transactions),
                 d AS (SELECT {mads} FROM transactions, m),
                 s AS (SELECT transaction_id,
                              rank() OVER (ORDER BY anomaly_score('tx_ae', {args_sql}) DESC) AS rnk,
                              rank() OVER (ORDER BY {z} DESC) AS z_rnk,
                              is_anomaly('tx_ae', {args_sql}) AS flagged,
                              is_anomaly_at('tx_ae', 'p95', {args_sql}) AS flagged_p95
                       FROM transactions, m, d)
            SELECT p.kind, count(*) AS planted, median(s.rnk)::INTEGER AS median_rank,
                   median(s.z_rnk)::INTEGER AS median_rank_by_z, sum(s.flagged::INTEGER) AS flagged_at_default,
                   sum(s.flagged_p95::INTEGER) AS flagged_at_p95
            FROM planted_anomalies p JOIN s USING (transaction_id) GROUP BY p.kind ORDER BY p.kind""")
        print("median_rank_by_z: the same rows ranked by their largest per-column robust z-score, the usual per-column\n"
              "check. joint_law rows (a tiny count with a large amount) are usual in every column alone, so z-scores\n"
              "leave them among the usual rows; the model sees how the columns go together. The default threshold\n"
              "flags the top 1% of the training scores; p95 (the top 5%), or a threshold chosen on labelled rows\n"
              "(`ad-duckdb threshold --help`), flags more of them at the price of more false alarms.")

        # Why a second model: the default flags few joint_law rows here at its threshold (README, "How it works");
        # what a user does then is train an option beside it and look at both on rows whose answer is known
        print("\n5. a second model beside tx_ae, a narrower network (hidden_dims=(32, 16), CLI --hidden-dims 32,16),"
              "\n   each flagging at its own default threshold (the top 1% of its training scores):")
        ad_duckdb.train(con, "tx_n", "transactions", features=FEATURES, hidden_dims=(32, 16))
        both = f"""
            SELECT coalesce(p.kind, '(not planted)') AS kind, count(*) AS rows,
                   count(*) FILTER (WHERE is_anomaly('tx_ae', {args_sql})) AS flagged_by_tx_ae,
                   count(*) FILTER (WHERE is_anomaly('tx_n', {args_sql})) AS flagged_by_tx_n
            FROM transactions LEFT JOIN planted_anomalies p USING (transaction_id)
            GROUP BY p.kind ORDER BY p.kind IS NULL, p.kind"""
        show(con, both)
        got = {k: (a, n) for k, _, a, n in con.execute(both).fetchall()}
        (jl_ae, jl_n), (fa_ae, fa_n) = got.get("joint_law", (0, 0)), got.get("(not planted)", (0, 0))
        print(f"Here tx_n flags {jl_n} of the joint_law rows (tx_ae {jl_ae}), with {fa_n} false alarms (tx_ae {fa_ae}).\n"
              "On other tables of four or five columns the narrower network is not better on average (README, 'How it\n"
              "works'), so it is an option, not the default: judge two models on rows whose answer you know, as the\n"
              "compare command below does with the planted rows (AUC-ROC with DeLong's test, McNemar's per threshold).")
        top = con.execute(f"SELECT transaction_id FROM transactions ORDER BY anomaly_score('tx_ae', {args_sql}) DESC "
                          "LIMIT 1").fetchall()[0][0]
        print(f"\nNext: `.venv/bin/ad-duckdb explain {args.db} tx_ae transactions --where 'transaction_id = {top}'`")
        # Why said: what was stored (features, transforms, thresholds) and the command that trains it again
        print(f"      `.venv/bin/ad-duckdb show {args.db} tx_ae`")
        labelled = ("SELECT t.*, (p.kind IS NOT NULL)::INT AS planted FROM transactions t "
                    "LEFT JOIN planted_anomalies p USING (transaction_id)")
        print(f"      `{shlex.join(['.venv/bin/ad-duckdb', 'compare', args.db, 'tx_ae', 'tx_n', labelled])} --label planted`")
    finally:
        con.close()


if __name__ == "__main__":
    main()
