"""Which process holds a database file DuckDB refused to open: its command and since when, from DuckDB's PID.

Why: DuckDB names the holder by its executable ("Conflicting lock is held in /usr/bin/python3.11 (PID 8377)"),
the same interpreter for every Python job (a nightly ``score --into``, dbt, an Airflow task, a notebook), so a user
locked out could tell neither which job holds the file nor whether it started a minute or a day ago (a stuck one
to stop). The PID's command line and start time come from /proc (Linux); elsewhere, or for a process this user
may not look at, the PID alone is said.
"""

from __future__ import annotations

import os
import re
import shlex
import time
from datetime import UTC, datetime
from pathlib import Path

# Why shortened: a source query may run to pages; the command is named to tell jobs apart
_MAX_COMMAND = 300

# Why hidden: an error line goes to logs other people read; `serve --password` is ours, the rest other tools'
_SECRET_OPTION = re.compile(r"^--?[\w-]*(pass|secret|token)[\w-]*$", re.I)
_SECRET_ASSIGNED = re.compile(r"^(--?[\w-]*(?:pass|secret|token)[\w-]*=).+$", re.I)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


def holder_pid(duckdb_text: str) -> int | None:
    """The PID in DuckDB's lock error ("... (PID 8377)"); None when it names none or -1 (an OFD lock's)."""
    found = re.search(r"\(PID (\d+)\)", duckdb_text)
    return int(found.group(1)) if found and int(found.group(1)) > 0 else None


def shown_command(argv: list[str]) -> str:
    """``argv`` as a user would type it: ``ad-duckdb score ...`` for ``python -m ad_duckdb`` or the console script,
    a script's name for ``python /venv/bin/dbt run``; passwords hidden, a long command cut."""
    args = list(argv)
    if args and Path(args[0]).name.startswith("python") and len(args) > 1:
        if args[1:3] in (["-m", "ad_duckdb"], ["-m", "ad_duckdb.cli"]):
            args = ["ad-duckdb", *args[3:]]
        elif not args[1].startswith("-"):  # a console script run by its interpreter
            args = args[1:]
    if args:
        args[0] = Path(args[0]).name
    hide_next = False
    for i, arg in enumerate(args):
        if hide_next:
            args[i], hide_next = "***", False
            continue
        if _SECRET_OPTION.match(arg):
            hide_next = True
        args[i] = _URL_PASSWORD.sub(r"\1***@", _SECRET_ASSIGNED.sub(r"\1***", arg))
    # one line: an error line in a log, whatever a `python -c` program or a source query spans
    text = shlex.join(" ".join(a.split()) for a in args)
    return text if len(text) <= _MAX_COMMAND else text[:_MAX_COMMAND - 3] + "..."


def _started(pid: int) -> float | None:
    """The process's start (seconds since the epoch), from /proc; None where it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        # field 22 (starttime, in clock ticks since boot); the command name before it may hold spaces or ")"
        ticks = float(stat.rsplit(")", 1)[1].split()[19])
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _duration(seconds: float) -> str:
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def describe(duckdb_text: str) -> str:
    """" It is PID 8377, `ad-duckdb score ...`, running since 2026-12-05 14:47:31 UTC (for 2 min 10 s)." for DuckDB's
    lock error text; what of it can be known (the PID alone), or "" when DuckDB names no PID."""
    pid = holder_pid(duckdb_text)
    if pid is None:
        return ""
    try:
        argv = [a for a in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0") if a]
    except OSError:
        argv = []
    command = f", `{shown_command(argv)}`" if argv else ""
    start = _started(pid) if argv else None
    since = ""
    if start is not None:
        shown = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%d %H:%M:%S")
        since = f", running since {shown} UTC (for {_duration(time.time() - start)})"
    return f" It is PID {pid}{command}{since}."
