"""How long `ad-duckdb score --into` keeps the database file locked, against the whole run, on 1M rows.

Why: a run that holds the file's write lock while it scores locks every reader and writer out for seconds (minutes
with --explain); scoring while reading only, then locking to write, is meant to shrink that to the write. Polled from
outside as another process sees it: fcntl F_GETLK on the file, every 5 ms (DuckDB locks it with POSIX record locks).

Usage: python bench/score_into_lock.py [--rows 1000000] [--baseline CHECKOUT] [--changed 0.01]
``--baseline``: another checkout of the package (an earlier commit, e.g. made with `git worktree add`), run the same
way for the ratios; without it, this tree alone. ``--changed``: also runs where that share of the rows (spread over
the table) is updated by another process between the read ahead and the write, as a job loading the table does; the
write lock is then timed from the update's end (its own lock left out).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def _locked(path: str, kind: int) -> bool:
    """Whether another process holds a lock on ``path`` that conflicts with a lock of ``kind`` (F_WRLCK: any
    lock; F_RDLCK: a write lock only)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        got = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqi4x", kind, os.SEEK_SET, 0, 0, 0))
        return struct.unpack("hhqqi4x", got)[0] != fcntl.F_UNLCK
    finally:
        os.close(fd)


def _change(db: str, share: float) -> None:
    """Another process's update of ``share`` of the rows (every 1/share-th id): their amount doubled."""
    every = max(1, round(1 / share))
    subprocess.run([sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).execute(sys.argv[2])", db,
                    f"UPDATE transactions SET amount = amount * 2 WHERE transaction_id % {every} = 0"], check=True)


def run(tree: Path, db: str, args: list[str], changed: float = 0.0) -> dict[str, float]:
    """One `score --into` run from ``tree``: its wall time and the time another process saw the file locked;
    ``changed``: that share of the rows updated once the read ahead lets the file go (``_change``)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    # cwd: `python -m` puts the working folder first on the path, ahead of PYTHONPATH; --wait: the update may hold
    # the file as the write opens it
    proc = subprocess.Popen([sys.executable, "-m", "ad_duckdb", "--wait", "60", "score", db, *args], env=env,
                            cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    any_lock = write_lock = 0.0
    read = False  # the read ahead's lock seen (the update waits for its end)
    last = time.perf_counter()
    while proc.poll() is None:
        time.sleep(0.005)
        now = time.perf_counter()
        held = _locked(db, fcntl.F_WRLCK)
        if changed and held:
            read = True
        elif changed and read:
            _change(db, changed)
            changed, now = 0.0, time.perf_counter()  # the update's own lock left out
        if held:
            any_lock += now - last
        if _locked(db, fcntl.F_RDLCK):
            write_lock += now - last
        last = now
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode:
        raise SystemExit(f"score failed ({proc.returncode}): {err}")
    return {"wall": time.perf_counter() - start, "any_lock": any_lock, "write_lock": write_lock}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--baseline", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--changed", type=float, default=0.0)
    ap.add_argument("--cases", default="plain,--explain")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "tx.duckdb")
        env = {**os.environ, "PYTHONPATH": str(HERE)}
        subprocess.run([sys.executable, str(HERE / "examples/transactions/generate.py"), db, "--rows", str(a.rows)],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-m", "ad_duckdb", "train", db, "tx_ae",
                        "SELECT * FROM transactions USING SAMPLE 20000 ROWS (reservoir, 7)", "-f", "count", "-f",
                        "amount", "-f", "distinct_cards", "-f", "refunds", "--epochs", "3", "--quiet"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        trees = [("this tree", HERE), *([("baseline", a.baseline)] if a.baseline else [])]
        cases = [(name + (f" {a.changed:.0%} changed" if changed else ""), args, changed)
                 for name, args in [("plain", ["tx_ae", "transactions", "--into", "tx_scores", "--replace", "--quiet"]),
                                    ("--explain", ["tx_ae", "transactions", "--into", "tx_scores", "--replace",
                                                   "--explain", "--quiet"])] if name in a.cases.split(",")
                 for changed in ([0.0, a.changed] if a.changed else [0.0])]
        for case, args, changed in cases:
            got: dict[str, dict[str, float]] = {}
            for label, tree in trees:
                runs = [run(tree, db, args, changed) for _ in range(a.repeat)]
                got[label] = {k: min(r[k] for r in runs) for k in runs[0]}
                r = got[label]
                print(f"{case:20s} {label:10s} wall {r['wall']:6.2f} s  any lock {r['any_lock']:6.2f} s  "
                      f"write lock {r['write_lock']:6.2f} s  (best of {a.repeat})")
            if a.baseline:
                new, old = got["this tree"], got["baseline"]
                print(f"{case:20s} ratios this/baseline: wall {new['wall'] / old['wall']:.2f}, any lock "
                      f"{new['any_lock'] / old['any_lock']:.2f}, write lock "
                      f"{new['write_lock'] / old['write_lock']:.2f}")


if __name__ == "__main__":
    main()
