"""How long `ad-duckdb score --into` keeps the database file locked, against the whole run, on 1M rows.

Why: a run that holds the file's write lock while it scores locks every reader and writer out for seconds (minutes
with --explain); scoring while reading only, then locking to write, is meant to shrink that to the write. Polled from
outside as another process sees it: fcntl F_GETLK on the file, every 5 ms (DuckDB locks it with POSIX record locks).

Usage: python bench/score_into_lock.py [--rows 1000000] [--baseline CHECKOUT]
``--baseline``: another checkout of the package (an earlier commit, e.g. made with `git worktree add`), run the same
way for the ratios; without it, this tree alone.
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


def run(tree: Path, db: str, args: list[str]) -> dict[str, float]:
    """One `score --into` run from ``tree``: its wall time and the time another process saw the file locked."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    # cwd: `python -m` puts the working folder first on the path, ahead of PYTHONPATH
    proc = subprocess.Popen([sys.executable, "-m", "ad_duckdb", "score", db, *args], env=env, cwd=tree,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    any_lock = write_lock = 0.0
    last = time.perf_counter()
    while proc.poll() is None:
        time.sleep(0.005)
        now = time.perf_counter()
        if _locked(db, fcntl.F_WRLCK):
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
        cases = [("plain", ["tx_ae", "transactions", "--into", "tx_scores", "--replace", "--quiet"]),
                 ("--explain", ["tx_ae", "transactions", "--into", "tx_scores", "--replace", "--explain", "--quiet"])]
        for case, args in cases:
            got: dict[str, dict[str, float]] = {}
            for label, tree in trees:
                runs = [run(tree, db, args) for _ in range(a.repeat)]
                got[label] = {k: min(r[k] for r in runs) for k in runs[0]}
                r = got[label]
                print(f"{case:10s} {label:10s} wall {r['wall']:6.2f} s  any lock {r['any_lock']:6.2f} s  "
                      f"write lock {r['write_lock']:6.2f} s  (best of {a.repeat})")
            if a.baseline:
                new, old = got["this tree"], got["baseline"]
                print(f"{case:10s} ratios this/baseline: wall {new['wall'] / old['wall']:.2f}, any lock "
                      f"{new['any_lock'] / old['any_lock']:.2f}, write lock "
                      f"{new['write_lock'] / old['write_lock']:.2f}")


if __name__ == "__main__":
    main()
