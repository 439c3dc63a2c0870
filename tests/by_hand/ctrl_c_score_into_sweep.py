"""By hand: Ctrl-C (SIGINT) swept across `ad-duckdb score DB MODEL SOURCE --into s` on a large source; each line
shows the exit code, how long after the signal the command ended, and how many rows `s` holds afterwards.

    PYTHONPATH=. python tests/by_hand/ctrl_c_score_into_sweep.py /tmp/sweep 10000000 3,6,8.5,9,9.2

Expected: exit 130 within a fraction of a second and no table `s` while the write runs; a signal that lands after
the command printed its result finds it exiting (exit 0, or killed by the signal in its last milliseconds:
-2) with the whole table. Measured before the watcher reached cursors (10M rows, 2 cores): 130 after 0.1-1.2 s;
after: 130 after 0.1-0.45 s (up to 0.7 s with tests running beside it).
"""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

import ad_duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import FAST, make_transactions  # noqa: E402

work, n, moments = Path(sys.argv[1]), int(sys.argv[2]), [float(x) for x in sys.argv[3].split(",")]
work.mkdir(parents=True, exist_ok=True)
base = work / "base.duckdb"
if not base.exists():
    con = ad_duckdb.connect(str(base))
    make_transactions(con, n=1500)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    con.close()
for at in moments:
    db = work / "t.duckdb"
    shutil.copy(base, db)
    with duckdb.connect(str(db)) as c:
        c.execute(f"CREATE VIEW big AS SELECT (r % 100)::INTEGER AS count, (r % 1000) * 1.5 AS amount "
                  f"FROM range(0, {n}) t(r)")
    t0 = time.monotonic()
    p = subprocess.Popen([sys.executable, "-m", "ad_duckdb.cli", "score", str(db), "tx_ae", "big", "--into", "s"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    while time.monotonic() - t0 < at and p.poll() is None:
        time.sleep(0.01)
    ended_first = p.poll() is not None
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate()
    after = time.monotonic() - sent
    with duckdb.connect(str(db), read_only=True) as c:
        has = c.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 's'").fetchall()[0][0]
        rows = c.execute("SELECT count(*) FROM s").fetchall()[0][0] if has else None
    last = err.decode().strip().splitlines()[-1][:60] if err.strip() else ""
    print(f"at {at:5.2f}s: exit {p.returncode:4d} after {after:4.2f}s, ended first: {ended_first!s:5}, s rows: {rows}, "
          f"stdout {out.decode().strip()[:50]!r}, stderr {last!r}", flush=True)
